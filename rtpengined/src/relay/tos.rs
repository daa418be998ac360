//! IP TOS / IPv6 traffic class on media sockets (--tos, ng `TOS`).

use std::os::fd::AsRawFd;

pub fn set(socket: &std::net::UdpSocket, ipv4: bool, tos: u8) {
    let value: libc::c_int = tos.into();
    let (level, name) = if ipv4 {
        (libc::IPPROTO_IP, libc::IP_TOS)
    } else {
        (libc::IPPROTO_IPV6, libc::IPV6_TCLASS)
    };
    // SAFETY: the fd is a live UDP socket owned by `socket`; `value` outlives the call
    // and its size is passed exactly.
    let rc = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            level,
            name,
            (&value as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc != 0 {
        tracing::debug!(err = %std::io::Error::last_os_error(), "cannot set TOS");
    }
}
