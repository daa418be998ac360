//! ng over TCP (`--listen-tcp-ng`), framed as 10.5 frames it: `COOKIE SP
//! bencoded-value`, back to back on one connection, answered `COOKIE SP
//! reply` in order. A real TCP client: several messages in one write, one
//! message in pieces, a call made over TCP and seen over UDP, the cookie
//! cache shared; clients that misbehave are closed, or left waiting, and
//! the others still served.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use common::{answer, offer, phone, query, sdp, text, Daemon};
use rtpengined::ng::bencode::{decode, Owned};

fn free_tcp_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start() -> (Daemon, SocketAddr) {
    let port = free_tcp_port();
    let opt = format!("--listen-tcp-ng=127.0.0.1:{port}");
    let d = Daemon::start(41200, 41299, &[opt.as_str()]);
    let tcp = SocketAddr::from(([127, 0, 0, 1], port));
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(tcp).is_err() {
        assert!(
            Instant::now() < deadline,
            "no ng TCP listener; log: {}",
            d.log_text()
        );
        std::thread::yield_now();
    }
    (d, tcp)
}

/// A client that reads answers off a byte stream.
struct Client {
    s: TcpStream,
    buf: Vec<u8>,
}

impl Client {
    fn connect(addr: SocketAddr) -> Client {
        let s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        Client { s, buf: Vec::new() }
    }

    fn send(&mut self, bytes: &[u8]) {
        self.s.write_all(bytes).unwrap();
    }

    /// The next answer: its cookie and dictionary.
    fn answer(&mut self) -> (Vec<u8>, Owned) {
        loop {
            if let Some(sp) = self.buf.iter().position(|b| *b == b' ') {
                if let Some(end) = value_end(&self.buf, sp + 1) {
                    let cookie = self.buf[..sp].to_vec();
                    let v = decode(&self.buf[sp + 1..end]).unwrap().to_owned_value();
                    self.buf.drain(..end);
                    return (cookie, v);
                }
            }
            let mut chunk = [0u8; 65536];
            let n = self.s.read(&mut chunk).expect("an answer");
            assert!(n > 0, "closed before an answer; have {:?}", self.buf);
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    fn request(&mut self, cookie: &str, msg: &Owned) -> Owned {
        let mut m = format!("{cookie} ").into_bytes();
        m.extend_from_slice(&msg.encode());
        self.send(&m);
        let (c, reply) = self.answer();
        assert_eq!(c, cookie.as_bytes());
        reply
    }
}

/// Where the bencoded value at `pos` ends, once it is all there.
fn value_end(b: &[u8], pos: usize) -> Option<usize> {
    match *b.get(pos)? {
        b'i' => Some(pos + b[pos..].iter().position(|c| *c == b'e')? + 1),
        b'l' | b'd' => {
            let mut p = pos + 1;
            while *b.get(p)? != b'e' {
                p = value_end(b, p)?;
            }
            Some(p + 1)
        }
        _ => {
            let colon = pos + b[pos..].iter().position(|c| *c == b':')?;
            let len: usize = std::str::from_utf8(&b[pos..colon]).ok()?.parse().ok()?;
            let end = colon + 1 + len;
            (end <= b.len()).then_some(end)
        }
    }
}

fn ping() -> Owned {
    Owned::dict().with("command", "ping")
}

#[test]
fn messages_back_to_back_and_in_pieces() {
    let (d, tcp) = start();
    let mut c = Client::connect(tcp);
    // Two messages in one write, answered in order.
    c.send(b"p1 d7:command4:pingep2 d7:command4:pinge");
    for want in ["p1", "p2"] {
        let (cookie, r) = c.answer();
        assert_eq!(cookie, want.as_bytes());
        assert_eq!(text(r.get("result")), "pong");
    }
    // An offer of more than 1024 bytes, sent in pieces.
    let (a, b) = (phone("127.0.0.1"), phone("127.0.0.1"));
    let pa = a.local_addr().unwrap().port();
    let pb = b.local_addr().unwrap().port();
    let mut body = sdp("127.0.0.1", pa);
    for i in 0..40 {
        body.push_str(&format!("a=x-filler-{i}:0123456789abcdef\r\n"));
    }
    let mut m = b"o1 ".to_vec();
    m.extend_from_slice(&offer("tcp-call", "ta", &body).encode());
    assert!(m.len() > 1024);
    for piece in m.chunks(300) {
        c.send(piece);
        std::thread::sleep(Duration::from_millis(20));
    }
    let (cookie, r) = c.answer();
    assert_eq!(cookie, b"o1");
    assert_eq!(text(r.get("result")), "ok", "{r:?}");
    assert!(text(r.get("sdp")).contains("m=audio "));
    // A repeated cookie gets the cached answer.
    let again = c.request("o1", &offer("tcp-call", "ta", &body));
    assert_eq!(again, r);
    // The same call over UDP and over TCP.
    d.ok(&answer("tcp-call", "ta", "tb", &sdp("127.0.0.1", pb)));
    let q = c.request("q1", &query("tcp-call"));
    assert_eq!(text(q.get("result")), "ok");
    assert!(q.get("tags").and_then(|t| t.get("tb")).is_some(), "{q:?}");
    // Errors are answered as over UDP.
    let r = c.request("e1", &Owned::dict().with("command", "nope"));
    assert_eq!(text(r.get("error-reason")), "Unrecognized command");
    c.send(b"e2 i5e");
    let (cookie, r) = c.answer();
    assert_eq!(cookie, b"e2");
    assert_eq!(text(r.get("error-reason")), "Invalid NG data format");
    // Cookies of any bytes come back as they were.
    c.send(b"\xff\xfe d7:command4:pinge");
    let (cookie, r) = c.answer();
    assert_eq!(cookie, b"\xff\xfe");
    assert_eq!(text(r.get("result")), "pong");
}

/// Reads until the daemon closes, or for `wait` (then `false`).
fn closed_within(s: &mut TcpStream, wait: Duration) -> bool {
    s.set_read_timeout(Some(wait)).unwrap();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return true,
            Err(_) => return false,
        }
    }
}

#[test]
fn bad_clients_leave_others_served() {
    let (_d, tcp) = start();
    // Half a message, then silence: the connection waits for the rest.
    let mut half = Client::connect(tcp);
    half.send(b"h1 d7:comm");
    // Not bencode after the cookie: closed.
    let mut garbage = TcpStream::connect(tcp).unwrap();
    garbage.write_all(b"g1 garbage\n").unwrap();
    assert!(closed_within(&mut garbage, Duration::from_secs(10)));
    // JSON is not framed on TCP (10.5 neither): closed, nothing answered.
    let mut json = TcpStream::connect(tcp).unwrap();
    json.write_all(b"j1 {\"command\":\"ping\"}").unwrap();
    assert!(closed_within(&mut json, Duration::from_secs(10)));
    // Megabytes without a space: closed once over the bound.
    let mut huge = TcpStream::connect(tcp).unwrap();
    let chunk = vec![b'x'; 1 << 16];
    for _ in 0..40 {
        if huge.write_all(&chunk).is_err() {
            break;
        }
    }
    assert!(closed_within(&mut huge, Duration::from_secs(10)));
    // A message without a cookie gets no answer, and the connection goes on.
    let mut c = Client::connect(tcp);
    c.send(b" d7:command4:pinge");
    let r = c.request("n2", &ping());
    assert_eq!(text(r.get("result")), "pong");
    // The half-open client is answered once it sends the rest.
    half.send(b"and4:pinge");
    let (cookie, r) = half.answer();
    assert_eq!(cookie, b"h1");
    assert_eq!(text(r.get("result")), "pong");
}
