//! ng over UDP: fixtures from real Kamailio, malformed input, retransmission cache,
//! duplicates, query/list, limits.

mod common;
use common::*;
use rtpengined::ng::bencode::Owned;

fn fixtures_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/kamailio-5.6-ng")
}

#[test]
fn kamailio_fixtures_replay_cleanly() {
    let d = Daemon::start(32000, 32099, &["--interface=127.0.0.1", "--interface=::1"]);
    let mut scenarios: Vec<_> = std::fs::read_dir(fixtures_dir())
        .unwrap()
        .flatten()
        .filter(|e| e.path().is_dir())
        .collect();
    scenarios.sort_by_key(|e| e.path());
    assert!(scenarios.len() >= 7, "fixtures missing");
    let mut sent = 0;
    let mut retransmissions = 0;
    for sc in scenarios {
        // Replies by cookie: a retransmission must get the same reply again.
        let mut replies = std::collections::HashMap::new();
        let mut files: Vec<_> = std::fs::read_dir(sc.path())
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "ng"))
            .collect();
        files.sort();
        for f in files {
            let dg = std::fs::read(&f).unwrap();
            let cookie = &dg[..dg.iter().position(|&b| b == b' ').unwrap() + 1];
            let reply = d.send_raw(&dg).expect("reply");
            assert!(reply.starts_with(cookie), "{f:?}: cookie not echoed");
            let name = f.file_name().unwrap().to_string_lossy().to_string();
            if name.contains("_retrans") {
                assert_eq!(
                    replies.get(cookie),
                    Some(&reply),
                    "{f:?}: not the first reply"
                );
                retransmissions += 1;
            }
            replies.insert(cookie.to_vec(), reply.clone());
            let r = rtpengined::ng::bencode::decode(&reply[cookie.len()..])
                .unwrap()
                .to_owned_value();
            let result = text(r.get("result"));
            assert!(result == "ok" || result == "pong", "{f:?}: {r}");
            if name.contains("offer") || name.contains("answer") {
                let body = text(r.get("sdp"));
                let port = media_target(&r).port();
                assert!(
                    (32000..=32099).contains(&port),
                    "{f:?}: port {port} outside range\n{body}"
                );
            }
            sent += 1;
        }
    }
    assert!(sent >= 30);
    assert!(retransmissions >= 1, "no retransmission among the fixtures");
    // Every call was deleted: nothing left.
    let l = d.ok(&Owned::dict().with("command", "list"));
    assert_eq!(l.get("calls"), Some(&Owned::List(vec![])), "{l}");
}

#[test]
fn malformed_input_gets_error_not_crash() {
    let d = Daemon::start(32100, 32199, &[]);
    let cases: &[(&[u8], &str)] = &[
        (b"c1 d7:command4:pinge junk", "Invalid NG data format"),
        (b"c2 l4:pinge", "Invalid NG data format"),
        (b"c3 i12e", "Invalid NG data format"),
        (b"c4 d7:command5:bogose", "Unrecognized command"),
        (b"c5 d4:calldee", "no key \"command\""),
        (b"c6 d7:command5:offere", "No SDP body"),
        (b"c7 d7:command5:offer3:sdp1:xe", "No call-id"),
        (b"c8 d7:command5:offer7:call-id1:x3:sdp1:xe", "No from-tag"),
        (
            b"c9 d7:command5:offer7:call-id1:x8:from-tag1:ae",
            "No SDP body",
        ),
        (
            b"c10 d7:command5:offer7:call-id1:x8:from-tag1:a3:sdp5:hello",
            "Failed to parse SDP",
        ),
        (
            b"c11 d7:command5:offer7:call-id1:x8:from-tag1:a3:sdp5:helloe",
            "Failed to parse SDP",
        ),
        (
            b"c12 d7:command6:answer7:call-id7:missing8:from-tag1:a3:sdp5:helloe",
            "No to-tag",
        ),
        (
            b"c13 d7:command5:query7:call-id7:missinge",
            "Unknown call-id",
        ),
        (
            b"c14 d7:command15:start recording7:call-id1:xe",
            "Unknown call-id",
        ),
        (
            b"c15 d7:command5:offer3:TOS3:abc7:call-id1:x8:from-tag1:a3:sdp1:xe",
            "TOS",
        ),
        (
            b"c16 d7:command6:delete7:call-id7:missing8:from-tag1:a5:flagsl5:fatalee",
            "not found",
        ),
    ];
    for (dg, reason) in cases {
        let reply = d.send_raw(dg).expect("a reply");
        let text_reply = String::from_utf8_lossy(&reply).to_string();
        assert!(
            text_reply.contains("6:result5:error"),
            "{}: {text_reply}",
            String::from_utf8_lossy(dg)
        );
        assert!(
            text_reply.contains(reason),
            "{}: {text_reply}",
            String::from_utf8_lossy(dg)
        );
    }
    // Like rtpengine, a dictionary missing its final `e` is accepted.
    let r = d.send_raw(b"c20 d7:command4:ping").unwrap();
    assert_eq!(r, b"c20 d6:result4:ponge".to_vec());
    // Like rtpengine, a delete that matches nothing succeeds with a warning.
    let r = d.request(&delete("missing", "a"));
    assert_eq!(text(r.get("result")), "ok");
    assert_eq!(
        text(r.get("warning")),
        "Call-ID not found or tags didn't match"
    );
    // Recording on an existing call: ok, as 10.5 answers without a recording
    // directory (nothing is recorded; the log says so).
    d.ok(&offer("rec", "a", &sdp("127.0.0.1", 6000)));
    for command in ["start recording", "stop recording"] {
        let r = d.request(
            &Owned::dict()
                .with("command", command)
                .with("call-id", "rec"),
        );
        assert_eq!(text(r.get("result")), "ok", "{command}: {r}");
    }
    assert!(d
        .log_text()
        .contains("Call recording requested, but no spool directory configured"));
    // Random garbage after a cookie (fixed xorshift seed: deterministic) never stops
    // the daemon; fragments of real messages are mixed in to get past the decoder.
    let mut x: u64 = 0x9e3779b97f4a7c15;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let pieces: [&[u8]; 8] = [
        b"d",
        b"e",
        b"l",
        b"7:command",
        b"5:offer",
        b"3:sdp",
        b"i-5e",
        b"4:v=0",
    ];
    for i in 0..300 {
        let mut dg = format!("fz{i} ").into_bytes();
        for _ in 0..(next() % 12) {
            if next() % 2 == 0 {
                dg.extend_from_slice(pieces[(next() % 8) as usize]);
            } else {
                dg.push((next() % 256) as u8);
            }
        }
        d.send_raw(&dg);
    }
    assert_eq!(
        text(
            d.request(&Owned::dict().with("command", "ping"))
                .get("result")
        ),
        "pong"
    );
    // A datagram without cookie is dropped; the daemon keeps serving.
    assert!(d.send_raw(b"nocookie").is_none());
    assert_eq!(
        text(
            d.request(&Owned::dict().with("command", "ping"))
                .get("result")
        ),
        "pong"
    );
}

#[test]
fn retransmission_gets_cached_reply_without_reexecution() {
    let d = Daemon::start(32200, 32299, &[]);
    let body = offer("rt-1", "a", &sdp("127.0.0.1", 6000)).encode();
    let mut dg = b"rtx_1 ".to_vec();
    dg.extend_from_slice(&body);
    let first = d.send_raw(&dg).unwrap();
    d.ok(&delete("rt-1", "a"));
    // Same cookie again: the cached reply, and the call is NOT created again.
    let again = d.send_raw(&dg).unwrap();
    assert_eq!(first, again);
    let l = d.ok(&Owned::dict().with("command", "list"));
    assert_eq!(l.get("calls"), Some(&Owned::List(vec![])));
    // A new cookie with the same content does execute.
    d.ok(&offer("rt-1", "a", &sdp("127.0.0.1", 6000)));
    let l = d.ok(&Owned::dict().with("command", "list"));
    assert_eq!(l.get("calls"), Some(&list(&["rt-1"])));
}

#[test]
fn duplicates_are_idempotent_and_reinvite_keeps_ports() {
    let d = Daemon::start(32300, 32399, &[]);
    let o1 = d.ok(&offer("dup", "a", &sdp("127.0.0.1", 6000)));
    let o2 = d.ok(&offer("dup", "a", &sdp("127.0.0.1", 6000)));
    assert_eq!(o1.get("sdp"), o2.get("sdp"));
    let a1 = d.ok(&answer("dup", "a", "b", &sdp("127.0.0.1", 7000)));
    let a2 = d.ok(&answer("dup", "a", "b", &sdp("127.0.0.1", 7000)));
    assert_eq!(a1.get("sdp"), a2.get("sdp"));
    // re-INVITE from the caller with to-tag: same ports.
    let re = d.ok(&offer("dup", "a", &sdp("127.0.0.1", 6000)).with("to-tag", "b"));
    assert_eq!(media_target(&re), media_target(&o1));
    // re-INVITE from the callee (tags swapped) keeps the callee's ports too.
    let re_b = d.ok(&offer("dup", "b", &sdp("127.0.0.1", 7000)).with("to-tag", "a"));
    assert_eq!(media_target(&re_b), media_target(&a1));
    // Duplicate deletes both succeed.
    d.ok(&delete("dup", "a"));
    let again = d.ok(&delete("dup", "a").with("flags", list(&["fatal"])));
    assert!(again.get("warning").is_some(), "{again}");
    assert_eq!(text(d.request(&query("dup")).get("result")), "error");
}

#[test]
fn query_and_list_report_call_structure() {
    let d = Daemon::start(32400, 32499, &[]);
    let o = d.ok(&offer("q-1", "alice", &sdp("127.0.0.1", 6000)).with("label", "caller"));
    d.ok(&answer("q-1", "alice", "bob", &sdp("127.0.0.1", 7000)));
    d.ok(&offer("q-2", "carol", &sdp("127.0.0.1", 6100)));
    let l = d.ok(&Owned::dict().with("command", "list"));
    assert_eq!(l.get("calls"), Some(&list(&["q-1", "q-2"])));
    let l1 = d.ok(&Owned::dict().with("command", "list").with("limit", 1i64));
    assert_eq!(l1.get("calls"), Some(&list(&["q-1"])));
    let q = d.ok(&query("q-1"));
    for key in ["created", "last signal", "tags", "totals"] {
        assert!(q.get(key).is_some(), "missing {key}: {q}");
    }
    let tags = q.get("tags").unwrap();
    let alice = tags.get("alice").expect("alice");
    assert_eq!(text(alice.get("label")), "caller");
    // As 10.5.3.5: the peer under subscriptions/subscribers only.
    assert!(alice.get("in dialogue with").is_none(), "{alice}");
    let Some(Owned::List(subs)) = alice.get("subscriptions") else {
        panic!("subscriptions")
    };
    assert_eq!(text(subs[0].get("tag")), "bob");
    let Some(Owned::List(medias)) = alice.get("medias") else {
        panic!("medias")
    };
    assert_eq!(medias.len(), 1);
    assert_eq!(text(medias[0].get("type")), "audio");
    assert_eq!(text(medias[0].get("protocol")), "RTP/AVP");
    let Some(Owned::List(streams)) = medias[0].get("streams") else {
        panic!("streams")
    };
    assert_eq!(streams.len(), 2, "RTP and RTCP");
    let ep = streams[0].get("endpoint").unwrap();
    assert_eq!(text(ep.get("address")), "127.0.0.1");
    assert_eq!(int(ep.get("port")), 6000);
    assert_eq!(int(streams[1].get("endpoint").unwrap().get("port")), 6001);
    // alice's streams are where alice sends: the port advertised in the answer,
    // bob's are where bob sends: the port advertised in the offer.
    let bob = tags.get("bob").unwrap();
    let Some(Owned::List(bm)) = bob.get("medias") else {
        panic!()
    };
    let Some(Owned::List(bs)) = bm[0].get("streams") else {
        panic!()
    };
    assert_eq!(int(bs[0].get("local port")) as u16, media_target(&o).port());
    let totals = q.get("totals").unwrap();
    assert_eq!(int(totals.get("RTP").unwrap().get("packets")), 0);
}

#[test]
fn session_limit_and_port_exhaustion() {
    let d = Daemon::start(32500, 32509, &["--max-sessions=2"]);
    d.ok(&offer("l-1", "a", &sdp("127.0.0.1", 6000)));
    d.ok(&offer("l-2", "a", &sdp("127.0.0.1", 6000)));
    let r = d.request(&offer("l-3", "a", &sdp("127.0.0.1", 6000)));
    assert_eq!(
        text(r.get("error-reason")),
        "Parallel session limit reached"
    );
    // Clients that support "load limit" (Kamailio always does) get it as the result.
    let r = d.request(
        &offer("l-3", "a", &sdp("127.0.0.1", 6000)).with("supports", list(&["load limit"])),
    );
    assert_eq!(text(r.get("result")), "load limit");
    assert_eq!(text(r.get("message")), "Parallel session limit reached");
    // Existing calls are still served (re-offer).
    d.ok(&offer("l-1", "a", &sdp("127.0.0.1", 6000)));
    drop(d);

    // 10 ports = 5 pairs; each call takes 2 pairs.
    let d = Daemon::start(32510, 32519, &[]);
    d.ok(&offer("p-1", "a", &sdp("127.0.0.1", 6000)));
    d.ok(&offer("p-2", "a", &sdp("127.0.0.1", 6000)));
    let r = d.request(&offer("p-3", "a", &sdp("127.0.0.1", 6000)));
    assert_eq!(text(r.get("error-reason")), "Ran out of ports");
    // The failed call left nothing behind; after a delete there is room again.
    d.ok(&delete("p-1", "a"));
    d.ok(&offer("p-3", "a", &sdp("127.0.0.1", 6000)));
}

#[test]
fn unimplemented_flags_are_logged_not_answered() {
    let d = Daemon::start(32520, 32559, &[]);
    let r = d.ok(&offer("w-1", "a", &sdp("127.0.0.1", 6000))
        .with("flags", list(&["debug", "strict-source", "no-such-flag"]))
        .with("codec", Owned::dict().with("transcode", list(&["G722"]))));
    // As 10.5: no `warning` in the reply (Kamailio reads none), a log line
    // instead, written before the reply was sent.
    assert_eq!(r.get("warning"), None, "{r}");
    let log = d.log_text();
    let line = log
        .lines()
        .find(|l| l.contains("Unsupported (ignored)"))
        .unwrap_or_else(|| panic!("no warning logged: {log}"));
    assert!(
        line.contains("no-such-flag") && line.contains("w-1"),
        "{line}"
    );
    assert!(!line.contains("strict-source"), "{line}");
    // The codec dictionary is honoured now (see ng_codecs.rs).
    assert!(line.contains("debug") && !line.contains("codec"), "{line}");
}

#[test]
fn ipv6_control_and_media() {
    let d = Daemon::start_on("::1", 32560, 32599, &["--interface=::1"]);
    let o = d.ok(&offer("v6", "a", &sdp("::1", 6000)));
    let body = text(o.get("sdp"));
    assert!(body.contains("c=IN IP6 ::1"), "{body}");
    assert!(media_target(&o).is_ipv6());
}

#[test]
fn an_offer_of_nothing_is_answered_without_sdp() {
    let d = Daemon::start(32610, 32619, &[]);
    // 10.5 finds nothing in an empty body (or one starting with an empty
    // line) and answers ok with no `sdp` key; the call exists afterwards.
    for (call, body) in [("nothing-1", ""), ("nothing-2", "\r\nv=0\r\n")] {
        let r = d.ok(&offer(call, "a", body));
        assert_eq!(r.get("sdp"), None, "{call}: {r}");
        let q = d.ok(&query(call));
        assert_eq!(text(q.get("result")), "ok", "{call}: {q}");
    }
    // A body of spaces is no SDP at all.
    let r = d.request(&offer("nothing-3", "a", "  \r\n"));
    assert_eq!(text(r.get("error-reason")), "Failed to parse SDP", "{r}");
    // An answer of nothing likewise: ok, no `sdp`, the answerer tagged.
    d.ok(&offer("nothing-4", "a", &sdp("127.0.0.1", 6000)));
    let r = d.ok(&answer("nothing-4", "a", "b", ""));
    assert_eq!(r.get("sdp"), None, "{r}");
    let q = d.ok(&query("nothing-4"));
    assert!(q.get("tags").and_then(|t| t.get("b")).is_some(), "{q}");
}
