//! `m=audio PORT/N`: an SDP port count, as rtpengine 10.5 handles it
//! (measured with tests/differential/ng_live_diff.py, corpus
//! `sdp/port-count` and generated cases gen/69, gen/1535).

use super::effect::{Effect, NoStats};
use super::persist::{decode_call, encode_call};
use super::tests::{clock, configs, flags, reg};
use crate::ng::bencode::Owned;

fn sdp(port: &str) -> String {
    format!("v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio {port} RTP/AVP 0\r\n")
}

fn streams<'a>(q: &'a Owned, tag: &str) -> &'a [Owned] {
    let medias = q
        .get("tags")
        .and_then(|t| t.get(tag))
        .and_then(|t| t.get("medias"));
    match medias {
        Some(Owned::List(m)) => match m[0].get("streams") {
            Some(Owned::List(s)) => s,
            other => panic!("no streams: {other:?}"),
        },
        other => panic!("no media for {tag}: {other:?}"),
    }
}

fn int(v: Option<&Owned>) -> i64 {
    match v {
        Some(Owned::Int(i)) => *i,
        other => panic!("not an integer: {other:?}"),
    }
}

fn endpoint_port(s: &Owned) -> i64 {
    int(s.get("endpoint").and_then(|e| e.get("port")))
}

fn query(r: &super::tests::TestRegistry) -> Owned {
    super::query::query_call(r.calls.get("c").unwrap(), &clock(), &NoStats)
}

#[test]
fn a_port_count_takes_that_many_pairs_on_each_side() {
    let mut r = reg();
    let now = clock();
    let o = r
        .offer(&flags("c", "a", None, sdp("5000/2")), &now)
        .unwrap();
    let body = o.sdp.unwrap();
    let port = configs(&o.effects)
        .iter()
        .find(|c| c.tag != "a" && !c.is_rtcp)
        .map(|c| c.local.port())
        .unwrap();
    assert!(
        body.contains(&format!("m=audio {port}/2 RTP/AVP 0\r\n")),
        "{body}"
    );
    assert!(body.contains(&format!("a=rtcp:{}\r\n", port + 1)), "{body}");
    assert_eq!(r.ports().in_use(), 8, "two pairs for each side");
    // Without a count in the answer each side shows its first pair only,
    // and keeps the ports.
    r.answer(&flags("c", "a", Some("b"), sdp("6000")), &now)
        .unwrap();
    let q = query(&r);
    assert_eq!(streams(&q, "a").len(), 2);
    assert_eq!(streams(&q, "b").len(), 2);
    assert_eq!(r.ports().in_use(), 8);
    r.delete(&flags("c", "a", None, String::new()), &now)
        .unwrap();
    assert_eq!(r.ports().in_use(), 0, "every port given back");
}

#[test]
fn counts_on_both_sides_show_and_relay_the_second_pair() {
    let mut r = reg();
    let now = clock();
    r.offer(&flags("c", "a", None, sdp("5000/2")), &now)
        .unwrap();
    let out = r
        .answer(&flags("c", "a", Some("b"), sdp("6000/2")), &now)
        .unwrap();
    let q = query(&r);
    let (a, b) = (streams(&q, "a"), streams(&q, "b"));
    assert_eq!((a.len(), b.len()), (4, 4));
    let ports: Vec<i64> = a.iter().map(|s| int(s.get("local port"))).collect();
    assert_eq!(ports, [ports[0], ports[0] + 1, ports[0] + 2, ports[0] + 3]);
    let ends: Vec<i64> = a.iter().map(endpoint_port).collect();
    assert_eq!(ends, [5000, 5001, 5002, 5003]);
    let ends: Vec<i64> = b.iter().map(endpoint_port).collect();
    assert_eq!(ends, [6000, 6001, 6002, 6003]);
    // The second pair goes to the peer's second pair.
    let cfgs = configs(&out.effects);
    let at = |tag: &str, port: i64| {
        cfgs.iter()
            .find(|c| c.tag == tag && i64::from(c.local.port()) == port)
            .unwrap_or_else(|| panic!("no stream of {tag} on {port}"))
    };
    let b_ports: Vec<i64> = b.iter().map(|s| int(s.get("local port"))).collect();
    assert_eq!(at("a", ports[2]).sink, Some(at("b", b_ports[2]).id));
    assert_eq!(at("a", ports[3]).sink, Some(at("b", b_ports[3]).id));
    assert_eq!(at("b", b_ports[2]).sink, Some(at("a", ports[2]).id));
    assert!(!out.effects.iter().any(|e| matches!(e, Effect::Close(_))));
}

#[test]
fn saved_calls_keep_their_further_pairs() {
    let mut r = reg();
    let now = clock();
    r.offer(&flags("c", "a", None, sdp("5000/2")), &now)
        .unwrap();
    r.answer(&flags("c", "a", Some("b"), sdp("6000")), &now)
        .unwrap();
    r.offer(&flags("c", "a", Some("b"), sdp("5000/2")), &now)
        .unwrap();
    let before = query(&r);
    assert_eq!(streams(&before, "a").len(), 4);
    // The caller's streams grew: new ports, the old run held (10.5's new
    // endpoint map; gen/2838).
    assert_eq!(r.ports().in_use(), 12);
    let a = streams(&before, "a");
    let first = int(a[0].get("local port"));
    let ports: Vec<i64> = a.iter().map(|s| int(s.get("local port"))).collect();
    assert_eq!(ports, [first, first + 1, first + 2, first + 3]);
    let back = decode_call(&encode_call(&r.calls["c"], &now), &now).unwrap();
    let mut fresh = reg();
    let (_, skipped) = fresh.restore(vec![back], &now);
    assert!(skipped.is_empty(), "{skipped:?}");
    assert_eq!(fresh.ports().in_use(), 12, "every run of each side");
    assert_eq!(streams(&query(&fresh), "a").len(), 4);
}

#[test]
fn a_sender_adding_streams_takes_ports_on_its_logical_interface() {
    // gen/2898: an answer's `address family` moves the caller to IPv6; the
    // re-offer's `/2` gives the caller new streams, on IPv4, where its own
    // SDP (and so its logical interface) now is.
    let mut r = reg();
    let now = clock();
    r.offer(&flags("c", "a", None, sdp("5000/2")), &now)
        .unwrap();
    let mut answer = flags("c", "a", Some("b"), sdp("6000"));
    answer.address_family = Some(crate::ng::flags::Family::V6);
    r.answer(&answer, &now).unwrap();
    let address = |q: &Owned, i: usize| match streams(q, "a")[i].get("local address") {
        Some(Owned::Bytes(b)) => String::from_utf8_lossy(b).into_owned(),
        other => panic!("no address: {other:?}"),
    };
    assert_eq!(address(&query(&r), 0), "::1");
    r.offer(&flags("c", "a", Some("b"), sdp("5000/2")), &now)
        .unwrap();
    let q = query(&r);
    assert_eq!(streams(&q, "a").len(), 4);
    for i in 0..4 {
        assert_eq!(address(&q, i), "127.0.0.1", "stream {i}");
    }
}

#[test]
fn counts_are_read_as_10_5_reads_them() {
    let now = clock();
    // Refused by 10.5's SDP parser: under 1, over 10, no digits.
    for bad in ["5000/0", "5000/11", "5000/-1", "5000/abc", "5000/"] {
        let err = reg()
            .offer(&flags("c", "a", None, sdp(bad)), &now)
            .unwrap_err();
        assert_eq!(err.to_string(), "Failed to parse SDP", "{bad}");
    }
    // Digits up to the first other character, as C's atoi.
    for (good, n) in [("5000/3x", 3), ("5000/+2", 2), ("5000/010", 10)] {
        let out = reg()
            .offer(&flags("c", "a", None, sdp(good)), &now)
            .unwrap();
        let body = out.sdp.unwrap();
        assert!(
            body.contains(&format!("/{n} RTP/AVP 0\r\n")),
            "{good}: {body}"
        );
    }
}
