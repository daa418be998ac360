//! Control transports. Each one only moves datagrams/messages between the network
//! and the `Handler`; ng over UDP now, TCP/websocket can implement the same trait.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

use socket2::{Domain, Protocol, Socket, Type};
use tokio::net::UdpSocket;
use tracing::{error, info, warn};

use super::handler::Handler;

pub trait Transport: Send {
    fn local_addr(&self) -> SocketAddr;
    fn serve(self: Box<Self>, handler: Arc<Handler>) -> Pin<Box<dyn Future<Output = ()> + Send>>;
}

/// ng over UDP (IPv4 or IPv6).
pub struct NgUdp {
    socket: UdpSocket,
    local: SocketAddr,
}

impl NgUdp {
    pub async fn bind(addr: SocketAddr, tos: Option<u8>) -> std::io::Result<NgUdp> {
        let std_sock = bind_udp(addr)?;
        let _ = tos; // --control-tos is accepted but not applied yet.
        let local = std_sock.local_addr()?;
        Ok(NgUdp {
            socket: UdpSocket::from_std(std_sock)?,
            local,
        })
    }
}

/// A nonblocking UDP socket on `addr`. IPv6 sockets are v6-only, as in rtpengine:
/// a bare port listens on 0.0.0.0 and [::] with one socket each, which a dual-stack
/// [::] socket would collide with.
fn bind_udp(addr: SocketAddr) -> std::io::Result<std::net::UdpSocket> {
    let socket = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    if addr.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    Ok(socket.into())
}

impl Transport for NgUdp {
    fn local_addr(&self) -> SocketAddr {
        self.local
    }

    fn serve(self: Box<Self>, handler: Arc<Handler>) -> Pin<Box<dyn Future<Output = ()> + Send>> {
        Box::pin(async move {
            info!(listen = %self.local, "ng control listening (UDP)");
            let mut buf = vec![0u8; 65536];
            loop {
                let (len, peer) = match self.socket.recv_from(&mut buf).await {
                    Ok(r) => r,
                    Err(err) => {
                        warn!(%err, "ng receive error");
                        continue;
                    }
                };
                let datagram = buf[..len].to_vec();
                let h = handler.clone();
                // Signalling work is synchronous and short; keep the socket loop free.
                let reply = tokio::task::block_in_place(|| {
                    // A bug must cost one request, not the control socket.
                    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        h.handle_from(&datagram, peer.ip())
                    }))
                    .unwrap_or_else(|_| {
                        error!(%peer, "internal error while handling an ng request");
                        None
                    })
                });
                if let Some(reply) = reply {
                    if let Err(err) = self.socket.send_to(&reply, peer).await {
                        warn!(%err, %peer, "ng send error");
                    }
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcard_v4_and_v6_share_a_port() {
        let v4 = bind_udp("0.0.0.0:0".parse().unwrap()).unwrap();
        let port = v4.local_addr().unwrap().port();
        let v6 = bind_udp(SocketAddr::new(
            std::net::Ipv6Addr::UNSPECIFIED.into(),
            port,
        ));
        assert!(v6.is_ok(), "{v6:?}");
        // Both in the other order too.
        let v6 = bind_udp("[::]:0".parse().unwrap()).unwrap();
        let port = v6.local_addr().unwrap().port();
        assert!(bind_udp(SocketAddr::new(
            std::net::Ipv4Addr::UNSPECIFIED.into(),
            port
        ))
        .is_ok());
    }
}
