//! Turning the call model into SDP rewrite plans (the mapping table of `sdp/mod.rs`).

use super::model::{Call, Media};
use super::ports::PortAllocator;
use super::registry::Registry;
use crate::ng::flags::{Flags, IceMode};
use crate::sdp::{
    host_priority, IceAdvert, IceCandidate, MediaPlan, RewritePlan, SdpOptions, Session,
};

impl<P: PortAllocator> Registry<P> {
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
        let media = session
            .media
            .iter()
            .enumerate()
            .map(|(i, section)| {
                let ours = &receiver.medias[i];
                let mux = (section.rtcp_mux && !f.rtcp_mux.demux && !f.rtcp_mux.reject)
                    || f.rtcp_mux.offer;
                let ice = match f.ice {
                    IceMode::Remove => false,
                    IceMode::Force | IceMode::ForceRelay => true,
                    IceMode::Default | IceMode::Optional => session.has_ice(),
                };
                let protocol = f
                    .transport_protocol
                    .clone()
                    .filter(|p| *p != section.protocol);
                let mut plan = media_plan(
                    ours,
                    mux,
                    false,
                    ice,
                    f.no_rtcp_attribute,
                    protocol,
                    None,
                    section.ptime,
                    section.mid.clone(),
                );
                hold_address(session, i, &mut plan);
                plan
            })
            .collect();
        let mut plan = RewritePlan::new(session_address(&receiver.medias, self), media);
        plan.replace_origin = f.replace_origin;
        plan.replace_session_connection = f.replace_session_connection;
        plan.loop_protect = f.loop_protect.then(|| self.instance_token.clone());
        plan.options = sdp_options(f);
        plan
    }

    /// Plan for the answer SDP sent back to `a` (the SDP came from `b`).
    pub(super) fn answer_plan(
        &self,
        call: &Call,
        a: usize,
        _b: usize,
        session: &Session,
        f: &Flags,
    ) -> RewritePlan {
        let receiver = &call.monologues[a];
        let media = session
            .media
            .iter()
            .enumerate()
            .map(|(i, section)| {
                let ours = &receiver.medias[i];
                let offer_flags = receiver.mux_flags;
                let mux = ours.mux_offered
                    && !offer_flags.reject
                    && (section.rtcp_mux
                        || offer_flags.accept
                        || offer_flags.demux
                        || f.rtcp_mux.accept);
                let ice = match f.ice {
                    IceMode::Remove => false,
                    IceMode::Force | IceMode::ForceRelay => true,
                    IceMode::Default | IceMode::Optional => ours.ice,
                };
                // The offerer gets its own protocol back.
                let protocol = Some(ours.protocol.clone()).filter(|p| *p != section.protocol);
                let formats: Vec<String> = section
                    .formats
                    .iter()
                    .filter(|pt| ours.formats.contains(pt))
                    .cloned()
                    .collect();
                let formats = Some(formats).filter(|fm| !fm.is_empty() && *fm != section.formats);
                let ptime = section.ptime.or(ours.ptime);
                let mut plan = media_plan(
                    ours,
                    mux,
                    true,
                    ice,
                    f.no_rtcp_attribute,
                    protocol,
                    formats,
                    ptime,
                    section.mid.clone().or(ours.mid.clone()),
                );
                hold_address(session, i, &mut plan);
                plan
            })
            .collect();
        let mut plan = RewritePlan::new(session_address(&receiver.medias, self), media);
        plan.replace_origin = f.replace_origin;
        plan.replace_session_connection = f.replace_session_connection;
        plan.loop_protect = f.loop_protect.then(|| self.instance_token.clone());
        plan.options = sdp_options(f);
        plan
    }
}

fn session_address<P: PortAllocator>(medias: &[Media], reg: &Registry<P>) -> std::net::IpAddr {
    medias
        .first()
        .map(|m| m.advertised)
        .unwrap_or_else(|| reg.settings.interfaces[0].advertised)
}

/// One section's plan (built from `MediaPlan::new` so new plan fields keep their
/// defaults here).
#[allow(clippy::too_many_arguments)]
fn media_plan(
    ours: &Media,
    mux: bool,
    answer: bool,
    ice: bool,
    no_rtcp_attribute: bool,
    protocol: Option<String>,
    formats: Option<Vec<String>>,
    ptime: Option<u32>,
    mid: Option<String>,
) -> MediaPlan {
    let Some(rtp) = ours.rtp.as_ref() else {
        let mut plan = MediaPlan::new(0, ours.advertised);
        plan.rtcp_port = None;
        plan.protocol = protocol;
        plan.formats = formats;
        plan.mid = mid;
        return plan;
    };
    let rtcp_port = ours
        .rtcp
        .as_ref()
        .map_or(rtp.local.port() + 1, |s| s.local.port());
    // An accepted mux in an answer advertises RTCP on the RTP port.
    let advertised_rtcp = if mux && answer {
        rtp.local.port()
    } else {
        rtcp_port
    };
    let mut candidates = vec![IceCandidate {
        foundation: ours.ice_foundation.clone(),
        component: 1,
        priority: host_priority(0, 1),
        address: ours.advertised,
        port: rtp.local.port(),
    }];
    if !(mux && answer) {
        candidates.push(IceCandidate {
            foundation: ours.ice_foundation.clone(),
            component: 2,
            priority: host_priority(0, 2),
            address: ours.advertised,
            port: rtcp_port,
        });
    }
    let mut plan = MediaPlan::new(rtp.local.port(), ours.advertised);
    plan.rtcp_port = if no_rtcp_attribute {
        None
    } else {
        Some(advertised_rtcp)
    };
    plan.rtcp_mux = mux;
    plan.protocol = protocol;
    plan.formats = formats;
    plan.ptime = ptime;
    plan.mid = mid;
    plan.ice = ice.then(|| IceAdvert {
        ufrag: ours.ice_ufrag.clone(),
        pwd: ours.ice_pwd.clone(),
        candidates,
    });
    plan
}

/// A peer on hold (`c=` 0.0.0.0 / `::`) keeps that address unless we do ICE with it.
fn hold_address(session: &Session, i: usize, plan: &mut MediaPlan) {
    if plan.ice.is_some() {
        return;
    }
    if let Some(c) = session.connection_for(i) {
        if let Ok(ip) = c.address.parse::<std::net::IpAddr>() {
            if ip.is_unspecified() {
                plan.address = ip;
            }
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
    o.ice_lite = f.ice_lite;
    o
}
