// SPDX-License-Identifier: GPL-2.0

//! `/proc/rtpengine/N/list` (human-readable targets) and `N/blist` (one binary
//! `ListEntry` per read), both walking the table's targets as the reader goes.

use super::adapter::{Positioning, ProcFile};
use crate::boxed;
use crate::rtpengine_core::abi::{ListEntry, Pod, LIST_ENTRY_SIZE};
use crate::rtpengine_core::listing;
use crate::tables::registry::{registry, TableRef};
use crate::tables::targets::Cursor;
use core::fmt::Write;
use kernel::prelude::*;
use kernel::sync::Mutex;
use kernel::uaccess::UserSlice;

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
pub(crate) struct Listing {
    table: TableRef,
    #[pin]
    state: Mutex<ListState>,
}

/// Both files hold the table while open.
fn open_listing(data: usize) -> Result<impl PinInit<Listing, Error>> {
    let id = u32::try_from(data).map_err(|_| EINVAL)?;
    let table = registry().ok_or(ENODEV)?.get(id)?;
    Ok(try_pin_init!(Listing {
        table,
        state <- kernel::new_mutex!(ListState::default(), "rtpengine_listing"),
    }? Error))
}

/// `fmt::Write` into a `KVec`, failing cleanly when memory runs out.
struct VecWriter<'a>(&'a mut KVec<u8>);

impl Write for VecWriter<'_> {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        self.0
            .extend_from_slice(s.as_bytes(), GFP_KERNEL)
            .map_err(|_| core::fmt::Error)
    }
}

/// `N/list`: formatted a target at a time as the reader goes; only sequential reads,
/// or a rewind to the start.
pub(crate) struct ListFile;

#[vtable]
impl ProcFile for ListFile {
    type Open = Listing;
    const POSITIONING: Positioning = Positioning::Seekable;

    fn open(data: usize) -> Result<impl PinInit<Listing, Error>> {
        open_listing(data)
    }

    fn read(
        listing: &Listing,
        buf: UserSlice,
        len: usize,
        pos: Option<&mut i64>,
        _nonblock: bool,
    ) -> Result<usize> {
        let pos = pos.ok_or(EINVAL)?;
        let mut guard = listing.state.lock();
        let l = &mut *guard;
        if *pos != l.pos {
            if *pos != 0 {
                return Err(ESPIPE);
            }
            *l = ListState::default();
        }
        let mut entry = boxed::zeroed::<ListEntry>()?;
        while l.pending.len() - l.pending_pos < len {
            let Some(unfilled) = listing.table.targets.next_entry(&mut l.cursor, &mut entry) else {
                break;
            };
            if l.pending_pos == l.pending.len() {
                // SAFETY: shrinking a `u8` vector: no element needs dropping.
                unsafe { l.pending.set_len(0) };
                l.pending_pos = 0;
            }
            listing::format_target(&mut VecWriter(&mut l.pending), &entry, unfilled)
                .map_err(|_| ENOMEM)?;
        }
        let avail = &l.pending[l.pending_pos..];
        let n = avail.len().min(len);
        buf.writer().write_slice(&avail[..n])?;
        l.pending_pos += n;
        l.pos += n as i64;
        *pos = l.pos;
        Ok(n)
    }
}

/// `N/blist`: one `ListEntry` per read; each read must be exactly that size.
pub(crate) struct BlistFile;

#[vtable]
impl ProcFile for BlistFile {
    type Open = Listing;
    const POSITIONING: Positioning = Positioning::Fixed;

    fn open(data: usize) -> Result<impl PinInit<Listing, Error>> {
        open_listing(data)
    }

    fn read(
        listing: &Listing,
        buf: UserSlice,
        len: usize,
        _pos: Option<&mut i64>,
        _nonblock: bool,
    ) -> Result<usize> {
        if len != LIST_ENTRY_SIZE {
            return Err(EINVAL);
        }
        let mut entry = boxed::zeroed::<ListEntry>()?;
        let found = listing
            .table
            .targets
            .next_entry(&mut listing.state.lock().cursor, &mut entry);
        if found.is_none() {
            return Ok(0);
        }
        buf.writer().write_slice(entry.as_bytes())?;
        Ok(LIST_ENTRY_SIZE)
    }
}
