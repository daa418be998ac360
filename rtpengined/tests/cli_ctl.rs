//! `--listen-cli` driven by Debian's `rtpengine-ctl` (package rtpengine-utils)
//! and by raw TCP clients that misbehave.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::Command;
use std::time::Duration;

use common::*;

const CTL: &str = "/usr/bin/rtpengine-ctl";

fn free_tcp_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start(extra: &[&str]) -> (Daemon, SocketAddr) {
    let port = free_tcp_port();
    let opt = format!("--listen-cli=127.0.0.1:{port}");
    let mut args = vec![opt.as_str()];
    args.extend_from_slice(extra);
    let d = Daemon::start(37600, 37649, &args);
    (d, SocketAddr::from(([127, 0, 0, 1], port)))
}

/// What the daemon answers `bytes`, read until it closes.
fn raw(cli: SocketAddr, bytes: &[u8]) -> Vec<u8> {
    let mut s = TcpStream::connect(cli).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s.write_all(bytes).unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).unwrap();
    out
}

fn ask(cli: SocketAddr, line: &str) -> String {
    String::from_utf8(raw(cli, format!("{line}\n").as_bytes())).unwrap()
}

/// `rtpengine-ctl -ip ADDR ARGS...`, or `None` when it is not installed.
fn ctl(cli: SocketAddr, args: &[&str]) -> Option<String> {
    if !std::path::Path::new(CTL).exists() {
        assert!(
            std::env::var_os("CI").is_none(),
            "{CTL} is missing: install rtpengine-utils (scripts/install-deps)"
        );
        eprintln!("skipped: {CTL} not installed (Debian package rtpengine-utils)");
        return None;
    }
    let out = Command::new(CTL)
        .arg("-ip")
        .arg(cli.to_string())
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    Some(String::from_utf8(out.stdout).unwrap())
}

#[test]
fn rtpengine_ctl_lists_ends_and_limits_calls() {
    let (d, cli) = start(&["--delete-delay=30"]);
    let (alice, bob) = (phone("127.0.0.1"), phone("127.0.0.1"));
    let (alice_port, bob_port) = (
        alice.local_addr().unwrap().port(),
        bob.local_addr().unwrap().port(),
    );
    let o = d.ok(&offer("ctl-1", "alice", &sdp("127.0.0.1", alice_port)));
    let a = d.ok(&answer(
        "ctl-1",
        "alice",
        "bob",
        &sdp("127.0.0.1", bob_port),
    ));
    // Alice sends one PCMU packet (SSRC 42) and Bob gets it.
    alice.send_to(&rtp(1, 7), media_target(&a)).unwrap();
    assert!(recv(&bob).is_some(), "not relayed");
    let Some(n) = ctl(cli, &["list", "numsessions"]) else {
        return;
    };
    assert!(
        n.starts_with(
            "Current sessions own: 1\nCurrent sessions foreign: 0\nCurrent sessions total: 1\n"
        ),
        "{n}"
    );
    let all = ctl(cli, &["list", "sessions", "all"]).unwrap();
    assert!(
        all.starts_with(&format!(
            "callid: {:>60} | deletionmark:  no | created:",
            "ctl-1"
        )),
        "{all}"
    );
    // The ng client that created it, with its port.
    assert!(all.contains("| proxy:127.0.0.1:"), "{all}");
    // The call's task publishes its counters after the packet went out:
    // ask until they are there.
    let mut one = String::new();
    for _ in 0..100 {
        one = ctl(cli, &["list", "sessions", "ctl-1"]).unwrap();
        if one.contains(" 1 p,") {
            break;
        }
    }
    let (b_port, a_port) = (media_target(&o).port(), media_target(&a).port());
    for want in [
        "\ncallid: ctl-1\ndeletionmark: no\n".to_string(),
        "--- Tag 'alice', type: FROM_TAG, label '', branch '', callduration ".into(),
        "---     subscribed to 'bob'\n---     subscription of 'bob'\n".into(),
        "------ Media #1 (audio over RTP/AVP) using unknown codec\n".into(),
        // What Alice sent arrived on her stream: its SSRC and codec show.
        format!("------ Media #1 (audio over RTP/AVP) using PCMU/8000\n-------- Port       127.0.0.1:{a_port:<5} <>       127.0.0.1:{alice_port:<5}, SSRC 2a, 1 p, 172 b, 0 e, "),
        format!("-------- Port       127.0.0.1:{b_port:<5} <>       127.0.0.1:{bob_port:<5}, SSRC 0, 0 p, 0 b, 0 e, "),
    ] {
        assert!(one.contains(&want), "{want:?} not in {one}");
    }
    let interfaces = ctl(cli, &["list", "interfaces"]).unwrap();
    assert!(
        interfaces.starts_with("Interface 'default' address '127.0.0.1' (IPv4)\n Port range: 37600 - 37649\n Ports used:     4 /    50 (  8.0%)\n"),
        "{interfaces}"
    );
    let json = ctl(cli, &["list", "jsonstats"]).unwrap();
    assert!(
        json.starts_with("{\"currentstatistics\":{\"sessionsown\":1,"),
        "{json}"
    );

    // At once: the next call beyond the limit is refused as 10.5 refuses it.
    assert_eq!(
        ctl(cli, &["set", "maxsessions", "1"]).unwrap(),
        "Success setting maxsessions to 1\n"
    );
    let r = d.request(&offer("ctl-2", "carol", &sdp("127.0.0.1", 6004)));
    assert_eq!(text(r.get("result")), "error", "{r}");
    assert_eq!(
        text(r.get("error-reason")),
        "Parallel session limit reached"
    );
    assert_eq!(
        ctl(cli, &["get", "maxsessions"]).unwrap(),
        "Maximum sessions configured on rtpengine: 1\n"
    );

    // terminate ends the call now, whatever its delete-delay.
    assert_eq!(
        ctl(cli, &["terminate", "ctl-1"]).unwrap(),
        "\nCall Id (ctl-1) successfully terminated by operator.\n\n"
    );
    assert_eq!(
        ctl(cli, &["list", "sessions", "all"]).unwrap(),
        "No sessions on this media relay.\n"
    );
    let totals = ctl(cli, &["list", "totals"]).unwrap();
    for want in [
        format!(" {:<48}:1\n", "Total managed sessions"),
        format!(" {:<48}:1\n", "Total rejected sessions"),
        format!(" {:<48}:1\n", "Total forced terminated sessions"),
    ] {
        assert!(totals.contains(&want), "{want:?} not in {totals}");
    }
    // Its ports are free again: a new call fits the limit and gets media.
    d.ok(&offer("ctl-3", "dave", &sdp("127.0.0.1", 6006)));
    assert_eq!(
        ctl(cli, &["foo"]).unwrap(),
        "Unknown or incomplete command::foo\n"
    );
}

#[test]
fn bad_clients_get_an_answer_or_a_close_and_stall_nobody() {
    let (_d, cli) = start(&[]);
    // A client that connects and says nothing does not hold up the others.
    let _idle = TcpStream::connect(cli).unwrap();
    let mut half = TcpStream::connect(cli).unwrap();
    half.write_all(b"list numsess").unwrap();
    assert_eq!(
        ask(cli, "list maxsessions"),
        "Maximum sessions configured on rtpengine: -1\n"
    );
    // Bytes that are not UTF-8 are an unknown command like any other, echoed
    // as they came (10.5 reads bytes).
    assert_eq!(
        raw(cli, b"\xff\xfe list\n"),
        b"Unknown or incomplete command::\xff\xfe list\n"
    );
    // A line the client ends by closing its side is answered too.
    let mut s = TcpStream::connect(cli).unwrap();
    s.write_all(b"list timeout").unwrap();
    s.shutdown(std::net::Shutdown::Write).unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    assert_eq!(out, "TIMEOUT=60\n");
    // Blank lines and a CR before the line end are skipped, as 10.5 does.
    assert_eq!(ask(cli, "\r\n\nlist timeout\r"), "TIMEOUT=60\n");
    // A line longer than 10.5 reads: closed without an answer.
    let huge = vec![b'x'; 100_000];
    let mut s = TcpStream::connect(cli).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s.write_all(&huge).unwrap();
    // A clean close, as 10.5's: no reset although the rest went unread.
    let mut out = Vec::new();
    s.read_to_end(&mut out).unwrap();
    assert!(out.is_empty(), "{out:?}");
    // The half-sent line is still waited for and answered once complete.
    half.write_all(b"ions\n").unwrap();
    let mut out = String::new();
    half.read_to_string(&mut out).unwrap();
    assert!(out.starts_with("Current sessions own: 0\n"), "{out}");
    assert_eq!(
        ask(cli, "list sessions all"),
        "No sessions on this media relay.\n"
    );
}

#[test]
fn set_loglevel_changes_what_the_daemon_logs() {
    let (d, cli) = start(&[]);
    let processed = || d.log_text().matches("offer processed").count();
    d.ok(&offer("log-1", "a", &sdp("127.0.0.1", 6100)));
    assert_eq!(processed(), 1);
    // Warnings only: an offer is no longer logged.
    assert_eq!(
        ask(cli, "set loglevel 4"),
        "Success setting loglevel to 4\n"
    );
    d.ok(&offer("log-2", "a", &sdp("127.0.0.1", 6102)));
    assert_eq!(processed(), 1, "{}", d.log_text());
    // One subsystem other than core changes nothing of ours.
    assert_eq!(
        ask(cli, "set loglevel ice 7"),
        "Success setting loglevel to 7\n"
    );
    d.ok(&offer("log-3", "a", &sdp("127.0.0.1", 6104)));
    assert_eq!(processed(), 1);
    assert_eq!(ask(cli, "params revert"), "");
    d.ok(&offer("log-4", "a", &sdp("127.0.0.1", 6106)));
    assert_eq!(processed(), 2);
}
