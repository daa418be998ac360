//! ICE=optional and ICE=force-relay through the registry. With ICE on both
//! sides 10.5 goes into passthrough: the parties' ICE, DTLS and SDES lines
//! cross unchanged, we only add ourselves as a low-priority (or relay)
//! candidate, and no stream gets an ICE agent, a DTLS session or SRTP keys,
//! so whatever reaches our ports is relayed untouched.

use super::dtls::DtlsSettings;
use super::effect::{Effect, StreamConfig};
use super::tests::{clock, configs, flags, reg};
use crate::ng::flags::IceMode;

const FP_A: &str = "sha-256 7B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:43:F0:A1:58:D0:A1:2C:19:08";
const FP_B: &str = "sha-256 11:22:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:43:F0:A1:58:D0:A1:2C:19:08";
const CRYPTO: &str = "1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz";

fn settings() -> DtlsSettings {
    DtlsSettings {
        fingerprints: vec![("sha-256", "sha-256 AA:BB".into())],
        passive: false,
    }
}

/// A browser's SDP: ICE (host and relay candidates), DTLS and an a=crypto.
fn browser(ufrag: &str, ip: &str, fp: &str, setup: &str) -> String {
    format!(
        "v=0\r\no=- 1 2 IN IP4 {ip}\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n\
         m=audio 46243 UDP/TLS/RTP/SAVPF 0\r\nc=IN IP4 {ip}\r\n\
         a=candidate:1 1 udp 2122260223 {ip} 46243 typ host\r\n\
         a=candidate:2 1 udp 41885439 198.51.100.1 50000 typ relay raddr {ip} rport 46243\r\n\
         a=ice-ufrag:{ufrag}\r\na=ice-pwd:7ZwpNkjTPFuZpGl4Ub2pLmI3\r\n\
         a=fingerprint:{fp}\r\na=setup:{setup}\r\na=crypto:{CRYPTO}\r\n\
         a=mid:0\r\na=sendrecv\r\na=rtcp-mux\r\n"
    )
}

const PHONE: &str = "v=0\r\no=- 1 1 IN IP4 192.0.2.20\r\ns=-\r\nc=IN IP4 192.0.2.20\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\na=sendrecv\r\n";

fn of_tag<'a>(effects: &'a [Effect], tag: &str) -> Vec<&'a StreamConfig> {
    configs(effects)
        .into_iter()
        .filter(|c| c.tag == tag)
        .collect()
}

/// No ICE agent, no DTLS session, no SRTP keys, and STUN/DTLS not taken out
/// of the kernel path: every packet is relayed as it came.
fn assert_relayed_untouched(effects: &[Effect], tag: &str) {
    let streams = of_tag(effects, tag);
    assert!(!streams.is_empty(), "streams of {tag}");
    for c in streams {
        assert!(c.ice.is_none(), "{tag}: ICE agent");
        assert!(c.dtls.is_none(), "{tag}: DTLS session");
        assert!(!c.kernel.stun && !c.kernel.dtls, "{tag}: {:?}", c.kernel);
        assert!(
            c.kernel.srtp_in.is_none() && c.kernel.srtp_out.is_none(),
            "{tag}: SRTP keys"
        );
        assert!(c.sink.is_some(), "{tag}: relayed to its peer");
    }
}

fn browser_call(mode: IceMode) -> (String, String, Vec<Effect>) {
    let mut r = reg().with_dtls(settings());
    let now = clock();
    let mut offer = flags(
        "c",
        "a",
        None,
        browser("Oyef", "192.0.2.10", FP_A, "actpass"),
    );
    offer.ice = mode;
    let out = r.offer(&offer, &now).unwrap();
    let offer_sdp = out.sdp.unwrap();
    let mut answer = flags(
        "c",
        "a",
        Some("b"),
        browser("Kq9z", "192.0.2.30", FP_B, "active"),
    );
    answer.ice = mode;
    let out = r.answer(&answer, &now).unwrap();
    (offer_sdp, out.sdp.unwrap(), out.effects)
}

#[test]
fn optional_between_browsers_passes_ice_dtls_and_sdes_through() {
    let (offer, answer, effects) = browser_call(IceMode::Optional);
    for (sdp, ufrag, fp, setup) in [
        (&offer, "Oyef", FP_A, "actpass"),
        (&answer, "Kq9z", FP_B, "active"),
    ] {
        // The party's own lines, once each; none of ours.
        assert_eq!(sdp.matches("a=ice-ufrag:").count(), 1, "{sdp}");
        assert!(sdp.contains(&format!("a=ice-ufrag:{ufrag}\r\n")), "{sdp}");
        assert!(sdp.contains(&format!("a=fingerprint:{fp}\r\n")), "{sdp}");
        assert_eq!(sdp.matches("a=fingerprint:").count(), 1, "{sdp}");
        assert!(sdp.contains(&format!("a=setup:{setup}\r\n")), "{sdp}");
        assert!(sdp.contains(&format!("a=crypto:{CRYPTO}\r\n")), "{sdp}");
        assert_eq!(sdp.matches("a=crypto:").count(), 1, "{sdp}");
        assert!(sdp.contains("typ relay raddr"), "the party's relay stays");
        // Our candidate ranks just below the party's host candidate.
        assert!(sdp.contains(" 1 UDP 2122260479 127.0.0.1 "), "{sdp}");
    }
    assert!(offer.contains("a=group:BUNDLE 0\r\n"), "{offer}");
    assert_relayed_untouched(&effects, "a");
    assert_relayed_untouched(&effects, "b");
}

#[test]
fn force_relay_between_browsers_adds_us_as_relay_and_keeps_addresses() {
    let (offer, answer, effects) = browser_call(IceMode::ForceRelay);
    // c= and m= as the browser wrote them; its relay candidate replaced by ours.
    assert!(
        offer.contains("m=audio 46243 UDP/TLS/RTP/SAVPF 0\r\nc=IN IP4 192.0.2.10\r\n"),
        "{offer}"
    );
    assert!(!offer.contains("198.51.100.1"), "{offer}");
    assert!(
        offer.contains("a=candidate:") && offer.contains(" 1 UDP 16777215 127.0.0.1 "),
        "{offer}"
    );
    assert!(
        answer.contains("m=audio 46243 UDP/TLS/RTP/SAVPF 0\r\nc=IN IP4 192.0.2.30\r\n"),
        "{answer}"
    );
    assert!(
        answer.contains(&format!("a=fingerprint:{FP_B}\r\n")),
        "{answer}"
    );
    assert_relayed_untouched(&effects, "a");
    assert_relayed_untouched(&effects, "b");
}

#[test]
fn passthrough_stays_for_a_later_offer_without_the_key() {
    let mut r = reg().with_dtls(settings());
    let now = clock();
    let mut offer = flags(
        "c",
        "a",
        None,
        browser("Oyef", "192.0.2.10", FP_A, "actpass"),
    );
    offer.ice = IceMode::Optional;
    r.offer(&offer, &now).unwrap();
    let mut answer = flags(
        "c",
        "a",
        Some("b"),
        browser("Kq9z", "192.0.2.30", FP_B, "active"),
    );
    answer.ice = IceMode::Optional;
    r.answer(&answer, &now).unwrap();
    // A restart keeps it.
    use super::persist::{decode_call, encode_call};
    let back = decode_call(&encode_call(&r.calls["c"], &now), &now).unwrap();
    let live: Vec<bool> = back
        .live()
        .flat_map(|(_, m)| m.medias.iter().map(|x| x.passthru))
        .collect();
    assert_eq!(live, vec![true, true]);
    // 10.5 keeps the media's PASSTHRU flag until `no-passthrough`.
    let mut reoffer = offer.clone();
    reoffer.ice = IceMode::Default;
    let out = r.offer(&reoffer, &now).unwrap();
    let sdp = out.sdp.unwrap();
    assert!(!sdp.contains("a=fingerprint:sha-256 AA:BB"), "{sdp}");
    assert_eq!(sdp.matches("a=ice-ufrag:").count(), 1, "{sdp}");
    assert_relayed_untouched(&out.effects, "a");
}

#[test]
fn optional_towards_a_party_without_ice_runs_our_own_agent() {
    let mut r = reg();
    let now = clock();
    let mut offer = flags("c", "phone", None, PHONE.into());
    offer.ice = IceMode::Optional;
    let out = r.offer(&offer, &now).unwrap();
    let sdp = out.sdp.unwrap();
    // No ICE in the offer: a new set of ours, at the usual host priority.
    assert!(sdp.contains("a=ice-ufrag:"), "{sdp}");
    assert!(sdp.contains(" 1 UDP 2130706431 "), "{sdp}");
    let browser_answer = browser("Kq9z", "192.0.2.30", FP_B, "active")
        .replace("UDP/TLS/RTP/SAVPF", "RTP/AVP")
        .replace(&format!("a=crypto:{CRYPTO}\r\n"), "");
    let mut answer = flags("c", "phone", Some("b"), browser_answer);
    answer.ice = IceMode::Optional;
    let out = r.answer(&answer, &now).unwrap();
    let b = of_tag(&out.effects, "b");
    assert!(b.iter().all(|c| c.ice.is_some()), "our agent towards b");
}

#[test]
fn force_relay_towards_a_party_without_ice_offers_relay_candidates() {
    let mut r = reg();
    let now = clock();
    let mut offer = flags("c", "phone", None, PHONE.into());
    offer.ice = IceMode::ForceRelay;
    let sdp = r.offer(&offer, &now).unwrap().sdp.unwrap();
    assert!(
        sdp.contains("c=IN IP4 192.0.2.20\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\n"),
        "{sdp}"
    );
    assert!(sdp.contains("a=ice-ufrag:"), "{sdp}");
    assert!(
        sdp.contains(" 1 UDP 16777215 127.0.0.1 40002 typ relay raddr 127.0.0.1 rport 40002\r\n"),
        "{sdp}"
    );
    assert!(!sdp.contains("typ host"), "{sdp}");
}

#[test]
fn the_passthrough_flags_override_ice() {
    let mut r = reg().with_dtls(settings());
    let now = clock();
    // `passthrough` towards a phone without ICE: the browser's DTLS crosses.
    let mut offer = flags(
        "c",
        "a",
        None,
        browser("Oyef", "192.0.2.10", FP_A, "actpass"),
    );
    offer.ice = IceMode::Remove;
    offer.passthrough = Some(true);
    let sdp = r.offer(&offer, &now).unwrap().sdp.unwrap();
    assert!(sdp.contains(&format!("a=fingerprint:{FP_A}\r\n")), "{sdp}");
    assert!(sdp.contains("a=ice-ufrag:Oyef\r\n"), "{sdp}");
    assert!(!sdp.contains(" UDP 21"), "no candidates of ours: {sdp}");
    let mut answer = flags("c", "a", Some("b"), PHONE.into());
    answer.ice = IceMode::Force;
    let out = r.answer(&answer, &now).unwrap();
    assert_relayed_untouched(&out.effects, "a");

    // `no-passthrough` ends it: our agent again. The phone answered RTP/AVP,
    // so the re-offer to it is RTP/AVP, without DTLS (10.5, measured).
    offer.ice = IceMode::Optional;
    offer.passthrough = Some(false);
    let sdp = r.offer(&offer, &now).unwrap().sdp.unwrap();
    assert!(sdp.contains("m=audio 40002 RTP/AVP 0\r\n"), "{sdp}");
    assert!(!sdp.contains("a=fingerprint:"), "{sdp}");
    assert_eq!(
        sdp.matches("a=ice-ufrag:").count(),
        2,
        "the party's and ours"
    );
    let out = r.answer(&answer, &now).unwrap();
    let a = of_tag(&out.effects, "a");
    assert!(
        a.iter().all(|c| c.ice.is_some() && c.dtls.is_some()),
        "{a:?}"
    );
}

/// A party whose host candidate has the top local preference leaves us none
/// above it: 10.5 then takes type preference 125 and local preference 65535
/// for its first address, and counts on for the next address past the 16 bits
/// of the field, which wraps (unsigned) into 4294967295 (gen/515 and gen/2121
/// of the generator, both addresses of one logical interface).
#[test]
fn passthrough_rank_past_the_last_local_preference_wraps_as_in_10_5() {
    let mut r = super::tests::registry_on(&["127.0.0.1", "::1"]);
    let now = clock();
    let sdp = browser("Oyef", "192.0.2.10", FP_A, "actpass").replace(
        "a=candidate:1 1 udp 2122260223 ",
        "a=candidate:1 1 udp 2130706431 ",
    );
    let mut offer = flags("c", "a", None, sdp);
    offer.ice = IceMode::Optional;
    let sdp = r.offer(&offer, &now).unwrap().sdp.unwrap();
    assert!(sdp.contains(" 1 UDP 2097152255 127.0.0.1 "), "{sdp}");
    assert!(sdp.contains(" 1 UDP 4294967295 ::1 "), "{sdp}");
}

/// The suite query replies show on each stream of `tag`'s first media.
fn stream_suites(r: &super::tests::TestRegistry, tag: &str) -> Vec<Option<String>> {
    use crate::ng::bencode::Owned;
    let q = super::query::query_call(r.calls.get("c").unwrap(), &clock(), &super::effect::NoStats);
    let medias = q
        .get("tags")
        .and_then(|t| t.get(tag))
        .and_then(|t| t.get("medias"));
    let Some(Owned::List(medias)) = medias else {
        panic!("no medias of {tag} in {q}");
    };
    let Some(Owned::List(streams)) = medias[0].get("streams") else {
        panic!("no streams in {q}");
    };
    streams
        .iter()
        .map(|s| match s.get("crypto suite") {
            Some(Owned::Bytes(b)) => Some(String::from_utf8_lossy(b).into_owned()),
            None => None,
            Some(other) => panic!("suite {other}"),
        })
        .collect()
}

#[test]
fn the_callee_of_an_offer_turning_passthrough_keeps_the_suite_it_would_have_been_offered() {
    // 10.5 builds its DTLS and SDES offer toward the callee before ICE on
    // both sides turns passthrough on; the callee's streams take the first
    // suite of it, and keep it after a plain answer (measured: gen/155,
    // gen/1760).
    for mode in [IceMode::Optional, IceMode::ForceRelay] {
        let mut r = reg().with_dtls(settings());
        let now = clock();
        let mut offer = flags(
            "c",
            "a",
            None,
            browser("Oyef", "192.0.2.10", FP_A, "actpass"),
        );
        offer.ice = mode;
        r.offer(&offer, &now).unwrap();
        // The browser's own line comes first in what 10.5 would offer.
        let kept = Some("AES_CM_128_HMAC_SHA1_80".to_string());
        assert_eq!(
            stream_suites(&r, "<untagged 1>"),
            [kept.clone(), kept.clone()]
        );
        r.answer(&flags("c", "a", Some("b"), PHONE.into()), &now)
            .unwrap();
        assert_eq!(stream_suites(&r, "b"), [kept.clone(), kept]);
        // The offerer's streams never had one.
        assert_eq!(stream_suites(&r, "a"), [None, None]);
    }
}

/// The flags query replies show for `tag`'s first media.
fn media_flags(r: &super::tests::TestRegistry, tag: &str) -> Vec<String> {
    use crate::ng::bencode::Owned;
    let q = super::query::query_call(r.calls.get("c").unwrap(), &clock(), &super::effect::NoStats);
    let medias = q
        .get("tags")
        .and_then(|t| t.get(tag))
        .and_then(|t| t.get("medias"));
    let Some(Owned::List(medias)) = medias else {
        panic!("no medias of {tag} in {q}");
    };
    let Some(Owned::List(flags)) = medias[0].get("flags") else {
        panic!("no flags in {q}");
    };
    flags
        .iter()
        .map(|f| match f {
            Owned::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
            other => panic!("flag {other}"),
        })
        .collect()
}

fn has_crypto_flags(flags: &[String]) -> Vec<&str> {
    ["DTLS-SRTP", "DTLS role active", "DTLS role passive", "SDES"]
        .into_iter()
        .filter(|f| flags.iter().any(|g| g == f))
        .collect()
}

#[test]
fn dtls_and_sdes_flags_of_the_request_entering_passthrough_show_until_the_next() {
    // 10.5 reads the sender's a=setup and builds its DTLS and SDES offer
    // toward the receiver before ICE on both sides turns passthrough on:
    // those flags show in query replies (measured: gen/1662) until the next
    // request in passthrough clears them on both sides.
    let mut r = reg().with_dtls(settings());
    let now = clock();
    let mut offer = flags(
        "c",
        "a",
        None,
        browser("Oyef", "192.0.2.10", FP_A, "actpass"),
    );
    offer.ice = IceMode::Optional;
    let out = r.offer(&offer, &now).unwrap();
    let all = ["DTLS-SRTP", "DTLS role active", "DTLS role passive", "SDES"];
    assert_eq!(has_crypto_flags(&media_flags(&r, "a")), all);
    assert_eq!(has_crypto_flags(&media_flags(&r, "<untagged 1>")), all);
    assert!(media_flags(&r, "a").contains(&"passthrough".to_string()));
    // Still no DTLS of ours in the SDP nor on the streams.
    let sdp = out.sdp.unwrap();
    assert_eq!(sdp.matches("a=fingerprint:").count(), 1, "{sdp}");
    assert_relayed_untouched(&out.effects, "a");
    let mut answer = flags(
        "c",
        "a",
        Some("b"),
        browser("Kq9z", "192.0.2.30", FP_B, "active"),
    );
    answer.ice = IceMode::Optional;
    r.answer(&answer, &now).unwrap();
    assert!(has_crypto_flags(&media_flags(&r, "a")).is_empty());
    assert!(has_crypto_flags(&media_flags(&r, "b")).is_empty());
}

#[test]
fn an_answer_entering_passthrough_shows_the_answerers_dtls_role() {
    // ICE=force-relay in the answer of a browser: 10.5 read its a=setup
    // (active: we are passive toward it) before passthrough (gen/391).
    let mut r = reg().with_dtls(settings());
    let now = clock();
    r.offer(&flags("c", "a", None, PHONE.into()), &now).unwrap();
    let mut answer = flags(
        "c",
        "a",
        Some("b"),
        browser("Kq9z", "192.0.2.30", FP_B, "active"),
    );
    answer.ice = IceMode::ForceRelay;
    let out = r.answer(&answer, &now).unwrap();
    let b = media_flags(&r, "b");
    assert!(b.contains(&"passthrough".to_string()), "{b:?}");
    assert_eq!(
        has_crypto_flags(&b),
        ["DTLS-SRTP", "DTLS role passive", "SDES"]
    );
    assert!(has_crypto_flags(&media_flags(&r, "a")).is_empty());
    assert_relayed_untouched(&out.effects, "b");
}
