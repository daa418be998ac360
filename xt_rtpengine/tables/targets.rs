// SPDX-License-Identifier: GPL-2.0

//! The targets of one table: a hash of local address → target, read lock-free by the
//! packet path under RCU and changed by the control file under a mutex.
//!
//! Each bucket is a singly linked list kept in address order (so a listing can resume
//! after the last address it showed, whatever was added or deleted meanwhile). Writers
//! publish with release stores; a deleted target is freed by a work item queued with
//! `queue_rcu_work`, which runs after an RCU grace period, so a packet that found it can
//! finish with it (and in process context, where crypto transforms may be freed).

use crate::ffi;
use crate::rtpengine_core::abi::Address;
use crate::rtpengine_core::abi::{
    DestinationInfo, ListEntry, OutputInfo, RtpStats, SsrcStats, Stats, StatsInfo, TargetInfo,
    MAX_PAYLOAD_TYPES, MAX_SSRC,
};
use crate::rtpengine_core::errno::{self, Errno};
use crate::rtpengine_core::target::{cmp_address, hash_address, normalize, Slots};
use crate::srtp::state::SrtpState;
use crate::stats_lock::StatsLock;
use core::cell::UnsafeCell;
use core::cmp::Ordering as CmpOrdering;
use core::mem::offset_of;
use core::ptr;
use core::sync::atomic::{AtomicPtr, AtomicU32, AtomicU64, AtomicU8, AtomicUsize, Ordering};
use kernel::bindings;
use kernel::prelude::*;
use kernel::sync::Mutex;
use kernel::types::Opaque;

const BUCKET_BITS: u32 = 12;
const NUM_BUCKETS: usize = 1 << BUCKET_BITS;
const NO_HINT: usize = usize::MAX;

/// Per-target counters, updated by the packet path without locks.
#[derive(Default)]
pub(crate) struct Counters {
    pub(crate) packets: AtomicU64,
    pub(crate) bytes: AtomicU64,
    pub(crate) errors: AtomicU64,
    pub(crate) in_tos: AtomicU8,
}

#[derive(Default)]
pub(crate) struct PtCounters {
    pub(crate) packets: AtomicU64,
    pub(crate) bytes: AtomicU64,
}

/// One output of a target: where to send, and its SRTP encryption state.
pub(crate) struct Output {
    pub(crate) info: OutputInfo,
    pub(crate) encrypt: Option<KBox<SrtpState>>,
}

/// An output slot, written once (see `Target`'s `Sync`).
pub(crate) struct OutputSlot(UnsafeCell<Option<Output>>);

/// One forwarding target (`local` address/port) and its outputs.
pub(crate) struct Target {
    /// Next target in the bucket, in address order.
    next: AtomicPtr<Target>,
    /// For freeing after a grace period, in process context (crypto transforms).
    rcu: Opaque<bindings::rcu_work>,
    /// As validated by ADD_TARGET; never changes afterwards.
    pub(crate) info: TargetInfo,
    /// `info.num_destinations` slots, each written once by ADD_DESTINATION.
    outputs: KVec<OutputSlot>,
    /// SRTP decryption of received packets (`None`: plain RTP).
    pub(crate) decrypt: Option<KBox<SrtpState>>,
    /// Bit i set when output i is filled. Written under the table's lock.
    filled: AtomicU32,
    /// Outputs still missing; the packet path forwards only at 0 (acquire).
    unfilled: AtomicU32,
    pub(crate) counters: Counters,
    pub(crate) pt_counters: [PtCounters; MAX_PAYLOAD_TYPES],
    /// Payload-type index of the last packet (a lookup cache).
    pt_hint: AtomicUsize,
    pub(crate) ssrc_stats: StatsLock<[SsrcStats; MAX_SSRC]>,
}

// SAFETY: the only non-`Sync` parts are the output cells and the `rcu_work`. An output
// cell is written exactly once, under the table's mutex, before `unfilled` is released;
// it is read either under that mutex or by the packet path after observing
// `unfilled == 0` with acquire ordering, so reads never race with the write. The
// `rcu_work` is used only by `queue_rcu_work`, once, after the target is unreachable.
unsafe impl Sync for Target {}
// SAFETY: a `Target` owns plain data and kernel allocations that may be freed anywhere.
unsafe impl Send for Target {}

impl Target {
    fn new(info: TargetInfo, decrypt: Option<KBox<SrtpState>>) -> Result<KBox<Self>, Errno> {
        let n = info.num_destinations as usize;
        let mut outputs = KVec::with_capacity(n, GFP_KERNEL).map_err(|_| errno::ENOMEM)?;
        for _ in 0..n {
            outputs
                .push(OutputSlot(UnsafeCell::new(None)), GFP_KERNEL)
                .map_err(|_| errno::ENOMEM)?;
        }
        KBox::new(
            Target {
                next: AtomicPtr::new(ptr::null_mut()),
                rcu: Opaque::uninit(),
                info,
                outputs,
                decrypt,
                filled: AtomicU32::new(0),
                unfilled: AtomicU32::new(n as u32),
                counters: Counters::default(),
                pt_counters: Default::default(),
                pt_hint: AtomicUsize::new(NO_HINT),
                ssrc_stats: StatsLock::new(initial_ssrc_stats()),
            },
            GFP_KERNEL,
        )
        .map_err(|_| errno::ENOMEM)
    }

    /// The outputs, if all are filled; for the packet path.
    pub(crate) fn ready_outputs(&self) -> Option<&[OutputSlot]> {
        if self.unfilled.load(Ordering::Acquire) != 0 {
            return None;
        }
        Some(&self.outputs)
    }

    pub(crate) fn unfilled(&self) -> u32 {
        self.unfilled.load(Ordering::Relaxed)
    }

    pub(crate) fn pt_hint(&self) -> Option<usize> {
        match self.pt_hint.load(Ordering::Relaxed) {
            NO_HINT => None,
            i => Some(i),
        }
    }

    pub(crate) fn set_pt_hint(&self, i: usize) {
        self.pt_hint.store(i, Ordering::Relaxed);
    }

    /// The blist record of this target. Call with the table's lock held.
    fn fill_entry(&self, e: &mut ListEntry) {
        e.target = self.info;
        e.stats = Stats {
            packets: self.counters.packets.load(Ordering::Relaxed),
            bytes: self.counters.bytes.load(Ordering::Relaxed),
            errors: self.counters.errors.load(Ordering::Relaxed),
            in_tos: self.counters.in_tos.load(Ordering::Relaxed),
            ..Stats::default()
        };
        for (dst, src) in e.rtp_stats.iter_mut().zip(self.pt_counters.iter()) {
            *dst = RtpStats {
                packets: src.packets.load(Ordering::Relaxed),
                bytes: src.bytes.load(Ordering::Relaxed),
            };
        }
        if let Some(d) = &self.decrypt {
            e.target.decrypt.last_index = d.last_index();
        }
        for (i, slot) in self.outputs.iter().enumerate() {
            // SAFETY: the caller holds the table's lock, which every output write holds.
            if let Some(o) = unsafe { &*slot.0.get() } {
                e.outputs[i] = o.info;
                if let Some(enc) = &o.encrypt {
                    e.outputs[i].encrypt.last_index = enc.last_index();
                }
            }
        }
    }
}

fn initial_ssrc_stats() -> [SsrcStats; MAX_SSRC] {
    // 10.5 starts the loss tracker with every bit set (nothing lost yet).
    [SsrcStats {
        lost_bits: u32::MAX,
        ..SsrcStats::default()
    }; MAX_SSRC]
}

impl OutputSlot {
    /// The output, for the packet path once the target is complete.
    pub(crate) fn get(&self) -> Option<&Output> {
        // SAFETY: callers reach slots only through `ready_outputs` (all filled, acquire)
        // or under the table's lock; a slot is never written after it is filled.
        unsafe { (*self.0.get()).as_ref() }
    }
}

/// Frees a target once no RCU reader can see it any more (workqueue, process context).
///
/// # Safety
/// Called by the workqueue only, for the `rcu` work of a target queued by `del`.
unsafe extern "C" fn free_target_work(work: *mut bindings::work_struct) {
    // SAFETY: `work` is the first field of the `rcu_work` in the `rcu` field of a
    // `Target` leaked from a `KBox` by `del` and queued once; after the grace period
    // nothing else refers to it.
    unsafe {
        let t = work
            .cast::<u8>()
            .sub(offset_of!(Target, rcu))
            .cast::<Target>();
        drop(KBox::from_raw(t));
    }
}

/// Where a listing stopped: the bucket and the last address shown in it.
#[derive(Clone, Copy, Default)]
pub(crate) struct Cursor {
    bucket: usize,
    last: Option<Address>,
}

/// The targets of one table.
#[pin_data(PinnedDrop)]
pub(crate) struct Targets {
    buckets: KVVec<AtomicPtr<Target>>,
    /// Serialises every change, and readers that need a consistent view (blist, stats).
    #[pin]
    lock: Mutex<()>,
    count: AtomicU32,
}

impl Targets {
    pub(crate) fn new() -> impl PinInit<Self, Error> {
        try_pin_init!(Targets {
            buckets: {
                let mut v = KVVec::with_capacity(NUM_BUCKETS, GFP_KERNEL)?;
                for _ in 0..NUM_BUCKETS {
                    v.push(AtomicPtr::new(ptr::null_mut()), GFP_KERNEL)?;
                }
                v
            },
            lock <- kernel::new_mutex!((), "rtpengine_targets"),
            count: AtomicU32::new(0),
        }? Error)
    }

    pub(crate) fn len(&self) -> u32 {
        self.count.load(Ordering::Relaxed)
    }

    fn bucket(&self, a: &Address) -> &AtomicPtr<Target> {
        &self.buckets[(hash_address(a) as usize) & (NUM_BUCKETS - 1)]
    }

    /// The target for local address `a`, for the packet path.
    ///
    /// # Safety
    /// The caller must be in an RCU read-side critical section and must not keep the
    /// reference past it.
    pub(crate) unsafe fn lookup_rcu(&self, a: &Address) -> Option<&Target> {
        let mut p = self.bucket(a).load(Ordering::Acquire);
        // SAFETY: published targets are freed only after a grace period following their
        // unlinking, and the caller is inside a read-side section.
        while let Some(t) = unsafe { p.as_ref() } {
            match cmp_address(&t.info.local, a) {
                CmpOrdering::Equal => return Some(t),
                CmpOrdering::Greater => return None,
                CmpOrdering::Less => p = t.next.load(Ordering::Acquire),
            }
        }
        None
    }

    /// Walks bucket of `a` under the lock: returns the link that points at the first
    /// target not below `a`, and that target.
    fn position<'a>(&'a self, a: &Address) -> (&'a AtomicPtr<Target>, Option<&'a Target>) {
        let mut link = self.bucket(a);
        loop {
            let p = link.load(Ordering::Relaxed);
            // SAFETY: the caller holds the lock, so no target of this bucket is freed.
            match unsafe { p.as_ref() } {
                Some(t) if cmp_address(&t.info.local, a) == CmpOrdering::Less => link = &t.next,
                other => return (link, other),
            }
        }
    }

    /// ADD_TARGET with an already validated target.
    pub(crate) fn add(
        &self,
        info: TargetInfo,
        decrypt: Option<KBox<SrtpState>>,
    ) -> Result<(), Errno> {
        let target = Target::new(info, decrypt)?;
        let _guard = self.lock.lock();
        let (link, at) = self.position(&info.local);
        if matches!(at, Some(t) if cmp_address(&t.info.local, &info.local) == CmpOrdering::Equal) {
            return Err(errno::EEXIST);
        }
        target
            .next
            .store(link.load(Ordering::Relaxed), Ordering::Relaxed);
        // Release: the target's contents are visible before it is reachable.
        link.store(KBox::into_raw(target), Ordering::Release);
        self.count.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// DEL_TARGET.
    pub(crate) fn del(&self, local: &Address) -> Result<(), Errno> {
        let mut local = *local;
        normalize(&mut local);
        let _guard = self.lock.lock();
        let (link, at) = self.position(&local);
        let t = match at {
            Some(t) if cmp_address(&t.info.local, &local) == CmpOrdering::Equal => t,
            _ => return Err(errno::ENOENT),
        };
        link.store(t.next.load(Ordering::Relaxed), Ordering::Release);
        self.count.fetch_sub(1, Ordering::Relaxed);
        // SAFETY: `t` came from `KBox::into_raw` in `add` and is now unreachable for new
        // readers; `free_target_work` frees it after current readers are done.
        unsafe { ffi::rtpe_free_after_rcu(t.rcu.get(), Some(free_target_work)) };
        Ok(())
    }

    /// Runs `f` on the target at `local` with the lock held.
    fn with_target<R>(&self, local: &Address, f: impl FnOnce(&Target) -> R) -> Result<R, Errno> {
        let mut local = *local;
        normalize(&mut local);
        let _guard = self.lock.lock();
        match self.position(&local).1 {
            Some(t) if cmp_address(&t.info.local, &local) == CmpOrdering::Equal => Ok(f(t)),
            _ => Err(errno::ENOENT),
        }
    }

    /// ADD_DESTINATION with a validated destination and its encryption state.
    pub(crate) fn add_destination(
        &self,
        d: &DestinationInfo,
        encrypt: Option<KBox<SrtpState>>,
    ) -> Result<(), Errno> {
        self.with_target(&d.local, |t| {
            let mut slots = Slots {
                filled: t.filled.load(Ordering::Relaxed),
                total: t.info.num_destinations,
            };
            slots.check(d.num)?;
            let cell = t.outputs.get(d.num as usize).ok_or(errno::ERANGE)?;
            let mut info = d.output;
            normalize(&mut info.src_addr);
            normalize(&mut info.dst_addr);
            // SAFETY: slot `d.num` is unfilled (checked above), so no reader looks at it
            // yet, and writers are serialised by the lock we hold.
            unsafe { *cell.0.get() = Some(Output { info, encrypt }) };
            slots.fill(d.num);
            t.filled.store(slots.filled, Ordering::Relaxed);
            // Release: the output is visible before the packet path may use it.
            t.unfilled.fetch_sub(1, Ordering::Release);
            Ok(())
        })?
    }

    /// GET_STATS / GET_RESET_STATS: per-SSRC statistics (reset clears packets, bytes,
    /// total_lost, as 10.5 does).
    pub(crate) fn stats(&self, info: &mut StatsInfo, reset: bool) -> Result<(), Errno> {
        self.with_target(&info.local, |t| {
            info.ssrc = t.info.ssrc;
            t.ssrc_stats.with(|s| {
                info.ssrc_stats = *s;
                if reset {
                    for x in s.iter_mut() {
                        x.packets = 0;
                        x.bytes = 0;
                        x.total_lost = 0;
                    }
                }
            });
        })
    }

    /// The next target after `cursor`, as a blist record plus its unfilled count.
    pub(crate) fn next_entry(&self, cursor: &mut Cursor, e: &mut ListEntry) -> Option<u32> {
        let _guard = self.lock.lock();
        while cursor.bucket < NUM_BUCKETS {
            let mut p = self.buckets[cursor.bucket].load(Ordering::Relaxed);
            // SAFETY: the lock is held, so the bucket's targets stay allocated.
            while let Some(t) = unsafe { p.as_ref() } {
                let after = match &cursor.last {
                    Some(last) => cmp_address(&t.info.local, last) == CmpOrdering::Greater,
                    None => true,
                };
                if after {
                    t.fill_entry(e);
                    cursor.last = Some(t.info.local);
                    return Some(t.unfilled());
                }
                p = t.next.load(Ordering::Relaxed);
            }
            cursor.bucket += 1;
            cursor.last = None;
        }
        None
    }
}

#[pinned_drop]
impl PinnedDrop for Targets {
    fn drop(self: Pin<&mut Self>) {
        // The table is unreachable for the packet path (unpublished and a grace period
        // passed, see `tables.rs`) and for the control file (its last reference is gone),
        // so the targets can be freed directly.
        for b in self.buckets.iter() {
            let mut p = b.swap(ptr::null_mut(), Ordering::Relaxed);
            while !p.is_null() {
                // SAFETY: `p` came from `KBox::into_raw` in `add` and nothing else can
                // reach it any more.
                let t = unsafe { KBox::from_raw(p) };
                p = t.next.load(Ordering::Relaxed);
            }
        }
    }
}
