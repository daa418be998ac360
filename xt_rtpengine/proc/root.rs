// SPDX-License-Identifier: GPL-2.0

//! `/proc/rtpengine/control` (`add N`, `del N`) and `/proc/rtpengine/list` (the ids of
//! the existing tables, one per line).

use super::adapter::{read_text, Positioning, ProcFile};
use crate::rtpengine_core::proc_cmd::{self, MainCommand, TextBuf};
use crate::tables::{registry, NUM_TABLES};
use core::fmt::Write;
use kernel::prelude::*;
use kernel::uaccess::UserSlice;

/// `/proc/rtpengine/control`.
pub(crate) struct RootControl;

#[vtable]
impl ProcFile for RootControl {
    type Open = ();
    const POSITIONING: Positioning = Positioning::Fixed;

    fn open(_data: usize) -> Result<impl PinInit<(), Error>> {
        Ok(())
    }

    fn write(_open: &(), buf: UserSlice, len: usize, _pos: Option<&mut i64>) -> Result<usize> {
        if !(proc_cmd::MIN_WRITE..=proc_cmd::MAX_WRITE).contains(&len) {
            return Err(EINVAL);
        }
        let mut b = [0u8; proc_cmd::MAX_WRITE];
        buf.reader().read_slice(&mut b[..len])?;
        let cmd = proc_cmd::parse_main_command(&b[..len]).map_err(|_| EINVAL)?;
        let reg = registry().ok_or(ENODEV)?;
        match cmd {
            MainCommand::Add(id) => reg.add(id)?,
            MainCommand::Del(id) => reg.del(id)?,
        }
        Ok(len)
    }
}

/// `/proc/rtpengine/list`.
pub(crate) struct RootList;

#[vtable]
impl ProcFile for RootList {
    type Open = ();
    const POSITIONING: Positioning = Positioning::Seekable;

    fn open(_data: usize) -> Result<impl PinInit<(), Error>> {
        Ok(())
    }

    fn read(
        _open: &(),
        buf: UserSlice,
        len: usize,
        pos: Option<&mut i64>,
        _nonblock: bool,
    ) -> Result<usize> {
        let reg = registry().ok_or(ENODEV)?;
        let mut text = TextBuf::<{ NUM_TABLES * 3 }>::new();
        for (id, present) in reg.ids().iter().enumerate() {
            if *present {
                writeln!(text, "{}", id).map_err(|_| ENOMEM)?;
            }
        }
        read_text(text.as_bytes(), buf, len, pos)
    }
}
