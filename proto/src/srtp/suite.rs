//! The SDES crypto suites, in the order rtpengine 10.5 offers them (measured:
//! GCM first, then AES-CM by falling key size, F8, NULL), with their key sizes
//! and kernel ABI ids (table in docs/kernel-abi.md, "Cipher and HMAC ids").

use rtpengine_core::abi::{self, cipher, hmac};

use crate::sdp::crypto::CryptoAttribute;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Suite {
    pub name: &'static str,
    pub cipher: u32,
    pub hmac: u32,
    pub key_len: usize,
    pub salt_len: usize,
    /// Session key/salt lengths the KDF derives (0 for the NULL cipher).
    pub session_key_len: usize,
    pub session_salt_len: usize,
    /// HMAC tag bytes (GCM carries its own 16-byte tag: 0 here).
    pub auth_tag_len: usize,
}

const fn suite(
    name: &'static str,
    cipher: u32,
    hmac: u32,
    key_len: usize,
    salt_len: usize,
    session: (usize, usize),
    auth_tag_len: usize,
) -> Suite {
    Suite {
        name,
        cipher,
        hmac,
        key_len,
        salt_len,
        session_key_len: session.0,
        session_salt_len: session.1,
        auth_tag_len,
    }
}

/// Every suite, in rtpengine 10.5's offer order.
#[rustfmt::skip] // One suite per line: a table.
pub const SUITES: [Suite; 12] = [
    suite("AEAD_AES_256_GCM", cipher::AEAD_AES_GCM_256, hmac::NULL, 32, 12, (32, 12), 0),
    suite("AEAD_AES_128_GCM", cipher::AEAD_AES_GCM_128, hmac::NULL, 16, 12, (16, 12), 0),
    suite("AES_256_CM_HMAC_SHA1_80", cipher::AES_CM_256, hmac::HMAC_SHA1, 32, 14, (32, 14), 10),
    suite("AES_256_CM_HMAC_SHA1_32", cipher::AES_CM_256, hmac::HMAC_SHA1, 32, 14, (32, 14), 4),
    suite("AES_192_CM_HMAC_SHA1_80", cipher::AES_CM_192, hmac::HMAC_SHA1, 24, 14, (24, 14), 10),
    suite("AES_192_CM_HMAC_SHA1_32", cipher::AES_CM_192, hmac::HMAC_SHA1, 24, 14, (24, 14), 4),
    suite("AES_CM_128_HMAC_SHA1_80", cipher::AES_CM_128, hmac::HMAC_SHA1, 16, 14, (16, 14), 10),
    suite("AES_CM_128_HMAC_SHA1_32", cipher::AES_CM_128, hmac::HMAC_SHA1, 16, 14, (16, 14), 4),
    suite("F8_128_HMAC_SHA1_80", cipher::AES_F8, hmac::HMAC_SHA1, 16, 14, (16, 14), 10),
    suite("F8_128_HMAC_SHA1_32", cipher::AES_F8, hmac::HMAC_SHA1, 16, 14, (16, 14), 4),
    suite("NULL_HMAC_SHA1_80", cipher::NULL, hmac::HMAC_SHA1, 16, 14, (0, 0), 10),
    suite("NULL_HMAC_SHA1_32", cipher::NULL, hmac::HMAC_SHA1, 16, 14, (0, 0), 4),
];

impl Suite {
    /// The suite called `name` (case-insensitive, as rtpengine matches flags).
    pub fn by_name(name: &str) -> Option<&'static Suite> {
        SUITES.iter().find(|s| s.name.eq_ignore_ascii_case(name))
    }

    pub fn key_salt_len(&self) -> usize {
        self.key_len + self.salt_len
    }

    /// One direction's parameters with this suite and `crypto`'s key, MKI and
    /// session parameters (for `relay::srtp` and, via it, the kernel).
    pub fn srtp_params(&self, crypto: &CryptoAttribute) -> SrtpParams {
        let mut keys = self.keys_of(&crypto.key_salt);
        if let Some(mki) = crypto.mki {
            let len = usize::from(mki.length).min(8);
            let bytes = mki.value.to_be_bytes();
            keys.mki[usize::from(mki.length) - len..usize::from(mki.length)]
                .copy_from_slice(&bytes[8 - len..]);
            keys.mki_len = u32::from(mki.length);
        }
        SrtpParams {
            keys,
            session: SessionParams::of(crypto),
        }
    }

    /// One direction's parameters from exported keying material (DTLS-SRTP:
    /// no MKI, no session parameters); `None` unless `key_salt` is exactly
    /// the suite's master key and salt.
    pub fn params_from_key_salt(&self, key_salt: &[u8]) -> Option<SrtpParams> {
        (key_salt.len() == self.key_salt_len()).then(|| SrtpParams {
            keys: self.keys_of(key_salt),
            session: SessionParams::default(),
        })
    }

    /// The suite's cipher, HMAC and lengths with the master key and salt from
    /// `key_salt` (key first).
    fn keys_of(&self, key_salt: &[u8]) -> abi::Srtp {
        let mut keys = abi::Srtp::plain();
        keys.cipher = self.cipher;
        keys.hmac = self.hmac;
        let (key, salt) = key_salt.split_at(self.key_len.min(key_salt.len()));
        keys.master_key[..key.len()].copy_from_slice(key);
        keys.master_key_len = key.len() as u32;
        let salt = &salt[..salt.len().min(14)];
        keys.master_salt[..salt.len()].copy_from_slice(salt);
        keys.master_salt_len = salt.len() as u32;
        keys.session_key_len = self.session_key_len as u32;
        keys.session_salt_len = self.session_salt_len as u32;
        keys.auth_tag_len = self.auth_tag_len as u32;
        keys
    }
}

/// The RFC 4568 §6.3 session parameters of one `a=crypto` line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SessionParams {
    /// SRTP payloads are not encrypted (still authenticated unless `unauthenticated_srtp`).
    pub unencrypted_srtp: bool,
    /// SRTCP is sent with E = 0 and a clear payload, still authenticated.
    pub unencrypted_srtcp: bool,
    /// SRTP packets carry no authentication tag (SRTCP always does).
    pub unauthenticated_srtp: bool,
}

impl SessionParams {
    pub fn of(crypto: &CryptoAttribute) -> SessionParams {
        let has = |p: &str| {
            crypto
                .session_params
                .iter()
                .any(|s| s.eq_ignore_ascii_case(p))
        };
        SessionParams {
            unencrypted_srtp: has("UNENCRYPTED_SRTP"),
            unencrypted_srtcp: has("UNENCRYPTED_SRTCP"),
            unauthenticated_srtp: has("UNAUTHENTICATED_SRTP"),
        }
    }
}

/// One direction's SDES-SRTP: the suite's keys and the session parameters of the
/// `a=crypto` line that governs the direction. As in rtpengine 10.5, what a peer
/// sends is decrypted with the parameters of the peer's own line, and what goes to
/// a peer is protected with those of the line we sent it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SrtpParams {
    /// Cipher, HMAC, keys and tag length of the suite, session parameters not applied.
    pub keys: abi::Srtp,
    pub session: SessionParams,
}

impl SrtpParams {
    /// SRTP as 10.5 runs it, in userspace and in the kernel (its `__k_srtp_crypt`):
    /// UNENCRYPTED_SRTP makes the cipher NULL, UNAUTHENTICATED_SRTP the tag empty.
    /// With an AEAD suite UNENCRYPTED_SRTP leaves no protection at all (10.5 skips the
    /// GCM step, which carries the tag).
    pub fn srtp(&self) -> abi::Srtp {
        let mut srtp = self.keys;
        if self.session.unencrypted_srtp {
            srtp.cipher = cipher::NULL;
        }
        if self.session.unauthenticated_srtp {
            srtp.auth_tag_len = 0;
        }
        srtp
    }

    /// SRTCP keys: the suite's own cipher and HMAC, untouched by the two SRTP
    /// parameters (10.5's SRTCP consults only UNENCRYPTED_SRTCP, when sending).
    pub fn srtcp(&self) -> abi::Srtp {
        self.keys
    }
}
