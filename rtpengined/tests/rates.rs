//! Per-second rates: the daemon samples its relayed packets and bytes about
//! once a second, as 10.5 does, and `statistics` shows the last sample.

mod common;

use std::time::{Duration, Instant};

use common::*;
use rtpengined::ng::bencode::Owned;

fn current(d: &Daemon) -> Owned {
    let r = d.ok(&Owned::dict().with("command", "statistics"));
    r.get("statistics")
        .and_then(|s| s.get("currentstatistics"))
        .expect("currentstatistics")
        .clone()
}

/// Polls `statistics` until `key` satisfies `ok` (the sample falls on the
/// daemon's timer), at most 10 s; returns that reply's current figures.
fn until(d: &Daemon, key: &str, ok: impl Fn(i64) -> bool) -> Owned {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let c = current(d);
        if ok(int(c.get(key))) {
            return c;
        }
        assert!(Instant::now() < deadline, "{key} stays at {c:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn relayed_media_shows_in_the_rates_then_they_fall_to_zero() {
    let d = Daemon::start(45850, 45899, &[]);
    let alice = phone("127.0.0.1");
    let bob = phone("127.0.0.1");
    d.ok(&offer(
        "rates",
        "alice",
        &sdp("127.0.0.1", alice.local_addr().unwrap().port()),
    ));
    let a = d.ok(&answer(
        "rates",
        "alice",
        "bob",
        &sdp("127.0.0.1", bob.local_addr().unwrap().port()),
    ));
    let to = media_target(&a);
    for seq in 0..100 {
        alice.send_to(&rtp(seq, 1), to).unwrap();
    }
    let mut got = 0;
    while got < 100 && recv(&bob).is_some() {
        got += 1;
    }
    assert!(got > 0, "media relayed");
    // One sample covers the burst: its packets within about a second.
    let c = until(&d, "packetrate_user", |v| v > 0);
    let rate = int(c.get("packetrate_user"));
    assert!(rate <= 100 * 1000 / 900, "{rate}");
    // 172 bytes a packet (each rate rounds down on its own).
    let bytes = int(c.get("byterate_user"));
    assert!((rate * 172..(rate + 1) * 172).contains(&bytes), "{bytes}");
    assert_eq!(int(c.get("packetrate")), rate);
    assert_eq!(int(c.get("packetrate_kernel")), 0, "no kernel here");
    // With no more traffic, the next sample is zero.
    until(&d, "packetrate", |v| v == 0);
}
