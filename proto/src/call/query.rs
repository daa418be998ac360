//! query and list replies, with the keys and nesting of rtpengine's README.

use std::net::SocketAddr;

use rand_core::CryptoRng;

use super::effect::StatsSource;
use super::model::{Call, Now, PacketStream};
use super::ports::PortAllocator;
use super::registry::Registry;
use crate::ng::bencode::Owned;

/// Default and cap of the `list` command's `limit`.
const LIST_LIMIT: u32 = 32;

impl<P: PortAllocator, R: CryptoRng> Registry<P, R> {
    pub fn list(&self, limit: Option<u32>) -> Owned {
        let limit = limit.unwrap_or(LIST_LIMIT) as usize;
        let mut ids: Vec<&String> = self.calls.keys().collect();
        ids.sort();
        let calls = ids
            .into_iter()
            .take(limit)
            .map(|id| Owned::from(id.as_str()))
            .collect::<Vec<_>>();
        Owned::dict().with("calls", calls)
    }
}

fn endpoint(addr: &SocketAddr) -> Owned {
    Owned::dict()
        .with("family", if addr.is_ipv4() { "IPv4" } else { "IPv6" })
        .with("address", addr.ip().to_string())
        .with("port", addr.port())
}

#[derive(Default)]
struct Totals {
    packets: u64,
    bytes: u64,
    errors: u64,
}

impl Totals {
    fn to_owned_value(&self) -> Owned {
        Owned::dict()
            .with("packets", self.packets)
            .with("bytes", self.bytes)
            .with("errors", self.errors)
    }
}

/// The query dictionary of a call (without `result`).
pub fn query_call(call: &Call, now: &Now, stats: &dyn StatsSource) -> Owned {
    let mut rtp = Totals::default();
    let mut rtcp = Totals::default();
    let mut tags = Owned::dict();
    for (index, mono) in call.live() {
        let mut medias = Vec::new();
        for media in &mono.medias {
            let mut streams = Vec::new();
            for s in media.rtp.iter().chain(media.rtcp.iter()) {
                let mut entry = stream(
                    s,
                    mono.learning,
                    media.rtcp_mux,
                    call.created.as_secs(),
                    now,
                    stats,
                    if s.is_rtcp { &mut rtcp } else { &mut rtp },
                );
                // As 10.5: the SDES suite this side's stream uses.
                if let Some(keys) = &media.sdes.keys {
                    entry.insert("crypto suite", keys.suite.name);
                }
                streams.push(entry);
            }
            let mut flags = vec![Owned::from("initialized")];
            if media.rtcp_mux {
                flags.push("rtcp-mux".into());
            }
            if mono.learning.asymmetric {
                flags.push("asymmetric".into());
            }
            if media.ice {
                flags.push("ICE".into());
            }
            use crate::sdp::Direction::*;
            if matches!(media.direction, SendRecv | SendOnly) {
                flags.push("send".into());
            }
            if matches!(media.direction, SendRecv | RecvOnly) {
                flags.push("recv".into());
            }
            // 10.5's codec handlers of this side transcode (codec options).
            if media.codecs.transcoding {
                flags.push("transcoding".into());
            }
            medias.push(
                Owned::dict()
                    .with("index", i64::from(media.index))
                    .with("type", media.media_type.as_str())
                    .with("protocol", media.protocol.as_str())
                    .with("streams", streams)
                    .with("flags", flags),
            );
        }
        let mut tag = Owned::dict().with("tag", mono.tag.as_str());
        if let Some(l) = &mono.label {
            tag.insert("label", l.as_str());
        }
        tag.insert("created", mono.created.as_secs());
        if let Some(p) = mono.peer {
            // 10.5.3.5 lists offer/answer peers as subscriptions/subscribers
            // (no "in dialogue with", which older README versions name).
            let peer = call.monologues[p].tag.as_str();
            let sub = || {
                Owned::List(vec![Owned::dict()
                    .with("tag", peer)
                    .with("type", "offer/answer")])
            };
            tag.insert("subscriptions", sub());
            tag.insert("subscribers", sub());
        }
        tag.insert("medias", medias);
        // 10.5 keys a party without a tag by its monologue number.
        if mono.tag.is_empty() {
            tags.insert(&format!("<untagged {index}>"), tag);
        } else {
            tags.insert(&mono.tag, tag);
        }
    }
    Owned::dict()
        .with("created", call.created.as_secs())
        .with("created_us", u64::from(call.created.subsec_micros()))
        .with("last signal", call.last_signal.as_secs())
        .with("SSRC", Owned::dict())
        .with("tags", tags)
        .with(
            "totals",
            Owned::dict()
                .with("RTP", rtp.to_owned_value())
                .with("RTCP", rtcp.to_owned_value()),
        )
}

fn stream(
    s: &PacketStream,
    learning: super::effect::Learning,
    muxed: bool,
    created: u64,
    now: &Now,
    stats: &dyn StatsSource,
    totals: &mut Totals,
) -> Owned {
    let st = stats.stats(s.id);
    totals.packets += st.packets;
    totals.bytes += st.bytes;
    totals.errors += st.errors;
    let mut d = Owned::dict()
        .with("local port", s.local.port())
        .with("local address", s.local.ip().to_string())
        .with("family", if s.local.is_ipv4() { "IPv4" } else { "IPv6" });
    let current = st.learned.or(s.endpoint);
    if let Some(ep) = current {
        d.insert("endpoint", endpoint(&ep));
    }
    if let Some(ep) = s.endpoint {
        d.insert("advertised endpoint", endpoint(&ep));
    }
    // Like rtpengine, a stream without packets reports the call's creation time.
    d.insert(
        "last packet",
        st.last_packet.map_or(created, |t| now.unix_of(t)),
    );
    let mut flags = vec![Owned::from(if s.is_rtcp { "RTCP" } else { "RTP" })];
    if current.is_some() {
        flags.push("filled".into());
    }
    if st.confirmed {
        flags.push("confirmed".into());
    }
    if st.kernelized {
        flags.push("kernelized".into());
    }
    if learning.strict_source {
        flags.push("strict source address".into());
    }
    if learning.media_handover {
        flags.push("media handover".into());
    }
    if s.is_rtcp && muxed {
        flags.push("rtcp-mux".into());
    }
    d.insert("flags", flags);
    d.insert(
        "stats",
        Owned::dict()
            .with("packets", st.packets)
            .with("bytes", st.bytes)
            .with("errors", st.errors),
    );
    d
}
