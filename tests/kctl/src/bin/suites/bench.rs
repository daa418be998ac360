//! Benchmark (not a test): in-kernel forwarding rate of whatever xt_RTPENGINE module is
//! loaded, for plain RTP and for SRTP (AES_CM_128_HMAC_SHA1_80 and AEAD_AES_128_GCM,
//! each decrypted on input, and decrypted and re-encrypted with another key). Prints
//! `bench: <label> <pps>` lines; scripts/bench-kernel runs it for our module and the
//! stock 10.5 module in one VM boot and prints the ratios. `RTPE_BENCH_PACKETS` sets the
//! packets per case, `RTPE_BENCH_CASES` (a substring of the labels, `_` for a space,
//! as it comes through the kernel command line) picks cases.

use super::net::{self, bind, A4, B4, PA4, PB4};
use super::sh;
use rtpe_kctl::{main_control, Control};
use rtpengine_core::abi::{
    cipher, hmac, target_flags, Address, DestinationInfo, PayloadType, Pod, Srtp, TargetInfo,
};
use rtpengine_core::srtp::rustcrypto::RustCrypto;
use rtpengine_core::srtp::{IndexState, SrtpContext};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

const TABLE: u32 = 2;

fn srtp(c: u32, h: u32, key: usize, salt: usize, tag: u32, seed: u8) -> Srtp {
    let mut p = Srtp::plain();
    p.cipher = c;
    p.hmac = h;
    for i in 0..key {
        p.master_key[i] = seed ^ (i as u8);
    }
    for i in 0..salt {
        p.master_salt[i] = seed.wrapping_add(i as u8);
    }
    p.master_key_len = key as u32;
    p.master_salt_len = salt as u32;
    p.session_key_len = key as u32;
    p.session_salt_len = salt as u32;
    p.auth_tag_len = tag;
    p
}

fn rtp(seq: u16) -> Vec<u8> {
    let mut p = vec![0x80, 0];
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(&(u32::from(seq) * 160).to_be_bytes());
    p.extend_from_slice(&0x5eed_u32.to_be_bytes());
    p.extend(std::iter::repeat_n(0xd5, 160));
    p
}

/// `perf record -a` over the sending phase only, when `RTPE_BENCH_PERF` names an output
/// prefix (tests/bench/kernel-profile.sh): `PREFIX.N.data` for case N, and
/// `PREFIX.N.kallsyms`, a copy taken while the module is loaded, so that `perf report
/// --kallsyms` can name its functions after it is gone.
struct Profile(Option<(std::process::Child, String)>);

impl Profile {
    fn start(case: usize) -> Profile {
        let Ok(prefix) = std::env::var("RTPE_BENCH_PERF") else {
            return Profile(None);
        };
        let base = format!("{prefix}.{case}");
        let (ctl, ack) = (format!("{base}.ctl"), format!("{base}.ack"));
        let (ok, out) = sh(&format!("rm -f {ctl} {ack}; mkfifo {ctl} {ack}"));
        assert!(ok, "mkfifo: {out}");
        // Started with its events disabled; enabled through the control fifo, and the
        // acknowledgement says sampling runs.
        let child = std::process::Command::new("perf")
            .args([
                "record",
                "-q",
                "-a",
                "-e",
                "cpu-clock",
                "-F",
                "10000",
                "-D",
                "-1",
            ])
            .arg(format!("--control=fifo:{ctl},{ack}"))
            .arg("-o")
            .arg(format!("{base}.data"))
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("perf record");
        std::fs::write(&ctl, "enable\n").expect("perf control");
        let mut acked = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(std::fs::File::open(&ack).expect("perf ack")),
            &mut acked,
        )
        .expect("perf ack");
        assert!(acked.starts_with("ack"), "perf answered {acked:?}");
        Profile(Some((child, base)))
    }

    fn stop(self) {
        let Some((mut child, base)) = self.0 else {
            return;
        };
        let _ = sh(&format!("kill -INT {}", child.id()));
        let _ = child.wait();
        let _ = std::fs::copy("/proc/kallsyms", format!("{base}.kallsyms"));
    }
}

/// Sends `packets` (prepared datagrams) from A to `to` and counts what B receives.
fn measure(label: &str, port: u16, packets: &[Vec<u8>], b_port: u16, case: usize) {
    let a = bind(Some("A"), SocketAddr::from((A4, port))).unwrap();
    let b = bind(Some("B"), SocketAddr::from((B4, b_port))).unwrap();
    b.set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let to = SocketAddr::from((PA4, port));
    let profile = Profile::start(case);
    let counter = std::thread::spawn(move || {
        let mut buf = [0u8; 2048];
        let mut n = 0u64;
        let mut last = Instant::now();
        while b.recv(&mut buf).is_ok() {
            n += 1;
            last = Instant::now();
        }
        (n, last)
    });
    let start = Instant::now();
    for p in packets {
        let _ = a.send_to(p, to);
    }
    let sent = start.elapsed();
    let (received, last) = counter.join().unwrap();
    profile.stop();
    let secs = last
        .duration_since(start)
        .as_secs_f64()
        .max(sent.as_secs_f64());
    println!(
        "bench: {label} {:.0} pps ({received} of {} forwarded in {:.2} s)",
        received as f64 / secs,
        packets.len(),
        secs
    );
}

pub fn run(_t: &mut super::Checks) {
    let n: usize = std::env::var("RTPE_BENCH_PACKETS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50_000);
    let (ok, out) = sh("modprobe xt_RTPENGINE");
    assert!(ok, "modprobe: {out}");
    if !std::path::Path::new("/run/netns/A").exists() {
        net::setup().expect("namespaces");
    }
    main_control("add 2\n").expect("table");
    net::add_rules(TABLE).expect("rules");
    let mut c = Control::open(TABLE).expect("control");

    let only = std::env::var("RTPE_BENCH_CASES").unwrap_or_default();
    let gcm = |seed| srtp(cipher::AEAD_AES_GCM_128, hmac::NULL, 16, 12, 0, seed);
    let cases: [(&str, Srtp, Srtp); 5] = [
        ("plain RTP", Srtp::plain(), Srtp::plain()),
        (
            "SRTP AES-CM-128/HMAC-SHA1-80 -> RTP",
            srtp(cipher::AES_CM_128, hmac::HMAC_SHA1, 16, 14, 10, 1),
            Srtp::plain(),
        ),
        (
            "SRTP AES-CM-128/HMAC-SHA1-80 -> SRTP AES-CM-128/HMAC-SHA1-80",
            srtp(cipher::AES_CM_128, hmac::HMAC_SHA1, 16, 14, 10, 1),
            srtp(cipher::AES_CM_128, hmac::HMAC_SHA1, 16, 14, 10, 2),
        ),
        ("SRTP AEAD-AES-128-GCM -> RTP", gcm(1), Srtp::plain()),
        (
            "SRTP AEAD-AES-128-GCM -> SRTP AEAD-AES-128-GCM",
            gcm(1),
            gcm(2),
        ),
    ];
    for (i, (label, input, output)) in cases.iter().enumerate() {
        if !label.replace(' ', "_").contains(only.as_str()) {
            continue;
        }
        let port = 45000 + 10 * i as u16;
        let mut t = TargetInfo::zeroed();
        t.local = Address::v4(PA4, port);
        t.num_destinations = 1;
        t.decrypt = *input;
        t.flags = target_flags::RTP;
        t.payload_types[0] = PayloadType {
            pt: 0,
            clock_rate: 8000,
            ..Default::default()
        };
        t.num_payload_types = 1;
        c.add_target(&t).expect("ADD_TARGET");
        let mut d = DestinationInfo::zeroed();
        d.local = t.local;
        d.output.src_addr = Address::v4(PB4, port);
        d.output.dst_addr = Address::v4(B4, port);
        d.output.encrypt = *output;
        c.add_destination(&d).expect("ADD_DESTINATION");
        // Prepare the datagrams up front so the sender does no crypto while measuring.
        let packets: Vec<Vec<u8>> = if input.cipher == cipher::NULL {
            (0..n).map(|s| rtp(s as u16)).collect()
        } else {
            let ctx = SrtpContext::new(&RustCrypto, input).unwrap();
            let mut st = IndexState::new(&[0; 4]);
            (0..n)
                .map(|s| {
                    let p = rtp(s as u16);
                    let mut buf = p.clone();
                    buf.resize(p.len() + ctx.overhead(), 0);
                    let r = ctx.encrypt_rtp(&mut st, 0, &mut buf, p.len()).unwrap();
                    buf.truncate(r.len);
                    buf
                })
                .collect()
        };
        measure(label, port, &packets, port, i);
        c.del_target(&t.local).expect("DEL_TARGET");
    }
    drop(c);
    let _ = net::del_rules(TABLE);
    main_control("del 2\n").expect("del table");
    let (ok, out) = sh("rmmod xt_RTPENGINE");
    assert!(ok, "rmmod: {out}");
}
