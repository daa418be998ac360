//! The per-media state rtpengine 10.5 keeps as media flags and reports in
//! query replies (`initialized`, `send`, `recv`, `ICE`, `ICE controlling`),
//! updated by every offer and answer the way 10.5's `__media_init_from_flags`,
//! `monologue_offer_answer` and `__ice_offer` update them.

use super::model::{Call, Media};
use crate::ng::flags::{Flags, IceMode};
use crate::sdp::{Direction, Session};

/// 10.5's flags of one media that do not follow from a single SDP.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MediaStatus {
    /// This side has sent an SDP for this media (10.5's INITIALIZED).
    pub initialized: bool,
    /// We send media to this side (from our point of view, as 10.5's SEND).
    pub send: bool,
    /// We receive media from this side (10.5's RECV).
    pub recv: bool,
    /// We speak ICE with this side (10.5's ICE media flag): its own SDP's ICE
    /// once it has spoken, before that the offerer's choice or the `ICE` key.
    pub ice: bool,
    /// Whether the ports of this media were reserved yet, and whether 10.5
    /// would have reserved one port only (rtcp-mux known from the start): its
    /// fallback RTCP stream then shows port 0.
    pub ports_decided: bool,
    pub single_port: bool,
    /// The side's last SDP came with the `unidirectional` flag (10.5 copies
    /// it from every SDP the side sends with a port).
    pub unidirectional: bool,
}

/// After `sender`'s SDP `session` went to `receiver` (an offer if `offer`,
/// else an answer): what 10.5 records for each media of both sides. Runs
/// after ICE-lite and passthrough are decided, as 10.5's `__ice_offer` does.
pub(super) fn after_sdp(
    call: &mut Call,
    sender: usize,
    receiver: usize,
    session: &Session,
    f: &Flags,
    offer: bool,
) {
    for (i, section) in session.media.iter().enumerate() {
        // An old-style hold (c= 0.0.0.0) reads as sendonly here, which is
        // what 10.5 makes of it too.
        let direction = session.direction_for(i);
        let sends = matches!(direction, Direction::SendRecv | Direction::SendOnly);
        let receives = matches!(direction, Direction::SendRecv | Direction::RecvOnly);
        let Some((tx, rx)) = pair(call, sender, receiver, i) else {
            continue;
        };
        // Send and receive are from our point of view.
        rx.status.send = sends;
        rx.status.recv = receives;
        tx.status.recv = sends;
        tx.status.send = receives;
        if section.port != 0 {
            tx.status.ice = tx.ice;
            tx.status.unidirectional = f.unidirectional;
        }
        ice_offer(rx, tx, f, offer);
        tx.status.initialized = true;
        // 10.5's `proto_num_ports`: one port when the side is known to mux
        // at the time its ports are first taken, fixed from then on.
        let mux = &f.rtcp_mux;
        if !tx.status.ports_decided && tx.rtp.is_some() {
            tx.status.ports_decided = true;
            // `reject` has unmuxed the offerer by then, unless we offer mux
            // onwards and `accept` keeps it (10.5's __rtcp_mux_logic).
            let onwards =
                rx.rtcp_mux || (section.rtcp_mux && !mux.demux) || mux.offer || mux.require;
            let rejected = offer && mux.reject && !(onwards && mux.accept);
            tx.status.single_port =
                section.rtcp_mux && !rejected && (!offer || mux.demux || mux.accept);
        }
        if !rx.status.ports_decided && rx.rtp.is_some() {
            rx.status.ports_decided = true;
            rx.status.single_port = mux.require || (!offer && rx.mux_offered && mux.accept);
        }
    }
    // 10.5's `__ice_start` on every media of both sides.
    for side in [sender, receiver] {
        for m in &mut call.monologues[side].medias {
            if m.passthru {
                m.ice_started = false;
            } else if m.status.ice {
                m.ice_started = true;
            }
        }
    }
}

/// Media `i` of both sides, mutably (the sides are different monologues).
fn pair(call: &mut Call, a: usize, b: usize, i: usize) -> Option<(&mut Media, &mut Media)> {
    if a == b {
        return None;
    }
    let (low, high) = call.monologues.split_at_mut(a.max(b));
    let (first, second) = (&mut low[a.min(b)], &mut high[0]);
    let (ma, mb) = if a < b {
        (first, second)
    } else {
        (second, first)
    };
    Some((ma.medias.get_mut(i)?, mb.medias.get_mut(i)?))
}

/// 10.5's `__ice_offer` for one media: `this` receives the SDP, `other` sent it.
fn ice_offer(this: &mut Media, other: &mut Media, f: &Flags, offer: bool) {
    // By default the receiver does ICE if the offering client does.
    if !this.status.initialized {
        this.status.ice = other.status.ice;
    }
    match f.ice {
        IceMode::Remove => this.status.ice = false,
        IceMode::Default => {}
        _ => this.status.ice = true,
    }
    if f.reject_ice {
        other.status.ice = false;
    }
    if f.passthrough.is_some() {
        return;
    }
    if matches!(f.ice, IceMode::Optional | IceMode::ForceRelay) {
        if this.status.ice && other.status.ice {
            return;
        }
        // An answer rejecting the ICE we only passed through: none on either side.
        if !offer && !other.status.ice && !this.ice_agent && !this.ice_started {
            this.status.ice = false;
            return;
        }
    }
    // Roles are decided even without ICE; `this` is controlling if we offer to it.
    this.ice_controlling = role(this, offer);
    other.ice_controlling = role(other, !offer);
}

/// 10.5's ICE role rule for one side: a full agent facing a lite one controls;
/// otherwise the role is fixed when the side is first initialised: controlling
/// towards the side we send the offer to, never as a lite agent.
fn role(m: &Media, we_offer_to_it: bool) -> bool {
    if m.ice_lite_peer && !m.ice_lite_self {
        true
    } else if !m.status.initialized {
        !m.ice_lite_self && we_offer_to_it
    } else {
        m.ice_controlling
    }
}
