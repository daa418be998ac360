//! Threads that run beside the main fuzz loop: readers of list/blist/status with odd
//! buffer sizes (two of them sometimes sharing one open file and reading it with
//! pread() at once), a UDP sender aiming at the targets the main loop created, and a
//! sink counting the packets the module forwarded.

use crate::gen::{SINK_PORTS, SSRC_POOL};
use crate::report::Report;
use crate::rng::Rng;
use crate::sys::{self, errno_of};
use rtpengine_core::abi::LIST_ENTRY_SIZE;
use std::fs::File;
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

pub struct Shared {
    pub stop: AtomicBool,
    /// Loopback targets of the tables that have an iptables rule (packet destinations).
    pub targets: Mutex<Vec<SocketAddr>>,
    /// Tables the readers look at.
    pub tables: Vec<u32>,
    pub report: Report,
    /// A list/blist file two readers use at the same time.
    pub shared_list: RwLock<Option<(Arc<File>, bool)>>,
    /// Skip concurrent pread() on one shared list file (see --avoid-shared-list-fd).
    pub avoid_shared_fd: bool,
}

const ODD_SIZES: &[usize] = &[
    0,
    1,
    2,
    7,
    63,
    100,
    511,
    4095,
    4096,
    4097,
    65536,
    LIST_ENTRY_SIZE - 1,
    LIST_ENTRY_SIZE,
    LIST_ENTRY_SIZE + 1,
];

fn expect(shared: &Shared, what: &str, r: &sys::SysResult, allowed: &[i32]) {
    let e = errno_of(r);
    shared.report.bg(e);
    if !allowed.contains(&e) {
        shared.report.violation(format_args!(
            "background {what}: got {}, expected {}",
            sys::errno_name(e),
            sys::errno_list(allowed)
        ));
    }
}

/// One reader: opens a file of a table, reads it with odd sizes, sometimes via pread.
pub fn reader(shared: Arc<Shared>, mut rng: Rng) {
    let mut buf = vec![0u8; 65536 + LIST_ENTRY_SIZE];
    while !shared.stop.load(Ordering::Relaxed) {
        // Leave the (TCG-emulated) CPUs mostly to the main loop.
        std::thread::sleep(Duration::from_micros(500));
        if !shared.avoid_shared_fd && rng.chance(250) {
            shared_fd_round(&shared, &mut rng, &mut buf);
            continue;
        }
        let id = *rng.pick(&shared.tables);
        let (name, path) = match rng.below(4) {
            0 => ("list", format!("/proc/rtpengine/{id}/list")),
            1 => ("blist", format!("/proc/rtpengine/{id}/blist")),
            2 => ("status", format!("/proc/rtpengine/{id}/status")),
            _ => ("main list", "/proc/rtpengine/list".to_string()),
        };
        let f = match sys::open_ro(&path) {
            Ok(f) => f,
            Err(e) => {
                expect(&shared, &format!("open {path}"), &Err(e), &[libc::ENOENT]);
                continue;
            }
        };
        shared.report.bg(0);
        for _ in 0..rng.range(1, 6) {
            let size = *rng.pick(ODD_SIZES);
            let r = if name == "blist" || !rng.chance(200) {
                sys::read_buf(&f, &mut buf[..size])
            } else {
                // pread at 0 restarts a listing; elsewhere it is a seek (ESPIPE for list).
                let off = *rng.pick(&[0i64, 1, 4096, 1 << 40]);
                sys::pread(&f, &mut buf[..size], off)
            };
            // EIO: the table was deleted while the file was open (procfs answers so for
            // a removed entry).
            let allowed: &[i32] = match name {
                "blist" if size != LIST_ENTRY_SIZE => &[libc::EINVAL, libc::EIO],
                "blist" => &[0, libc::EIO],
                "list" => &[0, libc::ESPIPE, libc::EIO],
                _ => &[0, libc::EIO],
            };
            expect(&shared, &format!("read {size} of {path}"), &r, allowed);
            if matches!(r, Ok(0) | Err(libc::EIO)) {
                break;
            }
        }
    }
}

/// Two readers on one open file: the first to arrive opens it, both pread() it.
fn shared_fd_round(shared: &Shared, rng: &mut Rng, buf: &mut [u8]) {
    let current = shared.shared_list.read().unwrap().clone();
    let (f, blist) = match current {
        Some(x) if !rng.chance(100) => x,
        _ => {
            let id = *rng.pick(&shared.tables);
            let blist = rng.chance(300);
            let path = format!(
                "/proc/rtpengine/{id}/{}",
                if blist { "blist" } else { "list" }
            );
            match sys::open_ro(&path) {
                Ok(f) => {
                    let x = (Arc::new(f), blist);
                    *shared.shared_list.write().unwrap() = Some(x.clone());
                    x
                }
                Err(e) => {
                    expect(shared, &format!("open {path}"), &Err(e), &[libc::ENOENT]);
                    *shared.shared_list.write().unwrap() = None;
                    return;
                }
            }
        }
    };
    for _ in 0..rng.range(1, 20) {
        let (size, allowed): (usize, &[i32]) = if blist {
            (LIST_ENTRY_SIZE, &[0, libc::EIO])
        } else {
            (
                *rng.pick(&[1usize, 7, 100, 4096, 65536]),
                &[0, libc::ESPIPE, libc::EIO],
            )
        };
        let r = if rng.chance(500) {
            sys::pread(&f, &mut buf[..size], 0)
        } else {
            sys::read_buf(&f, &mut buf[..size])
        };
        expect(shared, "shared list fd read", &r, allowed);
        if r == Err(libc::EIO) {
            // Its table is gone: the next round opens another file.
            *shared.shared_list.write().unwrap() = None;
            return;
        }
    }
}

/// Sends UDP packets at the targets: RTP with known and unknown SSRCs and payload
/// types, RTCP, STUN, DTLS-looking and random bytes, from the ports that targets expect.
pub fn sender(shared: Arc<Shared>, mut rng: Rng, pps: u64) {
    let socks4: Vec<UdpSocket> = (0..8)
        .filter_map(|i| UdpSocket::bind(("127.0.0.1", 1000 + i)).ok())
        .collect();
    let socks6: Vec<UdpSocket> = (0..8)
        .filter_map(|i| UdpSocket::bind(("::1", 1000 + i)).ok())
        .collect();
    let gap = Duration::from_micros(1_000_000 / pps.max(1));
    let mut pkt = vec![0u8; 1500];
    while !shared.stop.load(Ordering::Relaxed) {
        std::thread::sleep(gap);
        let to = {
            let t = shared.targets.lock().unwrap();
            if t.is_empty() {
                continue;
            }
            *rng.pick(&t)
        };
        let socks = if to.is_ipv4() { &socks4 } else { &socks6 };
        if socks.is_empty() {
            continue;
        }
        let len = build_packet(&mut rng, &mut pkt);
        if rng.pick(socks).send_to(&pkt[..len], to).is_ok() {
            shared.report.packets_sent.fetch_add(1, Ordering::Relaxed);
        }
    }
}

fn build_packet(rng: &mut Rng, p: &mut [u8]) -> usize {
    let len = match rng.below(6) {
        0 => rng.below(12) as usize,
        1 => rng.range(12, 1400) as usize,
        _ => rng.range(12, 200) as usize,
    };
    rng.fill(&mut p[..len]);
    match rng.below(6) {
        0..=2 if len >= 12 => {
            p[0] = 0x80 | if rng.chance(100) { 0x10 | 0x0f } else { 0 };
            p[1] = (rng.below(128) as u8) | if rng.chance(100) { 0x80 } else { 0 };
            p[8..12].copy_from_slice(&rng.pick(&SSRC_POOL).to_be_bytes());
        }
        3 if len >= 8 => {
            p[0] = 0x80;
            p[1] = rng.range(194, 223) as u8; // muxed RTCP
        }
        4 if len >= 20 => {
            p[0] = 0;
            p[1] = 1;
            p[4..8].copy_from_slice(&0x2112_a442u32.to_be_bytes()); // STUN cookie
        }
        5 if len >= 1 => p[0] = rng.range(20, 63) as u8, // DTLS
        _ => {}
    }
    len
}

/// Receives what the module forwarded to the sink ports.
pub fn sink(shared: Arc<Shared>) {
    let mut socks = Vec::new();
    for port in SINK_PORTS.0..SINK_PORTS.0 + 8 {
        for host in ["127.0.0.1", "::1"] {
            if let Ok(s) = UdpSocket::bind((host, port)) {
                let _ = s.set_nonblocking(true);
                socks.push(s);
            }
        }
    }
    let mut pfds: Vec<libc::pollfd> = socks
        .iter()
        .map(|s| libc::pollfd {
            fd: s.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        })
        .collect();
    let mut buf = [0u8; 2048];
    while !shared.stop.load(Ordering::Relaxed) {
        // SAFETY: poll(2) on our own array of pollfds.
        let n = unsafe { libc::poll(pfds.as_mut_ptr(), pfds.len() as libc::nfds_t, 200) };
        if n <= 0 {
            continue;
        }
        for (s, p) in socks.iter().zip(pfds.iter_mut()) {
            if p.revents != 0 {
                while s.recv(&mut buf).is_ok() {
                    shared
                        .report
                        .packets_forwarded
                        .fetch_add(1, Ordering::Relaxed);
                }
                p.revents = 0;
            }
        }
    }
}
