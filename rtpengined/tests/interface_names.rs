//! `--interface` with interface names and `any`, resolved from the namespace's own
//! interfaces: Debian's stock rtpengine.conf (`interface = any`) starts and relays, an
//! interface name gives every address of the interface, a missing one stops the start.

mod common;
mod netns;

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::Path;
use std::time::{Duration, Instant};

use common::{answer, media_target, offer, phone, recv, rtp, sdp};
use netns::{NetNs, Ng};

/// rtpengine-daemon's configuration file, as Debian installs it.
const DEBIAN_CONF: &str = "/etc/rtpengine/rtpengine.conf";

/// Send from `from` to `to_addr` until `to` receives it (the relay may still be
/// setting up); returns the source `to` saw.
fn relayed(
    from: &std::net::UdpSocket,
    to_addr: SocketAddr,
    to: &std::net::UdpSocket,
    seq: u16,
) -> SocketAddr {
    let deadline = Instant::now() + Duration::from_secs(5);
    let p = rtp(seq, seq as u8);
    loop {
        from.send_to(&p, to_addr).unwrap();
        if let Some((got, src)) = recv(to) {
            assert_eq!(got, p, "payload relayed unchanged");
            return src;
        }
        assert!(Instant::now() < deadline, "nothing relayed to {to_addr}");
    }
}

#[test]
fn debian_stock_config_starts_and_relays() {
    let conf = Path::new(DEBIAN_CONF);
    if !conf.exists() {
        // scripts/install-deps installs rtpengine-daemon, which ships the file.
        assert!(
            std::env::var_os("CI").is_none(),
            "{DEBIAN_CONF} is missing: is rtpengine-daemon installed (scripts/install-deps)?"
        );
        eprintln!("skipped: {DEBIAN_CONF} not installed (Debian package rtpengine-daemon)");
        return;
    }
    let Some(ns) = NetNs::create("cfgdeb") else {
        return;
    };
    // `any` is every address of every interface but loopback: give the namespace one.
    ns.veth("rd0", "rd1");
    ns.addr("198.51.100.1/24", "rd0");
    ns.addr("2001:db8:5::1/64", "rd0");
    let dir = std::env::temp_dir().join(format!("rtpengined-debconf-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let copy = dir.join("rtpengine.conf");
    std::fs::copy(conf, &copy).unwrap();
    let config_file = format!("--config-file={}", copy.display());
    // Only what a test needs: stay in the foreground, log to the file we read.
    let mut args = vec![config_file.as_str(), "--foreground", "--log-stderr"];
    if Path::new("/proc/rtpengine").exists() {
        // Never touch the kernel table of a real rtpengine on this host.
        eprintln!("note: /proc/rtpengine exists, running with --table=-1");
        args.push("--table=-1");
    }
    let mut d = ns.daemon(&args);
    // `listen-ng = localhost:2223`: the first two addresses localhost resolves to.
    let mut ng_addrs: Vec<SocketAddr> = Vec::new();
    for a in ("localhost", 2223).to_socket_addrs().unwrap() {
        if ng_addrs.len() < 2 && !ng_addrs.contains(&a) {
            ng_addrs.push(a);
        }
    }
    ns.enter(|| {
        d.wait_ping(&ng_addrs).unwrap();
        let ng = Ng::new(ng_addrs[0]);
        let alice = phone("127.0.0.1");
        let bob = phone("127.0.0.1");
        let a_port = alice.local_addr().unwrap().port();
        let b_port = bob.local_addr().unwrap().port();
        let o = ng.ok(&offer("deb-1", "alice", &sdp("127.0.0.1", a_port)));
        let a = ng.ok(&answer("deb-1", "alice", "bob", &sdp("127.0.0.1", b_port)));
        let (a_to, b_to) = (media_target(&a), media_target(&o));
        // The media address is the interface's, not loopback.
        assert_eq!(a_to.ip().to_string(), "198.51.100.1");
        assert_eq!(b_to.ip().to_string(), "198.51.100.1");
        for seq in 0..3 {
            assert_eq!(relayed(&alice, a_to, &bob, seq), b_to);
            assert_eq!(relayed(&bob, b_to, &alice, seq), a_to);
        }
    });
    let log = d.log_text();
    assert!(
        log.contains("local=198.51.100.1") && log.contains("local=2001:db8:5::1"),
        "{log}"
    );
    // `listen-cli = localhost:2224` and `listen-http = localhost:2225` are
    // served, without a warning.
    assert!(log.contains("CLI listening (TCP)"), "{log}");
    assert!(!log.contains("option --listen-cli is accepted"), "{log}");
    assert!(log.contains("HTTP listening"), "{log}");
    assert!(!log.contains("option --listen-http is accepted"), "{log}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A userspace daemon in the foreground, ng on 127.0.0.1:2223, media on `interface`.
fn userspace_on(interface: &str) -> [&str; 9] {
    [
        "--config-file=none",
        "-t",
        "-1",
        "-f",
        "-E",
        "-n",
        "127.0.0.1:2223",
        "-i",
        interface,
    ]
}

#[test]
fn interface_name_gives_each_of_its_addresses() {
    let Some(ns) = NetNs::create("cfgif") else {
        return;
    };
    ns.veth("rv0", "rv1");
    ns.addr("198.51.100.1/24", "rv0");
    ns.addr("2001:db8:7::1/64", "rv0");
    // The other end's address is not rv0's.
    ns.addr("198.51.100.2/24", "rv1");
    let mut d = ns.daemon(&userspace_on("rv0"));
    ns.enter(|| {
        let addr: SocketAddr = "127.0.0.1:2223".parse().unwrap();
        d.wait_ping(&[addr]).unwrap();
        let ng = Ng::new(addr);
        let o = ng.ok(&offer("if-4", "a", &sdp("127.0.0.1", 5000)));
        assert_eq!(media_target(&o).ip().to_string(), "198.51.100.1");
        let o = ng.ok(&offer("if-6", "a", &sdp("::1", 5000)));
        assert_eq!(media_target(&o).ip().to_string(), "2001:db8:7::1");
        // An IPv4 peer on an IPv6 call leg: the same logical interface serves both.
        let o = ng.ok(&offer("if-46", "a", &sdp("127.0.0.1", 5002)).with("address-family", "IP6"));
        assert_eq!(media_target(&o).ip().to_string(), "2001:db8:7::1");
    });
    let log = d.log_text();
    assert!(!log.contains("198.51.100.2"), "{log}");
}

#[test]
fn missing_interface_stops_the_start() {
    let Some(ns) = NetNs::create("cfgnoif") else {
        return;
    };
    ns.veth("rw0", "rw1");
    ns.ip(&["link", "set", "rw1", "down"]);
    ns.addr("198.51.100.3/24", "rw1");
    for (spec, why) in [
        (
            "cfgnone0",
            "invalid --interface 'cfgnone0': no network interface 'cfgnone0'",
        ),
        (
            "rw1",
            "invalid --interface 'rw1': network interface 'rw1' is down",
        ),
    ] {
        let mut d = ns.daemon(&userspace_on(spec));
        let status = d
            .exited(Duration::from_secs(10))
            .unwrap_or_else(|| panic!("{spec}: still running; log: {}", d.log_text()));
        assert_eq!(status.code(), Some(1), "{spec}");
        let log = d.log_text();
        assert!(log.contains(why), "{spec}: {log}");
    }
}
