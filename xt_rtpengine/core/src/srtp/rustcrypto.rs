//! [`CryptoBackend`] on RustCrypto (`aes`, `hmac` + `sha1`, `aes-gcm`), for userspace.
//! Only built with the `rustcrypto` feature (and in this crate's tests).

use aes::cipher::generic_array::GenericArray;
use aes::cipher::{BlockEncrypt, KeyInit};
use aes_gcm::aead::AeadInPlace;
use hmac::Mac;

use super::primitives::{
    AesBlockEncrypt, AesGcm, CryptoBackend, CryptoError, HmacSha1, HmacSha1Running,
};

/// The RustCrypto back end (stateless).
#[derive(Clone, Copy, Debug, Default)]
pub struct RustCrypto;

pub enum Aes {
    Aes128(aes::Aes128),
    Aes192(aes::Aes192),
    Aes256(aes::Aes256),
}

impl AesBlockEncrypt for Aes {
    fn encrypt_block(&self, block: &mut [u8; 16]) {
        let block = GenericArray::from_mut_slice(block);
        match self {
            Aes::Aes128(c) => c.encrypt_block(block),
            Aes::Aes192(c) => c.encrypt_block(block),
            Aes::Aes256(c) => c.encrypt_block(block),
        }
    }
}

type HmacSha1Impl = hmac::Hmac<sha1::Sha1>;

/// A keyed HMAC-SHA1; each computation clones the keyed state (no allocation).
#[derive(Clone)]
pub struct Hmac(HmacSha1Impl);

/// An HMAC-SHA1 computation in progress.
pub struct HmacRunning(HmacSha1Impl);

impl HmacSha1 for Hmac {
    type Running<'a> = HmacRunning;

    fn start(&self) -> Result<HmacRunning, CryptoError> {
        Ok(HmacRunning(self.0.clone()))
    }
}

impl HmacSha1Running for HmacRunning {
    fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }

    fn finalize(self) -> Result<[u8; 20], CryptoError> {
        Ok(self.0.finalize().into_bytes().into())
    }
}

// Boxing would need alloc; a context holds one of these, so the size does not matter.
#[allow(clippy::large_enum_variant)]
pub enum Gcm {
    Aes128(aes_gcm::Aes128Gcm),
    Aes256(aes_gcm::Aes256Gcm),
}

impl AesGcm for Gcm {
    fn seal_in_place(
        &self,
        iv: &[u8; 12],
        aad: &[u8],
        data: &mut [u8],
        tag: &mut [u8; 16],
    ) -> Result<(), CryptoError> {
        let nonce = GenericArray::from_slice(iv);
        let t = match self {
            Gcm::Aes128(c) => c.encrypt_in_place_detached(nonce, aad, data),
            Gcm::Aes256(c) => c.encrypt_in_place_detached(nonce, aad, data),
        }
        .map_err(|_| CryptoError::Backend)?;
        tag.copy_from_slice(&t);
        Ok(())
    }

    // aes-gcm verifies the tag before decrypting, so `data` is untouched on failure.
    fn open_in_place(
        &self,
        iv: &[u8; 12],
        aad: &[u8],
        data: &mut [u8],
        tag: &[u8; 16],
    ) -> Result<(), CryptoError> {
        let nonce = GenericArray::from_slice(iv);
        let tag = GenericArray::from_slice(tag);
        match self {
            Gcm::Aes128(c) => c.decrypt_in_place_detached(nonce, aad, data, tag),
            Gcm::Aes256(c) => c.decrypt_in_place_detached(nonce, aad, data, tag),
        }
        .map_err(|_| CryptoError::AuthFailed)
    }
}

impl CryptoBackend for RustCrypto {
    type Aes = Aes;
    type Hmac = Hmac;
    type Gcm = Gcm;

    fn aes(&self, key: &[u8]) -> Result<Aes, CryptoError> {
        let bad = |_| CryptoError::BadKeyLength;
        Ok(match key.len() {
            16 => Aes::Aes128(aes::Aes128::new_from_slice(key).map_err(bad)?),
            24 => Aes::Aes192(aes::Aes192::new_from_slice(key).map_err(bad)?),
            32 => Aes::Aes256(aes::Aes256::new_from_slice(key).map_err(bad)?),
            _ => return Err(CryptoError::BadKeyLength),
        })
    }

    fn hmac_sha1(&self, key: &[u8]) -> Result<Hmac, CryptoError> {
        Ok(Hmac(
            <HmacSha1Impl as Mac>::new_from_slice(key).map_err(|_| CryptoError::BadKeyLength)?,
        ))
    }

    fn aes_gcm(&self, key: &[u8]) -> Result<Gcm, CryptoError> {
        let bad = |_| CryptoError::BadKeyLength;
        Ok(match key.len() {
            16 => Gcm::Aes128(aes_gcm::Aes128Gcm::new_from_slice(key).map_err(bad)?),
            32 => Gcm::Aes256(aes_gcm::Aes256Gcm::new_from_slice(key).map_err(bad)?),
            _ => return Err(CryptoError::BadKeyLength),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_sha1_rfc2202() {
        let h = RustCrypto.hmac_sha1(&[0x0b; 20]).unwrap();
        let want = [
            0xb6, 0x17, 0x31, 0x86, 0x55, 0x05, 0x72, 0x64, 0xe2, 0x8b, 0xc0, 0xb6, 0xfb, 0x37,
            0x8c, 0x8e, 0xf1, 0x46, 0xbe, 0x00,
        ];
        assert_eq!(h.mac(&[b"Hi There"]).unwrap(), want);
        // Incremental updates give the same MAC.
        assert_eq!(h.mac(&[b"Hi ", b"", b"There"]).unwrap(), want);
        let jefe = RustCrypto.hmac_sha1(b"Jefe").unwrap();
        let want2 = [
            0xef, 0xfc, 0xdf, 0x6a, 0xe5, 0xeb, 0x2f, 0xa2, 0xd2, 0x74, 0x16, 0xd5, 0xf1, 0x84,
            0xdf, 0x9c, 0x25, 0x9a, 0x7c, 0x79,
        ];
        assert_eq!(
            jefe.mac(&[b"what do ya want ", b"for nothing?"]).unwrap(),
            want2
        );
    }

    #[test]
    fn key_lengths() {
        assert!(RustCrypto.aes(&[0; 16]).is_ok());
        assert!(RustCrypto.aes(&[0; 24]).is_ok());
        assert!(RustCrypto.aes(&[0; 32]).is_ok());
        assert_eq!(
            RustCrypto.aes(&[0; 20]).err(),
            Some(CryptoError::BadKeyLength)
        );
        assert_eq!(
            RustCrypto.aes_gcm(&[0; 24]).err(),
            Some(CryptoError::BadKeyLength)
        );
    }

    #[test]
    fn gcm_open_failure_leaves_data_untouched() {
        let g = RustCrypto.aes_gcm(&[1; 16]).unwrap();
        let mut data = *b"some payload";
        let mut tag = [0u8; 16];
        g.seal_in_place(&[2; 12], b"hdr", &mut data, &mut tag)
            .unwrap();
        let sealed = data;
        tag[0] ^= 1;
        assert_eq!(
            g.open_in_place(&[2; 12], b"hdr", &mut data, &tag),
            Err(CryptoError::AuthFailed)
        );
        assert_eq!(data, sealed);
        tag[0] ^= 1;
        g.open_in_place(&[2; 12], b"hdr", &mut data, &tag).unwrap();
        assert_eq!(&data, b"some payload");
    }
}
