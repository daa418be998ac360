//! AES in f8 mode (RFC 3711 §4.1.2) for SRTP payloads.

use super::primitives::AesBlockEncrypt;

/// Key for the IV encryption, `k_e XOR m` with `m = k_s || 0x55 0x55 ...` up to the
/// length of `session_key` (§4.1.2.1). Written into `out`, which must be as long as
/// `session_key`; returns `None` (and writes nothing) otherwise or when the salt is
/// longer than the key.
pub fn iv_key(session_key: &[u8], session_salt: &[u8], out: &mut [u8]) -> Option<()> {
    if out.len() != session_key.len() || session_salt.len() > session_key.len() {
        return None;
    }
    let mask = session_salt.iter().copied().chain(core::iter::repeat(0x55));
    for ((o, k), m) in out.iter_mut().zip(session_key).zip(mask) {
        *o = k ^ m;
    }
    Some(())
}

/// SRTP f8 IV (§4.1.2.2): `0x00 || M PT || SEQ || TS || SSRC || ROC`, i.e. a zero byte,
/// bytes 1..12 of the RTP header, then the rollover counter.
pub fn srtp_iv(rtp_fixed_header: &[u8; 12], roc: u32) -> [u8; 16] {
    let mut iv = [0u8; 16];
    for (d, s) in iv[1..12].iter_mut().zip(rtp_fixed_header[1..].iter()) {
        *d = *s;
    }
    for (d, s) in iv[12..].iter_mut().zip(roc.to_be_bytes().iter()) {
        *d = *s;
    }
    iv
}

/// XORs `data` with the f8 keystream: `IV' = E(k_e XOR m, IV)`,
/// `S(j) = E(k_e, IV' XOR j XOR S(j-1))`, `S(-1) = 0`.
pub fn apply_keystream<A: AesBlockEncrypt + ?Sized, B: AesBlockEncrypt + ?Sized>(
    data_aes: &A,
    iv_aes: &B,
    iv: &[u8; 16],
    data: &mut [u8],
) {
    let mut iv_prime = *iv;
    iv_aes.encrypt_block(&mut iv_prime);
    let mut previous = [0u8; 16];
    let mut j: u32 = 0;
    for chunk in data.chunks_mut(16) {
        let mut block = iv_prime;
        for (b, p) in block.iter_mut().zip(previous.iter()) {
            *b ^= *p;
        }
        for (b, c) in block[12..].iter_mut().zip(j.to_be_bytes().iter()) {
            *b ^= *c;
        }
        data_aes.encrypt_block(&mut block);
        for (d, k) in chunk.iter_mut().zip(block.iter()) {
            *d ^= *k;
        }
        previous = block;
        j = j.wrapping_add(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iv_key_masks_with_salt_then_0x55() {
        let key = [0u8; 16];
        let mut out = [0u8; 16];
        iv_key(&key, &[0x32, 0xf2, 0x87, 0x0d], &mut out).unwrap();
        assert_eq!(&out[..4], &[0x32, 0xf2, 0x87, 0x0d]);
        assert!(out[4..].iter().all(|&b| b == 0x55));
        assert!(iv_key(&key, &[0; 17], &mut [0u8; 16]).is_none());
        assert!(iv_key(&key, &[0; 14], &mut [0u8; 15]).is_none());
    }

    #[test]
    fn iv_of_the_rfc_example() {
        let header = [
            0x80, 0x6e, 0x5c, 0xba, 0x50, 0x68, 0x1d, 0xe5, 0x5c, 0x62, 0x15, 0x99,
        ];
        let iv = srtp_iv(&header, 0xd462564a);
        let want = [
            0x00, 0x6e, 0x5c, 0xba, 0x50, 0x68, 0x1d, 0xe5, 0x5c, 0x62, 0x15, 0x99, 0xd4, 0x62,
            0x56, 0x4a,
        ];
        assert_eq!(iv, want);
    }
}
