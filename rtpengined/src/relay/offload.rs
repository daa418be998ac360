//! The seam for kernel forwarding: the relay reports streams whose peer is confirmed,
//! streams that change or close, and asks for the kernel's share of the counters.
//! `NoKernel` keeps all media in userspace; `KernelOffload` drives an xt_RTPENGINE
//! table (one target with one destination per confirmed stream).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rtpengine_core::abi::{Address, TargetInfo};
use tracing::{debug, info, warn};

use super::srtp::Transforms;
use crate::call::{StreamConfig, StreamId};
use crate::kernel::address::{from_abi, to_abi};
use crate::kernel::counters::{Baseline, Counts};
use crate::kernel::target::{build, track_ssrcs, Crypto, Output, SourceCheck};
use crate::kernel::Table;

/// A stream's kernel state, shared between its relay task and the offload.
pub type KernelFlag = Arc<AtomicU8>;
/// Not in the kernel; the relay may offer it.
pub const IDLE: u8 = 0;
/// Forwarded by the kernel.
pub const INSTALLED: u8 = 1;
/// The kernel refused it; stays in userspace until signalling changes it.
pub const REFUSED: u8 = 2;

/// Everything a kernel forwarding target needs for one direction of one stream.
#[derive(Debug, Clone)]
pub struct KernelTarget<'a> {
    /// The receiving stream (its `local` is the address the target matches on).
    pub stream: &'a StreamConfig,
    /// The committed peer sending to `stream.local`, and what the kernel does with
    /// packets from elsewhere (see `relay::learning`).
    pub source: SourceCheck,
    /// The sink's local socket: forwarded packets leave from here.
    pub forward_from: Option<SocketAddr>,
    /// The sink's peer: forwarded packets go there.
    pub forward_to: Option<SocketAddr>,
    /// TOS of forwarded packets (the sink's).
    pub tos: u8,
    /// The receiving stream's kernel state.
    pub flag: KernelFlag,
    /// The receiving stream's SRTP (its `decrypt` protects what the peer sends).
    pub srtp_here: Option<Arc<Transforms>>,
    /// The sink's SRTP (its `encrypt` protects what the sink sends).
    pub srtp_sink: Option<Arc<Transforms>>,
    /// What signalling had configured when the relay decided.
    pub decided: Decided<'a>,
}

/// The signalling generations (`StreamState::generation`) of a target's stream and
/// of its sink when the relay decided to offload it. Signalling bumps them before it
/// takes streams out of the kernel, and `kernelize` checks them under the offload
/// lock, so a decision made on a configuration that has changed meanwhile is dropped
/// rather than installing a stale target that nothing would remove.
#[derive(Debug, Clone, Copy)]
pub struct Decided<'a> {
    pub seen: [(&'a AtomicU64, u64); 2],
}

impl Decided<'_> {
    pub fn still_current(&self) -> bool {
        self.seen
            .iter()
            .all(|(generation, seen)| generation.load(Ordering::SeqCst) == *seen)
    }
}

impl KernelTarget<'_> {
    /// The SRTP the target runs, with the index userspace reached.
    fn crypto(&self) -> Crypto {
        Crypto {
            decrypt: self
                .srtp_here
                .as_ref()
                .and_then(|t| t.decrypt.as_ref())
                .map(|d| d.kernel_params()),
            encrypt: self
                .srtp_sink
                .as_ref()
                .and_then(|t| t.encrypt.as_ref())
                .map(|e| e.kernel_params()),
        }
    }
}

/// The kernel's share of a stream's counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KernelCounts {
    pub counts: Counts,
    /// When the kernel last forwarded (or dropped) a packet of the stream.
    pub last_packet: Option<Instant>,
    pub kernelized: bool,
}

pub trait Offload: Send + Sync {
    /// Whether kernel forwarding is in use at all (the relay skips work if not).
    fn enabled(&self) -> bool {
        false
    }
    /// The stream's peer is confirmed: move forwarding into the kernel. Returns
    /// whether a target is now installed.
    fn kernelize(&self, target: &KernelTarget<'_>) -> bool;
    /// The stream changes (signalling, new peer): remove its target and the
    /// targets forwarding to it.
    fn unkernelize(&self, id: StreamId);
    /// The stream is gone for good.
    fn close(&self, id: StreamId) {
        self.unkernelize(id);
    }
    /// A new stream owns `local` now: nothing left from before may claim it.
    fn opened(&self, _local: SocketAddr) {}
    fn counts(&self, _id: StreamId) -> Option<KernelCounts> {
        None
    }
    /// A stream restored after a restart takes over the target found on its
    /// local address, if any: `Some(peer the target accepts from)`.
    fn adopt(&self, _a: &Adoption<'_>) -> Option<Option<SocketAddr>> {
        None
    }
}

pub struct NoKernel;

impl Offload for NoKernel {
    fn kernelize(&self, _target: &KernelTarget<'_>) -> bool {
        false
    }
    fn unkernelize(&self, _id: StreamId) {}
}

struct Installed {
    local: Address,
    sink: Option<StreamId>,
    flag: KernelFlag,
    baseline: Baseline,
    /// A listing started before this describes an earlier target on `local`.
    since: Instant,
    /// SRTP state that takes the kernel's index back when the target goes.
    srtp_here: Option<Arc<Transforms>>,
    srtp_sink: Option<Arc<Transforms>>,
}

impl Installed {
    fn has_srtp(&self) -> bool {
        let dec = self.srtp_here.as_ref().is_some_and(|t| t.decrypt.is_some());
        let enc = self.srtp_sink.as_ref().is_some_and(|t| t.encrypt.is_some());
        dec || enc
    }

    /// Continues the ROC in userspace from the kernel's live `last_index`.
    fn resume_srtp(&self, e: &rtpengine_core::abi::ListEntry) {
        if let Some(d) = self.srtp_here.as_ref().and_then(|t| t.decrypt.as_ref()) {
            d.resume_from_kernel(&e.target.decrypt.last_index);
        }
        if let Some(enc) = self.srtp_sink.as_ref().and_then(|t| t.encrypt.as_ref()) {
            enc.resume_from_kernel(&e.outputs[0].encrypt.last_index);
        }
    }
}

/// A target found in the table at startup (adoption): kept forwarding until idle,
/// or taken over by the restored stream it belongs to.
struct Orphan {
    baseline: Baseline,
    last_change: Instant,
    /// The peer the target accepts packets from (what its stream had learned).
    source: Option<SocketAddr>,
}

/// A restored stream (state kept across a restart) asking for its kernel target.
pub struct Adoption<'a> {
    pub stream: &'a StreamConfig,
    pub flag: KernelFlag,
    pub srtp_here: Option<Arc<Transforms>>,
    pub srtp_sink: Option<Arc<Transforms>>,
}

struct Inner {
    table: Table,
    installed: HashMap<StreamId, Installed>,
    totals: HashMap<StreamId, KernelCounts>,
    orphans: HashMap<Address, Orphan>,
}

pub struct KernelOffload {
    inner: Mutex<Inner>,
    /// Read without the lock: a long listing must not stall signalling.
    blist: std::path::PathBuf,
    /// Adopted targets without traffic for this long are removed.
    orphan_timeout: Duration,
}

impl KernelOffload {
    /// Takes over `table`; targets already in it (an adopted table) are kept as
    /// orphans: they forward until they go idle or their port is reused.
    pub fn new(table: Table, orphan_timeout: Duration) -> KernelOffload {
        let now = Instant::now();
        let orphans: HashMap<Address, Orphan> = match table.list() {
            Ok(list) => list
                .iter()
                .map(|e| {
                    let o = Orphan {
                        baseline: Baseline::at(&e.stats),
                        last_change: now,
                        source: from_abi(&e.target.expected_src),
                    };
                    (e.target.local, o)
                })
                .collect(),
            Err(e) => {
                warn!(%e, "cannot list the kernel table");
                HashMap::new()
            }
        };
        if !orphans.is_empty() {
            info!(
                targets = orphans.len(),
                "adopted kernel targets keep forwarding until idle"
            );
        }
        KernelOffload {
            blist: table.blist_path(),
            inner: Mutex::new(Inner {
                table,
                installed: HashMap::new(),
                totals: HashMap::new(),
                orphans,
            }),
            orphan_timeout,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Reads the table's counters once: adds what the kernel forwarded since the
    /// last call to each stream, refreshes last-packet times, expires idle orphans.
    pub fn sync(&self) {
        let read_at = Instant::now();
        let list = match crate::kernel::table::list(&self.blist) {
            Ok(l) => l,
            Err(e) => {
                warn!(%e, "cannot read kernel counters");
                return;
            }
        };
        let now = Instant::now();
        let mut g = self.lock();
        let inner = &mut *g;
        let by_local: HashMap<Address, StreamId> = inner
            .installed
            .iter()
            .map(|(id, i)| (i.local, *id))
            .collect();
        for e in &list {
            if let Some(id) = by_local.get(&e.target.local) {
                let Some(inst) = inner.installed.get_mut(id).filter(|i| i.since <= read_at) else {
                    continue;
                };
                let d = inst.baseline.advance(&e.stats);
                let t = inner.totals.entry(*id).or_default();
                t.counts.packets += d.packets;
                t.counts.bytes += d.bytes;
                t.counts.errors += d.errors;
                if d.packets > 0 || d.errors > 0 {
                    t.last_packet = Some(now);
                }
            } else if let Some(o) = inner.orphans.get_mut(&e.target.local) {
                if o.baseline.advance(&e.stats) != Counts::default() {
                    o.last_change = now;
                }
            }
        }
        let timeout = self.orphan_timeout;
        let idle: Vec<Address> = inner
            .orphans
            .iter()
            .filter(|(_, o)| now.duration_since(o.last_change) >= timeout)
            .map(|(a, _)| *a)
            .collect();
        for a in idle {
            inner.orphans.remove(&a);
            info!(local = ?from_abi(&a), "adopted kernel target idle, removing it");
            if let Err(e) = inner.table.del_target(&a) {
                debug!(%e, "removing idle adopted target");
            }
        }
    }

    fn remove(inner: &mut Inner, id: StreamId) {
        if let Some(i) = inner.installed.remove(&id) {
            i.flag.store(IDLE, Ordering::Relaxed);
            if i.has_srtp() {
                // Packets between this read and the removal are lost anyway (the
                // target is going); the index is what keeps the ROC right.
                match inner.table.list() {
                    Ok(list) => {
                        if let Some(e) = list.iter().find(|e| e.target.local == i.local) {
                            i.resume_srtp(e);
                        }
                    }
                    Err(e) => warn!(stream = id.0, %e, "cannot read the kernel's SRTP index"),
                }
            }
            if let Err(e) = inner.table.del_target(&i.local) {
                warn!(stream = id.0, %e, "cannot remove kernel target");
            } else {
                debug!(stream = id.0, local = ?from_abi(&i.local), "kernel target removed");
            }
            if let Some(t) = inner.totals.get_mut(&id) {
                t.kernelized = false;
            }
        }
    }

    fn install(
        inner: &mut Inner,
        t: &TargetInfo,
        d: &rtpengine_core::abi::DestinationInfo,
    ) -> std::io::Result<()> {
        match inner.table.add_target(t) {
            Err(e) if e.raw_os_error() == Some(libc::EEXIST) => {
                // Left over (adopted, or the port changed hands): replace it.
                inner.orphans.remove(&t.local);
                inner.table.del_target(&t.local)?;
                inner.table.add_target(t)?;
            }
            other => other?,
        }
        if let Err(e) = inner.table.add_destination(d) {
            let _ = inner.table.del_target(&t.local);
            return Err(e);
        }
        Ok(())
    }
}

impl Offload for KernelOffload {
    fn enabled(&self) -> bool {
        true
    }

    fn kernelize(&self, target: &KernelTarget<'_>) -> bool {
        let (Some(from), Some(to)) = (target.forward_from, target.forward_to) else {
            return false;
        };
        let id = target.stream.id;
        let out = Output {
            from,
            to,
            tos: target.tos,
        };
        let mut g = self.lock();
        if !target.decided.still_current() {
            return false;
        }
        let inner = &mut *g;
        // A previous target's index goes back to userspace before it is read again.
        Self::remove(inner, id);
        let crypto = target.crypto();
        let Some((mut t, d)) = build(target.stream, target.source, out, &crypto) else {
            target.flag.store(REFUSED, Ordering::Relaxed);
            return false;
        };
        // One SRTP index slot per SSRC seen so far (10.5's track_ssrc); an SSRC
        // that comes later reaches userspace, which installs the target again.
        let rx = target
            .srtp_here
            .as_ref()
            .and_then(|t| t.decrypt.as_ref())
            .map(|d| d.ssrcs());
        let tx = target
            .srtp_sink
            .as_ref()
            .and_then(|t| t.encrypt.as_ref())
            .map(|e| e.ssrcs());
        if let Err(c) = track_ssrcs(&mut t, rx.as_ref(), tx.as_ref()) {
            // The kernel uses one slot number both ways: it cannot run this layout.
            info!(local = %target.stream.local, slot = c.slot, "SSRC slots differ between decryption and encryption; relaying in userspace");
            target.flag.store(REFUSED, Ordering::Relaxed);
            return false;
        }
        match Self::install(inner, &t, &d) {
            Ok(()) => {
                info!(
                    local = %target.stream.local,
                    source = %target.source.expected,
                    on_mismatch = ?target.source.on_mismatch,
                    to = %to,
                    srtp = crypto.any(),
                    "stream kernelized"
                );
                target.flag.store(INSTALLED, Ordering::Relaxed);
                inner.installed.insert(
                    id,
                    Installed {
                        local: t.local,
                        sink: target.stream.sink,
                        flag: target.flag.clone(),
                        baseline: Baseline::default(),
                        since: Instant::now(),
                        srtp_here: target.srtp_here.clone(),
                        srtp_sink: target.srtp_sink.clone(),
                    },
                );
                inner.totals.entry(id).or_default().kernelized = true;
                true
            }
            Err(e) => {
                warn!(local = %target.stream.local, %e, "kernel refused the stream; relaying in userspace");
                target.flag.store(REFUSED, Ordering::Relaxed);
                false
            }
        }
    }

    fn unkernelize(&self, id: StreamId) {
        let mut g = self.lock();
        let inner = &mut *g;
        let dependents: Vec<StreamId> = inner
            .installed
            .iter()
            .filter(|(_, i)| i.sink == Some(id))
            .map(|(s, _)| *s)
            .collect();
        Self::remove(inner, id);
        for s in dependents {
            Self::remove(inner, s);
        }
    }

    fn close(&self, id: StreamId) {
        self.unkernelize(id);
        self.lock().totals.remove(&id);
    }

    fn opened(&self, local: SocketAddr) {
        let mut g = self.lock();
        let a = to_abi(local);
        if g.orphans.remove(&a).is_some() {
            info!(%local, "port reused: removing the adopted kernel target on it");
            let _ = g.table.del_target(&a);
        }
    }

    fn counts(&self, id: StreamId) -> Option<KernelCounts> {
        self.lock().totals.get(&id).copied()
    }

    fn adopt(&self, a: &Adoption<'_>) -> Option<Option<SocketAddr>> {
        let mut g = self.lock();
        let inner = &mut *g;
        let local = to_abi(a.stream.local);
        let orphan = inner.orphans.remove(&local)?;
        a.flag.store(INSTALLED, Ordering::Relaxed);
        inner.installed.insert(
            a.stream.id,
            Installed {
                local,
                sink: a.stream.sink,
                flag: a.flag.clone(),
                // The target's counters so far belong to this stream: count them all.
                baseline: Baseline::default(),
                since: Instant::now(),
                srtp_here: a.srtp_here.clone(),
                srtp_sink: a.srtp_sink.clone(),
            },
        );
        inner.totals.entry(a.stream.id).or_default().kernelized = true;
        info!(local = %a.stream.local, "restored stream took its kernel target back");
        Some(orphan.source)
    }
}
