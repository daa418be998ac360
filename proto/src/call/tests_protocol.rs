//! Each side's transport protocol through offers and answers (`call::protocol`),
//! and the DTLS/SDES lines that follow from it, as 10.5 writes them (measured
//! with tests/differential/ng_live_diff.py, generated cases 14 and 30).

use super::dtls::DtlsSettings;
use super::tests::{clock, flags, reg, TestRegistry};

const FP: &str = "sha-256 7B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:43:F0:A1:58:D0:A1:2C:19:08";

fn settings() -> DtlsSettings {
    DtlsSettings {
        fingerprints: vec![("sha-256", "sha-256 AA:BB".into())],
        passive: false,
    }
}

/// A DTLS-SRTP offer without ICE.
fn browser() -> String {
    format!(
        "v=0\r\no=- 1 2 IN IP4 192.0.2.10\r\ns=-\r\nt=0 0\r\n\
         m=audio 46243 UDP/TLS/RTP/SAVPF 0\r\nc=IN IP4 192.0.2.10\r\n\
         a=fingerprint:{FP}\r\na=setup:actpass\r\na=sendrecv\r\n"
    )
}

const PHONE: &str = "v=0\r\no=- 1 1 IN IP4 192.0.2.20\r\ns=-\r\nc=IN IP4 192.0.2.20\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\na=sendrecv\r\n";

fn protocol(r: &TestRegistry, tag: &str) -> String {
    let call = r.calls.get("c").expect("call");
    let i = call.find_tag(tag).expect("tag");
    call.monologues[i].medias[0].protocol.clone()
}

/// Browser offers DTLS-SRTP, the phone answers RTP/AVP (with `accept` or not).
fn browser_to_phone(accept: bool) -> (TestRegistry, String) {
    let mut r = reg().with_dtls(settings());
    let now = clock();
    r.offer(&flags("c", "browser", None, browser()), &now)
        .unwrap();
    let mut answer = flags("c", "browser", Some("phone"), PHONE.into());
    answer.protocol_accept = accept;
    let sdp = r.answer(&answer, &now).unwrap().sdp.unwrap();
    (r, sdp)
}

#[test]
fn an_answer_keeps_the_offered_protocol_by_default() {
    let (r, sdp) = browser_to_phone(false);
    assert!(sdp.contains(" UDP/TLS/RTP/SAVPF 0\r\n"), "{sdp}");
    assert!(sdp.contains("a=setup:active\r\n"), "{sdp}");
    assert_eq!(protocol(&r, "browser"), "UDP/TLS/RTP/SAVPF");
    assert_eq!(protocol(&r, "phone"), "RTP/AVP");
}

#[test]
fn an_accepted_answer_gives_the_offerer_the_answerers_protocol() {
    let (r, sdp) = browser_to_phone(true);
    assert!(sdp.contains(" RTP/AVP 0\r\n"), "{sdp}");
    assert!(
        !sdp.contains("a=setup") && !sdp.contains("a=fingerprint") && !sdp.contains("a=crypto"),
        "{sdp}"
    );
    assert_eq!(protocol(&r, "browser"), "RTP/AVP");
}

#[test]
fn a_reoffer_keeps_the_protocol_the_answerer_chose() {
    let (mut r, _) = browser_to_phone(false);
    let sdp = r
        .offer(&flags("c", "browser", Some("phone"), browser()), &clock())
        .unwrap()
        .sdp
        .unwrap();
    assert!(sdp.contains(" RTP/AVP 0\r\n"), "{sdp}");
    assert!(
        !sdp.contains("a=setup") && !sdp.contains("a=fingerprint") && !sdp.contains("a=crypto"),
        "{sdp}"
    );
    assert_eq!(protocol(&r, "phone"), "RTP/AVP");
}

#[test]
fn a_forced_protocol_is_the_receivers_from_the_offer_on() {
    let mut r = reg();
    let mut offer = flags("c", "phone", None, PHONE.into());
    offer.transport_protocol = Some("RTP/SAVP".into());
    let sdp = r.offer(&offer, &clock()).unwrap().sdp.unwrap();
    assert!(sdp.contains(" RTP/SAVP 0\r\n"), "{sdp}");
    let call = r.calls.get("c").unwrap();
    let callee = &call.monologues[call.monologues[0].peer.unwrap()];
    assert_eq!(callee.medias[0].protocol, "RTP/SAVP");
    assert_eq!(protocol(&r, "phone"), "RTP/AVP");
}

fn crypto_lines(sdp: &str) -> Vec<&str> {
    sdp.lines().filter(|l| l.starts_with("a=crypto:")).collect()
}

#[test]
fn a_reoffer_repeats_the_sdes_keys_the_answer_did_not_pick() {
    let mut r = reg();
    let now = clock();
    let mut offer = flags("c", "phone", None, PHONE.into());
    offer.transport_protocol = Some("RTP/SAVP".into());
    let first = r.offer(&offer, &now).unwrap().sdp.unwrap();
    assert_eq!(crypto_lines(&first).len(), 12, "{first}");
    // The callee answers SRTP without a line (10.5 keeps all it offered).
    let savp = PHONE.replace("6000 RTP/AVP", "7000 RTP/SAVP");
    r.answer(&flags("c", "phone", Some("callee"), savp), &now)
        .unwrap();
    let mut reoffer = flags("c", "phone", Some("callee"), PHONE.into());
    reoffer.transport_protocol = Some("RTP/SAVP".into());
    let again = r.offer(&reoffer, &now).unwrap().sdp.unwrap();
    assert_eq!(crypto_lines(&again), crypto_lines(&first));
}

#[test]
fn sdes_off_does_not_withdraw_sdes_from_a_side_that_answered_with_it() {
    // 10.5 reads `SDES: off` only when a side gets its first SRTP offer: the
    // callee answered SDES, so a re-offer with `SDES: off` still offers every
    // suite (measured: gen/158).
    let mut r = reg();
    let now = clock();
    let mut offer = flags("c", "phone", None, PHONE.into());
    offer.transport_protocol = Some("RTP/SAVP".into());
    let first = r.offer(&offer, &now).unwrap().sdp.unwrap();
    let line = crypto_lines(&first)[0].to_owned();
    let savp = PHONE.replace("6000 RTP/AVP", "7000 RTP/SAVP") + &line + "\r\n";
    r.answer(&flags("c", "phone", Some("callee"), savp), &now)
        .unwrap();
    let mut reoffer = flags("c", "phone", Some("callee"), PHONE.into());
    reoffer.transport_protocol = Some("RTP/SAVP".into());
    reoffer.sdes = vec!["off".into()];
    let again = r.offer(&reoffer, &now).unwrap().sdp.unwrap();
    assert_eq!(crypto_lines(&again).len(), 12, "{again}");
    // A side offered SRTP for the first time gets none.
    let mut fresh = flags("d", "phone", None, PHONE.into());
    fresh.transport_protocol = Some("RTP/SAVP".into());
    fresh.sdes = vec!["off".into()];
    let out = r.offer(&fresh, &now).unwrap().sdp.unwrap();
    assert!(crypto_lines(&out).is_empty(), "{out}");
}

#[test]
fn a_side_that_answered_with_dtls_only_is_reoffered_no_sdes() {
    let mut r = reg().with_dtls(settings());
    let now = clock();
    r.offer(&flags("c", "phone", None, PHONE.into()), &now)
        .unwrap();
    let dtls_answer = browser().replace("a=setup:actpass", "a=setup:active");
    r.answer(&flags("c", "phone", Some("browser"), dtls_answer), &now)
        .unwrap();
    let again = r
        .offer(&flags("c", "phone", Some("browser"), PHONE.into()), &now)
        .unwrap()
        .sdp
        .unwrap();
    assert!(again.contains(" UDP/TLS/RTP/SAVPF 0\r\n"), "{again}");
    assert!(again.contains("a=fingerprint:sha-256 AA:BB\r\n"), "{again}");
    assert!(crypto_lines(&again).is_empty(), "{again}");
}

#[test]
fn streams_keep_their_sdes_suite_when_reoffered_plain_rtp() {
    let (mut r, _) = browser_to_phone(false);
    r.offer(&flags("c", "browser", Some("phone"), browser()), &clock())
        .unwrap();
    let q = super::query::query_call(r.calls.get("c").unwrap(), &clock(), &super::effect::NoStats);
    let streams = q
        .get("tags")
        .and_then(|t| t.get("phone"))
        .and_then(|t| t.get("medias"))
        .map(ToString::to_string)
        .unwrap();
    assert!(streams.contains("AEAD_AES_256_GCM"), "{streams}");
}
