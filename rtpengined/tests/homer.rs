//! `--homer`: RTCP that a call relays is reported to a HEP capture server
//! (here a strict HEPv3 decoder of the test) as 10.5 reports it: the
//! reports in JSON, the call-id as correlation id, the capture id of
//! `--homer-id`, over UDP or TCP.

mod common;

use std::io::Read;
use std::net::{IpAddr, SocketAddr, TcpListener, UdpSocket};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::*;

/// A HEPv3 packet read strictly: `HEP3`, its total length, then chunks
/// of vendor 0 that fill it exactly; each known chunk of its size; the
/// mandatory chunks there once.
#[derive(Debug)]
struct Hep {
    family: u8,
    proto: u8,
    src: SocketAddr,
    dst: SocketAddr,
    secs: u32,
    usecs: u32,
    proto_type: u8,
    capture_id: u32,
    correlation: String,
    payload: String,
    /// Chunk types in order.
    order: Vec<u16>,
}

fn decode_hep(p: &[u8]) -> Hep {
    assert_eq!(&p[..4], b"HEP3", "magic");
    let total = usize::from(u16::from_be_bytes([p[4], p[5]]));
    assert_eq!(total, p.len(), "HEP length is the packet's");
    let mut rest = &p[6..];
    let mut chunks: Vec<(u16, Vec<u8>)> = Vec::new();
    while !rest.is_empty() {
        assert!(rest.len() >= 6, "chunk header cut");
        let vendor = u16::from_be_bytes([rest[0], rest[1]]);
        let kind = u16::from_be_bytes([rest[2], rest[3]]);
        let len = usize::from(u16::from_be_bytes([rest[4], rest[5]]));
        assert_eq!(vendor, 0, "generic chunks only");
        assert!(len >= 6 && len <= rest.len(), "chunk {kind} length {len}");
        assert!(chunks.iter().all(|(k, _)| *k != kind), "chunk {kind} twice");
        chunks.push((kind, rest[6..len].to_vec()));
        rest = &rest[len..];
    }
    let get = |k: u16, size: Option<usize>| -> Vec<u8> {
        let v = chunks
            .iter()
            .find(|(kind, _)| *kind == k)
            .unwrap_or_else(|| panic!("chunk {k} missing"))
            .1
            .clone();
        if let Some(n) = size {
            assert_eq!(v.len(), n, "chunk {k} size");
        }
        v
    };
    let family = get(1, Some(1))[0];
    let ip = |v4: u16, v6: u16| -> IpAddr {
        if family == 2 {
            let b: [u8; 4] = get(v4, Some(4)).try_into().unwrap();
            IpAddr::from(b)
        } else {
            assert_eq!(family, 10, "AF_INET or AF_INET6");
            let b: [u8; 16] = get(v6, Some(16)).try_into().unwrap();
            IpAddr::from(b)
        }
    };
    let port = |k: u16| u16::from_be_bytes(get(k, Some(2)).try_into().unwrap());
    let u32_of = |k: u16| u32::from_be_bytes(get(k, Some(4)).try_into().unwrap());
    Hep {
        family,
        proto: get(2, Some(1))[0],
        src: SocketAddr::new(ip(3, 5), port(7)),
        dst: SocketAddr::new(ip(4, 6), port(8)),
        secs: u32_of(9),
        usecs: u32_of(10),
        proto_type: get(11, Some(1))[0],
        capture_id: u32_of(12),
        correlation: String::from_utf8(get(0x11, None)).unwrap(),
        payload: String::from_utf8(get(0x0f, None)).unwrap(),
        order: chunks.iter().map(|(k, _)| *k).collect(),
    }
}

/// A sender report of SSRC 0x01020304 with one report block, then SDES
/// with the CNAME `bob`.
fn sr_sdes() -> Vec<u8> {
    let mut p = vec![0x81, 200, 0, 12, 1, 2, 3, 4];
    for v in [3_900_000_000u32, 500, 8000, 50, 8600] {
        p.extend_from_slice(&v.to_be_bytes());
    }
    p.extend_from_slice(&[0, 0, 0, 9, 12, 0, 0, 2]);
    for v in [1000u32, 30, 77, 88] {
        p.extend_from_slice(&v.to_be_bytes());
    }
    p.extend_from_slice(&[0x81, 202, 0, 3, 1, 2, 3, 4, 1, 3, b'b', b'o', b'b', 0, 0, 0]);
    p
}

const JSON: &str = "{ \"sender_information\":{\"ntp_timestamp_sec\":3900000000,\
    \"ntp_timestamp_usec\":500,\"octets\":8600,\"rtp_timestamp\":8000, \"packets\":50},\
    \"ssrc\":16909060,\"type\":200,\"report_count\":1,\"report_blocks\":[\
    {\"source_ssrc\":9,\"highest_seq_no\":1000,\"fraction_lost\":12,\"ia_jitter\":30,\
    \"packets_lost\":2,\"lsr\":77,\"dlsr\":88}],\
    \"sdes_report_count\":1,\"sdes_information\": [ \
    {\"sdes_chunk_ssrc\":16909060,\"type\":1,\"text\":\"bob\"}] }";

/// A call between alice and bob; bob sends `packet` to his RTCP port on
/// the daemon. Returns the daemon's RTCP port bob sent to and bob's address.
fn bob_sends_rtcp(d: &Daemon, call: &str, packet: &[u8]) -> (SocketAddr, SocketAddr) {
    let alice = phone("127.0.0.1");
    let bob = phone("127.0.0.1");
    let o = d.ok(&offer(
        call,
        "alice",
        &sdp("127.0.0.1", alice.local_addr().unwrap().port()),
    ));
    d.ok(&answer(
        call,
        "alice",
        "bob",
        &sdp("127.0.0.1", bob.local_addr().unwrap().port()),
    ));
    let to = SocketAddr::new(media_target(&o).ip(), media_target(&o).port() + 1);
    bob.send_to(packet, to).unwrap();
    (to, bob.local_addr().unwrap())
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[test]
fn rtcp_reports_reach_homer_over_udp_as_10_5_sends_them() {
    let capture = UdpSocket::bind("127.0.0.1:0").unwrap();
    capture
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let at = capture.local_addr().unwrap();
    let d = Daemon::start(45700, 45749, &[&format!("--homer={at}"), "--homer-id=77"]);
    let (daemon_port, bob) = bob_sends_rtcp(&d, "homer-udp", &sr_sdes());
    let mut buf = [0u8; 4096];
    let n = capture.recv(&mut buf).expect("a HEP packet");
    let hep = decode_hep(&buf[..n]);
    assert_eq!(
        hep.order,
        [1, 2, 7, 8, 9, 10, 11, 12, 3, 4, 0x11, 0x0f],
        "10.5's chunk order"
    );
    assert_eq!((hep.family, hep.proto, hep.proto_type), (2, 17, 5));
    assert_eq!(hep.capture_id, 77);
    assert_eq!(hep.src, bob);
    assert_eq!(hep.dst, daemon_port);
    assert!(u64::from(hep.secs).abs_diff(now_secs()) < 30);
    assert!(hep.usecs < 1_000_000);
    assert_eq!(hep.correlation, "homer-udp");
    assert_eq!(hep.payload, JSON);
    // RTP is not reported; an RTCP BYE alone reports nothing.
    let (_, _) = bob_sends_rtcp(&d, "homer-bye", &[0x81, 203, 0, 1, 1, 2, 3, 4]);
    let (_, _) = bob_sends_rtcp(&d, "homer-rr", &[0x80, 201, 0, 1, 0, 0, 0, 5]);
    let n = capture.recv(&mut buf).expect("the RR's HEP packet");
    let hep = decode_hep(&buf[..n]);
    assert_eq!(hep.correlation, "homer-rr", "nothing for the BYE");
    assert_eq!(
        hep.payload,
        "{ \"ssrc\":5,\"type\":201,\"report_count\":0,\"report_blocks\":[] }"
    );
}

#[test]
fn homer_over_tcp_is_a_stream_of_hep_packets() {
    let capture = TcpListener::bind("127.0.0.1:0").unwrap();
    let at = capture.local_addr().unwrap();
    let d = Daemon::start(
        45750,
        45799,
        &[&format!("--homer={at}"), "--homer-protocol=tcp"],
    );
    bob_sends_rtcp(&d, "homer-tcp", &sr_sdes());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(capture.accept().map(|(c, _)| c));
    });
    let mut conn = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("the daemon connects")
        .unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut head = [0u8; 6];
    conn.read_exact(&mut head).unwrap();
    let len = usize::from(u16::from_be_bytes([head[4], head[5]]));
    let mut p = head.to_vec();
    p.resize(len, 0);
    conn.read_exact(&mut p[6..]).unwrap();
    let hep = decode_hep(&p);
    assert_eq!(hep.capture_id, 2001, "10.5's default --homer-id");
    assert_eq!(hep.correlation, "homer-tcp");
    assert_eq!(hep.payload, JSON);
}

#[test]
fn an_unknown_homer_protocol_is_fatal() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_rtpengined"))
        .args([
            "--config-file=none",
            "--interface=127.0.0.1",
            "--listen-ng=127.0.0.1:0",
            "--homer=127.0.0.1:9060",
            "--homer-protocol=sctp",
            "--foreground",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(255));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("Invalid protocol 'sctp' (--homer-protocol)")
    );
}
