//! The userspace media relay: one tokio task per local socket, forwarding to the
//! sink stream's peer out of the sink's own socket (symmetric RTP).

pub mod offload;
pub mod pool;
pub mod stream;
mod tos;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::net::UdpSocket;
use tokio::task::JoinHandle;
use tracing::{debug, info_span, warn, Instrument};

use crate::call::{Effect, StatsSource, StreamConfig, StreamId, StreamStats};
use offload::Offload;
use pool::SharedPool;
use stream::{is_rtcp, StreamState, Verdict, Wiring};

struct Entry {
    state: Arc<StreamState>,
    task: JoinHandle<()>,
}

pub struct Relay {
    streams: Mutex<HashMap<StreamId, Entry>>,
    pool: SharedPool,
    offload: Arc<dyn Offload>,
    epoch: Instant,
}

impl Relay {
    pub fn new(pool: SharedPool, offload: Arc<dyn Offload>) -> Relay {
        Relay {
            streams: Mutex::new(HashMap::new()),
            pool,
            offload,
            epoch: Instant::now(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<StreamId, Entry>> {
        self.streams.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn stream_count(&self) -> usize {
        self.lock().len()
    }

    /// Apply the call model's effects. Must run inside the tokio runtime. The
    /// returned `Closing` completes once closed streams have released their ports.
    pub fn apply(&self, effects: &[Effect]) -> Closing {
        let mut closing = Closing(Vec::new());
        let mut streams = self.lock();
        // Pass 1: close, and create missing streams so sinks can be resolved.
        for e in effects {
            match e {
                Effect::Close(id) => {
                    if let Some(entry) = streams.remove(id) {
                        entry.task.abort();
                        closing.0.push(entry.task);
                        // Break sink reference cycles between the two directions.
                        *entry.state.config.lock().unwrap_or_else(|e| e.into_inner()) = None;
                        self.offload.unkernelize(*id);
                    }
                }
                Effect::Relay(cfg) => {
                    if let std::collections::hash_map::Entry::Vacant(slot) = streams.entry(cfg.id) {
                        match self.open(cfg) {
                            Ok(entry) => {
                                slot.insert(entry);
                            }
                            Err(err) => warn!(local = %cfg.local, %err, "cannot start relaying"),
                        }
                    }
                }
            }
        }
        // Pass 2: (re)wire.
        for e in effects {
            if let Effect::Relay(cfg) = e {
                let Some(entry) = streams.get(&cfg.id) else {
                    continue;
                };
                let resolve = |id: Option<StreamId>| {
                    id.and_then(|i| streams.get(&i)).map(|e| e.state.clone())
                };
                let wiring = Wiring {
                    cfg: cfg.clone(),
                    sink: resolve(cfg.sink),
                    rtcp_sink: resolve(cfg.rtcp_sink),
                };
                let mut slot = entry.state.config.lock().unwrap_or_else(|e| e.into_inner());
                if slot
                    .as_ref()
                    .is_some_and(|w| w.cfg.endpoint != cfg.endpoint)
                {
                    // Signalling moved the peer: forget what was learned (re-INVITE).
                    *entry
                        .state
                        .learned
                        .lock()
                        .unwrap_or_else(|e| e.into_inner()) = None;
                }
                *slot = Some(Arc::new(wiring));
            }
        }
        closing
    }

    fn open(&self, cfg: &StreamConfig) -> std::io::Result<Entry> {
        let std_sock = self.pool.take(cfg.local).ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::NotFound, "port not reserved")
        })?;
        std_sock.set_nonblocking(true)?;
        if let Some(t) = cfg.tos {
            tos::set(&std_sock, cfg.local.is_ipv4(), t);
        }
        let socket = Arc::new(UdpSocket::from_std(std_sock)?);
        let state = Arc::new(StreamState::new(socket, self.epoch));
        let span = info_span!("media", call_id = %cfg.call_id, tag = %cfg.tag, local = %cfg.local);
        let task = tokio::spawn(receive_loop(state.clone(), self.offload.clone()).instrument(span));
        Ok(Entry { state, task })
    }
}

/// Receive tasks being cancelled. A socket closes (its port becomes bindable again)
/// only when its task has been dropped, which tokio does asynchronously; waiting makes
/// a delete's ports reusable as soon as the reply is sent.
#[must_use = "wait so that closed ports are really free"]
pub struct Closing(Vec<JoinHandle<()>>);

impl Closing {
    pub async fn wait(self) {
        for task in self.0 {
            let _ = task.await;
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

impl StatsSource for Relay {
    fn stats(&self, id: StreamId) -> StreamStats {
        self.lock()
            .get(&id)
            .map(|e| e.state.stats())
            .unwrap_or_default()
    }
}

async fn receive_loop(state: Arc<StreamState>, offload: Arc<dyn Offload>) {
    let mut buf = vec![0u8; 65536];
    loop {
        let (len, src) = match state.socket.recv_from(&mut buf).await {
            Ok(r) => r,
            Err(err) => {
                // ICMP errors (peer port closed) surface here on Linux; keep going.
                debug!(%err, "receive error");
                continue;
            }
        };
        let now = Instant::now();
        let Some(w) = state.wiring() else { continue };
        let (verdict, learned) = state.learn(&w.cfg, src);
        if verdict == Verdict::Drop {
            state
                .errors
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            continue;
        }
        state.count(len, now);
        let packet = &buf[..len];
        let sink = if !w.cfg.is_rtcp && is_rtcp(packet) && w.rtcp_sink.is_some() {
            &w.rtcp_sink
        } else {
            &w.sink
        };
        let Some(sink) = sink else { continue };
        let dest = sink.destination();
        if learned {
            debug!(peer = %src, "endpoint learned");
            offload.kernelize(&w.cfg, src, dest);
        }
        let Some(dest) = dest else { continue };
        if let Err(err) = sink.socket.send_to(packet, dest).await {
            debug!(%err, %dest, "send failed");
            sink.errors
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    }
}
