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

/// With Debian's graphite-carbon (scripts/deps): a real `carbon-cache`
/// takes the reports and stores every metric, the command names with
/// spaces in 10.5 among them. Ignored by default (it needs carbon and takes
/// a few seconds): `cargo test --release -p rtpengined --test graphite --
/// --ignored`.
#[test]
#[ignore]
fn carbon_cache_stores_every_metric() {
    let dir = std::env::temp_dir().join(format!("rtpe-carbon-{}", std::process::id()));
    let conf = dir.join("conf");
    std::fs::create_dir_all(&conf).unwrap();
    let free = || {
        TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    };
    let (line, pickle, query) = (free(), free(), free());
    let d = dir.display();
    std::fs::write(
        conf.join("carbon.conf"),
        format!(
            "[cache]\nSTORAGE_DIR = {d}/storage\nLOCAL_DATA_DIR = {d}/storage/whisper\n\
             WHITELISTS_DIR = {d}/storage/lists\nCONF_DIR = {d}/conf\nLOG_DIR = {d}/log\n\
             PID_DIR = {d}\nMAX_CREATES_PER_MINUTE = inf\nMAX_UPDATES_PER_SECOND = inf\n\
             LINE_RECEIVER_INTERFACE = 127.0.0.1\nLINE_RECEIVER_PORT = {line}\n\
             ENABLE_UDP_LISTENER = False\nPICKLE_RECEIVER_INTERFACE = 127.0.0.1\n\
             PICKLE_RECEIVER_PORT = {pickle}\nCACHE_QUERY_INTERFACE = 127.0.0.1\n\
             CACHE_QUERY_PORT = {query}\n"
        ),
    )
    .unwrap();
    std::fs::write(
        conf.join("storage-schemas.conf"),
        "[default]\npattern = .*\nretentions = 1s:1h\n",
    )
    .unwrap();
    /// Stops carbon and removes its files also when the test fails.
    struct Carbon(std::process::Child, std::path::PathBuf);
    impl Drop for Carbon {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
            let _ = std::fs::remove_dir_all(&self.1);
        }
    }
    let child = std::process::Command::new("/usr/bin/carbon-cache")
        .arg(format!("--config={d}/conf/carbon.conf"))
        .arg(format!("--pidfile={d}/carbon.pid"))
        .arg(format!("--logdir={d}/log"))
        .args(["--nodaemon", "start"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("carbon-cache (graphite-carbon, scripts/deps)");
    let _carbon = Carbon(child, dir.clone());
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    // Waits for carbon's line receiver, then for the whisper files.
    let wait = |what: &str, ok: &dyn Fn() -> bool| {
        while !ok() {
            assert!(std::time::Instant::now() < deadline, "{what}");
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    wait("carbon listens", &|| {
        TcpStream::connect(("127.0.0.1", line)).is_ok()
    });
    let _d = Daemon::start(
        45800,
        45849,
        &[
            &format!("--graphite=127.0.0.1:{line}"),
            "--graphite-interval=1",
            "--graphite-prefix=gtest.",
        ],
    );
    let whisper = dir.join("storage/whisper/gtest");
    let names = [
        "offer_count",
        "start_recording_count",
        "subscribe_request_time_avg",
        "call_dur",
        "current_sessions_total",
        // Carbon makes a directory of each dot, also those of an address.
        "ports_used_default_127/0/0/1",
    ];
    // Every line of a report becomes a metric: 7 per command and 30 more
    // files, the interface's two in directories of their own.
    let want = 7 * 24 + 30 + 2;
    let count = || std::fs::read_dir(&whisper).map_or(0, |d| d.count());
    wait("carbon stores the metrics", &|| {
        count() >= want
            && names
                .iter()
                .all(|n| whisper.join(format!("{n}.wsp")).exists())
    });
    let stored = count();
    assert_eq!(stored, want, "files and directories stored");
}
