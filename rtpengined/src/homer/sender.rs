//! The Homer edge: one UDP socket or TCP connection to the capture server,
//! fed by a bounded queue (10.5 keeps at most 200 packets waiting and drops
//! the rest). A TCP connection that fails is made again 30 s later, as in
//! 10.5; the packets of the meantime wait in the queue, up to its bound.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::{TcpStream, UdpSocket};
use tokio::sync::mpsc;
use tracing::{error, info};

use super::{hep3, rtcp_json, Capture};

/// 10.5's bound of the send queue.
const QUEUE: usize = 200;
/// How long after a failure a TCP connection is tried again.
const RETRY: Duration = Duration::from_secs(30);

/// Where the RTCP of calls goes: cheap to clone, never blocks.
#[derive(Debug, Clone)]
pub struct Homer {
    tx: mpsc::Sender<Vec<u8>>,
    capture_id: u32,
}

impl Homer {
    /// Starts the sender task (on the current tokio runtime).
    pub fn start(addr: SocketAddr, tcp: bool, capture_id: u32) -> Homer {
        let (tx, rx) = mpsc::channel(QUEUE);
        tokio::spawn(run(addr, tcp, rx));
        Homer { tx, capture_id }
    }

    /// The RTCP `packet` of `call_id` from `src`, received on `dst` at
    /// Unix time `time`: sent as 10.5 sends it, if it reports anything.
    pub fn rtcp(
        &self,
        call_id: &str,
        src: SocketAddr,
        dst: SocketAddr,
        time: Duration,
        packet: &[u8],
    ) {
        let Some(json) = rtcp_json(packet) else {
            return;
        };
        let hep = hep3(&Capture {
            src,
            dst,
            time,
            capture_id: self.capture_id,
            correlation: call_id.as_bytes(),
            payload: json.as_bytes(),
        });
        if self.tx.try_send(hep).is_err() {
            error!("Homer send queue full ({QUEUE}); dropping a message");
        }
    }
}

async fn run(addr: SocketAddr, tcp: bool, mut rx: mpsc::Receiver<Vec<u8>>) {
    if !tcp {
        let bind: SocketAddr = if addr.is_ipv4() {
            "0.0.0.0:0".parse().unwrap_or(addr)
        } else {
            "[::]:0".parse().unwrap_or(addr)
        };
        let sock = match UdpSocket::bind(bind).await {
            Ok(s) => s,
            Err(e) => {
                error!(%e, "cannot open the Homer socket");
                return;
            }
        };
        while let Some(p) = rx.recv().await {
            if let Err(e) = sock.send_to(&p, addr).await {
                error!(%addr, %e, "cannot send to Homer");
            }
        }
        return;
    }
    let mut conn: Option<TcpStream> = None;
    let mut pending: Option<Vec<u8>> = None;
    loop {
        let p = match pending.take() {
            Some(p) => p,
            None => match rx.recv().await {
                Some(p) => p,
                None => return,
            },
        };
        if conn.is_none() {
            info!(%addr, "connecting to Homer");
            match TcpStream::connect(addr).await {
                Ok(s) => {
                    info!(%addr, "connection to Homer established");
                    conn = Some(s);
                }
                Err(e) => {
                    error!(%addr, %e, "cannot connect to Homer; trying again in 30 s");
                    pending = Some(p);
                    tokio::time::sleep(RETRY).await;
                    continue;
                }
            }
        }
        if let Some(s) = conn.as_mut() {
            if let Err(e) = s.write_all(&p).await {
                error!(%addr, %e, "write error to Homer; reconnecting in 30 s");
                conn = None;
                // 10.5 drops the packet being written.
                tokio::time::sleep(RETRY).await;
            }
        }
    }
}
