//! ICE=optional between two browsers puts the media into passthrough (as in
//! rtpengine 10.5): we run no ICE agent, no DTLS session and no SRTP, so the
//! parties' STUN checks, DTLS records and SRTP packets cross our ports
//! unchanged in both directions.

mod common;

use std::net::UdpSocket;

use common::*;

/// A browser's SDP for one audio stream at 127.0.0.1:`port` (ICE, DTLS, mux).
fn browser(port: u16, ufrag: &str, setup: &str) -> String {
    format!(
        "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n\
         m=audio {port} UDP/TLS/RTP/SAVPF 0\r\nc=IN IP4 127.0.0.1\r\n\
         a=candidate:1 1 udp 2122260223 127.0.0.1 {port} typ host\r\n\
         a=ice-ufrag:{ufrag}\r\na=ice-pwd:7ZwpNkjTPFuZpGl4Ub2pLmI3\r\n\
         a=fingerprint:sha-256 7B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:43:F0:A1:58:D0:A1:2C:19:08\r\n\
         a=setup:{setup}\r\na=mid:0\r\na=sendrecv\r\na=rtcp-mux\r\n"
    )
}

/// CRC-32 (IEEE), for the STUN FINGERPRINT attribute.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A binding request as a browser sends it to its peer: USERNAME, then
/// FINGERPRINT (the demultiplexer's STUN test needs it).
fn binding_request(username: &str, id: u8) -> Vec<u8> {
    let mut attrs = Vec::new();
    attrs.extend_from_slice(&0x0006u16.to_be_bytes());
    attrs.extend_from_slice(&(username.len() as u16).to_be_bytes());
    attrs.extend_from_slice(username.as_bytes());
    while attrs.len() % 4 != 0 {
        attrs.push(0);
    }
    let mut m = Vec::new();
    m.extend_from_slice(&0x0001u16.to_be_bytes());
    m.extend_from_slice(&((attrs.len() + 8) as u16).to_be_bytes());
    m.extend_from_slice(&0x2112_a442u32.to_be_bytes());
    m.extend_from_slice(&[id; 12]);
    m.extend_from_slice(&attrs);
    let fp = crc32(&m) ^ 0x5354_554e;
    m.extend_from_slice(&0x8028u16.to_be_bytes());
    m.extend_from_slice(&4u16.to_be_bytes());
    m.extend_from_slice(&fp.to_be_bytes());
    m
}

/// The start of a DTLS 1.2 ClientHello record.
fn dtls_record(id: u8) -> Vec<u8> {
    let mut r = vec![0x16, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, id, 0, 12];
    r.extend_from_slice(&[1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, id]);
    r
}

/// `packet` sent from `from` to `to` arrives at `at` byte for byte.
fn crosses(from: &UdpSocket, to: std::net::SocketAddr, at: &UdpSocket, packet: &[u8], what: &str) {
    from.send_to(packet, to).unwrap();
    let (got, _) = recv(at).unwrap_or_else(|| panic!("{what}: nothing arrived"));
    assert_eq!(got, packet, "{what}: changed on the way");
}

#[test]
fn stun_dtls_and_srtp_pass_through_unchanged_both_ways() {
    let d = Daemon::start(38800, 38839, &["--interface=127.0.0.1"]);
    let a = phone("127.0.0.1");
    let b = phone("127.0.0.1");
    let a_port = a.local_addr().unwrap().port();
    let b_port = b.local_addr().unwrap().port();

    let o = d.ok(&offer("pt", "a", &browser(a_port, "Oyef", "actpass")).with("ICE", "optional"));
    let to_b = text(o.get("sdp"));
    // The party's own credentials cross; we add no agent of ours.
    assert!(to_b.contains("a=ice-ufrag:Oyef\r\n"), "{to_b}");
    assert_eq!(to_b.matches("a=ice-ufrag:").count(), 1, "{to_b}");
    assert_eq!(to_b.matches("a=fingerprint:").count(), 1, "{to_b}");
    let b_target = media_target(&o);

    let r =
        d.ok(&answer("pt", "a", "b", &browser(b_port, "Kq9z", "active")).with("ICE", "optional"));
    let to_a = text(r.get("sdp"));
    assert!(to_a.contains("a=ice-ufrag:Kq9z\r\n"), "{to_a}");
    assert!(to_a.contains("a=setup:active\r\n"), "{to_a}");
    let a_target = media_target(&r);

    // a's check for b, b's answer to it, the handshake and media: all relayed.
    crosses(
        &a,
        a_target,
        &b,
        &binding_request("Kq9z:Oyef", 1),
        "STUN a->b",
    );
    crosses(
        &b,
        b_target,
        &a,
        &binding_request("Oyef:Kq9z", 2),
        "STUN b->a",
    );
    crosses(&a, a_target, &b, &dtls_record(1), "DTLS a->b");
    crosses(&b, b_target, &a, &dtls_record(2), "DTLS b->a");
    crosses(&a, a_target, &b, &rtp(1, 0xa1), "SRTP a->b");
    crosses(&b, b_target, &a, &rtp(1, 0xb2), "SRTP b->a");
}
