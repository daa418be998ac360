//! STUN through the engine, scripted: what a stream doing ICE answers, and
//! that nothing of it is relayed or learned.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use proptest::prelude::*;

use super::IceSettings;
use crate::call::{IceCredentials, StreamConfig, StreamId};
use crate::media::engine::{Engine, Event, Output, Transmit};
use crate::media::stun::{
    attr, error_code, fingerprint_matches, integrity_matches, message_type, xor_address, Attribute,
    Attributes, Class, Header, Writer, BINDING,
};

const A: StreamId = StreamId(1);
const B: StreamId = StreamId(2);
const UFRAG: &str = "evtj";
/// RFC 5769's password, so that its sample request is valid for stream A.
const PWD: &str = "VOkJxbRl1RmTxUk/WvJxBt";
const PEER_PWD: &str = "peer-password-0123456789";
const TIEBREAKER: u64 = 0x8000_0000_0000_0000;
const TX: [u8; 12] = [7; 12];

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

fn creds(controlling: bool) -> IceCredentials {
    IceCredentials {
        ufrag: UFRAG.into(),
        pwd: PWD.into(),
        remote_ufrag: Some("h6vY".into()),
        remote_pwd: Some(PEER_PWD.into()),
        controlling,
        remote_candidates: Vec::new(),
        lite: false,
    }
}

fn stream(id: StreamId, local: &str, endpoint: &str, sink: StreamId) -> StreamConfig {
    crate::media::engine::test_config::stream(id, addr(local), addr(endpoint), sink)
}

/// A (ICE with the browser at 192.0.2.1:5000, `ice` credentials) and B (plain).
fn call(now: Instant, ice: Option<IceCredentials>) -> Engine {
    let mut e = Engine::new(false, Duration::ZERO).with_ice(IceSettings {
        software: "rtpengine-rs-test".into(),
        tiebreaker: TIEBREAKER,
        ..IceSettings::default()
    });
    let mut a = stream(A, "203.0.113.1:30000", "192.0.2.1:5000", B);
    a.ice = ice;
    e.configure(now, a);
    e.configure(now, stream(B, "203.0.113.1:30002", "192.0.2.2:6000", A));
    e
}

/// A binding request from a client: USERNAME, what `more` adds, then
/// MESSAGE-INTEGRITY under `pwd` and FINGERPRINT.
fn request(username: &str, pwd: &str, more: impl FnOnce(&mut Writer)) -> Vec<u8> {
    let mut buf = vec![0u8; 1500];
    let mut w = Writer::new(&mut buf, message_type(BINDING, Class::Request), TX).unwrap();
    w.attribute(attr::USERNAME, username.as_bytes()).unwrap();
    w.attribute(attr::PRIORITY, &0x6e00_01ffu32.to_be_bytes())
        .unwrap();
    more(&mut w);
    w.message_integrity(pwd.as_bytes()).unwrap();
    w.fingerprint().unwrap();
    let n = w.finish();
    buf.truncate(n);
    buf
}

fn valid() -> Vec<u8> {
    request("evtj:h6vY", PWD, |w| {
        w.attribute(attr::ICE_CONTROLLED, &1u64.to_be_bytes())
            .unwrap();
    })
}

/// Feeds `msg` to stream A from `src`; the answer's bytes, if any.
fn feed(e: &mut Engine, src: SocketAddr, msg: &[u8]) -> Option<(Transmit, Vec<u8>)> {
    let mut buf = msg.to_vec();
    buf.resize(2048, 0);
    let t = e.datagram(Instant::now(), A, src, &mut buf, msg.len())?;
    Some((t, buf[..t.len].to_vec()))
}

/// The attributes of a message we sent, which must carry a good FINGERPRINT.
fn answer_attrs(msg: &[u8]) -> Vec<Attribute<'_>> {
    let list: Vec<_> = Attributes::new(msg).collect::<Result<_, _>>().unwrap();
    let fp = list.last().unwrap();
    assert_eq!(fp.kind, attr::FINGERPRINT);
    assert!(fingerprint_matches(msg, fp.at, fp.u32().unwrap()));
    list
}

fn signed_with(msg: &[u8], list: &[Attribute<'_>], pwd: &str) -> bool {
    let mi = list
        .iter()
        .find(|a| a.kind == attr::MESSAGE_INTEGRITY)
        .unwrap();
    integrity_matches(msg, mi.at, mi.value, pwd.as_bytes())
}

/// The error code of an error response we sent (and its transaction).
fn error_of(msg: &[u8]) -> u16 {
    let h = Header::parse(msg).unwrap();
    assert_eq!((h.class, h.transaction), (Class::Error, TX));
    let list = answer_attrs(msg);
    let ec = list.iter().find(|a| a.kind == attr::ERROR_CODE).unwrap();
    error_code(ec.value).unwrap().0
}

#[test]
fn a_valid_request_is_answered_out_of_the_same_socket_and_not_relayed() {
    let now = Instant::now();
    let mut e = call(now, Some(creds(false)));
    let browser = addr("198.51.100.7:40000");
    let (t, msg) = feed(&mut e, browser, &valid()).expect("answered");
    assert_eq!((t.via, t.to), (A, browser));
    let h = Header::parse(&msg).unwrap();
    assert_eq!(
        (h.method, h.class, h.transaction),
        (BINDING, Class::Success, TX)
    );
    let list = answer_attrs(&msg);
    let kinds: Vec<u16> = list.iter().map(|a| a.kind).collect();
    assert_eq!(
        kinds,
        [
            attr::SOFTWARE,
            attr::XOR_MAPPED_ADDRESS,
            attr::MESSAGE_INTEGRITY,
            attr::FINGERPRINT
        ]
    );
    assert_eq!(list[0].value, b"rtpengine-rs-test");
    assert_eq!(xor_address(list[1].value, &TX), Ok(browser));
    assert!(signed_with(&msg, &list, PWD), "under our password");
    let s = e.stats(A).unwrap();
    assert_eq!((s.stun, s.packets, s.errors), (1, 0, 0));
    // Only a check of ours that succeeds selects a pair (the agent sends
    // one back); the peer's check alone teaches learning nothing.
    assert_eq!(s.learned, None, "STUN teaches endpoint learning nothing");
    assert_eq!(e.stats(B).unwrap().packets, 0);
}

#[test]
fn the_rfc5769_sample_request_is_answered() {
    // RFC 5769 section 2.1, USERNAME "evtj:h6vY" under PWD, sent by a client
    // whose ICE code we did not write.
    let sample: [u8; 108] = [
        0x00, 0x01, 0x00, 0x58, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6,
        0x86, 0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x10, 0x53, 0x54, 0x55, 0x4e, 0x20, 0x74,
        0x65, 0x73, 0x74, 0x20, 0x63, 0x6c, 0x69, 0x65, 0x6e, 0x74, 0x00, 0x24, 0x00, 0x04, 0x6e,
        0x00, 0x01, 0xff, 0x80, 0x29, 0x00, 0x08, 0x93, 0x2f, 0xf9, 0xb1, 0x51, 0x26, 0x3b, 0x36,
        0x00, 0x06, 0x00, 0x09, 0x65, 0x76, 0x74, 0x6a, 0x3a, 0x68, 0x36, 0x76, 0x59, 0x20, 0x20,
        0x20, 0x00, 0x08, 0x00, 0x14, 0x9a, 0xea, 0xa7, 0x0c, 0xbf, 0xd8, 0xcb, 0x56, 0x78, 0x1e,
        0xf2, 0xb5, 0xb2, 0xd3, 0xf2, 0x49, 0xc1, 0xb5, 0x71, 0xa2, 0x80, 0x28, 0x00, 0x04, 0xe5,
        0x7a, 0x3b, 0xcf,
    ];
    let mut e = call(Instant::now(), Some(creds(true)));
    let src = addr("[2001:db8::5]:32853");
    let (t, msg) = feed(&mut e, src, &sample).expect("answered");
    assert_eq!(t.to, src);
    let h = Header::parse(&msg).unwrap();
    assert_eq!(h.class, Class::Success);
    let list = answer_attrs(&msg);
    assert_eq!(xor_address(list[1].value, &h.transaction), Ok(src));
    assert!(signed_with(&msg, &list, PWD));
}

#[test]
fn a_wrong_password_or_ufrag_gets_401_signed_with_the_peers_password() {
    let mut e = call(Instant::now(), Some(creds(false)));
    let src = addr("198.51.100.7:40000");
    for bad in [
        request("evtj:h6vY", "not-the-password", |_| {}),
        request("other:h6vY", PWD, |_| {}),
        request("evtj:", PWD, |_| {}),
        request("evtjh6vY", PWD, |_| {}),
    ] {
        let (t, msg) = feed(&mut e, src, &bad).expect("answered");
        assert_eq!((t.via, t.to), (A, src));
        assert_eq!(error_of(&msg), 401);
        let list = answer_attrs(&msg);
        assert!(
            signed_with(&msg, &list, PEER_PWD),
            "10.5 signs errors with pwd[0]"
        );
    }
    // Without the peer's password the error carries no MESSAGE-INTEGRITY.
    let mut unsigned = creds(false);
    unsigned.remote_pwd = None;
    let mut e = call(Instant::now(), Some(unsigned));
    let (_, msg) = feed(&mut e, src, &request("evtj:x", "nope", |_| {})).unwrap();
    assert_eq!(error_of(&msg), 401);
    assert!(!answer_attrs(&msg)
        .iter()
        .any(|a| a.kind == attr::MESSAGE_INTEGRITY));
    assert_eq!(e.stats(A).unwrap().stun, 1);
}

#[test]
fn missing_integrity_or_username_gets_400() {
    let mut e = call(Instant::now(), Some(creds(false)));
    let src = addr("198.51.100.7:40000");
    // Only a FINGERPRINT.
    let mut buf = [0u8; 64];
    let mut w = Writer::new(&mut buf, message_type(BINDING, Class::Request), TX).unwrap();
    w.attribute(attr::USERNAME, b"evtj:h6vY").unwrap();
    w.fingerprint().unwrap();
    let n = w.finish();
    let (_, msg) = feed(&mut e, src, &buf[..n]).unwrap();
    assert_eq!(error_of(&msg), 400);
    // No USERNAME.
    let mut buf = [0u8; 64];
    let mut w = Writer::new(&mut buf, message_type(BINDING, Class::Request), TX).unwrap();
    w.message_integrity(PWD.as_bytes()).unwrap();
    w.fingerprint().unwrap();
    let n = w.finish();
    let (_, msg) = feed(&mut e, src, &buf[..n]).unwrap();
    assert_eq!(error_of(&msg), 400);
}

#[test]
fn unknown_required_attributes_get_420_with_their_list() {
    let mut e = call(Instant::now(), Some(creds(false)));
    let req = request("evtj:h6vY", PWD, |w| {
        w.attribute(0x0042, b"x").unwrap();
        w.attribute(0x7fff, b"").unwrap();
        w.attribute(0xc0de, b"optional, ignored").unwrap();
    });
    let (_, msg) = feed(&mut e, addr("198.51.100.7:40000"), &req).unwrap();
    assert_eq!(error_of(&msg), 420);
    let list = answer_attrs(&msg);
    let ua = list
        .iter()
        .find(|a| a.kind == attr::UNKNOWN_ATTRIBUTES)
        .unwrap();
    assert_eq!(ua.value, [0x00, 0x42, 0x7f, 0xff]);
}

#[test]
fn role_conflicts_are_decided_by_the_tie_breaker() {
    let src = addr("198.51.100.7:40000");
    let controlling = |t: u64| {
        request("evtj:h6vY", PWD, move |w| {
            w.attribute(attr::ICE_CONTROLLING, &t.to_be_bytes())
                .unwrap();
        })
    };
    // We control too and our tie-breaker is not smaller: 487.
    let mut e = call(Instant::now(), Some(creds(true)));
    let (_, msg) = feed(&mut e, src, &controlling(TIEBREAKER)).unwrap();
    assert_eq!(error_of(&msg), 487);
    // Signed with the password the request was checked with: ours.
    let list = answer_attrs(&msg);
    assert!(signed_with(&msg, &list, PWD), "487 under our password");
    // Theirs is larger: we give in, answer, and are controlled from now on.
    let (_, msg) = feed(&mut e, src, &controlling(TIEBREAKER + 1)).unwrap();
    assert_eq!(Header::parse(&msg).unwrap().class, Class::Success);
    let (_, msg) = feed(&mut e, src, &controlling(1)).unwrap();
    assert_eq!(Header::parse(&msg).unwrap().class, Class::Success);
    // Both controlled: the larger tie-breaker takes control.
    let controlled = |t: u64| {
        request("evtj:h6vY", PWD, move |w| {
            w.attribute(attr::ICE_CONTROLLED, &t.to_be_bytes()).unwrap();
        })
    };
    let mut e = call(Instant::now(), Some(creds(false)));
    let (_, msg) = feed(&mut e, src, &controlled(TIEBREAKER + 1)).unwrap();
    assert_eq!(error_of(&msg), 487);
    let (_, msg) = feed(&mut e, src, &controlled(1)).unwrap();
    assert_eq!(Header::parse(&msg).unwrap().class, Class::Success);
    // Now controlling: a controlled peer is no conflict.
    let (_, msg) = feed(&mut e, src, &controlled(TIEBREAKER + 1)).unwrap();
    assert_eq!(Header::parse(&msg).unwrap().class, Class::Success);
    // Signalling sets the role again.
    e.configure(
        Instant::now(),
        StreamConfig {
            ice: Some(creds(false)),
            dtls: None,
            ..stream(A, "203.0.113.1:30000", "192.0.2.1:5000", B)
        },
    );
    let (_, msg) = feed(&mut e, src, &controlled(TIEBREAKER + 1)).unwrap();
    assert_eq!(error_of(&msg), 487);
}

#[test]
fn broken_stun_is_dropped_and_counted() {
    let mut e = call(Instant::now(), Some(creds(false)));
    let src = addr("198.51.100.7:40000");
    let good = valid();
    let mut bad_fingerprint = good.clone();
    *bad_fingerprint.last_mut().unwrap() ^= 1;
    // FINGERPRINT last but not at the header's length.
    let mut short_length = good.clone();
    short_length[3] -= 8;
    let mut long_length = good.clone();
    long_length[3] += 4;
    let mut other_method = good.clone();
    other_method[1] = 0x03;
    // An attribute that runs past the datagram (a PRIORITY claiming 0xff00
    // bytes) before the FINGERPRINT.
    let mut truncated = good.clone();
    truncated[38] = 0xff;
    // After MESSAGE-INTEGRITY only FINGERPRINT may follow (10.5).
    let after_integrity = {
        let mut buf = vec![0u8; 200];
        let mut w = Writer::new(&mut buf, message_type(BINDING, Class::Request), TX).unwrap();
        w.attribute(attr::USERNAME, b"evtj:h6vY").unwrap();
        w.message_integrity(PWD.as_bytes()).unwrap();
        w.attribute(attr::PRIORITY, &[0, 0, 0, 1]).unwrap();
        w.fingerprint().unwrap();
        let n = w.finish();
        buf.truncate(n);
        buf
    };
    let cases = [
        bad_fingerprint,
        short_length,
        long_length,
        other_method,
        truncated,
        after_integrity,
    ];
    for (i, m) in cases.iter().enumerate() {
        assert_eq!(feed(&mut e, src, m), None, "case {i}");
    }
    let s = e.stats(A).unwrap();
    assert_eq!((s.errors, s.stun, s.packets), (cases.len() as u64, 0, 0));
    assert_eq!(e.stats(B).unwrap().packets, 0, "nothing relayed");
    // The stream still answers a good one.
    assert!(feed(&mut e, src, &good).is_some());
    // Without a FINGERPRINT at its end a datagram is not STUN to 10.5's
    // demultiplexer: it goes on as media (relayed), as before.
    let mut no_fingerprint = good[..good.len() - 8].to_vec();
    no_fingerprint[3] -= 8;
    let (t, _) = feed(&mut e, addr("192.0.2.1:5000"), &no_fingerprint).unwrap();
    assert_eq!(t.via, B);
}

#[test]
fn indications_and_responses_are_taken_silently() {
    let mut e = call(Instant::now(), Some(creds(false)));
    let src = addr("198.51.100.7:40000");
    let mut buf = [0u8; 64];
    let mut w = Writer::new(&mut buf, message_type(BINDING, Class::Indication), TX).unwrap();
    w.fingerprint().unwrap();
    let n = w.finish();
    assert_eq!(feed(&mut e, src, &buf[..n]), None);
    // A success response signed with the peer's password (to a check we
    // did not send) and one with a bad signature: neither is answered.
    for pwd in [PEER_PWD, "wrong"] {
        let mut buf = [0u8; 128];
        let mut w = Writer::new(&mut buf, message_type(BINDING, Class::Success), TX).unwrap();
        w.xor_mapped_address(addr("203.0.113.1:30000")).unwrap();
        w.message_integrity(pwd.as_bytes()).unwrap();
        w.fingerprint().unwrap();
        let n = w.finish();
        assert_eq!(feed(&mut e, src, &buf[..n]), None);
    }
    let s = e.stats(A).unwrap();
    assert_eq!((s.stun, s.errors), (3, 0));
}

#[test]
fn without_ice_stun_is_relayed_like_media() {
    let mut e = call(Instant::now(), None);
    let (t, msg) = feed(&mut e, addr("192.0.2.1:5000"), &valid()).expect("relayed");
    assert_eq!((t.via, t.to), (B, addr("192.0.2.2:6000")));
    assert_eq!(msg, valid());
    assert_eq!(e.stats(A).unwrap().packets, 1);
}

proptest! {
    /// Anything after a STUN header: an answer, silence or a drop, never a
    /// panic, and never relayed.
    #[test]
    fn arbitrary_stun_never_panics(body in proptest::collection::vec(any::<u8>(), 0..120), class in 0u8..4) {
        let mut e = call(Instant::now(), Some(creds(false)));
        let kind = [0x0001u16, 0x0011, 0x0101, 0x0111][usize::from(class)];
        // 10.5's demultiplexer takes it for STUN: length a multiple of 4 and a
        // FINGERPRINT (of any value) last.
        let body = &body[..body.len() & !3];
        let mut msg = kind.to_be_bytes().to_vec();
        msg.extend(((body.len() + 8) as u16).to_be_bytes());
        msg.extend([0x21, 0x12, 0xa4, 0x42]);
        msg.extend(TX);
        msg.extend(body);
        msg.extend([0x80, 0x28, 0, 4, 1, 2, 3, 4]);
        if let Some((t, _)) = feed(&mut e, addr("198.51.100.7:40000"), &msg) {
            prop_assert_eq!(t.via, A);
        }
        prop_assert_eq!(e.stats(B).unwrap().packets, 0);
    }
}

#[test]
fn a_lite_agent_sends_no_checks_and_follows_the_peers_nomination() {
    let now = Instant::now();
    let mut lite = creds(false);
    lite.lite = true;
    let mut e = call(now, Some(lite));
    let controlling = |nominate: bool| {
        request("evtj:h6vY", PWD, move |w| {
            w.attribute(attr::ICE_CONTROLLING, &5u64.to_be_bytes())
                .unwrap();
            if nominate {
                w.attribute(attr::USE_CANDIDATE, &[]).unwrap();
            }
        })
    };
    let first = addr("198.51.100.7:40000");
    let (_, msg) = feed(&mut e, first, &controlling(false)).unwrap();
    assert_eq!(Header::parse(&msg).unwrap().class, Class::Success);
    let events: Vec<_> = std::iter::from_fn(|| e.poll_output()).collect();
    assert!(
        events.contains(&Output::Event(Event::IceSelected {
            stream: A,
            peer: first,
            nominated: false
        })),
        "{events:?}"
    );
    assert!(
        !events.iter().any(|o| matches!(o, Output::Send(_))),
        "no check of ours: {events:?}"
    );
    assert_eq!(e.poll_timeout(), None, "no ICE timer either");

    // The nomination moves media to its pair.
    let nominated = addr("198.51.100.7:40002");
    feed(&mut e, nominated, &controlling(true)).unwrap();
    let events: Vec<_> = std::iter::from_fn(|| e.poll_output()).collect();
    assert!(events.contains(&Output::Event(Event::IceSelected {
        stream: A,
        peer: nominated,
        nominated: true
    })));
    let mut rtp = vec![0x80, 0, 0, 1, 0, 0, 0, 160, 0, 0, 0, 9];
    rtp.extend([0; 160]);
    let mut buf = rtp.clone();
    buf.resize(2048, 0);
    let t = e.datagram(now, B, addr("192.0.2.2:6000"), &mut buf, rtp.len());
    assert_eq!(t.map(|t| t.to), Some(nominated));

    // Both "controlled" is no conflict for a lite agent: no 487.
    let controlled = request("evtj:h6vY", PWD, |w| {
        w.attribute(attr::ICE_CONTROLLED, &u64::MAX.to_be_bytes())
            .unwrap();
    });
    let (_, msg) = feed(&mut e, nominated, &controlled).unwrap();
    assert_eq!(Header::parse(&msg).unwrap().class, Class::Success);
}
