//! The loop every datagram control protocol runs on its own thread: read a
//! datagram, answer it, send the answer back. A panic while answering costs
//! that one request, never the listener.

use std::net::{SocketAddr, UdpSocket};

use tracing::{error, warn};

/// Serves `socket` until the process ends; `protocol` names it in the log
/// ("ng", "rtpproxy"), `answer` gives the reply to send, if any.
pub fn serve(
    socket: &UdpSocket,
    protocol: &'static str,
    answer: impl Fn(&[u8], SocketAddr) -> Option<Vec<u8>>,
) {
    let mut buf = vec![0u8; 65536];
    loop {
        let (len, peer) = match socket.recv_from(&mut buf) {
            Ok(r) => r,
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(err) => {
                warn!(%err, "{protocol} receive error");
                continue;
            }
        };
        let datagram = &buf[..len];
        let reply =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| answer(datagram, peer)))
                .unwrap_or_else(|_| {
                    error!(%peer, "internal error while handling an {protocol} request");
                    None
                });
        if let Some(reply) = reply {
            if let Err(err) = socket.send_to(&reply, peer) {
                warn!(%err, %peer, "{protocol} send error");
            }
        }
    }
}
