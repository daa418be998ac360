//! The one error type of the SDP layer; the ng layer turns it into `error-reason`.

use std::fmt;

/// Why an SDP body could not be parsed or rewritten. `line` is 1-based.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SdpError {
    /// The body is empty or only whitespace.
    Empty,
    /// The first line is not `v=0`.
    MissingVersion,
    /// A line that is not `<letter>=<value>`.
    MalformedLine { line: usize },
    /// An `o=` line without its six fields.
    MalformedOrigin { line: usize },
    /// A `c=` line that is not `IN IP4|IP6 <IP address>`.
    MalformedConnection { line: usize },
    /// An `m=` line without media type, port and protocol, or with a bad port.
    MalformedMedia { line: usize },
    /// The plan has a different number of media sections than the SDP.
    PlanMediaCount { sdp: usize, plan: usize },
    /// `rewrite` was given a text other than the one `parse` saw.
    TextMismatch,
}

impl fmt::Display for SdpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SdpError::Empty => write!(f, "empty SDP body"),
            SdpError::MissingVersion => write!(f, "SDP does not start with v=0"),
            SdpError::MalformedLine { line } => write!(f, "malformed SDP line {line}"),
            SdpError::MalformedOrigin { line } => write!(f, "malformed o= line {line}"),
            SdpError::MalformedConnection { line } => write!(f, "malformed c= line {line}"),
            SdpError::MalformedMedia { line } => write!(f, "malformed m= line {line}"),
            SdpError::PlanMediaCount { sdp, plan } => {
                write!(f, "rewrite plan has {plan} media sections, SDP has {sdp}")
            }
            SdpError::TextMismatch => write!(f, "SDP text does not match its parsed session"),
        }
    }
}

impl std::error::Error for SdpError {}
