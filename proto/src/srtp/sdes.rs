//! SDES offer/answer: which `a=crypto` lines rtpengine 10.5 sends, measured
//! against Debian's daemon (fixtures in rtpengined/tests/fixtures/sdes):
//! - Offer to an SRTP side: first the offerer's own valid suites in its order
//!   with its keys (tags renumbered from 1), then every other suite in
//!   `SUITES` order with a fresh key; `no-<suite>` removes a suite; the
//!   session-parameter switches are appended to each generated line.
//!   `only-<suite>` does not narrow the offer in 10.5 (measured), so we accept
//!   and ignore it. A re-offer keeps the lines it offered before in
//!   suites the offerer does not bring (same key); once the side answered
//!   with a suite only that line is kept (`accept_sent`), so the others get
//!   fresh keys (measured: savp_reinvite, generated case 21).
//! - Answer to an SRTP offerer: the suite the answerer chose if the offerer
//!   offered it too (offerer's tag, answerer's key), else the offerer's first
//!   usable suite with the offerer's tag and a fresh key.
//! - A copied key keeps its MKI; the party's lifetimes are never printed;
//!   fresh keys have no MKI (all measured, fixture kamailio_srtp and
//!   savp_lifetime_mki). With the option `lifetime` every line we print
//!   says `|2^31`, with `pad` keys keep their base64 padding.
//! - Session parameters: 10.5 keeps the three it knows on copied lines, in
//!   its order; `unencrypted_*`/`unauthenticated_srtp` set them on every
//!   line of an offer, `encrypted_*`/`authenticated_srtp` clear them.
//! - Crypto lines with an unknown suite or a key of the wrong length are
//!   ignored (rtpengine then treats the media as having no crypto).

use crate::sdp::crypto::CryptoAttribute;

use super::suite::{Suite, SUITES};

/// Session parameters in the order rtpengine prints them.
const SESSION_PARAMS: [&str; 3] = [
    "UNENCRYPTED_SRTP",
    "UNENCRYPTED_SRTCP",
    "UNAUTHENTICATED_SRTP",
];

/// The ng `SDES` list (and `SDES-...` flags) for one side.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SdesOptions {
    /// `off`: no SDES crypto at all.
    pub off: bool,
    /// `no-<suite>`: suites never offered or accepted.
    pub excluded: Vec<&'static str>,
    /// `unencrypted_srtp`, `unencrypted_srtcp`, `unauthenticated_srtp`, as a
    /// mask over `SESSION_PARAMS`: set on the lines of an offer.
    pub session_params: [bool; 3],
    /// `encrypted_srtp`, `encrypted_srtcp`, `authenticated_srtp`: cleared on
    /// the lines of an answer, and of an offer unless also set (10.5).
    pub session_params_off: [bool; 3],
    /// `lifetime`: each line we print carries `|2^31`.
    pub lifetime: bool,
    /// `pad` (and the flag `pad-crypto`): keys printed with base64 padding.
    pub pad: bool,
    /// Items naming no known suite or option: rtpengine 10.5 logs and ignores
    /// them (measured: the offer still succeeds), and so do we.
    pub ignored: Vec<String>,
}

impl SdesOptions {
    /// Reads the `SDES` list items (also the part after `SDES-` of a flag).
    /// Unknown items end up in `ignored` (for a log warning), as in 10.5.
    pub fn from_ng<'a>(items: impl IntoIterator<Item = &'a str>) -> SdesOptions {
        let mut options = SdesOptions::default();
        for item in items {
            let lower = item.to_ascii_lowercase();
            let suite_of = |name: &str| Suite::by_name(name).map(|s| s.name);
            match lower.as_str() {
                "no" | "off" | "disabled" | "disable" => options.off = true,
                "unencrypted_srtp" | "unencrypted-srtp" => options.session_params[0] = true,
                "unencrypted_srtcp" | "unencrypted-srtcp" => options.session_params[1] = true,
                "unauthenticated_srtp" | "unauthenticated-srtp" => options.session_params[2] = true,
                "encrypted_srtp" | "encrypted-srtp" => options.session_params_off[0] = true,
                "encrypted_srtcp" | "encrypted-srtcp" => options.session_params_off[1] = true,
                "authenticated_srtp" | "authenticated-srtp" => options.session_params_off[2] = true,
                "lifetime" => options.lifetime = true,
                "pad" => options.pad = true,
                _ if lower.starts_with("no-") => match suite_of(&item[3..]) {
                    Some(suite) => options.excluded.push(suite),
                    None => options.ignored.push(item.to_string()),
                },
                _ if lower.starts_with("only-") => {
                    if suite_of(&item[5..]).is_none() {
                        options.ignored.push(item.to_string());
                    }
                }
                // Accepted, no effect on the SDP here.
                "static" | "nonew" | "prefer" | "order" => {}
                _ => options.ignored.push(item.to_string()),
            }
        }
        options
    }

    fn allows(&self, suite: &Suite) -> bool {
        !self.excluded.contains(&suite.name)
    }

    /// The session parameters of a line we print, from those it had
    /// (`own`: the party's, none for a fresh key): 10.5 keeps the three it
    /// knows, in its order, sets the requested ones in an offer and clears
    /// the `encrypted`/`authenticated` ones.
    pub fn session_param_list(&self, own: &[String], offer: bool) -> Vec<String> {
        SESSION_PARAMS
            .iter()
            .enumerate()
            .filter(|(i, p)| {
                if offer && self.session_params[*i] {
                    true
                } else if self.session_params_off[*i] {
                    false
                } else {
                    own.iter().any(|o| o.eq_ignore_ascii_case(p))
                }
            })
            .map(|(_, p)| p.to_string())
            .collect()
    }

    /// A line as we print it (the value after `a=crypto:`): `|2^31` with
    /// `lifetime`, base64 padding with `pad` (10.5's `insert_crypto1`).
    pub fn print(&self, line: &CryptoAttribute) -> String {
        let mut line = line.clone();
        line.lifetime = self.lifetime.then(|| "2^31".to_owned());
        let text = line.to_string();
        let padding = (3 - line.key_salt.len() % 3) % 3;
        if !self.pad || padding == 0 {
            return text;
        }
        let key = crate::sdp::crypto::base64_encode(&line.key_salt);
        text.replacen(
            &format!("inline:{key}"),
            &format!("inline:{key}{}", "=".repeat(padding)),
            1,
        )
    }
}

/// The usable crypto lines of a media section (raw `a=crypto` values): parsed,
/// known suite, key||salt of the suite's length; the rest are skipped.
pub fn usable_crypto(raw: &[String]) -> Vec<(CryptoAttribute, &'static Suite)> {
    raw.iter()
        .filter_map(|value| CryptoAttribute::parse(value).ok())
        .filter_map(|c| {
            let suite = Suite::by_name(&c.suite)?;
            (c.key_salt.len() == suite.key_salt_len()).then_some((c, suite))
        })
        .collect()
}

/// Our `a=crypto` lines for an offer to an SRTP side, given the offerer's
/// usable lines (empty for a plain RTP offerer) and the lines this side was
/// last offered (`previous`, as `accept_sent` left them). `new_key(len)`
/// supplies fresh key||salt material (see `keys::random_key_salt`).
///
/// 10.5 offers the offerer's suites first, then what it offered this side
/// before in a suite not among them (same key, tag raised past those used),
/// then a fresh key for every other suite.
pub fn offer_crypto(
    offered: &[(CryptoAttribute, &'static Suite)],
    previous: &[CryptoAttribute],
    options: &SdesOptions,
    new_key: &mut dyn FnMut(usize) -> Vec<u8>,
) -> Vec<CryptoAttribute> {
    if options.off {
        return Vec::new();
    }
    let mut out: Vec<CryptoAttribute> = Vec::new();
    let mut used: Vec<&'static str> = Vec::new();
    for (crypto, suite) in offered {
        if !options.allows(suite) || used.contains(&suite.name) {
            continue;
        }
        used.push(suite.name);
        out.push(CryptoAttribute {
            tag: out.len() as u32 + 1,
            suite: suite.name.to_string(),
            key_salt: crypto.key_salt.clone(),
            lifetime: None,
            mki: crypto.mki,
            session_params: options.session_param_list(&crypto.session_params, true),
        });
    }
    let mut next_tag = out.len() as u32 + 1;
    for line in previous {
        let Some(suite) = Suite::by_name(&line.suite) else {
            continue;
        };
        if used.contains(&suite.name) {
            continue;
        }
        used.push(suite.name);
        let tag = line.tag.max(next_tag);
        next_tag = tag.saturating_add(1);
        out.push(CryptoAttribute {
            tag,
            ..line.clone()
        });
    }
    for suite in SUITES
        .iter()
        .filter(|s| options.allows(s) && !used.contains(&s.name))
    {
        out.push(CryptoAttribute {
            tag: next_tag,
            suite: suite.name.to_string(),
            key_salt: new_key(suite.key_salt_len()),
            lifetime: None,
            mki: None,
            session_params: options.session_param_list(&[], true),
        });
        next_tag = next_tag.saturating_add(1);
    }
    out
}

/// What we offered a side (`sent`) once its SDP says `remote`: 10.5 keeps
/// only the line of the side's first usable suite (same suite and tag), or
/// everything if the side wrote no usable line (its `__sdes_accept`).
pub fn accept_sent(sent: &mut Vec<CryptoAttribute>, remote: &[String], options: &SdesOptions) {
    let usable = usable_crypto(remote);
    let Some((first, suite)) = usable.iter().find(|(_, s)| options.allows(s)) else {
        return;
    };
    sent.retain(|line| line.tag == first.tag && Suite::by_name(&line.suite) == Some(*suite));
}

/// Our `a=crypto` line for the answer to an SRTP offerer (`offered`: its
/// usable lines), given the answerer's usable lines (empty for plain RTP).
/// `None` when the offerer had no usable crypto or SDES is off.
pub fn answer_crypto(
    offered: &[(CryptoAttribute, &'static Suite)],
    answered: &[(CryptoAttribute, &'static Suite)],
    options: &SdesOptions,
    new_key: &mut dyn FnMut(usize) -> Vec<u8>,
) -> Option<CryptoAttribute> {
    if options.off {
        return None;
    }
    let usable = |s: &Suite| options.allows(s);
    // The answerer's choice, if the offerer offered that suite: keep its key.
    for (answer, suite) in answered {
        if let Some((offer, _)) = offered
            .iter()
            .find(|(_, s)| s.name == suite.name && usable(s))
        {
            return Some(CryptoAttribute {
                tag: offer.tag,
                suite: suite.name.to_string(),
                key_salt: answer.key_salt.clone(),
                lifetime: None,
                mki: answer.mki,
                session_params: options.session_param_list(&answer.session_params, false),
            });
        }
    }
    let (offer, suite) = offered.iter().find(|(_, s)| usable(s))?;
    Some(CryptoAttribute {
        tag: offer.tag,
        suite: suite.name.to_string(),
        key_salt: new_key(suite.key_salt_len()),
        lifetime: None,
        mki: None,
        session_params: options.session_param_list(&offer.session_params, false),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counter_keys() -> impl FnMut(usize) -> Vec<u8> {
        let mut n = 0u8;
        move |len| {
            n += 1;
            vec![n; len]
        }
    }

    #[test]
    fn options_parse_switches_and_reject_unknown_suites() {
        let o = SdesOptions::from_ng(["no-AES_CM_128_HMAC_SHA1_32", "UNENCRYPTED_SRTCP", "pad"]);
        assert_eq!(o.excluded, vec!["AES_CM_128_HMAC_SHA1_32"]);
        assert_eq!(o.session_params, [false, true, false]);
        assert!(o.ignored.is_empty());
        let o = SdesOptions::from_ng(["no-AES_CM_999", "bogus"]);
        assert_eq!(o.ignored, vec!["no-AES_CM_999", "bogus"]);
        assert!(o.excluded.is_empty());
    }

    #[test]
    fn offer_puts_offered_suites_first_and_skips_excluded() {
        let offered = usable_crypto(&[
            "7 AES_CM_128_HMAC_SHA1_32 inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd".into(),
            "8 NULL_HMAC_SHA1_80 inline:short".into(),
        ]);
        assert_eq!(offered.len(), 1);
        let options = SdesOptions::from_ng(["no-F8_128_HMAC_SHA1_80"]);
        let out = offer_crypto(&offered, &[], &options, &mut counter_keys());
        assert_eq!(out.len(), 11);
        assert_eq!(out[0].tag, 1);
        assert_eq!(out[0].key_salt, (0u8..30).collect::<Vec<_>>());
        assert_eq!(out[1].suite, "AEAD_AES_256_GCM");
        assert_eq!(out[1].key_salt.len(), 44);
        assert!(out.iter().all(|c| c.suite != "F8_128_HMAC_SHA1_80"));
        assert_eq!(
            out.iter()
                .filter(|c| c.suite == "AES_CM_128_HMAC_SHA1_32")
                .count(),
            1
        );
    }

    #[test]
    fn answer_keeps_answerers_key_or_picks_offerers_first_suite() {
        let offered = usable_crypto(&[
            "3 AES_CM_128_HMAC_SHA1_80 inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd".into(),
            "4 AES_CM_128_HMAC_SHA1_32 inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd".into(),
        ]);
        let answered = usable_crypto(&[
            "9 AES_CM_128_HMAC_SHA1_32 inline:BwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyAhIiMk".into(),
        ]);
        let none = SdesOptions::default();
        let a = answer_crypto(&offered, &answered, &none, &mut counter_keys()).unwrap();
        assert_eq!((a.tag, a.suite.as_str()), (4, "AES_CM_128_HMAC_SHA1_32"));
        assert_eq!(a.key_salt, answered[0].0.key_salt);
        let a = answer_crypto(&offered, &[], &none, &mut counter_keys()).unwrap();
        assert_eq!((a.tag, a.key_salt.clone()), (3, vec![1u8; 30]));
        let off = SdesOptions::from_ng(["off"]);
        assert_eq!(
            answer_crypto(&offered, &[], &off, &mut counter_keys()),
            None
        );
        assert_eq!(
            answer_crypto(&[], &answered, &none, &mut counter_keys()),
            None
        );
    }

    #[test]
    fn no_and_disable_switch_sdes_off_as_off_does() {
        for item in ["no", "off", "disable", "disabled"] {
            assert!(SdesOptions::from_ng([item]).off, "{item}");
        }
    }

    #[test]
    fn lifetime_and_pad_change_only_how_lines_are_printed() {
        let line = CryptoAttribute {
            tag: 1,
            suite: "AEAD_AES_256_GCM".into(),
            key_salt: vec![0; 44],
            lifetime: Some("2^20".into()),
            mki: Some(crate::sdp::crypto::Mki {
                value: 1,
                length: 4,
            }),
            session_params: vec!["UNENCRYPTED_SRTCP".into()],
        };
        let key = "A".repeat(59);
        let plain = SdesOptions::default();
        assert_eq!(
            plain.print(&line),
            format!("1 AEAD_AES_256_GCM inline:{key}|1:4 UNENCRYPTED_SRTCP")
        );
        let both = SdesOptions::from_ng(["lifetime", "pad"]);
        assert_eq!(
            both.print(&line),
            format!("1 AEAD_AES_256_GCM inline:{key}=|2^31|1:4 UNENCRYPTED_SRTCP")
        );
    }

    #[test]
    fn session_params_apply_to_copied_lines_in_10_5_order() {
        let offered = usable_crypto(&[
            "1 AES_CM_128_HMAC_SHA1_80 inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd UNENCRYPTED_SRTCP KDR=1".into(),
        ]);
        let options = SdesOptions::from_ng(["unauthenticated_srtp", "encrypted_srtcp"]);
        let out = offer_crypto(&offered, &[], &options, &mut counter_keys());
        assert_eq!(out[0].session_params, ["UNAUTHENTICATED_SRTP"]);
        assert!(out[1..]
            .iter()
            .all(|c| c.session_params == ["UNAUTHENTICATED_SRTP"]));
        // In an offer the unencrypted form wins over the encrypted one.
        let options = SdesOptions::from_ng(["unencrypted_srtp", "encrypted_srtp"]);
        assert_eq!(options.session_param_list(&[], true), ["UNENCRYPTED_SRTP"]);
        // An answer only clears.
        assert!(options.session_param_list(&[], false).is_empty());
    }

    #[test]
    fn a_reoffer_keeps_earlier_lines_until_the_side_picks_one() {
        let none = SdesOptions::default();
        let first = offer_crypto(&[], &[], &none, &mut counter_keys());
        // No answer line yet: the same keys and tags again.
        let mut sent = first.clone();
        accept_sent(&mut sent, &[], &none);
        let again = offer_crypto(&[], &sent, &none, &mut counter_keys());
        assert_eq!(again, first);
        // The side answered with the line of tag 7: only that one stays; it
        // leads the re-offer, the other suites get fresh keys after it.
        let seven = &first[6];
        accept_sent(
            &mut sent,
            &[format!(
                "7 {} inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd",
                seven.suite
            )],
            &none,
        );
        assert_eq!(sent, vec![seven.clone()]);
        let again = offer_crypto(&[], &sent, &none, &mut |len| vec![0xee; len]);
        assert_eq!(again[0], *seven);
        assert_eq!(again[1].tag, 8);
        assert_eq!(again[1].suite, "AEAD_AES_256_GCM");
        assert!(again[1..].iter().all(|c| c.key_salt[0] == 0xee));
        assert_eq!(again.len(), 12);
        // An answer line matching nothing we offered leaves nothing.
        accept_sent(
            &mut sent,
            &["2 AES_CM_128_HMAC_SHA1_32 inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd".into()],
            &none,
        );
        assert!(sent.is_empty());
    }
}
