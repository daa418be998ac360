//! query and list replies, with the keys and nesting of rtpengine's README.

use std::net::SocketAddr;

use rand_core::CryptoRng;

use super::effect::StatsSource;
use super::model::{Call, Media, Now, PacketStream};
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

/// The query dictionary of a call (without `result`), every party.
pub fn query_call(call: &Call, now: &Now, stats: &dyn StatsSource) -> Owned {
    query_parties(call, None, now, stats)
}

/// The query dictionary as 10.5 answers a query or delete naming a tag
/// (`to-tag` if given, else `from-tag`): that party and those whose media goes
/// to it; no party if the tag is unknown. Without a tag, every party.
pub fn query_parties(call: &Call, tag: Option<&str>, now: &Now, stats: &dyn StatsSource) -> Owned {
    let parties: Vec<usize> = match tag.filter(|t| !t.is_empty()) {
        None => call.live().map(|(i, _)| i).collect(),
        Some(t) => call
            .find_tag(t)
            .map(|i| {
                let pubsub = call.monologues[i]
                    .subscriptions
                    .iter()
                    .map(|s| s.from)
                    .filter(|&s| !call.monologues[s].deleted);
                std::iter::once(i)
                    .chain(call.senders(i))
                    .chain(pubsub)
                    .collect()
            })
            .unwrap_or_default(),
    };
    let mut rtp = Totals::default();
    let mut rtcp = Totals::default();
    let mut tags = Owned::dict();
    for index in parties {
        let mono = &call.monologues[index];
        let mut medias = Vec::new();
        for media in &mono.medias {
            let mut streams = Vec::new();
            // A rejected section keeps two streams without sockets (10.5).
            let idle: Vec<PacketStream> = if media.rtp.is_none() {
                idle_streams(media)
            } else {
                Vec::new()
            };
            for s in media.streams().chain(idle.iter()) {
                let mut entry = stream(
                    s,
                    media.rtp.is_none(),
                    mono.learning,
                    media,
                    call.created.as_secs(),
                    now,
                    stats,
                    if s.is_rtcp { &mut rtcp } else { &mut rtp },
                );
                // As 10.5: the SRTP suite of this side's streams.
                if let Some(suite) = media.sdes.stream_suite {
                    entry.insert("crypto suite", suite.name);
                }
                streams.push(entry);
            }
            let flags = media_flags(media, mono.learning.asymmetric);
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
        if let Some(b) = &mono.via_branch {
            tag.insert("via-branch", b.as_str());
        }
        if let Some(l) = &mono.label {
            tag.insert("label", l.as_str());
        }
        tag.insert("created", mono.created.as_secs());
        // 10.5.3.5 lists offer/answer peers as subscriptions/subscribers (no
        // "in dialogue with", which older README versions name). A party's
        // media goes to its peer (its subscriber); it receives from every
        // party whose peer it is: the one in dialogue first, then the other
        // branches of a forked offer.
        let entry = |m: &super::model::Monologue, kind: &str| {
            Owned::dict().with("tag", m.tag.as_str()).with("type", kind)
        };
        let peer = mono.peer.filter(|&p| !call.monologues[p].deleted);
        // Then the pub/sub ones, which 10.5 keeps after the offer/answer ones.
        let subscribers: Vec<Owned> = peer
            .map(|p| entry(&call.monologues[p], "offer/answer"))
            .into_iter()
            .chain(
                call.subscribers(index)
                    .into_iter()
                    .map(|s| entry(&call.monologues[s], "pub/sub")),
            )
            .collect();
        let senders = call.senders(index);
        let subscriptions: Vec<Owned> = senders
            .iter()
            .map(|&i| entry(&call.monologues[i], "offer/answer"))
            .chain(
                mono.subscriptions
                    .iter()
                    .filter(|s| !call.monologues[s.from].deleted)
                    .map(|s| entry(&call.monologues[s.from], "pub/sub")),
            )
            .collect();
        tag.insert("subscriptions", subscriptions);
        tag.insert("subscribers", subscribers);
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

/// 10.5's media flags, in its order.
fn media_flags(media: &Media, asymmetric: bool) -> Vec<Owned> {
    let status = &media.status;
    [
        ("initialized", status.initialized),
        ("asymmetric", asymmetric),
        ("send", status.send),
        ("recv", status.recv),
        ("rtcp-mux", media.rtcp_mux),
        ("DTLS-SRTP", media.dtls.enabled),
        ("DTLS role active", media.dtls.active),
        ("DTLS role passive", media.dtls.passive),
        ("SDES", media.dtls.sdes),
        ("passthrough", media.passthru),
        ("ICE", status.ice),
        ("trickle ICE", media.trickle_ice),
        ("ICE controlling", media.ice_controlling),
        ("ICE-lite peer", media.ice_lite_peer),
        ("unidirectional", status.unidirectional),
        ("loop check", status.loop_check),
        // 10.5's codec handlers of this side transcode (codec options).
        ("transcoding", media.codecs.transcoding),
    ]
    .into_iter()
    .filter(|(_, on)| *on)
    .map(|(name, _)| Owned::from(name))
    .collect()
}

/// Stand-ins for the socketless streams of a rejected section.
fn idle_streams(media: &Media) -> Vec<PacketStream> {
    let unbound = SocketAddr::from(([0, 0, 0, 0], 0));
    [false, true]
        .into_iter()
        .zip(media.idle)
        .map(|(is_rtcp, endpoint)| PacketStream {
            id: super::effect::StreamId(u64::MAX),
            local: unbound,
            endpoint,
            is_rtcp,
        })
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn stream(
    s: &PacketStream,
    idle: bool,
    learning: super::effect::Learning,
    media: &Media,
    created: u64,
    now: &Now,
    stats: &dyn StatsSource,
    totals: &mut Totals,
) -> Owned {
    let st = if idle {
        Default::default()
    } else {
        stats.stats(s.id)
    };
    totals.packets += st.packets;
    totals.bytes += st.bytes;
    totals.errors += st.errors;
    // A single-port media's RTCP stream has port 0 (10.5's dummy socket).
    let port = s.local.port();
    let mut d = Owned::dict();
    if !idle {
        d.insert("local port", port);
        d.insert("local address", s.local.ip().to_string());
        d.insert("family", if s.local.is_ipv4() { "IPv4" } else { "IPv6" });
    }
    // 10.5 always has both keys, empty while the address is unknown.
    let current = st.learned.or(s.endpoint);
    d.insert(
        "endpoint",
        current.as_ref().map_or_else(Owned::dict, endpoint),
    );
    d.insert(
        "advertised endpoint",
        s.endpoint.as_ref().map_or_else(Owned::dict, endpoint),
    );
    // Like rtpengine, a stream without packets reports the call's creation time.
    d.insert(
        "last packet",
        st.last_packet.map_or(created, |t| now.unix_of(t)),
    );
    // With rtcp-mux the RTP stream carries RTCP too and the RTCP stream is
    // only the fallback, as 10.5 flags them.
    let muxed = media.rtcp_mux;
    let mut flags = Vec::new();
    if !s.is_rtcp {
        flags.push(Owned::from("RTP"));
    }
    if s.is_rtcp || muxed {
        flags.push("RTCP".into());
    }
    if s.is_rtcp && muxed {
        flags.push("fallback RTCP".into());
    }
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
    if media.status.ice {
        flags.push("ICE".into());
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
