//! Benchmark (not a test): rtpengined vs Debian's rtpengine 10.5 in the same run.
//!
//! Prints ng offer+answer+delete per second, userspace relay packets per second
//! and the daemon's CPU time per relayed packet for each daemon, and the ratios.
//! With `RTPENGINED_BEFORE=<path of an earlier rtpengined build>` that build is
//! measured in the same rounds too (before/after a change). Run:
//!   cargo run --release -p rtpengined --example bench [-- SECONDS]
//! Needs Debian's `rtpengine-daemon` (/usr/bin/rtpengine); every daemon runs with
//! --table=-1 (userspace), rtpengine with immediate endpoint learning. What the
//! figures mean and what they do not: docs/benchmarks.md.

use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rtpengined::ng::bencode::Owned;

#[path = "bench_common/mod.rs"]
mod bench_common;
use bench_common::{
    cpu_time, daemon_args, median, ours_bin, seconds_arg, spawn, wait_ready, Ng, Proc,
};

fn sdp(port: u16) -> String {
    format!("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio {port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n")
}

fn cmd(command: &str, call: &str) -> Owned {
    Owned::dict()
        .with("command", command)
        .with("call-id", call)
        .with("from-tag", "a")
}

fn port_of(reply: &Owned) -> Option<u16> {
    let Some(Owned::Bytes(b)) = reply.get("sdp") else {
        return None;
    };
    let text = String::from_utf8_lossy(b);
    text.lines()
        .find_map(|l| l.strip_prefix("m=audio "))?
        .split(' ')
        .next()?
        .parse()
        .ok()
}

/// offer+answer+delete cycles per second.
fn ng_rate(ng: &mut Ng, secs: f64, tag: &str) -> f64 {
    let start = Instant::now();
    let mut done = 0u64;
    while start.elapsed().as_secs_f64() < secs {
        let id = format!("{tag}-{done}");
        let ok = ng.req(&cmd("offer", &id).with("sdp", sdp(6000))).is_some()
            && ng
                .req(
                    &cmd("answer", &id)
                        .with("to-tag", "b")
                        .with("sdp", sdp(6002)),
                )
                .is_some()
            && ng.req(&cmd("delete", &id)).is_some();
        if ok {
            done += 1;
        }
    }
    done as f64 / start.elapsed().as_secs_f64()
}

/// Calls carrying media at once in the relay benchmark. Spreading the load keeps each
/// stream at a realistic rate (rtpengine discards floods on a single stream).
const RELAY_CALLS: usize = 200;

fn big_receive_buffer(s: &UdpSocket) {
    use std::os::fd::AsRawFd;
    let size: libc::c_int = 8 << 20;
    for opt in [libc::SO_RCVBUFFORCE, libc::SO_RCVBUF] {
        // SAFETY: a live socket, a c_int option value whose size is passed exactly.
        let rc = unsafe {
            libc::setsockopt(
                s.as_raw_fd(),
                libc::SOL_SOCKET,
                opt,
                (&size as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        if rc == 0 {
            return;
        }
    }
}

/// One relay measurement.
#[derive(Clone, Copy)]
struct Relayed {
    /// Packets per second bob received.
    received: f64,
    /// Packets per second alice sent.
    offered: f64,
    /// The daemon's CPU time per relayed packet, in microseconds.
    cpu_us: f64,
}

/// Packets relayed alice -> bob, round-robin over `RELAY_CALLS` calls, and what
/// they cost the daemon `pid`.
fn relay_rate(ng: &mut Ng, secs: f64, tag: &str, pid: u32) -> Relayed {
    let alice = UdpSocket::bind("127.0.0.1:0").unwrap();
    let bob = UdpSocket::bind("127.0.0.1:0").unwrap();
    bob.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    // Each round lands RELAY_CALLS packets on this one socket at once: with the
    // default buffer the burst overflows it, and the loss would be ours, not the
    // daemon's.
    big_receive_buffer(&bob);
    let mut targets = Vec::new();
    for i in 0..RELAY_CALLS {
        let id = format!("{tag}-relay-{i}");
        let a_sdp = sdp(alice.local_addr().unwrap().port());
        ng.req(&cmd("offer", &id).with("sdp", a_sdp))
            .expect("offer");
        let b_sdp = sdp(bob.local_addr().unwrap().port());
        let a = ng
            .req(&cmd("answer", &id).with("to-tag", "b").with("sdp", b_sdp))
            .expect("answer");
        let port = port_of(&a).expect("answer port");
        targets.push(SocketAddr::from(([127, 0, 0, 1], port)));
    }
    let received = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let counter = {
        let (received, stop) = (received.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut buf = [0u8; 2048];
            while !stop.load(Ordering::Relaxed) {
                if bob.recv_from(&mut buf).is_ok() {
                    received.fetch_add(1, Ordering::Relaxed);
                }
            }
        })
    };
    let mut packet = vec![0x80u8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    packet.extend_from_slice(&[0xd5; 160]);
    let cpu_before = cpu_time(pid);
    let start = Instant::now();
    let mut sent = 0u64;
    let mut round = 0u32;
    while start.elapsed().as_secs_f64() < secs {
        // One packet per call per round, with realistic sequence numbers/timestamps.
        round = round.wrapping_add(1);
        packet[2..4].copy_from_slice(&(round as u16).to_be_bytes());
        packet[4..8].copy_from_slice(&round.wrapping_mul(160).to_be_bytes());
        for t in &targets {
            if alice.send_to(&packet, t).is_ok() {
                sent += 1;
            }
        }
        std::thread::sleep(Duration::from_micros(1000));
    }
    std::thread::sleep(Duration::from_millis(300));
    let cpu = cpu_time(pid).saturating_sub(cpu_before);
    stop.store(true, Ordering::Relaxed);
    counter.join().unwrap();
    for i in 0..RELAY_CALLS {
        let _ = ng.req(&cmd("delete", &format!("{tag}-relay-{i}")));
    }
    let got = received.load(Ordering::Relaxed);
    Relayed {
        received: got as f64 / secs,
        offered: sent as f64 / secs,
        cpu_us: cpu.as_secs_f64() * 1e6 / got.max(1) as f64,
    }
}

/// A daemon under test.
struct Daemon {
    name: &'static str,
    _proc: Proc,
    pid: u32,
    ng: Ng,
    ng_rates: Vec<f64>,
    relays: Vec<Relayed>,
}

impl Daemon {
    fn start(
        name: &'static str,
        bin: &std::path::Path,
        args: Vec<String>,
        ng: SocketAddr,
    ) -> Option<Daemon> {
        let child = spawn(bin, args)?;
        let pid = child.id();
        let mut d = Daemon {
            name,
            _proc: Proc(child),
            pid,
            ng: Ng::new(ng),
            ng_rates: vec![],
            relays: vec![],
        };
        wait_ready(&mut d.ng).then_some(d)
    }

    fn round(&mut self, secs: f64, r: usize) {
        let tag = format!("{}{r}", self.name.replace(' ', "-"));
        self.ng_rates.push(ng_rate(&mut self.ng, secs, &tag));
        self.relays
            .push(relay_rate(&mut self.ng, secs, &tag, self.pid));
    }

    /// Medians: (ng/s, relayed/s, offered/s, CPU µs per packet).
    fn medians(&self) -> (f64, f64, f64, f64) {
        (
            median(self.ng_rates.clone()),
            median(self.relays.iter().map(|r| r.received).collect()),
            median(self.relays.iter().map(|r| r.offered).collect()),
            median(self.relays.iter().map(|r| r.cpu_us).collect()),
        )
    }
}

fn main() {
    let secs = seconds_arg(3.0);
    let ours_bin = ours_bin();
    let mut daemons = Vec::new();
    let ours_ng: SocketAddr = "127.0.0.1:32990".parse().unwrap();
    daemons.push(
        Daemon::start(
            "rtpengined",
            &ours_bin,
            daemon_args(ours_ng, 32000, 32899),
            ours_ng,
        )
        .expect("rtpengined did not start"),
    );
    // An earlier build of ours (RTPENGINED_BEFORE=path): before/after in one run.
    if let Ok(before) = std::env::var("RTPENGINED_BEFORE") {
        let ng: SocketAddr = "127.0.0.1:33990".parse().unwrap();
        let d = Daemon::start(
            "rtpengined before",
            before.as_ref(),
            daemon_args(ng, 33000, 33899),
            ng,
        );
        daemons.push(d.expect("the RTPENGINED_BEFORE build did not start"));
    }
    let theirs_ng: SocketAddr = "127.0.0.1:31990".parse().unwrap();
    let mut theirs_args = daemon_args(theirs_ng, 31000, 31999);
    // Its default ("delayed") holds media back for the first seconds; we latch at
    // once, so compare like with like.
    theirs_args.push("--endpoint-learning=immediate".into());
    let theirs = Daemon::start(
        "rtpengine 10.5",
        "/usr/bin/rtpengine".as_ref(),
        theirs_args,
        theirs_ng,
    );
    let have_theirs = theirs.is_some();
    daemons.extend(theirs);

    // Alternate the daemons over several rounds and report medians: the machine
    // is shared, so single measurements are noisy.
    let rounds = 3;
    for r in 0..rounds {
        for d in daemons.iter_mut() {
            d.round(secs, r);
        }
    }
    println!("median of {rounds} rounds of {secs} s, relay over {RELAY_CALLS} calls");
    let m: Vec<_> = daemons.iter().map(|d| (d.name, d.medians())).collect();
    for (name, (ng, relayed, offered, cpu)) in &m {
        println!(
            "{name:18} ng offer+answer+delete/s {ng:8.0}   relay packets/s {relayed:8.0} (offered {offered:.0}/s)   CPU {cpu:.2} µs/packet"
        );
    }
    let ours = m[0].1;
    for (name, other) in &m[1..] {
        println!(
            "ratio rtpengined/{name}: ng {:.2}   relay {:.2}   CPU per packet {:.2}",
            ours.0 / other.0,
            ours.1 / other.1,
            ours.3 / other.3
        );
    }
    if !have_theirs {
        println!("Debian rtpengine not available (apt-get install rtpengine-daemon): no ratio");
    }
}
