// SPDX-License-Identifier: GPL-2.0

//! Binary messages on `/proc/rtpengine/N/control` (rtpengine 10.5 layout).
//! write() executes a message; read() executes the message found in the read buffer and
//! writes the (possibly updated) message back.

use crate::rtpengine_core::abi::{cmd, Message, Pod, Srtp, MESSAGE_SIZE};
use crate::srtp::state::SrtpState;
use crate::rtpengine_core::target;
use crate::rtpengine_core::errno::{self, Errno};
use crate::rtpengine_core::validate;
use crate::boxed;
use crate::tables::Table;
use kernel::prelude::*;
use kernel::uaccess::UserSlice;

fn neg(e: Errno) -> isize {
    -(e.0 as isize)
}

/// Executes one control-file read or write of `len` bytes at `user`.
pub(crate) fn handle(table: &Table, user: UserSlice, len: usize, is_read: bool) -> isize {
    if let Err(e) = validate::control_len(len) {
        if e == errno::EIO && ratelimit() {
            pr_warn!(
                "table {}: control {} of {} bytes, messages are {} bytes: daemon built for another interface version?\n",
                table.id,
                if is_read { "read" } else { "write" },
                len,
                MESSAGE_SIZE
            );
        }
        return neg(e);
    }
    let (mut reader, mut writer) = user.reader_writer();
    let mut msg = match boxed::zeroed::<Message>() {
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

fn ratelimit() -> bool {
    // SAFETY: plain call into the kernel's rate limiter.
    unsafe { crate::ffi::rtpe_log_ratelimit() }
}

fn execute(table: &Table, msg: &mut Message, is_read: bool) -> Result<(), Errno> {
    match validate::command(msg, is_read)? {
        cmd::NOOP => {
            let n = msg.noop_info();
            let r = validate::noop(&n);
            if r.is_err() && ratelimit() {
                pr_warn!(
                    "table {}: version handshake refused: daemon has message size {} and {} commands, this module (rtpengine 10.5 interface) {} and {}\n",
                    table.id,
                    n.size,
                    n.last_cmd,
                    MESSAGE_SIZE,
                    cmd::LAST
                );
            }
            r
        }
        cmd::ADD_TARGET => {
            let t = target::prepare_target(&msg.target(), crypto_supported)?;
            let decrypt = SrtpState::new(&t.decrypt)?;
            table.targets.add(t, decrypt)
        }
        cmd::DEL_TARGET => {
            let local = msg.target().local;
            if !target::is_valid_address(&local) {
                return Err(errno::EINVAL);
            }
            table.targets.del(&local)
        }
        cmd::ADD_DESTINATION => {
            let d = msg.destination();
            target::validate_destination(&d, crypto_supported)?;
            let encrypt = SrtpState::new(&d.output.encrypt)?;
            table.targets.add_destination(&d, encrypt)
        }
        c @ (cmd::GET_STATS | cmd::GET_RESET_STATS) => {
            let mut s = msg.stats();
            table.targets.stats(&mut s, c == cmd::GET_RESET_STATS)?;
            msg.u.stats = s;
            Ok(())
        }
        // Intercepting packets for recording (recording-method=proc) is not implemented:
        // calls cannot be created, so nothing can refer to one.
        cmd::ADD_CALL => {
            validate::call(&msg.call())?;
            Err(errno::EOPNOTSUPP)
        }
        cmd::ADD_STREAM | cmd::DEL_STREAM => {
            validate::stream(&msg.stream())?;
            Err(errno::ENOENT)
        }
        cmd::DEL_CALL | cmd::PACKET => Err(errno::ENOENT),
        _ => Err(errno::EINVAL),
    }
}

/// Every cipher and hmac of 10.5 is supported; key lengths are checked when the SRTP
/// context is built (`SrtpState::new`).
fn crypto_supported(_: &Srtp) -> bool {
    true
}
