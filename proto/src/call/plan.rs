//! Turning the call model into SDP rewrite plans (the mapping table of `sdp/mod.rs`).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use rand_core::CryptoRng;

use super::codecs::CodecStore;
use super::model::{Call, Media};
use super::ports::PortAllocator;
use super::registry::Registry;
use crate::ng::flags::{Flags, IceMode};
use crate::sdp::{
    candidate_priority, our_type_preference, passthrough_preferences, CodecLine, IceAdvert,
    IceCandidate, MediaPlan, MediaSection, RewritePlan, SdpOptions, Session,
};

/// What differs between the offer and the answer direction for one section.
struct SectionChoice<'a> {
    mux: bool,
    answer: bool,
    /// `rtcp-mux: [require]` in an offer: mux without a fallback RTCP port.
    require_mux: bool,
    ice: bool,
    protocol: Option<String>,
    formats: Option<Vec<String>>,
    ptime: Option<u32>,
    mid: Option<String>,
    /// ICE=force-relay: we advertise relay candidates, the SDP keeps its rtcp lines.
    relay: bool,
    /// The `a=candidate` values of the SDP being rewritten (passthrough ranks
    /// our candidates below them).
    party_candidates: &'a [String],
}

impl<P: PortAllocator, R: CryptoRng> Registry<P, R> {
    /// Plan for the offer SDP sent to `b` (the SDP came from `a`).
    pub(super) fn offer_plan(
        &self,
        call: &Call,
        _a: usize,
        b: usize,
        session: &Session,
        f: &Flags,
    ) -> RewritePlan {
        let receiver = &call.monologues[b];
        let mut parsed = f.ice != IceMode::ForceRelay;
        let media = session
            .media
            .iter()
            .enumerate()
            .map(|(i, section)| {
                let ours = &receiver.medias[i];
                // A receiver muxing already keeps it (10.5 requires it then).
                let mux = offers_mux(section, f) || ours.rtcp_mux;
                let ice = super::registry::offer_wants_ice(Some(ours), session, f);
                // The receiver's protocol (`call::protocol`).
                let protocol = Some(ours.protocol.clone()).filter(|p| *p != section.protocol);
                let mid = section
                    .mid
                    .clone()
                    .or_else(|| f.generate_mid.then(|| (i + 1).to_string()));
                let choice = SectionChoice {
                    mux,
                    answer: false,
                    require_mux: f.rtcp_mux.require,
                    ice,
                    protocol,
                    formats: None,
                    ptime: section.ptime.or(ours.ptime_memory),
                    mid,
                    relay: f.ice == IceMode::ForceRelay,
                    party_candidates: &section.ice_candidates,
                };
                let mut plan = self.media_plan(ours, choice);
                apply_codec_store(&mut plan, &ours.codecs, section);
                plan.trickle_ice |= f.trickle_ice;
                hold_address(session, i, f, &mut plan);
                write_media_address(f, &mut plan, &mut parsed, section);
                plan
            })
            .collect();
        self.session_plan(&receiver.medias, media, f)
    }

    /// Plan for the answer SDP sent back to `a` (the SDP came from `b`).
    pub(super) fn answer_plan(
        &self,
        call: &Call,
        a: usize,
        b: usize,
        session: &Session,
        f: &Flags,
    ) -> RewritePlan {
        let receiver = &call.monologues[a];
        let answerer = &call.monologues[b];
        let mut parsed = f.ice != IceMode::ForceRelay;
        let media = session
            .media
            .iter()
            .enumerate()
            .map(|(i, section)| {
                let ours = &receiver.medias[i];
                let offer_flags = receiver.mux_flags;
                let onwards = answerer.medias.get(i).is_some_and(|m| m.rtcp_mux);
                let mux = answer_mux(ours, onwards, &offer_flags, section);
                let answerer_ice = answerer.medias.get(i).is_some_and(|m| m.ice);
                let ice = answer_wants_ice(f.ice, ours, answerer_ice, f.passthrough.is_some());
                // The offerer gets its own protocol back.
                let protocol = Some(ours.protocol.clone()).filter(|p| *p != section.protocol);
                // Only what the answerer was offered (after codec strip/mask).
                let formats: Vec<String> = section
                    .formats
                    .iter()
                    .filter(|pt| ours.forwarded_formats.contains(pt))
                    .cloned()
                    .collect();
                let formats = Some(formats).filter(|fm| !fm.is_empty() && *fm != section.formats);
                let choice = SectionChoice {
                    mux,
                    answer: true,
                    require_mux: false,
                    ice,
                    protocol,
                    formats,
                    ptime: section.ptime.or(ours.ptime_memory),
                    // 10.5 prints the offerer's own media id, not the answer's.
                    mid: ours.mid.clone(),
                    relay: f.ice == IceMode::ForceRelay,
                    party_candidates: &section.ice_candidates,
                };
                let mut plan = self.media_plan(ours, choice);
                apply_codec_store(&mut plan, &ours.codecs, section);
                hold_address(session, i, f, &mut plan);
                write_media_address(f, &mut plan, &mut parsed, section);
                plan
            })
            .collect();
        self.session_plan(&receiver.medias, media, f)
    }

    /// Our ICE credentials and candidates for `ours` (muxed: RTP's only),
    /// as an answer advertises them.
    pub(super) fn ice_advert_of(&self, ours: &Media) -> IceAdvert {
        let choice = SectionChoice {
            mux: ours.rtcp_mux,
            answer: true,
            require_mux: false,
            ice: true,
            protocol: None,
            formats: None,
            ptime: None,
            mid: None,
            relay: false,
            party_candidates: &[],
        };
        self.media_plan(ours, choice).ice.unwrap_or(IceAdvert {
            ufrag: ours.ice_ufrag.clone(),
            pwd: ours.ice_pwd.clone(),
            candidates: Vec::new(),
        })
    }

    /// Session-level choices around the per-media plans.
    pub(super) fn session_plan(
        &self,
        medias: &[Media],
        media: Vec<MediaPlan>,
        f: &Flags,
    ) -> RewritePlan {
        let address = f.media_address.unwrap_or_else(|| {
            medias
                .first()
                .map(|m| m.advertised)
                .unwrap_or_else(|| self.settings.interfaces[0].advertised)
        });
        let mut plan = RewritePlan::new(address, media);
        plan.replace_origin = f.replace_origin;
        plan.replace_session_connection = f.replace_session_connection;
        plan.loop_protect = f.loop_protect.then(|| self.instance_token.clone());
        plan.options = sdp_options(f);
        plan.options.keep_party_ice = matches!(f.ice, IceMode::Optional | IceMode::ForceRelay);
        plan.options.force_relay = f.ice == IceMode::ForceRelay;
        plan.media.iter_mut().for_each(|m| {
            if f.no_rtcp_attribute {
                m.rtcp_port = None;
            }
        });
        plan
    }

    /// One section's plan (built from `MediaPlan::new` so new plan fields keep
    /// their defaults here).
    fn media_plan(&self, ours: &Media, choice: SectionChoice) -> MediaPlan {
        let Some(rtp) = ours.rtp.as_ref() else {
            let mut plan = MediaPlan::new(0, ours.advertised);
            plan.rtcp_port = None;
            plan.protocol = choice.protocol;
            plan.formats = choice.formats;
            plan.mid = choice.mid;
            return plan;
        };
        let rtcp_port = ours
            .rtcp
            .as_ref()
            .map_or(rtp.local.port() + 1, |s| s.local.port());
        // An accepted mux in an answer advertises RTCP on the RTP port; so
        // does a re-offer to a party already muxing (10.5, recorded in
        // fixtures/webrtc/dtls-sip-to-browser-role-switch) and an offer that
        // requires mux (10.5's print_sdp: no fallback, no RTCP candidates).
        let muxed_answer = choice.mux && (choice.answer || ours.rtcp_mux || choice.require_mux);
        let mut plan = MediaPlan::new(rtp.local.port(), ours.advertised);
        plan.rtcp_port = Some(if muxed_answer {
            rtp.local.port()
        } else {
            rtcp_port
        });
        plan.rtcp_mux = choice.mux;
        if choice.relay && !muxed_answer {
            // 10.5 prints rtcp lines with ICE=force-relay only when it accepts
            // mux; the SDP's own stay in place.
            plan.rtcp_port = None;
            plan.rtcp_mux = false;
        }
        plan.protocol = choice.protocol;
        plan.formats = choice.formats;
        plan.ptime = choice.ptime;
        plan.mid = choice.mid;
        plan.trickle_ice = ours.trickle_ice;
        plan.ice_agent = ours.ice_agent || ours.ice_started;
        plan.passthrough = ours.passthru;
        let ranking = if ours.passthru {
            passthrough_preferences(choice.party_candidates, choice.relay)
        } else {
            (our_type_preference(choice.relay), 0)
        };
        plan.ice = choice.ice.then(|| IceAdvert {
            ufrag: ours.ice_ufrag.clone(),
            pwd: ours.ice_pwd.clone(),
            candidates: self.our_candidates(
                ours,
                // 10.5's print_rtcp: no RTCP (candidates) for a section
                // that is not RTP.
                (
                    rtp.local.port(),
                    rtcp_port,
                    !muxed_answer && ours.protocol.contains("RTP/"),
                ),
                ranking,
                choice.relay,
            ),
        });
        plan
    }

    /// Our candidates on every address of the media's logical interface: its
    /// own address first, component 1 on each, then component 2 on each
    /// (rtpengine's order); `ranking` is the type preference and the rank of
    /// the first address, the next addresses rank one lower each.
    fn our_candidates(
        &self,
        ours: &Media,
        (rtp, rtcp, with_rtcp): (u16, u16, bool),
        ranking: (u32, u32),
        relay: bool,
    ) -> Vec<IceCandidate> {
        // The media's logical interface is the variant of its own address's
        // family; addresses of the other family have their own foundation there.
        let ifs = &self.settings.interfaces;
        let v6 = |iface: usize| ifs.get(iface).is_some_and(|i| i.local.is_ipv6());
        let foundation = |iface: usize| {
            let set = if v6(iface) == v6(ours.interface) {
                &self.ice_foundations
            } else {
                &self.ice_alternate_foundations
            };
            set.get(iface).map_or("", String::as_str)
        };
        let mut addresses: Vec<(IpAddr, &str, u16)> =
            vec![(ours.advertised, foundation(ours.interface), rtp)];
        addresses.extend(
            ours.ice_alternates
                .iter()
                .map(|alt| (alt.advertised, foundation(alt.interface), alt.local.port())),
        );
        candidates_in_order(&addresses, (rtcp, with_rtcp), ranking, relay)
    }
}

/// Whether the offerer (`ours`) muxes after an answer (`section`; we
/// offered the answerer mux if `offered_onwards`), as 10.5's `__rtcp_mux_logic` decides it: the offer decided
/// (its RTCP_MUX_OVERRIDE) unless the offerer offered mux, we offered it
/// onwards and no `accept`/`reject` was given; then the answerer's
/// a=rtcp-mux does. The answer's own mux flags change nothing.
pub(super) fn answer_mux(
    ours: &Media,
    offered_onwards: bool,
    offer_flags: &crate::ng::flags::RtcpMuxFlags,
    section: &crate::sdp::MediaSection,
) -> bool {
    let decided = !ours.mux_offered || !offered_onwards || offer_flags.accept || offer_flags.reject;
    if decided {
        ours.rtcp_mux
    } else {
        section.rtcp_mux
    }
}

/// Whether the answer to the offerer (`ours`) carries our ICE. `optional` and
/// `force-relay` drop it when the answerer has no ICE and we run no agent
/// with the offerer (10.5 starts one at the offer if the offerer did ICE): we were only passing ICE through (10.5's `__ice_offer`,
/// which skips that rule when a passthrough flag is given).
pub(super) fn answer_wants_ice(
    mode: IceMode,
    ours: &Media,
    answerer_ice: bool,
    passthrough_flag: bool,
) -> bool {
    match mode {
        IceMode::Remove => false,
        IceMode::Force => true,
        IceMode::ForceRelay | IceMode::Optional => {
            answerer_ice || ours.ice_agent || ours.ice_started || passthrough_flag
        }
        // The offerer's ICE as the offer left it (`reject-ICE` clears it).
        IceMode::Default => ours.status.ice,
    }
}

/// Component 1 on each address, then component 2 on each (`addresses`:
/// advertised address, foundation, RTP port; the first one's RTCP port is `rtcp`).
fn candidates_in_order(
    addresses: &[(IpAddr, &str, u16)],
    (rtcp, with_rtcp): (u16, bool),
    (type_pref, first_rank): (u32, u32),
    relay: bool,
) -> Vec<IceCandidate> {
    let components: &[u8] = if with_rtcp { &[1, 2] } else { &[1] };
    let mut candidates = Vec::new();
    for &component in components {
        for (position, (address, foundation, port)) in addresses.iter().enumerate() {
            let port = if component == 2 {
                // Our RTCP socket sits right above RTP on every address.
                if position == 0 {
                    rtcp
                } else {
                    port.saturating_add(1)
                }
            } else {
                *port
            };
            candidates.push(IceCandidate {
                foundation: (*foundation).to_owned(),
                component,
                priority: candidate_priority(
                    type_pref,
                    first_rank.saturating_add(u32::try_from(position).unwrap_or(u32::MAX)),
                    component,
                ),
                address: *address,
                port,
                relay,
            });
        }
    }
    candidates
}

/// Once codec or ptime options were used on a media, 10.5 prints its codec
/// store for it: the payload types, their lines, and the media's packet time.
fn apply_codec_store(plan: &mut MediaPlan, store: &CodecStore, section: &MediaSection) {
    if !store.engaged || plan.port == 0 || !section.is_rtp() {
        return;
    }
    let formats: Vec<String> = store.pts.iter().map(|p| p.number.to_string()).collect();
    plan.formats = Some(formats).filter(|f| *f != section.formats);
    // An empty store prints no formats on the m= line, and 10.5 then leaves
    // the SDP's own codec lines where they are (an empty list, see MediaPlan).
    plan.codecs = Some(
        store
            .pts
            .iter()
            .map(|p| CodecLine {
                payload_type: p.number.to_string(),
                rtpmap: p.rtpmap.clone(),
                fmtp: p.fmtp.clone(),
                rtcp_fb: p.rtcp_fb.clone(),
            })
            .collect(),
    );
    plan.ptime = Some(store.ptime).filter(|p| *p > 0);
}

/// The ptime an earlier SDP of the call gave media line `i`, if any.
/// Whether an offer offers rtcp-mux onwards for `section` (10.5's
/// `__rtcp_mux_logic`). `reject` does not take the offerer's own
/// a=rtcp-mux out (10.5).
pub(super) fn offers_mux(section: &MediaSection, f: &Flags) -> bool {
    (section.rtcp_mux && !f.rtcp_mux.demux) || f.rtcp_mux.offer || f.rtcp_mux.require
}

/// A peer on hold (`c=` 0.0.0.0 / `::`) gets the unspecified address of our
/// interface's family (10.5 prints its interface's, so an IPv4 hold toward an
/// IPv6 interface reads `::`), unless we do ICE with it or it is a
/// trickle-ICE peer's placeholder (a browser's offer), or `replace: zero-address`.
fn hold_address(session: &Session, i: usize, f: &Flags, plan: &mut MediaPlan) {
    if plan.ice.is_some() || session.trickle_ice_placeholder(i) || f.replace_zero_address {
        return;
    }
    if let Some(c) = session.connection_for(i) {
        if let Ok(ip) = c.address.parse::<IpAddr>() {
            if ip.is_unspecified() {
                plan.address = match plan.address {
                    IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
                    IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
                };
            }
        }
    }
}

/// `media-address` is only what we write: the c= line (also over a hold's
/// unspecified address) and the address of each of our ICE candidates (and
/// their `raddr`), as 10.5 does; our sockets stay where they are.
///
/// 10.5 reads the `media address` for its candidates only once it has
/// rewritten a `c=` or `o=` line with it; under `ICE=force-relay` it rewrites
/// neither the `o=` nor the session's `c=`, only the `c=` of sections not in
/// passthrough, so until such a section with its own `c=` its candidates keep
/// our local addresses. `parsed` carries that state through the sections.
fn write_media_address(f: &Flags, plan: &mut MediaPlan, parsed: &mut bool, section: &MediaSection) {
    let Some(ip) = f.media_address else {
        return;
    };
    plan.address = ip;
    *parsed |= !plan.passthrough && section.connection.is_some();
    if !*parsed {
        return;
    }
    if let Some(ice) = plan.ice.as_mut() {
        for c in &mut ice.candidates {
            c.address = ip;
        }
    }
}

// Field by field on purpose: options the SDP layer adds later keep their defaults.
#[allow(clippy::field_reassign_with_default)]
fn sdp_options(f: &Flags) -> SdpOptions {
    let mut o = SdpOptions::default();
    o.original_sendrecv = f.original_sendrecv;
    o.full_rtcp_attribute = f.full_rtcp_attribute;
    o.strip_extmap = f.strip_extmap;
    o
}
