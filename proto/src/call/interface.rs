//! The local media addresses calls are placed on, and the text form of an
//! `--interface` spec, `[NAME/]ADDRESS[!ADVERTISED]`.
//!
//! Resolving a spec whose ADDRESS names a network interface or a host takes
//! lookups on the host; the daemon's configuration does those and hands the
//! call model the resulting `Interface` list. Here is only what needs no
//! lookup: the spec's grammar and specs made of IP addresses.

use std::net::IpAddr;

/// One local media address of a logical interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interface {
    pub name: String,
    pub local: IpAddr,
    pub advertised: IpAddr,
}

impl Interface {
    /// The round-robin group of `BASE:SUFFIX` names (10.5's `name_base`); the
    /// whole name otherwise.
    pub fn base_name(&self) -> &str {
        self.name.split_once(':').map_or(&self.name, |(b, _)| b)
    }

    /// A spec whose ADDRESS and ADVERTISED are IP addresses (no lookups).
    pub fn parse(spec: &str) -> Result<Interface, String> {
        let s = InterfaceSpec::split(spec)?;
        let local = ip_literal(s.local)
            .ok_or_else(|| format!("'{}' is not an IP address", s.local))
            .and_then(usable_address)?;
        let advertised = match s.advertised {
            None => local,
            Some(a) => ip_literal(a)
                .ok_or_else(|| format!("advertised '{a}' is not an IP address"))
                .and_then(usable_address)?,
        };
        Ok(Interface {
            name: s.name.to_owned(),
            local,
            advertised,
        })
    }
}

/// The parts of an `--interface` spec, not yet resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InterfaceSpec<'a> {
    /// The logical interface; `default` when the spec names none.
    pub name: &'a str,
    /// An IP address, a network interface, `any`, or a host name.
    pub local: &'a str,
    /// An IP address or a host name.
    pub advertised: Option<&'a str>,
}

impl<'a> InterfaceSpec<'a> {
    pub fn split(spec: &'a str) -> Result<InterfaceSpec<'a>, String> {
        let spec = spec.trim();
        let (name, rest) = match spec.split_once('/') {
            Some(("", _)) => return Err("empty interface name".into()),
            Some((n, r)) => (n, r),
            None => ("default", spec),
        };
        // `BASE:SUFFIX` names one member of a round-robin group: a call asking for
        // BASE (or for no name while such a member is the first interface) gets the
        // members in turn (see `registry::pick_interface`).
        if let Some((base, suffix)) = name.split_once(':') {
            if base.is_empty() || suffix.is_empty() {
                return Err(format!("incomplete round-robin interface name '{name}'"));
            }
        }
        let (local, advertised) = match rest.split_once('!') {
            Some((l, a)) => (l, Some(a)),
            None => (rest, None),
        };
        if local.is_empty() {
            return Err("no address or interface name".into());
        }
        if advertised == Some("") {
            return Err("empty advertised address after '!'".into());
        }
        Ok(InterfaceSpec {
            name,
            local,
            advertised,
        })
    }
}

/// An IP address, IPv6 with or without brackets.
pub fn ip_literal(s: &str) -> Option<IpAddr> {
    let inner = s
        .strip_prefix('[')
        .and_then(|s| s.strip_suffix(']'))
        .unwrap_or(s);
    inner.parse().ok()
}

/// `ip` unless it is the unspecified address, which no peer can send to.
pub fn usable_address(ip: IpAddr) -> Result<IpAddr, String> {
    if ip.is_unspecified() {
        return Err(format!("{ip} is not a usable media address"));
    }
    Ok(ip)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_takes_addresses_only() {
        let i = Interface::parse("pub/10.0.0.1!203.0.113.5").unwrap();
        assert_eq!(i.name, "pub");
        assert_eq!(i.local, "10.0.0.1".parse::<IpAddr>().unwrap());
        assert_eq!(i.advertised, "203.0.113.5".parse::<IpAddr>().unwrap());
        let i = Interface::parse("[::1]").unwrap();
        assert_eq!((i.name.as_str(), i.advertised), ("default", i.local));
        assert!(Interface::parse("eth0")
            .unwrap_err()
            .contains("not an IP address"));
        assert!(Interface::parse("/1.2.3.4").is_err());
        assert!(Interface::parse("1.2.3.4!pub.example").is_err());
        assert!(Interface::parse("0.0.0.0")
            .unwrap_err()
            .contains("not a usable"));
    }

    #[test]
    fn round_robin_names() {
        let i = Interface::parse("pub:2/10.0.0.1").unwrap();
        assert_eq!((i.name.as_str(), i.base_name()), ("pub:2", "pub"));
        assert_eq!(Interface::parse("10.0.0.1").unwrap().base_name(), "default");
        assert!(InterfaceSpec::split(":2/v0").is_err());
        assert!(InterfaceSpec::split("pub:/v0").is_err());
    }
}
