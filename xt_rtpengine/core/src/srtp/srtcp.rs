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
        self.protect_rtcp(index, buf, len, true)
    }

    /// As [`SrtpContext::encrypt_rtcp`], with the payload left in the clear and E = 0: the
    /// UNENCRYPTED_SRTCP session parameter (RFC 4568 §6.3.2, RFC 3711 §3.4). The packet is
    /// still authenticated: HMAC over `header | payload | E+index`; with AEAD the RFC 7714
    /// §9.3 tag over the same bytes as AAD with nothing to encrypt, placed where the
    /// ciphertext's tag would be (`header | payload | GCM tag | E+index | MKI`). Needs the
    /// same [`SrtpContext::rtcp_overhead`] room. Receivers tell it by the E flag, so
    /// [`SrtpContext::decrypt_rtcp`] takes it as it is.
    pub fn encrypt_rtcp_unencrypted(
        &self,
        index: u32,
        buf: &mut [u8],
        len: usize,
    ) -> Result<usize, SrtpError> {
        self.protect_rtcp(index, buf, len, false)
    }

    /// Both: the payload encrypted (E = 1 unless the cipher is NULL) or left clear
    /// (E = 0, AEAD tag only), then the E+index word, MKI and HMAC tag.
    fn protect_rtcp(
        &self,
        index: u32,
        buf: &mut [u8],
        len: usize,
        encrypt: bool,
    ) -> Result<usize, SrtpError> {
        let packet = buf.get(..len).ok_or(SrtpError::LengthBeyondBuffer)?;
        let (ssrc, fixed) = rtcp_header(packet)?;
        if self.suite.is_plain() {
            return Ok(len);
        }
        let needed = len
            .checked_add(self.rtcp_overhead())
            .ok_or(SrtpError::NoRoom { needed: usize::MAX })?;
        if buf.len() < needed {
            return Err(SrtpError::NoRoom { needed });
        }
        let index = index & SRTCP_INDEX_MASK;
        let encrypted = encrypt && self.suite.cipher != CipherKind::Null;
        let word = (if encrypted { E_FLAG } else { 0 } | index).to_be_bytes();
        let mut end = len;
        match &self.cipher {
            Cipher::Null => {}
            Cipher::AesCm(aes) if encrypt => {
                let iv = aes_cm::srtp_iv(&self.salt, ssrc, u64::from(index));
                aes_cm::apply_keystream(aes, &iv, region(buf, RTCP_CLEAR_LEN, len))?;
            }
            Cipher::AesF8 { data, iv } if encrypt => {
                aes_f8::apply_keystream(
                    data,
                    iv,
                    &f8_iv(word, &fixed),
                    region(buf, RTCP_CLEAR_LEN, len),
                );
            }
            Cipher::AesCm(_) | Cipher::AesF8 { .. } => {}
            Cipher::AesGcm(gcm) => {
                let iv = gcm_iv(&self.salt, ssrc, u64::from(index));
                let mut tag = [0u8; GCM_TAG_LEN];
                if encrypt {
                    let aad = aead_aad(&fixed, word);
                    let (_, rest) = buf
                        .split_at_mut_checked(RTCP_CLEAR_LEN)
                        .ok_or(SrtpError::TooShort)?;
                    let (data, _) = rest
                        .split_at_mut_checked(len.saturating_sub(RTCP_CLEAR_LEN))
                        .ok_or(SrtpError::TooShort)?;
                    gcm.seal_in_place(&iv, &aad, data, &mut tag)?;
                } else {
                    seal_tag_only(gcm, &iv, buf.get(..len).unwrap_or(&[]), word, &mut tag)?;
                }
                let tag_end = end.saturating_add(GCM_TAG_LEN);
                copy_into(region(buf, end, tag_end), &tag);
                end = tag_end;
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
    pub fn decrypt_rtcp(
        &self,
        replay: &mut SrtcpReplay,
        buf: &mut [u8],
        len: usize,
    ) -> Result<DecryptedRtcp, SrtpError> {
        let packet = buf.get_mut(..len).ok_or(SrtpError::LengthBeyondBuffer)?;
        let (ssrc, fixed) = rtcp_header(packet)?;
        if self.suite.is_plain() {
            return Ok(DecryptedRtcp {
                len,
                index: 0,
                was_encrypted: false,
            });
        }
        let strip = |end: usize, n: usize| {
            end.checked_sub(n)
                .filter(|&e| e >= RTCP_CLEAR_LEN)
                .ok_or(SrtpError::TooShort)
        };
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
            if !tags_equal(
                mac.get(..n).unwrap_or(&[]),
                received.get(..n).unwrap_or(&[]),
            ) {
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
                aes_cm::apply_keystream(
                    aes,
                    &iv,
                    packet
                        .get_mut(RTCP_CLEAR_LEN..word_start)
                        .unwrap_or(&mut []),
                )?;
                word_start
            }
            Cipher::AesF8 { data, iv } if encrypted => {
                let payload = packet
                    .get_mut(RTCP_CLEAR_LEN..word_start)
                    .unwrap_or(&mut []);
                aes_f8::apply_keystream(data, iv, &f8_iv(word, &fixed), payload);
                word_start
            }
            _ => word_start,
        };
        if replay_on {
            replay.accept(index);
        }
        Ok(DecryptedRtcp {
            len: plain_end,
            index,
            was_encrypted: encrypted,
        })
    }
}

/// AEAD with nothing to decrypt: the tag covers `body || E+index` as AAD. The AAD is at
/// most a UDP payload, assembled in a stack buffer to keep the back-end call simple.
fn open_tag_only<G: AesGcm>(
    gcm: &G,
    iv: &[u8; 12],
    body: &[u8],
    word: [u8; 4],
    tag: &[u8; 16],
) -> Result<(), CryptoError> {
    const MAX_AAD: usize = 1500;
    let mut aad = [0u8; MAX_AAD];
    let total = body
        .len()
        .checked_add(4)
        .filter(|&n| n <= MAX_AAD)
        .ok_or(CryptoError::Backend)?;
    copy_into(&mut aad, body);
    copy_into(aad.get_mut(body.len()..total).unwrap_or(&mut []), &word);
    gcm.open_in_place(iv, aad.get(..total).unwrap_or(&[]), &mut [], tag)
}

/// The AEAD tag of an unencrypted SRTCP packet: `body || E+index` as AAD, nothing to
/// encrypt (the sending side of [`open_tag_only`]).
fn seal_tag_only<G: AesGcm>(
    gcm: &G,
    iv: &[u8; 12],
    body: &[u8],
    word: [u8; 4],
    tag: &mut [u8; 16],
) -> Result<(), CryptoError> {
    const MAX_AAD: usize = 1500;
    let mut aad = [0u8; MAX_AAD];
    let total = body
        .len()
        .checked_add(4)
        .filter(|&n| n <= MAX_AAD)
        .ok_or(CryptoError::Backend)?;
    copy_into(&mut aad, body);
    copy_into(aad.get_mut(body.len()..total).unwrap_or(&mut []), &word);
    gcm.seal_in_place(iv, aad.get(..total).unwrap_or(&[]), &mut [], tag)
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

    use super::super::super::abi::{cipher, hmac};
    use super::super::rustcrypto::RustCrypto;
    use super::super::suite::CipherKind;

    fn hex(s: &str) -> std::vec::Vec<u8> {
        let digits: std::vec::Vec<u8> = s.bytes().filter(u8::is_ascii_hexdigit).collect();
        digits
            .chunks(2)
            .map(|p| u8::from_str_radix(core::str::from_utf8(p).unwrap(), 16).unwrap())
            .collect()
    }

    /// RFC 7714 §17: the RTCP packet, and its AEAD_AES_128_GCM session key and salt.
    const RFC7714_RTCP: &str = "81c8000d4d6172734e5450314e545032525450200000042a0000e9304c756e61deadbeefdeadbeefdeadbeefdeadbeefdeadbeef";

    #[test]
    fn rfc7714_17_3_unencrypted_srtcp_is_tag_only() {
        let suite = Suite {
            cipher: CipherKind::AesGcm,
            hmac: false,
            tag_len: 0,
            mki_len: 0,
            master_key_len: 16,
            master_salt_len: 12,
            session_key_len: 16,
            session_salt_len: 12,
        };
        let mut keys = SessionKeys {
            key: [0; 32],
            key_len: 16,
            salt: [0; 14],
            auth: [0; 20],
        };
        keys.key[..16].copy_from_slice(&hex("000102030405060708090a0b0c0d0e0f"));
        keys.salt[..12].copy_from_slice(b"Quid pro quo");
        let ctx = SrtpContext::with_session_keys(&RustCrypto, &suite, &keys, &[]).unwrap();
        let plain = hex(RFC7714_RTCP);
        let mut buf = plain.clone();
        buf.resize(plain.len() + ctx.rtcp_overhead(), 0);
        let n = ctx
            .encrypt_rtcp_unencrypted(0x5d4, &mut buf, plain.len())
            .unwrap();
        let want = hex(&std::format!(
            "{RFC7714_RTCP} 841dd9683dd78ec92ae58790125f62b3 000005d4"
        ));
        assert_eq!(buf[..n], want[..]);
        let d = ctx
            .decrypt_rtcp(&mut SrtcpReplay::default(), &mut buf, n)
            .unwrap();
        assert_eq!(
            (d.len, d.index, d.was_encrypted),
            (plain.len(), 0x5d4, false)
        );
    }

    #[test]
    fn unencrypted_srtcp_with_hmac_is_clear_and_authenticated() {
        let mut p = Srtp::plain();
        p.cipher = cipher::AES_CM_128;
        p.hmac = hmac::HMAC_SHA1;
        p.master_key[..16].copy_from_slice(&[3; 16]);
        p.master_key_len = 16;
        p.master_salt[..14].copy_from_slice(&[4; 14]);
        p.master_salt_len = 14;
        p.session_key_len = 16;
        p.session_salt_len = 14;
        p.auth_tag_len = 4; // the _32 suite: SRTCP still carries 80 bits
        p.mki[..2].copy_from_slice(&[0xab, 0xcd]);
        p.mki_len = 2;
        let ctx = SrtpContext::new_rtcp(&RustCrypto, &p).unwrap();
        let plain = hex("80c90001 deadbeef 0102030405060708");
        let mut buf = plain.clone();
        buf.resize(plain.len() + ctx.rtcp_overhead(), 0);
        let n = ctx
            .encrypt_rtcp_unencrypted(0x8000_0007, &mut buf, plain.len())
            .unwrap();
        assert_eq!(n, plain.len() + 4 + 2 + SRTCP_TAG_LEN);
        assert_eq!(buf[..plain.len()], plain[..], "payload clear");
        assert_eq!(
            buf[plain.len()..plain.len() + 6],
            [0, 0, 0, 7, 0xab, 0xcd],
            "E=0, index masked, MKI"
        );
        let mut encrypted = plain.clone();
        encrypted.resize(n, 0);
        ctx.encrypt_rtcp(7, &mut encrypted, plain.len()).unwrap();
        assert_ne!(
            encrypted[8..plain.len()],
            plain[8..],
            "the same context encrypts otherwise"
        );
        let mut bad = buf.clone();
        bad[9] ^= 1;
        let mut replay = SrtcpReplay::default();
        assert_eq!(
            ctx.decrypt_rtcp(&mut replay, &mut bad, n),
            Err(SrtpError::AuthFailed)
        );
        let d = ctx.decrypt_rtcp(&mut replay, &mut buf, n).unwrap();
        assert_eq!((d.len, d.index, d.was_encrypted), (plain.len(), 7, false));
        assert_eq!(buf[..d.len], plain[..]);
        let mut short = [0u8; 20];
        short[..16].copy_from_slice(&plain);
        assert_eq!(
            ctx.encrypt_rtcp_unencrypted(1, &mut short, 16),
            Err(SrtpError::NoRoom { needed: 32 })
        );
    }

    #[test]
    fn f8_rtcp_iv_layout() {
        let iv = f8_iv(
            [0x80, 0, 0, 1],
            &[0x81, 0xc8, 0, 0x0b, 0xca, 0xfe, 0xba, 0xbe],
        );
        assert_eq!(
            iv,
            [0, 0, 0, 0, 0x80, 0, 0, 1, 0x81, 0xc8, 0, 0x0b, 0xca, 0xfe, 0xba, 0xbe]
        );
    }
}
