//! The call model: calls → monologues (one per SIP tag) → media → packet streams.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use super::effect::{Learning, StreamId};
use crate::ng::flags::RtcpMuxFlags;
use crate::sdp::Direction;

/// Monotonic and wall-clock time of one event. The crate reads no clock:
/// the caller reads both once per event and passes them in.
#[derive(Debug, Clone, Copy)]
pub struct Now {
    pub mono: Instant,
    /// Since the Unix epoch.
    pub unix: Duration,
}

impl Now {
    /// Wall-clock time (Unix seconds) of an earlier monotonic instant.
    pub fn unix_of(&self, then: Instant) -> u64 {
        let ago = self.mono.saturating_duration_since(then);
        self.unix.saturating_sub(ago).as_secs()
    }
}

/// One local socket and the peer it talks to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PacketStream {
    pub id: StreamId,
    pub local: SocketAddr,
    /// The peer according to signalling.
    pub endpoint: Option<SocketAddr>,
    pub is_rtcp: bool,
}

/// One `m=` section as seen from one side.
#[derive(Debug, Clone)]
pub struct Media {
    /// 1-based, as in rtpengine's query output.
    pub index: u32,
    pub media_type: String,
    pub protocol: String,
    pub formats: Vec<String>,
    /// `(payload type, clock rate)` of the numeric formats, for kernel targets.
    pub clock_rates: Vec<(u8, u32)>,
    /// `(payload type, encoding name)` of the numeric formats (rtpmap, else
    /// the static table), for the media control commands.
    pub encodings: Vec<(u8, String)>,
    pub ptime: Option<u32>,
    /// The last `a=ptime` of an SDP this side or its peer sent for this media
    /// (10.5's `media->ptime`): printed to this side when an SDP has none.
    pub ptime_memory: Option<u32>,
    pub mid: Option<String>,
    pub interface: usize,
    /// 10.5's logical interface of this media where a request (`direction`,
    /// family) moved it while it kept its sockets, because it sent the SDP:
    /// the next SDP we send it takes ports there.
    pub logical_interface: Option<usize>,
    /// Advertised address of `interface` (what the peer is told to send to).
    pub advertised: IpAddr,
    /// `None` while the section is rejected (port 0).
    pub rtp: Option<PacketStream>,
    pub rtcp: Option<PacketStream>,
    /// The streams of the further RTP/RTCP pairs an `m=` port count asks
    /// for (`m=audio P/2`: RTP and RTCP of the second pair), on the ports
    /// after `rtcp`, in that order (10.5's streams 3, 4, ...).
    pub extra: Vec<PacketStream>,
    /// Ports this media holds after its first pair: 10.5's endpoint map
    /// keeps the ports of the largest count it was made for, also while a
    /// later SDP without the count leaves only the first pair's streams.
    pub extra_ports: u16,
    /// While the section is rejected: where the party receives RTP and RTCP
    /// as far as known (10.5 keeps its two packet streams, without sockets).
    pub idle: [Option<SocketAddr>; 2],
    /// This side offered rtcp-mux in its SDP.
    pub mux_offered: bool,
    /// This side sends RTCP muxed on the RTP port.
    pub rtcp_mux: bool,
    pub direction: Direction,
    /// This side's SDP carried ICE.
    pub ice: bool,
    /// This side's SDP did trickle ICE (`Session::trickle_ice`).
    pub trickle_ice: bool,
    /// Our ICE credentials towards this side (stable across re-offers).
    pub ice_ufrag: String,
    pub ice_pwd: String,
    /// We sent this side our ICE credentials (10.5: the media has an ICE
    /// agent, which stays once started): its STUN is answered.
    pub ice_agent: bool,
    /// 10.5 started an ICE agent for this media, also on the side that sent
    /// the SDP (its `__ice_start` after every offer and answer: ICE on and
    /// not in passthrough; shut down by passthrough only). An answer under
    /// `ICE=optional` / `force-relay` keeps ICE towards such a side.
    pub ice_started: bool,
    /// Our role towards this side, fixed when the agent starts: controlling
    /// if we sent it the offer.
    pub ice_controlling: bool,
    /// We are an ICE-lite agent towards this side (ng `ICE-lite`, kept until
    /// an offer changes it): `a=ice-lite` in our SDP, no checks of our own.
    pub ice_lite_self: bool,
    /// 10.5's PASSTHRU: ICE on both sides under `ICE=optional` / `force-relay`.
    /// We neither terminate ICE nor DTLS nor SRTP towards this side: the
    /// parties talk to each other through our ports (sticky once set, as in 10.5).
    pub passthru: bool,
    /// This side's SDP said `a=ice-lite`: we must control.
    pub ice_lite_peer: bool,
    /// This side's own ICE credentials, from its SDP (kept when a later SDP
    /// has none, as in 10.5).
    pub ice_remote_ufrag: Option<String>,
    pub ice_remote_pwd: Option<String>,
    /// Port pairs on the other addresses of this media's logical interface,
    /// advertised as further ICE host candidates (reserved only while we do ICE
    /// towards this side).
    pub ice_alternates: Vec<IceAlternate>,
    /// The payload types this side's offer was forwarded with (after `codec`
    /// strip/mask): what its peer may answer with.
    pub forwarded_formats: Vec<String>,
    /// This side's codec store as 10.5 keeps it (see `codecs`).
    pub codecs: super::codecs::CodecStore,
    /// SDES-SRTP towards this side (offered/answered lines, negotiated keys).
    pub sdes: crate::srtp::MediaSdes,
    /// DTLS-SRTP signalling towards this side (roles, fingerprints).
    pub dtls: super::dtls::MediaDtls,
    /// This side's ICE candidates (UDP), gathered from its SDPs: a re-offer
    /// adds new ones, an ICE restart (new ufrag) replaces them.
    pub remote_candidates: Vec<super::effect::RemoteCandidate>,
    /// 10.5's media flags as query replies show them.
    pub status: super::media_status::MediaStatus,
}

/// One extra ICE host candidate address: our port pair there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IceAlternate {
    pub interface: usize,
    pub local: SocketAddr,
    /// Ports taken from `local` on: 2 (RTP and RTCP) or 1 (single port).
    pub ports: u16,
    pub advertised: IpAddr,
}

/// One SIP party (from-tag or to-tag) and its media.
#[derive(Debug, Clone)]
pub struct Monologue {
    pub tag: String,
    pub via_branch: Option<String>,
    pub label: Option<String>,
    pub created: Duration,
    /// Index of the monologue in dialogue with this one.
    pub peer: Option<usize>,
    pub medias: Vec<Media>,
    pub learning: Learning,
    /// Where this party's last offer or answer came from (`received-from`): its
    /// media may come from there too (NAT), so endpoint learning trusts it.
    pub sip_source: Option<IpAddr>,
    /// rtcp-mux flags of this side's offer (used when its answer comes back).
    pub mux_flags: RtcpMuxFlags,
    pub tos: Option<u8>,
    /// Received an answer (or sent one): the dialogue is established.
    pub answered: bool,
    pub deleted: bool,
    /// Set by block/silence media, block DTMF, forwarding, play media.
    pub controls: Controls,
    /// Parties this one receives a copy of the media of (10.5's `pub/sub`
    /// subscriptions, made by `subscribe request`), in subscription order.
    pub subscriptions: Vec<Subscription>,
    /// Made by `publish`, `subscribe request` or `unsubscribe`, not by an
    /// offer or answer (10.5's tag type: `all` selects offer/answer parties).
    pub pubsub: bool,
    /// The last SDP this party sent (offer, answer or publish): a
    /// subscription to it alone mirrors it.
    pub last_sdp: Option<String>,
    /// `o=` session id of the SDP we create for this party (publish,
    /// subscriptions to several parties); fixed at the first one.
    pub sdp_session_id: Option<u64>,
    /// A call restored from Redis: the SRTP indices of this party's SSRCs
    /// (received from it, sent to it) until its streams took them over.
    pub srtp_resume: super::effect::SrtpState,
}

/// One `pub/sub` subscription: the party whose media is copied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Subscription {
    pub from: usize,
    /// `RTCP-mirror`: the subscriber's RTCP goes back to `from` only.
    pub rtcp_only: bool,
}

/// What the media control commands set, on one party or the whole call
/// (10.5 keeps both: a call-wide setting and one per party).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Controls {
    /// `block media`: this party's media is not forwarded.
    pub block_media: bool,
    /// `silence media`: this party's audio is forwarded as silence.
    pub silence_media: bool,
    /// `block DTMF`: this party's RFC 4733 events are not forwarded.
    pub block_dtmf: bool,
    /// `start forwarding` (to a recording daemon, which we do not have).
    pub forwarding: bool,
    /// `play media` was asked for (10.5 then has a player, even one that
    /// failed to start, and `stop media` succeeds).
    pub player: bool,
}

impl Controls {
    /// The party's own settings combined with the call's.
    pub fn with(self, call: Controls) -> Controls {
        Controls {
            block_media: self.block_media || call.block_media,
            silence_media: self.silence_media || call.silence_media,
            block_dtmf: self.block_dtmf || call.block_dtmf,
            forwarding: self.forwarding || call.forwarding,
            player: self.player,
        }
    }
}

impl Monologue {
    pub fn new(tag: &str, now: &Now) -> Monologue {
        Monologue {
            tag: tag.to_owned(),
            via_branch: None,
            label: None,
            created: now.unix,
            peer: None,
            medias: Vec::new(),
            learning: Learning::default(),
            sip_source: None,
            mux_flags: RtcpMuxFlags::default(),
            tos: None,
            answered: false,
            deleted: false,
            controls: Controls::default(),
            subscriptions: Vec::new(),
            pubsub: false,
            last_sdp: None,
            sdp_session_id: None,
            srtp_resume: Default::default(),
        }
    }

    pub fn streams(&self) -> impl Iterator<Item = &PacketStream> {
        self.medias.iter().flat_map(|m| m.streams())
    }
}

impl Media {
    /// Every stream of this media with a socket or a reserved port: RTP,
    /// RTCP, then those of the further pairs.
    pub fn streams(&self) -> impl Iterator<Item = &PacketStream> {
        self.rtp
            .iter()
            .chain(self.rtcp.iter())
            .chain(self.extra.iter())
    }
}

#[derive(Debug, Clone)]
pub struct Call {
    pub id: String,
    pub created: Duration,
    pub created_mono: Instant,
    pub last_signal: Duration,
    pub last_signal_mono: Instant,
    /// Monologues never move (indices are stable); deleted ones are flagged.
    pub monologues: Vec<Monologue>,
    /// Set by a delete with delete-delay: the call goes away at this time.
    pub delete_at: Option<Instant>,
    /// The certificate the call's SDP advertises: the daemon's when the call
    /// began (10.5 too keeps a call's certificate when it renews its own).
    pub dtls: std::sync::Arc<super::dtls::DtlsSettings>,
    /// Call-wide media controls (see `Controls`).
    pub controls: Controls,
    /// The signalling client that created it (`address:port`, as 10.5's
    /// CLI shows it); empty when unknown.
    pub created_from: String,
    /// Ports of streams the call replaced or dropped (their sockets are
    /// closed): 10.5 keeps every socket a call had until the call ends, so
    /// they are given back only then.
    pub held_ports: Vec<SocketAddr>,
    /// Being recorded (`start recording`, `record call`): every stream's
    /// packets are handed out for the recording and stay in userspace.
    pub recording: bool,
    /// The latest `metadata` given for the call (its recording keeps it).
    pub metadata: String,
    /// Another node's call, seen through a Redis keyspace notification
    /// (10.5's foreign call): kept, never written back, exempt from all
    /// timeouts but the final one, and without sockets until taken over.
    pub foreign: bool,
    /// The Redis database the call's key lives in (10.5's
    /// `redis_hosted_db`): the keyspace a foreign call came from.
    pub redis_db: u32,
}

impl Call {
    pub fn new(id: &str, now: &Now) -> Call {
        Call {
            id: id.to_owned(),
            created: now.unix,
            created_mono: now.mono,
            last_signal: now.unix,
            last_signal_mono: now.mono,
            monologues: Vec::new(),
            delete_at: None,
            dtls: Default::default(),
            controls: Controls::default(),
            created_from: String::new(),
            held_ports: Vec::new(),
            recording: false,
            metadata: String::new(),
            foreign: false,
            redis_db: 0,
        }
    }

    pub fn find_tag(&self, tag: &str) -> Option<usize> {
        self.monologues
            .iter()
            .position(|m| !m.deleted && m.tag == tag)
    }

    pub fn live(&self) -> impl Iterator<Item = (usize, &Monologue)> {
        self.monologues
            .iter()
            .enumerate()
            .filter(|(_, m)| !m.deleted)
    }

    /// The live parties subscribed (`pub/sub`) to `party`, in monologue order.
    pub fn subscribers(&self, party: usize) -> Vec<usize> {
        self.live()
            .filter(|(_, m)| m.subscriptions.iter().any(|s| s.from == party))
            .map(|(i, _)| i)
            .collect()
    }

    pub fn answered(&self) -> bool {
        self.live().any(|(_, m)| m.answered)
    }
}
