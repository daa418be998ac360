//! ng over TCP (`--listen-tcp-ng`), framed as rtpengine 10.5 frames it: a
//! message is `COOKIE SP VALUE` where COOKIE runs to the first space and
//! VALUE is one complete bencoded value; nothing separates two messages.
//! An answer is `COOKIE SP REPLY`, unframed too. Each message goes to the
//! shared `Handler` (cookie cache, per-client counters) as a UDP datagram
//! would. A connection stays open for as many messages as the client sends.
//!
//! `frame` is the sans-IO part: where the next message ends in what was
//! read so far. `serve` is the TCP edge: a task per connection, messages
//! answered in order.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tracing::{debug, info, warn};

use super::handler::Handler;

/// The most a connection may hold of a message not complete yet. 10.5
/// closes a connection holding more than 1024 bytes after a read, which
/// cuts off a larger message unless it arrived in one piece; we wait for
/// messages up to this size, whatever the pieces.
pub const MAX_PENDING: usize = 1 << 20;

/// What the bytes read so far hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frame {
    /// A message of this many bytes (cookie, space and value).
    Message(usize),
    /// Not a whole message yet.
    Incomplete,
    /// The value after the cookie is not bencode: no message can follow.
    Invalid,
}

/// Where the first message of `buf` ends.
pub fn frame(buf: &[u8]) -> Frame {
    let Some(space) = buf.iter().position(|b| *b == b' ') else {
        return Frame::Incomplete;
    };
    match bencode_len(&buf[space + 1..]) {
        Scan::Complete(n) => Frame::Message(space + 1 + n),
        Scan::Incomplete => Frame::Incomplete,
        Scan::Invalid => Frame::Invalid,
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Scan {
    Complete(usize),
    Incomplete,
    Invalid,
}

/// The length of the bencoded value at the start of `s`, by 10.5's rules
/// (string lengths may have leading zeros, integers may not; `i-0e` is
/// invalid). Iterative, so deep nesting costs no stack.
fn bencode_len(s: &[u8]) -> Scan {
    // Open containers: true for a dictionary (whose next item is a key
    // when `key_next` says so).
    let mut open: Vec<bool> = Vec::new();
    let mut key_next = false;
    let mut pos = 0;
    loop {
        let Some(&c) = s.get(pos) else {
            return Scan::Incomplete;
        };
        if !open.is_empty() && c == b'e' {
            if open.last() == Some(&true) && !key_next {
                // A key without its value.
                return Scan::Invalid;
            }
            open.pop();
            pos += 1;
            key_next = open.last() == Some(&true);
            if open.is_empty() {
                return Scan::Complete(pos);
            }
            continue;
        }
        if key_next && !c.is_ascii_digit() {
            return Scan::Invalid;
        }
        match c {
            b'd' | b'l' => {
                open.push(c == b'd');
                key_next = c == b'd';
                pos += 1;
                continue;
            }
            b'i' => match integer(&s[pos..]) {
                Scan::Complete(n) => pos += n,
                other => return other,
            },
            b'0'..=b'9' => match string(&s[pos..]) {
                Scan::Complete(n) => pos += n,
                other => return other,
            },
            _ => return Scan::Invalid,
        }
        // A value (or key) is done.
        match open.last() {
            None => return Scan::Complete(pos),
            Some(true) => key_next = !key_next,
            Some(false) => {}
        }
    }
}

/// `iNe` at the start of `s`.
fn integer(s: &[u8]) -> Scan {
    let mut i = 1;
    let negative = s.get(i) == Some(&b'-');
    if negative {
        i += 1;
    }
    let first = i;
    loop {
        match s.get(i) {
            None => return Scan::Incomplete,
            Some(b'e') => break,
            Some(d) if d.is_ascii_digit() => i += 1,
            Some(_) => return Scan::Invalid,
        }
    }
    let digits = &s[first..i];
    let bad = digits.is_empty()
        || (digits[0] == b'0' && digits.len() > 1)
        || (negative && digits == b"0");
    if bad {
        Scan::Invalid
    } else {
        Scan::Complete(i + 1)
    }
}

/// `N:bytes` at the start of `s`.
fn string(s: &[u8]) -> Scan {
    let mut len: usize = 0;
    let mut i = 0;
    loop {
        match s.get(i) {
            None => return Scan::Incomplete,
            Some(b':') => break,
            Some(d) if d.is_ascii_digit() => {
                let Some(l) = len
                    .checked_mul(10)
                    .and_then(|l| l.checked_add(usize::from(d - b'0')))
                else {
                    return Scan::Invalid;
                };
                len = l;
                i += 1;
            }
            Some(_) => return Scan::Invalid,
        }
    }
    match (i + 1).checked_add(len) {
        Some(end) if end <= s.len() => Scan::Complete(end),
        Some(_) => Scan::Incomplete,
        None => Scan::Invalid,
    }
}

/// Accepts connections on `listener` until the daemon ends.
pub async fn serve(listener: TcpListener, handler: Arc<Handler>) {
    if let Ok(a) = listener.local_addr() {
        info!(listen = %a, "ng control listening (TCP)");
    }
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                info!("New TCP control ng connection from {peer}");
                tokio::spawn(connection(stream, peer, handler.clone()));
            }
            Err(e) => {
                // Out of descriptors and the like: wait a little, go on.
                warn!(%e, "ng TCP accept error");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

async fn connection(mut stream: TcpStream, peer: SocketAddr, handler: Arc<Handler>) {
    let mut buf: Vec<u8> = Vec::new();
    let mut chunk = vec![0u8; 16384];
    loop {
        let n = match stream.read(&mut chunk).await {
            Ok(0) => 0,
            Ok(n) => n,
            Err(e) => {
                debug!(%peer, %e, "ng TCP read failed");
                break;
            }
        };
        buf.extend_from_slice(&chunk[..n]);
        // Every whole message read so far, in order (also those that came
        // with the end of the input: 10.5 may drop those).
        loop {
            match frame(&buf) {
                Frame::Message(len) => {
                    let message: Vec<u8> = buf.drain(..len).collect();
                    let h = handler.clone();
                    let reply =
                        tokio::task::spawn_blocking(move || h.handle_from_peer(&message, peer))
                            .await;
                    match reply {
                        Ok(Some(r)) => {
                            if stream.write_all(&r).await.is_err() {
                                info!("TCP control ng connection from {peer} is closing");
                                return;
                            }
                        }
                        Ok(None) => {}
                        Err(e) => {
                            warn!(%e, "internal error while answering an ng message");
                            return;
                        }
                    }
                }
                Frame::Incomplete => break,
                Frame::Invalid => {
                    warn!(%peer, "data on the ng TCP connection is not bencode; closing");
                    let _ = stream.shutdown().await;
                    return;
                }
            }
        }
        if buf.len() > MAX_PENDING {
            warn!("Buffer length exceeded in control connection from {peer}");
            let _ = stream.shutdown().await;
            return;
        }
        if n == 0 {
            break;
        }
    }
    info!("TCP control ng connection from {peer} is closing");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bencode_values() {
        for (v, want) in [
            (&b"i0e"[..], Scan::Complete(3)),
            (b"i-12ex", Scan::Complete(5)),
            (b"4:spam", Scan::Complete(6)),
            (b"04:spamrest", Scan::Complete(7)),
            (b"0:", Scan::Complete(2)),
            (b"le", Scan::Complete(2)),
            (b"de", Scan::Complete(2)),
            (b"d3:cow3:moo4:spaml1:a1:bee", Scan::Complete(26)),
            (b"d1:ad1:bli1ei2eeee", Scan::Complete(18)),
            (b"", Scan::Incomplete),
            (b"i12", Scan::Incomplete),
            (b"4:spa", Scan::Incomplete),
            (b"12", Scan::Incomplete),
            (b"d3:cow", Scan::Incomplete),
            (b"d3:cow3:moo", Scan::Incomplete),
            (b"lli1e", Scan::Incomplete),
            (b"ie", Scan::Invalid),
            (b"i-0e", Scan::Invalid),
            (b"i-e", Scan::Invalid),
            (b"i03e", Scan::Invalid),
            (b"i1xe", Scan::Invalid),
            (b"x", Scan::Invalid),
            (b"{\"command\":\"ping\"}", Scan::Invalid),
            (b"3x:abc", Scan::Invalid),
            // Dictionary keys are strings.
            (b"di1ei2ee", Scan::Invalid),
            (b"d3:cowe", Scan::Invalid),
            (b"99999999999999999999999:x", Scan::Invalid),
        ] {
            assert_eq!(bencode_len(v), want, "{}", String::from_utf8_lossy(v));
        }
        // Deep nesting needs no stack.
        let deep = [vec![b'l'; 100_000], vec![b'e'; 100_000]].concat();
        assert_eq!(bencode_len(&deep), Scan::Complete(200_000));
    }

    #[test]
    fn messages_in_a_stream() {
        let two = b"c1 d7:command4:pingec2 d7:command4:pinge";
        assert_eq!(frame(two), Frame::Message(20));
        assert_eq!(frame(&two[20..]), Frame::Message(20));
        assert_eq!(frame(b"c1"), Frame::Incomplete);
        assert_eq!(frame(b"c1 d7:comm"), Frame::Incomplete);
        assert_eq!(frame(b"c1 garbage"), Frame::Invalid);
        // The cookie is everything before the first space, line ends too.
        assert_eq!(frame(b"\nc3 le"), Frame::Message(6));
        // No cookie: the handler drops it, framing still goes on.
        assert_eq!(frame(b" d1:ai1ee"), Frame::Message(9));
        // A value of another type is a message (answered with an error).
        assert_eq!(frame(b"c i5e"), Frame::Message(5));
    }
}
