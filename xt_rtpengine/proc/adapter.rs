// SPDX-License-Identifier: GPL-2.0

//! The one bridge between procfs and the module's /proc files. A kind of file is a type
//! implementing [`ProcFile`] in safe code; [`Adapter`] holds the `proc_ops` callbacks,
//! written once and generic over it (the pattern of `kernel::net::phy::Adapter<T>`).
//!
//! What the adapter does for every file: holds a module reference while the file is
//! open (procfs has no owner field; 10.5 does the same), keeps what `open` returned in
//! `file->private_data` until release and lends it to each read and write for the
//! length of the call, and hands over user memory as a checked [`UserSlice`].

use super::ops::{PollFn, ProcOps, ReadFn, WriteFn};
use crate::ffi;
use crate::waitq::WaitQueue;
use core::marker::PhantomData;
use kernel::bindings::{self, file, inode, loff_t};
use kernel::error::VTABLE_DEFAULT_ERROR;
use kernel::ffi::{c_char, c_int, c_uint};
use kernel::prelude::*;
use kernel::uaccess::UserSlice;

/// How the file position of a kind of file behaves.
pub(crate) enum Positioning {
    /// Reads carry on where the last one stopped; lseek moves the position.
    Seekable,
    /// lseek succeeds and changes nothing.
    Fixed,
    /// A stream (`stream_open`): reads and writes get no position, pread fails.
    Stream,
}

/// One kind of /proc file. Methods left out are absent from its `proc_ops` (procfs then
/// answers EIO, as for any file without that operation).
#[vtable]
pub(crate) trait ProcFile {
    /// What an open file holds, from open to release, where it is dropped.
    type Open: Send + Sync;

    const POSITIONING: Positioning;

    /// Opens a file of this kind; `data` is the value its entry was created with.
    fn open(data: usize) -> Result<impl PinInit<Self::Open, Error>>;

    /// Reads into `buf` (`len` bytes of user memory) at `pos` (`None` for streams);
    /// returns how many bytes were produced. `nonblock`: the file was opened with
    /// `O_NONBLOCK`.
    fn read(
        _open: &Self::Open,
        _buf: UserSlice,
        _len: usize,
        _pos: Option<&mut i64>,
        _nonblock: bool,
    ) -> Result<usize> {
        kernel::build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// poll(): registers the caller with the wait queues it may be woken by
    /// (`table.wait_on`), then returns the `POLL*` bits that hold now.
    fn poll(_open: &Self::Open, _table: &PollTable<'_>) -> u32 {
        kernel::build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// Writes `len` bytes of user memory from `buf`; returns how many were consumed.
    fn write(
        _open: &Self::Open,
        _buf: UserSlice,
        _len: usize,
        _pos: Option<&mut i64>,
    ) -> Result<usize> {
        kernel::build_error!(VTABLE_DEFAULT_ERROR)
    }
}

/// The `proc_ops` of file kind `T`, for `proc_create_data`.
pub(crate) const fn ops<T: ProcFile>() -> &'static ProcOps {
    &Adapter::<T>::OPS
}

/// The callbacks of file kind `T`.
struct Adapter<T: ProcFile>(PhantomData<T>);

impl<T: ProcFile> Adapter<T> {
    const OPS: ProcOps = ProcOps {
        proc_flags: 0,
        proc_open: Some(Self::open),
        proc_read: if T::HAS_READ {
            Some(Self::read as ReadFn)
        } else {
            None
        },
        proc_read_iter: None,
        proc_write: if T::HAS_WRITE {
            Some(Self::write as WriteFn)
        } else {
            None
        },
        proc_lseek: Some(match T::POSITIONING {
            Positioning::Seekable => bindings::default_llseek,
            Positioning::Fixed | Positioning::Stream => bindings::noop_llseek,
        }),
        proc_release: Some(Self::release),
        proc_poll: if T::HAS_POLL {
            Some(Self::poll as PollFn)
        } else {
            None
        },
        proc_ioctl: None,
        #[cfg(CONFIG_COMPAT)]
        proc_compat_ioctl: None,
        proc_mmap: None,
        proc_get_unmapped_area: None,
    };

    /// # Safety
    /// Called by procfs only, with the inode and file being opened on an entry created
    /// with `ops::<T>()`.
    unsafe extern "C" fn open(inode: *mut inode, file: *mut file) -> c_int {
        // SAFETY: plain call into module refcounting; balanced in `release`, or below
        // when the open fails.
        if !unsafe { ffi::rtpe_module_get() } {
            return ENXIO.to_errno();
        }
        // SAFETY: `inode` is the live inode of one of our entries (procfs calls us only
        // for those); its procfs data is the integer given to `proc_create_data`.
        let data = unsafe { ffi::rtpe_inode_pde_data(inode) } as usize;
        let open = match T::open(data).and_then(|init| KBox::pin_init(init, GFP_KERNEL)) {
            Ok(open) => open,
            Err(e) => {
                // SAFETY: balances the reference taken above.
                unsafe { ffi::rtpe_module_put() };
                return e.to_errno();
            }
        };
        if let Positioning::Stream = T::POSITIONING {
            // SAFETY: `inode` and `file` are live, being opened; this only sets mode
            // bits of the file (and cannot fail).
            unsafe { bindings::stream_open(inode, file) };
        }
        // SAFETY: `file` is live and being opened; procfs leaves `private_data` of
        // proc_ops files to the callbacks. `into_inner_unchecked`: the box goes back
        // into a `Pin` in `release` and is never moved out of meanwhile.
        unsafe { (*file).private_data = KBox::into_raw(Pin::into_inner_unchecked(open)).cast() };
        0
    }

    /// # Safety
    /// Called by procfs only, once per successful `open` of `file`.
    unsafe extern "C" fn release(_inode: *mut inode, file: *mut file) -> c_int {
        // SAFETY: `private_data` holds the box `open` stored for this file. procfs calls
        // release once per open, after the last read or write on the file has returned
        // (also when it closes files itself while removing an entry), so we own it now.
        let open = unsafe {
            let p = (*file).private_data.cast::<T::Open>();
            (*file).private_data = core::ptr::null_mut();
            Pin::new_unchecked(KBox::from_raw(p))
        };
        drop(open);
        // SAFETY: balances the reference taken by `open`.
        unsafe { ffi::rtpe_module_put() };
        0
    }

    /// # Safety
    /// Called by procfs only, on a file opened with `open`; `pos` is null or points to
    /// the position of this call.
    unsafe extern "C" fn read(
        file: *mut file,
        buf: *mut c_char,
        len: usize,
        pos: *mut loff_t,
    ) -> isize {
        // SAFETY: as `open_state` requires (procfs calls read only between open and
        // release); VFS passes a position local to this call (its copy of f_pos, or
        // pread's offset), or null for a stream, so nothing else aliases it meanwhile.
        let (open, pos) = unsafe { (Self::open_state(file), pos.as_mut()) };
        // SAFETY: `file` is live for the call; `f_flags` is a plain integer field.
        let nonblock = unsafe { (*file).f_flags } & bindings::O_NONBLOCK != 0;
        to_ssize(T::read(
            open,
            UserSlice::new(buf as usize, len),
            len,
            pos,
            nonblock,
        ))
    }

    /// # Safety
    /// Called by procfs only, on a file opened with `open`, with the poll table of this
    /// call (possibly null).
    unsafe extern "C" fn poll(file: *mut file, pt: *mut bindings::poll_table_struct) -> c_uint {
        // SAFETY: as `open_state` requires (procfs calls poll only between open and
        // release).
        let open = unsafe { Self::open_state(file) };
        let table = PollTable {
            file,
            pt,
            _life: PhantomData,
        };
        T::poll(open, &table)
    }

    /// # Safety
    /// As for `read`.
    unsafe extern "C" fn write(
        file: *mut file,
        buf: *const c_char,
        len: usize,
        pos: *mut loff_t,
    ) -> isize {
        // SAFETY: as in `read`.
        let (open, pos) = unsafe { (Self::open_state(file), pos.as_mut()) };
        to_ssize(T::write(open, UserSlice::new(buf as usize, len), len, pos))
    }

    /// What `open` stored for `file`, borrowed for one callback.
    ///
    /// # Safety
    /// `file` must be a live file opened by `open` and not yet released, and the
    /// reference must not outlive the callback (release frees it afterwards).
    unsafe fn open_state<'a>(file: *mut file) -> &'a T::Open {
        // SAFETY: per the contract, `private_data` is the pinned box from `open`; it is
        // only read here and freed by `release`, which cannot run during a callback.
        unsafe { &*(*file).private_data.cast::<T::Open>() }
    }
}

/// The poll table of one poll() call on one file.
pub(crate) struct PollTable<'a> {
    file: *mut file,
    pt: *mut bindings::poll_table_struct,
    _life: PhantomData<&'a ()>,
}

impl PollTable<'_> {
    /// Lets a wakeup of `q` wake the poller (`poll_wait`). `q` must stay alive while the
    /// file may be polled: a `WaitQueue` detaches pollers itself when it is freed.
    pub(crate) fn wait_on(&self, q: &WaitQueue) {
        q.poll_wait(self.file, self.pt);
    }
}

/// `POLLIN | POLLRDNORM` (uapi asm-generic/poll.h; bindgen leaves them out).
pub(crate) const POLL_READABLE: u32 = 0x0001 | 0x0040;

fn to_ssize(r: Result<usize>) -> isize {
    match r {
        Ok(n) => n as isize,
        Err(e) => e.to_errno() as isize,
    }
}

/// Copies the part of `text` at `*pos` to user space and advances `*pos`: a read of a
/// small text that is produced whole at every read.
pub(crate) fn read_text(
    text: &[u8],
    buf: UserSlice,
    len: usize,
    pos: Option<&mut i64>,
) -> Result<usize> {
    let pos = pos.ok_or(EINVAL)?;
    let start = u64::try_from(*pos).map_err(|_| EINVAL)?;
    let chunk = crate::rtpengine_core::proc_cmd::read_window(text, start, len);
    buf.writer().write_slice(chunk)?;
    *pos += chunk.len() as i64;
    Ok(chunk.len())
}
