// SPDX-License-Identifier: GPL-2.0

//! One direction's SRTP state in the module: the keyed context (kernel crypto back end)
//! and the per-SSRC-slot packet index, plus a lock-free copy of the index for blist so
//! the daemon can carry the ROC back to userspace.

use crate::rtpengine_core::abi::{cipher, hmac, Srtp, MAX_SSRC};
use crate::rtpengine_core::errno::{self, Errno};
use crate::rtpengine_core::srtp::{IndexState, SrtpContext};
use crate::srtp::crypto::KernelCrypto;
use crate::stats_lock::StatsLock;
use core::sync::atomic::{AtomicU64, Ordering};
use kernel::prelude::*;

pub(crate) struct SrtpState {
    ctx: SrtpContext<KernelCrypto>,
    /// Only the packet path (softirq) takes this lock, so spinning on it is safe.
    index: StatsLock<IndexState>,
    last_index: [AtomicU64; MAX_SSRC],
}

impl SrtpState {
    /// The state for `params`, or `None` for plain RTP (NULL cipher, NULL auth).
    pub(crate) fn new(params: &Srtp) -> Result<Option<KBox<Self>>, Errno> {
        if params.cipher == cipher::NULL && params.hmac == hmac::NULL {
            return Ok(None);
        }
        let ctx = SrtpContext::new(&KernelCrypto, params).map_err(|_| errno::EINVAL)?;
        let state = SrtpState {
            ctx,
            index: StatsLock::new(IndexState::new(&params.last_index)),
            last_index: params.last_index.map(AtomicU64::new),
        };
        KBox::new(state, GFP_KERNEL)
            .map(Some)
            .map_err(|_| errno::ENOMEM)
    }

    /// Bytes encryption appends (MKI and tags).
    pub(crate) fn overhead(&self) -> usize {
        self.ctx.overhead()
    }

    fn publish(&self, slot: usize, st: &IndexState) {
        if let Some(a) = self.last_index.get(slot) {
            a.store(st.last(slot), Ordering::Relaxed);
        }
    }

    /// Authenticates and decrypts `buf[..len]` in place; the plain length on success.
    pub(crate) fn decrypt(&self, slot: usize, buf: &mut [u8], len: usize) -> Option<usize> {
        self.index.with(|st| {
            let r = self.ctx.decrypt_rtp(st, slot, buf, len).ok()?;
            self.publish(slot, st);
            Some(r.len)
        })
    }

    /// Encrypts `buf[..len]` in place (needs `overhead()` spare bytes); the new length.
    pub(crate) fn encrypt(&self, slot: usize, buf: &mut [u8], len: usize) -> Option<usize> {
        self.index.with(|st| {
            let r = self.ctx.encrypt_rtp(st, slot, buf, len).ok()?;
            self.publish(slot, st);
            Some(r.len)
        })
    }

    /// The live packet indices, as blist reports them.
    pub(crate) fn last_index(&self) -> [u64; MAX_SSRC] {
        [0, 1, 2, 3].map(|i| self.last_index[i].load(Ordering::Relaxed))
    }
}
