//! Shared helpers of the VM test suites.

pub mod bench;
pub mod forward;
pub mod handshake;
pub mod lifecycle;
pub mod net;
pub mod recording;
pub mod srtp;
pub mod tables;

use std::io::Write;
use std::process::{Command, ExitCode};

#[derive(Default)]
pub struct Checks {
    pub passed: u32,
    pub failed: u32,
    /// Running against Debian's stock rtpengine 10.5 module (RTPE_STOCK=1): checks of
    /// behaviour where we deliberately differ expect 10.5's behaviour instead.
    pub stock: bool,
}

impl Checks {
    pub fn check(&mut self, name: &str, ok: bool, detail: impl std::fmt::Display) {
        if ok {
            self.passed += 1;
            println!("ok - {name}");
        } else {
            self.failed += 1;
            println!("not ok - {name}: {detail}");
        }
    }

    /// Checks that `r` failed with `errno` (0 = succeeded).
    pub fn errno<T: std::fmt::Debug>(&mut self, name: &str, r: std::io::Result<T>, errno: i32) {
        let got = rtpe_kctl::errno(&r);
        self.check(
            name,
            got == errno,
            format_args!("expected errno {errno}, got {got} ({r:?})"),
        );
    }
}

/// Reads a small /proc text file with one large read (10.5's `status` refuses reads
/// shorter than 256 bytes).
pub fn read_small(path: &str) -> String {
    use std::io::Read;
    let mut buf = vec![0u8; 4096];
    match std::fs::File::open(path).and_then(|mut f| f.read(&mut buf)) {
        Ok(n) => String::from_utf8_lossy(&buf[..n]).into_owned(),
        Err(e) => format!("<{e}>"),
    }
}

/// Polls `cond` until it holds or `timeout` has passed; whether it held.
pub fn wait_until(timeout: std::time::Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        if cond() {
            return true;
        }
        if std::time::Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// Runs a command, returning (success, combined output).
pub fn sh(cmd: &str) -> (bool, String) {
    match Command::new("sh").arg("-c").arg(cmd).output() {
        Ok(o) => {
            let mut s = String::from_utf8_lossy(&o.stdout).into_owned();
            s.push_str(&String::from_utf8_lossy(&o.stderr));
            (o.status.success(), s)
        }
        Err(e) => (false, e.to_string()),
    }
}

/// `fill-table ID N`: adds N forwarding targets to table ID, says "ready", then waits to
/// be killed with the control file still open.
pub fn fill_table(args: &[String]) -> ExitCode {
    use rtpengine_core::abi::{Address, DestinationInfo, Pod, Srtp, TargetInfo};
    let id: u32 = args.first().and_then(|a| a.parse().ok()).unwrap_or(0);
    let n: u16 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(100);
    let mut c = match rtpe_kctl::Control::open(id) {
        Ok(c) => c,
        Err(e) => {
            println!("error {e}");
            return ExitCode::FAILURE;
        }
    };
    for i in 0..n {
        let mut t = TargetInfo::zeroed();
        t.local = Address::v4([10, 0, 1, 1], 50000 + i);
        t.num_destinations = 1;
        t.decrypt = Srtp::plain();
        let mut d = DestinationInfo::zeroed();
        d.local = t.local;
        d.output.src_addr = Address::v4([10, 0, 2, 1], 50000 + i);
        d.output.dst_addr = Address::v4([10, 0, 2, 2], 7000);
        d.output.encrypt = Srtp::plain();
        if c.add_target(&t)
            .and_then(|()| c.add_destination(&d))
            .is_err()
        {
            println!("error adding target {i}");
            return ExitCode::FAILURE;
        }
    }
    println!("ready");
    let _ = std::io::stdout().flush();
    loop {
        std::thread::sleep(std::time::Duration::from_secs(3600));
    }
}

/// `hold-control ID`: opens table ID's control file, says "ready", then waits to be killed.
pub fn hold_control(args: &[String]) -> ExitCode {
    let id: u32 = args.first().and_then(|a| a.parse().ok()).unwrap_or(0);
    match rtpe_kctl::Control::open(id) {
        Ok(_c) => {
            println!("ready");
            let _ = std::io::stdout().flush();
            loop {
                std::thread::sleep(std::time::Duration::from_secs(3600));
            }
        }
        Err(e) => {
            println!("error {e}");
            ExitCode::FAILURE
        }
    }
}
