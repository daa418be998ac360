//! Issue 19: what a recorded stream receives from the packet path (the copy of each
//! forwarded packet of an intercepting target, IPv4 and IPv6), and, for the debug kernel,
//! stream files under load while streams, calls and the table are deleted and the
//! module is unloaded with readers still holding files and epoll registrations.

use super::net::{self, bind, recv, v6, A4, B4, PA4, PB4};
use super::{sh, Checks};
use rtpe_kctl::{main_control, Control};
use rtpengine_core::abi::{
    cmd, target_flags, Address, DestinationInfo, Message, Pod, Srtp, TargetInfo, MESSAGE_SIZE,
};
use std::fs::File;
use std::io::{self, Read};
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn sa(a: &Address) -> SocketAddr {
    if a.family == 2 {
        SocketAddr::from(([a.addr[0], a.addr[1], a.addr[2], a.addr[3]], a.port))
    } else {
        SocketAddr::from((a.addr, a.port))
    }
}

fn add_call(c: &mut Control, name: &str) -> io::Result<u32> {
    let mut m = Message::new(cmd::ADD_CALL);
    let mut ci = m.call();
    ci.call_id[..name.len()].copy_from_slice(name.as_bytes());
    m.u.call = ci;
    Ok(c.exchange(&m)?.call().call_idx)
}

fn add_stream(c: &mut Control, call: u32, name: &str, max: u32) -> io::Result<u32> {
    let mut m = Message::new(cmd::ADD_STREAM);
    let mut si = m.stream();
    si.call_idx = call;
    si.max_packets = max;
    si.stream_name[..name.len()].copy_from_slice(name.as_bytes());
    m.u.stream = si;
    Ok(c.exchange(&m)?.stream().stream_idx)
}

fn del_stream(c: &mut Control, call: u32, idx: u32) -> io::Result<()> {
    let mut m = Message::new(cmd::DEL_STREAM);
    let mut si = m.stream();
    si.call_idx = call;
    si.stream_idx = idx;
    m.u.stream = si;
    c.send(&m)
}

fn del_call(c: &mut Control, idx: u32) -> io::Result<()> {
    let mut m = Message::new(cmd::DEL_CALL);
    let mut ci = m.call();
    ci.call_idx = idx;
    m.u.call = ci;
    c.send(&m)
}

fn packet(c: &mut Control, stream: u32, data: &[u8]) -> io::Result<usize> {
    let mut m = Message::new(cmd::PACKET);
    m.u.packet.stream_idx = stream;
    let mut b = m.as_bytes()[..MESSAGE_SIZE].to_vec();
    b.extend_from_slice(data);
    c.write_raw(&b)
}

/// A forwarding target `local` → `dst` (from `src`) that copies to `stream`.
fn intercepting(
    c: &mut Control,
    local: Address,
    src: Address,
    dst: Address,
    stream: u32,
) -> io::Result<()> {
    let mut t = TargetInfo::zeroed();
    t.local = local;
    t.num_destinations = 1;
    t.decrypt = Srtp::plain();
    t.flags |= target_flags::DO_INTERCEPT;
    t.intercept_stream_idx = stream;
    c.add_target(&t)?;
    let mut d = DestinationInfo::zeroed();
    d.local = local;
    d.num = 0;
    d.output.src_addr = src;
    d.output.dst_addr = dst;
    d.output.encrypt = Srtp::plain();
    c.add_destination(&d)
}

fn open_stream(path: &str, nonblock: bool) -> io::Result<File> {
    let mut o = std::fs::OpenOptions::new();
    o.read(true);
    if nonblock {
        o.custom_flags(libc::O_NONBLOCK);
    }
    o.open(path)
}

/// One read of a stream file: the packet, or the errno.
fn read_one(f: &mut File) -> Result<Vec<u8>, i32> {
    let mut buf = vec![0u8; 65536];
    match f.read(&mut buf) {
        Ok(n) => {
            buf.truncate(n);
            Ok(buf)
        }
        Err(e) => Err(e.raw_os_error().unwrap_or(-1)),
    }
}

fn be16(b: &[u8], at: usize) -> usize {
    usize::from(u16::from_be_bytes([b[at], b[at + 1]]))
}

const TABLE: u32 = 0;

pub fn run(t: &mut Checks) {
    let (ok, out) = sh("modprobe xt_RTPENGINE");
    t.check("modprobe", ok, &out);
    let r = net::setup();
    t.check("namespaces A, B", r.is_ok(), format_args!("{r:?}"));
    t.errno("add table 0", main_control("add 0\n"), 0);
    let r = net::add_rules(TABLE);
    t.check(
        "iptables -j RTPENGINE --id 0",
        r.is_ok(),
        format_args!("{r:?}"),
    );
    let mut c = Control::open(TABLE).expect("open control");

    let call = add_call(&mut c, "rec-call");
    t.check("ADD_CALL", call.is_ok(), format_args!("{call:?}"));
    let call = call.unwrap_or(0);
    let s4 = add_stream(&mut c, call, "v4", 100).unwrap_or(u32::MAX);
    let s6 = add_stream(&mut c, call, "v6", 100).unwrap_or(u32::MAX);
    let base = format!("/proc/rtpengine/{TABLE}/calls/rec-call");

    // IPv4: A → proxy → B, copied to stream v4.
    let (pa, pb) = (Address::v4(PA4, 30000), Address::v4(PB4, 30002));
    let b = Address::v4(B4, 6000);
    t.errno(
        "v4: intercepting target",
        intercepting(&mut c, pa, pb, b, s4),
        0,
    );
    let sa_ = bind(Some("A"), SocketAddr::from((A4, 5000))).unwrap();
    let sb = bind(Some("B"), sa(&b)).unwrap();
    let mut f4 = open_stream(&format!("{base}/v4"), true).expect("open v4");
    let payloads: Vec<Vec<u8>> = (0..3u8)
        .map(|i| vec![0x80, 0, 0, i, 0, 0, 0, 0, 1, 2, 3, 4, i, i, i])
        .collect();
    for p in &payloads {
        sa_.send_to(p, sa(&pa)).unwrap();
        let r = recv(&sb);
        t.check(
            "v4: forwarded to B",
            matches!(&r, Ok(x) if &x.data == p),
            format_args!("{r:?}"),
        );
    }
    for (i, p) in payloads.iter().enumerate() {
        let r = read_one(&mut f4);
        let good = match &r {
            Ok(d) => {
                d.len() == 20 + 8 + p.len()
                    && d[0] >> 4 == 4
                    && be16(d, 2) == d.len()
                    && be16(d, 24) == 8 + p.len()
                    && d[12..16] == A4
                    && d[16..20] == PA4
                    && be16(d, 20) == 5000
                    && be16(d, 22) == 30000
                    && &d[28..] == p
            }
            Err(_) => false,
        };
        t.check(
            &format!("v4: stream file read {i} is the received IP packet, lengths fixed"),
            good,
            format_args!("{r:?}"),
        );
    }
    t.check(
        "v4: then EAGAIN",
        read_one(&mut f4) == Err(libc::EAGAIN),
        "",
    );

    // IPv6.
    let (pa6, pb6) = (Address::v6(v6(1, 1), 30010), Address::v6(v6(2, 1), 30012));
    let b6 = Address::v6(v6(2, 2), 6010);
    t.errno(
        "v6: intercepting target",
        intercepting(&mut c, pa6, pb6, b6, s6),
        0,
    );
    let sa6 = bind(Some("A"), SocketAddr::from((v6(1, 2), 5010))).unwrap();
    let sb6 = bind(Some("B"), sa(&b6)).unwrap();
    let mut f6 = open_stream(&format!("{base}/v6"), true).expect("open v6");
    let p6 = b"\x80\x00\x00\x01\x00\x00\x00\x00\x01\x02\x03\x04v6 payload".to_vec();
    sa6.send_to(&p6, sa(&pa6)).unwrap();
    let r = recv(&sb6);
    t.check(
        "v6: forwarded to B",
        matches!(&r, Ok(x) if x.data == p6),
        format_args!("{r:?}"),
    );
    let r = read_one(&mut f6);
    t.check(
        "v6: stream file read is the received IP packet, lengths fixed",
        matches!(&r, Ok(d) if d.len() == 48 + p6.len() && d[0] >> 4 == 6
            && be16(d, 4) == d.len() - 40 && be16(d, 44) == 8 + p6.len() && d[48..] == p6[..]),
        format_args!("{r:?}"),
    );

    // A deleted stream: the target still forwards, nothing is copied any more. 10.5's
    // DEL_STREAM waits until the stream's files are closed (ours does not).
    let mut f4 = if t.stock {
        drop(f4);
        None
    } else {
        Some(f4)
    };
    t.errno("DEL_STREAM v4", del_stream(&mut c, call, s4), 0);
    sa_.send_to(&payloads[0], sa(&pa)).unwrap();
    let r = recv(&sb);
    t.check(
        "v4: still forwarded after DEL_STREAM",
        r.is_ok(),
        format_args!("{r:?}"),
    );
    if let Some(f4) = f4.as_mut() {
        let r = read_one(f4);
        t.check(
            "v4: the old file reads 0 or EIO",
            matches!(r, Ok(ref d) if d.is_empty()) || r == Err(libc::EIO),
            format_args!("{r:?}"),
        );
    }
    // The index comes back for a new stream; the target copies to it again.
    let again = add_stream(&mut c, call, "v4-again", 0);
    t.check(
        "ADD_STREAM takes the freed index again",
        again.as_ref().ok() == Some(&s4),
        format_args!("{again:?}"),
    );
    let mut f4b = open_stream(&format!("{base}/v4-again"), true).expect("open v4-again");
    sa_.send_to(&payloads[1], sa(&pa)).unwrap();
    let _ = recv(&sb);
    let r = read_one(&mut f4b);
    t.check(
        "the new stream gets the target's copies",
        matches!(&r, Ok(d) if d[28..] == payloads[1][..]),
        format_args!("{r:?}"),
    );

    srtp_copy(t, &mut c, call, &base);

    // Closed first: 10.5's DEL_CALL waits for them.
    drop((f4, f4b, f6));
    t.errno("DEL_CALL", del_call(&mut c, call), 0);
    t.check(
        "DEL_CALL removes calls/rec-call",
        !std::path::Path::new(&base).exists(),
        "",
    );
    drop(c);
    let r = net::del_rules(TABLE);
    t.check("rules removed", r.is_ok(), format_args!("{r:?}"));
    t.errno("del table 0", main_control("del 0\n"), 0);
    let (ok, out) = sh("rmmod xt_RTPENGINE");
    t.check("rmmod", ok, &out);
}

/// SRTP in, plain out: the stream gets the decrypted packet, without the SRTP trailer,
/// its lengths fixed to that.
fn srtp_copy(t: &mut Checks, c: &mut Control, call: u32, base: &str) {
    use super::srtp::{params, rtp, rtp_target, Endpoint, SUITES};
    let s = add_stream(c, call, "srtp", 0).unwrap_or(u32::MAX);
    let suite = &SUITES[0];
    let (pa, pb) = (Address::v4(PA4, 30020), Address::v4(PB4, 30022));
    let (a, b) = (Address::v4(A4, 5020), Address::v4(B4, 6020));
    let keys = params(suite, 7, &[]);
    let mut tgt = rtp_target(pa, keys);
    tgt.flags |= target_flags::DO_INTERCEPT;
    tgt.intercept_stream_idx = s;
    t.errno(
        "srtp: decrypting, intercepting target",
        c.add_target(&tgt),
        0,
    );
    let mut d = DestinationInfo::zeroed();
    d.local = pa;
    d.output.src_addr = pb;
    d.output.dst_addr = b;
    d.output.encrypt = Srtp::plain();
    t.errno("srtp: plain output", c.add_destination(&d), 0);
    let sa_ = bind(Some("A"), sa(&a)).unwrap();
    let sb = bind(Some("B"), sa(&b)).unwrap();
    let mut f = open_stream(&format!("{base}/srtp"), true).expect("open srtp");
    let mut tx = Endpoint::new(&keys);
    let plain = rtp(100, 0x5eed, 160);
    let wire = tx.protect(&plain);
    sa_.send_to(&wire, sa(&pa)).unwrap();
    let r = recv(&sb);
    t.check(
        "srtp: B gets the plain packet",
        matches!(&r, Ok(x) if x.data == plain),
        format_args!("{r:?}"),
    );
    let r = read_one(&mut f);
    t.check(
        &format!(
            "srtp: the copy is the decrypted packet ({} bytes on the wire, {} plain)",
            wire.len(),
            plain.len()
        ),
        matches!(&r, Ok(d) if d.len() == 28 + plain.len() && be16(d, 2) == d.len()
            && be16(d, 24) == 8 + plain.len() && d[28..] == plain[..]),
        format_args!("{r:?}"),
    );
}

/// Packets flow through an intercepting target while readers (blocking, non-blocking,
/// epoll) read, PACKET writes and streams come and go; then the table is deleted under
/// all of them, the module unloaded, and only then are the files and epoll closed.
pub fn stress(t: &mut Checks, seconds: u64) {
    let (ok, out) = sh("modprobe xt_RTPENGINE");
    t.check("stress: modprobe", ok, &out);
    let r = net::setup();
    t.check("stress: namespaces", r.is_ok(), format_args!("{r:?}"));
    t.errno("stress: add table 0", main_control("add 0\n"), 0);
    let r = net::add_rules(TABLE);
    t.check("stress: rules", r.is_ok(), format_args!("{r:?}"));
    let mut c = Control::open(TABLE).expect("open control");
    let call = add_call(&mut c, "stress").unwrap();
    let s = add_stream(&mut c, call, "s", 4).unwrap();
    let keep = add_stream(&mut c, call, "keep", 0).unwrap();
    let (pa, pb) = (Address::v4(PA4, 30000), Address::v4(PB4, 30002));
    let b = Address::v4(B4, 6000);
    t.errno(
        "stress: intercepting target",
        intercepting(&mut c, pa, pb, b, s),
        0,
    );
    let base = format!("/proc/rtpengine/{TABLE}/calls/stress");

    let stop = Arc::new(AtomicBool::new(false));
    let read = Arc::new(AtomicU64::new(0));
    let mut threads = Vec::new();
    // Sender in A.
    {
        let stop = stop.clone();
        let sock: UdpSocket = bind(Some("A"), SocketAddr::from((A4, 5000))).unwrap();
        threads.push(std::thread::spawn(move || {
            let p = [0x80u8, 0, 0, 1, 0, 0, 0, 0, 1, 2, 3, 4, 9, 9, 9, 9];
            while !stop.load(Ordering::Relaxed) {
                let _ = sock.send_to(&p, sa(&pa));
                std::thread::sleep(Duration::from_micros(200));
            }
        }));
    }
    // Readers: blocking and non-blocking, reopening when their stream goes.
    for nonblock in [false, true] {
        let (stop, read, path) = (stop.clone(), read.clone(), format!("{base}/s"));
        threads.push(std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let Ok(mut f) = open_stream(&path, nonblock) else {
                    std::thread::sleep(Duration::from_millis(1));
                    continue;
                };
                loop {
                    match read_one(&mut f) {
                        Ok(d) if d.is_empty() => break,
                        Ok(_) => {
                            read.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(e) if e == libc::EAGAIN => std::thread::yield_now(),
                        Err(_) => break,
                    }
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                }
            }
        }));
    }
    // Churn: the intercepted stream is deleted and added again (same index), and
    // PACKET writes go to the other stream, which nobody reads.
    let end = Instant::now() + Duration::from_secs(seconds);
    let mut cycles = 0;
    let mut errors = 0;
    while Instant::now() < end {
        if del_stream(&mut c, call, s).is_err() || add_stream(&mut c, call, "s", 4).ok() != Some(s)
        {
            errors += 1;
        }
        for _ in 0..20 {
            if packet(&mut c, keep, &[7u8; 200]).is_err() {
                errors += 1;
            }
        }
        cycles += 1;
        std::thread::sleep(Duration::from_millis(5));
    }
    t.check(
        &format!(
            "stress: {cycles} delete/add cycles of the intercepted stream, {} packets read",
            read.load(Ordering::Relaxed)
        ),
        errors == 0 && read.load(Ordering::Relaxed) > 0,
        format_args!("{errors} errors"),
    );
    // Holders for the table deletion: a blocked reader, an epoll registration, a file
    // with queued packets.
    let mut queued = open_stream(&format!("{base}/keep"), true).expect("open keep");
    // SAFETY: plain epoll_create1; the fd is closed at the end.
    let epfd = unsafe { libc::epoll_create1(0) };
    let mut ev = libc::epoll_event {
        events: libc::EPOLLIN as u32,
        u64: 1,
    };
    // SAFETY: plain epoll_ctl on fds we own.
    let r = unsafe { libc::epoll_ctl(epfd, libc::EPOLL_CTL_ADD, queued.as_raw_fd(), &mut ev) };
    t.check(
        "stress: epoll registration of a stream file",
        r == 0,
        io::Error::last_os_error(),
    );
    let polled = open_stream(&format!("{base}/s"), true).expect("open s");
    let mut ev2 = libc::epoll_event {
        events: libc::EPOLLIN as u32,
        u64: 2,
    };
    // SAFETY: as above.
    unsafe { libc::epoll_ctl(epfd, libc::EPOLL_CTL_ADD, polled.as_raw_fd(), &mut ev2) };
    let blocked = std::thread::spawn({
        let path = format!("{base}/keep");
        move || {
            let mut f = open_stream(&path, false).unwrap();
            // Drain, then block until the table goes.
            loop {
                match read_one(&mut f) {
                    Ok(d) if d.is_empty() => return (0, f),
                    Ok(_) => {}
                    Err(e) => return (e, f),
                }
            }
        }
    });
    std::thread::sleep(Duration::from_millis(300));
    drop(c);
    let t0 = Instant::now();
    t.errno(
        "stress: del table 0 with packets flowing and readers in every state",
        main_control("del 0\n"),
        0,
    );
    t.check(
        "stress: del did not wait for readers",
        t0.elapsed() < Duration::from_secs(5),
        format_args!("{:?}", t0.elapsed()),
    );
    let (e, blocked_file) = blocked.join().unwrap();
    t.check(
        "stress: the blocked reader returned end of file",
        e == 0,
        format_args!("errno {e}"),
    );
    stop.store(true, Ordering::Relaxed);
    for th in threads {
        let _ = th.join();
    }
    let r = net::del_rules(TABLE);
    t.check("stress: rules removed", r.is_ok(), format_args!("{r:?}"));
    let (ok, out) = sh("rmmod xt_RTPENGINE");
    t.check(
        "stress: rmmod with stream files and epoll still open",
        ok,
        &out,
    );
    // After the module is gone: epoll wait, read, close.
    let mut evs = [libc::epoll_event { events: 0, u64: 0 }; 4];
    // SAFETY: epoll_wait into a local array of the size given.
    let n = unsafe { libc::epoll_wait(epfd, evs.as_mut_ptr(), 4, 0) };
    t.check(
        "stress: epoll_wait after rmmod returns",
        n >= 0,
        io::Error::last_os_error(),
    );
    let r = read_one(&mut queued);
    t.check(
        "stress: read after rmmod fails or is 0",
        r != Ok(vec![7u8; 200]),
        format_args!("{r:?}"),
    );
    drop(queued);
    drop(polled);
    drop(blocked_file);
    // SAFETY: closing the epoll fd we created.
    unsafe { libc::close(epfd) };
    t.check("stress: files closed after rmmod", true, "");
}
