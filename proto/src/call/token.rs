//! Random tokens (ICE ufrag/pwd, candidate foundations, the loop-protect mark)
//! from the embedder's random number generator.

use rand_core::CryptoRng;

const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/// The largest multiple of the alphabet's size that fits a byte: bytes from it
/// up are drawn again, so every character is equally likely.
const UNBIASED_BELOW: u8 = (256 / ALPHABET.len() * ALPHABET.len()) as u8;

/// `len` letters and digits drawn from `rng`.
pub fn random_token(rng: &mut dyn CryptoRng, len: usize) -> String {
    let mut out = String::with_capacity(len);
    let mut bytes = [0u8; 32];
    while out.len() < len {
        rng.fill_bytes(&mut bytes);
        for &b in bytes.iter().filter(|&&b| b < UNBIASED_BELOW) {
            if out.len() == len {
                break;
            }
            out.push(char::from(ALPHABET[usize::from(b) % ALPHABET.len()]));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    use super::*;

    #[test]
    fn tokens_differ_and_have_length() {
        let mut rng = StdRng::seed_from_u64(1);
        let a = random_token(&mut rng, 16);
        let b = random_token(&mut rng, 16);
        assert_eq!(a.len(), 16);
        assert_ne!(a, b);
        assert!(a.bytes().all(|c| c.is_ascii_alphanumeric()));
        assert_eq!(random_token(&mut rng, 0), "");
        assert_eq!(random_token(&mut rng, 100).len(), 100);
    }

    #[test]
    fn the_rng_decides_the_token() {
        let draw = |seed| random_token(&mut StdRng::seed_from_u64(seed), 26);
        assert_eq!(draw(7), draw(7));
        assert_ne!(draw(7), draw(8));
    }
}
