//! `--listen-https` with `--https-cert`/`--https-key`: the routes and
//! WebSocket subprotocols of `--listen-http` over TLS, with a certificate the test makes with the
//! openssl command; clients that fail or never start the handshake leave
//! the others served; a missing certificate or key ends the start.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::Daemon;
use openssl::ssl::{SslConnector, SslMethod};

fn free_tcp_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A self-signed certificate for localhost and its key, in `dir`.
fn make_cert(dir: &Path) -> (PathBuf, PathBuf) {
    std::fs::create_dir_all(dir).unwrap();
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let out = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        ])
        .args(["-subj", "/CN=localhost"])
        .args(["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("the openssl command");
    assert!(out.status.success(), "{out:?}");
    (cert, key)
}

fn temp_dir(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("rtpengined-https-{}-{name}", std::process::id()))
}

fn start(dir: &Path, key_in_cert: bool) -> (Daemon, SocketAddr, PathBuf) {
    let (cert, key) = make_cert(dir);
    let port = free_tcp_port();
    let mut opts = vec![
        format!("--listen-https=127.0.0.1:{port}"),
        format!("--https-cert={}", cert.display()),
    ];
    if key_in_cert {
        // 10.5 reads the key from the certificate file when none is given.
        let both = dir.join("both.pem");
        let pem = [std::fs::read(&cert).unwrap(), std::fs::read(&key).unwrap()].concat();
        std::fs::write(&both, pem).unwrap();
        opts[1] = format!("--https-cert={}", both.display());
    } else {
        opts.push(format!("--https-key={}", key.display()));
    }
    let opts: Vec<&str> = opts.iter().map(String::as_str).collect();
    let d = Daemon::start(41300, 41399, &opts);
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(addr).is_err() {
        assert!(
            Instant::now() < deadline,
            "no HTTPS listener; log: {}",
            d.log_text()
        );
        std::thread::yield_now();
    }
    (d, addr, cert)
}

/// One request over TLS, the certificate checked against `ca`: the whole
/// answer as text.
fn exchange(addr: SocketAddr, ca: &Path, request: &[u8]) -> String {
    let mut b = SslConnector::builder(SslMethod::tls_client()).unwrap();
    b.set_ca_file(ca).unwrap();
    let tcp = TcpStream::connect(addr).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut s = b.build().connect("localhost", tcp).expect("TLS handshake");
    s.write_all(request).unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

fn get(addr: SocketAddr, ca: &Path, path: &str) -> String {
    let req = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    exchange(addr, ca, req.as_bytes())
}

#[test]
fn the_http_routes_over_tls() {
    let dir = temp_dir("routes");
    let (_d, addr, ca) = start(&dir, false);
    let r = get(addr, &ca, "/ping");
    assert!(r.starts_with("HTTP/1.1 200 OK\r\n"), "{r}");
    assert!(r.ends_with("\r\n\r\npong\n"), "{r}");
    let body = b"c1 d7:command4:pinge";
    let mut req = format!(
        "POST /ng HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/x-rtpengine-ng\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    req.extend_from_slice(body);
    let r = exchange(addr, &ca, &req);
    assert!(r.ends_with("\r\n\r\nc1 d6:result4:ponge"), "{r}");
    let r = get(addr, &ca, "/cli/list%20numsessions");
    assert!(r.contains("Current sessions own: 0"), "{r}");
    let r = get(addr, &ca, "/metrics");
    assert!(r.contains("rtpengine_sessions{type=\"own\"} 0"), "{r}");
    let r = get(addr, &ca, "/nothing");
    assert!(r.starts_with("HTTP/1.1 404 "), "{r}");
    // curl, where installed, agrees.
    if Path::new("/usr/bin/curl").exists() {
        let out = Command::new("/usr/bin/curl")
            .args(["-sS", "--max-time", "20", "--cacert"])
            .arg(&ca)
            .arg(format!("https://localhost:{}/ping", addr.port()))
            .output()
            .unwrap();
        assert_eq!(out.stdout, b"pong\n", "{out:?}");
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn websocket_over_tls() {
    let dir = temp_dir("wss");
    let (_d, addr, ca) = start(&dir, false);
    let mut b = SslConnector::builder(SslMethod::tls_client()).unwrap();
    b.set_ca_file(&ca).unwrap();
    let tcp = TcpStream::connect(addr).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut s = b.build().connect("localhost", tcp).unwrap();
    s.write_all(
        b"GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
          Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
          Sec-WebSocket-Protocol: ng.rtpengine.com\r\n\r\n",
    )
    .unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        s.read_exact(&mut byte).unwrap();
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head);
    assert!(head.starts_with("HTTP/1.1 101 "), "{head}");
    assert!(head.contains("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), "{head}");
    // One masked binary frame with an ng ping, one binary frame back.
    let payload = b"w1 d7:command4:pinge";
    let mask = [1u8, 2, 3, 4];
    let mut frame = vec![0x82, 0x80 | payload.len() as u8];
    frame.extend_from_slice(&mask);
    frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    s.write_all(&frame).unwrap();
    let mut h = [0u8; 2];
    s.read_exact(&mut h).unwrap();
    assert_eq!(h[0], 0x82);
    let mut reply = vec![0u8; usize::from(h[1] & 0x7f)];
    s.read_exact(&mut reply).unwrap();
    assert_eq!(reply, b"w1 d6:result4:ponge");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn bad_clients_leave_others_served() {
    let dir = temp_dir("bad");
    let (_d, addr, ca) = start(&dir, true);
    // Connected, and never a handshake.
    let _idle = TcpStream::connect(addr).unwrap();
    // Plain HTTP, and garbage, on the TLS port: closed.
    for bad in [
        &b"GET /ping HTTP/1.1\r\nHost: x\r\n\r\n"[..],
        &[0xffu8; 5000][..],
    ] {
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        let _ = s.write_all(bad);
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out);
        assert!(!String::from_utf8_lossy(&out).contains("pong"));
    }
    // A client that does not trust the certificate gives up.
    let b = SslConnector::builder(SslMethod::tls_client()).unwrap();
    let tcp = TcpStream::connect(addr).unwrap();
    assert!(b.build().connect("localhost", tcp).is_err());
    // The others are served.
    let r = get(addr, &ca, "/ping");
    assert!(r.ends_with("\r\n\r\npong\n"), "{r}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_missing_certificate_or_key_ends_the_start() {
    let dir = temp_dir("missing");
    let (cert, _) = make_cert(&dir);
    let run = |args: &[String]| {
        Command::new(env!("CARGO_BIN_EXE_rtpengined"))
            .args([
                "--config-file=none",
                "--foreground",
                "--log-stderr",
                "--table=-1",
                "--interface=127.0.0.1",
                "--port-min=41400",
                "--port-max=41410",
            ])
            .args(args)
            .output()
            .unwrap()
    };
    let port = free_tcp_port();
    let listen = format!("--listen-https=127.0.0.1:{port}");
    let out = run(std::slice::from_ref(&listen));
    assert_eq!(out.status.code(), Some(255), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no certificate given"),
        "{out:?}"
    );
    // The certificate alone: its file holds no key.
    let out = run(&[listen.clone(), format!("--https-cert={}", cert.display())]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("cannot use private key"),
        "{out:?}"
    );
    let _ = std::fs::remove_dir_all(dir);
}
