//! Zero-copy RTP header parsing (RFC 3550 §5.1, header extension §5.3.1).

use core::ops::Range;

/// Length of the fixed RTP header (before CSRCs and extension).
pub const FIXED_HEADER_LEN: usize = 12;

/// Why bytes are not an RTP packet we can work with.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum RtpError {
    /// Shorter than the fixed header, its CSRC list or its extension.
    Truncated,
    /// Version bits are not 2.
    BadVersion,
}

/// A parsed RTP packet borrowing its bytes. Only the header is interpreted.
#[derive(Clone, Copy, Debug)]
pub struct RtpHeader<'a> {
    packet: &'a [u8],
    header_len: usize,
}

/// Parses the RTP header at the start of `packet` (the whole UDP payload), as 10.5 does:
/// version 2, skip `CC` CSRCs, skip the extension if the X bit is set. Padding is not
/// interpreted (it is part of the payload for SRTP).
pub fn parse(packet: &[u8]) -> Result<RtpHeader<'_>, RtpError> {
    let first = *packet.first().ok_or(RtpError::Truncated)?;
    if packet.len() < FIXED_HEADER_LEN {
        return Err(RtpError::Truncated);
    }
    if first & 0xc0 != 0x80 {
        return Err(RtpError::BadVersion);
    }
    let csrc_count = usize::from(first & 0x0f);
    let mut header_len = FIXED_HEADER_LEN + csrc_count * 4;
    if packet.len() < header_len {
        return Err(RtpError::Truncated);
    }
    if first & 0x10 != 0 {
        // Extension: 16-bit profile data, 16-bit length in 32-bit words, then the words.
        let words = be16(packet, header_len + 2).ok_or(RtpError::Truncated)?;
        header_len += 4 + usize::from(words) * 4;
        if packet.len() < header_len {
            return Err(RtpError::Truncated);
        }
    }
    Ok(RtpHeader { packet, header_len })
}

impl<'a> RtpHeader<'a> {
    /// Bytes of fixed header, CSRCs and extension.
    pub fn header_len(&self) -> usize {
        self.header_len
    }

    /// Where the payload sits in the packet (may be empty).
    pub fn payload_range(&self) -> Range<usize> {
        self.header_len..self.packet.len()
    }

    pub fn payload(&self) -> &'a [u8] {
        self.packet.get(self.header_len..).unwrap_or(&[])
    }

    pub fn marker(&self) -> bool {
        self.byte(1) & 0x80 != 0
    }

    /// Payload type (7 bits).
    pub fn payload_type(&self) -> u8 {
        self.byte(1) & 0x7f
    }

    pub fn seq(&self) -> u16 {
        be16(self.packet, 2).unwrap_or(0)
    }

    pub fn timestamp(&self) -> u32 {
        u32::from_be_bytes(self.quad(4))
    }

    /// SSRC as a number (host order).
    pub fn ssrc(&self) -> u32 {
        u32::from_be_bytes(self.quad(8))
    }

    /// SSRC bytes read in native order: the representation of `abi::TargetInfo::ssrc`
    /// ("network order, as in the packet"), so the two compare directly.
    pub fn ssrc_raw(&self) -> u32 {
        u32::from_ne_bytes(self.quad(8))
    }

    /// The SSRC's four packet bytes.
    pub fn ssrc_bytes(&self) -> [u8; 4] {
        self.quad(8)
    }

    pub fn csrc_count(&self) -> usize {
        usize::from(self.byte(0) & 0x0f)
    }

    pub fn has_extension(&self) -> bool {
        self.byte(0) & 0x10 != 0
    }

    pub fn has_padding(&self) -> bool {
        self.byte(0) & 0x20 != 0
    }

    fn byte(&self, at: usize) -> u8 {
        self.packet.get(at).copied().unwrap_or(0)
    }

    // The fixed header was length-checked in `parse`, so the fallbacks never apply.
    fn quad(&self, at: usize) -> [u8; 4] {
        match self.packet.get(at..at + 4) {
            Some(&[a, b, c, d]) => [a, b, c, d],
            _ => [0; 4],
        }
    }
}

fn be16(bytes: &[u8], at: usize) -> Option<u16> {
    match bytes.get(at..at.checked_add(2)?) {
        Some(&[a, b]) => Some(u16::from_be_bytes([a, b])),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASIC: [u8; 16] = [
        0x80, 0xe0, 0x12, 0x34, 0xde, 0xca, 0xfb, 0xad, 0xca, 0xfe, 0xba, 0xbe, 1, 2, 3, 4,
    ];

    #[test]
    fn fixed_header_fields() {
        let h = parse(&BASIC).unwrap();
        assert_eq!(h.header_len(), 12);
        assert_eq!(h.payload_range(), 12..16);
        assert_eq!(h.payload(), &[1, 2, 3, 4]);
        assert!(h.marker());
        assert_eq!(h.payload_type(), 0x60);
        assert_eq!(h.seq(), 0x1234);
        assert_eq!(h.timestamp(), 0xdecafbad);
        assert_eq!(h.ssrc(), 0xcafebabe);
        assert_eq!(h.ssrc_raw().to_ne_bytes(), [0xca, 0xfe, 0xba, 0xbe]);
        assert_eq!(h.csrc_count(), 0);
    }

    #[test]
    fn csrcs_and_extension_are_skipped() {
        // CC=2, X=1, extension of 1 word, then 3 payload bytes.
        let mut p = [0u8; 12 + 8 + 4 + 4 + 3];
        p[0] = 0x80 | 0x10 | 2;
        p[12 + 8 + 2..12 + 8 + 4].copy_from_slice(&1u16.to_be_bytes());
        let h = parse(&p).unwrap();
        assert_eq!(h.header_len(), 12 + 8 + 4 + 4);
        assert_eq!(h.payload().len(), 3);
        assert!(h.has_extension());
    }

    #[test]
    fn empty_payload_is_fine() {
        let h = parse(&BASIC[..12]).unwrap();
        assert_eq!(h.payload_range(), 12..12);
        assert!(h.payload().is_empty());
    }

    #[test]
    fn malformed_packets_are_refused() {
        assert_eq!(parse(&[]).unwrap_err(), RtpError::Truncated);
        assert_eq!(parse(&BASIC[..11]).unwrap_err(), RtpError::Truncated);
        let mut v1 = BASIC;
        v1[0] = 0x40;
        assert_eq!(parse(&v1).unwrap_err(), RtpError::BadVersion);
        // 15 CSRCs announced, none present.
        let mut cc = BASIC;
        cc[0] = 0x8f;
        assert_eq!(parse(&cc).unwrap_err(), RtpError::Truncated);
        // Extension bit set, extension header missing / too long.
        let mut x = BASIC;
        x[0] = 0x90;
        assert_eq!(parse(&x[..14]).unwrap_err(), RtpError::Truncated);
        x[14] = 0xff;
        x[15] = 0xff;
        assert_eq!(parse(&x).unwrap_err(), RtpError::Truncated);
    }

    #[test]
    fn every_prefix_of_a_packet_parses_or_errs_without_panic() {
        let mut p = [0u8; 40];
        p[0] = 0x93;
        p[24 + 3] = 2;
        for n in 0..=p.len() {
            let _ = parse(&p[..n]);
        }
        for b in 0..=255u8 {
            p[0] = b;
            let _ = parse(&p);
        }
    }
}
