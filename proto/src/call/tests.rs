//! Sans-IO tests of the call model: no sockets, a plain port cursor.

use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::SeedableRng;

use super::effect::{Effect, NoStats, StreamConfig};
use super::interface::Interface;
use super::ports::RangeCursor;
use super::{Deleted, Expiry, Now, Registry, Settings};
use crate::ng::flags::{Flags, IceMode};

pub(super) fn settings() -> Settings {
    Settings {
        interfaces: vec![
            Interface::parse("127.0.0.1").unwrap(),
            Interface::parse("pub/::1").unwrap(),
        ],
        delete_delay: Duration::ZERO,
        max_sessions: -1,
        sip_source: false,
        tos: None,
        timeout: Duration::from_secs(60),
        silent_timeout: Duration::from_secs(3600),
        final_timeout: Duration::ZERO,
        offer_timeout: Duration::from_secs(3600),
        endpoint_learning: Default::default(),
    }
}

/// The time of a test's events: the crate reads no clock, its tests read one
/// (only a clock reading makes an `Instant`).
pub(super) fn clock() -> Now {
    Now {
        mono: Instant::now(),
        unix: Duration::from_secs(1_700_000_000),
    }
}

/// The registries of these tests: a plain port cursor and a seeded generator.
pub(super) type TestRegistry = Registry<RangeCursor, StdRng>;

pub(super) fn registry(settings: Settings, ports: RangeCursor) -> TestRegistry {
    Registry::with_rng(settings, ports, StdRng::seed_from_u64(14))
}

pub(super) fn reg() -> TestRegistry {
    registry(settings(), RangeCursor::new(40000, 40099))
}

fn sdp(port: u16, extra: &str) -> String {
    format!("v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio {port} RTP/AVP 0\r\n{extra}")
}

pub(super) fn flags(call: &str, from: &str, to: Option<&str>, body: String) -> Flags {
    Flags {
        call_id: Some(call.into()),
        from_tag: Some(from.into()),
        to_tag: to.map(String::from),
        sdp: Some(body),
        ..Flags::default()
    }
}

pub(super) fn configs(effects: &[Effect]) -> Vec<&StreamConfig> {
    effects
        .iter()
        .filter_map(|e| {
            if let Effect::Relay(c) = e {
                Some(c)
            } else {
                None
            }
        })
        .collect()
}

#[test]
fn offer_answer_wires_streams_crosswise() {
    let mut r = reg();
    let now = clock();
    r.offer(&flags("c", "a", None, sdp(6000, "")), &now)
        .unwrap();
    let out = r
        .answer(&flags("c", "a", Some("b"), sdp(7000, "")), &now)
        .unwrap();
    let cfgs = configs(&out.effects);
    assert_eq!(cfgs.len(), 4, "RTP+RTCP for each side");
    let a_rtp = cfgs.iter().find(|c| c.tag == "a" && !c.is_rtcp).unwrap();
    let b_rtp = cfgs.iter().find(|c| c.tag == "b" && !c.is_rtcp).unwrap();
    let b_rtcp = cfgs.iter().find(|c| c.tag == "b" && c.is_rtcp).unwrap();
    assert_eq!(a_rtp.sink, Some(b_rtp.id));
    assert_eq!(b_rtp.sink, Some(a_rtp.id));
    assert_eq!(a_rtp.endpoint, Some("192.0.2.1:6000".parse().unwrap()));
    assert_eq!(b_rtcp.endpoint, Some("192.0.2.1:7001".parse().unwrap()));
    assert_eq!(a_rtp.local.port() % 2, 0);
    assert_eq!(r.ports().in_use(), 4, "two RTP/RTCP pairs");
    // The answer SDP (to a) advertises a's local port.
    assert!(out
        .sdp
        .unwrap()
        .contains(&format!("m=audio {} ", a_rtp.local.port())));
}

#[test]
fn rtcp_mux_accepted_by_answerer() {
    let mut r = reg();
    let now = clock();
    let o = r
        .offer(&flags("m", "a", None, sdp(6000, "a=rtcp-mux\r\n")), &now)
        .unwrap();
    assert!(o.sdp.unwrap().contains("a=rtcp-mux"));
    let out = r
        .answer(
            &flags("m", "a", Some("b"), sdp(7000, "a=rtcp-mux\r\n")),
            &now,
        )
        .unwrap();
    let body = out.sdp.unwrap();
    let cfgs = configs(&out.effects);
    let a_rtp = cfgs.iter().find(|c| c.tag == "a" && !c.is_rtcp).unwrap();
    assert!(body.contains("a=rtcp-mux"));
    assert!(
        body.contains(&format!("a=rtcp:{}", a_rtp.local.port())),
        "{body}"
    );
    // Both sides mux: RTCP seen on an RTP port goes to the peer's RTP stream.
    let b_rtp = cfgs.iter().find(|c| c.tag == "b" && !c.is_rtcp).unwrap();
    assert_eq!(a_rtp.rtcp_sink, Some(b_rtp.id));
}

/// 10.5 (gen/4): `rtcp-mux: [accept]` in an answer changes nothing; an
/// answerer without mux leaves the offerer on a separate RTCP port.
#[test]
fn an_answers_own_mux_flags_do_not_accept_the_offerers_mux() {
    let mut r = reg();
    let now = clock();
    r.offer(&flags("am", "a", None, sdp(6000, "a=rtcp-mux\r\n")), &now)
        .unwrap();
    let mut f = flags("am", "a", Some("b"), sdp(7000, ""));
    f.rtcp_mux.accept = true;
    let body = r.answer(&f, &now).unwrap().sdp.unwrap();
    assert!(!body.contains("a=rtcp-mux"), "{body}");
}

/// 10.5 (gen/749): an offerer that took one port (mux with `demux`) but
/// does not mux after the answer gets a new RTP/RTCP pair.
#[test]
fn an_offerer_with_one_port_not_muxing_after_the_answer_gets_a_pair() {
    let mut r = reg();
    let now = clock();
    let mut f = flags("op", "a", None, sdp(6000, "a=rtcp-mux\r\n"));
    f.rtcp_mux.demux = true;
    f.rtcp_mux.offer = true;
    r.offer(&f, &now).unwrap();
    assert_eq!(r.ports().in_use(), 3);
    let out = r
        .answer(&flags("op", "a", Some("b"), sdp(7000, "")), &now)
        .unwrap();
    let body = out.sdp.unwrap();
    let a: Vec<&StreamConfig> = configs(&out.effects)
        .into_iter()
        .filter(|c| c.tag == "a")
        .collect();
    let rtp = a.iter().find(|c| !c.is_rtcp).unwrap().local.port();
    let rtcp = a.iter().find(|c| c.is_rtcp).unwrap().local.port();
    assert_eq!(rtcp, rtp + 1, "a pair");
    assert!(body.contains(&format!("m=audio {rtp} ")), "{body}");
    assert!(body.contains(&format!("a=rtcp:{rtcp}\r\n")), "{body}");
    assert!(!body.contains("a=rtcp-mux"), "{body}");
}

#[test]
fn an_offer_requiring_rtcp_mux_offers_no_fallback_rtcp() {
    let mut r = reg();
    let now = clock();
    let ice = "a=ice-ufrag:Oyef\r\na=ice-pwd:7ZwpNkjTPFuZpGl4Ub2pLmI3\r\n\
               a=candidate:1 1 udp 2122260223 192.0.2.1 6000 typ host\r\n";
    let mut f = flags("rq", "a", None, sdp(6000, ice));
    f.rtcp_mux.require = true;
    let o = r.offer(&f, &now).unwrap();
    let body = o.sdp.unwrap();
    let b_rtp = configs(&o.effects)
        .into_iter()
        .find(|c| c.tag.is_empty() && !c.is_rtcp)
        .map(|c| c.local.port())
        .unwrap();
    // RTCP on the RTP port, mux, and candidates of component 1 only (10.5).
    assert!(body.contains(&format!("a=rtcp:{b_rtp}\r\n")), "{body}");
    assert!(body.contains("a=rtcp-mux\r\n"), "{body}");
    assert!(body.contains(" 1 UDP "), "{body}");
    assert!(!body.contains(" 2 UDP "), "{body}");
}

/// 10.5's `proto_num_ports`: a side known to mux when its ports are taken
/// gets one port, not an RTP/RTCP pair (its RTCP stream shows port 0 and
/// has no socket); statistics count the ports (sdp/rtcp-mux-demux).
#[test]
fn a_side_known_to_mux_takes_one_port() {
    let mut r = reg();
    let now = clock();
    let mut f = flags("one", "a", None, sdp(6000, "a=rtcp-mux\r\n"));
    f.rtcp_mux.demux = true;
    let o = r.offer(&f, &now).unwrap();
    assert_eq!(
        r.ports().in_use(),
        3,
        "the callee's pair, the caller's port"
    );
    let cfgs = configs(&o.effects);
    assert!(
        !cfgs.iter().any(|c| c.tag == "a" && c.is_rtcp),
        "no RTCP socket for the muxing caller"
    );
    let a_rtp = cfgs.iter().find(|c| c.tag == "a" && !c.is_rtcp).unwrap();
    let b_rtp = cfgs
        .iter()
        .find(|c| c.tag.is_empty() && !c.is_rtcp)
        .unwrap();
    assert_eq!(
        b_rtp.rtcp_sink,
        Some(a_rtp.id),
        "RTCP to the caller's RTP port"
    );
    let out = r
        .answer(&flags("one", "a", Some("b"), sdp(7000, "")), &now)
        .unwrap();
    let body = out.sdp.unwrap();
    assert!(
        body.contains(&format!("a=rtcp:{}\r\na=rtcp-mux", a_rtp.local.port())),
        "{body}"
    );
    // The offer's receiver requires mux: it takes one port too.
    let mut f = flags("two", "c", None, sdp(6000, ""));
    f.rtcp_mux.require = true;
    r.offer(&f, &now).unwrap();
    assert_eq!(r.ports().in_use(), 6);
    r.delete(&flags("one", "a", None, String::new()), &now)
        .unwrap();
    r.delete(&flags("two", "c", None, String::new()), &now)
        .unwrap();
    assert_eq!(r.ports().in_use(), 0, "every port given back");
}

/// 10.5 (gen/216): the receiver of a re-offer we now do ICE with, whose
/// ports were taken without ICE, gets new ports on every address of its
/// interface; muxing already, it takes one port and its RTCP stream keeps
/// the old RTCP port, which 10.5 leaves open.
#[test]
fn a_reoffer_starting_ice_takes_new_ports_for_the_receiver() {
    let mut r = registry_on(&["127.0.0.1", "::1"]);
    let now = clock();
    let first = r
        .offer(&flags("ri", "a", None, sdp(6000, "")), &now)
        .unwrap();
    let old: Vec<std::net::SocketAddr> = configs(&first.effects)
        .iter()
        .filter(|c| c.tag.is_empty())
        .map(|c| c.local)
        .collect();
    assert_eq!(old.len(), 2);
    r.answer(
        &flags("ri", "a", Some("b"), sdp(7000, "a=rtcp-mux\r\n")),
        &now,
    )
    .unwrap();
    let mut f = flags("ri", "a", Some("b"), sdp(6000, ""));
    f.ice = IceMode::Force;
    let out = r.offer(&f, &now).unwrap();
    let body = out.sdp.unwrap();
    let b: Vec<&StreamConfig> = configs(&out.effects)
        .into_iter()
        .filter(|c| c.tag == "b")
        .collect();
    let rtp = b.iter().find(|c| !c.is_rtcp).unwrap().local;
    let rtcp = b.iter().find(|c| c.is_rtcp).unwrap().local;
    assert!(!old.contains(&rtp), "a new RTP port");
    assert_eq!(rtcp, old[1], "the old RTCP port stays");
    assert!(body.contains(&format!("m=audio {} ", rtp.port())), "{body}");
    assert!(
        body.contains(&format!("a=rtcp:{}\r\na=rtcp-mux", rtp.port())),
        "{body}"
    );
    assert!(
        body.contains(" ::1 "),
        "a candidate on the other address: {body}"
    );
}

/// 10.5 (gen/897): an answer with `ICE=force` toward an offerer whose SDP
/// had no ICE and muxes takes it one new port per address (the offerer
/// muxes by then), and its RTCP stream keeps the old pair's RTCP port.
#[test]
fn an_answer_starting_ice_takes_one_port_for_a_muxing_offerer() {
    let lo: std::net::IpAddr = "127.0.0.1".parse().unwrap();
    let lo6: std::net::IpAddr = "::1".parse().unwrap();
    let mut r = registry_on(&["127.0.0.1", "::1"]);
    let now = clock();
    let first = r
        .offer(&flags("im", "a", None, sdp(6000, "a=rtcp-mux\r\n")), &now)
        .unwrap();
    let old: Vec<std::net::SocketAddr> = configs(&first.effects)
        .iter()
        .filter(|c| c.tag == "a")
        .map(|c| c.local)
        .collect();
    assert_eq!(old.len(), 2, "a pair for the offerer: {old:?}");
    let mut answer = flags("im", "a", Some("b"), sdp(7000, "a=rtcp-mux\r\n"));
    answer.ice = IceMode::Force;
    let out = r.answer(&answer, &now).unwrap();
    let a: Vec<&StreamConfig> = configs(&out.effects)
        .into_iter()
        .filter(|c| c.tag == "a")
        .collect();
    let rtp = a.iter().find(|c| !c.is_rtcp).unwrap().local;
    let rtcp = a.iter().find(|c| c.is_rtcp).unwrap().local;
    assert!(!old.contains(&rtp), "a new RTP port");
    assert_eq!(rtcp, old[1], "the old RTCP port stays");
    assert_eq!(
        r.ports().in_use_on(lo),
        5,
        "b's pair, a's old pair held, a's new single port"
    );
    assert_eq!(r.ports().in_use_on(lo6), 1, "one port on the other address");

    // A restart reserves the same ports, the RTCP port apart from RTP's.
    use super::persist::{decode_call, encode_call};
    let back = decode_call(&encode_call(&r.calls["im"], &now), &now).unwrap();
    let mut fresh = registry_on(&["127.0.0.1", "::1"]);
    let (_, skipped) = fresh.restore(vec![back], &now);
    assert!(skipped.is_empty());
    assert!(fresh.ports().is_used(lo, rtcp.port()));
    assert!(!fresh.ports().is_used(lo, rtp.port() + 1));
    assert_eq!(fresh.ports().in_use(), r.ports().in_use());

    r.delete(&flags("im", "a", None, String::new()), &now)
        .unwrap();
    assert_eq!(r.ports().in_use(), 0, "every port given back");
}

/// 10.5 keeps every socket a call had until the call ends (sdp/ice-force):
/// the offerer's pair that an answer with `ICE=force` replaces by ports on
/// every address stays taken, and all ports, held ones too, return at the
/// delete. A saved call keeps its held ports across a restart.
#[test]
fn replaced_ports_are_held_until_the_call_ends() {
    use super::persist::{decode_call, encode_call};
    let lo: std::net::IpAddr = "127.0.0.1".parse().unwrap();
    let mut r = registry_on(&["127.0.0.1", "::1"]);
    let now = clock();
    let mut offer = flags("h", "a", None, sdp(6000, ""));
    offer.ice = IceMode::Force;
    r.offer(&offer, &now).unwrap();
    assert_eq!(r.ports().in_use_on(lo), 4, "a's pair, b's pair");
    let mut answer = flags("h", "a", Some("b"), sdp(7000, ""));
    answer.ice = IceMode::Force;
    let out = r.answer(&answer, &now).unwrap();
    assert!(out.effects.iter().any(|e| matches!(e, Effect::Close(_))));
    assert_eq!(
        r.ports().in_use_on(lo),
        6,
        "a's new pair, and its old one held as 10.5 holds it"
    );
    let held = r.calls["h"].held_ports.clone();
    assert_eq!(held.len(), 2, "{held:?}");

    let bytes = encode_call(&r.calls["h"], &now);
    let back = decode_call(&bytes, &now).unwrap();
    assert_eq!(back.held_ports, held);
    let mut fresh = registry_on(&["127.0.0.1", "::1"]);
    let (_, skipped) = fresh.restore(vec![back], &now);
    assert!(skipped.is_empty());
    assert_eq!(fresh.ports().in_use(), r.ports().in_use());

    r.delete(&flags("h", "a", None, String::new()), &now)
        .unwrap();
    assert_eq!(r.ports().in_use(), 0, "every port given back");
}

#[test]
fn a_reoffer_to_a_side_that_answered_with_mux_keeps_offering_it() {
    // The caller never offers mux; the callee answered with it. 10.5 requires
    // mux toward a side already muxing, even with `rtcp-mux: demux`
    // (measured: gen/329).
    for demux in [false, true] {
        let mut r = reg();
        let now = clock();
        r.offer(&flags("m", "a", None, sdp(6000, "")), &now)
            .unwrap();
        r.answer(
            &flags("m", "a", Some("b"), sdp(7000, "a=rtcp-mux\r\n")),
            &now,
        )
        .unwrap();
        let mut reoffer = flags("m", "a", Some("b"), sdp(6000, ""));
        reoffer.rtcp_mux.demux = demux;
        let out = r.offer(&reoffer, &now).unwrap();
        let body = out.sdp.unwrap();
        let b_rtp = configs(&out.effects)
            .into_iter()
            .find(|c| c.tag == "b" && !c.is_rtcp)
            .map(|c| c.local.port())
            .unwrap();
        assert!(body.contains("a=rtcp-mux\r\n"), "{body}");
        assert!(body.contains(&format!("a=rtcp:{b_rtp}\r\n")), "{body}");
    }
}

#[test]
fn a_remembered_ptime_goes_only_to_the_sides_of_that_media() {
    let mut r = reg();
    let now = clock();
    r.offer(&flags("p", "a", None, sdp(6000, "a=ptime:30\r\n")), &now)
        .unwrap();
    // The callee's answer has no ptime: the offer's is printed back.
    let answer = r
        .answer(&flags("p", "a", Some("b"), sdp(7000, "")), &now)
        .unwrap()
        .sdp
        .unwrap();
    assert!(answer.contains("a=ptime:30\r\n"), "{answer}");
    // An answer naming an unknown offerer goes to a new party, whose media
    // never saw an a=ptime (10.5: cmd/answer/unknown-from-tag).
    let stranger = r
        .answer(&flags("p", "stranger", Some("b"), sdp(7000, "")), &now)
        .unwrap()
        .sdp
        .unwrap();
    assert!(!stranger.contains("a=ptime"), "{stranger}");
}

#[test]
fn reoffer_keeps_ports_and_family_change_moves_them() {
    let mut r = reg();
    let now = clock();
    let first = r
        .offer(&flags("k", "a", None, sdp(6000, "")), &now)
        .unwrap()
        .sdp
        .unwrap();
    let again = r
        .offer(&flags("k", "a", None, sdp(6000, "")), &now)
        .unwrap();
    assert_eq!(first, again.sdp.unwrap());
    assert!(!again.effects.iter().any(|e| matches!(e, Effect::Close(_))));
    let mut f = flags("k", "a", None, sdp(6000, ""));
    f.address_family = Some(crate::ng::flags::Family::V6);
    let moved = r.offer(&f, &now).unwrap();
    assert!(moved.sdp.unwrap().contains("c=IN IP6 ::1"));
    assert_eq!(
        moved
            .effects
            .iter()
            .filter(|e| matches!(e, Effect::Close(_)))
            .count(),
        2,
        "old pair closed"
    );
}

/// A registry with these `--interface` values.
pub(super) fn registry_on(interfaces: &[&str]) -> TestRegistry {
    let mut settings = settings();
    settings.interfaces = interfaces
        .iter()
        .map(|s| Interface::parse(s).unwrap())
        .collect();
    registry(settings, RangeCursor::new(40000, 40999))
}

/// The IPv4 address of an SDP's first c= line.
fn addr(sdp: String) -> String {
    sdp.lines()
        .find_map(|l| l.strip_prefix("c=IN IP4 "))
        .unwrap()
        .to_owned()
}

#[test]
fn round_robin_calls_spreads_over_every_interface_of_the_family() {
    let mut r = registry_on(&[
        "127.0.0.1",
        "::1",
        "internal/127.0.0.2",
        "external/127.0.0.3",
    ]);
    let now = clock();
    let mut seen = std::collections::BTreeSet::new();
    for n in 0..40 {
        let id = format!("rrc-{n}");
        let mut f = flags(&id, "a", None, sdp(6000, ""));
        f.direction = vec!["default".into(), "round-robin-calls".into()];
        let first = addr(r.offer(&f, &now).unwrap().sdp.unwrap());
        assert_eq!(addr(r.offer(&f, &now).unwrap().sdp.unwrap()), first, "{id}");
        seen.insert(first);
    }
    let all: std::collections::BTreeSet<String> = ["127.0.0.1", "127.0.0.2", "127.0.0.3"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(seen, all, "every IPv4 interface used, never ::1");
}

#[test]
fn round_robin_interfaces_spread_calls_and_keep_each_call() {
    let mut r = registry_on(&["pub:1/127.0.0.1", "pub:2/127.0.0.2", "priv/127.0.0.3"]);
    let now = clock();
    let mut seen = std::collections::BTreeSet::new();
    for n in 0..40 {
        let id = format!("rr-{n}");
        let mut f = flags(&id, "a", None, sdp(6000, ""));
        // Half of them name the group, half rely on the first interface's group.
        if n % 2 == 0 {
            f.direction = vec!["pub".into(), "pub".into()];
        }
        let first = addr(r.offer(&f, &now).unwrap().sdp.unwrap());
        assert_ne!(first, "127.0.0.3", "{id}: only 'pub' members serve it");
        // A re-INVITE stays on the member the call got.
        assert_eq!(addr(r.offer(&f, &now).unwrap().sdp.unwrap()), first, "{id}");
        seen.insert(first);
    }
    assert_eq!(seen.len(), 2, "both members used: {seen:?}");
    // A member or another interface asked for by its own name is used as such.
    let mut f = flags("rr-named", "a", None, sdp(6000, ""));
    f.direction = vec!["priv".into(), "priv".into()];
    assert_eq!(addr(r.offer(&f, &now).unwrap().sdp.unwrap()), "127.0.0.3");
    f.direction = vec!["pub:2".into(), "pub:2".into()];
    f.call_id = Some("rr-member".into());
    assert_eq!(addr(r.offer(&f, &now).unwrap().sdp.unwrap()), "127.0.0.2");
}

#[test]
fn sip_source_and_trust_address() {
    let mut r = reg();
    let now = clock();
    let mut f = flags("s", "a", None, sdp(6000, ""));
    f.received_from = Some("198.51.100.7".parse().unwrap());
    f.sip_source_address = true;
    let out = r.offer(&f, &now).unwrap();
    let a = configs(&out.effects)
        .into_iter()
        .find(|c| c.tag == "a" && !c.is_rtcp)
        .unwrap()
        .clone();
    assert_eq!(a.endpoint, Some("198.51.100.7:6000".parse().unwrap()));
    f.trust_address = true;
    let out = r.offer(&f, &now).unwrap();
    let a = configs(&out.effects)
        .into_iter()
        .find(|c| c.tag == "a" && !c.is_rtcp)
        .unwrap()
        .clone();
    assert_eq!(a.endpoint, Some("192.0.2.1:6000".parse().unwrap()));
}

#[test]
fn sip_source_without_received_from_is_incomplete_sdp() {
    use super::CallError;
    let mut r = reg();
    let now = clock();
    let mut f = flags("inc", "a", None, sdp(6000, ""));
    f.sip_source_address = true;
    let err = r.offer(&f, &now).unwrap_err();
    assert!(matches!(err, CallError::IncompleteSdp), "{err:?}");
    assert_eq!(err.to_string(), "Incomplete SDP specification");
    assert_eq!(r.active_calls(), 0, "nothing of the refused offer is kept");
    // Checked before the T.38 gateway refusal, as 10.5 does.
    f.t38_force = true;
    assert!(matches!(r.offer(&f, &now), Err(CallError::IncompleteSdp)));
    f.t38_force = false;
    // A section doing ICE takes its SDP address: nothing is missing then.
    let mut ice = flags(
        "inc",
        "a",
        None,
        sdp(
            6000,
            "a=ice-ufrag:abcd\r\na=ice-pwd:0123456789abcdefghijkl\r\n",
        ),
    );
    ice.sip_source_address = true;
    r.offer(&ice, &now).unwrap();
    // An answer is refused the same way, before its call is looked at.
    let mut ans = flags("inc", "a", Some("b"), sdp(7000, ""));
    ans.sip_source_address = true;
    assert!(matches!(
        r.answer(&ans, &now),
        Err(CallError::IncompleteSdp)
    ));
    ans.received_from = Some("198.51.100.7".parse().unwrap());
    r.answer(&ans, &now).unwrap();
}

#[test]
fn the_later_of_trust_address_and_sip_source_address_wins() {
    use crate::ng::bencode::decode;
    let m = decode(b"d5:flagsl13:trust-address18:SIP-source-addressee").unwrap();
    let f = Flags::parse(&m);
    assert!(f.sip_source_address && !f.trust_address);
    let m = decode(b"d5:flagsl18:SIP-source-address13:trust-addressee").unwrap();
    let f = Flags::parse(&m);
    assert!(f.trust_address && !f.sip_source_address);
    // "received from" is 10.5's other spelling of the key.
    let m = decode(b"d13:received froml3:IP48:10.9.9.9ee").unwrap();
    assert_eq!(
        Flags::parse(&m).received_from,
        Some("10.9.9.9".parse().unwrap())
    );
}

#[test]
fn sip_source_is_kept_per_party_for_endpoint_learning() {
    use super::LearningMode;
    let mut settings = settings();
    settings.endpoint_learning = LearningMode::Heuristic;
    let mut r = registry(settings, RangeCursor::new(40000, 40099));
    let now = clock();
    let stream = |effects: &[Effect], tag: &str| {
        configs(effects)
            .into_iter()
            .find(|c| c.tag == tag && !c.is_rtcp)
            .unwrap()
            .clone()
    };
    let mut offer = flags("l", "a", None, sdp(6000, ""));
    offer.received_from = Some("198.51.100.7".parse().unwrap());
    let out = r.offer(&offer, &now).unwrap();
    let a = stream(&out.effects, "a");
    assert_eq!(a.sip_source, offer.received_from);
    assert_eq!(a.learning.mode, LearningMode::Heuristic);
    // Only trusted for learning: the endpoint stays the SDP's without SIP-source-address.
    assert_eq!(a.endpoint, Some("192.0.2.1:6000".parse().unwrap()));
    let mut answer = flags("l", "a", Some("b"), sdp(7000, ""));
    answer.received_from = Some("203.0.113.9".parse().unwrap());
    let out = r.answer(&answer, &now).unwrap();
    assert_eq!(stream(&out.effects, "a").sip_source, offer.received_from);
    assert_eq!(stream(&out.effects, "b").sip_source, answer.received_from);
    // A re-offer without received-from keeps what the party had.
    let out = r
        .offer(&flags("l", "b", Some("a"), sdp(7000, "")), &now)
        .unwrap();
    assert_eq!(stream(&out.effects, "b").sip_source, answer.received_from);
}

#[test]
fn endpoint_learning_per_party_from_the_ng_message() {
    use super::LearningMode;
    use crate::ng::bencode::decode;
    use crate::ng::command::Request;
    let mut r = reg();
    let now = clock();
    let parse = |extra: &str, from: &str, to: Option<&str>, port: u16| {
        let body = sdp(port, "");
        let to = to.map_or(String::new(), |t| format!("6:to-tag{}:{t}", t.len()));
        let msg = format!(
            "d7:call-id1:e7:command5:offer{extra}8:from-tag{}:{from}3:sdp{}:{body}{to}e",
            from.len(),
            body.len()
        );
        Request::parse(&decode(msg.as_bytes()).unwrap())
            .unwrap()
            .flags
    };
    let mode = |effects: &[Effect], tag: &str| {
        configs(effects)
            .into_iter()
            .find(|c| c.tag == tag && !c.is_rtcp)
            .unwrap()
            .learning
            .mode
    };
    // The key (a string or a list) and the flag, as 10.5 takes them.
    let offer = parse("17:endpoint-learning3:off", "a", None, 6000);
    let out = r.offer(&offer, &now).unwrap();
    assert_eq!(mode(&out.effects, "a"), LearningMode::Off);
    let answer = parse(
        "5:flagsl27:endpoint-learning-immediatee",
        "a",
        Some("b"),
        7000,
    );
    let out = r.answer(&answer, &now).unwrap();
    assert_eq!(mode(&out.effects, "b"), LearningMode::Immediate);
    assert_eq!(mode(&out.effects, "a"), LearningMode::Off);
    // A message without it puts its party back on --endpoint-learning (10.5 too).
    let out = r.offer(&parse("", "a", None, 6000), &now).unwrap();
    assert_eq!(mode(&out.effects, "a"), LearningMode::Delayed);
    // Unknown modes are ignored with a warning, as 10.5 logs and ignores them.
    let odd = parse("17:endpoint-learningl9:sometimese", "a", None, 6000);
    assert_eq!(odd.endpoint_learning, None);
    assert!(odd
        .warning()
        .unwrap()
        .contains("endpoint-learning=sometimes"));
}

#[test]
fn delete_releases_ports_and_limits_apply() {
    let mut s = settings();
    s.max_sessions = 1;
    let mut r = registry(s, RangeCursor::new(40000, 40099));
    let now = clock();
    r.offer(&flags("x", "a", None, sdp(6000, "")), &now)
        .unwrap();
    let err = r
        .offer(&flags("y", "a", None, sdp(6000, "")), &now)
        .unwrap_err();
    assert_eq!(err.to_string(), "Parallel session limit reached");
    let (d, effects) = r
        .delete(&flags("x", "a", None, String::new()), &now)
        .unwrap();
    assert!(matches!(d, Deleted::Call(_)));
    assert_eq!(effects.len(), 4);
    assert_eq!(r.ports().in_use(), 0);
    r.offer(&flags("y", "a", None, sdp(6000, "")), &now)
        .unwrap();
}

#[test]
fn signal_counts_refusals_and_keeps_the_first_client() {
    let mut s = settings();
    s.max_sessions = 1;
    let mut r = registry(s, RangeCursor::new(40000, 40099));
    let now = clock();
    r.signal(
        &flags("x", "a", None, sdp(6000, "")),
        false,
        Some("10.0.0.1:5060"),
        &now,
    )
    .unwrap();
    r.signal(
        &flags("x", "a", Some("b"), sdp(6002, "")),
        true,
        Some("10.0.0.2:5060"),
        &now,
    )
    .unwrap();
    assert_eq!(r.calls["x"].created_from, "10.0.0.1:5060");
    assert_eq!(r.totals.rejected, 0);
    let err = r
        .signal(
            &flags("y", "a", None, sdp(6000, "")),
            false,
            Some("10.0.0.1:5060"),
            &now,
        )
        .unwrap_err();
    assert!(matches!(err, super::CallError::SessionLimit));
    assert_eq!(r.totals.rejected, 1);
    // Other refusals are not the session limit's.
    let mut no_call_id = flags("z", "a", None, sdp(6000, ""));
    no_call_id.call_id = None;
    r.signal(&no_call_id, false, None, &now).unwrap_err();
    assert_eq!(r.totals.rejected, 1);
}

#[test]
fn out_of_ports_leaves_nothing_behind() {
    let mut r = registry(settings(), RangeCursor::new(40000, 40002));
    let now = clock();
    let err = r
        .offer(&flags("z", "a", None, sdp(6000, "")), &now)
        .unwrap_err();
    assert_eq!(err.to_string(), "Ran out of ports");
    assert_eq!(r.ports().in_use(), 0);
    assert!(r.calls.is_empty());
}

#[test]
fn rejected_media_gets_no_ports() {
    let mut r = reg();
    let now = clock();
    let out = r.offer(&flags("r", "a", None, sdp(0, "")), &now).unwrap();
    assert!(out.sdp.unwrap().contains("m=audio 0 "));
    assert_eq!(r.ports().in_use(), 0);
}

#[test]
fn sweep_expires_idle_and_delayed_calls() {
    let mut s = settings();
    s.timeout = Duration::from_secs(10);
    s.delete_delay = Duration::from_secs(5);
    let mut r = registry(s, RangeCursor::new(40000, 40099));
    let now = clock();
    r.offer(&flags("idle", "a", None, sdp(6000, "")), &now)
        .unwrap();
    r.answer(&flags("idle", "a", Some("b"), sdp(7000, "")), &now)
        .unwrap();
    r.offer(&flags("del", "a", None, sdp(6000, "")), &now)
        .unwrap();
    r.answer(&flags("del", "a", Some("b"), sdp(7000, "")), &now)
        .unwrap();
    r.delete(&flags("del", "a", None, String::new()), &now)
        .unwrap();
    assert_eq!(r.calls.len(), 2, "delete-delay keeps the call");
    let later = Now {
        mono: now.mono + Duration::from_secs(6),
        unix: now.unix,
    };
    let gone = r.sweep(&later, &NoStats);
    assert_eq!(
        gone.iter().map(|g| (g.0.as_str(), g.1)).collect::<Vec<_>>(),
        vec![("del", Expiry::DeleteDelay)]
    );
    let much_later = Now {
        mono: now.mono + Duration::from_secs(11),
        unix: now.unix,
    };
    let gone = r.sweep(&much_later, &NoStats);
    assert_eq!(
        gone.iter().map(|g| (g.0.as_str(), g.1)).collect::<Vec<_>>(),
        vec![("idle", Expiry::Timeout)]
    );
    assert_eq!(r.ports().in_use(), 0);
}

#[test]
fn a_delete_without_delay_ends_a_scheduled_call_and_totals_count_it() {
    let mut s = settings();
    s.delete_delay = Duration::from_secs(5);
    let mut r = registry(s, RangeCursor::new(40000, 40099));
    let now = clock();
    r.offer(&flags("c", "a", None, sdp(6000, "")), &now)
        .unwrap();
    r.answer(&flags("c", "a", Some("b"), sdp(7000, "")), &now)
        .unwrap();
    r.delete(&flags("c", "a", None, String::new()), &now)
        .unwrap();
    assert_eq!(r.calls.len(), 1, "scheduled");
    let mut at_once = flags("c", "a", None, String::new());
    at_once.delete_delay = Some(0);
    r.delete(&at_once, &now).unwrap();
    assert!(r.calls.is_empty(), "deleted at once");
    assert_eq!(r.ports().in_use(), 0);

    // Ended calls are counted by why they ended.
    r.offer(&flags("t", "a", None, sdp(6000, "")), &now)
        .unwrap();
    let later = Now {
        mono: now.mono + Duration::from_secs(3600),
        unix: now.unix,
    };
    r.settings.offer_timeout = Duration::from_secs(60);
    r.sweep(&later, &NoStats);
    assert_eq!(r.totals.managed, 1);
    assert_eq!(r.totals.offer_timeout, 1);
    assert_eq!(r.totals.zero_way, 1, "two parties without packets");
}

mod prop {
    use super::*;
    use crate::ng::bencode::{decode, Owned};
    use crate::ng::command::Request;
    use proptest::prelude::*;

    const KEYS: &[&str] = &[
        "flags",
        "replace",
        "direction",
        "ICE",
        "rtcp-mux",
        "received-from",
        "media-address",
        "address-family",
        "transport-protocol",
        "TOS",
        "delete-delay",
        "label",
        "via-branch",
        "to-tag",
        "codec",
        "SDES",
        "DTLS",
        "interface",
        "supports",
        "ICE-lite",
    ];
    const WORDS: &[&str] = &[
        "origin",
        "session-connection",
        "remove",
        "force",
        "offer",
        "demux",
        "accept",
        "reject",
        "require",
        "IP4",
        "IP6",
        "::1",
        "127.0.0.1",
        "RTP/AVP",
        "RTP/SAVPF",
        "strict-source",
        "asymmetric",
        "media-handover",
        "trust-address",
        "SIP-source-address",
        "loop-protect",
        "pub",
        "default",
        "no-rtcp-attribute",
        "full-rtcp-attribute",
        "b",
        "junk",
        "",
    ];

    fn value() -> impl Strategy<Value = Owned> {
        let word = proptest::sample::select(WORDS).prop_map(Owned::from);
        prop_oneof![
            word.clone(),
            any::<i64>().prop_map(Owned::Int),
            proptest::collection::vec(word, 0..4).prop_map(Owned::List),
        ]
    }

    fn message() -> impl Strategy<Value = Vec<(String, Owned)>> {
        proptest::collection::vec(
            (
                proptest::sample::select(KEYS).prop_map(String::from),
                value(),
            ),
            0..8,
        )
    }

    proptest! {
        /// Whatever flags arrive, offer/answer/delete either work or fail with an
        /// error, never panic, and a deleted call leaves no port behind.
        #[test]
        fn any_flags_are_handled(offer_keys in message(), answer_keys in message()) {
            let mut r = reg();
            let now = clock();
            let build = |cmd: &str, to: Option<&str>, port: u16, keys: &[(String, Owned)]| {
                let mut m = Owned::dict()
                    .with("command", cmd)
                    .with("call-id", "p")
                    .with("from-tag", "a")
                    .with("sdp", sdp(port, "a=rtcp-mux\r\n"));
                if let Some(t) = to {
                    m.insert("to-tag", t);
                }
                for (k, v) in keys {
                    m.insert(k, v.clone());
                }
                let bytes = m.encode();
                Request::parse(&decode(&bytes).unwrap()).unwrap().flags
            };
            let _ = r.offer(&build("offer", None, 6000, &offer_keys), &now);
            let _ = r.answer(&build("answer", Some("b"), 7000, &answer_keys), &now);
            let mut del = flags("p", "a", None, String::new());
            del.delete_delay = Some(0);
            let _ = r.delete(&del, &now);
            prop_assert!(r.calls.is_empty());
            prop_assert_eq!(r.ports().in_use(), 0);
        }
    }
}

#[test]
fn saved_calls_restore_identically() {
    use super::persist::{decode_call, encode_call};
    let mut r = reg();
    let now = clock();
    let savp = "m=audio 6000 RTP/SAVP 0 8\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^31|1:4\r\na=ptime:30\r\na=rtcp-mux\r\na=sendonly\r\n";
    let body = sdp(5000, "").replace("m=audio 5000 RTP/AVP 0\r\n", savp);
    let mut offer = flags("p", "a", None, body);
    offer.transport_protocol = Some("RTP/AVP".into());
    r.offer(&offer, &now).unwrap();
    r.answer(
        &flags("p", "a", Some("b"), sdp(7000, "a=label:x\r\n")),
        &now,
    )
    .unwrap();
    r.offer(&flags("q", "c", None, sdp(8000, "")), &now)
        .unwrap();
    r.calls.get_mut("p").unwrap().monologues[1].sip_source = Some("2001:db8::7".parse().unwrap());
    r.calls.get_mut("p").unwrap().monologues[1].learning.mode = super::LearningMode::Off;
    let original = r.calls["p"].clone();
    let bytes = encode_call(&original, &now);
    let back = decode_call(&bytes, &now).unwrap();
    assert_eq!(encode_call(&back, &now), bytes, "lossless round trip");
    let keys = back.monologues[0].medias[0]
        .sdes
        .keys
        .as_ref()
        .expect("SDES keys kept");
    assert_eq!(keys.rx.mki.map(|m| m.length), Some(4));
    assert_eq!(back.monologues[0].medias[0].ptime, Some(30));
    assert_eq!(
        back.monologues[1].sip_source,
        original.monologues[1].sip_source
    );
    assert_eq!(back.monologues[1].learning, original.monologues[1].learning);

    // A fresh daemon (other port cursor) takes the call back onto the same ports.
    let mut fresh = reg();
    let before = r.relay_effects(&original, "p");
    let (effects, skipped) = fresh.restore(vec![back], &now);
    assert!(skipped.is_empty());
    assert_eq!(effects, before, "the relay gets the same streams");
    assert_eq!(fresh.ports().in_use(), 4);
    // The same ports again are refused, and the ids of new streams do not clash.
    let again = decode_call(&bytes, &now).unwrap();
    let (_, skipped) = fresh.restore(vec![again], &now);
    assert_eq!(skipped.len(), 1, "call-id in use");
    let out = fresh
        .offer(&flags("n", "x", None, sdp(9000, "")), &now)
        .unwrap();
    let old: Vec<_> = configs(&before).iter().map(|c| (c.id, c.local)).collect();
    for c in configs(&out.effects) {
        assert!(old
            .iter()
            .all(|(id, local)| *id != c.id && *local != c.local));
    }
    // Saved on an interface this configuration does not have: refused, not a
    // panic at the next re-INVITE.
    let mut other = settings();
    other.interfaces.truncate(1);
    other.interfaces[0] = Interface::parse("127.0.0.2").unwrap();
    let mut moved = registry(other, RangeCursor::new(40000, 40099));
    let (effects, skipped) = moved.restore(vec![decode_call(&bytes, &now).unwrap()], &now);
    assert!(effects.is_empty() && moved.calls.is_empty());
    assert!(skipped[0].1.contains("interface"), "{skipped:?}");
    assert_eq!(moved.ports().in_use(), 0);
    // Files written before endpoint learning had modes load with the defaults.
    let mut old = crate::ng::bencode::decode(&bytes).unwrap().to_owned_value();
    if let crate::ng::bencode::Owned::Dict(items) = &mut old {
        for (k, v) in items.iter_mut() {
            if let (b"monologues", crate::ng::bencode::Owned::List(monos)) = (k.as_slice(), v) {
                for m in monos {
                    if let crate::ng::bencode::Owned::Dict(fields) = m {
                        fields.retain(|(k, _)| k != b"learning-mode" && k != b"sip-source");
                    }
                }
            }
        }
    }
    let earlier = decode_call(&old.encode(), &now).unwrap();
    assert_eq!(earlier.monologues[1].sip_source, None);
    assert_eq!(
        earlier.monologues[1].learning.mode,
        super::LearningMode::Delayed
    );
    let bad_mode = String::from_utf8_lossy(&bytes).replace("3:off", "3:owf");
    assert!(decode_call(bad_mode.as_bytes(), &now)
        .unwrap_err()
        .contains("learning-mode"));
    // Garbage is an error, not a panic.
    assert!(decode_call(b"d6:formati1ee", &now).is_err());
    let mut bad_peer = original.clone();
    bad_peer.monologues[0].peer = Some(7);
    assert!(decode_call(&encode_call(&bad_peer, &now), &now).is_err());
    assert!(decode_call(&bytes[..bytes.len() / 2], &now).is_err());
}

#[test]
fn the_injected_rng_decides_keys_and_ice_credentials() {
    let now = clock();
    let body = sdp(
        6000,
        "a=ice-ufrag:peer\r\na=ice-pwd:peerpeerpeerpeerpeerpeer\r\n\
         a=candidate:1 1 UDP 2130706431 192.0.2.1 6000 typ host\r\n",
    )
    .replace("RTP/AVP", "RTP/SAVP");
    let offer = |seed| {
        let rng = StdRng::seed_from_u64(seed);
        let mut r = Registry::with_rng(settings(), RangeCursor::new(40000, 40099), rng);
        let sent = r.offer(&flags("c", "a", None, body.clone()), &now);
        sent.unwrap().sdp.unwrap()
    };
    let (first, again, other) = (offer(1), offer(1), offer(2));
    assert!(
        first.contains("a=crypto:1 AEAD_AES_256_GCM inline:"),
        "{first}"
    );
    assert!(first.contains("a=ice-pwd:"), "{first}");
    assert_eq!(first, again);
    // Every fresh key and the ICE credentials change with the generator.
    let differing = |prefix: &str| {
        let lines = |s: &str| -> Vec<String> {
            s.lines()
                .filter(|l| l.starts_with(prefix))
                .map(String::from)
                .collect()
        };
        let (a, b) = (lines(&first), lines(&other));
        assert!(!a.is_empty(), "no {prefix} in {first}");
        a.iter().zip(&b).all(|(x, y)| x != y)
    };
    assert!(differing("a=crypto:"));
    assert!(differing("a=ice-ufrag:"));
    assert!(differing("a=ice-pwd:"));
}

#[test]
fn browser_offer_at_zero_address_with_trickle_is_not_a_hold() {
    let mut r = reg();
    let now = clock();
    let browser = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n\
                   m=audio 9 UDP/TLS/RTP/SAVPF 0\r\nc=IN IP4 0.0.0.0\r\n\
                   a=candidate:1 1 udp 2122260223 192.0.2.9 46243 typ host\r\n\
                   a=ice-ufrag:Oyef\r\na=ice-pwd:7ZwpNkjTPFuZpGl4Ub2pLmI3\r\n\
                   a=ice-options:trickle\r\na=rtcp-mux\r\na=sendrecv\r\n";
    let mut f = flags("t", "a", None, browser.into());
    f.ice = IceMode::Remove;
    f.transport_protocol = Some("RTP/AVP".into());
    let offer = r.offer(&f, &now).unwrap().sdp.unwrap();
    assert!(offer.contains("c=IN IP4 127.0.0.1\r\n"), "{offer}");
    assert!(offer.contains("a=sendrecv\r\n"), "{offer}");
    // The answer toward the browser: ICE with trickle lines.
    let out = r
        .answer(&flags("t", "a", Some("b"), sdp(7000, "")), &now)
        .unwrap();
    let answer = out.sdp.unwrap();
    assert!(answer.contains("a=ice-options:trickle\r\n"), "{answer}");
    assert!(answer.ends_with("a=end-of-candidates\r\n"), "{answer}");
}

/// ICE=force towards the callee: its streams carry our credentials (as in the
/// offer SDP) and the controlling role; the callee's own credentials join
/// them with its answer; the caller, without ICE, gets none (STUN relayed).
#[test]
fn ice_credentials_reach_the_streams_we_do_ice_with() {
    use super::persist::{decode_call, encode_call};
    let mut r = reg();
    let now = clock();
    let mut f = flags("ice", "a", None, sdp(6000, ""));
    f.ice = crate::ng::flags::IceMode::Force;
    let o = r.offer(&f, &now).unwrap();
    let body = o.sdp.unwrap();
    let attr = |name: &str| {
        body.lines()
            .find_map(|l| l.strip_prefix(name))
            .unwrap()
            .to_owned()
    };
    let (ufrag, pwd) = (attr("a=ice-ufrag:"), attr("a=ice-pwd:"));
    let cfgs = configs(&o.effects);
    let callee: Vec<_> = cfgs.iter().filter(|c| c.tag.is_empty()).collect();
    assert_eq!(callee.len(), 2, "RTP and RTCP");
    for c in &callee {
        let ice = c.ice.as_ref().expect("ICE towards the callee");
        assert_eq!((&ice.ufrag, &ice.pwd), (&ufrag, &pwd));
        assert!(ice.controlling, "we sent it the offer");
        assert_eq!(ice.remote_pwd, None);
        assert!(c.kernel.stun, "STUN must reach userspace");
    }
    assert!(cfgs
        .iter()
        .filter(|c| c.tag == "a")
        .all(|c| c.ice.is_none()));

    let answer = sdp(
        7000,
        "a=ice-ufrag:bobx\r\na=ice-pwd:bobpasswordbobpassword12\r\n",
    );
    let out = r
        .answer(&flags("ice", "a", Some("b"), answer), &now)
        .unwrap();
    let cfgs = configs(&out.effects);
    let b = cfgs.iter().find(|c| c.tag == "b" && !c.is_rtcp).unwrap();
    let ice = b.ice.as_ref().unwrap();
    assert_eq!(ice.remote_ufrag.as_deref(), Some("bobx"));
    assert_eq!(ice.remote_pwd.as_deref(), Some("bobpasswordbobpassword12"));
    assert_eq!((&ice.ufrag, ice.controlling), (&ufrag, true), "kept");
    let a = cfgs.iter().find(|c| c.tag == "a" && !c.is_rtcp).unwrap();
    assert_eq!(a.ice, None, "the caller spoke no ICE and was not forced");

    // Saved and restored with the call.
    let call = r.calls["ice"].clone();
    let saved = encode_call(&call, &now);
    let back = decode_call(&saved, &now).unwrap();
    assert_eq!(r.relay_effects(&back, "ice"), r.relay_effects(&call, "ice"));

    // A call saved before these keys existed still loads, without ICE.
    let mut old = saved;
    for key in [
        "9:ice-agenti1e",
        "9:ice-agenti0e",
        "15:ice-controllingi1e",
        "15:ice-controllingi0e",
        "16:ice-remote-ufragle",
        "16:ice-remote-ufragl4:bobxe",
        "14:ice-remote-pwdle",
        "14:ice-remote-pwdl24:bobpasswordbobpassword12e",
    ] {
        while let Some(at) = old.windows(key.len()).position(|w| w == key.as_bytes()) {
            old.drain(at..at + key.len());
        }
    }
    assert!(!old.windows(9).any(|w| w == b"ice-agent"));
    let back = decode_call(&old, &now).unwrap();
    assert!(configs(&r.relay_effects(&back, "ice"))
        .iter()
        .all(|c| c.ice.is_none()));
}

#[test]
fn query_names_a_party_without_a_tag_as_10_5_does() {
    let mut r = reg();
    let now = clock();
    r.offer(&flags("c", "a", None, sdp(6000, "")), &now)
        .unwrap();
    let q = super::query::query_call(r.calls.get("c").unwrap(), &now, &NoStats);
    let tags = q.get("tags").unwrap();
    assert!(tags.get("a").is_some(), "{q}");
    // The party the offer goes to has no tag yet: monologue 1.
    assert!(tags.get("<untagged 1>").is_some(), "{q}");
    assert!(tags.get("").is_none(), "{q}");
}

#[test]
fn deleted_call_ids_are_remembered_for_their_own_period() {
    let mut r = reg();
    let t0 = Instant::now();
    r.remember_deleted("a", t0);
    r.remember_deleted("b", t0 + Duration::from_secs(10));
    // "a" deleted again: its first record expiring must not forget it.
    r.remember_deleted("a", t0 + Duration::from_secs(20));
    let later = t0 + Duration::from_secs(35);
    r.remember_deleted("c", later);
    assert!(r.was_deleted("a", later));
    assert!(r.was_deleted("b", later));
    let much_later = t0 + Duration::from_secs(45);
    r.remember_deleted("d", much_later);
    assert!(r.was_deleted("a", much_later));
    assert!(!r.was_deleted("b", much_later));
    assert!(r.was_deleted("c", much_later));
}

#[test]
fn an_answer_from_an_unknown_offerer_tag_opens_a_new_branch() {
    let mut r = reg();
    let now = clock();
    r.offer(&flags("br", "a", None, sdp(6000, "")), &now)
        .unwrap();
    // 10.5 looks the dialogue up from the answerer: "stranger" is new, so
    // the answerer "b" gets it as a new peer and the answer goes to it.
    let out = r
        .answer(&flags("br", "stranger", Some("b"), sdp(7000, "")), &now)
        .unwrap();
    assert!(out.sdp.unwrap().contains("m=audio "));
    let call = &r.calls["br"];
    let b = call.find_tag("b").expect("answerer created");
    let s = call.find_tag("stranger").expect("offerer created");
    assert_eq!(call.monologues[b].peer, Some(s));
    assert_eq!(call.monologues[s].peer, Some(b));
    // The first offerer keeps its media and is not this dialogue's party.
    let a = call.find_tag("a").unwrap();
    assert_ne!(call.monologues[a].peer, Some(s));
    assert_eq!(call.monologues[a].medias.len(), 1);
}

#[test]
fn replace_zero_address_writes_ours_over_a_hold() {
    // gen/2148: 10.5 treats a hold's 0.0.0.0 as any other address then.
    let hold = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n\
                m=audio 5000 RTP/AVP 0\r\nc=IN IP4 0.0.0.0\r\n";
    let now = clock();
    let mut r = reg();
    let offer = r
        .offer(&flags("z", "a", None, hold.into()), &now)
        .unwrap()
        .sdp
        .unwrap();
    assert!(offer.contains("c=IN IP4 0.0.0.0\r\n"), "{offer}");
    let mut r = reg();
    let mut f = flags("z", "a", None, hold.into());
    f.replace_zero_address = true;
    let offer = r.offer(&f, &now).unwrap().sdp.unwrap();
    assert!(!offer.contains("0.0.0.0"), "{offer}");
    assert!(offer.contains("c=IN IP4 127.0.0.1\r\n"), "{offer}");
}

#[test]
fn an_answer_moving_the_answerer_takes_effect_in_the_next_offer_to_it() {
    // gen/486: `direction` in an answer names another interface for the
    // answerer, which keeps its sockets then; 10.5's next offer to it binds
    // on that interface.
    let mut r = registry_on(&[
        "127.0.0.1",
        "::1",
        "internal/127.0.0.2",
        "external/127.0.0.3",
    ]);
    let now = clock();
    r.offer(&flags("m", "a", None, sdp(6000, "")), &now)
        .unwrap();
    let mut answer = flags("m", "a", Some("b"), sdp(7000, ""));
    answer.direction = vec!["internal".into(), "default".into()];
    let out = r.answer(&answer, &now).unwrap().sdp.unwrap();
    assert_eq!(addr(out), "127.0.0.1");
    let reoffer = r
        .offer(&flags("m", "a", Some("b"), sdp(6000, "")), &now)
        .unwrap()
        .sdp
        .unwrap();
    assert_eq!(addr(reoffer), "127.0.0.2");
}

#[test]
fn round_robin_calls_keeps_a_media_on_its_interface() {
    // gen/86: every logical interface is a member of `round-robin-calls`,
    // so a media already on one stays there (10.5).
    let mut r = registry_on(&[
        "127.0.0.1",
        "::1",
        "internal/127.0.0.2",
        "external/127.0.0.3",
    ]);
    let now = clock();
    for n in 0..12 {
        let id = format!("rrk-{n}");
        let mut offer = flags(&id, "a", None, sdp(6000, ""));
        offer.direction = vec!["default".into(), "internal".into()];
        assert_eq!(
            addr(r.offer(&offer, &now).unwrap().sdp.unwrap()),
            "127.0.0.2"
        );
        r.answer(&flags(&id, "a", Some("b"), sdp(7000, "")), &now)
            .unwrap();
        let mut reoffer = flags(&id, "a", Some("b"), sdp(6000, ""));
        reoffer.direction = vec!["default".into(), "round-robin-calls".into()];
        let out = r.offer(&reoffer, &now).unwrap().sdp.unwrap();
        assert_eq!(addr(out), "127.0.0.2", "{id}");
    }
}

#[test]
fn a_reoffer_with_an_unknown_to_tag_opens_a_new_branch() {
    let mut r = reg();
    let now = clock();
    let first = r
        .offer(&flags("nt", "a", None, sdp(6000, "")), &now)
        .unwrap()
        .sdp
        .unwrap();
    // No answer named the callee (its answer failed): a re-offer with a
    // to-tag 10.5 does not know is a new branch with ports of its own; the
    // untagged callee of the first offer stays, still sending to "a".
    let again = r
        .offer(&flags("nt", "a", Some("b"), sdp(6000, "")), &now)
        .unwrap()
        .sdp
        .unwrap();
    let port = |s: &str| s.split("m=audio ").nth(1).unwrap()[..5].to_owned();
    assert_ne!(port(&first), port(&again));
    let call = &r.calls["nt"];
    let a = call.find_tag("a").unwrap();
    let b = call.find_tag("b").expect("new party");
    let untagged = call.find_tag("").expect("first callee kept");
    assert_ne!(b, untagged);
    assert_eq!(call.monologues[a].peer, Some(b));
    assert_eq!(call.monologues[b].peer, Some(a));
    assert_eq!(call.monologues[untagged].peer, Some(a));
    assert_eq!(r.ports().in_use(), 6, "three RTP/RTCP pairs");
}

/// gen/621: mux required of the callee in the offer gave it one port; a
/// re-offer without `require` to a callee that answered without mux takes
/// it a new pair (10.5's endpoint map has too few ports and is refilled),
/// not the single port with `a=rtcp:0`.
#[test]
fn a_reoffer_no_longer_requiring_mux_gives_the_receiver_a_pair() {
    let mut r = reg();
    let now = clock();
    let mut offer = flags("rq", "a", None, sdp(6000, ""));
    offer.rtcp_mux.require = true;
    let first = r.offer(&offer, &now).unwrap().sdp.unwrap();
    assert!(first.contains("a=rtcp-mux"), "{first}");
    r.answer(&flags("rq", "a", Some("b"), sdp(7000, "")), &now)
        .unwrap();
    let body = r
        .offer(&flags("rq", "a", Some("b"), sdp(6000, "")), &now)
        .unwrap()
        .sdp
        .unwrap();
    assert!(!body.contains("a=rtcp:0"), "{body}");
    let port: u16 = body
        .lines()
        .find_map(|l| l.strip_prefix("m=audio "))
        .and_then(|l| l.split(' ').next())
        .unwrap()
        .parse()
        .unwrap();
    assert!(body.contains(&format!("a=rtcp:{}\r\n", port + 1)), "{body}");
    r.delete(&flags("rq", "a", None, String::new()), &now)
        .unwrap();
    assert_eq!(r.ports().in_use(), 0, "every port given back");
}

/// gen/2512: 10.5 knows no `symmetric` flag, so `asymmetric` given beside
/// it still makes the side asymmetric (its query flags say so).
#[test]
fn asymmetric_holds_beside_symmetric() {
    let mut r = reg();
    let now = clock();
    r.offer(&flags("as", "a", None, sdp(6000, "")), &now)
        .unwrap();
    let mut answer = flags("as", "a", Some("b"), sdp(7000, ""));
    answer.symmetric = true;
    answer.asymmetric = true;
    r.answer(&answer, &now).unwrap();
    let b = r.calls["as"].find_tag("b").unwrap();
    assert!(r.calls["as"].monologues[b].learning.asymmetric);
}

/// gen/1841: a caller muxing on one port that an answer's `address-family`
/// moves to IPv6 keeps its socketless RTCP stream on the IPv4 address, as
/// 10.5 shows it.
#[test]
fn a_moved_muxing_side_keeps_the_address_of_its_socketless_rtcp_stream() {
    let mut r = reg();
    let now = clock();
    let mut offer = flags("mv", "a", None, sdp(6000, "a=rtcp-mux\r\n"));
    offer.rtcp_mux.offer = true;
    offer.rtcp_mux.accept = true;
    r.offer(&offer, &now).unwrap();
    let mut answer = flags("mv", "a", Some("b"), sdp(7000, ""));
    answer.address_family = Some(crate::ng::flags::Family::V6);
    r.answer(&answer, &now).unwrap();
    let a = &r.calls["mv"].monologues[0].medias[0];
    assert!(a.rtp.as_ref().unwrap().local.is_ipv6(), "moved to IPv6");
    let rtcp = a.rtcp.as_ref().unwrap().local;
    assert_eq!(rtcp.port(), 0);
    assert!(rtcp.is_ipv4(), "{rtcp}");
}

/// 10.5 (gen/1794): `rtcp-mux: require` leaves a rejected section (port 0)
/// of the receiver without mux: its mux logic runs for sections with a
/// port only, so a query shows no `rtcp-mux` there.
#[test]
fn require_mux_skips_a_rejected_section() {
    let mut r = reg();
    let now = clock();
    let body = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n\
                m=audio 6000 RTP/AVP 0\r\nm=video 0 RTP/AVP 31\r\n";
    let mut f = flags("rj", "a", Some("b"), body.to_string());
    f.rtcp_mux.require = true;
    r.offer(&f, &now).unwrap();
    let callee = r.calls["rj"]
        .monologues
        .iter()
        .find(|m| m.tag == "b")
        .unwrap();
    assert!(callee.medias[0].rtcp_mux);
    assert!(!callee.medias[1].rtcp_mux);
}
