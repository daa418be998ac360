//! Homer (`--homer`): RTCP that the daemon relays goes to a HEP capture
//! server as 10.5 sends it: the packet's reports as a JSON text
//! (`rtcp_json`) in a HEPv3 packet (`hep3`, protocol type 5 "RTCP JSON")
//! with the call-id as correlation id, over UDP or TCP.
//!
//! Both functions are pure; `sender` owns the socket.

pub mod sender;

use std::fmt::Write;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

/// HEP protocol type of an RTCP report in JSON.
pub const PROTO_RTCP_JSON: u8 = 5;

const SR: u8 = 200;
const RR: u8 = 201;
const SDES: u8 = 202;
const XR: u8 = 207;

/// The shortest packet of each type 10.5 takes (shorter ones end the
/// compound packet as an error).
fn min_len(pt: u8) -> usize {
    match pt {
        SR => 28,
        RR | XR => 8,
        SDES | 203 => 4,
        204..=206 => 12,
        _ => 0,
    }
}

fn be32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

/// Drops trailing commas and blanks, as 10.5 does before closing a list.
fn trim_tail(s: &mut String) {
    while s.ends_with(',') || s.ends_with(' ') {
        s.pop();
    }
}

/// The report blocks of an SR or RR at `blocks` (`count` of them).
fn report_list(j: &mut String, pt: u8, count: u8, ssrc: u32, blocks: &[u8]) {
    let _ = write!(
        j,
        "\"ssrc\":{ssrc},\"type\":{pt},\"report_count\":{count},\"report_blocks\":["
    );
    for b in blocks.chunks_exact(24).take(usize::from(count)) {
        let lost = u32::from_be_bytes([0, b[5], b[6], b[7]]);
        let _ = write!(
            j,
            "{{\"source_ssrc\":{},\"highest_seq_no\":{},\"fraction_lost\":{},\"ia_jitter\":{},\
             \"packets_lost\":{lost},\"lsr\":{},\"dlsr\":{}}},",
            be32(b),
            be32(&b[8..]),
            b[4],
            be32(&b[12..]),
            be32(&b[16..]),
            be32(&b[20..]),
        );
    }
    trim_tail(j);
    j.push_str("],");
}

/// An SDES text as 10.5 quotes it: JSON escapes for `"`, `\` and five
/// control characters, `_` for any other byte outside printable ASCII.
fn sdes_text(j: &mut String, data: &[u8]) {
    for &c in data {
        match c {
            b'"' => j.push_str("\\\""),
            b'\\' => j.push_str("\\\\"),
            8 => j.push_str("\\b"),
            12 => j.push_str("\\f"),
            b'\n' => j.push_str("\\n"),
            b'\r' => j.push_str("\\r"),
            b'\t' => j.push_str("\\t"),
            c if !(b' '..=126).contains(&c) => j.push('_'),
            c => j.push(char::from(c)),
        }
    }
}

fn sdes(j: &mut String, count: u8, mut body: &[u8]) {
    let _ = write!(j, "\"sdes_report_count\":{count},\"sdes_information\": [ ");
    let mut chunks = 0u8;
    loop {
        if body.len() < 4 {
            break;
        }
        let ssrc = be32(body);
        let start = body.len();
        body = &body[4..];
        while let Some((&kind, rest)) = body.split_first() {
            body = rest;
            if kind == 0 {
                break;
            }
            let Some((&len, rest)) = body.split_first() else {
                break;
            };
            body = rest;
            let len = usize::from(len);
            if body.len() < len {
                break;
            }
            let _ = write!(
                j,
                "{{\"sdes_chunk_ssrc\":{ssrc},\"type\":{kind},\"text\":\""
            );
            sdes_text(j, &body[..len]);
            j.push_str("\"},");
            body = &body[len..];
        }
        // Padding up to the next chunk: 10.5 counts it from the chunks'
        // start, which is 4-aligned.
        let used = start - body.len();
        let pad = (4 - used % 4) % 4;
        body = body.get(pad..).unwrap_or(&[]);
        chunks += 1;
        if chunks >= count {
            break;
        }
    }
    trim_tail(j);
    j.push_str("],");
}

/// The JSON text 10.5 sends to Homer for the (compound) RTCP `packet`, or
/// `None` when it has nothing to report (no SR, RR or SDES before the end
/// or the first malformed packet).
pub fn rtcp_json(packet: &[u8]) -> Option<String> {
    let mut j = String::from("{ ");
    let mut rest = packet;
    while rest.len() >= 4 {
        let len = (usize::from(u16::from_be_bytes([rest[2], rest[3]])) + 1) * 4;
        if len > rest.len() {
            break;
        }
        let (version, count, pt) = (rest[0] >> 6, rest[0] & 0x1f, rest[1]);
        if version != 2 || len < min_len(pt) {
            break;
        }
        let p = &rest[..len];
        match pt {
            SR | RR => {
                if len < usize::from(count) * 24 {
                    break;
                }
                let ssrc = be32(&p[4..]);
                let blocks = if pt == SR {
                    let _ = write!(
                        j,
                        "\"sender_information\":{{\"ntp_timestamp_sec\":{},\
                         \"ntp_timestamp_usec\":{},\"octets\":{},\"rtp_timestamp\":{}, \"packets\":{}}},",
                        be32(&p[8..]),
                        be32(&p[12..]),
                        be32(&p[24..]),
                        be32(&p[16..]),
                        be32(&p[20..]),
                    );
                    &p[28..]
                } else {
                    &p[8..]
                };
                report_list(&mut j, pt, count, ssrc, blocks);
            }
            SDES => sdes(&mut j, count, &p[4..]),
            _ => {}
        }
        rest = &rest[len..];
    }
    trim_tail(&mut j);
    j.push_str(" }");
    (j.len() > 4).then_some(j)
}

/// What a HEP packet says of the captured packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capture<'a> {
    pub src: SocketAddr,
    pub dst: SocketAddr,
    /// Unix time of the packet.
    pub time: Duration,
    pub capture_id: u32,
    pub correlation: &'a [u8],
    pub payload: &'a [u8],
}

fn chunk(out: &mut Vec<u8>, kind: u16, data: &[u8]) {
    out.extend_from_slice(&0u16.to_be_bytes());
    out.extend_from_slice(&kind.to_be_bytes());
    out.extend_from_slice(
        &u16::try_from(6 + data.len())
            .unwrap_or(u16::MAX)
            .to_be_bytes(),
    );
    out.extend_from_slice(data);
}

/// A HEPv3 packet of `c`, its chunks in 10.5's order: family, protocol
/// (UDP), ports, time, protocol type (RTCP JSON), capture id, addresses,
/// correlation id, payload.
pub fn hep3(c: &Capture<'_>) -> Vec<u8> {
    let mut out = b"HEP3\0\0".to_vec();
    let family: u8 = if c.src.is_ipv4() { 2 } else { 10 };
    chunk(&mut out, 1, &[family]);
    chunk(&mut out, 2, &[17]);
    chunk(&mut out, 7, &c.src.port().to_be_bytes());
    chunk(&mut out, 8, &c.dst.port().to_be_bytes());
    let secs = u32::try_from(c.time.as_secs()).unwrap_or(u32::MAX);
    chunk(&mut out, 9, &secs.to_be_bytes());
    chunk(&mut out, 10, &c.time.subsec_micros().to_be_bytes());
    chunk(&mut out, 11, &[PROTO_RTCP_JSON]);
    chunk(&mut out, 12, &c.capture_id.to_be_bytes());
    match (c.src.ip(), c.dst.ip()) {
        (IpAddr::V4(s), d) => {
            let d = match d {
                IpAddr::V4(d) => d,
                IpAddr::V6(d) => d
                    .to_ipv4_mapped()
                    .unwrap_or(std::net::Ipv4Addr::UNSPECIFIED),
            };
            chunk(&mut out, 3, &s.octets());
            chunk(&mut out, 4, &d.octets());
        }
        (IpAddr::V6(s), d) => {
            let d = match d {
                IpAddr::V6(d) => d,
                IpAddr::V4(d) => d.to_ipv6_mapped(),
            };
            chunk(&mut out, 5, &s.octets());
            chunk(&mut out, 6, &d.octets());
        }
    }
    chunk(&mut out, 0x11, c.correlation);
    chunk(&mut out, 0x0f, c.payload);
    let total = u16::try_from(out.len()).unwrap_or(u16::MAX);
    out[4..6].copy_from_slice(&total.to_be_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sr_with_block() -> Vec<u8> {
        let mut p = vec![0x81, 200, 0, 12];
        p.extend_from_slice(&0x11223344u32.to_be_bytes()); // SSRC
        p.extend_from_slice(&3_900_000_000u32.to_be_bytes()); // NTP MSW
        p.extend_from_slice(&123_456u32.to_be_bytes()); // NTP LSW
        p.extend_from_slice(&8000u32.to_be_bytes()); // RTP ts
        p.extend_from_slice(&50u32.to_be_bytes()); // packets
        p.extend_from_slice(&8600u32.to_be_bytes()); // octets
        p.extend_from_slice(&0xaabbccddu32.to_be_bytes()); // source
        p.extend_from_slice(&[25, 0, 0, 3]); // fraction, lost
        p.extend_from_slice(&1050u32.to_be_bytes());
        p.extend_from_slice(&7u32.to_be_bytes()); // jitter
        p.extend_from_slice(&0x12345678u32.to_be_bytes());
        p.extend_from_slice(&65536u32.to_be_bytes());
        p
    }

    fn sdes_cname(text: &[u8]) -> Vec<u8> {
        let mut body = 0x11223344u32.to_be_bytes().to_vec();
        body.push(1);
        body.push(text.len() as u8);
        body.extend_from_slice(text);
        body.push(0);
        while !body.len().is_multiple_of(4) {
            body.push(0);
        }
        let mut p = vec![0x81, 202];
        p.extend_from_slice(&((body.len() / 4) as u16).to_be_bytes());
        p.extend_from_slice(&body);
        p
    }

    #[test]
    fn sender_report_with_a_block_and_sdes_as_10_5_writes_it() {
        let mut p = sr_with_block();
        p.extend(sdes_cname(b"al\"ice\x01"));
        assert_eq!(
            rtcp_json(&p).unwrap(),
            "{ \"sender_information\":{\"ntp_timestamp_sec\":3900000000,\
             \"ntp_timestamp_usec\":123456,\"octets\":8600,\"rtp_timestamp\":8000, \"packets\":50},\
             \"ssrc\":287454020,\"type\":200,\"report_count\":1,\"report_blocks\":[\
             {\"source_ssrc\":2864434397,\"highest_seq_no\":1050,\"fraction_lost\":25,\
             \"ia_jitter\":7,\"packets_lost\":3,\"lsr\":305419896,\"dlsr\":65536}],\
             \"sdes_report_count\":1,\"sdes_information\": [ \
             {\"sdes_chunk_ssrc\":287454020,\"type\":1,\"text\":\"al\\\"ice_\"}] }"
        );
    }

    #[test]
    fn empty_lists_and_nothing_to_report() {
        // An RR without blocks.
        let rr = [0x80, 201, 0, 1, 0, 0, 0, 9];
        assert_eq!(
            rtcp_json(&rr).unwrap(),
            "{ \"ssrc\":9,\"type\":201,\"report_count\":0,\"report_blocks\":[] }"
        );
        // BYE alone, a wrong version, a truncated packet: nothing.
        assert_eq!(rtcp_json(&[0x81, 203, 0, 1, 0, 0, 0, 9]), None);
        assert_eq!(rtcp_json(&[0x40, 201, 0, 1, 0, 0, 0, 9]), None);
        assert_eq!(rtcp_json(&[0x80, 201, 0, 5, 0, 0, 0, 9]), None);
        // What came before a malformed packet is reported.
        let mut p = rr.to_vec();
        p.extend_from_slice(&[0x40, 201, 0, 1, 0, 0, 0, 9]);
        assert!(rtcp_json(&p).unwrap().contains("\"ssrc\":9"));
    }

    #[test]
    fn hep3_chunks_in_10_5_order() {
        let c = Capture {
            src: "192.0.2.1:5001".parse().unwrap(),
            dst: "192.0.2.9:30001".parse().unwrap(),
            time: Duration::new(1_700_000_000, 123_456_000),
            capture_id: 2001,
            correlation: b"call-1",
            payload: b"{ }",
        };
        let p = hep3(&c);
        assert_eq!(&p[..4], b"HEP3");
        assert_eq!(usize::from(u16::from_be_bytes([p[4], p[5]])), p.len());
        let mut chunks = Vec::new();
        let mut rest = &p[6..];
        while !rest.is_empty() {
            let vendor = u16::from_be_bytes([rest[0], rest[1]]);
            let kind = u16::from_be_bytes([rest[2], rest[3]]);
            let len = usize::from(u16::from_be_bytes([rest[4], rest[5]]));
            assert_eq!(vendor, 0);
            chunks.push((kind, rest[6..len].to_vec()));
            rest = &rest[len..];
        }
        let want: Vec<(u16, Vec<u8>)> = vec![
            (1, vec![2]),
            (2, vec![17]),
            (7, 5001u16.to_be_bytes().to_vec()),
            (8, 30001u16.to_be_bytes().to_vec()),
            (9, 1_700_000_000u32.to_be_bytes().to_vec()),
            (10, 123_456u32.to_be_bytes().to_vec()),
            (11, vec![5]),
            (12, 2001u32.to_be_bytes().to_vec()),
            (3, vec![192, 0, 2, 1]),
            (4, vec![192, 0, 2, 9]),
            (0x11, b"call-1".to_vec()),
            (0x0f, b"{ }".to_vec()),
        ];
        assert_eq!(chunks, want);
        // IPv6: chunks 5 and 6 of 16 bytes.
        let c6 = Capture {
            src: "[2001:db8::1]:5001".parse().unwrap(),
            dst: "[2001:db8::9]:30001".parse().unwrap(),
            ..c
        };
        let p6 = hep3(&c6);
        assert_eq!(p6[6 + 6], 10, "AF_INET6");
        assert_eq!(p6.len(), p.len() + 2 * 12);
    }
}
