//! Errors of SRTP context creation and packet transforms.

use super::super::rtp::RtpError;
use super::primitives::CryptoError;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum SrtpError {
    // --- parameters (`abi::Srtp`) refused when building a context ---
    /// Cipher id not one of `abi::cipher` NULL..AEAD_AES_GCM_256.
    InvalidCipher(u32),
    /// Authentication id not NULL or HMAC_SHA1.
    InvalidHmac(u32),
    /// `auth_tag_len` above 20.
    TagTooLong(u32),
    /// `mki_len` above 256.
    MkiTooLong(u32),
    /// `master_key_len` not 16, 24 or 32.
    BadMasterKeyLength(u32),
    /// `master_salt_len` not 14 (or 12 for AEAD).
    BadMasterSaltLength(u32),
    /// `session_key_len` does not fit the cipher.
    BadSessionKeyLength(u32),
    /// `session_salt_len` does not fit the cipher (14, or 12 for AEAD).
    BadSessionSaltLength(u32),
    /// AEAD ciphers authenticate themselves; HMAC on top is not a valid suite.
    AeadWithHmac,
    /// The crypto back end failed.
    Crypto(CryptoError),

    // --- per packet ---
    /// SSRC slot index not below `abi::MAX_SSRC`.
    BadSlot(usize),
    /// `len` is larger than the buffer.
    LengthBeyondBuffer,
    /// Not a parseable RTP packet.
    NotRtp(RtpError),
    /// Too short to hold the authentication tag / MKI / AEAD tag after the header.
    TooShort,
    /// The buffer has no room after the packet for the MKI and tag to append.
    NoRoom { needed: usize },
    /// Authentication tag mismatch under every ROC guess.
    AuthFailed,
    /// Authentic, but this index was already received.
    Replayed,
    /// Authentic, but older than the replay window.
    TooOld,
}

impl From<CryptoError> for SrtpError {
    fn from(e: CryptoError) -> Self {
        SrtpError::Crypto(e)
    }
}

impl From<RtpError> for SrtpError {
    fn from(e: RtpError) -> Self {
        SrtpError::NotRtp(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lower_layer_errors_convert() {
        assert_eq!(
            SrtpError::from(CryptoError::Backend),
            SrtpError::Crypto(CryptoError::Backend)
        );
        assert_eq!(
            SrtpError::from(RtpError::BadVersion),
            SrtpError::NotRtp(RtpError::BadVersion)
        );
    }
}
