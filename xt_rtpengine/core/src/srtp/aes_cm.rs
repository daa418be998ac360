//! AES counter mode (RFC 3711 §4.1.1) for SRTP payloads and the key derivation PRF.

use super::primitives::{AesBlockEncrypt, CryptoError};

/// XORs `data` with the AES-CM keystream starting at counter block `iv`. The counter is
/// the whole 128-bit block, big-endian (as 10.5 and `ctr::Ctr128BE`); SRTP packets never
/// come close to carrying into the salt bits. The back end's
/// [`AesBlockEncrypt::apply_ctr`] does the work (and alone can fail).
pub fn apply_keystream<A: AesBlockEncrypt + ?Sized>(
    aes: &A,
    iv: &[u8; 16],
    data: &mut [u8],
) -> Result<(), CryptoError> {
    aes.apply_ctr(iv, data)
}

/// [`apply_keystream`] one block at a time: the default of
/// [`AesBlockEncrypt::apply_ctr`], and the fallback of back ends that override it.
pub fn ctr_by_blocks<A: AesBlockEncrypt + ?Sized>(aes: &A, iv: &[u8; 16], data: &mut [u8]) {
    let mut counter = *iv;
    for chunk in data.chunks_mut(16) {
        let mut key_block = counter;
        aes.encrypt_block(&mut key_block);
        xor_block(chunk, &key_block);
        increment_be(&mut counter);
    }
}

/// SRTP AES-CM IV: `(k_s * 2^16) XOR (SSRC * 2^64) XOR (i * 2^16)`, i.e. the 14-byte
/// session salt, SSRC over bytes 4..8, the 48-bit packet index over bytes 8..14.
pub fn srtp_iv(session_salt: &[u8; 14], ssrc: [u8; 4], index: u64) -> [u8; 16] {
    let mut iv = [0u8; 16];
    for (d, s) in iv.iter_mut().zip(session_salt.iter()) {
        *d = *s;
    }
    for (d, s) in iv[4..8].iter_mut().zip(ssrc.iter()) {
        *d ^= *s;
    }
    let shifted = (index & 0xffff_ffff_ffff) << 16;
    for (d, s) in iv[8..16].iter_mut().zip(shifted.to_be_bytes().iter()) {
        *d ^= *s;
    }
    iv
}

/// `chunk ^= key[..chunk.len()]`, two 64-bit words at a time for whole blocks (the
/// kernel has no SIMD, so a byte loop would stay a byte loop).
pub(super) fn xor_block(chunk: &mut [u8], key: &[u8; 16]) {
    if let Ok(block) = <&mut [u8; 16]>::try_from(&mut *chunk) {
        let (d0, d1) = block.split_at_mut(8);
        let (k0, k1) = key.split_at(8);
        for (d, k) in [(d0, k0), (d1, k1)] {
            let mut w = [0u8; 8];
            w.copy_from_slice(d);
            let mut kw = [0u8; 8];
            kw.copy_from_slice(k);
            d.copy_from_slice(&(u64::from_ne_bytes(w) ^ u64::from_ne_bytes(kw)).to_ne_bytes());
        }
        return;
    }
    for (d, k) in chunk.iter_mut().zip(key.iter()) {
        *d ^= *k;
    }
}

fn increment_be(counter: &mut [u8; 16]) {
    for byte in counter.iter_mut().rev() {
        *byte = byte.wrapping_add(1);
        if *byte != 0 {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xor_block_whole_and_partial() {
        let key: [u8; 16] = core::array::from_fn(|i| (i as u8).wrapping_mul(37));
        for len in [16usize, 15, 1, 0] {
            let mut data: std::vec::Vec<u8> = (0..len).map(|i| i as u8 ^ 0xa5).collect();
            let expected: std::vec::Vec<u8> =
                data.iter().zip(key.iter()).map(|(d, k)| d ^ k).collect();
            xor_block(&mut data, &key);
            assert_eq!(data, expected, "length {len}");
        }
    }

    #[test]
    fn counter_carries_across_bytes() {
        let mut c = [0u8; 16];
        c[14] = 0x00;
        c[15] = 0xff;
        increment_be(&mut c);
        assert_eq!(&c[14..], &[1, 0]);
        let mut all = [0xffu8; 16];
        increment_be(&mut all);
        assert_eq!(all, [0; 16]);
    }

    #[test]
    fn iv_layout() {
        let salt: [u8; 14] = core::array::from_fn(|i| i as u8 + 1);
        let iv = srtp_iv(&salt, [0xca, 0xfe, 0xba, 0xbe], 0x0000_0001_1234);
        assert_eq!(&iv[..4], &salt[..4]);
        assert_eq!(iv[4], 5 ^ 0xca);
        assert_eq!(iv[7], 8 ^ 0xbe);
        assert_eq!(&iv[8..14], &[9, 10, 11, 12 ^ 1, 13 ^ 0x12, 14 ^ 0x34]);
        assert_eq!(&iv[14..], &[0, 0]);
    }
}
