//! Errors of the call layer; their Display text is the ng `error-reason` Kamailio logs.

use crate::sdp::SdpError;

#[derive(Debug, thiserror::Error)]
pub enum CallError {
    #[error("No call-id in message")]
    NoCallId,
    #[error("No from-tag in message")]
    NoFromTag,
    #[error("No to-tag in message")]
    NoToTag,
    #[error("No SDP body in message")]
    NoSdp,
    /// rtpengine's text; the detail goes to the log.
    #[error("Failed to parse SDP")]
    Sdp(#[from] SdpError),
    /// 10.5 could not tell a media section's peer address (see
    /// `Registry::check_peer_addresses`).
    #[error("Incomplete SDP specification")]
    IncompleteSdp,
    #[error("Unknown call-id")]
    UnknownCall,
    /// The media control commands (block media, play DTMF, subscribe, ...)
    /// spell it so in 10.5.
    #[error("Unknown call-ID")]
    UnknownCallId,
    /// A media control command refused, with 10.5's words.
    #[error("{0}")]
    Refused(&'static str),
    #[error("Call-ID not found or tags didn't match")]
    NotFound,
    /// The exact text Kamailio's rtpengine module recognises as "load limit".
    #[error("Parallel session limit reached")]
    SessionLimit,
    #[error("Ran out of ports")]
    OutOfPorts,
    #[error("No usable interface for address family {0}")]
    NoInterface(&'static str),
    /// 10.5 would decode and re-encode this media (codec or ptime options);
    /// we have no transcoder. The detail names the codecs of both sides.
    #[error("Transcoding is not supported: {0}")]
    Transcoding(String),
    /// `T.38: [force]` / `[decode]` would need 10.5's T.38 gateway.
    #[error("T.38 gateway is not supported (no fax transcoder)")]
    T38Gateway,
    #[error("Invalid value for '{0}'")]
    Invalid(String),
}
