// SPDX-License-Identifier: GPL-2.0

//! xt_RTPENGINE: the `RTPENGINE` x_tables target of rtpengine-rs.
//!
//! Forwards RTP matched by `iptables -j RTPENGINE --id N` in the kernel, driven through
//! `/proc/rtpengine` with the binary interface of rtpengine 10.5, so either daemon can
//! drive either module. Supports:
//! - forwarding tables 0..63 (`/proc/rtpengine/control`: `add N`, `del N`);
//! - per table: `control` (binary messages), `list`, `blist`, `status`;
//! - recording (`recording-method=proc`): `N/calls/<call>/<stream>` files with copies of
//!   the packets of recorded streams;
//! - IPv4 and IPv6 targets in the filter table's INPUT chain.
//!
//! Layout, by concern (every file):
//!
//! | file | holds |
//! |---|---|
//! | `main.rs` | crate root: this map, `module!` |
//! | `lifecycle.rs` | load and unload, in order |
//! | `ffi.rs` | declarations of what `helpers.c` and the kernel export and bindings lack |
//! | `helpers.c` | C glue: x_tables registration, module parameters, inline helpers |
//! | `Kbuild`, `Makefile` | the kernel build (`main.o` + `helpers.o`) |
//! | `boxed.rs` | zeroed heap copies of large ABI structs |
//! | `stats_lock.rs` | the try-lock the packet path updates statistics under |
//! | `waitq.rs` | wait queues that stream readers sleep on and pollers register with |
//! | `proc/mod.rs` | index of /proc/rtpengine |
//! | `proc/adapter.rs` | `ProcFile` trait; the `proc_ops` callbacks, once, generic over it |
//! | `proc/ops.rs` | `struct proc_ops` in Rust, checked against the kernel's at load |
//! | `proc/dir.rs` | `ProcDir`: directories that remove themselves, file creation |
//! | `proc/tree.rs` | which files /proc/rtpengine and each `N/` hold |
//! | `proc/root.rs` | `/proc/rtpengine/control` (`add N`, `del N`) and `list` |
//! | `proc/status.rs` | `N/status` |
//! | `proc/control.rs` | `N/control`: binary messages |
//! | `proc/listing.rs` | `N/list` and `N/blist` |
//! | `proc/stream.rs` | `N/calls/<call>/<stream>`: packets of a recorded stream |
//! | `tables/mod.rs` | index of the tables |
//! | `tables/registry.rs` | tables 0..63, their lifetime, handles held by open files |
//! | `tables/targets.rs` | the targets of a table: RCU hash, outputs, counters |
//! | `tables/recording.rs` | recorded calls and streams of a table: files, queues |
//! | `packet/mod.rs` | index of the packet path |
//! | `packet/xt.rs` | the x_tables target: rule check and per-packet entry |
//! | `packet/forward.rs` | one packet: decide, decrypt, rewrite, encrypt, send, count |
//! | `packet/error.rs` | packet errors: counted, logged with `log_errors` |
//! | `packet/skb.rs` | socket buffers and the packet's network namespace |
//! | `srtp/mod.rs` | index of SRTP |
//! | `srtp/crypto.rs` | the kernel crypto API as `rtpengine_core::srtp`'s back end |
//! | `srtp/state.rs` | one direction's SRTP context and packet index |
//!
//! The pure logic (ABI structs, parsing, validation, the forwarding decision, the
//! output rewrite, SRTP) is the `rtpengine-core` crate (`core/`), compiled in unchanged
//! below and unit-tested on the host.

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
mod waitq;

use kernel::prelude::*;
use lifecycle::XtRtpengine;

module! {
    type: XtRtpengine,
    name: "xt_RTPENGINE",
    author: "rtpengine-rs developers",
    description: "RTPENGINE target: in-kernel RTP forwarding, rtpengine 10.5 compatible",
    license: "GPL",
}
