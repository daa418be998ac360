//! What a datagram on a media socket carries, by its first bytes (RFC 7983), with
//! rtpengine 10.5's exact tests for STUN and multiplexed RTCP (the ones the kernel
//! module runs too, from `rtpengine_core::rtp`).

use rtpengine_core::rtp::{is_dtls, is_muxed_rtcp, is_stun};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// STUN (ICE connectivity checks, keepalives).
    Stun,
    /// A DTLS record (DTLS-SRTP handshake).
    Dtls,
    /// RTCP multiplexed with RTP (RFC 5761), or on an RTCP socket.
    Rtcp,
    /// RTP, or anything else in the RTP range.
    Rtp,
    /// None of the above (first byte outside every RFC 7983 range).
    Other,
}

/// Classifies `packet`; `rtcp_socket` says it arrived on a separate RTCP port,
/// where everything in the RTP/RTCP range is RTCP.
pub fn classify(packet: &[u8], rtcp_socket: bool) -> Kind {
    match packet.first() {
        Some(0..=3) if is_stun(packet) => Kind::Stun,
        Some(20..=63) if is_dtls(packet) => Kind::Dtls,
        Some(128..=191) if rtcp_socket || is_muxed_rtcp(packet) => Kind::Rtcp,
        Some(128..=191) => Kind::Rtp,
        _ => Kind::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stun() -> Vec<u8> {
        let mut p = vec![0, 1, 0, 8, 0x21, 0x12, 0xa4, 0x42];
        p.extend([7; 12]);
        p.extend([0x80, 0x28, 0, 4, 1, 2, 3, 4]);
        p
    }

    #[test]
    fn first_byte_ranges_of_rfc_7983() {
        assert_eq!(classify(&stun(), false), Kind::Stun);
        let mut not_stun = stun();
        not_stun[4] ^= 1;
        assert_eq!(classify(&not_stun, false), Kind::Other, "no magic cookie");
        assert_eq!(classify(&[22, 0xfe, 0xfd, 0, 0], false), Kind::Dtls);
        let rtp = [0x80, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1];
        assert_eq!(classify(&rtp, false), Kind::Rtp);
        assert_eq!(classify(&rtp, true), Kind::Rtcp, "on an RTCP socket");
        let rr = [0x80, 201, 0, 1, 0xde, 0xad, 0xbe, 0xef];
        assert_eq!(classify(&rr, false), Kind::Rtcp);
        // 10.5 (and the kernel) test the second byte for 194..=223 and 8 bytes.
        assert_eq!(classify(&rr[..7], false), Kind::Rtp);
        assert_eq!(classify(&[0x80, 193, 0, 1, 0, 0, 0, 0], false), Kind::Rtp);
        assert_eq!(classify(&[0x40, 0, 0], false), Kind::Other);
        assert_eq!(classify(&[], false), Kind::Other);
    }
}
