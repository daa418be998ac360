//! Benchmark (not a test): rtpengined vs Debian's rtpengine 10.5 in the same run.
//!
//! Prints ng offer+answer+delete per second and userspace relay packets per second
//! for both daemons, and our/their ratio. Run:
//!   cargo run --release -p rtpengined --example bench [-- SECONDS]
//! Needs Debian's `rtpengine-daemon` (/usr/bin/rtpengine); it runs with --table=-1
//! (userspace, immediate endpoint learning), ng on 127.0.0.1:22300, media ports
//! 31000-31999.

use std::net::{SocketAddr, UdpSocket};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rtpengined::ng::bencode::{decode, Owned};

struct Proc(Child);
impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

struct Ng {
    sock: UdpSocket,
    to: SocketAddr,
    n: u64,
}

impl Ng {
    fn new(to: SocketAddr) -> Ng {
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        sock.set_read_timeout(Some(Duration::from_millis(1000)))
            .unwrap();
        Ng { sock, to, n: 0 }
    }

    fn req(&mut self, msg: &Owned) -> Option<Owned> {
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

fn sdp(port: u16) -> String {
    format!("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio {port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n")
}

fn cmd(command: &str, call: &str) -> Owned {
    Owned::dict()
        .with("command", command)
        .with("call-id", call)
        .with("from-tag", "a")
}

fn port_of(reply: &Owned) -> Option<u16> {
    let Some(Owned::Bytes(b)) = reply.get("sdp") else {
        return None;
    };
    let text = String::from_utf8_lossy(b);
    text.lines()
        .find_map(|l| l.strip_prefix("m=audio "))?
        .split(' ')
        .next()?
        .parse()
        .ok()
}

fn wait_ready(ng: &mut Ng) -> bool {
    let end = Instant::now() + Duration::from_secs(10);
    while Instant::now() < end {
        if ng.req(&Owned::dict().with("command", "ping")).is_some() {
            return true;
        }
    }
    false
}

/// offer+answer+delete cycles per second.
fn ng_rate(ng: &mut Ng, secs: f64, tag: &str) -> f64 {
    let start = Instant::now();
    let mut done = 0u64;
    while start.elapsed().as_secs_f64() < secs {
        let id = format!("{tag}-{done}");
        let ok = ng.req(&cmd("offer", &id).with("sdp", sdp(6000))).is_some()
            && ng
                .req(
                    &cmd("answer", &id)
                        .with("to-tag", "b")
                        .with("sdp", sdp(6002)),
                )
                .is_some()
            && ng.req(&cmd("delete", &id)).is_some();
        if ok {
            done += 1;
        }
    }
    done as f64 / start.elapsed().as_secs_f64()
}

/// Calls carrying media at once in the relay benchmark. Spreading the load keeps each
/// stream at a realistic rate (rtpengine discards floods on a single stream).
const RELAY_CALLS: usize = 200;

/// Packets per second relayed alice -> bob, round-robin over `RELAY_CALLS` calls.
fn relay_rate(ng: &mut Ng, secs: f64, tag: &str) -> (f64, f64) {
    let alice = UdpSocket::bind("127.0.0.1:0").unwrap();
    let bob = UdpSocket::bind("127.0.0.1:0").unwrap();
    bob.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let mut targets = Vec::new();
    for i in 0..RELAY_CALLS {
        let id = format!("{tag}-relay-{i}");
        let a_sdp = sdp(alice.local_addr().unwrap().port());
        ng.req(&cmd("offer", &id).with("sdp", a_sdp))
            .expect("offer");
        let b_sdp = sdp(bob.local_addr().unwrap().port());
        let a = ng
            .req(&cmd("answer", &id).with("to-tag", "b").with("sdp", b_sdp))
            .expect("answer");
        let port = port_of(&a).expect("answer port");
        targets.push(SocketAddr::from(([127, 0, 0, 1], port)));
    }
    let received = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let counter = {
        let (received, stop) = (received.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut buf = [0u8; 2048];
            while !stop.load(Ordering::Relaxed) {
                if bob.recv_from(&mut buf).is_ok() {
                    received.fetch_add(1, Ordering::Relaxed);
                }
            }
        })
    };
    let mut packet = vec![0x80u8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    packet.extend_from_slice(&[0xd5; 160]);
    let start = Instant::now();
    let mut sent = 0u64;
    let mut round = 0u32;
    while start.elapsed().as_secs_f64() < secs {
        // One packet per call per round, with realistic sequence numbers/timestamps.
        round = round.wrapping_add(1);
        packet[2..4].copy_from_slice(&(round as u16).to_be_bytes());
        packet[4..8].copy_from_slice(&round.wrapping_mul(160).to_be_bytes());
        for t in &targets {
            if alice.send_to(&packet, t).is_ok() {
                sent += 1;
            }
        }
        std::thread::sleep(Duration::from_micros(1000));
    }
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, Ordering::Relaxed);
    counter.join().unwrap();
    for i in 0..RELAY_CALLS {
        let _ = ng.req(&cmd("delete", &format!("{tag}-relay-{i}")));
    }
    (
        received.load(Ordering::Relaxed) as f64 / secs,
        sent as f64 / secs,
    )
}

fn main() {
    let secs: f64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(3.0);
    let ours_bin = std::env::var("RTPENGINED")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| {
            // target/<profile>/examples/bench -> target/<profile>/rtpengined
            std::env::current_exe()
                .unwrap()
                .parent()
                .unwrap()
                .parent()
                .unwrap()
                .join("rtpengined")
        });
    let ours_ng: SocketAddr = "127.0.0.1:32990".parse().unwrap();
    let theirs_ng: SocketAddr = "127.0.0.1:22300".parse().unwrap();
    let common = |ng: SocketAddr, min: u16, max: u16| {
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
        ]
    };
    let _ours = Proc(
        Command::new(&ours_bin)
            .args(common(ours_ng, 32000, 32899))
            .arg("--table=-1")
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", ours_bin.display())),
    );
    let theirs = Command::new("/usr/bin/rtpengine")
        .args(common(theirs_ng, 31000, 31999))
        .arg("--table=-1")
        // Its default ("delayed") holds media back for the first seconds; we latch at
        // once, so compare like with like.
        .arg("--endpoint-learning=immediate")
        .stderr(Stdio::null())
        .spawn()
        .ok()
        .map(Proc);
    let mut ng_ours = Ng::new(ours_ng);
    assert!(wait_ready(&mut ng_ours), "rtpengined did not start");
    let mut ng_theirs = Ng::new(theirs_ng);
    let have_theirs = theirs.is_some() && wait_ready(&mut ng_theirs);

    // Alternate the two daemons over several rounds and report medians: the machine
    // is shared, so single measurements are noisy.
    let rounds = 3;
    let (mut o_ng, mut o_relay, mut t_ng, mut t_relay) = (vec![], vec![], vec![], vec![]);
    for r in 0..rounds {
        o_ng.push(ng_rate(&mut ng_ours, secs, &format!("ours{r}")));
        o_relay.push(relay_rate(&mut ng_ours, secs, &format!("ours{r}")));
        if have_theirs {
            t_ng.push(ng_rate(&mut ng_theirs, secs, &format!("theirs{r}")));
            t_relay.push(relay_rate(&mut ng_theirs, secs, &format!("theirs{r}")));
        }
    }
    let (o_ng, (o_relay, o_sent)) = (median(o_ng), median_pair(o_relay));
    println!("median of {rounds} rounds of {secs} s, relay over {RELAY_CALLS} calls");
    println!("rtpengined:        ng offer+answer+delete/s {o_ng:10.0}   relay packets/s {o_relay:10.0} (offered {o_sent:.0}/s)");
    if have_theirs {
        let (t_ng, (t_relay, t_sent)) = (median(t_ng), median_pair(t_relay));
        println!("rtpengine 10.5:    ng offer+answer+delete/s {t_ng:10.0}   relay packets/s {t_relay:10.0} (offered {t_sent:.0}/s)");
        println!(
            "ratio (ours/theirs): ng {:.2}   relay {:.2}",
            o_ng / t_ng,
            o_relay / t_relay
        );
    } else {
        println!("Debian rtpengine not available (apt-get install rtpengine-daemon): no ratio");
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn median_pair(mut v: Vec<(f64, f64)>) -> (f64, f64) {
    v.sort_by(|a, b| a.0.total_cmp(&b.0));
    v[v.len() / 2]
}
