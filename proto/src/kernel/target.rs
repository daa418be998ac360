//! Builds the module's target and destination from a confirmed stream, with the
//! rules of rtpengine 10.5: flags from the media, expected source and its mismatch
//! action from endpoint learning (`relay::learning`), payload types sorted with their clock rates, plain RTP as
//! cipher NULL / hmac NULL, one destination per sink. SRTP streams carry their
//! negotiated parameters (with the live index) for the kernel to decrypt/encrypt RTP,
//! and with [`track_ssrcs`] one index slot per SSRC, as 10.5 sets them up.

use std::net::SocketAddr;

use rtpengine_core::abi::{
    src_mismatch, target_flags, DestinationInfo, OutputInfo, PayloadType, Pod, Srtp, TargetInfo,
    MAX_PAYLOAD_TYPES, MAX_SSRC,
};

use super::address::to_abi;
use crate::call::StreamConfig;

/// Where a kernel target forwards to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Output {
    /// The sink's local socket (forwarded packets leave from it).
    pub from: SocketAddr,
    /// The sink's peer.
    pub to: SocketAddr,
    pub tos: u8,
}

/// What the kernel does with a packet whose source is not the expected one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnMismatch {
    /// Forward it like any other.
    Ignore,
    /// Drop it (strict source).
    Drop,
    /// Leave it to userspace, which may learn the source (media handover, or a
    /// stream committed to a source that signalling does not vouch for).
    Userspace,
}

/// The source a target expects its packets from, and what happens to others.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SourceCheck {
    pub expected: SocketAddr,
    pub on_mismatch: OnMismatch,
}

/// SRTP of a target; `None` where that side is plain RTP.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Crypto {
    /// What the receiving stream's peer protects with (`srtp_in`).
    pub decrypt: Option<Srtp>,
    /// What the sink protects towards its peer (the sink's `srtp_out`).
    pub encrypt: Option<Srtp>,
}

impl Crypto {
    pub fn any(&self) -> bool {
        self.decrypt.is_some() || self.encrypt.is_some()
    }
}

/// `None` when the addresses cannot form one target (mixed families), or when
/// SRTP is involved but the kernel would not parse RTP (it would forward raw).
pub fn build(
    stream: &StreamConfig,
    source: SourceCheck,
    out: Output,
    crypto: &Crypto,
) -> Option<(TargetInfo, DestinationInfo)> {
    let local = to_abi(stream.local);
    let (src, dst) = (to_abi(out.from), to_abi(out.to));
    if src.family != dst.family {
        return None;
    }
    let mut t = TargetInfo::zeroed();
    t.local = local;
    t.expected_src = to_abi(source.expected);
    t.src_mismatch = match source.on_mismatch {
        OnMismatch::Ignore => src_mismatch::IGNORE,
        OnMismatch::Drop => src_mismatch::DROP,
        OnMismatch::Userspace => src_mismatch::PROPAGATE,
    };
    t.num_destinations = 1;
    t.decrypt = crypto.decrypt.unwrap_or_else(Srtp::plain);
    let hints = &stream.kernel;
    let mut pts: Vec<(u8, u32)> = hints.payload_types.clone();
    pts.sort_by_key(|p| p.0);
    pts.dedup_by_key(|p| p.0);
    pts.truncate(MAX_PAYLOAD_TYPES);
    // RTP parsing only where payload types are known: the module hands packets with
    // unknown types to userspace, so an empty list would keep everything there.
    if hints.rtp && !stream.is_rtcp && !pts.is_empty() {
        t.flags |= target_flags::RTP;
        // RTCP muxed on this port goes to userspace (its sink may differ).
        t.flags |= target_flags::RTCP_MUX;
        for (slot, (pt, rate)) in t.payload_types.iter_mut().zip(&pts) {
            *slot = PayloadType {
                pt: *pt,
                clock_rate: *rate,
                ..PayloadType::default()
            };
        }
        t.num_payload_types = pts.len() as u32;
    }
    // SRTCP is not done in the kernel, and without RTP parsing SRTP would pass raw.
    if crypto.any() && t.flags & target_flags::RTP == 0 {
        return None;
    }
    if hints.stun {
        t.flags |= target_flags::STUN;
    }
    if hints.dtls {
        t.flags |= target_flags::DTLS;
    }
    // A recorded stream (proc method): the kernel copies what it forwards
    // to the recording stream, as 10.5's `kernel_info_proc` asks.
    if let Some(idx) = stream.control.intercept {
        t.flags |= target_flags::DO_INTERCEPT;
        t.intercept_stream_idx = idx;
    }
    let mut o = OutputInfo::zeroed();
    o.src_addr = src;
    o.dst_addr = dst;
    // Without TRACK_SSRC every SSRC uses index slot 0 in the kernel, as in
    // userspace for the first (usually only) sender; `track_ssrcs` gives each
    // SSRC its own slot.
    o.encrypt = crypto.encrypt.unwrap_or_else(Srtp::plain);
    o.tos = out.tos;
    let mut d = DestinationInfo::zeroed();
    d.local = local;
    d.num = 0;
    d.output = o;
    Some((t, d))
}

/// SSRCs in the order userspace SRTP gave them index slots (`SrtpDirection::ssrcs`).
pub type SsrcSlots = [Option<u32>; MAX_SSRC];

/// The slot layout of an SRTP target and its output disagree: the same SSRC sits
/// in different index slots of the two directions (or two SSRCs in one slot).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlotConflict {
    pub slot: usize,
}

/// Puts the SSRCs userspace SRTP has seen into the target's slots and sets
/// `track_ssrc`, as rtpengine 10.5 does for every target (its `kernelize_one`:
/// `track_ssrc = 1`, `ssrc[u]` = the stream's `ssrc_in[u]`). The kernel then
/// decrypts and re-encrypts each SSRC with its own slot's index (seeded from the
/// same slot of `decrypt.last_index` / `encrypt.last_index`), instead of one index
/// in slot 0 shared by every sender. A packet of an SSRC in no slot goes to
/// userspace (counted as an error) until the target is installed again with it.
///
/// `rx` are the slots of the receiving stream's SRTP (decrypt), `tx` those of the
/// sink's (encrypt); the kernel uses one slot number for both, so both must agree
/// where both know an SSRC. Without any known SSRC (plain RTP, nothing received
/// yet) or without RTP parsing the target is left as it is. Returns whether SSRCs
/// are tracked now.
pub fn track_ssrcs(
    t: &mut TargetInfo,
    rx: Option<&SsrcSlots>,
    tx: Option<&SsrcSlots>,
) -> Result<bool, SlotConflict> {
    let mut slots: SsrcSlots = [None; MAX_SSRC];
    for (slot, merged) in slots.iter_mut().enumerate() {
        let a = rx.and_then(|r| r[slot]);
        let b = tx.and_then(|r| r[slot]);
        *merged = match (a, b) {
            (Some(a), Some(b)) if a != b => return Err(SlotConflict { slot }),
            (a, b) => a.or(b),
        };
    }
    for (i, s) in slots
        .iter()
        .enumerate()
        .filter_map(|(i, s)| s.map(|s| (i, s)))
    {
        if slots[..i].contains(&Some(s)) {
            return Err(SlotConflict { slot: i });
        }
    }
    if t.flags & target_flags::RTP == 0 || slots.iter().all(Option::is_none) {
        return Ok(false);
    }
    t.flags |= target_flags::TRACK_SSRC;
    // Network order, as the module compares them with the packet's header.
    // An unknown slot stays 0 (10.5: it then matches a packet with SSRC 0).
    t.ssrc = slots.map(|s| s.unwrap_or(0).to_be());
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::call::{KernelHints, Learning, StreamId};
    use rtpengine_core::abi::cipher;

    fn stream(learning: Learning, hints: KernelHints) -> StreamConfig {
        StreamConfig {
            id: StreamId(1),
            call_id: "c".into(),
            tag: "t".into(),
            local: "10.0.1.1:30000".parse().unwrap(),
            is_rtcp: false,
            sink: Some(StreamId(2)),
            rtcp_sink: Some(StreamId(3)),
            copies: Vec::new(),
            endpoint: None,
            sip_source: None,
            learning,
            tos: None,
            kernel: hints,
            ice: None,
            dtls: None,
            control: Default::default(),
            srtp_resume: None,
        }
    }

    fn any_from(expected: SocketAddr) -> SourceCheck {
        SourceCheck {
            expected,
            on_mismatch: OnMismatch::Ignore,
        }
    }

    fn out() -> Output {
        Output {
            from: "10.0.2.1:30002".parse().unwrap(),
            to: "10.0.2.2:4000".parse().unwrap(),
            tos: 184,
        }
    }

    fn rtp(pts: &[(u8, u32)]) -> KernelHints {
        KernelHints {
            rtp: true,
            payload_types: pts.to_vec(),
            ..KernelHints::default()
        }
    }

    #[test]
    fn plain_rtp_target_with_sorted_payload_types() {
        let s = stream(
            Learning::default(),
            rtp(&[(8, 8000), (101, 8000), (0, 8000), (8, 8000)]),
        );
        let (t, d) = build(
            &s,
            any_from("10.0.1.2:5000".parse().unwrap()),
            out(),
            &Crypto::default(),
        )
        .unwrap();
        assert_eq!(t.local, to_abi(s.local));
        assert_eq!(t.expected_src, to_abi("10.0.1.2:5000".parse().unwrap()));
        assert_eq!(t.src_mismatch, src_mismatch::IGNORE);
        assert_eq!(t.num_destinations, 1);
        assert_eq!((t.decrypt.cipher, t.decrypt.hmac), (cipher::NULL, 1));
        assert_eq!(t.flags, target_flags::RTP | target_flags::RTCP_MUX);
        let pts: Vec<u8> = t.payload_types[..t.num_payload_types as usize]
            .iter()
            .map(|p| p.pt)
            .collect();
        assert_eq!(pts, [0, 8, 101]);
        assert!(t.payload_types[..3].iter().all(|p| p.clock_rate == 8000));
        assert_eq!(d.local, t.local);
        assert_eq!(d.num, 0);
        assert_eq!(d.output.src_addr, to_abi(out().from));
        assert_eq!(d.output.dst_addr, to_abi(out().to));
        assert_eq!(d.output.tos, 184);
        assert_eq!((d.output.encrypt.cipher, d.output.encrypt.hmac), (1, 1));
        // What our module (and 10.5's rules) accept.
        assert!(rtpengine_core::target::prepare_target(&t, |_| true).is_ok());
        assert!(rtpengine_core::target::validate_destination(&d, |_| true).is_ok());
    }

    #[test]
    fn source_checks_map_to_mismatch_actions() {
        let expected: SocketAddr = "10.0.1.2:5000".parse().unwrap();
        let target = |on_mismatch| {
            build(
                &stream(Learning::default(), rtp(&[(0, 8000)])),
                SourceCheck {
                    expected,
                    on_mismatch,
                },
                out(),
                &Crypto::default(),
            )
            .unwrap()
            .0
        };
        for (action, abi) in [
            (OnMismatch::Ignore, src_mismatch::IGNORE),
            (OnMismatch::Drop, src_mismatch::DROP),
            (OnMismatch::Userspace, src_mismatch::PROPAGATE),
        ] {
            let t = target(action);
            assert_eq!(t.src_mismatch, abi, "{action:?}");
            assert_eq!(t.expected_src, to_abi(expected));
        }
    }

    #[test]
    fn a_recorded_stream_carries_its_intercept_stream() {
        let src: SocketAddr = "10.0.1.2:5001".parse().unwrap();
        let mut s = stream(Learning::default(), rtp(&[(0, 8000)]));
        let (t, _) = build(&s, any_from(src), out(), &Crypto::default()).unwrap();
        assert_eq!(t.flags & target_flags::DO_INTERCEPT, 0);
        s.control.intercept = Some(7);
        let (t, _) = build(&s, any_from(src), out(), &Crypto::default()).unwrap();
        assert_ne!(t.flags & target_flags::DO_INTERCEPT, 0);
        assert_eq!(t.intercept_stream_idx, 7);
    }

    #[test]
    fn rtcp_and_unknown_codecs_are_forwarded_raw_ice_and_dtls_reach_userspace() {
        let src: SocketAddr = "10.0.1.2:5001".parse().unwrap();
        let mut s = stream(Learning::default(), rtp(&[(0, 8000)]));
        s.is_rtcp = true;
        assert_eq!(
            build(&s, any_from(src), out(), &Crypto::default())
                .unwrap()
                .0
                .flags,
            0
        );
        let s = stream(Learning::default(), rtp(&[]));
        assert_eq!(
            build(&s, any_from(src), out(), &Crypto::default())
                .unwrap()
                .0
                .flags
                & target_flags::RTP,
            0
        );
        let s = stream(
            Learning::default(),
            KernelHints {
                stun: true,
                dtls: true,
                ..rtp(&[(0, 8000)])
            },
        );
        let f = build(&s, any_from(src), out(), &Crypto::default())
            .unwrap()
            .0
            .flags;
        assert_eq!(
            f & (target_flags::STUN | target_flags::DTLS),
            target_flags::STUN | target_flags::DTLS
        );
    }

    fn srtp_params(fill: u8, last: u64) -> Srtp {
        let mut p = Srtp::plain();
        p.cipher = cipher::AES_CM_128;
        p.hmac = rtpengine_core::abi::hmac::HMAC_SHA1;
        p.master_key[..16].fill(fill);
        p.master_key_len = 16;
        p.master_salt.fill(fill ^ 0xff);
        p.master_salt_len = 14;
        p.session_key_len = 16;
        p.session_salt_len = 14;
        p.auth_tag_len = 10;
        p.last_index[0] = last;
        p
    }

    #[test]
    fn srtp_parameters_and_index_reach_target_and_output() {
        let src: SocketAddr = "10.0.1.2:5000".parse().unwrap();
        let crypto = Crypto {
            decrypt: Some(srtp_params(1, 70_000)),
            encrypt: Some(srtp_params(2, 12)),
        };
        let s = stream(Learning::default(), rtp(&[(0, 8000)]));
        let (t, d) = build(&s, any_from(src), out(), &crypto).unwrap();
        assert_eq!(t.decrypt, crypto.decrypt.unwrap());
        assert_eq!(t.decrypt.last_index[0], 70_000);
        assert_eq!(d.output.encrypt, crypto.encrypt.unwrap());
        assert!(rtpengine_core::target::prepare_target(&t, |_| true).is_ok());
        assert!(rtpengine_core::target::validate_destination(&d, |_| true).is_ok());
        // Only one side protected: the other stays plain.
        let half = Crypto {
            decrypt: None,
            ..crypto
        };
        let (t, d) = build(&s, any_from(src), out(), &half).unwrap();
        assert_eq!((t.decrypt.cipher, t.decrypt.hmac), (cipher::NULL, 1));
        assert_eq!(d.output.encrypt.cipher, cipher::AES_CM_128);
        // Without RTP parsing (RTCP socket, unknown codecs) SRTP is not kernelized.
        let mut r = stream(Learning::default(), rtp(&[(0, 8000)]));
        r.is_rtcp = true;
        assert!(build(&r, any_from(src), out(), &crypto).is_none());
        assert!(build(
            &stream(Learning::default(), rtp(&[])),
            any_from(src),
            out(),
            &half
        )
        .is_none());
    }

    #[test]
    fn ssrc_slots_and_track_ssrc_as_10_5() {
        let src: SocketAddr = "10.0.1.2:5000".parse().unwrap();
        let crypto = Crypto {
            decrypt: Some(srtp_params(1, 70_000)),
            encrypt: Some(srtp_params(2, 12)),
        };
        let s = stream(Learning::default(), rtp(&[(0, 8000)]));
        let (mut t, _) = build(&s, any_from(src), out(), &crypto).unwrap();
        assert_eq!(
            t.flags & target_flags::TRACK_SSRC,
            0,
            "build alone tracks nothing"
        );
        let rx = [Some(0xaaaa_0001), Some(0xbbbb_0002), None, None];
        let tx = [Some(0xaaaa_0001), None, None, None];
        assert_eq!(track_ssrcs(&mut t, Some(&rx), Some(&tx)), Ok(true));
        assert_ne!(t.flags & target_flags::TRACK_SSRC, 0);
        assert_eq!(
            t.ssrc,
            [0xaaaa_0001u32.to_be(), 0xbbbb_0002u32.to_be(), 0, 0]
        );
        // What the module does with it: each SSRC in its own slot, others to userspace.
        let slot = |ssrc: u32| rtpengine_core::rtp::ssrc_slot(&t.ssrc, ssrc.to_be());
        assert_eq!(
            (slot(0xaaaa_0001), slot(0xbbbb_0002), slot(7)),
            (Some(0), Some(1), None)
        );
        assert!(rtpengine_core::target::prepare_target(&t, |_| true).is_ok());
        // Plain RTP in, SRTP out: the sink's slots.
        let (mut t, _) = build(&s, any_from(src), out(), &crypto).unwrap();
        assert_eq!(track_ssrcs(&mut t, None, Some(&tx)), Ok(true));
        assert_eq!(t.ssrc[0], 0xaaaa_0001u32.to_be());
    }

    #[test]
    fn ssrc_slots_left_alone_or_refused() {
        let src: SocketAddr = "10.0.1.2:5000".parse().unwrap();
        let s = stream(Learning::default(), rtp(&[(0, 8000)]));
        let (mut t, _) = build(&s, any_from(src), out(), &Crypto::default()).unwrap();
        let before = t;
        // Nothing seen yet (or plain RTP both ways): every SSRC keeps flowing.
        assert_eq!(track_ssrcs(&mut t, Some(&[None; 4]), None), Ok(false));
        assert_eq!(track_ssrcs(&mut t, None, None), Ok(false));
        assert_eq!(t, before);
        // The two directions put an SSRC in different slots: one kernel slot
        // number cannot serve both.
        let rx = [Some(1), Some(2), None, None];
        let tx = [Some(2), Some(1), None, None];
        assert_eq!(
            track_ssrcs(&mut t, Some(&rx), Some(&tx)),
            Err(SlotConflict { slot: 0 })
        );
        let tx = [None, None, Some(1), None];
        assert_eq!(
            track_ssrcs(&mut t, Some(&rx), Some(&tx)),
            Err(SlotConflict { slot: 2 })
        );
        assert_eq!(t, before);
        // Without RTP parsing there is no SSRC to look at.
        let mut r = stream(Learning::default(), rtp(&[(0, 8000)]));
        r.is_rtcp = true;
        let (mut t, _) = build(&r, any_from(src), out(), &Crypto::default()).unwrap();
        assert_eq!(track_ssrcs(&mut t, Some(&rx), None), Ok(false));
        assert_eq!(t.flags & target_flags::TRACK_SSRC, 0);
    }

    #[test]
    fn many_payload_types_are_capped_and_mixed_families_refused() {
        let many: Vec<(u8, u32)> = (0..60).map(|p| (p, 8000)).collect();
        let (t, _) = build(
            &stream(Learning::default(), rtp(&many)),
            any_from("10.0.1.2:5000".parse().unwrap()),
            out(),
            &Crypto::default(),
        )
        .unwrap();
        assert_eq!(t.num_payload_types as usize, MAX_PAYLOAD_TYPES);
        let mixed = Output {
            to: "[fd00:2::2]:4000".parse().unwrap(),
            ..out()
        };
        assert!(build(
            &stream(Learning::default(), rtp(&[])),
            any_from("10.0.1.2:5000".parse().unwrap()),
            mixed,
            &Crypto::default()
        )
        .is_none());
    }
}
