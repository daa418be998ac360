// SPDX-License-Identifier: GPL-2.0

//! Errors of the packet path: each one is counted in the target's `errors` (what blist
//! reports) and, with the `log_errors` module parameter set, logged (rate limited), as
//! 10.5 logs its forwarding errors.

use crate::ffi;
use crate::rtpengine_core::listing::AddrFmt;
use crate::tables::targets::Target;
use core::fmt;
use core::sync::atomic::Ordering;
use kernel::prelude::*;

/// Why a packet, or one output's copy of it, was not forwarded.
#[derive(Clone, Copy, Debug)]
pub(crate) enum PacketError {
    /// Strict source check failed (the packet is dropped).
    SourceMismatch,
    /// SSRC in none of the target's slots (the packet goes to userspace).
    UnknownSsrc,
    /// SRTP authentication or decryption failed (the packet goes to userspace).
    Decrypt,
    /// SRTP encryption for an output failed.
    Encrypt,
    /// No memory for an output packet.
    NoMemory,
    /// The output packet could not be built (address family, RTP header).
    Build,
    /// Routing or sending failed, with the stack's error.
    Send(i32),
}

impl fmt::Display for PacketError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PacketError::SourceMismatch => f.write_str("source address mismatch"),
            PacketError::UnknownSsrc => f.write_str("SSRC mismatch"),
            PacketError::Decrypt => f.write_str("SRTP authentication or decryption failed"),
            PacketError::Encrypt => f.write_str("SRTP encryption failed"),
            PacketError::NoMemory => f.write_str("out of memory for the output packet"),
            PacketError::Build => f.write_str("cannot build the output packet"),
            PacketError::Send(e) => write!(f, "sending failed (error {})", e),
        }
    }
}

/// Counts error `e` of target `t` in table `table`, and logs it if asked to.
pub(crate) fn report(table: u32, t: &Target, e: PacketError) {
    t.counters.errors.fetch_add(1, Ordering::Relaxed);
    // SAFETY: plain call: reads the parameter and takes from the rate limit.
    if unsafe { ffi::rtpe_log_packet_error() } {
        pr_notice!("table {} target {}: {}\n", table, AddrFmt(&t.info.local), e);
    }
}
