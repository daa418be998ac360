//! Benchmark (not a test): ng control-plane speed, rtpengined vs Debian's
//! rtpengine 10.5 in the same run.
//!
//! One client keeps `INFLIGHT` calls going at once over one UDP socket: each
//! call is an offer, then an answer once the offer's reply is in, then a
//! delete; a finished call starts the next one in its slot. Prints, per daemon,
//! completed calls per second and the daemon's CPU time (utime+stime) per call,
//! and the ratios. Every daemon runs with `--delete-delay=0 --table=-1`.
//! `RTPENGINED_BEFORE=<path of an earlier build>` adds that build to every
//! round (before/after a change). Run:
//!   cargo run --release -p rtpengined --example ng_bench [-- SECONDS [ROUNDS]]
//! Ports: ng 127.0.0.1:32990 (ours), :33990 (before), :31990 (10.5); media
//! 32000-32899, 33000-33899, 31000-31899. What the figures mean: docs/benchmarks.md.

use std::collections::HashMap;
use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rtpengined::ng::bencode::{decode, Owned};

#[path = "bench_common/mod.rs"]
mod bench_common;
use bench_common::{cpu_time, daemon_args, median, ours_bin, spawn, wait_ready, Ng, Proc};

static COOKIE: AtomicU64 = AtomicU64::new(0);

/// Calls in progress at once.
const INFLIGHT: usize = 32;

fn sdp(port: u16) -> String {
    format!("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio {port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n")
}

fn request(step: u8, call: &str) -> Owned {
    let m = Owned::dict().with("call-id", call).with("from-tag", "a");
    match step {
        0 => m.with("command", "offer").with("sdp", sdp(6000)),
        1 => m
            .with("command", "answer")
            .with("to-tag", "b")
            .with("sdp", sdp(6002)),
        _ => m.with("command", "delete"),
    }
}

/// One call slot: which call, which step, the datagram last sent (resent as
/// is, same cookie, when no reply came).
struct Slot {
    call: String,
    step: u8,
    sent: Vec<u8>,
}

/// What one measurement gave.
#[derive(Clone, Copy, Default)]
struct Measured {
    calls_per_s: f64,
    calls: u64,
    cpu_us_per_call: f64,
    /// Calls with a reply other than `result: ok`.
    failed: u64,
    /// Requests sent again after 500 ms without a reply.
    resent: u64,
}

/// Runs calls against `to` for `secs` seconds, `INFLIGHT` at a time, and
/// measures the daemon `pid`'s CPU time meanwhile.
fn run(to: SocketAddr, pid: u32, secs: f64, tag: &str) -> Measured {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let mut next_call = 0u64;
    let mut slots: Vec<Option<Slot>> = (0..INFLIGHT).map(|_| None).collect();
    // Cookie -> slot of the request waiting for it.
    let mut waiting: HashMap<String, usize> = HashMap::new();
    let send = |slot: &mut Slot, i: usize, waiting: &mut HashMap<String, usize>| {
        // Unique over the whole run: daemons answer a known cookie from their cache.
        let n = COOKIE.fetch_add(1, Ordering::Relaxed);
        let cookie = format!("n{}_{n}", std::process::id());
        let mut dg = format!("{cookie} ").into_bytes();
        dg.extend_from_slice(&request(slot.step, &slot.call).encode());
        let _ = sock.send_to(&dg, to);
        slot.sent = dg;
        waiting.insert(cookie, i);
    };
    let (mut done, mut failed, mut resent) = (0u64, 0u64, 0u64);
    let cpu_before = cpu_time(pid);
    let start = Instant::now();
    for (i, s) in slots.iter_mut().enumerate() {
        let mut slot = Slot {
            call: format!("{tag}-{next_call}"),
            step: 0,
            sent: Vec::new(),
        };
        next_call += 1;
        send(&mut slot, i, &mut waiting);
        *s = Some(slot);
    }
    let mut buf = vec![0u8; 65536];
    let mut last_reply = Instant::now();
    while !waiting.is_empty() {
        let len = match sock.recv_from(&mut buf) {
            Ok((len, _)) => len,
            Err(_) => {
                if last_reply.elapsed() > Duration::from_secs(10) {
                    eprintln!("{tag}: no reply for 10 s, giving up");
                    break;
                }
                for i in waiting.values() {
                    if let Some(s) = &slots[*i] {
                        let _ = sock.send_to(&s.sent, to);
                        resent += 1;
                    }
                }
                continue;
            }
        };
        last_reply = Instant::now();
        let dg = &buf[..len];
        let Some(sp) = dg.iter().position(|&b| b == b' ') else {
            continue;
        };
        let Some(i) = std::str::from_utf8(&dg[..sp])
            .ok()
            .and_then(|c| waiting.remove(c))
        else {
            continue;
        };
        let reply = decode(&dg[sp + 1..]).ok();
        let ok = reply
            .as_ref()
            .and_then(|v| v.get("result").and_then(|r| r.as_text()).map(|r| r == "ok"))
            .unwrap_or(false);
        if !ok && std::env::var_os("NG_BENCH_VERBOSE").is_some() {
            eprintln!(
                "{tag} step {}: {}",
                slots[i].as_ref().map_or(9, |s| s.step),
                String::from_utf8_lossy(&dg[sp + 1..])
            );
        }
        let slot = slots[i].as_mut().unwrap();
        if ok && slot.step < 2 {
            slot.step += 1;
            send(slot, i, &mut waiting);
            continue;
        }
        // The call ended (deleted, or failed on the way: delete what there is).
        if !ok {
            failed += 1;
            if slot.step < 2 {
                slot.step = 2;
                send(slot, i, &mut waiting);
                continue;
            }
        } else {
            done += 1;
        }
        if start.elapsed().as_secs_f64() < secs {
            *slot = Slot {
                call: format!("{tag}-{next_call}"),
                step: 0,
                sent: Vec::new(),
            };
            next_call += 1;
            send(slot, i, &mut waiting);
        } else {
            slots[i] = None;
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    let cpu = cpu_time(pid).saturating_sub(cpu_before);
    Measured {
        calls_per_s: done as f64 / elapsed,
        calls: done,
        cpu_us_per_call: cpu.as_secs_f64() * 1e6 / done.max(1) as f64,
        failed,
        resent,
    }
}

/// A daemon under test.
struct Daemon {
    name: &'static str,
    _proc: Proc,
    pid: u32,
    ng: SocketAddr,
    runs: Vec<Measured>,
    /// Calls completed, warm-up included (to divide a trace's totals by).
    calls: u64,
}

impl Daemon {
    fn start(name: &'static str, bin: &std::path::Path, args: Vec<String>) -> Option<Daemon> {
        let ng: SocketAddr = args
            .iter()
            .find_map(|a| a.strip_prefix("--listen-ng="))
            .and_then(|a| a.parse().ok())
            .expect("--listen-ng");
        let child = spawn(bin, args)?;
        let pid = child.id();
        let d = Daemon {
            name,
            _proc: Proc(child),
            pid,
            ng,
            runs: vec![],
            calls: 0,
        };
        wait_ready(&mut Ng::new(ng)).then_some(d)
    }

    /// Medians: (calls/s, CPU µs per call).
    fn medians(&self) -> (f64, f64) {
        (
            median(self.runs.iter().map(|r| r.calls_per_s).collect()),
            median(self.runs.iter().map(|r| r.cpu_us_per_call).collect()),
        )
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let secs: f64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(5.0);
    let rounds: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(3);
    let mut daemons = Vec::new();
    let ours = Daemon::start(
        "rtpengined",
        &ours_bin(),
        daemon_args("127.0.0.1:32990".parse().unwrap(), 32000, 32899),
    );
    daemons.push(ours.expect("rtpengined did not start"));
    if let Ok(before) = std::env::var("RTPENGINED_BEFORE") {
        let d = Daemon::start(
            "rtpengined before",
            before.as_ref(),
            daemon_args("127.0.0.1:33990".parse().unwrap(), 33000, 33899),
        );
        daemons.push(d.expect("the RTPENGINED_BEFORE build did not start"));
    }
    let theirs_bin = std::env::var("RTPENGINE_10_5").unwrap_or("/usr/bin/rtpengine".into());
    let theirs = Daemon::start(
        "rtpengine 10.5",
        theirs_bin.as_ref(),
        daemon_args("127.0.0.1:31990".parse().unwrap(), 31000, 31899),
    );
    let have_theirs = theirs.is_some();
    daemons.extend(theirs);

    // A short warm-up each (first allocations, page faults), not counted.
    for d in daemons.iter_mut() {
        run(
            d.ng,
            d.pid,
            0.5,
            &format!("{}-warm", d.name.replace(' ', "-")),
        );
    }
    // Alternate the daemons, starting each round with another one: the machine
    // is shared, so single measurements are noisy.
    for r in 0..rounds {
        let n = daemons.len();
        for k in 0..n {
            let d = &mut daemons[(r + k) % n];
            let tag = format!("{}-{r}", d.name.replace(' ', "-"));
            let m = run(d.ng, d.pid, secs, &tag);
            println!(
                "round {r} {:18} {:8.0} calls/s   CPU {:7.1} µs/call   failed {}   resent {}",
                d.name, m.calls_per_s, m.cpu_us_per_call, m.failed, m.resent
            );
            d.calls += m.calls;
            d.runs.push(m);
        }
    }
    println!(
        "median of {rounds} rounds of {secs} s, {INFLIGHT} calls in flight (offer+answer+delete)"
    );
    let m: Vec<_> = daemons.iter().map(|d| (d.name, d.medians())).collect();
    for (name, (rate, cpu)) in &m {
        println!("{name:18} {rate:8.0} calls/s   CPU {cpu:7.1} µs/call");
    }
    let total: Vec<String> = daemons
        .iter()
        .map(|d| format!("{} {}", d.name, d.calls))
        .collect();
    println!("calls completed, warm-up included: {}", total.join(", "));
    let ours = m[0].1;
    for (name, other) in &m[1..] {
        println!(
            "ratio rtpengined/{name}: calls/s {:.2}   CPU per call {:.2}",
            ours.0 / other.0,
            ours.1 / other.1
        );
    }
    if !have_theirs {
        println!("Debian rtpengine not available (apt-get install rtpengine-daemon): no ratio");
    }
}
