// SPDX-License-Identifier: GPL-2.0

//! Callbacks of the /proc/rtpengine files (the `proc_ops` tables are in helpers.c).
//! Each one is a thin adapter: fetch the table, copy user memory, call the logic.

use crate::proc::control;
use crate::ffi;
use crate::proc::dir as proc;
use crate::boxed;
use crate::rtpengine_core::abi::{ListEntry, Pod, LIST_ENTRY_SIZE};
use crate::rtpengine_core::listing;
use crate::rtpengine_core::proc_cmd::{self, MainCommand, TextBuf};
use crate::tables::targets::Cursor;
use crate::tables::{registry, Table, NUM_TABLES};
use core::fmt::Write;
use kernel::bindings::{file, inode, loff_t};
use kernel::ffi::{c_char, c_int};
use kernel::prelude::*;
use kernel::sync::{Arc, Mutex};
use kernel::uaccess::UserSlice;

fn neg(e: Error) -> isize {
    e.to_errno() as isize
}

/// Every open takes a module reference (procfs has no owner field), as 10.5 does.
#[no_mangle]
extern "C" fn rtpe_generic_open(_inode: *mut inode, _file: *mut file) -> c_int {
    // SAFETY: plain call into module refcounting.
    if unsafe { ffi::rtpe_module_get() } {
        0
    } else {
        ENXIO.to_errno()
    }
}

#[no_mangle]
extern "C" fn rtpe_generic_release(_inode: *mut inode, _file: *mut file) -> c_int {
    // SAFETY: balances the reference taken when the file was opened.
    unsafe { ffi::rtpe_module_put() };
    0
}

/// Copies the part of `text` at `*off` to user space and advances `*off`.
fn read_text(text: &[u8], buf: *mut c_char, len: usize, off: *mut loff_t) -> isize {
    // SAFETY: procfs passes the file position of a non-stream file; checked for null.
    let Some(pos) = (unsafe { off.as_mut() }) else { return neg(EINVAL) };
    if *pos < 0 {
        return neg(EINVAL);
    }
    let chunk = proc_cmd::read_window(text, *pos as u64, len);
    if let Err(e) = UserSlice::new(buf as usize, len).writer().write_slice(chunk) {
        return neg(e);
    }
    *pos += chunk.len() as loff_t;
    chunk.len() as isize
}

/// `/proc/rtpengine/control`: `add N` / `del N`.
#[no_mangle]
extern "C" fn rtpe_main_control_write(_f: *mut file, buf: *const c_char, len: usize, _off: *mut loff_t) -> isize {
    if !(proc_cmd::MIN_WRITE..=proc_cmd::MAX_WRITE).contains(&len) {
        return neg(EINVAL);
    }
    let mut b = [0u8; proc_cmd::MAX_WRITE];
    if let Err(e) = UserSlice::new(buf as usize, len).reader().read_slice(&mut b[..len]) {
        return neg(e);
    }
    let Ok(cmd) = proc_cmd::parse_main_command(&b[..len]) else { return neg(EINVAL) };
    let Some(reg) = registry() else { return neg(ENODEV) };
    let res = match cmd {
        MainCommand::Add(id) => reg.add(id),
        MainCommand::Del(id) => reg.del(id),
    };
    match res {
        Ok(()) => len as isize,
        Err(e) => neg(e),
    }
}

/// `/proc/rtpengine/list`: one table id per line.
#[no_mangle]
extern "C" fn rtpe_main_list_read(_f: *mut file, buf: *mut c_char, len: usize, off: *mut loff_t) -> isize {
    let Some(reg) = registry() else { return neg(ENODEV) };
    let mut text = TextBuf::<{ NUM_TABLES * 3 }>::new();
    for (id, present) in reg.ids().iter().enumerate() {
        if *present && writeln!(text, "{}", id).is_err() {
            return neg(ENOMEM);
        }
    }
    read_text(text.as_bytes(), buf, len, off)
}

/// `/proc/rtpengine/N/status`.
#[no_mangle]
extern "C" fn rtpe_status_read(f: *mut file, buf: *mut c_char, len: usize, off: *mut loff_t) -> isize {
    let Some(reg) = registry() else { return neg(ENODEV) };
    let table = match reg.get(proc::file_data(f) as u32) {
        Ok(t) => t,
        Err(e) => return neg(e),
    };
    let mut text = TextBuf::<256>::new();
    // Refcount: the registry's reference plus open files other than this reader.
    let res = proc_cmd::format_status(&mut text, table.open_files(), table.control_pid(), table.num_targets());
    reg.put(table);
    if res.is_err() {
        return neg(ENOMEM);
    }
    read_text(text.as_bytes(), buf, len, off)
}

/// The table a control/list file was opened on, stored in `file->private_data`.
fn table_of(f: *mut file) -> Option<&'static Table> {
    // SAFETY: procfs passes a live file; `private_data` is null or was set by our open
    // to an `Arc<Table>` reference that stays valid until our release.
    let p = unsafe { (*f).private_data } as *const Table;
    // SAFETY: see above; the reference does not outlive the callback in practice, since
    // callers use it only for the duration of one read/write.
    unsafe { p.as_ref() }
}

fn set_table(f: *mut file, table: Arc<Table>) {
    // SAFETY: procfs passes a live file during open; we own `private_data`.
    unsafe { (*f).private_data = Arc::into_raw(table) as *mut _ };
}

fn take_table(f: *mut file) -> Option<Arc<Table>> {
    // SAFETY: as in `table_of`; the pointer came from `Arc::into_raw` in `set_table` and
    // is taken back exactly once, at release.
    unsafe {
        let p = (*f).private_data as *const Table;
        (*f).private_data = core::ptr::null_mut();
        if p.is_null() {
            None
        } else {
            Some(Arc::from_raw(p))
        }
    }
}

/// `/proc/rtpengine/N/control` open: one opener at a time.
#[no_mangle]
extern "C" fn rtpe_control_open(i: *mut inode, f: *mut file) -> c_int {
    let Some(reg) = registry() else { return ENODEV.to_errno() };
    // SAFETY: plain call into module refcounting.
    if !unsafe { ffi::rtpe_module_get() } {
        return ENXIO.to_errno();
    }
    let tgid = current!().group_leader().pid() as u32;
    match reg.claim_control(proc::file_data(f) as u32, tgid) {
        Ok(table) => set_table(f, table),
        Err(e) => {
            // SAFETY: balances the reference taken above.
            unsafe { ffi::rtpe_module_put() };
            return e.to_errno();
        }
    }
    // SAFETY: `i` and `f` are the live inode and file being opened.
    unsafe { kernel::bindings::stream_open(i, f) }
}

#[no_mangle]
extern "C" fn rtpe_control_release(_i: *mut inode, f: *mut file) -> c_int {
    if let (Some(reg), Some(table)) = (registry(), take_table(f)) {
        reg.release_control(table);
    }
    // SAFETY: balances the reference taken at open.
    unsafe { ffi::rtpe_module_put() };
    0
}

#[no_mangle]
extern "C" fn rtpe_control_write(f: *mut file, buf: *const c_char, len: usize, _o: *mut loff_t) -> isize {
    let Some(table) = table_of(f) else { return neg(ENOENT) };
    control::handle(table, UserSlice::new(buf as usize, len), len, false)
}

/// A read executes too: the request is taken from the read buffer, the answer written back.
#[no_mangle]
extern "C" fn rtpe_control_read(f: *mut file, buf: *mut c_char, len: usize, _o: *mut loff_t) -> isize {
    let Some(table) = table_of(f) else { return neg(ENOENT) };
    control::handle(table, UserSlice::new(buf as usize, len), len, true)
}

/// How far a reader of `N/list` or `N/blist` got.
#[derive(Default)]
struct ListState {
    cursor: Cursor,
    /// Formatted text not yet read (`list` only).
    pending: KVec<u8>,
    /// Position in `pending` of the next byte to hand out.
    pending_pos: usize,
    /// Text position reached (to tell sequential reads from seeks).
    pos: i64,
}

/// What an open `N/list` or `N/blist` holds. The state has a lock because pread() from
/// several threads on one descriptor does not serialise like read() does.
#[pin_data]
struct Listing {
    table: Arc<Table>,
    #[pin]
    state: Mutex<ListState>,
}

/// `fmt::Write` into a `KVec`, failing cleanly when memory runs out.
struct VecWriter<'a>(&'a mut KVec<u8>);

impl Write for VecWriter<'_> {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        self.0.extend_from_slice(s.as_bytes(), GFP_KERNEL).map_err(|_| core::fmt::Error)
    }
}

fn listing_of<'a>(f: *mut file) -> Option<&'a Listing> {
    // SAFETY: procfs passes the live file; `private_data` is null or the pinned
    // `Listing` set by `rtpe_list_open`, freed only at release, after the last read.
    unsafe { ((*f).private_data as *const Listing).as_ref() }
}

/// `N/list` and `N/blist` open: hold the table while the file is open.
#[no_mangle]
extern "C" fn rtpe_list_open(_i: *mut inode, f: *mut file) -> c_int {
    let Some(reg) = registry() else { return ENODEV.to_errno() };
    // SAFETY: plain call into module refcounting.
    if !unsafe { ffi::rtpe_module_get() } {
        return ENXIO.to_errno();
    }
    let res = reg.get(proc::file_data(f) as u32).and_then(|table| {
        KBox::pin_init(
            pin_init!(Listing { table, state <- kernel::new_mutex!(ListState::default(), "rtpengine_listing") }),
            GFP_KERNEL,
        )
    });
    match res {
        Ok(l) => {
            // SAFETY: the listing stays pinned: it is only turned back into a `Pin<KBox>`
            // at release. `f` is the live file being opened; we own `private_data`.
            unsafe { (*f).private_data = KBox::into_raw(Pin::into_inner_unchecked(l)).cast() };
            0
        }
        Err(e) => {
            // SAFETY: balances the reference taken above.
            unsafe { ffi::rtpe_module_put() };
            e.to_errno()
        }
    }
}

#[no_mangle]
extern "C" fn rtpe_list_release(_i: *mut inode, f: *mut file) -> c_int {
    // SAFETY: the pointer was set by `rtpe_list_open` from a pinned `KBox` and is taken
    // back once, here; no read is running any more.
    let l = unsafe {
        let p = (*f).private_data as *mut Listing;
        (*f).private_data = core::ptr::null_mut();
        (!p.is_null()).then(|| Pin::new_unchecked(KBox::from_raw(p)))
    };
    if let (Some(reg), Some(l)) = (registry(), l) {
        reg.put(l.table.clone());
    }
    // SAFETY: balances the reference taken at open.
    unsafe { ffi::rtpe_module_put() };
    0
}

/// `N/list`: human-readable targets, formatted a target at a time as the reader goes.
#[no_mangle]
extern "C" fn rtpe_list_read(f: *mut file, buf: *mut c_char, len: usize, off: *mut loff_t) -> isize {
    let Some(listing) = listing_of(f) else { return neg(ENOENT) };
    // SAFETY: procfs passes the file position of this non-stream file; checked for null.
    let Some(pos) = (unsafe { off.as_mut() }) else { return neg(EINVAL) };
    let mut guard = listing.state.lock();
    let l = &mut *guard;
    if *pos != l.pos {
        if *pos != 0 {
            return neg(ESPIPE); // only sequential reads, or a rewind to the start
        }
        *l = ListState::default();
    }
    let mut entry = match boxed::zeroed::<ListEntry>() {
        Ok(e) => e,
        Err(e) => return neg(e),
    };
    while l.pending.len() - l.pending_pos < len {
        let Some(unfilled) = listing.table.targets.next_entry(&mut l.cursor, &mut entry) else { break };
        if l.pending_pos == l.pending.len() {
            // SAFETY: shrinking a `u8` vector: no element needs dropping.
            unsafe { l.pending.set_len(0) };
            l.pending_pos = 0;
        }
        if listing::format_target(&mut VecWriter(&mut l.pending), &entry, unfilled).is_err() {
            return neg(ENOMEM);
        }
    }
    let avail = &l.pending[l.pending_pos..];
    let n = avail.len().min(len);
    if let Err(e) = UserSlice::new(buf as usize, len).writer().write_slice(&avail[..n]) {
        return neg(e);
    }
    l.pending_pos += n;
    l.pos += n as i64;
    *pos = l.pos;
    n as isize
}

/// `N/blist`: one `ListEntry` per read; each read must be exactly that size.
#[no_mangle]
extern "C" fn rtpe_blist_read(f: *mut file, buf: *mut c_char, len: usize, _off: *mut loff_t) -> isize {
    let Some(listing) = listing_of(f) else { return neg(ENOENT) };
    if len != LIST_ENTRY_SIZE {
        return neg(EINVAL);
    }
    let mut entry = match boxed::zeroed::<ListEntry>() {
        Ok(e) => e,
        Err(e) => return neg(e),
    };
    let found = listing.table.targets.next_entry(&mut listing.state.lock().cursor, &mut entry);
    if found.is_none() {
        return 0;
    }
    match UserSlice::new(buf as usize, len).writer().write_slice(entry.as_bytes()) {
        Ok(()) => LIST_ENTRY_SIZE as isize,
        Err(e) => neg(e),
    }
}
