//! Media relay on loopback: both directions, learning, strict source, handover,
//! asymmetric, RTCP, IPv6, counters in query.

mod common;
use common::*;
use rtpengined::ng::bencode::Owned;
use std::net::{SocketAddr, UdpSocket};

/// Set up a call between two phones; returns (alice, bob, where alice sends, where bob sends).
fn call(
    d: &Daemon,
    id: &str,
    ip: &str,
    offer_flags: &[&str],
    answer_flags: &[&str],
) -> (UdpSocket, UdpSocket, SocketAddr, SocketAddr) {
    let alice = phone(ip);
    let bob = phone(ip);
    let a_port = alice.local_addr().unwrap().port();
    let b_port = bob.local_addr().unwrap().port();
    let o = d.ok(&offer(id, "alice", &sdp(ip, a_port)).with("flags", list(offer_flags)));
    let a = d.ok(&answer(id, "alice", "bob", &sdp(ip, b_port)).with("flags", list(answer_flags)));
    // The offer goes to bob (bob sends there), the answer to alice.
    (alice, bob, media_target(&a), media_target(&o))
}

fn exchange(
    from: &UdpSocket,
    to_addr: SocketAddr,
    to: &UdpSocket,
    seq: u16,
) -> Option<(Vec<u8>, SocketAddr)> {
    let p = rtp(seq, seq as u8);
    from.send_to(&p, to_addr).unwrap();
    let got = recv(to)?;
    assert_eq!(got.0, p, "payload relayed unchanged");
    Some(got)
}

fn stream_stats(q: &Owned, tag: &str, idx: usize) -> (i64, Owned) {
    let tags = q.get("tags").unwrap();
    let Some(Owned::List(m)) = tags.get(tag).unwrap().get("medias") else {
        panic!()
    };
    let Some(Owned::List(st)) = m[0].get("streams") else {
        panic!()
    };
    (
        int(st[idx].get("stats").unwrap().get("packets")),
        st[idx].clone(),
    )
}

#[test]
fn rtp_flows_both_ways_from_the_right_ports() {
    let d = Daemon::start(33000, 33099, &[]);
    let (alice, bob, a_to, b_to) = call(&d, "r-1", "127.0.0.1", &[], &[]);
    for seq in 0..5 {
        let (_, src) = exchange(&alice, a_to, &bob, seq).expect("alice -> bob");
        // Symmetric RTP: bob sees the packet coming from the port bob sends to.
        assert_eq!(src, b_to);
        let (_, src) = exchange(&bob, b_to, &alice, seq).expect("bob -> alice");
        assert_eq!(src, a_to);
    }
    let q = d.ok(&query("r-1"));
    assert_eq!(stream_stats(&q, "alice", 0).0, 5);
    assert_eq!(stream_stats(&q, "bob", 0).0, 5);
    let totals = q.get("totals").unwrap().get("RTP").unwrap();
    assert_eq!(int(totals.get("packets")), 10);
    assert_eq!(int(totals.get("bytes")), 10 * 172);
    let (_, st) = stream_stats(&q, "alice", 0);
    let Some(Owned::List(flags)) = st.get("flags") else {
        panic!()
    };
    // "confirmed" comes only when endpoint learning commits, 3 s after the answer
    // by default (tests/endpoint_learning.rs).
    assert!(flags.contains(&Owned::from("filled")));
    assert!(int(st.get("last packet")) > 0);
}

#[test]
fn rtcp_is_relayed_on_the_odd_ports() {
    let d = Daemon::start(33100, 33199, &[]);
    let alice = phone("127.0.0.1");
    let alice_rtcp = UdpSocket::bind(("127.0.0.1", alice.local_addr().unwrap().port() + 1));
    let Ok(alice_rtcp) = alice_rtcp else { return }; // port taken by chance: nothing to test
    alice_rtcp
        .set_read_timeout(Some(std::time::Duration::from_millis(500)))
        .unwrap();
    let bob = phone("127.0.0.1");
    let o = d.ok(&offer(
        "rc",
        "alice",
        &sdp("127.0.0.1", alice.local_addr().unwrap().port()),
    ));
    let a = d.ok(&answer(
        "rc",
        "alice",
        "bob",
        &sdp("127.0.0.1", bob.local_addr().unwrap().port()),
    ));
    let b_rtcp_to = SocketAddr::new(media_target(&o).ip(), media_target(&o).port() + 1);
    assert_eq!(media_target(&o).port() % 2, 0, "RTP port even");
    assert!(text(o.get("sdp")).contains(&format!("a=rtcp:{}", b_rtcp_to.port())));
    let _ = a;
    let sr = vec![
        0x80, 200, 0, 6, 1, 2, 3, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    ];
    bob.send_to(&sr, b_rtcp_to).unwrap();
    let (got, src) = recv(&alice_rtcp).expect("RTCP reaches alice's RTCP port");
    assert_eq!(got, sr);
    assert_eq!(src.port() % 2, 1);
    let q = d.ok(&query("rc"));
    assert_eq!(
        int(q.get("totals").unwrap().get("RTCP").unwrap().get("packets")),
        1
    );
}

#[test]
fn learning_latches_the_real_source() {
    let d = Daemon::start(33200, 33299, &[]);
    let alice_sdp_port = free_port("127.0.0.1");
    // Alice's SDP names a port she does not use (NAT): the relay learns the real one.
    let alice = phone("127.0.0.1");
    let bob = phone("127.0.0.1");
    let _o = d.ok(&offer("learn", "alice", &sdp("127.0.0.1", alice_sdp_port)));
    let a = d.ok(&answer(
        "learn",
        "alice",
        "bob",
        &sdp("127.0.0.1", bob.local_addr().unwrap().port()),
    ));
    let a_to = media_target(&a);
    let o_to = media_target(&_o);
    // Before alice sends anything, bob's packets go to the SDP address (lost).
    bob.send_to(&rtp(1, 1), o_to).unwrap();
    assert!(recv(&alice).is_none());
    // Alice sends: latched.
    exchange(&alice, a_to, &bob, 2).expect("alice -> bob");
    exchange(&bob, o_to, &alice, 3).expect("bob -> learned alice");
    let q = d.ok(&query("learn"));
    let (_, st) = stream_stats(&q, "alice", 0);
    assert_eq!(
        int(st.get("endpoint").unwrap().get("port")) as u16,
        alice.local_addr().unwrap().port()
    );
    assert_eq!(
        int(st.get("advertised endpoint").unwrap().get("port")) as u16,
        alice_sdp_port
    );
    // Without handover a second source is relayed but does not steal the stream
    // (from an address signalling does not name: see tests/endpoint_learning.rs).
    let mallory = phone("127.0.0.2");
    exchange(&mallory, a_to, &bob, 4).expect("non-strict: forwarded");
    exchange(&bob, o_to, &alice, 5).expect("still to alice");
}

#[test]
fn strict_source_drops_other_sources() {
    let d = Daemon::start(33300, 33399, &[]);
    let (alice, bob, a_to, b_to) = call(&d, "strict", "127.0.0.1", &["strict-source"], &[]);
    exchange(&alice, a_to, &bob, 1).expect("alice latches");
    let mallory = phone("127.0.0.2");
    mallory.send_to(&rtp(2, 2), a_to).unwrap();
    assert!(recv(&bob).is_none(), "strict source must drop mallory");
    exchange(&alice, a_to, &bob, 3).expect("alice still relayed");
    exchange(&bob, b_to, &alice, 4).expect("reverse still works");
    let q = d.ok(&query("strict"));
    let (packets, st) = stream_stats(&q, "alice", 0);
    assert_eq!(packets, 2);
    assert_eq!(int(st.get("stats").unwrap().get("errors")), 1);
}

#[test]
fn media_handover_follows_the_new_source() {
    let d = Daemon::start(33400, 33499, &[]);
    let (alice, bob, a_to, b_to) = call(&d, "ho", "127.0.0.1", &["media-handover"], &[]);
    exchange(&alice, a_to, &bob, 1).expect("alice");
    let alice2 = phone("127.0.0.1");
    exchange(&alice2, a_to, &bob, 2).expect("alice from her new address");
    exchange(&bob, b_to, &alice2, 3).expect("bob reaches the new address");
    assert!(recv(&alice).is_none(), "old address no longer used");
}

#[test]
fn asymmetric_sends_to_sdp_address() {
    let d = Daemon::start(33500, 33599, &[]);
    let alice_rx = phone("127.0.0.1");
    let alice_tx = phone("127.0.0.1");
    let bob = phone("127.0.0.1");
    let o = d.ok(&offer(
        "asym",
        "alice",
        &sdp("127.0.0.1", alice_rx.local_addr().unwrap().port()),
    )
    .with("flags", list(&["asymmetric"])));
    let a = d.ok(&answer(
        "asym",
        "alice",
        "bob",
        &sdp("127.0.0.1", bob.local_addr().unwrap().port()),
    ));
    exchange(&alice_tx, media_target(&a), &bob, 1).expect("alice tx -> bob");
    // Asymmetric: bob's media still goes to alice's SDP address, not her sending port.
    exchange(&bob, media_target(&o), &alice_rx, 2).expect("bob -> alice's SDP address");
}

#[test]
fn ipv6_media_relay() {
    let d = Daemon::start_on("::1", 33600, 33699, &["--interface=::1"]);
    let (alice, bob, a_to, b_to) = call(&d, "v6", "::1", &[], &[]);
    assert!(a_to.is_ipv6());
    exchange(&alice, a_to, &bob, 1).expect("v6 alice -> bob");
    exchange(&bob, b_to, &alice, 2).expect("v6 bob -> alice");
}

#[test]
fn ipv4_to_ipv6_bridging() {
    let d = Daemon::start(33700, 33799, &["--interface=127.0.0.1", "--interface=::1"]);
    let alice = phone("127.0.0.1");
    let bob = phone("::1");
    let o = d.ok(&offer(
        "bridge",
        "alice",
        &sdp("127.0.0.1", alice.local_addr().unwrap().port()),
    )
    .with("address-family", "IP6"));
    assert!(media_target(&o).is_ipv6(), "{}", text(o.get("sdp")));
    let a = d.ok(&answer(
        "bridge",
        "alice",
        "bob",
        &sdp("::1", bob.local_addr().unwrap().port()),
    ));
    assert!(media_target(&a).is_ipv4(), "{}", text(a.get("sdp")));
    exchange(&alice, media_target(&a), &bob, 1).expect("v4 -> v6");
    exchange(&bob, media_target(&o), &alice, 2).expect("v6 -> v4");
}
