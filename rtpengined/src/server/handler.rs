//! The command handler: datagram in, reply datagram out. All errors of the lower
//! layers become `result: error` + `error-reason` here, once.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tracing::{info, info_span, warn};

use crate::call::{CallError, Deleted, DtlsSettings, Expiry, Now, Registry, StatsSource, Switch};
use crate::ng::bencode::Owned;
use crate::ng::cache::ReplyCache;
use crate::ng::command::{CommandError, CommandKind, Request};
use crate::ng::message::{self, FrameError};
use crate::relay::pool::SharedPool;
use crate::relay::Relay;
use crate::server::call_store::CallStore;
use crate::server::redis_store::RedisWriter;
use crate::server::stats::Statistics;

#[derive(Debug, thiserror::Error)]
enum HandleError {
    #[error("{0}")]
    Frame(#[from] FrameError),
    #[error("{0}")]
    Command(#[from] CommandError),
    #[error("{0}")]
    Call(#[from] CallError),
    #[error("Invalid value for {0}")]
    Invalid(String),
    #[error("invalid limit, must be >= 0")]
    NegativeLimit,
}

pub struct Handler {
    registry: Mutex<Registry<SharedPool>>,
    relay: Arc<Relay>,
    cache: Mutex<ReplyCache>,
    /// Where calls are saved for a restart (`--state-dir`).
    store: Option<CallStore>,
    /// Where calls are written in 10.5's Redis layout (`--redis`).
    redis: Option<RedisWriter>,
    /// Request counters and the daemon's start, for `statistics`.
    stats: Statistics,
    /// `--active-switchover`: signalling for a foreign call takes it over.
    switchover: bool,
    /// `--recording-method=pcap` with `--recording-dir`.
    recorder: Option<crate::recording::Recorder>,
}

impl Handler {
    pub fn new(registry: Registry<SharedPool>, relay: Arc<Relay>) -> Handler {
        Handler {
            registry: Mutex::new(registry),
            relay,
            cache: Mutex::new(ReplyCache::default()),
            store: None,
            redis: None,
            stats: Statistics::default(),
            switchover: false,
            recorder: None,
        }
    }

    /// Record calls (start recording, record-call) with `recorder`.
    pub fn with_recorder(mut self, recorder: crate::recording::Recorder) -> Handler {
        self.recorder = Some(recorder);
        self
    }

    /// The daemon stops: every recording ends, its files complete (10.5
    /// finishes them as its calls go at shutdown).
    pub fn finish_recordings(&self) {
        if let Some(r) = &self.recorder {
            r.finish_all();
        }
    }

    /// Call `call_id` went (deleted, timed out) at `at`: its recording ends.
    pub fn call_ended(&self, call_id: &str, at: std::time::Duration) {
        if let Some(r) = &self.recorder {
            r.finish(call_id, at);
        }
    }

    /// Turns recording of `call_id` on or off (10.5's `recording_start` and
    /// `recording_stop`); the relay configuration that changes. Without a
    /// recording directory nothing is recorded (10.5 logs an error).
    fn set_recording(
        &self,
        reg: &mut Registry<SharedPool>,
        call_id: &str,
        on: bool,
    ) -> Result<Vec<crate::call::Effect>, CallError> {
        let call = reg.calls.get(call_id).ok_or(CallError::UnknownCall)?;
        let Some(r) = &self.recorder else {
            if on {
                tracing::error!("Call recording requested, but no spool directory configured");
            }
            return Ok(Vec::new());
        };
        r.set_metadata(call_id, &call.metadata);
        if on {
            r.begin(call);
        } else {
            r.finish(call_id, std::time::Duration::ZERO);
        }
        reg.set_recording(call_id, on)
    }

    /// The `metadata`, `record call` and `record-call` of an offer or answer.
    fn recording_flags(
        &self,
        reg: &mut Registry<SharedPool>,
        f: &crate::ng::flags::Flags,
        call_id: &str,
    ) -> Result<Vec<crate::call::Effect>, CallError> {
        if let (Some(m), Some(c)) = (&f.metadata, reg.calls.get_mut(call_id)) {
            c.metadata = m.clone();
            if let Some(r) = &self.recorder {
                r.set_metadata(call_id, m);
            }
        }
        let mut want = match f.record_call.as_deref() {
            Some("yes" | "on") => Some(true),
            Some("no" | "off") => Some(false),
            Some(other) => {
                info!("\"record-call\" flag {other} is invalid flag.");
                None
            }
            None => None,
        };
        if f.record_call_flag {
            want = Some(true);
        }
        match want {
            Some(on) => self.set_recording(reg, call_id, on),
            None => Ok(Vec::new()),
        }
    }

    /// Save every call after each change to `store`, and take back the calls saved
    /// there by an earlier run (call before serving).
    pub fn with_store(mut self, store: CallStore) -> Handler {
        self.store = Some(store);
        self
    }

    /// Write every call after each change to Redis too (`--redis`).
    pub fn with_redis(mut self, writer: RedisWriter) -> Handler {
        self.redis = Some(writer);
        self
    }

    /// `--active-switchover`: signalling for a foreign call takes it over.
    pub fn with_switchover(mut self, on: bool) -> Handler {
        self.switchover = on;
        self
    }

    /// The Redis database own calls are written to (`None` without Redis).
    pub fn redis_db(&self) -> Option<u32> {
        self.redis.as_ref().map(RedisWriter::db)
    }

    /// Makes `ids` own calls (`foreign` false) or foreign ones, as 10.5's
    /// `active` and `standby` do: taken-over calls relay and are written to
    /// Redis at once.
    pub fn set_foreign(&self, ids: &[String], foreign: bool) {
        let now = Now::system();
        let mut reg = self.registry();
        let mut effects = Vec::new();
        for id in ids {
            effects.extend(reg.set_foreign(id, foreign, &now));
        }
        // Taking over: the ports are ours now; a kernel target left on one
        // is the other node's, to be replaced.
        let closing = self.relay.apply(&effects);
        for id in ids {
            self.persist(&reg, id, &now);
        }
        drop(reg);
        closing.wait_blocking();
    }

    /// Takes back the calls an earlier run saved; returns how many.
    pub fn restore_calls(&self) -> usize {
        let Some(store) = &self.store else { return 0 };
        let now = Now::system();
        let calls = store.load(&now);
        if calls.is_empty() {
            return 0;
        }
        let skipped = self.restore(calls, &now);
        for (call_id, why) in &skipped {
            warn!(%call_id, %why, "saved call not restored");
            store.remove(call_id);
        }
        self.registry().calls.len()
    }

    /// Takes `calls` of another run (ours or 10.5's) back on their ports;
    /// returns those that could not be, with the reason.
    pub fn restore(
        &self,
        calls: Vec<crate::call::model::Call>,
        now: &Now,
    ) -> Vec<(String, String)> {
        let mut reg = self.registry();
        let (effects, skipped) = reg.restore(calls, now);
        let closing = self.relay.restore(&effects);
        drop(reg);
        closing.wait_blocking();
        skipped
    }

    /// Brings the saved state of `call_id` up to date (after it changed or went).
    pub fn persist(&self, reg: &Registry<SharedPool>, call_id: &str, now: &Now) {
        // Another node's call is that node's to write (10.5 writes only
        // its own) and not ours to restore.
        if reg.calls.get(call_id).is_some_and(|c| c.foreign) {
            if let Some(store) = &self.store {
                store.remove(call_id);
            }
            return;
        }
        if let Some(redis) = &self.redis {
            match reg.calls.get(call_id) {
                Some(call) => redis.save(
                    call_id,
                    crate::call::redis_json::encode_call(
                        call,
                        redis.db(),
                        &reg.settings.interfaces,
                        &|id| self.relay.srtp_state(id),
                    ),
                ),
                None => redis.remove(call_id),
            }
        }
        let Some(store) = &self.store else { return };
        match reg.snapshot(call_id, now) {
            Some(bytes) => store.save(call_id, &bytes),
            None => store.remove(call_id),
        }
    }

    /// A renewed DTLS certificate: calls that begin from now on advertise it
    /// and handshake with it; both change under the registry's lock, so no
    /// call sees one without the other.
    pub fn renew_dtls(&self, identity: crate::relay::dtls::DtlsIdentity, settings: DtlsSettings) {
        let mut registry = self.registry();
        registry.set_dtls(settings);
        self.relay.set_dtls(identity);
    }

    pub fn registry(&self) -> std::sync::MutexGuard<'_, Registry<SharedPool>> {
        self.registry.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The Redis writer, with `--redis`.
    pub fn redis(&self) -> Option<&RedisWriter> {
        self.redis.as_ref()
    }

    pub fn relay(&self) -> &Arc<Relay> {
        &self.relay
    }

    /// The request counters and start time behind `statistics`.
    pub fn statistics(&self) -> &Statistics {
        &self.stats
    }

    /// The statistics timer's turn at `now`: samples the per-second rates
    /// (when the last sample is old enough); returns the new rates.
    pub fn sample_rates(&self, now: Instant) -> Option<crate::server::rates::Counters> {
        let (relayed, sessions, managed) = {
            let reg = self.registry();
            let relayed = crate::server::stats::relayed_all(
                reg.calls.values(),
                &reg.totals,
                self.relay.as_ref(),
            );
            (relayed, reg.calls.len() as u64, reg.totals.managed)
        };
        let counters = self.stats.counters(relayed);
        self.stats.tick(now, counters, sessions, managed)
    }

    /// The graphite report of now (`interval`: `--graphite-interval`).
    pub fn graphite_report(
        &self,
        now: &Now,
        interval: std::time::Duration,
    ) -> crate::graphite::Report {
        use crate::cli::view::{CallView, MediaFamily};
        let inputs = {
            let reg = self.registry();
            let relay = self.relay.as_ref();
            let mut families = (0, 0, 0);
            for c in reg.calls.values() {
                match CallView::of(c, &c.created_from, now, relay).media_family {
                    Some(MediaFamily::Ipv4) => families.0 += 1,
                    Some(MediaFamily::Ipv6) => families.1 += 1,
                    Some(MediaFamily::Mixed) => families.2 += 1,
                    None => {}
                }
            }
            let pool = reg.ports();
            let (lo, hi) = pool.bounds();
            let total = u64::from(hi.saturating_sub(lo)) + 1;
            let ports = reg
                .settings
                .interfaces
                .iter()
                .map(|i| {
                    let used = (pool.in_use_on(i.local) as u64).min(total);
                    crate::graphite::Ports {
                        name: i.name.clone(),
                        address: i.local,
                        free: total - used,
                        used,
                    }
                })
                .collect();
            crate::server::stats::ReportInputs {
                totals: reg.totals,
                relayed: crate::server::stats::relayed_all(reg.calls.values(), &reg.totals, relay),
                sessions: reg.calls.len() as u64,
                families,
                call_ages: reg
                    .calls
                    .values()
                    .map(|c| now.mono.saturating_duration_since(c.created_mono))
                    .collect(),
                interval,
                ports,
            }
        };
        self.stats.graphite_report(now.mono, inputs)
    }

    /// Handle one datagram of an unknown sender (counted as 0.0.0.0).
    pub fn handle(&self, datagram: &[u8]) -> Option<Vec<u8>> {
        self.handle_from(datagram, IpAddr::V4(Ipv4Addr::UNSPECIFIED))
    }

    /// Handle one datagram from `from`; `None` when nothing can be answered
    /// (no cookie).
    pub fn handle_from(&self, datagram: &[u8], from: IpAddr) -> Option<Vec<u8>> {
        self.handle_request(datagram, from, None)
    }

    /// As `handle_from`, from a client whose port is known too (calls it
    /// creates name it, as 10.5's CLI shows).
    pub fn handle_from_peer(&self, datagram: &[u8], peer: SocketAddr) -> Option<Vec<u8>> {
        self.handle_request(datagram, peer.ip(), Some(peer))
    }

    fn handle_request(
        &self,
        datagram: &[u8],
        from: IpAddr,
        peer: Option<SocketAddr>,
    ) -> Option<Vec<u8>> {
        self.stats.requests.seen(from);
        let (cookie, body) = match message::split_cookie(datagram) {
            Ok(p) => p,
            Err(err) => {
                warn!(%err, "dropping ng datagram without cookie");
                return None;
            }
        };
        let now = Instant::now();
        {
            let cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(reply) = cache.get(cookie) {
                info!(cookie = %String::from_utf8_lossy(cookie), "retransmission, resending cached reply");
                return Some(reply.to_vec());
            }
        }
        let started = Instant::now();
        let mut kind = None;
        let result = self.execute(body, &mut kind, peer);
        if let Some(kind) = kind {
            self.stats.request(from, kind, started.elapsed());
        }
        let reply = match result {
            Ok(r) => r,
            Err(err) => {
                // As 10.5: a "load limit" answer is no error.
                self.stats.requests.error(from);
                warn!(reason = %err, detail = ?err, "ng command failed");
                Owned::dict()
                    .with("result", "error")
                    .with("error-reason", err.to_string())
            }
        };
        let framed = message::frame_reply(cookie, &reply);
        self.cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(now, cookie, framed.clone());
        Some(framed)
    }

    /// Runs one request; `kind` is set once the command is known (10.5
    /// counts a request of a known command whatever its result).
    fn execute(
        &self,
        body: &[u8],
        kind: &mut Option<CommandKind>,
        peer: Option<SocketAddr>,
    ) -> Result<Owned, HandleError> {
        let msg = message::decode_body(body)?;
        let req = Request::parse(&msg)?;
        *kind = Some(req.kind);
        let f = &req.flags;
        let span = info_span!(
            "ng",
            command = req.kind.name(),
            call_id = f.call_id.as_deref().unwrap_or(""),
            from_tag = f.from_tag.as_deref().unwrap_or("")
        );
        let _enter = span.enter();
        // The media control commands read only their own keys (no
        // warning, no complaint about keys of offer/answer), as 10.5 does.
        let controls = is_media_control(req.kind);
        if let Some(bad) = f.invalid.first() {
            if req.kind != CommandKind::Ping && !controls {
                return Err(HandleError::Invalid(format!("'{bad}'")));
            }
        }
        let now = Now::system();
        if self.switchover && matches!(req.kind, CommandKind::Offer | CommandKind::Answer) {
            self.switch_over(f.call_id.as_deref());
        }
        let mut reply = match req.kind {
            CommandKind::Ping => return Ok(Owned::dict().with("result", "pong")),
            CommandKind::Offer | CommandKind::Answer => {
                let outcome = {
                    let mut reg = self.registry();
                    let from = peer.map(|p| p.to_string());
                    let answer = req.kind == CommandKind::Answer;
                    let out = match reg.signal(f, answer, from.as_deref(), &now) {
                        // Clients announcing "load limit" get it as a result of its own
                        // (Kamailio then tries another rtpengine), as rtpengine does.
                        Err(CallError::SessionLimit)
                            if f.supports.iter().any(|s| s == "load limit") =>
                        {
                            warn!("session limit reached");
                            return Ok(Owned::dict()
                                .with("result", "load limit")
                                .with("message", CallError::SessionLimit.to_string()));
                        }
                        other => other?,
                    };
                    let mut effects = out.effects.clone();
                    if let Some(id) = f.call_id.as_deref() {
                        effects.extend(self.recording_flags(&mut reg, f, id)?);
                    }
                    // Apply under the registry lock so effects of two commands never interleave.
                    let closing = self.apply(&reg, &effects);
                    if let Some(id) = f.call_id.as_deref() {
                        self.persist(&reg, id, &now);
                    }
                    drop(reg);
                    closing.wait_blocking();
                    out
                };
                info!(
                    streams = outcome.effects.len(),
                    "{} processed",
                    req.kind.name()
                );
                let recorded = self.recorded_sdp(f, req.kind, outcome.sdp.as_deref());
                // 10.5 leaves out an empty body (an offer of nothing).
                let mut reply = match outcome.sdp.filter(|s| !s.is_empty()) {
                    Some(sdp) => Owned::dict().with("sdp", sdp),
                    None => Owned::dict(),
                };
                if let Some(pcap) = recorded {
                    reply.insert("recordings", vec![Owned::from(pcap.as_str())]);
                }
                reply
            }
            CommandKind::Delete => {
                let mut reg = self.registry();
                let (deleted, effects) = reg.delete(f, &now)?;
                let found = !matches!(deleted, Deleted::NotFound);
                if let Deleted::Call(c) = &deleted {
                    if !reg.calls.contains_key(&c.id) {
                        self.call_ended(&c.id, now.unix);
                        // Gone now (no delete-delay): count it as ended.
                        let relay = self.relay.as_ref();
                        reg.totals.ended(c, Expiry::DeleteDelay, now.mono, relay);
                    }
                }
                // Final statistics before the streams go away; 10.5 gives
                // none when the whole call goes for want of a from-tag.
                let whole = f.from_tag.as_deref().is_none_or(str::is_empty);
                let named = reply_tag(f);
                let body = match &deleted {
                    Deleted::Call(c) | Deleted::Branch(c) => {
                        log_final_stats(c, self.relay.as_ref());
                        if whole {
                            Owned::dict()
                        } else {
                            let relay = self.relay.as_ref();
                            crate::call::query::query_parties(c, named, &now, relay)
                        }
                    }
                    Deleted::NotFound => {
                        Owned::dict().with("warning", CallError::NotFound.to_string())
                    }
                };
                let closing = self.apply(&reg, &effects);
                if let Some(id) = f.call_id.as_deref() {
                    self.persist(&reg, id, &now);
                }
                drop(reg);
                closing.wait_blocking();
                if found {
                    info!("deleted");
                } else {
                    info!("nothing to delete: call or tag not found");
                }
                body
            }
            CommandKind::Query => {
                let reg = self.registry();
                let call_id = f.call_id.as_deref().ok_or(CallError::NoCallId)?;
                let call = reg.calls.get(call_id).ok_or(CallError::UnknownCall)?;
                let relay = self.relay.as_ref();
                crate::call::query::query_parties(call, reply_tag(f), &now, relay)
            }
            CommandKind::List => {
                if f.limit_raw.is_some_and(|l| l < 0) {
                    return Err(HandleError::NegativeLimit);
                }
                self.registry().list(f.limit)
            }
            CommandKind::Statistics => {
                let reg = self.registry();
                let pool = reg.ports();
                let ports: Vec<_> = reg
                    .settings
                    .interfaces
                    .iter()
                    .map(|i| (i.clone(), pool.in_use_on(i.local)))
                    .collect();
                let snap = self.stats.gather(
                    reg.calls.values(),
                    &reg.totals,
                    self.relay.as_ref(),
                    &ports,
                    pool.bounds(),
                );
                drop(reg);
                return Ok(Owned::dict()
                    .with("statistics", snap.to_ng())
                    .with("result", "ok"));
            }
            CommandKind::BlockMedia => self.switch(Switch::BlockMedia, true, f)?,
            CommandKind::UnblockMedia => self.switch(Switch::BlockMedia, false, f)?,
            CommandKind::SilenceMedia => self.switch(Switch::SilenceMedia, true, f)?,
            CommandKind::UnsilenceMedia => self.switch(Switch::SilenceMedia, false, f)?,
            CommandKind::BlockDtmf => self.switch(Switch::BlockDtmf, true, f)?,
            CommandKind::UnblockDtmf => self.switch(Switch::BlockDtmf, false, f)?,
            CommandKind::StartForwarding => self.switch(Switch::Forwarding, true, f)?,
            CommandKind::StopForwarding => self.switch(Switch::Forwarding, false, f)?,
            CommandKind::PlayMedia => {
                self.registry().play_media(f)?;
                Owned::dict()
            }
            CommandKind::StopMedia => {
                self.registry().stop_media(f)?;
                Owned::dict()
            }
            CommandKind::PlayDtmf => {
                self.registry().play_dtmf(f, self.relay.as_ref())?;
                Owned::dict()
            }
            CommandKind::Publish => {
                let sdp = self.pubsub(f, &now, |reg, f, now| reg.publish(f, now))?;
                sdp.map_or_else(Owned::dict, |s| Owned::dict().with("sdp", s))
            }
            CommandKind::SubscribeRequest => {
                let mut reg = self.registry();
                let sub = reg.subscribe_request(f, &now)?;
                let closing = self.apply(&reg, &sub.outcome.effects);
                self.persist(&reg, &sub_call_id(f), &now);
                drop(reg);
                closing.wait_blocking();
                let mut reply = Owned::dict();
                if let Some(sdp) = sub.outcome.sdp.filter(|s| !s.is_empty()) {
                    reply.insert("sdp", sdp);
                }
                if let [only] = &sub.from_tags[..] {
                    reply.insert("from-tag", only.as_str());
                }
                let tags: Vec<Owned> = sub
                    .from_tags
                    .iter()
                    .map(|t| Owned::from(t.as_str()))
                    .collect();
                reply.insert("from-tags", tags);
                reply.insert("to-tag", sub.to_tag.as_str());
                reply
            }
            CommandKind::SubscribeAnswer => {
                self.pubsub(f, &now, |reg, f, now| reg.subscribe_answer(f, now))?;
                Owned::dict()
            }
            CommandKind::Unsubscribe => {
                self.pubsub(f, &now, |reg, f, now| reg.unsubscribe(f, now))?;
                Owned::dict()
            }
            CommandKind::StartRecording | CommandKind::StopRecording => {
                let call_id = f.call_id.as_deref().ok_or(CallError::NoCallId)?;
                let mut reg = self.registry();
                let call = reg.calls.get_mut(call_id).ok_or(CallError::UnknownCall)?;
                // 10.5 keeps the latest metadata (a from-tag names the party
                // it came with; the call's is what the recording shows).
                if let Some(m) = &f.metadata {
                    call.metadata = m.clone();
                }
                let on = req.kind == CommandKind::StartRecording;
                if let (true, Some(d), Some(crate::recording::Recorder::Proc(p))) =
                    (on, &f.output_destination, &self.recorder)
                {
                    p.output_destination(call_id, d);
                }
                let effects = self.set_recording(&mut reg, call_id, on)?;
                let closing = self.apply(&reg, &effects);
                drop(reg);
                closing.wait_blocking();
                Owned::dict()
            }
        };
        // 10.5 logs what it does not know or ignores and answers without a
        // warning; Kamailio reads none. So do we (the log names every key);
        // media control commands read only their own keys.
        if let Some(w) = f.warning().filter(|_| !controls) {
            tracing::warn!(call_id = f.call_id.as_deref().unwrap_or(""), "{w}");
        }
        reply.insert("result", "ok");
        Ok(reply)
    }

    /// `--active-switchover`: signalling for a foreign call makes it ours
    /// (offer and answer, as in 10.5).
    fn switch_over(&self, call_id: Option<&str>) {
        let Some(id) = call_id else { return };
        let foreign = self.registry().calls.get(id).is_some_and(|c| c.foreign);
        if foreign {
            info!(call_id = %id, "signalling for a foreign call: taking it over");
            self.set_foreign(&[id.to_owned()], false);
        }
    }

    /// block/unblock media and DTMF, silence/unsilence, forwarding.
    fn switch(
        &self,
        what: Switch,
        on: bool,
        f: &crate::ng::flags::Flags,
    ) -> Result<Owned, HandleError> {
        let mut reg = self.registry();
        let (party, effects) = reg.switch(what, on, f)?;
        info!(?what, on, ?party, "media control");
        // Under the registry lock, as offer/answer apply theirs.
        let closing = self.apply(&reg, &effects);
        drop(reg);
        closing.wait_blocking();
        Ok(Owned::dict())
    }

    /// An offer or answer of a recorded call: its SDP goes into the
    /// metadata file (with the sending party's label and start); the
    /// capture's path, for the reply's `recordings`.
    fn recorded_sdp(
        &self,
        f: &crate::ng::flags::Flags,
        kind: CommandKind,
        sdp: Option<&str>,
    ) -> Option<String> {
        let r = self.recorder.as_ref()?;
        let call_id = f.call_id.as_deref()?;
        let (tag, mode) = if kind == CommandKind::Offer {
            (f.from_tag.as_deref(), "offer")
        } else {
            (f.to_tag.as_deref(), "answer")
        };
        let r = match r {
            crate::recording::Recorder::Pcap(p) => p,
            crate::recording::Recorder::Proc(p) => {
                // 10.5's proc method: what came and what we sent on.
                let reg = self.registry();
                let call = reg.calls.get(call_id)?;
                p.sdp(
                    call,
                    tag.unwrap_or(""),
                    mode,
                    f.sdp.as_deref(),
                    sdp.unwrap_or(""),
                );
                return None;
            }
        };
        let pcap = r.pcap_of(call_id)?;
        let reg = self.registry();
        let call = reg.calls.get(call_id)?;
        let sender = tag
            .and_then(|t| call.find_tag(t))
            .map(|i| &call.monologues[i]);
        let label = sender.and_then(|m| m.label.clone());
        let started = sender.map_or(call.created, |m| m.created);
        drop(reg);
        r.sdp(call_id, label.as_deref(), started, mode, sdp.unwrap_or(""));
        Some(pcap)
    }

    /// Runs one ng request of the daemon's own (the Janus videoroom's
    /// publish and subscribe): the reply, or the error's text.
    pub fn run_internal(&self, request: &Owned) -> Result<Owned, String> {
        let mut kind = None;
        self.execute(&request.encode(), &mut kind, None)
            .map_err(|e| e.to_string())
    }

    /// Applies the relay configuration `effects` of a change to call
    /// `call_id`, under the registry lock `reg`, and saves the call.
    pub fn apply_locked(
        &self,
        reg: std::sync::MutexGuard<'_, Registry<SharedPool>>,
        call_id: &str,
        effects: &[crate::call::Effect],
        now: &Now,
    ) {
        let closing = self.apply(&reg, effects);
        self.persist(&reg, call_id, now);
        drop(reg);
        closing.wait_blocking();
    }

    /// Applies `effects` to the relay (under the registry lock, so that two
    /// commands' effects never interleave); with the proc recording method,
    /// recorded calls' new streams get their kernel recording streams first.
    fn apply(
        &self,
        reg: &Registry<SharedPool>,
        effects: &[crate::call::Effect],
    ) -> crate::relay::Closing {
        if let Some(crate::recording::Recorder::Proc(p)) = &self.recorder {
            let mut effects = effects.to_vec();
            p.patch(&reg.calls, &mut effects);
            return self.relay.apply(&effects);
        }
        self.relay.apply(effects)
    }

    /// publish, subscribe answer, unsubscribe: the registry's outcome
    /// applied as an offer's is; the SDP of the reply, if any.
    fn pubsub(
        &self,
        f: &crate::ng::flags::Flags,
        now: &Now,
        op: impl FnOnce(
            &mut Registry<SharedPool>,
            &crate::ng::flags::Flags,
            &Now,
        ) -> Result<rtpengine_proto::call::Outcome, CallError>,
    ) -> Result<Option<String>, HandleError> {
        let mut reg = self.registry();
        let out = op(&mut reg, f, now)?;
        let closing = self.apply(&reg, &out.effects);
        self.persist(&reg, &sub_call_id(f), now);
        drop(reg);
        closing.wait_blocking();
        Ok(out.sdp.filter(|s| !s.is_empty()))
    }
}

fn sub_call_id(f: &crate::ng::flags::Flags) -> String {
    f.call_id.clone().unwrap_or_default()
}

/// Commands that act on a running call's media or on subscriptions.
fn is_media_control(kind: CommandKind) -> bool {
    !matches!(
        kind,
        CommandKind::Ping
            | CommandKind::Offer
            | CommandKind::Answer
            | CommandKind::Delete
            | CommandKind::Query
            | CommandKind::List
            | CommandKind::StartRecording
            | CommandKind::StopRecording
            | CommandKind::Statistics
    )
}

/// One line per party with what it sent, as rtpengine logs final call stats
/// (operators and the interop test grep these).
/// The tag whose party (and those sending to it) a query or delete reply
/// shows, as 10.5 picks it: the to-tag if given, else the from-tag.
fn reply_tag(f: &crate::ng::flags::Flags) -> Option<&str> {
    let to = f.to_tag.as_deref().filter(|t| !t.is_empty());
    to.or(f.from_tag.as_deref())
}

pub(crate) fn log_final_stats(call: &crate::call::model::Call, stats: &dyn StatsSource) {
    for (_, mono) in call.live() {
        let (mut rtp, mut rtcp, mut bytes) = (0u64, 0u64, 0u64);
        for s in mono.streams() {
            let st = stats.stats(s.id);
            bytes += st.bytes;
            if s.is_rtcp {
                rtcp += st.packets;
            } else {
                rtp += st.packets;
            }
        }
        info!(tag = %mono.tag, rtp_packets = rtp, rtcp_packets = rtcp, bytes, "final stats");
    }
}
