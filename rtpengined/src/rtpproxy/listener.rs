//! The UDP edge of the rtpproxy protocol: a thread per socket that reads a
//! datagram, has `Rtpproxy` answer it and sends the answer back, as the ng
//! thread does (handling is synchronous work on the call registry).

use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;

use tracing::info;

use super::Rtpproxy;

/// A bound `--listen-udp` socket.
pub struct Listener {
    socket: UdpSocket,
    local: SocketAddr,
}

impl Listener {
    pub fn bind(addr: SocketAddr) -> std::io::Result<Listener> {
        let socket = crate::server::transport::bind_udp(addr)?;
        socket.set_nonblocking(false)?;
        let local = socket.local_addr()?;
        Ok(Listener { socket, local })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// Serve on a thread of its own that enters the current tokio runtime
    /// (call tasks are started from it).
    pub fn spawn(self, service: Arc<Rtpproxy>) -> std::io::Result<()> {
        let runtime = tokio::runtime::Handle::current();
        std::thread::Builder::new()
            .name(format!("rtpproxy {}", self.local))
            .spawn(move || {
                let _runtime = runtime.enter();
                self.serve(&service);
            })
            .map(drop)
    }

    fn serve(self, service: &Rtpproxy) {
        info!(listen = %self.local, "rtpproxy control listening (UDP)");
        crate::server::datagram::serve(&self.socket, "rtpproxy", |datagram, peer| {
            service.handle(datagram, peer)
        });
    }
}
