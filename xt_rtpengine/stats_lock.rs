// SPDX-License-Identifier: GPL-2.0

//! A tiny lock for per-target statistics that the packet path (softirq) updates and
//! /proc readers (process context) copy out.
//!
//! The packet path only *tries* the lock and skips the update when it is taken, so it
//! can never deadlock against a reader it interrupted on the same CPU; readers spin,
//! which is safe because a holder never waits for anything. The cost of a lost update
//! under contention (two CPUs on one stream at once) is one packet missing from the
//! per-SSRC statistics, never a wrong forward.

use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicBool, Ordering};

pub(crate) struct StatsLock<T> {
    busy: AtomicBool,
    value: UnsafeCell<T>,
}

// SAFETY: access to `value` is serialised by `busy` (acquire on take, release on drop),
// so sharing the lock between threads is sound whenever `T` may be sent between them.
unsafe impl<T: Send> Sync for StatsLock<T> {}

impl<T> StatsLock<T> {
    pub(crate) const fn new(value: T) -> Self {
        StatsLock {
            busy: AtomicBool::new(false),
            value: UnsafeCell::new(value),
        }
    }

    fn take(&self) -> bool {
        self.busy
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
    }

    /// Packet path: runs `f` if the lock is free, else does nothing.
    pub(crate) fn try_update(&self, f: impl FnOnce(&mut T)) -> bool {
        if !self.take() {
            return false;
        }
        // SAFETY: `take` succeeded, so this is the only reference until the release below.
        f(unsafe { &mut *self.value.get() });
        self.busy.store(false, Ordering::Release);
        true
    }

    /// Packet path: runs `f` and returns its result if the lock is free; `None` (and
    /// `f` dropped unrun) otherwise.
    pub(crate) fn try_with<R>(&self, f: impl FnOnce(&mut T) -> R) -> Option<R> {
        if !self.take() {
            return None;
        }
        // SAFETY: as in `try_update`.
        let r = f(unsafe { &mut *self.value.get() });
        self.busy.store(false, Ordering::Release);
        Some(r)
    }

    /// Process context: waits for the lock, then runs `f`.
    pub(crate) fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        while !self.take() {
            core::hint::spin_loop();
        }
        // SAFETY: as in `try_update`.
        let r = f(unsafe { &mut *self.value.get() });
        self.busy.store(false, Ordering::Release);
        r
    }
}
