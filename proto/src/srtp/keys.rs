//! Fresh master key||salt material from the embedder's random number generator.

use rand_core::CryptoRng;

/// `len` bytes from `rng`.
pub fn random_key_salt(rng: &mut dyn CryptoRng, len: usize) -> Vec<u8> {
    let mut key = vec![0u8; len];
    rng.fill_bytes(&mut key);
    key
}
