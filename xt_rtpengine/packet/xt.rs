// SPDX-License-Identifier: GPL-2.0

//! The `RTPENGINE` x_tables target (registration structs in helpers.c): rule checking
//! and the per-packet entry point.

use crate::ffi::{self, Net, XT_CONTINUE};
use crate::packet::forward;
use crate::packet::skb::NetRef;
use crate::rtpengine_core::abi::MAX_TABLES;
use crate::tables::registry;
use kernel::bindings::sk_buff;
use kernel::ffi::c_int;
use kernel::prelude::*;

/// Registration of both targets (IPv4, IPv6); unregistered on drop.
pub(crate) struct Registration(());

impl Registration {
    pub(crate) fn new() -> Result<Self> {
        // SAFETY: registers the static target structs of helpers.c once.
        let ret = unsafe { ffi::rtpe_xt_register() };
        if ret < 0 {
            return Err(Error::from_errno(ret));
        }
        Ok(Registration(()))
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        // SAFETY: the targets were registered by `new`; x_tables refuses to let the
        // module go while rules use them, so none can be running any more.
        unsafe { ffi::rtpe_xt_unregister() };
    }
}

/// checkentry: called when a rule with `-j RTPENGINE --id N` is inserted.
#[no_mangle]
extern "C" fn rtpe_target_check(id: u32) -> c_int {
    if id >= MAX_TABLES {
        pr_err!(
            "invalid table id {} in RTPENGINE rule (valid: 0..{})\n",
            id,
            MAX_TABLES - 1
        );
        return EINVAL.to_errno();
    }
    0
}

/// The target: called for every packet matched by an RTPENGINE rule, in softirq
/// context under `rcu_read_lock`.
///
/// # Safety
/// Called by helpers.c's x_tables target only, with netfilter's packet and namespace.
#[no_mangle]
unsafe extern "C" fn rtpe_target(skb: *mut sk_buff, net: *mut Net, id: u32, family: u8) -> u32 {
    if family != ffi::NFPROTO_IPV4 && family != ffi::NFPROTO_IPV6 {
        return XT_CONTINUE;
    }
    let Some(reg) = registry() else {
        return XT_CONTINUE;
    };
    // SAFETY: netfilter calls targets inside an RCU read-side section; the table
    // reference is used only within this call.
    let Some(table) = (unsafe { reg.published(id) }) else {
        return XT_CONTINUE;
    };
    // SAFETY: `net` is the namespace netfilter passed with this packet; the handle is
    // used only within this call.
    let Some(net) = (unsafe { NetRef::from_raw(net) }) else {
        return XT_CONTINUE;
    };
    // SAFETY: `skb` is netfilter's packet; we are under its RCU read lock.
    unsafe { forward::packet(skb, net, table, family) }
}
