//! The host's interface addresses, read once at start over rtnetlink (a link dump for
//! names and flags, then an address dump), in the kernel's order: IPv4 addresses of
//! every link by index, then IPv6 ones — the order rtpengine 10.5 sees them in.

use std::collections::HashMap;
use std::io;
use std::net::IpAddr;

use netlink_packet_core::{
    NetlinkHeader, NetlinkMessage, NetlinkPayload, NLM_F_DUMP, NLM_F_DUMP_INTR, NLM_F_REQUEST,
};
use netlink_packet_route::address::{AddressAttribute, AddressMessage};
use netlink_packet_route::link::{LinkAttribute, LinkFlags, LinkMessage};
use netlink_packet_route::RouteNetlinkMessage;
use netlink_sys::{protocols::NETLINK_ROUTE, Socket, SocketAddr};

use super::host::HostAddr;

/// A dump reply larger than the kernel ever sends in one datagram (32 KiB).
const RECV_BUFFER: usize = 64 * 1024;
/// A dump the kernel marks as interrupted (addresses changed meanwhile) is redone.
const DUMP_TRIES: usize = 5;

/// Every address of every link, with the link's name and flags.
pub fn host_addrs() -> io::Result<Vec<HostAddr>> {
    let mut last = None;
    for _ in 0..DUMP_TRIES {
        match read_once() {
            Ok(Some(addrs)) => return Ok(addrs),
            Ok(None) => last = Some(io::Error::other("interface dump interrupted repeatedly")),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::other("interface dump failed")))
}

/// One consistent read, or None if the kernel reported the dump as interrupted.
fn read_once() -> io::Result<Option<Vec<HostAddr>>> {
    let mut socket = Socket::new(NETLINK_ROUTE)?;
    socket.bind_auto()?;
    socket.connect(&SocketAddr::new(0, 0))?;
    let mut links: HashMap<u32, (String, LinkFlags)> = HashMap::new();
    let link_dump = dump(
        &socket,
        1,
        RouteNetlinkMessage::GetLink(LinkMessage::default()),
    )?;
    let Some(link_msgs) = link_dump else {
        return Ok(None);
    };
    for m in link_msgs {
        if let RouteNetlinkMessage::NewLink(l) = m {
            let name = l.attributes.iter().find_map(|a| match a {
                LinkAttribute::IfName(n) => Some(n.clone()),
                _ => None,
            });
            if let Some(name) = name {
                links.insert(l.header.index, (name, l.header.flags));
            }
        }
    }
    let addr_dump = dump(
        &socket,
        2,
        RouteNetlinkMessage::GetAddress(AddressMessage::default()),
    )?;
    let Some(addr_msgs) = addr_dump else {
        return Ok(None);
    };
    let mut out = Vec::new();
    for m in addr_msgs {
        let RouteNetlinkMessage::NewAddress(a) = m else {
            continue;
        };
        let Some((link, flags)) = links.get(&a.header.index) else {
            // A link that appeared after the link dump: the next start sees it.
            continue;
        };
        let mut local = None;
        let mut address = None;
        let mut label = None;
        for attr in &a.attributes {
            match attr {
                AddressAttribute::Local(ip) => local = Some(*ip),
                AddressAttribute::Address(ip) => address = Some(*ip),
                AddressAttribute::Label(l) => label = Some(l.clone()),
                _ => {}
            }
        }
        // On point-to-point links IFA_ADDRESS is the peer; IFA_LOCAL is ours.
        let Some(ip) = local.or(address) else {
            continue;
        };
        // IPv4 addresses carry their label (`eth0:1` for an alias); IPv6 have none.
        let label = match ip {
            IpAddr::V4(_) => label.unwrap_or_else(|| link.clone()),
            IpAddr::V6(_) => link.clone(),
        };
        out.push(HostAddr {
            label,
            link: link.clone(),
            ip,
            up: flags.contains(LinkFlags::Up),
            loopback: flags.contains(LinkFlags::Loopback),
        });
    }
    Ok(Some(out))
}

/// Send one dump request and collect its replies; None if the dump was interrupted.
fn dump(
    socket: &Socket,
    seq: u32,
    request: RouteNetlinkMessage,
) -> io::Result<Option<Vec<RouteNetlinkMessage>>> {
    let mut packet = NetlinkMessage::new(NetlinkHeader::default(), NetlinkPayload::from(request));
    packet.header.flags = NLM_F_DUMP | NLM_F_REQUEST;
    packet.header.sequence_number = seq;
    packet.finalize();
    let mut buf = vec![0u8; packet.buffer_len()];
    packet.serialize(&mut buf);
    socket.send(&buf, 0)?;

    let mut out = Vec::new();
    let mut interrupted = false;
    let mut rx: Vec<u8> = Vec::with_capacity(RECV_BUFFER);
    loop {
        rx.clear();
        let size = socket.recv(&mut rx, libc::MSG_TRUNC)?;
        if size > rx.len() {
            return Err(io::Error::other(format!(
                "netlink reply of {size} bytes truncated"
            )));
        }
        let mut offset = 0;
        while offset < size {
            let msg: NetlinkMessage<RouteNetlinkMessage> =
                NetlinkMessage::deserialize(&rx[offset..size]).map_err(|e| {
                    io::Error::new(io::ErrorKind::InvalidData, format!("netlink reply: {e}"))
                })?;
            let len = msg.header.length as usize;
            if msg.header.sequence_number != seq {
                // Not ours (cannot happen on a fresh socket); skip it.
            } else {
                if msg.header.flags & NLM_F_DUMP_INTR != 0 {
                    interrupted = true;
                }
                match msg.payload {
                    NetlinkPayload::Done(_) => return Ok((!interrupted).then_some(out)),
                    NetlinkPayload::Error(e) => return Err(e.to_io()),
                    NetlinkPayload::InnerMessage(m) => out.push(m),
                    _ => {}
                }
            }
            if len == 0 {
                break;
            }
            // Messages are 4-byte aligned within a datagram.
            offset += (len + 3) & !3;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_loopback_addresses() {
        // Every network namespace has `lo`; a test machine brings it up.
        let addrs = host_addrs().unwrap();
        let lo: Vec<_> = addrs.iter().filter(|a| a.loopback).collect();
        assert!(
            lo.iter()
                .any(|a| a.ip == IpAddr::from([127, 0, 0, 1]) && a.link == "lo" && a.label == "lo"),
            "{addrs:?}"
        );
        // IPv4 before IPv6, as the kernel dumps them.
        let first_v6 = addrs.iter().position(|a| a.ip.is_ipv6());
        let last_v4 = addrs.iter().rposition(|a| a.ip.is_ipv4());
        if let (Some(v6), Some(v4)) = (first_v6, last_v4) {
            assert!(v4 < v6, "{addrs:?}");
        }
    }
}
