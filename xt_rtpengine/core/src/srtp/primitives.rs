//! The crypto primitives SRTP needs, as traits. Two back ends implement them: the kernel
//! module (kernel crypto API: `aes` cipher, `hmac(sha1)` shash, `gcm(aes)` aead) and
//! [`super::rustcrypto`] for userspace. Keying may allocate; the per-packet calls must not.

/// A back end failed or refused something.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum CryptoError {
    /// Key length not supported by the primitive.
    BadKeyLength,
    /// AEAD tag did not verify.
    AuthFailed,
    /// Any other failure of the back end (allocation, transform missing, ...).
    Backend,
}

/// AES block encryption under a fixed key (128, 192 or 256 bits): all SRTP needs for
/// counter mode, f8 and the key derivation PRF.
pub trait AesBlockEncrypt {
    fn encrypt_block(&self, block: &mut [u8; 16]);

    /// XORs `data` with the AES counter-mode keystream starting at counter block `iv`
    /// (the whole block a big-endian counter). Back ends with a faster whole-buffer mode
    /// override it; the default encrypts one block at a time and cannot fail. An error
    /// means the back end failed and `data` may hold anything.
    fn apply_ctr(&self, iv: &[u8; 16], data: &mut [u8]) -> Result<(), CryptoError> {
        super::aes_cm::ctr_by_blocks(self, iv, data);
        Ok(())
    }
}

/// An HMAC-SHA1 key; each MAC computation runs in its own [`HmacSha1::Running`] state so
/// a keyed transform can be shared.
pub trait HmacSha1 {
    type Running<'a>: HmacSha1Running
    where
        Self: 'a;

    fn start(&self) -> Result<Self::Running<'_>, CryptoError>;

    /// MAC of the concatenation of `parts`.
    fn mac(&self, parts: &[&[u8]]) -> Result<[u8; 20], CryptoError> {
        let mut running = self.start()?;
        for part in parts {
            running.update(part);
        }
        running.finalize()
    }
}

/// One HMAC-SHA1 computation in progress.
pub trait HmacSha1Running {
    fn update(&mut self, data: &[u8]);
    fn finalize(self) -> Result<[u8; 20], CryptoError>;
}

/// AES-GCM with a 12-byte IV and a 16-byte tag, in place.
pub trait AesGcm {
    /// Encrypts `data` in place and writes the tag.
    fn seal_in_place(
        &self,
        iv: &[u8; 12],
        aad: &[u8],
        data: &mut [u8],
        tag: &mut [u8; 16],
    ) -> Result<(), CryptoError>;

    /// Verifies `tag` and decrypts `data` in place. On any error `data` must be left
    /// exactly as it was (the caller retries other IVs and may pass the packet on).
    fn open_in_place(
        &self,
        iv: &[u8; 12],
        aad: &[u8],
        data: &mut [u8],
        tag: &[u8; 16],
    ) -> Result<(), CryptoError>;

    /// [`AesGcm::seal_in_place`] over one buffer `aad || data || tag`: the AAD is
    /// `buf[..aad_len]`, the tag is written over the last 16 bytes. Back ends that can
    /// work on contiguous memory in one pass override it.
    fn seal_contiguous(
        &self,
        iv: &[u8; 12],
        buf: &mut [u8],
        aad_len: usize,
    ) -> Result<(), CryptoError> {
        let (aad, data, tag) = split_sealed(buf, aad_len).ok_or(CryptoError::Backend)?;
        self.seal_in_place(iv, aad, data, tag)
    }

    /// [`AesGcm::open_in_place`] over one buffer `aad || data || tag`; on any error
    /// `buf` is left as it was.
    fn open_contiguous(
        &self,
        iv: &[u8; 12],
        buf: &mut [u8],
        aad_len: usize,
    ) -> Result<(), CryptoError> {
        let (aad, data, tag) = split_sealed(buf, aad_len).ok_or(CryptoError::Backend)?;
        let tag = *tag;
        self.open_in_place(iv, aad, data, &tag)
    }
}

/// `buf` as AAD (`aad_len` bytes), data, and the 16-byte tag at its end; `None` when
/// `buf` is shorter than `aad_len + 16`.
pub fn split_sealed(buf: &mut [u8], aad_len: usize) -> Option<(&[u8], &mut [u8], &mut [u8; 16])> {
    let (aad, rest) = buf.split_at_mut_checked(aad_len)?;
    let data_len = rest.len().checked_sub(16)?;
    let (data, tag) = rest.split_at_mut(data_len);
    Some((aad, data, tag.try_into().ok()?))
}

/// Creates keyed primitives. Called when a context is built, never per packet.
pub trait CryptoBackend {
    type Aes: AesBlockEncrypt;
    type Hmac: HmacSha1;
    type Gcm: AesGcm;

    /// AES keyed with 16, 24 or 32 bytes.
    fn aes(&self, key: &[u8]) -> Result<Self::Aes, CryptoError>;
    /// HMAC-SHA1 keyed with `key` (SRTP uses 20 bytes).
    fn hmac_sha1(&self, key: &[u8]) -> Result<Self::Hmac, CryptoError>;
    /// AES-GCM keyed with 16 or 32 bytes.
    fn aes_gcm(&self, key: &[u8]) -> Result<Self::Gcm, CryptoError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A toy "MAC" (sum and length) that makes the provided `mac` method observable.
    struct Sum;
    struct SumRunning(u32, usize);

    impl HmacSha1 for Sum {
        type Running<'a> = SumRunning;
        fn start(&self) -> Result<SumRunning, CryptoError> {
            Ok(SumRunning(0, 0))
        }
    }

    impl HmacSha1Running for SumRunning {
        fn update(&mut self, data: &[u8]) {
            self.0 += data.iter().map(|&b| u32::from(b)).sum::<u32>();
            self.1 += data.len();
        }
        fn finalize(self) -> Result<[u8; 20], CryptoError> {
            let mut out = [0u8; 20];
            out[..4].copy_from_slice(&self.0.to_be_bytes());
            out[4] = self.1 as u8;
            Ok(out)
        }
    }

    #[test]
    fn mac_feeds_every_part_in_order() {
        let whole = Sum.mac(&[&[1, 2, 3, 250]]).unwrap();
        let parts = Sum.mac(&[&[1], &[], &[2, 3], &[250]]).unwrap();
        assert_eq!(whole, parts);
        assert_eq!(&whole[..5], &[0, 0, 1, 0, 4]);
    }
}
