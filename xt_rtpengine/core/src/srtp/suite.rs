//! Validation of `abi::Srtp` into the parameters of one SRTP crypto suite.

use super::super::abi::{cipher, hmac, Srtp};
use super::error::SrtpError;
use super::kdf;

/// Largest MKI (`abi::Srtp::mki`).
pub const MAX_MKI_LEN: usize = 256;
/// Largest HMAC-SHA1 tag.
pub const MAX_TAG_LEN: usize = 20;
/// Session authentication key length for HMAC-SHA1 (10.5 always derives 20 bytes).
pub const AUTH_KEY_LEN: usize = 20;
/// AEAD tag length (RFC 7714).
pub const GCM_TAG_LEN: usize = 16;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum CipherKind {
    Null,
    AesCm,
    AesF8,
    AesGcm,
}

/// Validated parameters; lengths are byte counts.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Suite {
    pub cipher: CipherKind,
    /// HMAC-SHA1 authentication with a tag of `tag_len` bytes (0 = unauthenticated).
    pub hmac: bool,
    pub tag_len: usize,
    pub mki_len: usize,
    pub master_key_len: usize,
    pub master_salt_len: usize,
    pub session_key_len: usize,
    pub session_salt_len: usize,
}

impl Suite {
    /// Checks `s` as 10.5's `validate_srtp` does, plus the key and salt lengths the
    /// cipher needs (10.5 would read past its buffers on bad lengths; we refuse them).
    pub fn from_abi(s: &Srtp) -> Result<Suite, SrtpError> {
        let kind = cipher_kind(s.cipher)?;
        let use_hmac = uses_hmac(s.hmac)?;
        let tag_len = usize::try_from(s.auth_tag_len).unwrap_or(usize::MAX);
        if tag_len > MAX_TAG_LEN {
            return Err(SrtpError::TagTooLong(s.auth_tag_len));
        }
        let mki_len = usize::try_from(s.mki_len).unwrap_or(usize::MAX);
        if mki_len > MAX_MKI_LEN {
            return Err(SrtpError::MkiTooLong(s.mki_len));
        }
        if kind == CipherKind::AesGcm && use_hmac {
            return Err(SrtpError::AeadWithHmac);
        }
        let mut suite = Suite {
            cipher: kind,
            hmac: use_hmac,
            // Without HMAC there is no tag, whatever auth_tag_len says (10.5 ignores it).
            tag_len: if use_hmac { tag_len } else { 0 },
            mki_len,
            master_key_len: 0,
            master_salt_len: 0,
            session_key_len: 0,
            session_salt_len: 0,
        };
        if suite.is_plain() {
            return Ok(suite);
        }

        let len = |v: u32| usize::try_from(v).unwrap_or(usize::MAX);
        suite.master_key_len = len(s.master_key_len);
        if !matches!(suite.master_key_len, 16 | 24 | 32) {
            return Err(SrtpError::BadMasterKeyLength(s.master_key_len));
        }
        suite.master_salt_len = len(s.master_salt_len);
        if !kdf::master_salt_len_ok(suite.master_salt_len) {
            return Err(SrtpError::BadMasterSaltLength(s.master_salt_len));
        }
        let (key_len, salt_len) = match s.cipher {
            cipher::AES_CM_128 | cipher::AES_F8 | cipher::AEAD_AES_GCM_128 => (16, 14),
            cipher::AES_CM_192 => (24, 14),
            cipher::AES_CM_256 | cipher::AEAD_AES_GCM_256 => (32, 14),
            _ => (0, 0),
        };
        let salt_len = if kind == CipherKind::AesGcm {
            12
        } else {
            salt_len
        };
        if kind != CipherKind::Null {
            suite.session_key_len = len(s.session_key_len);
            if suite.session_key_len != key_len {
                return Err(SrtpError::BadSessionKeyLength(s.session_key_len));
            }
            suite.session_salt_len = len(s.session_salt_len);
            if suite.session_salt_len != salt_len {
                return Err(SrtpError::BadSessionSaltLength(s.session_salt_len));
            }
        }
        Ok(suite)
    }

    /// Whether this crate implements the cipher and HMAC of `s`, whatever its lengths:
    /// every cipher and HMAC of the 10.5 interface, except an AEAD cipher with HMAC on
    /// top (which `from_abi` refuses). The module refuses other parameters at
    /// ADD_TARGET / ADD_DESTINATION with EINVAL, 10.5's errno for unknown ones.
    pub fn implements(s: &Srtp) -> bool {
        match (cipher_kind(s.cipher), uses_hmac(s.hmac)) {
            (Ok(kind), Ok(hmac)) => !(kind == CipherKind::AesGcm && hmac),
            _ => false,
        }
    }

    /// NULL cipher and no authentication: packets pass unchanged (MKI aside).
    pub fn is_plain(&self) -> bool {
        self.cipher == CipherKind::Null && !self.hmac
    }

    /// Whether packets carry something that proves their index (HMAC tag or AEAD tag).
    pub fn is_authenticated(&self) -> bool {
        self.tag_len > 0 || self.cipher == CipherKind::AesGcm
    }

    /// Bytes encryption appends to a packet: AEAD tag, MKI, HMAC tag.
    pub fn overhead(&self) -> usize {
        let aead = if self.cipher == CipherKind::AesGcm {
            GCM_TAG_LEN
        } else {
            0
        };
        aead.saturating_add(self.mki_len)
            .saturating_add(self.tag_len)
    }
}

/// What cipher id `id` (`abi::cipher`) is.
fn cipher_kind(id: u32) -> Result<CipherKind, SrtpError> {
    match id {
        cipher::NULL => Ok(CipherKind::Null),
        cipher::AES_CM_128 | cipher::AES_CM_192 | cipher::AES_CM_256 => Ok(CipherKind::AesCm),
        cipher::AES_F8 => Ok(CipherKind::AesF8),
        cipher::AEAD_AES_GCM_128 | cipher::AEAD_AES_GCM_256 => Ok(CipherKind::AesGcm),
        other => Err(SrtpError::InvalidCipher(other)),
    }
}

/// Whether hmac id `id` (`abi::hmac`) means HMAC-SHA1 authentication.
fn uses_hmac(id: u32) -> Result<bool, SrtpError> {
    match id {
        hmac::NULL => Ok(false),
        hmac::HMAC_SHA1 => Ok(true),
        other => Err(SrtpError::InvalidHmac(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::super::super::abi::Pod;
    use super::*;

    fn params(c: u32, h: u32, key: u32, salt: u32, skey: u32, ssalt: u32, tag: u32) -> Srtp {
        let mut s = Srtp::zeroed();
        s.cipher = c;
        s.hmac = h;
        s.master_key_len = key;
        s.master_salt_len = salt;
        s.session_key_len = skey;
        s.session_salt_len = ssalt;
        s.auth_tag_len = tag;
        s
    }

    #[test]
    fn the_10_5_suites_are_accepted() {
        let ok = [
            params(cipher::AES_CM_128, hmac::HMAC_SHA1, 16, 14, 16, 14, 10),
            params(cipher::AES_CM_128, hmac::HMAC_SHA1, 16, 14, 16, 14, 4),
            params(cipher::AES_CM_192, hmac::HMAC_SHA1, 24, 14, 24, 14, 10),
            params(cipher::AES_CM_256, hmac::HMAC_SHA1, 32, 14, 32, 14, 4),
            params(cipher::AES_F8, hmac::HMAC_SHA1, 16, 14, 16, 14, 10),
            params(cipher::NULL, hmac::HMAC_SHA1, 16, 14, 0, 0, 10),
            params(cipher::AEAD_AES_GCM_128, hmac::NULL, 16, 12, 16, 12, 0),
            params(cipher::AEAD_AES_GCM_256, hmac::NULL, 32, 12, 32, 12, 0),
            params(cipher::AES_CM_128, hmac::HMAC_SHA1, 16, 14, 16, 14, 0),
            Srtp::plain(),
        ];
        for p in ok {
            assert!(Suite::from_abi(&p).is_ok(), "{:?}/{:?}", p.cipher, p.hmac);
        }
        let gcm = Suite::from_abi(&ok[6]).unwrap();
        assert_eq!(gcm.overhead(), 16);
        assert!(gcm.is_authenticated());
        assert!(Suite::from_abi(&Srtp::plain()).unwrap().is_plain());
        assert_eq!(Suite::from_abi(&ok[0]).unwrap().overhead(), 10);
    }

    #[test]
    fn implements_every_cipher_and_hmac_of_10_5() {
        for c in 0..=cipher::LAST + 1 {
            for h in 0..=hmac::LAST + 1 {
                let p = params(c, h, 0, 0, 0, 0, 0);
                // 10.5's validate_srtp on the ids: in its enums, 0 (invalid) excluded.
                let known = (1..cipher::LAST).contains(&c) && (1..hmac::LAST).contains(&h);
                let aead = matches!(c, cipher::AEAD_AES_GCM_128 | cipher::AEAD_AES_GCM_256);
                let want = known && !(aead && h == hmac::HMAC_SHA1);
                assert_eq!(Suite::implements(&p), want, "cipher {c}, hmac {h}");
                // The same answer as `from_abi`, which builds the context, gives on the ids.
                let refused = matches!(
                    Suite::from_abi(&p),
                    Err(SrtpError::InvalidCipher(_)
                        | SrtpError::InvalidHmac(_)
                        | SrtpError::AeadWithHmac)
                );
                assert_eq!(Suite::implements(&p), !refused, "cipher {c}, hmac {h}");
            }
        }
    }

    #[test]
    fn bad_parameters_get_a_clear_error() {
        use SrtpError::*;
        let cases = [
            (params(0, hmac::NULL, 0, 0, 0, 0, 0), InvalidCipher(0)),
            (
                params(cipher::LAST, hmac::NULL, 0, 0, 0, 0, 0),
                InvalidCipher(8),
            ),
            (params(cipher::NULL, 0, 0, 0, 0, 0, 0), InvalidHmac(0)),
            (params(cipher::NULL, 3, 0, 0, 0, 0, 0), InvalidHmac(3)),
            (
                params(cipher::AES_CM_128, hmac::HMAC_SHA1, 16, 14, 16, 14, 21),
                TagTooLong(21),
            ),
            (
                params(cipher::AES_CM_128, hmac::HMAC_SHA1, 15, 14, 16, 14, 10),
                BadMasterKeyLength(15),
            ),
            (
                params(cipher::AES_CM_128, hmac::HMAC_SHA1, 16, 13, 16, 14, 10),
                BadMasterSaltLength(13),
            ),
            (
                params(cipher::AES_CM_128, hmac::HMAC_SHA1, 16, 99, 16, 14, 10),
                BadMasterSaltLength(99),
            ),
            (
                params(cipher::AES_CM_192, hmac::HMAC_SHA1, 24, 14, 16, 14, 10),
                BadSessionKeyLength(16),
            ),
            (
                params(cipher::AES_CM_128, hmac::HMAC_SHA1, 16, 14, 16, 12, 10),
                BadSessionSaltLength(12),
            ),
            (
                params(cipher::AEAD_AES_GCM_128, hmac::NULL, 16, 12, 16, 14, 0),
                BadSessionSaltLength(14),
            ),
            (
                params(
                    cipher::AEAD_AES_GCM_128,
                    hmac::HMAC_SHA1,
                    16,
                    12,
                    16,
                    12,
                    10,
                ),
                AeadWithHmac,
            ),
        ];
        for (p, want) in cases {
            assert_eq!(Suite::from_abi(&p), Err(want));
        }
        let mut p = Srtp::plain();
        p.mki_len = 257;
        assert_eq!(Suite::from_abi(&p), Err(MkiTooLong(257)));
    }
}
