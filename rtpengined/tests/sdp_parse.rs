//! Parsing edge cases and malformed SDP: a clear `SdpError`, never a panic.

use std::net::IpAddr;

use rtpengined::sdp::{
    rewrite, AddressFamily, CodecLine, Direction, MediaPlan, RewritePlan, SdpError, Session,
};

const OFFER: &str = "v=0\r\n\
o=alice 1 2 IN IP4 192.168.1.10\r\n\
s=-\r\n\
c=IN IP4 192.168.1.10\r\n\
t=0 0\r\n\
a=recvonly\r\n\
m=audio 5000/2 RTP/AVP 0 8 101\r\n\
a=rtpmap:101 telephone-event/8000\r\n\
a=fmtp:101 0-16\r\n\
a=rtcp:5001 IN IP4 192.168.1.11\r\n\
a=rtcp-mux\r\n\
a=ptime:20\r\n\
a=mid:a\r\n\
a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR\r\n\
a=candidate:1 1 UDP 2130706431 192.168.1.10 5000 typ host\r\n\
m=video 0 RTP/AVPF 96\r\n\
c=IN IP6 2001:db8::1\r\n\
a=rtpmap:96 VP8/90000\r\n\
a=rtcp-fb:96 nack pli\r\n\
a=sendonly\r\n";

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

fn media_plan(port: u16) -> MediaPlan {
    MediaPlan::new(port, ip("203.0.113.1"))
}

fn plan(media: Vec<MediaPlan>) -> RewritePlan {
    RewritePlan {
        replace_origin: true,
        ..RewritePlan::new(ip("203.0.113.1"), media)
    }
}

#[test]
fn parse_reports_media_fields() {
    let s = Session::parse(OFFER).unwrap();
    assert_eq!(s.origin.as_ref().unwrap().username, "alice");
    assert_eq!(s.connection.as_ref().unwrap().address, "192.168.1.10");
    assert_eq!(s.direction, Some(Direction::RecvOnly));
    assert_eq!(s.media.len(), 2);
    let audio = &s.media[0];
    assert_eq!(
        (audio.media_type.as_str(), audio.port, audio.port_count),
        ("audio", 5000, Some(2))
    );
    assert_eq!(audio.protocol, "RTP/AVP");
    assert_eq!(audio.formats, ["0", "8", "101"]);
    assert!(audio.connection.is_none());
    assert_eq!(s.connection_for(0).unwrap().address, "192.168.1.10");
    let rtcp = audio.rtcp.as_ref().unwrap();
    assert_eq!(rtcp.port, 5001);
    assert_eq!(
        rtcp.address,
        Some((AddressFamily::Ip4, "192.168.1.11".to_string()))
    );
    assert!(audio.rtcp_mux);
    assert_eq!(audio.ptime, Some(20));
    assert_eq!(audio.mid.as_deref(), Some("a"));
    assert_eq!(audio.crypto.len(), 1);
    assert!(audio.crypto[0].starts_with("1 AES_CM_128_HMAC_SHA1_80 inline:"));
    assert_eq!(audio.ice_candidates.len(), 1);
    assert!(s.has_ice());
    assert_eq!(audio.rtpmaps[0].encoding, "telephone-event");
    assert_eq!(audio.fmtps, [("101".to_string(), "0-16".to_string())]);
    let video = &s.media[1];
    assert_eq!(video.port, 0);
    assert_eq!(
        video.connection.as_ref().unwrap().family,
        AddressFamily::Ip6
    );
    assert_eq!(video.direction, Some(Direction::SendOnly));
    assert_eq!(video.rtcp_fbs, [("96".to_string(), "nack pli".to_string())]);
    // The session-level direction wins, as in rtpengine.
    assert_eq!(s.direction_for(1), Direction::RecvOnly);
}

#[test]
fn rewrite_keeps_unknown_lines_and_their_line_endings() {
    let text = "v=0\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\nc=IN IP4 10.0.0.1\r\nt=0 0\nm=audio 5000 RTP/AVP 0\nb=AS:80\r\na=x-first\na=rtpmap:0 PCMU/8000\r\na=x-second:1 2\n";
    let s = Session::parse(text).unwrap();
    let out = rewrite(text, &s, &plan(vec![media_plan(30000)])).unwrap();
    assert_eq!(
        out,
        "v=0\no=- 1 1 IN IP4 203.0.113.1\r\ns=-\nc=IN IP4 203.0.113.1\r\nt=0 0\nm=audio 30000 RTP/AVP 0\nb=AS:80\r\na=x-first\na=x-second:1 2\n\
a=rtpmap:0 PCMU/8000\r\na=sendrecv\r\na=rtcp:30001\r\n"
    );
}

#[test]
fn rewrite_bridges_to_ipv6_and_changes_protocol_and_formats() {
    let text = "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0 8\r\na=rtpmap:8 PCMA/8000\r\na=sendonly\r\n";
    let s = Session::parse(text).unwrap();
    let mut media = media_plan(30000);
    media.address = ip("2001:db8::7");
    media.protocol = Some("RTP/AVPF".into());
    media.formats = Some(vec!["8".into()]);
    media.rtcp_port = Some(30000);
    media.rtcp_mux = true;
    media.ptime = Some(30);
    let mut p = plan(vec![media]);
    p.address = ip("2001:db8::7");
    let out = rewrite(text, &s, &p).unwrap();
    assert_eq!(
        out,
        "v=0\r\no=- 1 1 IN IP6 2001:db8::7\r\ns=-\r\nc=IN IP6 2001:db8::7\r\nt=0 0\r\nm=audio 30000 RTP/AVPF 8\r\n\
a=rtpmap:8 PCMA/8000\r\na=sendonly\r\na=rtcp:30000\r\na=rtcp-mux\r\na=ptime:30\r\n"
    );
}

#[test]
fn session_connection_is_kept_when_every_media_has_its_own() {
    let text = "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\nc=IN IP4 10.0.0.2\r\n";
    let s = Session::parse(text).unwrap();
    let mut p = plan(vec![media_plan(30000)]);
    p.replace_origin = false;
    let out = rewrite(text, &s, &p).unwrap();
    assert!(out.contains("\r\nc=IN IP4 10.0.0.1\r\n"), "{out}");
    assert!(out.contains("\r\nc=IN IP4 203.0.113.1\r\n"), "{out}");
    assert!(out.contains("o=- 1 1 IN IP4 10.0.0.1\r\n"), "{out}");
    p.replace_session_connection = true;
    let out = rewrite(text, &s, &p).unwrap();
    assert!(!out.contains("10.0.0.1\r\nt="), "{out}");
}

#[test]
fn malformed_sdp_gives_clear_errors() {
    let cases: &[(&str, SdpError)] = &[
        ("", SdpError::Empty),
        ("  \r\n", SdpError::Empty),
        ("o=- 1 1 IN IP4 1.2.3.4\r\n", SdpError::MissingVersion),
        ("v=1\r\n", SdpError::MissingVersion),
        ("v=0\r\nxyz\r\n", SdpError::MalformedLine { line: 2 }),
        ("v=0\r\n=foo\r\n", SdpError::MalformedLine { line: 2 }),
        ("v=0\r\n\r\ns=-\r\n", SdpError::MalformedLine { line: 2 }),
        (
            "v=0\r\no=- 1 IN IP4 1.2.3.4\r\n",
            SdpError::MalformedOrigin { line: 2 },
        ),
        (
            "v=0\r\no=- 1 1 IN IPX 1.2.3.4\r\n",
            SdpError::MalformedOrigin { line: 2 },
        ),
        (
            "v=0\r\nc=IN IP4\r\n",
            SdpError::MalformedConnection { line: 2 },
        ),
        (
            "v=0\r\nc=ATM IP4 1.2.3.4\r\n",
            SdpError::MalformedConnection { line: 2 },
        ),
        ("v=0\r\nm=audio\r\n", SdpError::MalformedMedia { line: 2 }),
        (
            "v=0\r\nm=audio 70000 RTP/AVP 0\r\n",
            SdpError::MalformedMedia { line: 2 },
        ),
        (
            "v=0\r\nm=audio 5000/x RTP/AVP 0\r\n",
            SdpError::MalformedMedia { line: 2 },
        ),
        (
            "v=0\r\nm=audio -1 RTP/AVP 0\r\n",
            SdpError::MalformedMedia { line: 2 },
        ),
        (
            "v=0\r\nm=audio 5000 RTP/AVP 0\r\nc=IN IP4\r\n",
            SdpError::MalformedConnection { line: 3 },
        ),
        (
            "v=0\r\nc=IN IP4 host.example.com\r\n",
            SdpError::MalformedConnection { line: 2 },
        ),
        ("v=0\r\nx=foo\r\n", SdpError::MalformedLine { line: 2 }),
        ("v=0\r\nA=foo\r\n", SdpError::MalformedLine { line: 2 }),
        ("v=0\r\na =foo\r\n", SdpError::MalformedLine { line: 2 }),
        (
            "v=0\r\nc=IN  IP4 1.2.3.4\r\n",
            SdpError::MalformedConnection { line: 2 },
        ),
        (
            "v=0\r\nc=IN IP6 1.2.3.4\r\n",
            SdpError::MalformedConnection { line: 2 },
        ),
        (
            "v=0\r\nc=IN IP4 ::1\r\n",
            SdpError::MalformedConnection { line: 2 },
        ),
        (
            "v=0\r\nm=audio  5000 RTP/AVP 0\r\n",
            SdpError::MalformedMedia { line: 2 },
        ),
        (
            "v=0\r\nm=audio\t5000 RTP/AVP 0\r\n",
            SdpError::MalformedMedia { line: 2 },
        ),
        (
            "v=0\r\nc=IN IP4 224.2.1.1/127\r\n",
            SdpError::MalformedConnection { line: 2 },
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(
            Session::parse(text).as_ref().err(),
            Some(expected),
            "{text:?}"
        );
        // Errors render as something a Kamailio log can show.
        assert!(!expected.to_string().is_empty());
    }
}

#[test]
fn trailing_blank_lines_and_missing_final_newline_are_accepted() {
    let s = Session::parse("v=0\r\ns=-\r\nm=audio 5000 RTP/AVP 0\r\n\r\n").unwrap();
    assert_eq!(s.media.len(), 1);
    let text = "v=0\r\ns=-\r\nm=audio 5000 RTP/AVP 0\r\na=x-last";
    let s = Session::parse(text).unwrap();
    let out = rewrite(text, &s, &plan(vec![media_plan(30000)])).unwrap();
    assert_eq!(out, "v=0\r\ns=-\r\nm=audio 30000 RTP/AVP 0\r\na=x-last\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\na=rtcp:30001\r\n");
}

#[test]
fn rewrite_rejects_a_plan_or_text_that_does_not_fit() {
    let s = Session::parse(OFFER).unwrap();
    assert_eq!(
        rewrite(OFFER, &s, &plan(vec![media_plan(30000)])),
        Err(SdpError::PlanMediaCount { sdp: 2, plan: 1 })
    );
    let two = plan(vec![media_plan(30000), media_plan(0)]);
    assert!(rewrite(OFFER, &s, &two).is_ok());
    assert_eq!(rewrite("v=0\r\n", &s, &two), Err(SdpError::TextMismatch));
    // Same length, different text: spans would land elsewhere.
    let shifted = format!("x{}", &OFFER[1..]);
    assert_eq!(rewrite(&shifted, &s, &two), Err(SdpError::TextMismatch));
    // Same length with a multi-byte character where a span boundary was.
    let unicode = OFFER.replacen("s=-\r\n", "s=é\n", 1);
    assert_eq!(unicode.len(), OFFER.len());
    assert_eq!(rewrite(&unicode, &s, &two), Err(SdpError::TextMismatch));
}

#[test]
fn rejected_media_gets_nothing_added() {
    let s = Session::parse(OFFER).unwrap();
    let out = rewrite(OFFER, &s, &plan(vec![media_plan(30000), media_plan(0)])).unwrap();
    let video = &out[out.find("m=video").unwrap()..];
    assert_eq!(video, "m=video 0 RTP/AVPF 96\r\nc=IN IP4 203.0.113.1\r\n");
}

#[test]
fn repeated_connection_and_origin_lines_are_each_rewritten() {
    // Found by the mutation test: spans must come from each line, not the last one parsed.
    let text = "v=0\r\nc=IN IP4 192.168.1.20\r\no=- 1 1 IN IP4 10.0.0.1\r\no=- 2 2 IN IP6 ::2\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n\
m=audio 5000 RTP/AVP 0\r\nc=IN IP6 2001:db8::1\r\nc=IN IP4 1.2.3.4\r\n";
    let s = Session::parse(text).unwrap();
    let out = rewrite(text, &s, &plan(vec![media_plan(30000)])).unwrap();
    assert_eq!(
        out,
        "v=0\r\nc=IN IP4 192.168.1.20\r\no=- 1 1 IN IP4 203.0.113.1\r\no=- 2 2 IN IP4 203.0.113.1\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n\
m=audio 30000 RTP/AVP 0\r\nc=IN IP4 203.0.113.1\r\nc=IN IP4 203.0.113.1\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\na=rtcp:30001\r\n"
    );
}

#[test]
fn options_change_direction_rtcp_extmap_and_ice_lite() {
    let text = "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\na=extmap:2 urn:y\r\n\
m=audio 5000 RTP/AVP 0\r\na=sendonly\r\na=extmap:1 urn:x\r\na=x\r\n";
    let s = Session::parse(text).unwrap();
    let mut p = plan(vec![media_plan(30000)]);
    p.replace_origin = false;
    p.loop_protect = Some("feedc0ffee12".into());
    p.options.original_sendrecv = true;
    p.options.full_rtcp_attribute = true;
    p.options.strip_extmap = true;
    p.options.ice_lite = true;
    let out = rewrite(text, &s, &p).unwrap();
    assert_eq!(
        out,
        "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 203.0.113.1\r\nt=0 0\r\n\
a=rtpengine:feedc0ffee12\r\na=ice-lite\r\nm=audio 30000 RTP/AVP 0\r\na=sendonly\r\na=x\r\n\
a=rtpmap:0 PCMU/8000\r\na=rtcp:30001 IN IP4 203.0.113.1\r\n"
    );
}

#[test]
fn malformed_codec_ptime_and_rtcp_attributes_are_tolerated_like_rtpengine() {
    let text = "v=0\r\nc=IN IP6 [::1]\r\nm=audio 5000 RTP/AVP 96 0\r\na=rtcp:abc\r\na=ptime:x\r\na=rtpmap:96 foo\r\na=rtpmap:0\r\n";
    let s = Session::parse(text).unwrap();
    let m = &s.media[0];
    assert_eq!((m.rtcp.clone(), m.ptime, m.rtpmaps.len()), (None, None, 0));
    assert_eq!(s.connection.as_ref().unwrap().ip(), Some(ip("::1")));
    let out = rewrite(text, &s, &plan(vec![media_plan(30000)])).unwrap();
    assert_eq!(
        out,
        "v=0\r\nc=IN IP4 203.0.113.1\r\nm=audio 30000 RTP/AVP 96 0\r\na=ptime:x\r\na=rtpmap:96 foo\r\na=rtpmap:0\r\n\
a=rtpmap:96 /0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\na=rtcp:30001\r\n"
    );
}

#[test]
fn planned_codec_lines_replace_the_sdps_and_an_empty_list_keeps_them() {
    let sdp = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n\
               m=audio 5000 RTP/AVP 0 101\r\na=ptime:x\r\na=rtpmap:101 telephone-event/8000\n\
               a=fmtp:101 0-16\r\n";
    let s = Session::parse(sdp).unwrap();
    let mut m = media_plan(7000);
    m.formats = Some(vec!["9".into(), "101".into()]);
    m.codecs = Some(vec![
        CodecLine {
            payload_type: "9".into(),
            rtpmap: "9 G722/8000".into(),
            fmtp: None,
            rtcp_fb: vec![],
        },
        CodecLine {
            payload_type: "101".into(),
            rtpmap: "101 telephone-event/8000".into(),
            fmtp: Some("0-15".into()),
            rtcp_fb: vec!["nack".into()],
        },
    ]);
    m.ptime = Some(30);
    let out = rewrite(sdp, &s, &plan(vec![m])).unwrap();
    assert!(out.contains("m=audio 7000 RTP/AVP 9 101\r\n"), "{out}");
    assert!(
        out.contains(
            "a=rtpmap:9 G722/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=rtcp-fb:101 nack\r\n"
        ),
        "{out}"
    );
    // 10.5 takes out every a=ptime, also a malformed one, when it prints its own.
    assert!(
        !out.contains("a=ptime:x") && out.contains("a=ptime:30\r\n"),
        "{out}"
    );
    assert!(!out.contains("0-16"), "{out}");

    // An empty store: no formats, the SDP's own lines stay as they were.
    let mut m = media_plan(7000);
    m.formats = Some(vec![]);
    m.codecs = Some(vec![]);
    let out = rewrite(sdp, &s, &plan(vec![m])).unwrap();
    assert!(out.contains("m=audio 7000 RTP/AVP \r\n"), "{out}");
    assert!(
        out.contains("a=rtpmap:101 telephone-event/8000\na=fmtp:101 0-16\r\n"),
        "{out}"
    );
    assert!(out.contains("a=ptime:x\r\n"), "{out}");
}
