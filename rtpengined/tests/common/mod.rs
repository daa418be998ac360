//! Test harness: start the real daemon binary on loopback and talk ng to it.
#![allow(dead_code)]

use std::net::{SocketAddr, UdpSocket};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use rtpengined::ng::bencode::{decode, Owned};

pub struct Daemon {
    child: Child,
    pub ng: SocketAddr,
    client: UdpSocket,
    cookie: AtomicU32,
    pub log: std::path::PathBuf,
}

/// A free UDP port on `ip` (the OS picks; released before the daemon binds it).
pub fn free_port(ip: &str) -> u16 {
    UdpSocket::bind((ip, 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Daemon {
    /// Start rtpengined with the given media port range and extra options.
    pub fn start(port_min: u16, port_max: u16, extra: &[&str]) -> Daemon {
        Self::start_on("127.0.0.1", port_min, port_max, extra)
    }

    pub fn start_on(ng_ip: &str, port_min: u16, port_max: u16, extra: &[&str]) -> Daemon {
        // The free port is released before the daemon binds it, so another test may
        // take it first: then our daemon exits and the other one would answer. Retry
        // on a new port until the daemon that answers is ours (still running).
        for _ in 0..5 {
            let mut d = Self::spawn(ng_ip, port_min, port_max, extra);
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                if let Some(status) = d.child.try_wait().unwrap() {
                    let log = d.log_text();
                    assert!(
                        log.contains("in use"),
                        "rtpengined exited ({status}) at start; log: {log}"
                    );
                    break;
                }
                if let Some(r) = d.try_raw(b"d7:command4:pinge") {
                    if !d.log_text().contains("ng control listening") {
                        // Another daemon answered: ours could not bind the port.
                        continue;
                    }
                    assert_eq!(r.get("result"), Some(&Owned::from("pong")));
                    return d;
                }
                assert!(
                    Instant::now() < deadline,
                    "daemon did not answer ping; log: {}",
                    d.log_text()
                );
            }
        }
        panic!("no free ng port for rtpengined after 5 tries");
    }

    fn spawn(ng_ip: &str, port_min: u16, port_max: u16, extra: &[&str]) -> Daemon {
        let port = free_port(ng_ip);
        let ng: SocketAddr = if ng_ip.contains(':') {
            format!("[{ng_ip}]:{port}").parse().unwrap()
        } else {
            format!("{ng_ip}:{port}").parse().unwrap()
        };
        let log =
            std::env::temp_dir().join(format!("rtpengined-test-{}-{port}.log", std::process::id()));
        let mut args = vec![
            "--config-file=none".to_string(),
            "--foreground".into(),
            "--log-stderr".into(),
            "--log-level=7".into(),
            format!("--listen-ng={ng}"),
            format!("--port-min={port_min}"),
            format!("--port-max={port_max}"),
        ];
        if !extra
            .iter()
            .any(|a| a.starts_with("--interface") || *a == "-i")
        {
            args.push("--interface=127.0.0.1".into());
        }
        if !extra.iter().any(|a| a.starts_with("--delete-delay")) {
            args.push("--delete-delay=0".into());
        }
        args.extend(extra.iter().map(|s| s.to_string()));
        let child = Command::new(env!("CARGO_BIN_EXE_rtpengined"))
            .args(&args)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("start rtpengined");
        let client = UdpSocket::bind(if ng.is_ipv4() {
            "127.0.0.1:0"
        } else {
            "[::1]:0"
        })
        .unwrap();
        client
            .set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        Daemon {
            child,
            ng,
            client,
            cookie: AtomicU32::new(0),
            log,
        }
    }

    /// SIGKILL, as a crash would: nothing is cleaned up.
    pub fn kill_hard(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn next_cookie(&self) -> String {
        // Unique across the daemons of one test process, whose caches would
        // otherwise answer each other's cookies.
        format!(
            "t{}_{}_{}",
            std::process::id(),
            self.ng.port(),
            self.cookie.fetch_add(1, Ordering::Relaxed)
        )
    }

    /// Send `cookie SP body` and return the raw reply datagram.
    pub fn send_raw(&self, datagram: &[u8]) -> Option<Vec<u8>> {
        self.client.send_to(datagram, self.ng).unwrap();
        let mut buf = vec![0u8; 65536];
        match self.client.recv_from(&mut buf) {
            Ok((n, _)) => Some(buf[..n].to_vec()),
            Err(_) => None,
        }
    }

    fn try_raw(&self, body: &[u8]) -> Option<Owned> {
        let cookie = self.next_cookie();
        let mut dg = format!("{cookie} ").into_bytes();
        dg.extend_from_slice(body);
        let reply = self.send_raw(&dg)?;
        let rest = reply
            .strip_prefix(format!("{cookie} ").as_bytes())
            .expect("reply echoes cookie");
        Some(decode(rest).expect("reply is bencode").to_owned_value())
    }

    /// Send a request dictionary, retrying like Kamailio on loss; returns the reply.
    pub fn request(&self, msg: &Owned) -> Owned {
        let body = msg.encode();
        for _ in 0..25 {
            if let Some(r) = self.try_raw(&body) {
                return r;
            }
        }
        panic!("no reply to {msg}; log: {}", self.log_text());
    }

    pub fn ok(&self, msg: &Owned) -> Owned {
        let r = self.request(msg);
        assert_eq!(
            r.get("result"),
            Some(&Owned::from("ok")),
            "request {msg} failed: {r}"
        );
        r
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        // SAFETY: sending SIGTERM to our own child process id; no memory is involved.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                self.keep_log_only_on_failure();
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Daemon {
    fn keep_log_only_on_failure(&self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_file(&self.log);
        } else {
            eprintln!("daemon log kept: {}", self.log.display());
        }
    }
}

pub fn s(v: &str) -> Owned {
    Owned::from(v)
}

pub fn list(items: &[&str]) -> Owned {
    Owned::List(items.iter().map(|i| Owned::from(*i)).collect())
}

pub fn text(o: Option<&Owned>) -> String {
    match o {
        Some(Owned::Bytes(b)) => String::from_utf8_lossy(b).into_owned(),
        other => panic!("expected string, got {other:?}"),
    }
}

pub fn int(o: Option<&Owned>) -> i64 {
    match o {
        Some(Owned::Int(n)) => *n,
        other => panic!("expected int, got {other:?}"),
    }
}

/// A one-audio-stream SDP for a party at `ip:port`.
pub fn sdp(ip: &str, port: u16) -> String {
    let fam = if ip.contains(':') { "IP6" } else { "IP4" };
    format!(
        "v=0\r\no=- 1 1 IN {fam} {ip}\r\ns=-\r\nc=IN {fam} {ip}\r\nt=0 0\r\nm=audio {port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
    )
}

pub fn offer(call: &str, from: &str, body: &str) -> Owned {
    Owned::dict()
        .with("command", "offer")
        .with("call-id", call)
        .with("from-tag", from)
        .with("sdp", body)
}

pub fn answer(call: &str, from: &str, to: &str, body: &str) -> Owned {
    Owned::dict()
        .with("command", "answer")
        .with("call-id", call)
        .with("from-tag", from)
        .with("to-tag", to)
        .with("sdp", body)
}

pub fn delete(call: &str, from: &str) -> Owned {
    Owned::dict()
        .with("command", "delete")
        .with("call-id", call)
        .with("from-tag", from)
}

pub fn query(call: &str) -> Owned {
    Owned::dict().with("command", "query").with("call-id", call)
}

/// The `m=audio` port and `c=` address of a rewritten SDP.
pub fn media_target(reply: &Owned) -> SocketAddr {
    let body = text(reply.get("sdp"));
    let port: u16 = body
        .lines()
        .find_map(|l| l.strip_prefix("m=audio "))
        .and_then(|r| r.split(' ').next())
        .and_then(|p| p.parse().ok())
        .expect("m=audio port");
    let addr = body
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("c=IN "))
        .map(|r| r[4..].trim().to_string())
        .expect("c= line");
    let ip: std::net::IpAddr = addr.parse().unwrap();
    SocketAddr::new(ip, port)
}

/// A UDP "phone" bound on loopback.
pub fn phone(ip: &str) -> UdpSocket {
    let s = UdpSocket::bind((ip, 0)).unwrap();
    s.set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    s
}

/// A minimal RTP packet with a recognisable payload.
pub fn rtp(seq: u16, tag: u8) -> Vec<u8> {
    let mut p = vec![0x80, 0x00];
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 42]);
    p.extend_from_slice(&[tag; 160]);
    p
}

pub fn recv(sock: &UdpSocket) -> Option<(Vec<u8>, SocketAddr)> {
    let mut buf = vec![0u8; 2048];
    sock.recv_from(&mut buf)
        .ok()
        .map(|(n, a)| (buf[..n].to_vec(), a))
}
