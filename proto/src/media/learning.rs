//! Endpoint learning of one stream, sans-IO: from the sources of the packets the
//! stream receives and when they arrive, where its media must go, whether a packet
//! is relayed, and when (and how) the kernel may take the stream over.
//!
//! rtpengine 10.5's `--endpoint-learning` modes, with one protection added against
//! "RTP Bleed" (a stranger that sends to a relay port before the real peer does and
//! then receives the media meant for the peer):
//!
//! A source *matches* when signalling vouches for it: its address is the SDP
//! endpoint's address, or the address the party's SIP signalling came from
//! (`received-from`). While learning is not committed, media goes to the last
//! matching source seen (`heuristic`: the best-ranked one), else to the peer learned
//! before the last signalling (same SDP endpoint), else to the SDP endpoint; never
//! to a source that does not match. Learning commits
//!
//! - `delayed` (default): on the first packet at least `delay` (3 s) after the last
//!   signalling;
//! - `immediate`: on the first packet from a matching source, or as `delayed`;
//! - `heuristic`: as `delayed`;
//!
//! to: the matching source chosen so far, else the earlier peer if it still matches
//! or has been heard since the signalling, else the packet's source (`heuristic`:
//! the best-ranked source seen). A stream committed to a source that does not match
//! (a NAT that signalling knows nothing of) hands over to a matching one as soon as
//! it is heard. After the commit only media handover moves the peer: every new
//! source takes over, as in 10.5.
//!
//! `off` and asymmetric streams never learn: media goes to the SDP endpoint, and
//! the kernel may take the stream from its first packet. Strict source drops, before
//! the commit, packets from sources that do not match (the earlier peer excepted),
//! and after it packets not from the peer (asymmetric and `off`: not from the SDP
//! endpoint). A packet from the peer's own source never changes anything.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use crate::call::{Learning, LearningMode, StreamConfig};
use crate::kernel::target::{OnMismatch, SourceCheck};

/// rtpengine 10.5's wait after signalling before a peer is committed to.
pub const DELAY: Duration = Duration::from_secs(3);

/// What signalling says about a stream's peer.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Params {
    pub learning: Learning,
    /// The endpoint from SDP (or SIP source / media-address, per the ng flags).
    pub sdp: Option<SocketAddr>,
    /// Where the party's signalling came from.
    pub sip_source: Option<IpAddr>,
    /// How long after signalling learning stays open (`DELAY`, shorter in tests).
    pub delay: Duration,
}

impl Params {
    pub fn of(cfg: &StreamConfig, delay: Duration) -> Params {
        Params {
            learning: cfg.learning,
            sdp: cfg.endpoint,
            sip_source: cfg.sip_source,
            delay,
        }
    }

    /// Asymmetric and `off` streams never learn.
    fn fixed(&self) -> bool {
        self.learning.asymmetric || self.learning.mode == LearningMode::Off
    }
}

/// What to do with one received packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Forward,
    /// Strict source: not from the peer.
    Drop,
}

/// The result of one packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    pub verdict: Verdict,
    /// Where this stream's media goes changed with this packet: kernel targets
    /// forwarding to the peer, and this stream's own, are stale.
    pub changed: bool,
    /// This packet committed learning (10.5: the peer is "confirmed").
    pub committed: bool,
    /// Learning is committed: the kernel may forward the stream, checking sources
    /// like this.
    pub kernel: Option<SourceCheck>,
}

/// How well a source matches signalling, best first (the order of 10.5's
/// heuristic, with the SIP source between SDP address and SDP port).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Rank {
    SdpEndpoint,
    SdpAddress,
    SipSource,
    SdpPort,
    Other,
}

impl Rank {
    fn matches(self) -> bool {
        self <= Rank::SipSource
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Candidate {
    addr: SocketAddr,
    rank: Rank,
}

/// The peer learned before the last signalling (whose SDP endpoint was the same).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Incumbent {
    addr: SocketAddr,
    /// Sent since the signalling.
    heard: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    /// Never learns (asymmetric, `off`); `heard` once a packet arrived.
    Fixed { heard: bool },
    /// Learning, not committed.
    Open {
        until: Instant,
        /// The matching source media goes to.
        matching: Option<Candidate>,
        /// The source of the others that a commit would take.
        other: Option<Candidate>,
        incumbent: Option<Incumbent>,
    },
    Committed {
        endpoint: SocketAddr,
        /// Signalling vouches for `endpoint`.
        matches: bool,
    },
}

/// Endpoint learning of one stream; see the module documentation.
#[derive(Debug, Clone)]
pub struct Learner {
    params: Params,
    state: State,
}

impl Learner {
    pub fn new(params: Params, now: Instant) -> Learner {
        let state = Self::open(&params, now, None);
        Learner { params, state }
    }

    fn open(params: &Params, now: Instant, incumbent: Option<SocketAddr>) -> State {
        if params.fixed() {
            return State::Fixed { heard: false };
        }
        State::Open {
            until: now + params.delay,
            matching: None,
            other: None,
            incumbent: incumbent.map(|addr| Incumbent { addr, heard: false }),
        }
    }

    /// Signalling (re)configured the stream at `now`: learning starts over. While
    /// the SDP endpoint stays the same, the peer learned so far keeps its media
    /// until another is chosen (a re-INVITE does not cut a NAT'd phone off).
    pub fn signalled(&mut self, params: Params, now: Instant) {
        let keep = if params.sdp == self.params.sdp {
            self.learned()
        } else {
            None
        };
        self.state = Self::open(&params, now, keep);
        self.params = params;
    }

    /// A stream restored after a restart whose kernel target accepts `source`:
    /// that is its committed peer.
    pub fn adopt(&mut self, source: SocketAddr) {
        if !self.params.fixed() {
            self.state = State::Committed {
                endpoint: source,
                matches: self.rank(source).matches(),
            };
        }
    }

    /// Where this stream's media must be sent now.
    pub fn destination(&self) -> Option<SocketAddr> {
        match &self.state {
            State::Fixed { .. } => self.params.sdp,
            State::Open { .. } => self.learned().or(self.params.sdp),
            State::Committed { endpoint, .. } => Some(*endpoint),
        }
    }

    /// The destination when packets, not signalling, decided it.
    pub fn learned(&self) -> Option<SocketAddr> {
        match &self.state {
            State::Fixed { .. } => None,
            State::Open {
                matching,
                incumbent,
                ..
            } => matching
                .map(|c| c.addr)
                .or_else(|| incumbent.map(|i| i.addr)),
            State::Committed { endpoint, .. } => Some(*endpoint),
        }
    }

    /// 10.5's "confirmed": committed, or a stream that never learns that has
    /// received a packet.
    pub fn confirmed(&self) -> bool {
        match self.state {
            State::Fixed { heard } => heard,
            State::Open { .. } => false,
            State::Committed { .. } => true,
        }
    }

    fn rank(&self, src: SocketAddr) -> Rank {
        let sdp = self.params.sdp;
        if sdp == Some(src) {
            Rank::SdpEndpoint
        } else if sdp.is_some_and(|e| e.ip() == src.ip()) {
            Rank::SdpAddress
        } else if self.params.sip_source == Some(src.ip()) {
            Rank::SipSource
        } else if sdp.is_some_and(|e| e.port() == src.port()) {
            Rank::SdpPort
        } else {
            Rank::Other
        }
    }

    /// A packet from `src` arrived at `now`. `learnable` is false for what must not
    /// teach the peer (10.5: RTCP on an RTP port before the commit).
    pub fn packet(&mut self, src: SocketAddr, now: Instant, learnable: bool) -> Outcome {
        let before = self.destination();
        let strict = self.params.learning.strict_source;
        let mut committed = false;
        let verdict = match self.state {
            State::Fixed { .. } => {
                self.state = State::Fixed { heard: true };
                if strict && self.params.sdp != Some(src) {
                    Verdict::Drop
                } else {
                    Verdict::Forward
                }
            }
            State::Open { .. } => {
                let rank = self.rank(src);
                if learnable {
                    committed = self.learn_open(src, rank, now);
                }
                match &self.state {
                    State::Committed { endpoint, .. } if strict && *endpoint != src => {
                        Verdict::Drop
                    }
                    State::Open { incumbent, .. }
                        if strict && !rank.matches() && incumbent.is_none_or(|i| i.addr != src) =>
                    {
                        Verdict::Drop
                    }
                    _ => Verdict::Forward,
                }
            }
            State::Committed { endpoint, matches } => {
                let mut endpoint = endpoint;
                if endpoint != src {
                    let src_matches = self.rank(src).matches();
                    if (!matches && src_matches) || self.params.learning.media_handover {
                        endpoint = src;
                        self.state = State::Committed {
                            endpoint,
                            matches: src_matches,
                        };
                    }
                }
                if strict && endpoint != src {
                    Verdict::Drop
                } else {
                    Verdict::Forward
                }
            }
        };
        Outcome {
            verdict,
            changed: before != self.destination(),
            committed,
            kernel: self.kernel_check(src),
        }
    }

    /// Records a packet while learning is open; returns whether it committed.
    fn learn_open(&mut self, src: SocketAddr, rank: Rank, now: Instant) -> bool {
        let mode = self.params.learning.mode;
        let State::Open {
            until,
            matching,
            other,
            incumbent,
        } = &mut self.state
        else {
            return false;
        };
        if let Some(i) = incumbent.as_mut().filter(|i| i.addr == src) {
            i.heard = true;
        }
        let slot = if rank.matches() {
            &mut *matching
        } else {
            &mut *other
        };
        // 10.5: the last source wins; heuristic keeps the best-ranked one.
        let better = mode != LearningMode::Heuristic || slot.is_none_or(|c| rank <= c.rank);
        if better {
            *slot = Some(Candidate { addr: src, rank });
        }
        let due = now >= *until || (mode == LearningMode::Immediate && rank.matches());
        if !due {
            return false;
        }
        let (matching, other, incumbent) = (*matching, *other, *incumbent);
        let incumbent_matches = incumbent.filter(|i| self.rank(i.addr).matches());
        let pick = matching
            .map(|c| (c.addr, true))
            .or_else(|| incumbent_matches.map(|i| (i.addr, true)))
            .or_else(|| incumbent.filter(|i| i.heard).map(|i| (i.addr, false)))
            .or_else(|| other.map(|c| (c.addr, false)));
        let Some((endpoint, matches)) = pick else {
            return false;
        };
        self.state = State::Committed { endpoint, matches };
        true
    }

    /// How a kernel target of this stream checks sources, once committed.
    fn kernel_check(&self, src: SocketAddr) -> Option<SourceCheck> {
        let l = &self.params.learning;
        match self.state {
            State::Fixed { .. } if l.strict_source => self.params.sdp.map(|expected| SourceCheck {
                expected,
                on_mismatch: OnMismatch::Drop,
            }),
            State::Fixed { .. } => Some(SourceCheck {
                expected: src,
                on_mismatch: OnMismatch::Ignore,
            }),
            State::Open { .. } => None,
            State::Committed { endpoint, matches } => Some(SourceCheck {
                expected: endpoint,
                // Userspace must see new sources to hand over to them: any with
                // media handover, a matching one while the peer does not match.
                on_mismatch: if l.media_handover || !matches {
                    OnMismatch::Userspace
                } else if l.strict_source {
                    OnMismatch::Drop
                } else {
                    OnMismatch::Ignore
                },
            }),
        }
    }
}

#[cfg(test)]
mod tests;
