//! `--recording-method=pcap`: a recorded call leaves a capture of every
//! packet it relayed and a metadata file, laid out as rtpengine 10.5 does.

mod common;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::*;
use rtpengined::ng::bencode::Owned;

fn spool(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("rtpengined-rec-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn files(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|r| r.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default()
}

/// The one finished metadata file, once the writer has moved it.
fn finished_metadata(dir: &Path) -> (PathBuf, String) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if let [one] = &files(&dir.join("metadata"))[..] {
            return (one.clone(), std::fs::read_to_string(one).unwrap());
        }
        assert!(Instant::now() < deadline, "no metadata file in {dir:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// (source, destination, UDP payload) of each packet of a raw-IP capture.
fn packets(pcap: &[u8]) -> Vec<(std::net::SocketAddrV4, std::net::SocketAddrV4, Vec<u8>)> {
    assert_eq!(pcap[..4], 0xa1b2c3d4u32.to_le_bytes(), "pcap magic");
    assert_eq!(pcap[20..24], 101u32.to_le_bytes(), "LINKTYPE_RAW");
    let mut out = Vec::new();
    let mut at = 24;
    while at < pcap.len() {
        let u32_at = |i: usize| u32::from_le_bytes(pcap[i..i + 4].try_into().unwrap());
        let caplen = u32_at(at + 8) as usize;
        assert_eq!(caplen, u32_at(at + 12) as usize);
        let p = &pcap[at + 16..at + 16 + caplen];
        assert_eq!(p[0], 0x45);
        assert_eq!(p[9], 17);
        assert_eq!(u16::from_be_bytes([p[2], p[3]]) as usize, caplen);
        let ip = |i: usize| std::net::Ipv4Addr::new(p[i], p[i + 1], p[i + 2], p[i + 3]);
        let port = |i: usize| u16::from_be_bytes([p[i], p[i + 1]]);
        let src = std::net::SocketAddrV4::new(ip(12), port(20));
        let dst = std::net::SocketAddrV4::new(ip(16), port(22));
        assert_eq!(port(24) as usize, caplen - 20);
        out.push((src, dst, p[28..].to_vec()));
        at += 16 + caplen;
    }
    out
}

fn v4(a: std::net::SocketAddr) -> std::net::SocketAddrV4 {
    match a {
        std::net::SocketAddr::V4(a) => a,
        other => panic!("{other}"),
    }
}

#[test]
fn a_recorded_call_leaves_its_packets_and_metadata() {
    let dir = spool("call");
    let dir_arg = format!("--recording-dir={}", dir.display());
    let d = Daemon::start(45600, 45649, &["--recording-method=pcap", &dir_arg]);
    for sub in ["metadata", "pcaps", "tmp"] {
        assert!(dir.join(sub).is_dir(), "{sub} made at start");
    }
    let alice = phone("127.0.0.1");
    let bob = phone("127.0.0.1");
    let (a, b) = (
        alice.local_addr().unwrap().port(),
        bob.local_addr().unwrap().port(),
    );
    let o = d.ok(&offer("rec 1/x", "from-a", &sdp("127.0.0.1", a))
        .with("label", "caller")
        .with("metadata", "k:v|a:b"));
    let to_alice_side = media_target(&o);
    let r = d.ok(&answer("rec 1/x", "from-a", "to-b", &sdp("127.0.0.1", b)));
    let to_bob_side = media_target(&r);
    assert_eq!(r.get("recordings"), None, "not recorded yet");
    d.ok(&Owned::dict()
        .with("command", "start recording")
        .with("call-id", "rec 1/x"));
    // What each side sends arrives at the other, and is recorded.
    let mut sent = Vec::new();
    for seq in 0..4u16 {
        let p = rtp(seq, 0x11);
        alice.send_to(&p, to_bob_side).unwrap();
        let (got, _) = recv(&bob).expect("relayed to bob");
        assert_eq!(got, p);
        sent.push((alice.local_addr().unwrap(), to_bob_side, p));
        let p = rtp(100 + seq, 0x22);
        bob.send_to(&p, to_alice_side).unwrap();
        let (got, _) = recv(&alice).expect("relayed to alice");
        assert_eq!(got, p);
        sent.push((bob.local_addr().unwrap(), to_alice_side, p));
    }
    // A re-answer of a recorded call names the capture and adds its SDP.
    let r2 = d.ok(&answer("rec 1/x", "from-a", "to-b", &sdp("127.0.0.1", b)));
    let pcap_path = text(r2.get("recordings").and_then(|l| match l {
        Owned::List(items) => items.first(),
        _ => None,
    }));
    d.ok(&delete("rec 1/x", "from-a"));

    let (meta_path, meta) = finished_metadata(&dir);
    let name = meta_path
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let prefix = name
        .strip_prefix("rtpengine-meta-")
        .and_then(|n| n.strip_suffix(".txt"))
        .unwrap_or_else(|| panic!("{name}"));
    let (escaped, random) = prefix.rsplit_once('-').unwrap();
    assert_eq!(escaped, "rec%201%2Fx");
    assert!(random.len() == 16 && random.bytes().all(|b| b.is_ascii_hexdigit()));
    let want_pcap = dir.join("pcaps").join(format!("{prefix}.pcap"));
    assert_eq!(pcap_path, want_pcap.to_string_lossy());
    assert!(files(&dir.join("tmp")).is_empty(), "moved out of tmp");

    assert!(meta.starts_with(&format!("{pcap_path}\n\n")), "{meta}");
    assert!(
        meta.contains("\nSDP mode: answer\nSDP before RTP packet: 9\n\nv=0\r\n"),
        "the re-answer's SDP follows eight packets: {meta}"
    );
    assert!(meta.contains("\nTimestamp started ms: "), "{meta}");
    assert!(
        meta.contains("\nTimestamp terminated ms(first monologue): "),
        "{meta}"
    );
    assert!(meta.contains("\n\ncall start time: 20"), "{meta}");
    assert!(meta.contains("\ncall end time: 20"), "{meta}");
    assert!(meta.ends_with("\n\n\nk:v|a:b\n"), "metadata last: {meta}");

    let pcap = std::fs::read(&want_pcap).unwrap();
    let got = packets(&pcap);
    let want: Vec<_> = sent
        .into_iter()
        .map(|(s, d, p)| (v4(s), v4(d), p))
        .collect();
    assert_eq!(got, want);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn record_call_flag_records_from_the_offer_and_stop_recording_finishes() {
    let dir = spool("flag");
    let dir_arg = format!("--recording-dir={}", dir.display());
    let d = Daemon::start(45650, 45699, &[&dir_arg]);
    let o = d
        .ok(&offer("rec-flag", "from-a", &sdp("127.0.0.1", 7000))
            .with("flags", list(&["record-call"])));
    let recordings = o
        .get("recordings")
        .expect("recordings in the offer's reply");
    let pcap = match recordings {
        Owned::List(items) => text(items.first()),
        other => panic!("{other}"),
    };
    d.ok(&Owned::dict()
        .with("command", "stop recording")
        .with("call-id", "rec-flag"));
    let (_, meta) = finished_metadata(&dir);
    assert!(meta.starts_with(&format!("{pcap}\n\n")), "{meta}");
    assert!(
        meta.contains("\nSDP mode: offer\nSDP before RTP packet: 1\n\n"),
        "{meta}"
    );
    assert!(
        meta.contains("\nTimestamp terminated ms(first monologue): 0.000\n"),
        "still going: {meta}"
    );
    // Only the file header: nothing was sent.
    assert_eq!(std::fs::read(&pcap).unwrap().len(), 24);
    d.ok(&delete("rec-flag", "from-a"));
    let _ = std::fs::remove_dir_all(&dir);
}
