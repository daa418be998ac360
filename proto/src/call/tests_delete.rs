//! Which party a delete or query names, as rtpengine 10.5 finds it (each case
//! measured against 10.5 with tests/differential/ng_live_diff.py).

use super::effect::NoStats;
use super::query::query_parties;
use super::tests::{clock, flags, reg, TestRegistry};
use super::Deleted;
use crate::ng::bencode::Owned;
use crate::ng::flags::Flags;

fn sdp(port: u16) -> String {
    format!("v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio {port} RTP/AVP 0\r\n")
}

fn delete(from: &str, to: Option<&str>) -> Flags {
    flags("c", from, to, String::new())
}

fn tag_names(q: &Owned) -> Vec<String> {
    match q.get("tags") {
        Some(Owned::Dict(d)) => d
            .iter()
            .map(|(k, _)| String::from_utf8_lossy(k).into_owned())
            .collect(),
        other => panic!("no tags: {other:?}"),
    }
}

fn offered() -> TestRegistry {
    let mut r = reg();
    r.offer(&flags("c", "a", None, sdp(6000)), &clock())
        .unwrap();
    r
}

fn answered() -> TestRegistry {
    let mut r = offered();
    r.answer(&flags("c", "a", Some("b"), sdp(6002)), &clock())
        .unwrap();
    r
}

#[test]
fn an_unknown_to_tag_deletes_an_offer_not_yet_answered() {
    // 10.5 falls back to the from-tag when the party it talks to has no tag.
    let mut r = offered();
    let (d, effects) = r.delete(&delete("a", Some("b")), &clock()).unwrap();
    let Deleted::Call(call) = d else {
        panic!("not deleted: {d:?}")
    };
    assert!(!effects.is_empty());
    assert!(r.calls.is_empty());
    // Its statistics name the to-tag, which no party has: no parties.
    let q = query_parties(&call, Some("b"), &clock(), &NoStats);
    assert!(tag_names(&q).is_empty(), "{q}");
}

#[test]
fn an_unknown_to_tag_of_an_answered_call_deletes_nothing() {
    let mut r = answered();
    let (d, _) = r.delete(&delete("a", Some("x")), &clock()).unwrap();
    assert!(matches!(d, Deleted::NotFound), "{d:?}");
    let mut fatal = delete("a", Some("x"));
    fatal.fatal = true;
    assert!(r.delete(&fatal, &clock()).is_err());
    assert_eq!(r.calls.len(), 1);
}

#[test]
fn a_known_to_tag_is_enough_whatever_the_from_tag() {
    let mut r = answered();
    let (d, _) = r.delete(&delete("x", Some("b")), &clock()).unwrap();
    assert!(matches!(d, Deleted::Call(_)), "{d:?}");
    assert!(r.calls.is_empty());
}

#[test]
fn a_reply_naming_a_tag_shows_that_party_and_who_sends_to_it() {
    let mut r = answered();
    // A second dialogue in the same call (c <-> e).
    r.offer(&flags("c", "c", None, sdp(6004)), &clock())
        .unwrap();
    r.answer(&flags("c", "c", Some("e"), sdp(6006)), &clock())
        .unwrap();
    let call = r.calls.get("c").unwrap();
    let q = query_parties(call, Some("b"), &clock(), &NoStats);
    assert_eq!(tag_names(&q), ["b", "a"], "{q}");
    let q = query_parties(call, None, &clock(), &NoStats);
    assert_eq!(tag_names(&q), ["a", "b", "c", "e"], "{q}");
    let q = query_parties(call, Some("zz"), &clock(), &NoStats);
    assert!(tag_names(&q).is_empty(), "{q}");
}

#[test]
fn deleting_one_dialogue_of_two_keeps_the_other() {
    let mut r = answered();
    r.offer(&flags("c", "c", None, sdp(6004)), &clock())
        .unwrap();
    r.answer(&flags("c", "c", Some("e"), sdp(6006)), &clock())
        .unwrap();
    // By the callee's tag alone: the caller talked only to it and goes too.
    let (d, _) = r.delete(&delete("x", Some("b")), &clock()).unwrap();
    assert!(matches!(d, Deleted::Branch(_)), "{d:?}");
    let q = query_parties(r.calls.get("c").unwrap(), None, &clock(), &NoStats);
    assert_eq!(tag_names(&q), ["c", "e"], "{q}");
}

#[test]
fn an_operator_terminates_a_call_at_once_and_counts_it_forced() {
    let mut r = answered();
    r.settings.delete_delay = std::time::Duration::from_secs(30);
    assert!(r.terminate("nope", &clock(), &NoStats).is_none());
    let effects = r.terminate("c", &clock(), &NoStats).unwrap();
    assert!(!effects.is_empty(), "its ports are released");
    assert!(r.calls.is_empty(), "no delete-delay");
    assert_eq!((r.totals.forced, r.totals.managed), (1, 1));
    // A call a delete already ended counts as the regular end it was.
    let mut r = answered();
    r.settings.delete_delay = std::time::Duration::from_secs(30);
    r.delete(&flags("c", "", None, String::new()), &clock())
        .unwrap();
    assert_eq!(r.calls.len(), 1, "waits for its delete-delay");
    r.terminate("c", &clock(), &NoStats).unwrap();
    assert_eq!((r.totals.forced, r.totals.regular), (0, 1));
}
