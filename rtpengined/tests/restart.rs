//! `--state-dir`: a daemon killed with SIGKILL and started again takes its calls
//! back: same ports, media relayed again, signalling (query, re-INVITE, delete)
//! answered as before the crash.

mod common;
use common::*;
use rtpengined::ng::bencode::Owned;
use rtpengined::relay::srtp::{protect, unprotect, SrtpDirection};
use rtpengined::sdp::crypto::CryptoAttribute;
use rtpengined::srtp::Suite;
use std::path::{Path, PathBuf};

fn state_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("rtpengined-state-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn saved_files(dir: &Path, suffix: &str) -> usize {
    std::fs::read_dir(dir)
        .map(|r| {
            r.flatten()
                .filter(|e| e.file_name().to_string_lossy().ends_with(suffix))
                .count()
        })
        .unwrap_or(0)
}

fn start(dir: &Path, ports: (u16, u16)) -> Daemon {
    Daemon::start(
        ports.0,
        ports.1,
        &[&format!("--state-dir={}", dir.display()), "--table=-1"],
    )
}

/// Sends `packet(seq)` from `from` to the daemon's `to` until `at` gets something;
/// returns what was sent and what arrived. A few tries: the first packet after a
/// restart may race the socket's start.
fn relay_with(
    from: &std::net::UdpSocket,
    to: std::net::SocketAddr,
    at: &std::net::UdpSocket,
    seq: u16,
    packet: impl Fn(u16) -> (Vec<u8>, Vec<u8>),
) -> Option<(Vec<u8>, Vec<u8>)> {
    for i in 0..10 {
        let (plain, wire) = packet(seq + i);
        from.send_to(&wire, to).unwrap();
        if let Some((got, _)) = recv(at) {
            return Some((plain, got));
        }
    }
    None
}

/// Plain RTP relayed from `from` to `at`: what arrived.
fn relayed(
    from: &std::net::UdpSocket,
    to: std::net::SocketAddr,
    at: &std::net::UdpSocket,
    seq: u16,
) -> Option<Vec<u8>> {
    let plain = |s: u16| (rtp(s, seq as u8), rtp(s, seq as u8));
    relay_with(from, to, at, seq, plain).map(|(_, got)| got)
}

/// Two phones on loopback and their ports.
fn phones() -> (std::net::UdpSocket, std::net::UdpSocket, u16, u16) {
    let (a, b) = (phone("127.0.0.1"), phone("127.0.0.1"));
    let (pa, pb) = (
        a.local_addr().unwrap().port(),
        b.local_addr().unwrap().port(),
    );
    (a, b, pa, pb)
}

/// The parts of a query reply that do not move with time or traffic.
fn shape(q: &Owned) -> String {
    let mut out = Vec::new();
    if let Some(Owned::Dict(tags)) = q.get("tags") {
        for (tag, mono) in tags {
            out.push(format!("tag {}", String::from_utf8_lossy(tag)));
            if let Some(Owned::List(medias)) = mono.get("medias") {
                for m in medias {
                    out.push(format!(
                        "  media {} {}",
                        text(m.get("type")),
                        text(m.get("protocol"))
                    ));
                    if let Some(Owned::List(streams)) = m.get("streams") {
                        for s in streams {
                            let local = s.get("local port").map(|a| format!("{a}"));
                            let ep = s.get("advertised endpoint").map(|a| format!("{a}"));
                            out.push(format!("    stream {local:?} {ep:?}"));
                        }
                    }
                }
            }
        }
    }
    out.join("\n")
}

#[test]
fn calls_survive_sigkill() {
    let dir = state_dir("kill");
    let ports = (34600, 34699);
    let (alice, bob, pa, pb) = phones();
    let mut d = start(&dir, ports);
    let off = d.ok(&offer("r1", "a", &sdp("127.0.0.1", pa)));
    let ans = d.ok(&answer("r1", "a", "b", &sdp("127.0.0.1", pb)));
    // The answer (to A) names where A sends; the offer (to B) where B sends.
    let to_bob = media_target(&ans);
    let to_alice = media_target(&off);
    assert!(
        relayed(&alice, to_bob, &bob, 1).is_some(),
        "A→B before the restart"
    );
    assert!(
        relayed(&bob, to_alice, &alice, 20).is_some(),
        "B→A before the restart"
    );
    let before = shape(&d.ok(&query("r1")));
    assert!(before.contains("stream"), "query shows streams: {before}");
    assert_eq!(saved_files(&dir, ".call"), 1, "one saved call");

    d.kill_hard();
    let d = start(&dir, ports);
    assert!(
        d.log_text().contains("restored"),
        "restore is logged: {}",
        d.log_text()
    );
    let after = d.ok(&query("r1"));
    assert_eq!(shape(&after), before, "the call comes back as it was");
    let p = relayed(&alice, to_bob, &bob, 40).expect("A→B after the restart");
    assert_eq!(p[12..], rtp(0, 40)[12..], "payload intact");
    assert!(
        relayed(&bob, to_alice, &alice, 60).is_some(),
        "B→A after the restart"
    );

    // Re-INVITE from A: same ports as before the crash.
    let re = d.ok(&offer("r1", "a", &sdp("127.0.0.1", pa)));
    assert_eq!(media_target(&re), to_alice, "re-offer keeps the port");
    let re_ans = d.ok(&answer("r1", "a", "b", &sdp("127.0.0.1", pb)));
    assert_eq!(media_target(&re_ans), to_bob);

    // A new call gets other ports than the restored one.
    let other = d.ok(&offer("r2", "x", &sdp("127.0.0.1", 6000)));
    let other_port = media_target(&other).port();
    assert!(other_port != to_bob.port() && other_port != to_alice.port());

    d.ok(&delete("r1", "a"));
    assert_eq!(saved_files(&dir, ".call"), 1, "only r2 is left");
    d.ok(&delete("r2", "x"));
    assert_eq!(saved_files(&dir, ".call"), 0, "deleted calls are forgotten");
    let r = d.request(&query("r1"));
    assert_eq!(r.get("result"), Some(&Owned::from("error")));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn sdes_keys_survive_a_restart() {
    const A_KEY: &str = "1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz";
    let dir = state_dir("sdes");
    let ports = (34700, 34799);
    let (alice, bob, pa, pb) = phones();
    let mut d = start(&dir, ports);
    let savp = format!(
        "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio {pa} RTP/SAVP 0\r\na=crypto:{A_KEY}\r\n"
    );
    let off = d.ok(&offer("s1", "a", &savp).with("transport-protocol", "RTP/AVP"));
    let ans = d.ok(&answer("s1", "a", "b", &sdp("127.0.0.1", pb)));
    let (to_bob, to_alice) = (media_target(&ans), media_target(&off));
    let ours = text(ans.get("sdp"))
        .lines()
        .find_map(|l| l.strip_prefix("a=crypto:").map(str::to_owned))
        .expect("A gets our key");
    let direction = |line: &str| {
        let c = CryptoAttribute::parse(line).unwrap();
        SrtpDirection::new(&Suite::by_name(&c.suite).unwrap().srtp_params(&c)).unwrap()
    };
    // RefCell: the checks below are closures and SRTP state changes per packet.
    let (a_send, a_recv) = (
        std::cell::RefCell::new(direction(A_KEY)),
        std::cell::RefCell::new(direction(&ours)),
    );
    // A→B: SRTP under A's key arrives at B as the plain packet; B→A: plain RTP
    // arrives at A as SRTP under the key rtpengined answered with.
    let check = |seq: u16, phase: &str| {
        let plain = rtp(seq, seq as u8);
        let srtp = |s: u16| {
            let p = rtp(s, seq as u8);
            let wire = protect(&mut a_send.borrow_mut(), &p).unwrap();
            (p, wire)
        };
        let (p, got) = relay_with(&alice, to_bob, &bob, seq, srtp)
            .unwrap_or_else(|| panic!("{phase}: nothing relayed A→B"));
        assert_eq!(got, p, "{phase}: B gets A's packet decrypted");
        bob.send_to(&plain, to_alice).unwrap();
        let (got, _) = recv(&alice).unwrap_or_else(|| panic!("{phase}: nothing relayed B→A"));
        assert_eq!(
            unprotect(&mut a_recv.borrow_mut(), &got).as_deref(),
            Some(&plain[..]),
            "{phase}: A decrypts B's packet"
        );
    };
    check(100, "before the restart");
    d.kill_hard();
    let d = start(&dir, ports);
    check(200, "after the restart");
    let q = d.ok(&query("s1"));
    assert!(
        format!("{q}").contains("AES_CM_128_HMAC_SHA1_80"),
        "query shows the suite: {q}"
    );
    d.ok(&delete("s1", "a"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn unreadable_state_is_set_aside() {
    let dir = state_dir("bad");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("6262.call"), b"d6:formati1e2:id2:bbe").unwrap();
    std::fs::write(dir.join("6363.call"), b"not bencode at all").unwrap();
    let d = start(&dir, (34800, 34899));
    assert_eq!(saved_files(&dir, ".bad"), 2, "both files set aside");
    assert_eq!(saved_files(&dir, ".call"), 0);
    assert!(
        d.log_text().contains("unreadable saved call"),
        "{}",
        d.log_text()
    );
    // The daemon works normally.
    d.ok(&offer("ok", "a", &sdp("127.0.0.1", 6000)));
    assert_eq!(saved_files(&dir, ".call"), 1);
    let _ = std::fs::remove_dir_all(&dir);
}
