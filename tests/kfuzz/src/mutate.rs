//! Mutations of a serialized control message: field values at the offsets that matter,
//! bit flips, command confusion, family/port changes, random bytes, and lengths below,
//! at and above the limits.

use crate::oracle::MAX_CONTROL_LEN;
use crate::rng::Rng;
use rtpengine_core::abi::MESSAGE_SIZE;

/// Byte offsets (in the message) of the 32-bit fields that the module interprets.
/// Message = cmd (4) + pad (4) + payload; payload offsets from the ABI description.
const U32_FIELDS: &[usize] = &[
    0,    // cmd
    8,    // target.local.family / destination.local.family / stats.local.family / noop.size
    16,   // noop.last_cmd
    32,   // target.expected_src.family / destination.num
    40,   // destination.output.src_addr.family
    56,   // target.src_mismatch
    60,   // target.num_destinations
    64,   // target.intercept_stream_idx / destination.output.dst_addr.family
    72,   // target.decrypt.cipher
    76,   // target.decrypt.hmac
    88,   // destination.output.encrypt.cipher
    92,   // destination.output.encrypt.hmac
    112,  // target.decrypt.master_key_len
    124,  // target.decrypt.master_salt_len
    128,  // target.decrypt.session_key_len
    132,  // target.decrypt.session_salt_len
    432,  // target.decrypt.auth_tag_len
    436,  // target.decrypt.mki_len
    448,  // destination.output.encrypt.auth_tag_len
    452,  // destination.output.encrypt.mki_len
    1224, // target.num_payload_types
    1228, // target.flags
];
/// 16-bit ports: target.local, destination.output.src_addr, destination.output.dst_addr.
const PORT_FIELDS: &[usize] = &[28, 60, 84];
/// Byte fields: output tos/flags, first payload type's pt and replace_pattern_len.
const U8_FIELDS: &[usize] = &[472, 473, 456, 457];
const INTERESTING: &[u32] = &[
    0,
    1,
    2,
    3,
    4,
    5,
    6,
    7,
    8,
    9,
    10,
    11,
    12,
    13,
    14,
    16,
    17,
    20,
    21,
    24,
    31,
    32,
    33,
    64,
    255,
    256,
    257,
    0x400,
    0x7ff,
    0xffff,
    0x7fff_ffff,
    0x8000_0000,
    0xffff_fffe,
    0xffff_ffff,
];

/// Lengths around the limits.
pub fn odd_length(rng: &mut Rng) -> usize {
    match rng.below(8) {
        0 => 0,
        1 => rng.below(MESSAGE_SIZE as u64) as usize,
        2 => MESSAGE_SIZE - 1,
        3 => MESSAGE_SIZE + 1 + rng.below(2000) as usize,
        4 => MAX_CONTROL_LEN,
        5 => MAX_CONTROL_LEN + 1,
        6 => MAX_CONTROL_LEN + 1 + rng.below(1 << 20) as usize,
        _ => MESSAGE_SIZE + rng.below(65536) as usize,
    }
}

/// Applies 1..=3 mutations to `msg` (which is at least a message long); may change `len`.
pub fn mutate(rng: &mut Rng, msg: &mut [u8], len: &mut usize) -> Vec<&'static str> {
    let mut done = Vec::new();
    for _ in 0..rng.range(1, 3) {
        let what = rng.weighted(&[30, 15, 10, 10, 8, 8, 6, 8, 5]);
        done.push(match what {
            0 => {
                let off = *rng.pick(U32_FIELDS);
                let v = *rng.pick(INTERESTING);
                msg[off..off + 4].copy_from_slice(&v.to_ne_bytes());
                "field"
            }
            1 => {
                for _ in 0..rng.range(1, 8) {
                    let bit = rng.below(MESSAGE_SIZE as u64 * 8) as usize;
                    msg[bit / 8] ^= 1 << (bit % 8);
                }
                "bitflip"
            }
            2 => {
                let off = rng.below(MESSAGE_SIZE as u64) as usize;
                msg[off] = rng.next() as u8;
                "byte"
            }
            3 => {
                let c: u32 = if rng.chance(800) {
                    rng.below(14) as u32
                } else {
                    *rng.pick(INTERESTING)
                };
                msg[..4].copy_from_slice(&c.to_ne_bytes());
                "cmd"
            }
            4 => {
                let off = *rng.pick(PORT_FIELDS);
                let any = rng.u32() as u16;
                let v: u16 = *rng.pick(&[0u16, 1, 0xffff, any]);
                msg[off..off + 2].copy_from_slice(&v.to_ne_bytes());
                "port"
            }
            5 => {
                // Family of one of the addresses: swapped, invalid, or AF_UNSPEC.
                let off = *rng.pick(&[8usize, 32, 40, 64]);
                let v: i32 = *rng.pick(&[0, 1, 2, 10, 3, -1, 0x7fff_ffff, 17]);
                msg[off..off + 4].copy_from_slice(&v.to_ne_bytes());
                "family"
            }
            6 => {
                let off = *rng.pick(U8_FIELDS);
                msg[off] = rng.next() as u8;
                "u8"
            }
            7 => {
                *len = odd_length(rng);
                "length"
            }
            _ => {
                let keep_cmd = [msg[0], msg[1], msg[2], msg[3]];
                rng.fill(&mut msg[..MESSAGE_SIZE]);
                if rng.chance(700) {
                    msg[..4].copy_from_slice(&keep_cmd);
                }
                "random"
            }
        });
    }
    done
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_are_inside_a_message() {
        assert!(U32_FIELDS.iter().all(|&o| o + 4 <= MESSAGE_SIZE));
        assert!(PORT_FIELDS.iter().all(|&o| o + 2 <= MESSAGE_SIZE));
        assert!(U8_FIELDS.iter().all(|&o| o < MESSAGE_SIZE));
    }

    #[test]
    fn offsets_match_the_abi() {
        use rtpengine_core::abi::{Message, Pod, TargetInfo};
        let mut t = TargetInfo::zeroed();
        t.num_destinations = 0xabcd;
        t.flags = 0x1234;
        t.decrypt.mki_len = 0x77;
        let m = Message::add_target(&t);
        let b = m.as_bytes();
        let at = |o: usize| u32::from_ne_bytes(b[o..o + 4].try_into().unwrap());
        assert_eq!(at(60), 0xabcd);
        assert_eq!(at(1228), 0x1234);
        assert_eq!(at(436), 0x77);
    }

    #[test]
    fn mutation_is_deterministic() {
        let run = |seed| {
            let mut r = Rng::new(seed);
            let mut m = vec![0u8; MESSAGE_SIZE];
            let mut len = MESSAGE_SIZE;
            for _ in 0..50 {
                mutate(&mut r, &mut m, &mut len);
            }
            (m, len)
        };
        assert_eq!(run(5), run(5));
    }
}
