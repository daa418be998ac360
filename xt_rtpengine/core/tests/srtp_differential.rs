//! Differential test: for every suite, 10,000 random RTP packets (deterministic seed)
//! encrypted by our SRTP context must equal the output of an independent reference
//! written here straight from RustCrypto primitives (ctr::Ctr128BE, a u128 f8, hmac,
//! aes_gcm), and must decrypt back to the original.

mod common;

use aes::cipher::{BlockEncrypt, KeyInit, KeyIvInit, StreamCipher};
use aes::{Aes128, Aes192, Aes256};
use aes_gcm::aead::AeadInPlace;
use common::{params, random_rtp, rtp_header_len, SuiteSpec, XorShift, SUITES};
use hmac::Mac;
use rtpengine_core::abi::{cipher, hmac as hmac_id};
use rtpengine_core::srtp::rustcrypto::RustCrypto;
use rtpengine_core::srtp::{IndexState, SrtpContext};

const PACKETS_PER_SUITE: usize = 10_000;

fn ctr_keystream(key: &[u8], iv: [u8; 16], data: &mut [u8]) {
    match key.len() {
        16 => ctr::Ctr128BE::<Aes128>::new(key.into(), &iv.into()).apply_keystream(data),
        24 => ctr::Ctr128BE::<Aes192>::new(key.into(), &iv.into()).apply_keystream(data),
        32 => ctr::Ctr128BE::<Aes256>::new(key.into(), &iv.into()).apply_keystream(data),
        n => panic!("key length {n}"),
    }
}

/// RFC 3711 §4.3.1 PRF: AES-CM over zeros from IV = (salt XOR label<<48) << 16.
fn reference_kdf(master_key: &[u8], master_salt: &[u8], label: u8, len: usize) -> Vec<u8> {
    // x = salt (14 bytes, a 12-byte AEAD salt zero-padded) XOR label at byte 7, times 2^16.
    let mut salt = [0u8; 16];
    salt[..master_salt.len()].copy_from_slice(master_salt);
    let x = u128::from_be_bytes(salt) ^ (u128::from(label) << 64);
    let mut out = vec![0u8; len];
    ctr_keystream(master_key, x.to_be_bytes(), &mut out);
    out
}

fn aes_block(key: &[u8], block: u128) -> u128 {
    let mut b = block.to_be_bytes().into();
    match key.len() {
        16 => Aes128::new(key.into()).encrypt_block(&mut b),
        24 => Aes192::new(key.into()).encrypt_block(&mut b),
        32 => Aes256::new(key.into()).encrypt_block(&mut b),
        n => panic!("key length {n}"),
    }
    u128::from_be_bytes(b.into())
}

/// RFC 3711 §4.1.2 with 128-bit integers.
fn reference_f8(key: &[u8], salt: &[u8], iv: u128, data: &mut [u8]) {
    let mut m = [0x55u8; 16];
    m[..salt.len()].copy_from_slice(salt);
    let masked: Vec<u8> = key.iter().zip(m.iter()).map(|(k, m)| k ^ m).collect();
    let iv_prime = aes_block(&masked, iv);
    let mut s = 0u128;
    for (j, chunk) in data.chunks_mut(16).enumerate() {
        s = aes_block(key, iv_prime ^ j as u128 ^ s);
        for (d, k) in chunk.iter_mut().zip(s.to_be_bytes()) {
            *d ^= k;
        }
    }
}

struct ReferenceKeys {
    enc: Vec<u8>,
    auth: Vec<u8>,
    salt: Vec<u8>,
}

fn reference_keys(spec: &SuiteSpec, master_key: &[u8], master_salt: &[u8]) -> ReferenceKeys {
    ReferenceKeys {
        enc: reference_kdf(master_key, master_salt, 0, spec.session_key_len as usize),
        auth: reference_kdf(master_key, master_salt, 1, 20),
        salt: reference_kdf(master_key, master_salt, 2, spec.session_salt_len as usize),
    }
}

fn reference_protect(
    spec: &SuiteSpec,
    keys: &ReferenceKeys,
    mki: &[u8],
    packet: &[u8],
    index: u64,
) -> Vec<u8> {
    let hl = rtp_header_len(packet);
    let ssrc = u32::from_be_bytes(packet[8..12].try_into().unwrap());
    let roc = (index >> 16) as u32;
    let seq = index as u16;
    let mut out = packet.to_vec();
    match spec.cipher {
        cipher::NULL => {}
        cipher::AES_CM_128 | cipher::AES_CM_192 | cipher::AES_CM_256 => {
            let mut salt = [0u8; 16];
            salt[..14].copy_from_slice(&keys.salt);
            let iv =
                u128::from_be_bytes(salt) ^ (u128::from(ssrc) << 64) ^ (u128::from(index) << 16);
            ctr_keystream(&keys.enc, iv.to_be_bytes(), &mut out[hl..]);
        }
        cipher::AES_F8 => {
            let mut ivb = [0u8; 16];
            ivb[1..12].copy_from_slice(&packet[1..12]);
            ivb[12..].copy_from_slice(&roc.to_be_bytes());
            reference_f8(
                &keys.enc,
                &keys.salt,
                u128::from_be_bytes(ivb),
                &mut out[hl..],
            );
        }
        cipher::AEAD_AES_GCM_128 | cipher::AEAD_AES_GCM_256 => {
            let mut nonce = vec![0u8, 0];
            nonce.extend_from_slice(&ssrc.to_be_bytes());
            nonce.extend_from_slice(&roc.to_be_bytes());
            nonce.extend_from_slice(&seq.to_be_bytes());
            for (n, s) in nonce.iter_mut().zip(&keys.salt) {
                *n ^= s;
            }
            let (aad, payload) = out.split_at_mut(hl);
            let nonce = aes_gcm::Nonce::from_slice(&nonce);
            let tag = if keys.enc.len() == 16 {
                aes_gcm::Aes128Gcm::new(keys.enc.as_slice().into())
                    .encrypt_in_place_detached(nonce, aad, payload)
            } else {
                aes_gcm::Aes256Gcm::new(keys.enc.as_slice().into())
                    .encrypt_in_place_detached(nonce, aad, payload)
            }
            .unwrap();
            out.extend_from_slice(&tag);
        }
        c => panic!("cipher {c}"),
    }
    let tag = if spec.hmac == hmac_id::HMAC_SHA1 && spec.tag_len > 0 {
        let mut h = <hmac::Hmac<sha1::Sha1> as Mac>::new_from_slice(&keys.auth).unwrap();
        h.update(&out);
        h.update(&roc.to_be_bytes());
        h.finalize().into_bytes()[..spec.tag_len as usize].to_vec()
    } else {
        vec![]
    };
    out.extend_from_slice(mki);
    out.extend_from_slice(&tag);
    out
}

/// Next packet index: mostly +1, sometimes a small gap, rarely a large one (still under
/// half a sequence cycle, so the receiver's estimate stays right).
fn advance(rng: &mut XorShift, index: u64) -> u64 {
    let r = rng.below(100);
    index
        + if r < 90 {
            1
        } else if r < 99 {
            1 + rng.below(20)
        } else {
            1 + rng.below(0x4000)
        }
}

fn run_suite(spec: &SuiteSpec, seed: u64, first_index: u64, seeded_last: u64, packets: usize) {
    let mut rng = XorShift::new(seed);
    let mut master_key = vec![0u8; spec.key_len as usize];
    let mut master_salt = vec![0u8; spec.salt_len as usize];
    let mut mki = vec![0u8; spec.mki_len as usize];
    rng.fill(&mut master_key);
    rng.fill(&mut master_salt);
    rng.fill(&mut mki);
    let ssrc = rng.next() as u32;
    let slot = rng.below(4) as usize;

    let mut p = params(spec, &master_key, &master_salt, &mki);
    p.last_index[slot] = seeded_last;
    let tx = SrtpContext::new(&RustCrypto, &p).unwrap();
    let rx = SrtpContext::new(&RustCrypto, &p).unwrap();
    let mut tx_state = IndexState::new(&p.last_index);
    let mut rx_state = IndexState::new(&p.last_index);
    let keys = reference_keys(spec, &master_key, &master_salt);

    let mut index = first_index;
    let mut rocs_seen = std::collections::BTreeSet::new();
    for n in 0..packets {
        let plain = random_rtp(&mut rng, index as u16, ssrc, 200);
        let want = reference_protect(spec, &keys, &mki, &plain, index);

        let mut buf = plain.clone();
        buf.resize(plain.len() + tx.overhead() + rng.below(3) as usize, 0xee);
        let enc = tx
            .encrypt_rtp(&mut tx_state, slot, &mut buf, plain.len())
            .unwrap();
        assert_eq!(enc.index, index, "{} packet {n}: index", spec.name);
        assert_eq!(
            &buf[..enc.len],
            &want[..],
            "{} packet {n}: ciphertext",
            spec.name
        );

        let dec = rx
            .decrypt_rtp(&mut rx_state, slot, &mut buf, enc.len)
            .unwrap();
        assert_eq!(dec.index, index, "{} packet {n}: decrypt index", spec.name);
        assert_eq!(
            &buf[..dec.len],
            &plain[..],
            "{} packet {n}: plaintext",
            spec.name
        );
        assert!(!dec.roc_resynced);

        rocs_seen.insert(index >> 16);
        index = advance(&mut rng, index);
    }
    assert_eq!(rx_state.last(slot), tx_state.last(slot));
    assert!(
        rocs_seen.len() >= 2,
        "{}: the run must cross a sequence wrap",
        spec.name
    );
}

#[test]
fn every_suite_matches_the_reference_from_a_fresh_start() {
    for (i, spec) in SUITES.iter().enumerate() {
        run_suite(spec, 0x5eed_0000 + i as u64, 0xfc00, 0, PACKETS_PER_SUITE);
    }
}

#[test]
fn every_suite_matches_the_reference_from_a_seeded_high_roc() {
    for (i, spec) in SUITES.iter().enumerate() {
        run_suite(
            spec,
            0xabcd_0000 + i as u64,
            0x1234_fff1,
            0x1234_fff0,
            1_000,
        );
    }
}

/// SRTCP reference (RFC 3711 §3.4, §4.1.2.3; RFC 7714 §9) from the same primitives.
fn reference_protect_rtcp(
    spec: &SuiteSpec,
    keys: &ReferenceKeys,
    mki: &[u8],
    packet: &[u8],
    index: u32,
) -> Vec<u8> {
    let ssrc = u32::from_be_bytes(packet[4..8].try_into().unwrap());
    let encrypted = spec.cipher != cipher::NULL;
    let word = (u32::from(encrypted) << 31 | index).to_be_bytes();
    let mut out = packet.to_vec();
    match spec.cipher {
        cipher::NULL => {}
        cipher::AES_CM_128 | cipher::AES_CM_192 | cipher::AES_CM_256 => {
            let mut salt = [0u8; 16];
            salt[..14].copy_from_slice(&keys.salt);
            let iv =
                u128::from_be_bytes(salt) ^ (u128::from(ssrc) << 64) ^ (u128::from(index) << 16);
            ctr_keystream(&keys.enc, iv.to_be_bytes(), &mut out[8..]);
        }
        cipher::AES_F8 => {
            let mut ivb = [0u8; 16];
            ivb[4..8].copy_from_slice(&word);
            ivb[8..].copy_from_slice(&packet[..8]);
            reference_f8(
                &keys.enc,
                &keys.salt,
                u128::from_be_bytes(ivb),
                &mut out[8..],
            );
        }
        _ => {
            let mut nonce = [0u8; 12];
            nonce[2..6].copy_from_slice(&ssrc.to_be_bytes());
            nonce[8..].copy_from_slice(&index.to_be_bytes());
            for (n, s) in nonce.iter_mut().zip(&keys.salt) {
                *n ^= s;
            }
            let mut aad = packet[..8].to_vec();
            aad.extend_from_slice(&word);
            let nonce = aes_gcm::Nonce::from_slice(&nonce);
            let tag = if keys.enc.len() == 16 {
                aes_gcm::Aes128Gcm::new(keys.enc.as_slice().into()).encrypt_in_place_detached(
                    nonce,
                    &aad,
                    &mut out[8..],
                )
            } else {
                aes_gcm::Aes256Gcm::new(keys.enc.as_slice().into()).encrypt_in_place_detached(
                    nonce,
                    &aad,
                    &mut out[8..],
                )
            }
            .unwrap();
            out.extend_from_slice(&tag);
        }
    }
    out.extend_from_slice(&word);
    let tag = if spec.hmac == hmac_id::HMAC_SHA1 {
        let mut h = <hmac::Hmac<sha1::Sha1> as Mac>::new_from_slice(&keys.auth).unwrap();
        h.update(&out);
        h.finalize().into_bytes()[..10].to_vec()
    } else {
        vec![]
    };
    out.extend_from_slice(mki);
    out.extend_from_slice(&tag);
    out
}

#[test]
fn every_suite_matches_the_srtcp_reference() {
    for (i, spec) in SUITES.iter().enumerate() {
        let mut rng = XorShift::new(0x7c9 + i as u64);
        let mut master_key = vec![0u8; spec.key_len as usize];
        let mut master_salt = vec![0u8; spec.salt_len as usize];
        let mut mki = vec![0u8; spec.mki_len as usize];
        rng.fill(&mut master_key);
        rng.fill(&mut master_salt);
        rng.fill(&mut mki);
        let p = params(spec, &master_key, &master_salt, &mki);
        let ctx = SrtpContext::new_rtcp(&RustCrypto, &p).unwrap();
        // SRTCP keys use labels 3, 4, 5.
        let keys = ReferenceKeys {
            enc: reference_kdf(&master_key, &master_salt, 3, spec.session_key_len as usize),
            auth: reference_kdf(&master_key, &master_salt, 4, 20),
            salt: reference_kdf(&master_key, &master_salt, 5, spec.session_salt_len as usize),
        };
        let mut replay = rtpengine_core::srtp::SrtcpReplay::default();
        let mut index = rng.below(1 << 31) as u32;
        for n in 0..1_000 {
            let mut plain = vec![0x80 | rng.below(32) as u8, 200 + rng.below(5) as u8, 0, 0];
            plain.extend_from_slice(&(rng.next() as u32).to_be_bytes());
            let extra = rng.below(200) as usize;
            plain.extend((0..extra).map(|_| rng.next() as u8));
            let want = reference_protect_rtcp(spec, &keys, &mki, &plain, index);
            let mut buf = plain.clone();
            buf.resize(plain.len() + ctx.rtcp_overhead(), 0);
            let len = ctx.encrypt_rtcp(index, &mut buf, plain.len()).unwrap();
            assert_eq!(&buf[..len], &want[..], "{} SRTCP packet {n}", spec.name);
            let d = ctx.decrypt_rtcp(&mut replay, &mut buf, len).unwrap();
            assert_eq!(&buf[..d.len], &plain[..], "{} SRTCP packet {n}", spec.name);
            index = (index + 1 + rng.below(3) as u32) & 0x7fff_ffff;
        }
    }
}
