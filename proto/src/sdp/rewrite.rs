//! `rewrite`: splices the original SDP text line by line. Lines we do not own
//! are copied byte for byte with their own line ending; lines we replace keep
//! the original line ending; lines we add end in CRLF (as rtpengine's do).

use std::net::IpAddr;
use std::ops::Range;

use super::attribute::{
    classify, dropped_at_session_level, moved_at_media_level, split_attribute, AttrKind,
};
use super::codec::rtpmap_value;
use super::lines::Line;
use super::plan::{MediaPlan, RewritePlan, SdpOptions};
use super::session::{parse_connection, parse_origin, MediaSection, Session, TextId};
use super::SdpError;

/// Rewrites `original` (the text `session` was parsed from) according to `plan`.
pub fn rewrite(original: &str, session: &Session, plan: &RewritePlan) -> Result<String, SdpError> {
    check_same_text(original, session)?;
    if plan.media.len() != session.media.len() {
        return Err(SdpError::PlanMediaCount {
            sdp: session.media.len(),
            plan: plan.media.len(),
        });
    }
    let mut out = Output {
        text: String::with_capacity(original.len() + 512),
        original,
    };
    // rtpengine rewrites the session c= when asked to, or when a media section
    // has no c= of its own and so relies on it.
    let replace_session_c =
        plan.replace_session_connection || session.media.iter().any(|m| m.connection.is_none());
    // rtpengine puts the first media's address into the session c= (so a held
    // first stream at 0.0.0.0 puts the whole session c= at 0.0.0.0).
    let session_c_address = plan.media.first().map_or(plan.address, |m| m.address);
    // ICE=force-relay leaves the addresses alone: we are only a relay candidate.
    let force_relay = plan.options.force_relay;
    // 10.5 looks at the first media: in passthrough no session attribute goes.
    let passthrough = plan.media.first().is_some_and(|m| m.passthrough);
    for line in &session.lines[..session.session_lines] {
        match line.kind {
            // Spans are taken from this very line: an SDP may repeat o= or c=.
            b'o' if plan.replace_origin && !force_relay => match parse_origin(original, line) {
                Ok(origin) => out.splice(line, origin.splice, &address_text(plan.address)),
                Err(_) => out.copy(line),
            },
            b'c' if replace_session_c && !force_relay => match parse_connection(original, line) {
                Ok(conn) => out.splice(line, conn.splice, &address_text(session_c_address)),
                Err(_) => out.copy(line),
            },
            b'a' if passthrough => out.copy(line),
            b'a' => {
                let (name, value) = split_attribute(out.slice(line.value.clone()));
                let kind = classify(name, value);
                let stripped = plan.options.strip_extmap && name == "extmap";
                let dropped = match kind {
                    AttrKind::Candidate if force_relay => is_relay_candidate(value),
                    k if plan.options.keep_party_ice && is_party_ice(k) => false,
                    k => dropped_at_session_level(k),
                };
                if !stripped && !dropped {
                    out.copy(line);
                }
            }
            _ => out.copy(line),
        }
    }
    // ng flag loop-protect: rtpengine marks SDP it has rewritten.
    if let Some(token) = &plan.loop_protect {
        out.add(&format!("a=rtpengine:{token}"));
    }
    if plan.options.ice_lite {
        out.add("a=ice-lite");
    }
    for (index, (media, media_plan)) in session.media.iter().zip(&plan.media).enumerate() {
        write_media(&mut out, session, index, media, media_plan, &plan.options);
    }
    Ok(out.text)
}

/// `rewrite` slices `original` with spans from `parse`: it must be that text.
fn check_same_text(original: &str, session: &Session) -> Result<(), SdpError> {
    if TextId::of(original) != session.text_id {
        return Err(SdpError::TextMismatch);
    }
    Ok(())
}

struct Output<'a> {
    text: String,
    original: &'a str,
}

impl Output<'_> {
    fn slice(&self, range: Range<usize>) -> &str {
        // Ranges come from parse and were checked against this text.
        &self.original[range]
    }

    fn copy(&mut self, line: &Line) {
        self.text.push_str(&self.original[line.text.clone()]);
        self.text.push_str(&self.original[line.eol.clone()]);
    }

    /// Copies `line` with `range` (inside it) replaced by `replacement`.
    fn splice(&mut self, line: &Line, range: Range<usize>, replacement: &str) {
        self.text
            .push_str(&self.original[line.text.start..range.start]);
        self.text.push_str(replacement);
        self.text.push_str(&self.original[range.end..line.text.end]);
        self.text.push_str(&self.original[line.eol.clone()]);
    }

    /// Adds one generated line.
    fn add(&mut self, line: &str) {
        // If the body's last line had no terminator, end it before adding ours.
        if !self.text.is_empty() && !self.text.ends_with('\n') {
            self.text.push_str("\r\n");
        }
        self.text.push_str(line);
        self.text.push_str("\r\n");
    }
}

fn address_text(address: IpAddr) -> String {
    match address {
        IpAddr::V4(v4) => format!("IP4 {v4}"),
        IpAddr::V6(v6) => format!("IP6 {v6}"),
    }
}

fn write_media(
    out: &mut Output<'_>,
    session: &Session,
    index: usize,
    media: &MediaSection,
    plan: &MediaPlan,
    options: &SdpOptions,
) {
    let lines = &session.lines[media.lines.clone()];
    if options.force_relay {
        out.copy(&lines[0]);
    } else {
        write_m_line(out, &lines[0], media, plan);
    }
    for line in &lines[1..] {
        match line.kind {
            b'c' if options.force_relay => out.copy(line),
            b'c' => match parse_connection(out.original, line) {
                Ok(conn) => out.splice(line, conn.splice, &address_text(plan.address)),
                Err(_) => out.copy(line),
            },
            b'a' => {
                let (name, value) = split_attribute(out.slice(line.value.clone()));
                let kind = classify(name, value);
                let keep = match kind {
                    AttrKind::Candidate if options.force_relay => !is_relay_candidate(value),
                    k if is_party_ice(k) => plan.passthrough || options.keep_party_ice,
                    AttrKind::Rtcp | AttrKind::RtcpMux if options.force_relay => true,
                    AttrKind::Fingerprint | AttrKind::Setup | AttrKind::Crypto
                        if plan.passthrough =>
                    {
                        true
                    }
                    AttrKind::Rtpmap | AttrKind::Fmtp | AttrKind::RtcpFbForPt
                        if plan.codecs.as_ref().is_some_and(Vec::is_empty) =>
                    {
                        true
                    }
                    _ => {
                        (!moved_at_media_level(kind)
                            || (options.original_sendrecv && kind == AttrKind::Direction))
                            && !(plan.crypto.is_some() && kind == AttrKind::Crypto)
                    }
                };
                let strip_extmap = options.strip_extmap && !plan.passthrough;
                // 10.5 takes out every a=ptime (also malformed ones) when it
                // prints its own.
                let own_ptime = plan.ptime.is_some() && name == "ptime";
                if keep && !(strip_extmap && name == "extmap") && !own_ptime {
                    out.copy(line);
                }
            }
            _ => out.copy(line),
        }
    }
    // rtpengine's order: mid, codecs, direction, rtcp, rtcp-mux, ptime, ICE.
    if let Some(mid) = &plan.mid {
        out.add(&format!("a=mid:{mid}"));
    }
    if plan.port == 0 {
        // A rejected section gets nothing else added (rtpengine 10.5 behaviour).
        return;
    }
    let protocol = plan.protocol.as_deref().unwrap_or(&media.protocol);
    let is_rtp = protocol.contains("RTP/");
    if is_rtp {
        match &plan.codecs {
            Some(lines) => write_codec_lines(out, lines),
            None => write_codecs(out, media, plan.formats.as_ref().unwrap_or(&media.formats)),
        }
    }
    if !options.original_sendrecv {
        let direction = plan
            .direction
            .unwrap_or_else(|| session.direction_for(index));
        out.add(&format!("a={}", direction.as_attribute()));
    }
    if is_rtp {
        match plan.rtcp_port {
            Some(port) if options.full_rtcp_attribute => {
                out.add(&format!("a=rtcp:{port} IN {}", address_text(plan.address)))
            }
            Some(port) => out.add(&format!("a=rtcp:{port}")),
            None => {}
        }
        if plan.rtcp_mux {
            out.add("a=rtcp-mux");
        }
        for crypto in plan.crypto.iter().flatten() {
            out.add(&format!("a=crypto:{crypto}"));
        }
        if let Some(dtls) = &plan.dtls {
            out.add(&format!("a=setup:{}", dtls.setup.as_str()));
            out.add(&format!("a=fingerprint:{}", dtls.fingerprint));
        }
        if let Some(ptime) = plan.ptime {
            out.add(&format!("a=ptime:{ptime}"));
        }
    }
    // In passthrough the credentials are the party's (kept above): we only
    // add ourselves as a candidate.
    let our_credentials = plan.ice.is_some() && !plan.passthrough;
    // Towards a trickle peer, whenever rtpengine runs an agent for the media
    // (never in passthrough).
    let trickle = plan.trickle_ice && !plan.passthrough && (plan.ice.is_some() || plan.ice_agent);
    if our_credentials {
        if let Some(ice) = &plan.ice {
            out.add(&format!("a=ice-ufrag:{}", ice.ufrag));
            out.add(&format!("a=ice-pwd:{}", ice.pwd));
        }
    }
    if trickle {
        out.add("a=ice-options:trickle");
    }
    if let Some(ice) = &plan.ice {
        for candidate in &ice.candidates {
            out.add(&format!("a=candidate:{}", candidate.to_value()));
        }
    }
    // rtpengine ends our candidates for a trickle peer, and keeps the SDP's own end mark.
    if trickle || media.end_of_candidates {
        out.add("a=end-of-candidates");
    }
}

/// The party's ICE lines that ICE=optional / force-relay and passthrough keep.
fn is_party_ice(kind: AttrKind) -> bool {
    matches!(
        kind,
        AttrKind::IceUfrag | AttrKind::IcePwd | AttrKind::IceOther | AttrKind::Candidate
    )
}

/// An `a=candidate` value of type relay (`... typ relay ...`).
fn is_relay_candidate(value: &str) -> bool {
    let mut words = value.split(' ').filter(|w| !w.is_empty());
    words.any(|w| w == "typ")
        && words
            .next()
            .is_some_and(|t| t.eq_ignore_ascii_case("relay"))
}

fn write_m_line(out: &mut Output<'_>, line: &Line, media: &MediaSection, plan: &MediaPlan) {
    let original = out.original;
    let mut text = String::new();
    text.push_str(&original[line.text.start..media.port_span.start]);
    text.push_str(&plan.port.to_string());
    if let Some(count) = media.port_count {
        text.push_str(&format!("/{count}"));
    }
    text.push_str(&original[media.port_span.end..media.protocol_span.start]);
    text.push_str(plan.protocol.as_deref().unwrap_or(&media.protocol));
    match &plan.formats {
        Some(formats) => {
            let between = &original[media.protocol_span.end..media.formats_span.start];
            text.push_str(if between.is_empty() && !formats.is_empty() {
                " "
            } else {
                between
            });
            text.push_str(&formats.join(" "));
        }
        None => text.push_str(&original[media.protocol_span.end..media.formats_span.end]),
    }
    // rtpengine prints the format list itself: trailing blanks do not survive.
    text.push_str(&original[line.eol.clone()]);
    out.text.push_str(&text);
}

/// The planned codec lines, in order.
fn write_codec_lines(out: &mut Output<'_>, lines: &[super::plan::CodecLine]) {
    for line in lines {
        out.add(&format!("a=rtpmap:{}", line.rtpmap));
        if let Some(params) = &line.fmtp {
            out.add(&format!("a=fmtp:{} {params}", line.payload_type));
        }
        for value in &line.rtcp_fb {
            out.add(&format!("a=rtcp-fb:{} {value}", line.payload_type));
        }
    }
}

/// For each payload type: its rtpmap, its first fmtp, then its rtcp-fb lines.
/// Codec attributes of payload types not in the list are dropped.
fn write_codecs(out: &mut Output<'_>, media: &MediaSection, formats: &[String]) {
    for pt in formats {
        out.add(&format!("a=rtpmap:{}", rtpmap_value(pt, media.rtpmap(pt))));
        // With several fmtp lines for one payload type, rtpengine keeps the last.
        if let Some((_, params)) = media.fmtps.iter().rev().find(|(fmtp_pt, _)| fmtp_pt == pt) {
            out.add(&format!("a=fmtp:{pt} {params}"));
        }
        for (_, value) in media.rtcp_fbs.iter().filter(|(fb_pt, _)| fb_pt == pt) {
            out.add(&format!("a=rtcp-fb:{pt} {value}"));
        }
    }
}
