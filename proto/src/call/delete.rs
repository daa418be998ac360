//! delete (whole call or one dialogue branch), delete-delay, and timeouts.

use std::time::{Duration, Instant};

use rand_core::CryptoRng;

use super::effect::{Effect, StatsSource};
use super::error::CallError;
use super::model::{Call, Now};
use super::ports::PortAllocator;
use super::registry::Registry;
use crate::ng::flags::Flags;

/// What a delete did.
#[derive(Debug)]
pub enum Deleted {
    /// The whole call is gone (or will be after the delay); its last state is kept
    /// for the reply.
    Call(Box<Call>),
    /// Only one branch went; the call goes on.
    Branch(Box<Call>),
    /// Nothing matched: a duplicate delete, or an unknown call or tag. rtpengine
    /// answers this with success plus a warning (an error only with `fatal`).
    NotFound,
}

/// Why a call expired.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    DeleteDelay,
    Timeout,
    SilentTimeout,
    FinalTimeout,
    OfferTimeout,
    /// Ended by the operator (CLI `terminate`).
    Forced,
}

impl<P: PortAllocator, R: CryptoRng> Registry<P, R> {
    pub fn delete(&mut self, f: &Flags, now: &Now) -> Result<(Deleted, Vec<Effect>), CallError> {
        let call_id = f.call_id.as_deref().ok_or(CallError::NoCallId)?;
        let not_found = |reg: &Self| {
            if f.fatal && !reg.was_deleted(call_id, now.mono) {
                Err(CallError::NotFound)
            } else {
                Ok((Deleted::NotFound, Vec::new()))
            }
        };
        let Some(call) = self.calls.get(call_id) else {
            return not_found(self);
        };
        // Without a from-tag the whole call goes; otherwise one party (and
        // whoever talked only to it), found as 10.5 finds it.
        let party = match f.from_tag.as_deref().filter(|t| !t.is_empty()) {
            None => None,
            Some(from) => {
                match call.delete_target(from, f.to_tag.as_deref(), f.via_branch.as_deref()) {
                    Some(i) => Some(i),
                    None => return not_found(self),
                }
            }
        };
        let call = self.calls.get_mut(call_id).expect("checked above");
        if call.delete_at.is_some() && f.delete_delay != Some(0) {
            // Already scheduled: a duplicate delete under SIP retransmission.
            // One with `delete-delay: 0` deletes at once (as in 10.5).
            return Ok((Deleted::Call(Box::new(call.clone())), Vec::new()));
        }
        call.last_signal = now.unix;
        call.last_signal_mono = now.mono;
        if let Some(party) = party {
            let gone = call.parting_with(party);
            // 10.5 keeps the call while two tagged parties (or a via-branch
            // party waiting for its answer) remain.
            let rest = || call.live().filter(|(i, _)| !gone.contains(i));
            let tagged = rest().filter(|(_, m)| !m.tag.is_empty()).count();
            let branches = rest().any(|(_, m)| m.via_branch.is_some());
            if tagged >= 2 || branches {
                let snapshot = call.clone();
                let mut released = Vec::new();
                for &i in &gone {
                    call.monologues[i].deleted = true;
                    released.extend(call.monologues[i].medias.clone());
                }
                let mut effects = Vec::new();
                for m in &released {
                    effects.extend(self.release_media(m));
                }
                return Ok((Deleted::Branch(Box::new(snapshot)), effects));
            }
        }
        let delay = f.delete_delay.map_or(self.settings.delete_delay, |s| {
            Duration::from_secs(s.into())
        });
        let call = self.calls.get_mut(call_id).expect("checked above");
        if delay.is_zero() {
            let call = self.calls.remove(call_id).expect("present");
            let effects = self.release_call(&call);
            self.remember_deleted(call_id, now.mono);
            Ok((Deleted::Call(Box::new(call)), effects))
        } else {
            call.delete_at = Some(now.mono + delay);
            Ok((Deleted::Call(Box::new(call.clone())), Vec::new()))
        }
    }

    /// Ends `call_id` at once, as 10.5's CLI `terminate` does: whatever its
    /// delete-delay, counted as forced unless a delete already ended it
    /// (then as the regular end it was). `None` when there is no such call.
    pub fn terminate(
        &mut self,
        call_id: &str,
        now: &Now,
        stats: &dyn StatsSource,
    ) -> Option<Vec<Effect>> {
        let call = self.calls.remove(call_id)?;
        let why = if call.delete_at.is_some() {
            Expiry::DeleteDelay
        } else {
            Expiry::Forced
        };
        self.totals.ended(&call, why, now.mono, stats);
        let effects = self.release_call(&call);
        self.remember_deleted(call_id, now.mono);
        Some(effects)
    }

    /// Remove calls whose delete-delay ran out or that timed out.
    pub fn sweep(
        &mut self,
        now: &Now,
        stats: &dyn StatsSource,
    ) -> Vec<(String, Expiry, Vec<Effect>)> {
        let expired: Vec<(String, Expiry)> = self
            .calls
            .values()
            .filter_map(|c| self.expiry(c, now.mono, stats).map(|e| (c.id.clone(), e)))
            .collect();
        expired
            .into_iter()
            .map(|(id, why)| {
                let call = self.calls.remove(&id).expect("listed above");
                self.totals.ended(&call, why, now.mono, stats);
                let effects = self.release_call(&call);
                self.remember_deleted(&id, now.mono);
                (id, why, effects)
            })
            .collect()
    }

    fn expiry(&self, call: &Call, now: Instant, stats: &dyn StatsSource) -> Option<Expiry> {
        let s = &self.settings;
        if let Some(t) = call.delete_at {
            return (now >= t).then_some(Expiry::DeleteDelay);
        }
        if !s.final_timeout.is_zero() && now.duration_since(call.created_mono) >= s.final_timeout {
            return Some(Expiry::FinalTimeout);
        }
        // 10.5: the other timeouts are not for another node's calls.
        if call.foreign {
            return None;
        }
        self.media_expiry(call, now, stats)
    }

    /// 10.5's media timeouts (its `call_timer_iterator`): every packet stream
    /// has its own limit, and the call ends only when each one has been idle
    /// past its limit. A stream we do not receive on (hold, no socket, a
    /// rejected section) waits `silent-timeout`; one whose peer is not known
    /// by signalling yet (the answerer's side of an unanswered offer) waits
    /// `offer-timeout`; any other `timeout`. The reason recorded is that of
    /// the last stream in 10.5's order (by media, offerer's side first).
    /// Idle counts from the stream's last packet or the call's last signal.
    fn media_expiry(&self, call: &Call, now: Instant, stats: &dyn StatsSource) -> Option<Expiry> {
        let s = &self.settings;
        let mut streams: Vec<(u32, usize, Duration, Expiry, Instant)> = Vec::new();
        for (party, m) in call.live() {
            for media in &m.medias {
                let pair = [media.rtp.as_ref(), media.rtcp.as_ref()];
                for stream in pair {
                    let receiving =
                        media.status.recv && stream.is_some_and(|st| st.local.port() != 0);
                    let (limit, why) = if !receiving {
                        (s.silent_timeout, Expiry::SilentTimeout)
                    } else if stream.is_some_and(|st| st.endpoint.is_none()) {
                        (s.offer_timeout, Expiry::OfferTimeout)
                    } else {
                        (s.timeout, Expiry::Timeout)
                    };
                    let last = stream
                        .and_then(|st| stats.stats(st.id).last_packet)
                        .map_or(call.last_signal_mono, |p| p.max(call.last_signal_mono));
                    streams.push((media.index, party, limit, why, last));
                }
            }
        }
        streams.sort_by_key(|&(index, party, ..)| (index, party));
        let mut reason = None;
        for (_, _, limit, why, last) in streams {
            // A zero limit is off: such a stream never times out.
            if limit.is_zero() || now.saturating_duration_since(last) < limit {
                return None;
            }
            reason = Some(why);
        }
        reason
    }
}

impl Call {
    /// The party a delete with a from-tag names, found as 10.5 finds it: by
    /// via-branch when there is no to-tag, by the to-tag if given, else by
    /// the from-tag; lastly, for an unknown to-tag, the from-tag's party when
    /// the one it talks to has no tag yet (an offer not yet answered).
    pub fn delete_target(
        &self,
        from: &str,
        to: Option<&str>,
        branch: Option<&str>,
    ) -> Option<usize> {
        let to = to.filter(|t| !t.is_empty());
        let branch = branch.filter(|b| !b.is_empty());
        let by_branch = || {
            branch.and_then(|b| {
                self.live()
                    .find(|(_, m)| m.via_branch.as_deref() == Some(b))
                    .map(|(i, _)| i)
            })
        };
        if to.is_none() {
            if let Some(i) = by_branch() {
                return Some(i);
            }
        }
        if let Some(i) = self.find_tag(to.unwrap_or(from)) {
            return Some(i);
        }
        if let Some(i) = by_branch() {
            return Some(i);
        }
        let i = to.and(self.find_tag(from))?;
        match self.senders(i)[..] {
            [only] if self.monologues[only].tag.is_empty() => Some(i),
            _ => None,
        }
    }

    /// The live parties whose media goes to `party` (10.5's subscriptions):
    /// the one in dialogue with it first.
    pub fn senders(&self, party: usize) -> Vec<usize> {
        let peer = self.monologues[party].peer;
        let mut senders: Vec<usize> = self
            .live()
            .filter(|(i, m)| *i != party && m.peer == Some(party))
            .map(|(i, _)| i)
            .collect();
        senders.sort_by_key(|&i| Some(i) != peer);
        senders
    }

    /// `party` and those left with nobody to talk to once it goes.
    fn parting_with(&self, party: usize) -> Vec<usize> {
        let linked = |x: usize, y: usize| {
            self.monologues[x].peer == Some(y) || self.monologues[y].peer == Some(x)
        };
        let mut gone = vec![party];
        for (x, _) in self.live() {
            if x == party || !linked(x, party) {
                continue;
            }
            let others = self
                .live()
                .any(|(y, _)| y != x && y != party && linked(x, y));
            if !others {
                gone.push(x);
            }
        }
        gone
    }
}
