//! All calls, and the offer/answer logic that builds them.

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use rand_core::CryptoRng;

use super::codecs::{self, CodecStore, PayloadType};
use super::dtls::DtlsSettings;
use super::effect::{
    Effect, IceCredentials, KernelHints, Learning, LearningMode, MediaControl, RemoteCandidate,
    StreamConfig, StreamId,
};
use super::error::CallError;
use super::interface::Interface;
use super::model::{Call, Controls, IceAlternate, Media, Monologue, Now, PacketStream};
use super::ports::PortAllocator;
use super::protocol;
use super::token::random_token;
use crate::ng::flags::{Family, Flags, IceMode};
use crate::sdp::{self, Session};
use crate::srtp::{self, SdesOptions};

/// Settings of the call layer (from the daemon config).
#[derive(Debug, Clone)]
pub struct Settings {
    pub interfaces: Vec<Interface>,
    pub delete_delay: Duration,
    /// Negative: unlimited.
    pub max_sessions: i64,
    pub sip_source: bool,
    pub tos: Option<u8>,
    pub timeout: Duration,
    pub silent_timeout: Duration,
    pub final_timeout: Duration,
    pub offer_timeout: Duration,
    /// `--endpoint-learning` for new monologues.
    pub endpoint_learning: LearningMode,
}

/// How long a deleted call-id answers duplicate deletes with success.
const DELETED_MEMORY: Duration = Duration::from_secs(30);

/// The result of a signalling command: reply fields plus effects for the edges.
#[derive(Debug, Default)]
pub struct Outcome {
    pub sdp: Option<String>,
    pub effects: Vec<Effect>,
}

/// All calls of one daemon. `P` hands out media ports; `R` supplies the
/// randomness (ICE credentials and foundations, SRTP keys, the loop-protect
/// mark), so the crate has no random source of its own.
pub struct Registry<P: PortAllocator, R: CryptoRng> {
    pub settings: Settings,
    pub calls: HashMap<String, Call>,
    pub(super) ports: P,
    pub(super) next_stream: u64,
    /// Recently deleted call-ids (duplicate deletes under SIP retransmission).
    recently_deleted: HashMap<String, Instant>,
    /// The same, oldest first, so that expiring them costs nothing per delete
    /// when there is nothing to expire.
    deleted_order: VecDeque<(Instant, String)>,
    /// This daemon's mark for `loop-protect` (`a=rtpengine:<token>`).
    pub instance_token: String,
    /// ICE candidate foundation of each configured interface (one per local
    /// address for the daemon's lifetime, as rtpengine does).
    pub ice_foundations: Vec<String>,
    /// The foundation of each interface as a lower-preference address of the
    /// other address family's variant of its logical interface: rtpengine
    /// keeps one local interface, and so one foundation, per variant.
    pub ice_alternate_foundations: Vec<String>,
    /// Our DTLS certificate's fingerprints and `--dtls-passive` (none by
    /// default): what calls that begin now advertise.
    pub dtls: std::sync::Arc<DtlsSettings>,
    /// What the calls that ended so far leave for the statistics.
    pub totals: super::totals::SessionTotals,
    /// `s=` of the SDPs we make up (`publish`, subscriptions): 10.5 writes
    /// its `--software-id` there.
    pub software_id: String,
    pub(super) rng: R,
}

impl<P: PortAllocator, R: CryptoRng + Default> Registry<P, R> {
    /// A registry whose `R` is made by `Default` (rtpengined's `DaemonRng`
    /// seeds itself from the operating system).
    pub fn new(settings: Settings, ports: P) -> Self {
        Self::with_rng(settings, ports, R::default())
    }
}

impl<P: PortAllocator, R: CryptoRng> Registry<P, R> {
    /// A registry that draws every token and key from `rng`.
    pub fn with_rng(settings: Settings, ports: P, mut rng: R) -> Self {
        let ice_foundations = settings
            .interfaces
            .iter()
            .map(|_| random_token(&mut rng, 16))
            .collect();
        let instance_token = random_token(&mut rng, 12);
        let ice_alternate_foundations = settings
            .interfaces
            .iter()
            .map(|_| random_token(&mut rng, 16))
            .collect();
        Registry {
            settings,
            calls: HashMap::new(),
            ports,
            next_stream: 1,
            recently_deleted: HashMap::new(),
            deleted_order: VecDeque::new(),
            instance_token,
            ice_foundations,
            ice_alternate_foundations,
            dtls: Default::default(),
            totals: Default::default(),
            software_id: format!("rtpengine-rs-{}", env!("CARGO_PKG_VERSION")).replace('.', "-"),
            rng,
        }
    }

    /// The daemon's DTLS certificate (fingerprints) and `--dtls-passive`.
    pub fn with_dtls(mut self, dtls: DtlsSettings) -> Self {
        self.set_dtls(dtls);
        self
    }

    /// A renewed certificate: calls that begin from now on advertise it;
    /// running calls keep theirs.
    pub fn set_dtls(&mut self, dtls: DtlsSettings) {
        self.dtls = std::sync::Arc::new(dtls);
    }

    pub fn ports(&self) -> &P {
        &self.ports
    }

    pub fn ports_mut(&mut self) -> &mut P {
        &mut self.ports
    }

    /// Calls not pending deletion count against --max-sessions.
    pub fn active_calls(&self) -> usize {
        self.calls
            .values()
            .filter(|c| c.delete_at.is_none())
            .count()
    }

    /// An offer (`answer` false) or answer from any control protocol: a
    /// refusal for the session limit is counted, and the call remembers the
    /// first client that signalled it (`created_from`).
    pub fn signal(
        &mut self,
        f: &Flags,
        answer: bool,
        peer: Option<&str>,
        now: &Now,
    ) -> Result<Outcome, CallError> {
        let out = if answer {
            self.answer(f, now)
        } else {
            self.offer(f, now)
        };
        match &out {
            Err(CallError::SessionLimit) => self.totals.rejected += 1,
            Err(_) => {}
            Ok(_) => {
                if let (Some(p), Some(id)) = (peer, f.call_id.as_deref()) {
                    if let Some(c) = self.calls.get_mut(id).filter(|c| c.created_from.is_empty()) {
                        c.created_from = p.to_owned();
                    }
                }
            }
        }
        out
    }

    pub fn offer(&mut self, f: &Flags, now: &Now) -> Result<Outcome, CallError> {
        // Checked in rtpengine's order, so clients see the same first complaint.
        let text = f.sdp.as_deref().ok_or(CallError::NoSdp)?;
        let call_id = f.call_id.as_deref().ok_or(CallError::NoCallId)?;
        let from_tag = f.from_tag.as_deref().ok_or(CallError::NoFromTag)?;
        // A body 10.5 finds nothing in is an offer of no media.
        let session = Session::parse_body(text)?;
        self.check_peer_addresses(&session, f)?;
        refuse_t38_gateway(&session, f)?;
        let is_new = !self.calls.contains_key(call_id);
        if is_new {
            let limit = self.settings.max_sessions;
            if limit >= 0 && self.active_calls() as i64 >= limit {
                return Err(CallError::SessionLimit);
            }
        }
        // Each media section's interfaces follow its own c= family.
        let mut a_ifs = Vec::with_capacity(session.media.len());
        let mut b_ifs = Vec::with_capacity(session.media.len());
        for i in 0..session.media.len().max(1) {
            let fam = sender_family(&session, i);
            a_ifs.push(self.pick_interface(
                f.direction.first().map(String::as_str),
                fam,
                call_id,
            )?);
            let b_family = f.address_family.or(fam);
            b_ifs.push(self.pick_interface(
                f.direction.get(1).map(String::as_str),
                b_family,
                call_id,
            )?);
        }
        if is_new {
            let mut call = Call::new(call_id, now);
            call.dtls = self.dtls.clone();
            self.calls.insert(call_id.to_owned(), call);
        }
        let result =
            self.offer_in_call(call_id, from_tag, f, &session, text, now, (&a_ifs, &b_ifs));
        if result.is_err() && is_new {
            // Nothing of a failed first offer survives (no half-allocated ports).
            if let Some(call) = self.calls.remove(call_id) {
                self.release_call(&call);
            }
        }
        result
    }

    #[allow(clippy::too_many_arguments)]
    fn offer_in_call(
        &mut self,
        call_id: &str,
        from_tag: &str,
        f: &Flags,
        session: &Session,
        text: &str,
        now: &Now,
        (a_ifs, b_ifs): (&[usize], &[usize]),
    ) -> Result<Outcome, CallError> {
        let mut call = self.calls.remove(call_id).expect("inserted by caller");
        call.delete_at = None;
        call.last_signal = now.unix;
        call.last_signal_mono = now.mono;
        let a = match call.find_tag(from_tag) {
            Some(i) => i,
            None => push_monologue(&mut call, from_tag, now),
        };
        let b = match f.to_tag.as_deref() {
            // A to-tag no party has is a new branch with ports of its own,
            // also where the offerer's peer has no tag yet (no answer named
            // it): 10.5's `call_get_monologue_new` sees the peer's tag differ
            // and makes a new party; the earlier one keeps sending to `a`.
            Some(t) => match call.find_tag(t) {
                Some(i) => i,
                None => {
                    let i = push_monologue(&mut call, t, now);
                    call.monologues[i].via_branch = f.via_branch.clone();
                    i
                }
            },
            None => match f.via_branch.as_deref() {
                Some(branch) => branch_of(&mut call, a, branch, now),
                None => match call.monologues[a].peer {
                    Some(p) if !call.monologues[p].deleted => p,
                    _ => push_monologue(&mut call, "", now),
                },
            },
        };
        call.monologues[a].peer = Some(b);
        call.monologues[b].peer = Some(a);
        if f.reset {
            for side in [a, b] {
                reset_medias(
                    &mut call.monologues[side],
                    session.media.len(),
                    &mut self.rng,
                );
            }
        }
        apply_side_flags(&mut call.monologues[a], f, self.settings.endpoint_learning);

        call.monologues[a].mux_flags = f.rtcp_mux;
        let ice_before = remote_ice(&call.monologues[a]);
        // `a_ifs`/`b_ifs` were fresh choices (checked before the call existed);
        // parties already in the call keep theirs as 10.5 does.
        let (a_ifs, b_ifs, a_moved) = match self.choose_interfaces(&call, a, b, session, f) {
            Ok(ifs) => ifs,
            Err(_) => (a_ifs.to_vec(), b_ifs.to_vec(), Vec::new()),
        };
        let ice_status_before = super::media_status::ice_before(&call, a, &a_moved);
        move_logical(&mut call.monologues[a], &a_moved);
        let res = self
            .update_media(&mut call, a, b, &a_ifs, &b_ifs, session, f, true)
            .and_then(|effects| {
                renew_restarted_ice(&mut call.monologues[a], &ice_before, &mut self.rng);
                // The receiver of an offer takes the sender's media id if it has none.
                for (i, section) in session.media.iter().enumerate() {
                    if let Some(m) = call.monologues[b].medias.get_mut(i) {
                        if m.mid.is_none() {
                            m.mid = section.mid.clone();
                        }
                    }
                }
                // 10.5 takes the ports of a sender whose SDP carries ICE on
                // every address at once.
                let reject = f.reject_ice;
                self.reserve_ice_alternates(&mut call, a, None, |m| m.ice && !reject)?;
                self.reserve_ice_alternates(&mut call, b, None, |m| {
                    offer_wants_ice(Some(m), session, f)
                })?;
                Ok(effects)
            });
        let out = res.and_then(|mut effects| {
            offer_codecs(&mut call, a, b, session, f);
            apply_ice_lite(&mut call, a, b, f);
            // The receiver's media as they were before this offer, for those
            // it sends into passthrough.
            let before: Vec<Media> = call.monologues[b].medias.clone();
            enter_passthrough(&mut call, a, b, f);
            let mut plan = self.offer_plan(&call, a, b, session, f);
            advertise_ice_lite(&call.monologues[b], &mut plan);
            super::media_status::after_sdp(&mut call, a, b, session, f, true, &ice_status_before);
            let dtls = call.dtls.clone();
            let entering = entering_passthrough(&call.monologues[b], &before);
            offer_dtls(&mut call, a, b, session, &mut plan, f, &dtls, &entering);
            offer_sdes(&mut call, a, b, session, &mut plan, f, &mut self.rng);
            init_stream_crypto(&mut call, [a, b]);
            passthrough_stream_crypto(&mut call, b, &before, session, &plan, f, &mut self.rng);
            let sdp = sdp::rewrite(text, session, &plan)?;
            start_ice_agents(&mut call.monologues[b], &plan);
            // What the answerer is offered, and the ptime memory of the call.
            for (i, mp) in plan.media.iter().enumerate() {
                if let (Some(m), Some(s)) =
                    (call.monologues[a].medias.get_mut(i), session.media.get(i))
                {
                    m.forwarded_formats = mp.formats.clone().unwrap_or_else(|| s.formats.clone());
                    // Until the answer decides, the offerer muxes if it offered
                    // to, at every offer (10.5 copies the offer's a=rtcp-mux;
                    // `reject` drops it, unless `accept` is given too and we
                    // offer mux onwards: __rtcp_mux_logic looks at `accept`
                    // first then). A rejected section keeps what it had.
                    if s.port != 0 {
                        let mux = &f.rtcp_mux;
                        let rejected = mux.reject && !(mp.rtcp_mux && mux.accept);
                        m.rtcp_mux = s.rtcp_mux && !rejected;
                    }
                }
                // The receiver muxes if we offered it mux (a party already
                // muxing keeps it, as in 10.5), also where `ICE=force-relay`
                // leaves the SDP's own mux lines in place (10.5 offered it
                // all the same). A rejected section (port 0) is left as it
                // was: 10.5 runs its mux logic for sections with a port only.
                if let (Some(m), Some(s)) =
                    (call.monologues[b].medias.get_mut(i), session.media.get(i))
                {
                    if s.port != 0 {
                        m.rtcp_mux |= mp.rtcp_mux || super::plan::offers_mux(s, f);
                    }
                }
            }
            remember_ptimes(&mut call, a, b, session);
            call.monologues[a].last_sdp = Some(text.to_owned());
            effects.extend(self.relay_effects(&call, call_id));
            Ok(Outcome {
                sdp: Some(sdp),
                effects,
            })
        });
        self.calls.insert(call_id.to_owned(), call);
        out
    }

    pub fn answer(&mut self, f: &Flags, now: &Now) -> Result<Outcome, CallError> {
        let text = f.sdp.as_deref().ok_or(CallError::NoSdp)?;
        let call_id = f.call_id.as_deref().ok_or(CallError::NoCallId)?;
        let from_tag = f.from_tag.as_deref().ok_or(CallError::NoFromTag)?;
        let to_tag = f.to_tag.as_deref().ok_or(CallError::NoToTag)?;
        // As an offer's: a body 10.5 finds nothing in answers no media.
        let session = Session::parse_body(text)?;
        self.check_peer_addresses(&session, f)?;
        refuse_t38_gateway(&session, f)?;
        let mut call = self.calls.remove(call_id).ok_or(CallError::UnknownCall)?;
        if call.find_tag(from_tag).is_none() {
            // 10.5 finds the dialogue from the answerer's side: an unknown
            // offerer tag becomes a new party (a new branch) of the answerer,
            // which is created too if it is unknown as well.
            let answerer = match call.find_tag(to_tag) {
                Some(i) => i,
                None => push_monologue(&mut call, to_tag, now),
            };
            let offerer = push_monologue(&mut call, from_tag, now);
            call.monologues[answerer].peer = Some(offerer);
            call.monologues[offerer].peer = Some(answerer);
        }
        let out = self.answer_in_call(&mut call, from_tag, to_tag, f, &session, text, now);
        self.calls.insert(call_id.to_owned(), call);
        out
    }

    #[allow(clippy::too_many_arguments)]
    fn answer_in_call(
        &mut self,
        call: &mut Call,
        from_tag: &str,
        to_tag: &str,
        f: &Flags,
        session: &Session,
        text: &str,
        now: &Now,
    ) -> Result<Outcome, CallError> {
        let a = call.find_tag(from_tag).ok_or(CallError::UnknownCall)?;
        let branch = f.via_branch.as_deref().and_then(|v| {
            call.live()
                .find(|(i, m)| *i != a && m.tag.is_empty() && m.via_branch.as_deref() == Some(v))
                .map(|(i, _)| i)
        });
        // Codec decisions first: an answer needing a transcoder changes nothing.
        let answerer = call.find_tag(to_tag).or(branch).or(call.monologues[a].peer);
        let stores = answer_codecs(call, a, answerer, session, f)?;
        let b = match call.find_tag(to_tag).or(branch) {
            Some(i) if call.monologues[i].tag.is_empty() => {
                call.monologues[i].tag = to_tag.to_owned();
                i
            }
            Some(i) => i,
            None => match call.monologues[a].peer {
                // First answer names the so far untagged callee; a later answer
                // with another to-tag (forking) is a new party that takes the
                // dialogue over, and the earlier one still sends to the offerer
                // (10.5's `call_get_dialogue`).
                Some(p) if call.monologues[p].tag.is_empty() => {
                    call.monologues[p].tag = to_tag.to_owned();
                    p
                }
                _ => push_monologue(call, to_tag, now),
            },
        };
        call.delete_at = None;
        call.last_signal = now.unix;
        call.last_signal_mono = now.mono;
        call.monologues[a].peer = Some(b);
        call.monologues[b].peer = Some(a);
        call.monologues[a].answered = true;
        call.monologues[b].answered = true;
        apply_side_flags(&mut call.monologues[b], f, self.settings.endpoint_learning);
        // The answer's c= family, its `direction` and `address-family` can
        // move either side to another interface (10.5).
        let (b_ifs, a_ifs, b_moved) = self.choose_interfaces(call, b, a, session, f)?;
        let ice_before = super::media_status::ice_before(call, b, &b_moved);
        move_logical(&mut call.monologues[b], &b_moved);
        let first_new = self.next_stream;
        let mut effects = self.update_media(call, b, a, &b_ifs, &a_ifs, session, f, false)?;
        for (i, (sa, sb)) in stores.into_iter().enumerate() {
            if let Some(m) = call.monologues[a].medias.get_mut(i) {
                m.codecs = sa;
            }
            if let Some(m) = call.monologues[b].medias.get_mut(i) {
                m.codecs = sb;
            }
        }
        let ice_mode = f.ice;
        let flag = f.passthrough.is_some();
        let answerer_ice: Vec<bool> = call.monologues[b].medias.iter().map(|m| m.ice).collect();
        let wants = |m: &Media| {
            let answered = answerer_ice
                .get((m.index as usize).saturating_sub(1))
                .copied();
            super::plan::answer_wants_ice(ice_mode, m, answered.unwrap_or(false), flag)
        };
        // An offerer we do no ICE with after all gives its ports on the other
        // addresses back (10.5 truncates the endpoint map); media beyond the
        // answer's sections are left as they are.
        let answered = session.media.len();
        for i in 0..call.monologues[a].medias.len().min(answered) {
            let m = &call.monologues[a].medias[i];
            if !m.ice_alternates.is_empty() && !wants(m) {
                let alternates = std::mem::take(&mut call.monologues[a].medias[i].ice_alternates);
                self.release_alternates(&alternates);
            }
        }
        effects.extend(self.reserve_ice_alternates(call, a, Some(first_new), wants)?);
        let before: Vec<Media> = call.monologues[a].medias.clone();
        enter_passthrough(call, b, a, f);
        let entering = entering_passthrough(&call.monologues[a], &before);
        super::media_status::after_sdp(call, b, a, session, f, false, &ice_before);
        let mut plan = self.answer_plan(call, a, b, session, f);
        advertise_ice_lite(&call.monologues[a], &mut plan);
        let dtls = call.dtls.clone();
        answer_dtls(call, a, b, session, &mut plan, f, &dtls, &entering);
        answer_sdes(call, a, b, session, &mut plan, f, &mut self.rng);
        init_stream_crypto(call, [b, a]);
        let sdp = sdp::rewrite(text, session, &plan)?;
        start_ice_agents(&mut call.monologues[a], &plan);
        remember_ptimes(call, b, a, session);
        call.monologues[b].last_sdp = Some(text.to_owned());
        // Who muxes RTCP from now on: the offerer if we accepted its mux, the
        // answerer if it answered with mux.
        for (i, mp) in plan.media.iter().enumerate() {
            if let Some(m) = call.monologues[a].medias.get_mut(i) {
                m.rtcp_mux = mp.rtcp_mux;
            }
            if let (Some(m), Some(s)) = (call.monologues[b].medias.get_mut(i), session.media.get(i))
            {
                m.rtcp_mux = s.rtcp_mux;
            }
        }
        effects.extend(self.relay_effects(call, &call.id.clone()));
        Ok(Outcome {
            sdp: Some(sdp),
            effects,
        })
    }

    /// Bring `sender`'s and `receiver`'s media in line with `session` (sent by
    /// `sender`): reserve ports, record endpoints, keep existing ports.
    #[allow(clippy::too_many_arguments)]
    fn update_media(
        &mut self,
        call: &mut Call,
        sender: usize,
        receiver: usize,
        s_ifs: &[usize],
        r_ifs: &[usize],
        session: &Session,
        f: &Flags,
        offer: bool,
    ) -> Result<Vec<Effect>, CallError> {
        let mut effects = Vec::new();
        let count = session.media.len();
        // An offer's sections beyond its count are gone: release them. An
        // answer with fewer sections leaves the others as the offer set them
        // up (10.5 keeps them, and shows them in query replies).
        let dropping = if offer {
            vec![sender, receiver]
        } else {
            Vec::new()
        };
        for side in dropping {
            while call.monologues[side].medias.len() > count {
                let mut m = call.monologues[side].medias.pop().expect("len > count");
                effects.extend(Self::hold_extra(&mut call.held_ports, &mut m));
                effects.extend(Self::hold_streams(
                    &mut call.held_ports,
                    m.rtp,
                    m.rtcp,
                    &m.ice_alternates,
                ));
            }
        }
        // Both sides' protocols before this SDP (none for a new media).
        let protocol_of = |side: usize, i: usize| {
            call.monologues[side]
                .medias
                .get(i)
                .map(|m| m.protocol.clone())
        };
        let protocols_before: Vec<(Option<String>, Option<String>)> = (0..count)
            .map(|i| (protocol_of(sender, i), protocol_of(receiver, i)))
            .collect();
        for (i, section) in session.media.iter().enumerate() {
            for (side, iface) in [(sender, s_ifs[i]), (receiver, r_ifs[i])] {
                // Whether we offered the sender mux (the receiver's mux in an
                // answer depends on it), and the receiver's offer flags.
                let sender_mux = call.monologues[sender]
                    .medias
                    .get(i)
                    .is_some_and(|m| m.rtcp_mux);
                let offer_flags = call.monologues[receiver].mux_flags;
                // Where the peer was known to receive before a move to another
                // interface (10.5 keeps the streams, with new sockets).
                let mut known = (None, None);
                // An RTCP stream replaced ports leave behind: 10.5 keeps its
                // socket (and shows it) when the new ports are a single one.
                let mut spare_rtcp = None;
                let mono = &mut call.monologues[side];
                if mono.medias.len() <= i {
                    let adv = self.settings.interfaces[iface].advertised;
                    mono.medias
                        .push(new_media(i, section, iface, adv, &mut self.rng));
                }
                let media = &mut mono.medias[i];
                // A sender whose port count gives it more streams than it
                // has takes new ports (see `regain` below) on its logical
                // interface, which the request may have moved (10.5's new
                // endpoint map is made there: gen/2898).
                let pairs = port_pairs(section);
                let grows = side == sender
                    && section.port != 0
                    && pairs > 1
                    && media.rtp.is_some()
                    && media.extra.len() < usize::from(2 * (pairs - 1));
                let iface = if grows { logical_of(media) } else { iface };
                if media.interface != iface {
                    // Another interface (direction/family changed): new ports
                    // there; the media keeps what it knows (10.5 only takes
                    // new sockets).
                    effects.extend(Self::hold_extra(&mut call.held_ports, media));
                    let old_rtp = media.rtp.take();
                    let old_rtcp = media.rtcp.take();
                    let old_alternates = std::mem::take(&mut media.ice_alternates);
                    media.interface = iface;
                    media.logical_interface = None;
                    media.advertised = self.settings.interfaces[iface].advertised;
                    known = (
                        old_rtp.as_ref().and_then(|s| s.endpoint),
                        old_rtcp.as_ref().and_then(|s| s.endpoint),
                    );
                    effects.extend(Self::hold_streams(
                        &mut call.held_ports,
                        old_rtp,
                        None,
                        &old_alternates,
                    ));
                    spare_rtcp = old_rtcp;
                }
                let media = &mut call.monologues[side].medias[i];
                // The receiver of an offer we now do ICE with, whose ports
                // were taken without ICE (on its own address only), gets new
                // ports on every address of its interface: 10.5's endpoint
                // map has too few interfaces then and is replaced.
                let regain = offer
                    && side == receiver
                    && section.port != 0
                    && media.rtp.is_some()
                    && media.ice_alternates.is_empty()
                    && !self.logical_siblings(iface).is_empty()
                    && offer_wants_ice(Some(media), session, f);
                // The offerer of an answer that took one port in the offer
                // and does not mux after all gets a new pair (10.5's
                // endpoint map has too few ports then).
                let answer_mux_now = !offer
                    && side == receiver
                    && super::plan::answer_mux(media, sender_mux, &offer_flags, section);
                let regain = regain
                    || (!offer
                        && side == receiver
                        && section.port != 0
                        && media_ports(media) == 1
                        && !answer_mux_now);
                // Likewise the receiver of a re-offer that took one port
                // (mux was required of it) and is not known to mux now.
                let regain = regain
                    || (offer
                        && side == receiver
                        && section.port != 0
                        && media_ports(media) == 1
                        && !single_port(media, section, &f.rtcp_mux, false, true, false));
                // A port count asking for more pairs than the media holds
                // ports for: 10.5's endpoint map is too small and replaced.
                // The sender of an SDP whose count gives it more streams
                // than it has: 10.5 makes the new streams a new endpoint
                // map, with new ports (gen/2838: a re-offer with `/2` after
                // an answer without it).
                let regain = regain
                    || (section.port != 0
                        && pairs > 1
                        && media.rtp.is_some()
                        && (media_ports(media) < 2 * pairs
                            || (side == sender
                                && media.extra.len() < usize::from(2 * (pairs - 1)))));
                if regain {
                    effects.extend(Self::hold_extra(&mut call.held_ports, media));
                    let old_rtp = media.rtp.take();
                    let old_rtcp = media.rtcp.take();
                    known = (
                        old_rtp.as_ref().and_then(|s| s.endpoint),
                        old_rtcp.as_ref().and_then(|s| s.endpoint),
                    );
                    effects.extend(Self::hold_streams(&mut call.held_ports, old_rtp, None, &[]));
                    spare_rtcp = old_rtcp;
                }
                let media = &mut call.monologues[side].medias[i];
                if section.port == 0 {
                    effects.extend(Self::hold_extra(&mut call.held_ports, media));
                    let old_rtp = media.rtp.take();
                    let old_rtcp = media.rtcp.take();
                    // The streams stay, without sockets, where they were.
                    if old_rtp.is_some() || old_rtcp.is_some() {
                        let ep = |s: &Option<PacketStream>| s.as_ref().and_then(|s| s.endpoint);
                        media.idle = [ep(&old_rtp), ep(&old_rtcp)];
                    } else if known.0.is_some() || known.1.is_some() {
                        media.idle = [known.0, known.1];
                    }
                    let old_alternates = std::mem::take(&mut media.ice_alternates);
                    effects.extend(Self::hold_streams(
                        &mut call.held_ports,
                        old_rtp,
                        old_rtcp,
                        &old_alternates,
                    ));
                } else if media.rtp.is_none() {
                    let [idle_rtp, idle_rtcp] = std::mem::take(&mut media.idle);
                    let known = (known.0.or(idle_rtp), known.1.or(idle_rtcp));
                    let local_ip = self.settings.interfaces[iface].local;
                    let media = &call.monologues[side].medias[i];
                    // The receiver of an answer: one port if it muxes now.
                    let single = if !offer && side == receiver {
                        answer_mux_now && section.protocol.contains("RTP")
                    } else {
                        let rx_mux = call.monologues[receiver]
                            .medias
                            .get(i)
                            .is_some_and(|m| m.rtcp_mux);
                        single_port(media, section, &f.rtcp_mux, side == sender, offer, rx_mux)
                    };
                    // A port count takes that many consecutive pairs (10.5:
                    // never a single port then).
                    let single = single && pairs == 1;
                    let count = if single { 1 } else { 2 * pairs };
                    let port = self
                        .ports
                        .allocate(local_ip, count)
                        .ok_or(CallError::OutOfPorts)?;
                    let rtp_id = self.next_id();
                    let rtcp_id = self.next_id();
                    let media = &mut call.monologues[side].medias[i];
                    media.status.ports_decided = true;
                    media.status.single_port = single;
                    media.extra_ports = count.saturating_sub(2);
                    // A single port: the RTCP stream has no socket (10.5's
                    // dummy one, port 0).
                    let rtcp_port = if single { 0 } else { port + 1 };
                    media.rtp = Some(PacketStream {
                        id: rtp_id,
                        local: SocketAddr::new(local_ip, port),
                        endpoint: known.0,
                        is_rtcp: false,
                    });
                    media.rtcp = Some(PacketStream {
                        id: rtcp_id,
                        local: SocketAddr::new(local_ip, rtcp_port),
                        endpoint: known.1,
                        is_rtcp: true,
                    });
                    if single {
                        if let Some(kept) = spare_rtcp.take_if(|s| s.local.port() != 0) {
                            media.rtcp = Some(kept);
                        } else if let (Some(old), Some(rtcp)) = (&spare_rtcp, &mut media.rtcp) {
                            // Without a socket before too: 10.5's stream keeps
                            // the address it had (gen/1841, an interface move).
                            rtcp.local = old.local;
                        }
                    }
                }
                effects.extend(Self::hold_streams(
                    &mut call.held_ports,
                    None,
                    spare_rtcp,
                    &[],
                ));
                if section.port != 0 {
                    let media = &mut call.monologues[side].medias[i];
                    effects.extend(self.sync_extra(media, pairs));
                }
            }
            // The sender's endpoints, direction and capabilities come from its SDP.
            let endpoint_ip = self.endpoint_ip(session, i, f);
            let media = &mut call.monologues[sender].medias[i];
            media.media_type = section.media_type.clone();
            let (sender_before, receiver_before) = &protocols_before[i];
            let (sent, received) = protocol::update(
                sender_before.as_deref(),
                receiver_before.as_deref(),
                protocol::Exchange {
                    sdp: &section.protocol,
                    answer: !offer,
                    accept: f.protocol_accept,
                    forced: f.transport_protocol.as_deref(),
                },
            );
            media.protocol = sent;
            media.formats = section.formats.clone();
            media.clock_rates = clock_rates(section);
            media.encodings = encodings(section);
            media.ptime = section.ptime;
            // A later SDP without a=mid keeps the media id (10.5).
            if section.mid.is_some() {
                media.mid = section.mid.clone();
            }
            media.direction = session.direction_for(i);
            media.ice = section.has_ice() || session.ice;
            if media.ice {
                media.ice_lite_peer = session.ice_lite;
            }
            media.trickle_ice = session.trickle_ice(i);
            let (ufrag, pwd) = session.ice_credentials(i);
            let restart = ufrag.is_some() && media.ice_remote_ufrag.as_deref() != ufrag;
            merge_candidates(
                &mut media.remote_candidates,
                &section.ice_candidates,
                restart,
            );
            if let Some(u) = ufrag {
                media.ice_remote_ufrag = Some(u.to_owned());
            }
            if let Some(p) = pwd {
                media.ice_remote_pwd = Some(p.to_owned());
            }
            media.mux_offered = section.rtcp_mux;
            let rtp_endpoint = endpoint_ip.map(|ip| SocketAddr::new(ip, section.port));
            // An a=rtcp address of 0.0.0.0 (browsers write one) means
            // the media's own address, as 10.5 reads it.
            let rtcp_ip = section
                .rtcp
                .as_ref()
                .and_then(|r| r.address.as_ref())
                .and_then(|(_, a)| parse_ip(a))
                .filter(|ip| !ip.is_unspecified())
                .or(endpoint_ip);
            let rtcp_port = section
                .rtcp
                .as_ref()
                .map_or(section.port.wrapping_add(1), |r| r.port);
            let mut rtcp_endpoint = rtcp_ip.map(|ip| SocketAddr::new(ip, rtcp_port));
            // With a port count 10.5 ignores a=rtcp: RTCP is on the port
            // after RTP, and each further pair follows.
            if port_pairs(section) > 1 {
                rtcp_endpoint =
                    endpoint_ip.map(|ip| SocketAddr::new(ip, section.port.wrapping_add(1)));
            }
            for (j, s) in (2u16..).zip(media.extra.iter_mut()) {
                s.endpoint =
                    endpoint_ip.map(|ip| SocketAddr::new(ip, section.port.wrapping_add(j)));
            }
            if let (Some(rtp), Some(rtcp)) = (media.rtp.as_mut(), media.rtcp.as_mut()) {
                rtp.endpoint = rtp_endpoint;
                rtcp.endpoint = rtcp_endpoint;
            } else {
                // Rejected: 10.5 still records the (port 0) address.
                media.idle = [rtp_endpoint, rtcp_endpoint];
            }
            call.monologues[receiver].medias[i].protocol = received;
        }
        Ok(effects)
    }

    /// Where the sender of `session` receives media, per the trust rules.
    /// (`media-address` is what we write into the SDP we send, not where
    /// the sender is: 10.5 uses it for c= and candidates only.)
    pub(super) fn endpoint_ip(&self, session: &Session, i: usize, f: &Flags) -> Option<IpAddr> {
        if self.uses_sip_source(session, i, f) {
            if let Some(ip) = f.received_from {
                return Some(ip);
            }
        }
        session.connection_for(i).and_then(|c| parse_ip(&c.address))
    }

    /// Whether media section `i`'s peer is the SIP source (`received-from`)
    /// rather than its SDP address. 10.5 stops using the SIP source at the
    /// first section doing ICE (a=ice-ufrag, its own or the session's), for
    /// that section and every later one.
    fn uses_sip_source(&self, session: &Session, i: usize, f: &Flags) -> bool {
        let wanted = (self.settings.sip_source || f.sip_source_address) && !f.trust_address;
        wanted
            && !session
                .media
                .iter()
                .take(i + 1)
                .any(|m| session.ice_ufrag || m.ice_ufrag.is_some())
    }

    /// 10.5 refuses an offer or answer whose peer address it cannot tell:
    /// a section that should use the SIP source when no `received-from`
    /// says where that is.
    pub(super) fn check_peer_addresses(
        &self,
        session: &Session,
        f: &Flags,
    ) -> Result<(), CallError> {
        let unknown = (0..session.media.len())
            .any(|i| self.uses_sip_source(session, i, f) && f.received_from.is_none());
        if unknown {
            return Err(CallError::IncompleteSdp);
        }
        Ok(())
    }

    /// The interfaces of the sender of `session` and of its receiver for each
    /// media section, as 10.5's `__init_interface` keeps or changes them: the
    /// sender wants its c= family, the receiver `address-family`, else the
    /// family it already has, else the sender's (a party doing ICE keeps its
    /// family); a media stays on its interface (or a new section on its
    /// party's) unless it wants another family or `direction` (first name
    /// the sender's, second the receiver's) names another interface. Only
    /// the receiver's and new media move: 10.5 takes new sockets for those.
    fn choose_interfaces(
        &self,
        call: &Call,
        sender: usize,
        receiver: usize,
        session: &Session,
        f: &Flags,
    ) -> Result<InterfaceChoice, CallError> {
        let ifs = &self.settings.interfaces;
        let family_of = |i: usize| Family::of(&ifs[i].local);
        let current = |side: usize, i: usize| {
            let medias = &call.monologues[side].medias;
            medias.get(i).or(medias.first()).map(logical_of)
        };
        let (s_name, r_name) = (
            f.direction.first().map(String::as_str),
            f.direction.get(1).map(String::as_str),
        );
        let mut s_ifs = Vec::with_capacity(session.media.len());
        let mut r_ifs = Vec::with_capacity(session.media.len());
        let mut s_moved = Vec::with_capacity(session.media.len());
        for i in 0..session.media.len() {
            let s_family = match call.monologues[sender].medias.get(i) {
                Some(m) if m.ice || m.ice_agent => Some(family_of(m.interface)),
                _ => sender_family(session, i),
            };
            let r_family = match call.monologues[receiver].medias.get(i) {
                // 10.5 keeps the desired family of a receiver whose ICE flag
                // is on from its last SDP: an answer without ICE turned it
                // off, and the answerer's own address set its family then.
                Some(m) if m.status.ice => Some(family_of(m.interface)),
                // 10.5's desired family of a party is that of the address it
                // last gave (its endpoint), else the one it was given.
                Some(m) => f
                    .address_family
                    .or(m
                        .rtp
                        .as_ref()
                        .and_then(|s| s.endpoint)
                        .map(|e| Family::of(&e.ip())))
                    .or(Some(family_of(m.interface))),
                None => f.address_family.or(s_family),
            };
            // 10.5 binds sockets only for the receiver (and for new media): a
            // sender's media keeps the sockets, so the address, it has.
            // Its logical interface still follows the request, which is what
            // 10.5's ICE agent compares to tell a restart.
            s_ifs.push(match call.monologues[sender].medias.get(i) {
                Some(m) => {
                    let cur = logical_of(m);
                    let logical = self.keep_or_pick(Some(cur), s_name, s_family, &call.id);
                    s_moved.push(logical.ok().filter(|&l| l != cur));
                    m.interface
                }
                None => {
                    s_moved.push(None);
                    self.keep_or_pick(current(sender, i), s_name, s_family, &call.id)?
                }
            });
            r_ifs.push(self.keep_or_pick(current(receiver, i), r_name, r_family, &call.id)?);
        }
        Ok((s_ifs, r_ifs, s_moved))
    }

    /// `current` unless `family` is another or `name` names an interface
    /// other than `current` (or its round-robin group); else a fresh choice.
    fn keep_or_pick(
        &self,
        current: Option<usize>,
        name: Option<&str>,
        family: Option<Family>,
        call_id: &str,
    ) -> Result<usize, CallError> {
        if let Some(cur) = current {
            let iface = &self.settings.interfaces[cur];
            let same_family = family.is_none_or(|fam| Family::of(&iface.local) == fam);
            // Every logical interface is a member of `round-robin-calls`.
            let same_name = name.is_none_or(|n| {
                n == iface.name || n == iface.base_name() || n == ROUND_ROBIN_CALLS
            });
            if same_family && same_name {
                return Ok(cur);
            }
        }
        self.pick_interface(name, family, call_id)
    }

    pub(super) fn pick_interface(
        &self,
        name: Option<&str>,
        family: Option<Family>,
        call_id: &str,
    ) -> Result<usize, CallError> {
        let ifs = &self.settings.interfaces;
        let member = round_robin_member(ifs, name, family, call_id);
        let name = member.or(name);
        let known_name = name.is_some_and(|n| ifs.iter().any(|i| i.name == n));
        let named: Vec<usize> = match name {
            Some(n) if ifs.iter().any(|i| i.name == n) => {
                (0..ifs.len()).filter(|&i| ifs[i].name == n).collect()
            }
            _ => (0..ifs.len()).collect(),
        };
        match family {
            None => named.first().copied().ok_or(CallError::NoInterface("any")),
            Some(fam) => named
                .iter()
                .copied()
                .find(|&i| Family::of(&ifs[i].local) == fam)
                // A named interface without that family is still the one
                // (10.5 looks the name up in the other families).
                .or_else(|| named.first().copied().filter(|_| known_name))
                // No interface of that family at all: 10.5 warns "Requested
                // address family not supported" and takes its default, the
                // first IPv4 interface, or the first IPv6 one if none.
                .or_else(|| {
                    let first_of = |f| (0..ifs.len()).find(|&i| Family::of(&ifs[i].local) == f);
                    first_of(Family::V4).or_else(|| first_of(Family::V6))
                })
                .ok_or(CallError::NoInterface(if fam == Family::V4 {
                    "IP4"
                } else {
                    "IP6"
                })),
        }
    }

    pub(super) fn next_id(&mut self) -> StreamId {
        let id = StreamId(self.next_stream);
        self.next_stream += 1;
        id
    }

    pub(super) fn release_streams(
        &mut self,
        rtp: Option<PacketStream>,
        rtcp: Option<PacketStream>,
        _iface: usize,
    ) -> Vec<Effect> {
        let mut effects = Vec::new();
        if let Some(r) = &rtp {
            self.ports.release(r.local.ip(), r.local.port());
            effects.push(Effect::Close(r.id));
        }
        if let Some(r) = &rtcp {
            if r.local.port() != 0 {
                self.ports.release(r.local.ip(), r.local.port());
            }
            effects.push(Effect::Close(r.id));
        }
        effects
    }

    /// Streams (and ICE alternates) a call stops using while it goes on:
    /// their sockets close, their ports stay the call's until it ends
    /// (`Call::held_ports`).
    fn hold_streams(
        held: &mut Vec<SocketAddr>,
        rtp: Option<PacketStream>,
        rtcp: Option<PacketStream>,
        alternates: &[IceAlternate],
    ) -> Vec<Effect> {
        let mut effects = Vec::new();
        for s in rtp.iter().chain(rtcp.iter()) {
            if s.local.port() != 0 {
                held.push(s.local);
            }
            effects.push(Effect::Close(s.id));
        }
        for alt in alternates {
            held.extend(
                (alt.local.port()..alt.local.port() + alt.ports)
                    .map(|p| SocketAddr::new(alt.local.ip(), p)),
            );
        }
        effects
    }

    pub(super) fn release_media(&mut self, m: &Media) -> Vec<Effect> {
        self.release_alternates(&m.ice_alternates);
        let mut effects: Vec<Effect> = m.extra.iter().map(|s| Effect::Close(s.id)).collect();
        if let Some(rtp) = &m.rtp {
            let base = rtp.local.port() + 2;
            for port in base..base + m.extra_ports {
                self.ports.release(rtp.local.ip(), port);
            }
        }
        effects.extend(self.release_streams(m.rtp.clone(), m.rtcp.clone(), m.interface));
        effects
    }

    /// Closes the streams of a media's further pairs (`m=audio P/2`) and
    /// keeps their ports the call's until it ends, as its other replaced
    /// ports. Called before the media's RTP stream goes.
    fn hold_extra(held: &mut Vec<SocketAddr>, media: &mut Media) -> Vec<Effect> {
        let effects = media.extra.drain(..).map(|s| Effect::Close(s.id)).collect();
        if let Some(rtp) = &media.rtp {
            let base = rtp.local.port() + 2;
            held.extend(
                (base..base + media.extra_ports).map(|p| SocketAddr::new(rtp.local.ip(), p)),
            );
        }
        media.extra_ports = 0;
        effects
    }

    /// Gives a media the streams of `pairs` RTP/RTCP pairs, as 10.5 sets a
    /// media's stream count from each SDP: further pairs on the ports it
    /// holds after its first pair, streams beyond the count closed (their
    /// ports stay the media's).
    fn sync_extra(&mut self, media: &mut Media, pairs: u16) -> Vec<Effect> {
        let want = usize::from(2 * (pairs - 1)).min(usize::from(media.extra_ports));
        let mut effects = Vec::new();
        let Some(rtp) = media.rtp.as_ref().map(|s| s.local) else {
            return effects;
        };
        if media.extra.len() > want {
            effects.extend(media.extra.drain(want..).map(|s| Effect::Close(s.id)));
        }
        for j in media.extra.len()..want {
            let offset = 2 + u16::try_from(j).unwrap_or(0);
            let id = self.next_id();
            media.extra.push(PacketStream {
                id,
                local: SocketAddr::new(rtp.ip(), rtp.port() + offset),
                endpoint: None,
                is_rtcp: j % 2 == 1,
            });
        }
        effects
    }

    fn release_alternates(&mut self, alternates: &[IceAlternate]) {
        for alt in alternates {
            for port in alt.local.port()..alt.local.port() + alt.ports {
                self.ports.release(alt.local.ip(), port);
            }
        }
    }

    /// Reserve a port pair on every other address of each media's logical
    /// interface (rtpengine advertises all of them as ICE host candidates) for
    /// the media of `side` that we do ICE with. With `renew_before`, a media
    /// whose SDP carried no ICE and whose streams are older than that id
    /// (taken by an earlier request) gets new ports on its own address too:
    /// 10.5's endpoint map has too few interfaces then and takes new sockets
    /// on all of them, holding the old ones until the call ends.
    fn reserve_ice_alternates(
        &mut self,
        call: &mut Call,
        side: usize,
        renew_before: Option<u64>,
        wants_ice: impl Fn(&Media) -> bool,
    ) -> Result<Vec<Effect>, CallError> {
        let mut effects = Vec::new();
        for i in 0..call.monologues[side].medias.len() {
            let media = &call.monologues[side].medias[i];
            if media.rtp.is_none() || !media.ice_alternates.is_empty() || !wants_ice(media) {
                continue;
            }
            let iface = media.interface;
            // As many ports as the media has on its own address (10.5 takes
            // them on every address of the logical interface alike).
            let count = media_ports(media);
            let siblings = self.logical_siblings(iface);
            if siblings.is_empty() {
                continue;
            }
            // A side whose own SDP carried ICE had its ports taken on every
            // address from the start in 10.5.
            let old = media
                .rtp
                .as_ref()
                .filter(|s| !media.ice && renew_before.is_some_and(|b| s.id.0 < b));
            // New ports are counted as 10.5's `proto_num_ports` counts them
            // for this request: one for a side that muxes by now (the
            // offerer of an answer), its RTCP stream keeping its socket.
            let count = if old.is_some()
                && media.rtcp_mux
                && media.extra.is_empty()
                && media.protocol.contains("RTP")
            {
                1
            } else {
                count
            };
            if let Some(old) = old {
                let local_ip = old.local.ip();
                let port = self
                    .ports
                    .allocate(local_ip, count)
                    .ok_or(CallError::OutOfPorts)?;
                let rtp_id = self.next_id();
                let media = &mut call.monologues[side].medias[i];
                // The further pairs of a port count move along.
                let extra_streams = media.extra.len();
                let extra_ports = media.extra_ports;
                effects.extend(Self::hold_extra(&mut call.held_ports, media));
                let old_rtp = media.rtp.take().expect("checked");
                media.rtp = Some(PacketStream {
                    id: rtp_id,
                    local: SocketAddr::new(local_ip, port),
                    ..old_rtp
                });
                // A single port: the RTCP stream keeps what it had.
                let mut old_rtcp = None;
                if count > 1 {
                    if let Some(rtcp) = media.rtcp.take() {
                        let rtcp_id = self.next_id();
                        let media = &mut call.monologues[side].medias[i];
                        media.rtcp = Some(PacketStream {
                            id: rtcp_id,
                            local: SocketAddr::new(local_ip, port + 1),
                            ..rtcp
                        });
                        old_rtcp = Some(rtcp);
                    }
                }
                let media = &mut call.monologues[side].medias[i];
                media.extra_ports = extra_ports;
                let pairs = u16::try_from(extra_streams / 2 + 1).unwrap_or(1);
                effects.extend(self.sync_extra(media, pairs));
                effects.extend(Self::hold_streams(
                    &mut call.held_ports,
                    Some(old_rtp),
                    old_rtcp,
                    &[],
                ));
            }
            let mut alternates = Vec::new();
            for other in siblings {
                let local_ip = self.settings.interfaces[other].local;
                let Some(port) = self.ports.allocate(local_ip, count) else {
                    self.release_alternates(&alternates);
                    return Err(CallError::OutOfPorts);
                };
                alternates.push(IceAlternate {
                    interface: other,
                    local: SocketAddr::new(local_ip, port),
                    ports: count,
                    advertised: self.settings.interfaces[other].advertised,
                });
            }
            call.monologues[side].medias[i].ice_alternates = alternates;
        }
        Ok(effects)
    }

    /// The other interfaces with the same logical name as `iface`, in
    /// configuration order.
    pub(super) fn logical_siblings(&self, iface: usize) -> Vec<usize> {
        let ifs = &self.settings.interfaces;
        (0..ifs.len())
            .filter(|&i| {
                i != iface && ifs[i].name == ifs[iface].name && ifs[i].local != ifs[iface].local
            })
            .collect()
    }

    /// Relay configuration of every stream of a call (idempotent for the relay).
    pub fn relay_effects(&self, call: &Call, call_id: &str) -> Vec<Effect> {
        let mut out = Vec::new();
        for (index, mono) in call.live() {
            let peer = mono.peer.map(|p| &call.monologues[p]);
            // Its pub/sub subscribers get copies; a party in no dialogue (a
            // publisher) sends to its first subscriber instead of a peer.
            let mut subscribers = media_subscribers(call, index);
            let first = match peer {
                Some(_) => None,
                None => (!subscribers.is_empty()).then(|| subscribers.remove(0)),
            };
            // A subscriber with `RTCP-mirror` sends its RTCP to the party.
            let mirror = match (peer, first) {
                (None, None) => rtcp_mirror_of(call, index),
                _ => None,
            };
            for (i, media) in mono.medias.iter().enumerate() {
                let peer_media = match first {
                    Some((s, offset)) => call.monologues[s].medias.get(offset + i),
                    None => peer.and_then(|p| p.medias.get(i)),
                };
                let mirrored = mirror.and_then(|(s, offset)| {
                    i.checked_sub(offset)
                        .and_then(|k| call.monologues[s].medias.get(k))
                });
                let copy_of = |rtcp: bool| -> Vec<StreamId> {
                    subscribers
                        .iter()
                        .filter_map(|&(s, offset)| call.monologues[s].medias.get(offset + i))
                        .filter_map(|m| {
                            if rtcp && !m.rtcp_mux {
                                m.rtcp.as_ref()
                            } else {
                                m.rtp.as_ref()
                            }
                        })
                        .map(|s| s.id)
                        .collect()
                };
                let peer_rtp = peer_media.and_then(|m| m.rtp.as_ref()).map(|s| s.id);
                // A muxing peer, or one with a single port, takes its RTCP
                // on its RTP port.
                let peer_rtcp = peer_media.or(mirrored).and_then(|m| {
                    if m.rtcp_mux || media_ports(m) < 2 {
                        m.rtp.as_ref()
                    } else {
                        m.rtcp.as_ref()
                    }
                    .map(|s| s.id)
                });
                // An RTCP stream without a port of its own has no socket.
                let with_socket = |s: &&PacketStream| s.local.port() != 0;
                let mut routes = Vec::new();
                for s in media
                    .rtp
                    .iter()
                    .chain(media.rtcp.iter().filter(with_socket))
                {
                    let (sink, rtcp_sink) = if s.is_rtcp {
                        (peer_rtcp, None)
                    } else {
                        (peer_rtp, peer_rtcp)
                    };
                    // A muxing side's RTCP goes to its RTP endpoint.
                    let endpoint = if s.is_rtcp && media.rtcp_mux {
                        media.rtp.as_ref().and_then(|r| r.endpoint)
                    } else {
                        s.endpoint
                    };
                    routes.push((s, sink, rtcp_sink, endpoint));
                }
                // The further pairs of a port count go to the peer's pair
                // of the same number (10.5's `__init_streams` walks both
                // stream lists alike); none if the peer has fewer.
                let peer_extra = peer_media.map_or(&[][..], |m| m.extra.as_slice());
                let peer_muxes = peer_media.is_some_and(|m| m.rtcp_mux);
                for (j, s) in media.extra.iter().enumerate() {
                    let pair = j - j % 2;
                    let peer_rtp = peer_extra.get(pair).map(|p| p.id);
                    let peer_rtcp = if peer_muxes {
                        peer_rtp
                    } else {
                        peer_extra.get(pair + 1).map(|p| p.id)
                    };
                    let (sink, rtcp_sink) = if s.is_rtcp {
                        (peer_rtcp, None)
                    } else {
                        (peer_rtp, peer_rtcp)
                    };
                    routes.push((s, sink, rtcp_sink, s.endpoint));
                }
                for (s, sink, rtcp_sink, endpoint) in routes {
                    out.push(Effect::Relay(StreamConfig {
                        id: s.id,
                        call_id: call_id.to_owned(),
                        tag: mono.tag.clone(),
                        local: s.local,
                        is_rtcp: s.is_rtcp,
                        sink,
                        rtcp_sink,
                        copies: copy_of(s.is_rtcp),
                        endpoint,
                        sip_source: mono.sip_source,
                        learning: mono.learning,
                        tos: mono.tos.or(self.settings.tos),
                        kernel: KernelHints {
                            rtp: media.protocol.contains("RTP"),
                            payload_types: media.clock_rates.clone(),
                            stun: media.ice_agent,
                            // 10.5: the media's DTLS flag; UDP/TLS profiles too
                            // (passthrough clears it: DTLS is forwarded).
                            dtls: !media.passthru
                                && (media.dtls.enabled || media.protocol.contains("TLS")),
                            srtp_in: media
                                .sdes
                                .keys
                                .as_ref()
                                .map(|k| Box::new(k.suite.srtp_params(&k.rx))),
                            srtp_out: media
                                .sdes
                                .keys
                                .as_ref()
                                .map(|k| Box::new(k.suite.srtp_params(&k.tx))),
                        },
                        ice: media.ice_agent.then(|| IceCredentials {
                            ufrag: media.ice_ufrag.clone(),
                            pwd: media.ice_pwd.clone(),
                            remote_ufrag: media.ice_remote_ufrag.clone(),
                            remote_pwd: media.ice_remote_pwd.clone(),
                            controlling: media.ice_controlling,
                            lite: media.ice_lite_self,
                            remote_candidates: media
                                .remote_candidates
                                .iter()
                                .filter(|c| c.component == if s.is_rtcp { 2 } else { 1 })
                                .cloned()
                                .collect(),
                        }),
                        // Passthrough: DTLS flags a request left show in
                        // query replies only, no session of ours.
                        dtls: if media.passthru {
                            None
                        } else {
                            media.dtls.params(endpoint_known(media))
                        },
                        srtp_resume: (media.sdes.keys.is_some() && !mono.srtp_resume.is_empty())
                            .then(|| Box::new(mono.srtp_resume.clone())),
                        control: MediaControl {
                            record: call.recording,
                            ..if s.is_rtcp {
                                MediaControl::default()
                            } else {
                                media_control(mono.controls.with(call.controls), &media.encodings)
                            }
                        },
                    }));
                }
            }
        }
        out
    }

    /// Release every port of a call; the returned effects close its sockets.
    pub(super) fn release_call(&mut self, call: &Call) -> Vec<Effect> {
        let mut effects = Vec::new();
        for p in &call.held_ports {
            self.ports.release(p.ip(), p.port());
        }
        for m in call.monologues.iter().flat_map(|m| m.medias.iter()) {
            effects.extend(self.release_media(m));
        }
        effects
    }

    pub(super) fn remember_deleted(&mut self, call_id: &str, now: Instant) {
        while let Some((t, _)) = self.deleted_order.front() {
            if now.duration_since(*t) < DELETED_MEMORY {
                break;
            }
            let (t, id) = self.deleted_order.pop_front().expect("front exists");
            // A call-id deleted again since has a later entry: keep it.
            if self.recently_deleted.get(&id) == Some(&t) {
                self.recently_deleted.remove(&id);
            }
        }
        self.recently_deleted.insert(call_id.to_owned(), now);
        self.deleted_order.push_back((now, call_id.to_owned()));
    }

    pub(super) fn was_deleted(&self, call_id: &str, now: Instant) -> bool {
        self.recently_deleted
            .get(call_id)
            .is_some_and(|t| now.duration_since(*t) < DELETED_MEMORY)
    }
}

/// The live `pub/sub` subscribers of `party` that receive its media (not
/// `RTCP-mirror` ones), each with where `party`'s medias start among its
/// medias (after those of its earlier subscriptions).
fn media_subscribers(call: &Call, party: usize) -> Vec<(usize, usize)> {
    call.live()
        .filter_map(|(s, m)| {
            let at = m
                .subscriptions
                .iter()
                .position(|sub| sub.from == party && !sub.rtcp_only)?;
            let offset = m.subscriptions[..at]
                .iter()
                .map(|sub| call.monologues[sub.from].medias.len())
                .sum();
            Some((s, offset))
        })
        .collect()
}

/// The party a subscriber mirrors its RTCP to (a `RTCP-mirror`
/// subscription of that party to it), with where that party's medias start
/// among the subscriber's.
fn rtcp_mirror_of(call: &Call, subscriber: usize) -> Option<(usize, usize)> {
    let (source, _) = call.live().find(|(_, m)| {
        m.subscriptions
            .iter()
            .any(|s| s.from == subscriber && s.rtcp_only)
    })?;
    let subs = &call.monologues[subscriber].subscriptions;
    let at = subs.iter().position(|s| s.from == source)?;
    let offset = subs[..at]
        .iter()
        .map(|s| call.monologues[s.from].medias.len())
        .sum();
    Some((source, offset))
}

/// The direction (interface name) that spreads calls over every logical
/// interface serving the family, in configuration order.
const ROUND_ROBIN_CALLS: &str = "round-robin-calls";

/// The member of a round-robin group (`--interface=BASE:N/...`, or every logical
/// interface for `round-robin-calls`) a call gets: when the call asks for BASE,
/// or for no interface while the first configured one is a group member and the
/// family is known (10.5's rule). 10.5 hands the members out in turn; here the
/// call-id picks one, so calls spread over the members alike and a re-INVITE (or
/// a restart) keeps its call on the same member.
fn round_robin_member<'a>(
    ifs: &'a [Interface],
    name: Option<&str>,
    family: Option<Family>,
    call_id: &str,
) -> Option<&'a str> {
    let base = match name {
        Some(n) if ifs.iter().any(|i| i.name == n) => return None,
        Some(n) => n,
        None => {
            let first = ifs.first()?;
            if family.is_none() || first.base_name() == first.name {
                return None;
            }
            first.base_name()
        }
    };
    // 10.5's name for the group of every logical interface.
    let every = base == ROUND_ROBIN_CALLS;
    let mut members: Vec<&str> = Vec::new();
    for i in ifs {
        let serves = family.is_none_or(|f| Family::of(&i.local) == f);
        let member = every || (i.base_name() == base && i.base_name() != i.name);
        if member && serves && !members.contains(&i.name.as_str()) {
            members.push(&i.name);
        }
    }
    if members.is_empty() {
        return None;
    }
    // FNV-1a: stable across runs and builds, unlike std's RandomState.
    let hash = call_id.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    Some(members[(hash % members.len() as u64) as usize])
}

/// The party an initial offer from `a` with Via branch `branch` goes to, as
/// 10.5 picks it: the party it went to before if that one has no branch yet
/// (it is tagged with this one) or has this branch, a party seen with this
/// branch before, or a new party for a new branch (a forked offer).
fn branch_of(call: &mut Call, a: usize, branch: &str, now: &Now) -> usize {
    if let Some(p) = call.monologues[a]
        .peer
        .filter(|&p| !call.monologues[p].deleted)
    {
        match call.monologues[p].via_branch.as_deref() {
            None => {
                call.monologues[p].via_branch = Some(branch.to_owned());
                return p;
            }
            Some(b) if b == branch => return p,
            Some(_) => {}
        }
    }
    if let Some((i, _)) = call
        .live()
        .find(|(i, m)| *i != a && m.via_branch.as_deref() == Some(branch))
    {
        return i;
    }
    let i = push_monologue(call, "", now);
    call.monologues[i].via_branch = Some(branch.to_owned());
    i
}

fn push_monologue(call: &mut Call, tag: &str, now: &Now) -> usize {
    call.monologues.push(Monologue::new(tag, now));
    call.monologues.len() - 1
}

pub(super) fn apply_side_flags(m: &mut Monologue, f: &Flags, mode: LearningMode) {
    m.learning = Learning {
        mode: f.endpoint_learning.unwrap_or(mode),
        // 10.5 has no `symmetric` flag: `asymmetric` holds beside it.
        asymmetric: f.asymmetric,
        strict_source: f.strict_source,
        media_handover: f.media_handover,
    };
    if let Some(t) = f.tos {
        m.tos = t;
    }
    // Kept when a later message lacks it: the party's last known SIP source.
    if f.received_from.is_some() {
        m.sip_source = f.received_from;
    }
    if f.label.is_some() {
        m.label = f.label.clone();
    }
}

/// The family of media `i`'s sender: its own (or the session's) `c=`, else
/// the first media's that has one. (`media-address` plays no part: 10.5 only
/// writes it into the SDP.)
pub(super) fn sender_family(session: &Session, i: usize) -> Option<Family> {
    session
        .connection_for(i)
        .or_else(|| (0..session.media.len()).find_map(|i| session.connection_for(i)))
        .or(session.connection.as_ref())
        .map(|c| match c.family {
            sdp::AddressFamily::Ip4 => Family::V4,
            sdp::AddressFamily::Ip6 => Family::V6,
        })
}

pub(super) fn parse_ip(s: &str) -> Option<IpAddr> {
    let s = s.split('/').next().unwrap_or(s);
    s.trim_matches(['[', ']']).parse().ok()
}

/// Payload types and clock rates of a section: its rtpmaps, else the static table
/// (0 when unknown: the kernel only uses it for statistics).
pub(super) fn clock_rates(section: &sdp::MediaSection) -> Vec<(u8, u32)> {
    section
        .formats
        .iter()
        .filter_map(|f| {
            let pt: u8 = f.parse().ok().filter(|pt| *pt < 128)?;
            let rate = section
                .rtpmaps
                .iter()
                .find(|m| m.payload_type == *f)
                .map(|m| m.clock_rate)
                .or_else(|| sdp::static_payload_type(f).map(|(_, r, _)| r))
                .unwrap_or(0);
            Some((pt, rate))
        })
        .collect()
}

/// Payload types and encoding names of a section: its rtpmaps, else the
/// static table.
pub(super) fn encodings(section: &sdp::MediaSection) -> Vec<(u8, String)> {
    section
        .formats
        .iter()
        .filter_map(|f| {
            let pt: u8 = f.parse().ok().filter(|pt| *pt < 128)?;
            let name = section
                .rtpmaps
                .iter()
                .find(|m| m.payload_type == *f)
                .map(|m| m.encoding.clone())
                .or_else(|| sdp::static_payload_type(f).map(|(n, _, _)| n.to_owned()))?;
            Some((pt, name))
        })
        .collect()
}

/// The media controls of `c` for media whose sender uses `encodings`.
fn media_control(c: Controls, encodings: &[(u8, String)]) -> MediaControl {
    let named = |name: &'static str| {
        encodings
            .iter()
            .filter(move |(_, e)| e.eq_ignore_ascii_case(name))
            .map(|(pt, _)| *pt)
    };
    MediaControl {
        block_media: c.block_media,
        silence: if c.silence_media {
            named("PCMU")
                .map(|pt| (pt, 0xff))
                .chain(named("PCMA").map(|pt| (pt, 0xd5)))
                .collect()
        } else {
            Vec::new()
        },
        drop_payload_types: if c.block_dtmf {
            named("telephone-event").collect()
        } else {
            Vec::new()
        },
        record: false,
        intercept: None,
    }
}

/// How many ports a media holds on its own address: its RTP port, and its
/// RTCP port unless it took a single one.
/// The consecutive ports a media holds from its RTP port on: its first
/// pair (or single port) and those of the further pairs of a port count.
pub(super) fn media_ports(m: &Media) -> u16 {
    match (&m.rtp, &m.rtcp) {
        (Some(_), Some(r)) if r.local.port() != 0 => 2 + m.extra_ports,
        (Some(_), _) => 1,
        _ => 0,
    }
}

/// The RTP/RTCP pairs an `m=` line asks for (`m=audio P/2`: two); 10.5
/// refuses counts over 10 when it parses the SDP.
pub(super) fn port_pairs(section: &sdp::MediaSection) -> u16 {
    section
        .port_count
        .and_then(|n| u16::try_from(n).ok())
        .filter(|n| (1..=10).contains(n))
        .unwrap_or(1)
}

/// 10.5's `proto_num_ports`: whether a media takes one port instead of an
/// RTP/RTCP pair, i.e. is known to mux RTCP when its ports are taken. The
/// sender of the SDP muxes if it says so and the offer's flags accept
/// (`demux`, `accept`) or this is an answer; the receiver of an offer if
/// mux is required of it or it muxes already (a re-offer).
fn single_port(
    media: &Media,
    section: &sdp::MediaSection,
    mux: &crate::ng::flags::RtcpMuxFlags,
    sender: bool,
    offer: bool,
    receiver_muxes: bool,
) -> bool {
    if !section.protocol.contains("RTP") {
        return false;
    }
    if sender {
        // `reject` unmuxes the offerer before its ports are taken, unless
        // mux goes onwards and `accept` keeps it (10.5's __rtcp_mux_logic).
        let onwards =
            receiver_muxes || (section.rtcp_mux && !mux.demux) || mux.offer || mux.require;
        let rejected = offer && mux.reject && !(onwards && mux.accept);
        section.rtcp_mux && !rejected && (!offer || mux.demux || mux.accept)
    } else {
        // (The receiver of an answer: see `plan::answer_mux`.)
        mux.require || media.rtcp_mux
    }
}

pub(super) fn new_media(
    i: usize,
    section: &sdp::MediaSection,
    iface: usize,
    advertised: IpAddr,
    rng: &mut dyn CryptoRng,
) -> Media {
    Media {
        index: u32::try_from(i + 1).unwrap_or(u32::MAX),
        media_type: section.media_type.clone(),
        protocol: section.protocol.clone(),
        formats: section.formats.clone(),
        clock_rates: clock_rates(section),
        encodings: encodings(section),
        ptime: section.ptime,
        ptime_memory: None,
        mid: section.mid.clone(),
        interface: iface,
        advertised,
        rtp: None,
        rtcp: None,
        mux_offered: false,
        rtcp_mux: false,
        direction: sdp::Direction::SendRecv,
        ice: false,
        trickle_ice: false,
        // Our ICE credentials towards this side, stable for the call's lifetime.
        ice_ufrag: random_token(rng, 8),
        ice_pwd: random_token(rng, 26),
        ice_agent: false,
        ice_started: false,
        passthru: false,
        ice_controlling: false,
        status: Default::default(),
        idle: [None, None],
        ice_lite_self: false,
        ice_lite_peer: false,
        logical_interface: None,
        ice_remote_ufrag: None,
        ice_remote_pwd: None,
        ice_alternates: Vec::new(),
        extra: Vec::new(),
        extra_ports: 0,
        forwarded_formats: section.formats.clone(),
        codecs: super::codecs::CodecStore::new(section.is_rtp(), section.media_type == "audio"),
        sdes: Default::default(),
        dtls: Default::default(),
        remote_candidates: Vec::new(),
    }
}

/// The ng SDES options; unknown items are logged and ignored (as in 10.5).
pub(super) fn sdes_options(f: &Flags) -> SdesOptions {
    let options = SdesOptions::from_ng(f.sdes.iter().map(String::as_str));
    for item in &options.ignored {
        tracing::warn!(item = %item, "unknown SDES option or crypto suite ignored");
    }
    options
}

/// SDES for an offer from `a` to `b`: our `a=crypto` lines per section (into
/// the plan and `b`'s state) and `a`'s own lines (kept for the answer).
pub(super) fn offer_sdes(
    call: &mut Call,
    a: usize,
    b: usize,
    session: &Session,
    plan: &mut sdp::RewritePlan,
    f: &Flags,
    rng: &mut dyn CryptoRng,
) {
    let options = sdes_options(f);
    for (i, (section, mp)) in session.media.iter().zip(plan.media.iter_mut()).enumerate() {
        let out_protocol = sdes_protocol(mp.protocol.as_deref().unwrap_or(&section.protocol));
        let passthru = call.monologues[b].medias.get(i).is_some_and(|m| m.passthru);
        let previous = call.monologues[b]
            .medias
            .get(i)
            .map(|m| m.sdes.sent.clone())
            .unwrap_or_default();
        // 10.5 decides DTLS and SDES once for a side (`MediaDtls::offer_to`):
        // a side that answered with DTLS only gets no SDES in a re-offer.
        let sdes_on = call.monologues[b]
            .medias
            .get(i)
            .is_none_or(|m| m.dtls.sdes || !srtp::session::is_sdes_protocol(out_protocol));
        // `SDES: off` counts only while a side gets its first SRTP offer
        // (`MediaDtls::offer_to`): a side doing SDES already is offered it
        // again in full (10.5's __generate_crypto).
        let doing_sdes = call.monologues[b]
            .medias
            .get(i)
            .is_some_and(|m| m.dtls.sdes);
        let mut side_options = options.clone();
        side_options.off &= !doing_sdes;
        let lines = if mp.port == 0 || passthru {
            // Passthrough: the party's a=crypto stay in place, no keys of ours.
            None
        } else if !sdes_on {
            Some(Vec::new())
        } else {
            srtp::session::offer_lines(&section.crypto, &previous, out_protocol, &side_options, rng)
        };
        mp.crypto = lines
            .as_ref()
            .map(|l| l.iter().map(|c| options.print(c)).collect());
        if let Some(m) = call.monologues[a].medias.get_mut(i) {
            m.sdes.remote = section.crypto.clone();
            if section.port != 0 {
                srtp::session::accept_sent(&mut m.sdes.sent, &section.crypto, &options);
            }
        }
        if let Some(m) = call.monologues[b].medias.get_mut(i) {
            // Toward a side now spoken to in plain RTP, 10.5's streams keep
            // the SDES suite they had (query shows it): keep what we sent.
            let plain = mp.port != 0 && !passthru && !srtp::session::is_sdes_protocol(out_protocol);
            if !plain {
                m.sdes.sent = lines.unwrap_or_default();
            }
        }
    }
}

/// SDES for the answer from `b` back to `a`: our line for `a`, then the keys
/// both sides use from now on.
fn answer_sdes(
    call: &mut Call,
    a: usize,
    b: usize,
    session: &Session,
    plan: &mut sdp::RewritePlan,
    f: &Flags,
    rng: &mut dyn CryptoRng,
) {
    let options = sdes_options(f);
    for (i, (section, mp)) in session.media.iter().zip(plan.media.iter_mut()).enumerate() {
        let Some(offerer) = call.monologues[a].medias.get(i) else {
            continue;
        };
        let lines = if mp.port == 0 || offerer.passthru {
            None
        } else if section.port != 0 && offerer.dtls.enabled {
            // DTLS with the offerer (`answer_dtls`): no SDES toward it, its
            // lines are dropped.
            Some(Vec::new())
        } else {
            srtp::session::answer_lines(
                &offerer.sdes.remote,
                sdes_protocol(&offerer.protocol),
                &section.crypto,
                &options,
                rng,
            )
        };
        mp.crypto = lines
            .as_ref()
            .map(|l| l.iter().map(|c| options.print(c)).collect());
        let a_media = &mut call.monologues[a].medias[i];
        a_media.sdes.sent = lines.unwrap_or_default();
        a_media.sdes.keys = srtp::session::negotiate(&a_media.sdes.remote, &a_media.sdes.sent);
        if let Some(b_media) = call.monologues[b].medias.get_mut(i) {
            b_media.sdes.remote = section.crypto.clone();
            b_media.sdes.keys = srtp::session::negotiate(&b_media.sdes.remote, &b_media.sdes.sent);
            if section.port != 0 {
                srtp::session::accept_sent(&mut b_media.sdes.sent, &section.crypto, &options);
            }
        }
    }
}

/// 10.5's `__init_stream` on every stream of both parties after an offer or
/// answer: the SRTP suite query replies show (see `MediaSdes::init_streams`).
fn init_stream_crypto(call: &mut Call, sides: [usize; 2]) {
    for side in sides {
        for m in &mut call.monologues[side].medias {
            m.sdes.init_streams(m.dtls.enabled, m.dtls.sdes);
        }
    }
}

/// A media this offer sends into passthrough: 10.5 generated its DTLS and
/// SDES offer toward `b` before it turned passthrough on (and only then left
/// them out of the SDP), so `b`'s streams took the first suite it would have
/// offered; they keep it from then on.
fn passthrough_stream_crypto(
    call: &mut Call,
    b: usize,
    before: &[Media],
    session: &Session,
    plan: &sdp::RewritePlan,
    f: &Flags,
    rng: &mut dyn CryptoRng,
) {
    let options = sdes_options(f);
    for (i, (section, mp)) in session.media.iter().zip(plan.media.iter()).enumerate() {
        let Some(m) = call.monologues[b].medias.get_mut(i) else {
            continue;
        };
        let old = before.get(i);
        if !m.passthru || old.is_some_and(|o| o.passthru) || section.port == 0 {
            continue;
        }
        let out_protocol = mp.protocol.as_deref().unwrap_or(&section.protocol);
        let mut dtls = old.map(|o| o.dtls.clone()).unwrap_or_default();
        dtls.offer_to(out_protocol, &f.dtls, options.off);
        let mut sdes = old.map(|o| o.sdes.clone()).unwrap_or_default();
        if dtls.sdes {
            let lines = srtp::session::offer_lines(
                &section.crypto,
                &sdes.sent,
                sdes_protocol(out_protocol),
                &options,
                rng,
            );
            sdes.sent = lines.unwrap_or_default();
        }
        sdes.init_streams(dtls.enabled, dtls.sdes);
        m.sdes.stream_suite = sdes.stream_suite;
    }
}

/// The protocol SDES rules see: DTLS-SRTP profiles carry SDES as RTP/SAVP(F)
/// do (10.5 offers `a=crypto` on UDP/TLS/RTP/SAVPF too).
fn sdes_protocol(protocol: &str) -> &str {
    match protocol {
        "UDP/TLS/RTP/SAVP" => "RTP/SAVP",
        "UDP/TLS/RTP/SAVPF" => "RTP/SAVPF",
        other => other,
    }
}

/// DTLS for an offer from `a` to `b`: `a`'s role and fingerprint from its
/// SDP, our actpass and fingerprint toward `b` (before SDES, which it may
/// switch off).
#[allow(clippy::too_many_arguments)]
pub(super) fn offer_dtls(
    call: &mut Call,
    a: usize,
    b: usize,
    session: &Session,
    plan: &mut sdp::RewritePlan,
    f: &Flags,
    settings: &DtlsSettings,
    entering: &[bool],
) {
    let sdes_off = sdes_options(f).off;
    for (i, (section, mp)) in session.media.iter().zip(plan.media.iter_mut()).enumerate() {
        if section.port != 0 {
            if let Some(m) = call.monologues[a].medias.get_mut(i) {
                party_dtls(m, session, i, true, f, settings);
            }
        }
        let out_protocol = mp.protocol.as_deref().unwrap_or(&section.protocol);
        let passthru = clear_in_passthrough(call, a, b, i, entering);
        if passthru && !entering.get(i).copied().unwrap_or(false) {
            continue;
        }
        if let Some(m) = call.monologues[b].medias.get_mut(i) {
            if section.port != 0 {
                m.dtls.offer_to(out_protocol, &f.dtls, sdes_off);
            }
            if mp.port != 0 && !passthru {
                mp.dtls = m.dtls.advert(settings);
            }
        }
    }
}

/// DTLS for the answer from `b` back to `a`: `b`'s role and fingerprint,
/// then our role toward `a` (DTLS on with `a` means no SDES for it).
#[allow(clippy::too_many_arguments)]
fn answer_dtls(
    call: &mut Call,
    a: usize,
    b: usize,
    session: &Session,
    plan: &mut sdp::RewritePlan,
    f: &Flags,
    settings: &DtlsSettings,
    entering: &[bool],
) {
    for (i, (section, mp)) in session.media.iter().zip(plan.media.iter_mut()).enumerate() {
        if section.port == 0 {
            continue;
        }
        if let Some(m) = call.monologues[b].medias.get_mut(i) {
            party_dtls(m, session, i, false, f, settings);
        }
        let passthru = clear_in_passthrough(call, a, b, i, entering);
        if passthru && !entering.get(i).copied().unwrap_or(false) {
            continue;
        }
        if let Some(m) = call.monologues[a].medias.get_mut(i) {
            m.dtls.answer_to(&m.protocol, &f.dtls, settings);
            if mp.port != 0 && !passthru {
                mp.dtls = m.dtls.advert(settings);
            }
        }
    }
}

/// What a party's SDP says about DTLS (and whether it speaks SDES) for media `i`.
pub(super) fn party_dtls(
    m: &mut Media,
    session: &Session,
    i: usize,
    offer: bool,
    f: &Flags,
    settings: &DtlsSettings,
) {
    let changed = m.dtls.party_sdp(
        session.setup_for(i),
        session.fingerprint_for(i),
        offer,
        &f.dtls,
        settings,
    );
    if changed {
        tracing::info!(media = m.index, "DTLS fingerprint changed, restarting DTLS");
    }
    if session.media.get(i).is_some_and(|s| !s.crypto.is_empty()) {
        m.dtls.sdes = true;
    }
}

/// Per media: the sender's interface, the receiver's, and the sender's new
/// logical interface where the request moves it (see `choose_interfaces`).
type InterfaceChoice = (Vec<usize>, Vec<usize>, Vec<Option<usize>>);

/// The interface a media's next SDP from us binds on.
fn logical_of(m: &Media) -> usize {
    m.logical_interface.unwrap_or(m.interface)
}

/// Records the sender's logical interfaces that a request moved.
fn move_logical(side: &mut Monologue, moved: &[Option<usize>]) {
    for (m, to) in side.medias.iter_mut().zip(moved) {
        if let Some(to) = *to {
            m.logical_interface = (to != m.interface).then_some(to);
        }
    }
}

/// Adds a party's UDP candidates from `a=candidate` values; an ICE restart
/// starts the list afresh. Other transports and unparsable lines are skipped.
pub(super) fn merge_candidates(known: &mut Vec<RemoteCandidate>, values: &[String], restart: bool) {
    if restart && !values.is_empty() {
        known.clear();
    }
    for value in values {
        let Some(c) = parse_candidate(value) else {
            continue;
        };
        if !known
            .iter()
            .any(|k| k.component == c.component && k.address == c.address && k.kind == c.kind)
        {
            known.push(c);
        }
    }
}

/// `<foundation> <component> <transport> <priority> <address> <port> typ <type> ...`
fn parse_candidate(value: &str) -> Option<RemoteCandidate> {
    let w: Vec<&str> = value.split(' ').filter(|w| !w.is_empty()).collect();
    if w.len() < 8 || !w[2].eq_ignore_ascii_case("udp") || w[6] != "typ" {
        return None;
    }
    let component: u8 = w[1].parse().ok().filter(|c| (1..=2).contains(c))?;
    let ip: IpAddr = w[4].parse().ok()?;
    Some(RemoteCandidate {
        foundation: w[0].to_owned(),
        component,
        priority: w[3].parse().ok()?,
        address: SocketAddr::new(ip, w[5].parse().ok()?),
        kind: w[7].to_owned(),
    })
}

/// Whether we know where a party receives (10.5's "filled" stream).
fn endpoint_known(media: &Media) -> bool {
    media
        .rtp
        .as_ref()
        .and_then(|s| s.endpoint)
        .is_some_and(|e| !e.ip().is_unspecified() && e.port() != 0)
}

/// 10.5's `reset` flag for the first `count` medias of `side`: not spoken
/// yet, and a running ICE agent restarts with new credentials of ours.
fn reset_medias(side: &mut Monologue, count: usize, rng: &mut dyn CryptoRng) {
    for m in side.medias.iter_mut().take(count) {
        m.status.initialized = false;
        if m.ice_agent || m.ice_started {
            m.ice_ufrag = random_token(rng, 8);
            m.ice_pwd = random_token(rng, 26);
        }
    }
}

/// The sections of `plan` (sent to `side`) that carry our ICE credentials start
/// that media's ICE agent, which then stays (10.5 keeps a started agent). Its
/// role was decided with the media's status (`media_status`), as 10.5 does.
fn start_ice_agents(side: &mut Monologue, plan: &sdp::RewritePlan) {
    for (m, mp) in side.medias.iter_mut().zip(&plan.media) {
        if m.passthru {
            // 10.5 shuts a running agent down in passthrough.
            m.ice_agent = false;
            continue;
        }
        if mp.ice.is_some() {
            m.ice_agent = true;
        }
    }
}

/// 10.5's `__ice_offer`: with `ICE=optional` / `force-relay` we speak ICE
/// towards `receiver`, so if `sender`'s SDP has ICE too both sides of each
/// such media go into passthrough (and stay there).
/// The flags `passthrough` / `no-passthrough` set or clear it regardless.
fn enter_passthrough(call: &mut Call, sender: usize, receiver: usize, f: &Flags) {
    let by_ice = matches!(f.ice, IceMode::Optional | IceMode::ForceRelay);
    if f.passthrough.is_none() && !by_ice {
        return;
    }
    let count = call.monologues[sender].medias.len();
    for i in 0..count {
        let on = match f.passthrough {
            Some(on) => on,
            None if call.monologues[sender].medias[i].ice => true,
            None => continue,
        };
        if let Some(m) = call.monologues[receiver].medias.get_mut(i) {
            m.passthru = on;
            call.monologues[sender].medias[i].passthru = on;
        }
    }
}

/// Per media of `side`: in passthrough now and not in `before` (its media
/// before this request's `enter_passthrough`).
fn entering_passthrough(side: &Monologue, before: &[Media]) -> Vec<bool> {
    side.medias
        .iter()
        .enumerate()
        .map(|(i, m)| m.passthru && !before.get(i).is_some_and(|o| o.passthru))
        .collect()
}

/// 10.5's `__generate_crypto` in passthrough: no DTLS (nor SDES) of ours on
/// either side of media `i`. True when media `i` is in passthrough. A media
/// this request put into passthrough (`entering`) keeps its flags: 10.5
/// decided DTLS and SDES before `__ice_offer` turned passthrough on, so they
/// show in query replies until the next request clears them.
fn clear_in_passthrough(call: &mut Call, a: usize, b: usize, i: usize, entering: &[bool]) -> bool {
    let passthru = call.monologues[b].medias.get(i).is_some_and(|m| m.passthru);
    if passthru && !entering.get(i).copied().unwrap_or(false) {
        for side in [a, b] {
            if let Some(m) = call.monologues[side].medias.get_mut(i) {
                m.dtls = Default::default();
                m.sdes = m.sdes.cleared();
            }
        }
    }
    passthru
}

/// The ng `ICE-lite` key of an offer from `a` to `b` (10.5: valid in offers
/// only; absent, the earlier choice stays).
fn apply_ice_lite(call: &mut Call, a: usize, b: usize, f: &Flags) {
    // 10.5 returns before the ICE-lite key when a passthrough flag is given.
    if f.passthrough.is_some() {
        return;
    }
    let Some(mode) = f.ice_lite else { return };
    let (receiver, sender) = mode.towards();
    // Nor does it reach the key for a media that goes into passthrough
    // because both sides speak ICE (see `enter_passthrough`).
    let by_ice = matches!(f.ice, IceMode::Optional | IceMode::ForceRelay);
    let count = call.monologues[a]
        .medias
        .len()
        .max(call.monologues[b].medias.len());
    for i in 0..count {
        if by_ice && call.monologues[a].medias.get(i).is_some_and(|m| m.ice) {
            continue;
        }
        if let Some(m) = call.monologues[b].medias.get_mut(i) {
            m.ice_lite_self = receiver;
        }
        if let Some(m) = call.monologues[a].medias.get_mut(i) {
            m.ice_lite_self = sender;
        }
    }
}

/// `a=ice-lite` in SDP to `side`: we are lite towards it and the SDP has ICE.
fn advertise_ice_lite(side: &Monologue, plan: &mut sdp::RewritePlan) {
    let ice = plan.media.iter().any(|mp| mp.ice.is_some());
    plan.options.ice_lite = ice && side.medias.iter().any(|m| m.ice_lite_self);
}

/// A party's ICE credentials per media, to tell a restart.
fn remote_ice(side: &Monologue) -> Vec<(Option<String>, Option<String>)> {
    let creds = |m: &Media| (m.ice_remote_ufrag.clone(), m.ice_remote_pwd.clone());
    side.medias.iter().map(creds).collect()
}

/// 10.5's `ice_update` on an offer: a party whose offer changes a known
/// ice-ufrag or ice-pwd restarts ICE, and our credentials toward it are made
/// anew (RFC 8445 section 9 asks it of the answerer).
fn renew_restarted_ice(
    side: &mut Monologue,
    before: &[(Option<String>, Option<String>)],
    rng: &mut dyn CryptoRng,
) {
    let changed = |old: &Option<String>, new: &Option<String>| old.is_some() && new != old;
    for (m, (ufrag, pwd)) in side.medias.iter_mut().zip(before) {
        if m.ice_agent && (changed(ufrag, &m.ice_remote_ufrag) || changed(pwd, &m.ice_remote_pwd)) {
            m.ice_ufrag = random_token(rng, 8);
            m.ice_pwd = random_token(rng, 26);
        }
    }
}

/// Whether the offer we send advertises ICE: forced, or the offerer speaks it.
/// Whether an offer goes to `receiver` (one of its media) with ICE, as 10.5's
/// `__ice_offer` decides: by default the offering client's choice, but only
/// until the receiver has spoken; from then on what the receiver's own SDP
/// said (a callee that answered without ICE is not offered it again).
pub(super) fn offer_wants_ice(receiver: Option<&Media>, session: &Session, f: &Flags) -> bool {
    match f.ice {
        IceMode::Remove => false,
        IceMode::Force | IceMode::ForceRelay | IceMode::Optional => true,
        IceMode::Default => match receiver {
            Some(m) if m.status.initialized => m.status.ice,
            _ => session.has_ice(),
        },
    }
}

/// `T.38: [decode]` on an image/udptl section, or `T.38: [force]` on an RTP
/// audio one: 10.5 would put its T.38 gateway (fax transcoder) between the
/// parties. We have none, so we refuse; on other sections the items change
/// nothing in 10.5 either.
fn refuse_t38_gateway(session: &Session, f: &Flags) -> Result<(), CallError> {
    for section in &session.media {
        let image = section.media_type == "image" && section.protocol.eq_ignore_ascii_case("udptl");
        let audio = section.media_type == "audio" && section.is_rtp();
        if (f.t38_decode && image) || (f.t38_force && audio) {
            return Err(CallError::T38Gateway);
        }
    }
    Ok(())
}

/// 10.5's codec steps of an offer from `a` to `b` (see `codecs`), for every
/// RTP section whose formats are payload type numbers.
fn offer_codecs(call: &mut Call, a: usize, b: usize, session: &Session, f: &Flags) {
    let engaged = !f.codec.is_empty()
        || f.ptime.is_some()
        || f.ptime_reverse.is_some()
        || f.reuse_codecs
        || f.inject_dtmf;
    let flags = codecs::CodecFlags {
        ptime: f.ptime,
        ptime_reverse: f.ptime_reverse,
        reuse: f.reuse_codecs,
        single_codec: false,
        inject_dtmf: f.inject_dtmf,
    };
    for (i, section) in session.media.iter().enumerate() {
        let Some(sdp) = PayloadType::from_section(section).filter(|_| section.is_rtp()) else {
            continue;
        };
        let (Some(sa), Some(sb)) = (
            call.monologues[a].medias.get(i).map(|m| m.codecs.clone()),
            call.monologues[b].medias.get(i).map(|m| m.codecs.clone()),
        ) else {
            continue;
        };
        let (mut sa, mut sb) = (ready(sa, section), ready(sb, section));
        codecs::offer(&mut sa, &mut sb, &sdp, section.ptime, &f.codec, flags);
        if engaged {
            sa.engaged = true;
            sb.engaged = true;
        }
        call.monologues[a].medias[i].codecs = sa;
        call.monologues[b].medias[i].codecs = sb;
    }
}

/// The codec stores after an answer from `b` to `a`, per section (the
/// current ones where the engine does not run). Refuses an answer that
/// makes 10.5 transcode once codec options are in play: we have no
/// transcoder. Where 10.5 only re-packetises (a `ptime` change), the
/// packets are relayed as they are and the SDP is 10.5's.
fn answer_codecs(
    call: &Call,
    a: usize,
    b: Option<usize>,
    session: &Session,
    f: &Flags,
) -> Result<Vec<(CodecStore, CodecStore)>, CallError> {
    let ops = f.codec.for_answer();
    let flags = codecs::CodecFlags {
        reuse: f.reuse_codecs,
        single_codec: f.single_codec,
        inject_dtmf: f.inject_dtmf,
        ..codecs::CodecFlags::default()
    };
    let mut out = Vec::with_capacity(session.media.len());
    for (i, section) in session.media.iter().enumerate() {
        let store = |side: Option<usize>| {
            side.and_then(|s| call.monologues[s].medias.get(i))
                .map(|m| m.codecs.clone())
                .unwrap_or_default()
        };
        let (mut sa, mut sb) = (ready(store(Some(a)), section), ready(store(b), section));
        if let Some(sdp) = PayloadType::from_section(section).filter(|_| section.is_rtp()) {
            let rejected = section.port == 0;
            let media =
                codecs::answer(&mut sa, &mut sb, &sdp, section.ptime, &ops, flags, rejected);
            let engaged = sa.engaged
                || sb.engaged
                || !ops.is_empty()
                || f.reuse_codecs
                || f.single_codec
                || f.inject_dtmf;
            if engaged {
                sa.engaged = true;
                sb.engaged = true;
                if media == codecs::Media::Transcode {
                    return Err(CallError::Transcoding(transcoding_reason(&sa, &sb)));
                }
            }
        }
        out.push((sa, sb));
    }
    Ok(out)
}

/// A store set up for a section's media kind.
fn ready(mut store: CodecStore, section: &sdp::MediaSection) -> CodecStore {
    store.rtp = section.is_rtp();
    store.audio = section.media_type == "audio";
    store
}

/// The codecs of both sides, for the error reason.
fn transcoding_reason(offerer: &CodecStore, answerer: &CodecStore) -> String {
    let names = |s: &CodecStore| {
        s.pts
            .iter()
            .map(|p| p.rtpmap.clone())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let ptime = |s: &CodecStore| match s.ptime {
        0 => String::new(),
        p => format!(" at {p} ms"),
    };
    format!(
        "offerer [{}]{} and answerer [{}]{}",
        names(offerer),
        ptime(offerer),
        names(answerer),
        ptime(answerer)
    )
}

/// Each side of a media keeps the last a=ptime an SDP of either party
/// carried for it (10.5 sets both medias' ptime from an SDP that has one).
fn remember_ptimes(call: &mut Call, sender: usize, receiver: usize, session: &Session) {
    for side in [sender, receiver] {
        for (m, section) in call.monologues[side].medias.iter_mut().zip(&session.media) {
            m.ptime_memory = section.ptime.or(m.ptime_memory);
        }
    }
}
