// SPDX-License-Identifier: GPL-2.0

//! Socket buffers for the packet path: the bytes of a received packet, and new packets
//! that are filled here and handed to the IP stack (helpers.c does the routing).

use crate::ffi::{self, Net};
use crate::rtpengine_core::abi::{Address, AF_INET};
use core::marker::PhantomData;
use core::ptr::NonNull;
use kernel::bindings::sk_buff;

/// The bytes of a received packet from its IP header on, made linear first.
///
/// # Safety
/// `skb` must be the live packet netfilter handed to the target; the slice must not be
/// used after the target returns or after the packet is changed.
pub(crate) unsafe fn network_bytes<'a>(skb: *mut sk_buff) -> Option<&'a [u8]> {
    let mut len = 0;
    // SAFETY: `skb` is live (caller); the helper linearizes and reports the length of
    // the contiguous bytes from the network header.
    let p = unsafe { ffi::rtpe_skb_network_data(skb, &mut len) };
    if p.is_null() {
        return None;
    }
    // SAFETY: the helper returned `len` readable bytes at `p`, owned by the skb that the
    // caller keeps alive and unchanged for the slice's lifetime.
    Some(unsafe { core::slice::from_raw_parts(p, len as usize) })
}

/// The network namespace a packet arrived in, borrowed for the hook call that
/// handles it; replies are routed and sent in it.
#[derive(Clone, Copy)]
pub(crate) struct NetRef<'a>(NonNull<Net>, PhantomData<&'a Net>);

impl NetRef<'_> {
    /// # Safety
    /// `net` must be the namespace netfilter passed with the packet being handled; the
    /// handle must not outlive the hook call (netfilter keeps it alive until then).
    pub(crate) unsafe fn from_raw(net: *mut Net) -> Option<Self> {
        NonNull::new(net).map(|p| NetRef(p, PhantomData))
    }
}

/// A packet being built; freed on drop unless sent.
pub(crate) struct OutPacket {
    skb: NonNull<sk_buff>,
    data: NonNull<u8>,
    len: usize,
}

impl OutPacket {
    /// A packet of exactly `len` bytes, uninitialised content zeroed.
    pub(crate) fn new(len: usize) -> Option<Self> {
        let l = u32::try_from(len).ok()?;
        let mut data = core::ptr::null_mut();
        // SAFETY: plain allocation call; on success `data` points at `len` bytes.
        let skb = NonNull::new(unsafe { ffi::rtpe_skb_alloc(l, &mut data) })?;
        let Some(data) = NonNull::new(data) else {
            // SAFETY: `skb` was just allocated and is not used elsewhere.
            unsafe { ffi::rtpe_skb_free(skb.as_ptr()) };
            return None;
        };
        Some(OutPacket { skb, data, len })
    }

    pub(crate) fn data(&self) -> &[u8] {
        // SAFETY: `data` points at `len` bytes of the skb we own.
        unsafe { core::slice::from_raw_parts(self.data.as_ptr(), self.len) }
    }

    /// Shortens the packet to `len` bytes (no-op if not shorter).
    pub(crate) fn truncate(&mut self, len: usize) {
        if len < self.len {
            // SAFETY: the skb is ours; trimming to a smaller length keeps `data` valid.
            unsafe { ffi::rtpe_skb_trim(self.skb.as_ptr(), len as u32) };
            self.len = len;
        }
    }

    pub(crate) fn bytes(&mut self) -> &mut [u8] {
        // SAFETY: `data` points at `len` bytes of the skb we own exclusively.
        unsafe { core::slice::from_raw_parts_mut(self.data.as_ptr(), self.len) }
    }

    /// Routes and sends the packet (its IP and UDP headers already written) from `src`
    /// to `dst` in namespace `net`. Returns the stack's error, if any.
    pub(crate) fn send(
        self,
        net: NetRef<'_>,
        src: &Address,
        dst: &Address,
        tos: u8,
    ) -> Result<(), i32> {
        let skb = self.skb.as_ptr();
        let net = net.0.as_ptr();
        core::mem::forget(self);
        // SAFETY: `net` is the namespace of the packet being processed, alive while the
        // `NetRef` is (the hook call); `skb` is ours and the helper consumes it whatever
        // the outcome.
        let ret = unsafe {
            if src.family == AF_INET {
                let s = u32::from_ne_bytes([src.addr[0], src.addr[1], src.addr[2], src.addr[3]]);
                let d = u32::from_ne_bytes([dst.addr[0], dst.addr[1], dst.addr[2], dst.addr[3]]);
                ffi::rtpe_send_ipv4(net, skb, s, d, tos)
            } else {
                ffi::rtpe_send_ipv6(net, skb, src.addr.as_ptr(), dst.addr.as_ptr())
            }
        };
        if ret == 0 {
            Ok(())
        } else {
            Err(ret)
        }
    }
}

impl Drop for OutPacket {
    fn drop(&mut self) {
        // SAFETY: the skb is ours and was not handed to the stack (`send` forgets self).
        unsafe { ffi::rtpe_skb_free(self.skb.as_ptr()) };
    }
}

/// Wall-clock time in microseconds (RTP jitter arrival times).
pub(crate) fn now_us() -> i64 {
    // SAFETY: plain call.
    unsafe { ffi::rtpe_now_us() }
}
