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
pub fn derive<A: AesBlockEncrypt + ?Sized>(master: &A, master_salt: &[u8], label: u8, out: &mut [u8]) -> Option<()> {
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
    aes_cm::apply_keystream(master, &iv, out);
    Some(())
}
