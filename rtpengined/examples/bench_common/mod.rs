//! What the benchmarks (bench.rs, dtls_bench.rs, ng_bench.rs, redis_bench.rs) share: daemon
//! processes, an ng client, CPU time of a process, medians, arguments.

#![allow(dead_code)]

use std::net::{SocketAddr, UdpSocket};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rtpengined::ng::bencode::{decode, Owned};

pub mod calls;

/// A daemon process, killed when dropped.
pub struct Proc(pub Child);
impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `bin` with `args`, its stderr discarded (says why if it cannot).
pub fn spawn(bin: &std::path::Path, args: Vec<String>) -> Option<Child> {
    Command::new(bin)
        .args(args)
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| eprintln!("cannot start {}: {e}", bin.display()))
        .ok()
}

/// The first command-line argument as seconds, else `default`.
pub fn seconds_arg(default: f64) -> f64 {
    std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// An ng client over UDP.
pub struct Ng {
    sock: UdpSocket,
    to: SocketAddr,
    n: u64,
}

impl Ng {
    pub fn new(to: SocketAddr) -> Ng {
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        sock.set_read_timeout(Some(Duration::from_millis(1000)))
            .unwrap();
        Ng { sock, to, n: 0 }
    }

    pub fn req(&mut self, msg: &Owned) -> Option<Owned> {
        self.n += 1;
        let cookie = format!("b{}_{}", std::process::id(), self.n);
        let mut dg = format!("{cookie} ").into_bytes();
        dg.extend_from_slice(&msg.encode());
        self.sock.send_to(&dg, self.to).ok()?;
        let mut buf = vec![0u8; 65536];
        let (len, _) = self.sock.recv_from(&mut buf).ok()?;
        let body = buf[..len].strip_prefix(format!("{cookie} ").as_bytes())?;
        Some(decode(body).ok()?.to_owned_value())
    }
}

/// Pings until the daemon answers (10 s at most).
pub fn wait_ready(ng: &mut Ng) -> bool {
    let end = Instant::now() + Duration::from_secs(10);
    while Instant::now() < end {
        if ng.req(&Owned::dict().with("command", "ping")).is_some() {
            return true;
        }
    }
    false
}

/// CPU time (user + system) the process `pid` has used so far.
pub fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may hold spaces): state is field 3,
    // utime and stime are fields 14 and 15.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<u64> = rest
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0))
        .collect();
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
    let ticks = f.get(11).copied().unwrap_or(0) + f.get(12).copied().unwrap_or(0);
    Duration::from_micros(ticks * 1_000_000 / hz)
}

pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Our daemon: `RTPENGINED`, else the build beside this benchmark
/// (target/<profile>/examples/X -> target/<profile>/rtpengined).
pub fn ours_bin() -> std::path::PathBuf {
    std::env::var("RTPENGINED")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| {
            let exe = std::env::current_exe().unwrap();
            exe.parent().unwrap().parent().unwrap().join("rtpengined")
        })
}

/// The options every benchmarked daemon runs with: loopback, userspace only
/// (`--table=-1`), quiet, no delete delay, ng on `ng`, media ports `min..=max`.
pub fn daemon_args(ng: SocketAddr, min: u16, max: u16) -> Vec<String> {
    vec![
        "--config-file=none".to_string(),
        "--interface=127.0.0.1".into(),
        format!("--listen-ng={ng}"),
        "--foreground".into(),
        "--log-stderr".into(),
        "--log-level=3".into(),
        "--delete-delay=0".into(),
        format!("--port-min={min}"),
        format!("--port-max={max}"),
        "--table=-1".into(),
    ]
}
