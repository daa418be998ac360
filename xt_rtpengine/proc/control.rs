// SPDX-License-Identifier: GPL-2.0

//! `/proc/rtpengine/N/control`: binary messages (rtpengine 10.5 layout). One process at
//! a time may have it open. write() executes a message; read() executes the message
//! found in the read buffer and writes the (possibly updated) message back.

use super::adapter::{Positioning, ProcFile};
use crate::boxed;
use crate::rtpengine_core::abi::{cmd, Message, Pod, MESSAGE_SIZE};
use crate::rtpengine_core::errno::{self, Errno};
use crate::rtpengine_core::recording;
use crate::rtpengine_core::srtp::Suite;
use crate::rtpengine_core::target;
use crate::rtpengine_core::validate;
use crate::srtp::state::SrtpState;
use crate::tables::recording as recording_glue;
use crate::tables::registry::ControlClaim;
use crate::tables::{registry, Table};
use kernel::prelude::*;
use kernel::uaccess::{UserSlice, UserSliceReader};

pub(crate) struct ControlFile;

#[vtable]
impl ProcFile for ControlFile {
    type Open = ControlClaim;
    const POSITIONING: Positioning = Positioning::Stream;

    fn open(data: usize) -> Result<impl PinInit<ControlClaim, Error>> {
        let id = u32::try_from(data).map_err(|_| EINVAL)?;
        let tgid = current!().group_leader().pid() as u32;
        registry().ok_or(ENODEV)?.claim_control(id, tgid)
    }

    fn write(
        table: &ControlClaim,
        buf: UserSlice,
        len: usize,
        _pos: Option<&mut i64>,
    ) -> Result<usize> {
        handle(table, buf, len, false).map_err(to_error)
    }

    /// A read executes too: the request is taken from the read buffer, the answer
    /// written back.
    fn read(
        table: &ControlClaim,
        buf: UserSlice,
        len: usize,
        _pos: Option<&mut i64>,
        _nonblock: bool,
    ) -> Result<usize> {
        handle(table, buf, len, true).map_err(to_error)
    }
}

fn to_error(e: Errno) -> Error {
    Error::from_errno(-e.0)
}

/// Executes one control-file read or write of `len` bytes at `user`.
fn handle(table: &Table, user: UserSlice, len: usize, is_read: bool) -> Result<usize, Errno> {
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
        return Err(e);
    }
    let (mut reader, mut writer) = user.reader_writer();
    let mut msg = boxed::zeroed::<Message>().map_err(|_| errno::ENOMEM)?;
    reader
        .read_slice(msg.as_bytes_mut())
        .map_err(|_| errno::EFAULT)?;
    execute(table, &mut msg, is_read, reader, len - MESSAGE_SIZE)?;
    if is_read {
        writer
            .write_slice(&msg.as_bytes()[..MESSAGE_SIZE])
            .map_err(|_| errno::EFAULT)?;
    }
    Ok(len)
}

fn ratelimit() -> bool {
    // SAFETY: plain call into the kernel's rate limiter.
    unsafe { crate::ffi::rtpe_log_ratelimit() }
}

/// Executes `msg`; `rest` is the user memory after it (`rest_len` bytes: PACKET's data).
fn execute(
    table: &Table,
    msg: &mut Message,
    is_read: bool,
    mut rest: UserSliceReader,
    rest_len: usize,
) -> Result<(), Errno> {
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
            let t = target::prepare_target(&msg.target(), Suite::implements)?;
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
            target::validate_destination(&d, Suite::implements)?;
            let encrypt = SrtpState::new(&d.output.encrypt)?;
            table.targets.add_destination(&d, encrypt)
        }
        c @ (cmd::GET_STATS | cmd::GET_RESET_STATS) => {
            let mut s = msg.stats();
            table.targets.stats(&mut s, c == cmd::GET_RESET_STATS)?;
            msg.u.stats = s;
            Ok(())
        }
        // Recording (recording-method=proc): tables/recording.rs, checks in the core.
        cmd::ADD_CALL => {
            let mut c = msg.call();
            table.recording.add_call(&mut c)?;
            msg.u.call = c;
            Ok(())
        }
        cmd::DEL_CALL => table.recording.del_call(msg.call().call_idx),
        cmd::ADD_STREAM => {
            let mut s = msg.stream();
            table.recording.add_stream(&mut s)?;
            msg.u.stream = s;
            Ok(())
        }
        cmd::DEL_STREAM => table.recording.del_stream(&msg.stream()),
        cmd::PACKET => {
            recording::packet_len(rest_len)?;
            let data = KVec::from_elem(0u8, rest_len, recording_glue::gfp_user_sized())
                .map_err(|_| errno::ENOMEM)?;
            let mut data = data;
            rest.read_slice(&mut data).map_err(|_| errno::EFAULT)?;
            table.recording.packet(&msg.packet(), data)
        }
        _ => Err(errno::EINVAL),
    }
}
