//! Benchmark (not a test): DTLS-SRTP handshakes on media ports, rtpengined vs
//! Debian's rtpengine 10.5 in the same run.
//!
//! Each call: ng offer from a "browser" (UDP/TLS/RTP/SAVPF, `a=setup:active`,
//! our client certificate's fingerprint) bridged to RTP/AVP, the phone's ng
//! answer, then a DTLS client (rtpengine-dtls, OpenSSL) handshakes with the
//! daemon's browser-side port until the SRTP keys are exported, then ng
//! delete. The same calls without the handshake are measured too, so the
//! handshake's share is the difference. Prints handshakes per second (one at
//! a time: latency-bound) and the daemon's CPU per handshake. Run:
//!   cargo run --release -p rtpengined --example dtls_bench [-- SECONDS]
//! Needs /usr/bin/rtpengine (Debian's rtpengine-daemon) for the ratio.

use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant, SystemTime};

use rtpengine_dtls::{CertParams, Certificate, Config, Dtls, Event, Fingerprint, HashFunc, Role};
use rtpengined::ng::bencode::Owned;

#[path = "bench_common/mod.rs"]
mod bench_common;
use bench_common::{
    cpu_time, daemon_args, median, ours_bin, seconds_arg, spawn, wait_ready, Ng, Proc,
};

fn browser_sdp(port: u16, fingerprint: &str) -> String {
    format!(
        "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
         m=audio {port} UDP/TLS/RTP/SAVPF 0\r\na=rtpmap:0 PCMU/8000\r\na=rtcp-mux\r\n\
         a=setup:active\r\na=fingerprint:{fingerprint}\r\na=sendrecv\r\n"
    )
}

fn phone_sdp(port: u16) -> String {
    format!(
        "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
         m=audio {port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
    )
}

fn sdp_of(reply: &Owned) -> String {
    match reply.get("sdp") {
        Some(Owned::Bytes(b)) => String::from_utf8_lossy(b).into_owned(),
        _ => String::new(),
    }
}

/// The m=audio port and a=fingerprint of an SDP body.
fn media_and_fingerprint(sdp: &str) -> Option<(u16, Fingerprint)> {
    let port = sdp
        .lines()
        .find_map(|l| l.strip_prefix("m=audio "))?
        .split(' ')
        .next()?
        .parse()
        .ok()?;
    let fp = sdp.lines().find_map(|l| l.strip_prefix("a=fingerprint:"))?;
    Some((port, Fingerprint::parse(fp).ok()?))
}

struct Client {
    cert: Certificate,
    fingerprint: String,
    sock: UdpSocket,
}

/// Sets up one call; with `handshake`, completes DTLS with the daemon.
/// Returns false when something did not work.
fn call(ng: &mut Ng, client: &Client, id: &str, handshake: bool) -> bool {
    let browser_port = client.sock.local_addr().unwrap().port();
    let offer = Owned::dict()
        .with("command", "offer")
        .with("call-id", id)
        .with("from-tag", "browser")
        .with("transport-protocol", "RTP/AVP")
        .with("sdp", browser_sdp(browser_port, &client.fingerprint));
    if ng.req(&offer).is_none() {
        return false;
    }
    let answer = Owned::dict()
        .with("command", "answer")
        .with("call-id", id)
        .with("from-tag", "browser")
        .with("to-tag", "phone")
        .with("sdp", phone_sdp(4000));
    let Some(reply) = ng.req(&answer) else {
        return false;
    };
    let ok = !handshake || {
        match media_and_fingerprint(&sdp_of(&reply)) {
            Some((port, fp)) => dtls(client, port, fp),
            None => false,
        }
    };
    let delete = Owned::dict()
        .with("command", "delete")
        .with("call-id", id)
        .with("from-tag", "browser");
    ng.req(&delete).is_some() && ok
}

/// One handshake as the client with the daemon's port; true once keyed.
fn dtls(client: &Client, port: u16, peer: Fingerprint) -> bool {
    let to: SocketAddr = ([127, 0, 0, 1], port).into();
    let Ok(mut d) = Dtls::new(
        Role::Client,
        &client.cert,
        peer,
        &Config::default(),
        Instant::now(),
    ) else {
        return false;
    };
    let end = Instant::now() + Duration::from_secs(5);
    let mut buf = [0u8; 2048];
    while Instant::now() < end {
        while let Some(out) = d.poll_transmit() {
            let _ = client.sock.send_to(&out, to);
        }
        match d.poll_event() {
            Some(Event::Connected { .. }) => return true,
            Some(_) => return false,
            None => {}
        }
        let wait = d
            .poll_timeout()
            .map_or(Duration::from_millis(100), |t| {
                t.saturating_duration_since(Instant::now())
            })
            .max(Duration::from_millis(1));
        client.sock.set_read_timeout(Some(wait)).unwrap();
        match client.sock.recv_from(&mut buf) {
            Ok((n, from)) if from == to => {
                d.handle_datagram(Instant::now(), &buf[..n]);
            }
            Ok(_) => {}
            Err(_) => d.handle_timeout(Instant::now()),
        }
    }
    false
}

struct Daemon {
    name: &'static str,
    _proc: Proc,
    pid: u32,
    ng: Ng,
    /// Per round: (handshakes/s, CPU µs per handshake).
    rounds: Vec<(f64, f64)>,
}

/// Calls for `secs`; (calls per second, daemon CPU µs per call, failures).
fn calls(
    d: &mut Daemon,
    client: &Client,
    secs: f64,
    tag: &str,
    handshake: bool,
) -> (f64, f64, u32) {
    let cpu0 = cpu_time(d.pid);
    let t0 = Instant::now();
    let (mut n, mut failed) = (0u32, 0u32);
    while t0.elapsed().as_secs_f64() < secs {
        if call(&mut d.ng, client, &format!("{tag}-{n}"), handshake) {
            n += 1;
        } else {
            failed += 1;
            if failed > 20 && n == 0 {
                break;
            }
        }
    }
    let wall = t0.elapsed().as_secs_f64();
    let cpu = (cpu_time(d.pid) - cpu0).as_secs_f64() * 1e6;
    (f64::from(n) / wall, cpu / f64::from(n.max(1)), failed)
}

fn main() {
    let secs = seconds_arg(3.0);
    let ours_bin = ours_bin();
    let cert = Certificate::generate(&CertParams::default(), SystemTime::now()).unwrap();
    let fingerprint = cert.fingerprint(HashFunc::Sha256).to_string();
    let client = Client {
        cert,
        fingerprint,
        sock: UdpSocket::bind("127.0.0.1:0").unwrap(),
    };
    let start = |name: &'static str, bin: &std::path::Path, ng: SocketAddr, min, max| {
        let child = spawn(bin, daemon_args(ng, min, max))?;
        let mut d = Daemon {
            name,
            pid: child.id(),
            _proc: Proc(child),
            ng: Ng::new(ng),
            rounds: vec![],
        };
        wait_ready(&mut d.ng).then_some(d)
    };
    let mut daemons = Vec::new();
    let ours = start(
        "rtpengined",
        &ours_bin,
        "127.0.0.1:35990".parse().unwrap(),
        35000,
        35899,
    );
    daemons.push(ours.expect("rtpengined did not start"));
    let theirs_bin = std::path::Path::new("/usr/bin/rtpengine");
    let theirs = start(
        "rtpengine 10.5",
        theirs_bin,
        "127.0.0.1:36990".parse().unwrap(),
        36000,
        36899,
    );
    let have_theirs = theirs.is_some();
    daemons.extend(theirs);

    let rounds = 3;
    for r in 0..rounds {
        for d in daemons.iter_mut() {
            let tag = format!("{}{r}", d.name.replace(' ', "-"));
            let (_, plain_cpu, _) = calls(d, &client, secs / 2.0, &format!("{tag}p"), false);
            let (rate, cpu, failed) = calls(d, &client, secs, &format!("{tag}d"), true);
            if failed > 0 {
                eprintln!("{}: {failed} calls without a handshake", d.name);
            }
            d.rounds.push((rate, (cpu - plain_cpu).max(0.0)));
        }
    }
    println!("median of {rounds} rounds of {secs} s, one handshake at a time, P-256 certificates");
    let m: Vec<(&str, f64, f64)> = daemons
        .iter()
        .map(|d| {
            let rate = median(d.rounds.iter().map(|r| r.0).collect());
            let cpu = median(d.rounds.iter().map(|r| r.1).collect());
            (d.name, rate, cpu)
        })
        .collect();
    for (name, rate, cpu) in &m {
        println!(
            "{name:16} calls with handshake/s {rate:7.1}   daemon CPU per handshake {cpu:7.0} µs"
        );
    }
    if let [(_, r0, c0), (name, r1, c1)] = m[..] {
        println!(
            "ratio rtpengined/{name}: handshakes/s {:.2}   CPU per handshake {:.2}",
            r0 / r1,
            c0 / c1
        );
    }
    if !have_theirs {
        println!("Debian rtpengine not available (apt-get install rtpengine-daemon): no ratio");
    }
}
