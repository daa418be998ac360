//! DTLS-SRTP signalling through the registry: the SDP we write, the relay
//! configuration of each stream, and a restart keeping both.

use super::dtls::DtlsSettings;
use super::effect::{Effect, StreamConfig};
use super::tests::{clock, configs, flags, reg};
use crate::ng::flags::{DtlsFlags, IceMode};

const FP: &str = "sha-256 7B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:43:F0:A1:58:D0:A1:2C:19:08";

fn settings() -> DtlsSettings {
    DtlsSettings {
        fingerprints: vec![
            ("sha-256", "sha-256 AA:BB".into()),
            ("sha-1", "sha-1 CC:DD".into()),
        ],
        passive: false,
    }
}

fn browser_offer(setup: &str) -> String {
    format!(
        "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 46243 UDP/TLS/RTP/SAVPF 0\r\n\
         c=IN IP4 192.0.2.10\r\n\
         a=candidate:1 1 udp 2122260223 192.0.2.10 46243 typ host\r\n\
         a=candidate:2 1 tcp 1518280447 192.0.2.10 9 typ host tcptype active\r\n\
         a=candidate:3 2 udp 2122260222 192.0.2.10 46244 typ host\r\n\
         a=ice-ufrag:Oyef\r\na=ice-pwd:7ZwpNkjTPFuZpGl4Ub2pLmI3\r\n\
         a=fingerprint:{FP}\r\na=setup:{setup}\r\na=sendrecv\r\n"
    )
}

const PHONE: &str = "v=0\r\no=- 1 1 IN IP4 192.0.2.20\r\ns=-\r\nc=IN IP4 192.0.2.20\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\na=sendrecv\r\n";

fn dtls_of<'a>(effects: &'a [Effect], tag: &str) -> Vec<&'a StreamConfig> {
    configs(effects)
        .into_iter()
        .filter(|c| c.tag == tag)
        .collect()
}

#[test]
fn browser_to_phone_answers_active_and_configures_the_browser_streams() {
    let mut r = reg().with_dtls(settings());
    let now = clock();
    let mut offer = flags("c1", "browser", None, browser_offer("actpass"));
    offer.transport_protocol = Some("RTP/AVP".into());
    offer.ice = IceMode::Remove;
    let out = r.offer(&offer, &now).unwrap();
    let sdp = out.sdp.unwrap();
    assert!(
        !sdp.contains("a=setup") && !sdp.contains("a=fingerprint"),
        "{sdp}"
    );

    let mut answer = flags("c1", "browser", Some("phone"), PHONE.into());
    answer.transport_protocol = Some("UDP/TLS/RTP/SAVPF".into());
    answer.ice = IceMode::Force;
    let out = r.answer(&answer, &now).unwrap();
    let sdp = out.sdp.unwrap();
    assert!(
        sdp.contains(
            "a=rtcp:40001\r\na=setup:active\r\na=fingerprint:sha-256 AA:BB\r\na=ice-ufrag"
        ),
        "{sdp}"
    );
    let browser = dtls_of(&out.effects, "browser");
    assert_eq!(browser.len(), 2, "RTP and RTCP streams");
    for c in &browser {
        let d = c.dtls.as_ref().expect("DTLS toward the browser");
        assert!(d.active);
        assert_eq!(d.fingerprint.hash, "sha-256");
        assert_eq!(d.fingerprint.digest[0], 0x7B);
        // Only the UDP candidates of the stream's own component.
        let cands = &c.ice.as_ref().unwrap().remote_candidates;
        let want = if c.is_rtcp { 46244 } else { 46243 };
        assert_eq!(cands.len(), 1, "{cands:?}");
        assert_eq!(cands[0].address.port(), want);
        assert_eq!(cands[0].kind, "host");
    }
    for c in dtls_of(&out.effects, "phone") {
        assert!(c.dtls.is_none());
    }

    // A restart keeps the role, the fingerprint and the candidates.
    use super::persist::{decode_call, encode_call};
    let call = r.calls.get("c1").unwrap();
    let back = decode_call(&encode_call(call, &now), &now).unwrap();
    for (m, n) in call.monologues.iter().zip(&back.monologues) {
        for (x, y) in m.medias.iter().zip(&n.medias) {
            assert_eq!(x.dtls, y.dtls);
            assert_eq!(x.remote_candidates, y.remote_candidates);
        }
    }
}

#[test]
fn phone_to_browser_offers_actpass_and_learns_the_role_from_the_answer() {
    let mut r = reg().with_dtls(settings());
    let now = clock();
    let mut offer = flags("c2", "phone", None, PHONE.into());
    offer.transport_protocol = Some("UDP/TLS/RTP/SAVPF".into());
    offer.dtls = DtlsFlags {
        fingerprint: Some("sha-1".into()),
        ..DtlsFlags::default()
    };
    let sdp = r.offer(&offer, &now).unwrap().sdp.unwrap();
    assert!(
        sdp.contains("a=setup:actpass\r\na=fingerprint:sha-1 CC:DD\r\n"),
        "{sdp}"
    );
    assert!(sdp.contains("a=crypto:1 "), "SDES is offered too: {sdp}");

    // The browser answers passive: we are the client.
    let mut answer = flags("c2", "phone", Some("browser"), browser_offer("passive"));
    answer.transport_protocol = Some("RTP/AVP".into());
    let out = r.answer(&answer, &now).unwrap();
    let sdp = out.sdp.unwrap();
    assert!(
        !sdp.contains("a=setup") && !sdp.contains("a=crypto"),
        "{sdp}"
    );
    for c in dtls_of(&out.effects, "browser") {
        assert!(c.dtls.as_ref().unwrap().active);
    }
}

#[test]
fn no_certificate_writes_no_dtls_lines() {
    let mut r = reg();
    let now = clock();
    let mut offer = flags("c3", "phone", None, PHONE.into());
    offer.transport_protocol = Some("RTP/SAVP".into());
    let sdp = r.offer(&offer, &now).unwrap().sdp.unwrap();
    assert!(!sdp.contains("a=setup"), "{sdp}");
}

#[test]
fn a_renewed_certificate_is_for_new_calls_and_running_calls_keep_theirs() {
    let mut r = reg().with_dtls(settings());
    let now = clock();
    // The browser's call: ICE left out, the answer to it carries our fingerprint.
    let call = |r: &mut super::tests::TestRegistry, id: &str| {
        let mut offer = flags(id, "browser", None, browser_offer("actpass"));
        offer.transport_protocol = Some("RTP/AVP".into());
        offer.ice = IceMode::Remove;
        r.offer(&offer, &now).unwrap();
        let mut answer = flags(id, "browser", Some("phone"), PHONE.into());
        answer.transport_protocol = Some("UDP/TLS/RTP/SAVPF".into());
        r.answer(&answer, &now).unwrap().sdp.unwrap()
    };
    assert!(call(&mut r, "old").contains("a=fingerprint:sha-256 AA:BB\r\n"));
    r.set_dtls(DtlsSettings {
        fingerprints: vec![("sha-256", "sha-256 EE:FF".into())],
        passive: false,
    });
    assert!(call(&mut r, "new").contains("a=fingerprint:sha-256 EE:FF\r\n"));
    // The running call's re-INVITE: its handshakes use the old certificate.
    assert!(call(&mut r, "old").contains("a=fingerprint:sha-256 AA:BB\r\n"));
}
