//! Recording through the kernel (`recording-method=proc`): the calls and streams of one
//! forwarding table, as rtpengine 10.5's ADD_CALL, DEL_CALL, ADD_STREAM, DEL_STREAM and
//! PACKET manage them, and the bounded packet queue that a stream file is read from.
//!
//! Nothing here allocates. The registry keeps its calls and streams in slots provided by
//! the caller through [`SlotStore`] (a `KVec` in the module, a `Vec` in host tests), and
//! each stream's queue lives in a caller-provided ring ([`PacketQueue`]), sized once when
//! the stream is added. The registry does not lock: the module serialises control
//! commands, and keeps each queue under its own lock (docs/recording-kernel.md).
//!
//! Facts of 10.5 this follows:
//! - a call is named by its call id (NUL-terminated, not empty: else EINVAL), unique in
//!   its table (EEXIST); a stream by its name, unique within its call (EEXIST); ADD_STREAM
//!   to a call that does not exist (or is being deleted) is ENOENT;
//! - indexes come from a free list, last freed first, else the lowest never used;
//! - DEL_CALL deletes the call's streams, newest first; DEL_CALL / DEL_STREAM of an index
//!   that is not there (or, for DEL_STREAM, belongs to another call) is ENOENT;
//! - PACKET with no data is EINVAL, to a stream that is not there ENOENT; its `call_idx`
//!   is ignored;
//! - a stream keeps at most `max_packets` packets (0 asks for the module's default, 10);
//!   a new packet pushes out the oldest.
//!
//! Deliberate differences (docs/recording-kernel.md): indexes are per table, not shared
//! by all tables, so PACKET and interception reach only streams of their own table;
//! names containing `/`, and the names `.` and `..`, are EINVAL (10.5 hands them to procfs,
//! which fails with ENOMEM or nests directories); calls, streams per table and
//! `max_packets` are bounded ([`Limits`]), where 10.5 grows until memory runs out; and a
//! stream counts the packets it pushed out.

use super::abi::{target_flags, CallInfo, PacketInfo, StreamInfo, TargetInfo};
use super::errno::{self, Errno};

/// Length of the name fields (`call_id`, `stream_name`), terminating NUL included.
pub const NAME_LEN: usize = 256;

/// 10.5's `stream_packets_list_limit` default: packets a stream keeps when ADD_STREAM
/// asks for 0 (the daemon always does).
pub const DEFAULT_MAX_PACKETS: u32 = 10;

/// A name as ADD_CALL / ADD_STREAM give it: the bytes before the first NUL. Refuses what
/// 10.5 refuses (empty, unterminated) and what cannot name a /proc entry (`/`, `.`, `..`).
pub fn name(field: &[u8; NAME_LEN]) -> Result<&[u8], Errno> {
    let len = field.iter().position(|&b| b == 0).ok_or(errno::EINVAL)?;
    let n = &field[..len];
    if n.is_empty() || n == b"." || n == b".." || n.contains(&b'/') {
        return Err(errno::EINVAL);
    }
    Ok(n)
}

/// PACKET: the data after the message must not be empty (10.5's EINVAL, checked before
/// the stream is looked up).
pub fn packet_len(len: usize) -> Result<(), Errno> {
    if len == 0 {
        Err(errno::EINVAL)
    } else {
        Ok(())
    }
}

/// The stream a target copies its forwarded packets to, if it intercepts.
pub fn intercept_stream(t: &TargetInfo) -> Option<u32> {
    if t.has(target_flags::DO_INTERCEPT) {
        Some(t.intercept_stream_idx)
    } else {
        None
    }
}

/// Bytes one read() of a stream file returns: the start of the oldest packet, up to the
/// reader's buffer; the rest of that packet is lost (as in 10.5).
pub fn read_len(packet_len: usize, buf_len: usize) -> usize {
    packet_len.min(buf_len)
}

/// Restores the length fields of an intercepted packet's copy, which the recording
/// daemon reads as a whole IP packet: `pkt` is the copy from its IP header on, trimmed to
/// the (decrypted) UDP payload, `l4_offset` where its UDP header starts. As in 10.5 the
/// IPv4 total length, the IPv6 payload length (minus the fixed 40-byte header) and the
/// UDP length are set; checksums are left as they were. `false` for anything else.
pub fn fix_copy_lengths(pkt: &mut [u8], l4_offset: usize) -> bool {
    let len = pkt.len();
    let Some(udp_len) = len.checked_sub(l4_offset) else {
        return false;
    };
    if udp_len < 8 {
        return false;
    }
    let ip_len = match pkt.first().map(|b| b >> 4) {
        Some(4) if l4_offset >= 20 => len,
        Some(6) if l4_offset >= 40 => len - 40,
        _ => return false,
    };
    let (Ok(ip_len), Ok(udp_len)) = (u16::try_from(ip_len), u16::try_from(udp_len)) else {
        return false;
    };
    let ip_field = if pkt[0] >> 4 == 4 { 2 } else { 4 };
    pkt[ip_field..ip_field + 2].copy_from_slice(&ip_len.to_be_bytes());
    pkt[l4_offset + 4..l4_offset + 6].copy_from_slice(&udp_len.to_be_bytes());
    true
}

/// Bounds of one table's recording state. 10.5 has none but memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Calls at once; ADD_CALL beyond is ENOSPC.
    pub max_calls: u32,
    /// Streams at once; ADD_STREAM beyond is ENOSPC.
    pub max_streams: u32,
    /// `max_packets` used when ADD_STREAM asks for 0 (module parameter in 10.5).
    pub default_max_packets: u32,
    /// Larger `max_packets` requests are lowered to this (the ring is allocated whole).
    pub max_packets_cap: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_calls: 65536,
            max_streams: 65536,
            default_max_packets: DEFAULT_MAX_PACKETS,
            max_packets_cap: 1024,
        }
    }
}

impl Limits {
    /// Ring size for a stream that asked for `requested` packets (at least 1).
    pub fn max_packets(&self, requested: u32) -> u32 {
        let n = if requested == 0 {
            self.default_max_packets
        } else {
            requested
        };
        n.min(self.max_packets_cap).max(1)
    }
}

/// End of a free list.
const NONE: u32 = u32::MAX;

/// One slot of a [`Slab`].
#[derive(Debug)]
pub enum Slot<T> {
    Used(T),
    /// Free; `next` is the slot freed before it (or none).
    Free {
        next: u32,
    },
}

/// Growable storage of slots: what the registry needs of a vector.
pub trait SlotStore<T> {
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    fn get(&self, i: usize) -> Option<&Slot<T>>;
    fn get_mut(&mut self, i: usize) -> Option<&mut Slot<T>>;
    /// Appends a slot; ENOMEM (or the store's own errno) when it cannot grow.
    fn try_push(&mut self, slot: Slot<T>) -> Result<(), Errno>;
}

#[cfg(test)]
impl<T> SlotStore<T> for std::vec::Vec<Slot<T>> {
    fn len(&self) -> usize {
        <[Slot<T>]>::len(self)
    }
    fn get(&self, i: usize) -> Option<&Slot<T>> {
        <[Slot<T>]>::get(self, i)
    }
    fn get_mut(&mut self, i: usize) -> Option<&mut Slot<T>> {
        <[Slot<T>]>::get_mut(self, i)
    }
    fn try_push(&mut self, slot: Slot<T>) -> Result<(), Errno> {
        self.push(slot);
        Ok(())
    }
}

/// Index allocation as 10.5's `auto_array`: a freed index is reused before any other,
/// the last freed first; otherwise the next index never used. At most `limit` slots.
pub struct Slab<T, S> {
    store: S,
    free_head: u32,
    used: u32,
    limit: u32,
    _t: core::marker::PhantomData<T>,
}

impl<T, S: SlotStore<T>> Slab<T, S> {
    pub fn new(store: S, limit: u32) -> Self {
        Slab {
            store,
            free_head: NONE,
            used: 0,
            limit,
            _t: core::marker::PhantomData,
        }
    }

    /// Entries in use.
    pub fn len(&self) -> u32 {
        self.used
    }

    pub fn is_empty(&self) -> bool {
        self.used == 0
    }

    /// The index the next [`insert`](Self::insert) will use, making room for it first:
    /// ENOSPC at the limit, or the store's error. Changes nothing visible on failure.
    pub fn vacant(&mut self) -> Result<u32, Errno> {
        if self.free_head != NONE {
            return Ok(self.free_head);
        }
        let idx = u32::try_from(self.store.len()).map_err(|_| errno::ENOSPC)?;
        if idx >= self.limit || idx == NONE {
            return Err(errno::ENOSPC);
        }
        self.store.try_push(Slot::Free { next: NONE })?;
        self.free_head = idx;
        Ok(idx)
    }

    /// Stores `value` at the index [`vacant`](Self::vacant) gives.
    pub fn insert(&mut self, value: T) -> Result<u32, Errno> {
        let idx = self.vacant()?;
        let slot = self.store.get_mut(idx as usize).ok_or(errno::ENOSPC)?;
        let Slot::Free { next } = *slot else {
            return Err(errno::EEXIST);
        };
        *slot = Slot::Used(value);
        self.free_head = next;
        self.used += 1;
        Ok(idx)
    }

    pub fn get(&self, idx: u32) -> Option<&T> {
        match self.store.get(idx as usize)? {
            Slot::Used(v) => Some(v),
            Slot::Free { .. } => None,
        }
    }

    pub fn get_mut(&mut self, idx: u32) -> Option<&mut T> {
        match self.store.get_mut(idx as usize)? {
            Slot::Used(v) => Some(v),
            Slot::Free { .. } => None,
        }
    }

    /// Frees `idx`, which becomes the next index handed out.
    pub fn remove(&mut self, idx: u32) -> Option<T> {
        let slot = self.store.get_mut(idx as usize)?;
        if matches!(slot, Slot::Free { .. }) {
            return None;
        }
        let old = core::mem::replace(
            slot,
            Slot::Free {
                next: self.free_head,
            },
        );
        self.free_head = idx;
        self.used -= 1;
        match old {
            Slot::Used(v) => Some(v),
            Slot::Free { .. } => None,
        }
    }

    /// Indexes in use, ascending.
    pub fn indexes(&self) -> impl Iterator<Item = u32> + '_ {
        (0..self.store.len()).filter_map(|i| match self.store.get(i) {
            Some(Slot::Used(_)) => u32::try_from(i).ok(),
            _ => None,
        })
    }
}

/// A name, as stored: the NUL-terminated field and a hash for quick comparison.
#[derive(Clone, Copy)]
pub struct Name {
    bytes: [u8; NAME_LEN],
    len: u16,
    hash: u32,
}

impl Name {
    fn new(n: &[u8]) -> Self {
        let mut bytes = [0u8; NAME_LEN];
        let len = n.len().min(NAME_LEN - 1);
        bytes[..len].copy_from_slice(&n[..len]);
        Name {
            bytes,
            len: len as u16,
            hash: fnv1a(&n[..len]),
        }
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len as usize]
    }

    fn is(&self, n: &[u8], hash: u32) -> bool {
        self.hash == hash && self.as_bytes() == n
    }
}

impl core::fmt::Debug for Name {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        for &b in self.as_bytes() {
            write!(f, "{}", b.escape_ascii())?;
        }
        Ok(())
    }
}

fn fnv1a(b: &[u8]) -> u32 {
    b.iter().fold(0x811c_9dc5u32, |h, &x| {
        (h ^ u32::from(x)).wrapping_mul(0x0100_0193)
    })
}

/// A call: its directory `calls/<call_id>/` and its streams.
pub struct CallEntry<C> {
    pub name: Name,
    /// Newest stream of the call (a list through [`StreamEntry::next_in_call`]).
    first_stream: u32,
    streams: u32,
    /// The module's handle (the call's /proc directory).
    pub handle: C,
}

impl<C> CallEntry<C> {
    /// Streams the call has.
    pub fn streams(&self) -> u32 {
        self.streams
    }
}

/// A stream: the file `calls/<call_id>/<stream_name>`.
pub struct StreamEntry<X> {
    pub call_idx: u32,
    pub name: Name,
    /// Packets its queue keeps.
    pub max_packets: u32,
    next_in_call: u32,
    /// The module's handle (queue, wait queue, /proc file).
    pub handle: X,
}

/// The recording state of one table: its calls (handles `C`) and streams (handles `X`).
pub struct Recording<C, X, CS, SS> {
    calls: Slab<CallEntry<C>, CS>,
    streams: Slab<StreamEntry<X>, SS>,
    limits: Limits,
}

impl<C, X, CS, SS> Recording<C, X, CS, SS>
where
    CS: SlotStore<CallEntry<C>>,
    SS: SlotStore<StreamEntry<X>>,
{
    pub fn new(calls: CS, streams: SS, limits: Limits) -> Self {
        Recording {
            calls: Slab::new(calls, limits.max_calls),
            streams: Slab::new(streams, limits.max_streams),
            limits,
        }
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    pub fn num_calls(&self) -> u32 {
        self.calls.len()
    }

    pub fn num_streams(&self) -> u32 {
        self.streams.len()
    }

    pub fn call(&self, idx: u32) -> Option<&CallEntry<C>> {
        self.calls.get(idx)
    }

    pub fn stream(&self, idx: u32) -> Option<&StreamEntry<X>> {
        self.streams.get(idx)
    }

    fn find_call(&self, n: &[u8]) -> Option<u32> {
        let h = fnv1a(n);
        self.calls
            .indexes()
            .find(|&i| self.calls.get(i).is_some_and(|c| c.name.is(n, h)))
    }

    /// ADD_CALL. Validates `info`, then lets `make` build the call's handle for the
    /// index it will get (creating its directory); commits only if `make` succeeds, and
    /// writes the index into `info.call_idx` as the answer.
    pub fn add_call(
        &mut self,
        info: &mut CallInfo,
        make: impl FnOnce(u32, &[u8]) -> Result<C, Errno>,
    ) -> Result<u32, Errno> {
        let n = name(&info.call_id)?;
        if self.find_call(n).is_some() {
            return Err(errno::EEXIST);
        }
        let idx = self.calls.vacant()?;
        let handle = make(idx, n)?;
        let got = self.calls.insert(CallEntry {
            name: Name::new(n),
            first_stream: NONE,
            streams: 0,
            handle,
        })?;
        debug_assert_eq!(got, idx);
        info.call_idx = got;
        Ok(got)
    }

    /// DEL_CALL of `idx`: each of its streams is handed to `on_stream` (newest first)
    /// before the call itself is returned. ENOENT when there is no such call.
    pub fn del_call(
        &mut self,
        idx: u32,
        mut on_stream: impl FnMut(u32, StreamEntry<X>),
    ) -> Result<CallEntry<C>, Errno> {
        let mut call = self.calls.remove(idx).ok_or(errno::ENOENT)?;
        let mut s = call.first_stream;
        while s != NONE {
            let Some(entry) = self.streams.remove(s) else {
                break;
            };
            let next = entry.next_in_call;
            on_stream(s, entry);
            s = next;
        }
        call.first_stream = NONE;
        call.streams = 0;
        Ok(call)
    }

    /// ADD_STREAM: validates `info` (name, then the call: ENOENT, then the name within
    /// the call: EEXIST), then lets `make` build the stream's handle for its index and
    /// ring size (creating the file, allocating the queue); commits only if `make`
    /// succeeds, and writes the index into `info.stream_idx` as the answer (10.5 leaves
    /// the answer's `max_packets` as asked).
    pub fn add_stream(
        &mut self,
        info: &mut StreamInfo,
        make: impl FnOnce(u32, u32, &[u8], &C) -> Result<X, Errno>,
    ) -> Result<u32, Errno> {
        let n = name(&info.stream_name)?;
        let call_idx = info.call_idx;
        let call = self.calls.get(call_idx).ok_or(errno::ENOENT)?;
        let h = fnv1a(n);
        let mut s = call.first_stream;
        while let Some(e) = self.streams.get(s) {
            if e.name.is(n, h) {
                return Err(errno::EEXIST);
            }
            s = e.next_in_call;
        }
        let first = call.first_stream;
        let max_packets = self.limits.max_packets(info.max_packets);
        let idx = self.streams.vacant()?;
        let call = self.calls.get(call_idx).ok_or(errno::ENOENT)?;
        let handle = make(idx, max_packets, n, &call.handle)?;
        let got = self.streams.insert(StreamEntry {
            call_idx,
            name: Name::new(n),
            max_packets,
            next_in_call: first,
            handle,
        })?;
        debug_assert_eq!(got, idx);
        if let Some(call) = self.calls.get_mut(call_idx) {
            call.first_stream = got;
            call.streams += 1;
        }
        info.stream_idx = got;
        Ok(got)
    }

    /// DEL_STREAM: the stream `info.stream_idx` of call `info.call_idx` (the name is not
    /// looked at). ENOENT when either is missing or the stream is another call's.
    pub fn del_stream(&mut self, info: &StreamInfo) -> Result<StreamEntry<X>, Errno> {
        let call = self.calls.get(info.call_idx).ok_or(errno::ENOENT)?;
        let s = self.streams.get(info.stream_idx).ok_or(errno::ENOENT)?;
        if s.call_idx != info.call_idx {
            return Err(errno::ENOENT);
        }
        // Unlink from the call's list.
        let idx = info.stream_idx;
        let next = s.next_in_call;
        if call.first_stream == idx {
            if let Some(call) = self.calls.get_mut(info.call_idx) {
                call.first_stream = next;
            }
        } else {
            let mut p = call.first_stream;
            while let Some(e) = self.streams.get(p) {
                if e.next_in_call == idx {
                    break;
                }
                p = e.next_in_call;
            }
            if let Some(e) = self.streams.get_mut(p) {
                e.next_in_call = next;
            }
        }
        if let Some(call) = self.calls.get_mut(info.call_idx) {
            call.streams -= 1;
        }
        self.streams.remove(idx).ok_or(errno::ENOENT)
    }

    /// PACKET: the stream to queue `len` bytes on (`info.call_idx` is ignored, as in
    /// 10.5). EINVAL for no data, ENOENT for no such stream.
    pub fn packet(&self, info: &PacketInfo, len: usize) -> Result<&X, Errno> {
        packet_len(len)?;
        self.streams
            .get(info.stream_idx)
            .map(|s| &s.handle)
            .ok_or(errno::ENOENT)
    }

    /// The stream a packet forwarded by target `t` is copied to, if any.
    pub fn intercept(&self, t: &TargetInfo) -> Option<&X> {
        self.streams.get(intercept_stream(t)?).map(|s| &s.handle)
    }

    /// Deletes everything, as deleting the table does: every call in index order, each
    /// after its streams.
    pub fn clear(
        &mut self,
        mut on_stream: impl FnMut(u32, StreamEntry<X>),
        mut on_call: impl FnMut(u32, CallEntry<C>),
    ) {
        let mut i = 0;
        loop {
            let next = self.calls.indexes().find(|&c| c >= i);
            let Some(idx) = next else {
                break;
            };
            if let Ok(call) = self.del_call(idx, &mut on_stream) {
                on_call(idx, call);
            }
            i = idx + 1;
        }
    }
}

/// What [`PacketQueue::push`] did with a packet.
#[derive(Debug, PartialEq, Eq)]
pub enum Pushed<P> {
    /// Queued.
    Queued,
    /// Queued; the oldest packet was pushed out to make room (free it, counted).
    Replaced(P),
    /// The stream is deleted: not queued (free it; 10.5 accepts and discards).
    Discarded(P),
}

/// What [`PacketQueue::pop`] found.
#[derive(Debug, PartialEq, Eq)]
pub enum Popped<P> {
    /// The oldest packet.
    Packet(P),
    /// Nothing queued: a blocking read sleeps, a non-blocking one gets EAGAIN.
    Empty,
    /// The stream is deleted: read() returns 0.
    Eof,
}

/// The packets of one stream, oldest first, in a ring of `max_packets` slots that the
/// caller allocates when the stream is added.
pub struct PacketQueue<P, R> {
    ring: R,
    head: usize,
    len: usize,
    dropped: u64,
    eof: bool,
    _p: core::marker::PhantomData<P>,
}

impl<P, R: AsMut<[Option<P>]> + AsRef<[Option<P>]>> PacketQueue<P, R> {
    /// A queue over `ring` (all `None`), keeping `ring.len()` packets (at least 1 used).
    pub fn new(ring: R) -> Self {
        PacketQueue {
            ring,
            head: 0,
            len: 0,
            dropped: 0,
            eof: false,
            _p: core::marker::PhantomData,
        }
    }

    fn cap(&self) -> usize {
        self.ring.as_ref().len()
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Packets pushed out by newer ones so far.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    pub fn is_eof(&self) -> bool {
        self.eof
    }

    /// For poll(): a read would not block (a packet, or end of stream).
    pub fn readable(&self) -> bool {
        self.len > 0 || self.eof
    }

    /// Appends `p`, pushing out the oldest packet when full.
    pub fn push(&mut self, p: P) -> Pushed<P> {
        let cap = self.cap();
        if self.eof || cap == 0 {
            return Pushed::Discarded(p);
        }
        if self.len == cap {
            let head = self.head;
            self.head = (head + 1) % cap;
            self.dropped += 1;
            return match self.ring.as_mut()[head].replace(p) {
                Some(old) => Pushed::Replaced(old),
                None => Pushed::Queued,
            };
        }
        let tail = (self.head + self.len) % cap;
        self.ring.as_mut()[tail] = Some(p);
        self.len += 1;
        Pushed::Queued
    }

    /// Takes the oldest packet.
    pub fn pop(&mut self) -> Popped<P> {
        if self.eof {
            return Popped::Eof;
        }
        if self.len == 0 {
            return Popped::Empty;
        }
        let cap = self.cap();
        let head = self.head;
        self.head = (head + 1) % cap;
        self.len -= 1;
        match self.ring.as_mut()[head].take() {
            Some(p) => Popped::Packet(p),
            None => Popped::Empty,
        }
    }

    /// Marks the stream deleted and hands every queued packet to `free`: readers get
    /// end of file from now on, new packets are discarded.
    pub fn close(&mut self, mut free: impl FnMut(P)) {
        self.eof = true;
        for slot in self.ring.as_mut() {
            if let Some(p) = slot.take() {
                free(p);
            }
        }
        self.len = 0;
        self.head = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::super::abi::Pod;
    use super::*;
    use std::vec::Vec;

    type Rec = Recording<u32, u32, Vec<Slot<CallEntry<u32>>>, Vec<Slot<StreamEntry<u32>>>>;

    fn rec() -> Rec {
        Recording::new(Vec::new(), Vec::new(), Limits::default())
    }

    fn call_info(id: &str) -> CallInfo {
        let mut c = CallInfo::zeroed();
        c.call_id[..id.len()].copy_from_slice(id.as_bytes());
        c
    }

    fn stream_info(call_idx: u32, n: &str) -> StreamInfo {
        let mut s = StreamInfo::zeroed();
        s.call_idx = call_idx;
        s.stream_name[..n.len()].copy_from_slice(n.as_bytes());
        s
    }

    fn add_call(r: &mut Rec, id: &str) -> Result<u32, Errno> {
        r.add_call(&mut call_info(id), |i, _| Ok(1000 + i))
    }

    fn add_stream(r: &mut Rec, call: u32, n: &str) -> Result<u32, Errno> {
        r.add_stream(&mut stream_info(call, n), |i, _, _, _| Ok(2000 + i))
    }

    #[test]
    fn names_follow_10_5_and_procfs() {
        let mut f = [0u8; NAME_LEN];
        assert_eq!(name(&f), Err(errno::EINVAL), "empty");
        f[..3].copy_from_slice(b"abc");
        assert_eq!(name(&f), Ok(&b"abc"[..]));
        let full = [b'x'; NAME_LEN];
        assert_eq!(name(&full), Err(errno::EINVAL), "unterminated");
        let mut f = [b'x'; NAME_LEN];
        f[NAME_LEN - 1] = 0;
        assert_eq!(name(&f).map(<[u8]>::len), Ok(255));
        for bad in [&b"."[..], b"..", b"a/b", b"/"] {
            let mut f = [0u8; NAME_LEN];
            f[..bad.len()].copy_from_slice(bad);
            assert_eq!(name(&f), Err(errno::EINVAL), "{:?}", bad);
        }
        let mut f = [0u8; NAME_LEN];
        f[..3].copy_from_slice(b"..a");
        assert!(name(&f).is_ok());
    }

    #[test]
    fn add_call_answers_with_the_index() {
        let mut r = rec();
        let mut c = call_info("abc-1");
        c.call_idx = 77;
        let mut seen = None;
        let idx = r
            .add_call(&mut c, |i, n| {
                seen = Some((i, n.to_vec()));
                Ok(5)
            })
            .unwrap();
        assert_eq!(idx, 0);
        assert_eq!(c.call_idx, 0, "written back for the read() answer");
        assert_eq!(seen, Some((0, b"abc-1".to_vec())));
        assert_eq!(r.call(0).unwrap().handle, 5);
        assert_eq!(r.call(0).unwrap().name.as_bytes(), b"abc-1");
        assert_eq!(add_call(&mut r, "abc-2"), Ok(1));
        assert_eq!(r.num_calls(), 2);
    }

    #[test]
    fn add_call_errors() {
        let mut r = rec();
        assert_eq!(add_call(&mut r, ""), Err(errno::EINVAL));
        assert_eq!(add_call(&mut r, "a"), Ok(0));
        assert_eq!(add_call(&mut r, "a"), Err(errno::EEXIST));
        // A failing `make` (procfs) leaves nothing behind, and its index is next.
        let e = r.add_call(&mut call_info("b"), |_, _| Err(errno::ENOMEM));
        assert_eq!(e, Err(errno::ENOMEM));
        assert_eq!(r.num_calls(), 1);
        assert_eq!(add_call(&mut r, "b"), Ok(1));
        // The name is free again once the call is deleted.
        r.del_call(0, |_, _| {}).unwrap();
        assert_eq!(add_call(&mut r, "a"), Ok(0));
    }

    #[test]
    fn indexes_reuse_the_last_freed_first() {
        let mut r = rec();
        for i in 0..4 {
            assert_eq!(add_call(&mut r, &format!("c{i}")), Ok(i));
        }
        r.del_call(1, |_, _| {}).unwrap();
        r.del_call(2, |_, _| {}).unwrap();
        // 10.5's free list: 2 (freed last), then 1, then the next unused (4).
        assert_eq!(add_call(&mut r, "x"), Ok(2));
        assert_eq!(add_call(&mut r, "y"), Ok(1));
        assert_eq!(add_call(&mut r, "z"), Ok(4));
    }

    #[test]
    fn limits_give_enospc() {
        let mut r: Rec = Recording::new(
            Vec::new(),
            Vec::new(),
            Limits {
                max_calls: 2,
                max_streams: 1,
                ..Limits::default()
            },
        );
        assert_eq!(add_call(&mut r, "a"), Ok(0));
        assert_eq!(add_call(&mut r, "b"), Ok(1));
        assert_eq!(add_call(&mut r, "c"), Err(errno::ENOSPC));
        assert_eq!(add_stream(&mut r, 0, "s"), Ok(0));
        assert_eq!(add_stream(&mut r, 0, "t"), Err(errno::ENOSPC));
        r.del_call(1, |_, _| {}).unwrap();
        assert_eq!(add_call(&mut r, "c"), Ok(1));
    }

    #[test]
    fn add_stream_errors_in_10_5_order() {
        let mut r = rec();
        assert_eq!(add_stream(&mut r, 0, ""), Err(errno::EINVAL));
        assert_eq!(add_stream(&mut r, 0, "s"), Err(errno::ENOENT), "no call");
        add_call(&mut r, "a").unwrap();
        add_call(&mut r, "b").unwrap();
        assert_eq!(add_stream(&mut r, 0, ""), Err(errno::EINVAL), "name first");
        assert_eq!(add_stream(&mut r, 0, "s"), Ok(0));
        assert_eq!(add_stream(&mut r, 0, "s"), Err(errno::EEXIST));
        assert_eq!(add_stream(&mut r, 1, "s"), Ok(1), "same name, other call");
        assert_eq!(add_stream(&mut r, 9, "s"), Err(errno::ENOENT));
        let e = r.add_stream(&mut stream_info(0, "t"), |_, _, _, _| Err(errno::ENOMEM));
        assert_eq!(e, Err(errno::ENOMEM));
        assert_eq!(r.num_streams(), 2);
        assert_eq!(r.call(0).unwrap().streams(), 1);
    }

    #[test]
    fn add_stream_answer_and_ring_size() {
        let mut r = rec();
        add_call(&mut r, "a").unwrap();
        let mut s = stream_info(0, "tag-1-media-1-component-1-RTP-id-0");
        s.stream_idx = 99;
        let mut got = None;
        let idx = r
            .add_stream(&mut s, |i, max, n, call| {
                got = Some((i, max, n.len(), *call));
                Ok(7)
            })
            .unwrap();
        assert_eq!((idx, s.stream_idx), (0, 0));
        assert_eq!(s.max_packets, 0, "10.5 answers with max_packets as asked");
        assert_eq!(got, Some((0, DEFAULT_MAX_PACKETS, 34, 1000)));
        assert_eq!(r.stream(0).unwrap().max_packets, 10);
        let mut s = stream_info(0, "b");
        s.max_packets = 3;
        r.add_stream(&mut s, |_, _, _, _| Ok(8)).unwrap();
        assert_eq!(r.stream(1).unwrap().max_packets, 3);
        let mut s = stream_info(0, "c");
        s.max_packets = u32::MAX;
        r.add_stream(&mut s, |_, _, _, _| Ok(9)).unwrap();
        assert_eq!(r.stream(2).unwrap().max_packets, 1024);
    }

    #[test]
    fn del_stream_rules() {
        let mut r = rec();
        add_call(&mut r, "a").unwrap();
        add_call(&mut r, "b").unwrap();
        for n in ["s0", "s1", "s2"] {
            add_stream(&mut r, 0, n).unwrap();
        }
        add_stream(&mut r, 1, "t").unwrap();
        // Wrong call, missing call, missing stream: ENOENT. The name is not checked.
        assert_eq!(
            r.del_stream(&stream_info(1, "s1")).err(),
            Some(errno::ENOENT)
        );
        let mut s = stream_info(1, "");
        s.stream_idx = 1;
        assert_eq!(r.del_stream(&s).err(), Some(errno::ENOENT));
        s.call_idx = 5;
        assert_eq!(r.del_stream(&s).err(), Some(errno::ENOENT));
        s.call_idx = 0;
        s.stream_idx = 9;
        assert_eq!(r.del_stream(&s).err(), Some(errno::ENOENT));
        s.stream_idx = 1;
        let e = r.del_stream(&s).unwrap();
        assert_eq!((e.handle, e.name.as_bytes()), (2001, &b"s1"[..]));
        assert_eq!(r.del_stream(&s).err(), Some(errno::ENOENT), "gone");
        assert_eq!(r.call(0).unwrap().streams(), 2);
        // The name is free again and the index is reused.
        assert_eq!(add_stream(&mut r, 0, "s1"), Ok(1));
        // DEL_CALL still finds every stream of the call (newest first).
        let mut gone = Vec::new();
        let c = r.del_call(0, |i, e| gone.push((i, e.handle))).unwrap();
        assert_eq!(c.handle, 1000);
        assert_eq!(gone, vec![(1, 2001), (2, 2002), (0, 2000)]);
        assert_eq!(r.num_streams(), 1, "call b's stream stays");
        assert_eq!(r.stream(3).unwrap().call_idx, 1);
    }

    #[test]
    fn del_call_rules() {
        let mut r = rec();
        assert_eq!(r.del_call(0, |_, _| {}).err(), Some(errno::ENOENT));
        add_call(&mut r, "a").unwrap();
        add_stream(&mut r, 0, "x").unwrap();
        add_stream(&mut r, 0, "y").unwrap();
        let mut n = 0;
        r.del_call(0, |_, _| n += 1).unwrap();
        assert_eq!(n, 2);
        assert_eq!(r.num_streams(), 0);
        assert_eq!(r.del_call(0, |_, _| {}).err(), Some(errno::ENOENT));
        // Its streams are gone for PACKET and interception.
        assert_eq!(
            r.packet(&PacketInfo::default(), 10).err(),
            Some(errno::ENOENT)
        );
        // Stream indexes freed by DEL_CALL are reused last-freed first (x was freed last).
        add_call(&mut r, "b").unwrap();
        assert_eq!(add_stream(&mut r, 0, "p"), Ok(0));
        assert_eq!(add_stream(&mut r, 0, "q"), Ok(1));
    }

    #[test]
    fn packet_lookup() {
        let mut r = rec();
        add_call(&mut r, "a").unwrap();
        add_stream(&mut r, 0, "s").unwrap();
        let mut p = PacketInfo::default();
        assert_eq!(r.packet(&p, 0).err(), Some(errno::EINVAL), "empty first");
        assert_eq!(r.packet(&p, 1), Ok(&2000));
        p.call_idx = 42;
        assert_eq!(r.packet(&p, 1), Ok(&2000), "call_idx ignored");
        p.stream_idx = 1;
        assert_eq!(r.packet(&p, 0).err(), Some(errno::EINVAL));
        assert_eq!(r.packet(&p, 1).err(), Some(errno::ENOENT));
    }

    #[test]
    fn intercept_lookup() {
        let mut r = rec();
        add_call(&mut r, "a").unwrap();
        add_stream(&mut r, 0, "s").unwrap();
        add_stream(&mut r, 0, "t").unwrap();
        let mut t = TargetInfo::zeroed();
        t.intercept_stream_idx = 1;
        assert_eq!(intercept_stream(&t), None, "needs do_intercept");
        assert_eq!(r.intercept(&t), None);
        t.flags |= target_flags::DO_INTERCEPT;
        assert_eq!(intercept_stream(&t), Some(1));
        assert_eq!(r.intercept(&t), Some(&2001));
        t.intercept_stream_idx = 5;
        assert_eq!(r.intercept(&t), None, "missing stream: forward only");
    }

    #[test]
    fn clear_deletes_everything() {
        let mut r = rec();
        for c in ["a", "b", "c"] {
            let i = add_call(&mut r, c).unwrap();
            add_stream(&mut r, i, "s").unwrap();
        }
        r.del_call(1, |_, _| {}).unwrap();
        let (mut streams, mut calls) = (Vec::new(), Vec::new());
        r.clear(|i, _| streams.push(i), |i, _| calls.push(i));
        assert_eq!(calls, vec![0, 2]);
        assert_eq!(streams, vec![0, 2]);
        assert_eq!((r.num_calls(), r.num_streams()), (0, 0));
        assert_eq!(add_call(&mut r, "a"), Ok(2));
    }

    fn queue(n: usize) -> PacketQueue<u32, Vec<Option<u32>>> {
        PacketQueue::new((0..n).map(|_| None).collect())
    }

    #[test]
    fn queue_keeps_the_newest_and_counts_drops() {
        let mut q = queue(3);
        assert!(!q.readable());
        assert_eq!(q.pop(), Popped::Empty);
        for p in 1..=3 {
            assert_eq!(q.push(p), Pushed::Queued);
        }
        assert_eq!(q.push(4), Pushed::Replaced(1));
        assert_eq!(q.push(5), Pushed::Replaced(2));
        assert_eq!((q.len(), q.dropped()), (3, 2));
        assert!(q.readable());
        assert_eq!(q.pop(), Popped::Packet(3));
        assert_eq!(q.push(6), Pushed::Queued);
        assert_eq!(q.pop(), Popped::Packet(4));
        assert_eq!(q.pop(), Popped::Packet(5));
        assert_eq!(q.pop(), Popped::Packet(6));
        assert_eq!(q.pop(), Popped::Empty);
        assert_eq!(q.dropped(), 2);
    }

    #[test]
    fn closed_queue_is_eof_and_discards() {
        let mut q = queue(4);
        q.push(1);
        q.push(2);
        let mut freed = Vec::new();
        q.close(|p| freed.push(p));
        assert_eq!(freed, vec![1, 2]);
        assert!(q.readable() && q.is_eof() && q.is_empty());
        assert_eq!(q.pop(), Popped::Eof);
        assert_eq!(q.push(3), Pushed::Discarded(3));
        assert_eq!(q.pop(), Popped::Eof);
    }

    #[test]
    fn queue_of_one() {
        let mut q = queue(1);
        assert_eq!(q.push(1), Pushed::Queued);
        assert_eq!(q.push(2), Pushed::Replaced(1));
        assert_eq!(q.pop(), Popped::Packet(2));
        let mut z = queue(0);
        assert_eq!(z.push(1), Pushed::Discarded(1));
    }

    #[test]
    fn read_truncates() {
        assert_eq!(read_len(172, 65535), 172);
        assert_eq!(read_len(172, 100), 100);
        assert_eq!(read_len(0, 10), 0);
    }

    fn ipv4_udp(payload: usize) -> Vec<u8> {
        let mut p = vec![0u8; 28 + payload];
        p[0] = 0x45;
        p[2..4].copy_from_slice(&9999u16.to_be_bytes());
        p[24..26].copy_from_slice(&9999u16.to_be_bytes());
        p
    }

    #[test]
    fn copy_lengths_v4() {
        let mut p = ipv4_udp(160);
        assert!(fix_copy_lengths(&mut p, 20));
        assert_eq!(&p[2..4], &188u16.to_be_bytes());
        assert_eq!(&p[24..26], &168u16.to_be_bytes());
        // With IP options the UDP header is further in.
        let mut p = vec![0u8; 24 + 8 + 10];
        p[0] = 0x46;
        assert!(fix_copy_lengths(&mut p, 24));
        assert_eq!(&p[2..4], &42u16.to_be_bytes());
        assert_eq!(&p[28..30], &18u16.to_be_bytes());
    }

    #[test]
    fn copy_lengths_v6() {
        let mut p = vec![0u8; 40 + 8 + 20];
        p[0] = 0x60;
        assert!(fix_copy_lengths(&mut p, 40));
        assert_eq!(&p[4..6], &28u16.to_be_bytes());
        assert_eq!(&p[44..46], &28u16.to_be_bytes());
    }

    #[test]
    fn copy_lengths_refuse_garbage() {
        assert!(!fix_copy_lengths(&mut [], 0));
        assert!(!fix_copy_lengths(&mut ipv4_udp(0)[..27], 20), "short UDP");
        let mut p = ipv4_udp(4);
        p[0] = 0x55;
        assert!(!fix_copy_lengths(&mut p, 20), "version 5");
        let mut p = ipv4_udp(4);
        assert!(!fix_copy_lengths(&mut p, 12), "UDP inside the IP header");
        let mut p = vec![0u8; 70000];
        p[0] = 0x45;
        assert!(!fix_copy_lengths(&mut p, 20), "too long for the fields");
    }

    /// A small deterministic generator for the model tests.
    struct Lcg(u64);
    impl Lcg {
        fn next(&mut self, n: u32) -> u32 {
            self.0 = self
                .0
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((self.0 >> 33) % u64::from(n)) as u32
        }
    }

    /// 10.5's `auto_array`, written the way it is there: a free list (front = last
    /// freed) and, when it is empty, the first unused slot.
    #[derive(Default)]
    struct AutoArray {
        used: Vec<bool>,
        free: Vec<u32>,
    }
    impl AutoArray {
        fn alloc(&mut self) -> u32 {
            if let Some(i) = self.free.pop() {
                self.used[i as usize] = true;
                return i;
            }
            let i = self.used.iter().position(|u| !u).unwrap_or_else(|| {
                self.used.push(false);
                self.used.len() - 1
            });
            self.used[i] = true;
            i as u32
        }
        fn free(&mut self, i: u32) {
            self.used[i as usize] = false;
            self.free.push(i);
        }
    }

    #[test]
    fn registry_matches_a_model_of_10_5() {
        use std::collections::BTreeMap;
        let mut r = rec();
        let (mut call_ids, mut stream_ids) = (AutoArray::default(), AutoArray::default());
        // call idx -> (name, its streams (idx, name) in the order added)
        let mut model: BTreeMap<u32, (String, Vec<(u32, String)>)> = BTreeMap::new();
        let mut g = Lcg(1);
        for step in 0..20000 {
            let call = g.next(12);
            let name = format!("n{}", g.next(6));
            match g.next(5) {
                0 => {
                    let want = if model.values().any(|(n, _)| *n == name) {
                        Err(errno::EEXIST)
                    } else {
                        let i = call_ids.alloc();
                        model.insert(i, (name.clone(), Vec::new()));
                        Ok(i)
                    };
                    assert_eq!(add_call(&mut r, &name), want, "step {step}");
                }
                1 => {
                    // 10.5 deletes the call's streams newest first, then frees the call.
                    let want = model.remove(&call).ok_or(errno::ENOENT).map(|(_, st)| {
                        let gone: Vec<u32> = st.iter().rev().map(|s| s.0).collect();
                        for &i in &gone {
                            stream_ids.free(i);
                        }
                        call_ids.free(call);
                        gone
                    });
                    let mut got = Vec::new();
                    let res = r.del_call(call, |i, _| got.push(i)).map(|_| got);
                    assert_eq!(res, want, "step {step}");
                }
                2 | 3 => {
                    let want = match model.get_mut(&call) {
                        None => Err(errno::ENOENT),
                        Some((_, s)) if s.iter().any(|x| x.1 == name) => Err(errno::EEXIST),
                        Some((_, s)) => {
                            let i = stream_ids.alloc();
                            s.push((i, name.clone()));
                            Ok(i)
                        }
                    };
                    assert_eq!(add_stream(&mut r, call, &name), want, "step {step}");
                }
                _ => {
                    let mut info = stream_info(call, "");
                    info.stream_idx = g.next(40);
                    let pos = model
                        .get(&call)
                        .and_then(|(_, s)| s.iter().position(|x| x.0 == info.stream_idx));
                    let want = match pos {
                        Some(p) => {
                            model.get_mut(&call).unwrap().1.remove(p);
                            stream_ids.free(info.stream_idx);
                            Ok(info.stream_idx)
                        }
                        None => Err(errno::ENOENT),
                    };
                    let got = r.del_stream(&info).map(|e| e.handle - 2000);
                    assert_eq!(got, want, "step {step}");
                }
            }
            assert_eq!(r.num_calls() as usize, model.len());
            let streams: usize = model.values().map(|(_, s)| s.len()).sum();
            assert_eq!(r.num_streams() as usize, streams);
            for (&c, (n, s)) in &model {
                assert_eq!(r.call(c).unwrap().name.as_bytes(), n.as_bytes());
                assert_eq!(r.call(c).unwrap().streams() as usize, s.len());
                for (i, n) in s {
                    let e = r.stream(*i).unwrap();
                    assert_eq!((e.call_idx, e.name.as_bytes()), (c, n.as_bytes()));
                }
            }
        }
    }

    #[test]
    fn queue_matches_a_model() {
        use std::collections::VecDeque;
        let mut g = Lcg(7);
        for cap in 1..6usize {
            let mut q = queue(cap);
            let mut m = VecDeque::new();
            let mut dropped = 0;
            for n in 0..2000u32 {
                if g.next(3) < 2 {
                    let want = if m.len() == cap {
                        dropped += 1;
                        Pushed::Replaced(m.pop_front().unwrap())
                    } else {
                        Pushed::Queued
                    };
                    m.push_back(n);
                    assert_eq!(q.push(n), want);
                } else {
                    let want = m.pop_front().map_or(Popped::Empty, Popped::Packet);
                    assert_eq!(q.pop(), want);
                }
                assert_eq!(
                    (q.len(), q.dropped(), q.readable()),
                    (m.len(), dropped, !m.is_empty())
                );
            }
        }
    }
}
