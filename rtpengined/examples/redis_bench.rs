//! Benchmark (not a test): how fast a daemon restores its calls from Redis at
//! start, rtpengined vs Debian's rtpengine 10.5 in the same run.
//!
//! Starts Debian's redis-server, has rtpengine 10.5 create N calls (ng offer +
//! answer, one PCMU m-line each) that it writes to Redis DB 1, and kills it
//! with SIGKILL so the calls stay there. Then, per round and daemon, copies DB 1
//! into DB 2, starts the daemon with `-r` and `--redis-write` on DB 2, and
//! measures the wall time from spawn until its CLI `list numsessions` counts N
//! calls, and its CPU time (utime+stime) at that moment, both net of a start on
//! an empty DB just before. Prints calls restored per second and CPU µs per
//! call per daemon, medians, and the ratios.
//!
//! Then the CPU that Redis writes add per call: ours and 10.5, each without
//! Redis and with `--redis` and `--redis-write`, under ng_bench's load for
//! ROUNDS rounds of SECONDS. Run:
//!   cargo run --release -p rtpengined --example redis_bench [-- N [ROUNDS [SECONDS]]]
//! (defaults 3000, 5 and 2; N at most 3900: each call holds 4 media ports).
//! Ports: redis-server 127.0.0.1:25800, ng :25801 and :25810-25813, CLI
//! :25802; media 48000-63999. What the figures mean: docs/benchmarks.md.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rtpengined::ng::bencode::Owned;

#[path = "bench_common/mod.rs"]
mod bench_common;
use bench_common::calls::{run, INFLIGHT};
use bench_common::{cpu_time, daemon_args, median, ours_bin, spawn, wait_ready, Ng, Proc};

const REDIS_PORT: u16 = 25800;
const NG: &str = "127.0.0.1:25801";
const CLI: &str = "127.0.0.1:25802";
const PORT_MIN: u16 = 48000;
const PORT_MAX: u16 = 63999;
/// Media ports one call holds: RTP and RTCP on each side.
const PORTS_PER_CALL: u32 = 4;

/// A minimal Redis client: one connection, one command at a time.
struct Redis(BufReader<TcpStream>);

/// A Redis reply, reduced to what this benchmark reads.
enum Reply {
    Int(i64),
    Text(String),
    List(Vec<Reply>),
    Nil,
}

impl Redis {
    fn connect() -> Option<Redis> {
        let s = TcpStream::connect(("127.0.0.1", REDIS_PORT)).ok()?;
        Some(Redis(BufReader::new(s)))
    }

    fn cmd(&mut self, args: &[&str]) -> Reply {
        let mut out = format!("*{}\r\n", args.len());
        for a in args {
            out.push_str(&format!("${}\r\n{a}\r\n", a.len()));
        }
        self.0.get_mut().write_all(out.as_bytes()).unwrap();
        self.reply()
    }

    fn reply(&mut self) -> Reply {
        let mut line = String::new();
        self.0.read_line(&mut line).unwrap();
        let line = line.trim_end();
        let (kind, rest) = line.split_at(1);
        match kind {
            "+" => Reply::Text(rest.to_string()),
            "-" => panic!("redis: {rest}"),
            ":" => Reply::Int(rest.parse().unwrap()),
            "$" => {
                let Ok(len) = rest.parse::<usize>() else {
                    return Reply::Nil;
                };
                let mut buf = vec![0u8; len + 2];
                self.0.read_exact(&mut buf).unwrap();
                buf.truncate(len);
                Reply::Text(String::from_utf8_lossy(&buf).into_owned())
            }
            "*" => {
                let n: i64 = rest.parse().unwrap();
                Reply::List((0..n.max(0)).map(|_| self.reply()).collect())
            }
            _ => panic!("redis: unexpected reply {line}"),
        }
    }

    fn dbsize(&mut self, db: u32) -> i64 {
        self.cmd(&["SELECT", &db.to_string()]);
        match self.cmd(&["DBSIZE"]) {
            Reply::Int(n) => n,
            _ => 0,
        }
    }

    /// Empties DB `to` and copies every key of DB `from` into it.
    fn copy_db(&mut self, from: u32, to: u32) {
        self.cmd(&["SELECT", &to.to_string()]);
        self.cmd(&["FLUSHDB"]);
        self.cmd(&["SELECT", &from.to_string()]);
        let Reply::List(keys) = self.cmd(&["KEYS", "*"]) else {
            panic!("redis: KEYS gave no list");
        };
        let to = to.to_string();
        for k in keys {
            if let Reply::Text(k) = k {
                self.cmd(&["COPY", &k, &k, "DB", &to]);
            }
        }
    }
}

fn sdp(port: u16) -> String {
    format!("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio {port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n")
}

/// Options of every daemon here: `daemon_args` with the wide media range, the
/// CLI, and Redis DB `db` to read and write.
fn args(db: u32) -> Vec<String> {
    let mut a = daemon_args(NG.parse().unwrap(), PORT_MIN, PORT_MAX);
    a.push(format!("--listen-cli={CLI}"));
    a.push(format!("--redis=127.0.0.1:{REDIS_PORT}/{db}"));
    a.push(format!("--redis-write=127.0.0.1:{REDIS_PORT}/{db}"));
    a
}

/// Has 10.5 (`bin`) create `n` answered calls in Redis DB 1, then kills it.
fn fill(bin: &std::path::Path, n: usize, redis: &mut Redis) {
    let child = spawn(bin, args(1)).expect("rtpengine 10.5 did not start");
    let proc_ = Proc(child);
    let mut ng = Ng::new(NG.parse().unwrap());
    assert!(wait_ready(&mut ng), "rtpengine 10.5 did not answer");
    let start = Instant::now();
    for i in 0..n {
        let call = format!("rb-{i}");
        let m = || {
            Owned::dict()
                .with("call-id", call.as_str())
                .with("from-tag", "a")
        };
        let offer = m().with("command", "offer").with("sdp", sdp(6000));
        let answer = m()
            .with("command", "answer")
            .with("to-tag", "b")
            .with("sdp", sdp(6002));
        for req in [offer, answer] {
            let ok = ng
                .req(&req)
                .is_some_and(|r| matches!(r.get("result"), Some(Owned::Bytes(b)) if b == b"ok"));
            assert!(ok, "call {call}: 10.5 did not take it");
        }
    }
    // Its writes may trail its replies: wait until every call is in DB 1.
    let end = Instant::now() + Duration::from_secs(30);
    while redis.dbsize(1) < n as i64 && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(20));
    }
    drop(proc_); // SIGKILL: the calls stay in Redis.
    println!(
        "filled DB 1: {} keys for {n} calls from rtpengine 10.5 in {:.1} s",
        redis.dbsize(1),
        start.elapsed().as_secs_f64()
    );
}

/// `Current sessions total` from the CLI, if it answers.
fn sessions() -> Option<usize> {
    let mut s = TcpStream::connect(CLI.parse::<SocketAddr>().ok()?).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    s.write_all(b"list numsessions\n").ok()?;
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out.lines()
        .find_map(|l| l.strip_prefix("Current sessions total: "))
        .and_then(|n| n.trim().parse().ok())
}

/// One start on DB 2: (seconds from spawn until the CLI lists `n` calls, CPU
/// seconds then, CPU seconds 1 s later), or None if it did not list them
/// within 120 s. With `n` 0: until the CLI answers at all.
fn restore(bin: &std::path::Path, n: usize, name: &str) -> Option<(f64, f64, f64)> {
    let start = Instant::now();
    let child = spawn(bin, args(2))?;
    let pid = child.id();
    let _proc = Proc(child);
    let mut last = None;
    while start.elapsed() < Duration::from_secs(120) {
        let got = sessions();
        if got.is_some_and(|g| g >= n) {
            let secs = start.elapsed().as_secs_f64();
            let cpu = cpu_time(pid).as_secs_f64();
            // Work that goes on after the calls are listed (their tasks).
            std::thread::sleep(Duration::from_secs(1));
            return Some((secs, cpu, cpu_time(pid).as_secs_f64()));
        }
        last = got.or(last);
        std::thread::sleep(Duration::from_millis(2));
    }
    eprintln!("{name}: listed {last:?} of {n} calls after 120 s");
    None
}

fn main() {
    let mut argv = std::env::args().skip(1);
    let n: usize = argv.next().and_then(|s| s.parse().ok()).unwrap_or(3000);
    let rounds: usize = argv.next().and_then(|s| s.parse().ok()).unwrap_or(5);
    let ng_secs: f64 = argv.next().and_then(|s| s.parse().ok()).unwrap_or(2.0);
    let cap = (u32::from(PORT_MAX - PORT_MIN) + 1) / PORTS_PER_CALL;
    assert!(
        n as u32 <= cap * 39 / 40,
        "N {n}: the media ports {PORT_MIN}-{PORT_MAX} hold about {cap} calls; take at most {}",
        cap * 39 / 40
    );
    let theirs: std::path::PathBuf = std::env::var("RTPENGINE_10_5")
        .unwrap_or("/usr/bin/rtpengine".into())
        .into();
    let ours = ours_bin();
    let redis_server = Proc(
        Command::new("/usr/bin/redis-server")
            .args(["--port", &REDIS_PORT.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--databases", "8"])
            .stdout(Stdio::null())
            .spawn()
            .expect("cannot start /usr/bin/redis-server"),
    );
    let end = Instant::now() + Duration::from_secs(10);
    let mut redis = loop {
        if let Some(r) = Redis::connect() {
            break r;
        }
        assert!(Instant::now() < end, "redis-server did not answer");
        std::thread::sleep(Duration::from_millis(20));
    };
    fill(&theirs, n, &mut redis);

    let daemons: [(&str, &std::path::Path); 2] =
        [("rtpengined", &ours), ("rtpengine 10.5", &theirs)];
    // Per daemon and round: (restore seconds, restore CPU µs per call, the
    // same 1 s later), all net of a start on an empty DB 2 just before.
    let mut got: [Vec<(f64, f64, f64)>; 2] = [vec![], vec![]];
    // Alternate, each round starting with another daemon.
    for r in 0..rounds {
        for k in 0..2 {
            let i = (r + k) % 2;
            let (name, bin) = daemons[i];
            redis.copy_db(3, 2); // DB 3 stays empty.
            let Some((secs0, cpu0, later0)) = restore(bin, 0, name) else {
                continue;
            };
            redis.copy_db(1, 2);
            let Some((secs, cpu, later)) = restore(bin, n, name) else {
                continue;
            };
            let per_call = |a: f64, b: f64| (a - b) * 1e6 / n as f64;
            let m = (secs - secs0, per_call(cpu, cpu0), per_call(later, later0));
            println!(
                "round {r} {name:15} empty start {:4.0} ms, CPU {:3.0} ms; {n} calls {:5.0} ms, CPU {:4.0} ms; \
                 net {:6.0} calls/s  CPU {:6.1} µs/call, 1 s later {:6.1}",
                secs0 * 1e3,
                cpu0 * 1e3,
                secs * 1e3,
                cpu * 1e3,
                n as f64 / m.0,
                m.1,
                m.2
            );
            got[i].push(m);
        }
    }
    println!(
        "median of {rounds} rounds, {n} calls restored from Redis, net of a start with an empty DB"
    );
    let med: Vec<Option<(f64, f64, f64)>> = got
        .iter()
        .map(|v| {
            (!v.is_empty()).then(|| {
                (
                    median(v.iter().map(|x| n as f64 / x.0).collect()),
                    median(v.iter().map(|x| x.1).collect()),
                    median(v.iter().map(|x| x.2).collect()),
                )
            })
        })
        .collect();
    for (i, m) in med.iter().enumerate() {
        if let Some((rate, cpu, later)) = m {
            println!(
                "{:15} {rate:6.0} calls/s  CPU {cpu:6.1} µs/call, 1 s later {later:6.1}",
                daemons[i].0
            );
        }
    }
    if let [Some(o), Some(t)] = [med[0], med[1]] {
        println!(
            "ratio rtpengined/rtpengine 10.5: calls restored/s {:.2}   CPU per call {:.2}, 1 s later {:.2}",
            o.0 / t.0,
            o.1 / t.1,
            o.2 / t.2
        );
    }
    writes(
        &ours,
        &theirs,
        rounds,
        ng_secs,
        redis_server.0.id(),
        &mut redis,
    );
}

/// Part two: the daemon CPU that writing calls to Redis adds to each ng offer +
/// answer + delete. Four daemons at once, each ours and 10.5 without Redis and
/// with `--redis` and `--redis-write` (a DB of its own), under ng_bench's load,
/// `rounds` rounds of `secs` seconds, alternating; medians.
fn writes(
    ours: &std::path::Path,
    theirs: &std::path::Path,
    rounds: usize,
    secs: f64,
    redis_pid: u32,
    redis: &mut Redis,
) {
    struct D {
        name: &'static str,
        _proc: Proc,
        pid: u32,
        ng: SocketAddr,
        cpu: Vec<f64>,
        redis_cpu: Vec<f64>,
    }
    let mut ds = Vec::new();
    let plan: [(&str, &std::path::Path, Option<u32>); 4] = [
        ("rtpengined", ours, None),
        ("rtpengined -w", ours, Some(4)),
        ("rtpengine 10.5", theirs, None),
        ("rtpengine 10.5 -w", theirs, Some(5)),
    ];
    for (k, (name, bin, db)) in plan.into_iter().enumerate() {
        let ng: SocketAddr = format!("127.0.0.1:{}", 25810 + k).parse().unwrap();
        let min = PORT_MIN + 4000 * k as u16;
        let mut a = daemon_args(ng, min, min + 3999);
        if let Some(db) = db {
            redis.cmd(&["SELECT", &db.to_string()]);
            redis.cmd(&["FLUSHDB"]);
            a.push(format!("--redis=127.0.0.1:{REDIS_PORT}/{db}"));
            a.push(format!("--redis-write=127.0.0.1:{REDIS_PORT}/{db}"));
        }
        let child = spawn(bin, a).expect("daemon did not start");
        let pid = child.id();
        let d = D {
            name,
            _proc: Proc(child),
            pid,
            ng,
            cpu: vec![],
            redis_cpu: vec![],
        };
        assert!(wait_ready(&mut Ng::new(ng)), "{name} did not answer");
        run(d.ng, d.pid, 0.5, &format!("w{k}-warm"));
        ds.push(d);
    }
    for r in 0..rounds {
        for k in 0..ds.len() {
            let d = &mut ds[(r + k) % 4];
            let redis_before = cpu_time(redis_pid);
            let m = run(d.ng, d.pid, secs, &format!("w{}-{r}", (r + k) % 4));
            let redis_cpu = cpu_time(redis_pid)
                .saturating_sub(redis_before)
                .as_secs_f64()
                * 1e6
                / m.calls.max(1) as f64;
            println!(
                "round {r} {:18} {:6.0} calls/s  CPU {:6.1} µs/call  redis-server {redis_cpu:5.1} µs/call  failed {}",
                d.name, m.calls_per_s, m.cpu_us_per_call, m.failed
            );
            d.cpu.push(m.cpu_us_per_call);
            d.redis_cpu.push(redis_cpu);
        }
    }
    println!(
        "median of {rounds} rounds of {secs} s, {INFLIGHT} calls in flight (offer+answer+delete)"
    );
    let med: Vec<(f64, f64)> = ds
        .iter()
        .map(|d| (median(d.cpu.clone()), median(d.redis_cpu.clone())))
        .collect();
    for (d, (cpu, rc)) in ds.iter().zip(&med) {
        println!(
            "{:18} CPU {cpu:6.1} µs/call  redis-server {rc:5.1} µs/call",
            d.name
        );
    }
    let ours_extra = med[1].0 - med[0].0;
    let theirs_extra = med[3].0 - med[2].0;
    println!(
        "Redis writes add per call: rtpengined {ours_extra:.1} µs, rtpengine 10.5 {theirs_extra:.1} µs; \
         ratio {:.2}",
        ours_extra / theirs_extra
    );
}
