//! Our ICE host candidates, in rtpengine 10.5's format:
//! `a=candidate:<foundation> <component> UDP <priority> <address> <port> typ host`.
//!
//! Measured on 10.5: the foundation is 16 random letters/digits per local
//! address, the same for every call until the daemon restarts; `a=ice-ufrag`
//! is 8 and `a=ice-pwd` 26 random letters/digits per media; every address of
//! the logical interface is advertised, the media's own family first.

use std::fmt::Write;
use std::net::IpAddr;

/// Type preference of host candidates (RFC 8445 recommends 126).
const HOST_TYPE_PREFERENCE: u32 = 126;
/// Type preference of relay candidates (rtpengine's table: 0).
const RELAY_TYPE_PREFERENCE: u32 = 0;

/// One host candidate we advertise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IceCandidate {
    /// rtpengine uses 16 random alphanumerics per local interface address.
    pub foundation: String,
    /// 1 = RTP, 2 = RTCP.
    pub component: u8,
    pub priority: u32,
    pub address: IpAddr,
    pub port: u16,
    /// `typ relay` (ICE=force-relay) instead of `typ host`; rtpengine names
    /// the candidate's own address as its related address.
    pub relay: bool,
}

/// The priority rtpengine gives a host candidate: type preference 126, local
/// preference 65535 minus the interface's position among the logical
/// interface's addresses (0 for the first), component id as usual.
/// Measured: 2130706431 (first address, RTP), 2130706175 (second address, RTP).
pub fn host_priority(interface_index: u16, component: u8) -> u32 {
    candidate_priority(HOST_TYPE_PREFERENCE, u32::from(interface_index), component)
}

/// rtpengine's priority formula: `rank` counts down from the top local
/// preference (65535 - rank), so 0 is the most preferred. Past rank 65535
/// (in passthrough) 10.5's unsigned arithmetic wraps and fills every bit
/// above the component; so does ours.
pub fn candidate_priority(type_preference: u32, rank: u32, component: u8) -> u32 {
    let local_preference = 65535u32.wrapping_sub(rank);
    ((type_preference & 0xff) << 24) | (local_preference << 8) | (256 - u32::from(component.max(1)))
}

/// The type preference of our candidates: host, or relay with ICE=force-relay.
pub fn our_type_preference(relay: bool) -> u32 {
    if relay {
        RELAY_TYPE_PREFERENCE
    } else {
        HOST_TYPE_PREFERENCE
    }
}

/// In passthrough (10.5's `new_priority`) we rank ourselves just below the
/// party's lowest candidate of our type: every component-1 candidate of that
/// type at or below the running priority pulls our (type preference, rank)
/// down to one rank under it. `party` holds the `a=candidate` values of the
/// section. Measured: Chrome's host 2122260223 gives us 2122260479 (rank 32992).
pub fn passthrough_preferences(party: &[String], relay: bool) -> (u32, u32) {
    let wanted = if relay { "relay" } else { "host" };
    let mut type_pref = our_type_preference(relay);
    let mut rank = 0u32;
    let mut priority = candidate_priority(type_pref, rank, 1);
    for value in party {
        let w: Vec<&str> = value.split(' ').filter(|w| !w.is_empty()).collect();
        let (Some(component), Some(prio), Some(kind)) = (
            w.get(1).and_then(|c| c.parse::<u32>().ok()),
            w.get(3).and_then(|p| p.parse::<u32>().ok()),
            w.iter()
                .position(|x| *x == "typ")
                .and_then(|i| w.get(i + 1)),
        ) else {
            continue;
        };
        if component != 1 || prio > priority || !kind.eq_ignore_ascii_case(wanted) {
            continue;
        }
        type_pref = prio >> 24;
        rank = 65535 - ((prio & 0xffff00) >> 8);
        if rank > 0 {
            rank -= 1;
        } else {
            // No rank left above: deviate from the RFC values as 10.5 does.
            type_pref = type_pref.saturating_sub(1);
            rank = 65535;
        }
        priority = candidate_priority(type_pref, rank, 1);
    }
    (type_pref, rank)
}

impl IceCandidate {
    /// The attribute value after `a=candidate:`.
    pub fn to_value(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = write!(
            out,
            "{} {} UDP {} {} {} typ ",
            self.foundation, self.component, self.priority, self.address, self.port
        );
        if self.relay {
            let _ = write!(out, "relay raddr {} rport {}", self.address, self.port);
        } else {
            out.push_str("host");
        }
        out
    }
}
