//! Query replies' media and stream flags, as rtpengine 10.5 reports them
//! (each case measured against 10.5 with tests/differential/ng_live_diff.py).

use super::effect::NoStats;
use super::tests::{clock, flags, reg};
use crate::ng::bencode::Owned;
use crate::ng::flags::{IceLite, IceMode, RtcpMuxFlags};

fn sdp(port: u16, extra: &str) -> String {
    format!("v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio {port} RTP/AVP 0\r\n{extra}")
}

fn names(list: Option<&Owned>) -> Vec<String> {
    match list {
        Some(Owned::List(items)) => items
            .iter()
            .map(|i| match i {
                Owned::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
                other => panic!("not a string: {other}"),
            })
            .collect(),
        other => panic!("not a list: {other:?}"),
    }
}

fn media<'a>(q: &'a Owned, tag: &str) -> &'a Owned {
    match q
        .get("tags")
        .and_then(|t| t.get(tag))
        .and_then(|t| t.get("medias"))
    {
        Some(Owned::List(m)) => &m[0],
        other => panic!("no media for {tag}: {other:?} in {q}"),
    }
}

fn stream(m: &Owned, i: usize) -> &Owned {
    match m.get("streams") {
        Some(Owned::List(s)) => &s[i],
        other => panic!("no streams: {other:?}"),
    }
}

fn query(r: &super::tests::TestRegistry) -> Owned {
    super::query::query_call(r.calls.get("c").unwrap(), &clock(), &NoStats)
}

#[test]
fn the_side_offered_to_is_ice_controlling_even_without_ice() {
    let mut r = reg();
    let now = clock();
    r.offer(&flags("c", "a", None, sdp(6000, "")), &now)
        .unwrap();
    // Before the answer the callee has spoken no SDP: not initialized.
    let q = query(&r);
    assert_eq!(
        names(media(&q, "a").get("flags")),
        ["initialized", "send", "recv"]
    );
    assert_eq!(
        names(media(&q, "<untagged 1>").get("flags")),
        ["send", "recv", "ICE controlling"]
    );
    r.answer(&flags("c", "a", Some("b"), sdp(7000, "")), &now)
        .unwrap();
    let q = query(&r);
    assert_eq!(
        names(media(&q, "b").get("flags")),
        ["initialized", "send", "recv", "ICE controlling"]
    );
    assert_eq!(
        names(media(&q, "a").get("flags")),
        ["initialized", "send", "recv"]
    );
}

#[test]
fn send_and_recv_are_from_our_point_of_view() {
    let mut r = reg();
    let now = clock();
    r.offer(&flags("c", "a", None, sdp(6000, "a=sendonly\r\n")), &now)
        .unwrap();
    r.answer(
        &flags("c", "a", Some("b"), sdp(7000, "a=recvonly\r\n")),
        &now,
    )
    .unwrap();
    let q = query(&r);
    // The caller only sends: we receive from it and send to the callee.
    assert_eq!(names(media(&q, "a").get("flags")), ["initialized", "recv"]);
    assert_eq!(
        names(media(&q, "b").get("flags")),
        ["initialized", "send", "ICE controlling"]
    );
}

#[test]
fn a_muxing_side_has_rtcp_on_its_rtp_stream_and_a_fallback_without_port() {
    let mut r = reg();
    let now = clock();
    let mut offer = flags("c", "a", None, sdp(6000, "a=rtcp-mux\r\n"));
    offer.rtcp_mux = RtcpMuxFlags {
        demux: true,
        ..Default::default()
    };
    r.offer(&offer, &now).unwrap();
    r.answer(&flags("c", "a", Some("b"), sdp(7000, "")), &now)
        .unwrap();
    let q = query(&r);
    let a = media(&q, "a");
    assert_eq!(
        names(a.get("flags")),
        ["initialized", "send", "recv", "rtcp-mux"]
    );
    assert_eq!(names(stream(a, 0).get("flags")), ["RTP", "RTCP", "filled"]);
    assert_eq!(
        names(stream(a, 1).get("flags")),
        ["RTCP", "fallback RTCP", "filled"]
    );
    // 10.5 took one port for the caller: it knew of the mux at the offer.
    assert_eq!(stream(a, 1).get("local port"), Some(&Owned::from(0u16)));
    let b = media(&q, "b");
    assert_eq!(names(stream(b, 1).get("flags")), ["RTCP", "filled"]);
    assert_ne!(stream(b, 1).get("local port"), Some(&Owned::from(0u16)));
}

#[test]
fn reject_unmuxes_the_offerer_before_its_ports_are_taken() {
    // `rtcp-mux: [reject, demux]`: 10.5 drops the caller's mux before it
    // takes its ports, so the caller gets a pair (measured: gen/790).
    let mut r = reg();
    let now = clock();
    let mut offer = flags("c", "a", None, sdp(6000, "a=rtcp-mux\r\n"));
    offer.rtcp_mux = RtcpMuxFlags {
        demux: true,
        reject: true,
        ..Default::default()
    };
    r.offer(&offer, &now).unwrap();
    let q = query(&r);
    let a = media(&q, "a");
    assert_eq!(names(stream(a, 1).get("flags")), ["RTCP", "filled"]);
    assert_ne!(
        stream(a, 1).get("local port"),
        Some(&Owned::from(0u16)),
        "{q}"
    );
}

fn address(s: &Owned, key: &str) -> String {
    match s.get(key).and_then(|e| e.get("address")) {
        Some(Owned::Bytes(b)) => String::from_utf8_lossy(b).into_owned(),
        other => panic!("no {key}: {other:?}"),
    }
}

#[test]
fn media_address_is_what_we_write_not_where_the_party_is() {
    let mut r = reg();
    let now = clock();
    let mut offer = flags("c", "a", None, sdp(6000, ""));
    offer.media_address = Some("198.51.100.7".parse().unwrap());
    let out = r.offer(&offer, &now).unwrap();
    assert!(out.sdp.unwrap().contains("c=IN IP4 198.51.100.7"));
    let q = query(&r);
    let a = media(&q, "a");
    assert_eq!(address(stream(a, 0), "endpoint"), "192.0.2.1");
    assert_eq!(address(stream(a, 1), "advertised endpoint"), "192.0.2.1");
}

#[test]
fn an_unspecified_rtcp_address_means_the_media_address() {
    let mut r = reg();
    let now = clock();
    r.offer(
        &flags("c", "a", None, sdp(6000, "a=rtcp:9 IN IP4 0.0.0.0\r\n")),
        &now,
    )
    .unwrap();
    let q = query(&r);
    let rtcp = stream(media(&q, "a"), 1);
    assert_eq!(address(rtcp, "endpoint"), "192.0.2.1");
    assert_eq!(
        rtcp.get("endpoint").and_then(|e| e.get("port")),
        Some(&Owned::from(9u16))
    );
}

fn tags_of(q: &Owned, tag: &str, key: &str) -> Vec<String> {
    match q
        .get("tags")
        .and_then(|t| t.get(tag))
        .and_then(|t| t.get(key))
    {
        Some(Owned::List(items)) => items
            .iter()
            .map(|i| match i.get("tag") {
                Some(Owned::Bytes(b)) => String::from_utf8_lossy(b).into_owned(),
                other => panic!("no tag: {other:?}"),
            })
            .collect(),
        other => panic!("no {key} for {tag}: {other:?}"),
    }
}

#[test]
fn a_forked_offer_makes_one_party_per_via_branch() {
    let mut r = reg();
    let now = clock();
    let mut first = flags("c", "a", None, sdp(6000, ""));
    first.via_branch = Some("b1".into());
    r.offer(&first, &now).unwrap();
    let mut second = first.clone();
    second.via_branch = Some("b2".into());
    r.offer(&second, &now).unwrap();
    let mut answer = flags("c", "a", Some("callee-2"), sdp(7000, ""));
    answer.via_branch = Some("b2".into());
    r.answer(&answer, &now).unwrap();
    let q = query(&r);
    // The branch belongs to the party the offer went to, as in 10.5.
    let branch = |tag: &str| {
        q.get("tags")
            .and_then(|t| t.get(tag))
            .and_then(|t| t.get("via-branch"))
            .cloned()
    };
    assert_eq!(branch("callee-2"), Some(Owned::from("b2")));
    assert_eq!(branch("<untagged 1>"), Some(Owned::from("b1")));
    assert_eq!(branch("a"), None);
    // The caller's media goes to the branch that answered; it still hears both.
    assert_eq!(tags_of(&q, "a", "subscribers"), ["callee-2"]);
    assert_eq!(tags_of(&q, "a", "subscriptions"), ["callee-2", ""]);
    assert!(tags_of(&q, "<untagged 1>", "subscriptions").is_empty());
}

/// A second answer with another to-tag and no via-branch: 10.5 makes a new
/// party (new ports) that takes the dialogue over; the first answerer stays
/// and still sends to the caller (cmd/answer/forked).
#[test]
fn a_second_answer_with_another_to_tag_is_a_new_party() {
    let mut r = reg();
    let now = clock();
    r.offer(&flags("c", "a", None, sdp(6000, "")), &now)
        .unwrap();
    r.answer(&flags("c", "a", Some("f1"), sdp(7000, "")), &now)
        .unwrap();
    r.answer(&flags("c", "a", Some("f2"), sdp(7000, "")), &now)
        .unwrap();
    let q = query(&r);
    assert_eq!(tags_of(&q, "a", "subscribers"), ["f2"]);
    assert_eq!(tags_of(&q, "a", "subscriptions"), ["f2", "f1"]);
    assert_eq!(tags_of(&q, "f1", "subscribers"), ["a"]);
    assert!(tags_of(&q, "f1", "subscriptions").is_empty());
    let port = |tag: &str| stream(media(&q, tag), 0).get("local port").cloned();
    assert_ne!(port("f1"), port("f2"));
}

#[test]
fn before_the_answer_both_sides_show_the_offered_mux() {
    let mut r = reg();
    let now = clock();
    r.offer(&flags("c", "a", None, sdp(6000, "a=rtcp-mux\r\n")), &now)
        .unwrap();
    let q = query(&r);
    assert!(
        names(media(&q, "a").get("flags")).contains(&"rtcp-mux".to_string()),
        "{q}"
    );
    let callee = media(&q, "<untagged 1>");
    assert!(
        names(callee.get("flags")).contains(&"rtcp-mux".to_string()),
        "{q}"
    );
    assert_eq!(names(stream(callee, 0).get("flags")), ["RTP", "RTCP"]);
}

#[test]
fn an_offered_sdes_suite_shows_before_the_answer_picks_one() {
    let mut r = reg();
    let now = clock();
    // A plain caller; we offer SDES to the callee (RTP/SAVP).
    let mut offer = flags("c", "a", None, sdp(6000, ""));
    offer.transport_protocol = Some("RTP/SAVP".into());
    let out = r.offer(&offer, &now).unwrap().sdp.unwrap();
    let first = out
        .lines()
        .find_map(|l| l.strip_prefix("a=crypto:1 "))
        .and_then(|l| l.split_whitespace().next())
        .unwrap_or_else(|| panic!("no a=crypto in {out}"))
        .to_owned();
    let q = query(&r);
    let callee = media(&q, "<untagged 1>");
    assert_eq!(
        stream(callee, 0).get("crypto suite"),
        Some(&Owned::from(first.as_str())),
        "{q}"
    );
    // The plain caller has no SRTP: no suite.
    assert_eq!(stream(media(&q, "a"), 0).get("crypto suite"), None, "{q}");
}

fn medias(q: &Owned, tag: &str) -> Vec<Owned> {
    match q
        .get("tags")
        .and_then(|t| t.get(tag))
        .and_then(|t| t.get("medias"))
    {
        Some(Owned::List(m)) => m.clone(),
        other => panic!("no media for {tag}: {other:?} in {q}"),
    }
}

fn port_of(v: Option<&Owned>) -> Option<i64> {
    match v.and_then(|e| e.get("port")) {
        Some(Owned::Int(p)) => Some(*p),
        _ => None,
    }
}

#[test]
fn a_party_moved_to_another_interface_keeps_its_endpoints() {
    let mut s = super::tests::settings();
    s.interfaces
        .push(super::interface::Interface::parse("ext/127.0.0.3").unwrap());
    let mut r = super::tests::registry(s, super::ports::RangeCursor::new(40000, 40099));
    let now = clock();
    r.offer(&flags("c", "a", None, sdp(6000, "")), &now)
        .unwrap();
    // The answer's direction moves the caller to "ext": new sockets there.
    let mut answer = flags("c", "a", Some("b"), sdp(7000, ""));
    answer.direction = vec!["default".into(), "ext".into()];
    r.answer(&answer, &now).unwrap();
    let q = query(&r);
    let a = media(&q, "a");
    let rtp = stream(a, 0);
    assert_eq!(
        rtp.get("local address").map(ToString::to_string),
        Some(Owned::from("127.0.0.3").to_string())
    );
    // 10.5 still knows where the caller receives (its offer said so).
    assert_eq!(port_of(rtp.get("endpoint")), Some(6000), "{q}");
    assert_eq!(port_of(rtp.get("advertised endpoint")), Some(6000));
    assert_eq!(port_of(stream(a, 1).get("endpoint")), Some(6001));
    assert_eq!(names(rtp.get("flags")), ["RTP", "filled"]);
}

#[test]
fn an_answer_with_fewer_sections_leaves_the_others_in_place() {
    let mut r = reg();
    let now = clock();
    let two = sdp(6000, "m=video 6002 RTP/AVP 96\r\n");
    r.offer(&flags("c", "a", None, two), &now).unwrap();
    r.answer(&flags("c", "a", Some("b"), sdp(7000, "")), &now)
        .unwrap();
    let q = query(&r);
    // 10.5 keeps the unanswered video on both sides, as the offer left it.
    let a = medias(&q, "a");
    let b = medias(&q, "b");
    assert_eq!((a.len(), b.len()), (2, 2), "{q}");
    assert_eq!(port_of(stream(&a[1], 0).get("endpoint")), Some(6002));
    assert_eq!(port_of(stream(&b[1], 0).get("endpoint")), None);
    assert_eq!(
        names(b[1].get("flags")),
        ["send", "recv", "ICE controlling"]
    );
}

#[test]
fn a_rejected_section_shows_two_streams_without_sockets() {
    let mut r = reg();
    let now = clock();
    let offer = sdp(6000, "m=video 0 RTP/AVP 96\r\na=rtcp:7\r\n");
    r.offer(&flags("c", "a", None, offer), &now).unwrap();
    let q = query(&r);
    // The callee has heard nothing yet: two streams, no endpoints.
    let b = &medias(&q, "<untagged 1>")[1];
    assert_eq!(names(stream(b, 0).get("flags")), ["RTP"], "{q}");
    assert_eq!(names(stream(b, 1).get("flags")), ["RTCP"]);
    assert_eq!(port_of(stream(b, 0).get("endpoint")), None);
    let answer = sdp(7000, "m=video 0 RTP/AVP 96\r\n");
    r.answer(&flags("c", "a", Some("b"), answer), &now).unwrap();
    let q = query(&r);
    for (tag, rtcp) in [("a", 7), ("b", 1)] {
        let m = &medias(&q, tag)[1];
        let (rtp_stream, rtcp_stream) = (stream(m, 0), stream(m, 1));
        assert!(rtp_stream.get("local port").is_none(), "{q}");
        assert!(rtp_stream.get("local address").is_none(), "{q}");
        // Where the party's SDP said (port 0, and its RTCP port).
        assert_eq!(port_of(rtp_stream.get("endpoint")), Some(0), "{q}");
        assert_eq!(port_of(rtp_stream.get("advertised endpoint")), Some(0));
        assert_eq!(port_of(rtcp_stream.get("endpoint")), Some(rtcp), "{q}");
        assert_eq!(names(rtp_stream.get("flags")), ["RTP", "filled"]);
        assert_eq!(names(rtcp_stream.get("flags")), ["RTCP", "filled"]);
    }
}

/// The media flags query shows for `tag`'s first media.
fn flags_of(r: &super::tests::TestRegistry, tag: &str) -> Vec<String> {
    names(media(&query(r), tag).get("flags"))
}

#[test]
fn unidirectional_shows_on_the_media_of_the_side_that_sent_it() {
    let mut r = reg();
    let now = clock();
    let mut offer = flags("c", "a", None, sdp(6000, ""));
    offer.unidirectional = true;
    r.offer(&offer, &now).unwrap();
    assert_eq!(
        flags_of(&r, "a"),
        ["initialized", "send", "recv", "unidirectional"]
    );
    // Each SDP of the side sets it again (10.5 copies it every time).
    r.offer(&flags("c", "a", None, sdp(6000, "")), &now)
        .unwrap();
    assert_eq!(flags_of(&r, "a"), ["initialized", "send", "recv"]);
}

#[test]
fn reject_with_accept_keeps_the_offerers_rtcp_mux_while_we_offer_it_on() {
    let mut r = reg();
    let now = clock();
    let mut offer = flags("c", "a", None, sdp(6000, "a=rtcp-mux\r\n"));
    offer.rtcp_mux = RtcpMuxFlags {
        reject: true,
        accept: true,
        ..Default::default()
    };
    r.offer(&offer, &now).unwrap();
    assert_eq!(
        flags_of(&r, "a"),
        ["initialized", "send", "recv", "rtcp-mux"]
    );
    // `reject` alone takes it away.
    let mut r = reg();
    offer.rtcp_mux.accept = false;
    r.offer(&offer, &now).unwrap();
    assert_eq!(flags_of(&r, "a"), ["initialized", "send", "recv"]);
}

#[test]
fn every_offer_of_a_side_sets_its_rtcp_mux_again() {
    let mut r = reg();
    let now = clock();
    let muxed = sdp(6000, "a=rtcp-mux\r\n");
    r.offer(&flags("c", "a", None, muxed.clone()), &now)
        .unwrap();
    // The answerer does not mux: neither does the offerer then (10.5).
    r.answer(&flags("c", "a", Some("b"), sdp(7000, "")), &now)
        .unwrap();
    assert_eq!(flags_of(&r, "a"), ["initialized", "send", "recv"]);
    // A re-offer with a=rtcp-mux flags it again until the next answer.
    r.offer(&flags("c", "a", Some("b"), muxed), &now).unwrap();
    assert_eq!(
        flags_of(&r, "a"),
        ["initialized", "send", "recv", "rtcp-mux"]
    );
}

#[test]
fn an_ice_remove_answer_after_passthrough_leaves_the_roles_alone() {
    // gen/1207: `ICE=optional` with ICE on both sides makes both sides
    // passthrough, which decides no roles; an answer with `ICE=remove` that
    // rejects ICE we only passed through does not decide them either.
    let ice = "a=ice-ufrag:F7gI\r\na=ice-pwd:x9cml/YzichV2+XlhiMu8g\r\n\
               a=candidate:1 1 UDP 2130706431 192.0.2.1 6000 typ host\r\n";
    let mut r = reg();
    let now = clock();
    let mut offer = flags("c", "a", None, sdp(6000, ice));
    offer.ice = IceMode::Optional;
    r.offer(&offer, &now).unwrap();
    assert_eq!(
        flags_of(&r, "<untagged 1>"),
        ["send", "recv", "passthrough", "ICE"]
    );
    let mut answer = flags("c", "a", Some("b"), sdp(7000, ""));
    answer.ice = IceMode::Remove;
    r.answer(&answer, &now).unwrap();
    assert_eq!(
        flags_of(&r, "b"),
        ["initialized", "send", "recv", "passthrough"]
    );
    assert_eq!(
        flags_of(&r, "a"),
        ["initialized", "send", "recv", "passthrough"]
    );
}

#[test]
fn an_ice_restart_decides_the_roles_again() {
    // gen/1399 (there the restart comes from a new interface): the callee we
    // offered to is controlling; a re-offer that restarts the offerer's ICE
    // and makes us lite towards both sides makes it controlled.
    let ice = |ufrag: &str| {
        format!(
            "a=ice-ufrag:{ufrag}\r\na=ice-pwd:x9cml/YzichV2+XlhiMu8g\r\n\
             a=candidate:1 1 UDP 2130706431 192.0.2.1 6000 typ host\r\n"
        )
    };
    let mut r = reg();
    let now = clock();
    r.offer(&flags("c", "a", None, sdp(6000, &ice("F7gI"))), &now)
        .unwrap();
    r.answer(&flags("c", "a", Some("b"), sdp(7000, "")), &now)
        .unwrap();
    assert_eq!(
        flags_of(&r, "b"),
        ["initialized", "send", "recv", "ICE controlling"]
    );
    let mut reoffer = flags("c", "a", Some("b"), sdp(6000, &ice("F7gI")));
    reoffer.ice_lite = Some(IceLite::Both);
    r.offer(&reoffer, &now).unwrap();
    assert_eq!(
        flags_of(&r, "b"),
        ["initialized", "send", "recv", "ICE controlling"],
        "no restart: the role stays"
    );
    let mut restart = flags("c", "a", Some("b"), sdp(6000, &ice("Zq3x")));
    restart.ice_lite = Some(IceLite::Both);
    r.offer(&restart, &now).unwrap();
    assert_eq!(flags_of(&r, "b"), ["initialized", "send", "recv"]);
}

#[test]
fn a_re_offer_moving_the_offerer_to_another_interface_restarts_ice() {
    // gen/1399: `direction` names another interface for the offerer, whose
    // media keeps its sockets; 10.5's agent still sees a new logical
    // interface, restarts, and decides the roles again.
    let ice = "a=ice-ufrag:F7gI\r\na=ice-pwd:x9cml/YzichV2+XlhiMu8g\r\n\
               a=candidate:1 1 UDP 2130706431 192.0.2.1 6000 typ host\r\n";
    let mut r = super::tests::registry_on(&[
        "127.0.0.1",
        "::1",
        "internal/127.0.0.2",
        "external/127.0.0.3",
    ]);
    let now = clock();
    r.offer(&flags("c", "a", None, sdp(6000, ice)), &now)
        .unwrap();
    r.answer(&flags("c", "a", Some("b"), sdp(7000, "")), &now)
        .unwrap();
    let mut reoffer = flags("c", "a", Some("b"), sdp(6000, ice));
    reoffer.ice_lite = Some(IceLite::Both);
    reoffer.direction = vec!["external".into(), "external".into()];
    r.offer(&reoffer, &now).unwrap();
    assert_eq!(flags_of(&r, "b"), ["initialized", "send", "recv"]);
}

#[test]
fn the_trickle_ice_flag_marks_the_receiver_of_the_offer() {
    // gen/1261: flag `trickle-ICE` shows on the side offered to.
    let mut r = reg();
    let now = clock();
    let mut offer = flags("c", "a", None, sdp(6000, ""));
    offer.trickle_ice = true;
    r.offer(&offer, &now).unwrap();
    assert_eq!(flags_of(&r, "a"), ["initialized", "send", "recv"]);
    assert_eq!(
        flags_of(&r, "<untagged 1>"),
        ["send", "recv", "trickle ICE", "ICE controlling"]
    );
}

#[test]
fn force_relay_offers_the_offerers_mux_onwards() {
    // gen/1996: under `ICE=force-relay` the offer keeps the SDP's own
    // a=rtcp-mux instead of writing ours; the receiver is offered mux all
    // the same.
    let mut r = reg();
    let now = clock();
    let mut offer = flags("c", "a", None, sdp(6000, "a=rtcp-mux\r\n"));
    offer.ice = IceMode::ForceRelay;
    let out = r.offer(&offer, &now).unwrap().sdp.unwrap();
    assert!(out.contains("a=rtcp-mux\r\n"), "{out}");
    assert_eq!(
        flags_of(&r, "<untagged 1>"),
        ["send", "recv", "rtcp-mux", "ICE", "ICE controlling"]
    );
}

#[test]
fn a_stream_keeps_its_suite_after_dtls_is_answered_and_sdes_dropped() {
    // A plain phone calls a browser (UDP/TLS/RTP/SAVPF): we offer the browser
    // DTLS and SDES, its streams take our first suite; the browser answers
    // DTLS, and a re-INVITE the other way answered by the phone in plain RTP
    // leaves that suite in place (measured: webrtc/dtls-sip-to-browser-reinvite).
    let fp = "sha-256 7B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:43:F0:A1:58:D0:A1:2C:19:08";
    let browser = |setup: &str| {
        format!(
            "v=0\r\no=- 1 1 IN IP4 192.0.2.9\r\ns=-\r\nc=IN IP4 192.0.2.9\r\nt=0 0\r\n\
             m=audio 46300 UDP/TLS/RTP/SAVPF 0\r\na=fingerprint:{fp}\r\na=setup:{setup}\r\n"
        )
    };
    let dtls = super::dtls::DtlsSettings {
        fingerprints: vec![("sha-256", "sha-256 AA:BB".into())],
        passive: false,
    };
    let mut r = reg().with_dtls(dtls);
    let now = clock();
    let mut offer = flags("c", "a", None, sdp(6000, ""));
    offer.transport_protocol = Some("UDP/TLS/RTP/SAVPF".into());
    r.offer(&offer, &now).unwrap();
    let first = Owned::from("AEAD_AES_256_GCM");
    let suite = |q: &Owned, tag: &str| stream(media(q, tag), 0).get("crypto suite").cloned();
    assert_eq!(suite(&query(&r), "<untagged 1>"), Some(first.clone()));
    let mut answer = flags("c", "a", Some("b"), browser("active"));
    answer.transport_protocol = Some("RTP/AVP".into());
    r.answer(&answer, &now).unwrap();
    assert_eq!(suite(&query(&r), "b"), Some(first.clone()));
    // The browser re-offers; the phone answers plain RTP, we answer DTLS.
    let mut reoffer = flags("c", "b", Some("a"), browser("actpass"));
    reoffer.transport_protocol = Some("RTP/AVP".into());
    r.offer(&reoffer, &now).unwrap();
    let mut reanswer = flags("c", "b", Some("a"), sdp(6000, ""));
    reanswer.transport_protocol = Some("UDP/TLS/RTP/SAVPF".into());
    r.answer(&reanswer, &now).unwrap();
    let q = query(&r);
    assert_eq!(suite(&q, "b"), Some(first.clone()), "{q}");
    assert_eq!(stream(media(&q, "b"), 1).get("crypto suite"), Some(&first));
    assert_eq!(suite(&q, "a"), None, "{q}");
}
