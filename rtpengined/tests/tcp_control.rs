//! The TCP control protocol on `--listen-tcp` (10.5's `control_tcp.c`): a
//! client written from the protocol's format (one line per connection,
//! text answers, the daemon shuts its side after answering). A call set up
//! with `request`/`lookup` relays RTP through the ports answered; `status`,
//! `controls`, `version`; clients that misbehave leave the others served.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::time::{Duration, Instant};

use common::{phone, query, recv, rtp, text, Daemon};

fn free_tcp_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Sends `data` on a new connection and reads until the daemon closes its
/// side: the answer (`None` when the connection was reset).
fn exchange(addr: SocketAddr, data: &[u8]) -> Option<Vec<u8>> {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s.write_all(data).unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).ok()?;
    Some(out)
}

fn line(addr: SocketAddr, l: &str) -> String {
    let r = exchange(addr, format!("{l}\n").as_bytes())
        .unwrap_or_else(|| panic!("connection reset on {l:?}"));
    String::from_utf8(r).unwrap()
}

fn start() -> (Daemon, SocketAddr) {
    let port = free_tcp_port();
    let opt = format!("--listen-tcp=127.0.0.1:{port}");
    let d = Daemon::start(41100, 41199, &[opt.as_str()]);
    let tcp = SocketAddr::from(([127, 0, 0, 1], port));
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(tcp).is_err() {
        assert!(
            Instant::now() < deadline,
            "no TCP control listener; log: {}",
            d.log_text()
        );
        std::thread::yield_now();
    }
    (d, tcp)
}

/// `ADDRESS PORT` pairs, written one after the other, to addresses.
fn targets(reply: &str) -> Vec<SocketAddr> {
    let body = reply.strip_suffix('\n').expect(reply);
    // "127.0.0.1 30000127.0.0.1 30002": split before each address.
    let mut out: Vec<SocketAddr> = Vec::new();
    for part in body.split("127.0.0.1 ").filter(|p| !p.is_empty()) {
        out.push(format!("127.0.0.1:{part}").parse().expect(reply));
    }
    assert_eq!(
        out.iter()
            .map(|a| format!("{} {}", a.ip(), a.port()))
            .collect::<String>(),
        body
    );
    out
}

fn relayed(from: &UdpSocket, to_addr: SocketAddr, to: &UdpSocket, tag: u8) {
    let deadline = Instant::now() + Duration::from_secs(5);
    for seq in 0.. {
        from.send_to(&rtp(seq, tag), to_addr).unwrap();
        if let Some((p, _)) = recv(to) {
            assert_eq!(p, rtp(seq, tag));
            return;
        }
        assert!(Instant::now() < deadline, "nothing relayed");
    }
}

#[test]
fn a_call_set_up_by_request_and_lookup_relays_rtp() {
    let (d, tcp) = start();
    assert!(line(tcp, "version").starts_with("Version: "));
    assert_eq!(line(tcp, "build"), line(tcp, "version"));
    assert_eq!(line(tcp, "status"), "proxy 0 0/0/0\n");

    let phones: Vec<UdpSocket> = (0..4).map(|_| phone("127.0.0.1")).collect();
    let port = |i: usize| phones[i].local_addr().unwrap().port();
    let request = format!(
        "request tc-call 127.0.0.1:{}:audio,127.0.0.1:{}:video 10.0.0.1 dom.a local dom.b remote agent info=fromtag:caller,domain:x",
        port(0),
        port(1)
    );
    let to_callee = targets(&line(tcp, &request));
    assert_eq!(to_callee.len(), 2);
    let lookup = format!(
        "lookup tc-call 127.0.0.1:{},127.0.0.1:{} 10.0.0.2 dom.a local dom.b remote agent info=fromtag:caller,totag:callee",
        port(2),
        port(3)
    );
    let to_caller = targets(&line(tcp, &lookup));
    assert_eq!(to_caller.len(), 2);

    // Stream 1 between phones 0 and 2, stream 2 between 1 and 3.
    relayed(&phones[0], to_caller[0], &phones[2], 1);
    relayed(&phones[2], to_callee[0], &phones[0], 2);
    relayed(&phones[1], to_caller[1], &phones[3], 3);
    relayed(&phones[3], to_callee[1], &phones[1], 4);

    // The call is one of the registry's: ng sees it, `status` lists it.
    let q = d.ok(&query("tc-call"));
    assert_eq!(text(q.get("result")), "ok");
    let status = line(tcp, "status");
    let lines: Vec<&str> = status.lines().collect();
    assert_eq!(lines[0], "proxy 1 0/0/0", "{status}");
    assert!(lines[1].starts_with("session tc-call - - - - "), "{status}");
    assert_eq!(lines.len(), 2, "{status}");

    // A lookup of an unknown call, or without a to-tag, is answered with
    // nothing; so is delete, which ends the call.
    assert_eq!(
        line(
            tcp,
            "lookup no-call 127.0.0.1:4000 ip a b c d e info=fromtag:x,totag:y"
        ),
        ""
    );
    assert_eq!(
        line(
            tcp,
            "lookup tc-call 127.0.0.1:4000 ip a b c d e info=fromtag:x"
        ),
        ""
    );
    assert_eq!(line(tcp, "delete tc-call info=fromtag:caller"), "");
    assert_eq!(line(tcp, "status"), "proxy 0 0/0/0\n");
    assert_eq!(line(tcp, "quit"), "");
    assert_eq!(line(tcp, "exit"), "");
}

/// Reads until the daemon closes, or for `wait` (then `false`).
fn closed_within(s: &mut TcpStream, wait: Duration) -> (bool, Vec<u8>) {
    s.set_read_timeout(Some(wait)).unwrap();
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return (true, out),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            // A reset is a close too.
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return (true, out),
            Err(_) => return (false, out),
        }
    }
}

#[test]
fn bad_clients_are_closed_and_others_still_served() {
    let (_d, tcp) = start();
    // A half-open client: part of a line, and then nothing.
    let mut silent = TcpStream::connect(tcp).unwrap();
    silent.write_all(b"stat").unwrap();
    // `controls` lists the connections open, the asking one included.
    let controls = line(tcp, "controls");
    let silent_addr = silent.local_addr().unwrap().to_string();
    assert!(controls.lines().any(|l| l == silent_addr), "{controls}");
    assert!(controls.ends_with("End.\n"), "{controls}");
    assert_eq!(controls.lines().count(), 3, "{controls}");

    for bad in [
        &b"bogus\n"[..],
        b"Version\n",
        b"version \n",
        b"request c 1.2.3.4:5 ip a b c d e\n",
        b"\xff\xfe\xfd\n",
        b"delete c1\n",
    ] {
        let mut s = TcpStream::connect(tcp).unwrap();
        s.write_all(bad).unwrap();
        let (closed, answer) = closed_within(&mut s, Duration::from_secs(10));
        assert!(closed, "{bad:?} left open");
        assert!(answer.is_empty(), "{bad:?}: {answer:?}");
    }
    // A line longer than 1024 bytes: closed without an answer.
    let mut huge = TcpStream::connect(tcp).unwrap();
    huge.write_all(&vec![b'x'; 4000]).unwrap();
    let (closed, answer) = closed_within(&mut huge, Duration::from_secs(10));
    assert!(closed && answer.is_empty(), "{answer:?}");

    // Meanwhile the others are served, the half-open one included once it
    // ends its line.
    assert_eq!(line(tcp, "status"), "proxy 0 0/0/0\n");
    silent.write_all(b"us\n").unwrap();
    let (closed, answer) = closed_within(&mut silent, Duration::from_secs(10));
    assert!(closed);
    assert_eq!(answer, b"proxy 0 0/0/0\n");
    // A line ended by closing the sending side is a line too; a line end
    // `\r\n` and blank lines before it are fine.
    let mut s = TcpStream::connect(tcp).unwrap();
    s.write_all(b"\r\n\nversion").unwrap();
    s.shutdown(std::net::Shutdown::Write).unwrap();
    let (_, answer) = closed_within(&mut s, Duration::from_secs(10));
    assert!(answer.starts_with(b"Version: "), "{answer:?}");
}

#[test]
fn a_bare_port_listens_on_both_families() {
    // The port may be taken between the probe and the daemon's bind: then
    // try another one.
    for _ in 0..5 {
        let port = TcpListener::bind("[::]:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let opt = format!("--listen-tcp={port}");
        let d = Daemon::start(41150, 41199, &[opt.as_str()]);
        let v4 = SocketAddr::from(([127, 0, 0, 1], port));
        let v6: SocketAddr = format!("[::1]:{port}").parse().unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(v4).is_err() || TcpStream::connect(v6).is_err() {
            if d.log_text().contains("cannot listen for TCP") || Instant::now() > deadline {
                break;
            }
            std::thread::yield_now();
        }
        if d.log_text().contains("cannot listen for TCP") {
            continue;
        }
        for addr in [v4, v6] {
            assert!(line(addr, "version").starts_with("Version: "), "{addr}");
        }
        let log = d.log_text();
        assert!(log.contains(&format!("listen=0.0.0.0:{port}")), "{log}");
        assert!(log.contains(&format!("listen=[::]:{port}")), "{log}");
        return;
    }
    panic!("no free port for --listen-tcp after 5 tries");
}
