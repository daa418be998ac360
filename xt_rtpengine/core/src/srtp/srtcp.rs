//! SRTCP (RFC 3711 §3.4, RFC 7714 §9) for userspace: 10.5's kernel module passes RTCP to
//! the daemon, which protects and unprotects it with these. Same context type as SRTP,
//! keyed with the SRTCP labels (3, 4, 5).
//!
//! Packet layouts (`E` = encrypted flag, top bit of the 32-bit SRTCP index word):
//! - AES-CM / f8 / NULL with HMAC: `header(8) | payload | E+index | MKI | tag(10)`
//! - AEAD: `header(8) | ciphertext | GCM tag(16) | E+index | MKI`

use super::super::abi::Srtp;
use super::aes_cm;
use super::aes_f8;
use super::context::{copy_into, gcm_iv, region, Cipher, SessionKeys, SrtpContext};
use super::error::SrtpError;
use super::primitives::{AesGcm, CryptoBackend, CryptoError, HmacSha1};
use super::replay::{ReplayCheck, ReplayWindow};
use super::secret::tags_equal;
use super::suite::{CipherKind, Suite, GCM_TAG_LEN, MAX_TAG_LEN};

/// SRTCP authentication tag with HMAC-SHA1: 80 bits for every SDES suite (RFC 4568 §6.2,
/// the `_32` suites shorten only the SRTP tag), and UNAUTHENTICATED_SRTP does not apply.
pub const SRTCP_TAG_LEN: usize = 10;
/// RTCP header bytes that stay in the clear (V P RC PT length SSRC).
pub const RTCP_CLEAR_LEN: usize = 8;
/// The E flag in the SRTCP index word.
const E_FLAG: u32 = 0x8000_0000;
/// SRTCP indices are 31 bits.
pub const SRTCP_INDEX_MASK: u32 = 0x7fff_ffff;

/// Result of [`SrtpContext::decrypt_rtcp`].
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct DecryptedRtcp {
    /// Length of the plain RTCP compound packet now at the start of the buffer.
    pub len: usize,
    pub index: u32,
    /// Whether the sender had encrypted it (E flag).
    pub was_encrypted: bool,
}

/// Receive-side SRTCP replay state of one sender (SSRC).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SrtcpReplay {
    top: Option<u32>,
    window: ReplayWindow,
}

impl SrtcpReplay {
    pub fn check(&self, index: u32) -> ReplayCheck {
        match self.top {
            None => ReplayCheck::New,
            Some(top) => self.window.check(u64::from(top), u64::from(index)),
        }
    }

    pub fn accept(&mut self, index: u32) {
        match self.top {
            None => {
                self.top = Some(index);
                self.window = ReplayWindow::holding_top();
            }
            Some(top) => {
                // Both are 31-bit values, so the new top fits a u32.
                self.top = Some(self.window.accept(u64::from(top), u64::from(index)) as u32);
            }
        }
    }

    /// Highest SRTCP index received, if any.
    pub fn last(&self) -> Option<u32> {
        self.top
    }
}

impl<B: CryptoBackend> SrtpContext<B> {
    /// SRTCP context for the same `abi::Srtp` parameters: session keys from labels 3, 4, 5,
    /// HMAC tag [`SRTCP_TAG_LEN`] whenever HMAC-SHA1 is selected.
    pub fn new_rtcp(backend: &B, params: &Srtp) -> Result<Self, SrtpError> {
        let mut suite = Suite::from_abi(params)?;
        if suite.hmac {
            suite.tag_len = SRTCP_TAG_LEN;
        }
        Self::build(backend, suite, params, SessionKeys::derive_rtcp)
    }

    /// Bytes [`SrtpContext::encrypt_rtcp`] appends (index word, MKI, tags).
    pub fn rtcp_overhead(&self) -> usize {
        if self.suite.is_plain() {
            0
        } else {
            self.suite.overhead().saturating_add(4)
        }
    }

    /// Protects the RTCP compound packet in `buf[..len]` in place with SRTCP `index`
    /// (31 bits; the sender counts it up per packet). `buf` needs
    /// [`SrtpContext::rtcp_overhead`] spare bytes. A plain context leaves it unchanged.
    pub fn encrypt_rtcp(&self, index: u32, buf: &mut [u8], len: usize) -> Result<usize, SrtpError> {
        let packet = buf.get(..len).ok_or(SrtpError::LengthBeyondBuffer)?;
        let (ssrc, fixed) = rtcp_header(packet)?;
        if self.suite.is_plain() {
            return Ok(len);
        }
        let needed = len.checked_add(self.rtcp_overhead()).ok_or(SrtpError::NoRoom { needed: usize::MAX })?;
        if buf.len() < needed {
            return Err(SrtpError::NoRoom { needed });
        }
        let index = index & SRTCP_INDEX_MASK;
        let encrypted = self.suite.cipher != CipherKind::Null;
        let word = (if encrypted { E_FLAG } else { 0 } | index).to_be_bytes();
        let mut end = len;
        match &self.cipher {
            Cipher::Null => {}
            Cipher::AesCm(aes) => {
                let iv = aes_cm::srtp_iv(&self.salt, ssrc, u64::from(index));
                aes_cm::apply_keystream(aes, &iv, region(buf, RTCP_CLEAR_LEN, len));
            }
            Cipher::AesF8 { data, iv } => {
                aes_f8::apply_keystream(data, iv, &f8_iv(word, &fixed), region(buf, RTCP_CLEAR_LEN, len));
            }
            Cipher::AesGcm(gcm) => {
                let aad = aead_aad(&fixed, word);
                let (_, rest) = buf.split_at_mut_checked(RTCP_CLEAR_LEN).ok_or(SrtpError::TooShort)?;
                let (data, rest) = rest.split_at_mut_checked(len.saturating_sub(RTCP_CLEAR_LEN)).ok_or(SrtpError::TooShort)?;
                let mut tag = [0u8; GCM_TAG_LEN];
                gcm.seal_in_place(&gcm_iv(&self.salt, ssrc, u64::from(index)), &aad, data, &mut tag)?;
                copy_into(rest, &tag);
                end = end.saturating_add(GCM_TAG_LEN);
            }
        }
        let word_end = end.saturating_add(4);
        copy_into(region(buf, end, word_end), &word);
        end = word_end;
        let mac = match &self.auth {
            Some(hmac) => Some(hmac.mac(&[buf.get(..end).unwrap_or(&[])])?),
            None => None,
        };
        let mki_end = end.saturating_add(self.suite.mki_len);
        copy_into(region(buf, end, mki_end), self.mki());
        end = mki_end;
        if let Some(mac) = mac {
            let tag_end = end.saturating_add(self.suite.tag_len);
            copy_into(region(buf, end, tag_end), &mac);
            end = tag_end;
        }
        Ok(end)
    }

    /// Authenticates and decrypts the SRTCP packet in `buf[..len]` in place. The index
    /// comes from the packet; `replay` (per sender SSRC) refuses indices already seen.
    /// On error `buf` and `replay` are unchanged.
    pub fn decrypt_rtcp(&self, replay: &mut SrtcpReplay, buf: &mut [u8], len: usize) -> Result<DecryptedRtcp, SrtpError> {
        let packet = buf.get_mut(..len).ok_or(SrtpError::LengthBeyondBuffer)?;
        let (ssrc, fixed) = rtcp_header(packet)?;
        if self.suite.is_plain() {
            return Ok(DecryptedRtcp { len, index: 0, was_encrypted: false });
        }
        let strip = |end: usize, n: usize| end.checked_sub(n).filter(|&e| e >= RTCP_CLEAR_LEN).ok_or(SrtpError::TooShort);
        let tag_start = strip(len, self.suite.tag_len)?;
        let word_end = strip(tag_start, self.suite.mki_len)?;
        let word_start = strip(word_end, 4)?;
        let mut word = [0u8; 4];
        copy_into(&mut word, packet.get(word_start..word_end).unwrap_or(&[]));
        let word_value = u32::from_be_bytes(word);
        let index = word_value & SRTCP_INDEX_MASK;
        let encrypted = word_value & E_FLAG != 0;

        if let Some(hmac) = &self.auth {
            let mut received = [0u8; MAX_TAG_LEN];
            copy_into(&mut received, packet.get(tag_start..len).unwrap_or(&[]));
            let mac = hmac.mac(&[packet.get(..word_end).unwrap_or(&[])])?;
            let n = self.suite.tag_len;
            if !tags_equal(mac.get(..n).unwrap_or(&[]), received.get(..n).unwrap_or(&[])) {
                return Err(SrtpError::AuthFailed);
            }
        }
        let replay_on = self.replay_protection && self.suite.is_authenticated();
        if replay_on {
            match replay.check(index) {
                ReplayCheck::New => {}
                ReplayCheck::Replayed => return Err(SrtpError::Replayed),
                ReplayCheck::TooOld => return Err(SrtpError::TooOld),
            }
        }

        let plain_end = match &self.cipher {
            Cipher::AesGcm(gcm) => {
                let data_end = strip(word_start, GCM_TAG_LEN)?;
                let mut tag = [0u8; GCM_TAG_LEN];
                copy_into(&mut tag, packet.get(data_end..word_start).unwrap_or(&[]));
                let iv = gcm_iv(&self.salt, ssrc, u64::from(index));
                let opened = if encrypted {
                    let data = packet.get_mut(RTCP_CLEAR_LEN..data_end).unwrap_or(&mut []);
                    gcm.open_in_place(&iv, &aead_aad(&fixed, word), data, &tag)
                } else {
                    // RFC 7714 §9.3 / §17.3: E clear, everything before the tag is AAD.
                    let mut aad_end_word = [0u8; 4];
                    copy_into(&mut aad_end_word, &word);
                    let body = packet.get(..data_end).unwrap_or(&[]);
                    open_tag_only(gcm, &iv, body, aad_end_word, &tag)
                };
                match opened {
                    Ok(()) => data_end,
                    Err(CryptoError::AuthFailed) => return Err(SrtpError::AuthFailed),
                    Err(e) => return Err(e.into()),
                }
            }
            Cipher::AesCm(aes) if encrypted => {
                let iv = aes_cm::srtp_iv(&self.salt, ssrc, u64::from(index));
                aes_cm::apply_keystream(aes, &iv, packet.get_mut(RTCP_CLEAR_LEN..word_start).unwrap_or(&mut []));
                word_start
            }
            Cipher::AesF8 { data, iv } if encrypted => {
                let payload = packet.get_mut(RTCP_CLEAR_LEN..word_start).unwrap_or(&mut []);
                aes_f8::apply_keystream(data, iv, &f8_iv(word, &fixed), payload);
                word_start
            }
            _ => word_start,
        };
        if replay_on {
            replay.accept(index);
        }
        Ok(DecryptedRtcp { len: plain_end, index, was_encrypted: encrypted })
    }
}

/// AEAD with nothing to decrypt: the tag covers `body || E+index` as AAD. The AAD is at
/// most a UDP payload, assembled in a stack buffer to keep the back-end call simple.
fn open_tag_only<G: AesGcm>(gcm: &G, iv: &[u8; 12], body: &[u8], word: [u8; 4], tag: &[u8; 16]) -> Result<(), CryptoError> {
    const MAX_AAD: usize = 1500;
    let mut aad = [0u8; MAX_AAD];
    let total = body.len().checked_add(4).filter(|&n| n <= MAX_AAD).ok_or(CryptoError::Backend)?;
    copy_into(&mut aad, body);
    copy_into(aad.get_mut(body.len()..total).unwrap_or(&mut []), &word);
    gcm.open_in_place(iv, aad.get(..total).unwrap_or(&[]), &mut [], tag)
}

/// SSRC and the clear 8-byte header of an RTCP packet (version 2, at least 8 bytes).
fn rtcp_header(packet: &[u8]) -> Result<([u8; 4], [u8; RTCP_CLEAR_LEN]), SrtpError> {
    use super::super::rtp::RtpError;
    let mut fixed = [0u8; RTCP_CLEAR_LEN];
    match packet.get(..RTCP_CLEAR_LEN) {
        Some(h) => copy_into(&mut fixed, h),
        None => return Err(SrtpError::NotRtp(RtpError::Truncated)),
    }
    if fixed[0] & 0xc0 != 0x80 {
        return Err(SrtpError::NotRtp(RtpError::BadVersion));
    }
    Ok(([fixed[4], fixed[5], fixed[6], fixed[7]], fixed))
}

/// RFC 3711 §4.1.2.3: `0x00000000 || E || SRTCP index || V P RC PT length SSRC`.
fn f8_iv(word: [u8; 4], fixed: &[u8; RTCP_CLEAR_LEN]) -> [u8; 16] {
    let mut iv = [0u8; 16];
    copy_into(&mut iv[4..8], &word);
    copy_into(&mut iv[8..], fixed);
    iv
}

/// RFC 7714 §9.3 AAD with E set: clear header then the E+index word.
fn aead_aad(fixed: &[u8; RTCP_CLEAR_LEN], word: [u8; 4]) -> [u8; 12] {
    let mut aad = [0u8; 12];
    copy_into(&mut aad, fixed);
    copy_into(&mut aad[8..], &word);
    aad
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replay_state_starts_empty_and_tracks() {
        let mut r = SrtcpReplay::default();
        assert_eq!(r.check(5), ReplayCheck::New);
        r.accept(5);
        assert_eq!(r.check(5), ReplayCheck::Replayed);
        r.accept(7);
        assert_eq!(r.check(6), ReplayCheck::New);
        assert_eq!(r.last(), Some(7));
        r.accept(500);
        assert_eq!(r.check(6), ReplayCheck::TooOld);
    }

    #[test]
    fn f8_rtcp_iv_layout() {
        let iv = f8_iv([0x80, 0, 0, 1], &[0x81, 0xc8, 0, 0x0b, 0xca, 0xfe, 0xba, 0xbe]);
        assert_eq!(iv, [0, 0, 0, 0, 0x80, 0, 0, 1, 0x81, 0xc8, 0, 0x0b, 0xca, 0xfe, 0xba, 0xbe]);
    }
}
