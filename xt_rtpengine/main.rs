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
//! Layout, by concern: `proc/` (the /proc/rtpengine files), `tables/` (tables and their
//! targets), `packet/` (x_tables target and forwarding), `srtp/` (kernel crypto for
//! SRTP); `ffi.rs` and `helpers.c` are the C side. The pure logic (ABI structs, parsing,
//! validation, the forwarding decision) is the `rtpengine-core` crate, compiled in
//! unchanged below.

#[allow(missing_docs, unreachable_pub, dead_code, unused_imports, clippy::all)]
#[path = "core/src/lib.rs"]
mod rtpengine_core;

mod boxed;
mod ffi;
mod lifecycle;
mod packet;
mod proc;
mod srtp;
mod stats_lock;
mod tables;

use kernel::prelude::*;
use lifecycle::XtRtpengine;

module! {
    type: XtRtpengine,
    name: "xt_RTPENGINE",
    author: "rtpengine-rs developers",
    description: "RTPENGINE target: in-kernel RTP forwarding, rtpengine 10.5 compatible",
    license: "GPL",
}
