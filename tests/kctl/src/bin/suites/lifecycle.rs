//! Issue 9: lifecycle faults. The controlling process SIGKILLed in the middle of updates
//! (100 rounds), rmmod while an iptables rule references the target, module unload while
//! packets keep arriving, and many threads adding/deleting one target on one control fd.
//!
//! `rtpe-vmtest lifecycle` runs the checks; `rtpe-vmtest lifecycle churn ID` is the child
//! that the SIGKILL rounds spawn (it updates table ID until killed).

use super::{sh, Checks};
use rtpe_kctl::{blist, main_control, Control, PROC_ROOT};
use rtpengine_core::abi::{cmd, Address, DestinationInfo, Message, Pod, Srtp, TargetInfo};
use rtpengine_core::errno::*;
use std::io::{BufRead, BufReader, Write};
use std::net::UdpSocket;
use std::os::fd::AsRawFd;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const LO: [u8; 4] = [127, 0, 0, 1];
/// Where forwarded packets go: no target listens there, so nothing loops.
const SINK_PORT: u16 = 46000;

fn target(port: u16, outputs: u32) -> TargetInfo {
    let mut t = TargetInfo::zeroed();
    t.local = Address::v4(LO, port);
    t.num_destinations = outputs;
    t.decrypt = Srtp::plain();
    t
}

fn dest(port: u16, num: u32) -> DestinationInfo {
    let mut d = DestinationInfo::zeroed();
    d.local = Address::v4(LO, port);
    d.num = num;
    d.output.src_addr = Address::v4(LO, port + 1);
    d.output.dst_addr = Address::v4(LO, SINK_PORT);
    d.output.encrypt = Srtp::plain();
    d
}

fn rmmod() -> (bool, String) {
    sh("rmmod xt_RTPENGINE")
}

fn rules(id: u32, op: &str) -> (bool, String) {
    sh(&format!(
        "iptables {op} INPUT -p udp -j RTPENGINE --id {id}"
    ))
}

/// Sends small UDP packets to 127.0.0.1:`ports` until stopped; counts them.
struct Sender {
    stop: Arc<AtomicBool>,
    sent: Arc<AtomicU64>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl Sender {
    fn start(ports: std::ops::Range<u16>) -> Sender {
        let stop = Arc::new(AtomicBool::new(false));
        let sent = Arc::new(AtomicU64::new(0));
        let (s, n) = (stop.clone(), sent.clone());
        let handle = std::thread::spawn(move || {
            let sock = UdpSocket::bind("127.0.0.1:0").expect("sender socket");
            let mut p = ports.start;
            while !s.load(Ordering::Relaxed) {
                if sock
                    .send_to(
                        &[0x80, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 42, 42],
                        std::net::SocketAddr::from((LO, p)),
                    )
                    .is_ok()
                {
                    n.fetch_add(1, Ordering::Relaxed);
                }
                p = if p + 1 >= ports.end {
                    ports.start
                } else {
                    p + 1
                };
                std::thread::sleep(Duration::from_micros(200));
            }
        });
        Sender {
            stop,
            sent,
            handle: Some(handle),
        }
    }

    fn sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }
}

impl Drop for Sender {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

pub fn run(t: &mut Checks) {
    let args: Vec<String> = std::env::args().skip(2).collect();
    if args.first().map(String::as_str) == Some("churn") {
        churn(args.get(1).and_then(|a| a.parse().ok()).unwrap_or(5));
    }
    let (ok, out) = sh("modprobe xt_RTPENGINE");
    t.check("modprobe", ok, &out);
    sigkill_rounds(t);
    rmmod_with_rule(t);
    unload_while_packets_flow(t);
    threads_on_one_fd(t);
    let (ok, out) = rmmod();
    t.check("rmmod at the end", ok, &out);
}

/// Child: opens ID/control and adds, fills, queries and deletes targets as fast as it
/// can, until SIGKILLed. Never returns.
fn churn(id: u32) -> ! {
    let mut c = match Control::open(id) {
        Ok(c) => c,
        Err(e) => {
            println!("error {e}");
            std::process::exit(1);
        }
    };
    let _ = c.noop();
    println!("ready");
    let _ = std::io::stdout().flush();
    let mut i: u16 = 0;
    loop {
        let port = 21000 + (i % 500) * 2;
        let _ = c.add_target(&target(port, 2));
        let _ = c.add_destination(&dest(port, 0));
        let _ = c.add_destination(&dest(port, 1));
        let _ = c.stats(&Address::v4(LO, port), i.is_multiple_of(2));
        if i.is_multiple_of(3) {
            let _ = c.del_target(&Address::v4(LO, 21000 + (i.wrapping_mul(7) % 500) * 2));
        }
        i = i.wrapping_add(1);
    }
}

fn sigkill_rounds(t: &mut Checks) {
    const ID: u32 = 5;
    const ROUNDS: u32 = 100;
    let me = std::env::current_exe().unwrap();
    let (ok, out) = rules(ID, "-I");
    t.check("sigkill: rule -j RTPENGINE --id 5", ok, &out);
    let sender = Sender::start(21000..22000);
    let (mut not_ready, mut del_failed, mut reopen_failed) = (Vec::new(), Vec::new(), Vec::new());
    let mut table_exists = false;
    let mut targets_at_kill = 0usize;
    for round in 0..ROUNDS {
        if !table_exists {
            if let Err(e) = main_control(&format!("add {ID}\n")) {
                t.check(&format!("sigkill round {round}: add table"), false, e);
                return;
            }
            table_exists = true;
        }
        let mut child = Command::new(&me)
            .args(["lifecycle", "churn", &ID.to_string()])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        let _ = BufReader::new(child.stdout.take().unwrap()).read_line(&mut line);
        if line.trim() != "ready" {
            not_ready.push(round);
        }
        // Let it get into the middle of its updates: 0..30 ms.
        std::thread::sleep(Duration::from_millis(u64::from(round * 7 % 31)));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        targets_at_kill += blist(ID).map(|v| v.len()).unwrap_or(0);
        // Every other round the next controller takes over the table as the dead one
        // left it; otherwise the table is deleted, targets and all.
        if round % 2 == 0 {
            match Control::open(ID) {
                Ok(mut c) => {
                    if c.noop().is_err() {
                        reopen_failed.push(round);
                    }
                }
                Err(_) => reopen_failed.push(round),
            }
        } else {
            if main_control(&format!("del {ID}\n")).is_err() {
                del_failed.push(round);
            }
            table_exists = false;
        }
    }
    t.check(
        "sigkill: every churn child got its control file",
        not_ready.is_empty(),
        format_args!("rounds {not_ready:?}"),
    );
    t.check(
        &format!("sigkill: {ROUNDS} controllers SIGKILLed mid-update, table deletable each time (avg {} targets left)", targets_at_kill / ROUNDS as usize),
        del_failed.is_empty(),
        format_args!("del failed in rounds {del_failed:?}"),
    );
    t.check(
        "sigkill: a new controller takes over after the kill",
        reopen_failed.is_empty(),
        format_args!("rounds {reopen_failed:?}"),
    );
    drop(sender);
    if table_exists {
        t.errno(
            "sigkill: final del",
            main_control(&format!("del {ID}\n")),
            0,
        );
    }
    let (ok, out) = rules(ID, "-D");
    t.check("sigkill: rule removed", ok, &out);
}

fn rmmod_with_rule(t: &mut Checks) {
    let (ok, out) = rules(7, "-I");
    t.check(
        "rule: iptables -j RTPENGINE --id 7 (no table yet)",
        ok,
        &out,
    );
    let (ok, _) = rmmod();
    t.check(
        "rule: rmmod refused while a rule references the target",
        !ok,
        "rmmod succeeded",
    );
    t.check(
        "rule: module still loaded",
        std::path::Path::new(PROC_ROOT).exists(),
        "",
    );
    t.errno("rule: add 7", main_control("add 7\n"), 0);
    {
        let mut c = Control::open(7).expect("open 7/control");
        t.errno("rule: ADD_TARGET", c.add_target(&target(23000, 1)), 0);
        t.errno(
            "rule: ADD_DESTINATION",
            c.add_destination(&dest(23000, 0)),
            0,
        );
    }
    let sink = UdpSocket::bind(std::net::SocketAddr::from((LO, SINK_PORT))).unwrap();
    sink.set_read_timeout(Some(Duration::from_millis(1000)))
        .unwrap();
    let a = UdpSocket::bind("127.0.0.1:0").unwrap();
    a.send_to(b"through the rule", std::net::SocketAddr::from((LO, 23000)))
        .unwrap();
    let mut buf = [0u8; 64];
    let r = sink.recv(&mut buf);
    t.check(
        "rule: a packet to the target is forwarded",
        matches!(r, Ok(16)),
        format_args!("{r:?}"),
    );
    t.errno("rule: del 7 (the rule stays)", main_control("del 7\n"), 0);
    let (ok, _) = rmmod();
    t.check(
        "rule: rmmod still refused with the rule but no table",
        !ok,
        "rmmod succeeded",
    );
    let (ok, out) = rules(7, "-D");
    t.check("rule: rule removed", ok, &out);
    let (ok, out) = rmmod();
    t.check("rule: rmmod once the rule is gone", ok, &out);
    let (ok, out) = sh("modprobe xt_RTPENGINE");
    t.check("rule: modprobe again", ok, &out);
}

/// Set up table 9 with forwarding targets on 24000..24100, a rule, and a sender.
fn forwarding_setup(t: &mut Checks, what: &str) -> Option<Sender> {
    let ok = main_control("add 9\n").is_ok()
        && (|| {
            let mut c = Control::open(9).ok()?;
            for p in (24000..24100).step_by(2) {
                c.add_target(&target(p, 1)).ok()?;
                c.add_destination(&dest(p, 0)).ok()?;
            }
            Some(())
        })()
        .is_some()
        && rules(9, "-I").0;
    t.check(
        &format!("{what}: table 9 with 50 forwarding targets and a rule"),
        ok,
        "",
    );
    ok.then(|| Sender::start(24000..24100))
}

fn unload_while_packets_flow(t: &mut Checks) {
    for round in 0..5 {
        let what = format!("unload while packets flow {round}");
        let Some(sender) = forwarding_setup(t, &what) else {
            return;
        };
        let sink = UdpSocket::bind(std::net::SocketAddr::from((LO, SINK_PORT))).unwrap();
        sink.set_read_timeout(Some(Duration::from_millis(500)))
            .unwrap();
        let mut buf = [0u8; 64];
        std::thread::sleep(Duration::from_millis(200));
        t.check(
            &format!("{what}: packets are forwarded"),
            sink.recv(&mut buf).is_ok(),
            "nothing arrived",
        );
        let before = sender.sent();
        if round % 2 == 0 {
            // The order a daemon's shutdown uses: rule first, then the table.
            let (ok, out) = rules(9, "-D");
            t.check(&format!("{what}: rule removed while sending"), ok, &out);
            t.errno(
                &format!("{what}: del 9 while sending"),
                main_control("del 9\n"),
                0,
            );
        } else {
            // Table first: packets still hit the rule, which finds no table.
            t.errno(
                &format!("{what}: del 9 while sending (rule still there)"),
                main_control("del 9\n"),
                0,
            );
            std::thread::sleep(Duration::from_millis(100));
            let (ok, out) = rules(9, "-D");
            t.check(&format!("{what}: rule removed while sending"), ok, &out);
        }
        let (ok, out) = rmmod();
        t.check(
            &format!("{what}: rmmod while the sender keeps sending"),
            ok,
            &out,
        );
        std::thread::sleep(Duration::from_millis(100));
        t.check(
            &format!("{what}: the sender kept going"),
            sender.sent() > before,
            sender.sent(),
        );
        drop(sender);
        let (ok, out) = sh("modprobe xt_RTPENGINE");
        t.check(&format!("{what}: modprobe again"), ok, &out);
    }
}

/// Many threads on one control fd add, fill, query and delete the same target while
/// packets arrive for it. Every answer must be one of the specific ones, and the
/// successful adds minus the successful deletes must match what is left.
fn threads_on_one_fd(t: &mut Checks) {
    const THREADS: usize = 8;
    const ITERATIONS: u32 = 1500;
    const PORT: u16 = 25000;
    t.errno("threads: add 11", main_control("add 11\n"), 0);
    let (ok, out) = rules(11, "-I");
    t.check("threads: rule --id 11", ok, &out);
    // One open file shared by all threads (a second opener would get EBUSY).
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(format!("{PROC_ROOT}/11/control"))
        .expect("open 11/control");
    t.errno(
        "threads: second open of the same control → EBUSY",
        Control::open(11),
        EBUSY.0,
    );
    let fd = file.as_raw_fd();
    let sender = Sender::start(PORT..PORT + 1);
    let adds = Arc::new(AtomicU64::new(0));
    let dels = Arc::new(AtomicU64::new(0));
    let bad = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let started = Instant::now();
    let handles: Vec<_> = (0..THREADS)
        .map(|n| {
            let (adds, dels, bad) = (adds.clone(), dels.clone(), bad.clone());
            std::thread::spawn(move || {
                for i in 0..ITERATIONS {
                    let op = (i as usize + n) % 5;
                    let (msg, read, allowed): (Message, bool, &[i32]) = match op {
                        0 | 1 => (Message::add_target(&target(PORT, 1)), false, &[0, EEXIST.0]),
                        2 => (
                            Message::add_destination(&dest(PORT, 0)),
                            false,
                            &[0, ENOENT.0, EBUSY.0],
                        ),
                        3 => (
                            Message::get_stats(cmd::GET_RESET_STATS, &Address::v4(LO, PORT)),
                            true,
                            &[0, ENOENT.0],
                        ),
                        _ => (
                            Message::del_target(&Address::v4(LO, PORT)),
                            false,
                            &[0, ENOENT.0],
                        ),
                    };
                    let mut buf = msg.as_bytes().to_vec();
                    // SAFETY: read/write on a fd kept open by the caller until all threads
                    // are joined, with a live buffer of the given length.
                    let n = unsafe {
                        if read {
                            libc::read(fd, buf.as_mut_ptr().cast(), buf.len())
                        } else {
                            libc::write(fd, buf.as_ptr().cast(), buf.len())
                        }
                    };
                    let e = if n < 0 {
                        std::io::Error::last_os_error().raw_os_error().unwrap_or(-1)
                    } else {
                        0
                    };
                    if !allowed.contains(&e) {
                        bad.lock().unwrap().push(format!("op {op}: errno {e}"));
                    }
                    if e == 0 && op <= 1 {
                        adds.fetch_add(1, Ordering::Relaxed);
                    }
                    if e == 0 && op == 4 {
                        dels.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    for h in handles {
        let _ = h.join();
    }
    let secs = started.elapsed().as_secs_f64();
    drop(sender);
    let bad = bad.lock().unwrap().clone();
    t.check(
        &format!("threads: {} operations from {THREADS} threads on one fd, every errno specific ({secs:.1} s)", THREADS as u32 * ITERATIONS),
        bad.is_empty(),
        format_args!("{} unexpected: {:?}", bad.len(), &bad[..bad.len().min(5)]),
    );
    let (a, d) = (adds.load(Ordering::Relaxed), dels.load(Ordering::Relaxed));
    let left = blist(11).map(|v| v.len() as u64).unwrap_or(99);
    t.check(
        &format!("threads: adds ({a}) − deletes ({d}) = targets left ({left})"),
        a >= d && a - d == left && left <= 1,
        format_args!("{a} - {d} != {left}"),
    );
    drop(file);
    let (ok, out) = rules(11, "-D");
    t.check("threads: rule removed", ok, &out);
    t.errno("threads: del 11", main_control("del 11\n"), 0);
}
