//! IPv4/IPv6 and UDP headers: reading the ones of a received packet, writing the ones
//! of a forwarded packet (with checksums), without allocation.

use super::abi::{Address, AF_INET, AF_INET6};

pub const IPV4_HDR_LEN: usize = 20;
pub const IPV6_HDR_LEN: usize = 40;
pub const UDP_HDR_LEN: usize = 8;
pub const IPPROTO_UDP: u8 = 17;
/// TTL / hop limit of forwarded packets (as 10.5).
pub const DEFAULT_TTL: u8 = 64;

/// What the packet path needs from a received IP header.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct IpInfo {
    /// Source and destination address with port 0 (filled from the UDP header later).
    pub src: Address,
    pub dst: Address,
    /// Next protocol (17 = UDP); for IPv6 only the first next-header is considered.
    pub protocol: u8,
    /// Offset of the transport header.
    pub header_len: usize,
    /// TOS / traffic class byte.
    pub tos: u8,
}

/// Parses the IPv4 header at the start of `buf`.
pub fn parse_ipv4(buf: &[u8]) -> Option<IpInfo> {
    let b = buf.get(..IPV4_HDR_LEN)?;
    if b[0] >> 4 != 4 {
        return None;
    }
    let header_len = usize::from(b[0] & 0x0f) * 4;
    if header_len < IPV4_HDR_LEN || buf.len() < header_len {
        return None;
    }
    Some(IpInfo {
        src: Address::v4([b[12], b[13], b[14], b[15]], 0),
        dst: Address::v4([b[16], b[17], b[18], b[19]], 0),
        protocol: b[9],
        header_len,
        tos: b[1],
    })
}

/// Parses the IPv6 header at the start of `buf`.
pub fn parse_ipv6(buf: &[u8]) -> Option<IpInfo> {
    let b = buf.get(..IPV6_HDR_LEN)?;
    if b[0] >> 4 != 6 {
        return None;
    }
    let mut src = [0u8; 16];
    let mut dst = [0u8; 16];
    src.copy_from_slice(&b[8..24]);
    dst.copy_from_slice(&b[24..40]);
    Some(IpInfo {
        src: Address::v6(src, 0),
        dst: Address::v6(dst, 0),
        protocol: b[6],
        header_len: IPV6_HDR_LEN,
        tos: (b[0] << 4) | (b[1] >> 4),
    })
}

/// A UDP header.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct UdpInfo {
    pub src_port: u16,
    pub dst_port: u16,
    /// Payload length from the header's length field.
    pub payload_len: usize,
}

/// Parses a UDP header; `available` is the number of bytes from the header to the end of
/// the packet, which must cover the length the header claims.
pub fn parse_udp(hdr: &[u8], available: usize) -> Option<UdpInfo> {
    let b = hdr.get(..UDP_HDR_LEN)?;
    let len = usize::from(u16::from_be_bytes([b[4], b[5]]));
    if len < UDP_HDR_LEN || len > available {
        return None;
    }
    Some(UdpInfo {
        src_port: u16::from_be_bytes([b[0], b[1]]),
        dst_port: u16::from_be_bytes([b[2], b[3]]),
        payload_len: len - UDP_HDR_LEN,
    })
}

/// Length of the IP + UDP headers for an address family.
pub fn headers_len(family: i32) -> Option<usize> {
    match family {
        AF_INET => Some(IPV4_HDR_LEN + UDP_HDR_LEN),
        AF_INET6 => Some(IPV6_HDR_LEN + UDP_HDR_LEN),
        _ => None,
    }
}

/// Adds `data`, as big-endian 16-bit words, to the unfolded ones' complement sum `acc`.
/// Works eight bytes at a time: a big-endian 32-bit word is congruent to the sum of its
/// two 16-bit halves modulo 0xffff, so summing 32-bit words and folding at the end gives
/// the same result (RFC 1071) with a quarter of the additions.
fn sum_be(mut acc: u64, data: &[u8]) -> u64 {
    let mut chunks = data.chunks_exact(8);
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        let v = u64::from_be_bytes(w);
        acc = acc.wrapping_add(v >> 32).wrapping_add(v & 0xffff_ffff);
    }
    let mut rest = chunks.remainder().chunks_exact(2);
    for c in &mut rest {
        acc = acc.wrapping_add(u64::from(u16::from_be_bytes([c[0], c[1]])));
    }
    if let [last] = rest.remainder() {
        acc = acc.wrapping_add(u64::from(*last) << 8);
    }
    acc
}

/// Folds an unfolded sum to 16 bits (not complemented).
fn fold(mut acc: u64) -> u16 {
    while acc >> 16 != 0 {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    acc as u16
}

/// The Internet checksum of `data`.
pub fn checksum(data: &[u8]) -> u16 {
    !fold(sum_be(0, data))
}

/// How the UDP checksum of a forwarded packet is produced.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum UdpChecksum {
    /// Computed here over the whole datagram.
    Full,
    /// Left to the stack or the NIC (CHECKSUM_PARTIAL): the field holds the folded
    /// pseudo-header sum, as the kernel's own UDP sockets do it.
    Partial,
}

/// Writes IP and UDP headers in front of a payload: `pkt` holds
/// `headers_len(family)` bytes of room followed by the payload, exactly.
/// `src`/`dst` give addresses and ports; both must be of the same family.
/// Returns `None` (nothing written) on a family mismatch or an oversize payload.
pub fn write_headers(
    pkt: &mut [u8],
    src: &Address,
    dst: &Address,
    tos: u8,
    csum: UdpChecksum,
) -> Option<()> {
    if src.family != dst.family {
        return None;
    }
    let hl = headers_len(src.family)?;
    if pkt.len() < hl {
        return None;
    }
    let udp_len = u16::try_from(pkt.len().checked_sub(hl)?.checked_add(UDP_HDR_LEN)?).ok()?;
    let (ip, rest) = pkt.split_at_mut_checked(hl.checked_sub(UDP_HDR_LEN)?)?;
    let (udp, payload) = rest.split_at_mut_checked(UDP_HDR_LEN)?;
    // Fixed sizes from here on: the header slices have exactly these lengths.
    let udp: &mut [u8; UDP_HDR_LEN] = udp.try_into().ok()?;

    udp[0..2].copy_from_slice(&src.port.to_be_bytes());
    udp[2..4].copy_from_slice(&dst.port.to_be_bytes());
    udp[4..6].copy_from_slice(&udp_len.to_be_bytes());
    udp[6..8].copy_from_slice(&[0, 0]);

    // Pseudo-header sum for the UDP checksum.
    let mut sum = sum_be(0, src.ip_bytes());
    sum = sum_be(sum, dst.ip_bytes());
    sum = sum
        .wrapping_add(u64::from(IPPROTO_UDP))
        .wrapping_add(u64::from(udp_len));

    if src.family == AF_INET {
        let total = u16::try_from(pkt_len(hl, payload.len())).ok()?;
        ip[0] = 0x45;
        ip[1] = tos;
        ip[2..4].copy_from_slice(&total.to_be_bytes());
        ip[4..6].copy_from_slice(&[0, 0]); // id 0 with DF (RFC 6864)
        ip[6..8].copy_from_slice(&0x4000u16.to_be_bytes());
        ip[8] = DEFAULT_TTL;
        ip[9] = IPPROTO_UDP;
        ip[10..12].copy_from_slice(&[0, 0]);
        ip[12..16].copy_from_slice(src.ip_bytes());
        ip[16..20].copy_from_slice(dst.ip_bytes());
        let c = checksum(ip);
        ip[10..12].copy_from_slice(&c.to_be_bytes());
    } else {
        ip[0] = 0x60 | (tos >> 4);
        ip[1] = tos << 4;
        ip[2..4].copy_from_slice(&[0, 0]); // flow label
        ip[4..6].copy_from_slice(&udp_len.to_be_bytes());
        ip[6] = IPPROTO_UDP;
        ip[7] = DEFAULT_TTL;
        ip[8..24].copy_from_slice(src.ip_bytes());
        ip[24..40].copy_from_slice(dst.ip_bytes());
    }

    let c = match csum {
        UdpChecksum::Partial => fold(sum),
        UdpChecksum::Full => {
            sum = sum_be(sum, udp);
            sum = sum_be(sum, payload);
            match !fold(sum) {
                0 => 0xffff, // 0 means "no checksum" in UDP
                c => c,
            }
        }
    };
    udp[6..8].copy_from_slice(&c.to_be_bytes());
    Some(())
}

fn pkt_len(hl: usize, payload: usize) -> usize {
    hl.saturating_add(payload)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Checks a UDP checksum the slow, obvious way: 16-bit words, one at a time.
    fn verify_udp(pkt: &[u8], src: &Address, dst: &Address) -> bool {
        let hl = headers_len(src.family).unwrap();
        let udp = &pkt[hl - UDP_HDR_LEN..];
        let mut data = std::vec::Vec::new();
        data.extend_from_slice(src.ip_bytes());
        data.extend_from_slice(dst.ip_bytes());
        data.extend_from_slice(&[0, 17]);
        data.extend_from_slice(&(udp.len() as u16).to_be_bytes());
        data.extend_from_slice(udp);
        if data.len() % 2 == 1 {
            data.push(0);
        }
        let mut sum: u32 = 0;
        for w in data.chunks(2) {
            sum += u32::from(u16::from_be_bytes([w[0], w[1]]));
        }
        while sum >> 16 != 0 {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        sum == 0xffff
    }

    #[test]
    fn fast_sum_matches_word_sum_for_all_lengths() {
        let data: std::vec::Vec<u8> = (0..300u32)
            .map(|i| (i.wrapping_mul(97) ^ 0x5a) as u8)
            .collect();
        for len in 0..data.len() {
            let d = &data[..len];
            let mut slow: u32 = 0;
            for w in d.chunks(2) {
                slow += u32::from(u16::from_be_bytes([w[0], *w.get(1).unwrap_or(&0)]));
            }
            while slow >> 16 != 0 {
                slow = (slow & 0xffff) + (slow >> 16);
            }
            assert_eq!(fold(sum_be(0, d)), slow as u16, "length {len}");
        }
    }

    #[test]
    fn partial_checksum_completes_to_a_valid_one() {
        let src = Address::v4([10, 0, 0, 1], 30000);
        let dst = Address::v4([10, 0, 0, 2], 4000);
        for len in [0usize, 1, 7, 160, 171] {
            let mut pkt = std::vec![0u8; 28 + len];
            for (i, b) in pkt[28..].iter_mut().enumerate() {
                *b = (i * 7) as u8;
            }
            write_headers(&mut pkt, &src, &dst, 0, UdpChecksum::Partial).unwrap();
            // What the stack or NIC does: checksum from the UDP header on, field included.
            let c = checksum(&pkt[20..]);
            pkt[26..28].copy_from_slice(&c.to_be_bytes());
            assert!(verify_udp(&pkt, &src, &dst), "length {len}");
        }
    }

    #[test]
    fn ipv4_headers_round_trip_with_valid_checksums() {
        let src = Address::v4([192, 0, 2, 1], 30000);
        let dst = Address::v4([198, 51, 100, 7], 4000);
        let mut pkt = [0u8; 28 + 5];
        pkt[28..].copy_from_slice(b"hello");
        write_headers(&mut pkt, &src, &dst, 0xb8, UdpChecksum::Full).unwrap();
        assert_eq!(checksum(&pkt[..20]), 0, "IP header checksum verifies");
        assert!(verify_udp(&pkt, &src, &dst));
        let ip = parse_ipv4(&pkt).unwrap();
        assert_eq!(
            (ip.src.addr[..4].to_vec(), ip.dst.addr[..4].to_vec()),
            (vec![192, 0, 2, 1], vec![198, 51, 100, 7])
        );
        assert_eq!((ip.protocol, ip.header_len, ip.tos), (17, 20, 0xb8));
        assert_eq!(u16::from_be_bytes([pkt[2], pkt[3]]), 33);
        let udp = parse_udp(&pkt[20..], pkt.len() - 20).unwrap();
        assert_eq!(
            (udp.src_port, udp.dst_port, udp.payload_len),
            (30000, 4000, 5)
        );
    }

    #[test]
    fn ipv6_headers_round_trip_with_valid_checksum() {
        let mut a = [0u8; 16];
        a[0] = 0x20;
        a[1] = 0x01;
        a[15] = 1;
        let mut b = a;
        b[15] = 2;
        let src = Address::v6(a, 1234);
        let dst = Address::v6(b, 5678);
        let mut pkt = [0u8; 48 + 3];
        pkt[48..].copy_from_slice(b"abc");
        write_headers(&mut pkt, &src, &dst, 0x2e, UdpChecksum::Full).unwrap();
        assert!(verify_udp(&pkt, &src, &dst));
        let ip = parse_ipv6(&pkt).unwrap();
        assert_eq!(
            (ip.src, ip.dst, ip.protocol, ip.tos),
            (Address::v6(a, 0), Address::v6(b, 0), 17, 0x2e)
        );
        assert_eq!(u16::from_be_bytes([pkt[4], pkt[5]]), 11);
    }

    #[test]
    fn known_checksum() {
        // RFC 1071 example bytes.
        let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(checksum(&data), !0xddf2u16);
        assert_eq!(checksum(&[0xff]), !0xff00u16);
    }

    #[test]
    fn refuses_bad_input() {
        let v4 = Address::v4([1, 2, 3, 4], 1);
        let v6 = Address::v6([1; 16], 1);
        let mut pkt = [0u8; 60];
        assert!(write_headers(&mut pkt, &v4, &v6, 0, UdpChecksum::Full).is_none());
        assert!(write_headers(&mut pkt[..10], &v4, &v4, 0, UdpChecksum::Full).is_none());
        assert!(write_headers(
            &mut pkt,
            &Address::default(),
            &Address::default(),
            0,
            UdpChecksum::Full
        )
        .is_none());
        assert!(parse_ipv4(&[0x45; 10]).is_none());
        assert!(parse_ipv4(&[0x65; 20]).is_none());
        assert!(parse_ipv4(&[0x4f; 20]).is_none(), "IHL beyond the buffer");
        assert!(parse_ipv6(&[0x60; 39]).is_none());
        assert!(
            parse_udp(&[0, 1, 0, 2, 0, 7, 0, 0], 8).is_none(),
            "length below 8"
        );
        assert!(
            parse_udp(&[0, 1, 0, 2, 0, 20, 0, 0], 12).is_none(),
            "length beyond packet"
        );
        let mut big = [0u8; 70000];
        assert!(write_headers(&mut big, &v4, &v4, 0, UdpChecksum::Full).is_none());
    }
}
