//! Batched receive with recvmmsg(2): one system call drains up to `BATCH` datagrams
//! from a busy media socket instead of one call per packet.

use std::io;
use std::mem::{size_of, zeroed};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::RawFd;

/// Datagrams per system call.
pub const BATCH: usize = 32;
/// Media packets are far below this; a larger datagram is flagged as truncated.
const SLOT: usize = 4096;

pub struct RecvBatch {
    bufs: Vec<[u8; SLOT]>,
    addrs: Vec<libc::sockaddr_storage>,
    iovs: Vec<libc::iovec>,
    hdrs: Vec<libc::mmsghdr>,
}

// SAFETY: the raw pointers inside `iovs`/`hdrs` point only into this struct's own
// heap buffers, which move with it; nothing is shared with other threads.
unsafe impl Send for RecvBatch {}

/// One received datagram, in its receive buffer (whose spare room lets the relay
/// rewrite it in place, SRTP tag included).
pub struct DatagramMut<'a> {
    pub buf: &'a mut [u8],
    pub len: usize,
    pub source: Option<SocketAddr>,
    pub truncated: bool,
}

impl RecvBatch {
    pub fn new() -> RecvBatch {
        RecvBatch {
            bufs: vec![[0u8; SLOT]; BATCH],
            // SAFETY: sockaddr_storage is plain old data; all-zero is a valid value.
            addrs: vec![unsafe { zeroed() }; BATCH],
            iovs: Vec::with_capacity(BATCH),
            hdrs: Vec::with_capacity(BATCH),
        }
    }

    /// Receive without blocking; returns how many datagrams arrived (WouldBlock when
    /// none).
    pub fn recv(&mut self, fd: RawFd) -> io::Result<usize> {
        self.iovs.clear();
        self.hdrs.clear();
        for buf in self.bufs.iter_mut() {
            self.iovs.push(libc::iovec {
                iov_base: buf.as_mut_ptr().cast(),
                iov_len: SLOT,
            });
        }
        for i in 0..BATCH {
            // SAFETY: msghdr is plain old data; zero is "no control data, no flags".
            let mut msg: libc::msghdr = unsafe { zeroed() };
            msg.msg_name = (&mut self.addrs[i] as *mut libc::sockaddr_storage).cast();
            msg.msg_namelen = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
            msg.msg_iov = &mut self.iovs[i];
            msg.msg_iovlen = 1;
            self.hdrs.push(libc::mmsghdr {
                msg_hdr: msg,
                msg_len: 0,
            });
        }
        // SAFETY: `hdrs` holds BATCH valid headers whose name and iovec pointers point
        // into `addrs` and `bufs`, alive and unaliased for the duration of the call.
        let n = unsafe {
            libc::recvmmsg(
                fd,
                self.hdrs.as_mut_ptr(),
                BATCH as libc::c_uint,
                libc::MSG_DONTWAIT,
                std::ptr::null_mut(),
            )
        };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(n as usize)
    }

    /// The `i`-th datagram of the last `recv`, writable.
    pub fn get_mut(&mut self, i: usize) -> DatagramMut<'_> {
        let hdr = &self.hdrs[i];
        let len = (hdr.msg_len as usize).min(SLOT);
        let truncated = hdr.msg_hdr.msg_flags & libc::MSG_TRUNC != 0;
        DatagramMut {
            buf: &mut self.bufs[i][..],
            len,
            source: sockaddr_to_std(&self.addrs[i]),
            truncated,
        }
    }
}

fn sockaddr_to_std(sa: &libc::sockaddr_storage) -> Option<SocketAddr> {
    match i32::from(sa.ss_family) {
        libc::AF_INET => {
            // SAFETY: the kernel wrote a sockaddr_in for AF_INET; storage is larger
            // and suitably aligned for it.
            let sin =
                unsafe { &*(sa as *const libc::sockaddr_storage).cast::<libc::sockaddr_in>() };
            let ip = Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr));
            Some(SocketAddr::V4(SocketAddrV4::new(
                ip,
                u16::from_be(sin.sin_port),
            )))
        }
        libc::AF_INET6 => {
            // SAFETY: as above, for AF_INET6 and sockaddr_in6.
            let sin6 =
                unsafe { &*(sa as *const libc::sockaddr_storage).cast::<libc::sockaddr_in6>() };
            let ip = Ipv6Addr::from(sin6.sin6_addr.s6_addr);
            Some(SocketAddr::V6(SocketAddrV6::new(
                ip,
                u16::from_be(sin6.sin6_port),
                sin6.sin6_flowinfo,
                sin6.sin6_scope_id,
            )))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsRawFd;

    #[test]
    fn receives_several_datagrams_with_sources() {
        for ip in ["127.0.0.1", "::1"] {
            let rx = std::net::UdpSocket::bind((ip, 0)).unwrap();
            let tx = std::net::UdpSocket::bind((ip, 0)).unwrap();
            let mut b = RecvBatch::new();
            assert_eq!(
                b.recv(rx.as_raw_fd()).unwrap_err().kind(),
                io::ErrorKind::WouldBlock
            );
            for i in 0..5u8 {
                tx.send_to(&[i; 10], rx.local_addr().unwrap()).unwrap();
            }
            tx.send_to(&vec![9u8; SLOT + 10], rx.local_addr().unwrap())
                .unwrap();
            std::thread::sleep(std::time::Duration::from_millis(20));
            let n = b.recv(rx.as_raw_fd()).unwrap();
            assert_eq!(n, 6);
            for i in 0..5 {
                let d = b.get_mut(i);
                assert_eq!(&d.buf[..d.len], &[i as u8; 10]);
                assert_eq!(d.source, Some(tx.local_addr().unwrap()));
                assert!(!d.truncated);
            }
            assert!(b.get_mut(5).truncated);
        }
    }
}
