//! ICE host candidates on every address of a logical interface: the extra
//! addresses get real port pairs of their own, which calls give back.

mod common;

use std::net::{IpAddr, SocketAddr, UdpSocket};

use common::*;
use rtpengined::ng::bencode::Owned;

/// `(component, address, port)` of each `a=candidate` line, in order.
fn candidates(body: &str) -> Vec<(u8, IpAddr, u16)> {
    body.lines()
        .filter_map(|l| l.strip_prefix("a=candidate:"))
        .map(|c| {
            let f: Vec<&str> = c.split(' ').collect();
            (
                f[1].parse().unwrap(),
                f[4].parse().unwrap(),
                f[5].parse().unwrap(),
            )
        })
        .collect()
}

fn ice_offer(call: &str) -> Owned {
    offer(call, "alice", &sdp("127.0.0.1", 6000)).with("ICE", "force")
}

#[test]
fn candidates_cover_both_families_on_bound_ports() {
    let d = Daemon::start(38100, 38139, &["--interface=127.0.0.1", "--interface=::1"]);
    let o = d.ok(&ice_offer("ice-1"));
    let body = text(o.get("sdp"));
    let c = candidates(&body);
    let v4: IpAddr = "127.0.0.1".parse().unwrap();
    let v6: IpAddr = "::1".parse().unwrap();
    // The media's own family first, component 1 on each address, then 2.
    assert_eq!(
        c.iter()
            .map(|(comp, ip, _)| (*comp, *ip))
            .collect::<Vec<_>>(),
        vec![(1, v4), (1, v6), (2, v4), (2, v6)],
        "{body}"
    );
    assert_eq!(c[2].2, c[0].2 + 1, "RTCP above RTP on 127.0.0.1: {body}");
    assert_eq!(c[3].2, c[1].2 + 1, "RTCP above RTP on ::1: {body}");
    // The ::1 ports belong to the daemon while the call lives...
    for port in [c[1].2, c[3].2] {
        assert!(
            UdpSocket::bind(SocketAddr::new(v6, port)).is_err(),
            "[::1]:{port} is not held by the daemon"
        );
    }
    d.ok(&delete("ice-1", "alice"));
    // ...and are free again once it is deleted.
    for port in [c[1].2, c[3].2] {
        UdpSocket::bind(SocketAddr::new(v6, port))
            .unwrap_or_else(|e| panic!("[::1]:{port} still held after delete: {e}"));
    }
}

#[test]
fn extra_candidate_ports_are_not_leaked() {
    // Room for 4 pairs; one ICE call needs 3 (two sides on 127.0.0.1, one on ::1).
    let d = Daemon::start(38140, 38147, &["--interface=127.0.0.1", "--interface=::1"]);
    for n in 0..12 {
        let call = format!("ice-leak-{n}");
        let o = d.ok(&ice_offer(&call));
        assert_eq!(candidates(&text(o.get("sdp"))).len(), 4);
        d.ok(&answer(&call, "alice", "bob", &sdp("127.0.0.1", 6002)));
        d.ok(&delete(&call, "alice"));
    }
}

#[test]
fn one_address_per_logical_interface_gives_one_candidate_each() {
    let d = Daemon::start(
        38150,
        38189,
        &["--interface=127.0.0.1", "--interface=internal/127.0.0.2"],
    );
    let o = d.ok(&ice_offer("ice-2"));
    let c = candidates(&text(o.get("sdp")));
    assert_eq!(c.len(), 2, "{c:?}");
    assert!(c
        .iter()
        .all(|(_, ip, _)| *ip == "127.0.0.1".parse::<IpAddr>().unwrap()));
}
