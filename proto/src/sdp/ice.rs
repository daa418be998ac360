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
}

/// The priority rtpengine gives a host candidate: type preference 126, local
/// preference 65535 minus the interface's position among the logical
/// interface's addresses (0 for the first), component id as usual.
/// Measured: 2130706431 (first address, RTP), 2130706175 (second address, RTP).
pub fn host_priority(interface_index: u16, component: u8) -> u32 {
    let local_preference = 65535 - u32::from(interface_index);
    (HOST_TYPE_PREFERENCE << 24) + (local_preference << 8) + (256 - u32::from(component))
}

impl IceCandidate {
    /// The attribute value after `a=candidate:`.
    pub fn to_value(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = write!(
            out,
            "{} {} UDP {} {} {} typ host",
            self.foundation, self.component, self.priority, self.address, self.port
        );
        out
    }
}
