// SPDX-License-Identifier: GPL-2.0

//! `/proc/rtpengine/N/status`: refcount, control PID and number of targets, as 10.5
//! formats them.

use super::adapter::{read_text, Positioning, ProcFile};
use crate::rtpengine_core::proc_cmd::{self, TextBuf};
use crate::tables::registry;
use kernel::prelude::*;
use kernel::uaccess::UserSlice;

pub(crate) struct StatusFile;

#[vtable]
impl ProcFile for StatusFile {
    /// The table id: the table is looked up at every read, so a deleted table reads
    /// as ENOENT.
    type Open = u32;
    const POSITIONING: Positioning = Positioning::Seekable;

    fn open(data: usize) -> Result<impl PinInit<u32, Error>> {
        u32::try_from(data).map_err(|_| EINVAL)
    }

    fn read(
        id: &u32,
        buf: UserSlice,
        len: usize,
        pos: Option<&mut i64>,
        _nonblock: bool,
    ) -> Result<usize> {
        let table = registry().ok_or(ENODEV)?.get(*id)?;
        let mut text = TextBuf::<256>::new();
        // Refcount: the registry's reference plus open files other than this reader
        // (which `table` counts while this read runs).
        proc_cmd::format_status(
            &mut text,
            table.open_files(),
            table.control_pid(),
            table.num_targets(),
        )
        .map_err(|_| ENOMEM)?;
        drop(table);
        read_text(text.as_bytes(), buf, len, pos)
    }
}
