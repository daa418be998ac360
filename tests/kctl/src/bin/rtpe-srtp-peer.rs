//! rtpe-srtp-peer: one RTP endpoint of a VM call test (tests/vm/offload-srtp.sh).
//! Sends RTP (PT 0, 160 bytes of payload derived from the sequence number),
//! SRTP-protected when given a key, and checks every packet it receives byte for
//! byte against what the peer sent (after SRTP verification when given a key).
//!
//! Usage: rtpe-srtp-peer BIND PEER SECONDS [--pps N] [--ssrc HEX] [--peer-ssrc HEX]
//!            [--start-seq N] [--seq-step N] [--send-key KEYSALT_HEX]
//!            [--recv-key KEYSALT_HEX] [--recv-key-file PATH] [--count N] [--pace]
//! --seq-step: sequence numbers advance by N per packet (the SRTP index moves N times
//! faster than the packet rate: a wrap in fewer packets, less load under TCG).
//! --recv-key-file: a packet that fails verification makes the peer re-read PATH
//! (hex key+salt) and switch to it if it changed (the other side rekeyed).
//! --count: stop sending after N packets, then exit once nothing was sent or received
//! for 1 s (or at SECONDS). --pace: send evenly spaced packets instead of bursts: wait
//! for input with ppoll(2) until the next send is due (not a 2 ms socket timeout) and
//! never catch up more than 4 packets at once when late (the rate drops instead).
//! rtpengine 10.5 stops reading a socket that held more than 50 packets at 5 reads, so
//! bursts would measure its flood guard (tests/bench/srtp-daemon.sh uses both).
//! Keys are AES_CM_128_HMAC_SHA1_80 master key + salt (30 bytes, 60 hex digits).
//! Prints `sent=N received=N verified=N bad=N resynced=N sources=ip:port,...` at the
//! end (resynced: packets whose ROC the sender got wrong, found only by guessing) and
//! `t=S received=N verified=N` every second on stderr.

use std::collections::BTreeSet;
use std::net::{SocketAddr, UdpSocket};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use rtpengine_core::abi::{cipher, hmac, Srtp};
use rtpengine_core::srtp::rustcrypto::RustCrypto;
use rtpengine_core::srtp::{IndexState, SrtpContext};

const PAYLOAD: usize = 160;

struct Args {
    bind: SocketAddr,
    peer: SocketAddr,
    seconds: f64,
    pps: f64,
    ssrc: u32,
    peer_ssrc: u32,
    start_seq: u16,
    seq_step: u16,
    send_key: Option<Srtp>,
    recv_key: Option<Srtp>,
    recv_key_file: Option<String>,
    count: Option<u64>,
    pace: bool,
}

fn parse_hex(s: &str) -> Result<Vec<u8>, String> {
    if !s.len().is_multiple_of(2) {
        return Err(format!("odd-length hex {s:?}"));
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).map_err(|e| format!("hex {s:?}: {e}")))
        .collect()
}

/// AES_CM_128_HMAC_SHA1_80 parameters from master key || salt.
fn key(hex_key_salt: &str) -> Result<Srtp, String> {
    let ks = parse_hex(hex_key_salt)?;
    if ks.len() != 30 {
        return Err(format!("key+salt must be 30 bytes, got {}", ks.len()));
    }
    let mut p = Srtp::plain();
    p.cipher = cipher::AES_CM_128;
    p.hmac = hmac::HMAC_SHA1;
    p.master_key[..16].copy_from_slice(&ks[..16]);
    p.master_key_len = 16;
    p.master_salt.copy_from_slice(&ks[16..]);
    p.master_salt_len = 14;
    p.session_key_len = 16;
    p.session_salt_len = 14;
    p.auth_tag_len = 10;
    Ok(p)
}

fn parse_args() -> Result<Args, String> {
    let v: Vec<String> = std::env::args().skip(1).collect();
    if v.len() < 3 {
        return Err("usage: rtpe-srtp-peer BIND PEER SECONDS [options]".into());
    }
    let addr = |s: &str| {
        s.parse::<SocketAddr>()
            .map_err(|e| format!("address {s:?}: {e}"))
    };
    let mut a = Args {
        bind: addr(&v[0])?,
        peer: addr(&v[1])?,
        seconds: v[2]
            .parse()
            .map_err(|e| format!("seconds {:?}: {e}", v[2]))?,
        pps: 50.0,
        ssrc: 0x1234_5678,
        peer_ssrc: 0x1234_5678,
        start_seq: 0,
        seq_step: 1,
        send_key: None,
        recv_key: None,
        recv_key_file: None,
        count: None,
        pace: false,
    };
    let mut rest = v[3..].iter();
    while let Some(opt) = rest.next() {
        if opt == "--pace" {
            a.pace = true;
            continue;
        }
        let val = rest.next().ok_or_else(|| format!("{opt} needs a value"))?;
        let hex32 = |s: &str| u32::from_str_radix(s, 16).map_err(|e| format!("{opt} {s:?}: {e}"));
        match opt.as_str() {
            "--pps" => a.pps = val.parse().map_err(|e| format!("--pps {val:?}: {e}"))?,
            "--ssrc" => a.ssrc = hex32(val)?,
            "--peer-ssrc" => a.peer_ssrc = hex32(val)?,
            "--start-seq" => {
                a.start_seq = val
                    .parse()
                    .map_err(|e| format!("--start-seq {val:?}: {e}"))?
            }
            "--seq-step" => {
                a.seq_step = val
                    .parse()
                    .ok()
                    .filter(|n| (1..=1000).contains(n))
                    .ok_or_else(|| format!("--seq-step {val:?}: 1..=1000"))?
            }
            "--send-key" => a.send_key = Some(key(val)?),
            "--recv-key" => a.recv_key = Some(key(val)?),
            "--recv-key-file" => a.recv_key_file = Some(val.clone()),
            "--count" => a.count = Some(val.parse().map_err(|e| format!("--count {val:?}: {e}"))?),
            _ => return Err(format!("unknown option {opt}")),
        }
    }
    if !(a.pps > 0.0 && a.pps <= 20_000.0) {
        return Err(format!("--pps {} out of range", a.pps));
    }
    Ok(a)
}

/// The plain RTP packet a sender with `ssrc` sends as `seq`.
fn rtp(seq: u16, ssrc: u32) -> Vec<u8> {
    let mut p = vec![0x80, 0];
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(&u32::from(seq).wrapping_mul(160).to_be_bytes());
    p.extend_from_slice(&ssrc.to_be_bytes());
    p.extend((0..PAYLOAD).map(|i| (i as u8) ^ (seq as u8) ^ ((seq >> 8) as u8)));
    p
}

/// One direction's SRTP with its own index state (slot 0: one SSRC).
struct Crypt {
    ctx: SrtpContext<RustCrypto>,
    index: IndexState,
}

impl Crypt {
    fn new(p: &Srtp) -> Result<Crypt, String> {
        let ctx = SrtpContext::new(&RustCrypto, p).map_err(|e| format!("SRTP context: {e:?}"))?;
        Ok(Crypt {
            ctx,
            index: IndexState::new(&[0; 4]),
        })
    }
}

/// Verifies and decrypts `pkt` in place; counts packets found only by a ROC guess.
fn decrypt(c: &mut Crypt, pkt: &mut Vec<u8>, resynced: &mut u64) -> bool {
    let n = pkt.len();
    match c.ctx.decrypt_rtp(&mut c.index, 0, pkt, n) {
        Ok(r) => {
            pkt.truncate(r.len);
            *resynced += u64::from(r.roc_resynced);
            true
        }
        Err(_) => false,
    }
}

/// One thread sends and receives: under TCG it can stall for longer than the default
/// buffer (a few hundred packets) lasts at 2000 pps. 8 MiB, forced as root (the VM),
/// else as much as rmem_max allows; failure only costs packets, so it is ignored.
fn large_receive_buffer(sock: &UdpSocket) {
    let fd = std::os::fd::AsRawFd::as_raw_fd(sock);
    let size: libc::c_int = 8 << 20;
    for opt in [libc::SO_RCVBUFFORCE, libc::SO_RCVBUF] {
        // SAFETY: `fd` is the open socket `sock` owns; the option value is a c_int that
        // lives across the call, and its size is passed with it.
        let rc = unsafe {
            libc::setsockopt(
                fd,
                libc::SOL_SOCKET,
                opt,
                (&size as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        if rc == 0 {
            return;
        }
    }
}

/// Packets read per round, when far behind, before sending catches up (see `run`).
const RECV_BATCH: usize = 64;

fn run(a: Args) -> Result<(), String> {
    let sock = UdpSocket::bind(a.bind).map_err(|e| format!("bind {}: {e}", a.bind))?;
    large_receive_buffer(&sock);
    if a.pace {
        sock.set_nonblocking(true)
    } else {
        sock.set_read_timeout(Some(Duration::from_millis(2)))
    }
    .map_err(|e| format!("socket: {e}"))?;
    let mut tx = a.send_key.as_ref().map(Crypt::new).transpose()?;
    let mut rx = a.recv_key.as_ref().map(Crypt::new).transpose()?;
    let mut rx_key = a.recv_key;
    let interval = Duration::from_secs_f64(1.0 / a.pps);
    let start = Instant::now();
    let deadline = start + Duration::from_secs_f64(a.seconds);
    let mut end = deadline;
    let mut next = start;
    let (mut sent, mut received, mut verified, mut bad) = (0u64, 0u64, 0u64, 0u64);
    let mut resynced = 0u64;
    let mut sources = BTreeSet::new();
    let mut last_report = start;
    let mut seq = a.start_seq;
    let mut buf = [0u8; 2048];
    let mut last_activity = start;
    while Instant::now() < end {
        if a.pace && Instant::now() > next + 4 * interval {
            next = Instant::now();
        }
        // Catch up in bursts rather than drift when the VM is slow.
        while Instant::now() >= next && Instant::now() < end && a.count.is_none_or(|c| sent < c) {
            let mut p = rtp(seq, a.ssrc);
            if let Some(c) = tx.as_mut() {
                let len = p.len();
                p.resize(len + c.ctx.overhead(), 0);
                let r = c
                    .ctx
                    .encrypt_rtp(&mut c.index, 0, &mut p, len)
                    .map_err(|e| format!("protect: {e:?}"))?;
                p.truncate(r.len);
            }
            let _ = sock.send_to(&p, a.peer);
            sent += 1;
            seq = seq.wrapping_add(a.seq_step);
            next += interval;
            last_activity = Instant::now();
        }
        let sending = a.count.is_none_or(|c| sent < c);
        // Receive until the socket is empty (timeout) or the next send is due; when
        // far behind, read a batch before catching up (one packet per catch-up burst
        // starved the receiving side under TCG).
        let mut drained = 0;
        while let Ok((n, src)) = sock.recv_from(&mut buf) {
            drained += 1;
            received += 1;
            last_activity = Instant::now();
            sources.insert(src.to_string());
            let mut pkt = buf[..n].to_vec();
            let mut ok = match rx.as_mut() {
                Some(c) => decrypt(c, &mut pkt, &mut resynced),
                None => true,
            };
            if !ok {
                // The other side may have rekeyed: take the new key if there is one.
                let new = a
                    .recv_key_file
                    .as_ref()
                    .and_then(|f| std::fs::read_to_string(f).ok())
                    .and_then(|k| key(k.trim()).ok())
                    .filter(|k| Some(*k) != rx_key);
                if let Some(k) = new {
                    let mut c = Crypt::new(&k)?;
                    pkt = buf[..n].to_vec();
                    ok = decrypt(&mut c, &mut pkt, &mut resynced);
                    rx = Some(c);
                    rx_key = Some(k);
                }
            }
            let good = ok
                && pkt.len() >= 4
                && pkt == rtp(u16::from_be_bytes([pkt[2], pkt[3]]), a.peer_ssrc);
            if good {
                verified += 1;
            } else {
                bad += 1;
            }
            // On time or a little late: send now. Far behind: a batch first.
            let now = Instant::now();
            if sending && now >= next && (now < next + 4 * interval || drained >= RECV_BATCH) {
                break;
            }
        }
        if !sending {
            end = deadline.min(last_activity + Duration::from_secs(1));
        }
        if a.pace {
            wait_readable(&sock, if sending { next.min(end) } else { end });
        }
        let now = Instant::now();
        if now.duration_since(last_report) >= Duration::from_secs(1) {
            last_report = now;
            eprintln!(
                "t={} received={received} verified={verified}",
                now.duration_since(start).as_secs()
            );
        }
    }
    let src: Vec<String> = sources.into_iter().collect();
    println!(
        "sent={sent} received={received} verified={verified} bad={bad} resynced={resynced} sources={}",
        src.join(",")
    );
    Ok(())
}

/// Blocks until `sock` is readable or `until` has come.
fn wait_readable(sock: &UdpSocket, until: Instant) {
    use std::os::fd::AsRawFd;
    let d = until.saturating_duration_since(Instant::now());
    let ts = libc::timespec {
        tv_sec: d.as_secs() as libc::time_t,
        tv_nsec: d.subsec_nanos() as libc::c_long,
    };
    let mut pfd = libc::pollfd {
        fd: sock.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: `pfd` and `ts` are valid for the call, the count is 1 and a null signal
    // mask leaves the mask unchanged. Errors (EINTR) just end the wait early.
    unsafe { libc::ppoll(&mut pfd, 1, &ts, std::ptr::null()) };
}

fn main() -> ExitCode {
    match parse_args().and_then(run) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("rtpe-srtp-peer: {e}");
            ExitCode::from(2)
        }
    }
}
