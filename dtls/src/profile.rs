//! The SRTP protection profiles of the use_srtp extension (RFC 5764, RFC 7714)
//! that 10.5 offers, in its order, and their key layout.

/// A DTLS-SRTP protection profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SrtpProfile {
    AeadAes256Gcm,
    AeadAes128Gcm,
    AesCm128HmacSha1_80,
    AesCm128HmacSha1_32,
}

impl SrtpProfile {
    /// 10.5's offer, in its order (its crypto-suite table order: AEAD first).
    pub const OFFERED: [SrtpProfile; 4] = [
        SrtpProfile::AeadAes256Gcm,
        SrtpProfile::AeadAes128Gcm,
        SrtpProfile::AesCm128HmacSha1_80,
        SrtpProfile::AesCm128HmacSha1_32,
    ];

    /// The profile name OpenSSL (and the IANA registry) uses.
    pub fn openssl_name(self) -> &'static str {
        match self {
            SrtpProfile::AeadAes256Gcm => "SRTP_AEAD_AES_256_GCM",
            SrtpProfile::AeadAes128Gcm => "SRTP_AEAD_AES_128_GCM",
            SrtpProfile::AesCm128HmacSha1_80 => "SRTP_AES128_CM_SHA1_80",
            SrtpProfile::AesCm128HmacSha1_32 => "SRTP_AES128_CM_SHA1_32",
        }
    }

    pub fn from_openssl_name(name: &str) -> Option<SrtpProfile> {
        SrtpProfile::OFFERED
            .into_iter()
            .find(|p| p.openssl_name() == name)
    }

    /// The SRTP crypto suite name (as in SDES `a=crypto` and the project's
    /// suite table, rtpengine_proto::srtp::suite).
    pub fn suite_name(self) -> &'static str {
        match self {
            SrtpProfile::AeadAes256Gcm => "AEAD_AES_256_GCM",
            SrtpProfile::AeadAes128Gcm => "AEAD_AES_128_GCM",
            SrtpProfile::AesCm128HmacSha1_80 => "AES_CM_128_HMAC_SHA1_80",
            SrtpProfile::AesCm128HmacSha1_32 => "AES_CM_128_HMAC_SHA1_32",
        }
    }

    /// Master key length in bytes.
    pub fn key_len(self) -> usize {
        match self {
            SrtpProfile::AeadAes256Gcm => 32,
            _ => 16,
        }
    }

    /// Master salt length in bytes (RFC 7714 §12: 12 for AEAD).
    pub fn salt_len(self) -> usize {
        match self {
            SrtpProfile::AeadAes256Gcm | SrtpProfile::AeadAes128Gcm => 12,
            _ => 14,
        }
    }

    /// Splits exported keying material (client key, server key, client salt,
    /// server salt: RFC 5764 §4.2) into (client key||salt, server key||salt),
    /// the master key and salt concatenated as SDES inline keys carry them.
    pub fn split(self, material: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
        let (k, s) = (self.key_len(), self.salt_len());
        if material.len() < 2 * (k + s) {
            return None;
        }
        let client = [&material[..k], &material[2 * k..2 * k + s]].concat();
        let server = [&material[k..2 * k], &material[2 * k + s..2 * (k + s)]].concat();
        Some((client, server))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_per_rfc5764() {
        let material: Vec<u8> = (0..60).collect();
        let (c, s) = SrtpProfile::AesCm128HmacSha1_80.split(&material).unwrap();
        assert_eq!(
            c,
            [(0..16).collect::<Vec<u8>>(), (32..46).collect()].concat()
        );
        assert_eq!(
            s,
            [(16..32).collect::<Vec<u8>>(), (46..60).collect()].concat()
        );
        let (c, s) = SrtpProfile::AeadAes256Gcm
            .split(&(0..88).collect::<Vec<u8>>())
            .unwrap();
        assert_eq!(
            c,
            [(0..32).collect::<Vec<u8>>(), (64..76).collect()].concat()
        );
        assert_eq!(
            s,
            [(32..64).collect::<Vec<u8>>(), (76..88).collect()].concat()
        );
        assert!(SrtpProfile::AeadAes128Gcm.split(&material[..10]).is_none());
    }

    #[test]
    fn names_round_trip() {
        for p in SrtpProfile::OFFERED {
            assert_eq!(SrtpProfile::from_openssl_name(p.openssl_name()), Some(p));
        }
    }
}
