//! Address families and the addresses we write into SDP, as rtpengine 10.5
//! chooses them (each case measured against 10.5 with
//! tests/differential/ng_live_diff.py): `address-family` picks the family of
//! the interface toward the SDP's receiver, `media-address` is only written
//! (c= and our ICE candidates), a hold's unspecified address follows our
//! interface's family.

use super::effect::NoStats;
use super::tests::{clock, flags, reg, TestRegistry};
use crate::ng::bencode::Owned;
use crate::ng::flags::{Family, IceMode};

fn sdp(c: &str, port: u16) -> String {
    format!(
        "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc={c}\r\nt=0 0\r\nm=audio {port} RTP/AVP 0\r\n"
    )
}

/// The `local address` of `tag`'s RTP stream.
fn local_address(r: &TestRegistry, tag: &str) -> String {
    let q = super::query::query_call(r.calls.get("c").unwrap(), &clock(), &NoStats);
    let medias = q
        .get("tags")
        .and_then(|t| t.get(tag))
        .and_then(|t| t.get("medias"));
    let Some(Owned::List(medias)) = medias else {
        panic!("no medias for {tag}: {q}");
    };
    let Some(Owned::List(streams)) = medias[0].get("streams") else {
        panic!("no streams for {tag}");
    };
    match streams[0].get("local address") {
        Some(Owned::Bytes(b)) => String::from_utf8_lossy(b).into_owned(),
        other => panic!("no local address: {other:?}"),
    }
}

fn lines<'a>(sdp: &'a str, prefix: &str) -> Vec<&'a str> {
    sdp.lines().filter(|l| l.starts_with(prefix)).collect()
}

#[test]
fn media_address_is_written_in_c_and_candidates_and_chooses_no_family() {
    let mut r = reg();
    let mut offer = flags("c", "a", None, sdp("IN IP4 192.0.2.1", 6000));
    offer.media_address = Some("2001:db8::7".parse().unwrap());
    offer.ice = IceMode::Force;
    let out = r.offer(&offer, &clock()).unwrap().sdp.unwrap();
    assert_eq!(lines(&out, "c="), ["c=IN IP6 2001:db8::7"], "{out}");
    let candidates = lines(&out, "a=candidate");
    assert!(!candidates.is_empty());
    assert!(
        candidates.iter().all(|c| c.contains(" 2001:db8::7 ")),
        "{candidates:?}"
    );
    // Our socket toward the callee stays on the IPv4 interface.
    assert_eq!(local_address(&r, "<untagged 1>"), "127.0.0.1");
}

#[test]
fn media_address_wins_over_a_hold() {
    let mut r = reg();
    let mut offer = flags("c", "a", None, sdp("IN IP4 0.0.0.0", 6000));
    offer.media_address = Some("198.51.100.7".parse().unwrap());
    let out = r.offer(&offer, &clock()).unwrap().sdp.unwrap();
    assert_eq!(lines(&out, "c="), ["c=IN IP4 198.51.100.7"], "{out}");
}

#[test]
fn a_hold_toward_an_ipv6_interface_reads_the_ipv6_unspecified_address() {
    let mut r = reg();
    let mut offer = flags("c", "a", None, sdp("IN IP4 0.0.0.0", 6000));
    offer.address_family = Some(Family::V6);
    let out = r.offer(&offer, &clock()).unwrap().sdp.unwrap();
    assert_eq!(lines(&out, "c="), ["c=IN IP6 ::"], "{out}");
    assert_eq!(local_address(&r, "<untagged 1>"), "::1");
}

#[test]
fn address_family_in_an_answer_moves_the_offerer() {
    let mut r = reg();
    let now = clock();
    r.offer(&flags("c", "a", None, sdp("IN IP4 192.0.2.1", 6000)), &now)
        .unwrap();
    assert_eq!(local_address(&r, "a"), "127.0.0.1");
    let mut answer = flags("c", "a", Some("b"), sdp("IN IP4 192.0.2.2", 7000));
    answer.address_family = Some(Family::V6);
    let out = r.answer(&answer, &now).unwrap().sdp.unwrap();
    assert_eq!(lines(&out, "c="), ["c=IN IP6 ::1"], "{out}");
    assert_eq!(local_address(&r, "a"), "::1");
}

/// gen/9 and gen/258 of the generator run: an answer moves only the side it
/// goes to (10.5 takes new sockets for that side alone); the answerer's own
/// family counts when it next receives an SDP.
#[test]
fn the_answerer_moves_to_the_family_it_answered_with_on_the_next_offer() {
    let mut r = reg();
    let now = clock();
    r.offer(
        &flags("c", "a", None, sdp("IN IP6 2001:db8::10", 6000)),
        &now,
    )
    .unwrap();
    assert_eq!(local_address(&r, "<untagged 1>"), "::1");
    let mut answer = flags("c", "a", Some("b"), sdp("IN IP4 192.0.2.2", 7000));
    answer.address_family = Some(Family::V4);
    r.answer(&answer, &now).unwrap();
    assert_eq!(local_address(&r, "a"), "127.0.0.1");
    assert_eq!(local_address(&r, "b"), "::1");
    let reoffer = flags("c", "a", Some("b"), sdp("IN IP6 2001:db8::10", 6000));
    let out = r.offer(&reoffer, &now).unwrap().sdp.unwrap();
    assert_eq!(lines(&out, "c="), ["c=IN IP4 127.0.0.1"], "{out}");
    assert_eq!(local_address(&r, "b"), "127.0.0.1");
}

/// gen/204: `direction` naming an IPv4-only interface for an IPv6 party
/// still gets that interface; a re-offer without `direction` keeps it while
/// the party's family is the interface's.
#[test]
fn a_named_interface_wins_over_the_family_and_stays() {
    let mut settings = super::tests::settings();
    settings
        .interfaces
        .push(super::interface::Interface::parse("int/127.0.0.2").unwrap());
    let mut r = super::tests::registry(settings, super::ports::RangeCursor::new(40000, 40099));
    let now = clock();
    let mut offer = flags("c", "a", None, sdp("IN IP6 2001:db8::10", 6000));
    offer.direction = vec!["pub".into(), "int".into()];
    let out = r.offer(&offer, &now).unwrap().sdp.unwrap();
    assert_eq!(lines(&out, "c="), ["c=IN IP4 127.0.0.2"], "{out}");
    assert_eq!(local_address(&r, "a"), "::1");
    r.answer(
        &flags("c", "a", Some("b"), sdp("IN IP4 192.0.2.2", 7000)),
        &now,
    )
    .unwrap();
    let reoffer = flags("c", "a", Some("b"), sdp("IN IP4 192.0.2.1", 6000));
    let out = r.offer(&reoffer, &now).unwrap().sdp.unwrap();
    assert_eq!(lines(&out, "c="), ["c=IN IP4 127.0.0.2"], "{out}");
}

#[test]
fn a_family_without_an_interface_falls_back_to_the_default() {
    // IPv4 only: an IPv6 offerer and `address family: IP6` still get the
    // IPv4 interface (10.5: "Requested address family not supported").
    let mut settings = super::tests::settings();
    settings.interfaces.truncate(1);
    let mut r = super::tests::registry(settings, super::ports::RangeCursor::new(40000, 40099));
    let now = clock();
    let out = r
        .offer(
            &flags("c", "a", None, sdp("IN IP6 2001:db8::10", 6000)),
            &now,
        )
        .unwrap()
        .sdp
        .unwrap();
    assert_eq!(lines(&out, "c="), ["c=IN IP4 127.0.0.1"], "{out}");
    assert_eq!(local_address(&r, "a"), "127.0.0.1");
    let mut answer = flags("c", "a", Some("b"), sdp("IN IP4 192.0.2.2", 7000));
    answer.address_family = Some(Family::V6);
    let out = r.answer(&answer, &now).unwrap().sdp.unwrap();
    assert_eq!(lines(&out, "c="), ["c=IN IP4 127.0.0.1"], "{out}");
}

/// gen/2412, gen/2800: the callee of an ICE offerer was offered ICE on IPv6
/// (`address-family`) and answered from IPv4 without ICE. 10.5 turns its
/// ICE flag off with that answer and takes its family from the answer's
/// address, so the next offer moves it to IPv4, with new ports.
#[test]
fn an_answerer_that_drops_ice_moves_to_its_family_on_the_next_offer() {
    let mut r = reg();
    let now = clock();
    let ice = "a=ice-ufrag:Oyef\r\na=ice-pwd:7ZwpNkjTPFuZpGl4Ub2pLmI3\r\n\
               a=candidate:1 1 udp 2122260223 192.0.2.1 6000 typ host\r\n";
    let caller = format!("{}{ice}", sdp("IN IP4 192.0.2.1", 6000));
    let mut offer = flags("c", "a", None, caller.clone());
    offer.address_family = Some(Family::V6);
    let out = r.offer(&offer, &now).unwrap().sdp.unwrap();
    assert_eq!(lines(&out, "c="), ["c=IN IP6 ::1"], "{out}");
    r.answer(
        &flags("c", "a", Some("b"), sdp("IN IP4 192.0.2.2", 7000)),
        &now,
    )
    .unwrap();
    assert_eq!(local_address(&r, "b"), "::1");
    let out = r
        .offer(&flags("c", "a", Some("b"), caller), &now)
        .unwrap()
        .sdp
        .unwrap();
    assert_eq!(lines(&out, "c="), ["c=IN IP4 127.0.0.1"], "{out}");
    assert_eq!(local_address(&r, "b"), "127.0.0.1");
}
