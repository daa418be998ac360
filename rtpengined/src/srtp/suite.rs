//! The SDES crypto suites, in the order rtpengine 10.5 offers them (measured:
//! GCM first, then AES-CM by falling key size, F8, NULL), with their key sizes
//! and kernel ABI ids (table in shared/reference/kernel-abi-10.5.md).

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

    /// The `abi::Srtp` one direction uses with this suite and `crypto`'s key
    /// (its session parameters applied as in the ABI table), for
    /// `rtpengine_core::srtp::SrtpContext` and for the kernel.
    pub fn srtp_params(&self, crypto: &CryptoAttribute) -> abi::Srtp {
        let mut srtp = abi::Srtp::plain();
        srtp.cipher = self.cipher;
        srtp.hmac = self.hmac;
        let (key, salt) = crypto.key_salt.split_at(self.key_len.min(crypto.key_salt.len()));
        srtp.master_key[..key.len()].copy_from_slice(key);
        srtp.master_key_len = key.len() as u32;
        let salt = &salt[..salt.len().min(14)];
        srtp.master_salt[..salt.len()].copy_from_slice(salt);
        srtp.master_salt_len = salt.len() as u32;
        srtp.session_key_len = self.session_key_len as u32;
        srtp.session_salt_len = self.session_salt_len as u32;
        srtp.auth_tag_len = self.auth_tag_len as u32;
        let has = |p: &str| crypto.session_params.iter().any(|s| s.eq_ignore_ascii_case(p));
        if has("UNENCRYPTED_SRTP") {
            srtp.cipher = cipher::NULL;
        }
        if has("UNAUTHENTICATED_SRTP") {
            srtp.auth_tag_len = 0;
        }
        if let Some(mki) = crypto.mki {
            let len = usize::from(mki.length).min(8);
            let bytes = mki.value.to_be_bytes();
            srtp.mki[usize::from(mki.length) - len..usize::from(mki.length)]
                .copy_from_slice(&bytes[8 - len..]);
            srtp.mki_len = u32::from(mki.length);
        }
        srtp
    }
}
