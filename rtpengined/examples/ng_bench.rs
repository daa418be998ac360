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

use std::net::SocketAddr;

#[path = "bench_common/mod.rs"]
mod bench_common;
use bench_common::calls::{run, Measured, INFLIGHT};
use bench_common::{daemon_args, median, ours_bin, spawn, wait_ready, Ng, Proc};

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
