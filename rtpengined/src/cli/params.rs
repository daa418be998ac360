//! `params start|current`: the settings the daemon started with, or has now,
//! in 10.5's list. Options we take but do not implement show 10.5's
//! defaults.

use std::fmt::Write as _;
use std::net::{IpAddr, SocketAddr};

use super::{Tunables, LOG_SUBSYSTEMS};

/// The settings no command changes.
#[derive(Debug, Clone, Default)]
pub struct Fixed {
    pub table: i32,
    pub tos: u8,
    pub no_fallback: bool,
    pub port_min: u16,
    pub port_max: u16,
    pub num_threads: usize,
    /// Each `--interface` address: (logical name, local address).
    pub interfaces: Vec<(String, IpAddr)>,
    pub listen_ng: Vec<SocketAddr>,
    pub listen_cli: Vec<SocketAddr>,
    /// `--listen-udp` (rtpproxy).
    pub listen_udp: Vec<SocketAddr>,
    /// `--listen-tcp` (the TCP control protocol).
    pub listen_tcp: Vec<SocketAddr>,
    /// `--graphite-interval` (10.5 shows 1 once its graphite thread found
    /// it not above 0).
    pub graphite_interval: i64,
    /// `--homer-protocol` is tcp, and `--homer-id`; none: 10.5's defaults.
    pub homer: Option<(bool, u32)>,
}

/// 10.5 keeps two endpoints per listen option; an unused one prints empty.
fn endpoints(out: &mut String, name: &str, addrs: &[SocketAddr]) {
    for i in 0..2 {
        let a = addrs.get(i).map(ToString::to_string).unwrap_or_default();
        let _ = writeln!(out, "{name} = {a}");
    }
}

pub fn render(f: &Fixed, t: &Tunables, start: bool) -> String {
    let mut out = String::new();
    for ((name, _), level) in LOG_SUBSYSTEMS.iter().zip(t.log_levels) {
        let _ = writeln!(out, "log-level-{name} = {level}");
    }
    let _ = write!(
        out,
        "table = {}\nmax-sessions = {}\ntimeout = {}\nsilent-timeout = {}\nfinal-timeout = {}\n\
         offer-timeout = {}\ndelete-delay = {}\nredis-expires = 86400\ntos = {}\ncontrol-tos = {}\n\
         graphite-interval = {}\nredis-num-threads = 4\nhomer-protocol = {}\nhomer-id = {}\n\
         no-fallback = {}\nport-min = {}\nport-max = {}\n",
        f.table,
        t.max_sessions,
        t.timeout,
        t.silent_timeout,
        t.final_timeout,
        t.offer_timeout,
        t.delete_delay,
        f.tos,
        t.control_tos,
        f.graphite_interval,
        // SOCK_STREAM, SOCK_DGRAM
        if f.homer.is_some_and(|h| h.0) { 1 } else { 2 },
        f.homer.map_or(2001, |h| h.1),
        u8::from(f.no_fallback),
        f.port_min,
        f.port_max,
    );
    if start {
        out.push_str("redis = :0/-1\nredis-write = :0/-1\n");
    } else {
        out.push_str("redis-db = -1\nredis-write-db = -1\n");
    }
    let _ = write!(
        out,
        "no-redis-required = 0\nnum-threads = {}\nxmlrpc-format = 0\nlog_format = 0\n\
         redis_allowed_errors = {}\nredis_disable_time = {}\nredis_cmd_timeout = {}\n\
         redis_connect_timeout = {}\nmax-cpu = {:.1}\nmax-load = {:.2}\n{} = {}\n",
        f.num_threads,
        t.redis_allowed_errors,
        t.redis_disable_time,
        t.redis_cmd_timeout,
        t.redis_connect_timeout,
        t.cpu_limit as f64 / 100.0,
        t.load_limit as f64 / 100.0,
        if start { "max-bandwidth" } else { "max-bw" },
        t.bw_limit,
    );
    for (i, (name, addr)) in f.interfaces.iter().enumerate() {
        let _ = writeln!(out, "interface[{i}] = {name}\\{addr} ");
    }
    out.push_str(
        "b2b_url = (null)\nredis-auth = (null)\nredis-write-auth = (null)\nrecording-dir = (null)\n\
         recording-method = pcap\nrecording-format = raw\niptables-chain = (null)\n",
    );
    endpoints(&mut out, "listen-tcp", &f.listen_tcp);
    endpoints(&mut out, "listen-udp", &f.listen_udp);
    endpoints(&mut out, "listen-ng", &f.listen_ng);
    endpoints(&mut out, "listen-cli", &f.listen_cli);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_and_current_name_some_settings_differently() {
        let f = Fixed {
            table: -1,
            port_min: 41000,
            port_max: 41499,
            num_threads: 4,
            interfaces: vec![("default".into(), "127.0.0.1".parse().unwrap())],
            listen_ng: vec!["127.0.0.1:2223".parse().unwrap()],
            listen_udp: vec!["127.0.0.1:2222".parse().unwrap()],
            listen_tcp: vec![
                "0.0.0.0:2224".parse().unwrap(),
                "[::]:2224".parse().unwrap(),
            ],
            ..Fixed::default()
        };
        let t = Tunables::defaults(6);
        let start = render(&f, &t, true);
        assert!(start.contains("\nlisten-udp = 127.0.0.1:2222\nlisten-udp = \nlisten-ng"));
        assert!(start.contains("\nlisten-tcp = 0.0.0.0:2224\nlisten-tcp = [::]:2224\nlisten-udp"));
        assert!(start.starts_with("log-level-core = 6\n"), "{start}");
        assert!(start.contains("\ntable = -1\nmax-sessions = -1\ntimeout = 60\n"));
        assert!(start.contains("\nredis = :0/-1\n"));
        assert!(start.contains(
            "\ngraphite-interval = 0\nredis-num-threads = 4\nhomer-protocol = 2\nhomer-id = 2001\n"
        ));
        let tcp = Fixed {
            graphite_interval: 5,
            homer: Some((true, 77)),
            ..f.clone()
        };
        assert!(render(&tcp, &t, true).contains(
            "\ngraphite-interval = 5\nredis-num-threads = 4\nhomer-protocol = 1\nhomer-id = 77\n"
        ));
        assert!(start.contains("\nmax-bandwidth = 0\ninterface[0] = default\\127.0.0.1 \n"));
        assert!(start
            .ends_with("listen-ng = 127.0.0.1:2223\nlisten-ng = \nlisten-cli = \nlisten-cli = \n"));
        let current = render(&f, &t, false);
        assert!(current.contains("\nredis-db = -1\nredis-write-db = -1\n"));
        assert!(current.contains("\nmax-bw = 0\n"));
    }
}
