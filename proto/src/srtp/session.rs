//! Per-media SDES state kept in the call model, and the glue between the
//! offer/answer rules of `sdes` and a media section's protocol.

use rand_core::CryptoRng;

use crate::sdp::crypto::CryptoAttribute;

use super::keys::random_key_salt;
pub use super::sdes::accept_sent;
use super::sdes::{answer_crypto, offer_crypto, usable_crypto, SdesOptions};
use super::suite::Suite;

/// SDES state towards one side of a media.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MediaSdes {
    /// Raw `a=crypto` values this side put in its last SDP.
    pub remote: Vec<String>,
    /// The `a=crypto` lines we last sent to this side.
    pub sent: Vec<CryptoAttribute>,
    /// Keys in use once offer and answer are through; `None`: plain RTP.
    pub keys: Option<NegotiatedKeys>,
    /// The suite 10.5's packet streams of this side carry (its `ps->crypto`,
    /// which query replies show): see [`MediaSdes::init_streams`].
    pub stream_suite: Option<&'static Suite>,
    /// 10.5 started DTLS on this side's streams: while it runs, offers and
    /// answers leave `stream_suite` alone.
    pub dtls_started: bool,
}

impl MediaSdes {
    /// What 10.5's `__init_stream` does to a stream's SRTP context after each
    /// offer and answer, given the media's DTLS and SDES flags then: without
    /// DTLS its connection is shut down; with SDES and no DTLS connection the
    /// context takes the first line we sent this side (none: no suite);
    /// otherwise it keeps what it had, so a suite stays once set, also after
    /// the side stops speaking SRTP or goes into passthrough.
    pub fn init_streams(&mut self, dtls: bool, sdes: bool) {
        if !dtls {
            self.dtls_started = false;
        }
        if sdes && !self.dtls_started {
            self.stream_suite = self.sent.first().and_then(|c| Suite::by_name(&c.suite));
        }
        if dtls {
            self.dtls_started = true;
        }
    }

    /// This state with the offer/answer keys dropped (10.5's passthrough
    /// clears its SDES lists) but the streams' context kept.
    pub fn cleared(&self) -> MediaSdes {
        MediaSdes {
            stream_suite: self.stream_suite,
            dtls_started: self.dtls_started,
            ..Default::default()
        }
    }
}

/// One side's SRTP keys: it sends with `rx` (we decrypt), we send with `tx`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NegotiatedKeys {
    pub suite: &'static Suite,
    pub rx: CryptoAttribute,
    pub tx: CryptoAttribute,
}

/// SDES-SRTP: RTP/SAVP and RTP/SAVPF (UDP/TLS/... is DTLS-SRTP, not ours).
pub fn is_sdes_protocol(protocol: &str) -> bool {
    protocol.starts_with("RTP/SAVP")
}

/// Our crypto lines for an offer leaving with `out_protocol`, the section's
/// own lines being `section_crypto`, those we offered this side before `previous`; fresh keys come from `rng`. `None`: leave
/// the SDP's lines alone (plain RTP in and out).
pub fn offer_lines(
    section_crypto: &[String],
    previous: &[CryptoAttribute],
    out_protocol: &str,
    options: &SdesOptions,
    rng: &mut dyn CryptoRng,
) -> Option<Vec<CryptoAttribute>> {
    if is_sdes_protocol(out_protocol) {
        let offered = usable_crypto(section_crypto);
        let mut new_key = |len| random_key_salt(rng, len);
        return Some(offer_crypto(&offered, previous, options, &mut new_key));
    }
    // Bridged to plain RTP: rtpengine drops the offerer's crypto (measured).
    (!section_crypto.is_empty() && !out_protocol.contains("TLS")).then(Vec::new)
}

/// Our crypto line for the answer to an offerer that used `offerer_protocol`
/// and the lines `offerer_remote`; the answerer's own lines are `answer_crypto_lines`.
/// A fresh key comes from `rng`.
pub fn answer_lines(
    offerer_remote: &[String],
    offerer_protocol: &str,
    answer_crypto_lines: &[String],
    options: &SdesOptions,
    rng: &mut dyn CryptoRng,
) -> Option<Vec<CryptoAttribute>> {
    if is_sdes_protocol(offerer_protocol) {
        let chosen = answer_crypto(
            &usable_crypto(offerer_remote),
            &usable_crypto(answer_crypto_lines),
            options,
            &mut |len| random_key_salt(rng, len),
        );
        return Some(chosen.into_iter().collect());
    }
    (!answer_crypto_lines.is_empty() && !offerer_protocol.contains("TLS")).then(Vec::new)
}

/// The keys of a side whose SDP said `remote` and to which we sent `sent`:
/// the pair with the same tag and suite (the answer picks the offer's tag).
pub fn negotiate(remote: &[String], sent: &[CryptoAttribute]) -> Option<NegotiatedKeys> {
    usable_crypto(remote).into_iter().find_map(|(rx, suite)| {
        let tx = sent
            .iter()
            .find(|s| s.tag == rx.tag && Suite::by_name(&s.suite) == Some(suite))?;
        Some(NegotiatedKeys {
            suite,
            rx: rx.clone(),
            tx: tx.clone(),
        })
    })
}

#[cfg(test)]
mod tests {
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    use super::*;

    const KEY80: &str = "AES_CM_128_HMAC_SHA1_80 inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd";

    #[test]
    fn bridging_both_ways() {
        let none = SdesOptions::default();
        let rng = &mut StdRng::seed_from_u64(1);
        let to_savp = offer_lines(&[], &[], "RTP/SAVP", &none, rng).unwrap();
        assert_eq!(to_savp.len(), 12);
        assert_eq!(
            offer_lines(&[format!("1 {KEY80}")], &[], "RTP/AVP", &none, rng),
            Some(vec![])
        );
        assert_eq!(offer_lines(&[], &[], "RTP/AVP", &none, rng), None);
        // The AVP side answers: the SAVP offerer gets its first suite, fresh key.
        let back = answer_lines(&[format!("4 {KEY80}")], "RTP/SAVP", &[], &none, rng).unwrap();
        assert_eq!(
            (back[0].tag, back[0].suite.as_str()),
            (4, "AES_CM_128_HMAC_SHA1_80")
        );
        assert_ne!(back[0].key_salt, (0u8..30).collect::<Vec<_>>());
    }

    #[test]
    fn negotiate_pairs_by_tag_and_suite() {
        let rng = &mut StdRng::seed_from_u64(2);
        let sent = offer_lines(&[], &[], "RTP/SAVP", &SdesOptions::default(), rng).unwrap();
        let pick = &sent[6];
        assert_eq!(pick.suite, "AES_CM_128_HMAC_SHA1_80");
        let keys = negotiate(&[format!("{} {KEY80}", pick.tag)], &sent).unwrap();
        assert_eq!(keys.tx, *pick);
        assert_eq!(keys.rx.key_salt, (0u8..30).collect::<Vec<_>>());
        // Same tag, other suite: no agreement.
        assert_eq!(negotiate(&[format!("1 {KEY80}")], &sent), None);
    }
}
