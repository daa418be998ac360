//! `--redis`: calls written in rtpengine 10.5's Redis layout after each
//! signalling event and taken back at start, by us and by Debian's
//! rtpengine 10.5 (`/usr/bin/rtpengine`) in both directions. Needs
//! `redis-server` (scripts/deps); skipped with a message without it.
//! Each test has its own ports: Redis on 25000-25029, 10.5's ng on
//! 25050-25053, media in 40000-40599.

mod common;
use common::*;
use rtpengined::ng::bencode::Owned;
use rtpengined::relay::srtp::{protect, unprotect, SrtpDirection};
use rtpengined::sdp::crypto::CryptoAttribute;
use rtpengined::srtp::Suite;
use std::net::{SocketAddr, UdpSocket};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const REDIS_SERVER: &str = "/usr/bin/redis-server";
const RTPENGINE: &str = "/usr/bin/rtpengine";

struct Redis {
    child: Child,
    port: u16,
    dir: std::path::PathBuf,
}

impl Redis {
    /// A fresh redis-server on the first port of `ports` it can have; `None`
    /// (after saying so) when redis-server is not installed.
    fn start(ports: std::ops::Range<u16>) -> Option<Redis> {
        Self::start_with(ports, &[])
    }

    /// [`Redis::start`] with further redis-server options.
    fn start_with(ports: std::ops::Range<u16>, extra: &[&str]) -> Option<Redis> {
        if !std::path::Path::new(REDIS_SERVER).exists() {
            eprintln!("skipped: {REDIS_SERVER} not installed (Debian package redis-server, scripts/install-deps)");
            return None;
        }
        for port in ports {
            let dir = std::env::temp_dir()
                .join(format!("rtpengined-redis-{}-{port}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            let mut child = Command::new(REDIS_SERVER)
                .args([
                    "--port",
                    &port.to_string(),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                ])
                .args(["--appendonly", "no", "--dir"])
                .arg(&dir)
                .args(extra)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start redis-server");
            let deadline = Instant::now() + Duration::from_secs(10);
            while child.try_wait().unwrap().is_none() {
                if cli(port, &["PING"]) == "PONG" {
                    return Some(Redis { child, port, dir });
                }
                assert!(
                    Instant::now() < deadline,
                    "redis-server on {port} never answered PING"
                );
            }
            // Exited: the port is taken; the next one.
        }
        panic!("no port for redis-server");
    }

    /// `redis-cli -p PORT ARGS...`'s output, trimmed.
    fn cli(&self, args: &[&str]) -> String {
        cli(self.port, args)
    }

    fn target(&self, db: u32) -> String {
        format!("127.0.0.1:{}/{db}", self.port)
    }

    /// Waits until `check` holds for `key`'s state in `db`.
    fn wait_for(&self, db: u32, what: &str, check: impl Fn(&Redis, &str) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(5);
        let dbs = db.to_string();
        while !check(self, &dbs) {
            assert!(Instant::now() < deadline, "redis: {what} never happened");
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// `redis-cli -p PORT ARGS...`'s output, trimmed.
fn cli(port: u16, args: &[&str]) -> String {
    let out = Command::new("redis-cli")
        .args(["-p", &port.to_string()])
        .args(args)
        .output()
        .expect("run redis-cli");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Debian's rtpengine 10.5 with `extra` options, ng on `ng`.
struct Reference {
    child: Child,
    ng: SocketAddr,
    client: UdpSocket,
    n: std::cell::Cell<u32>,
}

impl Reference {
    fn start(ng_port: u16, media: (u16, u16), extra: &[String]) -> Option<Reference> {
        if !std::path::Path::new(RTPENGINE).exists() {
            eprintln!("skipped: {RTPENGINE} not installed (Debian package rtpengine-daemon)");
            return None;
        }
        let ng: SocketAddr = format!("127.0.0.1:{ng_port}").parse().unwrap();
        let child = Command::new(RTPENGINE)
            .args([
                "--foreground",
                "--config-file=none",
                "--table=-1",
                "--log-stderr",
            ])
            .args(["--interface=127.0.0.1", "--delete-delay=0"])
            .arg(format!("--listen-ng={ng}"))
            .arg(format!("--port-min={}", media.0))
            .arg(format!("--port-max={}", media.1))
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .stdin(Stdio::null())
            .spawn()
            .expect("start rtpengine");
        let client = UdpSocket::bind("127.0.0.1:0").unwrap();
        client
            .set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        let mut r = Reference {
            child,
            ng,
            client,
            n: 0.into(),
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            assert!(
                r.child.try_wait().unwrap().is_none(),
                "rtpengine exited at start"
            );
            if r.try_request(&Owned::dict().with("command", "ping"))
                .is_some()
            {
                return Some(r);
            }
            assert!(Instant::now() < deadline, "rtpengine does not answer ping");
        }
    }

    fn try_request(&self, msg: &Owned) -> Option<Owned> {
        self.n.set(self.n.get() + 1);
        let cookie = format!("redis_{}_{}", std::process::id(), self.n.get());
        let mut dg = format!("{cookie} ").into_bytes();
        dg.extend_from_slice(&msg.encode());
        self.client.send_to(&dg, self.ng).unwrap();
        let mut buf = vec![0u8; 65536];
        let n = self.client.recv(&mut buf).ok()?;
        let body = buf[..n].strip_prefix(format!("{cookie} ").as_bytes())?;
        Some(
            rtpengined::ng::bencode::decode(body)
                .unwrap()
                .to_owned_value(),
        )
    }

    fn ok(&self, msg: &Owned) -> Owned {
        for _ in 0..25 {
            if let Some(r) = self.try_request(msg) {
                assert_eq!(r.get("result"), Some(&Owned::from("ok")), "{msg}: {r}");
                return r;
            }
        }
        panic!("rtpengine: no reply to {msg}");
    }

    fn kill_hard(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Reference {
    fn drop(&mut self) {
        self.kill_hard();
    }
}

/// Plain RTP sent from `from` to `to` until `at` gets some: what arrived.
fn relayed(from: &UdpSocket, to: SocketAddr, at: &UdpSocket, tag: u8) -> Option<Vec<u8>> {
    for seq in 0..10 {
        from.send_to(&rtp(seq, tag), to).unwrap();
        if let Some((got, _)) = recv(at) {
            return Some(got);
        }
    }
    None
}

fn ours(redis: &Redis, db: u32, media: (u16, u16)) -> Daemon {
    Daemon::start(
        media.0,
        media.1,
        &[
            &format!("--redis={}", redis.target(db)),
            "--redis-expires=600",
            "--table=-1",
        ],
    )
}

/// The phones A and B, and a call between them set up by `ng`.
fn call(ok: impl Fn(&Owned) -> Owned, id: &str) -> (UdpSocket, UdpSocket, SocketAddr, SocketAddr) {
    let (a, b) = (phone("127.0.0.1"), phone("127.0.0.1"));
    let (pa, pb) = (
        a.local_addr().unwrap().port(),
        b.local_addr().unwrap().port(),
    );
    let to_b = media_target(&ok(&offer(id, "ta", &sdp("127.0.0.1", pa))));
    let to_a = media_target(&ok(&answer(id, "ta", "tb", &sdp("127.0.0.1", pb))));
    (a, b, to_a, to_b)
}

#[test]
fn calls_are_written_expire_and_go_with_their_call() {
    let Some(redis) = Redis::start(25000..25005) else {
        return;
    };
    let d = ours(&redis, 1, (40000, 40099));
    let id = "redis-written";
    call(|m| d.ok(m), id);
    redis.wait_for(1, "the key written", |r, db| {
        r.cli(&["-n", db, "EXISTS", id]) == "1"
    });
    let doc = redis.cli(&["-n", "1", "--raw", "GET", id]);
    let v: serde_json::Value = serde_json::from_str(&doc).expect("JSON document");
    assert_eq!(v["json"]["num_tags"], "2");
    assert_eq!(v["tag-0"]["tag"], "ta");
    assert_eq!(v["json"]["redis_hosted_db"], "1");
    let ttl: u64 = redis.cli(&["-n", "1", "TTL", id]).parse().unwrap();
    assert!((1..=600).contains(&ttl), "TTL {ttl}");
    d.ok(&delete(id, "ta"));
    redis.wait_for(1, "the key deleted", |r, db| {
        r.cli(&["-n", db, "EXISTS", id]) == "0"
    });
}

#[test]
fn our_calls_come_back_from_redis_after_a_crash() {
    let Some(redis) = Redis::start(25005..25010) else {
        return;
    };
    let media = (40100, 40199);
    let mut d = ours(&redis, 2, media);
    let id = "redis-ours";
    let (a, b, to_a, to_b) = call(|m| d.ok(m), id);
    assert!(relayed(&a, to_a, &b, 1).is_some(), "relays before");
    redis.wait_for(2, "the answer written", |r, db| {
        r.cli(&["-n", db, "--raw", "GET", id]).contains("\"tag-1\"")
    });
    d.kill_hard();
    let d = ours(&redis, 2, media);
    let q = d.ok(&query(id));
    assert!(q.get("tags").and_then(|t| t.get("tb")).is_some(), "{q}");
    assert_eq!(
        relayed(&a, to_a, &b, 2).map(|p| p[12]),
        Some(2),
        "A to B on the same ports"
    );
    assert_eq!(
        relayed(&b, to_b, &a, 3).map(|p| p[12]),
        Some(3),
        "B to A on the same ports"
    );
}

#[test]
fn calls_of_rtpengine_10_5_are_taken_over() {
    let Some(redis) = Redis::start(25010..25015) else {
        return;
    };
    let media = (40200, 40299);
    let db = 3;
    let target = format!("--redis={}", redis.target(db));
    let Some(mut r) = Reference::start(25050, media, &[target]) else {
        return;
    };
    let id = "redis-from-10.5";
    let (a, b, to_a, to_b) = call(|m| r.ok(m), id);
    assert!(relayed(&a, to_a, &b, 1).is_some(), "10.5 relays");
    redis.wait_for(db, "10.5's document", |r, db| {
        r.cli(&["-n", db, "--raw", "GET", id]).contains("\"tag-1\"")
    });
    r.kill_hard();
    let d = ours(&redis, db, media);
    let q = d.ok(&query(id));
    assert!(q.get("tags").and_then(|t| t.get("ta")).is_some(), "{q}");
    assert_eq!(
        relayed(&a, to_a, &b, 2).map(|p| p[12]),
        Some(2),
        "A to B on 10.5's ports"
    );
    assert_eq!(
        relayed(&b, to_b, &a, 3).map(|p| p[12]),
        Some(3),
        "B to A on 10.5's ports"
    );
    // A re-INVITE keeps the ports; the delete takes the key away.
    let pa = a.local_addr().unwrap().port();
    let pb = b.local_addr().unwrap().port();
    let again = d.ok(&offer(id, "ta", &sdp("127.0.0.1", pa)));
    assert_eq!(media_target(&again), to_b, "re-offer on 10.5's port");
    let again = d.ok(&answer(id, "ta", "tb", &sdp("127.0.0.1", pb)));
    assert_eq!(media_target(&again), to_a, "re-answer on 10.5's port");
    assert_eq!(relayed(&a, to_a, &b, 4).map(|p| p[12]), Some(4));
    d.ok(&delete(id, "ta"));
    redis.wait_for(db, "the key deleted", |r, db| {
        r.cli(&["-n", db, "EXISTS", id]) == "0"
    });
}

#[test]
fn rtpengine_10_5_takes_over_our_calls() {
    let Some(redis) = Redis::start(25015..25020) else {
        return;
    };
    let media = (40300, 40399);
    let db = 4;
    let mut d = ours(&redis, db, media);
    let id = "redis-to-10.5";
    let (a, b, to_a, to_b) = call(|m| d.ok(m), id);
    redis.wait_for(db, "the answer written", |r, db| {
        r.cli(&["-n", db, "--raw", "GET", id]).contains("\"tag-1\"")
    });
    d.kill_hard();
    let target = format!("--redis={}", redis.target(db));
    let Some(r) = Reference::start(25051, media, &[target]) else {
        return;
    };
    let q = r.ok(&query(id));
    let tags = q.get("tags").expect("tags");
    assert!(tags.get("ta").is_some() && tags.get("tb").is_some(), "{q}");
    assert_eq!(
        relayed(&a, to_a, &b, 2).map(|p| p[12]),
        Some(2),
        "A to B on our ports"
    );
    assert_eq!(
        relayed(&b, to_b, &a, 3).map(|p| p[12]),
        Some(3),
        "B to A on our ports"
    );
}

const A_KEY: &str = "1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz";

type Srtp = std::cell::RefCell<SrtpDirection>;

/// An SDES call: A speaks SRTP with `A_KEY`, B plain RTP. Returns the
/// phones, where A and B send to, and A's SRTP contexts (send, receive).
struct SdesCall {
    alice: UdpSocket,
    bob: UdpSocket,
    to_bob: SocketAddr,
    to_alice: SocketAddr,
    a_send: Srtp,
    a_recv: Srtp,
    /// Encrypts as the daemon must toward A (same key, same packets): the
    /// exact bytes A must get, so an index taken from a guess shows.
    a_expect: Srtp,
}

fn direction(line: &str) -> Srtp {
    let c = CryptoAttribute::parse(line).unwrap();
    SrtpDirection::new(&Suite::by_name(&c.suite).unwrap().srtp_params(&c))
        .unwrap()
        .into()
}

fn sdes_call(ok: impl Fn(&Owned) -> Owned, id: &str) -> SdesCall {
    let (alice, bob) = (phone("127.0.0.1"), phone("127.0.0.1"));
    let pa = alice.local_addr().unwrap().port();
    let pb = bob.local_addr().unwrap().port();
    let savp = format!(
        "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio {pa} RTP/SAVP 0\r\na=rtpmap:0 PCMU/8000\r\na=crypto:{A_KEY}\r\n"
    );
    let off = ok(&offer(id, "ta", &savp).with("transport-protocol", "RTP/AVP"));
    let ans = ok(&answer(id, "ta", "tb", &sdp("127.0.0.1", pb)));
    let ours = text(ans.get("sdp"))
        .lines()
        .find_map(|l| l.strip_prefix("a=crypto:").map(str::to_owned))
        .expect("A gets a key");
    SdesCall {
        alice,
        bob,
        to_bob: media_target(&ans),
        to_alice: media_target(&off),
        a_send: direction(A_KEY),
        a_recv: direction(&ours),
        a_expect: direction(&ours),
    }
}

impl SdesCall {
    /// A→B: SRTP under A's key arrives at B decrypted; B→A: plain RTP
    /// arrives at A encrypted under the key A was answered with.
    fn check(&self, seq: u16, phase: &str) {
        let mut got = None;
        for s in seq..seq + 10 {
            let p = rtp(s, s as u8);
            let wire = protect(&mut self.a_send.borrow_mut(), &p).unwrap();
            self.alice.send_to(&wire, self.to_bob).unwrap();
            if let Some((g, _)) = recv(&self.bob) {
                got = Some((p, g));
                break;
            }
        }
        let (p, g) = got.unwrap_or_else(|| panic!("{phase}: nothing relayed A→B"));
        assert_eq!(g, p, "{phase}: B gets A's packet decrypted");
        let plain = rtp(seq, seq as u8);
        protect(&mut self.a_expect.borrow_mut(), &plain).unwrap();
        self.bob.send_to(&plain, self.to_alice).unwrap();
        let (g, _) = recv(&self.alice).unwrap_or_else(|| panic!("{phase}: nothing relayed B→A"));
        assert_eq!(
            unprotect(&mut self.a_recv.borrow_mut(), &g).as_deref(),
            Some(&plain[..]),
            "{phase}: A decrypts B's packet"
        );
    }
}

impl SdesCall {
    /// One packet each way with sequence number `seq`, each arriving
    /// (decrypted at B, decryptable at A) before the next is sent.
    fn pass(&self, seq: u16, phase: &str) {
        let p = rtp(seq, seq as u8);
        let wire = protect(&mut self.a_send.borrow_mut(), &p).unwrap();
        self.alice.send_to(&wire, self.to_bob).unwrap();
        let (g, _) = recv(&self.bob).unwrap_or_else(|| panic!("{phase}: A→B seq {seq} lost"));
        assert_eq!(g, p, "{phase}: B gets A's packet {seq} decrypted");
        let expect = protect(&mut self.a_expect.borrow_mut(), &p).unwrap();
        self.bob.send_to(&p, self.to_alice).unwrap();
        let (g, _) = recv(&self.alice).unwrap_or_else(|| panic!("{phase}: B→A seq {seq} lost"));
        assert!(
            g == expect,
            "{phase}: B's packet {seq} encrypted with the right index"
        );
        assert_eq!(
            unprotect(&mut self.a_recv.borrow_mut(), &g).as_deref(),
            Some(&p[..]),
            "{phase}: A decrypts B's packet {seq}"
        );
    }

    /// Packets both ways from sequence number 65500 through two wraps, in
    /// steps an index estimate follows (the ROC becomes 2: beyond what a
    /// receiver's ROC±1 guesses after a restart find), then a re-offer with
    /// the same SDP so the daemon writes the call with its SSRC table.
    fn wrap_and_resignal(&self, ok: impl Fn(&Owned) -> Owned, id: &str) {
        self.check(65500, "before the wrap");
        let steps = [4000, 20000, 36000, 52000, 65000];
        for seq in steps.into_iter().chain(3000..3010) {
            self.pass(seq, "across the wraps");
        }
        let pa = self.alice.local_addr().unwrap().port();
        let savp = format!(
            "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio {pa} RTP/SAVP 0\r\na=rtpmap:0 PCMU/8000\r\na=crypto:{A_KEY}\r\n"
        );
        ok(&offer(id, "ta", &savp).with("transport-protocol", "RTP/AVP"));
    }
}

/// Whether `doc`'s SSRC table of party `tag` has SSRC 42 past two wraps
/// (ROC 2) in both directions.
fn past_the_wrap(doc: &str, tag: usize) -> bool {
    let Ok(v) = serde_json::from_str::<serde_json::Value>(doc) else {
        return false;
    };
    let rows = v[format!("ssrc_table-{tag}")]
        .as_array()
        .cloned()
        .unwrap_or_default();
    rows.iter().any(|r| {
        let n = |k: &str| {
            r[k].as_str()
                .and_then(|t| t.parse::<u64>().ok())
                .unwrap_or(0)
        };
        r["ssrc"] == "42" && n("in_srtp_index") >> 16 == 2 && n("out_srtp_index") >> 16 == 2
    })
}

#[test]
fn sdes_calls_of_rtpengine_10_5_keep_their_keys_with_us() {
    let Some(redis) = Redis::start(25020..25025) else {
        return;
    };
    let media = (40400, 40499);
    let db = 5;
    let target = format!("--redis={}", redis.target(db));
    let Some(mut r) = Reference::start(25052, media, &[target]) else {
        return;
    };
    let id = "redis-sdes-from-10.5";
    let c = sdes_call(|m| r.ok(m), id);
    c.check(100, "with 10.5");
    redis.wait_for(db, "10.5's document", |r, db| {
        r.cli(&["-n", db, "--raw", "GET", id]).contains("sdes_out")
    });
    r.kill_hard();
    let _d = ours(&redis, db, media);
    c.check(200, "with us");
}

#[test]
fn rtpengine_10_5_keeps_the_keys_of_our_sdes_calls() {
    let Some(redis) = Redis::start(25025..25030) else {
        return;
    };
    let media = (40500, 40599);
    let db = 6;
    let mut d = ours(&redis, db, media);
    let id = "redis-sdes-to-10.5";
    let c = sdes_call(|m| d.ok(m), id);
    c.check(100, "with us");
    redis.wait_for(db, "the answer written", |r, db| {
        r.cli(&["-n", db, "--raw", "GET", id]).contains("\"tag-1\"")
    });
    d.kill_hard();
    let target = format!("--redis={}", redis.target(db));
    let Some(_r) = Reference::start(25053, media, &[target]) else {
        return;
    };
    c.check(200, "with 10.5");
}

/// Without Redis the daemon refuses to start, as 10.5 does, unless
/// `--no-redis-required` says to go on without it.
#[test]
fn redis_is_required_unless_told_otherwise() {
    // Nothing listens on 25040 (the range of this file's tests keeps it free).
    let unreachable = "--redis=127.0.0.1:25040/1";
    let out = Command::new(env!("CARGO_BIN_EXE_rtpengined"))
        .args([
            "--config-file=none",
            "--foreground",
            "--log-stderr",
            "--table=-1",
        ])
        .args(["--interface=127.0.0.1", "--listen-ng=127.0.0.1:0"])
        .args(["--port-min=40600", "--port-max=40699", unreachable])
        .stdin(Stdio::null())
        .output()
        .expect("run rtpengined");
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(log.contains("--no-redis-required"), "{log}");

    let d = Daemon::start(40600, 40699, &[unreachable, "-q", "--table=-1"]);
    let id = "redis-down";
    let (a, b, to_a, _) = call(|m| d.ok(m), id);
    assert!(
        relayed(&a, to_a, &b, 1).is_some(),
        "calls work without Redis"
    );
}

/// With `--state-dir` as well, a call comes back from the directory and its
/// Redis key is left alone (not taken for a call that cannot be restored).
#[test]
fn state_dir_and_redis_together_keep_the_key() {
    let Some(redis) = Redis::start(25030..25035) else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("rtpengined-redis-state-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let opts = [
        format!("--redis={}", redis.target(7)),
        format!("--state-dir={}", dir.display()),
        "--table=-1".to_string(),
    ];
    let opts: Vec<&str> = opts.iter().map(String::as_str).collect();
    let mut d = Daemon::start(40700, 40799, &opts);
    let id = "redis-and-state";
    let (a, b, to_a, _) = call(|m| d.ok(m), id);
    redis.wait_for(7, "the answer written", |r, db| {
        r.cli(&["-n", db, "--raw", "GET", id]).contains("\"tag-1\"")
    });
    d.kill_hard();
    let d = Daemon::start(40700, 40799, &opts);
    assert_eq!(relayed(&a, to_a, &b, 2).map(|p| p[12]), Some(2));
    assert_eq!(redis.cli(&["-n", "7", "EXISTS", id]), "1", "key kept");
    d.ok(&delete(id, "ta"));
    redis.wait_for(7, "the key deleted", |r, db| {
        r.cli(&["-n", db, "EXISTS", id]) == "0"
    });
    let _ = std::fs::remove_dir_all(&dir);
}

/// An SDES call that went twice past 65535 (ROC 2) comes back after a
/// crash with its SRTP indices: what A sends still decrypts and what A
/// receives is still encrypted with the index A expects.
#[test]
fn sdes_calls_keep_their_rollover_counter_after_a_crash() {
    let Some(redis) = Redis::start(25300..25305) else {
        return;
    };
    let media = (43000, 43099);
    let db = 8;
    let mut d = ours(&redis, db, media);
    let id = "redis-roc-ours";
    let c = sdes_call(|m| d.ok(m), id);
    c.wrap_and_resignal(|m| d.ok(m), id);
    redis.wait_for(db, "the SSRC table past the wrap", |r, db| {
        past_the_wrap(&r.cli(&["-n", db, "--raw", "GET", id]), 0)
    });
    d.kill_hard();
    let _d = ours(&redis, db, media);
    for seq in 3010..3020 {
        c.pass(seq, "after the restore");
    }
}

/// The same for a call of 10.5's: its SSRC table (written at the
/// re-answer) gives us the ROC.
#[test]
fn sdes_calls_of_rtpengine_10_5_keep_their_rollover_counter_with_us() {
    let Some(redis) = Redis::start(25305..25310) else {
        return;
    };
    let media = (43100, 43199);
    let db = 9;
    let target = format!("--redis={}", redis.target(db));
    let Some(mut r) = Reference::start(25310, media, &[target]) else {
        return;
    };
    let id = "redis-roc-from-10.5";
    let c = sdes_call(|m| r.ok(m), id);
    c.wrap_and_resignal(|m| r.ok(m), id);
    redis.wait_for(db, "10.5's SSRC table past the wrap", |r, db| {
        past_the_wrap(&r.cli(&["-n", db, "--raw", "GET", id]), 0)
    });
    r.kill_hard();
    let _d = ours(&redis, db, media);
    for seq in 3010..3020 {
        c.pass(seq, "after the restore");
    }
}

/// Waits until the daemon's log has `text`.
fn wait_log(d: &Daemon, text: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !d.log_text().contains(text) {
        assert!(
            Instant::now() < deadline,
            "log never said {text:?}:\n{}",
            d.log_text()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Redis gone mid-call with `--redis-allowed-errors=0`: the first failed
/// write leaves Redis alone for `--redis-disable-time`, even once it is
/// back; the first write after that time reaches it again.
#[test]
fn failed_writes_leave_redis_alone_for_the_disable_time() {
    let Some(redis) = Redis::start(25320..25325) else {
        return;
    };
    let port = redis.port;
    let target = format!("--redis={}", redis.target(1));
    let d = Daemon::start(
        43200,
        43299,
        &[
            &target,
            "--redis-allowed-errors=0",
            "--redis-disable-time=3",
            "--table=-1",
        ],
    );
    let id = "redis-fault";
    let (a, _b, _, _) = call(|m| d.ok(m), id);
    redis.wait_for(1, "the call written", |r, db| {
        r.cli(&["-n", db, "EXISTS", id]) == "1"
    });
    drop(redis);
    let pa = a.local_addr().unwrap().port();
    let reoffer = offer(id, "ta", &sdp("127.0.0.1", pa));
    d.ok(&reoffer);
    wait_log(&d, "redis: disabled after 1 errors in a row");
    let disabled = Instant::now();
    // Back, empty: nothing is written to it during the disable time.
    let redis = Redis::start(port..port + 1).expect("redis-server again");
    d.ok(&reoffer);
    wait_log(&d, "redis: disabled; call state not written");
    assert_eq!(redis.cli(&["-n", "1", "EXISTS", id]), "0", "left alone");
    let deadline = Instant::now() + Duration::from_secs(15);
    while redis.cli(&["-n", "1", "EXISTS", id]) != "1" {
        assert!(Instant::now() < deadline, "never written again");
        d.ok(&reoffer);
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        disabled.elapsed() >= Duration::from_secs(2),
        "written again after {:?}",
        disabled.elapsed()
    );
    wait_log(&d, "redis: trying again after the disable time");
}

/// A read-only replica as `--redis` (which calls are written to): refused
/// at start, as 10.5 does, and never written with `-q`. With
/// `--redis-write` elsewhere it may be read from.
#[test]
fn a_replica_is_not_written_to() {
    let Some(master) = Redis::start(25325..25330) else {
        return;
    };
    let of = master.port.to_string();
    let replica =
        Redis::start_with(25330..25335, &["--replicaof", "127.0.0.1", &of]).expect("a replica");
    let on_replica = format!("--redis={}", replica.target(1));
    let out = Command::new(env!("CARGO_BIN_EXE_rtpengined"))
        .args(["--config-file=none", "--foreground", "--log-stderr"])
        .args([
            "--table=-1",
            "--interface=127.0.0.1",
            "--listen-ng=127.0.0.1:0",
        ])
        .args(["--port-min=43300", "--port-max=43349", &on_replica])
        .stdin(Stdio::null())
        .output()
        .expect("run rtpengined");
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(log.contains("is a replica"), "{log}");

    let d = Daemon::start(43350, 43399, &[&on_replica, "-q", "--table=-1"]);
    let id = "redis-replica";
    call(|m| d.ok(m), id);
    wait_log(&d, "is a replica (read-only), not a master");
    assert_eq!(master.cli(&["-n", "1", "EXISTS", id]), "0");
    assert_eq!(replica.cli(&["-n", "1", "EXISTS", id]), "0");
    drop(d);

    // Written to the master, restored from its replica.
    let to_master = format!("--redis-write={}", master.target(1));
    let mut d = Daemon::start(43350, 43399, &[&on_replica, &to_master, "--table=-1"]);
    let id = "redis-via-replica";
    let (a, b, to_a, _) = call(|m| d.ok(m), id);
    replica.wait_for(1, "the call replicated", |r, db| {
        r.cli(&["-n", db, "--raw", "GET", id]).contains("\"tag-1\"")
    });
    d.kill_hard();
    let _d = Daemon::start(43350, 43399, &[&on_replica, &to_master, "--table=-1"]);
    assert_eq!(relayed(&a, to_a, &b, 2).map(|p| p[12]), Some(2));
}

/// Documents that are not calls of ours or 10.5's (not JSON, missing
/// parts, another type of key) are skipped with a warning at start; the
/// other calls come back.
#[test]
fn unreadable_documents_are_skipped_at_restore() {
    let Some(redis) = Redis::start(25335..25340) else {
        return;
    };
    let media = (43400, 43499);
    let mut d = ours(&redis, 2, media);
    let id = "redis-good";
    let (a, b, to_a, _) = call(|m| d.ok(m), id);
    redis.wait_for(2, "the answer written", |r, db| {
        r.cli(&["-n", db, "--raw", "GET", id]).contains("\"tag-1\"")
    });
    d.kill_hard();
    let good = redis.cli(&["-n", "2", "--raw", "GET", id]);
    // The good document cut short, and with a media of no tag.
    let cut = &good[..good.len() / 2];
    let orphan = good.replace("\"medias-1\":[\"1\"]", "\"medias-1\":[]");
    assert_ne!(orphan, good);
    for (key, doc) in [
        ("bad-text", "not a call"),
        ("bad-empty", "{}"),
        ("bad-head", "{\"json\":{\"created\":\"x\"}}"),
        ("bad-cut", cut),
        ("bad-orphan", orphan.as_str()),
    ] {
        redis.cli(&["-n", "2", "SET", key, doc]);
    }
    redis.cli(&["-n", "2", "HSET", "old-layout", "a", "b"]);
    let d = ours(&redis, 2, media);
    assert_eq!(relayed(&a, to_a, &b, 2).map(|p| p[12]), Some(2));
    for key in ["bad-text", "bad-empty", "bad-head", "bad-cut", "bad-orphan"] {
        assert_eq!(redis.cli(&["-n", "2", "EXISTS", key]), "0", "{key} deleted");
    }
    let log = d.log_text();
    assert!(log.contains("old-layout"), "{log}");
    assert!(!log.contains("panicked"), "{log}");
}

/// A call 10.5 wrote between offer and answer, SDES toward B only (the
/// keys it offered B, none back yet): we take the answer with B's key and
/// relay with both, the one 10.5 offered B included.
#[test]
fn one_sided_sdes_offer_of_rtpengine_10_5_is_answered_by_us() {
    let Some(redis) = Redis::start(25340..25345) else {
        return;
    };
    let media = (43500, 43599);
    let db = 3;
    let target = format!("--redis={}", redis.target(db));
    let Some(mut r) = Reference::start(25345, media, &[target]) else {
        return;
    };
    let id = "redis-one-sided";
    let (alice, bob) = (phone("127.0.0.1"), phone("127.0.0.1"));
    let pa = alice.local_addr().unwrap().port();
    let pb = bob.local_addr().unwrap().port();
    let off = r.ok(&offer(id, "ta", &sdp("127.0.0.1", pa)).with("transport-protocol", "RTP/SAVP"));
    // B takes the AES_CM_128_HMAC_SHA1_80 line 10.5 offers.
    let to_b_key = text(off.get("sdp"))
        .lines()
        .filter_map(|l| l.strip_prefix("a=crypto:"))
        .find(|l| l.split(' ').nth(1) == Some("AES_CM_128_HMAC_SHA1_80"))
        .expect("10.5 offers B AES_CM_128_HMAC_SHA1_80")
        .to_owned();
    let tag = to_b_key.split(' ').next().unwrap().to_owned();
    let b_key = A_KEY.replacen("1 ", &format!("{tag} "), 1);
    // Where B sends (to reach A), from the offer; where A sends, from the answer.
    let to_alice = media_target(&off);
    redis.wait_for(db, "10.5's offer", |r, db| {
        r.cli(&["-n", db, "--raw", "GET", id]).contains("sdes_out")
    });
    r.kill_hard();
    let d = ours(&redis, db, media);
    let savp = format!(
        "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio {pb} RTP/SAVP 0\r\na=rtpmap:0 PCMU/8000\r\na=crypto:{b_key}\r\n"
    );
    let ans = d.ok(&answer(id, "ta", "tb", &savp).with("transport-protocol", "RTP/AVP"));
    let to_bob = media_target(&ans);
    assert!(!text(ans.get("sdp")).contains("a=crypto"), "A is plain");
    // B→A: SRTP under B's key arrives plain.
    let b_send = direction(&b_key);
    let mut got = None;
    for seq in 1..10 {
        let p = rtp(seq, 7);
        let wire = protect(&mut b_send.borrow_mut(), &p).unwrap();
        bob.send_to(&wire, to_alice).unwrap();
        if let Some((g, _)) = recv(&alice) {
            got = Some((g, p));
            break;
        }
    }
    let (g, p) = got.expect("B→A relayed");
    assert_eq!(g, p, "A gets B's packet decrypted");
    // A→B: plain RTP arrives encrypted under the key 10.5 offered B.
    let b_recv = direction(&to_b_key);
    let p = rtp(100, 8);
    alice.send_to(&p, to_bob).unwrap();
    let (g, _) = recv(&bob).expect("A→B relayed");
    assert_eq!(
        unprotect(&mut b_recv.borrow_mut(), &g).as_deref(),
        Some(&p[..]),
        "B decrypts A's packet with 10.5's key"
    );
}

/// What the CLI on `port` answers `line`.
fn ask_cli(port: u16, line: &str) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(format!("{line}\n").as_bytes()).unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

/// The error limits show in the CLI as configured, and `set
/// redisallowederrors` changes them for the writer at once.
#[test]
fn the_cli_sets_the_error_limits_of_the_writer() {
    let Some(redis) = Redis::start(25350..25355) else {
        return;
    };
    let target = format!("--redis={}", redis.target(1));
    let cli = 25355;
    let d = Daemon::start(
        43600,
        43699,
        &[
            &target,
            "--redis-allowed-errors=5",
            "--redis-disable-time=7",
            &format!("--listen-cli=127.0.0.1:{cli}"),
            "--table=-1",
        ],
    );
    assert_eq!(ask_cli(cli, "list redisallowederrors").trim(), "5");
    assert_eq!(ask_cli(cli, "list redisdisabletime").trim(), "7");
    ask_cli(cli, "set redisallowederrors 0");
    let id = "redis-cli-limits";
    let (a, _b, _, _) = call(|m| d.ok(m), id);
    redis.wait_for(1, "the call written", |r, db| {
        r.cli(&["-n", db, "EXISTS", id]) == "1"
    });
    drop(redis);
    let pa = a.local_addr().unwrap().port();
    d.ok(&offer(id, "ta", &sdp("127.0.0.1", pa)));
    // One failure is enough now (five were allowed at start).
    wait_log(&d, "redis: disabled after 1 errors in a row");
}
