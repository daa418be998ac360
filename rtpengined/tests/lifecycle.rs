//! Timeouts, delete-delay, branch deletes, and 1,000 concurrent calls with every
//! port freed afterwards.

mod common;
use common::*;
use rtpengined::ng::bencode::Owned;
use std::time::{Duration, Instant};

fn calls(d: &Daemon) -> Owned {
    d.ok(&Owned::dict().with("command", "list").with("limit", 5000i64))
        .get("calls")
        .cloned()
        .unwrap()
}

fn wait_until(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + limit;
    while Instant::now() < end {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

#[test]
fn silent_call_times_out_but_active_one_stays() {
    let d = Daemon::start(34000, 34099, &["--timeout=1"]);
    let alice = phone("127.0.0.1");
    let bob = phone("127.0.0.1");
    d.ok(&offer("idle", "a", &sdp("127.0.0.1", 6000)));
    d.ok(&answer("idle", "a", "b", &sdp("127.0.0.1", 6002)));
    d.ok(&offer(
        "busy",
        "a",
        &sdp("127.0.0.1", alice.local_addr().unwrap().port()),
    ));
    let ans = d.ok(&answer(
        "busy",
        "a",
        "b",
        &sdp("127.0.0.1", bob.local_addr().unwrap().port()),
    ));
    let to = media_target(&ans);
    let start = Instant::now();
    // Keep "busy" alive with media every 100 ms for 2.5 s.
    while start.elapsed() < Duration::from_millis(2500) {
        alice.send_to(&rtp(1, 1), to).unwrap();
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(calls(&d), list(&["busy"]), "idle call must have timed out");
    assert!(
        wait_until(Duration::from_secs(3), || calls(&d) == list(&[])),
        "busy call times out once media stops"
    );
}

#[test]
fn final_timeout_and_offer_timeout() {
    let d = Daemon::start(
        34100,
        34199,
        &["--final-timeout=1", "--offer-timeout=1", "--timeout=60"],
    );
    d.ok(&offer("f", "a", &sdp("127.0.0.1", 6000)));
    d.ok(&answer("f", "a", "b", &sdp("127.0.0.1", 6002)));
    d.ok(&offer("unanswered", "a", &sdp("127.0.0.1", 6000)));
    assert!(wait_until(Duration::from_secs(4), || calls(&d) == list(&[])));
}

#[test]
fn delete_delay_keeps_call_for_a_while() {
    let d = Daemon::start(34200, 34299, &["--delete-delay=1"]);
    d.ok(&offer("dd", "a", &sdp("127.0.0.1", 6000)));
    d.ok(&answer("dd", "a", "b", &sdp("127.0.0.1", 6002)));
    let t = Instant::now();
    d.ok(&delete("dd", "a"));
    assert_eq!(calls(&d), list(&["dd"]), "still there during the delay");
    // A duplicate delete is fine.
    d.ok(&delete("dd", "a"));
    assert!(wait_until(Duration::from_secs(3), || calls(&d) == list(&[])));
    assert!(t.elapsed() >= Duration::from_millis(900));
    // The per-message key overrides the default.
    d.ok(&offer("dd0", "a", &sdp("127.0.0.1", 6000)));
    d.ok(&delete("dd0", "a").with("delete-delay", 0i64));
    assert_eq!(calls(&d), list(&[]));
}

#[test]
fn branch_delete_keeps_other_dialogue() {
    let d = Daemon::start(34300, 34399, &[]);
    d.ok(&offer("br", "a", &sdp("127.0.0.1", 6000)));
    d.ok(&answer("br", "a", "b", &sdp("127.0.0.1", 6002)));
    // A second, independent dialogue in the same call (c <-> e).
    d.ok(&offer("br", "c", &sdp("127.0.0.1", 6004)));
    d.ok(&answer("br", "c", "e", &sdp("127.0.0.1", 6006)));
    d.ok(&delete("br", "a").with("to-tag", "b"));
    let q = d.ok(&query("br"));
    let tags = q.get("tags").unwrap();
    assert!(tags.get("a").is_none() && tags.get("b").is_none(), "{q}");
    assert!(tags.get("c").is_some() && tags.get("e").is_some(), "{q}");
    // Deleting the last dialogue removes the call.
    d.ok(&delete("br", "c").with("to-tag", "e"));
    assert_eq!(calls(&d), list(&[]));
    // Unknown tags delete nothing: a warning, or an error with the fatal flag.
    d.ok(&offer("br2", "a", &sdp("127.0.0.1", 6000)));
    let r = d.ok(&delete("br2", "zzz"));
    assert!(r.get("warning").is_some(), "{r}");
    let r = d.request(&delete("br2", "zzz").with("flags", list(&["fatal"])));
    assert_eq!(text(r.get("result")), "error");
    assert_eq!(calls(&d), list(&["br2"]));
}

#[test]
fn thousand_concurrent_calls_free_all_ports() {
    let (min, max) = (35000u16, 39999u16);
    let d = Daemon::start(min, max, &[]);
    let mut used = Vec::new();
    let t = Instant::now();
    for i in 0..1000 {
        let id = format!("load-{i}");
        let o = d.ok(&offer(&id, "a", &sdp("127.0.0.1", 6000)));
        let a = d.ok(&answer(&id, "a", "b", &sdp("127.0.0.1", 6002)));
        used.push(media_target(&o).port());
        used.push(media_target(&a).port());
    }
    let setup = t.elapsed();
    let mut distinct = used.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 2000, "every stream pair has its own ports");
    assert!(used.iter().all(|p| p % 2 == 0 && (min..=max).contains(p)));
    let Owned::List(l) = calls(&d) else { panic!() };
    assert_eq!(l.len(), 1000);
    for i in 0..1000 {
        d.ok(&delete(&format!("load-{i}"), "a"));
    }
    assert_eq!(calls(&d), list(&[]));
    // Every port we were given can be bound again: the daemon closed them all.
    // The calls' tasks close their sockets just after the replies: wait for it.
    let mut busy: Vec<u16> = used.iter().flat_map(|&p| [p, p + 1]).collect();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !busy.is_empty() && Instant::now() < deadline {
        busy.retain(|&p| std::net::UdpSocket::bind(("127.0.0.1", p)).is_err());
        if !busy.is_empty() {
            std::thread::sleep(Duration::from_millis(10));
        }
    }
    assert!(busy.is_empty(), "ports still bound after delete: {busy:?}");
    eprintln!("1000 calls set up in {setup:?}");
}
