//! What the daemon decided for one direction of an offer/answer: the input to
//! `rewrite`. The daemon maps ng flags onto it; see the table in `mod.rs`.

use std::net::IpAddr;

use super::attribute::Direction;
use super::dtls::DtlsAdvert;
use super::ice::IceCandidate;

/// Session-level choices plus one [`MediaPlan`] per `m=` section, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RewritePlan {
    /// Our advertised address for `o=` (with `replace_origin`); the session `c=`
    /// gets the first media's address (this one if there is no media).
    pub address: IpAddr,
    /// ng `replace: [origin]`: put `address` into `o=`.
    pub replace_origin: bool,
    /// ng `replace: [session-connection]`: rewrite the session `c=` even when
    /// every media has its own `c=` (without it, rtpengine rewrites the session
    /// `c=` only when some media relies on it).
    pub replace_session_connection: bool,
    /// ng flag `loop-protect`: adds `a=rtpengine:<token>` as the last session-level line.
    pub loop_protect: Option<String>,
    pub media: Vec<MediaPlan>,
    /// Less common ng flags; `SdpOptions::default()` is rtpengine's default behaviour.
    pub options: SdpOptions,
}

/// ng flags that change the SDP's shape, all off by default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SdpOptions {
    /// Flag `original-sendrecv`: direction attributes stay where they were and
    /// none is added.
    pub original_sendrecv: bool,
    /// Flag `full-rtcp-attribute`: `a=rtcp:<port> IN <family> <media address>`.
    pub full_rtcp_attribute: bool,
    /// Flag `strip-extmap`: drop `a=extmap` at session and media level.
    pub strip_extmap: bool,
    /// Key `ICE-lite` (`forward`, ...): add `a=ice-lite` at session level
    /// (after the loop-protect line).
    pub ice_lite: bool,
    /// Key `ICE` `optional` / `force-relay`: the party's ICE lines (ufrag,
    /// pwd, options, candidates) stay where they are at both levels.
    pub keep_party_ice: bool,
    /// Key `ICE=force-relay`: the party's relay candidates go (we are the
    /// relay), and `o=`, `c=`, `m=` and the party's `a=rtcp` / `a=rtcp-mux`
    /// stay as they were.
    pub force_relay: bool,
}

impl RewritePlan {
    /// A plan with rtpengine's defaults (nothing replaced, no options), so that
    /// callers need not list every field.
    pub fn new(address: IpAddr, media: Vec<MediaPlan>) -> RewritePlan {
        RewritePlan {
            address,
            replace_origin: false,
            replace_session_connection: false,
            loop_protect: None,
            media,
            options: SdpOptions::default(),
        }
    }
}

impl MediaPlan {
    /// RTP on `port`, RTCP on `port + 1`, everything else as in the SDP.
    pub fn new(port: u16, address: IpAddr) -> MediaPlan {
        MediaPlan {
            port,
            address,
            rtcp_port: port.checked_add(1).filter(|_| port != 0),
            rtcp_mux: false,
            protocol: None,
            formats: None,
            codecs: None,
            mid: None,
            direction: None,
            ptime: None,
            ice: None,
            trickle_ice: false,
            ice_agent: false,
            crypto: None,
            dtls: None,
            passthrough: false,
        }
    }
}

/// Choices for one `m=` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaPlan {
    /// Our RTP port; 0 leaves the section rejected (nothing is added to it).
    pub port: u16,
    /// Our advertised address for this section's `c=`. For a peer on hold
    /// (`c=` 0.0.0.0 or `::`, see `Connection::is_unspecified`) rtpengine keeps
    /// that unspecified address unless it does ICE with the peer.
    pub address: IpAddr,
    /// `a=rtcp:<port>` to print; `None` prints none (ng `no-rtcp-attribute`).
    /// With rtcp-mux accepted rtpengine prints the RTP port here.
    pub rtcp_port: Option<u16>,
    /// Print `a=rtcp-mux` (offering it, or accepting it in an answer).
    pub rtcp_mux: bool,
    /// Replacement transport protocol (ng `transport-protocol`); `None` keeps the SDP's.
    pub protocol: Option<String>,
    /// Payload types to offer, in order (codec negotiation); `None` keeps the SDP's list.
    pub formats: Option<Vec<String>>,
    /// The codec lines to print for the payload types (in `formats` order),
    /// replacing those derived from the SDP (codec options: 10.5 prints its
    /// codec store); `None` prints the SDP's own rtpmap/fmtp/rtcp-fb lines.
    /// `Some` of an empty list prints none and leaves the SDP's own codec
    /// lines where they are (10.5 with an empty codec store).
    pub codecs: Option<Vec<CodecLine>>,
    /// Direction to print; `None` prints the SDP's own (see `Session::direction_for`).
    pub direction: Option<Direction>,
    /// `a=ptime` to print (rtpengine prints the negotiated ptime, which in an
    /// answer may come from the offer); `None` prints none.
    pub ptime: Option<u32>,
    /// `a=mid` to print, also in a rejected section. rtpengine remembers the
    /// offer's mid and prints it in the answer even if the answerer left it out.
    pub mid: Option<String>,
    /// Our ICE to advertise (ICE force, or default with an ICE peer); `None` strips ICE.
    pub ice: Option<IceAdvert>,
    /// The peer does trickle ICE: with `ice`, print `a=ice-options:trickle`
    /// and `a=end-of-candidates` (we send all our candidates at once).
    pub trickle_ice: bool,
    /// rtpengine runs an ICE agent for this media although `ice` is `None`
    /// (it started one with an earlier SDP): the trickle lines are printed
    /// all the same, where our credentials would be.
    pub ice_agent: bool,
    /// SDES: our `a=crypto` values (after `a=crypto:`), replacing the SDP's;
    /// `None` leaves the SDP's crypto lines where they are.
    pub crypto: Option<Vec<String>>,
    /// DTLS-SRTP: our `a=setup` and `a=fingerprint`, printed after the crypto
    /// lines; `None` prints none (the SDP's are always taken out).
    pub dtls: Option<DtlsAdvert>,
    /// ICE on both sides with `ICE=optional` / `force-relay` (10.5's PASSTHRU):
    /// the party's ICE, `a=fingerprint`, `a=setup`, `a=crypto` and `a=extmap`
    /// stay in place (for the first section: every session attribute), and
    /// `ice` prints candidates only (the credentials are the party's).
    pub passthrough: bool,
}

/// One payload type as printed: its `a=rtpmap`, `a=fmtp` and `a=rtcp-fb` values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodecLine {
    pub payload_type: String,
    /// The value after `a=rtpmap:` (with the payload type).
    pub rtpmap: String,
    pub fmtp: Option<String>,
    pub rtcp_fb: Vec<String>,
}

/// Our ICE credentials and candidates for one media section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IceAdvert {
    pub ufrag: String,
    pub pwd: String,
    /// Printed in this order (rtpengine: every interface for component 1, then 2).
    pub candidates: Vec<IceCandidate>,
}
