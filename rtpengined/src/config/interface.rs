//! `--interface` specs, `[NAME/]ADDRESS[!ADVERTISED]`, resolved as rtpengine 10.5
//! resolves them. ADDRESS is tried as
//! 1. an IP address;
//! 2. a network interface: every address of that interface (IPv4 ones by their label,
//!    so `eth0:1` is an alias's address), or with `any` every address of every
//!    interface but loopback ones; the interface must be up, and IPv6 link-local
//!    addresses are left out;
//! 3. a host name: every address it resolves to.
//!
//! Each address becomes one `Interface` of the logical interface NAME (`default`
//! without one), all advertising ADVERTISED if given (an IP address or the first
//! address of a host name). The call code picks among the addresses of a logical
//! interface by the peer's address family. The spec's grammar and the `Interface`
//! type belong to the call model (`call::interface`); the lookups are made here.

use std::net::IpAddr;

use super::host::{Host, HostAddr};
use super::ConfigError;

pub use crate::call::interface::Interface;
use crate::call::interface::{ip_literal, usable_address, InterfaceSpec};

/// fe80::/10: rtpengine leaves these out of interface lookups (they need a scope).
fn is_v6_link_local(ip: &IpAddr) -> bool {
    matches!(ip, IpAddr::V6(v6) if (v6.segments()[0] & 0xffc0) == 0xfe80)
}

/// The addresses `any` or an interface name stands for, in the host's order.
fn interface_addrs(name: &str, addrs: &[HostAddr]) -> Vec<IpAddr> {
    addrs
        .iter()
        .filter(|a| {
            if name == "any" {
                !a.loopback
            } else {
                a.label == name
            }
        })
        .filter(|a| a.up && !is_v6_link_local(&a.ip))
        .map(|a| a.ip)
        .collect()
}

/// Why `name` gave no address (neither as an interface nor as a host name).
fn explain(name: &str, addrs: &Result<Vec<HostAddr>, String>, dns: &str) -> String {
    let addrs = match addrs {
        Ok(a) => a,
        Err(e) => {
            return format!(
                "not an IP address; cannot read the network interfaces ({e}); \
                 not a host name either ({dns})"
            )
        }
    };
    if name == "any" {
        return "no network interface other than loopback is up with a usable address".into();
    }
    let known: Vec<&HostAddr> = addrs
        .iter()
        .filter(|a| a.label == name || a.link == name)
        .collect();
    if known.is_empty() {
        format!("no network interface '{name}' with an address, and not a host name ({dns})")
    } else if known.iter().all(|a| !a.up) {
        format!("network interface '{name}' is down")
    } else {
        format!(
            "network interface '{name}' has no usable address (IPv6 link-local ones are not used)"
        )
    }
}

/// Resolves specs, reading the host's addresses at most once and only if needed.
struct Resolver<'h> {
    host: &'h dyn Host,
    addrs: Option<Result<Vec<HostAddr>, String>>,
}

impl Resolver<'_> {
    fn local(&mut self, local: &str) -> Result<Vec<IpAddr>, String> {
        if let Some(ip) = ip_literal(local) {
            return Ok(vec![usable_address(ip)?]);
        }
        let host = self.host;
        let addrs = self.addrs.get_or_insert_with(|| host.addrs());
        if let Ok(list) = addrs {
            let found = interface_addrs(local, list);
            if !found.is_empty() {
                return Ok(found);
            }
        }
        match host.lookup(local) {
            Ok(ips) if !ips.is_empty() => Ok(ips),
            Ok(_) => Err(explain(local, addrs, "it resolves to no address")),
            Err(e) => Err(explain(local, addrs, &e)),
        }
    }

    fn advertised(&self, adv: &str) -> Result<IpAddr, String> {
        let ip = match ip_literal(adv) {
            Some(ip) => ip,
            None => match self.host.lookup(adv) {
                Ok(ips) if !ips.is_empty() => ips[0],
                Ok(_) => return Err(format!("advertised '{adv}' resolves to no address")),
                Err(e) => return Err(format!("cannot resolve advertised '{adv}': {e}")),
            },
        };
        usable_address(ip)
    }

    fn resolve(&mut self, spec: &str) -> Result<Vec<Interface>, String> {
        let s = InterfaceSpec::split(spec)?;
        let locals = self.local(s.local)?;
        let advertised = s.advertised.map(|a| self.advertised(a)).transpose()?;
        Ok(locals
            .into_iter()
            .map(|local| Interface {
                name: s.name.to_owned(),
                local,
                advertised: advertised.unwrap_or(local),
            })
            .collect())
    }
}

/// Every spec's interfaces, in spec order.
pub fn resolve_all(specs: &[String], host: &dyn Host) -> Result<Vec<Interface>, ConfigError> {
    let mut r = Resolver { host, addrs: None };
    let mut out = Vec::new();
    for spec in specs {
        let found = r
            .resolve(spec)
            .map_err(|why| ConfigError::Interface(spec.clone(), why))?;
        out.extend(found);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(label: &str, link: &str, ip: &str, up: bool) -> HostAddr {
        HostAddr {
            label: label.into(),
            link: link.into(),
            ip: ip.parse().unwrap(),
            up,
            loopback: link == "lo",
        }
    }

    /// The shape rtpengine 10.5 was checked against: loopback, two veths, an alias
    /// label, IPv6 global and link-local addresses, and a link that is down.
    struct Fake;
    impl Host for Fake {
        fn addrs(&self) -> Result<Vec<HostAddr>, String> {
            Ok(vec![
                addr("lo", "lo", "127.0.0.1", true),
                addr("v1", "v1", "198.51.100.9", true),
                addr("v0", "v0", "198.51.100.1", true),
                addr("v0:1", "v0", "198.51.100.2", true),
                addr("down0", "down0", "192.0.2.99", false),
                addr("lo", "lo", "::1", true),
                addr("v0", "v0", "2001:db8:1::1", true),
                addr("v0", "v0", "fe80::1", true),
                addr("v1", "v1", "fe80::2", true),
                addr("ll", "ll", "fe80::3", true),
            ])
        }
        fn lookup(&self, name: &str) -> Result<Vec<IpAddr>, String> {
            match name {
                "localhost" => Ok(vec!["::1".parse().unwrap(), "127.0.0.1".parse().unwrap()]),
                "pub.example" => Ok(vec!["203.0.113.7".parse().unwrap()]),
                _ => Err("Name or service not known".into()),
            }
        }
    }

    /// A host whose interfaces cannot be read (and whose resolver knows nothing).
    struct Broken;
    impl Host for Broken {
        fn addrs(&self) -> Result<Vec<HostAddr>, String> {
            Err("Permission denied".into())
        }
        fn lookup(&self, _: &str) -> Result<Vec<IpAddr>, String> {
            Err("Name or service not known".into())
        }
    }

    fn show(specs: &[&str], host: &dyn Host) -> Result<Vec<String>, String> {
        let specs: Vec<String> = specs.iter().map(|s| s.to_string()).collect();
        resolve_all(&specs, host)
            .map(|v| {
                v.iter()
                    .map(|i| format!("{}/{}!{}", i.name, i.local, i.advertised))
                    .collect()
            })
            .map_err(|e| e.to_string())
    }

    #[test]
    fn addresses() {
        assert_eq!(
            show(&["127.0.0.1", "pub/[::1]!203.0.113.5", "x/::1"], &Broken).unwrap(),
            [
                "default/127.0.0.1!127.0.0.1",
                "pub/::1!203.0.113.5",
                "x/::1!::1"
            ]
        );
    }

    #[test]
    fn interface_names() {
        // Every address of the interface, IPv4 first, without link-local ones; an
        // alias's address only under its label.
        assert_eq!(
            show(&["v0"], &Fake).unwrap(),
            [
                "default/198.51.100.1!198.51.100.1",
                "default/2001:db8:1::1!2001:db8:1::1"
            ]
        );
        assert_eq!(
            show(&["v0:1"], &Fake).unwrap(),
            ["default/198.51.100.2!198.51.100.2"]
        );
        assert_eq!(
            show(&["ext/v0!203.0.113.7"], &Fake).unwrap(),
            [
                "ext/198.51.100.1!203.0.113.7",
                "ext/2001:db8:1::1!203.0.113.7"
            ]
        );
        assert_eq!(
            show(&["ext/v1!pub.example"], &Fake).unwrap(),
            ["ext/198.51.100.9!203.0.113.7"]
        );
        // Loopback by name is allowed.
        assert_eq!(
            show(&["lo"], &Fake).unwrap(),
            ["default/127.0.0.1!127.0.0.1", "default/::1!::1"]
        );
    }

    #[test]
    fn any_is_every_address_but_loopback() {
        assert_eq!(
            show(&["any"], &Fake).unwrap(),
            [
                "default/198.51.100.9!198.51.100.9",
                "default/198.51.100.1!198.51.100.1",
                "default/198.51.100.2!198.51.100.2",
                "default/2001:db8:1::1!2001:db8:1::1",
            ]
        );
    }

    #[test]
    fn host_names_after_interfaces() {
        assert_eq!(
            show(&["int/localhost"], &Fake).unwrap(),
            ["int/::1!::1", "int/127.0.0.1!127.0.0.1"]
        );
    }

    #[test]
    fn errors_name_the_problem() {
        let err = |spec: &str, host: &dyn Host| show(&[spec], host).unwrap_err();
        let e = err("eth5", &Fake);
        assert!(e.starts_with("invalid --interface 'eth5': "), "{e}");
        assert!(e.contains("no network interface 'eth5'"), "{e}");
        assert!(err("down0", &Fake).contains("'down0' is down"));
        assert!(err("ll", &Fake).contains("'ll' has no usable address"));
        assert!(
            err("any", &Broken).contains("cannot read the network interfaces (Permission denied)")
        );
        assert!(err("pub:/v0", &Fake).contains("incomplete round-robin interface name"));
        assert!(err(":2/v0", &Fake).contains("incomplete round-robin interface name"));
        assert!(err("/v0", &Fake).contains("empty interface name"));
        assert!(err("pub/", &Fake).contains("no address or interface name"));
        assert!(err("v0!", &Fake).contains("empty advertised"));
        assert!(err("v0!nowhere", &Fake).contains("cannot resolve advertised 'nowhere'"));
        assert!(err("0.0.0.0", &Fake).contains("not a usable media address"));
        assert!(err("v0!::", &Fake).contains("not a usable media address"));
        // A host without a non-loopback interface.
        struct OnlyLo;
        impl Host for OnlyLo {
            fn addrs(&self) -> Result<Vec<HostAddr>, String> {
                Ok(vec![addr("lo", "lo", "127.0.0.1", true)])
            }
            fn lookup(&self, _: &str) -> Result<Vec<IpAddr>, String> {
                Err("Name or service not known".into())
            }
        }
        assert!(err("any", &OnlyLo).contains("no network interface other than loopback"));
    }
}
