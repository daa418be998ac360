//! Which protocol a UDP payload on an RTP port carries, by the exact tests of 10.5.

/// STUN (RFC 5389) as 10.5 recognises it: at least 28 bytes, a multiple of 4, the two
/// top bits and the two low length bits of the first word zero, the magic cookie, and a
/// FINGERPRINT attribute (type 0x8028, length 4) as the last 8 bytes.
pub fn is_stun(packet: &[u8]) -> bool {
    let len = packet.len();
    if len < 28 || len & 3 != 0 {
        return false;
    }
    let word = |at: usize| match packet.get(at..at + 4) {
        Some(&[a, b, c, d]) => u32::from_be_bytes([a, b, c, d]),
        _ => 0,
    };
    word(4) == 0x2112_a442 && word(0) & 0xc000_0003 == 0 && word(len - 8) == 0x8028_0004
}

/// DTLS record (RFC 7983 demultiplexing): first byte in 20..=63.
pub fn is_dtls(packet: &[u8]) -> bool {
    matches!(packet.first(), Some(20..=63))
}

/// RTCP multiplexed on the RTP port (RFC 5761): at least 8 bytes and the second byte
/// (marker bit included, not masked) in 194..=223, i.e. RTCP packet types 194..223.
pub fn is_muxed_rtcp(packet: &[u8]) -> bool {
    packet.len() >= 8 && matches!(packet.get(1), Some(194..=223))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stun_binding_request() -> [u8; 28] {
        let mut p = [0u8; 28];
        p[0..2].copy_from_slice(&0x0001u16.to_be_bytes()); // binding request
        p[2..4].copy_from_slice(&8u16.to_be_bytes()); // attributes length
        p[4..8].copy_from_slice(&0x2112_a442u32.to_be_bytes());
        p[8..20].copy_from_slice(&[7; 12]); // transaction id
        p[20..24].copy_from_slice(&0x8028_0004u32.to_be_bytes());
        p[24..28].copy_from_slice(&[1, 2, 3, 4]);
        p
    }

    #[test]
    fn stun_needs_every_10_5_condition() {
        let p = stun_binding_request();
        assert!(is_stun(&p));
        assert!(!is_stun(&p[..24]), "shorter than 28");
        let mut q = [0u8; 29];
        q[..28].copy_from_slice(&p);
        assert!(!is_stun(&q), "not a multiple of 4");
        let mut bad = p;
        bad[4] = 0x21 ^ 1;
        assert!(!is_stun(&bad), "cookie");
        let mut bad = p;
        bad[0] = 0x40;
        assert!(!is_stun(&bad), "top bits");
        let mut bad = p;
        bad[3] |= 1;
        assert!(!is_stun(&bad), "length not a multiple of 4");
        let mut bad = p;
        bad[21] = 0x29;
        assert!(!is_stun(&bad), "no fingerprint last");
    }

    #[test]
    fn dtls_range() {
        assert!(!is_dtls(&[]));
        assert!(!is_dtls(&[19]));
        assert!(is_dtls(&[20]));
        assert!(is_dtls(&[22, 0xfe, 0xfd]));
        assert!(is_dtls(&[63]));
        assert!(!is_dtls(&[64]));
        assert!(!is_dtls(&[0x80]));
    }

    #[test]
    fn muxed_rtcp_range() {
        let mut p = [0x80u8, 200, 0, 6, 0, 0, 0, 1];
        assert!(is_muxed_rtcp(&p));
        assert!(!is_muxed_rtcp(&p[..7]));
        for (pt, want) in [
            (193, false),
            (194, true),
            (223, true),
            (224, false),
            (0x60, false),
        ] {
            p[1] = pt;
            assert_eq!(is_muxed_rtcp(&p), want, "second byte {pt}");
        }
    }
}
