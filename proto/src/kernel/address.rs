//! Socket addresses in the module's `re_address` form.

use std::net::{IpAddr, SocketAddr};

use rtpengine_core::abi::Address;

pub fn to_abi(a: SocketAddr) -> Address {
    match a.ip() {
        IpAddr::V4(ip) => Address::v4(ip.octets(), a.port()),
        IpAddr::V6(ip) => match ip.to_ipv4_mapped() {
            // A v4-mapped source on a dual-stack socket is an IPv4 packet on the wire.
            Some(v4) => Address::v4(v4.octets(), a.port()),
            None => Address::v6(ip.octets(), a.port()),
        },
    }
}

/// `None` for an address family the module does not know.
pub fn from_abi(a: &Address) -> Option<SocketAddr> {
    let ip = match a.family {
        rtpengine_core::abi::AF_INET => {
            let b = a.ip_bytes();
            IpAddr::from([b[0], b[1], b[2], b[3]])
        }
        rtpengine_core::abi::AF_INET6 => {
            let mut o = [0u8; 16];
            o.copy_from_slice(&a.addr);
            IpAddr::from(o)
        }
        _ => return None,
    };
    Some(SocketAddr::new(ip, a.port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_both_families() {
        for s in ["10.0.1.2:30000", "[fd00:1::2]:4000"] {
            let a: SocketAddr = s.parse().unwrap();
            assert_eq!(from_abi(&to_abi(a)), Some(a));
        }
        let v4 = to_abi("10.0.1.2:30000".parse().unwrap());
        assert_eq!(
            (v4.family, &v4.addr[..4], v4.port),
            (2, &[10, 0, 1, 2][..], 30000)
        );
        assert!(v4.addr[4..].iter().all(|b| *b == 0));
        let mapped: SocketAddr = "[::ffff:10.0.1.2]:30000".parse().unwrap();
        assert_eq!(to_abi(mapped), v4);
        let mut bad = v4;
        bad.family = 7;
        assert_eq!(from_abi(&bad), None);
    }
}
