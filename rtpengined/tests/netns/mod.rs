//! Network namespaces for daemon tests that need addresses or interfaces of their own
//! (created with iproute2, deleted on drop), a daemon process started with any
//! command line, and a small ng client.
#![allow(dead_code)]

use std::fs::File;
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::AsRawFd;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use rtpengined::ng::bencode::{decode, Owned};

static SEQ: AtomicU32 = AtomicU32::new(0);

/// A network namespace of this test process; deleted on drop.
pub struct NetNs {
    pub name: String,
}

impl NetNs {
    /// A fresh namespace with `lo` up, or None (reason printed) when not root.
    pub fn create(prefix: &str) -> Option<NetNs> {
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            eprintln!("skipped: needs root to create a network namespace (CI runs as root)");
            return None;
        }
        let name = format!(
            "{prefix}-{}-{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        );
        run(Command::new("ip").args(["netns", "add", &name]));
        let ns = NetNs { name };
        ns.ip(&["link", "set", "lo", "up"]);
        Some(ns)
    }

    /// `ip -n NAME ARGS...`; panics with ip's message on failure.
    pub fn ip(&self, args: &[&str]) {
        run(Command::new("ip").args(["-n", &self.name]).args(args));
    }

    /// A veth pair `a`/`b`, both ends in this namespace and up.
    pub fn veth(&self, a: &str, b: &str) {
        self.ip(&["link", "add", a, "type", "veth", "peer", "name", b]);
        self.ip(&["link", "set", a, "up"]);
        self.ip(&["link", "set", b, "up"]);
    }

    /// Add an address (`nodad` for IPv6, so it is usable at once).
    pub fn addr(&self, cidr: &str, dev: &str) {
        if cidr.contains(':') {
            self.ip(&["addr", "add", cidr, "dev", dev, "nodad"]);
        } else {
            self.ip(&["addr", "add", cidr, "dev", dev]);
        }
    }

    /// Run `body` on a thread inside the namespace: sockets it creates live there.
    pub fn enter<T: Send>(&self, body: impl FnOnce() -> T + Send) -> T {
        let path = format!("/run/netns/{}", self.name);
        std::thread::scope(|s| {
            let t = s.spawn(|| {
                let f = File::open(&path).unwrap_or_else(|e| panic!("open {path}: {e}"));
                // SAFETY: setns on a valid namespace fd; it affects this thread only.
                let rc = unsafe { libc::setns(f.as_raw_fd(), libc::CLONE_NEWNET) };
                assert_eq!(rc, 0, "setns: {}", std::io::Error::last_os_error());
                body()
            });
            match t.join() {
                Ok(v) => v,
                Err(p) => std::panic::resume_unwind(p),
            }
        })
    }

    /// Start rtpengined inside the namespace with exactly `args`.
    pub fn daemon(&self, args: &[&str]) -> Proc {
        let mut cmd = Command::new("ip");
        cmd.args([
            "netns",
            "exec",
            &self.name,
            env!("CARGO_BIN_EXE_rtpengined"),
        ]);
        Proc::spawn(cmd, args)
    }
}

impl Drop for NetNs {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
    }
}

fn run(cmd: &mut Command) {
    let out = cmd.output().expect("run ip (iproute2)");
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A daemon process with its log; SIGTERM on drop, the log kept if the test failed.
pub struct Proc {
    pub child: Child,
    pub log: PathBuf,
}

impl Proc {
    /// Start rtpengined on the host with exactly `args`.
    pub fn host(args: &[&str]) -> Proc {
        Proc::spawn(Command::new(env!("CARGO_BIN_EXE_rtpengined")), args)
    }

    fn spawn(mut cmd: Command, args: &[&str]) -> Proc {
        let log = std::env::temp_dir().join(format!(
            "rtpengined-cfgtest-{}-{}.log",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        ));
        let child = cmd
            .args(args)
            .stdout(Stdio::null())
            .stderr(File::create(&log).unwrap())
            .spawn()
            .expect("start rtpengined");
        Proc { child, log }
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The exit status once it has exited (within `within`), None if still running.
    pub fn exited(&mut self, within: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + within;
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                return Some(s);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Wait until the daemon answers ping at every one of `addrs`; Err(log) if it
    /// exited or did not answer within 10 s.
    pub fn wait_ping(&mut self, addrs: &[SocketAddr]) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(10);
        for &addr in addrs {
            let client = Ng::new(addr);
            loop {
                if let Some(status) = self.child.try_wait().unwrap() {
                    return Err(format!("exited ({status}); log:\n{}", self.log_text()));
                }
                let ping = Owned::dict().with("command", "ping");
                if let Some(r) = client.try_request(&ping) {
                    assert_eq!(r.get("result"), Some(&Owned::from("pong")), "{addr}");
                    break;
                }
                if Instant::now() > deadline {
                    return Err(format!("no pong at {addr}; log:\n{}", self.log_text()));
                }
            }
        }
        Ok(())
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        // SAFETY: signalling our own child process; no memory is involved.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        if self.exited(Duration::from_secs(5)).is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        if std::thread::panicking() {
            eprintln!(
                "daemon log kept: {}\n{}",
                self.log.display(),
                self.log_text()
            );
        } else {
            let _ = std::fs::remove_file(&self.log);
        }
    }
}

/// An ng client for one daemon address (create it inside the daemon's namespace).
pub struct Ng {
    addr: SocketAddr,
    socket: UdpSocket,
    cookie: AtomicU32,
}

impl Ng {
    pub fn new(addr: SocketAddr) -> Ng {
        let socket = UdpSocket::bind(if addr.is_ipv4() {
            "0.0.0.0:0"
        } else {
            "[::]:0"
        })
        .unwrap();
        socket
            .set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        Ng {
            addr,
            socket,
            cookie: AtomicU32::new(0),
        }
    }

    /// One request and its reply, or None if none came within 200 ms.
    pub fn try_request(&self, msg: &Owned) -> Option<Owned> {
        let cookie = format!(
            "c{}_{}_{}",
            std::process::id(),
            self.socket.local_addr().unwrap().port(),
            self.cookie.fetch_add(1, Ordering::Relaxed)
        );
        let mut dg = format!("{cookie} ").into_bytes();
        dg.extend_from_slice(&msg.encode());
        self.socket.send_to(&dg, self.addr).ok()?;
        let mut buf = vec![0u8; 65536];
        loop {
            let (n, _) = self.socket.recv_from(&mut buf).ok()?;
            // A late reply to an earlier try carries another cookie.
            if let Some(rest) = buf[..n].strip_prefix(format!("{cookie} ").as_bytes()) {
                return Some(decode(rest).expect("bencode reply").to_owned_value());
            }
        }
    }

    /// A request that must succeed (retried on loss).
    pub fn ok(&self, msg: &Owned) -> Owned {
        for _ in 0..25 {
            if let Some(r) = self.try_request(msg) {
                assert_eq!(r.get("result"), Some(&Owned::from("ok")), "{msg}: {r}");
                return r;
            }
        }
        panic!("no reply to {msg} from {}", self.addr);
    }
}
