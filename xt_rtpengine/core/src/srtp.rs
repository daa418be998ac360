//! SRTP (RFC 3711, RFC 6188, RFC 7714) for RTP, in place, as rtpengine 10.5's kernel
//! module does it, on top of crypto primitives supplied by a back end.
//!
//! API for the kernel module and the daemon:
//! - Implement [`CryptoBackend`] ([`AesBlockEncrypt`], [`HmacSha1`], [`AesGcm`]); the
//!   daemon uses `rustcrypto::RustCrypto` (cargo feature `rustcrypto`).
//! - [`SrtpContext::new`]`(&backend, &abi::Srtp)` validates (error: [`SrtpError`]),
//!   derives session keys (RFC 3711 §4.3) and keys the primitives. Once per target/output.
//! - [`IndexState::new`]`(&srtp.last_index)` holds the per-SSRC-slot packet index (ROC)
//!   and the replay window; [`IndexState::last_index`] gives the live values for blist.
//! - Per packet: [`SrtpContext::decrypt_rtp`]`(&mut state, slot, buf, len)` ->
//!   [`Decrypted`]`{ len, index, roc_resynced }` and
//!   [`SrtpContext::encrypt_rtp`]`(&mut state, slot, buf, len)` -> [`Encrypted`]`{ len, .. }`.
//!   `buf[..len]` is the UDP payload; encryption needs [`SrtpContext::overhead`] spare
//!   bytes after it. Neither allocates nor panics. On a decrypt error the buffer and
//!   state are unchanged (10.5 then passes the packet to userspace).
//! - SRTCP for userspace: [`SrtpContext::new_rtcp`], then `encrypt_rtcp(index, buf, len)`
//!   and `decrypt_rtcp(&mut `[`SrtcpReplay`]`, buf, len)` -> [`DecryptedRtcp`].
//! - Building blocks, for tests and other uses: [`kdf`], [`aes_cm`],
//!   [`aes_f8`], [`estimate`], [`ReplayWindow`], [`SessionKeys`].

pub mod aes_cm;
pub mod aes_f8;
mod context;
mod error;
pub mod index;
pub mod kdf;
mod primitives;
pub mod replay;
mod secret;
mod srtcp;
mod suite;

#[cfg(any(test, feature = "rustcrypto"))]
pub mod rustcrypto;

pub use context::{gcm_iv, roc_guesses, Decrypted, Encrypted, SessionKeys, SrtpContext};
pub use error::SrtpError;
pub use index::{estimate, roc_of, IndexState, INDEX_MASK};
pub use primitives::{
    split_sealed, AesBlockEncrypt, AesGcm, CryptoBackend, CryptoError, HmacSha1, HmacSha1Running,
};
pub use replay::{ReplayCheck, ReplayWindow, REPLAY_WINDOW};
pub use secret::tags_equal;
pub use srtcp::{DecryptedRtcp, SrtcpReplay, RTCP_CLEAR_LEN, SRTCP_INDEX_MASK, SRTCP_TAG_LEN};
pub use suite::{CipherKind, Suite, AUTH_KEY_LEN, GCM_TAG_LEN, MAX_MKI_LEN, MAX_TAG_LEN};
