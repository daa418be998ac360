//! Every ng datagram Kamailio 5.6 sent in the recorded fixtures
//! (tests/fixtures/kamailio-5.6-ng, tests/interop/record-ng-fixtures) parses into
//! the command and flags it carries (no daemon involved).

use rtpengined::ng::command::{CommandKind, Request};
use rtpengined::ng::flags::{Family, IceMode};
use rtpengined::ng::message::{decode_body, split_cookie};

fn fixtures_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/kamailio-5.6-ng")
}

fn datagram(path: &str) -> Vec<u8> {
    std::fs::read(fixtures_dir().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn fixture(path: &str) -> Request {
    let bytes = datagram(path);
    let (_, body) = split_cookie(&bytes).unwrap();
    Request::parse(&decode_body(body).unwrap()).unwrap()
}

#[test]
fn every_fixture_parses() {
    let dir = fixtures_dir();
    let mut n = 0;
    for sc in std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .filter(|e| e.path().is_dir())
    {
        for f in std::fs::read_dir(sc.path()).unwrap().flatten() {
            let p = f.path();
            if p.extension().is_none_or(|x| x != "ng") {
                continue;
            }
            let rel = p.strip_prefix(&dir).unwrap().to_string_lossy().to_string();
            let req = fixture(&rel);
            let name = p.file_name().unwrap().to_string_lossy().to_string();
            let expected = ["ping", "offer", "answer", "delete", "query"]
                .iter()
                .find(|c| name.contains(*c))
                .unwrap();
            assert_eq!(req.kind.name(), *expected, "{rel}");
            assert!(
                req.flags.invalid.is_empty(),
                "{rel}: {:?}",
                req.flags.invalid
            );
            if req.kind != CommandKind::Ping {
                assert!(
                    req.flags.call_id.is_some() && req.flags.from_tag.is_some(),
                    "{rel}"
                );
                assert_eq!(req.flags.supports, vec!["load limit"], "{rel}");
            }
            n += 1;
        }
    }
    assert!(n >= 30, "only {n} fixtures");
}

#[test]
fn basic_offer() {
    let f = fixture("basic/02_offer.ng").flags;
    assert_eq!(f.call_id.as_deref(), Some("1-6836@127.0.0.1"));
    assert_eq!(f.from_tag.as_deref(), Some("6836SIPpTag001"));
    assert!(f.replace_origin && f.replace_session_connection);
    assert_eq!(f.ice, IceMode::Remove);
    assert_eq!(f.transport_protocol.as_deref(), Some("RTP/AVP"));
    assert_eq!(f.received_from, Some("127.0.0.1".parse().unwrap()));
    assert!(f.sdp.as_deref().unwrap().starts_with("v=0"));
    assert!(f.unimplemented.is_empty(), "{:?}", f.unimplemented);
    let a = fixture("basic/03_answer.ng").flags;
    assert_eq!(a.to_tag.as_deref(), Some("6821SIPpTag011"));
}

#[test]
fn kitchen_sink_offer() {
    let f = fixture("flags_many/02_offer.ng").flags;
    assert!(f.strict_source && f.asymmetric && f.loop_protect && f.no_rtcp_attribute);
    assert_eq!(f.tos, Some(Some(184)));
    assert_eq!(f.delete_delay, Some(0));
    assert_eq!(f.label.as_deref(), Some("caller"));
    assert_eq!(f.direction, vec!["internal"]);
    assert_eq!(f.address_family, Some(Family::V4));
    assert_eq!(f.media_address, Some("127.0.0.1".parse().unwrap()));
    assert!(f.rtcp_mux.demux && f.rtcp_mux.offer);
    assert_eq!(f.via_branch.as_deref(), Some("z9hG4bK-6931-1-0"));
    assert!(
        f.unimplemented.iter().any(|u| u == "repacketize"),
        "repacketize not warned: {:?}",
        f.unimplemented
    );
    // Recording keys are read now (pcap recording).
    assert_eq!(f.record_call.as_deref(), Some("yes"));
    assert_eq!(f.metadata.as_deref(), Some("foo:bar"));
    // The codec dictionary and T.38 items are read, not warned about.
    assert_eq!(f.codec.strip, ["PCMA"]);
    assert_eq!(f.codec.mask, ["G722"]);
    assert_eq!(f.codec.offer, ["PCMU"]);
    assert_eq!(f.codec.transcode, ["G722"]);
    assert_eq!(f.codec.except, ["telephone-event"]);
    assert!(f.t38_decode && !f.t38_force);
    let w = f.warning().unwrap();
    assert!(!w.contains("codec") && !w.contains("T.38"), "{w}");
    let d = fixture("flags_many/04_delete.ng").flags;
    assert_eq!(d.delete_delay, Some(0));
    assert!(d.to_tag.is_some());
}

#[test]
fn trust_and_direction() {
    let f = fixture("flags_trust/02_offer.ng").flags;
    // Kamailio sends both; the later one wins, as in 10.5.
    assert!(!f.trust_address && f.sip_source_address);
    assert_eq!(f.direction, vec!["external", "internal"]);
    let a = fixture("flags_trust/03_answer.ng").flags;
    assert_eq!(a.direction, vec!["internal", "external"]);
}

#[test]
fn ipv6_and_srtp_and_reinvite() {
    let f = fixture("ipv6/02_offer.ng").flags;
    assert_eq!(f.received_from, Some("::1".parse().unwrap()));
    let s = fixture("srtp/02_offer.ng").flags;
    assert_eq!(s.transport_protocol.as_deref(), Some("RTP/SAVP"));
    // SDES-SRTP is implemented: neither the protocol nor the SDES list warns.
    assert!(s.unimplemented.is_empty(), "{:?}", s.unimplemented);
    assert_eq!(s.sdes, vec!["no-AES_CM_128_HMAC_SHA1_32"]);
    let r = fixture("reinvite/04_offer.ng").flags;
    assert_eq!(r.to_tag.as_deref(), Some("7315SIPpTag011"));
    assert!(r.sdp.unwrap().contains("a=sendonly"));
    let del = fixture("reinvite/06_delete.ng").flags;
    assert_eq!(del.from_tag.as_deref(), Some("7315SIPpTag011"));
    let q = fixture("query/04_query.ng");
    assert_eq!(q.kind, CommandKind::Query);
}

#[test]
fn retransmission_repeats_the_datagram() {
    // Kamailio resent the offer whose reply the recording proxy held back: same
    // cookie, same bytes.
    let first = datagram("retrans/02_offer.ng");
    assert_eq!(datagram("retrans/03_offer_retrans.ng"), first);
    let answer = datagram("retrans/04_answer.ng");
    let (cookie, _) = split_cookie(&first).unwrap();
    let (next, _) = split_cookie(&answer).unwrap();
    assert_ne!(cookie, next, "the answer is a new request");
    assert_eq!(fixture("retrans/02_offer.ng").kind, CommandKind::Offer);
}
