//! Calls of another node (10.5's foreign calls): kept without sockets,
//! exempt from all timeouts but the final one, taken over and handed back.

use std::time::Duration;

use super::effect::{Effect, NoStats};
use super::model::{Call, Now};
use super::tests::{clock, flags, reg, TestRegistry};
use super::Expiry;

fn sdp(port: u16) -> String {
    format!(
        "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n\
         m=audio {port} RTP/AVP 0\r\n"
    )
}

fn after(now: &Now, secs: u64) -> Now {
    Now {
        mono: now.mono + Duration::from_secs(secs),
        unix: now.unix + Duration::from_secs(secs),
    }
}

/// An answered call as the other node has it.
fn other_nodes_call(now: &Now) -> Call {
    let mut other = reg();
    other.offer(&flags("c", "a", None, sdp(6000)), now).unwrap();
    other
        .answer(&flags("c", "a", Some("b"), sdp(7000)), now)
        .unwrap();
    other.calls["c"].clone()
}

fn relays(effects: &[Effect]) -> usize {
    effects
        .iter()
        .filter(|e| matches!(e, Effect::Relay(_)))
        .count()
}

fn adopted(now: &Now) -> TestRegistry {
    let mut r = reg();
    // A stream of ours first: the foreign call's ids must not repeat it.
    r.offer(&flags("gone", "x", None, sdp(8000)), now).unwrap();
    r.terminate("gone", now, &NoStats).unwrap();
    let effects = r.adopt_foreign(other_nodes_call(now), 3, now).unwrap();
    assert!(effects.is_empty(), "nothing to relay: {effects:?}");
    // And an own call, on other ports.
    r.offer(&flags("own", "x", None, sdp(8000)), now).unwrap();
    r
}

#[test]
fn a_foreign_call_holds_its_ports_with_fresh_stream_ids() {
    let now = clock();
    let r = adopted(&now);
    let c = &r.calls["c"];
    assert!(c.foreign);
    assert_eq!(c.redis_db, 3);
    assert_eq!(r.foreign_calls(), 1);
    assert!(r.ports().is_used("127.0.0.1".parse().unwrap(), 40000));
    let own: Vec<_> = r.calls["own"]
        .monologues
        .iter()
        .flat_map(|m| m.streams())
        .map(|s| s.id)
        .collect();
    assert!(c
        .monologues
        .iter()
        .flat_map(|m| m.streams())
        .all(|s| !own.contains(&s.id)));
}

#[test]
fn a_foreign_call_does_not_replace_an_own_call() {
    let now = clock();
    let mut r = reg();
    r.offer(&flags("c", "a", None, sdp(6000)), &now).unwrap();
    let before = r.ports().in_use();
    assert!(r.adopt_foreign(other_nodes_call(&now), 3, &now).is_err());
    assert!(!r.calls["c"].foreign);
    assert_eq!(r.ports().in_use(), before);
    assert_eq!(r.drop_foreign("c"), None, "an own call is not dropped");
}

#[test]
fn a_newer_version_replaces_the_foreign_call_and_a_delete_drops_it() {
    let now = clock();
    let mut r = adopted(&now);
    let before = r.ports().in_use();
    r.adopt_foreign(other_nodes_call(&now), 3, &now).unwrap();
    assert_eq!(r.ports().in_use(), before, "the same ports, once");
    assert!(r.drop_foreign("c").is_some());
    assert!(!r.calls.contains_key("c"));
    assert_eq!(r.ports().in_use(), before - 4);
}

#[test]
fn only_the_final_timeout_ends_a_foreign_call() {
    let now = clock();
    let mut r = adopted(&now);
    r.settings.timeout = Duration::from_secs(60);
    r.settings.offer_timeout = Duration::from_secs(60);
    let swept: Vec<_> = r.sweep(&after(&now, 1000), &NoStats);
    assert_eq!(swept.len(), 1, "the own call only");
    assert_eq!(swept[0].0, "own");
    r.settings.final_timeout = Duration::from_secs(2000);
    assert!(r.sweep(&after(&now, 1999), &NoStats).is_empty());
    let swept = r.sweep(&after(&now, 2000), &NoStats);
    assert_eq!(swept.len(), 1);
    assert_eq!(swept[0].1, Expiry::FinalTimeout);
}

#[test]
fn taken_over_a_call_relays_and_counts_as_signalled_now() {
    let now = clock();
    let mut r = adopted(&now);
    r.settings.timeout = Duration::from_secs(60);
    let later = after(&now, 500);
    let effects = r.set_foreign("c", false, &later);
    assert_eq!(relays(&effects), 4, "every stream relays");
    let c = &r.calls["c"];
    assert!(!c.foreign);
    assert_eq!(c.last_signal, later.unix + Duration::from_secs(1));
    assert!(r.set_foreign("c", false, &later).is_empty(), "once");
    // A full timeout from the takeover before media must show up.
    assert!(r
        .sweep(&after(&now, 550), &NoStats)
        .iter()
        .all(|s| s.0 != "c"));
    // Handed back: its sockets close, its ports stay.
    let effects = r.set_foreign("c", true, &later);
    assert_eq!(effects.len(), 4);
    assert!(effects.iter().all(|e| matches!(e, Effect::Close(_))));
    assert!(r.calls["c"].foreign);
}

/// Documents in Redis number each call's streams from 0: calls restored
/// together must still relay on streams of their own.
#[test]
fn restored_calls_with_the_same_stream_ids_get_their_own() {
    let now = clock();
    let mut other = reg();
    for id in ["c1", "c2"] {
        other.offer(&flags(id, "a", None, sdp(6000)), &now).unwrap();
        other
            .answer(&flags(id, "a", Some("b"), sdp(7000)), &now)
            .unwrap();
    }
    let mut calls = vec![other.calls["c1"].clone(), other.calls["c2"].clone()];
    for c in calls.iter_mut() {
        let mut n = 0;
        for m in c.monologues.iter_mut() {
            for media in m.medias.iter_mut() {
                for s in media.rtp.iter_mut().chain(media.rtcp.iter_mut()) {
                    s.id = super::effect::StreamId(n);
                    n += 1;
                }
            }
        }
    }
    let mut r = reg();
    let (effects, skipped) = r.restore(calls, &now);
    assert!(skipped.is_empty(), "{skipped:?}");
    let mut ids: Vec<_> = effects
        .iter()
        .filter_map(|e| match e {
            Effect::Relay(cfg) => Some(cfg.id),
            _ => None,
        })
        .collect();
    assert_eq!(ids.len(), 8);
    ids.sort_by_key(|i| i.0);
    ids.dedup();
    assert_eq!(ids.len(), 8, "one id per stream");
}
