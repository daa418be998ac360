//! Random tokens (ICE ufrag/pwd, candidate foundations) without an RNG dependency:
//! std's per-process random SipHash keys mixed with a counter.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};

const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

pub fn random_token(len: usize) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let state = RandomState::new();
    let mut out = String::with_capacity(len);
    while out.len() < len {
        let mut h = state.build_hasher();
        h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
        let mut v = h.finish();
        for _ in 0..8 {
            if out.len() == len {
                break;
            }
            out.push(char::from(ALPHABET[(v % ALPHABET.len() as u64) as usize]));
            v /= ALPHABET.len() as u64;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn tokens_differ_and_have_length() {
        let a = super::random_token(16);
        let b = super::random_token(16);
        assert_eq!(a.len(), 16);
        assert_ne!(a, b);
        assert!(a.bytes().all(|c| c.is_ascii_alphanumeric()));
    }
}
