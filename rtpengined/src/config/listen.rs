//! `[ADDRESS|HOSTNAME:]PORT` endpoints of the listen and destination options, read the
//! way rtpengine 10.5 reads them:
//! - `PORT` listens on 0.0.0.0 and on [::] (two sockets, the IPv6 one v6-only);
//! - `IPv4:PORT`, `[IPv6]:PORT` (or `IPv6:PORT`, split at the last colon) is that address;
//! - `HOSTNAME:PORT` is the first two addresses the resolver gives (for `localhost`
//!   typically ::1 and 127.0.0.1, one socket each).
//!
//! Destinations (`--graphite`, `--homer`, `--dtmf-log-dest`) need one specific address.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use super::host::Host;
use super::{Cli, ConfigError};

/// A listen spec, split but not resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint<'a> {
    /// A bare port: every address of both families.
    Port(u16),
    Addr(SocketAddr),
    Host(&'a str, u16),
}

/// Split a spec into its forms; nothing is looked up.
pub fn split(spec: &str) -> Result<Endpoint<'_>, String> {
    let s = spec.trim();
    let Some((host, port)) = s.rsplit_once(':') else {
        if s.contains('.') {
            return Err("expected [ADDRESS:]PORT (an address needs a port)".into());
        }
        return Ok(Endpoint::Port(port_number(s)?));
    };
    let port = port_number(port)?;
    let host = match host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        Some(inner) => inner,
        None => host,
    };
    if host.is_empty() {
        return Err("empty address before the port".into());
    }
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(Endpoint::Addr(SocketAddr::new(ip, port)));
    }
    if host.contains(['[', ']', '/', ' ']) {
        return Err(format!("'{host}' is neither an IP address nor a host name"));
    }
    Ok(Endpoint::Host(host, port))
}

/// A decimal port. 0 is accepted: a listener then gets a port the system picks.
fn port_number(s: &str) -> Result<u16, String> {
    match s.parse::<u16>() {
        Ok(p) if s.bytes().all(|b| b.is_ascii_digit()) => Ok(p),
        _ => Err(format!("'{s}' is not a port number (0-65535)")),
    }
}

fn lookup(host: &dyn Host, name: &str) -> Result<Vec<IpAddr>, String> {
    let ips = host
        .lookup(name)
        .map_err(|e| format!("cannot resolve '{name}': {e}"))?;
    if ips.is_empty() {
        return Err(format!("'{name}' resolves to no address"));
    }
    Ok(ips)
}

/// The addresses to listen on for a spec (one or two).
pub fn listen_addrs(spec: &str, host: &dyn Host) -> Result<Vec<SocketAddr>, String> {
    Ok(match split(spec)? {
        Endpoint::Port(p) => vec![
            SocketAddr::new(Ipv4Addr::UNSPECIFIED.into(), p),
            SocketAddr::new(Ipv6Addr::UNSPECIFIED.into(), p),
        ],
        Endpoint::Addr(a) => vec![a],
        Endpoint::Host(name, p) => {
            // rtpengine opens at most two sockets per option: the first two answers.
            let mut out: Vec<SocketAddr> = Vec::new();
            for ip in lookup(host, name)? {
                let a = SocketAddr::new(ip, p);
                if out.len() < 2 && !out.contains(&a) {
                    out.push(a);
                }
            }
            out
        }
    })
}

/// The one address to send to for a destination spec.
pub fn destination(spec: &str, host: &dyn Host) -> Result<SocketAddr, String> {
    let addr = match split(spec)? {
        Endpoint::Port(_) => {
            return Err("expected ADDRESS:PORT (a destination needs an address)".into())
        }
        Endpoint::Addr(a) => a,
        Endpoint::Host(name, p) => SocketAddr::new(lookup(host, name)?[0], p),
    };
    if addr.ip().is_unspecified() {
        return Err("a destination needs a specific address".into());
    }
    if addr.port() == 0 {
        return Err("a destination needs a port other than 0".into());
    }
    Ok(addr)
}

/// `--listen-ng`: every spec's addresses, in order, each once.
pub fn listen_ng(cli: &Cli, host: &dyn Host) -> Result<Vec<SocketAddr>, ConfigError> {
    let mut out: Vec<SocketAddr> = Vec::new();
    for spec in &cli.listen_ng {
        for a in listen_addrs(spec, host).map_err(|why| listen_error("listen-ng", spec, why))? {
            if !out.contains(&a) {
                out.push(a);
            }
        }
    }
    Ok(out)
}

/// `--listen-cli`: its addresses (none when absent, as in 10.5).
pub fn listen_cli(cli: &Cli, host: &dyn Host) -> Result<Vec<SocketAddr>, ConfigError> {
    match cli.listen_cli.as_deref() {
        None => Ok(Vec::new()),
        Some(spec) => listen_addrs(spec, host).map_err(|why| listen_error("listen-cli", spec, why)),
    }
}

/// `--listen-udp`: the rtpproxy protocol's addresses (none when absent).
pub fn listen_udp(cli: &Cli, host: &dyn Host) -> Result<Vec<SocketAddr>, ConfigError> {
    match cli.listen_udp.as_deref() {
        None => Ok(Vec::new()),
        Some(spec) => listen_addrs(spec, host).map_err(|why| listen_error("listen-udp", spec, why)),
    }
}

/// `--listen-http`: every spec's addresses, in order, each once.
pub fn listen_http(cli: &Cli, host: &dyn Host) -> Result<Vec<SocketAddr>, ConfigError> {
    let mut out: Vec<SocketAddr> = Vec::new();
    for spec in &cli.listen_http {
        for a in listen_addrs(spec, host).map_err(|why| listen_error("listen-http", spec, why))? {
            if !out.contains(&a) {
                out.push(a);
            }
        }
    }
    Ok(out)
}

/// `--listen-tcp`: the mediaproxy-style TCP protocol's addresses (none when absent).
pub fn listen_tcp(cli: &Cli, host: &dyn Host) -> Result<Vec<SocketAddr>, ConfigError> {
    match cli.listen_tcp.as_deref() {
        None => Ok(Vec::new()),
        Some(spec) => listen_addrs(spec, host).map_err(|why| listen_error("listen-tcp", spec, why)),
    }
}

/// `--listen-tcp-ng`: ng over TCP (none when absent).
pub fn listen_tcp_ng(cli: &Cli, host: &dyn Host) -> Result<Vec<SocketAddr>, ConfigError> {
    match cli.listen_tcp_ng.as_deref() {
        None => Ok(Vec::new()),
        Some(spec) => {
            listen_addrs(spec, host).map_err(|why| listen_error("listen-tcp-ng", spec, why))
        }
    }
}

/// `--listen-https`: every spec's addresses, in order, each once.
pub fn listen_https(cli: &Cli, host: &dyn Host) -> Result<Vec<SocketAddr>, ConfigError> {
    let mut out: Vec<SocketAddr> = Vec::new();
    for spec in &cli.listen_https {
        for a in listen_addrs(spec, host).map_err(|why| listen_error("listen-https", spec, why))? {
            if !out.contains(&a) {
                out.push(a);
            }
        }
    }
    Ok(out)
}

/// Check the destination options whose feature does not exist yet, so that a typo is a
/// start error now rather than when the feature arrives.
pub fn check_unserved(cli: &Cli, host: &dyn Host) -> Result<(), ConfigError> {
    let destinations: [(&'static str, &Option<String>); 3] = [
        ("graphite", &cli.graphite),
        ("homer", &cli.homer),
        ("dtmf-log-dest", &cli.dtmf_log_dest),
    ];
    for (option, spec) in destinations {
        if let Some(spec) = spec {
            destination(spec, host).map_err(|why| listen_error(option, spec, why))?;
        }
    }
    Ok(())
}

fn listen_error(option: &'static str, spec: &str, why: String) -> ConfigError {
    ConfigError::Listen(option, spec.to_owned(), why)
}

#[cfg(test)]
mod tests {
    use super::super::host::HostAddr;
    use super::*;

    /// A resolver that knows `localhost` (both families, IPv6 first as glibc sorts
    /// them), `v4only` and `many`, and fails everything else.
    struct Fake;
    impl Host for Fake {
        fn addrs(&self) -> Result<Vec<HostAddr>, String> {
            Ok(Vec::new())
        }
        fn lookup(&self, name: &str) -> Result<Vec<IpAddr>, String> {
            let ips = |v: &[&str]| v.iter().map(|s| s.parse().unwrap()).collect();
            match name {
                "localhost" => Ok(ips(&["::1", "127.0.0.1"])),
                "v4only" => Ok(ips(&["192.0.2.7"])),
                "many" => Ok(ips(&["192.0.2.1", "192.0.2.2", "2001:db8::3"])),
                "empty" => Ok(Vec::new()),
                _ => Err("Name or service not known".into()),
            }
        }
    }

    fn addrs(spec: &str) -> Result<Vec<String>, String> {
        listen_addrs(spec, &Fake).map(|v| v.iter().map(|a| a.to_string()).collect())
    }

    #[test]
    fn listen_forms() {
        assert_eq!(addrs("2223").unwrap(), ["0.0.0.0:2223", "[::]:2223"]);
        assert_eq!(addrs(" 2223 ").unwrap(), ["0.0.0.0:2223", "[::]:2223"]);
        assert_eq!(addrs("127.0.0.1:2223").unwrap(), ["127.0.0.1:2223"]);
        assert_eq!(addrs("[::1]:2223").unwrap(), ["[::1]:2223"]);
        assert_eq!(addrs("::1:2223").unwrap(), ["[::1]:2223"]);
        assert_eq!(addrs("0.0.0.0:2223").unwrap(), ["0.0.0.0:2223"]);
        assert_eq!(addrs("[::]:2223").unwrap(), ["[::]:2223"]);
        assert_eq!(addrs("127.0.0.1:0").unwrap(), ["127.0.0.1:0"]);
        assert_eq!(
            addrs("localhost:2223").unwrap(),
            ["[::1]:2223", "127.0.0.1:2223"]
        );
        assert_eq!(addrs("v4only:9").unwrap(), ["192.0.2.7:9"]);
        // Like rtpengine: the first two answers only.
        assert_eq!(addrs("many:9").unwrap(), ["192.0.2.1:9", "192.0.2.2:9"]);
    }

    #[test]
    fn listen_errors() {
        for (spec, why) in [
            ("", "not a port number"),
            ("65536", "not a port number"),
            ("-1", "not a port number"),
            ("+5", "not a port number"),
            ("abc", "not a port number"),
            ("127.0.0.1", "needs a port"),
            ("127.0.0.1:", "not a port number"),
            ("127.0.0.1:notaport", "not a port number"),
            (":2223", "empty address"),
            ("[]:2223", "empty address"),
            ("[::1:2223", "neither an IP address nor a host name"),
            ("nosuchhost:2223", "cannot resolve 'nosuchhost'"),
            ("empty:2223", "resolves to no address"),
            // An IPv6 address without a port splits at its last colon.
            ("2001:db8::1", "cannot resolve '2001:db8:'"),
        ] {
            let err = addrs(spec).expect_err(spec);
            assert!(err.contains(why), "{spec:?}: {err}");
        }
    }

    #[test]
    fn destination_forms() {
        let d = |s: &str| destination(s, &Fake).map(|a| a.to_string());
        assert_eq!(d("127.0.0.1:2003").unwrap(), "127.0.0.1:2003");
        assert_eq!(d("[2001:db8::1]:9060").unwrap(), "[2001:db8::1]:9060");
        assert_eq!(d("localhost:2003").unwrap(), "[::1]:2003");
        assert!(d("2003").unwrap_err().contains("needs an address"));
        assert!(d("0.0.0.0:2003").unwrap_err().contains("specific address"));
        assert!(d("[::]:2003").unwrap_err().contains("specific address"));
        assert!(d("127.0.0.1:0").unwrap_err().contains("port other than 0"));
        assert!(d("nosuchhost:1").unwrap_err().contains("cannot resolve"));
    }

    #[test]
    fn every_endpoint_option_is_checked() {
        use clap::Parser;
        let base = [
            "rtpengined",
            "--config-file=none",
            "-i",
            "127.0.0.1",
            "-n",
            "2223",
        ];
        let check = |extra: &str| {
            let mut v = base.to_vec();
            v.push(extra);
            let cli = Cli::parse_from(v);
            check_unserved(&cli, &Fake)
                .and_then(|()| listen_cli(&cli, &Fake).map(drop))
                .and_then(|()| listen_udp(&cli, &Fake).map(drop))
                .and_then(|()| listen_http(&cli, &Fake).map(drop))
                .and_then(|()| listen_https(&cli, &Fake).map(drop))
                .and_then(|()| listen_tcp(&cli, &Fake).map(drop))
                .and_then(|()| listen_tcp_ng(&cli, &Fake).map(drop))
        };
        for opt in [
            "--listen-tcp",
            "--listen-udp",
            "--listen-tcp-ng",
            "--listen-cli",
            "--listen-http",
            "--listen-https",
        ] {
            assert!(check(&format!("{opt}=localhost:2224")).is_ok(), "{opt}");
            assert!(check(&format!("{opt}=2224")).is_ok(), "{opt}");
            let err = check(&format!("{opt}=localhost:http")).unwrap_err();
            let name = opt.trim_start_matches("--");
            assert!(
                matches!(&err, ConfigError::Listen(o, s, _) if *o == name && s == "localhost:http"),
                "{opt}: {err}"
            );
            assert!(
                err.to_string().starts_with(&format!("invalid {opt} ")),
                "{err}"
            );
        }
        for opt in ["--graphite", "--homer", "--dtmf-log-dest"] {
            assert!(check(&format!("{opt}=127.0.0.1:2003")).is_ok(), "{opt}");
            assert!(
                matches!(check(&format!("{opt}=2003")), Err(ConfigError::Listen(..))),
                "{opt}"
            );
        }
    }
}
