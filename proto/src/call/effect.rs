//! What the call model asks the edges to do, and what it needs to know back from them.

use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

/// Identifies one packet stream (one local socket) for the daemon's lifetime.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StreamId(pub u64);

/// How a stream treats the source addresses of packets it receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Learning {
    /// `--endpoint-learning`: when and from which packets the peer is learned.
    pub mode: LearningMode,
    /// Never learn: always send to the SDP endpoint, accept from anywhere.
    pub asymmetric: bool,
    /// Drop packets not coming from the (learned or SDP) endpoint.
    pub strict_source: bool,
    /// Re-learn whenever the source changes (instead of latching once).
    pub media_handover: bool,
}

/// rtpengine 10.5's endpoint-learning algorithms (`--endpoint-learning`); what each
/// does is in `relay::learning`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LearningMode {
    /// Commit to a peer only 3 seconds after the last signalling.
    #[default]
    Delayed,
    /// Commit to the first packet from a matching source at once.
    Immediate,
    /// Never learn: media goes to the SDP endpoint.
    Off,
    /// Like `Delayed`, but commit to the best-ranked source seen.
    Heuristic,
}

impl LearningMode {
    /// The option's value, case-insensitive as in 10.5.
    pub fn from_name(name: &str) -> Option<LearningMode> {
        [
            LearningMode::Delayed,
            LearningMode::Immediate,
            LearningMode::Off,
            LearningMode::Heuristic,
        ]
        .into_iter()
        .find(|m| m.name().eq_ignore_ascii_case(name))
    }

    pub fn name(self) -> &'static str {
        match self {
            LearningMode::Delayed => "delayed",
            LearningMode::Immediate => "immediate",
            LearningMode::Off => "off",
            LearningMode::Heuristic => "heuristic",
        }
    }
}

/// Complete relay configuration of one packet stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamConfig {
    pub id: StreamId,
    pub call_id: String,
    pub tag: String,
    pub local: SocketAddr,
    pub is_rtcp: bool,
    /// Where packets received here go: out of that stream's socket to its endpoint.
    pub sink: Option<StreamId>,
    /// For an RTP socket carrying muxed RTCP: where RTCP packets go.
    pub rtcp_sink: Option<StreamId>,
    /// The peer according to signalling (SDP, SIP source, media-address).
    pub endpoint: Option<SocketAddr>,
    /// Where the party's SIP signalling came from (`received-from`): packets from
    /// this address are trusted while the peer is being learned.
    pub sip_source: Option<IpAddr>,
    pub learning: Learning,
    pub tos: Option<u8>,
    pub kernel: KernelHints,
    /// ICE with the party this stream receives from (10.5: its media has an
    /// ICE agent); `None`: STUN is relayed like media.
    pub ice: Option<IceCredentials>,
    /// DTLS-SRTP with the party this stream receives from (10.5: the media's
    /// DTLS flag): once the handshake is done its keys decrypt what arrives here
    /// and encrypt what this stream sends, in place of SDES's. `None`: DTLS
    /// records are relayed like media (or dropped on an SRTP stream).
    pub dtls: Option<DtlsParams>,
}

/// One side of DTLS-SRTP as signalled (RFC 5763): our role and the
/// certificate the party must present.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DtlsParams {
    /// We are the DTLS client: we told the party `a=setup:active`.
    pub active: bool,
    /// The party's `a=fingerprint`.
    pub fingerprint: PeerFingerprint,
}

/// A certificate fingerprint as written in SDP (`a=fingerprint:sha-256 AB:CD:..`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerFingerprint {
    /// The hash function's name, lower case as in the SDP grammar (`sha-256`).
    pub hash: String,
    /// The digest bytes.
    pub digest: Vec<u8>,
}

/// The short-term credentials of ICE with one party, and our role.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IceCredentials {
    /// Ours: the `a=ice-ufrag`/`a=ice-pwd` we sent the party.
    pub ufrag: String,
    pub pwd: String,
    /// The party's, from its SDP (the last ones it sent).
    pub remote_ufrag: Option<String>,
    pub remote_pwd: Option<String>,
    /// We are the controlling agent: we sent the party the offer.
    pub controlling: bool,
    /// We are an ICE-lite agent towards the party: we answer its checks and
    /// follow its nomination, and send none of our own.
    pub lite: bool,
    /// The party's candidates for this stream's component (from its SDP,
    /// and trickled), in the order it gave them.
    pub remote_candidates: Vec<RemoteCandidate>,
}

/// One ICE candidate of the party (`a=candidate`, RFC 8839).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteCandidate {
    pub foundation: String,
    /// 1 = RTP, 2 = RTCP.
    pub component: u8,
    pub priority: u32,
    pub address: SocketAddr,
    /// `host`, `srflx`, `prflx` or `relay`.
    pub kind: String,
}

/// What a kernel forwarding target needs to know about the media (from the SDP of
/// the side that sends to this stream).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KernelHints {
    /// An RTP profile (RTP/AVP, RTP/SAVP, ...): the kernel parses RTP headers.
    pub rtp: bool,
    /// `(payload type, clock rate)` as offered; the kernel forwards only these.
    pub payload_types: Vec<(u8, u32)>,
    /// ICE: STUN packets must reach userspace.
    pub stun: bool,
    /// DTLS: handshake packets must reach userspace.
    pub dtls: bool,
    /// SDES-SRTP: decrypt what this stream receives from its peer with these.
    pub srtp_in: Option<Box<crate::srtp::SrtpParams>>,
    /// SDES-SRTP: encrypt what this stream sends to its peer with these.
    pub srtp_out: Option<Box<crate::srtp::SrtpParams>>,
}

// Nearly all effects are `Relay`, in short-lived lists: boxing it would cost an
// allocation each and save nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Start or reconfigure relaying on a stream whose ports were reserved.
    Relay(StreamConfig),
    /// Stop relaying and close the stream's socket (ports were released).
    Close(StreamId),
}

/// Per-stream counters kept by the relay.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StreamStats {
    pub packets: u64,
    pub bytes: u64,
    pub errors: u64,
    /// STUN messages ICE took (answered or consumed), not counted in `packets`.
    pub stun: u64,
    pub last_packet: Option<Instant>,
    /// Where media goes when packets (not signalling) decided it.
    pub learned: Option<SocketAddr>,
    /// Endpoint learning has committed to a peer (10.5's "confirmed").
    pub confirmed: bool,
    /// Forwarded by the kernel module at the moment.
    pub kernelized: bool,
}

/// Read access to relay statistics (queries and timeouts need them).
pub trait StatsSource {
    fn stats(&self, id: StreamId) -> StreamStats;
}

/// For unit tests and for calls without media.
pub struct NoStats;

impl StatsSource for NoStats {
    fn stats(&self, _id: StreamId) -> StreamStats {
        StreamStats::default()
    }
}
