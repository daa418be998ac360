// SPDX-License-Identifier: GPL-2.0

//! xt_RTPENGINE: the `RTPENGINE` x_tables target of rtpengine-rs.
//!
//! Forwards RTP matched by `iptables -j RTPENGINE --id N` in the kernel, driven through
//! `/proc/rtpengine` with the binary interface of rtpengine 10.5, so either daemon can
//! drive either module. Supports:
//! - forwarding tables 0..63 (`/proc/rtpengine/control`: `add N`, `del N`);
//! - per table: `control` (binary messages), `list`, `blist`, `status`;
//! - IPv4 and IPv6 targets in the filter table's INPUT chain.
//!
//! Layout: abstractions (`proc`, `ffi`) → tables (`tables`) → per-file handlers
//! (`proc_files`, `control`) → packet path (`xt`). The pure logic (ABI structs,
//! parsing, validation) is the `rtpengine-core` crate, compiled in unchanged below.

#[allow(missing_docs, unreachable_pub, dead_code, unused_imports, clippy::all)]
#[path = "core/src/lib.rs"]
mod rtpengine_core;

mod boxed;
mod control;
mod crypto;
mod ffi;
mod forward;
mod lifecycle;
mod proc;
mod proc_files;
mod skb;
mod srtp_state;
mod stats_lock;
mod tables;
mod targets;
mod xt;

use kernel::prelude::*;
use lifecycle::XtRtpengine;

module! {
    type: XtRtpengine,
    name: "xt_RTPENGINE",
    author: "rtpengine-rs developers",
    description: "RTPENGINE target: in-kernel RTP forwarding, rtpengine 10.5 compatible",
    license: "GPL",
}
