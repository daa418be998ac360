//! A stream's statistics as its call's task last published them, for signalling
//! (query, delete, timeouts) to read without asking the task. Written only by the
//! owning task, after each batch of packets; the engine never reads it, so these
//! counters decide nothing on the packet path.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::call::{SrtpState, StreamStats};

pub struct Board {
    epoch: Instant,
    packets: AtomicU64,
    bytes: AtomicU64,
    errors: AtomicU64,
    stun: AtomicU64,
    /// Milliseconds since `epoch` of the last packet, plus one (0 = never).
    last_packet_ms: AtomicU64,
    /// The first SSRC (bits 0-31, bit 40 set when known) and the main
    /// payload type (bits 32-38, bit 41 set when known).
    rtp: AtomicU64,
    /// Changes a few times per call: the task compares before it locks.
    peer: Mutex<Peer>,
    /// SDES-SRTP: where the indices of each SSRC stand (written to Redis).
    srtp: Mutex<Option<SrtpState>>,
}

/// The part of the statistics that is not a counter.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Peer {
    pub learned: Option<SocketAddr>,
    pub confirmed: bool,
    pub kernelized: bool,
}

impl Peer {
    pub fn of(s: &StreamStats) -> Peer {
        Peer {
            learned: s.learned,
            confirmed: s.confirmed,
            kernelized: s.kernelized,
        }
    }
}

impl Board {
    pub fn new(epoch: Instant) -> Board {
        Board {
            epoch,
            packets: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            stun: AtomicU64::new(0),
            last_packet_ms: AtomicU64::new(0),
            rtp: AtomicU64::new(0),
            peer: Mutex::new(Peer::default()),
            srtp: Mutex::new(None),
        }
    }

    /// Publishes the counters of `s`.
    pub fn store_counters(&self, s: &StreamStats) {
        self.packets.store(s.packets, Ordering::Relaxed);
        self.bytes.store(s.bytes, Ordering::Relaxed);
        self.errors.store(s.errors, Ordering::Relaxed);
        self.stun.store(s.stun, Ordering::Relaxed);
        let ms = s.last_packet.map_or(0, |t| {
            t.saturating_duration_since(self.epoch).as_millis() as u64 + 1
        });
        self.last_packet_ms.store(ms, Ordering::Relaxed);
        let ssrc = s.ssrc.map_or(0, |x| u64::from(x) | 1 << 40);
        let pt = s
            .payload_type
            .map_or(0, |p| u64::from(p & 0x7f) << 32 | 1 << 41);
        self.rtp.store(ssrc | pt, Ordering::Relaxed);
    }

    pub fn store_peer(&self, p: Peer) {
        *self.peer.lock().unwrap_or_else(|e| e.into_inner()) = p;
    }

    pub fn store_srtp(&self, s: SrtpState) {
        *self.srtp.lock().unwrap_or_else(|e| e.into_inner()) = Some(s);
    }

    pub fn load_srtp(&self) -> Option<SrtpState> {
        self.srtp.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn load(&self) -> StreamStats {
        let p = *self.peer.lock().unwrap_or_else(|e| e.into_inner());
        let ms = self.last_packet_ms.load(Ordering::Relaxed);
        let rtp = self.rtp.load(Ordering::Relaxed);
        StreamStats {
            packets: self.packets.load(Ordering::Relaxed),
            bytes: self.bytes.load(Ordering::Relaxed),
            errors: self.errors.load(Ordering::Relaxed),
            stun: self.stun.load(Ordering::Relaxed),
            last_packet: (ms > 0).then(|| self.epoch + Duration::from_millis(ms - 1)),
            learned: p.learned,
            confirmed: p.confirmed,
            kernelized: p.kernelized,
            ssrc: (rtp & 1 << 40 != 0).then_some(rtp as u32),
            payload_type: (rtp & 1 << 41 != 0).then_some((rtp >> 32) as u8 & 0x7f),
        }
    }
}
