//! Listen options as rtpengine 10.5 takes them: a bare port serves IPv4 and IPv6 (two
//! sockets), rtpengine's own test command line starts, and a malformed endpoint is a
//! start error even for an option whose feature is still missing.

mod common;
mod netns;

use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

use common::{media_target, offer, sdp};
use netns::{NetNs, Ng, Proc};

/// A port free on IPv4 and IPv6 (a dual-stack socket held it on both).
fn port_free_on_both() -> u16 {
    UdpSocket::bind("[::]:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn bare_port_listens_on_ipv4_and_ipv6() {
    // Another test may take the port between our probe and the daemon's bind: then
    // the daemon exits ("in use") and we try another port.
    let mut last = String::new();
    for _ in 0..5 {
        let port = port_free_on_both().to_string();
        let mut d = Proc::host(&[
            "--config-file=none",
            "-t",
            "-1",
            "-i",
            "127.0.0.1",
            "-n",
            &port,
            "-f",
            "-E",
        ]);
        let v4: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let v6: SocketAddr = format!("[::1]:{port}").parse().unwrap();
        match d.wait_ping(&[v4, v6]) {
            Ok(()) => {
                let log = d.log_text();
                assert!(log.contains(&format!("listen=0.0.0.0:{port}")), "{log}");
                assert!(log.contains(&format!("listen=[::]:{port}")), "{log}");
                // Still ours that answered: it is running.
                assert!(d.exited(Duration::ZERO).is_none(), "{log}");
                return;
            }
            Err(log) if log.contains("in use") => last = log,
            Err(log) => panic!("{log}"),
        }
    }
    panic!("rtpengined found its port in use 5 times; last:\n{last}");
}

#[test]
fn malformed_listen_options_stop_the_start() {
    for (opt, why) in [
        (
            "--listen-ng=127.0.0.1:notaport",
            "invalid --listen-ng '127.0.0.1:notaport'",
        ),
        (
            "--listen-cli=localhost:http",
            "invalid --listen-cli 'localhost:http'",
        ),
        ("--listen-udp=1.2.3.4", "invalid --listen-udp '1.2.3.4'"),
        ("--graphite=2003", "invalid --graphite '2003'"),
        ("--listen-tcp=1.2.3.4", "invalid --listen-tcp '1.2.3.4'"),
        (
            "--listen-tcp-ng=localhost:ng",
            "invalid --listen-tcp-ng 'localhost:ng'",
        ),
        ("--listen-https=[::1", "invalid --listen-https '[::1'"),
    ] {
        let mut d = Proc::host(&[
            "--config-file=none",
            "-t",
            "-1",
            "-i",
            "127.0.0.1",
            "-n",
            "127.0.0.1:1",
            "-f",
            "-E",
            opt,
        ]);
        let status = d
            .exited(Duration::from_secs(10))
            .unwrap_or_else(|| panic!("{opt}: still running; log: {}", d.log_text()));
        assert_eq!(status.code(), Some(1), "{opt}");
        let log = d.log_text();
        assert!(log.contains(why), "{opt}: {log}");
    }
}

/// rtpengine's own test suite starts its daemon with this command line.
#[test]
fn upstream_test_command_line_starts() {
    let Some(ns) = NetNs::create("cfgup") else {
        return;
    };
    ns.addr("203.0.113.1/32", "lo");
    ns.addr("2001:db8:4321::1/128", "lo");
    let mut d = ns.daemon(&[
        "--config-file=none",
        "-t",
        "-1",
        "-i",
        "203.0.113.1",
        "-i",
        "2001:db8:4321::1",
        "-n",
        "2223",
        "-c",
        "12345",
        "-f",
        "-L",
        "7",
        "-E",
        "-u",
        "2222",
        "--silence-detect=1",
    ]);
    ns.enter(|| {
        let v4: SocketAddr = "127.0.0.1:2223".parse().unwrap();
        let v6: SocketAddr = "[::1]:2223".parse().unwrap();
        d.wait_ping(&[v4, v6]).unwrap();
        // Each offer gets the interface of its own address family.
        let ng = Ng::new(v4);
        let o = ng.ok(&offer("up-4", "a", &sdp("127.0.0.1", 5000)));
        assert_eq!(media_target(&o).ip().to_string(), "203.0.113.1");
        let o = ng.ok(&offer("up-6", "a", &sdp("::1", 5000)));
        assert_eq!(media_target(&o).ip().to_string(), "2001:db8:4321::1");
        // The rtpproxy protocol (-u) answers on both families' wildcards.
        for to in ["127.0.0.1:2222", "[::1]:2222"] {
            let to: SocketAddr = to.parse().unwrap();
            let bind = if to.is_ipv4() {
                "127.0.0.1:0"
            } else {
                "[::1]:0"
            };
            let s = std::net::UdpSocket::bind(bind).unwrap();
            s.set_read_timeout(Some(std::time::Duration::from_secs(5)))
                .unwrap();
            s.send_to(b"up V", to).unwrap();
            let mut buf = [0u8; 64];
            let n = s.recv(&mut buf).unwrap();
            assert_eq!(&buf[..n], b"up 20040107\n", "{to}");
        }
    });
    let log = d.log_text();
    // The CLI (-c) listens on both families' wildcard addresses.
    assert!(!log.contains("--listen-udp is accepted"), "{log}");
    assert!(log.contains("listen=0.0.0.0:12345"), "{log}");
    assert!(log.contains("listen=[::]:12345"), "{log}");
}
