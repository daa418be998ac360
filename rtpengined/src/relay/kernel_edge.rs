//! The kernel edge: executes the engines' kernel operations on the xt_RTPENGINE
//! table, takes over targets left by an earlier run (adoption), and reads the
//! table's counters about once a second for the engines that own the targets.
//!
//! Shared by the call tasks, but only for kernel operations (a stream's install
//! or removal, a few per call) and the periodic listing: the packet path never
//! comes here.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rtpengine_core::abi::{Address, DestinationInfo, Stats, TargetInfo};
use tokio::sync::mpsc::UnboundedSender;
use tracing::{debug, info, warn};

use super::engine::kernel::{KernelIndexes, KernelOp};
use super::task::Msg;
use crate::call::StreamId;
use crate::kernel::address::{from_abi, to_abi};
use crate::kernel::counters::{Baseline, Counts};
use crate::kernel::Table;

/// The call task owning a target: counters go there.
#[derive(Clone)]
pub struct Owner {
    pub call: u64,
    pub stream: StreamId,
    pub tx: UnboundedSender<Msg>,
}

/// One call task's share of a listing.
type CallCounters = (UnboundedSender<Msg>, Vec<(StreamId, Stats)>);

/// What the engine is told after an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    Installed {
        ok: bool,
    },
    /// The SRTP indexes the removed target had reached, if asked for and read.
    Removed(Option<KernelIndexes>),
}

/// A target found in the table at startup (adoption): kept forwarding until idle,
/// or taken over by the restored stream it belongs to.
struct Orphan {
    baseline: Baseline,
    last_change: Instant,
    /// The peer the target accepts packets from (what its stream had learned).
    source: Option<SocketAddr>,
}

struct Inner {
    table: Table,
    owners: HashMap<Address, Owner>,
    orphans: HashMap<Address, Orphan>,
}

pub struct KernelEdge {
    inner: Mutex<Inner>,
    /// Read without the lock: a long listing must not stall installations.
    blist: std::path::PathBuf,
    /// Adopted targets without traffic for this long are removed.
    orphan_timeout: Duration,
}

impl KernelEdge {
    /// Takes over `table`; targets already in it (an adopted table) are kept as
    /// orphans: they forward until they go idle or their port is reused.
    pub fn new(table: Table, orphan_timeout: Duration) -> KernelEdge {
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
        KernelEdge {
            blist: table.blist_path(),
            inner: Mutex::new(Inner {
                table,
                owners: HashMap::new(),
                orphans,
            }),
            orphan_timeout,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A new stream owns `local` now: nothing left from before may claim it.
    pub fn opened(&self, local: SocketAddr) {
        let mut g = self.lock();
        let a = to_abi(local);
        if g.orphans.remove(&a).is_some() {
            info!(%local, "port reused: removing the adopted kernel target on it");
            let _ = g.table.del_target(&a);
        }
    }

    /// A restored stream takes over the target found on its local address, if
    /// any: `Some(peer the target accepts from)`.
    pub fn adopt(&self, local: SocketAddr, owner: Owner) -> Option<Option<SocketAddr>> {
        let mut g = self.lock();
        let a = to_abi(local);
        let orphan = g.orphans.remove(&a)?;
        g.owners.insert(a, owner);
        info!(%local, "restored stream took its kernel target back");
        Some(orphan.source)
    }

    /// Executes one engine operation for `owner`'s call.
    pub fn execute(&self, op: &KernelOp, owner: Owner) -> Answer {
        let mut g = self.lock();
        let inner = &mut *g;
        match op {
            KernelOp::Install {
                target,
                destination,
                summary,
                ..
            } => match Self::install(inner, target, destination) {
                Ok(()) => {
                    info!(
                        local = %summary.local,
                        source = %summary.source.expected,
                        on_mismatch = ?summary.source.on_mismatch,
                        to = %summary.to,
                        srtp = summary.srtp,
                        "stream kernelized"
                    );
                    inner.owners.insert(target.local, owner);
                    Answer::Installed { ok: true }
                }
                Err(e) => {
                    warn!(local = %summary.local, %e, "kernel refused the stream; relaying in userspace");
                    Answer::Installed { ok: false }
                }
            },
            KernelOp::Remove {
                stream,
                local,
                resume,
            } => {
                // Packets between this read and the removal are lost anyway (the
                // target is going); the index is what keeps the ROC right.
                let indexes = resume.and_then(|_| match inner.table.list() {
                    Ok(list) => {
                        list.iter()
                            .find(|e| e.target.local == *local)
                            .map(|e| KernelIndexes {
                                decrypt: e.target.decrypt.last_index,
                                encrypt: e.outputs[0].encrypt.last_index,
                            })
                    }
                    Err(e) => {
                        warn!(stream = stream.0, %e, "cannot read the kernel's SRTP index");
                        None
                    }
                });
                if inner.owners.get(local).is_some_and(|o| o.stream == *stream) {
                    inner.owners.remove(local);
                }
                match inner.table.del_target(local) {
                    Ok(()) => {
                        debug!(stream = stream.0, local = ?from_abi(local), "kernel target removed")
                    }
                    Err(e) => warn!(stream = stream.0, %e, "cannot remove kernel target"),
                }
                Answer::Removed(indexes)
            }
        }
    }

    fn install(inner: &mut Inner, t: &TargetInfo, d: &DestinationInfo) -> std::io::Result<()> {
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

    /// Reads the table's counters once: sends each call task the totals of its
    /// targets (the engine adds what changed), expires idle orphans.
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
        let mut per_call: HashMap<u64, CallCounters> = HashMap::new();
        let mut g = self.lock();
        let inner = &mut *g;
        for e in &list {
            if let Some(o) = inner.owners.get(&e.target.local) {
                per_call
                    .entry(o.call)
                    .or_insert_with(|| (o.tx.clone(), Vec::new()))
                    .1
                    .push((o.stream, e.stats));
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
        drop(g);
        for (_, (tx, counters)) in per_call {
            // A call that ended meanwhile has no task to tell.
            let _ = tx.send(Msg::KernelCounters { read_at, counters });
        }
    }
}
