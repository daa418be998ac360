//! Our side of ICE (RFC 8445) for one component of one media stream, as
//! rtpengine 10.5's `ice.c` runs it: connectivity checks paced by a 20 ms
//! timer, retransmissions from 100 ms doubling, triggered checks, peer-
//! reflexive candidates, nomination 100 ms after the first success when we
//! control, role conflicts, ICE restarts; plus consent freshness (RFC 7675),
//! which 10.5 does not do. docs/ice.md has the rules in prose.
//!
//! Sans-IO: time comes in with every call, transaction ids come from a seed
//! the embedder draws, datagrams go out through [`IceAgent::poll_transmit`]
//! (from the stream's socket). Answering the peer's checks stays with
//! `media::engine::ice`; the embedder tells the agent about each request it
//! answered with success ([`IceAgent::request_received`]) and hands it every
//! binding response ([`IceAgent::response_received`]).

mod ids;
mod message;
mod pair;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rand_core::CryptoRng;

use crate::call::{IceCredentials, RemoteCandidate};
use ids::Ids;
pub use message::CheckAttributes;
use message::{binding_request, response_header, verify_response, Check, Verdict};
use pair::{candidate_priority, pair_priority, Pair, HOST_TYPE_PREFERENCE, PRFLX_TYPE_PREFERENCE};

/// 10.5's `TIMER_RUN_INTERVAL`: the agent's timer runs at most this often,
/// and each run starts at most one new check (Ta).
pub const PACING: Duration = Duration::from_millis(20);
/// 10.5's `STUN_RETRANSMIT_INTERVAL`: the first retransmission timeout,
/// doubled after each retransmission.
pub const FIRST_RTO: Duration = Duration::from_millis(100);
/// 10.5's `STUN_MAX_RETRANSMITS`: a request is sent 1 + (this + 1) times in
/// all, then the pair fails when the last timeout runs out.
pub const MAX_RETRANSMITS: u32 = 7;
/// When we control, nomination starts this long after the first pair
/// succeeded (10.5: 100 ms).
pub const NOMINATION_DELAY: Duration = Duration::from_millis(100);
/// 10.5's `MAX_ICE_CANDIDATES`: remote candidates per agent.
pub const MAX_CANDIDATES: usize = 100;
/// 10.5 queues at most 4 × `MAX_ICE_CANDIDATES` triggered checks.
pub const MAX_TRIGGERED: usize = 4 * MAX_CANDIDATES;
/// RFC 7675: consent checks every 5 s, randomised to 0.8..1.2 times that.
pub const CONSENT_INTERVAL: Duration = Duration::from_secs(5);
/// RFC 7675: consent expires 30 s after the last response that refreshed it.
pub const CONSENT_TIMEOUT: Duration = Duration::from_secs(30);

/// How often `handle_timeout` runs overdue timer rounds in one call (an
/// embedder that was away for long catches up over several calls).
const MAX_ROUNDS_PER_CALL: usize = 64;

/// What the agent starts with.
#[derive(Debug, Clone)]
pub struct AgentConfig {
    /// Ours and the peer's ufrag/pwd, our starting role, and the peer's
    /// candidates (those of other components or address families are left
    /// out).
    pub credentials: IceCredentials,
    /// Our host candidate: the stream's socket. Checks go out from it.
    pub local: SocketAddr,
    /// 1 = RTP, 2 = RTCP. One agent per component.
    pub component: u8,
    /// The local address's index among the logical interface's addresses
    /// (0 for the first), as in our `a=candidate` priority.
    pub interface_index: u16,
    /// ICE-CONTROLLING/-CONTROLLED tie-breaker (the daemon's, as in 10.5).
    pub tiebreaker: u64,
    /// SOFTWARE of our requests.
    pub software: String,
    /// Keys transaction ids and timer jitter; draw it with [`AgentConfig::seed_from`].
    pub seed: [u8; 32],
}

impl AgentConfig {
    /// A seed from the embedder's generator.
    pub fn seed_from(rng: &mut dyn CryptoRng) -> [u8; 32] {
        let mut seed = [0; 32];
        rng.fill_bytes(&mut seed);
        seed
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IceEvent {
    /// Media should go to `remote` now: the best pair that succeeded
    /// (`nominated: false`, 10.5's "usable") or the nominated one
    /// (`nominated: true`, 10.5's "completed"). Reported whenever the address
    /// or the nomination changes, and once more after an ICE restart.
    Selected { remote: SocketAddr, nominated: bool },
    /// Every pair failed and no check is left to run. New candidates, or a
    /// request from the peer, start checks again.
    Failed,
    /// No response from the selected pair for [`CONSENT_TIMEOUT`]: stop
    /// sending media there (RFC 7675). `selected()` is `None` from now on.
    ConsentLost(SocketAddr),
    /// A 487 response made us switch roles; the answering code's role must
    /// follow.
    RoleChanged { controlling: bool },
}

struct Consent {
    remote: SocketAddr,
    /// When consent was last granted (a success response from `remote`).
    fresh_at: Instant,
    next_check: Instant,
    /// Consent checks still awaiting their response.
    pending: VecDeque<([u8; 12], Instant)>,
}

pub struct IceAgent {
    local: SocketAddr,
    component: u8,
    interface_index: u16,
    tiebreaker: u64,
    software: String,
    ufrag: String,
    pwd: String,
    remote_ufrag: Option<String>,
    remote_pwd: Option<String>,
    controlling: bool,
    pairs: Vec<Pair>,
    triggered: VecDeque<usize>,
    nominating: bool,
    completed: bool,
    start_nominating: Option<Instant>,
    next_run: Option<Instant>,
    last_run: Option<Instant>,
    ids: Ids,
    transmits: VecDeque<(SocketAddr, Vec<u8>)>,
    events: VecDeque<IceEvent>,
    /// The chosen remote address and whether it is nominated.
    selected: Option<(SocketAddr, bool)>,
    /// After an ICE restart the next choice is reported even if unchanged.
    reannounce: bool,
    consent: Option<Consent>,
    /// `Failed` was reported and nothing changed since.
    failed_reported: bool,
}

/// A summary: the seed (and so future transaction ids) stays out of logs.
impl std::fmt::Debug for IceAgent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IceAgent")
            .field("local", &self.local)
            .field("component", &self.component)
            .field("controlling", &self.controlling)
            .field("pairs", &self.pairs.len())
            .field("selected", &self.selected)
            .field("completed", &self.completed)
            .field("next_run", &self.next_run)
            .finish_non_exhaustive()
    }
}

impl IceAgent {
    pub fn new(cfg: AgentConfig, now: Instant) -> IceAgent {
        let c = cfg.credentials;
        let mut agent = IceAgent {
            local: cfg.local,
            component: cfg.component.clamp(1, 255),
            interface_index: cfg.interface_index,
            tiebreaker: cfg.tiebreaker,
            software: cfg.software,
            ufrag: c.ufrag.clone(),
            pwd: c.pwd.clone(),
            remote_ufrag: None,
            remote_pwd: None,
            controlling: c.controlling,
            pairs: Vec::new(),
            triggered: VecDeque::new(),
            nominating: false,
            completed: false,
            start_nominating: None,
            next_run: None,
            last_run: None,
            ids: Ids::new(cfg.seed),
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            selected: None,
            reannounce: false,
            consent: None,
            failed_reported: false,
        };
        agent.set_remote(&c, now);
        agent
    }

    /// Signalling gave the stream's ICE state again (offer, answer,
    /// re-INVITE): new remote ufrag/pwd or new local ones are an ICE restart
    /// (everything learned is dropped and checks start over); the role is
    /// set from `creds.controlling`; the candidates are added.
    pub fn set_remote(&mut self, creds: &IceCredentials, now: Instant) {
        let changed = |old: &Option<String>, new: &Option<String>| matches!((old, new), (Some(o), Some(n)) if o != n);
        let ours_changed = creds.ufrag != self.ufrag || creds.pwd != self.pwd;
        if ours_changed
            || changed(&self.remote_ufrag, &creds.remote_ufrag)
            || changed(&self.remote_pwd, &creds.remote_pwd)
        {
            self.restart();
        }
        self.ufrag.clone_from(&creds.ufrag);
        self.pwd.clone_from(&creds.pwd);
        if creds.remote_ufrag.is_some() {
            self.remote_ufrag.clone_from(&creds.remote_ufrag);
        }
        if creds.remote_pwd.is_some() {
            self.remote_pwd.clone_from(&creds.remote_pwd);
        }
        self.role_change(creds.controlling);
        for c in &creds.remote_candidates {
            self.add_candidate(c);
        }
        self.schedule(now);
    }

    /// One trickled candidate (`a=candidate` in a later message).
    pub fn add_remote_candidate(&mut self, c: RemoteCandidate, now: Instant) {
        self.add_candidate(&c);
        self.schedule(now);
    }

    /// Our role, after role conflicts.
    pub fn controlling(&self) -> bool {
        self.controlling
    }

    /// The answering code resolved a role conflict in a request by switching
    /// our role: pair priorities are recomputed (10.5's `__role_change`).
    pub fn set_controlling(&mut self, controlling: bool) {
        self.role_change(controlling);
    }

    /// A binding request that the answering code verified and answered with
    /// success came from `src` (its PRIORITY and USE-CANDIDATE in `priority`
    /// and `use_candidate`, see [`CheckAttributes`]): an unknown source is a
    /// peer-reflexive candidate; a pair that has not succeeded gets a
    /// triggered check; USE-CANDIDATE nominates the pair, and when we are
    /// controlled that selects it once our check of it succeeded.
    pub fn request_received(
        &mut self,
        src: SocketAddr,
        use_candidate: bool,
        priority: u32,
        now: Instant,
    ) {
        let i = match self.pair_index(src) {
            Some(i) => i,
            None => match self.learn(src, priority) {
                Some(i) => i,
                None => return,
            },
        };
        if !self.pairs[i].succeeded {
            self.trigger_check(i, now);
        }
        if use_candidate && !self.pairs[i].nominated {
            let p = &mut self.pairs[i];
            p.nominated = true;
            if p.succeeded {
                p.valid = true;
            }
            if !self.controlling {
                self.check_valid(now);
            }
        }
    }

    /// A binding response (success or error) arrived from `src`. `true` if
    /// it answers a request of ours (by transaction id) and was taken,
    /// whether or not it changed anything; `false` for anything else,
    /// including malformed input.
    pub fn response_received(&mut self, msg: &[u8], src: SocketAddr, now: Instant) -> bool {
        let Some(h) = response_header(msg) else {
            return false;
        };
        let pair = self
            .pairs
            .iter()
            .position(|p| p.transaction == h.transaction);
        let consent = self
            .consent
            .as_ref()
            .is_some_and(|c| c.pending.iter().any(|(t, _)| *t == h.transaction));
        if pair.is_none() && !consent {
            return false;
        }
        let Some(pwd) = self.remote_pwd.as_deref() else {
            return true;
        };
        let Some(verdict) = verify_response(msg, &h, pwd) else {
            return true;
        };
        if let Some(c) = &mut self.consent {
            c.pending.retain(|(t, _)| *t != h.transaction);
        }
        // Consent comes only from the address the request went to.
        let dest = pair.map_or(src, |i| self.pairs[i].remote);
        if verdict == Verdict::Success && dest == src {
            self.refresh_consent(src, now);
        }
        if let Some(i) = pair {
            self.pair_response(i, verdict, src, now);
        }
        self.check_failed();
        true
    }

    /// Runs what is due at `now`: the check timer (new checks, triggered
    /// checks, retransmissions, nomination) and consent.
    pub fn handle_timeout(&mut self, now: Instant) {
        for _ in 0..MAX_ROUNDS_PER_CALL {
            match self.next_run {
                // 10.5's timer thread runs an agent as if exactly at its
                // scheduled time, which keeps the schedule exact.
                Some(t) if t <= now => {
                    self.next_run = None;
                    self.last_run = Some(t);
                    self.run_checks(t);
                }
                _ => break,
            }
        }
        self.consent_timer(now);
        self.check_failed();
    }

    /// The next datagram to send from the stream's socket.
    pub fn poll_transmit(&mut self) -> Option<(SocketAddr, Vec<u8>)> {
        self.transmits.pop_front()
    }

    /// When `handle_timeout` wants to run next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let consent = self
            .consent
            .as_ref()
            .map(|c| c.next_check.min(c.fresh_at + CONSENT_TIMEOUT));
        [self.next_run, consent].into_iter().flatten().min()
    }

    pub fn poll_event(&mut self) -> Option<IceEvent> {
        self.events.pop_front()
    }

    /// Where media should go, once a pair is usable.
    pub fn selected(&self) -> Option<SocketAddr> {
        self.selected.map(|(a, _)| a)
    }

    /// The selected pair is the nominated one (10.5: ICE completed).
    pub fn completed(&self) -> bool {
        self.completed
    }

    // ---- candidates and pairs ----

    fn pair_index(&self, remote: SocketAddr) -> Option<usize> {
        self.pairs.iter().position(|p| p.remote == remote)
    }

    fn same_family(&self, a: SocketAddr) -> bool {
        a.is_ipv4() == self.local.is_ipv4()
    }

    fn local_priority(&self) -> u32 {
        candidate_priority(HOST_TYPE_PREFERENCE, self.interface_index, self.component)
    }

    /// 10.5's `ice_update` for one candidate: a known address keeps the
    /// higher priority (a learned peer-reflexive one is always replaced).
    fn add_candidate(&mut self, c: &RemoteCandidate) {
        if c.component != self.component || !self.same_family(c.address) {
            return;
        }
        if let Some(i) = self.pair_index(c.address) {
            let p = &mut self.pairs[i];
            if !p.learned && c.priority <= p.remote_priority {
                return;
            }
            let recalc = p.remote_priority != c.priority;
            p.foundation.clone_from(&c.foundation);
            p.kind.clone_from(&c.kind);
            p.remote_priority = c.priority;
            p.learned = false;
            if recalc {
                self.recalc_priorities();
            }
            return;
        }
        if self.pairs.len() >= MAX_CANDIDATES {
            tracing::warn!("maximum number of ICE candidates exceeded");
            return;
        }
        self.push_pair(
            c.address,
            c.foundation.clone(),
            c.kind.clone(),
            c.priority,
            false,
        );
    }

    fn push_pair(
        &mut self,
        remote: SocketAddr,
        foundation: String,
        kind: String,
        priority: u32,
        learned: bool,
    ) -> usize {
        let transaction = self.ids.transaction();
        let mut p = Pair::new(remote, foundation, kind, priority, learned, transaction);
        p.priority = pair_priority(self.local_priority(), priority, self.controlling);
        self.pairs.push(p);
        self.failed_reported = false;
        self.pairs.len() - 1
    }

    /// A request from an address no candidate has: a peer-reflexive
    /// candidate with the request's PRIORITY (RFC 8445 section 7.3.1.3).
    fn learn(&mut self, src: SocketAddr, priority: u32) -> Option<usize> {
        if !self.same_family(src) || self.pairs.len() >= MAX_CANDIDATES {
            return None;
        }
        let foundation = format!("prflx-{src}");
        Some(self.push_pair(src, foundation, "prflx".into(), priority, true))
    }

    /// New priorities for every pair after a role or priority change, and new
    /// transactions: the requests differ now, so answers to the old ones
    /// must not count (10.5's `__recalc_pair_prios`).
    fn recalc_priorities(&mut self) {
        let local = self.local_priority();
        for p in &mut self.pairs {
            p.priority = pair_priority(local, p.remote_priority, self.controlling);
            p.transaction = self.ids.transaction();
        }
    }

    fn role_change(&mut self, controlling: bool) {
        if self.controlling != controlling {
            self.controlling = controlling;
            self.recalc_priorities();
        }
    }

    /// Pair indices, highest priority first (ties: older first).
    fn by_priority(&self) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.pairs.len()).collect();
        order.sort_by(|&a, &b| self.pairs[b].priority.cmp(&self.pairs[a].priority));
        order
    }

    fn best(&self, f: impl Fn(&Pair) -> bool) -> Option<usize> {
        self.by_priority().into_iter().find(|&i| f(&self.pairs[i]))
    }

    /// Drops every pair, candidate and check: an ICE restart (10.5's
    /// `__ice_reset`). Media keeps its destination until ICE chooses again.
    fn restart(&mut self) {
        self.pairs.clear();
        self.triggered.clear();
        self.nominating = false;
        self.completed = false;
        self.start_nominating = None;
        self.remote_ufrag = None;
        self.remote_pwd = None;
        self.consent = None;
        self.failed_reported = false;
        self.reannounce = self.selected.is_some();
        self.next_run = None;
        self.last_run = None;
    }

    // ---- the check timer ----

    /// 10.5's `__agent_schedule_abs`: never sooner than `PACING` after the
    /// last run, and an earlier wake-up already set stands.
    fn schedule(&mut self, at: Instant) {
        let at = match self.last_run {
            Some(last) if at < last + PACING => last + PACING,
            _ => at,
        };
        if self.next_run.is_none_or(|n| n > at) {
            self.next_run = Some(at);
        }
    }

    /// 10.5's `__trigger_check`.
    fn trigger_check(&mut self, i: usize, now: Instant) {
        let p = &mut self.pairs[i];
        p.retransmits = 0;
        if p.failed {
            p.failed = false;
            p.in_progress = false;
            self.failed_reported = false;
        }
        if !p.triggered && self.triggered.len() < MAX_TRIGGERED {
            p.triggered = true;
            self.triggered.push_back(i);
        }
        self.schedule(now);
    }

    /// One run of the timer (10.5's `__do_ice_checks`): nominate when due,
    /// then a triggered check if one is queued, else the highest-priority
    /// waiting pair, plus every retransmission that is due.
    fn run_checks(&mut self, t: Instant) {
        if self.remote_pwd.is_none() {
            return;
        }
        let mut next: Option<Instant> = None;
        if self.controlling && !self.nominating {
            if let Some(at) = self.start_nominating {
                if t >= at {
                    self.nominate(t);
                } else {
                    next = Some(at);
                }
            }
        }
        if let Some(i) = self.triggered.pop_front() {
            self.pairs[i].triggered = false;
            self.send_check(i, t);
            self.schedule(t);
            return;
        }
        let valid = self.best(|p| p.valid).map(|i| self.pairs[i].priority);
        let mut waiting = None;
        let mut have_more = false;
        let mut retransmits = Vec::new();
        for i in self.by_priority() {
            let p = &self.pairs[i];
            if p.failed || (p.succeeded && !p.to_use) {
                continue;
            }
            if p.in_progress {
                // Retransmit only while no valid pair beats this one.
                if valid.is_some_and(|v| v > p.priority) {
                    continue;
                }
                match p.retransmit_at {
                    Some(at) if at > t => next = Some(next.map_or(at, |n| n.min(at))),
                    _ => retransmits.push(i),
                }
                continue;
            }
            if valid.is_some() || self.nominating || self.completed {
                continue;
            }
            have_more = true;
            waiting.get_or_insert(i);
        }
        if let Some(i) = waiting {
            self.send_check(i, t);
        }
        for i in retransmits {
            self.send_check(i, t);
        }
        if have_more {
            self.schedule(t);
        } else if let Some(at) = next {
            self.schedule(at);
        }
    }

    /// 10.5's `__nominate_pairs`: the best pair that succeeded is checked
    /// again, first in line, with USE-CANDIDATE.
    fn nominate(&mut self, t: Instant) {
        self.nominating = true;
        self.start_nominating = None;
        if let Some(i) = self.best(|p| p.succeeded) {
            let transaction = self.ids.transaction();
            let p = &mut self.pairs[i];
            p.in_progress = false;
            p.nominated = true;
            p.to_use = true;
            p.retransmits = 0;
            p.transaction = transaction;
            if !p.triggered {
                p.triggered = true;
                self.triggered.push_back(i);
            }
            self.schedule(t);
        }
    }

    /// 10.5's `__do_ice_check`: the first request of a pair, or its next
    /// retransmission (same transaction, timeout doubled), or its failure
    /// once `MAX_RETRANSMITS` retransmissions went unanswered.
    fn send_check(&mut self, i: usize, t: Instant) {
        let (Some(remote_ufrag), Some(remote_pwd)) = (&self.remote_ufrag, &self.remote_pwd) else {
            return;
        };
        let p = &mut self.pairs[i];
        if p.succeeded && !p.to_use {
            return;
        }
        if !p.in_progress {
            p.in_progress = true;
            p.failed = false;
            p.rto = FIRST_RTO;
            p.retransmits = 0;
        } else if p.retransmits > MAX_RETRANSMITS {
            p.fail();
            p.retransmit_at = None;
            return;
        } else {
            p.rto *= 2;
            p.retransmits += 1;
        }
        let at = t + p.rto;
        p.retransmit_at = Some(at);
        p.was_controlling = self.controlling;
        p.was_nominated = p.to_use;
        let check = Check {
            transaction: p.transaction,
            remote_ufrag,
            local_ufrag: &self.ufrag,
            remote_pwd,
            software: &self.software,
            controlling: self.controlling,
            tiebreaker: self.tiebreaker,
            priority: candidate_priority(
                PRFLX_TYPE_PREFERENCE,
                self.interface_index,
                self.component,
            ),
            use_candidate: p.to_use,
        };
        let remote = p.remote;
        if let Some(msg) = binding_request(&check) {
            self.transmits.push_back((remote, msg));
        }
        self.schedule(at);
    }

    // ---- responses ----

    /// 10.5's `ice_response` for an authentic response to pair `i`.
    fn pair_response(&mut self, i: usize, verdict: Verdict, src: SocketAddr, now: Instant) {
        if src != self.pairs[i].remote {
            // RFC 8445 section 7.2.5.2.1 requires failing a pair whose answer
            // comes from elsewhere; 10.5 only ignores the answer.
            self.pairs[i].fail();
            return;
        }
        self.pairs[i].in_progress = false;
        match verdict {
            Verdict::Error(487) => {
                let controlling = !self.pairs[i].was_controlling;
                if controlling != self.controlling {
                    self.role_change(controlling);
                    self.events.push_back(IceEvent::RoleChanged { controlling });
                }
                self.trigger_check(i, now);
            }
            Verdict::Error(_) => self.pairs[i].fail(),
            Verdict::Success => {
                let p = &mut self.pairs[i];
                if p.was_nominated && p.to_use {
                    p.to_use = false;
                    p.valid = true;
                    self.check_valid(now);
                    return;
                }
                if p.succeeded {
                    return;
                }
                p.succeeded = true;
                p.failed = false;
                if p.nominated {
                    p.valid = true;
                }
                if self.start_nominating.is_none() && !self.nominating {
                    let at = now + NOMINATION_DELAY;
                    self.start_nominating = Some(at);
                    self.schedule(at);
                }
                self.check_valid(now);
            }
        }
    }

    /// 10.5's `__check_valid`: the best valid (nominated) pair completes ICE;
    /// failing that the best pair that succeeded is used meanwhile.
    fn check_valid(&mut self, now: Instant) {
        let (i, nominated) = match self.best(|p| p.valid) {
            Some(i) => (i, true),
            None => match self.best(|p| p.succeeded) {
                Some(i) => (i, false),
                None => return,
            },
        };
        if nominated {
            self.completed = true;
        }
        let remote = self.pairs[i].remote;
        let choice = Some((remote, nominated));
        if self.selected != choice || self.reannounce {
            self.selected = choice;
            self.reannounce = false;
            self.events
                .push_back(IceEvent::Selected { remote, nominated });
        }
        if self.consent.as_ref().is_none_or(|c| c.remote != remote) {
            let next_check = now + self.consent_interval();
            self.consent = Some(Consent {
                remote,
                fresh_at: now,
                next_check,
                pending: VecDeque::new(),
            });
        }
    }

    /// Reports `Failed` once every pair failed and nothing is queued.
    fn check_failed(&mut self) {
        let all_failed = !self.pairs.is_empty()
            && self.triggered.is_empty()
            && self.pairs.iter().all(|p| p.failed && !p.succeeded);
        if all_failed && !self.failed_reported {
            self.failed_reported = true;
            self.events.push_back(IceEvent::Failed);
        }
    }

    // ---- consent (RFC 7675) ----

    fn consent_interval(&mut self) -> Duration {
        // 0.8..=1.2 times the interval, in milliseconds.
        let base = CONSENT_INTERVAL.as_millis() as u32;
        let jitter = self.ids.below_or_at(base * 2 / 5);
        Duration::from_millis(u64::from(base * 4 / 5 + jitter))
    }

    fn refresh_consent(&mut self, src: SocketAddr, now: Instant) {
        if let Some(c) = &mut self.consent {
            if c.remote == src && now > c.fresh_at {
                c.fresh_at = now;
            }
        }
    }

    fn consent_timer(&mut self, now: Instant) {
        let Some((remote, fresh_at, at)) = self
            .consent
            .as_ref()
            .map(|c| (c.remote, c.fresh_at, c.next_check))
        else {
            return;
        };
        if now >= fresh_at + CONSENT_TIMEOUT {
            self.consent_lost(remote);
            return;
        }
        if now < at {
            return;
        }
        let interval = self.consent_interval();
        let transaction = self.ids.transaction();
        let (Some(remote_ufrag), Some(remote_pwd)) = (&self.remote_ufrag, &self.remote_pwd) else {
            return;
        };
        let check = Check {
            transaction,
            remote_ufrag,
            local_ufrag: &self.ufrag,
            remote_pwd,
            software: &self.software,
            controlling: self.controlling,
            tiebreaker: self.tiebreaker,
            priority: candidate_priority(
                PRFLX_TYPE_PREFERENCE,
                self.interface_index,
                self.component,
            ),
            use_candidate: false,
        };
        if let Some(msg) = binding_request(&check) {
            self.transmits.push_back((remote, msg));
        }
        if let Some(c) = &mut self.consent {
            // Later answers to older checks still count, within the timeout.
            c.pending.retain(|(_, sent)| now < *sent + CONSENT_TIMEOUT);
            c.pending.push_back((transaction, now));
            c.next_check = (at + interval).max(now);
        }
    }

    /// Consent ran out: media must stop, and every pair must be checked
    /// again before it is used (a request of the peer triggers that).
    fn consent_lost(&mut self, remote: SocketAddr) {
        self.consent = None;
        self.selected = None;
        self.completed = false;
        self.nominating = false;
        self.start_nominating = None;
        for p in &mut self.pairs {
            p.succeeded = false;
            p.valid = false;
            p.nominated = false;
            p.to_use = false;
            p.fail();
        }
        self.triggered.clear();
        self.failed_reported = true;
        self.events.push_back(IceEvent::ConsentLost(remote));
    }
}

#[cfg(test)]
mod tests;
