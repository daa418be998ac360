// SPDX-License-Identifier: GPL-2.0

//! A minimal safe wrapper around procfs: a directory handle that removes itself (and
//! everything below it) when dropped, and file creation below such a directory.

use super::adapter::{self, ProcFile};
use crate::ffi::{self, ProcDirEntry};
use core::ptr::NonNull;
use kernel::ffi::c_void;
use kernel::prelude::*;

/// Mode bits (`S_IF*` and permissions) as procfs takes them.
pub(crate) const S_IFDIR: u16 = 0o040000;
pub(crate) const S_IFREG: u16 = 0o100000;

/// A /proc directory (or, from `create_owned_file`, a file) owned by the module.
/// Dropping it removes the whole subtree; procfs waits for running callbacks and
/// releases files still open below it.
pub(crate) struct ProcDir(NonNull<ProcDirEntry>);

// SAFETY: the handle is only an address that procfs lets any context pass to
// `proc_remove`; no thread-affine state is attached.
unsafe impl Send for ProcDir {}
// SAFETY: `&ProcDir` only allows creating children, which procfs serialises internally.
unsafe impl Sync for ProcDir {}

impl ProcDir {
    /// Creates directory `name` below `parent` (or below /proc when `None`), owned by the
    /// `proc_uid`/`proc_gid` module parameters like every entry of ours (as in 10.5).
    pub(crate) fn new(name: &CStr, mode: u16, parent: Option<&ProcDir>) -> Result<Self> {
        let parent = parent.map_or(core::ptr::null_mut(), |p| p.0.as_ptr());
        // SAFETY: `name` is NUL-terminated and outlives the call (procfs copies it);
        // `parent` is null or a live directory we own.
        let pde = unsafe { ffi::proc_mkdir_mode(name.as_char_ptr(), mode, parent) };
        let dir = ProcDir(NonNull::new(pde).ok_or(ENOMEM)?);
        // SAFETY: `dir.0` is the live entry just created.
        unsafe { ffi::rtpe_proc_set_owner(dir.0.as_ptr()) };
        Ok(dir)
    }

    /// Creates file `name` of kind `T` in this directory, owned like the directory. The
    /// file lives until the directory is dropped. `data` is handed to `T::open`.
    pub(crate) fn create_file<T: ProcFile>(&self, name: &CStr, mode: u16, data: usize) -> Result {
        self.create_entry::<T>(name, mode, data).map(|_| ())
    }

    /// As `create_file`, but the file is removed when the returned handle is dropped
    /// (which must happen before this directory is dropped).
    pub(crate) fn create_owned_file<T: ProcFile>(
        &self,
        name: &CStr,
        mode: u16,
        data: usize,
    ) -> Result<ProcDir> {
        self.create_entry::<T>(name, mode, data).map(ProcDir)
    }

    fn create_entry<T: ProcFile>(
        &self,
        name: &CStr,
        mode: u16,
        data: usize,
    ) -> Result<NonNull<ProcDirEntry>> {
        // SAFETY: `name` is NUL-terminated, `self.0` is a live directory, the ops are a
        // static table, and `data` is handed back to `T::open` only (never dereferenced
        // by procfs).
        let pde = unsafe {
            ffi::proc_create_data(
                name.as_char_ptr(),
                S_IFREG | mode,
                self.0.as_ptr(),
                adapter::ops::<T>(),
                data as *mut c_void,
            )
        };
        let pde = NonNull::new(pde).ok_or(ENOMEM)?;
        // SAFETY: `pde` is the live entry just created.
        unsafe { ffi::rtpe_proc_set_owner(pde.as_ptr()) };
        Ok(pde)
    }
}

impl Drop for ProcDir {
    fn drop(&mut self) {
        // SAFETY: `self.0` is a live entry created by `proc_mkdir_mode` (or, for an owned
        // file, `proc_create_data`) and removed only here, once; `proc_remove` also
        // removes the entries below it, and owned children are dropped before their
        // directory (tables/recording.rs).
        unsafe { ffi::proc_remove(self.0.as_ptr()) };
    }
}

/// `proc_mask` module parameter applied to a mode.
pub(crate) fn masked(mode: u16) -> u16 {
    // SAFETY: reads a module parameter; plain integer load.
    let mask = unsafe { ffi::rtpe_param_proc_mask() };
    mode & !(mask as u16)
}
