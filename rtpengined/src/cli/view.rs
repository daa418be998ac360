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
    /// How 10.5's `list numsessions` counts it (answered calls only).
    pub media_family: Option<MediaFamily>,
    /// Another node's call (from a subscribed Redis keyspace).
    pub foreign: bool,
    /// The Redis database of its key (10.5's `redis_hosted_db`).
    pub redis_keyspace: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaFamily {
    Ipv4,
    Ipv6,
    Mixed,
}

/// 10.5's classification of a call by the address families of the offer's
/// and of the answer's media, each (IPv4, IPv6).
pub fn media_family(offer: (bool, bool), answer: (bool, bool)) -> Option<MediaFamily> {
    use MediaFamily::*;
    Some(match (offer, answer) {
        (_, (false, false)) | ((false, false), _) => return None,
        ((true, false), (true, _)) => Ipv4,
        ((true, false), (false, true)) => Mixed,
        ((false, true), (true, false)) => Mixed,
        ((false, true), (_, true)) => Ipv6,
        ((true, true), (true, false)) => Ipv4,
        ((true, true), (false, true)) => Ipv6,
        ((true, true), (true, true)) => Mixed,
    })
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
    /// The codec of most of the RTP received (`PCMU/8000`), if any came.
    pub codec: Option<String>,
    pub streams: Vec<StreamView>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamView {
    pub local: SocketAddr,
    pub endpoint: Option<SocketAddr>,
    pub rtcp: bool,
    /// The first SSRC received; 0 before any RTP.
    pub ssrc: u32,
    pub packets: u64,
    pub bytes: u64,
    pub errors: u64,
    /// Unix seconds of the last packet (of the stream's creation before).
    pub last_packet: u64,
}

impl CallView {
    pub fn of(call: &Call, proxy: &str, now: &Now, stats: &dyn StatsSource) -> CallView {
        // Address families of the offerer's streams and of the others'.
        let mut families = [(false, false); 2];
        let tags: Vec<TagView> = call
            .live()
            .enumerate()
            .map(|(n, (i, m))| {
                let medias = m
                    .medias
                    .iter()
                    .map(|md| {
                        let streams: Vec<StreamView> = md
                            .streams()
                            .map(|s| {
                                let f = &mut families[usize::from(n > 0)];
                                if s.local.is_ipv4() {
                                    f.0 = true;
                                } else {
                                    f.1 = true;
                                }
                                let st = stats.stats(s.id);
                                StreamView {
                                    local: s.local,
                                    endpoint: st.learned.or(s.endpoint),
                                    rtcp: s.is_rtcp,
                                    ssrc: st.ssrc.unwrap_or(0),
                                    packets: st.packets,
                                    bytes: st.bytes,
                                    errors: st.errors,
                                    last_packet: st
                                        .last_packet
                                        .map_or(m.created.as_secs(), |p| now.unix_of(p)),
                                }
                            })
                            .collect();
                        // 10.5 names the payload type of most packets of the
                        // media's first stream, if its codecs know it.
                        let codec = md
                            .rtp
                            .as_ref()
                            .and_then(|s| stats.stats(s.id).payload_type)
                            .and_then(|pt| md.codecs.pts.iter().find(|p| p.number == i32::from(pt)))
                            .map(|p| match p.channels {
                                0 | 1 => format!("{}/{}", p.encoding, p.clock_rate),
                                n => format!("{}/{}/{n}", p.encoding, p.clock_rate),
                            });
                        MediaView {
                            index: md.index,
                            media_type: md.media_type.clone(),
                            protocol: md.protocol.clone(),
                            codec,
                            streams,
                        }
                    })
                    .collect();
                TagView {
                    tag: m.tag.clone(),
                    // 10.5 learns a party's role from the tag it is given.
                    kind: match n {
                        0 => "FROM_TAG",
                        _ if m.tag.is_empty() => "UNKNOWN",
                        _ => "TO_TAG",
                    },
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
            media_family: if call.answered() {
                media_family(families[0], families[1])
            } else {
                None
            },
            foreign: call.foreign,
            redis_keyspace: call.redis_db,
        }
    }

    /// One line of `list sessions all|own|foreign`.
    pub fn line(&self) -> String {
        format!(
            "callid: {:>60} | deletionmark:{:>4} | created:{:>12} | proxy:{} | redis_keyspace:{} | foreign:{}\n",
            self.id,
            yes_no(self.deleted),
            self.created,
            self.proxy,
            self.redis_keyspace,
            yes_no(self.foreign)
        )
    }

    /// `list sessions <callid>`, `call <callid> info`.
    pub fn details(&self) -> String {
        let mut out = format!(
            "\ncallid: {}\ndeletionmark: {}\ncreated: {}\nproxy: {}\ntos: {}\nlast_signal: {}\nredis_keyspace: {}\nforeign: {}\n\n",
            self.id,
            yes_no(self.deleted),
            self.created,
            self.proxy,
            self.tos,
            self.last_signal,
            self.redis_keyspace,
            yes_no(self.foreign)
        );
        for t in &self.tags {
            out.push_str(&t.details());
        }
        out.push('\n');
        out
    }
}

impl TagView {
    /// `call CALLID tag TAG info`, and each party in `details`.
    pub fn details(&self) -> String {
        let mut out = String::new();
        let t = self;
        {
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
                    "------ Media #{} ({} over {}) using {}\n",
                    m.index,
                    m.media_type,
                    m.protocol,
                    m.codec.as_deref().unwrap_or("unknown codec")
                ));
                for s in &m.streams {
                    let (ep_ip, ep_port) = match s.endpoint {
                        Some(a) => (a.ip().to_string(), a.port()),
                        // 10.5 prints an unset address as nothing.
                        None => (String::new(), 0),
                    };
                    out.push_str(&format!(
                        "-------- Port {:>15}:{:<5} <> {:>15}:{:<5}{}, SSRC {:x}, {} p, {} b, {} e, {} ts\n",
                        s.local.ip().to_string(),
                        s.local.port(),
                        ep_ip,
                        ep_port,
                        if s.rtcp { " (RTCP)" } else { "" },
                        s.ssrc,
                        s.packets,
                        s.bytes,
                        s.errors,
                        s.last_packet
                    ));
                }
            }
        }
        out
    }
}

fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answered_calls_count_by_the_families_of_both_sides() {
        let (v4, v6, both, none) = ((true, false), (false, true), (true, true), (false, false));
        assert_eq!(media_family(v4, v4), Some(MediaFamily::Ipv4));
        assert_eq!(media_family(v4, v6), Some(MediaFamily::Mixed));
        assert_eq!(media_family(v6, both), Some(MediaFamily::Ipv6));
        assert_eq!(media_family(both, both), Some(MediaFamily::Mixed));
        assert_eq!(media_family(both, v4), Some(MediaFamily::Ipv4));
        assert_eq!(media_family(v4, none), None);
    }

    #[test]
    fn a_stream_without_a_peer_shows_an_empty_address() {
        let call = CallView {
            id: "x".into(),
            deleted: true,
            created: 1,
            last_signal: 2,
            proxy: "127.0.0.1:9".into(),
            tos: 0,
            media_family: None,
            foreign: false,
            redis_keyspace: 0,
            tags: vec![TagView {
                tag: String::new(),
                kind: "UNKNOWN",
                label: String::new(),
                branch: String::new(),
                duration: Duration::from_micros(1_500_000),
                subscriptions: vec!["a".into()],
                medias: vec![MediaView {
                    index: 1,
                    media_type: "audio".into(),
                    protocol: "RTP/AVP".into(),
                    codec: None,
                    streams: vec![StreamView {
                        local: "127.0.0.1:41000".parse().unwrap(),
                        endpoint: None,
                        rtcp: false,
                        ssrc: 0,
                        packets: 0,
                        bytes: 0,
                        errors: 0,
                        last_packet: 3,
                    }],
                }],
            }],
        };
        assert_eq!(
            call.details(),
            "\ncallid: x\ndeletionmark: yes\ncreated: 1\nproxy: 127.0.0.1:9\ntos: 0\nlast_signal: 2\n\
             redis_keyspace: 0\nforeign: no\n\n\
             --- Tag '', type: UNKNOWN, label '', branch '', callduration 1.500000\n\
             ---     subscribed to 'a'\n---     subscription of 'a'\n\
             ------ Media #1 (audio over RTP/AVP) using unknown codec\n\
             -------- Port       127.0.0.1:41000 <>                :0    , SSRC 0, 0 p, 0 b, 0 e, 3 ts\n\n"
        );
    }
}
