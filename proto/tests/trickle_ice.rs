//! Trickle ICE in an SDP, as rtpengine 10.5 reads it: a browser's `c=IN IP4
//! 0.0.0.0` with port 9 and a media-level `a=ice-options:trickle` is "no
//! candidate yet" (RFC 8840), not a hold; without that media-level option (no
//! option, or only at session level as Firefox writes it) 10.5 takes it for a
//! hold, and so do we.

use std::net::IpAddr;

use rtpengine_proto::sdp::{rewrite, Direction, IceAdvert, MediaPlan, RewritePlan, Session};

fn browser_offer(session_extra: &str, media_extra: &str) -> String {
    format!(
        "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n{session_extra}\
         m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\n\
         a=candidate:1 1 udp 2122260223 192.168.1.10 46243 typ host\r\n\
         a=ice-ufrag:Oyef\r\na=ice-pwd:7ZwpNkjTPFuZpGl4Ub2pLmI3\r\n{media_extra}\
         a=rtpmap:111 opus/48000/2\r\na=sendrecv\r\n"
    )
}

#[test]
fn media_level_trickle_at_zero_address_is_not_a_hold() {
    let s = Session::parse(&browser_offer("", "a=ice-options:trickle\r\n")).unwrap();
    assert!(s.trickle_ice(0));
    assert!(s.trickle_ice_placeholder(0));
    assert_eq!(s.direction_for(0), Direction::SendRecv);
}

#[test]
fn zero_address_without_media_level_trickle_stays_a_hold() {
    for (session_extra, media_extra) in [("", ""), ("a=ice-options:trickle\r\n", "")] {
        let s = Session::parse(&browser_offer(session_extra, media_extra)).unwrap();
        assert!(!s.trickle_ice(0), "{session_extra:?}");
        assert_eq!(s.direction_for(0), Direction::SendOnly);
    }
}

#[test]
fn trickle_needs_an_ice_ufrag() {
    let body = browser_offer("", "a=ice-options:trickle\r\n").replace("a=ice-ufrag:Oyef\r\n", "");
    let s = Session::parse(&body).unwrap();
    assert!(!s.trickle_ice(0));
    // A session-level ufrag stands for the media's.
    let body = body.replace("t=0 0\r\n", "t=0 0\r\na=ice-ufrag:Sess\r\n");
    assert!(Session::parse(&body).unwrap().trickle_ice(0));
}

#[test]
fn trickle_placeholder_gets_our_address_and_trickle_lines() {
    let body = browser_offer("", "a=ice-options:trickle\r\n");
    let s = Session::parse(&body).unwrap();
    let ours: IpAddr = "203.0.113.1".parse().unwrap();
    let mut media = MediaPlan::new(30000, ours);
    media.trickle_ice = true;
    // Without ICE toward this peer: no trickle lines, but our address.
    let out = rewrite(&body, &s, &RewritePlan::new(ours, vec![media.clone()])).unwrap();
    assert!(out.contains("c=IN IP4 203.0.113.1\r\n"), "{out}");
    assert!(
        !out.contains("trickle") && !out.contains("end-of-candidates"),
        "{out}"
    );
    // With ICE: ice-options after the credentials, our candidates end-marked.
    media.ice = Some(IceAdvert {
        ufrag: "u".into(),
        pwd: "p".into(),
        candidates: Vec::new(),
    });
    let out = rewrite(&body, &s, &RewritePlan::new(ours, vec![media])).unwrap();
    assert!(
        out.ends_with(
            "a=ice-ufrag:u\r\na=ice-pwd:p\r\na=ice-options:trickle\r\na=end-of-candidates\r\n"
        ),
        "{out}"
    );
}
