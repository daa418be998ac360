//! DTLS-SRTP signalling of one media toward one party, as rtpengine 10.5
//! decides it (`__dtls_logic` and the DTLS half of `__generate_crypto`).
//!
//! Each side of a media keeps our possible roles toward its party
//! (`active`: we may be the DTLS client, `passive`: the server; both while
//! we offer `actpass`), whether DTLS is in use with it, the party's
//! fingerprint, and the hash of the fingerprint we show it.
//! Rules in our own words: docs/dtls-signalling.md.

use crate::ng::flags::DtlsFlags;
use crate::sdp::{self, DtlsAdvert, Setup};

use super::effect::{DtlsParams, PeerFingerprint};

/// The daemon's certificate as signalling needs it.
#[derive(Debug, Clone, Default)]
pub struct DtlsSettings {
    /// Our certificate's fingerprint per hash function, in 10.5's order
    /// (sha-256 first): `(hash name, attribute value "sha-256 AB:...")`.
    /// Empty: no certificate, no `a=setup`/`a=fingerprint` is written.
    pub fingerprints: Vec<(&'static str, String)>,
    /// `--dtls-passive`: the default of the `DTLS` and `DTLS-reverse` keys.
    pub passive: bool,
}

impl DtlsSettings {
    /// Our fingerprint for `hash` (10.5: the first one when none matches).
    fn fingerprint(&self, hash: Option<&str>) -> Option<&(&'static str, String)> {
        hash.and_then(|h| self.fingerprints.iter().find(|(n, _)| *n == h))
            .or_else(|| self.fingerprints.first())
    }
}

/// DTLS state of one media toward its party.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MediaDtls {
    /// We may take the client role (10.5's SETUP_ACTIVE).
    pub active: bool,
    /// We may take the server role (10.5's SETUP_PASSIVE).
    pub passive: bool,
    /// DTLS-SRTP is in use with this party (10.5's DTLS media flag).
    pub enabled: bool,
    /// SDES is in use or offered (10.5's SDES media flag): with DTLS too, an
    /// answer with `DTLS: off` falls back to SDES.
    pub sdes: bool,
    /// The party's fingerprint from its last SDP.
    pub remote: Option<sdp::Fingerprint>,
    /// The hash of the fingerprint we show this party, fixed once written.
    pub hash: Option<&'static str>,
}

/// Whether a transport protocol carries SRTP (10.5's `protocol->srtp`).
pub fn is_srtp_protocol(protocol: &str) -> bool {
    matches!(
        protocol,
        "RTP/SAVP" | "RTP/SAVPF" | "UDP/TLS/RTP/SAVP" | "UDP/TLS/RTP/SAVPF"
    )
}

impl MediaDtls {
    /// What the party's SDP says (for a media with a port): its role and
    /// fingerprint. Returns whether the fingerprint changed (10.5 restarts
    /// DTLS then).
    pub fn party_sdp(
        &mut self,
        setup: Option<Setup>,
        fingerprint: Option<&sdp::Fingerprint>,
        offer: bool,
        flags: &DtlsFlags,
        settings: &DtlsSettings,
    ) -> bool {
        let before = (self.active, self.passive);
        // The party's active is our passive and the other way round.
        self.passive = setup.is_some_and(Setup::party_can_be_active);
        self.active = setup.is_some_and(Setup::party_can_be_passive);
        // A re-offer with actpass keeps us passive if we were.
        if offer && self.active && self.passive && before == (false, true) {
            self.active = false;
        }
        if flags.reverse_passive.unwrap_or(settings.passive) && self.passive {
            self.active = false;
        }
        let changed = self.remote.as_ref() != fingerprint;
        self.remote = fingerprint.cloned();
        self.enabled = (self.active || self.passive) && self.remote.is_some();
        changed && self.remote.is_some()
    }

    /// An offer is sent to this party with `protocol`: we offer actpass and,
    /// the first time, DTLS and SDES unless switched off.
    pub fn offer_to(&mut self, protocol: &str, flags: &DtlsFlags, sdes_off: bool) {
        if !is_srtp_protocol(protocol) {
            self.clear();
            return;
        }
        self.active = true;
        self.passive = true;
        if !self.enabled && !self.sdes {
            self.enabled = !flags.off;
            self.sdes = !sdes_off;
        }
        if self.enabled && self.hash.is_none() {
            self.hash = flags
                .fingerprint
                .as_deref()
                .and_then(sdp::fingerprint_hash_name);
        }
    }

    /// An answer is sent to this party (the offerer) with `protocol`: we take
    /// the client role if we may, unless `DTLS: passive`. Returns whether SDES
    /// is answered (false when DTLS is used with the party: `enabled`).
    pub fn answer_to(
        &mut self,
        protocol: &str,
        flags: &DtlsFlags,
        settings: &DtlsSettings,
    ) -> bool {
        if !is_srtp_protocol(protocol) {
            self.clear();
            return true;
        }
        if flags.passive.unwrap_or(settings.passive) && self.passive {
            self.active = false;
        }
        if self.active {
            self.passive = false;
        }
        if self.enabled && self.sdes && flags.off {
            self.enabled = false;
            self.remote = None;
        }
        if self.enabled {
            self.sdes = false;
            return false;
        }
        true
    }

    fn clear(&mut self) {
        self.enabled = false;
        self.sdes = false;
        self.active = false;
        self.passive = false;
    }

    /// Our `a=setup` and `a=fingerprint` for this party, if we do DTLS with it
    /// and have a certificate. The hash is fixed by the first write: the
    /// `DTLS-fingerprint` of the offer, else the party's own hash, else sha-256.
    pub fn advert(&mut self, settings: &DtlsSettings) -> Option<DtlsAdvert> {
        if !self.enabled {
            return None;
        }
        let wanted = self.hash.or(self.remote.as_ref().map(|f| f.hash));
        let (hash, value) = settings.fingerprint(wanted)?;
        self.hash = Some(hash);
        let setup = match (self.active, self.passive) {
            (true, true) => Setup::ActPass,
            (false, true) => Setup::Passive,
            (true, false) => Setup::Active,
            (false, false) => Setup::HoldConn,
        };
        Some(DtlsAdvert {
            setup,
            fingerprint: value.clone(),
        })
    }

    /// The relay's DTLS parameters for streams receiving from this party.
    /// While both roles are open (our actpass offer is unanswered) 10.5
    /// starts as client only toward a party whose address is known.
    pub fn params(&self, endpoint_known: bool) -> Option<DtlsParams> {
        if !self.enabled {
            return None;
        }
        let remote = self.remote.as_ref()?;
        let active = match (self.active, self.passive) {
            (true, false) => true,
            (false, true) => false,
            (true, true) => endpoint_known,
            (false, false) => return None,
        };
        Some(DtlsParams {
            active,
            fingerprint: PeerFingerprint {
                hash: remote.hash.to_owned(),
                digest: remote.digest.clone(),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fp(byte: u8) -> sdp::Fingerprint {
        sdp::Fingerprint {
            hash: "sha-256",
            digest: vec![byte; 32],
        }
    }

    fn settings() -> DtlsSettings {
        DtlsSettings {
            fingerprints: sdp::FINGERPRINT_HASHES
                .iter()
                .map(|(h, _)| (*h, format!("{h} OURS")))
                .collect(),
            passive: false,
        }
    }

    fn no_flags() -> DtlsFlags {
        DtlsFlags::default()
    }

    #[test]
    fn browser_offer_actpass_is_answered_active() {
        let s = settings();
        let mut m = MediaDtls::default();
        assert!(m.party_sdp(Some(Setup::ActPass), Some(&fp(1)), true, &no_flags(), &s));
        assert!(m.enabled && m.active && m.passive);
        assert!(
            !m.answer_to("UDP/TLS/RTP/SAVPF", &no_flags(), &s),
            "no SDES with DTLS"
        );
        let ad = m.advert(&s).unwrap();
        assert_eq!(ad.setup, Setup::Active);
        assert_eq!(ad.fingerprint, "sha-256 OURS");
        let p = m.params(false).unwrap();
        assert!(p.active);
        assert_eq!(p.fingerprint.digest, vec![1; 32]);
    }

    #[test]
    fn dtls_passive_and_reverse_and_daemon_default() {
        let s = settings();
        let passive = DtlsFlags {
            passive: Some(true),
            ..DtlsFlags::default()
        };
        let mut m = MediaDtls::default();
        m.party_sdp(Some(Setup::ActPass), Some(&fp(1)), true, &no_flags(), &s);
        m.answer_to("UDP/TLS/RTP/SAVPF", &passive, &s);
        assert_eq!(m.advert(&s).unwrap().setup, Setup::Passive);
        assert!(!m.params(true).unwrap().active);

        let reverse = DtlsFlags {
            reverse_passive: Some(true),
            ..DtlsFlags::default()
        };
        let mut m = MediaDtls::default();
        m.party_sdp(Some(Setup::ActPass), Some(&fp(1)), true, &reverse, &s);
        m.answer_to("UDP/TLS/RTP/SAVPF", &no_flags(), &s);
        assert_eq!(m.advert(&s).unwrap().setup, Setup::Passive);

        // --dtls-passive is the default of both; DTLS=active overrides it.
        let daemon_passive = DtlsSettings {
            passive: true,
            ..settings()
        };
        let mut m = MediaDtls::default();
        m.party_sdp(
            Some(Setup::Active),
            Some(&fp(1)),
            true,
            &no_flags(),
            &daemon_passive,
        );
        m.answer_to("UDP/TLS/RTP/SAVPF", &no_flags(), &daemon_passive);
        assert_eq!(m.advert(&s).unwrap().setup, Setup::Passive);
        let active = DtlsFlags {
            passive: Some(false),
            reverse_passive: Some(false),
            ..DtlsFlags::default()
        };
        let mut m = MediaDtls::default();
        m.party_sdp(
            Some(Setup::ActPass),
            Some(&fp(1)),
            true,
            &active,
            &daemon_passive,
        );
        m.answer_to("UDP/TLS/RTP/SAVPF", &active, &daemon_passive);
        assert_eq!(m.advert(&s).unwrap().setup, Setup::Active);
    }

    #[test]
    fn party_roles_and_missing_parts() {
        let s = settings();
        let mut m = MediaDtls::default();
        m.party_sdp(Some(Setup::Active), Some(&fp(1)), true, &no_flags(), &s);
        m.answer_to("RTP/SAVP", &no_flags(), &s);
        assert_eq!(m.advert(&s).unwrap().setup, Setup::Passive);
        // Passive party: we are the client.
        let mut m = MediaDtls::default();
        m.party_sdp(Some(Setup::Passive), Some(&fp(1)), false, &no_flags(), &s);
        assert!(m.params(false).unwrap().active);
        // No fingerprint, no setup, holdconn: no DTLS.
        for (setup, f) in [
            (Some(Setup::ActPass), None),
            (None, Some(fp(1))),
            (Some(Setup::HoldConn), Some(fp(1))),
        ] {
            let mut m = MediaDtls::default();
            m.party_sdp(setup, f.as_ref(), true, &no_flags(), &s);
            assert!(!m.enabled && m.params(true).is_none());
        }
    }

    #[test]
    fn reoffer_keeps_passive_and_fingerprint_change_is_seen() {
        let s = settings();
        let mut m = MediaDtls::default();
        // The party answered active: we are passive.
        m.party_sdp(Some(Setup::Active), Some(&fp(1)), false, &no_flags(), &s);
        assert!(!m.active && m.passive);
        // Its re-offer says actpass: we stay passive.
        assert!(!m.party_sdp(Some(Setup::ActPass), Some(&fp(1)), true, &no_flags(), &s));
        assert!(!m.active && m.passive);
        m.answer_to("UDP/TLS/RTP/SAVPF", &no_flags(), &s);
        assert_eq!(m.advert(&s).unwrap().setup, Setup::Passive);
        // A new certificate.
        assert!(m.party_sdp(Some(Setup::ActPass), Some(&fp(2)), true, &no_flags(), &s));
    }

    #[test]
    fn offers_actpass_with_chosen_hash_and_flags() {
        let s = settings();
        let sha1 = DtlsFlags {
            fingerprint: Some("SHA-1".into()),
            ..DtlsFlags::default()
        };
        let mut m = MediaDtls::default();
        m.offer_to("UDP/TLS/RTP/SAVPF", &sha1, false);
        let ad = m.advert(&s).unwrap();
        assert_eq!(ad.setup, Setup::ActPass);
        assert_eq!(ad.fingerprint, "sha-1 OURS");
        // Sticky: a later offer without the flag keeps sha-1.
        m.offer_to("UDP/TLS/RTP/SAVPF", &no_flags(), false);
        assert_eq!(m.advert(&s).unwrap().fingerprint, "sha-1 OURS");
        // The party's hash when no flag chose one.
        let mut m = MediaDtls::default();
        m.party_sdp(
            Some(Setup::ActPass),
            Some(&sdp::Fingerprint {
                hash: "sha-384",
                digest: vec![0; 48],
            }),
            true,
            &no_flags(),
            &s,
        );
        m.answer_to("UDP/TLS/RTP/SAVPF", &no_flags(), &s);
        assert_eq!(m.advert(&s).unwrap().fingerprint, "sha-384 OURS");
        // DTLS off in the offer, plain RTP out, no certificate.
        let off = DtlsFlags {
            off: true,
            ..DtlsFlags::default()
        };
        let mut m = MediaDtls::default();
        m.offer_to("RTP/SAVP", &off, false);
        assert!(m.advert(&s).is_none());
        let mut m = MediaDtls::default();
        m.offer_to("RTP/AVP", &no_flags(), false);
        assert!(m.advert(&s).is_none());
        let mut m = MediaDtls::default();
        m.offer_to("RTP/SAVP", &no_flags(), false);
        assert!(m.advert(&DtlsSettings::default()).is_none());
    }

    #[test]
    fn dtls_off_in_answer_falls_back_to_sdes_only_when_offered() {
        let s = settings();
        let off = DtlsFlags {
            off: true,
            ..DtlsFlags::default()
        };
        let mut m = MediaDtls::default();
        m.party_sdp(Some(Setup::ActPass), Some(&fp(1)), true, &no_flags(), &s);
        // The browser sent no a=crypto: DTLS stays.
        assert!(!m.answer_to("UDP/TLS/RTP/SAVPF", &off, &s));
        assert!(m.advert(&s).is_some());
        let mut m = MediaDtls {
            sdes: true,
            ..MediaDtls::default()
        };
        m.party_sdp(Some(Setup::ActPass), Some(&fp(1)), true, &no_flags(), &s);
        assert!(m.answer_to("RTP/SAVP", &off, &s));
        assert!(m.advert(&s).is_none() && m.params(true).is_none());
    }
}
