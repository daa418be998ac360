//! Active/standby over Redis keyspace notifications (`--subscribe-keyspace`),
//! with Debian's rtpengine 10.5 (`/usr/bin/rtpengine`) or another of ours as
//! the active node: the standby keeps the active node's calls as foreign
//! calls without taking their packets, drops them with their key, and
//! relays them once taken over (`active`, `--active-switchover`). Needs
//! `redis-server` (scripts/deps); skipped with a message without it. Redis
//! on 25200-25214, 10.5's ng on 25250-25252, CLIs on 25260-25264, media in
//! 42000-42299.

mod common;
use common::*;
use rtpengined::ng::bencode::Owned;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
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
    /// A fresh redis-server that sends keyspace notifications of string
    /// and generic commands (what the standby needs), on the first port of
    /// `ports` it can have; `None` when redis-server is not installed.
    fn start(ports: std::ops::Range<u16>) -> Option<Redis> {
        if !std::path::Path::new(REDIS_SERVER).exists() {
            eprintln!("skipped: {REDIS_SERVER} not installed (Debian package redis-server, scripts/install-deps)");
            return None;
        }
        for port in ports {
            let dir = std::env::temp_dir()
                .join(format!("rtpengined-standby-{}-{port}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            let mut child = Command::new(REDIS_SERVER)
                .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
                .args(["--save", "", "--appendonly", "no", "--dir"])
                .arg(&dir)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start redis-server");
            let deadline = Instant::now() + Duration::from_secs(10);
            while child.try_wait().unwrap().is_none() {
                if redis_cli(port, &["PING"]) == "PONG" {
                    let r = Redis { child, port, dir };
                    assert_eq!(
                        r.cli(&["CONFIG", "SET", "notify-keyspace-events", "K$g"]),
                        "OK"
                    );
                    return Some(r);
                }
                assert!(
                    Instant::now() < deadline,
                    "redis-server on {port} never answered PING"
                );
            }
        }
        panic!("no port for redis-server");
    }

    fn cli(&self, args: &[&str]) -> String {
        redis_cli(self.port, args)
    }

    fn target(&self, db: u32) -> String {
        format!("127.0.0.1:{}/{db}", self.port)
    }
}

fn redis_cli(port: u16, args: &[&str]) -> String {
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

/// Debian's rtpengine 10.5 on `ng`, writing its calls to `redis`.
struct Reference {
    child: Child,
    ng: SocketAddr,
    client: UdpSocket,
    n: std::cell::Cell<u32>,
}

impl Reference {
    fn start(ng_port: u16, media: (u16, u16), redis: &str) -> Option<Reference> {
        Self::start_with(ng_port, media, redis, &[])
    }

    fn start_with(
        ng_port: u16,
        media: (u16, u16),
        redis: &str,
        extra: &[&str],
    ) -> Option<Reference> {
        if !std::path::Path::new(RTPENGINE).exists() {
            eprintln!("skipped: {RTPENGINE} not installed (Debian package rtpengine-daemon)");
            return None;
        }
        let ng: SocketAddr = format!("127.0.0.1:{ng_port}").parse().unwrap();
        let child = Command::new(RTPENGINE)
            .args(["--foreground", "--config-file=none", "--table=-1"])
            .args(["--log-stderr", "--interface=127.0.0.1", "--delete-delay=0"])
            .arg(format!("--listen-ng={ng}"))
            .arg(format!("--port-min={}", media.0))
            .arg(format!("--port-max={}", media.1))
            .arg(format!("--redis={redis}"))
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
        let r = Reference {
            child,
            ng,
            client,
            n: 0.into(),
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while r
            .try_request(&Owned::dict().with("command", "ping"))
            .is_none()
        {
            assert!(Instant::now() < deadline, "rtpengine does not answer ping");
        }
        Some(r)
    }

    fn try_request(&self, msg: &Owned) -> Option<Owned> {
        self.n.set(self.n.get() + 1);
        let cookie = format!("standby_{}_{}", std::process::id(), self.n.get());
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
}

impl Drop for Reference {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One of ours with its CLI on `cli`.
fn ours(cli: u16, media: (u16, u16), extra: &[&str]) -> (Daemon, SocketAddr) {
    let cli: SocketAddr = format!("127.0.0.1:{cli}").parse().unwrap();
    let listen = format!("--listen-cli={cli}");
    let mut args = vec![listen.as_str(), "--table=-1", "--redis-expires=600"];
    args.extend_from_slice(extra);
    (Daemon::start(media.0, media.1, &args), cli)
}

/// The CLI's answer to `line`.
fn ask(cli: SocketAddr, line: &str) -> String {
    let mut s = TcpStream::connect(cli).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s.write_all(format!("{line}\n").as_bytes()).unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

/// Waits until the CLI's answer to `line` satisfies `check`.
fn wait_cli(cli: SocketAddr, line: &str, what: &str, check: impl Fn(&str) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let got = ask(cli, line);
        if check(&got) {
            return;
        }
        assert!(Instant::now() < deadline, "{what} never happened: {got}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn foreign(cli: SocketAddr, id: &str) -> bool {
    ask(cli, &format!("list sessions {id}")).contains("\nforeign: yes\n")
}

/// Plain RTP sent from `from` to `to` until `at` gets some: its tag byte.
fn relayed(from: &UdpSocket, to: SocketAddr, at: &UdpSocket, tag: u8) -> Option<u8> {
    for seq in 0..10 {
        from.send_to(&rtp(seq, tag), to).unwrap();
        if let Some((got, _)) = recv(at) {
            return Some(got[12]);
        }
    }
    None
}

struct Call {
    a: UdpSocket,
    b: UdpSocket,
    to_a: SocketAddr,
    to_b: SocketAddr,
}

/// A call between phones A and B set up with `ok`.
fn call(ok: impl Fn(&Owned) -> Owned, id: &str) -> Call {
    let (a, b) = (phone("127.0.0.1"), phone("127.0.0.1"));
    let (pa, pb) = (
        a.local_addr().unwrap().port(),
        b.local_addr().unwrap().port(),
    );
    let to_b = media_target(&ok(&offer(id, "ta", &sdp("127.0.0.1", pa))));
    let to_a = media_target(&ok(&answer(id, "ta", "tb", &sdp("127.0.0.1", pb))));
    Call { a, b, to_a, to_b }
}

impl Call {
    /// Both directions relay (`tag` and `tag + 1`).
    fn both_ways(&self, tag: u8, phase: &str) {
        assert_eq!(
            relayed(&self.a, self.to_a, &self.b, tag),
            Some(tag),
            "{phase}: A to B"
        );
        assert_eq!(
            relayed(&self.b, self.to_b, &self.a, tag + 1),
            Some(tag + 1),
            "{phase}: B to A"
        );
    }

    /// The same signalling again, to `ok`: the ports stay.
    fn again(&self, ok: impl Fn(&Owned) -> Owned, id: &str) {
        let pa = self.a.local_addr().unwrap().port();
        let pb = self.b.local_addr().unwrap().port();
        let o = ok(&offer(id, "ta", &sdp("127.0.0.1", pa)));
        assert_eq!(media_target(&o), self.to_b, "re-offer on the same port");
        let a = ok(&answer(id, "ta", "tb", &sdp("127.0.0.1", pb)));
        assert_eq!(media_target(&a), self.to_a, "re-answer on the same port");
    }
}

#[test]
fn a_standby_takes_over_the_calls_of_rtpengine_10_5() {
    let Some(redis) = Redis::start(25200..25205) else {
        return;
    };
    let media = (42000, 42099);
    let Some(mut active) = Reference::start(25250, media, &redis.target(3)) else {
        return;
    };
    let (standby, cli) = ours(
        25260,
        media,
        &[&format!("--redis={}", redis.target(4)), "-k", "3"],
    );
    assert_eq!(ask(cli, "kslist"), "\nSubscribed-on keyspaces:\n3 \n");
    let kept = call(|m| active.ok(m), "standby-kept");
    let gone = call(|m| active.ok(m), "standby-gone");
    wait_cli(cli, "list numsessions", "both calls seen", |t| {
        t.starts_with("Current sessions own: 0\nCurrent sessions foreign: 2\n")
    });
    let st = standby.ok(&Owned::dict().with("command", "statistics"));
    let current = st
        .get("statistics")
        .and_then(|s| s.get("currentstatistics"))
        .expect("currentstatistics");
    assert_eq!(int(current.get("sessionsforeign")), 2, "{current}");
    assert_eq!(int(current.get("sessionsown")), 0, "{current}");
    // Answered: the second version of each call replaced the first.
    wait_cli(cli, "list sessions standby-kept", "the answer seen", |t| {
        t.contains("--- Tag 'tb'") && t.contains("\nforeign: yes\n")
    });
    // The active node still has the packets: the standby binds nothing.
    kept.both_ways(1, "10.5 active, we standby");
    gone.both_ways(3, "10.5 active, we standby");
    active.ok(&delete("standby-gone", "ta"));
    wait_cli(
        cli,
        "list sessions foreign",
        "the deleted call dropped",
        |t| !t.contains("standby-gone") && t.contains("standby-kept"),
    );
    // The active node dies; we take over.
    let _ = active.child.kill();
    let _ = active.child.wait();
    assert_eq!(
        ask(cli, "active"),
        "Ok, all calls set to 'owned (active)'\n"
    );
    assert!(!foreign(cli, "standby-kept"));
    kept.both_ways(5, "we active");
    // Ours now: written to our database.
    let deadline = Instant::now() + Duration::from_secs(5);
    while redis.cli(&["-n", "4", "EXISTS", "standby-kept"]) != "1" {
        assert!(
            Instant::now() < deadline,
            "the call never written to our database"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn our_active_hands_its_calls_over_to_our_standby() {
    let Some(redis) = Redis::start(25205..25210) else {
        return;
    };
    let media = (42100, 42199);
    let (a, a_cli) = ours(25261, media, &[&format!("--redis={}", redis.target(5))]);
    let (b, b_cli) = ours(
        25262,
        media,
        &[
            &format!("--redis={}", redis.target(6)),
            "--active-switchover",
        ],
    );
    // Subscribed at run time.
    assert_eq!(
        ask(b_cli, "ksadd 5"),
        "Success adding keyspace 5 to redis notifications.\n"
    );
    // As in 10.5 the subscription follows the answer: wait for Redis to have it.
    let deadline = Instant::now() + Duration::from_secs(5);
    while redis.cli(&["PUBSUB", "NUMPAT"]) != "1" {
        assert!(Instant::now() < deadline, "never subscribed");
        std::thread::sleep(Duration::from_millis(10));
    }
    let by_cli = call(|m| a.ok(m), "handover-cli");
    let by_signal = call(|m| a.ok(m), "handover-signal");
    for id in ["handover-cli", "handover-signal"] {
        wait_cli(
            b_cli,
            &format!("list sessions {id}"),
            "the answer seen",
            |t| t.contains("--- Tag 'tb'") && t.contains("\nforeign: yes\n"),
        );
    }
    by_cli.both_ways(1, "A active");
    // A steps down: its sockets close, the calls stay (foreign).
    assert_eq!(
        ask(a_cli, "standby"),
        "Ok, all calls set to 'foreign (standby)'\n"
    );
    assert!(foreign(a_cli, "handover-cli"));
    assert_eq!(
        relayed(&by_cli.a, by_cli.to_a, &by_cli.b, 3),
        None,
        "nobody relays in between"
    );
    // Signalling for one call takes that one over (--active-switchover).
    by_signal.again(|m| b.ok(m), "handover-signal");
    assert!(!foreign(b_cli, "handover-signal"));
    assert!(foreign(b_cli, "handover-cli"));
    by_signal.both_ways(5, "B took the signalled call");
    // `active` takes the rest.
    assert_eq!(
        ask(b_cli, "active"),
        "Ok, all calls set to 'owned (active)'\n"
    );
    by_cli.both_ways(7, "B active");
    assert_eq!(
        ask(b_cli, "list numsessions")
            .lines()
            .take(3)
            .collect::<Vec<_>>(),
        [
            "Current sessions own: 2",
            "Current sessions foreign: 0",
            "Current sessions total: 2"
        ]
    );
    // Unsubscribed: A's later calls stay unseen.
    assert_eq!(
        ask(b_cli, "ksrm 5"),
        "Successfully unsubscribed from keyspace 5.\n\
         Successfully removed all foreign calls for keyspace 5.\n"
    );
    assert_eq!(ask(b_cli, "kslist"), "\nSubscribed-on keyspaces:\n\n");
}

#[test]
fn a_standby_answers_the_cli_as_a_standby_rtpengine_10_5() {
    let Some(redis) = Redis::start(25210..25215) else {
        return;
    };
    let media = (42200, 42299);
    let Some(active) = Reference::start(25251, media, &redis.target(7)) else {
        return;
    };
    let theirs_cli: SocketAddr = "127.0.0.1:25263".parse().unwrap();
    let Some(_theirs) = Reference::start_with(
        25252,
        media,
        &redis.target(8),
        &["-k", "7", &format!("--listen-cli={theirs_cli}")],
    ) else {
        return;
    };
    // Both write to one database, as the keyspace shows it.
    let (_ours, ours_cli) = ours(
        25264,
        media,
        &[&format!("--redis={}", redis.target(8)), "-k", "7"],
    );
    call(|m| active.ok(m), "standby-cli");
    for cli in [theirs_cli, ours_cli] {
        wait_cli(cli, "list sessions standby-cli", "the answer seen", |t| {
            t.contains("--- Tag 'tb'")
        });
    }
    for line in [
        "kslist",
        "ksadd 9",
        "ksadd 9",
        "ksadd x",
        "ksadd",
        "kslist",
        "ksrm 9",
        "ksrm 9",
        "ksrm",
        "list sessions all",
        "list sessions own",
        "list sessions foreign",
        "list numsessions",
        "standby",
        "list sessions foreign",
        "active",
        "list sessions own",
        "list numsessions",
        "standby",
        "terminate foreign",
        "list sessions all",
        "list numsessions",
    ] {
        let (mut o, mut t) = (ask(ours_cli, line), ask(theirs_cli, line));
        if line == "list numsessions" {
            // 10.5 counts address families at signalling only, so not for a
            // call taken over from Redis; we count every own call's.
            let head = |s: &str| s.lines().take(4).collect::<Vec<_>>().join("\n");
            (o, t) = (head(&o), head(&t));
        }
        assert_eq!(o, t, "{line}");
    }
}
