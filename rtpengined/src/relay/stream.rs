//! One relayed packet stream: its socket, configuration, learned peer and counters.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::io::unix::AsyncFd;

use super::offload::KernelFlag;
use crate::call::{StreamConfig, StreamStats};

pub struct StreamState {
    /// Non-blocking socket registered with tokio (AsyncFd gives tick-safe readiness
    /// clearing, which saves a system call per wakeup on the receive path).
    pub socket: AsyncFd<std::net::UdpSocket>,
    /// Shared so the per-packet path clones a pointer, not the configuration.
    pub config: Mutex<Option<Arc<Wiring>>>,
    pub learned: Mutex<Option<SocketAddr>>,
    pub packets: AtomicU64,
    pub bytes: AtomicU64,
    pub errors: AtomicU64,
    /// Milliseconds since `epoch` of the last packet, plus one (0 = never).
    pub last_packet_ms: AtomicU64,
    /// Milliseconds since `epoch` of the last signalling change of this stream.
    pub signalled_ms: AtomicU64,
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

/// What to do with one received packet.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    Forward,
    /// Strict source: not from the peer.
    Drop,
}

impl StreamState {
    pub fn new(socket: AsyncFd<std::net::UdpSocket>, epoch: Instant) -> StreamState {
        StreamState {
            socket,
            config: Mutex::new(None),
            learned: Mutex::new(None),
            packets: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            last_packet_ms: AtomicU64::new(0),
            signalled_ms: AtomicU64::new(0),
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

    /// Where packets for this stream's peer go: the learned source, else signalling.
    pub fn destination(&self) -> Option<SocketAddr> {
        let w = self.config.lock().unwrap_or_else(|e| e.into_inner());
        let cfg = &w.as_ref()?.cfg;
        if cfg.learning.asymmetric {
            return cfg.endpoint;
        }
        let learned = *self.learned.lock().unwrap_or_else(|e| e.into_inner());
        learned.or(cfg.endpoint)
    }

    /// Endpoint learning for a packet from `src`; returns the verdict and whether
    /// the peer was (re)learned by this packet.
    pub fn learn(&self, cfg: &StreamConfig, src: SocketAddr) -> (Verdict, bool) {
        if cfg.learning.asymmetric {
            return (Verdict::Forward, false);
        }
        let mut learned = self.learned.lock().unwrap_or_else(|e| e.into_inner());
        match *learned {
            None => {
                if cfg.learning.strict_source && cfg.endpoint.is_some_and(|e| e.ip() != src.ip()) {
                    // Strict source before latching: only the signalled address may latch.
                    return (Verdict::Drop, false);
                }
                *learned = Some(src);
                (Verdict::Forward, true)
            }
            Some(l) if l == src => (Verdict::Forward, false),
            Some(_) if cfg.learning.media_handover => {
                *learned = Some(src);
                (Verdict::Forward, true)
            }
            Some(_) if cfg.learning.strict_source => (Verdict::Drop, false),
            Some(_) => (Verdict::Forward, false),
        }
    }

    pub fn count(&self, len: usize, now: Instant) {
        self.packets.fetch_add(1, Ordering::Relaxed);
        self.bytes.fetch_add(len as u64, Ordering::Relaxed);
        let ms = now.saturating_duration_since(self.epoch).as_millis() as u64 + 1;
        self.last_packet_ms.store(ms, Ordering::Relaxed);
    }

    pub fn stats(&self) -> StreamStats {
        let ms = self.last_packet_ms.load(Ordering::Relaxed);
        StreamStats {
            packets: self.packets.load(Ordering::Relaxed),
            bytes: self.bytes.load(Ordering::Relaxed),
            errors: self.errors.load(Ordering::Relaxed),
            last_packet: (ms > 0).then(|| self.epoch + std::time::Duration::from_millis(ms - 1)),
            learned: *self.learned.lock().unwrap_or_else(|e| e.into_inner()),
            kernelized: false,
        }
    }

    pub fn ms_since_epoch(&self, now: Instant) -> u64 {
        now.saturating_duration_since(self.epoch).as_millis() as u64
    }

    /// Signalling changed the stream now: the kernel may take it over only after
    /// a packet arrives `KERNEL_DELAY` later (the peer is then confirmed).
    pub fn signalled(&self, now: Instant) {
        self.signalled_ms
            .store(self.ms_since_epoch(now), Ordering::Relaxed);
    }

    /// Publishes a signalling change once the new configuration is in place: a relay
    /// task that reads the new generation (before anything else) sees the new
    /// configuration and `signalled_ms`; one that read the old generation has its
    /// decision dropped by `kernelize` (see `offload::Decided`).
    pub fn next_generation(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
    }
}

/// RTCP packet types 192..=223 in the second byte (RFC 5761 demultiplexing).
pub fn is_rtcp(packet: &[u8]) -> bool {
    packet.len() >= 2 && (192..=223).contains(&packet[1])
}
