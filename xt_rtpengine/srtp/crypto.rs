// SPDX-License-Identifier: GPL-2.0

//! The kernel crypto API as the back end of `rtpengine_core::srtp`: AES blocks from the
//! `aes` cipher (AES-NI where present), HMAC-SHA1 from the `hmac(sha1)` shash, AES-GCM
//! from a synchronous `gcm(aes)` aead. Where the CPU has them, whole packets go through
//! AES-NI's own CTR and GCM code in one FPU section instead (helpers.c says why and
//! when), with the per-block and generic paths as the fallback. Transforms are
//! allocated when a target or output is added (process context) and used concurrently
//! by the packet path, which the kernel allows for keyed cipher, shash and aead
//! transforms.

use crate::ffi;
use crate::rtpengine_core::srtp::aes_cm::ctr_by_blocks;
use crate::rtpengine_core::srtp::{
    split_sealed, AesBlockEncrypt, AesGcm, CryptoBackend, CryptoError, HmacSha1, HmacSha1Running,
};
use core::ffi::c_void;
use core::mem::MaybeUninit;
use core::ptr::NonNull;

/// The kernel back end.
pub(crate) struct KernelCrypto;

fn key_len(key: &[u8]) -> Result<u32, CryptoError> {
    u32::try_from(key.len()).map_err(|_| CryptoError::BadKeyLength)
}

macro_rules! transform {
    ($name:ident, $free:ident) => {
        pub(crate) struct $name(NonNull<c_void>);

        // SAFETY: a keyed transform is only read by the operations we call, which the
        // crypto API allows from several contexts at once.
        unsafe impl Send for $name {}
        // SAFETY: as above.
        unsafe impl Sync for $name {}

        impl Drop for $name {
            fn drop(&mut self) {
                // SAFETY: the transform was allocated by the matching `*_new` helper and
                // is freed once; targets are dropped in process context.
                unsafe { ffi::$free(self.0.as_ptr()) };
            }
        }
    };
}

transform!(AesBlock, rtpe_aes_free);
transform!(AesCtr, rtpe_aes_ctr_free);
transform!(Hmac, rtpe_hmac_free);
transform!(Gcm, rtpe_gcm_free);

/// Returned by the whole-buffer helpers when they cannot run now (no SIMD in this
/// context, or a buffer outside the linear map); nothing was done.
const AGAIN: i32 = -(kernel::bindings::EAGAIN as i32);
const TAG_MISMATCH: i32 = -(kernel::bindings::EBADMSG as i32);

/// An AES key: the single-block cipher, and AES-NI's CTR mode where there is one.
pub(crate) struct Aes {
    block: AesBlock,
    ctr: Option<AesCtr>,
}

impl AesBlockEncrypt for Aes {
    fn encrypt_block(&self, block: &mut [u8; 16]) {
        // SAFETY: `self.block.0` is a keyed AES cipher; `block` is 16 writable bytes.
        unsafe { ffi::rtpe_aes_encrypt(self.block.0.as_ptr(), block.as_mut_ptr()) };
    }

    fn apply_ctr(&self, iv: &[u8; 16], data: &mut [u8]) -> Result<(), CryptoError> {
        if let (Some(ctr), Ok(len)) = (&self.ctr, u32::try_from(data.len())) {
            // SAFETY: `ctr.0` is a keyed `__ctr(aes)`; `iv` is 16 readable bytes, `data`
            // is writable for `len` bytes and not otherwise referenced during the call.
            let ret = unsafe {
                ffi::rtpe_aes_ctr_xor(ctr.0.as_ptr(), iv.as_ptr(), data.as_mut_ptr(), len)
            };
            match ret {
                0 => return Ok(()),
                AGAIN => {}
                _ => return Err(CryptoError::Backend),
            }
        }
        ctr_by_blocks(self, iv, data);
        Ok(())
    }
}

/// Room for a `struct shash_desc` plus the largest hash state (`HASH_MAX_DESCSIZE`).
const DESC_BYTES: usize = 8 + 8 + 360;

#[repr(C, align(16))]
pub(crate) struct HmacRunning {
    /// Initialised by `crypto_shash_init`; never read by us.
    desc: MaybeUninit<[u8; DESC_BYTES]>,
    failed: bool,
}

impl HmacRunning {
    fn desc(&mut self) -> *mut c_void {
        self.desc.as_mut_ptr().cast()
    }
}

impl HmacSha1 for Hmac {
    type Running<'a> = HmacRunning;

    fn start(&self) -> Result<HmacRunning, CryptoError> {
        // SAFETY: plain call returning a constant.
        if unsafe { ffi::rtpe_hmac_desc_size() } > DESC_BYTES {
            return Err(CryptoError::Backend);
        }
        let mut r = HmacRunning {
            desc: MaybeUninit::uninit(),
            failed: false,
        };
        // SAFETY: `desc` is large and aligned enough for a shash_desc of this transform
        // (checked above, and at allocation in helpers.c); init writes what it needs.
        let ret = unsafe { ffi::rtpe_hmac_init(self.0.as_ptr(), r.desc()) };
        if ret != 0 {
            return Err(CryptoError::Backend);
        }
        Ok(r)
    }

    /// One helper call for the usual one or two parts (an SRTP tag: packet, ROC).
    fn mac(&self, parts: &[&[u8]]) -> Result<[u8; 20], CryptoError> {
        let (a, b): (&[u8], &[u8]) = match parts {
            [] => (&[], &[]),
            [a] => (a, &[]),
            [a, b] => (a, b),
            _ => {
                let mut running = self.start()?;
                for part in parts {
                    running.update(part);
                }
                return running.finalize();
            }
        };
        let a_len = u32::try_from(a.len()).map_err(|_| CryptoError::Backend)?;
        let b_len = u32::try_from(b.len()).map_err(|_| CryptoError::Backend)?;
        let mut out = [0u8; 20];
        // SAFETY: `self.0` is a keyed hmac(sha1) shash; `a` and `b` are readable for their
        // lengths; `out` has room for a SHA-1 digest.
        let ret = unsafe {
            ffi::rtpe_hmac_mac2(
                self.0.as_ptr(),
                a.as_ptr(),
                a_len,
                b.as_ptr(),
                b_len,
                out.as_mut_ptr(),
            )
        };
        if ret != 0 {
            return Err(CryptoError::Backend);
        }
        Ok(out)
    }
}

impl HmacSha1Running for HmacRunning {
    fn update(&mut self, data: &[u8]) {
        let Ok(len) = u32::try_from(data.len()) else {
            self.failed = true;
            return;
        };
        // SAFETY: `desc` was initialised by `start`; `data` is readable for `len` bytes.
        if unsafe { ffi::rtpe_hmac_update(self.desc(), data.as_ptr(), len) } != 0 {
            self.failed = true;
        }
    }

    fn finalize(mut self) -> Result<[u8; 20], CryptoError> {
        let mut out = [0u8; 20];
        // SAFETY: `desc` was initialised by `start`; `out` has room for a SHA-1 digest.
        let ret = unsafe { ffi::rtpe_hmac_final(self.desc(), out.as_mut_ptr()) };
        if ret != 0 || self.failed {
            return Err(CryptoError::Backend);
        }
        Ok(out)
    }
}

impl Gcm {
    fn crypt(
        &self,
        encrypt: bool,
        iv: &[u8; 12],
        aad: &[u8],
        data: &mut [u8],
        tag: &mut [u8; 16],
    ) -> Result<(), CryptoError> {
        let aad_len = u32::try_from(aad.len()).map_err(|_| CryptoError::Backend)?;
        let len = u32::try_from(data.len()).map_err(|_| CryptoError::Backend)?;
        // SAFETY: `self.0` is a keyed synchronous gcm(aes); the buffers are valid for the
        // given lengths. The helper only reads `aad` (the scatterlist wants a mutable
        // pointer) and writes `data` and `tag`.
        let ret = unsafe {
            ffi::rtpe_gcm_crypt(
                self.0.as_ptr(),
                encrypt,
                iv.as_ptr(),
                aad.as_ptr() as *mut u8,
                aad_len,
                data.as_mut_ptr(),
                len,
                tag.as_mut_ptr(),
            )
        };
        match ret {
            0 => Ok(()),
            TAG_MISMATCH => Err(CryptoError::AuthFailed),
            _ => Err(CryptoError::Backend),
        }
    }

    /// The one-pass path over `aad || data || tag`; `None` when it cannot run now.
    fn crypt_contiguous(
        &self,
        encrypt: bool,
        iv: &[u8; 12],
        buf: &mut [u8],
        aad_len: usize,
    ) -> Option<Result<(), CryptoError>> {
        let data_len = buf.len().checked_sub(aad_len)?.checked_sub(16)?;
        let (aad_len, data_len) = (u32::try_from(aad_len).ok()?, u32::try_from(data_len).ok()?);
        // SAFETY: `self.0` is a GCM pair from `rtpe_gcm_new`; `buf` is writable for
        // `aad_len + data_len + 16` bytes (its length) and not otherwise referenced.
        let ret = unsafe {
            ffi::rtpe_gcm_crypt_contiguous(
                self.0.as_ptr(),
                encrypt,
                iv.as_ptr(),
                buf.as_mut_ptr(),
                aad_len,
                data_len,
            )
        };
        match ret {
            0 => Some(Ok(())),
            AGAIN => None,
            TAG_MISMATCH => Some(Err(CryptoError::AuthFailed)),
            _ => Some(Err(CryptoError::Backend)),
        }
    }
}

impl AesGcm for Gcm {
    fn seal_contiguous(
        &self,
        iv: &[u8; 12],
        buf: &mut [u8],
        aad_len: usize,
    ) -> Result<(), CryptoError> {
        if let Some(r) = self.crypt_contiguous(true, iv, buf, aad_len) {
            return r;
        }
        let (aad, data, tag) = split_sealed(buf, aad_len).ok_or(CryptoError::Backend)?;
        self.seal_in_place(iv, aad, data, tag)
    }

    fn open_contiguous(
        &self,
        iv: &[u8; 12],
        buf: &mut [u8],
        aad_len: usize,
    ) -> Result<(), CryptoError> {
        if let Some(r) = self.crypt_contiguous(false, iv, buf, aad_len) {
            return r;
        }
        let (aad, data, tag) = split_sealed(buf, aad_len).ok_or(CryptoError::Backend)?;
        let tag = *tag;
        self.open_in_place(iv, aad, data, &tag)
    }

    fn seal_in_place(
        &self,
        iv: &[u8; 12],
        aad: &[u8],
        data: &mut [u8],
        tag: &mut [u8; 16],
    ) -> Result<(), CryptoError> {
        self.crypt(true, iv, aad, data, tag)
    }

    fn open_in_place(
        &self,
        iv: &[u8; 12],
        aad: &[u8],
        data: &mut [u8],
        tag: &[u8; 16],
    ) -> Result<(), CryptoError> {
        let mut t = *tag;
        self.crypt(false, iv, aad, data, &mut t)
    }
}

impl CryptoBackend for KernelCrypto {
    type Aes = Aes;
    type Hmac = Hmac;
    type Gcm = Gcm;

    fn aes(&self, key: &[u8]) -> Result<Aes, CryptoError> {
        if !matches!(key.len(), 16 | 24 | 32) {
            return Err(CryptoError::BadKeyLength);
        }
        let len = key_len(key)?;
        // SAFETY: `key` is readable for its length; the helper copies it.
        let block = NonNull::new(unsafe { ffi::rtpe_aes_new(key.as_ptr(), len) })
            .map(AesBlock)
            .ok_or(CryptoError::Backend)?;
        // SAFETY: as above; NULL when there is no internal CTR implementation.
        let ctr = NonNull::new(unsafe { ffi::rtpe_aes_ctr_new(key.as_ptr(), len) }).map(AesCtr);
        Ok(Aes { block, ctr })
    }

    fn hmac_sha1(&self, key: &[u8]) -> Result<Hmac, CryptoError> {
        // SAFETY: as above.
        let p = unsafe { ffi::rtpe_hmac_sha1_new(key.as_ptr(), key_len(key)?) };
        NonNull::new(p).map(Hmac).ok_or(CryptoError::Backend)
    }

    fn aes_gcm(&self, key: &[u8]) -> Result<Gcm, CryptoError> {
        if !matches!(key.len(), 16 | 32) {
            return Err(CryptoError::BadKeyLength);
        }
        // SAFETY: as above.
        let p = unsafe { ffi::rtpe_gcm_new(key.as_ptr(), key_len(key)?) };
        NonNull::new(p).map(Gcm).ok_or(CryptoError::Backend)
    }
}
