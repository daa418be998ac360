// SPDX-License-Identifier: GPL-2.0

//! Binary messages on `/proc/rtpengine/N/control` (rtpengine 10.5 layout).
//! write() executes a message; read() executes the message found in the read buffer and
//! writes the (possibly updated) message back.

use crate::rtpengine_core::abi::{cmd, Message, Pod, MESSAGE_SIZE};
use crate::rtpengine_core::errno::{self, Errno};
use crate::rtpengine_core::validate;
use crate::tables::Table;
use kernel::prelude::*;
use kernel::uaccess::UserSlice;

fn neg(e: Errno) -> isize {
    -(e.0 as isize)
}

/// Executes one control-file read or write of `len` bytes at `user`.
pub(crate) fn handle(table: &Table, user: UserSlice, len: usize, is_read: bool) -> isize {
    if let Err(e) = validate::control_len(len) {
        return neg(e);
    }
    let (mut reader, mut writer) = user.reader_writer();
    let mut msg = match KBox::new(Message::zeroed(), GFP_KERNEL) {
        Ok(m) => m,
        Err(_) => return neg(errno::ENOMEM),
    };
    if reader.read_slice(msg.as_bytes_mut()).is_err() {
        return neg(errno::EFAULT);
    }
    if let Err(e) = execute(table, &mut msg, is_read) {
        return neg(e);
    }
    if is_read && writer.write_slice(&msg.as_bytes()[..MESSAGE_SIZE]).is_err() {
        return neg(errno::EFAULT);
    }
    len as isize
}

fn execute(_table: &Table, msg: &mut Message, is_read: bool) -> Result<(), Errno> {
    match validate::command(msg, is_read)? {
        cmd::NOOP => validate::noop(&msg.noop_info()),
        other => {
            pr_warn_ratelimited(other);
            Err(errno::EOPNOTSUPP)
        }
    }
}

fn pr_warn_ratelimited(command: u32) {
    pr_warn!("control command {} not supported yet\n", command);
}
