//! The TCP edge of `--listen-tcp`: a task per connection reads lines until
//! one is a command, answers it and shuts its side of the connection (as
//! 10.5 does); a line outside the protocol, or more than `MAX_LINE` bytes
//! without a line end, closes the connection unanswered. A connection is
//! listed by `controls` until the client closes it, or until it has been
//! silent for `IDLE_TIMEOUT` (10.5 keeps a silent one for ever).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tracing::{info, warn};

use super::parse::{self, MAX_LINE};
use super::Mediaproxy;

/// How long a connection may be silent before it is closed.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// The connections one listener has open, in the order they came.
#[derive(Default)]
struct Clients {
    next: AtomicU64,
    open: Mutex<Vec<(u64, SocketAddr)>>,
}

impl Clients {
    fn add(&self, peer: SocketAddr) -> u64 {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        self.lock().push((id, peer));
        id
    }
    fn remove(&self, id: u64) {
        self.lock().retain(|(i, _)| *i != id);
    }
    fn list(&self) -> Vec<SocketAddr> {
        self.lock().iter().map(|(_, a)| *a).collect()
    }
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<(u64, SocketAddr)>> {
        self.open.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Accepts connections on `listener` until the daemon ends.
pub async fn serve(listener: TcpListener, service: Arc<Mediaproxy>) {
    if let Ok(a) = listener.local_addr() {
        info!(listen = %a, "TCP control listening");
    }
    let clients = Arc::new(Clients::default());
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                info!("New TCP control connection from {peer}");
                let id = clients.add(peer);
                let (service, clients) = (service.clone(), clients.clone());
                tokio::spawn(async move {
                    connection(stream, peer, &service, &clients).await;
                    clients.remove(id);
                    info!("Control connection from {peer} closed");
                });
            }
            Err(e) => {
                // Out of descriptors and the like: wait a little, go on.
                warn!(%e, "TCP control accept error");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// Reads what the client still sends until it closes, is silent for
/// `limit` or has sent `max` bytes more.
async fn drain(stream: &mut TcpStream, limit: Duration, max: usize) {
    let mut chunk = [0u8; 4096];
    let mut left = max;
    while left > 0 {
        match tokio::time::timeout(limit, stream.read(&mut chunk)).await {
            Ok(Ok(n)) if n > 0 => left -= n.min(left),
            _ => break,
        }
    }
}

async fn connection(
    mut stream: TcpStream,
    peer: SocketAddr,
    service: &Arc<Mediaproxy>,
    clients: &Arc<Clients>,
) {
    let mut buf: Vec<u8> = Vec::new();
    let mut chunk = [0u8; 4096];
    let mut eof = false;
    loop {
        match tokio::time::timeout(IDLE_TIMEOUT, stream.read(&mut chunk)).await {
            Err(_) => {
                info!("TCP control connection from {peer} silent, closing");
                return;
            }
            Ok(Err(_)) => return,
            Ok(Ok(0)) => eof = true,
            Ok(Ok(n)) => buf.extend_from_slice(&chunk[..n]),
        }
        if let Some((line, _)) = parse::next_line(&buf, eof) {
            let line = line.to_vec();
            let shown = String::from_utf8_lossy(&line).into_owned();
            let Some(command) = parse::parse(&line) else {
                warn!("Unable to parse command line from {peer}: {shown}");
                let _ = stream.shutdown().await;
                drain(&mut stream, Duration::from_secs(1), 1 << 20).await;
                return;
            };
            info!("Got valid command from {peer}: {shown}");
            let (service, clients) = (service.clone(), clients.clone());
            // The commands lock the registry and wait for sockets to close.
            let answer =
                tokio::task::spawn_blocking(move || service.run(&command, peer, &clients.list()))
                    .await;
            let Ok(answer) = answer else {
                warn!("internal error while answering a TCP control command");
                return;
            };
            if stream.write_all(&answer).await.is_err() {
                return;
            }
            let _ = stream.shutdown().await;
            // 10.5 answers one command a connection: the rest is not read
            // as commands. The connection stays listed until the client
            // closes it.
            if !eof {
                drain(&mut stream, IDLE_TIMEOUT, usize::MAX).await;
            }
            return;
        }
        if buf.len() > MAX_LINE {
            warn!("Buffer length exceeded in control connection from {peer}");
            let _ = stream.shutdown().await;
            drain(&mut stream, Duration::from_secs(1), 1 << 20).await;
            return;
        }
        if eof {
            return;
        }
    }
}
