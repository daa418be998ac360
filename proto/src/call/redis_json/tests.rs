//! The codec against documents recorded from rtpengine 10.5
//! (tests/redis/record-10.5.py).

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::SeedableRng;
use serde_json::Value;

use super::*;

fn ifaces() -> Vec<Interface> {
    vec![Interface {
        name: "default".into(),
        local: "127.0.0.1".parse().unwrap(),
        advertised: "127.0.0.1".parse().unwrap(),
    }]
}

fn now() -> Now {
    Now {
        mono: Instant::now(),
        unix: Duration::from_secs(1_796_674_300),
    }
}

/// A recorded document and its ng exchange (`tests/redis/record-10.5.py`).
fn fixture(name: &str) -> (String, Value) {
    macro_rules! pair {
        ($n:literal) => {
            (
                include_str!(concat!("../redis_fixtures/", $n, ".json")),
                include_str!(concat!("../redis_fixtures/", $n, ".ng.json")),
            )
        };
    }
    let (doc, ng) = match name {
        "plain" => pair!("plain"),
        "sdes" => pair!("sdes"),
        "sdes-out" => pair!("sdes-out"),
        "dtls" => pair!("dtls"),
        _ => panic!("no fixture {name}"),
    };
    (doc.to_string(), serde_json::from_str(ng).unwrap())
}

fn decode(name: &str) -> (Call, Value) {
    let (doc, ng) = fixture(name);
    let id = ng["call-id"].as_str().unwrap().to_string();
    let call = decode_call(&id, &doc, &now(), &ifaces(), &mut StdRng::seed_from_u64(1)).unwrap();
    (call, ng)
}

/// The port of the first m= line of an SDP.
fn sdp_port(sdp: &str) -> u16 {
    let m = sdp.lines().find(|l| l.starts_with("m=")).unwrap();
    m.split(' ').nth(1).unwrap().parse().unwrap()
}

fn local(call: &Call, mono: usize) -> SocketAddr {
    call.monologues[mono].medias[0].rtp.as_ref().unwrap().local
}

#[test]
fn uri_escaping_matches_10_5() {
    assert_eq!(
        uri_encode(b"a b%\"'\\~\x00\x7f\n"),
        "a b%25%22%27%5c~%00%7f%0a"
    );
    assert_eq!(uri_decode("%09220;}%0a}%0aunles"), b"\t220;}\n}\nunles");
    assert_eq!(uri_decode("100%"), b"100%");
    for b in 0..=255u8 {
        assert_eq!(uri_decode(&uri_encode(&[b, b'x', b])), vec![b, b'x', b]);
    }
}

#[test]
fn plain_call_of_10_5_keeps_its_ports_and_endpoints() {
    let (call, ng) = decode("plain");
    assert_eq!(call.id, "redis-fixture-plain");
    assert_eq!(call.monologues.len(), 2);
    let a = &call.monologues[0];
    let b = &call.monologues[1];
    assert_eq!((a.tag.as_str(), b.tag.as_str()), ("tag-a", "tag-b"));
    assert_eq!((a.peer, b.peer), (Some(1), Some(0)));
    // The offer's reply goes to B: its port is B's media's local one; the
    // answer's reply to A.
    let ex = ng["exchange"].as_array().unwrap();
    let offer_port = sdp_port(ex[0]["reply"]["sdp"].as_str().unwrap());
    let answer_port = sdp_port(ex[1]["reply"]["sdp"].as_str().unwrap());
    assert_eq!(local(&call, 1).port(), offer_port);
    assert_eq!(local(&call, 0).port(), answer_port);
    let ma = &a.medias[0];
    assert_eq!(
        ma.rtp.as_ref().unwrap().endpoint,
        Some("127.0.0.1:40500".parse().unwrap())
    );
    assert_eq!(
        ma.rtcp.as_ref().unwrap().local.port(),
        answer_port + 1,
        "RTCP on the next port"
    );
    assert_eq!(ma.formats, ["0", "8", "101"]);
    assert_eq!(ma.clock_rates, [(0, 8000), (8, 8000), (101, 8000)]);
    assert_eq!(ma.ptime, Some(20));
    assert_eq!(ma.protocol, "RTP/AVP");
    assert_eq!(ma.direction, Direction::SendRecv);
    assert!(ma.sdes.keys.is_none());
    assert_eq!(call.created_from.split(':').next(), Some("127.0.0.1"));
    assert_eq!(call.created.as_secs(), call.last_signal.as_secs());
}

#[test]
fn sdes_keys_of_10_5_come_back() {
    let (call, ng) = decode("sdes");
    let a = &call.monologues[0].medias[0];
    let b = &call.monologues[1].medias[0];
    assert_eq!(a.protocol, "RTP/SAVP");
    assert!(b.sdes.keys.is_none());
    let keys = a.sdes.keys.as_ref().expect("A's keys");
    assert_eq!(keys.suite.name, "AES_CM_128_HMAC_SHA1_80");
    // rx: what A offered (its first line), tx: what 10.5 answered A with.
    let ex = ng["exchange"].as_array().unwrap();
    let offer = ex[0]["request"]["sdp"].as_str().unwrap();
    let line = offer
        .lines()
        .find(|l| l.starts_with("a=crypto:1 "))
        .unwrap();
    assert_eq!(
        keys.rx.to_string(),
        line.trim_start_matches("a=crypto:").trim()
    );
    let answer = ex[1]["reply"]["sdp"].as_str().unwrap();
    let ours = answer.lines().find(|l| l.starts_with("a=crypto:")).unwrap();
    let sent = CryptoAttribute::parse(ours.trim_start_matches("a=crypto:").trim()).unwrap();
    assert_eq!(keys.tx.key_salt, sent.key_salt);
    assert_eq!(keys.tx.tag, sent.tag);
}

/// 10.5's SSRC table: what it sent A (3 packets under SSRC 0x12345678)
/// becomes A's `sent` indices; entries without an index are left out.
#[test]
fn ssrc_table_of_10_5_gives_the_srtp_indices() {
    let (call, _) = decode("sdes");
    let a = &call.monologues[0].srtp_resume;
    assert_eq!(a.received, []);
    assert_eq!(
        a.sent,
        [SsrcIndex {
            ssrc: 0x1234_5678,
            rtp: 3,
            rtcp: 0
        }]
    );
    assert!(call.monologues[1].srtp_resume.is_empty());
}

/// Ours: the live indices of every stream of a party, merged per SSRC, in
/// 10.5's format, and read back the same.
#[test]
fn ssrc_table_round_trips() {
    let (call, _) = decode("sdes");
    let ids: Vec<StreamId> = call.monologues[0].streams().map(|s| s.id).collect();
    let live = |id: StreamId| {
        (id == ids[0]).then(|| SrtpState {
            received: vec![SsrcIndex {
                ssrc: 7,
                rtp: (2 << 16) | 5,
                rtcp: 9,
            }],
            sent: vec![SsrcIndex {
                ssrc: 8,
                rtp: 70_000,
                rtcp: 4,
            }],
        })
    };
    let text = encode_call(&call, 3, &ifaces(), &live);
    let doc: Value = serde_json::from_str(&text).unwrap();
    let rows = doc["ssrc_table-0"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["ssrc"], "7");
    assert_eq!(rows[0]["in_srtp_index"], "131077");
    assert_eq!(rows[0]["in_srtcp_index"], "9");
    assert_eq!(rows[0]["out_srtp_index"], "0");
    assert_eq!(rows[1]["out_srtp_index"], "70000");
    assert_eq!(doc["ssrc_table-1"], Value::Array(vec![]));
    let back = decode_call(
        &call.id,
        &text,
        &now(),
        &ifaces(),
        &mut StdRng::seed_from_u64(1),
    )
    .unwrap();
    assert_eq!(back.monologues[0].srtp_resume, live(ids[0]).unwrap());
}

#[test]
fn all_offered_keys_of_a_side_are_read() {
    let (call, _) = decode("sdes-out");
    let b = &call.monologues[1].medias[0];
    assert_eq!(b.sdes.remote.len(), 2);
    assert!(b.sdes.remote[1].starts_with("2 AES_CM_128_HMAC_SHA1_32 inline:"));
}

#[test]
fn dtls_fingerprint_of_10_5_comes_back() {
    let (call, ng) = decode("dtls");
    let a = &call.monologues[0].medias[0];
    let fp = a.dtls.remote.as_ref().expect("fingerprint");
    let offer = ng["exchange"][0]["request"]["sdp"].as_str().unwrap();
    let line = offer
        .lines()
        .find(|l| l.starts_with("a=fingerprint:"))
        .unwrap();
    assert_eq!(
        Some(fp.clone()),
        Fingerprint::parse(line.trim_start_matches("a=fingerprint:"))
    );
    assert!(a.dtls.enabled);
}

/// Every fixture read, written and read again gives the same call; and what
/// we write carries every key 10.5's restore requires.
#[test]
fn our_documents_round_trip_and_have_10_5_keys() {
    for name in ["plain", "sdes", "sdes-out", "dtls"] {
        let (call, _) = decode(name);
        let text = encode_call(&call, 3, &ifaces(), &|_| None);
        let again = decode_call(
            &call.id,
            &text,
            &now(),
            &ifaces(),
            &mut StdRng::seed_from_u64(1),
        )
        .unwrap();
        assert_eq!(summary(&call), summary(&again), "{name}");
        let ours: Value = serde_json::from_str(&text).unwrap();
        let (doc, _) = fixture(name);
        let theirs: Value = serde_json::from_str(&doc).unwrap();
        // Numbering differs (10.5 numbers medias in creation order): each
        // object of theirs must have a counterpart of ours, of the same kind
        // (the name before `-`), with all its fields.
        let ours = ours.as_object().unwrap();
        for (k, v) in theirs.as_object().unwrap() {
            let kind = k.split('-').next().unwrap();
            assert!(
                ours.keys().any(|o| o.split('-').next() == Some(kind)),
                "{name}: no {kind}"
            );
            let Value::Object(t) = v else { continue };
            let fits = ours.iter().any(|(ok, ov)| {
                ok.split('-').next() == Some(kind)
                    && ov
                        .as_object()
                        .is_some_and(|o| t.keys().all(|f| o.contains_key(f) || !strict(name, f)))
            });
            assert!(fits, "{name}: nothing of ours has the fields of {k}");
        }
    }
}

/// Fields every counterpart must have. 10.5 keeps a socket's key also
/// where only one direction is SRTP (`sdes-out`: B's answer carried keys but
/// got none): our model keeps SDES keys in pairs, so the one-sided key of
/// such a call is not written back.
fn strict(name: &str, field: &str) -> bool {
    !(name == "sdes-out" && field.starts_with('-'))
}

fn summary(c: &Call) -> String {
    let mut out = format!("{} {:?}\n", c.id, c.created_from);
    for m in &c.monologues {
        out += &format!("{} {:?} {:?}\n", m.tag, m.peer, m.subscriptions.len());
        for x in &m.medias {
            out += &format!(
                "  {} {} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?}\n",
                x.index,
                x.protocol,
                x.formats,
                x.clock_rates,
                x.rtp.as_ref().map(|s| (s.local, s.endpoint)),
                x.rtcp.as_ref().map(|s| (s.local, s.endpoint)),
                x.sdes
                    .keys
                    .as_ref()
                    .map(|k| (k.rx.to_string(), k.tx.to_string())),
                x.sdes.remote,
                x.dtls.remote,
                x.direction,
            );
        }
    }
    let _: Option<IpAddr> = None;
    out
}

/// A document someone else changed (a field gone, a value malformed or out
/// of range, a list emptied) is refused or read, never a panic.
#[test]
fn damaged_documents_never_panic() {
    for name in ["plain", "sdes", "sdes-out", "dtls"] {
        let (doc, _) = fixture(name);
        let v: Value = serde_json::from_str(&doc).unwrap();
        let top = v.as_object().unwrap();
        let try_doc = |d: &Map<String, Value>| {
            let text = Value::Object(d.clone()).to_string();
            let _ = decode_call("x", &text, &now(), &ifaces(), &mut StdRng::seed_from_u64(1));
        };
        for (key, value) in top {
            let mut d = top.clone();
            d.remove(key);
            try_doc(&d);
            match value {
                Value::Object(o) => {
                    for field in o.keys() {
                        for bad in [
                            "",
                            "x",
                            "-1",
                            "4294967296",
                            "99999999999999999",
                            "18446744073709551615",
                            "%zz",
                        ] {
                            let mut d = top.clone();
                            d[key][field] = Value::String(bad.into());
                            try_doc(&d);
                        }
                    }
                }
                Value::Array(a) => {
                    for bad in [
                        Value::Array(vec![]),
                        Value::Array(vec![Value::String("99999999".into())]),
                        Value::Array(vec![Value::String("x/y/z".into()); a.len().max(1)]),
                        Value::String("1".into()),
                    ] {
                        let mut d = top.clone();
                        d[key] = bad;
                        try_doc(&d);
                    }
                }
                _ => {}
            }
        }
    }
}
