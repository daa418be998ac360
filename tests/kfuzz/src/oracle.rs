//! What the module must answer, written from the 10.5 interface description
//! (docs/kernel-abi.md and README.md), independently of the module's code:
//! for each request, the set of acceptable errnos (0 = success) and what changes when it
//! succeeds. Where our module may legitimately differ (in-kernel SRTP still arriving),
//! the set names every acceptable answer. Recorded calls and streams are modelled with
//! our module's per-table indexes (10.5 shares them between tables).

use crate::model::{Key, Table, TargetState};
use rtpengine_core::abi::{
    cipher, cmd, hmac, src_mismatch, target_flags, Address, DestinationInfo, Message, Srtp,
    TargetInfo, AF_INET, AF_INET6, MAX_DESTINATIONS, MAX_PAYLOAD_TYPES, MESSAGE_SIZE,
};
use rtpengine_core::errno::*;

/// Largest control write our module accepts (message + one 64 KiB packet).
pub const MAX_CONTROL_LEN: usize = MESSAGE_SIZE + 65536;

/// What happens to the model when the request succeeds.
#[derive(Clone, Debug)]
pub enum Effect {
    None,
    AddTarget(Key, TargetState),
    DelTarget(Key),
    Fill(Key, u32),
    /// GET_STATS of a known target: the answer must carry its SSRCs.
    Stats(Key),
    /// Success would change state in a way the model does not track.
    #[allow(dead_code)]
    Untracked,
    /// ADD_CALL of this call id: the answer must carry the index the model expects.
    AddCall(Vec<u8>, u32),
    DelCall(u32),
    /// ADD_STREAM to call .0 named .1: the answer must carry index .2.
    AddStream(u32, Vec<u8>, u32),
    DelStream(u32),
}

#[derive(Clone, Debug)]
pub struct Expect {
    pub allowed: Vec<i32>,
    pub effect: Effect,
}

impl Expect {
    fn only(e: i32) -> Self {
        Expect {
            allowed: vec![e],
            effect: Effect::None,
        }
    }
    fn ok(effect: Effect) -> Self {
        Expect {
            allowed: vec![0],
            effect,
        }
    }
    fn also(mut self, e: i32) -> Self {
        if !self.allowed.contains(&e) {
            self.allowed.push(e);
        }
        self
    }
}

pub fn valid_address(a: &Address) -> bool {
    match a.family {
        AF_INET => a.addr[..4] != [0; 4] && a.port != 0,
        AF_INET6 => a.addr != [0; 16] && a.port != 0,
        _ => false,
    }
}

/// 10.5's SRTP limits: cipher and hmac known and not INVALID, tag <= 20, MKI <= 256.
pub fn srtp_rules(s: &Srtp) -> Result<(), Errno> {
    let known = (1..cipher::LAST).contains(&s.cipher) && (1..hmac::LAST).contains(&s.hmac);
    if !known || s.auth_tag_len > 20 || s.mki_len > 256 {
        return Err(EINVAL);
    }
    Ok(())
}

pub fn is_plain(s: &Srtp) -> bool {
    s.cipher == cipher::NULL && s.hmac == hmac::NULL
}

/// The ADD_TARGET rules that do not depend on the table.
pub fn target_rules(t: &TargetInfo) -> Result<(), Errno> {
    if !valid_address(&t.local) || t.num_destinations as usize > MAX_DESTINATIONS {
        return Err(EINVAL);
    }
    if t.has(target_flags::NON_FORWARDING) != (t.num_destinations == 0) {
        return Err(EINVAL);
    }
    srtp_rules(&t.decrypt)?;
    if t.num_payload_types as usize > MAX_PAYLOAD_TYPES || t.src_mismatch > src_mismatch::PROPAGATE
    {
        return Err(EINVAL);
    }
    let n = t.num_payload_types as usize;
    if t.payload_types[..n]
        .iter()
        .any(|p| p.replace_pattern_len > 16)
    {
        return Err(EINVAL);
    }
    Ok(())
}

fn destination_rules(d: &DestinationInfo) -> Result<(), Errno> {
    let o = &d.output;
    if !valid_address(&o.src_addr)
        || !valid_address(&o.dst_addr)
        || o.src_addr.family != o.dst_addr.family
    {
        return Err(EINVAL);
    }
    srtp_rules(&o.encrypt)
}

/// How the buffer handed to the kernel is prepared.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Buffer {
    Valid,
    /// Starts in an unmapped page, or runs into one before `len` bytes.
    Unmapped,
}

/// A control-file write (`is_read` false) or read of `len` bytes whose first bytes decode
/// to `m` (when `len` >= a message), on a table in state `table`.
pub fn control(m: &Message, len: usize, is_read: bool, buffer: Buffer, table: &Table) -> Expect {
    if len < MESSAGE_SIZE {
        return Expect::only(EIO.0);
    }
    if len > MAX_CONTROL_LEN {
        return Expect::only(EMSGSIZE.0);
    }
    if buffer == Buffer::Unmapped {
        return Expect::only(EFAULT.0);
    }
    let c = m.cmd;
    if c == 0 || c >= cmd::LAST {
        return Expect::only(EINVAL.0);
    }
    let needs_read = matches!(
        c,
        cmd::GET_STATS | cmd::GET_RESET_STATS | cmd::ADD_CALL | cmd::ADD_STREAM
    );
    if needs_read && !is_read {
        return Expect::only(EINVAL.0);
    }
    match c {
        cmd::NOOP => {
            let n = m.noop_info();
            if n.last_cmd != cmd::LAST as i32 {
                Expect::only(ERANGE.0)
            } else if n.size != MESSAGE_SIZE as u64 {
                Expect::only(EMSGSIZE.0)
            } else {
                Expect::ok(Effect::None)
            }
        }
        cmd::ADD_TARGET => add_target(&m.target(), table),
        cmd::DEL_TARGET => {
            let local = m.target().local;
            if !valid_address(&local) {
                return Expect::only(EINVAL.0);
            }
            let k = Key::of(&local);
            if table.targets.contains_key(&k) {
                Expect::ok(Effect::DelTarget(k))
            } else {
                Expect::only(ENOENT.0)
            }
        }
        cmd::ADD_DESTINATION => add_destination(&m.destination(), table),
        cmd::GET_STATS | cmd::GET_RESET_STATS => {
            let local = m.stats().local;
            let k = Key::of(&local);
            if !valid_address(&local) {
                // Nothing can be stored there; either answer is specific.
                Expect::only(ENOENT.0).also(EINVAL.0)
            } else if table.targets.contains_key(&k) {
                Expect::ok(Effect::Stats(k))
            } else {
                Expect::only(ENOENT.0)
            }
        }
        cmd::ADD_CALL => {
            let Some(name) = record_name(&m.call().call_id) else {
                return Expect::only(EINVAL.0);
            };
            let r = &table.recording;
            if r.calls.values().any(|n| *n == name) {
                return Expect::only(EEXIST.0);
            }
            Expect::ok(Effect::AddCall(name, r.call_idx.peek()))
        }
        cmd::DEL_CALL => {
            let idx = m.call().call_idx;
            if table.recording.calls.contains_key(&idx) {
                Expect::ok(Effect::DelCall(idx))
            } else {
                Expect::only(ENOENT.0)
            }
        }
        cmd::ADD_STREAM => {
            let s = m.stream();
            let Some(name) = record_name(&s.stream_name) else {
                return Expect::only(EINVAL.0);
            };
            let r = &table.recording;
            if !r.calls.contains_key(&s.call_idx) {
                return Expect::only(ENOENT.0);
            }
            if r.streams.values().any(|x| x.0 == s.call_idx && x.1 == name) {
                return Expect::only(EEXIST.0);
            }
            Expect::ok(Effect::AddStream(s.call_idx, name, r.stream_idx.peek()))
        }
        // The name is not looked at (10.5).
        cmd::DEL_STREAM => {
            let s = m.stream();
            let r = &table.recording;
            match r.streams.get(&s.stream_idx) {
                Some(x) if x.0 == s.call_idx && r.calls.contains_key(&s.call_idx) => {
                    Expect::ok(Effect::DelStream(s.stream_idx))
                }
                _ => Expect::only(ENOENT.0),
            }
        }
        // The packet is what follows the message; its call index is not looked at.
        cmd::PACKET => {
            if len == MESSAGE_SIZE {
                Expect::only(EINVAL.0)
            } else if table.recording.streams.contains_key(&m.packet().stream_idx) {
                Expect::ok(Effect::None)
            } else {
                Expect::only(ENOENT.0)
            }
        }
        _ => Expect::only(EINVAL.0),
    }
}

/// A call id or stream name as ADD_CALL / ADD_STREAM take it: the bytes before the NUL,
/// not empty (10.5's EINVAL), and naming a /proc entry (no `/`, not `.` or `..`: our
/// module's EINVAL where 10.5 fails in procfs).
fn record_name(field: &[u8; 256]) -> Option<Vec<u8>> {
    let n = &field[..field.iter().position(|&b| b == 0)?];
    if n.is_empty() || n == b"." || n == b".." || n.contains(&b'/') {
        return None;
    }
    Some(n.to_vec())
}

fn add_target(t: &TargetInfo, table: &Table) -> Expect {
    if target_rules(t).is_err() {
        return Expect::only(EINVAL.0);
    }
    let k = Key::of(&t.local);
    let mut e = if table.targets.contains_key(&k) {
        Expect::only(EEXIST.0)
    } else {
        let new_ip = !table
            .targets
            .keys()
            .any(|x| x.family == k.family && x.addr == k.addr);
        let e = Expect::ok(Effect::AddTarget(k, TargetState::of(t)));
        if new_ip && table.distinct_ips() >= 256 {
            e.also(ENXIO.0)
        } else {
            e
        }
    };
    // In-kernel SRTP is optional (being added): EINVAL is a specific refusal of a cipher.
    if !is_plain(&t.decrypt) {
        e = e.also(EINVAL.0);
    }
    // An intercepting target names its stream by index; neither module checks it here
    // (a missing stream only means no copies).
    e
}

fn add_destination(d: &DestinationInfo, table: &Table) -> Expect {
    if destination_rules(d).is_err() {
        return Expect::only(EINVAL.0);
    }
    let k = Key::of(&d.local);
    let mut e = match table.targets.get(&k) {
        None if !valid_address(&d.local) => Expect::only(ENOENT.0).also(EINVAL.0),
        None => Expect::only(ENOENT.0),
        Some(t) if t.complete() => Expect::only(EBUSY.0),
        Some(t) if d.num >= t.outputs => Expect::only(ERANGE.0),
        Some(t) if t.filled & (1 << d.num) != 0 => Expect::only(EEXIST.0),
        Some(_) => Expect::ok(Effect::Fill(k, d.num)),
    };
    if !is_plain(&d.output.encrypt) {
        e = e.also(EINVAL.0);
    }
    e
}

/// A write to /proc/rtpengine/control: returns the allowed errnos and, on success,
/// `Some((id, add))`.
pub fn main_control(text: &[u8], tables: &[Option<Table>]) -> (Vec<i32>, Option<(u32, bool)>) {
    let einval = (vec![EINVAL.0], None);
    if !(6..=20).contains(&text.len()) {
        return einval;
    }
    let add = match &text[..4] {
        b"add " => true,
        b"del " => false,
        _ => return einval,
    };
    let rest = &text[4..];
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0
        || !rest[digits..]
            .iter()
            .all(|b| matches!(b, b'\n' | b' ' | b'\t' | b'\r' | 0))
    {
        return einval;
    }
    let id = rest[..digits]
        .iter()
        .fold(0u64, |n, d| (n * 10 + u64::from(d - b'0')).min(1 << 40));
    if id >= 64 {
        return einval;
    }
    let id = id as u32;
    let t = &tables[id as usize];
    match (add, t) {
        (true, Some(_)) => (vec![EEXIST.0], None),
        (true, None) => (vec![0], Some((id, true))),
        (false, None) => (vec![ENOENT.0], None),
        (false, Some(t)) if t.control_open => (vec![EBUSY.0], None),
        (false, Some(_)) => (vec![0], Some((id, false))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rtpengine_core::abi::Pod;

    fn plain_target(port: u16, outputs: u32) -> TargetInfo {
        let mut t = TargetInfo::zeroed();
        t.local = Address::v4([127, 0, 0, 1], port);
        t.num_destinations = outputs;
        t.decrypt = Srtp::plain();
        if outputs == 0 {
            t.flags = target_flags::NON_FORWARDING;
        }
        t
    }

    #[test]
    fn lengths_and_commands() {
        let t = Table::default();
        let m = Message::noop();
        assert_eq!(
            control(&m, 10, false, Buffer::Valid, &t).allowed,
            vec![EIO.0]
        );
        assert_eq!(
            control(&m, MAX_CONTROL_LEN + 1, false, Buffer::Valid, &t).allowed,
            vec![EMSGSIZE.0]
        );
        assert_eq!(
            control(&m, MESSAGE_SIZE, false, Buffer::Unmapped, &t).allowed,
            vec![EFAULT.0]
        );
        assert_eq!(
            control(&m, MESSAGE_SIZE, false, Buffer::Valid, &t).allowed,
            vec![0]
        );
        assert_eq!(
            control(&Message::new(12), MESSAGE_SIZE, true, Buffer::Valid, &t).allowed,
            vec![EINVAL.0]
        );
        let s = Message::get_stats(cmd::GET_STATS, &Address::v4([127, 0, 0, 1], 1));
        assert_eq!(
            control(&s, MESSAGE_SIZE, false, Buffer::Valid, &t).allowed,
            vec![EINVAL.0]
        );
        assert_eq!(
            control(&s, MESSAGE_SIZE, true, Buffer::Valid, &t).allowed,
            vec![ENOENT.0]
        );
    }

    #[test]
    fn recording_lifecycle() {
        let mut table = Table::default();
        let mut m = Message::new(cmd::ADD_CALL);
        let mut ci = m.call();
        ci.call_id[..2].copy_from_slice(b"c1");
        m.u.call = ci;
        let e = control(&m, MESSAGE_SIZE, true, Buffer::Valid, &table);
        let Effect::AddCall(name, 0) = e.effect else {
            panic!("{e:?}")
        };
        assert_eq!(
            control(&m, MESSAGE_SIZE, false, Buffer::Valid, &table).allowed,
            vec![EINVAL.0]
        );
        table.recording.add_call(name);
        assert_eq!(
            control(&m, MESSAGE_SIZE, true, Buffer::Valid, &table).allowed,
            vec![EEXIST.0]
        );
        let mut s = Message::new(cmd::ADD_STREAM);
        let mut si = s.stream();
        si.stream_name[..1].copy_from_slice(b"s");
        s.u.stream = si;
        let Effect::AddStream(0, n, 0) =
            control(&s, MESSAGE_SIZE, true, Buffer::Valid, &table).effect
        else {
            panic!()
        };
        table.recording.add_stream(0, n);
        let mut p = Message::new(cmd::PACKET);
        assert_eq!(
            control(&p, MESSAGE_SIZE, false, Buffer::Valid, &table).allowed,
            vec![EINVAL.0]
        );
        assert_eq!(
            control(&p, MESSAGE_SIZE + 1, false, Buffer::Valid, &table).allowed,
            vec![0]
        );
        p.u.packet.stream_idx = 1;
        assert_eq!(
            control(&p, MESSAGE_SIZE + 1, false, Buffer::Valid, &table).allowed,
            vec![ENOENT.0]
        );
        // DEL_STREAM ignores the name, even an unterminated one.
        let mut d = Message::new(cmd::DEL_STREAM);
        let mut di = d.stream();
        di.stream_name = [b'x'; 256];
        d.u.stream = di;
        assert!(matches!(
            control(&d, MESSAGE_SIZE, false, Buffer::Valid, &table).effect,
            Effect::DelStream(0)
        ));
        // Two calls, the first deleted with its stream: its index comes back first.
        table.recording.add_call(b"c2".to_vec());
        table.recording.del_call(0);
        assert_eq!(table.recording.call_idx.peek(), 0);
        assert_eq!(table.recording.stream_idx.peek(), 0);
        assert!(table.recording.streams.is_empty());
    }

    #[test]
    fn target_lifecycle() {
        let mut table = Table::default();
        let m = Message::add_target(&plain_target(20000, 2));
        let e = control(&m, MESSAGE_SIZE, false, Buffer::Valid, &table);
        assert_eq!(e.allowed, vec![0]);
        let Effect::AddTarget(k, st) = e.effect else {
            panic!("{e:?}")
        };
        table.targets.insert(k, st);
        assert_eq!(
            control(&m, MESSAGE_SIZE, false, Buffer::Valid, &table).allowed,
            vec![EEXIST.0]
        );
        let mut d = DestinationInfo::zeroed();
        d.local = Address::v4([127, 0, 0, 1], 20000);
        d.output.src_addr = Address::v4([127, 0, 0, 1], 1);
        d.output.dst_addr = Address::v4([127, 0, 0, 1], 2);
        d.output.encrypt = Srtp::plain();
        d.num = 2;
        assert_eq!(
            control(
                &Message::add_destination(&d),
                MESSAGE_SIZE,
                false,
                Buffer::Valid,
                &table
            )
            .allowed,
            vec![ERANGE.0]
        );
        d.num = 1;
        assert!(matches!(
            control(
                &Message::add_destination(&d),
                MESSAGE_SIZE,
                false,
                Buffer::Valid,
                &table
            )
            .effect,
            Effect::Fill(_, 1)
        ));
        table.targets.get_mut(&k).unwrap().filled = 0b11;
        assert_eq!(
            control(
                &Message::add_destination(&d),
                MESSAGE_SIZE,
                false,
                Buffer::Valid,
                &table
            )
            .allowed,
            vec![EBUSY.0]
        );
        d.output.dst_addr = Address::v6([1; 16], 2);
        assert_eq!(
            control(
                &Message::add_destination(&d),
                MESSAGE_SIZE,
                false,
                Buffer::Valid,
                &table
            )
            .allowed,
            vec![EINVAL.0]
        );
        let del = Message::del_target(&Address::v4([127, 0, 0, 1], 20000));
        assert!(matches!(
            control(&del, MESSAGE_SIZE, false, Buffer::Valid, &table).effect,
            Effect::DelTarget(_)
        ));
        let mut bad = plain_target(20001, 0);
        bad.flags = 0;
        assert_eq!(
            control(
                &Message::add_target(&bad),
                MESSAGE_SIZE,
                false,
                Buffer::Valid,
                &table
            )
            .allowed,
            vec![EINVAL.0]
        );
    }

    #[test]
    fn srtp_target_may_be_refused_with_einval_only() {
        let mut t = plain_target(20002, 1);
        t.decrypt.cipher = cipher::AES_CM_128;
        t.decrypt.hmac = hmac::HMAC_SHA1;
        let e = control(
            &Message::add_target(&t),
            MESSAGE_SIZE,
            false,
            Buffer::Valid,
            &Table::default(),
        );
        assert_eq!(e.allowed, vec![0, EINVAL.0]);
    }

    #[test]
    fn main_control_text() {
        let mut tables: Vec<Option<Table>> = (0..64).map(|_| None).collect();
        assert_eq!(
            main_control(b"add 3\n", &tables),
            (vec![0], Some((3, true)))
        );
        assert_eq!(main_control(b"add 3", &tables).0, vec![EINVAL.0]);
        assert_eq!(main_control(b"del 3\n", &tables).0, vec![ENOENT.0]);
        assert_eq!(main_control(b"add 64\n", &tables).0, vec![EINVAL.0]);
        assert_eq!(
            main_control(b"add 99999999999999\n", &tables).0,
            vec![EINVAL.0]
        );
        assert_eq!(main_control(b"add 3x\n", &tables).0, vec![EINVAL.0]);
        tables[3] = Some(Table::default());
        assert_eq!(main_control(b"add 03\n", &tables).0, vec![EEXIST.0]);
        tables[3].as_mut().unwrap().control_open = true;
        assert_eq!(main_control(b"del 3\n", &tables).0, vec![EBUSY.0]);
    }
}
