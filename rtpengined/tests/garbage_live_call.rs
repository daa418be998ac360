//! Issue 9, daemon side: malformed ng datagrams sent while a call is live never take the
//! daemon down or disturb the call — its media keeps flowing, its state stays queryable,
//! and new calls can still be set up.

mod common;
use common::*;
use std::net::UdpSocket;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Deterministic junk: raw bytes, truncated and nested bencode, valid bencode that is a
/// bad command (unknown command, missing keys, broken SDP, wrong types).
fn junk(i: u64, x: &mut u64) -> Vec<u8> {
    let mut next = || {
        *x ^= *x << 13;
        *x ^= *x >> 7;
        *x ^= *x << 17;
        *x
    };
    let cookie = format!("junk{i} ");
    let body: Vec<u8> = match next() % 8 {
        0 => (0..(next() % 200)).map(|_| next() as u8).collect(),
        1 => b"d7:command5:offer7:call-id".to_vec(),
        2 => "l".repeat((next() % 5000) as usize).into_bytes(),
        3 => b"d7:command7:explode7:call-id1:xe".to_vec(),
        4 => b"d7:command5:offer7:call-id4:live8:from-tag5:alice3:sdp12:v=0\r\nm=audioe".to_vec(),
        5 => b"d7:command6:answer7:call-id4:live8:from-tag5:alice6:to-tagi5e3:sdpi0ee".to_vec(),
        6 => b"d7:command6:delete7:call-idl4:liveee".to_vec(),
        _ => b"d7:commandd3:foo3:baree".to_vec(),
    };
    let mut dg = cookie.into_bytes();
    dg.extend_from_slice(&body);
    dg
}

#[test]
fn garbage_does_not_disturb_a_live_call() {
    let d = Daemon::start(36100, 36199, &[]);
    let alice = phone("127.0.0.1");
    let bob = phone("127.0.0.1");
    let o = d.ok(&offer(
        "live",
        "alice",
        &sdp("127.0.0.1", alice.local_addr().unwrap().port()),
    ));
    let a = d.ok(&answer(
        "live",
        "alice",
        "bob",
        &sdp("127.0.0.1", bob.local_addr().unwrap().port()),
    ));
    let (a_to, b_to) = (media_target(&a), media_target(&o));

    // A second sender floods the ng port with junk for the whole media exchange.
    let ng = d.ng;
    // It floods until told to stop; media starts once it is under way, so the
    // two overlap however the threads are scheduled.
    let stop = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(AtomicU64::new(0));
    let flood = {
        let (stop, sent) = (stop.clone(), sent.clone());
        std::thread::spawn(move || {
            let s = UdpSocket::bind("127.0.0.1:0").unwrap();
            let mut x = 0x2545_f491_4f6c_dd1d_u64;
            let mut i = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let _ = s.send_to(&junk(i, &mut x), ng);
                i += 1;
                sent.store(i, Ordering::Relaxed);
                if i.is_multiple_of(200) {
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
        })
    };
    let start = std::time::Instant::now();
    while sent.load(Ordering::Relaxed) < 1000 {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the flood did not start"
        );
        std::thread::sleep(Duration::from_millis(1));
    }

    let mut relayed = 0;
    for seq in 0..200u16 {
        let p = rtp(seq, seq as u8);
        alice.send_to(&p, a_to).unwrap();
        if matches!(recv(&bob), Some((got, _)) if got == p) {
            relayed += 1;
        }
        let p = rtp(seq, 0x80 | seq as u8);
        bob.send_to(&p, b_to).unwrap();
        if matches!(recv(&alice), Some((got, _)) if got == p) {
            relayed += 1;
        }
    }
    // The call is still managed while junk keeps arriving, and new calls work.
    let q = d.ok(&query("live"));
    let second = d.ok(&offer("second", "carol", &sdp("127.0.0.1", 5555)));
    stop.store(true, Ordering::Relaxed);
    flood.join().unwrap();

    assert_eq!(relayed, 400, "every RTP packet relayed during the flood");
    let totals = q.get("totals").unwrap().get("RTP").unwrap();
    assert_eq!(
        int(totals.get("packets")),
        400,
        "query counts the call's packets"
    );
    assert!(
        second.get("sdp").is_some(),
        "a new call can be set up during the flood"
    );
    assert_eq!(
        text(
            d.request(&rtpengined::ng::bencode::Owned::dict().with("command", "ping"))
                .get("result")
        ),
        "pong"
    );
    d.ok(&delete("live", "alice"));
    d.ok(&delete("second", "carol"));
}
