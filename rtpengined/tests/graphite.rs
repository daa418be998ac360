//! `--graphite`: the daemon connects to a carbon-style TCP receiver (here a
//! strict plaintext-protocol reader of the test) and reports its figures
//! with 10.5's metric names, the prefix in front, as soon as it is
//! connected and then every interval.

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::*;
use rtpengined::ng::bencode::Owned;

/// One line of the plaintext protocol, read strictly: `PATH VALUE
/// TIMESTAMP`, single spaces, a path of dot-separated words of letters,
/// digits, `_`, `-` and `:` (an IPv6 address), a number, Unix seconds near
/// now.
fn parse_line(line: &str) -> (String, f64) {
    let fields: Vec<&str> = line.split(' ').collect();
    assert_eq!(fields.len(), 3, "not PATH VALUE TIMESTAMP: {line:?}");
    let path = fields[0];
    assert!(
        !path.is_empty()
            && path.split('.').all(|w| {
                !w.is_empty()
                    && w.chars()
                        .all(|c| c.is_ascii_alphanumeric() || "_-:".contains(c))
            }),
        "bad path in {line:?}"
    );
    let value: f64 = fields[1]
        .parse()
        .unwrap_or_else(|_| panic!("value not a number: {line:?}"));
    assert!(value.is_finite() && value >= 0.0, "{line:?}");
    let ts: u64 = fields[2]
        .parse()
        .unwrap_or_else(|_| panic!("timestamp not an integer: {line:?}"));
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(ts.abs_diff(now) < 30, "timestamp {ts} far from now {now}");
    (path.to_owned(), value)
}

/// Reads one report: the lines up to the last interface's `ports_used_`
/// line, which ends it.
fn report(r: &mut BufReader<TcpStream>) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    loop {
        let mut line = String::new();
        let n = r.read_line(&mut line).expect("report from the daemon");
        assert!(n > 0, "the daemon closed the graphite connection");
        let line = line.strip_suffix('\n').expect("a line ends with \\n");
        let (path, value) = parse_line(line);
        let last = path.starts_with("gtest.ports_used_");
        out.insert(path, value);
        if last {
            return out;
        }
    }
}

/// The daemon's connection to `receiver`, waited for at most 20 s.
fn accept(receiver: TcpListener) -> BufReader<TcpStream> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(receiver.accept().map(|(c, _)| c));
    });
    let conn = rx
        .recv_timeout(Duration::from_secs(20))
        .expect("the daemon connects to the graphite receiver")
        .unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    BufReader::new(conn)
}

#[test]
fn reports_10_5_metrics_with_the_prefix_every_interval() {
    let receiver = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = receiver.local_addr().unwrap();
    let d = Daemon::start(
        45600,
        45649,
        &[
            &format!("--graphite={addr}"),
            "--graphite-interval=1",
            "--graphite-prefix=gtest.",
            "--graphite-timeout=5",
        ],
    );
    let mut r = accept(receiver);
    let first = report(&mut r);
    for name in [
        "ping_time_min",
        "ping_time_avg",
        "pings_ps_max",
        "offer_count",
        "start_recording_count",
        "unsubscribe_time_max",
        "call_dur",
        "average_call_dur",
        "forced_term_sess",
        "managed_sess",
        "managed_sess_min",
        "managed_sess_max",
        "current_sessions_total",
        "current_sessions_own",
        "current_sessions_foreign",
        "current_transcoded_media",
        "current_sessions_ipv4",
        "current_sessions_ipv6",
        "current_sessions_mixed",
        "nopacket_relayed_sess",
        "oneway_stream_sess",
        "regular_term_sess",
        "relayed_errors_user",
        "relayed_packets_kernel",
        "relayed_bytes",
        "silent_timeout_sess",
        "final_timeout_sess",
        "offer_timeout_sess",
        "timeout_sess",
        "reject_sess",
        "ports_free_default_127.0.0.1",
        "ports_used_default_127.0.0.1",
    ] {
        let path = format!("gtest.{name}");
        assert!(first.contains_key(&path), "{path} missing: {first:?}");
    }
    assert_eq!(first["gtest.ports_free_default_127.0.0.1"], 50.0);
    // The ping of the start shows in the next report's count.
    let offer_sdp = sdp("127.0.0.1", 30000);
    d.ok(&offer("gr-1", "ft", &offer_sdp));
    let answer_sdp = sdp("127.0.0.1", 30002);
    d.ok(&answer("gr-1", "ft", "tt", &answer_sdp));
    // Reports keep coming; one of the next shows the call.
    let mut seen = None;
    for _ in 0..10 {
        let rep = report(&mut r);
        if rep["gtest.offer_count"] == 1.0 {
            seen = Some(rep);
            break;
        }
    }
    let rep = seen.expect("a report with the offer");
    assert_eq!(rep["gtest.answer_count"], 1.0);
    assert_eq!(rep["gtest.current_sessions_total"], 1.0);
    assert_eq!(rep["gtest.current_sessions_ipv4"], 1.0);
    assert_eq!(rep["gtest.ports_used_default_127.0.0.1"], 4.0);
    assert_eq!(rep["gtest.ports_free_default_127.0.0.1"], 46.0);
    assert!(rep["gtest.ping_count"] >= 1.0);
    // The statistics show the last report's interval figures.
    let stats = d.ok(&Owned::dict().with("command", "statistics"));
    let iv = stats
        .get("statistics")
        .and_then(|s| s.get("intervalstatistics"))
        .expect("intervalstatistics");
    assert_eq!(int(iv.get("maxmanagedsessions")), 1);
}

#[test]
fn a_receiver_that_is_away_at_start_gets_reports_later() {
    // Take a port, let it go: the daemon's first connect is refused.
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let _d = Daemon::start(
        45650,
        45699,
        &[
            &format!("--graphite=127.0.0.1:{port}"),
            "--graphite-interval=1",
            "--graphite-prefix=gtest.",
        ],
    );
    let receiver = TcpListener::bind(("127.0.0.1", port)).unwrap();
    let rep = report(&mut accept(receiver));
    assert!(rep.contains_key("gtest.call_dur"));
}
