// SPDX-License-Identifier: GPL-2.0

//! A kernel wait queue (helpers.c allocates it: `wait_event_interruptible` and
//! `poll_wait` are macros and inlines) that readers sleep on and pollers register with,
//! and that detaches pollers itself when it is freed.

use crate::ffi;
use core::ptr::NonNull;
use kernel::bindings;
use kernel::ffi::c_void;
use kernel::prelude::*;

pub(crate) struct WaitQueue(NonNull<c_void>);

// SAFETY: a wait queue head is made to be woken, waited on and polled from any thread
// and context; it carries its own spinlock.
unsafe impl Send for WaitQueue {}
// SAFETY: as above; every operation through `&WaitQueue` is thread safe in the kernel.
unsafe impl Sync for WaitQueue {}

impl WaitQueue {
    pub(crate) fn new() -> Result<Self> {
        // SAFETY: plain allocation call; null on failure.
        let p = unsafe { ffi::rtpe_waitq_new() };
        NonNull::new(p).map(WaitQueue).ok_or(ENOMEM)
    }

    /// Wakes every sleeper and poller. Any context.
    pub(crate) fn wake(&self) {
        // SAFETY: `self.0` is a live wait queue until drop.
        unsafe { ffi::rtpe_waitq_wake(self.0.as_ptr()) }
    }

    /// Sleeps until `cond` holds (checked again after every wakeup, with no window for a
    /// lost wakeup). ERESTARTSYS when a signal arrives first. Process context only.
    pub(crate) fn wait<F: Fn() -> bool>(&self, cond: &F) -> Result {
        /// # Safety
        /// `arg` must point to a live `F`.
        unsafe extern "C" fn call<F: Fn() -> bool>(arg: *const c_void) -> bool {
            // SAFETY: `arg` is the `&F` passed below, alive for the whole wait.
            unsafe { (*arg.cast::<F>())() }
        }
        // SAFETY: `self.0` is live; `cond` outlives the call, which only invokes `call`
        // with it.
        let ret = unsafe {
            ffi::rtpe_waitq_wait(
                self.0.as_ptr(),
                call::<F>,
                (cond as *const F).cast::<c_void>(),
            )
        };
        if ret < 0 {
            Err(Error::from_errno(ret))
        } else {
            Ok(())
        }
    }

    /// `poll_wait` for a poll() call in progress on `file`.
    pub(crate) fn poll_wait(
        &self,
        file: *mut bindings::file,
        pt: *mut bindings::poll_table_struct,
    ) {
        // SAFETY: `self.0` is live; `file` and `pt` are those of a poll() callback in
        // progress (see `proc::adapter::PollTable`), which is all `poll_wait` needs; a
        // registration outliving the file's release is detached by `drop` (POLLFREE).
        unsafe { ffi::rtpe_waitq_poll(self.0.as_ptr(), file, pt) }
    }
}

impl Drop for WaitQueue {
    fn drop(&mut self) {
        // SAFETY: last use of `self.0`; nobody sleeps on it (sleepers hold the owner
        // alive), pollers are detached, and the memory is freed after a grace period.
        unsafe { ffi::rtpe_waitq_free(self.0.as_ptr()) }
    }
}
