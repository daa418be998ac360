//! Attribute names we interpret, and which of them rtpengine 10.5 removes from
//! their original place (to print its own version after the kept attributes).

use super::codec::RtpMap;

/// What an `a=` line means to the rewriter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AttrKind {
    Rtpmap,
    Fmtp,
    /// `a=rtcp-fb:<pt> ...` for one payload type (the `*` form is kept in place).
    RtcpFbForPt,
    Ptime,
    Mid,
    Direction,
    Rtcp,
    RtcpMux,
    IceUfrag,
    IcePwd,
    /// ice-lite, ice-options, candidate, remote-candidates: ICE we regenerate or strip.
    IceOther,
    Candidate,
    EndOfCandidates,
    Setup,
    /// `a=group:BUNDLE ...` at session level.
    GroupBundle,
    Crypto,
    /// A well-formed `a=fingerprint` (a malformed one is kept like any unknown line).
    Fingerprint,
    /// Anything else: copied verbatim, in order.
    Other,
}

/// Splits an attribute value (`name[:value]`) into its name and value.
pub(crate) fn split_attribute(value: &str) -> (&str, &str) {
    match value.find(':') {
        Some(colon) => (&value[..colon], &value[colon + 1..]),
        None => (value, ""),
    }
}

/// Classifies an attribute by name and value. Like rtpengine, a malformed
/// rtpmap, fmtp or ptime is not understood and so is kept as an unknown line
/// (a malformed a=rtcp, by contrast, is dropped like a valid one).
pub(crate) fn classify(name: &str, value: &str) -> AttrKind {
    match name {
        "rtpmap" if RtpMap::parse(value).is_some() => AttrKind::Rtpmap,
        "fmtp" if value.split(' ').next().is_some_and(|pt| !pt.is_empty()) => AttrKind::Fmtp,
        "ptime" if value.trim().parse::<u32>().is_ok() => AttrKind::Ptime,
        "rtcp-fb" if !value.starts_with('*') => AttrKind::RtcpFbForPt,
        "mid" => AttrKind::Mid,
        "sendrecv" | "sendonly" | "recvonly" | "inactive" => AttrKind::Direction,
        "rtcp" if is_understood_rtcp(value) => AttrKind::Rtcp,
        "rtcp-mux" => AttrKind::RtcpMux,
        "ice-ufrag" => AttrKind::IceUfrag,
        "ice-pwd" => AttrKind::IcePwd,
        "candidate" => AttrKind::Candidate,
        "ice-lite" | "ice-options" | "remote-candidates" => AttrKind::IceOther,
        "end-of-candidates" => AttrKind::EndOfCandidates,
        "setup" => AttrKind::Setup,
        "group" if value.starts_with("BUNDLE") => AttrKind::GroupBundle,
        "crypto" => AttrKind::Crypto,
        "fingerprint" if is_valid_fingerprint(value) => AttrKind::Fingerprint,
        _ => AttrKind::Other,
    }
}

/// rtpengine takes any `a=rtcp:<port>` (even a non-numeric port) but keeps an
/// `a=rtcp` whose address part is not exactly ` IN IP4|IP6 <address>` as an
/// unknown line.
fn is_understood_rtcp(value: &str) -> bool {
    let Some((_, address)) = value.split_once(' ') else {
        return true;
    };
    let parts: Vec<&str> = address.split(' ').collect();
    matches!(parts.as_slice(), ["IN", "IP4" | "IP6", addr] if addr.parse::<std::net::IpAddr>().is_ok())
}

/// rtpengine only takes (and so only removes) fingerprints it could parse.
fn is_valid_fingerprint(value: &str) -> bool {
    super::dtls::Fingerprint::parse(value).is_some()
}

/// Session-level attributes rtpengine drops (the others are copied verbatim).
/// A session-level direction is not lost: it becomes every media's direction.
pub(crate) fn dropped_at_session_level(kind: AttrKind) -> bool {
    matches!(
        kind,
        AttrKind::Direction
            | AttrKind::IceUfrag
            | AttrKind::IcePwd
            | AttrKind::IceOther
            | AttrKind::Candidate
            | AttrKind::Setup
            | AttrKind::Fingerprint
            | AttrKind::GroupBundle
    )
}

/// Media-level attributes removed from their original place. Codec attributes,
/// mid, direction, rtcp, rtcp-mux, ptime and end-of-candidates are printed again
/// (from the plan) after the kept ones; ICE and setup are replaced or dropped.
/// Crypto stays in place until SRTP exists (see the module docs).
pub(crate) fn moved_at_media_level(kind: AttrKind) -> bool {
    !matches!(
        kind,
        AttrKind::Other | AttrKind::Crypto | AttrKind::GroupBundle
    )
}

/// The four direction attributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    SendRecv,
    SendOnly,
    RecvOnly,
    Inactive,
}

impl Direction {
    pub fn from_attribute(name: &str) -> Option<Direction> {
        match name {
            "sendrecv" => Some(Direction::SendRecv),
            "sendonly" => Some(Direction::SendOnly),
            "recvonly" => Some(Direction::RecvOnly),
            "inactive" => Some(Direction::Inactive),
            _ => None,
        }
    }

    pub fn as_attribute(self) -> &'static str {
        match self {
            Direction::SendRecv => "sendrecv",
            Direction::SendOnly => "sendonly",
            Direction::RecvOnly => "recvonly",
            Direction::Inactive => "inactive",
        }
    }
}
