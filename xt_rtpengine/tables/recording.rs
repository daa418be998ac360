// SPDX-License-Identifier: GPL-2.0

//! Recording through the kernel (`recording-method=proc`) for one table: the calls and
//! streams of `rtpengine_core::recording::Recording`, with their /proc entries
//! (`N/calls/<call>/<stream>`) and packet queues. docs/recording-kernel.md has the
//! design; the checks and index rules are in the core.
//!
//! Locking: control commands run under `state` (a mutex; creating /proc entries may
//! sleep). The packet path (softirq) cannot take it and finds streams in `mirror`,
//! index → stream, which the control path updates under `state`. Both the mirror and
//! each stream's queue are `StatsLock`s: the packet path only tries them and counts a
//! packet as lost when it is busy, so forwarding never waits for a reader.

use crate::ffi;
use crate::proc::dir::{ProcDir, S_IFDIR};
use crate::proc::stream::StreamFile;
use crate::rtpengine_core::abi::{CallInfo, PacketInfo, StreamInfo, TargetInfo};
use crate::rtpengine_core::errno::{self, Errno};
use crate::rtpengine_core::recording::{
    self, CallEntry, Limits, PacketQueue, Popped, Pushed, Recording, Slot, SlotStore, StreamEntry,
    NAME_LEN,
};
use crate::stats_lock::StatsLock;
use crate::waitq::WaitQueue;
use core::sync::atomic::{AtomicU64, Ordering};
use kernel::alloc::flags::__GFP_NOWARN;
use kernel::alloc::{Flags, KVVec};
use kernel::prelude::*;
use kernel::str::CStr;
use kernel::sync::{Arc, Mutex};

/// One queued packet: a copy of its bytes (an IP packet, or what PACKET wrote).
pub(crate) type Packet = KVec<u8>;

/// The ring a stream's queue keeps its packets in.
pub(crate) struct Ring(KVec<Option<Packet>>);

impl AsRef<[Option<Packet>]> for Ring {
    fn as_ref(&self) -> &[Option<Packet>] {
        &self.0
    }
}

impl AsMut<[Option<Packet>]> for Ring {
    fn as_mut(&mut self) -> &mut [Option<Packet>] {
        &mut self.0
    }
}

/// A recorded stream: its queue and its readers. Shared by the table (until the stream
/// is deleted), the packet path (for one packet) and each open stream file.
pub(crate) struct Stream {
    queue: StatsLock<PacketQueue<Packet, Ring>>,
    /// Packets not queued: the queue was busy, or a copy could not be allocated.
    lost: AtomicU64,
    readers: WaitQueue,
}

impl Stream {
    fn new(max_packets: u32) -> Result<Arc<Self>, Errno> {
        let mut ring = KVec::with_capacity(max_packets as usize, gfp_user_sized())
            .map_err(|_| errno::ENOMEM)?;
        for _ in 0..max_packets {
            ring.push(None, gfp_user_sized())
                .map_err(|_| errno::ENOMEM)?;
        }
        let readers = WaitQueue::new().map_err(|_| errno::ENOMEM)?;
        Arc::new(
            Stream {
                queue: StatsLock::new(PacketQueue::new(Ring(ring))),
                lost: AtomicU64::new(0),
                readers,
            },
            GFP_KERNEL,
        )
        .map_err(|_| errno::ENOMEM)
    }

    /// Queues `p` (pushing out the oldest when full) and wakes readers. Any context;
    /// never waits: a queue busy with a reader loses the packet (counted).
    pub(crate) fn push(&self, p: Packet) {
        self.pushed(self.queue.try_with(move |q| q.push(p)));
    }

    /// As `push`, but waits for a busy queue (a reader holds it only to take a packet).
    /// Process context: PACKET, which 10.5 always queues.
    fn push_wait(&self, p: Packet) {
        self.pushed(Some(self.queue.with(move |q| q.push(p))));
    }

    fn pushed(&self, r: Option<Pushed<Packet>>) {
        match r {
            None => {
                self.lost.fetch_add(1, Ordering::Relaxed);
                return;
            }
            Some(Pushed::Queued) => {}
            // Freed here, outside the queue.
            Some(Pushed::Replaced(old)) => drop(old),
            Some(Pushed::Discarded(p)) => {
                drop(p);
                return;
            }
        }
        self.readers.wake();
    }

    /// A packet lost before it could be queued (no memory for its copy).
    pub(crate) fn count_lost(&self) {
        self.lost.fetch_add(1, Ordering::Relaxed);
    }

    /// Takes the oldest packet. Process context.
    pub(crate) fn pop(&self) -> Popped<Packet> {
        self.queue.with(|q| q.pop())
    }

    /// A read would not block: a packet is queued, or the stream has ended.
    pub(crate) fn readable(&self) -> bool {
        self.queue.with(|q| q.readable())
    }

    /// The stream has been deleted.
    pub(crate) fn is_eof(&self) -> bool {
        self.queue.with(|q| q.is_eof())
    }

    pub(crate) fn readers(&self) -> &WaitQueue {
        &self.readers
    }

    /// Packets pushed out by newer ones or lost, so far.
    #[allow(dead_code)]
    pub(crate) fn dropped(&self) -> u64 {
        self.queue.with(|q| q.dropped()) + self.lost.load(Ordering::Relaxed)
    }

    /// Ends the stream: frees its packets; readers get end of file from now on.
    fn close(&self) {
        self.queue.with(|q| q.close(drop));
        self.readers.wake();
    }
}

/// What the table keeps of a stream: the stream and its file.
pub(crate) struct StreamHandle {
    stream: Arc<Stream>,
    /// `calls/<call>/<stream>`, removed on drop.
    file: ProcDir,
}

// kvmalloc'ed: 65536 streams of about 300 bytes each are more than kmalloc gives.
type Calls = KVVec<Slot<CallEntry<ProcDir>>>;
type Streams = KVVec<Slot<StreamEntry<StreamHandle>>>;

/// For allocations whose size the daemon chooses: a failure is ENOMEM, not a kernel
/// warning.
pub(crate) fn gfp_user_sized() -> Flags {
    GFP_KERNEL | __GFP_NOWARN
}

/// For a packet's copy on the packet path: softirq, and a failure is counted, not logged.
pub(crate) fn gfp_copy() -> Flags {
    GFP_ATOMIC | __GFP_NOWARN
}

impl<T> SlotStore<T> for KVVec<Slot<T>> {
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
        self.push(slot, gfp_user_sized()).map_err(|_| errno::ENOMEM)
    }
}

struct State {
    /// `N/calls/`; `None` before the table's directory exists and after `clear`.
    calls_dir: Option<ProcDir>,
    rec: Recording<ProcDir, StreamHandle, Calls, Streams>,
}

/// The recording state of one table.
#[pin_data]
pub(crate) struct TableRecording {
    #[pin]
    state: Mutex<State>,
    /// Stream index → stream, for the packet path.
    mirror: StatsLock<KVVec<Option<Arc<Stream>>>>,
}

/// `name` (no NUL inside, shorter than `NAME_LEN`) as a C string in `buf`.
fn c_name<'a>(name: &[u8], buf: &'a mut [u8; NAME_LEN]) -> Result<&'a CStr, Errno> {
    let n = name.len();
    if n >= NAME_LEN {
        return Err(errno::EINVAL);
    }
    buf[..n].copy_from_slice(name);
    buf[n] = 0;
    CStr::from_bytes_with_nul(&buf[..=n]).map_err(|_| errno::EINVAL)
}

fn limits() -> Limits {
    // SAFETY: reads a module parameter; plain integer load.
    let default = unsafe { ffi::rtpe_param_stream_packets_list_limit() };
    Limits {
        default_max_packets: default.max(1),
        ..Limits::default()
    }
}

impl TableRecording {
    pub(crate) fn new() -> impl PinInit<Self, Error> {
        try_pin_init!(TableRecording {
            state <- kernel::new_mutex!(
                State {
                    calls_dir: None,
                    rec: Recording::new(KVVec::new(), KVVec::new(), limits()),
                },
                "rtpengine_recording"
            ),
            mirror: StatsLock::new(KVVec::new()),
        }? Error)
    }

    /// Hands over `N/calls/`, once the table's directory exists.
    pub(crate) fn set_calls_dir(&self, dir: ProcDir) {
        self.state.lock().calls_dir = Some(dir);
    }

    /// ADD_CALL: creates `calls/<call_id>/` and answers the index in `info.call_idx`.
    pub(crate) fn add_call(&self, info: &mut CallInfo) -> Result<(), Errno> {
        let mut st = self.state.lock();
        let State { calls_dir, rec } = &mut *st;
        rec.add_call(info, |_idx, name| {
            let parent = calls_dir.as_ref().ok_or(errno::ENOENT)?;
            let mut buf = [0u8; NAME_LEN];
            let name = c_name(name, &mut buf)?;
            ProcDir::new(name, S_IFDIR | 0o555, Some(parent)).map_err(|_| errno::ENOMEM)
        })
        .map(|_| ())
    }

    /// DEL_CALL: deletes the call's streams, then its directory.
    pub(crate) fn del_call(&self, idx: u32) -> Result<(), Errno> {
        let mut st = self.state.lock();
        let call = st.rec.del_call(idx, |s, e| self.retire(s, e.handle))?;
        drop(call);
        Ok(())
    }

    /// ADD_STREAM: creates `calls/<call>/<stream_name>` with its queue and answers the
    /// index in `info.stream_idx`.
    pub(crate) fn add_stream(&self, info: &mut StreamInfo) -> Result<(), Errno> {
        let mut st = self.state.lock();
        let idx = st
            .rec
            .add_stream(info, |idx, max_packets, name, call_dir| {
                // Room in the mirror first: nothing can fail once the stream exists.
                self.reserve_mirror(idx)?;
                let stream = Stream::new(max_packets)?;
                let raw = Arc::into_raw(stream);
                // SAFETY: `raw` comes from `into_raw` just above and is consumed once.
                let stream = unsafe { Arc::from_raw(raw) };
                let mut buf = [0u8; NAME_LEN];
                let name = c_name(name, &mut buf)?;
                // The file's data is the stream itself (kept alive by the handle until the
                // file is removed), so a reused index never reaches an old file.
                let file = call_dir
                    .create_owned_file::<StreamFile>(name, 0o440, raw as usize)
                    .map_err(|_| errno::ENOMEM)?;
                Ok(StreamHandle { stream, file })
            })?;
        if let Some(h) = st.rec.stream(idx) {
            let s = h.handle.stream.clone();
            let old = self
                .mirror
                .with(|m| m.get_mut(idx as usize).map(|slot| slot.replace(s)));
            drop(old);
        }
        Ok(())
    }

    /// DEL_STREAM.
    pub(crate) fn del_stream(&self, info: &StreamInfo) -> Result<(), Errno> {
        let mut st = self.state.lock();
        let e = st.rec.del_stream(info)?;
        self.retire(info.stream_idx, e.handle);
        Ok(())
    }

    /// PACKET: queues `data` (what followed the message) on the stream.
    pub(crate) fn packet(&self, info: &PacketInfo, data: Packet) -> Result<(), Errno> {
        let st = self.state.lock();
        let h = st.rec.packet(info, data.len())?;
        h.stream.push_wait(data);
        Ok(())
    }

    /// The stream that packets forwarded by a target with `info` are copied to. Packet
    /// path: never waits (a busy mirror means no copy this time).
    pub(crate) fn intercept(&self, info: &TargetInfo) -> Option<Arc<Stream>> {
        let idx = recording::intercept_stream(info)? as usize;
        self.mirror
            .try_with(|m| m.get(idx).and_then(|s| s.clone()))
            .flatten()
    }

    /// Deletes every call and `calls/` itself: for deleting the table, before its
    /// directory is removed.
    pub(crate) fn clear(&self) {
        let mut st = self.state.lock();
        st.rec
            .clear(|s, e| self.retire(s, e.handle), |_, call| drop(call));
        drop(st.calls_dir.take());
    }

    /// Makes the mirror long enough for index `idx`. The bigger vector is allocated
    /// outside the lock; the entries move over under it without allocating.
    fn reserve_mirror(&self, idx: u32) -> Result<(), Errno> {
        let need = idx as usize + 1;
        let len = self.mirror.with(|m| m.len());
        if need <= len {
            return Ok(());
        }
        let new_len = need.max(len * 2).max(16);
        let mut v = KVVec::with_capacity(new_len, gfp_user_sized()).map_err(|_| errno::ENOMEM)?;
        let old = self.mirror.with(move |m| {
            for slot in m.iter_mut() {
                // Within the capacity reserved above: no allocation, cannot fail.
                let _ = v.push(slot.take(), GFP_ATOMIC);
            }
            while v.len() < new_len {
                let _ = v.push(None, GFP_ATOMIC);
            }
            core::mem::replace(m, v)
        });
        drop(old);
        Ok(())
    }

    /// Takes a deleted stream out of reach: out of the mirror (no new copies), ended
    /// (readers wake up and get end of file), its file removed (procfs waits for
    /// callbacks in progress and releases open files), then the table's reference
    /// dropped. Never waits for readers to close the file.
    fn retire(&self, idx: u32, h: StreamHandle) {
        let old = self
            .mirror
            .with(|m| m.get_mut(idx as usize).and_then(Option::take));
        drop(old);
        h.stream.close();
        drop(h.file);
        drop(h.stream);
    }
}
