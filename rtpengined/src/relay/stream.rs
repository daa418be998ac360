//! One relayed packet stream: its socket, configuration, learned peer and counters.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::io::unix::AsyncFd;

use super::learning::{Learner, Outcome, Params};
use super::offload::KernelFlag;
use crate::call::{StreamConfig, StreamStats};

pub struct StreamState {
    /// Non-blocking socket registered with tokio (AsyncFd gives tick-safe readiness
    /// clearing, which saves a system call per wakeup on the receive path).
    pub socket: AsyncFd<std::net::UdpSocket>,
    /// Shared so the per-packet path clones a pointer, not the configuration.
    pub config: Mutex<Option<Arc<Wiring>>>,
    /// Endpoint learning: where this stream's media goes (see `relay::learning`).
    pub learning: Mutex<Learner>,
    pub packets: AtomicU64,
    pub bytes: AtomicU64,
    pub errors: AtomicU64,
    /// Milliseconds since `epoch` of the last packet, plus one (0 = never).
    pub last_packet_ms: AtomicU64,
    /// Counts signalling changes: a kernel target decided on before one (with the
    /// old configuration) must not be installed after it (see `offload::Decided`).
    pub generation: AtomicU64,
    /// Whether the kernel forwards this stream (see `offload`).
    pub kernel: KernelFlag,
    /// SDES-SRTP transforms of this stream (see `relay::srtp`).
    pub srtp: super::srtp::StreamSrtp,
    pub epoch: Instant,
}

/// A configuration with the sinks resolved to their states.
pub struct Wiring {
    pub cfg: StreamConfig,
    pub sink: Option<Arc<StreamState>>,
    pub rtcp_sink: Option<Arc<StreamState>>,
}

impl StreamState {
    pub fn new(socket: AsyncFd<std::net::UdpSocket>, epoch: Instant) -> StreamState {
        StreamState {
            socket,
            config: Mutex::new(None),
            learning: Mutex::new(Learner::new(Params::default(), epoch)),
            packets: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            last_packet_ms: AtomicU64::new(0),
            generation: AtomicU64::new(0),
            kernel: KernelFlag::default(),
            srtp: Default::default(),
            epoch,
        }
    }

    pub fn wiring(&self) -> Option<Arc<Wiring>> {
        self.config
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn learner(&self) -> MutexGuard<'_, Learner> {
        self.learning.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Where packets for this stream's peer go now.
    pub fn destination(&self) -> Option<SocketAddr> {
        self.learner().destination()
    }

    /// Endpoint learning for a packet from `src` received at `now`.
    pub fn learn(&self, src: SocketAddr, now: Instant, learnable: bool) -> Outcome {
        self.learner().packet(src, now, learnable)
    }

    /// A restored stream's kernel target accepts packets from `source`.
    pub fn adopt(&self, source: SocketAddr) {
        self.learner().adopt(source);
    }

    pub fn count(&self, len: usize, now: Instant) {
        self.packets.fetch_add(1, Ordering::Relaxed);
        self.bytes.fetch_add(len as u64, Ordering::Relaxed);
        let ms = now.saturating_duration_since(self.epoch).as_millis() as u64 + 1;
        self.last_packet_ms.store(ms, Ordering::Relaxed);
    }

    pub fn stats(&self) -> StreamStats {
        let learner = self.learner();
        let ms = self.last_packet_ms.load(Ordering::Relaxed);
        StreamStats {
            packets: self.packets.load(Ordering::Relaxed),
            bytes: self.bytes.load(Ordering::Relaxed),
            errors: self.errors.load(Ordering::Relaxed),
            last_packet: (ms > 0).then(|| self.epoch + Duration::from_millis(ms - 1)),
            learned: learner.learned(),
            confirmed: learner.confirmed(),
            kernelized: false,
        }
    }

    /// Signalling (re)configured the stream at `now`: endpoint learning starts
    /// over, and the kernel may take the stream only once it commits again.
    pub fn signalled(&self, cfg: &StreamConfig, delay: Duration, now: Instant) {
        self.learner().signalled(Params::of(cfg, delay), now);
    }

    /// Publishes a signalling change once the new configuration is in place: a relay
    /// task that reads the new generation (before anything else) sees the new
    /// configuration and learning state; one that read the old generation has its
    /// decision dropped by `kernelize` (see `offload::Decided`).
    pub fn next_generation(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
    }
}

/// RTCP packet types 192..=223 in the second byte (RFC 5761 demultiplexing).
pub fn is_rtcp(packet: &[u8]) -> bool {
    packet.len() >= 2 && (192..=223).contains(&packet[1])
}
