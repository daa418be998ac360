//! The userspace media relay: one tokio task per local socket, forwarding to the
//! sink stream's peer out of the sink's own socket (symmetric RTP).

mod batch;
pub mod offload;
pub mod pool;
pub mod stream;
mod tos;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::io::unix::AsyncFd;
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
        // SAFETY: `std_sock` is an open UDP socket that the AsyncFd takes ownership of;
        // std's UdpSocket always reports the same fd and closes it only when dropped,
        // which happens together with the AsyncFd.
        let socket = unsafe { AsyncFd::register(std_sock) }.map_err(std::io::Error::from)?;
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
    let mut batch = batch::RecvBatch::new();
    let fd = std::os::fd::AsRawFd::as_raw_fd(state.socket.get_ref());
    loop {
        let mut guard = match state.socket.readable().await {
            Ok(g) => g,
            Err(err) => {
                debug!(%err, "socket not readable");
                continue;
            }
        };
        let n = match guard.try_io(|_| batch.recv(fd)) {
            Ok(Ok(n)) => n,
            // Readiness was stale; try_io cleared it.
            Err(_would_block) => continue,
            Ok(Err(err)) => {
                // ICMP errors (peer port closed) surface here on Linux; keep going.
                debug!(%err, "receive error");
                continue;
            }
        };
        if n < batch::BATCH {
            // Drained: skip the extra recvmmsg that would only return EAGAIN. Tokio
            // keeps readiness that arrived after the guard was taken.
            guard.clear_ready();
        }
        drop(guard);
        let now = Instant::now();
        for i in 0..n {
            let d = batch.get(i);
            let Some(src) = d.source else { continue };
            if d.truncated {
                state
                    .errors
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                continue;
            }
            relay_one(&state, offload.as_ref(), d.data, src, now).await;
        }
    }
}

/// Send without blocking; wait for writability only when the socket buffer is full.
async fn send_to(
    socket: &AsyncFd<std::net::UdpSocket>,
    packet: &[u8],
    dest: SocketAddr,
) -> std::io::Result<usize> {
    match socket.get_ref().send_to(packet, dest) {
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => loop {
            let mut guard = socket.writable().await?;
            if let Ok(result) = guard.try_io(|s| s.get_ref().send_to(packet, dest)) {
                return result;
            }
        },
        other => other,
    }
}

async fn relay_one(
    state: &StreamState,
    offload: &dyn Offload,
    packet: &[u8],
    src: SocketAddr,
    now: Instant,
) {
    let Some(w) = state.wiring() else { return };
    let (verdict, learned) = state.learn(&w.cfg, src);
    if verdict == Verdict::Drop {
        state
            .errors
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        return;
    }
    state.count(packet.len(), now);
    let sink = if !w.cfg.is_rtcp && is_rtcp(packet) && w.rtcp_sink.is_some() {
        &w.rtcp_sink
    } else {
        &w.sink
    };
    let Some(sink) = sink else { return };
    let dest = sink.destination();
    if learned {
        debug!(peer = %src, "endpoint learned");
        offload.kernelize(&offload::KernelTarget {
            stream: &w.cfg,
            expected_source: src,
            forward_from: sink.wiring().map(|sw| sw.cfg.local),
            forward_to: dest,
        });
    }
    let Some(dest) = dest else { return };
    if let Err(err) = send_to(&sink.socket, packet, dest).await {
        debug!(%err, %dest, "send failed");
        sink.errors
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests;
