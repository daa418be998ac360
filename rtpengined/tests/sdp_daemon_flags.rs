//! ng flags that shape the SDP and are implemented now: no warning for them,
//! and their effect on the rewritten offer.

mod common;

use common::*;
use rtpengined::ng::bencode::Owned;

fn two_codec_sdp() -> String {
    "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
     m=audio 6000 RTP/AVP 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\n"
        .to_string()
}

fn m_line(body: &str) -> String {
    body.lines()
        .find(|l| l.starts_with("m=audio "))
        .map(|l| l.split(' ').skip(2).collect::<Vec<_>>().join(" "))
        .expect("m=audio line")
}

#[test]
fn codec_strip_mask_except_and_generate_mid_are_honoured_without_warning() {
    let d = Daemon::start(38200, 38239, &[]);
    let r = d.ok(&offer("f-1", "a", &two_codec_sdp())
        .with("codec", Owned::dict().with("strip", list(&["pcma"]))));
    assert_eq!(r.get("warning"), None, "{r}");
    assert_eq!(m_line(&text(r.get("sdp"))), "RTP/AVP 0 101");

    let r = d.ok(&offer("f-2", "a", &two_codec_sdp())
        .with(
            "codec",
            Owned::dict()
                .with("mask", list(&["all"]))
                .with("except", list(&["PCMA"])),
        )
        .with("flags", list(&["generate-mid"])));
    assert_eq!(r.get("warning"), None, "{r}");
    let body = text(r.get("sdp"));
    assert_eq!(m_line(&body), "RTP/AVP 8");
    assert!(body.contains("\r\na=mid:1\r\n"), "{body}");

    // The `codec-strip-X` flag spelling; the answer only keeps what was offered.
    let r = d.ok(&offer("f-3", "a", &two_codec_sdp()).with("flags", list(&["codec-strip-PCMU"])));
    assert_eq!(m_line(&text(r.get("sdp"))), "RTP/AVP 8 101");
    let a = d.ok(&answer("f-3", "a", "b", &two_codec_sdp()));
    assert_eq!(m_line(&text(a.get("sdp"))), "RTP/AVP 8 101");

    // The other sub-keys are read too: `offer` re-adds only what the SDP had.
    let r = d.ok(&offer("f-4", "a", &two_codec_sdp()).with(
        "codec",
        Owned::dict()
            .with("strip", list(&["PCMA"]))
            .with("offer", list(&["G722"])),
    ));
    assert_eq!(r.get("warning"), None, "{r}");
    assert_eq!(m_line(&text(r.get("sdp"))), "RTP/AVP 0 101");
}

/// The ng keys `media address` and `address family` spelt with a space (as
/// 10.5 reads them): the media address goes into c= and nothing else; the
/// family moves our socket toward the callee.
#[test]
fn media_address_and_address_family_with_spaces() {
    let d = Daemon::start(38300, 38339, &["--interface=127.0.0.1", "--interface=::1"]);
    let r = d.ok(&offer("fam-1", "a", &two_codec_sdp()).with("media address", "2001:db8::7"));
    assert_eq!(r.get("warning"), None, "{r}");
    let body = text(r.get("sdp"));
    assert!(body.contains("\r\nc=IN IP6 2001:db8::7\r\n"), "{body}");

    let r = d.ok(&offer("fam-2", "a", &two_codec_sdp()).with("address family", "IP6"));
    assert_eq!(r.get("warning"), None, "{r}");
    let body = text(r.get("sdp"));
    assert!(body.contains("\r\nc=IN IP6 ::1\r\n"), "{body}");
}
