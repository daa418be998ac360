//! The ng load of ng_bench.rs, shared with redis_bench.rs: calls (offer,
//! answer, delete) kept going `INFLIGHT` at a time over one UDP socket.

#![allow(dead_code)]

use std::collections::HashMap;
use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rtpengined::ng::bencode::{decode, Owned};

use super::cpu_time;

static COOKIE: AtomicU64 = AtomicU64::new(0);

/// Calls in progress at once.
pub const INFLIGHT: usize = 32;

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
pub struct Measured {
    pub calls_per_s: f64,
    pub calls: u64,
    pub cpu_us_per_call: f64,
    /// Calls with a reply other than `result: ok`.
    pub failed: u64,
    /// Requests sent again after 500 ms without a reply.
    pub resent: u64,
}

/// Runs calls against `to` for `secs` seconds, `INFLIGHT` at a time, and
/// measures the daemon `pid`'s CPU time meanwhile.
pub fn run(to: SocketAddr, pid: u32, secs: f64, tag: &str) -> Measured {
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
