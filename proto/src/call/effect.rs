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
    /// Further streams a copy of each packet goes out of, to their peers
    /// (`pub/sub` subscribers beyond `sink`). Such a stream stays in
    /// userspace; muxed RTCP is not copied.
    pub copies: Vec<StreamId>,
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
    /// block/silence media and block DTMF on what this stream receives.
    pub control: MediaControl,
    /// SDES-SRTP of a call restored from Redis: where each SSRC's index
    /// stood (10.5's `ssrc_table`), so the ROC carries on. Applied when the
    /// stream's SRTP contexts are made, once.
    pub srtp_resume: Option<Box<SrtpState>>,
}

/// Where one SSRC's SRTP stands in one direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SsrcIndex {
    pub ssrc: u32,
    /// Highest SRTP packet index (ROC << 16 | seq) seen or sent.
    pub rtp: u64,
    /// Received: highest SRTCP index seen; sent: the next SRTCP index.
    pub rtcp: u64,
}

/// The running SRTP indices of a stream (or a party): what was received
/// (decrypted) and what was sent (encrypted), per SSRC.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SrtpState {
    pub received: Vec<SsrcIndex>,
    pub sent: Vec<SsrcIndex>,
}

impl SrtpState {
    pub fn is_empty(&self) -> bool {
        self.received.is_empty() && self.sent.is_empty()
    }

    /// Adds `other`'s entries; an SSRC in both keeps the higher indices.
    pub fn merge(&mut self, other: &SrtpState) {
        fn into(list: &mut Vec<SsrcIndex>, from: &[SsrcIndex]) {
            for e in from {
                match list.iter_mut().find(|x| x.ssrc == e.ssrc) {
                    Some(x) => {
                        x.rtp = x.rtp.max(e.rtp);
                        x.rtcp = x.rtcp.max(e.rtcp);
                    }
                    None => list.push(*e),
                }
            }
        }
        into(&mut self.received, &other.received);
        into(&mut self.sent, &other.sent);
    }
}

/// One side of DTLS-SRTP as signalled (RFC 5763): our role and the
/// certificate the party must present.
/// What the media control commands ask of the RTP a party sends (10.5
/// applies them to RTP only; RTCP passes).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MediaControl {
    /// `block media`: nothing is forwarded.
    pub block_media: bool,
    /// `silence media`: the payload of these payload types is overwritten
    /// with their codec's silence byte (PCMU 0xff, PCMA 0xd5).
    pub silence: Vec<(u8, u8)>,
    /// `block DTMF`: RFC 4733 events (these payload types) are dropped.
    pub drop_payload_types: Vec<u8>,
    /// The call is being recorded: every packet this stream accepts is
    /// handed out (decrypted) as `Output::Record`. Applies to RTCP too.
    pub record: bool,
    /// `--recording-method=proc`: the kernel's recording stream of this
    /// stream. Its kernel target hands the kernel's packets to it (10.5's
    /// `intercept_stream_idx`), and what userspace handles is handed out as
    /// `Output::Record`; the stream may stay in the kernel.
    pub intercept: Option<u32>,
}

impl MediaControl {
    /// Whether anything is asked (such a stream stays out of the kernel).
    pub fn active(&self) -> bool {
        self.block_media
            || !self.silence.is_empty()
            || !self.drop_payload_types.is_empty()
            || self.record
    }

    /// Applies the controls to the plain RTP packet `pkt`: false when it
    /// must not be forwarded; a silenced payload is rewritten in place.
    pub fn apply(&self, pkt: &mut [u8]) -> bool {
        if self.block_media {
            return false;
        }
        let Some(&b1) = pkt.get(1) else { return true };
        let pt = b1 & 0x7f;
        if self.drop_payload_types.contains(&pt) {
            return false;
        }
        if let Some(&(_, pattern)) = self.silence.iter().find(|(p, _)| *p == pt) {
            if let Some(range) = rtp_payload(pkt) {
                pkt[range].fill(pattern);
            }
        }
        true
    }
}

/// Where the payload of an RTP packet lies (after CSRCs and the header
/// extension, before padding); `None` when the packet is too short for
/// what its header says.
fn rtp_payload(pkt: &[u8]) -> Option<std::ops::Range<usize>> {
    let b0 = *pkt.first()?;
    let mut start = 12 + 4 * usize::from(b0 & 0x0f);
    if b0 & 0x10 != 0 {
        let words = pkt.get(start + 2..start + 4)?;
        start += 4 + 4 * usize::from(u16::from_be_bytes([words[0], words[1]]));
    }
    let padding = if b0 & 0x20 != 0 {
        usize::from(*pkt.last()?)
    } else {
        0
    };
    let end = pkt.len().checked_sub(padding)?;
    (start <= end).then_some(start..end)
}

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
    /// The first SSRC of the RTP it received in userspace.
    pub ssrc: Option<u32>,
    /// The payload type of most of that RTP.
    pub payload_type: Option<u8>,
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

#[cfg(test)]
mod tests {
    use super::MediaControl;

    fn rtp(pt: u8, b0: u8, rest: &[u8]) -> Vec<u8> {
        let mut p = vec![b0, pt, 0, 1, 0, 0, 0, 160, 1, 2, 3, 4];
        p.extend_from_slice(rest);
        p
    }

    #[test]
    fn silence_overwrites_only_the_payload() {
        let c = MediaControl {
            silence: vec![(0, 0xff), (8, 0xd5)],
            ..Default::default()
        };
        let mut p = rtp(0, 0x80, &[1, 2, 3]);
        assert!(c.apply(&mut p));
        assert_eq!(&p[12..], &[0xff; 3]);
        assert_eq!(&p[..12], &rtp(0, 0x80, &[])[..]);
        // A header extension (one word) and two bytes of padding stay.
        let mut p = rtp(8, 0xb0, &[0xbe, 0xde, 0, 1, 9, 9, 9, 9, 5, 6, 7, 0, 2]);
        assert!(c.apply(&mut p));
        assert_eq!(
            &p[12..],
            &[0xbe, 0xde, 0, 1, 9, 9, 9, 9, 0xd5, 0xd5, 0xd5, 0, 2]
        );
        // Other payload types pass untouched.
        let mut p = rtp(18, 0x80, &[1, 2]);
        assert!(c.apply(&mut p));
        assert_eq!(&p[12..], &[1, 2]);
    }

    #[test]
    fn blocking_drops() {
        let dtmf = MediaControl {
            drop_payload_types: vec![101],
            ..Default::default()
        };
        assert!(!dtmf.apply(&mut rtp(101, 0x80, &[1, 0, 0, 160])));
        assert!(dtmf.apply(&mut rtp(0, 0x80, &[1])));
        let all = MediaControl {
            block_media: true,
            ..Default::default()
        };
        assert!(!all.apply(&mut rtp(0, 0x80, &[1])));
        assert!(!MediaControl::default().active() && all.active() && dtmf.active());
    }

    #[test]
    fn recording_keeps_a_stream_in_userspace_and_forwards_everything() {
        let rec = MediaControl {
            record: true,
            ..Default::default()
        };
        assert!(rec.active());
        let mut p = rtp(0, 0x80, &[1, 2]);
        assert!(rec.apply(&mut p));
        assert_eq!(&p[12..], &[1, 2]);
    }
}
