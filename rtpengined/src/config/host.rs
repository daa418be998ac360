//! What the configuration needs to know about the host: its interface addresses and
//! host name lookups. Behind a trait so that resolving can be tested with a made-up
//! host; `LiveHost` is the real one (rtnetlink and the system resolver).

use std::net::{IpAddr, ToSocketAddrs};

/// One address of a network interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostAddr {
    /// The name an interface spec matches: the address label for IPv4 (the link
    /// name, or `eth0:1` for an alias), the link name for IPv6.
    pub label: String,
    /// The link's name.
    pub link: String,
    pub ip: IpAddr,
    /// The link is administratively up.
    pub up: bool,
    /// The link is a loopback device.
    pub loopback: bool,
}

pub trait Host {
    /// Every address of every interface, IPv4 before IPv6, in interface order.
    fn addrs(&self) -> Result<Vec<HostAddr>, String>;
    /// The addresses a host name resolves to, in the resolver's order.
    fn lookup(&self, name: &str) -> Result<Vec<IpAddr>, String>;
}

/// The machine the daemon runs on (its network namespace).
pub struct LiveHost;

impl Host for LiveHost {
    fn addrs(&self) -> Result<Vec<HostAddr>, String> {
        super::netlink::host_addrs().map_err(|e| e.to_string())
    }

    fn lookup(&self, name: &str) -> Result<Vec<IpAddr>, String> {
        // getaddrinfo() with no family preference, as rtpengine asks.
        let addrs = (name, 0).to_socket_addrs().map_err(|e| e.to_string())?;
        let mut out: Vec<IpAddr> = Vec::new();
        for a in addrs {
            if !out.contains(&a.ip()) {
                out.push(a.ip());
            }
        }
        Ok(out)
    }
}
