//! Valid rtpengine 10.5 control messages: what a correct daemon would write. Targets walk
//! through every cipher × hmac combination (with the SDES key sizes), every flag bit, 0..32
//! payload types and all source-mismatch actions; half of them are plain RTP so that
//! packets can actually be forwarded.

use crate::rng::Rng;
use rtpengine_core::abi::{
    cipher, cmd, hmac, target_flags, Address, DestinationInfo, Message, PayloadType, Pod, Srtp,
    TargetInfo, MAX_DESTINATIONS, MAX_PAYLOAD_TYPES,
};

/// Local ports of generated targets (on 127.0.0.1 and ::1).
pub const TARGET_PORTS: (u16, u16) = (20000, 29999);
/// Ports that forwarded packets are sent to; no target ever listens there, so forwarding
/// can never loop back into a target (a loop would be a userspace misconfiguration).
pub const SINK_PORTS: (u16, u16) = (45000, 45999);

/// SSRCs of generated targets; the packet sender uses the same ones so that SSRC
/// tracking sees both known and unknown streams.
pub const SSRC_POOL: [u32; 4] = [0x1111_1111, 0x2222_2222, 0x3333_3333, 0x4444_4444];

pub const LOOP4: [u8; 4] = [127, 0, 0, 1];
pub const LOOP6: [u8; 16] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];

/// (cipher, hmac, master key, master salt, session key, session salt, tag) of the SDES suites.
const SUITES: &[(u32, u32, u32, u32, u32, u32, u32)] = &[
    (cipher::AES_CM_128, hmac::HMAC_SHA1, 16, 14, 16, 14, 10),
    (cipher::AES_CM_128, hmac::HMAC_SHA1, 16, 14, 16, 14, 4),
    (cipher::AES_CM_192, hmac::HMAC_SHA1, 24, 14, 24, 14, 10),
    (cipher::AES_CM_256, hmac::HMAC_SHA1, 32, 14, 32, 14, 4),
    (cipher::AES_F8, hmac::HMAC_SHA1, 16, 14, 16, 14, 10),
    (cipher::NULL, hmac::HMAC_SHA1, 16, 14, 0, 0, 10),
    (cipher::AEAD_AES_GCM_128, hmac::NULL, 16, 12, 16, 12, 0),
    (cipher::AEAD_AES_GCM_256, hmac::NULL, 32, 12, 32, 12, 0),
];

pub fn loopback(rng: &mut Rng, port: u16) -> Address {
    if rng.chance(300) {
        Address::v6(LOOP6, port)
    } else {
        Address::v4(LOOP4, port)
    }
}

pub fn same_family(a: &Address, port: u16) -> Address {
    if a.family == rtpengine_core::abi::AF_INET6 {
        Address::v6(LOOP6, port)
    } else {
        Address::v4(LOOP4, port)
    }
}

pub fn target_port(rng: &mut Rng) -> u16 {
    rng.range(TARGET_PORTS.0 as u64, TARGET_PORTS.1 as u64) as u16
}

pub fn sink_port(rng: &mut Rng) -> u16 {
    rng.range(SINK_PORTS.0 as u64, SINK_PORTS.0 as u64 + 7) as u16
}

/// SRTP parameters: plain RTP, or suite number `combo` (cycling through all of them,
/// and through every cipher × hmac pair with arbitrary but valid sizes).
pub fn srtp(rng: &mut Rng, combo: u64) -> Srtp {
    let mut s = Srtp::plain();
    if rng.chance(500) {
        return s;
    }
    let n = SUITES.len() as u64;
    if combo % (n + 1) < n {
        let (c, h, k, salt, sk, ss, tag) = SUITES[(combo % (n + 1)) as usize];
        s.cipher = c;
        s.hmac = h;
        s.master_key_len = k;
        s.master_salt_len = salt;
        s.session_key_len = sk;
        s.session_salt_len = ss;
        s.auth_tag_len = if rng.chance(100) { 0 } else { tag };
    } else {
        // Every pair of the enums, with sizes inside the limits 10.5 checks.
        let pair = (combo / (n + 1)) % 14;
        s.cipher = 1 + (pair % 7) as u32;
        s.hmac = 1 + (pair / 7) as u32;
        s.master_key_len = *rng.pick(&[16, 24, 32]);
        s.master_salt_len = *rng.pick(&[12, 14]);
        s.session_key_len = s.master_key_len;
        s.session_salt_len = s.master_salt_len;
        s.auth_tag_len = rng.below(21) as u32;
    }
    rng.fill(&mut s.master_key[..s.master_key_len as usize]);
    rng.fill(&mut s.master_salt[..s.master_salt_len as usize]);
    if rng.chance(200) {
        s.mki_len = rng.range(1, 4) as u32;
        rng.fill(&mut s.mki[..s.mki_len as usize]);
    }
    for i in s.last_index.iter_mut() {
        if rng.chance(300) {
            *i = rng.below(1 << 40);
        }
    }
    s
}

/// A valid ADD_TARGET payload for `local` with `outputs` outputs.
pub fn target(rng: &mut Rng, combo: u64, local: Address, outputs: u32) -> TargetInfo {
    let mut t = TargetInfo::zeroed();
    t.local = local;
    t.num_destinations = outputs;
    t.decrypt = srtp(rng, combo);
    t.src_mismatch = (combo % 3) as u32;
    if t.src_mismatch != 0 || rng.chance(200) {
        t.expected_src = same_family(&local, 1000 + rng.below(8) as u16);
    }
    // Every flag bit shows up; non_forwarding follows the output count (10.5's rule).
    t.flags = rng.u32() & 0x6ff;
    if outputs == 0 {
        t.flags |= target_flags::NON_FORWARDING;
    }
    for s in t.ssrc.iter_mut() {
        if rng.chance(400) {
            *s = rng.pick(&SSRC_POOL).to_be();
        }
    }
    let npt = (combo / 3 % (MAX_PAYLOAD_TYPES as u64 + 1)) as usize;
    t.num_payload_types = npt as u32;
    for (i, p) in t.payload_types[..npt].iter_mut().enumerate() {
        // Unsorted on purpose: the module sorts them.
        *p = PayloadType {
            pt: ((i as u64 * 37 + combo) % 128) as u8,
            clock_rate: *rng.pick(&[8000, 16000, 48000, 90000]),
            ..Default::default()
        };
        if rng.chance(100) {
            p.replace_pattern_len = rng.below(17) as u8;
            rng.fill(&mut p.replace_pattern[..p.replace_pattern_len as usize]);
        }
    }
    t
}

pub fn outputs_count(rng: &mut Rng) -> u32 {
    match rng.below(10) {
        0 => 0,
        1 => rng.range(2, MAX_DESTINATIONS as u64) as u32,
        2 | 3 => 2,
        _ => 1,
    }
}

/// A valid ADD_DESTINATION for output `num` of the target at `local`.
pub fn destination(rng: &mut Rng, combo: u64, local: Address, num: u32) -> DestinationInfo {
    let mut d = DestinationInfo::zeroed();
    d.local = local;
    d.num = num;
    d.output.src_addr = same_family(&local, target_port(rng));
    d.output.dst_addr = same_family(&local, sink_port(rng));
    d.output.encrypt = srtp(rng, combo);
    d.output.tos = rng.u32() as u8;
    d.output.flags = (rng.u32() & 3) as u8;
    for s in d.output.ssrc_out.iter_mut() {
        *s = rng.u32();
    }
    d
}

pub fn noop() -> Message {
    Message::noop()
}

pub fn stats(rng: &mut Rng, local: Address) -> Message {
    let c = if rng.chance(500) {
        cmd::GET_STATS
    } else {
        cmd::GET_RESET_STATS
    };
    Message::get_stats(c, &local)
}

/// ADD_CALL / DEL_CALL / ADD_STREAM / DEL_STREAM / PACKET with plausible contents:
/// mostly indexes the table has (`calls`, and `streams` as (call, stream)), short names
/// from a small alphabet so that they collide now and then.
pub fn call_family(rng: &mut Rng, calls: &[u32], streams: &[(u32, u32)]) -> Message {
    let c = *rng.pick(&[
        cmd::ADD_CALL,
        cmd::DEL_CALL,
        cmd::ADD_STREAM,
        cmd::DEL_STREAM,
        cmd::PACKET,
    ]);
    let mut m = Message::new(c);
    match c {
        cmd::ADD_CALL | cmd::DEL_CALL => {
            let mut ci = m.call();
            ci.call_idx = pick_call(rng, calls);
            name(rng, &mut ci.call_id);
            m.u.call = ci;
        }
        cmd::ADD_STREAM | cmd::DEL_STREAM => {
            let mut si = m.stream();
            let (c, s) = pick_stream(rng, calls, streams);
            si.call_idx = c;
            si.stream_idx = s;
            si.max_packets = rng.below(100) as u32;
            name(rng, &mut si.stream_name);
            m.u.stream = si;
        }
        _ => {
            let (c, s) = pick_stream(rng, calls, streams);
            m.u.packet.call_idx = c;
            m.u.packet.stream_idx = s;
        }
    }
    m
}

/// Mostly a call the table has, else a small index that may or may not exist.
fn pick_call(rng: &mut Rng, calls: &[u32]) -> u32 {
    if !calls.is_empty() && rng.chance(800) {
        *rng.pick(calls)
    } else {
        rng.below(6) as u32
    }
}

/// Mostly a (call, stream) pair the table has; else a stream index that may not exist,
/// in a call that mostly does (ADD_STREAM needs one).
fn pick_stream(rng: &mut Rng, calls: &[u32], streams: &[(u32, u32)]) -> (u32, u32) {
    if !streams.is_empty() && rng.chance(700) {
        *rng.pick(streams)
    } else {
        (pick_call(rng, calls), rng.below(6) as u32)
    }
}

/// 1..12 letters of a..d, or now and then up to 255 bytes.
fn name(rng: &mut Rng, field: &mut [u8; 256]) {
    let n = if rng.chance(20) {
        rng.range(1, 255) as usize
    } else {
        rng.range(1, 12) as usize
    };
    for b in field[..n].iter_mut() {
        *b = b'a' + rng.below(4) as u8;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oracle::target_rules;

    #[test]
    fn generated_targets_are_valid_for_every_combo() {
        let mut rng = Rng::new(3);
        for combo in 0..2000 {
            let port = target_port(&mut rng);
            let local = loopback(&mut rng, port);
            let n = outputs_count(&mut rng);
            let t = target(&mut rng, combo, local, n);
            assert_eq!(target_rules(&t), Ok(()), "combo {combo}: {t:?}");
        }
    }

    #[test]
    fn every_cipher_hmac_pair_is_generated() {
        let mut rng = Rng::new(4);
        let mut seen = std::collections::HashSet::new();
        for combo in 0..5000 {
            let s = srtp(&mut rng, combo);
            seen.insert((s.cipher, s.hmac));
        }
        assert_eq!(seen.len(), 14, "{seen:?}");
    }
}
