//! The TCP edge of the CLI: per connection, read one line, answer it, close.
//! A connection that sends no line in time, or more than `MAX_LINE` bytes
//! without a line end, is closed without an answer (10.5 closes those too);
//! each connection is a task of its own, so a slow one stalls nobody.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use socket2::{Domain, Protocol, Socket, Type};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tracing::{info, warn};

use super::daemon::Live;
use super::{command, Daemon, Start};

/// 10.5 gives up on a line longer than this.
pub const MAX_LINE: usize = 1024;
/// How long a client may take to send its line.
pub const READ_TIMEOUT: Duration = Duration::from_secs(10);

pub struct CliServer {
    live: Live,
    /// The settings at start, for `params`.
    initial: Start,
}

impl CliServer {
    pub fn new(live: Live, initial: Start) -> CliServer {
        CliServer { live, initial }
    }

    pub fn answer(&self, line: &str) -> String {
        info!("Got CLI command: {line}");
        command::run(line, &self.live, &self.initial)
    }

    /// The statistics as `GET /metrics` shows them.
    pub fn metrics(&self) -> String {
        let (snap, last) = self.live.statistics();
        super::metrics::gather(&snap, &last).prometheus()
    }

    /// The answer to a line of any bytes. 10.5 reads bytes and echoes them
    /// in its errors: a line that is not UTF-8 is read byte for byte as
    /// Latin-1 and the answer written back the same way.
    pub fn answer_bytes(&self, line: &[u8]) -> Vec<u8> {
        match std::str::from_utf8(line) {
            Ok(l) => self.answer(l).into_bytes(),
            Err(_) => {
                let latin1: String = line.iter().map(|&b| char::from(b)).collect();
                self.answer(&latin1)
                    .chars()
                    .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?'))
                    .collect()
            }
        }
    }
}

/// The first non-blank line of `buf`, without its line end; `None` until
/// one is complete.
pub fn first_line(buf: &[u8]) -> Option<&[u8]> {
    let mut rest = buf;
    loop {
        let nl = rest.iter().position(|b| *b == b'\n')?;
        let mut line = &rest[..nl];
        if let Some(l) = line.strip_suffix(b"\r") {
            line = l;
        }
        if !line.is_empty() {
            return Some(line);
        }
        rest = &rest[nl + 1..];
    }
}

/// A TCP listening socket; an IPv6 one is v6-only, so that a bare port can
/// listen on 0.0.0.0 and [::] both.
pub fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    if addr.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    socket.set_reuse_address(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(128)?;
    TcpListener::from_std(socket.into())
}

pub async fn serve(listener: TcpListener, server: Arc<CliServer>) {
    if let Ok(a) = listener.local_addr() {
        info!(listen = %a, "CLI listening (TCP)");
    }
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                info!("New cli connection from {peer}");
                tokio::spawn(connection(stream, server.clone()));
            }
            Err(e) => {
                // Out of descriptors and the like: wait a little, go on.
                warn!(%e, "CLI accept error");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// A line without its end: one in `buf`, or at the end of the input what
/// is left (10.5 takes that as a line too).
fn line_at_eof(buf: &[u8]) -> Option<&[u8]> {
    let line = buf.strip_suffix(b"\r").unwrap_or(buf);
    (!line.is_empty()).then_some(line)
}

enum Read {
    Line(Vec<u8>),
    TooLong,
    Nothing,
}

async fn read_line(stream: &mut TcpStream) -> Read {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(line) = first_line(&buf) {
            return Read::Line(line.to_vec());
        }
        if buf.len() > MAX_LINE {
            info!("Buffer length exceeded in CLI connection");
            return Read::TooLong;
        }
        match stream.read(&mut chunk).await {
            Ok(0) => {
                // Blank lines before the end were skipped by `first_line`.
                let rest = buf.rsplit(|b| *b == b'\n').next().unwrap_or(&[]);
                return line_at_eof(rest).map_or(Read::Nothing, |l| Read::Line(l.to_vec()));
            }
            Err(_) => return Read::Nothing,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

/// Reads and drops what the client still sends (for at most a second and a
/// megabyte), so that closing does not reset the connection.
async fn drain(stream: &mut TcpStream) {
    let mut chunk = [0u8; 4096];
    let mut left = 1 << 20;
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        while left > 0 {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => left -= n.min(left),
            }
        }
    })
    .await;
}

async fn connection(mut stream: TcpStream, server: Arc<CliServer>) {
    let line = match tokio::time::timeout(READ_TIMEOUT, read_line(&mut stream)).await {
        Ok(Read::Line(l)) => l,
        Ok(Read::TooLong) => {
            let _ = stream.shutdown().await;
            drain(&mut stream).await;
            return;
        }
        _ => return,
    };
    // The commands lock the registry and wait for sockets to close.
    let reply = tokio::task::spawn_blocking(move || server.answer_bytes(&line)).await;
    let Ok(reply) = reply else {
        warn!("internal error while answering a CLI command");
        return;
    };
    let _ = stream.write_all(&reply).await;
    let _ = stream.shutdown().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_non_blank_line_counts() {
        assert_eq!(first_line(b"list totals"), None);
        assert_eq!(first_line(b"list totals\n"), Some(&b"list totals"[..]));
        assert_eq!(first_line(b"\r\n\nlist\r\nmore\n"), Some(&b"list"[..]));
        assert_eq!(first_line(b"\n\r\n"), None);
        // At the end of the input, what is left is the line.
        assert_eq!(line_at_eof(b"list\r"), Some(&b"list"[..]));
        assert_eq!(line_at_eof(b""), None);
    }
}
