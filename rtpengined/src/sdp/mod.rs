//! SDP parsing and rewriting, sans-IO, matching rtpengine 10.5 byte for byte.
//!
//! # Interface (agreed with the daemon side)
//! - [`Session::parse`]`(&str) -> Result<Session, SdpError>`: per media section
//!   the media type, port, port count, protocol, formats, connection address
//!   (own `c=` or the session's: [`Session::connection_for`]), `a=rtcp`,
//!   rtcp-mux, direction ([`Session::direction_for`]), ICE presence, raw
//!   `a=crypto` lines, rtpmap/fmtp/rtcp-fb, ptime and mid.
//! - [`rewrite`]`(original, &session, &plan) -> Result<String, SdpError>` with a
//!   [`RewritePlan`] (session-level choices) holding one [`MediaPlan`] per `m=`.
//!
//! The text is kept as line spans: everything rtpengine leaves alone is copied
//! verbatim with its own line ending (CRLF or LF); lines we rewrite keep theirs;
//! lines we add end in CRLF, exactly as rtpengine 10.5 does with mixed input.
//!
//! # Mapping ng flags onto a plan (for the daemon)
//! | ng flag | plan field |
//! |---|---|
//! | `replace: origin` | `RewritePlan::replace_origin` |
//! | `replace: session-connection` | `RewritePlan::replace_session_connection` |
//! | ports allocated | `MediaPlan::port`, `rtcp_port` (RTP port when rtcp-mux is accepted) |
//! | `no-rtcp-attribute` | `rtcp_port: None` |
//! | `rtcp-mux: offer` / SDP offers mux (not `demux`) | offer: `rtcp_mux: true`, RTCP port in `rtcp_port` |
//! | mux offered by the offerer and (answerer accepted, or `accept`/`demux` on the offer, or `accept` on the answer) | answer: `rtcp_mux: true`, `rtcp_port = port` |
//! | `ICE: remove` / `force` / default | `ice: None` / `Some` / `Some` iff the peer that receives this SDP spoke ICE |
//! | `direction`, `address-family`, `media-address` | `address` (session and per media): interface selection |
//! | `received-from`, `trust-address`, `SIP-source-address` | not in the SDP we send (they choose where *we* send media) |
//! | `transport-protocol` | offer: `protocol`; answer: the offerer's protocol |
//! | codec negotiation | answer: `formats` = answer's ∩ offer's |
//! | ptime | offer: the SDP's ptime; answer: answer's, else the offer's |
//! | `a=mid` | offer: the SDP's (`generate-mid`: `index + 1` when absent); answer: answer's, else the offer's |
//! | `loop-protect` | `RewritePlan::loop_protect` (rtpengine's token) |
//! | `original-sendrecv`, `full-rtcp-attribute`, `strip-extmap`, `ICE-lite` | `RewritePlan::options` |
//!
//! `RewritePlan::new` / `MediaPlan::new` fill in the defaults, so new optional
//! fields do not break callers that use them.
//!
//! # rtpengine 10.5 behaviours matched (all recorded in tests/fixtures/sdp)
//! - Session level: `o=` address replaced only with `replace origin`; session
//!   `c=` replaced with `replace session-connection` *or* when some media has no
//!   `c=`; direction, ICE (ufrag/pwd/lite/options/candidates), `a=setup` and
//!   `a=group:BUNDLE` are dropped; a session direction overrides every media's.
//! - Media: `m=` port/protocol/formats replaced in place (`/count` kept); media
//!   `c=` replaced in place (also in rejected sections); `i=`, `b=`, `k=` and
//!   unknown attributes kept in their order; rtpmap, fmtp, payload rtcp-fb,
//!   ptime, mid, direction, rtcp, rtcp-mux, ICE, setup and end-of-candidates are
//!   taken out and printed after the kept attributes in this order:
//!   `a=mid`, per payload type `a=rtpmap` (static types get theirs from RFC 3551,
//!   a dynamic type without rtpmap gets `<pt> /0`, channel count 1 is dropped)
//!   then its first `a=fmtp` then its `a=rtcp-fb`, then the direction (always,
//!   also for non-RTP such as `udptl`), `a=rtcp`, `a=rtcp-mux`, `a=ptime`,
//!   `a=ice-ufrag`, `a=ice-pwd`, candidates (component 1 for each interface, then
//!   component 2), `a=end-of-candidates` if the SDP had it. Codec attributes of
//!   payload types not listed in `m=` are dropped. Rejected sections (port 0)
//!   get nothing added.
//!
//! # Not matched yet
//! - `a=crypto`, `a=fingerprint`, DTLS/SDES on RTP/AVP or SAVP media (SRTP issue):
//!   rtpengine adds its own crypto suites; we leave crypto lines in place.
//! - Codec manipulation flags (strip/mask/transcode/offer) beyond a format list.
//!
//! # Deliberate differences
//! - A body whose last kept line has no line terminator: rtpengine glues its
//!   first added line onto it (`a=x-lasta=rtpmap:...`, measured); we end that
//!   line with CRLF first. A body without any `m=` and without a final line
//!   terminator makes rtpengine answer "Error rewriting SDP"; we rewrite it.

mod attribute;
mod codec;
mod error;
mod ice;
mod lines;
mod plan;
mod rewrite;
mod session;

pub use attribute::Direction;
pub use codec::{rtpmap_value, static_payload_type, RtpMap};
pub use error::SdpError;
pub use ice::{host_priority, IceCandidate};
pub use plan::{IceAdvert, MediaPlan, RewritePlan, SdpOptions};
pub use rewrite::rewrite;
pub use session::{AddressFamily, Connection, MediaSection, Origin, RtcpAttribute, Session};
