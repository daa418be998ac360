//! The media control commands of a running call: block/unblock media and
//! DTMF, silence/unsilence media, start/stop forwarding, play/stop media,
//! play DTMF. Party
//! selection and refusals follow rtpengine 10.5 (`media_block_match` and
//! friends in its call_interfaces.c).

use std::net::IpAddr;

use rand_core::CryptoRng;

use super::effect::{Effect, StatsSource};
use super::error::CallError;
use super::model::{Call, Controls};
use super::ports::PortAllocator;
use super::registry::Registry;
use crate::ng::flags::Flags;

/// Whom a media control command is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Party {
    /// The whole call; `all` when the `all` flag asked for it explicitly
    /// (then the un-commands also clear what single parties had set).
    Call { all: bool },
    /// One monologue (index into the call's list).
    One(usize),
}

/// A command that switches one of `Controls` on or off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Switch {
    BlockMedia,
    SilenceMedia,
    BlockDtmf,
    Forwarding,
}

impl Switch {
    fn field(self, c: &mut Controls) -> &mut bool {
        match self {
            Switch::BlockMedia => &mut c.block_media,
            Switch::SilenceMedia => &mut c.silence_media,
            Switch::BlockDtmf => &mut c.block_dtmf,
            Switch::Forwarding => &mut c.forwarding,
        }
    }
}

fn refused(why: &'static str) -> CallError {
    CallError::Refused(why)
}

/// The party `f` names in `call`: by `label`, else by `address` (the
/// address a party's first media advertised), else by `from-tag`; none of
/// them is the whole call.
fn select_in(call: &Call, f: &Flags) -> Result<Party, CallError> {
    if f.all {
        return Ok(Party::Call { all: true });
    }
    if let Some(label) = f.label.as_deref() {
        return call
            .live()
            .filter(|(_, m)| m.label.as_deref() == Some(label))
            .map(|(i, _)| Party::One(i))
            .last()
            .ok_or(refused("No monologue matching the given label"));
    }
    if let Some(address) = f.address.as_deref() {
        let ip: IpAddr = address
            .trim_matches(['[', ']'])
            .parse()
            .map_err(|_| refused("Failed to parse network address"))?;
        return call
            .live()
            .find(|(_, m)| {
                m.medias.iter().any(|media| {
                    media
                        .rtp
                        .as_ref()
                        .and_then(|s| s.endpoint)
                        .is_some_and(|ep| ep.ip() == ip)
                })
            })
            .map(|(i, _)| Party::One(i))
            .ok_or(refused("Failed to match address to any tag"));
    }
    if let Some(tag) = f.from_tag.as_deref() {
        return call
            .find_tag(tag)
            .map(Party::One)
            .ok_or(refused("From-tag given, but no such tag exists"));
    }
    Ok(Party::Call { all: false })
}

/// The first RFC 4733 payload-capable (audio) media of a party.
fn audio_media(call: &Call, i: usize) -> Option<&super::model::Media> {
    call.monologues[i]
        .medias
        .iter()
        .find(|m| m.media_type == "audio")
}

/// 10.5's DTMF event code for the `code`/`digit` key: 0-15 as given, or
/// the character's code (`0`-`9`, `*`, `#`, `A`-`D`).
fn dtmf_code(digit: i64) -> Option<u8> {
    if (0..=15).contains(&digit) {
        return u8::try_from(digit).ok();
    }
    let c = u8::try_from(digit).ok()?;
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'*' => Some(10),
        b'#' => Some(11),
        b'A'..=b'D' => Some(c - b'A' + 12),
        _ => None,
    }
}

impl<P: PortAllocator, R: CryptoRng> Registry<P, R> {
    /// The call and party a media control command names.
    pub fn select_party(&self, f: &Flags) -> Result<(&Call, Party), CallError> {
        let call_id = f.call_id.as_deref().ok_or(CallError::NoCallId)?;
        let call = self.calls.get(call_id).ok_or(CallError::UnknownCallId)?;
        let party = select_in(call, f)?;
        Ok((call, party))
    }

    fn select_mut(&mut self, f: &Flags) -> Result<(&mut Call, Party), CallError> {
        let (_, party) = self.select_party(f)?;
        let call_id = f.call_id.as_deref().expect("selected above");
        let call = self.calls.get_mut(call_id).expect("selected above");
        // `set-label` relabels the selected party (10.5, for these commands).
        if let (Party::One(i), Some(l)) = (party, f.set_label.as_ref()) {
            call.monologues[i].label = Some(l.clone());
        }
        Ok((call, party))
    }

    /// Records call `call_id` from now on (`on`) or no longer. Returns the
    /// relay configuration of the streams that changed (all of them when
    /// the setting flips: each stream hands out its packets, or stops).
    pub fn set_recording(&mut self, call_id: &str, on: bool) -> Result<Vec<Effect>, CallError> {
        let call = self.calls.get(call_id).ok_or(CallError::UnknownCall)?;
        let before = self.relay_effects(call, call_id);
        let call = self.calls.get_mut(call_id).expect("looked up above");
        call.recording = on;
        let call = &self.calls[call_id];
        let mut effects = self.relay_effects(call, call_id);
        effects.retain(|e| !before.contains(e));
        Ok(effects)
    }

    /// block/unblock media, silence/unsilence media, block/unblock DTMF,
    /// start/stop forwarding: `on` sets, `!on` clears. Clearing the whole
    /// call with the `all` flag also clears every party's own setting.
    /// Returns the party and the relay configuration of the call's streams
    /// (which carries the controls to the media).
    pub fn switch(
        &mut self,
        what: Switch,
        on: bool,
        f: &Flags,
    ) -> Result<(Party, Vec<Effect>), CallError> {
        let before = {
            let (call, _) = self.select_party(f)?;
            self.relay_effects(call, &call.id)
        };
        let (call, party) = self.select_mut(f)?;
        match party {
            Party::One(i) => *what.field(&mut call.monologues[i].controls) = on,
            Party::Call { all } => {
                *what.field(&mut call.controls) = on;
                // Clearing with `all` clears the parties' own settings too.
                if !on && all {
                    for m in &mut call.monologues {
                        *what.field(&mut m.controls) = false;
                    }
                }
            }
        }
        // Only the streams whose controls changed are configured again.
        let call = &self.calls[f.call_id.as_deref().expect("selected above")];
        let mut effects = self.relay_effects(call, &call.id);
        effects.retain(|e| !before.contains(e));
        Ok((party, effects))
    }

    /// The parties `play media`, `stop media` and `play DTMF` act on.
    fn players(&mut self, f: &Flags) -> Result<(&mut Call, Vec<usize>), CallError> {
        let (call, party) = self.select_mut(f)?;
        let parties = match party {
            Party::Call { all: true } => call.live().map(|(i, _)| i).collect(),
            Party::Call { all: false } => return Err(refused("No participant party specified")),
            Party::One(i) => vec![i],
        };
        Ok((call, parties))
    }

    /// `play media`. We have no media player: every source is refused with
    /// 10.5's words for a source it cannot play.
    pub fn play_media(&mut self, f: &Flags) -> Result<(), CallError> {
        let (call, parties) = self.players(f)?;
        // The first party decides: we fail to start for every source.
        let Some(&i) = parties.first() else {
            return Ok(());
        };
        // 10.5 keeps the player it made even when it fails to start.
        call.monologues[i].controls.player = true;
        Err(refused(
            if f.file.as_deref().is_some_and(|s| !s.is_empty()) {
                "Failed to start media playback from file"
            } else if f.blob.as_deref().is_some_and(|s| !s.is_empty()) {
                "Failed to start media playback from blob"
            } else if f.db_id.is_some_and(|d| d > 0) {
                "Failed to start media playback from database"
            } else {
                "No media file specified"
            },
        ))
    }

    /// `stop media`: refused for a party that never had a player.
    pub fn stop_media(&mut self, f: &Flags) -> Result<(), CallError> {
        let (call, parties) = self.players(f)?;
        for i in parties {
            if !call.monologues[i].controls.player {
                return Err(refused("Not currently playing media"));
            }
        }
        Ok(())
    }

    /// `play DTMF`: 10.5's checks in its order. We cannot inject events:
    /// where 10.5 would, we refuse as it does without a codec handler.
    pub fn play_dtmf(&mut self, f: &Flags, stats: &dyn StatsSource) -> Result<(), CallError> {
        let (call, parties) = self.players(f)?;
        let call: &Call = call;
        // No code at all is out of range too (10.5's default is -1).
        if f.digit.and_then(dtmf_code).is_none() {
            return Err(refused("Out of range 'code' specified"));
        }
        for i in parties {
            let media = audio_media(call, i)
                .ok_or(refused("Monologue has no media capable of DTMF injection"))?;
            let Some(sink) = call.monologues[i].peer else {
                continue;
            };
            if audio_media(call, sink).is_none() {
                return Err(refused(
                    "Sink monologue has no media capable of DTMF playback",
                ));
            }
            let rtp = media
                .rtp
                .as_ref()
                .ok_or(refused("Media doesn't have an RTP stream"))?;
            if stats.stats(rtp.id).packets == 0 {
                return Err(refused("No SSRC context present for DTMF injection"));
            }
            return Err(refused("No suitable codec handler present"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::dtmf_code;

    #[test]
    fn dtmf_codes_as_10_5_reads_them() {
        assert_eq!(dtmf_code(0), Some(0));
        assert_eq!(dtmf_code(11), Some(11));
        assert_eq!(dtmf_code(16), None);
        assert_eq!(dtmf_code(i64::from(b'1')), Some(1));
        assert_eq!(dtmf_code(i64::from(b'#')), Some(11));
        assert_eq!(dtmf_code(i64::from(b'D')), Some(15));
        assert_eq!(dtmf_code(i64::from(b'd')), None);
        assert_eq!(dtmf_code(i64::from(b'X')), None);
        assert_eq!(dtmf_code(-1), None);
    }
}
