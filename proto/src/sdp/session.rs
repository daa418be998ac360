//! `Session::parse`: what the daemon needs to know about an SDP body, plus the
//! line spans `rewrite` uses to splice the original text.

use std::ops::Range;

use super::attribute::{classify, split_attribute, AttrKind, Direction};
use super::codec::{static_payload_type, RtpMap};
use super::dtls::{Fingerprint, Setup};
use super::lines::{split_lines, tokens, Line};
use super::SdpError;

/// `IP4` or `IP6` as written in `o=`, `c=` and `a=rtcp`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressFamily {
    Ip4,
    Ip6,
}

impl AddressFamily {
    fn parse(token: &str) -> Option<AddressFamily> {
        match token {
            "IP4" => Some(AddressFamily::Ip4),
            "IP6" => Some(AddressFamily::Ip6),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AddressFamily::Ip4 => "IP4",
            AddressFamily::Ip6 => "IP6",
        }
    }
}

/// A `c=IN <family> <address>` line. `address` is verbatim: an IP address,
/// IPv6 possibly in brackets (host names and multicast `/ttl` are refused, as
/// rtpengine 10.5 refuses them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    pub family: AddressFamily,
    pub address: String,
    /// From the family token to the end of the address: what a rewrite replaces.
    pub(crate) splice: Range<usize>,
}

impl Connection {
    /// `0.0.0.0` or `::`: the old (RFC 2543) way to put a stream on hold.
    pub fn is_unspecified(&self) -> bool {
        self.ip().is_some_and(|ip| ip.is_unspecified())
    }

    /// The address as an IP (brackets around IPv6 removed).
    pub fn ip(&self) -> Option<std::net::IpAddr> {
        let bare = self
            .address
            .strip_prefix('[')
            .and_then(|a| a.strip_suffix(']'))
            .unwrap_or(&self.address);
        bare.parse().ok()
    }
}

/// The `o=` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub username: String,
    pub session_id: String,
    pub session_version: String,
    pub family: AddressFamily,
    pub address: String,
    pub(crate) splice: Range<usize>,
}

/// `a=rtcp:<port> [IN <family> <address>]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtcpAttribute {
    pub port: u16,
    pub address: Option<(AddressFamily, String)>,
}

/// One `m=` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaSection {
    pub media_type: String,
    /// 0 means the stream is rejected/disabled.
    pub port: u16,
    /// The `/<count>` of `m=audio 5000/2 ...`.
    pub port_count: Option<u32>,
    pub protocol: String,
    pub formats: Vec<String>,
    /// This section's own `c=`, if any (see [`Session::connection_for`]).
    pub connection: Option<Connection>,
    pub rtcp: Option<RtcpAttribute>,
    pub rtcp_mux: bool,
    /// This section's own direction attribute, if any (see [`Session::direction_for`]).
    pub direction: Option<Direction>,
    pub ice_ufrag: Option<String>,
    pub ice_pwd: Option<String>,
    /// Raw values of `a=candidate:` lines.
    pub ice_candidates: Vec<String>,
    pub end_of_candidates: bool,
    /// A media-level `a=ice-options` naming `trickle` (see [`Session::trickle_ice`]).
    pub ice_options_trickle: bool,
    /// Raw values of `a=crypto:` lines, for SRTP later.
    pub crypto: Vec<String>,
    /// This section's own first `a=setup` (see [`Session::setup_for`]).
    pub setup: Option<Setup>,
    /// This section's own first parsable `a=fingerprint` (see [`Session::fingerprint_for`]).
    pub fingerprint: Option<Fingerprint>,
    pub rtpmaps: Vec<RtpMap>,
    /// `(payload type, parameters)` of `a=fmtp:` lines.
    pub fmtps: Vec<(String, String)>,
    /// `(payload type, value)` of payload-specific `a=rtcp-fb:` lines.
    pub rtcp_fbs: Vec<(String, String)>,
    pub ptime: Option<u32>,
    pub mid: Option<String>,
    /// Indices into the session's lines; the first is the `m=` line.
    pub(crate) lines: Range<usize>,
    /// Spans inside the m= line: port token (with `/count`), protocol, formats.
    pub(crate) port_span: Range<usize>,
    pub(crate) protocol_span: Range<usize>,
    pub(crate) formats_span: Range<usize>,
}

impl MediaSection {
    /// Whether rtpengine treats this section as RTP (codec attributes, a=rtcp).
    pub fn is_rtp(&self) -> bool {
        self.protocol.contains("RTP/")
    }

    pub fn has_ice(&self) -> bool {
        !self.ice_candidates.is_empty() || self.ice_ufrag.is_some()
    }

    pub fn rtpmap(&self, pt: &str) -> Option<&RtpMap> {
        self.rtpmaps.iter().find(|m| m.payload_type == pt)
    }

    /// The encoding name of a payload type: its rtpmap's, else the RFC 3551
    /// static one (what ng `codec: strip/mask/except` match, case-insensitively).
    pub fn encoding(&self, pt: &str) -> Option<&str> {
        match self.rtpmap(pt) {
            Some(map) => Some(map.encoding.as_str()),
            None => static_payload_type(pt).map(|(name, _, _)| name),
        }
    }
}

/// A parsed SDP body. Holds spans, not the text: pass the same text to `rewrite`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub origin: Option<Origin>,
    /// Session-level `c=`.
    pub connection: Option<Connection>,
    /// Session-level direction attribute (rtpengine applies it to every media).
    pub direction: Option<Direction>,
    /// Session-level ICE: any of ice-ufrag/ice-pwd/ice-lite/candidate present.
    pub ice: bool,
    /// `a=ice-lite`: the party is an ICE-lite agent (RFC 8445 section 2.5).
    pub ice_lite: bool,
    /// Session-level `a=ice-ufrag`/`a=ice-pwd` values (Firefox writes them
    /// there): every media without its own uses them, as in 10.5.
    pub session_ufrag: Option<String>,
    pub session_pwd: Option<String>,
    /// Session-level `a=ice-ufrag` (which stands for every media without its own).
    pub ice_ufrag: bool,
    /// Session-level `a=setup` and `a=fingerprint` (for media without their own).
    pub setup: Option<Setup>,
    pub fingerprint: Option<Fingerprint>,
    pub media: Vec<MediaSection>,
    pub(crate) lines: Vec<Line>,
    /// Number of lines before the first `m=`.
    pub(crate) session_lines: usize,
    /// Fingerprint of the parsed text, so `rewrite` can refuse another text.
    pub(crate) text_id: TextId,
}

/// Length and FNV-1a hash of a text: cheap, and enough to catch a caller that
/// passes `rewrite` a different body than the one parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TextId {
    len: usize,
    hash: u64,
}

impl TextId {
    pub(crate) fn of(text: &str) -> TextId {
        let hash = text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
        });
        TextId {
            len: text.len(),
            hash,
        }
    }
}

impl Session {
    /// Parses an SDP body (CRLF, LF or mixed line endings). Accepts what
    /// rtpengine 10.5 accepts and refuses what it refuses (see the module docs).
    /// 10.5 reads nothing from a body shorter than two bytes or starting
    /// with an empty line (it stops at the first empty line): no session, no
    /// media, and no error.
    pub fn holds_nothing(text: &str) -> bool {
        text.len() < 2 || text.starts_with(['\r', '\n'])
    }

    /// An offer's or answer's body as 10.5 reads it: one that
    /// `holds_nothing` is a session of no media, anything else must parse.
    pub fn parse_body(text: &str) -> Result<Session, SdpError> {
        if Session::holds_nothing(text) {
            Ok(Session::nothing(text))
        } else {
            Session::parse(text)
        }
    }

    /// The session of a body that `holds_nothing`: no lines, no media.
    /// `rewrite` turns it into an empty body.
    pub fn nothing(text: &str) -> Session {
        Session {
            origin: None,
            connection: None,
            direction: None,
            ice: false,
            ice_lite: false,
            session_ufrag: None,
            session_pwd: None,
            ice_ufrag: false,
            setup: None,
            fingerprint: None,
            media: Vec::new(),
            lines: Vec::new(),
            session_lines: 0,
            text_id: TextId::of(text),
        }
    }

    pub fn parse(text: &str) -> Result<Session, SdpError> {
        if text.trim().is_empty() {
            return Err(SdpError::Empty);
        }
        let lines = split_lines(text)?;
        match lines.first() {
            Some(first) if &text[first.text.clone()] == "v=0" => {}
            _ => return Err(SdpError::MissingVersion),
        }
        let session_lines = lines
            .iter()
            .position(|l| l.kind == b'm')
            .unwrap_or(lines.len());
        let mut session = Session {
            lines,
            session_lines,
            ..Session::nothing(text)
        };
        for line in &session.lines[..session_lines] {
            match line.kind {
                b'o' => session.origin = Some(parse_origin(text, line)?),
                b'c' => session.connection = Some(parse_connection(text, line)?),
                b'a' => {
                    let (name, value) = split_attribute(&text[line.value.clone()]);
                    match classify(name, value) {
                        AttrKind::Direction => session.direction = Direction::from_attribute(name),
                        AttrKind::IceUfrag => {
                            session.ice = true;
                            session.ice_ufrag = true;
                            session
                                .session_ufrag
                                .get_or_insert_with(|| value.to_string());
                        }
                        AttrKind::IcePwd => {
                            session.ice = true;
                            session.session_pwd.get_or_insert_with(|| value.to_string());
                        }
                        AttrKind::Candidate => session.ice = true,
                        AttrKind::Setup if session.setup.is_none() => {
                            session.setup = Some(Setup::parse(value))
                        }
                        AttrKind::Fingerprint if session.fingerprint.is_none() => {
                            session.fingerprint = Fingerprint::parse(value)
                        }
                        AttrKind::IceOther if name == "ice-lite" => {
                            session.ice = true;
                            session.ice_lite = true;
                        }
                        _ => {}
                    }
                }
                _ => {}
            }
        }
        let mut start = session_lines;
        while start < session.lines.len() {
            let end = session.lines[start + 1..]
                .iter()
                .position(|l| l.kind == b'm')
                .map_or(session.lines.len(), |p| start + 1 + p);
            let media = parse_media(text, &session.lines, start..end)?;
            session.media.push(media);
            start = end;
        }
        Ok(session)
    }

    /// The address a media section's peer advertised: its own `c=`, else the session's.
    pub fn connection_for(&self, media: usize) -> Option<&Connection> {
        let section = self.media.get(media)?;
        section.connection.as_ref().or(self.connection.as_ref())
    }

    /// The direction rtpengine 10.5 uses for a media section: a session-level
    /// direction attribute wins over the media's own; none means sendrecv; and
    /// a peer at `0.0.0.0`/`::` does not receive (sendrecv becomes sendonly,
    /// recvonly becomes inactive) unless it does trickle ICE, where that
    /// address only says "candidates follow" (RFC 8840), as in a browser's offer.
    pub fn direction_for(&self, media: usize) -> Direction {
        let declared = self
            .direction
            .or_else(|| self.media.get(media).and_then(|m| m.direction))
            .unwrap_or(Direction::SendRecv);
        if self
            .connection_for(media)
            .is_some_and(Connection::is_unspecified)
            && !self.trickle_ice(media)
        {
            return match declared {
                Direction::SendRecv => Direction::SendOnly,
                Direction::RecvOnly => Direction::Inactive,
                other => other,
            };
        }
        declared
    }

    /// Whether media `media` does trickle ICE, as rtpengine 10.5 decides it: it
    /// has an `a=ice-ufrag` (its own or the session's) and its own
    /// `a=ice-options` names trickle. (10.5 would also take `c=` 0.0.0.0 with
    /// port 9 for trickle, but looks before it has read the address, so it
    /// never does; neither do we.)
    pub fn trickle_ice(&self, media: usize) -> bool {
        self.media
            .get(media)
            .is_some_and(|m| m.ice_options_trickle && (m.ice_ufrag.is_some() || self.ice_ufrag))
    }

    /// `c=` 0.0.0.0/`::` with port 9 from a trickle-ICE peer: the address of
    /// "no candidate yet" (RFC 8840), not a hold, so we advertise our own address.
    pub fn trickle_ice_placeholder(&self, media: usize) -> bool {
        self.trickle_ice(media)
            && self.media[media].port == 9
            && self
                .connection_for(media)
                .is_some_and(Connection::is_unspecified)
    }

    /// The `a=setup` that applies to a media section: its own, else the session's.
    pub fn setup_for(&self, media: usize) -> Option<Setup> {
        self.media.get(media).and_then(|m| m.setup).or(self.setup)
    }

    /// The `a=fingerprint` that applies to a media section: its own, else the session's.
    pub fn fingerprint_for(&self, media: usize) -> Option<&Fingerprint> {
        self.media
            .get(media)
            .and_then(|m| m.fingerprint.as_ref())
            .or(self.fingerprint.as_ref())
    }

    /// Whether the offer/answer carries ICE (session or any media).
    pub fn has_ice(&self) -> bool {
        self.ice || self.media.iter().any(MediaSection::has_ice)
    }

    /// The party's ICE ufrag and password for media `i`: its own, else the
    /// session's.
    pub fn ice_credentials(&self, i: usize) -> (Option<&str>, Option<&str>) {
        let m = self.media.get(i);
        let ufrag = m.and_then(|m| m.ice_ufrag.as_deref());
        let pwd = m.and_then(|m| m.ice_pwd.as_deref());
        (
            ufrag.or(self.session_ufrag.as_deref()),
            pwd.or(self.session_pwd.as_deref()),
        )
    }
}

pub(crate) fn parse_origin(text: &str, line: &Line) -> Result<Origin, SdpError> {
    let err = SdpError::MalformedOrigin { line: line.number };
    let tok = tokens(text, line.value.clone());
    if tok.len() < 6 || &text[tok[3].clone()] != "IN" {
        return Err(err);
    }
    let family = AddressFamily::parse(&text[tok[4].clone()]).ok_or(err)?;
    Ok(Origin {
        username: text[tok[0].clone()].to_string(),
        session_id: text[tok[1].clone()].to_string(),
        session_version: text[tok[2].clone()].to_string(),
        family,
        address: text[tok[5].clone()].to_string(),
        splice: tok[4].start..tok[5].end,
    })
}

pub(crate) fn parse_connection(text: &str, line: &Line) -> Result<Connection, SdpError> {
    let err = SdpError::MalformedConnection { line: line.number };
    // Single spaces only (rtpengine refuses `c=IN  IP4 ...`); trailing ones are kept.
    let tok = single_space_tokens(text, line.value.clone()).ok_or(err.clone())?;
    if tok.len() != 3 || &text[tok[0].clone()] != "IN" {
        return Err(err);
    }
    let family = AddressFamily::parse(&text[tok[1].clone()]).ok_or(err.clone())?;
    let address = &text[tok[2].clone()];
    // rtpengine refuses host names, multicast `/ttl` and a family that does not
    // match the address, but takes `[::1]`.
    let bare = address
        .strip_prefix('[')
        .and_then(|a| a.strip_suffix(']'))
        .unwrap_or(address);
    let matches_family = match bare.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(_)) => family == AddressFamily::Ip4,
        Ok(std::net::IpAddr::V6(_)) => family == AddressFamily::Ip6,
        Err(_) => false,
    };
    if !matches_family {
        return Err(err);
    }
    Ok(Connection {
        family,
        address: address.to_string(),
        splice: tok[1].start..tok[2].end,
    })
}

/// Tokens separated by exactly one space; trailing spaces are allowed, `None`
/// if two spaces meet inside the value or it starts with one.
fn single_space_tokens(text: &str, range: Range<usize>) -> Option<Vec<Range<usize>>> {
    let value = text[range.clone()].trim_end_matches(' ');
    let mut out = Vec::new();
    let mut start = range.start;
    for part in value.split(' ') {
        if part.is_empty() {
            return None;
        }
        out.push(start..start + part.len());
        start += part.len() + 1;
    }
    Some(out)
}

fn parse_media(text: &str, lines: &[Line], range: Range<usize>) -> Result<MediaSection, SdpError> {
    let m_line = &lines[range.start];
    let err = SdpError::MalformedMedia {
        line: m_line.number,
    };
    // Single spaces (rtpengine garbles `m=audio  5000 ...`; we refuse it).
    let tok = single_space_tokens(text, m_line.value.clone()).ok_or(err.clone())?;
    if tok.len() < 3 {
        return Err(err);
    }
    let port_token = &text[tok[1].clone()];
    let (port, port_count) = match port_token.split_once('/') {
        Some((port, count)) => (port, Some(port_count(count).ok_or(err.clone())?)),
        None => (port_token, None),
    };
    let port = port.parse::<u16>().map_err(|_| err.clone())?;
    let formats_span = match (tok.get(3), tok.last()) {
        (Some(first), Some(last)) => first.start..last.end,
        // No formats: the list would start after the protocol's space, if any.
        _ => {
            let after = (tok[2].end + 1).min(m_line.text.end);
            after..after
        }
    };
    let mut media = MediaSection {
        media_type: text[tok[0].clone()].to_string(),
        port,
        port_count,
        protocol: text[tok[2].clone()].to_string(),
        formats: tok[3..]
            .iter()
            .map(|t| text[t.clone()].to_string())
            .collect(),
        connection: None,
        rtcp: None,
        rtcp_mux: false,
        direction: None,
        ice_ufrag: None,
        ice_pwd: None,
        ice_candidates: Vec::new(),
        end_of_candidates: false,
        ice_options_trickle: false,
        crypto: Vec::new(),
        setup: None,
        fingerprint: None,
        rtpmaps: Vec::new(),
        fmtps: Vec::new(),
        rtcp_fbs: Vec::new(),
        ptime: None,
        mid: None,
        lines: range.clone(),
        port_span: tok[1].clone(),
        protocol_span: tok[2].clone(),
        formats_span,
    };
    for line in &lines[range.start + 1..range.end] {
        match line.kind {
            b'c' => media.connection = Some(parse_connection(text, line)?),
            b'a' => parse_media_attribute(&mut media, &text[line.value.clone()]),
            _ => {}
        }
    }
    Ok(media)
}

/// Records what an attribute tells us. Malformed values are not errors (see
/// `attribute::classify`): rtpengine 10.5 accepts them too.
fn parse_media_attribute(media: &mut MediaSection, attr: &str) {
    let (name, value) = split_attribute(attr);
    match classify(name, value) {
        AttrKind::Rtpmap => media.rtpmaps.extend(RtpMap::parse(value)),
        AttrKind::Fmtp => {
            let (pt, params) = value.split_once(' ').unwrap_or((value, ""));
            media.fmtps.push((pt.to_string(), params.to_string()));
        }
        AttrKind::RtcpFbForPt => {
            let (pt, rest) = value.split_once(' ').unwrap_or((value, ""));
            media.rtcp_fbs.push((pt.to_string(), rest.to_string()));
        }
        AttrKind::Ptime => media.ptime = value.trim().parse().ok(),
        AttrKind::Mid => media.mid = Some(value.to_string()),
        AttrKind::Direction => media.direction = Direction::from_attribute(name),
        // An unparsable a=rtcp is dropped by the rewrite all the same.
        AttrKind::Rtcp => media.rtcp = parse_rtcp(value),
        AttrKind::RtcpMux => media.rtcp_mux = true,
        AttrKind::IceUfrag => media.ice_ufrag = Some(value.to_string()),
        AttrKind::IcePwd => media.ice_pwd = Some(value.to_string()),
        AttrKind::Candidate => media.ice_candidates.push(value.to_string()),
        AttrKind::EndOfCandidates => media.end_of_candidates = true,
        AttrKind::IceOther if name == "ice-options" => {
            media.ice_options_trickle |= value.contains("trickle")
        }
        AttrKind::Crypto => media.crypto.push(value.to_string()),
        AttrKind::Setup if media.setup.is_none() => media.setup = Some(Setup::parse(value)),
        AttrKind::Fingerprint if media.fingerprint.is_none() => {
            media.fingerprint = Fingerprint::parse(value)
        }
        _ => {}
    }
}

fn parse_rtcp(value: &str) -> Option<RtcpAttribute> {
    let mut parts = value.split(' ').filter(|p| !p.is_empty());
    let port = parts.next()?.parse().ok()?;
    let address = match (parts.next(), parts.next(), parts.next()) {
        (None, _, _) => None,
        (Some("IN"), Some(family), Some(address)) => {
            Some((AddressFamily::parse(family)?, address.to_string()))
        }
        _ => return None,
    };
    Some(RtcpAttribute { port, address })
}

/// The count of `m=audio PORT/COUNT`, read as 10.5 reads it (C's `atoi`:
/// an optional sign and the digits up to the first other character); 10.5
/// refuses the SDP for a count under 1 or over 10.
fn port_count(text: &str) -> Option<u32> {
    let (negative, rest) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    // Past ten the value is refused anyway: it stops growing at 11.
    let value = rest
        .bytes()
        .take_while(u8::is_ascii_digit)
        .fold(0u32, |v, d| (v * 10 + u32::from(d - b'0')).min(11));
    (!negative && (1..=10).contains(&value)).then_some(value)
}
