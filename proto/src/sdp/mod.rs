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
//! # Mapping ng flags onto a plan (for the daemon; measured against 10.5)
//! | ng flag | plan field |
//! |---|---|
//! | `replace: origin` | `RewritePlan::replace_origin` |
//! | `replace: session-connection` | `RewritePlan::replace_session_connection` |
//! | ports allocated | `MediaPlan::port`, `rtcp_port` (RTP port when rtcp-mux is accepted) |
//! | `no-rtcp-attribute` | `rtcp_port: None` |
//! | offer: `rtcp-mux: offer`, or the SDP has `a=rtcp-mux` and no `demux` (`reject` does *not* remove it) | `rtcp_mux: true`, RTCP port in `rtcp_port` |
//! | answer: offerer had mux and (answerer has it, or offer had `accept`/`demux`, or answer has `accept`) | `rtcp_mux: true`, `rtcp_port = port` (also an offer with mux to a party already muxing) |
//! | `ICE: remove` / `force` / default | `ice: None` / `Some` / `Some` iff the side receiving this SDP spoke ICE (offer: the SDP has ICE; answer: the offer had) |
//! | `ICE: optional` / `force-relay` | `ice: Some` (like `force`); `SdpOptions::keep_party_ice` (and `force_relay`: o=/c=/m= and the SDP's rtcp lines kept, its relay candidates dropped, ours `typ relay`) |
//! | ICE on both sides under `optional` / `force-relay` (10.5's PASSTHRU, sticky) | `MediaPlan::passthrough`: the party's ICE/DTLS/SDES/extmap lines stay, our candidates ranked by `passthrough_preferences`, no credentials of ours |
//! | ICE candidates | every address of the logical interface, the media's family first, component 1 then 2 (only 1 when mux is accepted); priority `host_priority(position, component)` |
//! | `direction`, `address-family`, `media-address` | `address`: offer uses `direction[1]`'s interface, answer the offer's `direction[0]`; family = `address-family`, else *each media's own* `c=` family (of the offerer's SDP in an answer); `media-address` is written over it in c= and our candidates, and chooses nothing |
//! | peer on hold (`c=` 0.0.0.0 / `::`) and no ICE | `MediaPlan::address` = the unspecified address of our interface's family (`media-address` still wins) |
//! | `received-from`, `trust-address`, `SIP-source-address` | not in the SDP we send (they choose where *we* send media) |
//! | `transport-protocol` | `protocol`: the receiver's protocol (`call::protocol`) |
//! | `codec` options, `ptime`, `ptime-reverse`, `reuse-codecs`, `single-codec` | once used on a media: `formats`, `codecs` and `ptime` from that side's codec store (`call::codecs`, 10.5's codec handlers) |
//! | codec negotiation | answer: `formats` = answer's ∩ what the answerer was offered |
//! | ptime | the SDP's, else the last ptime any earlier SDP of the call gave that media line (either side) |
//! | `a=mid` | offer: the SDP's (`generate-mid`: `index + 1` when absent); answer: the offerer's media id (its own `a=mid`, else the one it was offered), never the answer's (measured in fixtures/webrtc/dtls-sip-to-browser) |
//! | `loop-protect` | `RewritePlan::loop_protect` (rtpengine's token) |
//! | `SDES` list, `SDES-<x>` flags, RTP/SAVP(F) out | `MediaPlan::crypto` from `srtp::session::offer_lines` / `answer_lines` (rules in `srtp::sdes`) |
//! | `DTLS`, `DTLS-reverse`, `DTLS-fingerprint`, `--dtls-passive` | `MediaPlan::dtls` (role and hash chosen by `call::dtls`) |
//! | `original-sendrecv`, `full-rtcp-attribute`, `strip-extmap`, `ICE-lite` | `RewritePlan::options` |
//!
//! `RewritePlan::new` / `MediaPlan::new` fill in the defaults, so new optional
//! fields do not break callers that use them.
//!
//! # rtpengine 10.5 behaviours matched (recorded in rtpengined/tests/fixtures/sdp)
//! - Session level: `o=` address replaced only with `replace origin`; session
//!   `c=` replaced with `replace session-connection` *or* when some media has no
//!   `c=`, and then with the *first media's* address; direction, ICE
//!   (ufrag/pwd/lite/options/candidates), `a=setup`, well-formed
//!   `a=fingerprint` and `a=group:BUNDLE` are dropped; a session direction
//!   overrides every media's; the loop-protect `a=rtpengine:` line, then
//!   `a=ice-lite`, end the session part.
//! - Media: `m=` port/protocol/formats replaced in place (`/count` kept); media
//!   `c=` replaced in place (also in rejected sections); `i=`, `b=`, `k=` and
//!   unknown attributes kept in their order; rtpmap, fmtp, payload rtcp-fb,
//!   ptime, mid, direction, rtcp, rtcp-mux, ICE, setup, fingerprint and
//!   end-of-candidates are taken out and printed after the kept attributes in
//!   this order: `a=mid`, per payload type `a=rtpmap` (static types get theirs
//!   from RFC 3551, a dynamic type without rtpmap gets `<pt> /0`, channel count
//!   1 is dropped) then its *last* `a=fmtp` then its `a=rtcp-fb`, then the
//!   direction (always, also for non-RTP such as `udptl`), `a=rtcp`,
//!   `a=rtcp-mux`, `a=ptime`, `a=ice-ufrag`, `a=ice-pwd`, `a=ice-options:trickle`
//!   (toward a trickle-ICE peer), candidates, `a=end-of-candidates` if the SDP
//!   had it or the peer does trickle ICE. Codec attributes of payload types
//!   not in `m=` are dropped. Rejected sections (port 0) get only `a=mid`.
//! - A peer at `0.0.0.0`/`::` is on hold: its address is kept and recv is
//!   taken out of its direction (sendrecv → sendonly, recvonly → inactive);
//!   unless it does trickle ICE (`Session::trickle_ice`: an ICE ufrag and a
//!   *media-level* `a=ice-options:trickle`, as Chrome writes): then it is not
//!   a hold, and with port 9 (RFC 8840's "no candidate yet") our own address
//!   is advertised. Firefox's session-level trickle option does not count
//!   (recorded in rtpengined/tests/fixtures/webrtc).
//! - Malformed `a=rtpmap` (no clock rate, two spaces) and `a=ptime` are kept
//!   as unknown lines; `a=rtcp:<anything>` is dropped but one whose address
//!   part is not ` IN IP4|IP6 <ip>` is kept; trailing blanks after the
//!   formats of `m=` are dropped, after `c=` kept.
//! - Errors, as in rtpengine ("Failed to parse SDP"): a line type outside
//!   RFC 4566 (`x=`, `A=`), a `c=` with a host name, multicast TTL, two
//!   spaces or the wrong family, an `m=` port above 65535, an `o=` with fewer
//!   than six fields, a start other than `v=0`, a blank line inside the body.
//!
//! - SDES: with `MediaPlan::crypto` set, the section's `a=crypto` lines are
//!   replaced by ours, printed after `a=rtcp-mux` and before `a=ptime`
//!   (measured); with `None` they are left in place. DTLS: `a=setup` and
//!   parsable `a=fingerprint` lines are always taken out; `MediaPlan::dtls`
//!   prints ours right after the crypto lines (rules: docs/dtls-signalling.md).
//!
//! # Not matched yet
//! - Transcoding: where 10.5 would transcode (codec options, T.38 gateway)
//!   the daemon refuses the answer (or the T.38 offer) instead; where it only
//!   re-packetises for a `ptime`, packets are relayed as they come.
//! - An empty body: rtpengine answers `ok` without `sdp`; `parse` says `Empty`.
//!
//! # Deliberate differences
//! - Two spaces inside `m=` or `o=`: rtpengine splits on single spaces and
//!   garbles the line (`m=audio 36074 5000 RTP/AVP  0`); we refuse such an
//!   `m=` and rewrite such an `o=` by its words.
//! - A body whose last kept line has no line terminator: rtpengine glues its
//!   first added line onto it (`a=x-lasta=rtpmap:...`, measured); we end that
//!   line with CRLF first. A body without any `m=` and without a final line
//!   terminator makes rtpengine answer "Error rewriting SDP"; we rewrite it.

mod attribute;
mod codec;
pub mod crypto;
mod dtls;
mod error;
mod ice;
mod lines;
mod plan;
mod rewrite;
mod session;

pub use attribute::Direction;
pub use codec::{rtpmap_value, static_payload_type, RtpMap};
pub use dtls::{fingerprint_hash_name, DtlsAdvert, Fingerprint, Setup, FINGERPRINT_HASHES};
pub use error::SdpError;
pub use ice::{
    candidate_priority, host_priority, our_type_preference, passthrough_preferences, IceCandidate,
};
pub use plan::{CodecLine, IceAdvert, MediaPlan, RewritePlan, SdpOptions};
pub use rewrite::rewrite;
pub use session::{AddressFamily, Connection, MediaSection, Origin, RtcpAttribute, Session};
