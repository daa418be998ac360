//! MESSAGE-INTEGRITY (HMAC-SHA1 under the short-term password, RFC 8489
//! section 14.5) and FINGERPRINT (CRC-32 xor "STUN", section 14.7).

use hmac::{Hmac, Mac};
use sha1::Sha1;

use super::{FINGERPRINT_XOR, HEADER_LEN, INTEGRITY_LEN};

type HmacSha1 = Hmac<Sha1>;

/// FINGERPRINT's value over `covered` (the message up to the attribute, with
/// the header's length already counting the attribute).
pub fn fingerprint(covered: &[u8]) -> u32 {
    crc32fast::hash(covered) ^ FINGERPRINT_XOR
}

/// Whether the FINGERPRINT attribute at byte `at` of `msg` (its TLV header)
/// carries `value`. The message is taken as received, as 10.5 does.
pub fn fingerprint_matches(msg: &[u8], at: usize, value: u32) -> bool {
    msg.get(..at).is_some_and(|m| fingerprint(m) == value)
}

/// The HMAC over `msg[..at]` (the message up to a MESSAGE-INTEGRITY attribute
/// at byte `at`) with the header's length set as if that attribute ended the
/// message. `None` if `at` is not past the header.
pub(super) fn digest(msg: &[u8], at: usize, key: &[u8]) -> Option<HmacSha1> {
    let covered = msg.get(..at).filter(|m| m.len() >= HEADER_LEN)?;
    let length = u16::try_from(at - HEADER_LEN + 4 + INTEGRITY_LEN).ok()?;
    // Any key length is valid for HMAC.
    let mut mac = HmacSha1::new_from_slice(key).ok()?;
    mac.update(&covered[..2]);
    mac.update(&length.to_be_bytes());
    mac.update(&covered[4..]);
    Some(mac)
}

/// Whether the MESSAGE-INTEGRITY attribute at byte `at` of `msg` (its TLV
/// header) holds `value` under `key` (compared in constant time).
pub fn integrity_matches(msg: &[u8], at: usize, value: &[u8], key: &[u8]) -> bool {
    digest(msg, at, key).is_some_and(|mac| mac.verify_slice(value).is_ok())
}
