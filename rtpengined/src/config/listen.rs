//! `[IP46|HOSTNAME:]PORT` listen specifications.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};

use super::ConfigError;

/// Resolve a listen spec to socket addresses. A bare port listens on IPv4 and IPv6
/// wildcard addresses.
pub fn parse(spec: &str) -> Result<Vec<SocketAddr>, ConfigError> {
    let err = |m: &str| ConfigError::Listen(spec.to_owned(), m.to_owned());
    let s = spec.trim();
    if let Ok(port) = s.parse::<u16>() {
        return Ok(vec![
            SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), port),
            SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), port),
        ]);
    }
    if let Ok(sa) = s.parse::<SocketAddr>() {
        return Ok(vec![sa]);
    }
    let (host, port) = s
        .rsplit_once(':')
        .ok_or_else(|| err("expected [HOST:]PORT"))?;
    let port: u16 = port.parse().map_err(|_| err("bad port"))?;
    if let Ok(ip) = host.trim_matches(['[', ']']).parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    let addrs: Vec<SocketAddr> = (host, port)
        .to_socket_addrs()
        .map_err(|e| err(&e.to_string()))?
        .collect();
    // Hostnames like "localhost" resolve to both families; take the first of each.
    let mut out = Vec::new();
    for fam_v4 in [true, false] {
        if let Some(a) = addrs.iter().find(|a| a.is_ipv4() == fam_v4) {
            out.push(*a);
        }
    }
    if out.is_empty() {
        return Err(err("hostname did not resolve"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        assert_eq!(
            parse("127.0.0.1:2223").unwrap(),
            vec!["127.0.0.1:2223".parse().unwrap()]
        );
        assert_eq!(
            parse("[::1]:2223").unwrap(),
            vec!["[::1]:2223".parse().unwrap()]
        );
        assert_eq!(
            parse("::1:2223").unwrap(),
            vec!["[::1]:2223".parse().unwrap()]
        );
        assert_eq!(parse("2223").unwrap().len(), 2);
        assert!(parse("localhost:2223")
            .unwrap()
            .iter()
            .all(|a| a.ip().is_loopback()));
        assert!(parse("127.0.0.1:notaport").is_err());
        assert!(parse("").is_err());
    }
}
