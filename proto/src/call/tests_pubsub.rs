//! publish / subscribe request / subscribe answer / unsubscribe, as
//! rtpengine 10.5.3.5 answers them (measured with
//! tests/differential/ng_live_diff.py, cases cmd/publish/* and cmd/subscribe/*).

use super::effect::NoStats;
use super::tests::{clock, configs, flags, reg, TestRegistry};
use crate::ng::bencode::Owned;
use crate::ng::flags::Flags;

fn sdp(port: u16, direction: &str) -> String {
    format!(
        "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n\
         m=audio {port} RTP/AVP 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\n\
         a=ptime:20\r\na={direction}\r\n"
    )
}

fn request(call: &str) -> Flags {
    Flags {
        call_id: Some(call.into()),
        ..Flags::default()
    }
}

fn tags_of(q: &Owned, tag: &str, key: &str) -> Vec<(String, String)> {
    let text = |v: Option<&Owned>| match v {
        Some(Owned::Bytes(b)) => String::from_utf8_lossy(b).into_owned(),
        other => panic!("not a string: {other:?}"),
    };
    match q
        .get("tags")
        .and_then(|t| t.get(tag))
        .and_then(|t| t.get(key))
    {
        Some(Owned::List(items)) => items
            .iter()
            .map(|i| (text(i.get("tag")), text(i.get("type"))))
            .collect(),
        other => panic!("no {key} for {tag}: {other:?} in {q}"),
    }
}

fn query(r: &TestRegistry) -> Owned {
    super::query::query_call(r.calls.get("c").unwrap(), &clock(), &NoStats)
}

fn pair(a: &str, kind: &str) -> (String, String) {
    (a.to_owned(), kind.to_owned())
}

#[test]
fn publish_answers_recvonly_with_one_codec() {
    let mut r = reg();
    r.software_id = "sw".into();
    let out = r
        .publish(&flags("c", "pub", None, sdp(5000, "sendonly")), &clock())
        .unwrap();
    let sdp = out.sdp.unwrap();
    let lines: Vec<&str> = sdp.split("\r\n").collect();
    assert_eq!(lines[2], "s=sw");
    assert!(lines[4].starts_with("m=audio 4"), "{sdp}");
    assert!(lines[4].ends_with(" RTP/AVP 0"), "{sdp}");
    assert_eq!(
        &lines[5..9],
        [
            "c=IN IP4 127.0.0.1",
            "a=rtpmap:0 PCMU/8000",
            "a=recvonly",
            lines[8]
        ]
    );
    assert!(lines[8].starts_with("a=rtcp:"));
    assert_eq!(lines[9], "a=ptime:20");
    // The publisher sends; nobody subscribed yet.
    let q = query(&r);
    assert!(tags_of(&q, "pub", "subscribers").is_empty());
}

#[test]
fn subscribe_request_mirrors_the_source_and_lists_pubsub() {
    let mut r = reg();
    let now = clock();
    r.offer(&flags("c", "a", None, sdp(5000, "sendrecv")), &now)
        .unwrap();
    r.answer(&flags("c", "a", Some("b"), sdp(6000, "sendrecv")), &now)
        .unwrap();
    let f = Flags {
        from_tag: Some("a".into()),
        to_tag: Some("s".into()),
        ..request("c")
    };
    let sub = r.subscribe_request(&f, &now).unwrap();
    assert_eq!(sub.from_tags, ["a"]);
    assert_eq!(sub.to_tag, "s");
    let offer = sub.outcome.sdp.unwrap();
    assert!(offer.contains("a=sendonly\r\n"), "{offer}");
    assert!(!offer.contains("a=sendrecv"), "{offer}");
    let q = query(&r);
    assert_eq!(
        tags_of(&q, "a", "subscribers"),
        [pair("b", "offer/answer"), pair("s", "pub/sub")]
    );
    assert_eq!(tags_of(&q, "s", "subscriptions"), [pair("a", "pub/sub")]);

    // Answered, then unsubscribed: the party stays, the subscription goes.
    let mut ans = flags("c", "x", Some("s"), sdp(7000, "recvonly"));
    ans.from_tag = None;
    r.subscribe_answer(&ans, &now).unwrap();
    r.unsubscribe(
        &Flags {
            to_tag: Some("s".into()),
            ..request("c")
        },
        &now,
    )
    .unwrap();
    let q = query(&r);
    assert_eq!(tags_of(&q, "a", "subscribers"), [pair("b", "offer/answer")]);
    assert!(tags_of(&q, "s", "subscriptions").is_empty());
}

#[test]
fn subscribe_answer_must_accept_every_codec_unless_transcoding_is_allowed() {
    let mut r = reg();
    let now = clock();
    r.publish(&flags("c", "pub", None, sdp(5000, "sendonly")), &now)
        .unwrap();
    let f = Flags {
        from_tag: Some("pub".into()),
        to_tag: Some("s".into()),
        ..request("c")
    };
    r.subscribe_request(&f, &now).unwrap();
    // The offer had PCMU only; an answer of PCMA leaves it out.
    let body = "v=0\r\no=- 1 1 IN IP4 192.0.2.9\r\ns=-\r\nc=IN IP4 192.0.2.9\r\nt=0 0\r\n\
                m=audio 7000 RTP/AVP 8\r\na=recvonly\r\n";
    let mut ans = flags("c", "x", Some("s"), body.into());
    ans.from_tag = None;
    let err = r.subscribe_answer(&ans, &now).unwrap_err();
    assert_eq!(err.to_string(), "Failed to process subscription answer");
    ans.allow_transcoding = true;
    let out = r.subscribe_answer(&ans, &now).unwrap();
    // The publisher's RTP now goes out of the subscriber's socket to it.
    let cfgs = configs(&out.effects);
    let p = cfgs.iter().find(|c| c.tag == "pub" && !c.is_rtcp).unwrap();
    let s = cfgs.iter().find(|c| c.tag == "s" && !c.is_rtcp).unwrap();
    assert_eq!(p.sink, Some(s.id));
    assert_eq!(s.endpoint, Some("192.0.2.9:7000".parse().unwrap()));
}

#[test]
fn unsubscribe_of_an_unknown_tag_adds_an_empty_party() {
    let mut r = reg();
    let now = clock();
    r.offer(&flags("c", "a", None, sdp(5000, "sendrecv")), &now)
        .unwrap();
    r.unsubscribe(
        &Flags {
            to_tag: Some("nobody".into()),
            ..request("c")
        },
        &now,
    )
    .unwrap();
    let q = query(&r);
    assert!(tags_of(&q, "nobody", "subscriptions").is_empty());
}

#[test]
fn subscribe_all_takes_the_offer_answer_parties_in_one_sdp_of_ours() {
    let mut r = reg();
    let now = clock();
    r.offer(&flags("c", "a", None, sdp(5000, "sendrecv")), &now)
        .unwrap();
    r.answer(&flags("c", "a", Some("b"), sdp(6000, "sendrecv")), &now)
        .unwrap();
    let f = Flags {
        all: true,
        ..request("c")
    };
    let sub = r.subscribe_request(&f, &now).unwrap();
    assert_eq!(sub.from_tags, ["a", "b"]);
    assert_eq!(sub.to_tag.len(), 64);
    let sdp = sub.outcome.sdp.unwrap();
    assert!(sdp.starts_with("v=0\r\no=- "), "{sdp}");
    assert_eq!(sdp.matches("m=audio ").count(), 2, "{sdp}");
    assert_eq!(sdp.matches("a=sendonly").count(), 2, "{sdp}");
}

/// A party in a dialogue keeps sending to its peer; its subscribers get
/// copies out of their own streams.
#[test]
fn subscribers_of_a_party_in_a_dialogue_get_copies() {
    let mut r = reg();
    let now = clock();
    r.offer(&flags("c", "a", None, sdp(5000, "sendrecv")), &now)
        .unwrap();
    r.answer(&flags("c", "a", Some("b"), sdp(6000, "sendrecv")), &now)
        .unwrap();
    for tag in ["s1", "s2"] {
        let f = Flags {
            from_tag: Some("a".into()),
            to_tag: Some(tag.into()),
            ..request("c")
        };
        r.subscribe_request(&f, &now).unwrap();
    }
    let out = r.relay_effects(r.calls.get("c").unwrap(), "c");
    let cfgs = configs(&out);
    let id = |tag: &str, rtcp: bool| {
        cfgs.iter()
            .find(|c| c.tag == tag && c.is_rtcp == rtcp)
            .unwrap()
            .id
    };
    let a_rtp = cfgs.iter().find(|c| c.tag == "a" && !c.is_rtcp).unwrap();
    let a_rtcp = cfgs.iter().find(|c| c.tag == "a" && c.is_rtcp).unwrap();
    assert_eq!(a_rtp.sink, Some(id("b", false)));
    assert_eq!(a_rtp.copies, [id("s1", false), id("s2", false)]);
    assert_eq!(a_rtcp.copies, [id("s1", true), id("s2", true)]);
    let b_rtp = cfgs.iter().find(|c| c.tag == "b" && !c.is_rtcp).unwrap();
    assert!(b_rtp.copies.is_empty());
}

/// A saved call keeps its subscriptions: restored, the relay gets the same
/// streams, copies included.
#[test]
fn subscriptions_survive_a_restart() {
    use super::persist::{decode_call, encode_call};
    let mut r = reg();
    let now = clock();
    r.publish(&flags("c", "pub", None, sdp(5000, "sendonly")), &now)
        .unwrap();
    for tag in ["s1", "s2"] {
        let f = Flags {
            from_tag: Some("pub".into()),
            to_tag: Some(tag.into()),
            ..request("c")
        };
        r.subscribe_request(&f, &now).unwrap();
    }
    let original = r.calls["c"].clone();
    let bytes = encode_call(&original, &now);
    let back = decode_call(&bytes, &now).unwrap();
    assert_eq!(encode_call(&back, &now), bytes, "lossless round trip");
    assert_eq!(
        back.monologues[1].subscriptions,
        original.monologues[1].subscriptions
    );
    assert!(back.monologues[1].pubsub);
    assert_eq!(back.monologues[0].last_sdp, original.monologues[0].last_sdp);
    let before = r.relay_effects(&original, "c");
    let mut fresh = reg();
    let (effects, skipped) = fresh.restore(vec![back], &now);
    assert!(skipped.is_empty());
    assert_eq!(effects, before);
    let cfgs = configs(&effects);
    let p = cfgs.iter().find(|c| c.tag == "pub" && !c.is_rtcp).unwrap();
    assert_eq!(p.copies.len(), 1, "the second subscriber's copy");
}

/// `RTCP-mirror`: the subscriber's RTCP goes to the party it subscribed to
/// (out of that party's RTCP socket); its RTP goes nowhere.
#[test]
fn rtcp_mirror_sends_the_subscribers_rtcp_to_the_source() {
    let mut r = reg();
    let now = clock();
    r.offer(&flags("c", "a", None, sdp(5000, "sendrecv")), &now)
        .unwrap();
    r.answer(&flags("c", "a", Some("b"), sdp(6000, "sendrecv")), &now)
        .unwrap();
    let f = Flags {
        from_tag: Some("a".into()),
        to_tag: Some("s".into()),
        rtcp_mirror: true,
        ..request("c")
    };
    let out = r.subscribe_request(&f, &now).unwrap().outcome;
    let cfgs = configs(&out.effects);
    let find = |tag: &str, rtcp: bool| {
        cfgs.iter()
            .find(|c| c.tag == tag && c.is_rtcp == rtcp)
            .unwrap()
    };
    assert_eq!(find("s", true).sink, Some(find("a", true).id));
    assert_eq!(find("s", false).sink, None);
    assert_eq!(find("s", false).rtcp_sink, Some(find("a", true).id));
    // The party's own RTCP still goes to its peer, a copy to the subscriber.
    assert_eq!(find("a", true).sink, Some(find("b", true).id));
    assert_eq!(find("a", true).copies, [find("s", true).id]);
}

/// `all` takes the parties that sent an offer or answer: a callee that has
/// not answered yet is not one (10.5's tag type).
#[test]
fn subscribe_all_skips_a_callee_that_has_not_answered() {
    let mut r = reg();
    let now = clock();
    r.offer(&flags("c", "a", None, sdp(5000, "sendrecv")), &now)
        .unwrap();
    let f = Flags {
        all: true,
        ..request("c")
    };
    let sub = r.subscribe_request(&f, &now).unwrap();
    assert_eq!(sub.from_tags, ["a"]);
}

/// A subscription to an SDES party is offered SRTP of ours (the party's
/// own keys stay its own); the subscriber's answer gives the keys the
/// relay encrypts its copy with.
#[test]
fn a_subscription_to_an_srtp_party_gets_keys_of_its_own() {
    let mut r = reg();
    let now = clock();
    let key = "WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz";
    let savp = sdp(5000, "sendrecv").replace("RTP/AVP", "RTP/SAVP")
        + &format!("a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:{key}\r\n");
    r.offer(&flags("c", "a", None, savp), &now).unwrap();
    r.answer(&flags("c", "a", Some("b"), sdp(6000, "sendrecv")), &now)
        .unwrap();
    let before = r.calls["c"].monologues[0].medias[0].sdes.clone();
    let f = Flags {
        from_tag: Some("a".into()),
        to_tag: Some("s".into()),
        ..request("c")
    };
    let offer = r.subscribe_request(&f, &now).unwrap().outcome.sdp.unwrap();
    assert!(offer.contains("m=audio "), "{offer}");
    assert!(offer.contains(" RTP/SAVP "), "{offer}");
    let ours: Vec<&str> = offer
        .lines()
        .filter(|l| l.starts_with("a=crypto:"))
        .collect();
    assert!(ours.len() > 1, "our suites: {offer}");
    // The subscriber's streams hold the first suite offered to it, as query
    // shows (10.5's `__init_stream`).
    let sub = r.calls["c"]
        .monologues
        .iter()
        .find(|m| m.tag == "s")
        .unwrap();
    let suite = sub.medias[0].sdes.stream_suite.map(|s| s.name);
    assert_eq!(suite, ours[0].split(' ').nth(1), "{offer}");
    assert_eq!(
        r.calls["c"].monologues[0].medias[0].sdes.sent, before.sent,
        "the source's SDES is untouched"
    );
    // The subscriber answers with our first line (what a client would do),
    // at its own address.
    let body: String = offer
        .split_inclusive("\r\n")
        .filter(|l| !l.starts_with("a=crypto:") || l.starts_with(ours[0]))
        .map(|l| l.replace("a=sendonly", "a=recvonly"))
        .collect::<String>()
        .replace("IN IP4 127.0.0.1", "IN IP4 192.0.2.9");
    let mut ans = flags("c", "x", Some("s"), body);
    ans.from_tag = None;
    let out = r.subscribe_answer(&ans, &now).unwrap();
    let cfgs = configs(&out.effects);
    let s = cfgs.iter().find(|c| c.tag == "s" && !c.is_rtcp).unwrap();
    assert!(s.kernel.srtp_out.is_some(), "the copy is protected");
}

/// A browser's offer as 10.5's Janus videoroom publishes it, and a
/// subscriber's offer with the flags it subscribes with.
fn webrtc_offer() -> String {
    "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n\
     m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 192.0.2.10\r\n\
     a=candidate:1 1 udp 2122260223 192.0.2.10 46243 typ host\r\n\
     a=ice-ufrag:Oyef\r\na=ice-pwd:7ZwpNkjTPFuZpGl4Ub2pLmI3\r\na=ice-options:trickle\r\n\
     a=fingerprint:sha-256 7B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:43:F0:A1:58:D0:A1:2C:19:08\r\na=setup:actpass\r\na=mid:0\r\n\
     a=rtpmap:111 opus/48000/2\r\na=rtcp-fb:111 transport-cc\r\n\
     a=sendonly\r\na=rtcp-mux\r\n"
        .into()
}

#[test]
fn webrtc_publish_and_subscribe_speak_ice_mux_and_dtls() {
    let mut r = reg();
    r.set_dtls(super::dtls::DtlsSettings {
        fingerprints: vec![("sha-256", "sha-256 AA:BB".into())],
        passive: false,
    });
    let out = r
        .publish(&flags("c", "pub", None, webrtc_offer()), &clock())
        .unwrap();
    let sdp = out.sdp.unwrap();
    let lines: Vec<&str> = sdp.split("\r\n").collect();
    let port = lines[4].split(' ').nth(1).unwrap();
    let at = |l: &str| lines.iter().position(|x| *x == l).unwrap_or(usize::MAX);
    assert_eq!(lines[6], "a=mid:0", "{sdp}");
    assert!(at("a=rtcp-fb:111 transport-cc") < at("a=recvonly"), "{sdp}");
    assert!(lines.contains(&format!("a=rtcp:{port}").as_str()), "{sdp}");
    for l in [
        "a=rtcp-mux",
        "a=setup:active",
        "a=fingerprint:sha-256 AA:BB",
        "a=ice-options:trickle",
        "a=end-of-candidates",
    ] {
        assert!(lines.contains(&l), "{l} missing: {sdp}");
    }
    assert!(lines.iter().any(|l| l.starts_with("a=ice-ufrag:")), "{sdp}");
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("a=candidate:") && l.contains(&format!(" {port} typ host"))),
        "{sdp}"
    );
    let pub_ufrag = lines
        .iter()
        .find(|l| l.starts_with("a=ice-ufrag:"))
        .unwrap()
        .to_string();

    let mut f = flags("c", "pub", Some("sub"), String::new());
    f.sdp = None;
    f.ice = crate::ng::flags::IceMode::Force;
    f.rtcp_mux.offer = true;
    f.rtcp_mux.require = true;
    f.trickle_ice = true;
    let sub = r.subscribe_request(&f, &clock()).unwrap();
    let sdp = sub.outcome.sdp.unwrap();
    let lines: Vec<&str> = sdp.split("\r\n").collect();
    for l in ["a=mid:0", "a=rtcp-mux", "a=sendonly", "a=end-of-candidates"] {
        assert!(lines.contains(&l), "{l} missing: {sdp}");
    }
    let ufrag = lines.iter().find(|l| l.starts_with("a=ice-ufrag:"));
    assert!(ufrag.is_some_and(|u| *u != pub_ufrag), "{sdp}");
}
