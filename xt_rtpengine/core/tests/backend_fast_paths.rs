//! A back end that overrides the whole-buffer primitives (as the kernel module's does:
//! AES-CTR over a packet, GCM over `header || payload || tag` in one buffer) must give
//! the same packets as the default block-by-block and split paths, and the SRTP context
//! must hand it whole payloads.
mod common;

use common::{params, random_rtp, XorShift, SUITES};
use ctr::cipher::{KeyIvInit, StreamCipher};
use rtpengine_core::srtp::rustcrypto::{self, RustCrypto};
use rtpengine_core::srtp::{
    split_sealed, AesBlockEncrypt, AesGcm, CryptoBackend, CryptoError, IndexState, SrtpContext,
};
use std::cell::Cell;

thread_local! {
    static BLOCKS: Cell<usize> = const { Cell::new(0) };
    static CTR_CALLS: Cell<usize> = const { Cell::new(0) };
    static GCM_CONTIGUOUS: Cell<usize> = const { Cell::new(0) };
}

fn bump(c: &'static std::thread::LocalKey<Cell<usize>>) {
    c.with(|c| c.set(c.get() + 1));
}

fn take(c: &'static std::thread::LocalKey<Cell<usize>>) -> usize {
    c.with(|c| c.replace(0))
}

/// RustCrypto's primitives behind the overriding methods.
struct Fast;

struct FastAes {
    key: Vec<u8>,
    inner: rustcrypto::Aes,
}

impl AesBlockEncrypt for FastAes {
    fn encrypt_block(&self, block: &mut [u8; 16]) {
        bump(&BLOCKS);
        self.inner.encrypt_block(block);
    }

    fn apply_ctr(&self, iv: &[u8; 16], data: &mut [u8]) -> Result<(), CryptoError> {
        bump(&CTR_CALLS);
        // A different implementation than the default loop: RustCrypto's CTR mode.
        match self.key.len() {
            16 => ctr::Ctr128BE::<aes::Aes128>::new(self.key[..].into(), iv.into())
                .apply_keystream(data),
            24 => ctr::Ctr128BE::<aes::Aes192>::new(self.key[..].into(), iv.into())
                .apply_keystream(data),
            _ => ctr::Ctr128BE::<aes::Aes256>::new(self.key[..].into(), iv.into())
                .apply_keystream(data),
        }
        Ok(())
    }
}

struct FastGcm(rustcrypto::Gcm);

impl AesGcm for FastGcm {
    fn seal_in_place(
        &self,
        _: &[u8; 12],
        _: &[u8],
        _: &mut [u8],
        _: &mut [u8; 16],
    ) -> Result<(), CryptoError> {
        panic!("the SRTP context must use seal_contiguous");
    }

    fn open_in_place(
        &self,
        _: &[u8; 12],
        _: &[u8],
        _: &mut [u8],
        _: &[u8; 16],
    ) -> Result<(), CryptoError> {
        panic!("the SRTP context must use open_contiguous");
    }

    fn seal_contiguous(
        &self,
        iv: &[u8; 12],
        buf: &mut [u8],
        aad_len: usize,
    ) -> Result<(), CryptoError> {
        bump(&GCM_CONTIGUOUS);
        let (aad, data, tag) = split_sealed(buf, aad_len).ok_or(CryptoError::Backend)?;
        self.0.seal_in_place(iv, aad, data, tag)
    }

    fn open_contiguous(
        &self,
        iv: &[u8; 12],
        buf: &mut [u8],
        aad_len: usize,
    ) -> Result<(), CryptoError> {
        bump(&GCM_CONTIGUOUS);
        let (aad, data, tag) = split_sealed(buf, aad_len).ok_or(CryptoError::Backend)?;
        let tag = *tag;
        self.0.open_in_place(iv, aad, data, &tag)
    }
}

impl CryptoBackend for Fast {
    type Aes = FastAes;
    type Hmac = rustcrypto::Hmac;
    type Gcm = FastGcm;

    fn aes(&self, key: &[u8]) -> Result<FastAes, CryptoError> {
        Ok(FastAes {
            key: key.to_vec(),
            inner: RustCrypto.aes(key)?,
        })
    }

    fn hmac_sha1(&self, key: &[u8]) -> Result<rustcrypto::Hmac, CryptoError> {
        RustCrypto.hmac_sha1(key)
    }

    fn aes_gcm(&self, key: &[u8]) -> Result<FastGcm, CryptoError> {
        RustCrypto.aes_gcm(key).map(FastGcm)
    }
}

#[test]
fn overridden_primitives_give_the_same_packets_both_ways() {
    let mut rng = XorShift::new(0x5eed_fa57);
    for spec in SUITES {
        let mut key = vec![0u8; spec.key_len as usize];
        let mut salt = vec![0u8; spec.salt_len as usize];
        rng.fill(&mut key);
        rng.fill(&mut salt);
        let p = params(spec, &key, &salt, &[7, 7, 7, 7][..spec.mki_len as usize]);
        let reference = SrtpContext::new(&RustCrypto, &p).unwrap();
        let fast = SrtpContext::new(&Fast, &p).unwrap();
        let (mut st_ref, mut st_fast) = (IndexState::new(&[0; 4]), IndexState::new(&[0; 4]));
        let (mut st_ref_in, mut st_fast_in) = (IndexState::new(&[0; 4]), IndexState::new(&[0; 4]));
        take(&BLOCKS);
        take(&CTR_CALLS);
        take(&GCM_CONTIGUOUS);
        for seq in 0..40u16 {
            let plain = random_rtp(&mut rng, seq, 0x1234_5678, 300);
            let room = plain.len() + reference.overhead();
            let mut a = plain.clone();
            a.resize(room, 0);
            let mut b = a.clone();
            let ra = reference
                .encrypt_rtp(&mut st_ref, 0, &mut a, plain.len())
                .unwrap();
            let rb = fast
                .encrypt_rtp(&mut st_fast, 0, &mut b, plain.len())
                .unwrap();
            assert_eq!(
                (ra.len, &a[..ra.len]),
                (rb.len, &b[..rb.len]),
                "{}",
                spec.name
            );

            // Each decrypts what the other encrypted.
            let da = reference
                .decrypt_rtp(&mut st_ref_in, 0, &mut b, rb.len)
                .unwrap();
            let db = fast
                .decrypt_rtp(&mut st_fast_in, 0, &mut a, ra.len)
                .unwrap();
            assert_eq!(&a[..db.len], &plain[..], "{}", spec.name);
            assert_eq!(&b[..da.len], &plain[..], "{}", spec.name);
        }
        let (blocks, ctr_calls, gcm) = (take(&BLOCKS), take(&CTR_CALLS), take(&GCM_CONTIGUOUS));
        match spec.cipher {
            rtpengine_core::abi::cipher::AES_CM_128
            | rtpengine_core::abi::cipher::AES_CM_192
            | rtpengine_core::abi::cipher::AES_CM_256 => {
                // One whole-payload call per packet and direction, no single blocks.
                assert_eq!((ctr_calls, blocks), (80, 0), "{}", spec.name);
            }
            rtpengine_core::abi::cipher::AEAD_AES_GCM_128
            | rtpengine_core::abi::cipher::AEAD_AES_GCM_256 => {
                assert_eq!(gcm, 80, "{}", spec.name);
            }
            _ => {}
        }
    }
}

#[test]
fn a_failed_contiguous_open_leaves_the_packet_as_it_was() {
    let spec = SUITES
        .iter()
        .find(|s| s.name == "AEAD_AES_128_GCM")
        .unwrap();
    let p = params(spec, &[3; 16], &[4; 12], &[]);
    let ctx = SrtpContext::new(&Fast, &p).unwrap();
    let mut st = IndexState::new(&[0; 4]);
    let mut rng = XorShift::new(9);
    let plain = random_rtp(&mut rng, 1000, 42, 160);
    let mut buf = plain.clone();
    buf.resize(plain.len() + ctx.overhead(), 0);
    let n = ctx
        .encrypt_rtp(&mut st, 0, &mut buf, plain.len())
        .unwrap()
        .len;
    let last = n - 1;
    buf[last] ^= 1;
    let sent = buf.clone();
    let mut st_in = IndexState::new(&[0; 4]);
    assert!(ctx.decrypt_rtp(&mut st_in, 0, &mut buf, n).is_err());
    assert_eq!(buf, sent);
}

#[test]
fn split_sealed_needs_room_for_the_tag() {
    let mut buf = [0u8; 20];
    let (aad, data, tag) = split_sealed(&mut buf, 3).unwrap();
    assert_eq!((aad.len(), data.len(), tag.len()), (3, 1, 16));
    assert!(split_sealed(&mut buf, 5).is_none());
    assert!(split_sealed(&mut buf[..15], 0).is_none());
}
