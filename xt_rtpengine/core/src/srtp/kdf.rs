//! SRTP key derivation (RFC 3711 §4.3) with the AES-CM PRF and key derivation rate 0,
//! as 10.5 does it: a 12-byte (AEAD, RFC 7714) master salt is zero-padded to 14 bytes.

use super::aes_cm;
use super::primitives::AesBlockEncrypt;

/// Labels of §4.3.1 / §4.3.2.
pub mod label {
    pub const RTP_ENCRYPTION: u8 = 0;
    pub const RTP_AUTH: u8 = 1;
    pub const RTP_SALT: u8 = 2;
    pub const RTCP_ENCRYPTION: u8 = 3;
    pub const RTCP_AUTH: u8 = 4;
    pub const RTCP_SALT: u8 = 5;
}

/// Master salts accepted: 14 bytes (RFC 3711) or 12 bytes (RFC 7714 AEAD).
pub fn master_salt_len_ok(len: usize) -> bool {
    len == 14 || len == 12
}

/// Fills `out` with the session key for `label`: the AES-CM keystream under the master key
/// (`master`) from IV `(master_salt XOR (label << 48)) * 2^16`. Returns `None` for a
/// master salt that is neither 12 nor 14 bytes.
pub fn derive<A: AesBlockEncrypt + ?Sized>(
    master: &A,
    master_salt: &[u8],
    label: u8,
    out: &mut [u8],
) -> Option<()> {
    if !master_salt_len_ok(master_salt.len()) {
        return None;
    }
    let mut iv = [0u8; 16];
    for (d, s) in iv.iter_mut().zip(master_salt) {
        *d = *s;
    }
    // key_id = label || (index DIV kdr), seven bytes XORed into the salt's last seven;
    // with kdr = 0 only the label byte is non-zero.
    iv[7] ^= label;
    out.fill(0);
    aes_cm::apply_keystream(master, &iv, out).ok()
}

#[cfg(test)]
mod tests {
    use super::super::primitives::CryptoBackend;
    use super::super::rustcrypto::RustCrypto;
    use super::*;

    const MASTER_KEY: [u8; 16] = [
        0xe1, 0xf9, 0x7a, 0x0d, 0x3e, 0x01, 0x8b, 0xe0, 0xd6, 0x4f, 0xa3, 0x2c, 0x06, 0xde, 0x41,
        0x39,
    ];
    const MASTER_SALT: [u8; 14] = [
        0x0e, 0xc6, 0x75, 0xad, 0x49, 0x8a, 0xfe, 0xeb, 0xb6, 0x96, 0x0b, 0x3a, 0xab, 0xe6,
    ];

    #[test]
    fn rfc3711_b3_cipher_key() {
        let aes = RustCrypto.aes(&MASTER_KEY).unwrap();
        let mut key = [0u8; 16];
        derive(&aes, &MASTER_SALT, label::RTP_ENCRYPTION, &mut key).unwrap();
        assert_eq!(
            key,
            [
                0xc6, 0x1e, 0x7a, 0x93, 0x74, 0x4f, 0x39, 0xee, 0x10, 0x73, 0x4a, 0xfe, 0x3f, 0xf7,
                0xa0, 0x87
            ]
        );
    }

    #[test]
    fn labels_give_different_keys_and_short_salt_is_zero_padded() {
        let aes = RustCrypto.aes(&MASTER_KEY).unwrap();
        let mut outs = [[0u8; 16]; 6];
        for (l, out) in outs.iter_mut().enumerate() {
            derive(&aes, &MASTER_SALT, l as u8, out).unwrap();
        }
        for i in 0..6 {
            for j in i + 1..6 {
                assert_ne!(outs[i], outs[j], "labels {i} and {j}");
            }
        }
        // A 12-byte salt derives as the same salt with two zero bytes appended.
        let mut padded = MASTER_SALT;
        padded[12] = 0;
        padded[13] = 0;
        let (mut a, mut b) = ([0u8; 12], [0u8; 12]);
        derive(&aes, &MASTER_SALT[..12], label::RTP_SALT, &mut a).unwrap();
        derive(&aes, &padded, label::RTP_SALT, &mut b).unwrap();
        assert_eq!(a, b);
        assert!(derive(&aes, &MASTER_SALT[..13], 0, &mut a).is_none());
        assert!(derive(&aes, &[], 0, &mut a).is_none());
    }
}
