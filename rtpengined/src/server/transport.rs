//! Control transports. Each one only moves datagrams/messages between the network
//! and the `Handler`; ng over UDP now, TCP/websocket can implement the same trait.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

use socket2::{Domain, Protocol, Socket, Type};
use tracing::{error, info};

use super::handler::Handler;

pub trait Transport: Send {
    fn local_addr(&self) -> SocketAddr;
    fn serve(self: Box<Self>, handler: Arc<Handler>) -> Pin<Box<dyn Future<Output = ()> + Send>>;
}

/// ng over UDP (IPv4 or IPv6), served by a thread of its own: handling a
/// request is synchronous work (the call model, binding ports) that must not
/// hold a runtime worker, and a plain blocking loop costs no hand-over per
/// request (10.5 reads its control sockets from threads the same way).
pub struct NgUdp {
    socket: std::net::UdpSocket,
    local: SocketAddr,
}

impl NgUdp {
    pub async fn bind(addr: SocketAddr, tos: Option<u8>) -> std::io::Result<NgUdp> {
        let socket = bind_udp(addr)?;
        socket.set_nonblocking(false)?;
        let _ = tos; // --control-tos is accepted but not applied yet.
        let local = socket.local_addr()?;
        Ok(NgUdp { socket, local })
    }

    /// Receive, handle, reply, until the socket fails for good.
    fn serve_blocking(self, handler: Arc<Handler>) {
        info!(listen = %self.local, "ng control listening (UDP)");
        super::datagram::serve(&self.socket, "ng", |datagram, peer| {
            handler.handle_from_peer(datagram, peer)
        });
    }
}

/// A nonblocking UDP socket on `addr`. IPv6 sockets are v6-only, as in rtpengine:
/// a bare port listens on 0.0.0.0 and [::] with one socket each, which a dual-stack
/// [::] socket would collide with.
pub(crate) fn bind_udp(addr: SocketAddr) -> std::io::Result<std::net::UdpSocket> {
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
        // The thread starts call tasks: it enters the runtime it was started from.
        let runtime = tokio::runtime::Handle::current();
        let (ended, wait) = tokio::sync::oneshot::channel::<()>();
        let name = format!("ng {}", self.local);
        let spawned = std::thread::Builder::new().name(name).spawn(move || {
            let _runtime = runtime.enter();
            self.serve_blocking(handler);
            let _ = ended.send(());
        });
        Box::pin(async move {
            match spawned {
                Ok(_) => {
                    let _ = wait.await;
                }
                Err(err) => error!(%err, "cannot start the ng control thread"),
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
