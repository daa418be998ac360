//! One direction's SRTP context: keyed primitives built from `abi::Srtp`, and the
//! in-place RTP transforms (RFC 3711 §3.3, RFC 7714 §8) with 10.5's ROC guessing.

use super::super::abi::{Srtp, MAX_SSRC};
use super::super::rtp;
use super::error::SrtpError;
use super::index::{roc_of, IndexState};
use super::kdf::{self, label};
use super::primitives::{AesGcm, CryptoBackend, HmacSha1};
use super::replay::ReplayCheck;
use super::secret::{tags_equal, wipe};
use super::suite::{CipherKind, Suite, AUTH_KEY_LEN, GCM_TAG_LEN, MAX_MKI_LEN, MAX_TAG_LEN};
use super::{aes_cm, aes_f8};

/// Session keys of one direction (RFC 3711 §4.3). Wiped on drop.
pub struct SessionKeys {
    pub key: [u8; 32],
    pub key_len: usize,
    /// 14 bytes for AES-CM/f8, the first 12 for AEAD.
    pub salt: [u8; 14],
    pub auth: [u8; AUTH_KEY_LEN],
}

impl Drop for SessionKeys {
    fn drop(&mut self) {
        wipe(&mut self.key);
        wipe(&mut self.salt);
        wipe(&mut self.auth);
    }
}

impl SessionKeys {
    /// Derives the SRTP session keys of `suite` from the master key and salt
    /// (labels 0, 1, 2; 10.5 derives the 20-byte auth key even when unused).
    pub fn derive<B: CryptoBackend>(
        backend: &B,
        suite: &Suite,
        master_key: &[u8],
        master_salt: &[u8],
    ) -> Result<SessionKeys, SrtpError> {
        Self::derive_labels(
            backend,
            suite,
            master_key,
            master_salt,
            [label::RTP_ENCRYPTION, label::RTP_AUTH, label::RTP_SALT],
        )
    }

    /// As [`SessionKeys::derive`] with the SRTCP labels 3, 4, 5 (for userspace SRTCP).
    pub fn derive_rtcp<B: CryptoBackend>(
        backend: &B,
        suite: &Suite,
        master_key: &[u8],
        master_salt: &[u8],
    ) -> Result<SessionKeys, SrtpError> {
        Self::derive_labels(
            backend,
            suite,
            master_key,
            master_salt,
            [label::RTCP_ENCRYPTION, label::RTCP_AUTH, label::RTCP_SALT],
        )
    }

    fn derive_labels<B: CryptoBackend>(
        backend: &B,
        suite: &Suite,
        master_key: &[u8],
        master_salt: &[u8],
        labels: [u8; 3],
    ) -> Result<SessionKeys, SrtpError> {
        let bad_salt = SrtpError::BadMasterSaltLength(master_salt.len() as u32);
        let master = backend.aes(master_key)?;
        let mut keys = SessionKeys {
            key: [0; 32],
            key_len: suite.session_key_len.min(32),
            salt: [0; 14],
            auth: [0; AUTH_KEY_LEN],
        };
        let [enc, auth, salt] = labels;
        let salt_len = suite.session_salt_len.min(14);
        kdf::derive(
            &master,
            master_salt,
            enc,
            keys.key.get_mut(..keys.key_len).unwrap_or(&mut []),
        )
        .ok_or(bad_salt)?;
        kdf::derive(&master, master_salt, auth, &mut keys.auth).ok_or(bad_salt)?;
        kdf::derive(
            &master,
            master_salt,
            salt,
            keys.salt.get_mut(..salt_len).unwrap_or(&mut []),
        )
        .ok_or(bad_salt)?;
        Ok(keys)
    }
}

/// [`SessionKeys::derive`] or [`SessionKeys::derive_rtcp`].
pub(super) type DeriveFn<B> = fn(&B, &Suite, &[u8], &[u8]) -> Result<SessionKeys, SrtpError>;

pub(super) enum Cipher<B: CryptoBackend> {
    Null,
    AesCm(B::Aes),
    AesF8 { data: B::Aes, iv: B::Aes },
    AesGcm(B::Gcm),
}

/// Result of [`SrtpContext::decrypt_rtp`].
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Decrypted {
    /// Length of the plain RTP packet now at the start of the buffer.
    pub len: usize,
    /// Packet index (ROC << 16 | SEQ) it was authenticated and decrypted with.
    pub index: u64,
    /// The ROC estimate was wrong and a 10.5-style guess (ROC+1, ROC-1, 0) matched; the
    /// slot's state was reset to this index.
    pub roc_resynced: bool,
}

/// Result of [`SrtpContext::encrypt_rtp`].
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Encrypted {
    /// Length of the SRTP packet (payload encrypted, MKI and tags appended).
    pub len: usize,
    pub index: u64,
}

/// A keyed SRTP context for one direction. Immutable during packet processing; the
/// per-SSRC index and replay state lives in an [`IndexState`] the caller passes in.
pub struct SrtpContext<B: CryptoBackend> {
    pub(super) suite: Suite,
    pub(super) cipher: Cipher<B>,
    pub(super) auth: Option<B::Hmac>,
    pub(super) salt: [u8; 14],
    pub(super) mki: [u8; MAX_MKI_LEN],
    pub(super) replay_protection: bool,
}

impl<B: CryptoBackend> Drop for SrtpContext<B> {
    fn drop(&mut self) {
        wipe(&mut self.salt);
    }
}

impl<B: CryptoBackend> SrtpContext<B> {
    /// Validates `params` and derives and keys everything (allocates in the kernel back
    /// end; call when a target or output is added, not per packet).
    pub fn new(backend: &B, params: &Srtp) -> Result<Self, SrtpError> {
        Self::build(
            backend,
            Suite::from_abi(params)?,
            params,
            SessionKeys::derive,
        )
    }

    /// Shared by SRTP and SRTCP contexts: `derive` picks the key labels.
    pub(super) fn build(
        backend: &B,
        suite: Suite,
        params: &Srtp,
        derive: DeriveFn<B>,
    ) -> Result<Self, SrtpError> {
        if suite.is_plain() {
            let keys = SessionKeys {
                key: [0; 32],
                key_len: 0,
                salt: [0; 14],
                auth: [0; AUTH_KEY_LEN],
            };
            return Self::with_session_keys(backend, &suite, &keys, mki_of(params));
        }
        let master_key = params.master_key.get(..suite.master_key_len).unwrap_or(&[]);
        let master_salt = params
            .master_salt
            .get(..suite.master_salt_len)
            .unwrap_or(&[]);
        let keys = derive(backend, &suite, master_key, master_salt)?;
        Self::with_session_keys(backend, &suite, &keys, mki_of(params))
    }

    /// Builds a context from session keys directly (test vectors, or keys from elsewhere).
    /// `mki` longer than `suite.mki_len` is cut; shorter is zero-padded.
    pub fn with_session_keys(
        backend: &B,
        suite: &Suite,
        keys: &SessionKeys,
        mki: &[u8],
    ) -> Result<Self, SrtpError> {
        let key = keys.key.get(..keys.key_len).unwrap_or(&[]);
        let cipher = match suite.cipher {
            CipherKind::Null => Cipher::Null,
            CipherKind::AesCm => Cipher::AesCm(backend.aes(key)?),
            CipherKind::AesF8 => {
                let mut mask_key = [0u8; 32];
                let mask_key = mask_key.get_mut(..key.len()).unwrap_or(&mut []);
                let salt = keys.salt.get(..suite.session_salt_len).unwrap_or(&[]);
                let made = aes_f8::iv_key(key, salt, mask_key)
                    .ok_or(SrtpError::BadSessionSaltLength(salt.len() as u32));
                let iv = made.and_then(|()| Ok(backend.aes(mask_key)?));
                wipe(mask_key);
                Cipher::AesF8 {
                    data: backend.aes(key)?,
                    iv: iv?,
                }
            }
            CipherKind::AesGcm => Cipher::AesGcm(backend.aes_gcm(key)?),
        };
        let auth = if suite.hmac && suite.tag_len > 0 {
            Some(backend.hmac_sha1(&keys.auth)?)
        } else {
            None
        };
        let mut ctx_mki = [0u8; MAX_MKI_LEN];
        for (d, s) in ctx_mki.iter_mut().zip(mki.iter()).take(suite.mki_len) {
            *d = *s;
        }
        Ok(SrtpContext {
            suite: *suite,
            cipher,
            auth,
            salt: keys.salt,
            mki: ctx_mki,
            replay_protection: true,
        })
    }

    pub fn suite(&self) -> &Suite {
        &self.suite
    }

    /// Bytes [`SrtpContext::encrypt_rtp`] appends; the buffer must have this much room.
    pub fn overhead(&self) -> usize {
        self.suite.overhead()
    }

    /// Replay rejection is on by default for authenticated suites (10.5's kernel has
    /// none; a rejected packet goes to userspace like any other failure).
    pub fn set_replay_protection(&mut self, on: bool) {
        self.replay_protection = on;
    }

    pub(super) fn mki(&self) -> &[u8] {
        self.mki.get(..self.suite.mki_len).unwrap_or(&[])
    }

    /// Encrypts the RTP packet in `buf[..len]` in place and appends AEAD tag / MKI / HMAC
    /// tag after it; `buf` must extend at least [`SrtpContext::overhead`] bytes past
    /// `len`. The packet index comes from `state`'s `slot` (10.5: the target's SSRC slot,
    /// 0 when not tracking SSRCs). On error `state` is unchanged, and so is `buf` unless
    /// the AEAD back end itself failed mid-way.
    pub fn encrypt_rtp(
        &self,
        state: &mut IndexState,
        slot: usize,
        buf: &mut [u8],
        len: usize,
    ) -> Result<Encrypted, SrtpError> {
        check_slot(slot)?;
        let packet = buf.get(..len).ok_or(SrtpError::LengthBeyondBuffer)?;
        let header = rtp::parse(packet)?;
        let (header_len, seq, ssrc, fixed) = (
            header.header_len(),
            header.seq(),
            header.ssrc_bytes(),
            fixed_header(packet),
        );
        let needed = len
            .checked_add(self.overhead())
            .ok_or(SrtpError::NoRoom { needed: usize::MAX })?;
        if buf.len() < needed {
            return Err(SrtpError::NoRoom { needed });
        }
        let index = state.estimate(slot, seq);

        let mut end = len;
        match &self.cipher {
            Cipher::Null => {}
            Cipher::AesCm(aes) => {
                let iv = aes_cm::srtp_iv(&self.salt, ssrc, index);
                aes_cm::apply_keystream(aes, &iv, region(buf, header_len, len))?;
            }
            Cipher::AesF8 { data, iv } => {
                let f8_iv = aes_f8::srtp_iv(&fixed, roc_of(index));
                aes_f8::apply_keystream(data, iv, &f8_iv, region(buf, header_len, len));
            }
            Cipher::AesGcm(gcm) => {
                let iv = gcm_iv(&self.salt, ssrc, index);
                // Header (AAD), payload and the tag's room, contiguous (checked above).
                end = end.saturating_add(GCM_TAG_LEN);
                let sealed = buf.get_mut(..end).ok_or(SrtpError::TooShort)?;
                gcm.seal_contiguous(&iv, sealed, header_len)?;
            }
        }
        let mac = match &self.auth {
            Some(hmac) => {
                Some(hmac.mac(&[buf.get(..end).unwrap_or(&[]), &roc_of(index).to_be_bytes()])?)
            }
            None => None,
        };
        // All sums stay below `needed`, checked above; saturating only avoids a panic path.
        let mki_end = end.saturating_add(self.suite.mki_len);
        copy_into(region(buf, end, mki_end), self.mki());
        end = mki_end;
        if let Some(mac) = mac {
            let tag_end = end.saturating_add(self.suite.tag_len);
            copy_into(region(buf, end, tag_end), &mac);
            end = tag_end;
        }
        state.accept(slot, index);
        Ok(Encrypted { len: end, index })
    }

    /// Authenticates and decrypts the SRTP packet in `buf[..len]` in place, removing MKI
    /// and tags. Follows 10.5: index estimated from `slot`'s state; on a tag mismatch the
    /// ROC+1, ROC-1 and ROC=0 indices are tried and the one that matches resets the slot.
    /// On error `buf` is unchanged and `state` untouched, so the caller can pass the
    /// packet to userspace as it came.
    pub fn decrypt_rtp(
        &self,
        state: &mut IndexState,
        slot: usize,
        buf: &mut [u8],
        len: usize,
    ) -> Result<Decrypted, SrtpError> {
        check_slot(slot)?;
        let packet = buf.get_mut(..len).ok_or(SrtpError::LengthBeyondBuffer)?;
        let header = rtp::parse(packet)?;
        let (header_len, seq, ssrc, fixed) = (
            header.header_len(),
            header.seq(),
            header.ssrc_bytes(),
            fixed_header(packet),
        );

        // Trailer, from the end: HMAC tag, MKI, then (AEAD) the GCM tag.
        let strip = |end: usize, n: usize| {
            end.checked_sub(n)
                .filter(|&e| e >= header_len)
                .ok_or(SrtpError::TooShort)
        };
        let tag_start = strip(len, self.suite.tag_len)?;
        let payload_end = strip(tag_start, self.suite.mki_len)?;
        let mut received_tag = [0u8; MAX_TAG_LEN];
        copy_into(&mut received_tag, packet.get(tag_start..len).unwrap_or(&[]));

        let primary = state.estimate(slot, seq);
        let candidates = roc_guesses(primary);
        let authenticated = self.suite.is_authenticated();

        let (index, guess, plain_end) = match &self.cipher {
            Cipher::AesGcm(gcm) => {
                let data_end = strip(payload_end, GCM_TAG_LEN)?;
                // Header (AAD), payload and GCM tag, contiguous.
                let sealed = packet.get_mut(..payload_end).ok_or(SrtpError::TooShort)?;
                let mut refused = SrtpError::AuthFailed;
                let mut found = None;
                for (guess, candidate) in candidates.iter().enumerate() {
                    let Some(index) = *candidate else { continue };
                    if let Err(e) = self.replay_check(state, slot, index, guess) {
                        refused = e;
                        continue;
                    }
                    match gcm.open_contiguous(&gcm_iv(&self.salt, ssrc, index), sealed, header_len)
                    {
                        Ok(()) => {
                            found = Some((index, guess));
                            break;
                        }
                        Err(super::primitives::CryptoError::AuthFailed) => {}
                        Err(e) => return Err(e.into()),
                    }
                }
                let (index, guess) = found.ok_or(refused)?;
                (index, guess, data_end)
            }
            _ => {
                let (index, guess) = match &self.auth {
                    Some(hmac) => {
                        let signed = packet.get(..payload_end).unwrap_or(&[]);
                        let received = received_tag.get(..self.suite.tag_len).unwrap_or(&[]);
                        let mut found = None;
                        for (guess, candidate) in candidates.iter().enumerate() {
                            let Some(index) = *candidate else { continue };
                            let mac = hmac.mac(&[signed, &roc_of(index).to_be_bytes()])?;
                            if tags_equal(mac.get(..received.len()).unwrap_or(&[]), received) {
                                found = Some((index, guess));
                                break;
                            }
                        }
                        let (index, guess) = found.ok_or(SrtpError::AuthFailed)?;
                        self.replay_check(state, slot, index, guess)?;
                        (index, guess)
                    }
                    None => (primary, 0),
                };
                let payload = packet.get_mut(header_len..payload_end).unwrap_or(&mut []);
                match &self.cipher {
                    // Fails only if the back end does; the packet is lost then.
                    Cipher::AesCm(aes) => aes_cm::apply_keystream(
                        aes,
                        &aes_cm::srtp_iv(&self.salt, ssrc, index),
                        payload,
                    )?,
                    Cipher::AesF8 { data, iv } => aes_f8::apply_keystream(
                        data,
                        iv,
                        &aes_f8::srtp_iv(&fixed, roc_of(index)),
                        payload,
                    ),
                    _ => {}
                }
                (index, guess, payload_end)
            }
        };

        if guess == 0 || !authenticated {
            state.accept(slot, index);
        } else {
            state.set_last_index(slot, index);
        }
        Ok(Decrypted {
            len: plain_end,
            index,
            roc_resynced: guess != 0,
        })
    }

    /// Replay rule for candidate `guess` of [`roc_guesses`]. A guessed ROC (10.5's
    /// resynchronisation) lands far outside the window, so for guesses "too old" is
    /// allowed; an index the window knows as received is still refused. This keeps 10.5's
    /// recovery from a wrong ROC, at the price 10.5 also pays: an old authentic packet
    /// from another ROC can reset the slot.
    fn replay_check(
        &self,
        state: &IndexState,
        slot: usize,
        index: u64,
        guess: usize,
    ) -> Result<(), SrtpError> {
        if !self.replay_protection || !self.suite.is_authenticated() {
            return Ok(());
        }
        match state.check(slot, index) {
            ReplayCheck::New => Ok(()),
            ReplayCheck::Replayed => Err(SrtpError::Replayed),
            ReplayCheck::TooOld if guess > 0 => Ok(()),
            ReplayCheck::TooOld => Err(SrtpError::TooOld),
        }
    }
}

/// Indices tried in order, as 10.5 does after a tag mismatch: the estimate, ROC+1,
/// ROC-1 (when ROC > 0), ROC=0. Duplicates of earlier candidates are left out.
pub fn roc_guesses(primary: u64) -> [Option<u64>; 4] {
    let seq_only = primary & 0xffff;
    let next = primary
        .checked_add(0x1_0000)
        .filter(|&i| i <= super::index::INDEX_MASK);
    let prev = primary.checked_sub(0x1_0000);
    let reset = if seq_only != primary {
        Some(seq_only)
    } else {
        None
    };
    let reset = reset.filter(|&r| Some(r) != prev);
    [Some(primary), next, prev, reset]
}

/// RFC 7714 §8.1 IV: `(00 00 || SSRC || ROC || SEQ) XOR salt`.
pub fn gcm_iv(salt: &[u8; 14], ssrc: [u8; 4], index: u64) -> [u8; 12] {
    let mut iv = [0u8; 12];
    for (d, s) in iv.iter_mut().zip(salt.iter()) {
        *d = *s;
    }
    let index_bytes = ((index & super::index::INDEX_MASK) << 16).to_be_bytes();
    for (d, s) in iv[2..6].iter_mut().zip(ssrc.iter()) {
        *d ^= *s;
    }
    for (d, s) in iv[6..12].iter_mut().zip(index_bytes.iter()) {
        *d ^= *s;
    }
    iv
}

/// The MKI bytes of `params` in use (`mki_len` clamped to the array).
fn mki_of(params: &Srtp) -> &[u8] {
    let len = usize::try_from(params.mki_len)
        .unwrap_or(usize::MAX)
        .min(MAX_MKI_LEN);
    params.mki.get(..len).unwrap_or(&[])
}

pub(super) fn check_slot(slot: usize) -> Result<(), SrtpError> {
    if slot < MAX_SSRC {
        Ok(())
    } else {
        Err(SrtpError::BadSlot(slot))
    }
}

/// The 12-byte fixed RTP header (f8 IV input); `parse` guaranteed its presence.
fn fixed_header(packet: &[u8]) -> [u8; 12] {
    let mut fixed = [0u8; 12];
    copy_into(&mut fixed, packet);
    fixed
}

/// `buf[from..to]`, empty if out of range (callers have checked the range).
pub(super) fn region(buf: &mut [u8], from: usize, to: usize) -> &mut [u8] {
    buf.get_mut(from..to).unwrap_or(&mut [])
}

/// Copies as much of `src` as fits into `dst`.
pub(super) fn copy_into(dst: &mut [u8], src: &[u8]) {
    for (d, s) in dst.iter_mut().zip(src.iter()) {
        *d = *s;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guesses_follow_10_5_order() {
        assert_eq!(
            roc_guesses(0x3_0010),
            [Some(0x3_0010), Some(0x4_0010), Some(0x2_0010), Some(0x10)]
        );
        // ROC 1: ROC-1 is the same as ROC=0 and is tried once.
        assert_eq!(
            roc_guesses(0x1_0010),
            [Some(0x1_0010), Some(0x2_0010), Some(0x10), None]
        );
        assert_eq!(roc_guesses(0x10), [Some(0x10), Some(0x1_0010), None, None]);
        assert_eq!(roc_guesses(super::super::index::INDEX_MASK)[1], None);
    }

    #[test]
    fn gcm_iv_of_rfc7714() {
        // RFC 7714 §16.1: SSRC 0x5501a0b2, ROC 0, SEQ 0xf17b, salt "Quid pro quo".
        let mut salt = [0u8; 14];
        salt[..12].copy_from_slice(b"Quid pro quo");
        let iv = gcm_iv(&salt, [0x55, 0x01, 0xa0, 0xb2], 0xf17b);
        assert_eq!(
            iv,
            [0x51, 0x75, 0x3c, 0x65, 0x80, 0xc2, 0x72, 0x6f, 0x20, 0x71, 0x84, 0x14]
        );
    }
}
