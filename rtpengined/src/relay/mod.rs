//! The userspace media relay. Each call's media is owned by one task
//! (`task::CallTask`) that holds the call's sockets and its sans-IO engine
//! (`engine::Engine`); signalling reaches it as messages, in order. This handle
//! routes the call model's effects to those tasks, hands them the sockets the
//! call model reserved, and answers statistics from what the tasks publish.

mod batch;
mod board;
pub mod dtls;
pub mod kernel_edge;
pub mod pool;
mod task;
mod tos;

pub use rtpengine_proto::media::{engine, learning, srtp};

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot};
use tracing::{info_span, warn, Instrument};

use crate::call::{Effect, StatsSource, StreamConfig, StreamId, StreamStats};
use board::Board;
use kernel_edge::KernelEdge;
use pool::SharedPool;
use task::{Apply, CallTask, Msg, Opened};

/// One call's share of an `apply`: closes, new sockets, configurations, and
/// whether it changes streams the kernel forwards.
type Change = (String, Vec<StreamId>, Vec<Opened>, Vec<StreamConfig>, bool);

fn change_of(call: &str, changes: &mut Vec<Change>) -> usize {
    match changes.iter().position(|c| c.0 == call) {
        Some(i) => i,
        None => {
            changes.push((call.to_string(), Vec::new(), Vec::new(), Vec::new(), false));
            changes.len() - 1
        }
    }
}

struct CallHandle {
    tx: mpsc::UnboundedSender<Msg>,
    streams: usize,
}

struct StreamEntry {
    call: String,
    board: Arc<Board>,
}

#[derive(Default)]
struct Calls {
    by_call: HashMap<String, CallHandle>,
    streams: HashMap<StreamId, StreamEntry>,
    next_key: u64,
}

pub struct Relay {
    calls: Mutex<Calls>,
    pool: SharedPool,
    kernel: Option<Arc<KernelEdge>>,
    epoch: Instant,
    /// How long endpoint learning stays open after signalling (`learning::DELAY`).
    learning_delay: Duration,
    /// SOFTWARE and tie-breaker of our STUN answers (ICE).
    ice: engine::IceSettings,
    /// Starts handshakes with our certificate; `None`: no DTLS (tests). A
    /// call's task takes the one current when it starts and keeps it: the
    /// call's SDP advertised that certificate.
    dtls: Mutex<Option<Arc<dyn engine::DtlsFactory>>>,
    /// Where relayed RTCP is reported (`--homer`).
    homer: Option<crate::homer::sender::Homer>,
    /// `--recording-method=pcap`: where recorded streams' packets go.
    recorder: Option<crate::recording::Recorder>,
}

impl Relay {
    /// `kernel`: forward confirmed streams in the kernel through this table.
    pub fn new(pool: SharedPool, kernel: Option<Arc<KernelEdge>>) -> Relay {
        Relay {
            calls: Mutex::new(Calls::default()),
            pool,
            kernel,
            epoch: Instant::now(),
            learning_delay: learning::DELAY,
            ice: engine::IceSettings::default(),
            dtls: Mutex::new(None),
            homer: None,
            recorder: None,
        }
    }

    /// Report the RTCP every call relays to Homer.
    pub fn with_homer(mut self, homer: crate::homer::sender::Homer) -> Relay {
        self.homer = Some(homer);
        self
    }

    /// The certificate and settings every DTLS handshake uses.
    pub fn with_dtls(self, dtls: dtls::DtlsIdentity) -> Relay {
        self.set_dtls(dtls);
        self
    }

    /// A renewed certificate, for calls that start from now on (call this
    /// under the registry's lock, with `Registry::set_dtls`, so that a call's
    /// SDP and its handshakes name the same certificate).
    pub fn set_dtls(&self, dtls: dtls::DtlsIdentity) {
        let factory: Arc<dyn engine::DtlsFactory> = Arc::new(dtls);
        *self.dtls.lock().unwrap_or_else(|e| e.into_inner()) = Some(factory);
    }

    /// The SOFTWARE string and the ICE tie-breaker of every call's engine.
    pub fn with_ice(mut self, ice: engine::IceSettings) -> Relay {
        self.ice = ice;
        self
    }

    /// Hands the packets of recorded calls to `recorder`.
    pub fn with_recorder(mut self, recorder: crate::recording::Recorder) -> Relay {
        self.recorder = Some(recorder);
        self
    }

    /// For tests: commit to peers sooner than rtpengine's 3 s.
    pub fn with_learning_delay(mut self, d: Duration) -> Relay {
        self.learning_delay = d;
        self
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Calls> {
        self.calls.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn stream_count(&self) -> usize {
        self.lock().streams.len()
    }

    /// Apply the call model's effects. Must run inside the tokio runtime (or
    /// a thread that entered it). Each call's task takes its change in the order
    /// given, before any datagram that arrives later; the returned `Closing`
    /// waits only where the change must be in force before the reply: kernel
    /// targets of the streams it changes are removed or replaced (10.5 changes
    /// them before it answers). Ports go back to the range once their sockets
    /// are closed (`pool`), so nobody needs to wait for that.
    pub fn apply(&self, effects: &[Effect]) -> Closing {
        self.send(effects, false)
    }

    /// Start relaying the streams of calls restored from an earlier run: like
    /// `apply`, but a kernel target left on a stream's port is its own (taken over
    /// with the peer it had learned), not a stale one to remove. Always waits.
    pub fn restore(&self, effects: &[Effect]) -> Closing {
        self.send(effects, true)
    }

    fn send(&self, effects: &[Effect], restoring: bool) -> Closing {
        let mut calls = self.lock();
        // Per call, in the order the calls first appear.
        let mut changes: Vec<Change> = Vec::new();
        for e in effects {
            match e {
                Effect::Close(id) => {
                    let Some(entry) = calls.streams.remove(id) else {
                        continue;
                    };
                    let i = change_of(&entry.call, &mut changes);
                    changes[i].1.push(*id);
                    changes[i].4 |= entry.board.load().kernelized;
                    if let Some(h) = calls.by_call.get_mut(&entry.call) {
                        h.streams -= 1;
                    }
                }
                Effect::Relay(cfg) => {
                    let i = change_of(&cfg.call_id, &mut changes);
                    if let Some(entry) = calls.streams.get(&cfg.id) {
                        changes[i].4 |= entry.board.load().kernelized;
                    } else {
                        let Some(socket) = self.pool.take(cfg.local) else {
                            warn!(local = %cfg.local, "cannot start relaying: port not reserved");
                            continue;
                        };
                        if !restoring {
                            if let Some(k) = &self.kernel {
                                k.opened(cfg.local);
                            }
                        }
                        let board = Arc::new(Board::new(self.epoch));
                        calls.streams.insert(
                            cfg.id,
                            StreamEntry {
                                call: cfg.call_id.clone(),
                                board: board.clone(),
                            },
                        );
                        changes[i].2.push(Opened {
                            id: cfg.id,
                            socket,
                            board,
                        });
                        match calls.by_call.get_mut(&cfg.call_id) {
                            Some(h) => h.streams += 1,
                            None => {
                                let h = self.spawn(&mut calls, &cfg.call_id);
                                calls.by_call.insert(cfg.call_id.clone(), h);
                            }
                        }
                    }
                    changes[i].3.push(cfg.clone());
                }
            }
        }
        let mut closing = Closing(Vec::new());
        for (call, closes, opens, configs, in_kernel) in changes {
            let Some(h) = calls.by_call.get(&call) else {
                continue;
            };
            let (done, wait) = if restoring || (in_kernel && self.kernel.is_some()) {
                let (done, wait) = oneshot::channel();
                (Some(done), Some(wait))
            } else {
                (None, None)
            };
            let msg = Msg::Apply(Apply {
                closes,
                opens,
                configs,
                restoring,
                done,
            });
            if let (true, Some(wait)) = (h.tx.send(msg).is_ok(), wait) {
                closing.0.push(wait);
            }
            if h.streams == 0 {
                // The task ends once it has closed the last stream.
                calls.by_call.remove(&call);
            }
        }
        closing
    }

    /// Starts the task of a new call (its stream count starts at one).
    fn spawn(&self, calls: &mut Calls, call_id: &str) -> CallHandle {
        calls.next_key += 1;
        let key = calls.next_key;
        let (tx, rx) = mpsc::unbounded_channel();
        let task = CallTask::new(
            key,
            self.kernel.clone(),
            self.learning_delay,
            self.ice.clone(),
            self.dtls.lock().unwrap_or_else(|e| e.into_inner()).clone(),
            tx.clone(),
        );
        let mut task = match &self.homer {
            Some(h) => task.with_homer(h.clone(), call_id),
            None => task,
        };
        if let Some(r) = &self.recorder {
            task = task.with_recorder(r.clone(), call_id);
        }
        let span = info_span!("media", call_id = %call_id);
        tokio::spawn(task.run(rx).instrument(span));
        CallHandle { tx, streams: 1 }
    }
}

/// Changes sent to call tasks that must be in force before signalling answers
/// (see `Relay::apply`).
#[must_use = "wait so that the change is in force"]
pub struct Closing(Vec<oneshot::Receiver<()>>);

impl Closing {
    pub async fn wait(self) {
        for done in self.0 {
            let _ = done.await;
        }
    }

    /// From synchronous code running on a runtime worker via `block_in_place`.
    pub fn wait_blocking(self) {
        if self.0.is_empty() {
            return;
        }
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            tokio::task::block_in_place(|| handle.block_on(self.wait()));
        }
    }
}

impl Relay {
    /// Where the SRTP indices of a stream stood at its last batch of packets.
    pub fn srtp_state(&self, id: StreamId) -> Option<crate::call::SrtpState> {
        let board = self.lock().streams.get(&id).map(|e| e.board.clone());
        board.and_then(|b| b.load_srtp())
    }
}

impl StatsSource for Relay {
    fn stats(&self, id: StreamId) -> StreamStats {
        self.lock()
            .streams
            .get(&id)
            .map(|e| e.board.load())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests;
