//! 10.5's publish/subscribe commands: `publish` (media sent to us outside
//! an offer/answer dialogue), `subscribe request` (a new party that gets a
//! copy of one or several parties' media), `subscribe answer` and
//! `unsubscribe`. A subscription is kept on the subscriber
//! (`Monologue::subscriptions`); query replies list it as `pub/sub`.

use std::fmt::Write as _;
use std::net::SocketAddr;

use rand_core::CryptoRng;

use super::codecs::{CodecStore, PayloadType};
use super::error::CallError;
use super::model::{Call, Media, Monologue, Now, PacketStream, Subscription};
use super::ports::PortAllocator;
use super::registry::{Outcome, Registry};
use crate::ng::flags::{Flags, IceMode};
use crate::sdp::{self, CodecLine, Direction, MediaPlan, Session};

/// The reply of a `subscribe request`.
#[derive(Debug, Default)]
pub struct Subscribed {
    pub outcome: Outcome,
    /// The parties subscribed to, in order.
    pub from_tags: Vec<String>,
    /// The subscriber's tag (given, or made up).
    pub to_tag: String,
}

fn refused(why: &'static str) -> CallError {
    CallError::Refused(why)
}

/// Codecs 10.5 can transcode (what `publish` accepts without `accept`).
const TRANSCODABLE: &[&str] = &[
    "PCMU", "PCMA", "G722", "opus", "speex", "GSM", "iLBC", "AMR", "AMR-WB", "L16", "G729", "G729a",
];

impl<P: PortAllocator, R: CryptoRng> Registry<P, R> {
    /// `publish`: the party's media comes to us; the reply is a recvonly
    /// answer of our making with one codec per section.
    pub fn publish(&mut self, f: &Flags, now: &Now) -> Result<Outcome, CallError> {
        let text = f.sdp.as_deref().ok_or(CallError::NoSdp)?;
        let call_id = f.call_id.as_deref().ok_or(CallError::NoCallId)?;
        let from_tag = f.from_tag.as_deref().ok_or(CallError::NoFromTag)?;
        let session = Session::parse_body(text)?;
        self.check_peer_addresses(&session, f)?;
        let is_new = !self.calls.contains_key(call_id);
        if is_new {
            let mut call = Call::new(call_id, now);
            call.dtls = self.dtls.clone();
            self.calls.insert(call_id.to_owned(), call);
        }
        let mut call = self.calls.remove(call_id).expect("present");
        let out = self.publish_in_call(&mut call, from_tag, f, &session, text, now);
        if out.is_err() && is_new {
            self.release_call(&call);
        } else {
            self.calls.insert(call_id.to_owned(), call);
        }
        out
    }

    fn publish_in_call(
        &mut self,
        call: &mut Call,
        tag: &str,
        f: &Flags,
        session: &Session,
        text: &str,
        now: &Now,
    ) -> Result<Outcome, CallError> {
        touch(call, now);
        let a = party(call, tag, now);
        super::registry::apply_side_flags(
            &mut call.monologues[a],
            f,
            self.settings.endpoint_learning,
        );
        if let Some(label) = &f.label {
            call.monologues[a].label = Some(label.clone());
        }
        let mut effects = Vec::new();
        let dtls = call.dtls.clone();
        for (i, section) in session.media.iter().enumerate() {
            if call.monologues[a].medias.len() <= i {
                let family = super::registry::sender_family(session, i);
                let iface =
                    self.pick_interface(f.direction.first().map(String::as_str), family, &call.id)?;
                let adv = self.settings.interfaces[iface].advertised;
                let media = super::registry::new_media(i, section, iface, adv, &mut self.rng);
                call.monologues[a].medias.push(media);
            }
            if section.port != 0 {
                self.open_streams(&mut call.monologues[a].medias[i])?;
            } else {
                let m = &mut call.monologues[a].medias[i];
                let (rtp, rtcp) = (m.rtp.take(), m.rtcp.take());
                let iface = m.interface;
                effects.extend(self.release_streams(rtp, rtcp, iface));
            }
            let endpoint_ip = self.endpoint_ip(session, i, f);
            let media = &mut call.monologues[a].medias[i];
            take_sender_sdp(media, session, i, endpoint_ip);
            media.status.initialized = true;
            media.status.send = false;
            media.status.recv = sends(media.direction);
            let mut store = CodecStore::new(section.is_rtp(), section.media_type == "audio");
            if let Some(pts) = PayloadType::from_section(section).filter(|_| section.is_rtp()) {
                store.pts = accept_one(pts, &f.codec.accept).into_iter().collect();
            }
            store.ptime = section.ptime.unwrap_or(0);
            media.codecs = store;
            // A WebRTC publisher (10.5's Janus): its rtcp-mux is accepted,
            // ICE answered with our agent, DTLS with our role.
            if section.port != 0 {
                publisher_transport(media, session, i, f, &dtls);
            }
        }
        call.monologues[a].last_sdp = Some(text.to_owned());
        let sdp = self.create_sdp(&mut call.monologues[a], Direction::RecvOnly, &dtls, now)?;
        effects.extend(self.relay_effects(call, &call.id.clone()));
        Ok(Outcome {
            sdp: Some(sdp),
            effects,
        })
    }

    /// `subscribe request`: a party (`to-tag`, or a new tag) that receives
    /// a copy of the selected parties' media; the reply offers it sendonly.
    pub fn subscribe_request(&mut self, f: &Flags, now: &Now) -> Result<Subscribed, CallError> {
        let (call, sources) = {
            let (call, party) = self.select_party(f)?;
            let sources: Vec<usize> = match party {
                // 10.5's offer/answer parties: those that sent an offer or
                // answer (a callee that has not answered is none yet).
                super::Party::Call { all: true } => call
                    .live()
                    .filter(|(_, m)| !m.pubsub && m.last_sdp.is_some())
                    .map(|(i, _)| i)
                    .collect(),
                super::Party::One(i) => vec![i],
                super::Party::Call { all: false } => {
                    let mut found = Vec::new();
                    for t in &f.from_tags {
                        if let Some(i) = call.find_tag(t) {
                            if !found.contains(&i) {
                                found.push(i);
                            }
                        }
                    }
                    found
                }
            };
            (call.id.clone(), sources)
        };
        if sources.is_empty() {
            return Err(refused("No monologues matched"));
        }
        let to_tag = match f.to_tag.as_deref().filter(|t| !t.is_empty()) {
            Some(t) => t.to_owned(),
            None => random_hex(&mut self.rng, 32),
        };
        let mut call = self.calls.remove(&call).expect("selected");
        let out = self.subscribe_in_call(&mut call, &sources, &to_tag, f, now);
        self.calls.insert(call.id.clone(), call);
        out
    }

    fn subscribe_in_call(
        &mut self,
        call: &mut Call,
        sources: &[usize],
        to_tag: &str,
        f: &Flags,
        now: &Now,
    ) -> Result<Subscribed, CallError> {
        touch(call, now);
        let dst = party(call, to_tag, now);
        call.monologues[dst].subscriptions.clear();
        if let Some(label) = &f.set_label {
            call.monologues[dst].label = Some(label.clone());
        }
        let mut effects = Vec::new();
        let mut index = 0;
        for &src in sources {
            for k in 0..call.monologues[src].medias.len() {
                let source = call.monologues[src].medias[k].clone();
                if call.monologues[dst].medias.len() <= index {
                    let mut media = source.clone();
                    media.index = u32::try_from(index + 1).unwrap_or(u32::MAX);
                    media.rtp = None;
                    media.rtcp = None;
                    media.idle = [None, None];
                    media.ice_alternates = Vec::new();
                    media.status = Default::default();
                    media.remote_candidates = Vec::new();
                    media.ice = false;
                    media.ice_agent = false;
                    media.ice_started = false;
                    media.ice_controlling = false;
                    media.ice_lite_self = false;
                    media.ice_lite_peer = false;
                    media.ice_remote_ufrag = None;
                    media.ice_remote_pwd = None;
                    media.passthru = false;
                    media.rtcp_mux = false;
                    media.sdes = Default::default();
                    media.dtls = Default::default();
                    // ICE credentials of its own towards the subscriber.
                    media.ice_ufrag = super::token::random_token(&mut self.rng, 8);
                    media.ice_pwd = super::token::random_token(&mut self.rng, 26);
                    call.monologues[dst].medias.push(media);
                }
                let media = &mut call.monologues[dst].medias[index];
                index += 1;
                media.codecs = source.codecs.clone();
                media.protocol = source.protocol.clone();
                media.media_type = source.media_type.clone();
                media.ptime = source.ptime;
                media.status.send = source.status.recv;
                media.status.recv = false;
                media.direction = Direction::SendOnly;
                if source.rtp.is_some() {
                    self.open_streams(media)?;
                }
            }
            call.monologues[dst].subscriptions.push(Subscription {
                from: src,
                rtcp_only: false,
            });
            if f.rtcp_mirror
                && !call.monologues[src]
                    .subscriptions
                    .iter()
                    .any(|s| s.from == dst)
            {
                call.monologues[src].subscriptions.push(Subscription {
                    from: dst,
                    rtcp_only: true,
                });
            }
        }
        // One source with an SDP: its SDP, rewritten; else one of ours.
        let single = match sources {
            [only] => call.monologues[*only].last_sdp.clone(),
            _ => None,
        };
        let sdp = match single {
            Some(text) => self.mirror_sdp(call, sources[0], dst, &text, f)?,
            None => {
                let dtls = call.dtls.clone();
                self.create_sdp(&mut call.monologues[dst], Direction::SendOnly, &dtls, now)?
            }
        };
        effects.extend(self.relay_effects(call, &call.id.clone()));
        Ok(Subscribed {
            outcome: Outcome {
                sdp: Some(sdp),
                effects,
            },
            from_tags: sources
                .iter()
                .map(|&s| call.monologues[s].tag.clone())
                .collect(),
            to_tag: to_tag.to_owned(),
        })
    }

    /// A source's own SDP as sent to subscriber `dst`: our ports and
    /// address, the subscriber's codecs, sendonly.
    fn mirror_sdp(
        &mut self,
        call: &mut Call,
        src: usize,
        dst: usize,
        text: &str,
        f: &Flags,
    ) -> Result<String, CallError> {
        let session = Session::parse_body(text)?;
        let medias = &call.monologues[dst].medias;
        let plans = session
            .media
            .iter()
            .enumerate()
            .map(|(i, section)| {
                let Some(ours) = medias.get(i) else {
                    return MediaPlan::new(0, self.settings.interfaces[0].advertised);
                };
                let Some(rtp) = ours.rtp.as_ref() else {
                    let mut plan = MediaPlan::new(0, ours.advertised);
                    plan.rtcp_port = None;
                    return plan;
                };
                let mut plan = MediaPlan::new(rtp.local.port(), ours.advertised);
                plan.rtcp_port = ours.rtcp.as_ref().map(|s| s.local.port());
                plan.direction = Some(Direction::SendOnly);
                plan.ptime = section.ptime;
                if section.is_rtp() && !ours.codecs.pts.is_empty() {
                    let formats: Vec<String> = ours
                        .codecs
                        .pts
                        .iter()
                        .map(|p| p.number.to_string())
                        .collect();
                    plan.formats = Some(formats).filter(|fm| *fm != section.formats);
                    plan.codecs = Some(codec_lines(&ours.codecs));
                    plan.ptime = Some(ours.codecs.ptime).filter(|p| *p > 0).or(section.ptime);
                }
                plan
            })
            .collect();
        let mut plans: Vec<MediaPlan> = plans;
        // As an offer to the subscriber would be: the media ids, and with
        // `ICE=force` our ICE, with `rtcp-mux: [offer]` mux (10.5's Janus
        // subscribers get both).
        if medias.len() >= session.media.len() {
            let offer = self.offer_plan(call, src, dst, &session, f);
            for (p, o) in plans.iter_mut().zip(offer.media) {
                p.mid = o.mid;
                if p.port == 0 {
                    continue;
                }
                if f.ice == IceMode::Force {
                    p.ice = o.ice;
                    p.trickle_ice = o.trickle_ice;
                }
                if f.rtcp_mux.offer {
                    p.rtcp_mux = o.rtcp_mux;
                    p.rtcp_port = o.rtcp_port;
                }
            }
        }
        for (m, p) in call.monologues[dst].medias.iter_mut().zip(&plans) {
            if p.ice.is_some() {
                m.ice_agent = true;
                m.ice_controlling = true;
            }
            if p.rtcp_mux && f.rtcp_mux.require {
                m.rtcp_mux = true;
            }
        }
        let medias = &call.monologues[dst].medias;
        let mut plan = self.session_plan(medias, plans, f);
        // Our DTLS and SDES toward the subscriber, as an offer of the source's
        // SDP would have them; the source itself stays as it is.
        let mut scratch = call.clone();
        let dtls = call.dtls.clone();
        super::registry::offer_dtls(&mut scratch, src, dst, &session, &mut plan, f, &dtls, &[]);
        super::registry::offer_sdes(
            &mut scratch,
            src,
            dst,
            &session,
            &mut plan,
            f,
            &mut self.rng,
        );
        for (ours, theirs) in call.monologues[dst]
            .medias
            .iter_mut()
            .zip(scratch.monologues[dst].medias.iter())
        {
            ours.dtls = theirs.dtls.clone();
            ours.sdes = theirs.sdes.clone();
            // The suite its streams hold (10.5's `__init_stream`).
            ours.sdes.init_streams(ours.dtls.enabled, ours.dtls.sdes);
        }
        Ok(sdp::rewrite(text, &session, &plan)?)
    }

    /// 10.5's `sdp_create`: an SDP of ours for `party`'s medias.
    fn create_sdp(
        &self,
        party: &mut Monologue,
        direction: Direction,
        dtls: &super::dtls::DtlsSettings,
        now: &Now,
    ) -> Result<String, CallError> {
        let first = party
            .medias
            .first()
            .ok_or(refused("Failed to create SDP"))?;
        let id = *party.sdp_session_id.get_or_insert_with(|| {
            (now.unix.as_secs() << 32) | u64::from(now.unix.subsec_micros())
        });
        let family = |ip: &std::net::IpAddr| if ip.is_ipv4() { "IP4" } else { "IP6" };
        let mut s = String::new();
        let _ = write!(
            s,
            "v=0\r\no=- {id} {id} IN {} {}\r\ns={}\r\nt=0 0\r\n",
            family(&first.advertised),
            first.advertised,
            self.software_id
        );
        for media in &mut party.medias {
            let rtp = media.rtp.as_ref().ok_or(refused("Failed to create SDP"))?;
            let pts: Vec<String> = media
                .codecs
                .pts
                .iter()
                .map(|p| p.number.to_string())
                .collect();
            let _ = write!(
                s,
                "m={} {} {} {}\r\nc=IN {} {}\r\n",
                media.media_type,
                rtp.local.port(),
                media.protocol,
                pts.join(" "),
                family(&media.advertised),
                media.advertised
            );
            if let Some(mid) = &media.mid {
                let _ = write!(s, "a=mid:{mid}\r\n");
            }
            for line in codec_lines(&media.codecs) {
                let _ = write!(s, "a=rtpmap:{}\r\n", line.rtpmap);
                if let Some(fmtp) = &line.fmtp {
                    let _ = write!(s, "a=fmtp:{} {fmtp}\r\n", line.payload_type);
                }
                for fb in &line.rtcp_fb {
                    let _ = write!(s, "a=rtcp-fb:{} {fb}\r\n", line.payload_type);
                }
            }
            let _ = write!(s, "a={}\r\n", direction.as_attribute());
            if media.rtcp_mux {
                let _ = write!(s, "a=rtcp:{}\r\n", rtp.local.port());
            } else if let Some(rtcp) = &media.rtcp {
                let _ = write!(s, "a=rtcp:{}\r\n", rtcp.local.port());
            }
            if let Some(ptime) = media.ptime.filter(|p| *p > 0) {
                let _ = write!(s, "a=ptime:{ptime}\r\n");
            }
            if media.rtcp_mux {
                s.push_str("a=rtcp-mux\r\n");
            }
            if let Some(advert) = media.dtls.advert(dtls) {
                let _ = write!(s, "a=setup:{}\r\n", advert.setup.as_str());
                let _ = write!(s, "a=fingerprint:{}\r\n", advert.fingerprint);
            }
            if media.ice_agent {
                let ice = self.ice_advert_of(media);
                let _ = write!(s, "a=ice-ufrag:{}\r\na=ice-pwd:{}\r\n", ice.ufrag, ice.pwd);
                if media.trickle_ice {
                    s.push_str("a=ice-options:trickle\r\n");
                }
                for c in &ice.candidates {
                    let _ = write!(s, "a=candidate:{}\r\n", c.to_value());
                }
                if media.trickle_ice {
                    s.push_str("a=end-of-candidates\r\n");
                }
            }
        }
        Ok(s)
    }

    /// `subscribe answer`: where the subscriber receives; media flows.
    pub fn subscribe_answer(&mut self, f: &Flags, now: &Now) -> Result<Outcome, CallError> {
        let call_id = f.call_id.as_deref().ok_or(CallError::NoCallId)?;
        if !self.calls.contains_key(call_id) {
            return Err(CallError::UnknownCallId);
        }
        let to_tag = f.to_tag.as_deref().ok_or(CallError::NoToTag)?;
        let text = f
            .sdp
            .as_deref()
            .filter(|s| !s.is_empty())
            .ok_or(CallError::NoSdp)?;
        let call = &self.calls[call_id];
        let dst = call.find_tag(to_tag).ok_or(refused("To-tag not found"))?;
        let session = Session::parse_body(text)?;
        self.check_peer_addresses(&session, f)?;
        let failed = refused("Failed to process subscription answer");
        if session.media.len() > call.monologues[dst].medias.len() {
            return Err(failed);
        }
        for (i, section) in session.media.iter().enumerate() {
            let offered = &call.monologues[dst].medias[i].codecs;
            if f.allow_transcoding || !section.is_rtp() || section.port == 0 {
                continue;
            }
            let answered = PayloadType::from_section(section).unwrap_or_default();
            let full = offered
                .pts
                .iter()
                .all(|o| answered.iter().any(|a| a.number == o.number));
            if !full {
                return Err(failed);
            }
        }
        let locals: Vec<SocketAddr> = call
            .monologues
            .iter()
            .flat_map(|m| m.streams())
            .map(|s| s.local)
            .collect();
        let endpoints: Vec<_> = (0..session.media.len())
            .map(|i| self.endpoint_ip(&session, i, f))
            .collect();
        let mut call = self.calls.remove(call_id).expect("present");
        let dtls = call.dtls.clone();
        touch(&mut call, now);
        super::registry::apply_side_flags(
            &mut call.monologues[dst],
            f,
            self.settings.endpoint_learning,
        );
        for (i, section) in session.media.iter().enumerate() {
            let media = &mut call.monologues[dst].medias[i];
            if section.port == 0 {
                continue;
            }
            let offered = media.codecs.clone();
            take_sender_sdp(media, &session, i, endpoints[i]);
            media.codecs = offered;
            // The subscriber's answer to our SDES and DTLS offer.
            let options = super::registry::sdes_options(f);
            media.sdes.remote = section.crypto.clone();
            media.sdes.keys = crate::srtp::session::negotiate(&media.sdes.remote, &media.sdes.sent);
            crate::srtp::session::accept_sent(&mut media.sdes.sent, &section.crypto, &options);
            super::registry::party_dtls(media, &session, i, false, f, &dtls);
            media.sdes.init_streams(media.dtls.enabled, media.dtls.sdes);
            media.status.initialized = true;
            media.status.recv = false;
            let ep = media.rtp.as_ref().and_then(|s| s.endpoint);
            media.status.loop_check = ep.is_some_and(|e| locals.contains(&e));
        }
        call.monologues[dst].last_sdp = Some(text.to_owned());
        let effects = self.relay_effects(&call, call_id);
        self.calls.insert(call_id.to_owned(), call);
        Ok(Outcome { sdp: None, effects })
    }

    /// `unsubscribe`: the party (made if unknown, as 10.5 does) ends its
    /// subscriptions.
    pub fn unsubscribe(&mut self, f: &Flags, now: &Now) -> Result<Outcome, CallError> {
        let call_id = f.call_id.as_deref().ok_or(CallError::NoCallId)?;
        let mut call = self.calls.remove(call_id).ok_or(CallError::UnknownCallId)?;
        let Some(to_tag) = f.to_tag.as_deref() else {
            self.calls.insert(call_id.to_owned(), call);
            return Err(CallError::NoToTag);
        };
        let dst = party(&mut call, to_tag, now);
        call.monologues[dst].subscriptions.clear();
        let effects = self.relay_effects(&call, call_id);
        self.calls.insert(call_id.to_owned(), call);
        Ok(Outcome { sdp: None, effects })
    }

    /// A port pair for a media that has none.
    fn open_streams(&mut self, media: &mut Media) -> Result<(), CallError> {
        if media.rtp.is_some() {
            return Ok(());
        }
        let local_ip = self.settings.interfaces[media.interface].local;
        let port = self
            .ports
            .allocate(local_ip, 2)
            .ok_or(CallError::OutOfPorts)?;
        let [idle_rtp, idle_rtcp] = std::mem::take(&mut media.idle);
        media.rtp = Some(PacketStream {
            id: self.next_id(),
            local: SocketAddr::new(local_ip, port),
            endpoint: idle_rtp,
            is_rtcp: false,
        });
        media.rtcp = Some(PacketStream {
            id: self.next_id(),
            local: SocketAddr::new(local_ip, port + 1),
            endpoint: idle_rtcp,
            is_rtcp: true,
        });
        Ok(())
    }
}

fn touch(call: &mut Call, now: &Now) {
    call.delete_at = None;
    call.last_signal = now.unix;
    call.last_signal_mono = now.mono;
}

/// The live party with `tag`, or a new pub/sub one.
fn party(call: &mut Call, tag: &str, now: &Now) -> usize {
    call.find_tag(tag).unwrap_or_else(|| {
        let mut m = Monologue::new(tag, now);
        m.pubsub = true;
        call.monologues.push(m);
        call.monologues.len() - 1
    })
}

fn sends(d: Direction) -> bool {
    matches!(d, Direction::SendRecv | Direction::SendOnly)
}

/// What a party's SDP says about its media section `i` (it receives at the
/// section's address).
/// A publisher's transport as 10.5 answers it: rtcp-mux accepted when
/// offered, ICE (our agent, the party's credentials and candidates) when
/// the SDP has it, and DTLS with the role of an answer.
fn publisher_transport(
    media: &mut Media,
    session: &Session,
    i: usize,
    f: &Flags,
    dtls: &super::dtls::DtlsSettings,
) {
    let section = &session.media[i];
    if section.rtcp_mux {
        media.rtcp_mux = true;
    }
    let ice = section.has_ice() || session.ice;
    if ice && f.ice != IceMode::Remove {
        media.ice = true;
        media.ice_agent = true;
        media.ice_controlling = false;
        media.trickle_ice = session.trickle_ice(i);
        let (ufrag, pwd) = session.ice_credentials(i);
        if let Some(u) = ufrag {
            media.ice_remote_ufrag = Some(u.to_owned());
        }
        if let Some(p) = pwd {
            media.ice_remote_pwd = Some(p.to_owned());
        }
        super::registry::merge_candidates(
            &mut media.remote_candidates,
            &section.ice_candidates,
            false,
        );
    }
    if section
        .protocol
        .to_ascii_uppercase()
        .starts_with("UDP/TLS/")
    {
        super::registry::party_dtls(media, session, i, true, f, dtls);
        media.dtls.answer_to(&media.protocol, &f.dtls, dtls);
    }
}

fn take_sender_sdp(
    media: &mut Media,
    session: &Session,
    i: usize,
    endpoint_ip: Option<std::net::IpAddr>,
) {
    let section = &session.media[i];
    media.media_type = section.media_type.clone();
    media.protocol = section.protocol.clone();
    media.formats = section.formats.clone();
    media.clock_rates = super::registry::clock_rates(section);
    media.encodings = super::registry::encodings(section);
    media.ptime = section.ptime;
    if section.mid.is_some() {
        media.mid = section.mid.clone();
    }
    media.direction = session.direction_for(i);
    media.mux_offered = section.rtcp_mux;
    let rtp = endpoint_ip.map(|ip| SocketAddr::new(ip, section.port));
    let rtcp_port = section
        .rtcp
        .as_ref()
        .map_or(section.port.wrapping_add(1), |r| r.port);
    let rtcp = endpoint_ip.map(|ip| SocketAddr::new(ip, rtcp_port));
    match (media.rtp.as_mut(), media.rtcp.as_mut()) {
        (Some(a), Some(b)) => {
            a.endpoint = rtp;
            b.endpoint = rtcp;
        }
        _ => media.idle = [rtp, rtcp],
    }
}

/// 10.5's `codec_store_accept_one`: the first codec of `accept` the SDP
/// has (`any`: the SDP's first), else its first one we could transcode.
fn accept_one(pts: Vec<PayloadType>, accept: &[String]) -> Option<PayloadType> {
    for want in accept {
        if want == "any" {
            return pts.into_iter().next();
        }
        if let Some(p) = pts.iter().find(|p| p.encoding.eq_ignore_ascii_case(want)) {
            return Some(p.clone());
        }
    }
    let known = |p: &PayloadType| {
        TRANSCODABLE
            .iter()
            .any(|t| p.encoding.eq_ignore_ascii_case(t))
    };
    let first = pts.iter().position(known);
    first.map(|i| pts[i].clone()).or(pts.into_iter().next())
}

fn codec_lines(store: &CodecStore) -> Vec<CodecLine> {
    store
        .pts
        .iter()
        .map(|p| CodecLine {
            payload_type: p.number.to_string(),
            rtpmap: p.rtpmap.clone(),
            fmtp: p.fmtp.clone(),
            rtcp_fb: p.rtcp_fb.clone(),
        })
        .collect()
}

/// `bytes` random bytes in hex (10.5's made-up to-tags: 32 bytes).
fn random_hex(rng: &mut dyn CryptoRng, bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rng.fill_bytes(&mut buf);
    buf.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}
