//! What the CLI shows of a call, taken from the call model at one moment.

use std::net::SocketAddr;
use std::time::Duration;

use crate::call::model::Call;
use crate::call::{Now, StatsSource};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallView {
    pub id: String,
    /// A delete has ended it; it waits for its delete-delay.
    pub deleted: bool,
    /// Unix seconds.
    pub created: u64,
    pub last_signal: u64,
    /// Who created it (10.5 names the ng client).
    pub proxy: String,
    pub tos: u8,
    pub tags: Vec<TagView>,
    /// Address families of its media: (IPv4, IPv6).
    pub families: (bool, bool),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagView {
    pub tag: String,
    pub kind: &'static str,
    pub label: String,
    pub branch: String,
    pub duration: Duration,
    /// The tags whose media it receives.
    pub subscriptions: Vec<String>,
    pub medias: Vec<MediaView>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaView {
    pub index: u32,
    pub media_type: String,
    pub protocol: String,
    pub streams: Vec<StreamView>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamView {
    pub local: SocketAddr,
    pub endpoint: Option<SocketAddr>,
    pub rtcp: bool,
    pub packets: u64,
    pub bytes: u64,
    pub errors: u64,
    /// Unix seconds of the last packet (of the stream's creation before).
    pub last_packet: u64,
}

impl CallView {
    pub fn of(call: &Call, proxy: &str, now: &Now, stats: &dyn StatsSource) -> CallView {
        let mut families = (false, false);
        let tags = call
            .live()
            .enumerate()
            .map(|(n, (i, m))| {
                let medias = m
                    .medias
                    .iter()
                    .map(|md| {
                        let streams: Vec<StreamView> = md
                            .rtp
                            .iter()
                            .chain(md.rtcp.iter())
                            .map(|s| {
                                if s.local.is_ipv4() {
                                    families.0 = true;
                                } else {
                                    families.1 = true;
                                }
                                let st = stats.stats(s.id);
                                StreamView {
                                    local: s.local,
                                    endpoint: st.learned.or(s.endpoint),
                                    rtcp: s.is_rtcp,
                                    packets: st.packets,
                                    bytes: st.bytes,
                                    errors: st.errors,
                                    last_packet: st
                                        .last_packet
                                        .map_or(m.created.as_secs(), |p| now.unix_of(p)),
                                }
                            })
                            .collect();
                        MediaView {
                            index: md.index,
                            media_type: md.media_type.clone(),
                            protocol: md.protocol.clone(),
                            streams,
                        }
                    })
                    .collect();
                TagView {
                    tag: m.tag.clone(),
                    kind: if n == 0 { "FROM_TAG" } else { "TO_TAG" },
                    label: m.label.clone().unwrap_or_default(),
                    branch: m.via_branch.clone().unwrap_or_default(),
                    duration: now.unix.saturating_sub(m.created),
                    subscriptions: call
                        .senders(i)
                        .into_iter()
                        .map(|s| call.monologues[s].tag.clone())
                        .collect(),
                    medias,
                }
            })
            .collect();
        CallView {
            id: call.id.clone(),
            deleted: call.delete_at.is_some(),
            created: call.created.as_secs(),
            last_signal: call.last_signal.as_secs(),
            proxy: proxy.to_owned(),
            tos: 0,
            tags,
            families,
        }
    }

    /// One line of `list sessions all|own|foreign`.
    pub fn line(&self) -> String {
        format!(
            "callid: {:>60} | deletionmark:{:>4} | created:{:>12} | proxy:{} | redis_keyspace:0 | foreign:no\n",
            self.id,
            yes_no(self.deleted),
            self.created,
            self.proxy
        )
    }

    /// `list sessions <callid>`, `call <callid> info`.
    pub fn details(&self) -> String {
        let mut out = format!(
            "\ncallid: {}\ndeletionmark: {}\ncreated: {}\nproxy: {}\ntos: {}\nlast_signal: {}\nredis_keyspace: 0\nforeign: no\n\n",
            self.id,
            yes_no(self.deleted),
            self.created,
            self.proxy,
            self.tos,
            self.last_signal
        );
        for t in &self.tags {
            out.push_str(&format!(
                "--- Tag '{}', type: {}, label '{}', branch '{}', callduration {}.{:06}\n",
                t.tag,
                t.kind,
                t.label,
                t.branch,
                t.duration.as_secs(),
                t.duration.subsec_micros()
            ));
            // 10.5 prints its one subscription list under both headings.
            for s in &t.subscriptions {
                out.push_str(&format!("---     subscribed to '{s}'\n"));
            }
            for s in &t.subscriptions {
                out.push_str(&format!("---     subscription of '{s}'\n"));
            }
            for m in &t.medias {
                out.push_str(&format!(
                    "------ Media #{} ({} over {}) using unknown codec\n",
                    m.index, m.media_type, m.protocol
                ));
                for s in &m.streams {
                    let (ep_ip, ep_port) = match s.endpoint {
                        Some(a) => (a.ip().to_string(), a.port()),
                        None => (unspecified(s.local), 0),
                    };
                    out.push_str(&format!(
                        "-------- Port {:>15}:{:<5} <> {:>15}:{:<5}{}, SSRC 0, {} p, {} b, {} e, {} ts\n",
                        s.local.ip().to_string(),
                        s.local.port(),
                        ep_ip,
                        ep_port,
                        if s.rtcp { " (RTCP)" } else { "" },
                        s.packets,
                        s.bytes,
                        s.errors,
                        s.last_packet
                    ));
                }
            }
        }
        out.push('\n');
        out
    }
}

fn unspecified(local: SocketAddr) -> String {
    if local.is_ipv4() { "0.0.0.0" } else { "::" }.to_owned()
}

fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}
