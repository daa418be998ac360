//! What one output does to the bytes of a forwarded RTP packet before it is
//! (re-)encrypted, as rtpengine 10.5 does it: the payload of a payload type with a
//! `replace_pattern` is overwritten with that pattern, and an output with
//! `SSRC_SUBST` writes its replacement SSRC for the packet's SSRC slot into the header.
//! Pure and total, so that the module's packet path and host tests run the same code.

use super::abi::{output_flags, OutputInfo, TargetInfo};
use super::forward::Forward;
use super::rtp::FIXED_HEADER_LEN;

/// Offset of the SSRC in the fixed RTP header.
const SSRC_OFFSET: usize = 8;

/// Why a packet cannot be rewritten. The forwarding decision only reports an RTP header
/// length for a parsed header, so the packet path meets this only if a caller hands in
/// fewer bytes than were parsed.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum RewriteError {
    /// The packet is shorter than the RTP header the decision found, or that header is
    /// shorter than the fixed 12 bytes.
    ShortPacket,
}

/// Rewrites `packet` (a plain RTP packet, header first, exactly its length) for output
/// `o` of target `t`, as the forwarding decision `f` for it says. Packets that were not
/// parsed as RTP (`f.rtp_header_len` is `None`) are left alone.
pub fn rewrite_output(
    packet: &mut [u8],
    f: &Forward,
    t: &TargetInfo,
    o: &OutputInfo,
) -> Result<(), RewriteError> {
    let Some(header_len) = f.rtp_header_len else {
        return Ok(());
    };
    if header_len < FIXED_HEADER_LEN || packet.len() < header_len {
        return Err(RewriteError::ShortPacket);
    }
    if let Some(pt) = f.pt_idx.and_then(|i| t.payload_types.get(i)) {
        // The length is checked at ADD_TARGET; clamp anyway so no input can panic here.
        let n = usize::from(pt.replace_pattern_len).min(pt.replace_pattern.len());
        replace_payload(&mut packet[header_len..], &pt.replace_pattern[..n]);
    }
    if o.flags & output_flags::SSRC_SUBST != 0 {
        let ssrc = f.ssrc_idx.and_then(|i| o.ssrc_out.get(i));
        // 0 means "no replacement for this slot" (10.5).
        if let Some(ssrc) = ssrc.filter(|s| **s != 0) {
            // Stored in network order: its bytes go into the header as they are.
            packet[SSRC_OFFSET..SSRC_OFFSET + 4].copy_from_slice(&ssrc.to_ne_bytes());
        }
    }
    Ok(())
}

/// Overwrites an RTP payload with a repeated pattern (10.5's `replace_pattern`); the
/// last repetition is cut at the end of the payload. An empty pattern changes nothing.
pub fn replace_payload(payload: &mut [u8], pattern: &[u8]) {
    if pattern.is_empty() {
        return;
    }
    for chunk in payload.chunks_mut(pattern.len()) {
        let n = chunk.len();
        chunk.copy_from_slice(&pattern[..n]);
    }
}

#[cfg(test)]
mod tests {
    use super::super::abi::{PayloadType, Pod};
    use super::*;
    use std::vec::Vec;

    const SSRC_IN: u32 = 0x1111_1111;
    const SSRC_OUT: u32 = 0x2222_2222;

    /// Target with payload type 0 (pattern "ab") and 8 (no pattern).
    fn target() -> TargetInfo {
        let mut t = TargetInfo::zeroed();
        let mut pattern = [0u8; 16];
        pattern[..2].copy_from_slice(b"ab");
        t.payload_types[0] = PayloadType {
            pt: 0,
            replace_pattern_len: 2,
            clock_rate: 8000,
            replace_pattern: pattern,
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

    /// Output replacing slot 1's SSRC (`subst` sets the flag).
    fn output(subst: bool) -> OutputInfo {
        let mut o = OutputInfo::zeroed();
        o.ssrc_out[1] = SSRC_OUT.to_be();
        if subst {
            o.flags |= output_flags::SSRC_SUBST;
        }
        o
    }

    fn rtp(payload_len: usize) -> Vec<u8> {
        let mut p = std::vec![0x80, 0, 0, 1, 0, 0, 0, 160];
        p.extend_from_slice(&SSRC_IN.to_be_bytes());
        p.extend((0..payload_len).map(|i| i as u8));
        p
    }

    fn forward(pt_idx: Option<usize>, ssrc_idx: Option<usize>) -> Forward {
        Forward {
            rtp_header_len: Some(12),
            pt_idx,
            ssrc_idx,
        }
    }

    #[test]
    fn pattern_replaces_the_whole_payload_and_nothing_else() {
        let mut p = rtp(5);
        let f = forward(Some(0), None);
        assert_eq!(
            rewrite_output(&mut p, &f, &target(), &output(false)),
            Ok(())
        );
        assert_eq!(p[..12], rtp(0)[..], "header unchanged");
        assert_eq!(&p[12..], b"ababa", "last repetition cut");
    }

    #[test]
    fn pattern_off_for_a_payload_type_without_one() {
        let mut p = rtp(5);
        let f = forward(Some(1), None);
        assert_eq!(
            rewrite_output(&mut p, &f, &target(), &output(false)),
            Ok(())
        );
        assert_eq!(p, rtp(5));
        let f = forward(None, None);
        assert_eq!(
            rewrite_output(&mut p, &f, &target(), &output(false)),
            Ok(())
        );
        assert_eq!(p, rtp(5));
    }

    #[test]
    fn pattern_on_an_empty_payload() {
        let mut p = rtp(0);
        let f = forward(Some(0), None);
        assert_eq!(
            rewrite_output(&mut p, &f, &target(), &output(false)),
            Ok(())
        );
        assert_eq!(p, rtp(0));
    }

    #[test]
    fn pattern_after_csrcs_and_extension() {
        // Header of 20 bytes (as the decision would report for CSRCs): only what
        // follows it is overwritten.
        let mut p = rtp(12);
        let f = Forward {
            rtp_header_len: Some(20),
            pt_idx: Some(0),
            ssrc_idx: None,
        };
        assert_eq!(
            rewrite_output(&mut p, &f, &target(), &output(false)),
            Ok(())
        );
        assert_eq!(p[..20], rtp(12)[..20]);
        assert_eq!(&p[20..], b"abab");
    }

    #[test]
    fn ssrc_substituted_when_the_output_says_so() {
        let mut p = rtp(4);
        let f = forward(Some(1), Some(1));
        assert_eq!(rewrite_output(&mut p, &f, &target(), &output(true)), Ok(()));
        assert_eq!(p[8..12], SSRC_OUT.to_be_bytes());
        let mut want = rtp(4);
        want[8..12].copy_from_slice(&SSRC_OUT.to_be_bytes());
        assert_eq!(p, want, "nothing else changed");
    }

    #[test]
    fn ssrc_kept_without_the_flag_a_slot_or_a_replacement() {
        let t = target();
        for (f, o) in [
            (forward(Some(1), Some(1)), output(false)), // flag off
            (forward(Some(1), None), output(true)),     // SSRC not tracked
            (forward(Some(1), Some(0)), output(true)),  // slot 0 has no replacement
            (forward(Some(1), Some(9)), output(true)),  // slot out of range
        ] {
            let mut p = rtp(4);
            assert_eq!(rewrite_output(&mut p, &f, &t, &o), Ok(()));
            assert_eq!(p, rtp(4), "{f:?}");
        }
    }

    #[test]
    fn both_rewrites_together() {
        let mut p = rtp(3);
        let f = forward(Some(0), Some(1));
        assert_eq!(rewrite_output(&mut p, &f, &target(), &output(true)), Ok(()));
        assert_eq!(p[8..12], SSRC_OUT.to_be_bytes());
        assert_eq!(&p[12..], b"aba");
    }

    #[test]
    fn not_rtp_is_left_alone_whatever_its_length() {
        let f = Forward::default();
        for len in [0, 3, 12, 40] {
            let mut p: Vec<u8> = (0..len as u8).collect();
            assert_eq!(rewrite_output(&mut p, &f, &target(), &output(true)), Ok(()));
            assert_eq!(p, (0..len as u8).collect::<Vec<_>>());
        }
    }

    #[test]
    fn short_packets_are_refused_untouched() {
        let f = forward(Some(0), Some(1));
        for len in [0, 1, 8, 11] {
            let mut p = rtp(0)[..len].to_vec();
            let before = p.clone();
            assert_eq!(
                rewrite_output(&mut p, &f, &target(), &output(true)),
                Err(RewriteError::ShortPacket),
                "{len} bytes"
            );
            assert_eq!(p, before);
        }
        // Shorter than the header the decision reported.
        let f = Forward {
            rtp_header_len: Some(20),
            ..f
        };
        let mut p = rtp(4);
        assert_eq!(
            rewrite_output(&mut p, &f, &target(), &output(true)),
            Err(RewriteError::ShortPacket)
        );
        assert_eq!(p, rtp(4));
    }

    #[test]
    fn bad_header_and_pattern_lengths() {
        // A header length below the fixed 12 bytes cannot come from the parser.
        let f = Forward {
            rtp_header_len: Some(4),
            pt_idx: Some(0),
            ssrc_idx: Some(1),
        };
        let mut p = rtp(4);
        assert_eq!(
            rewrite_output(&mut p, &f, &target(), &output(true)),
            Err(RewriteError::ShortPacket)
        );
        assert_eq!(p, rtp(4));
        // A pattern length beyond the 16-byte array (refused at ADD_TARGET) is clamped.
        let mut t = target();
        t.payload_types[0].replace_pattern = [7; 16];
        t.payload_types[0].replace_pattern_len = 200;
        let mut p = rtp(20);
        let f = forward(Some(0), None);
        assert_eq!(rewrite_output(&mut p, &f, &t, &output(false)), Ok(()));
        assert!(p[12..].iter().all(|b| *b == 7));
        // A payload-type index past the table is ignored.
        let mut p = rtp(4);
        let f = forward(Some(99), None);
        assert_eq!(
            rewrite_output(&mut p, &f, &target(), &output(false)),
            Ok(())
        );
        assert_eq!(p, rtp(4));
    }

    #[test]
    fn replace_payload_repeats_and_cuts() {
        let mut p = [0u8; 7];
        replace_payload(&mut p, &[1, 2, 3]);
        assert_eq!(p, [1, 2, 3, 1, 2, 3, 1]);
        replace_payload(&mut p, &[]);
        assert_eq!(p, [1, 2, 3, 1, 2, 3, 1]);
        replace_payload(&mut p, &[9]);
        assert_eq!(p, [9; 7]);
    }
}
