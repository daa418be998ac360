//! Helpers shared by the SRTP integration tests.
#![allow(dead_code)]

use rtpengine_core::abi::{cipher, hmac, Pod, Srtp};

pub fn hex(s: &str) -> Vec<u8> {
    let digits: Vec<u8> = s.bytes().filter(|b| b.is_ascii_hexdigit()).collect();
    assert!(digits.len() & 1 == 0, "odd hex string");
    digits
        .chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap(), 16).unwrap())
        .collect()
}

/// Deterministic xorshift64* generator.
pub struct XorShift(u64);

impl XorShift {
    pub fn new(seed: u64) -> Self {
        XorShift(seed.max(1))
    }
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    pub fn fill(&mut self, buf: &mut [u8]) {
        for b in buf {
            *b = self.next() as u8;
        }
    }
}

/// One SDES suite as the 10.5 daemon would send it.
#[derive(Clone, Copy, Debug)]
pub struct SuiteSpec {
    pub name: &'static str,
    pub cipher: u32,
    pub hmac: u32,
    pub key_len: u32,
    pub salt_len: u32,
    pub session_key_len: u32,
    pub session_salt_len: u32,
    pub tag_len: u32,
    pub mki_len: u32,
}

pub const SUITES: &[SuiteSpec] = &[
    SuiteSpec {
        name: "AES_CM_128_HMAC_SHA1_80",
        cipher: cipher::AES_CM_128,
        hmac: hmac::HMAC_SHA1,
        key_len: 16,
        salt_len: 14,
        session_key_len: 16,
        session_salt_len: 14,
        tag_len: 10,
        mki_len: 0,
    },
    SuiteSpec {
        name: "AES_CM_128_HMAC_SHA1_32",
        cipher: cipher::AES_CM_128,
        hmac: hmac::HMAC_SHA1,
        key_len: 16,
        salt_len: 14,
        session_key_len: 16,
        session_salt_len: 14,
        tag_len: 4,
        mki_len: 0,
    },
    SuiteSpec {
        name: "AES_192_CM_HMAC_SHA1_80",
        cipher: cipher::AES_CM_192,
        hmac: hmac::HMAC_SHA1,
        key_len: 24,
        salt_len: 14,
        session_key_len: 24,
        session_salt_len: 14,
        tag_len: 10,
        mki_len: 0,
    },
    SuiteSpec {
        name: "AES_256_CM_HMAC_SHA1_32",
        cipher: cipher::AES_CM_256,
        hmac: hmac::HMAC_SHA1,
        key_len: 32,
        salt_len: 14,
        session_key_len: 32,
        session_salt_len: 14,
        tag_len: 4,
        mki_len: 0,
    },
    SuiteSpec {
        name: "AES_256_CM_HMAC_SHA1_80+MKI4",
        cipher: cipher::AES_CM_256,
        hmac: hmac::HMAC_SHA1,
        key_len: 32,
        salt_len: 14,
        session_key_len: 32,
        session_salt_len: 14,
        tag_len: 10,
        mki_len: 4,
    },
    SuiteSpec {
        name: "F8_128_HMAC_SHA1_80",
        cipher: cipher::AES_F8,
        hmac: hmac::HMAC_SHA1,
        key_len: 16,
        salt_len: 14,
        session_key_len: 16,
        session_salt_len: 14,
        tag_len: 10,
        mki_len: 0,
    },
    SuiteSpec {
        name: "NULL_HMAC_SHA1_80",
        cipher: cipher::NULL,
        hmac: hmac::HMAC_SHA1,
        key_len: 16,
        salt_len: 14,
        session_key_len: 0,
        session_salt_len: 0,
        tag_len: 10,
        mki_len: 0,
    },
    SuiteSpec {
        name: "AES_CM_128 unauthenticated",
        cipher: cipher::AES_CM_128,
        hmac: hmac::HMAC_SHA1,
        key_len: 16,
        salt_len: 14,
        session_key_len: 16,
        session_salt_len: 14,
        tag_len: 0,
        mki_len: 0,
    },
    SuiteSpec {
        name: "AEAD_AES_128_GCM",
        cipher: cipher::AEAD_AES_GCM_128,
        hmac: hmac::NULL,
        key_len: 16,
        salt_len: 12,
        session_key_len: 16,
        session_salt_len: 12,
        tag_len: 0,
        mki_len: 0,
    },
    SuiteSpec {
        name: "AEAD_AES_256_GCM+MKI2",
        cipher: cipher::AEAD_AES_GCM_256,
        hmac: hmac::NULL,
        key_len: 32,
        salt_len: 12,
        session_key_len: 32,
        session_salt_len: 12,
        tag_len: 0,
        mki_len: 2,
    },
];

pub fn params(spec: &SuiteSpec, master_key: &[u8], master_salt: &[u8], mki: &[u8]) -> Srtp {
    let mut s = Srtp::zeroed();
    s.cipher = spec.cipher;
    s.hmac = spec.hmac;
    s.master_key[..master_key.len()].copy_from_slice(master_key);
    s.master_key_len = master_key.len() as u32;
    s.master_salt[..master_salt.len()].copy_from_slice(master_salt);
    s.master_salt_len = master_salt.len() as u32;
    s.session_key_len = spec.session_key_len;
    s.session_salt_len = spec.session_salt_len;
    s.auth_tag_len = spec.tag_len;
    s.mki[..mki.len()].copy_from_slice(mki);
    s.mki_len = mki.len() as u32;
    s
}

/// A random RTP packet: random CSRC count, optional extension, random payload.
pub fn random_rtp(rng: &mut XorShift, seq: u16, ssrc: u32, max_payload: usize) -> Vec<u8> {
    let cc = rng.below(4) as usize;
    let ext = rng.below(3) == 0;
    let mut p = vec![0u8; 12];
    p[0] = 0x80 | if ext { 0x10 } else { 0 } | cc as u8;
    p[1] = (rng.below(128) as u8) | if rng.below(8) == 0 { 0x80 } else { 0 };
    p[2..4].copy_from_slice(&seq.to_be_bytes());
    p[4..8].copy_from_slice(&(rng.next() as u32).to_be_bytes());
    p[8..12].copy_from_slice(&ssrc.to_be_bytes());
    for _ in 0..cc {
        p.extend_from_slice(&(rng.next() as u32).to_be_bytes());
    }
    if ext {
        let words = rng.below(3) as u16;
        p.extend_from_slice(&0xbedeu16.to_be_bytes());
        p.extend_from_slice(&words.to_be_bytes());
        for _ in 0..words {
            p.extend_from_slice(&(rng.next() as u32).to_be_bytes());
        }
    }
    let n = rng.below(max_payload as u64 + 1) as usize;
    let start = p.len();
    p.resize(start + n, 0);
    rng.fill(&mut p[start..]);
    p
}

/// Header length of a packet built by `random_rtp` (or any valid RTP packet).
pub fn rtp_header_len(p: &[u8]) -> usize {
    let mut n = 12 + 4 * (p[0] & 0x0f) as usize;
    if p[0] & 0x10 != 0 {
        n += 4 + 4 * u16::from_be_bytes([p[n + 2], p[n + 3]]) as usize;
    }
    n
}
