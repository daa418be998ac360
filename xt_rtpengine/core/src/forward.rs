//! The forwarding decision for one received UDP payload, as rtpengine 10.5 takes it
//! (docs/kernel-abi.md, "Packet path"), separated from the kernel so it
//! can be tested here. The module executes the verdict: continue to the socket, drop, or
//! forward to every output.

use super::abi::{src_mismatch, target_flags, Address, TargetInfo};
use super::rtp;
use super::target::same_address;

/// What to do with a packet that matched a target whose outputs are all filled.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Verdict {
    /// Hand the packet on to the socket (userspace sees it).
    Continue,
    /// Count an error, then hand it on.
    ContinueError,
    /// Drop silently (blackhole).
    Drop,
    /// Count an error and drop (strict source).
    DropError,
    /// Forward to the outputs.
    Forward(Forward),
}

/// Facts about a forwarded packet that the outputs and the counters need.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Forward {
    /// RTP header length when the packet was parsed as RTP.
    pub rtp_header_len: Option<usize>,
    /// Index in the target's payload types.
    pub pt_idx: Option<usize>,
    /// SSRC slot (only when the target tracks SSRCs).
    pub ssrc_idx: Option<usize>,
}

impl Forward {
    /// The SRTP index slot of the packet, for decryption and for every output's
    /// encryption: the SSRC's slot when the target tracks SSRCs, else slot 0 (10.5's
    /// `ssrc_idx == -1 → 0`: without `track_ssrc` all SSRCs share slot 0's index, so a
    /// second SRTP sender needs `track_ssrc` and its own slot).
    pub fn srtp_slot(&self) -> usize {
        self.ssrc_idx.unwrap_or(0)
    }
}

/// Decides the fate of `payload` (the UDP payload) from `src` for target `t`.
/// `pt_hint` is the payload-type index of the previous packet (a cache).
pub fn decide(t: &TargetInfo, src: &Address, payload: &[u8], pt_hint: Option<usize>) -> Verdict {
    if t.has(target_flags::STUN) && rtp::is_stun(payload) {
        return Verdict::Continue;
    }
    if t.src_mismatch != src_mismatch::IGNORE && !same_address(&t.expected_src, src) {
        return if t.src_mismatch == src_mismatch::PROPAGATE {
            Verdict::Continue
        } else {
            Verdict::DropError
        };
    }
    if t.has(target_flags::DTLS) && rtp::is_dtls(payload) {
        return Verdict::Continue;
    }
    if t.has(target_flags::NON_FORWARDING) {
        return if t.has(target_flags::BLACKHOLE) {
            Verdict::Drop
        } else {
            Verdict::Continue
        };
    }
    if !t.has(target_flags::RTP) {
        return Verdict::Forward(Forward::default());
    }
    // RTCP is never handled in the kernel (no SRTCP here): userspace gets it.
    if t.has(target_flags::RTCP_MUX) && rtp::is_muxed_rtcp(payload) {
        return Verdict::Continue;
    }
    let hdr = match rtp::parse(payload) {
        Ok(h) => h,
        Err(_) if t.has(target_flags::RTP_ONLY) => return Verdict::Continue,
        Err(_) => return Verdict::Forward(Forward::default()),
    };
    let pt_idx = rtp::payload_type_index(t, hdr.payload_type(), pt_hint);
    let mut ssrc_idx = None;
    if t.has(target_flags::TRACK_SSRC) {
        // A new SSRC goes to userspace first (which then updates the target).
        match rtp::ssrc_slot(&t.ssrc, hdr.ssrc_raw()) {
            Some(i) => ssrc_idx = Some(i),
            None => return Verdict::ContinueError,
        }
    }
    // Only payload types the daemon announced are forwarded; others go to userspace.
    if pt_idx.is_none() {
        return Verdict::Continue;
    }
    Verdict::Forward(Forward {
        rtp_header_len: Some(hdr.header_len()),
        pt_idx,
        ssrc_idx,
    })
}

#[cfg(test)]
mod tests {
    use super::super::abi::{PayloadType, Pod, Srtp};
    use super::*;

    fn target(flags: u32) -> TargetInfo {
        let mut t = TargetInfo::zeroed();
        t.local = Address::v4([10, 0, 0, 1], 30000);
        t.num_destinations = 1;
        t.decrypt = Srtp::plain();
        t.flags = flags;
        t.payload_types[0] = PayloadType {
            pt: 0,
            clock_rate: 8000,
            ..Default::default()
        };
        t.payload_types[1] = PayloadType {
            pt: 8,
            clock_rate: 8000,
            ..Default::default()
        };
        t.num_payload_types = 2;
        t
    }

    fn rtp(pt: u8, ssrc: u32) -> std::vec::Vec<u8> {
        let mut p = std::vec![0x80, pt, 0, 1, 0, 0, 0, 160];
        p.extend_from_slice(&ssrc.to_be_bytes());
        p.extend_from_slice(&[0xd5; 160]);
        p
    }

    fn stun() -> std::vec::Vec<u8> {
        let mut p = std::vec![0u8; 28];
        p[1] = 1;
        p[4..8].copy_from_slice(&0x2112_a442u32.to_be_bytes());
        p[20..24].copy_from_slice(&0x8028_0004u32.to_be_bytes());
        p
    }

    const SRC: Address = Address {
        family: 2,
        addr: [10, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        port: 4000,
        _pad: [0; 2],
    };

    #[test]
    fn plain_udp_is_forwarded_raw() {
        let t = target(0);
        assert_eq!(
            decide(&t, &SRC, b"anything", None),
            Verdict::Forward(Forward::default())
        );
    }

    #[test]
    fn rtp_with_known_payload_type_is_forwarded() {
        let t = target(target_flags::RTP);
        let v = decide(&t, &SRC, &rtp(8, 7), None);
        assert_eq!(
            v,
            Verdict::Forward(Forward {
                rtp_header_len: Some(12),
                pt_idx: Some(1),
                ssrc_idx: None
            })
        );
        assert_eq!(
            decide(&t, &SRC, &rtp(96, 7), None),
            Verdict::Continue,
            "unknown PT goes to userspace"
        );
        assert_eq!(
            decide(&t, &SRC, b"\x00garbage-not-rtp", None),
            Verdict::Forward(Forward::default())
        );
        let t = target(target_flags::RTP | target_flags::RTP_ONLY);
        assert_eq!(
            decide(&t, &SRC, b"\x00garbage-not-rtp", None),
            Verdict::Continue
        );
    }

    #[test]
    fn source_checks() {
        let mut t = target(0);
        t.expected_src = Address::v4([10, 0, 0, 8], 4000);
        t.src_mismatch = src_mismatch::DROP;
        assert_eq!(decide(&t, &SRC, b"x", None), Verdict::DropError);
        t.src_mismatch = src_mismatch::PROPAGATE;
        assert_eq!(decide(&t, &SRC, b"x", None), Verdict::Continue);
        t.expected_src = SRC;
        assert!(matches!(decide(&t, &SRC, b"x", None), Verdict::Forward(_)));
        t.src_mismatch = src_mismatch::IGNORE;
        t.expected_src = Address::v4([1, 1, 1, 1], 1);
        assert!(matches!(decide(&t, &SRC, b"x", None), Verdict::Forward(_)));
    }

    #[test]
    fn stun_dtls_rtcp_and_non_forwarding_go_to_userspace() {
        assert_eq!(
            decide(&target(target_flags::STUN), &SRC, &stun(), None),
            Verdict::Continue
        );
        assert!(matches!(
            decide(&target(0), &SRC, &stun(), None),
            Verdict::Forward(_)
        ));
        assert_eq!(
            decide(&target(target_flags::DTLS), &SRC, &[22, 254, 253, 0], None),
            Verdict::Continue
        );
        let rtcp = [0x80, 200, 0, 6, 0, 0, 0, 1];
        assert_eq!(
            decide(
                &target(target_flags::RTP | target_flags::RTCP_MUX),
                &SRC,
                &rtcp,
                None
            ),
            Verdict::Continue
        );
        let mut t = target(target_flags::NON_FORWARDING);
        t.num_destinations = 0;
        assert_eq!(decide(&t, &SRC, b"x", None), Verdict::Continue);
        t.flags |= target_flags::BLACKHOLE;
        assert_eq!(decide(&t, &SRC, b"x", None), Verdict::Drop);
    }

    #[test]
    fn ssrc_tracking() {
        let mut t = target(target_flags::RTP | target_flags::TRACK_SSRC);
        t.ssrc[1] = 0x1234u32.to_be();
        let v = decide(&t, &SRC, &rtp(0, 0x1234), None);
        assert_eq!(
            v,
            Verdict::Forward(Forward {
                rtp_header_len: Some(12),
                pt_idx: Some(0),
                ssrc_idx: Some(1)
            })
        );
        t.ssrc[0] = 0x99u32.to_be();
        t.ssrc[2] = 0x98u32.to_be();
        t.ssrc[3] = 0x97u32.to_be();
        assert_eq!(
            decide(&t, &SRC, &rtp(0, 0x5555), None),
            Verdict::ContinueError
        );
    }

    #[test]
    fn srtp_slot_is_the_ssrc_slot_or_0() {
        let mut t = target(target_flags::RTP | target_flags::TRACK_SSRC);
        t.ssrc = [0x11u32.to_be(), 0x22u32.to_be(), 0, 0];
        let slot = |t: &TargetInfo, ssrc| match decide(t, &SRC, &rtp(0, ssrc), None) {
            Verdict::Forward(f) => Some(f.srtp_slot()),
            _ => None,
        };
        assert_eq!(slot(&t, 0x11), Some(0));
        assert_eq!(slot(&t, 0x22), Some(1));
        // An SSRC in no slot goes to userspace; 0 matches the first free slot (10.5).
        assert_eq!(slot(&t, 0x33), None);
        assert_eq!(slot(&t, 0), Some(2));
        // Without track_ssrc every SSRC uses slot 0.
        t.flags &= !target_flags::TRACK_SSRC;
        assert_eq!(slot(&t, 0x22), Some(0));
        assert_eq!(slot(&t, 0x33), Some(0));
    }
}
