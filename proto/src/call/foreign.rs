//! Calls of another node (10.5's foreign calls): an active/standby pair
//! shares its calls through Redis, and the standby keeps the active's calls
//! as it sees them written. A foreign call holds its ports without sockets,
//! so nothing of the active node's traffic is taken while both run; taking
//! it over (`active`, or signalling under `--active-switchover`) binds them.

use super::effect::{Effect, StreamId};
use super::model::{Call, Now};
use super::ports::PortAllocator;
use super::registry::Registry;
use rand_core::CryptoRng;

impl<P: PortAllocator, R: CryptoRng> Registry<P, R> {
    /// Keeps `call`, read from keyspace `db`, as a foreign call, in place of
    /// a foreign call of the same call-id. Refused (with the reason) when an
    /// own call has the call-id, or its ports or interfaces are not to be
    /// had here. The effects close what the call it replaces had bound.
    pub fn adopt_foreign(
        &mut self,
        mut call: Call,
        db: u32,
        now: &Now,
    ) -> Result<Vec<Effect>, String> {
        if self.calls.get(&call.id).is_some_and(|c| !c.foreign) {
            return Err("an own call has this call-id".into());
        }
        let effects = self.drop_foreign(&call.id).unwrap_or_default();
        if let Some(why) = self.foreign_interface(&call) {
            return Err(why);
        }
        self.take_ports(&call, true)?;
        self.renumber_streams(&mut call);
        call.last_signal_mono = call.last_signal_mono.max(now.mono);
        call.dtls = self.dtls.clone();
        call.foreign = true;
        call.redis_db = db;
        self.calls.insert(call.id.clone(), call);
        Ok(effects)
    }

    /// Drops foreign call `call_id` (its key is gone from Redis); `None`
    /// when there is no such foreign call. Not counted as an ended call:
    /// it was never ours.
    pub fn drop_foreign(&mut self, call_id: &str) -> Option<Vec<Effect>> {
        if !self.calls.get(call_id)?.foreign {
            return None;
        }
        let call = self.calls.remove(call_id)?;
        Some(self.release_call(&call))
    }

    /// Makes `call_id` an own call (`foreign` false) or a foreign one, as
    /// 10.5's `active` and `standby` do. Taken over, the call counts as
    /// signalled now (10.5 gives it a full `--timeout` until media shows up)
    /// and its streams start relaying; handed over, its sockets close (its
    /// ports stay reserved). The effects for the relay.
    pub fn set_foreign(&mut self, call_id: &str, foreign: bool, now: &Now) -> Vec<Effect> {
        let Some(call) = self.calls.get_mut(call_id) else {
            return Vec::new();
        };
        if call.foreign == foreign {
            return Vec::new();
        }
        call.foreign = foreign;
        if foreign {
            return call
                .monologues
                .iter()
                .flat_map(|m| m.streams())
                .map(|s| Effect::Close(s.id))
                .collect();
        }
        // 10.5: the newer signal wins; one second ahead of the other node.
        call.last_signal = call.last_signal.max(now.unix) + std::time::Duration::from_secs(1);
        call.last_signal_mono = now.mono;
        let call = &self.calls[call_id];
        self.relay_effects(call, call_id)
    }

    /// Gives every stream of `call` (read from another run, whose ids may
    /// repeat ours or another restored call's) an id of this run: the relay
    /// knows streams by id.
    pub(super) fn renumber_streams(&mut self, call: &mut Call) {
        for m in call.monologues.iter_mut() {
            for media in m.medias.iter_mut() {
                let streams = media
                    .rtp
                    .iter_mut()
                    .chain(media.rtcp.iter_mut())
                    .chain(media.extra.iter_mut());
                for s in streams {
                    s.id = StreamId(self.next_stream);
                    self.next_stream += 1;
                }
            }
        }
    }

    /// How many calls are foreign.
    pub fn foreign_calls(&self) -> usize {
        self.calls.values().filter(|c| c.foreign).count()
    }
}
