// SPDX-License-Identifier: GPL-2.0

//! Which files /proc/rtpengine and each table's directory hold, with the modes of 10.5.

use super::control::ControlFile;
use super::dir::{self, ProcDir, S_IFDIR};
use super::listing::{BlistFile, ListFile};
use super::root::{RootControl, RootList};
use super::status::StatusFile;
use crate::rtpengine_core::proc_cmd::TextBuf;
use core::fmt::Write;
use kernel::prelude::*;
use kernel::str::CStr;

/// /proc/rtpengine with its `control` (0220) and `list` (0444). Owned by
/// proc_uid/proc_gid as in 10.5, so an unprivileged daemon can (re)create its own table.
pub(crate) fn create_root() -> Result<ProcDir> {
    let root = ProcDir::new(kernel::c_str!("rtpengine"), S_IFDIR | 0o555, None)?;
    root.create_file::<RootControl>(kernel::c_str!("control"), 0o220, 0)?;
    root.create_file::<RootList>(kernel::c_str!("list"), 0o444, 0)?;
    Ok(root)
}

/// `/proc/rtpengine/N` with `status`, `control`, `list`, `blist` (each file's data is
/// the table id), and `calls/` (0555, for recorded calls), returned apart: it must go
/// before the table's directory.
pub(crate) fn create_table_dir(id: u32, root: &ProcDir) -> Result<(ProcDir, ProcDir)> {
    let mut name = TextBuf::<12>::new();
    write!(name, "{}\0", id).map_err(|_| EINVAL)?;
    let name = CStr::from_bytes_with_nul(name.as_bytes())?;
    let dir = ProcDir::new(name, S_IFDIR | dir::masked(0o555), Some(root))?;
    let data = id as usize;
    dir.create_file::<StatusFile>(kernel::c_str!("status"), 0o444, data)?;
    dir.create_file::<ControlFile>(kernel::c_str!("control"), 0o660, data)?;
    dir.create_file::<ListFile>(kernel::c_str!("list"), 0o444, data)?;
    dir.create_file::<BlistFile>(kernel::c_str!("blist"), 0o444, data)?;
    let calls = ProcDir::new(kernel::c_str!("calls"), S_IFDIR | 0o555, Some(&dir))?;
    Ok((dir, calls))
}
