//! delete (whole call or one dialogue branch), delete-delay, and timeouts.

use std::time::{Duration, Instant};

use rand_core::CryptoRng;

use super::effect::{Effect, StatsSource};
use super::error::CallError;
use super::model::{Call, Now};
use super::ports::PortAllocator;
use super::registry::Registry;
use crate::ng::flags::Flags;
use crate::sdp::Direction;

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
        let tag_known = |t: Option<&str>| t.is_none_or(|t| call.find_tag(t).is_some());
        if !tag_known(f.from_tag.as_deref()) || !tag_known(f.to_tag.as_deref()) {
            return not_found(self);
        }
        let call = self.calls.get_mut(call_id).expect("checked above");
        if call.delete_at.is_some() && f.delete_delay != Some(0) {
            // Already scheduled: a duplicate delete under SIP retransmission.
            // One with `delete-delay: 0` deletes at once (as in 10.5).
            return Ok((Deleted::Call(Box::new(call.clone())), Vec::new()));
        }
        call.last_signal = now.unix;
        call.last_signal_mono = now.mono;
        let from = match f.from_tag.as_deref() {
            Some(t) => Some(call.find_tag(t).ok_or(CallError::NotFound)?),
            None => None,
        };
        let to = match f.to_tag.as_deref() {
            Some(t) => Some(call.find_tag(t).ok_or(CallError::NotFound)?),
            None => None,
        };
        // A branch delete names via-branch or to-tag; if other dialogues remain
        // afterwards only that branch goes, otherwise the whole call.
        let branch = match (from, to, f.via_branch.as_deref()) {
            (Some(a), Some(b), _) => Some((a, b)),
            (Some(a), None, Some(vb)) if call.monologues[a].via_branch.as_deref() == Some(vb) => {
                call.monologues[a].peer.map(|b| (a, b))
            }
            _ => None,
        };
        if let Some((a, b)) = branch {
            let others = call
                .live()
                .filter(|(i, m)| *i != a && *i != b && m.peer.is_some())
                .count();
            if others > 0 {
                call.monologues[a].deleted = true;
                call.monologues[b].deleted = true;
                let gone: Vec<_> = [a, b]
                    .iter()
                    .flat_map(|&i| call.monologues[i].medias.clone())
                    .collect();
                let snapshot = call.clone();
                let mut effects = Vec::new();
                for m in &gone {
                    effects.extend(self.release_media(m));
                }
                return Ok((Deleted::Branch(Box::new(snapshot)), effects));
            }
        }
        let delay = f.delete_delay.map_or(self.settings.delete_delay, |s| {
            Duration::from_secs(s.into())
        });
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
        let last_packet = call
            .live()
            .flat_map(|(_, m)| m.streams())
            .filter_map(|st| stats.stats(st.id).last_packet)
            .max();
        let last = last_packet.map_or(call.last_signal_mono, |p| p.max(call.last_signal_mono));
        let idle = now.saturating_duration_since(last);
        if !call.answered() {
            return (!s.offer_timeout.is_zero() && idle >= s.offer_timeout)
                .then_some(Expiry::OfferTimeout);
        }
        // Media on hold (not sendrecv) is allowed to be silent for longer.
        let held = call
            .live()
            .flat_map(|(_, m)| m.medias.iter())
            .any(|m| m.direction != Direction::SendRecv);
        let (limit, why) = if held {
            (s.silent_timeout, Expiry::SilentTimeout)
        } else {
            (s.timeout, Expiry::Timeout)
        };
        (!limit.is_zero() && idle >= limit).then_some(why)
    }
}
