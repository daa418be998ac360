//! The userspace media relay: one tokio task per local socket, forwarding to the
//! sink stream's peer out of the sink's own socket (symmetric RTP).

mod batch;
pub mod learning;
pub mod offload;
pub mod pool;
pub mod srtp;
pub mod stream;
mod tos;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use std::sync::atomic::Ordering;
use tokio::io::unix::AsyncFd;
use tokio::task::JoinHandle;
use tracing::{debug, info, info_span, warn, Instrument};

use crate::call::{Effect, StatsSource, StreamConfig, StreamId, StreamStats};
use learning::Verdict;
use offload::Offload;
use pool::SharedPool;
use stream::{is_rtcp, StreamState, Wiring};

struct Entry {
    state: Arc<StreamState>,
    task: JoinHandle<()>,
}

pub struct Relay {
    streams: Mutex<HashMap<StreamId, Entry>>,
    pool: SharedPool,
    offload: Arc<dyn Offload>,
    epoch: Instant,
    /// How long endpoint learning stays open after signalling (`learning::DELAY`).
    learning_delay: Duration,
}

impl Relay {
    pub fn new(pool: SharedPool, offload: Arc<dyn Offload>) -> Relay {
        Relay {
            streams: Mutex::new(HashMap::new()),
            pool,
            offload,
            epoch: Instant::now(),
            learning_delay: learning::DELAY,
        }
    }

    /// For tests: commit to peers sooner than rtpengine's 3 s.
    pub fn with_learning_delay(mut self, d: Duration) -> Relay {
        self.learning_delay = d;
        self
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
        self.apply_effects(effects, false)
    }

    /// Start relaying the streams of calls restored from an earlier run: like
    /// `apply`, but a kernel target left on a stream's port is its own (taken over
    /// with the peer it had learned), not a stale one to remove.
    pub fn restore(&self, effects: &[Effect]) -> Closing {
        let closing = self.apply_effects(effects, true);
        let streams = self.lock();
        for e in effects {
            let Effect::Relay(cfg) = e else { continue };
            let Some(entry) = streams.get(&cfg.id) else {
                continue;
            };
            let sink = cfg.sink.and_then(|s| streams.get(&s));
            let adoption = offload::Adoption {
                stream: cfg,
                flag: entry.state.kernel.clone(),
                srtp_here: entry.state.srtp.get(),
                srtp_sink: sink.and_then(|s| s.state.srtp.get()),
            };
            if let Some(Some(source)) = self.offload.adopt(&adoption) {
                entry.state.adopt(source);
            }
        }
        closing
    }

    fn apply_effects(&self, effects: &[Effect], restoring: bool) -> Closing {
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
                        // A kernel decision of this stream's task (or of one sending
                        // to it) still in flight must not install after the close.
                        entry.state.next_generation();
                        self.offload.close(*id);
                    }
                }
                Effect::Relay(cfg) => {
                    if let std::collections::hash_map::Entry::Vacant(slot) = streams.entry(cfg.id) {
                        if !restoring {
                            self.offload.opened(cfg.local);
                        }
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
                // Every signalling event takes the stream (and what forwards to it)
                // back to userspace until its peer is confirmed again, as 10.5 does.
                // Order matters: the new configuration and learning state first, then
                // the generation (a relay task deciding on the old configuration finds
                // its decision stale), then out of the kernel.
                entry
                    .state
                    .signalled(cfg, self.learning_delay, Instant::now());
                if let Err(err) = entry.state.srtp.update(
                    cfg.kernel.srtp_in.as_deref(),
                    cfg.kernel.srtp_out.as_deref(),
                ) {
                    warn!(local = %cfg.local, ?err, "SRTP parameters refused");
                }
                *entry.state.config.lock().unwrap_or_else(|e| e.into_inner()) =
                    Some(Arc::new(wiring));
                entry.state.next_generation();
                self.offload.unkernelize(cfg.id);
                entry.state.kernel.store(offload::IDLE, Ordering::Relaxed);
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
        let ctx = Ctx {
            offload: self.offload.clone(),
        };
        let task = tokio::spawn(receive_loop(state.clone(), ctx).instrument(span));
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
        let mut st = self
            .lock()
            .get(&id)
            .map(|e| e.state.stats())
            .unwrap_or_default();
        if let Some(k) = self.offload.counts(id) {
            st.packets += k.counts.packets;
            st.bytes += k.counts.bytes;
            st.errors += k.counts.errors;
            st.last_packet = st.last_packet.max(k.last_packet);
            st.kernelized = k.kernelized;
        }
        st
    }
}

/// What a receive task needs besides its stream.
struct Ctx {
    offload: Arc<dyn Offload>,
}

async fn receive_loop(state: Arc<StreamState>, ctx: Ctx) {
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
            relay_one(&state, &ctx, d.data, src, now);
        }
    }
}

/// Before `unprotect`: whether this packet brings an SSRC that the stream's kernel
/// target cannot know (it was installed with the SSRCs userspace had seen, and this
/// one would take a free slot now). Once all slots are taken, later SSRCs share the
/// last one, as in the kernel, and change nothing.
fn new_ssrc_beside_kernel(
    state: &StreamState,
    cfg: &crate::call::StreamConfig,
    d: &srtp::SrtpDirection,
    packet: &[u8],
) -> bool {
    if cfg.is_rtcp
        || is_rtcp(packet)
        || packet.len() < 12
        || state.kernel.load(Ordering::Relaxed) != offload::INSTALLED
    {
        return false;
    }
    let ssrc = u32::from_be_bytes([packet[8], packet[9], packet[10], packet[11]]);
    let slots = d.ssrcs();
    !slots.contains(&Some(ssrc)) && slots.contains(&None)
}

fn relay_one(state: &StreamState, ctx: &Ctx, packet: &[u8], src: SocketAddr, now: Instant) {
    let offload = ctx.offload.as_ref();
    // Before anything of the stream or its sink is read: signalling that changes them
    // after this makes `kernelize` drop a decision taken on what was read.
    let generation = state.generation.load(Ordering::SeqCst);
    let Some(w) = state.wiring() else { return };
    let sink_generation = w.sink.as_ref().map(|k| k.generation.load(Ordering::SeqCst));
    // SRTP from the peer is verified before it counts or teaches anything (as in
    // 10.5); failures are dropped.
    let decrypted;
    let srtp_here = state.srtp.get();
    let packet = match srtp_here.as_ref().and_then(|t| t.decrypt.as_ref()) {
        // Tuple order matters: the SSRC check sees the slots before unprotect fills one.
        Some(d) => match (
            new_ssrc_beside_kernel(state, &w.cfg, d, packet),
            srtp::unprotect(d, packet),
        ) {
            (fresh, Some(p)) => {
                if fresh {
                    // The kernel target tracks the SSRCs it was given; take it
                    // back so that it is installed again with this one too.
                    offload.unkernelize(w.cfg.id);
                }
                decrypted = p;
                &decrypted[..]
            }
            (_, None) => {
                state.srtp.failed();
                state.errors.fetch_add(1, Ordering::Relaxed);
                return;
            }
        },
        None => packet,
    };
    // 10.5 (its GH #697): stray RTCP on an RTP port does not teach the peer.
    let learnable = w.cfg.is_rtcp || !is_rtcp(packet);
    let learned = state.learn(src, now, learnable);
    if learned.verdict == Verdict::Drop {
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
    if learned.committed {
        info!(peer = ?state.destination(), "endpoint learning committed");
    }
    if learned.changed {
        debug!(peer = ?state.destination(), source = %src, "peer address changed");
        if offload.enabled() {
            // This stream's target and those forwarding to its old (or signalled)
            // peer are stale.
            offload.unkernelize(w.cfg.id);
        }
    }
    let srtp_sink = sink.srtp.get();
    // The kernel does SRTP but not SRTCP: a separate RTCP socket of an SRTP
    // stream stays in userspace (muxed RTCP reaches userspace via RTCP_MUX).
    let srtcp_here = w.cfg.is_rtcp && (srtp_here.is_some() || srtp_sink.is_some());
    // Only a committed stream moves into the kernel (10.5: a confirmed one).
    if let Some(source) = learned.kernel.filter(|_| {
        offload.enabled() && !srtcp_here && state.kernel.load(Ordering::Relaxed) == offload::IDLE
    }) {
        // The target carries RTP to the RTP sink; muxed RTCP stays in userspace.
        let ksink = w.sink.as_ref();
        if let (Some(ks), Some(sw), Some(sink_generation)) =
            (ksink, ksink.and_then(|k| k.wiring()), sink_generation)
        {
            offload.kernelize(&offload::KernelTarget {
                stream: &w.cfg,
                source,
                forward_from: Some(sw.cfg.local),
                forward_to: ks.destination(),
                tos: sw.cfg.tos.unwrap_or(0),
                flag: state.kernel.clone(),
                srtp_here: srtp_here.clone(),
                srtp_sink: ks.srtp.get(),
                decided: offload::Decided {
                    seen: [
                        (&state.generation, generation),
                        (&ks.generation, sink_generation),
                    ],
                },
            });
        }
    }
    let Some(dest) = dest else { return };
    let encrypted;
    let packet = match srtp_sink.as_ref().and_then(|t| t.encrypt.as_ref()) {
        Some(e) => match (
            new_ssrc_beside_kernel(state, &w.cfg, e, packet),
            srtp::protect(e, packet),
        ) {
            (fresh, Some(p)) => {
                if fresh {
                    offload.unkernelize(w.cfg.id);
                }
                encrypted = p;
                &encrypted[..]
            }
            (_, None) => {
                sink.errors.fetch_add(1, Ordering::Relaxed);
                return;
            }
        },
        None => packet,
    };
    if let Err(err) = sink.socket.get_ref().send_to(packet, dest) {
        // A full socket buffer drops the packet (as 10.5 does): waiting for room
        // would stop this stream from reading its own socket meanwhile.
        debug!(%err, %dest, "send failed");
        sink.errors
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests;
