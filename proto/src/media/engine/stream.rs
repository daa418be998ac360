//! One stream's state inside the engine: configuration, endpoint learning, SRTP,
//! kernel target and counters. Owned by the engine; nothing else reads it.

use std::time::{Duration, Instant};

use std::net::SocketAddr;

use super::dtls::StreamDtls;
use super::kernel::KernelState;
use crate::call::{DtlsParams, StreamConfig, StreamStats};
use crate::media::ice_agent::IceAgent;
use crate::media::learning::{Learner, Params};
use crate::media::srtp::StreamSrtp;

pub struct Stream {
    pub cfg: StreamConfig,
    pub learner: Learner,
    pub srtp: StreamSrtp,
    pub kernel: KernelState,
    pub counters: Counters,
    /// Counters changed since the last `Engine::publish`.
    pub dirty: bool,
    /// ICE: we are the controlling agent (set by signalling, flipped by a
    /// role conflict a peer's check reveals).
    pub ice_controlling: bool,
    /// ICE: where the peer's verified checks come from (the pair in use).
    pub ice_peer: Option<SocketAddr>,
    /// DTLS-SRTP, when signalled.
    pub dtls: Option<StreamDtls>,
    /// Our side of ICE (checks, nomination, consent), with ICE.
    pub ice_agent: Option<IceAgent>,
    /// The ICE peer stopped granting consent: nothing goes to it.
    pub consent_lost: bool,
}

/// What the stream received: in userspace, plus what the kernel reported.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    pub packets: u64,
    pub bytes: u64,
    pub errors: u64,
    pub last_packet: Option<Instant>,
    /// STUN messages taken by ICE (answered or consumed; not in `packets`,
    /// as in 10.5).
    pub stun: u64,
    /// The first SSRC of the RTP received (10.5's CLI shows it).
    pub ssrc: Option<u32>,
    /// RTP packets per payload type, for the first few types seen (a
    /// count of 0 is a free slot).
    pub payload_types: [(u8, u64); 4],
}

impl Counters {
    /// Notes the SSRC and payload type of an RTP packet.
    pub fn rtp(&mut self, pkt: &[u8]) {
        if pkt.len() < 12 || pkt[0] >> 6 != 2 {
            return;
        }
        if self.ssrc.is_none() {
            self.ssrc = Some(u32::from_be_bytes([pkt[8], pkt[9], pkt[10], pkt[11]]));
        }
        let pt = pkt[1] & 0x7f;
        let slot = self
            .payload_types
            .iter()
            .position(|(p, n)| *n > 0 && *p == pt)
            .or_else(|| self.payload_types.iter().position(|(_, n)| *n == 0));
        if let Some(i) = slot {
            self.payload_types[i] = (pt, self.payload_types[i].1 + 1);
        }
    }

    /// The payload type with the most packets (the first seen of equals).
    pub fn top_payload_type(&self) -> Option<u8> {
        let mut top: Option<(u8, u64)> = None;
        for &(p, n) in &self.payload_types {
            if n > top.map_or(0, |t| t.1) {
                top = Some((p, n));
            }
        }
        top.map(|t| t.0)
    }
}

impl Stream {
    pub fn new(cfg: StreamConfig, delay: Duration, now: Instant) -> Stream {
        Stream {
            ice_controlling: cfg.ice.as_ref().is_some_and(|c| c.controlling),
            learner: Learner::new(Params::of(&cfg, delay), now),
            cfg,
            srtp: StreamSrtp::default(),
            kernel: KernelState::Idle,
            counters: Counters::default(),
            dirty: true,
            ice_peer: None,
            dtls: None,
            ice_agent: None,
            consent_lost: false,
        }
    }

    /// The stream does DTLS and has no keys yet: no media in or out.
    pub fn dtls_pending(&self) -> bool {
        self.dtls.as_ref().is_some_and(|d| !d.connected())
    }

    /// Signalling gave DTLS parameters `new`: the association goes on if they
    /// are the same (and it has not failed), else it ends and a new one waits
    /// to start (10.5 restarts on a new fingerprint or role). Returns the
    /// records that end the old one.
    pub fn resignal_dtls(&mut self, new: Option<&DtlsParams>) -> Vec<Vec<u8>> {
        if let (Some(p), Some(d)) = (new, &self.dtls) {
            if d.params == *p && !d.failed {
                return Vec::new();
            }
        }
        let last = self
            .dtls
            .as_mut()
            .map(StreamDtls::close)
            .unwrap_or_default();
        self.dtls = new.cloned().map(StreamDtls::new);
        last
    }

    pub fn count(&mut self, len: usize, now: Instant) {
        self.counters.packets += 1;
        self.counters.bytes += len as u64;
        self.counters.last_packet = Some(now);
        self.dirty = true;
    }

    pub fn error(&mut self) {
        self.counters.errors += 1;
        self.dirty = true;
    }

    pub fn stats(&self) -> StreamStats {
        StreamStats {
            packets: self.counters.packets,
            bytes: self.counters.bytes,
            errors: self.counters.errors,
            stun: self.counters.stun,
            last_packet: self.counters.last_packet,
            learned: self.learner.learned(),
            confirmed: self.learner.confirmed(),
            kernelized: self.kernel.installed(),
            ssrc: self.counters.ssrc,
            payload_type: self.counters.top_payload_type(),
        }
    }
}

#[cfg(test)]
mod counter_tests {
    use super::Counters;

    fn rtp(pt: u8, ssrc: u32) -> Vec<u8> {
        let mut p = vec![0x80, pt, 0, 1, 0, 0, 0, 160];
        p.extend_from_slice(&ssrc.to_be_bytes());
        p.extend_from_slice(&[0xff; 20]);
        p
    }

    #[test]
    fn the_first_ssrc_and_the_most_used_payload_type_are_kept() {
        let mut c = Counters::default();
        assert_eq!((c.ssrc, c.top_payload_type()), (None, None));
        c.rtp(&rtp(8, 0x1234_5678));
        c.rtp(&rtp(0, 0x9999_9999));
        c.rtp(&rtp(0, 0x9999_9999));
        // Not RTP: too short, or not version 2.
        c.rtp(&[0x80, 8, 0, 1]);
        c.rtp(&rtp(8, 1).iter().map(|b| b & 0x3f).collect::<Vec<_>>());
        assert_eq!(c.ssrc, Some(0x1234_5678));
        assert_eq!(c.top_payload_type(), Some(0));
        // More types than slots: the extra ones go uncounted.
        for pt in 96..110 {
            c.rtp(&rtp(pt, 1));
        }
        assert_eq!(c.top_payload_type(), Some(0));
    }
}
