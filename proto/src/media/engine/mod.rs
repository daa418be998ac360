//! The media engine of one call, sans-IO: every stream of the call (its sockets'
//! state, endpoint learning, SRTP, kernel target, counters) in one state machine
//! that one task owns.
//!
//! Inputs: a datagram with the stream it arrived on, its source and the time;
//! signalling (`configure`, `close`, `adopt`); the kernel edge's answers and
//! counters. Outputs: the datagram to send (returned by `datagram`), kernel
//! operations and events (`poll_output`), statistics (`publish`). No socket, no
//! clock, no lock, no atomic: the same inputs in the same order give the same
//! outputs, which is what the tests script.
//!
//! Why one engine per call and not per socket: a packet received on one stream is
//! sent by its sink, to the sink's learned peer, encrypted with the sink's SRTP
//! state, and a kernel target is built from both. With both in one owner, a
//! signalling change and a packet are simply two inputs in some order; the
//! "decided on the old configuration, installed after the change" races of a
//! shared-state design cannot be expressed.

mod demux;
mod dtls;
pub mod ice;
pub mod kernel;
mod stream;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rtpengine_core::abi::Stats;
use rtpengine_core::srtp::SrtpError;

use crate::call::{StreamConfig, StreamId, StreamStats};
use crate::kernel::address::to_abi;
use crate::kernel::counters::Baseline;
use crate::kernel::target::{build, track_ssrcs, Crypto, Output as KernelOutput, SourceCheck};
use crate::media::ice_agent::{AgentConfig, IceAgent, IceEvent};
use crate::media::learning::{Params, Verdict};
pub use demux::{classify, Kind};
use dtls::StreamDtls;
pub use dtls::{DtlsEvent, DtlsFactory, DtlsKeys, DtlsSession};
pub use ice::IceSettings;
use kernel::{KernelIndexes, KernelOp, KernelState, Refusal, Resume, Summary, Target};
use stream::Stream;

/// Room for an SRTP(C) tag, MKI and index after a copied packet.
const SRTP_ROOM: usize = 64;

/// A datagram to send: the bytes left in the caller's buffer by `datagram`, out of
/// the socket of stream `via`, to `to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transmit {
    pub via: StreamId,
    pub to: SocketAddr,
    pub len: usize,
}

/// A datagram the engine makes itself (DTLS records, ICE checks), to send out
/// of the socket of stream `via` to `to`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Datagram {
    pub via: StreamId,
    pub to: SocketAddr,
    pub data: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    Kernel(KernelOp),
    Event(Event),
    Send(Datagram),
    /// A packet stream `stream` accepted from `src`, decrypted, for the
    /// call's recording (`MediaControl::record`).
    Record {
        stream: StreamId,
        src: SocketAddr,
        data: Vec<u8>,
    },
}

/// What happened, for the log (and, later, for other consumers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Endpoint learning committed to `peer` (10.5: "confirmed").
    Committed {
        stream: StreamId,
        peer: Option<SocketAddr>,
    },
    /// Where the stream's media goes changed, on a packet from `source`.
    PeerChanged {
        stream: StreamId,
        peer: Option<SocketAddr>,
        source: SocketAddr,
    },
    /// The stream stays in userspace until signalling changes it.
    KernelRefused { stream: StreamId, why: Refusal },
    /// Signalling gave SRTP parameters the transform refuses; that direction
    /// stays plain.
    SrtpRefused { stream: StreamId, error: SrtpError },
    /// ICE chose the pair to `peer` (a check of ours succeeded, or it was
    /// nominated): media and DTLS go there.
    IceSelected {
        stream: StreamId,
        peer: SocketAddr,
        nominated: bool,
    },
    /// Every pair failed; new candidates or a check from the peer start over.
    IceFailed { stream: StreamId },
    /// The peer stopped answering our consent checks (RFC 7675): no media
    /// goes to `peer` until ICE selects a pair again.
    IceConsentLost { stream: StreamId, peer: SocketAddr },
    /// The DTLS handshake finished: SRTP with `suite` runs on the stream.
    DtlsConnected {
        stream: StreamId,
        suite: &'static str,
    },
    /// The DTLS handshake failed, or could not start, or the peer closed the
    /// association: no media on the stream until signalling starts over.
    DtlsFailed { stream: StreamId, reason: String },
    /// An RTCP packet from `source` that the stream relays, in the clear
    /// (decrypted if SRTCP); only `with_rtcp_reports`.
    Rtcp {
        stream: StreamId,
        source: SocketAddr,
        packet: Vec<u8>,
    },
}

pub struct Engine {
    /// A call has a handful of streams: a vector searched by id beats a map.
    streams: Vec<Stream>,
    /// Kernel forwarding is available.
    kernel: bool,
    /// How long endpoint learning stays open after signalling.
    learning_delay: Duration,
    outputs: VecDeque<Output>,
    tickets: u64,
    /// What STUN answers say and how role conflicts are decided.
    ice: IceSettings,
    /// Starts DTLS handshakes; `None`: no DTLS (a stream that asks for it
    /// gets no media).
    dtls: Option<Arc<dyn DtlsFactory>>,
    /// ICE agents made so far: part of each one's seed.
    agents: u64,
    /// Relayed RTCP is reported as `Event::Rtcp` (for Homer).
    report_rtcp: bool,
}

impl Engine {
    pub fn new(kernel: bool, learning_delay: Duration) -> Engine {
        Engine {
            streams: Vec::new(),
            kernel,
            learning_delay,
            outputs: VecDeque::new(),
            tickets: 0,
            ice: IceSettings::default(),
            dtls: None,
            agents: 0,
            report_rtcp: false,
        }
    }

    /// Report each RTCP packet relayed, in the clear, as `Event::Rtcp`.
    pub fn with_rtcp_reports(mut self) -> Engine {
        self.report_rtcp = true;
        self
    }

    /// How DTLS handshakes start (our certificate).
    pub fn with_dtls(mut self, dtls: Arc<dyn DtlsFactory>) -> Engine {
        self.dtls = Some(dtls);
        self
    }

    /// The daemon's SOFTWARE string and ICE tie-breaker.
    pub fn with_ice(mut self, ice: IceSettings) -> Engine {
        self.ice = ice;
        self
    }

    pub fn is_empty(&self) -> bool {
        self.streams.is_empty()
    }

    fn index(&self, id: StreamId) -> Option<usize> {
        self.streams.iter().position(|s| s.cfg.id == id)
    }

    fn emit(&mut self, e: Event) {
        self.outputs.push_back(Output::Event(e));
    }

    /// The next kernel operation or event, in the order they happened.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    /// Signalling (re)configured a stream at `now`: endpoint learning starts over,
    /// SRTP follows the new parameters, and the stream and those forwarding to it
    /// leave the kernel until their peers are confirmed again, as in 10.5.
    pub fn configure(&mut self, now: Instant, cfg: StreamConfig) {
        let id = cfg.id;
        if let Some(i) = self.index(id) {
            let s = &mut self.streams[i];
            if s.cfg.control != cfg.control {
                // Compare the rest in place: every offer and answer comes
                // through here, a copy of the whole configuration is waste.
                let old = std::mem::replace(&mut s.cfg.control, cfg.control.clone());
                if s.cfg == cfg {
                    // Only the media controls changed (block/silence media,
                    // block DTMF): learning, ICE and DTLS go on; the kernel
                    // target goes, a later packet installs it again if the
                    // controls allow.
                    self.unkernelize(id);
                    self.streams[i].kernel = KernelState::Idle;
                    return;
                }
                s.cfg.control = old;
            }
        }
        let delay = self.learning_delay;
        let i = match self.index(id) {
            Some(i) => i,
            None => {
                self.streams.push(Stream::new(cfg.clone(), delay, now));
                self.streams.len() - 1
            }
        };
        // An association this change ends says goodbye to its own peer.
        let old_peer = self.dtls_destination(i);
        let s = &mut self.streams[i];
        s.learner.signalled(Params::of(&cfg, delay), now);
        // Signalling sets the ICE role again (10.5's ice_update).
        s.ice_controlling = cfg.ice.as_ref().is_some_and(|c| c.controlling);
        match (&cfg.ice, s.ice_agent.as_mut()) {
            // A lite agent of ours sends no checks: the peer's decide.
            (Some(c), _) if c.lite => s.ice_agent = None,
            (Some(c), Some(agent)) => agent.set_remote(c, now),
            (Some(c), None) => {
                self.agents += 1;
                let cfg = AgentConfig {
                    credentials: c.clone(),
                    local: cfg.local,
                    component: if cfg.is_rtcp { 2 } else { 1 },
                    interface_index: 0,
                    tiebreaker: self.ice.tiebreaker,
                    software: self.ice.software.clone(),
                    seed: agent_seed(&self.ice.seed, id, self.agents),
                };
                s.ice_agent = Some(IceAgent::new(cfg, now));
            }
            (None, _) => {
                s.ice_agent = None;
                s.ice_peer = None;
                s.consent_lost = false;
            }
        }
        let closing = s.resignal_dtls(cfg.dtls.as_ref());
        let srtp = match &s.dtls {
            // DTLS keys (once there are any) take the place of SDES's.
            Some(d) => match &d.keys {
                Some(k) => s.srtp.update(Some(&k.decrypt), Some(&k.encrypt)),
                None => s.srtp.update(None, None),
            },
            None => {
                let epoch = s.srtp.epoch;
                let done = s.srtp.update(
                    cfg.kernel.srtp_in.as_deref(),
                    cfg.kernel.srtp_out.as_deref(),
                );
                // New contexts of a restored call go on from its indices.
                if let (true, Some(resume)) = (s.srtp.epoch != epoch, &cfg.srtp_resume) {
                    s.srtp.resume(resume);
                }
                done
            }
        };
        s.cfg = cfg;
        s.dirty = true;
        if let Err(error) = srtp {
            self.emit(Event::SrtpRefused { stream: id, error });
        }
        self.unkernelize(id);
        // A refusal was for the old configuration.
        self.streams[i].kernel = KernelState::Idle;
        self.send_records_to(i, old_peer, closing);
        self.start_dtls(i, now);
    }

    /// The stream is gone: its target and those forwarding to it go too.
    pub fn close(&mut self, id: StreamId) {
        self.unkernelize(id);
        if let Some(i) = self.index(id) {
            // close_notify goes out before the socket closes.
            let last = self.streams[i].dtls.as_mut().map(StreamDtls::close);
            self.send_records(i, last.unwrap_or_default());
            self.streams.swap_remove(i);
        }
    }

    /// A stream restored after a restart took over the kernel target left on its
    /// local address (the edge found it); `source` is the peer the target accepts.
    pub fn adopt(&mut self, now: Instant, id: StreamId, source: Option<SocketAddr>) {
        let Some(i) = self.index(id) else { return };
        let resume = self.resume_of(i);
        let s = &mut self.streams[i];
        s.kernel = KernelState::Installed {
            target: Target {
                local: to_abi(s.cfg.local),
                sink: s.cfg.sink,
                resume,
            },
            // The target's counters so far belong to this stream: count them all.
            baseline: Baseline::default(),
            since: now,
        };
        if let Some(source) = source {
            s.learner.adopt(source);
        }
        s.dirty = true;
    }

    /// Where a target of stream `i` (to its sink) would hand SRTP indexes back.
    fn resume_of(&self, i: usize) -> Option<Resume> {
        let here = &self.streams[i];
        let sink = here.cfg.sink.and_then(|id| self.index(id));
        let sink_encrypts = sink.is_some_and(|k| self.streams[k].srtp.encrypt.is_some());
        if here.srtp.decrypt.is_none() && !sink_encrypts {
            return None;
        }
        let (sink, sink_epoch) = match sink {
            Some(k) => (self.streams[k].cfg.id, self.streams[k].srtp.epoch),
            None => (here.cfg.id, here.srtp.epoch),
        };
        Some(Resume {
            here: here.cfg.id,
            here_epoch: here.srtp.epoch,
            sink,
            sink_epoch,
        })
    }

    /// Takes stream `id`, and every stream whose target forwards to it, out of the
    /// kernel.
    fn unkernelize(&mut self, id: StreamId) {
        let mut gone = Vec::new();
        for s in &mut self.streams {
            let Some(target) = s.kernel.target().copied() else {
                continue;
            };
            if s.cfg.id == id || target.sink == Some(id) {
                s.kernel = KernelState::Idle;
                s.dirty = true;
                gone.push(KernelOp::Remove {
                    stream: s.cfg.id,
                    local: target.local,
                    resume: target.resume,
                });
            }
        }
        self.outputs.extend(gone.into_iter().map(Output::Kernel));
    }

    /// A datagram too large for the receive buffer arrived on `at`.
    pub fn truncated(&mut self, at: StreamId) {
        self.count_error(at);
    }

    /// Sending a datagram out of `via` failed (a full socket buffer drops it, as
    /// in 10.5).
    pub fn send_failed(&mut self, via: StreamId) {
        self.count_error(via);
    }

    fn count_error(&mut self, id: StreamId) {
        if let Some(i) = self.index(id) {
            self.streams[i].error();
        }
    }

    /// A datagram of `len` bytes at the start of `buf` arrived on stream `at` from
    /// `src` at `now`. Returns what to send, rewritten in place in `buf` (whose
    /// spare room takes an SRTP tag); kernel operations and events are queued.
    pub fn datagram(
        &mut self,
        now: Instant,
        at: StreamId,
        src: SocketAddr,
        buf: &mut [u8],
        len: usize,
    ) -> Option<Transmit> {
        let i = self.index(at)?;
        let rtcp_socket = self.streams[i].cfg.is_rtcp;
        let kind = classify(buf.get(..len)?, rtcp_socket);
        // With ICE, STUN is answered here and never relayed; without, it is
        // media like any other packet (as in 10.5).
        if kind == Kind::Stun && self.streams[i].cfg.ice.is_some() {
            return self.stun(now, i, src, buf, len);
        }
        if kind == Kind::Dtls && self.streams[i].dtls.is_some() {
            self.dtls_record(now, i, src, &buf[..len]);
            return None;
        }
        if self.streams[i].dtls_pending() {
            // No keys yet to verify it with: not media we may take.
            self.streams[i].error();
            return None;
        }
        let media = matches!(kind, Kind::Rtp | Kind::Rtcp);
        let mut len = len;
        // SRTP from the peer is verified before it counts or teaches anything (as
        // in 10.5); failures, and what is not RTP on an SRTP stream, are dropped.
        if self.streams[i].srtp.decrypt.is_some() {
            let fresh = media && self.new_ssrc_beside_kernel(i, i, &buf[..len], false);
            let s = &mut self.streams[i];
            let d = s.srtp.decrypt.as_mut()?;
            let plain = if media {
                d.unprotect_in_place(buf, len).ok()
            } else {
                None
            };
            match plain {
                Some(n) => len = n,
                None => {
                    s.error();
                    return None;
                }
            }
            if fresh {
                // The kernel target tracks the SSRCs it was given; take it back
                // so that it is installed again with this one too.
                self.unkernelize(at);
            }
        }
        // 10.5 (its GH #697): stray RTCP on an RTP port does not teach the peer.
        let learnable = rtcp_socket || kind != Kind::Rtcp;
        let s = &mut self.streams[i];
        let learned = s.learner.packet(src, now, learnable);
        if learned.verdict == Verdict::Drop {
            s.error();
            return None;
        }
        s.count(len, now);
        if kind == Kind::Rtp {
            s.counters.rtp(&buf[..len]);
        }
        if s.cfg.control.record || s.cfg.control.intercept.is_some() {
            // As 10.5 dumps it: accepted and decrypted, before forwarding.
            let data = buf[..len].to_vec();
            self.outputs.push_back(Output::Record {
                stream: at,
                src,
                data,
            });
        }
        let s = &mut self.streams[i];
        let peer = s.learner.destination();
        if learned.committed {
            self.emit(Event::Committed { stream: at, peer });
        }
        if learned.changed {
            self.emit(Event::PeerChanged {
                stream: at,
                peer,
                source: src,
            });
            if self.kernel {
                // This stream's target and those forwarding to its old (or
                // signalled) peer are stale.
                self.unkernelize(at);
            }
        }
        let cfg = &self.streams[i].cfg;
        let sink_id = match (kind, cfg.rtcp_sink) {
            (Kind::Rtcp, Some(r)) if !cfg.is_rtcp => Some(r),
            _ => cfg.sink,
        };
        let k = sink_id.and_then(|id| self.index(id))?;
        if kind == Kind::Rtcp && self.report_rtcp {
            self.emit(Event::Rtcp {
                stream: at,
                source: src,
                packet: buf[..len].to_vec(),
            });
        }
        if self.streams[k].dtls_pending() || self.streams[k].consent_lost {
            // No keys yet to protect it with (plain media must not reach a
            // peer that asked for SRTP); the sender may well be early.
            return None;
        }
        // block/silence media, block DTMF: on the plain RTP of this sender.
        if kind == Kind::Rtp && !self.streams[i].cfg.control.apply(&mut buf[..len]) {
            return None;
        }
        let muxed_rtcp = kind == Kind::Rtcp && !rtcp_socket;
        if !self.streams[i].cfg.copies.is_empty() && !muxed_rtcp {
            self.send_copies(i, &buf[..len], media);
        }
        // The kernel does SRTP but not SRTCP: a separate RTCP socket of an SRTP
        // stream stays in userspace (muxed RTCP reaches userspace via RTCP_MUX).
        let srtcp_here = rtcp_socket && (self.streams[i].srtp.any() || self.streams[k].srtp.any());
        // Only a committed stream moves into the kernel (10.5: a confirmed one).
        if let Some(source) = learned.kernel {
            if self.kernel && !srtcp_here && self.streams[i].kernel == KernelState::Idle {
                self.offer_to_kernel(i, source);
            }
        }
        let to = self.streams[k].learner.destination()?;
        if self.streams[k].srtp.encrypt.is_some() {
            let fresh = media && self.new_ssrc_beside_kernel(i, k, &buf[..len], true);
            let sink = &mut self.streams[k];
            let e = sink.srtp.encrypt.as_mut()?;
            let protected = if media {
                e.protect_in_place(buf, len).ok()
            } else {
                None
            };
            match protected {
                Some(n) => len = n,
                None => {
                    sink.error();
                    return None;
                }
            }
            if fresh {
                self.unkernelize(at);
            }
        }
        Some(Transmit {
            via: self.streams[k].cfg.id,
            to,
            len,
        })
    }

    /// STUN on stream `i`, which does ICE: the answer goes back out of the
    /// same socket to the sender; nothing is relayed or learned.
    fn stun(
        &mut self,
        now: Instant,
        i: usize,
        src: SocketAddr,
        buf: &mut [u8],
        len: usize,
    ) -> Option<Transmit> {
        let s = &mut self.streams[i];
        // Answers to our own checks belong to the agent.
        if let Some(agent) = s.ice_agent.as_mut() {
            if agent.response_received(&buf[..len], src, now) {
                s.counters.stun += 1;
                s.dirty = true;
                self.pump_ice(i, now);
                return None;
            }
        }
        let s = &mut self.streams[i];
        let creds = s.cfg.ice.as_ref()?;
        let role = s.ice_controlling;
        let agent = ice::Agent {
            creds,
            controlling: &mut s.ice_controlling,
            settings: &self.ice,
        };
        let outcome = ice::handle(buf, len, src, agent);
        s.dirty = true;
        match outcome {
            ice::Outcome::Ignored(why) => {
                tracing::debug!(stream = s.cfg.id.0, %src, why, "STUN dropped");
                s.error();
                None
            }
            ice::Outcome::Consumed => {
                s.counters.stun += 1;
                None
            }
            ice::Outcome::Answer { len, code, check } => {
                s.counters.stun += 1;
                if let Some(code) = code {
                    tracing::debug!(stream = s.cfg.id.0, %src, code, "STUN error response");
                }
                let via = s.cfg.id;
                let controlling = s.ice_controlling;
                if let Some(agent) = s.ice_agent.as_mut() {
                    if controlling != role {
                        agent.set_controlling(controlling);
                    }
                    if let Some(c) = check {
                        let priority = c.priority.unwrap_or(0);
                        agent.request_received(src, c.use_candidate, priority, now);
                    }
                }
                if let (Some(c), None) = (check, &s.ice_agent) {
                    // ICE-lite: the first check that reaches us makes the pair
                    // usable, the controlling peer's nomination selects it.
                    let fresh =
                        s.ice_peer.is_none() || (c.use_candidate && s.ice_peer != Some(src));
                    if fresh {
                        let e = IceEvent::Selected {
                            remote: src,
                            nominated: c.use_candidate,
                        };
                        self.ice_event(i, e, now);
                    }
                }
                self.pump_ice(i, now);
                Some(Transmit { via, to: src, len })
            }
        }
    }

    /// Sends the checks stream `i`'s ICE agent wrote and follows what it
    /// decided.
    fn pump_ice(&mut self, i: usize, now: Instant) {
        let s = &mut self.streams[i];
        let via = s.cfg.id;
        let Some(agent) = s.ice_agent.as_mut() else {
            return;
        };
        let mut events = Vec::new();
        while let Some((to, data)) = agent.poll_transmit() {
            self.outputs
                .push_back(Output::Send(Datagram { via, to, data }));
        }
        while let Some(e) = agent.poll_event() {
            events.push(e);
        }
        for e in events {
            self.ice_event(i, e, now);
        }
    }

    fn ice_event(&mut self, i: usize, e: IceEvent, now: Instant) {
        let s = &mut self.streams[i];
        let stream = s.cfg.id;
        match e {
            IceEvent::Selected { remote, nominated } => {
                s.consent_lost = false;
                s.ice_peer = Some(remote);
                let before = s.learner.destination();
                s.learner.adopt(remote);
                let changed = s.learner.destination() != before;
                s.dirty = true;
                self.emit(Event::IceSelected {
                    stream,
                    peer: remote,
                    nominated,
                });
                if changed && self.kernel {
                    self.unkernelize(stream);
                }
                self.start_dtls(i, now);
            }
            IceEvent::Failed => self.emit(Event::IceFailed { stream }),
            IceEvent::ConsentLost(peer) => {
                s.consent_lost = true;
                s.ice_peer = None;
                s.dirty = true;
                self.emit(Event::IceConsentLost { stream, peer });
                // Targets forwarding to the peer would go on sending.
                self.unkernelize(stream);
            }
            IceEvent::RoleChanged { controlling } => s.ice_controlling = controlling,
        }
    }

    /// Where stream `i`'s DTLS records go. With ICE: the pair ICE chose (the
    /// association runs over it, also once an ICE restart moved it), else
    /// where the peer's records came from. Without: where they came from,
    /// else the peer media goes to.
    fn dtls_destination(&self, i: usize) -> Option<SocketAddr> {
        let s = &self.streams[i];
        let known = s.dtls.as_ref().and_then(|d| d.peer);
        let to = if s.cfg.ice.is_some() {
            s.ice_peer.or(known)
        } else {
            known.or(s.learner.destination())
        };
        to.filter(|a| !a.ip().is_unspecified() && a.port() != 0)
    }

    /// Queues `records` out of stream `i`'s socket to its DTLS peer.
    fn send_records(&mut self, i: usize, records: Vec<Vec<u8>>) {
        let to = self.dtls_destination(i);
        self.send_records_to(i, to, records);
    }

    fn send_records_to(&mut self, i: usize, to: Option<SocketAddr>, records: Vec<Vec<u8>>) {
        if records.is_empty() {
            return;
        }
        let Some(to) = to else {
            return;
        };
        let via = self.streams[i].cfg.id;
        for data in records {
            self.outputs
                .push_back(Output::Send(Datagram { via, to, data }));
        }
    }

    /// The active side sends its first flight once it knows where to.
    fn start_dtls(&mut self, i: usize, now: Instant) {
        let ready = self.streams[i].dtls.as_ref().is_some_and(|d| {
            d.params.active && d.session.is_none() && !d.failed && d.keys.is_none()
        });
        if ready && self.dtls_destination(i).is_some() {
            self.open_dtls(i, now);
        }
    }

    /// Starts stream `i`'s association in its signalled role.
    fn open_dtls(&mut self, i: usize, now: Instant) {
        let factory = self.dtls.clone();
        let s = &mut self.streams[i];
        let Some(d) = s.dtls.as_mut() else { return };
        let started = match &factory {
            Some(f) => f.start(d.params.active, &d.params.fingerprint, now),
            None => Err("DTLS is not available".to_owned()),
        };
        match started {
            Ok(session) => d.session = Some(session),
            Err(reason) => {
                d.failed = true;
                let stream = s.cfg.id;
                self.emit(Event::DtlsFailed { stream, reason });
                return;
            }
        }
        self.pump_dtls(i);
    }

    /// A DTLS record from `src` on stream `i`, which does DTLS.
    fn dtls_record(&mut self, now: Instant, i: usize, src: SocketAddr, record: &[u8]) {
        let s = &mut self.streams[i];
        let Some(d) = s.dtls.as_mut() else { return };
        if d.failed {
            s.error();
            return;
        }
        // Until the handshake is done our records answer whoever speaks;
        // after it, the association's peer is known and a stranger's record
        // (dropped by the session) must not divert close_notify.
        if !d.connected() {
            d.peer = Some(src);
        }
        if d.session.is_none() {
            self.open_dtls(i, now);
        }
        let s = &mut self.streams[i];
        if let Some(session) = s.dtls.as_mut().and_then(|d| d.session.as_mut()) {
            session.handle_datagram(now, record);
            self.pump_dtls(i);
        }
    }

    /// Sends what stream `i`'s association wrote and takes in what it reports.
    fn pump_dtls(&mut self, i: usize) {
        let mut records = Vec::new();
        let mut events = Vec::new();
        if let Some(session) = self.streams[i]
            .dtls
            .as_mut()
            .and_then(|d| d.session.as_mut())
        {
            while let Some(r) = session.poll_transmit() {
                records.push(r);
            }
            while let Some(e) = session.poll_event() {
                events.push(e);
            }
        }
        self.send_records(i, records);
        for e in events {
            self.dtls_event(i, e);
        }
    }

    fn dtls_event(&mut self, i: usize, e: DtlsEvent) {
        let s = &mut self.streams[i];
        let stream = s.cfg.id;
        let Some(d) = s.dtls.as_mut() else { return };
        match e {
            DtlsEvent::Connected {
                suite,
                local_key_salt,
                remote_key_salt,
            } => {
                let Some(keys) = DtlsKeys::of(suite, &local_key_salt, &remote_key_salt) else {
                    d.failed = true;
                    let reason = format!("no SRTP keys for {suite}");
                    return self.emit(Event::DtlsFailed { stream, reason });
                };
                d.keys = Some(keys);
                let srtp = s.srtp.update(Some(&keys.decrypt), Some(&keys.encrypt));
                s.dirty = true;
                self.emit(Event::DtlsConnected { stream, suite });
                if let Err(error) = srtp {
                    self.emit(Event::SrtpRefused { stream, error });
                }
                // Targets to or from the stream (none should exist: they wait
                // for the keys) would be plain.
                self.unkernelize(stream);
            }
            DtlsEvent::Failed(reason) => {
                d.failed = true;
                d.session = None;
                s.error();
                self.emit(Event::DtlsFailed { stream, reason });
            }
            // The keys stay for the media still in flight; a new handshake
            // from the peer starts a new association.
            DtlsEvent::Closed => d.session = None,
        }
    }

    /// When `handle_timeout` is due next (ICE checks, DTLS retransmissions).
    pub fn poll_timeout(&self) -> Option<Instant> {
        let dtls = self
            .streams
            .iter()
            .filter_map(|s| s.dtls.as_ref()?.session.as_ref()?.poll_timeout());
        let ice = self
            .streams
            .iter()
            .filter_map(|s| s.ice_agent.as_ref()?.poll_timeout());
        dtls.chain(ice).min()
    }

    /// Time passed: retransmits what is due.
    pub fn handle_timeout(&mut self, now: Instant) {
        for i in 0..self.streams.len() {
            let agent = self.streams[i].ice_agent.as_mut();
            if let Some(a) = agent.filter(|a| a.poll_timeout().is_some_and(|t| t <= now)) {
                a.handle_timeout(now);
                self.pump_ice(i, now);
            }
            let due = self.streams[i]
                .dtls
                .as_ref()
                .and_then(|d| d.session.as_ref()?.poll_timeout())
                .is_some_and(|t| t <= now);
            if due {
                if let Some(session) = self.streams[i]
                    .dtls
                    .as_mut()
                    .and_then(|d| d.session.as_mut())
                {
                    session.handle_timeout(now);
                }
                self.pump_dtls(i);
            }
        }
    }

    /// Before SRTP runs on `packet` (received by stream `i`, with the SRTP of
    /// stream `k`: `i` decrypting, or its sink encrypting): whether it brings an
    /// SSRC that stream `i`'s kernel target cannot know (the target was installed
    /// with the SSRCs seen so far, and this one would take a free slot now).
    fn new_ssrc_beside_kernel(&self, i: usize, k: usize, packet: &[u8], encrypt: bool) -> bool {
        let here = &self.streams[i];
        if here.cfg.is_rtcp || here.kernel.target().is_none() || packet.len() < 12 {
            return false;
        }
        if rtpengine_core::rtp::is_muxed_rtcp(packet) {
            return false;
        }
        let srtp = &self.streams[k].srtp;
        let d = if encrypt {
            &srtp.encrypt
        } else {
            &srtp.decrypt
        };
        let ssrc = u32::from_be_bytes([packet[8], packet[9], packet[10], packet[11]]);
        d.as_ref().is_some_and(|d| d.would_take_slot(ssrc))
    }

    /// Stream `i` is committed: ask the edge to install its target (RTP to its
    /// RTP sink; muxed RTCP stays in userspace), if the sink has a peer.
    /// A copy of the plain packet `pkt` received on stream `i` out of each
    /// of its copy streams to that stream's peer, protected with its SRTP.
    fn send_copies(&mut self, i: usize, pkt: &[u8], media: bool) {
        for id in self.streams[i].cfg.copies.clone() {
            let Some(k) = self.index(id) else { continue };
            let sink = &mut self.streams[k];
            if sink.dtls_pending() || sink.consent_lost {
                continue;
            }
            let Some(to) = sink.learner.destination() else {
                continue;
            };
            let mut data = pkt.to_vec();
            if let Some(e) = sink.srtp.encrypt.as_mut() {
                if !media {
                    continue;
                }
                data.resize(pkt.len() + SRTP_ROOM, 0);
                match e.protect_in_place(&mut data, pkt.len()) {
                    Ok(n) => data.truncate(n),
                    Err(_) => {
                        sink.error();
                        continue;
                    }
                }
            }
            self.outputs
                .push_back(Output::Send(Datagram { via: id, to, data }));
        }
    }

    fn offer_to_kernel(&mut self, i: usize, source: SourceCheck) {
        let here = &self.streams[i];
        // Media controls are applied here, packet by packet (10.5 too keeps
        // blocked media out of the kernel); so are copies to subscribers.
        if here.cfg.control.active() || !here.cfg.copies.is_empty() {
            return;
        }
        let Some(k) = here.cfg.sink.and_then(|id| self.index(id)) else {
            return;
        };
        let sink = &self.streams[k];
        if here.dtls_pending() || sink.dtls_pending() || sink.consent_lost {
            // A later packet tries again, with the keys.
            return;
        }
        let Some(to) = sink.learner.destination() else {
            return;
        };
        let out = KernelOutput {
            from: sink.cfg.local,
            to,
            tos: sink.cfg.tos.unwrap_or(0),
        };
        let crypto = Crypto {
            decrypt: here.srtp.decrypt.as_ref().map(|d| d.kernel_params()),
            encrypt: sink.srtp.encrypt.as_ref().map(|e| e.kernel_params()),
        };
        let id = here.cfg.id;
        let Some((mut target, destination)) = build(&here.cfg, source, out, &crypto) else {
            return self.refuse(i, Refusal::Unsupported);
        };
        // One SRTP index slot per SSRC seen so far (10.5's track_ssrc); an SSRC
        // that comes later reaches userspace, which installs the target again.
        let rx = here.srtp.decrypt.as_ref().map(|d| d.ssrcs());
        let tx = sink.srtp.encrypt.as_ref().map(|e| e.ssrcs());
        if let Err(c) = track_ssrcs(&mut target, rx.as_ref(), tx.as_ref()) {
            return self.refuse(i, Refusal::SlotConflict(c.slot));
        }
        let summary = Summary {
            local: here.cfg.local,
            source,
            to,
            srtp: crypto.any(),
        };
        let t = Target {
            local: target.local,
            sink: Some(sink.cfg.id),
            resume: self.resume_of(i),
        };
        self.tickets += 1;
        let ticket = self.tickets;
        self.streams[i].kernel = KernelState::Pending { ticket, target: t };
        self.outputs.push_back(Output::Kernel(KernelOp::Install {
            stream: id,
            ticket,
            target: Box::new(target),
            destination: Box::new(destination),
            summary,
        }));
    }

    fn refuse(&mut self, i: usize, why: Refusal) {
        let s = &mut self.streams[i];
        s.kernel = KernelState::Refused;
        let stream = s.cfg.id;
        self.emit(Event::KernelRefused { stream, why });
    }

    /// The edge executed `Install { stream, ticket }` at `now`: `ok` whether the
    /// kernel took it. An answer to an installation that a later change already
    /// took back (and removed after it) changes nothing.
    pub fn kernel_installed(&mut self, now: Instant, stream: StreamId, ticket: u64, ok: bool) {
        let Some(i) = self.index(stream) else { return };
        let s = &mut self.streams[i];
        let KernelState::Pending { ticket: t, target } = s.kernel else {
            return;
        };
        if t != ticket {
            return;
        }
        s.dirty = true;
        if ok {
            s.kernel = KernelState::Installed {
                target,
                baseline: Baseline::default(),
                since: now,
            };
        } else {
            self.refuse(i, Refusal::Kernel);
        }
    }

    /// The edge removed a target and read the SRTP indexes it had reached: the
    /// ROC continues in userspace (only with the keys the target had).
    pub fn kernel_removed(&mut self, resume: Resume, indexes: &KernelIndexes) {
        if let Some(i) = self.index(resume.here) {
            let s = &mut self.streams[i].srtp;
            if s.epoch == resume.here_epoch {
                if let Some(d) = s.decrypt.as_mut() {
                    d.resume_from_kernel(&indexes.decrypt);
                }
            }
        }
        if let Some(k) = self.index(resume.sink) {
            let s = &mut self.streams[k].srtp;
            if s.epoch == resume.sink_epoch {
                if let Some(e) = s.encrypt.as_mut() {
                    e.resume_from_kernel(&indexes.encrypt);
                }
            }
        }
    }

    /// The kernel's totals for `stream`'s target, listed at `read_at`: what it
    /// forwarded since the previous listing joins the stream's counters.
    pub fn kernel_counters(&mut self, read_at: Instant, stream: StreamId, stats: &Stats) {
        let Some(i) = self.index(stream) else { return };
        let s = &mut self.streams[i];
        let KernelState::Installed {
            baseline, since, ..
        } = &mut s.kernel
        else {
            return;
        };
        if *since > read_at {
            return;
        }
        let d = baseline.advance(stats);
        let c = &mut s.counters;
        c.packets += d.packets;
        c.bytes += d.bytes;
        c.errors += d.errors;
        if d.packets > 0 || d.errors > 0 {
            c.last_packet = c.last_packet.max(Some(read_at));
        }
        s.dirty = true;
    }

    /// Statistics of every stream that changed since the last call.
    pub fn publish(&mut self, mut f: impl FnMut(StreamId, StreamStats)) {
        for s in self.streams.iter_mut().filter(|s| s.dirty) {
            s.dirty = false;
            f(s.cfg.id, s.stats());
        }
    }

    /// Where the SRTP indices of one stream stand (`None`: no SRTP there).
    pub fn srtp_state(&self, id: StreamId) -> Option<crate::call::SrtpState> {
        self.index(id).and_then(|i| self.streams[i].srtp.state())
    }

    /// Statistics of one stream.
    pub fn stats(&self, id: StreamId) -> Option<StreamStats> {
        self.index(id).map(|i| self.streams[i].stats())
    }
}

/// The key of one stream's ICE agent: the daemon's seed mixed with the
/// stream and a count, so no two agents share transaction ids.
fn agent_seed(base: &[u8; 32], stream: StreamId, count: u64) -> [u8; 32] {
    let mut seed = *base;
    for (b, x) in seed.iter_mut().zip(
        stream
            .0
            .to_be_bytes()
            .into_iter()
            .chain(count.to_be_bytes()),
    ) {
        *b ^= x;
    }
    seed
}

#[cfg(test)]
mod test_config;
#[cfg(test)]
mod tests;
