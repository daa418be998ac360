//! Media timeouts per packet stream, as rtpengine 10.5's call timer applies
//! them: the call ends when every stream has passed its own limit.

use std::time::Duration;

use super::effect::NoStats;
use super::model::Now;
use super::tests::{clock, flags, reg, TestRegistry};
use super::Expiry;

fn sdp(port: u16, direction: &str) -> String {
    format!(
        "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n\
         m=audio {port} RTP/AVP 0\r\n{direction}"
    )
}

fn after(now: &Now, secs: u64) -> Now {
    Now {
        mono: now.mono + Duration::from_secs(secs),
        unix: now.unix + Duration::from_secs(secs),
    }
}

fn swept(r: &mut TestRegistry, at: &Now) -> Vec<Expiry> {
    r.sweep(at, &NoStats).into_iter().map(|g| g.1).collect()
}

/// 10.5 gives the offerer's streams `timeout` and the unanswered side's
/// `offer-timeout`: a short offer timeout alone does not end the call.
#[test]
fn an_unanswered_call_ends_when_the_offerer_side_also_timed_out() {
    let mut r = reg();
    r.settings.timeout = Duration::from_secs(60);
    r.settings.offer_timeout = Duration::from_secs(5);
    let now = clock();
    r.offer(&flags("c", "a", None, sdp(6000, "")), &now)
        .unwrap();
    assert!(swept(&mut r, &after(&now, 10)).is_empty());
    assert_eq!(swept(&mut r, &after(&now, 61)), vec![Expiry::OfferTimeout]);
    assert_eq!(r.ports().in_use(), 0);
}

/// And a long offer timeout keeps an unanswered call past `timeout`.
#[test]
fn an_unanswered_call_waits_for_the_offer_timeout() {
    let mut r = reg();
    r.settings.timeout = Duration::from_secs(60);
    r.settings.offer_timeout = Duration::from_secs(600);
    let now = clock();
    r.offer(&flags("c", "a", None, sdp(6000, "")), &now)
        .unwrap();
    assert!(swept(&mut r, &after(&now, 120)).is_empty());
    assert_eq!(swept(&mut r, &after(&now, 601)), vec![Expiry::OfferTimeout]);
}

/// On hold the side we no longer receive from waits `silent-timeout`; the
/// held party's own streams still count `timeout`.
#[test]
fn a_held_call_ends_at_the_silent_timeout() {
    let mut r = reg();
    r.settings.timeout = Duration::from_secs(60);
    r.settings.silent_timeout = Duration::from_secs(300);
    let now = clock();
    r.offer(&flags("c", "a", None, sdp(6000, "")), &now)
        .unwrap();
    r.answer(&flags("c", "a", Some("b"), sdp(7000, "")), &now)
        .unwrap();
    r.offer(
        &flags("c", "a", Some("b"), sdp(6000, "a=sendonly\r\n")),
        &now,
    )
    .unwrap();
    r.answer(
        &flags("c", "a", Some("b"), sdp(7000, "a=recvonly\r\n")),
        &now,
    )
    .unwrap();
    assert!(swept(&mut r, &after(&now, 120)).is_empty());
    assert_eq!(
        swept(&mut r, &after(&now, 301)),
        vec![Expiry::SilentTimeout]
    );
}

#[test]
fn an_answered_call_ends_at_the_timeout() {
    let mut r = reg();
    r.settings.timeout = Duration::from_secs(60);
    r.settings.offer_timeout = Duration::from_secs(5);
    let now = clock();
    r.offer(&flags("c", "a", None, sdp(6000, "")), &now)
        .unwrap();
    r.answer(&flags("c", "a", Some("b"), sdp(7000, "")), &now)
        .unwrap();
    assert!(swept(&mut r, &after(&now, 30)).is_empty());
    assert_eq!(swept(&mut r, &after(&now, 61)), vec![Expiry::Timeout]);
}
