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
    /// Whether the ports of this media were reserved yet, and whether they
    /// are one port only (rtcp-mux known when they were taken, as 10.5's
    /// `proto_num_ports`): its RTCP stream then has port 0.
    pub ports_decided: bool,
    pub single_port: bool,
    /// The side's last SDP came with the `unidirectional` flag (10.5 copies
    /// it from every SDP the side sends with a port).
    pub unidirectional: bool,
    /// The party gave one of our own sockets as its address (10.5's LOOP_CHECK).
    pub loop_check: bool,
}

/// After `sender`'s SDP `session` went to `receiver` (an offer if `offer`,
/// else an answer): what 10.5 records for each media of both sides. Runs
/// after ICE-lite and passthrough are decided, as 10.5's `__ice_offer` does.
/// `before`: the sender's ICE as it was before this SDP (see `ice_before`).
pub(super) fn after_sdp(
    call: &mut Call,
    sender: usize,
    receiver: usize,
    session: &Session,
    f: &Flags,
    offer: bool,
    before: &[IceBefore],
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
        let restart = before.get(i).is_some_and(|b| b.restarted_by(tx));
        // Send and receive are from our point of view.
        rx.status.send = sends;
        rx.status.recv = receives;
        tx.status.recv = sends;
        tx.status.send = receives;
        if section.port != 0 {
            tx.status.ice = tx.ice;
            tx.status.unidirectional = f.unidirectional;
        }
        ice_offer(rx, tx, f, offer, restart);
        tx.status.initialized = true;
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

/// What 10.5's ICE agent of a side's media knew before that side's SDP: its
/// `ice_is_restart` compares the SDP's credentials and the media's logical
/// interface with it.
#[derive(Debug, Clone)]
pub(super) struct IceBefore {
    agent: bool,
    ufrag: Option<String>,
    pwd: Option<String>,
    /// The request moves the media to another logical interface (10.5 does
    /// so even where the media keeps its sockets).
    moved: bool,
}

impl IceBefore {
    /// Whether `m`, updated from the side's new SDP, restarts the agent.
    fn restarted_by(&self, m: &Media) -> bool {
        let changed = |old: &Option<String>, new: &Option<String>| old.is_some() && new != old;
        self.agent
            && (changed(&self.ufrag, &m.ice_remote_ufrag)
                || changed(&self.pwd, &m.ice_remote_pwd)
                || self.moved)
    }
}

/// The ICE of every media of `side`, before its SDP updates them; `moved`:
/// per media, whether the request gives it another logical interface.
pub(super) fn ice_before(call: &Call, side: usize, moved: &[Option<usize>]) -> Vec<IceBefore> {
    call.monologues[side]
        .medias
        .iter()
        .enumerate()
        .map(|(i, m)| IceBefore {
            agent: m.ice_agent || m.ice_started,
            ufrag: m.ice_remote_ufrag.clone(),
            pwd: m.ice_remote_pwd.clone(),
            moved: moved.get(i).is_some_and(Option::is_some),
        })
        .collect()
}

/// 10.5's `__ice_offer` for one media: `this` receives the SDP, `other` sent
/// it; `restart`: the SDP restarts the ICE agent of `other`'s media.
fn ice_offer(this: &mut Media, other: &mut Media, f: &Flags, offer: bool, restart: bool) {
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
    // 10.5 checks this for every `ICE` value but `force` and the default:
    // `remove` too, where an answer rejecting ICE that no agent of ours ran
    // for leaves the roles as they were.
    if !matches!(f.ice, IceMode::Force | IceMode::Default) {
        if this.status.ice && other.status.ice {
            return;
        }
        // An answer rejecting the ICE we only passed through: none on either side.
        if !offer && !other.status.ice && !this.ice_agent && !this.ice_started {
            this.status.ice = false;
            return;
        }
    }
    // The flag `trickle-ICE` marks an offer's receiver (until its own SDP
    // says otherwise), unless passthrough returned above.
    if offer && f.trickle_ice {
        this.trickle_ice = true;
    }
    // Roles are decided even without ICE; `this` is controlling if we offer to it.
    this.ice_controlling = role(this, offer, restart);
    other.ice_controlling = role(other, !offer, restart);
}

/// 10.5's ICE role rule for one side: a full agent facing a lite one controls;
/// otherwise the role is fixed when the side is first initialised (or ICE
/// restarts): controlling towards the side we send the offer to, never as a
/// lite agent.
fn role(m: &Media, we_offer_to_it: bool, restart: bool) -> bool {
    if m.ice_lite_peer && !m.ice_lite_self {
        true
    } else if !m.status.initialized || restart {
        !m.ice_lite_self && we_offer_to_it
    } else {
        m.ice_controlling
    }
}
