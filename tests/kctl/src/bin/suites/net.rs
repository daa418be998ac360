//! Test network inside the VM: two endpoint namespaces A and B, each connected by a
//! veth pair to the VM's root namespace, which plays the media proxy.
//!
//! ```text
//!   A 10.0.1.2 / fd00:1::2 ── va ── root 10.0.1.1 / fd00:1::1
//!   B 10.0.2.2 / fd00:2::2 ── vb ── root 10.0.2.1 / fd00:2::1
//! ```

use super::sh;
use std::ffi::CString;
use std::io;
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::os::fd::{AsRawFd, RawFd};
use std::time::Duration;

pub const A4: [u8; 4] = [10, 0, 1, 2];
pub const PA4: [u8; 4] = [10, 0, 1, 1];
pub const B4: [u8; 4] = [10, 0, 2, 2];
pub const PB4: [u8; 4] = [10, 0, 2, 1];

pub fn v6(net: u8, host: u8) -> [u8; 16] {
    let mut a = [0u8; 16];
    a[0] = 0xfd;
    a[3] = net;
    a[15] = host;
    a
}

/// Creates the namespaces and links; returns a description of what failed, if anything.
pub fn setup() -> Result<(), String> {
    let script = r#"
set -e
ip netns add A
ip netns add B
ip link add va type veth peer name va0 netns A
ip link add vb type veth peer name vb0 netns B
ip addr add 10.0.1.1/24 dev va
ip addr add fd00:1::1/64 dev va nodad
ip addr add 10.0.2.1/24 dev vb
ip addr add fd00:2::1/64 dev vb nodad
ip link set va up
ip link set vb up
for n in A B; do
  i=$([ $n = A ] && echo 1 || echo 2)
  ip -n $n link set lo up
  ip -n $n addr add 10.0.$i.2/24 dev v$(echo $n | tr AB ab)0
  ip -n $n addr add fd00:$i::2/64 dev v$(echo $n | tr AB ab)0 nodad
  ip -n $n link set v$(echo $n | tr AB ab)0 up
  ip -n $n route add default via 10.0.$i.1
  ip -n $n -6 route add default via fd00:$i::1
done
"#;
    let (ok, out) = sh(script);
    if ok {
        Ok(())
    } else {
        Err(out)
    }
}

/// Inserts `-j RTPENGINE --id N` into INPUT for IPv4 and IPv6.
pub fn add_rules(id: u32) -> Result<(), String> {
    let (ok, out) = sh(&format!(
        "iptables -I INPUT -p udp -j RTPENGINE --id {id} && ip6tables -I INPUT -p udp -j RTPENGINE --id {id}"
    ));
    if ok {
        Ok(())
    } else {
        Err(out)
    }
}

pub fn del_rules(id: u32) -> Result<(), String> {
    let (ok, out) = sh(&format!(
        "iptables -D INPUT -p udp -j RTPENGINE --id {id} && ip6tables -D INPUT -p udp -j RTPENGINE --id {id}"
    ));
    if ok {
        Ok(())
    } else {
        Err(out)
    }
}

fn open_ns(path: &str) -> io::Result<RawFd> {
    let c = CString::new(path).unwrap();
    // SAFETY: plain open(2) of a NUL-terminated path.
    let fd = unsafe { libc::open(c.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) };
    if fd < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(fd)
    }
}

fn setns(fd: RawFd) -> io::Result<()> {
    // SAFETY: setns(2) on a namespace fd; affects only this (single) thread.
    if unsafe { libc::setns(fd, libc::CLONE_NEWNET) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// A UDP socket bound to `addr` inside namespace `ns` (None = the root namespace).
/// The socket stays in that namespace after the thread switches back.
pub fn bind(ns: Option<&str>, addr: SocketAddr) -> io::Result<UdpSocket> {
    let Some(ns) = ns else {
        return prepared(UdpSocket::bind(addr)?);
    };
    let home = open_ns("/proc/self/ns/net")?;
    let target = open_ns(&format!("/run/netns/{ns}"))?;
    setns(target)?;
    let sock = UdpSocket::bind(addr);
    setns(home)?;
    // SAFETY: closing fds we opened above.
    unsafe {
        libc::close(home);
        libc::close(target);
    }
    prepared(sock?)
}

fn prepared(s: UdpSocket) -> io::Result<UdpSocket> {
    s.set_read_timeout(Some(Duration::from_millis(700)))?;
    let fd = s.as_raw_fd();
    let one: libc::c_int = 1;
    let (level, opt) = match s.local_addr()?.ip() {
        IpAddr::V4(_) => (libc::IPPROTO_IP, libc::IP_RECVTOS),
        IpAddr::V6(_) => (libc::IPPROTO_IPV6, libc::IPV6_RECVTCLASS),
    };
    // SAFETY: setsockopt with a valid int option value.
    unsafe {
        libc::setsockopt(
            fd,
            level,
            opt,
            (&one as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as u32,
        )
    };
    Ok(s)
}

/// A received datagram.
#[derive(Debug)]
pub struct Received {
    pub data: Vec<u8>,
    pub from: SocketAddr,
    pub tos: Option<u8>,
}

/// Receives one datagram (or times out) with its TOS / traffic class.
pub fn recv(s: &UdpSocket) -> io::Result<Received> {
    let mut buf = vec![0u8; 2048];
    let mut name: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let mut control = [0u8; 128];
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    // SAFETY: msghdr is plain data; all pointers set below refer to live buffers.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_name = (&mut name as *mut libc::sockaddr_storage).cast();
    msg.msg_namelen = std::mem::size_of::<libc::sockaddr_storage>() as u32;
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = control.len();
    // SAFETY: recvmsg with the buffers described by `msg`, all alive for the call.
    let n = unsafe { libc::recvmsg(s.as_raw_fd(), &mut msg, 0) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    buf.truncate(n as usize);
    let mut tos = None;
    // SAFETY: walking the control messages the kernel wrote into `control`.
    unsafe {
        let mut c = libc::CMSG_FIRSTHDR(&msg);
        while !c.is_null() {
            let (l, t) = ((*c).cmsg_level, (*c).cmsg_type);
            if l == libc::IPPROTO_IP && t == libc::IP_TOS {
                tos = Some(*libc::CMSG_DATA(c));
            } else if l == libc::IPPROTO_IPV6 && t == libc::IPV6_TCLASS {
                tos = Some(*(libc::CMSG_DATA(c) as *const libc::c_int) as u8);
            }
            c = libc::CMSG_NXTHDR(&msg, c);
        }
    }
    let from = sockaddr_to(&name)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "bad source"))?;
    Ok(Received {
        data: buf,
        from,
        tos,
    })
}

fn sockaddr_to(ss: &libc::sockaddr_storage) -> Option<SocketAddr> {
    match ss.ss_family as i32 {
        libc::AF_INET => {
            // SAFETY: the family says this storage holds a sockaddr_in.
            let a: &libc::sockaddr_in = unsafe { &*(ss as *const _ as *const libc::sockaddr_in) };
            Some(SocketAddr::from((
                u32::from_be(a.sin_addr.s_addr).to_be_bytes(),
                u16::from_be(a.sin_port),
            )))
        }
        libc::AF_INET6 => {
            // SAFETY: the family says this storage holds a sockaddr_in6.
            let a: &libc::sockaddr_in6 = unsafe { &*(ss as *const _ as *const libc::sockaddr_in6) };
            Some(SocketAddr::from((
                a.sin6_addr.s6_addr,
                u16::from_be(a.sin6_port),
            )))
        }
        _ => None,
    }
}

/// `Slab:` of /proc/meminfo in kB.
pub fn slab_kb() -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find(|l| l.starts_with("Slab:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}
