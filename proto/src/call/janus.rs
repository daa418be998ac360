//! What 10.5's Janus videoroom does to calls beyond the ng commands: a
//! room's call made empty, a detaching handle's party removed, and ICE
//! candidates trickled in for one party's media.

use rand_core::CryptoRng;

use super::effect::Effect;
use super::model::{Call, Now};
use super::ports::PortAllocator;
use super::registry::Registry;

/// Why a trickled candidate was refused: the code and reason of 10.5's
/// Janus reply.
pub type TrickleError = (u16, &'static str);

impl<P: PortAllocator, R: CryptoRng> Registry<P, R> {
    /// A new room's call, without parties yet; false if `call_id` exists.
    pub fn create_empty_call(&mut self, call_id: &str, created_from: &str, now: &Now) -> bool {
        if self.calls.contains_key(call_id) {
            return false;
        }
        let mut call = Call::new(call_id, now);
        call.dtls = self.dtls.clone();
        call.created_from = created_from.to_owned();
        self.calls.insert(call_id.to_owned(), call);
        true
    }

    /// Removes party `tag` of `call_id` (10.5's `monologue_destroy`): its
    /// ports go; the effects close them and redirect the rest.
    pub fn remove_party(&mut self, call_id: &str, tag: &str) -> Vec<Effect> {
        let Some(call) = self.calls.get_mut(call_id) else {
            return Vec::new();
        };
        let Some(i) = call.find_tag(tag) else {
            return Vec::new();
        };
        call.monologues[i].deleted = true;
        let medias = call.monologues[i].medias.clone();
        let mut effects = Vec::new();
        for m in &medias {
            effects.extend(self.release_media(m));
        }
        let call = self.calls.get(call_id).expect("present");
        effects.extend(self.relay_effects(call, call_id));
        effects
    }

    /// An ICE candidate line (without `candidate:`; empty: the end of
    /// candidates) for party `tag`'s media named by `mid`, else by its
    /// position `mline`; the relay configuration that changes.
    pub fn trickle(
        &mut self,
        call_id: &str,
        tag: &str,
        mid: Option<&str>,
        mline: Option<i64>,
        candidate: &str,
        ufrag: Option<&str>,
    ) -> Result<Vec<Effect>, TrickleError> {
        let call = self.calls.get_mut(call_id).ok_or((426, "No such room"))?;
        let i = call
            .find_tag(tag)
            .ok_or((426, "Handle not found in room"))?;
        let medias = &mut call.monologues[i].medias;
        let by_mid = mid.and_then(|id| medias.iter().position(|m| m.mid.as_deref() == Some(id)));
        let by_line = mline
            .and_then(|l| usize::try_from(l).ok())
            .filter(|l| *l < medias.len());
        let media = by_mid
            .or(by_line)
            .map(|k| &mut medias[k])
            .ok_or((466, "No matching media"))?;
        if !(media.ice_agent || media.ice_started) {
            return Err((466, "Media is not ICE-enabled"));
        }
        if candidate.is_empty() {
            return Ok(Vec::new());
        }
        let words: Vec<&str> = candidate.split(' ').filter(|w| !w.is_empty()).collect();
        if words.len() < 8 || words[6] != "typ" {
            return Err((466, "Failed to parse trickle candidate"));
        }
        if let Some(u) = ufrag.filter(|_| media.ice_remote_ufrag.is_none()) {
            media.ice_remote_ufrag = Some(u.to_owned());
        }
        // Not UDP or not ours to use: ignored, as 10.5 ignores it.
        super::registry::merge_candidates(
            &mut media.remote_candidates,
            &[candidate.to_owned()],
            false,
        );
        let call = self.calls.get(call_id).expect("present");
        Ok(self.relay_effects(call, call_id))
    }
}
