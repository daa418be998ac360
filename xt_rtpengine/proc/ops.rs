// SPDX-License-Identifier: GPL-2.0

//! `struct proc_ops` as Rust builds it. `kernel::bindings` has no procfs types in 6.12, so
//! the struct is declared here field for field; `check_layout` compares it at load with
//! the layout the C compiler gave the real one (helpers.c), so a kernel whose struct
//! differs refuses the module instead of calling through the wrong slot.

use crate::ffi;
use core::mem::{offset_of, size_of};
use kernel::bindings::{self, file, inode, loff_t};
use kernel::ffi::{c_char, c_int, c_uint};
use kernel::prelude::*;

pub(crate) type OpenFn = unsafe extern "C" fn(*mut inode, *mut file) -> c_int;
pub(crate) type ReadFn = unsafe extern "C" fn(*mut file, *mut c_char, usize, *mut loff_t) -> isize;
pub(crate) type WriteFn =
    unsafe extern "C" fn(*mut file, *const c_char, usize, *mut loff_t) -> isize;
pub(crate) type LseekFn = unsafe extern "C" fn(*mut file, loff_t, c_int) -> loff_t;
pub(crate) type PollFn =
    unsafe extern "C" fn(*mut file, *mut bindings::poll_table_struct) -> c_uint;
/// A slot we never fill; only its size matters.
type UnusedFn = unsafe extern "C" fn();

/// `struct proc_ops` (include/linux/proc_fs.h). Rust-enabled kernels never randomise
/// struct layouts (`RUST` depends on `!RANDSTRUCT`), so declaration order is layout.
#[repr(C)]
pub(crate) struct ProcOps {
    pub(crate) proc_flags: c_uint,
    pub(crate) proc_open: Option<OpenFn>,
    pub(crate) proc_read: Option<ReadFn>,
    pub(crate) proc_read_iter: Option<UnusedFn>,
    pub(crate) proc_write: Option<WriteFn>,
    pub(crate) proc_lseek: Option<LseekFn>,
    pub(crate) proc_release: Option<OpenFn>,
    pub(crate) proc_poll: Option<PollFn>,
    pub(crate) proc_ioctl: Option<UnusedFn>,
    #[cfg(CONFIG_COMPAT)]
    pub(crate) proc_compat_ioctl: Option<UnusedFn>,
    pub(crate) proc_mmap: Option<UnusedFn>,
    pub(crate) proc_get_unmapped_area: Option<UnusedFn>,
}

/// Checks `ProcOps` against the kernel's `struct proc_ops`; call before creating any
/// /proc file.
pub(crate) fn check_layout() -> Result {
    let ours = [
        size_of::<ProcOps>(),
        offset_of!(ProcOps, proc_flags),
        offset_of!(ProcOps, proc_open),
        offset_of!(ProcOps, proc_read),
        offset_of!(ProcOps, proc_write),
        offset_of!(ProcOps, proc_lseek),
        offset_of!(ProcOps, proc_release),
    ];
    // SAFETY: a constant array defined in helpers.c, never written.
    let kernels = unsafe { ffi::rtpe_proc_ops_layout };
    if ours != kernels {
        pr_err!(
            "this kernel's struct proc_ops (size, offsets {:?}) differs from the module's declaration ({:?}) in proc/ops.rs\n",
            kernels,
            ours
        );
        return Err(ENOEXEC);
    }
    Ok(())
}
