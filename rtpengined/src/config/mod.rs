//! Daemon configuration: command line + INI file, validated into `Config`.

pub mod chain;
pub mod cli;
pub mod dtls;
pub mod host;
pub mod ini;
pub mod interface;
pub mod listen;
mod netlink;
pub mod redis;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

pub use cli::Cli;
pub use interface::Interface;

/// rtpengine's default config file; read only if it exists, unless given explicitly.
pub const DEFAULT_CONFIG_FILE: &str = "/etc/rtpengine/rtpengine.conf";

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{0}")]
    Args(#[from] clap::Error),
    #[error("cannot read config file {0}: {1}")]
    File(String, String),
    #[error("config file line {0}: {1}")]
    Ini(usize, String),
    #[error("invalid --interface '{0}': {1}")]
    Interface(String, String),
    #[error("invalid --{0} '{1}': {2}")]
    Listen(&'static str, String, String),
    #[error("missing option --interface")]
    NoInterface,
    #[error(
        "missing option --listen-tcp, --listen-udp, --listen-ng, --listen-tcp-ng, --listen-http, or --listen-https"
    )]
    NoListener,
    #[error("invalid port range {0}..{1}")]
    PortRange(u16, u16),
    #[error("--no-fallback needs kernel forwarding, but it is disabled (table {0})")]
    NoKernel(i32),
    #[error("invalid --kernel-iptables-chain: {0}")]
    Chain(String),
    #[error("invalid --state-dir: empty path")]
    StateFile,
    #[error("invalid --{0} '{1}': expected [PASSWORD@]IP:PORT/DB")]
    Redis(&'static str, String),
    #[error("invalid --redis-expires '{0}'")]
    RedisExpires(String),
    #[error("invalid --{0} '{1}': expected milliseconds")]
    RedisTimeout(&'static str, String),
    #[error("invalid --{0} '{1}': expected a number")]
    RedisNumber(&'static str, String),
    #[error("invalid --endpoint-learning '{0}': expected delayed, immediate, off or heuristic")]
    EndpointLearning(String),
    /// A value 10.5 refuses with `die()`: same text, exit status 255.
    #[error("Fatal error: {0}")]
    Fatal(String),
}

/// Validated settings the daemon runs with.
#[derive(Debug, Clone)]
pub struct Config {
    pub interfaces: Vec<Interface>,
    pub listen_ng: Vec<SocketAddr>,
    /// `--listen-cli` (none by default).
    pub listen_cli: Vec<SocketAddr>,
    /// `--listen-udp`: the rtpproxy protocol (none by default).
    pub listen_udp: Vec<SocketAddr>,
    /// `--listen-http` (none by default).
    pub listen_http: Vec<SocketAddr>,
    /// `--listen-https` (none by default), served with `https_cert`/`https_key`.
    pub listen_https: Vec<SocketAddr>,
    /// `--https-cert`: PEM certificate (chain) for `--listen-https`.
    pub https_cert: Option<PathBuf>,
    /// `--https-key`: its PEM private key (default: the certificate file, as in 10.5).
    pub https_key: Option<PathBuf>,
    /// `--janus-secret`: the `admin_secret` of Janus `add_token` requests.
    pub janus_secret: Option<String>,
    /// `--listen-tcp`: the mediaproxy-style TCP protocol (none by default).
    pub listen_tcp: Vec<SocketAddr>,
    /// `--listen-tcp-ng`: ng over TCP (none by default).
    pub listen_tcp_ng: Vec<SocketAddr>,
    pub table: i32,
    pub no_fallback: bool,
    /// Keep an existing kernel table and its targets (see README.md, "The daemon and kernel forwarding").
    pub kernel_adopt: bool,
    /// Chain for the kernel forwarding rules the daemon installs itself
    /// (`--kernel-iptables-chain`; see `kernel::iptables`). None: left to rtpengine-rs-setup.
    pub iptables_chain: Option<String>,
    /// Where call state is kept for --kernel-adopt restarts.
    pub state_file: Option<PathBuf>,
    pub tos: Option<u8>,
    pub timeout: Duration,
    pub silent_timeout: Duration,
    /// Zero means no final timeout.
    pub final_timeout: Duration,
    pub offer_timeout: Duration,
    pub delete_delay: Duration,
    pub port_min: u16,
    pub port_max: u16,
    pub pidfile: Option<PathBuf>,
    pub foreground: bool,
    pub log_level: u8,
    pub log_stderr: bool,
    pub num_threads: Option<usize>,
    pub sip_source: bool,
    /// Negative: unlimited.
    pub max_sessions: i64,
    /// `--endpoint-learning` (default delayed).
    pub endpoint_learning: crate::call::LearningMode,
    /// `--software-id`, sanitised as 10.5 does (SOFTWARE in STUN answers).
    pub software_id: String,
    /// `--dtls-*`: the certificate, handshake settings and preferred role.
    pub dtls: dtls::DtlsOptions,
    /// `--redis`, `--redis-write`, `--redis-expires`, `--no-redis-required`.
    pub redis: redis::RedisOptions,
    /// `--graphite` and its settings.
    pub graphite: Option<Graphite>,
    /// `--graphite-interval` as given, also without `--graphite` (0 if not).
    pub graphite_interval: i64,
    /// `--homer` and its settings.
    pub homer: Option<Homer>,
    /// `--recording-dir` with `--recording-method`: where recorded calls
    /// go, and `--recording-format`. None: no recording.
    pub recording: Option<Recording>,
    /// `--recording-method` other than pcap or proc with a directory
    /// (logged at start).
    pub recording_unsupported: Option<String>,
}

/// Where relayed RTCP is reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Homer {
    pub addr: SocketAddr,
    /// `--homer-protocol=tcp` (default udp).
    pub tcp: bool,
    /// `--homer-id` (default 2001).
    pub capture_id: u32,
}

fn homer(cli: &Cli, host: &dyn host::Host) -> Result<Option<Homer>, ConfigError> {
    let tcp = match cli.homer_protocol.as_deref() {
        None | Some("udp") => false,
        Some("tcp") => true,
        Some(p) => {
            return Err(ConfigError::Fatal(format!(
                "Invalid protocol '{p}' (--homer-protocol)"
            )))
        }
    };
    let capture_id = match &cli.homer_id {
        // glib reads an int; HEP carries its 32 bits.
        Some(v) => int_option("homer-id", v)? as u32,
        None => 2001,
    };
    let Some(spec) = &cli.homer else {
        return Ok(None);
    };
    let addr = listen::destination(spec, host)
        .map_err(|why| ConfigError::Listen("homer", spec.clone(), why))?;
    Ok(Some(Homer {
        addr,
        tcp,
        capture_id,
    }))
}

/// Where and how graphite reports go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Graphite {
    pub addr: SocketAddr,
    /// `--graphite-interval` as given (0 when not: reports then go every
    /// second, while call durations count the 0, as in 10.5).
    pub interval_secs: i64,
    /// `--graphite-prefix`, put before every metric path as is.
    pub prefix: String,
    /// `--graphite-timeout`: the connection's TCP user timeout, seconds
    /// (none when not above 0).
    pub timeout_secs: Option<u32>,
}

/// An integer option as glib reads it (decimal, optional sign, blanks
/// around it).
fn int_option(option: &'static str, v: &str) -> Result<i64, ConfigError> {
    v.trim()
        .parse::<i64>()
        .map_err(|_| ConfigError::Listen(option, v.to_owned(), "not an integer".into()))
}

fn graphite(cli: &Cli, host: &dyn host::Host) -> Result<Option<Graphite>, ConfigError> {
    let interval_secs = match &cli.graphite_interval {
        Some(v) => int_option("graphite-interval", v)?,
        None => 0,
    };
    let timeout = match &cli.graphite_timeout {
        Some(v) => int_option("graphite-timeout", v)?,
        None => 0,
    };
    let Some(spec) = &cli.graphite else {
        return Ok(None);
    };
    let addr = listen::destination(spec, host)
        .map_err(|why| ConfigError::Listen("graphite", spec.clone(), why))?;
    Ok(Some(Graphite {
        addr,
        interval_secs,
        prefix: cli.graphite_prefix.clone().unwrap_or_default(),
        timeout_secs: u32::try_from(timeout).ok().filter(|t| *t > 0),
    }))
}

impl Config {
    pub fn from_cli(cli: &Cli) -> Result<Config, ConfigError> {
        Self::from_cli_on(cli, &host::LiveHost)
    }

    /// As `from_cli`, with interface names and host names resolved on `host`.
    pub fn from_cli_on(cli: &Cli, host: &dyn host::Host) -> Result<Config, ConfigError> {
        if cli.interface.is_empty() {
            return Err(ConfigError::NoInterface);
        }
        let interfaces = interface::resolve_all(&cli.interface, host)?;
        let listen_ng = listen::listen_ng(cli, host)?;
        let listen_udp = listen::listen_udp(cli, host)?;
        let listen_tcp = listen::listen_tcp(cli, host)?;
        let listen_tcp_ng = listen::listen_tcp_ng(cli, host)?;
        let listen_http = listen::listen_http(cli, host)?;
        let listen_https = listen::listen_https(cli, host)?;
        // As 10.5: any one control listener will do.
        if listen_ng.is_empty()
            && listen_udp.is_empty()
            && listen_tcp.is_empty()
            && listen_tcp_ng.is_empty()
            && listen_http.is_empty()
            && listen_https.is_empty()
        {
            return Err(ConfigError::NoListener);
        }
        if !listen_https.is_empty() && cli.https_cert.is_none() {
            // 10.5's words, and like 10.5 a reason not to start.
            return Err(ConfigError::Fatal(
                "Failed to init websocket listener (HTTPS/WSS listener requested, but no certificate given)".into(),
            ));
        }
        let listen_cli = listen::listen_cli(cli, host)?;
        listen::check_unserved(cli, host)?;
        let port_min = cli.port_min.unwrap_or(30000);
        let port_max = cli.port_max.unwrap_or(40000);
        // A pair needs an even RTP port and the odd port above it.
        let first_even = port_min + (port_min % 2);
        if port_min == 0
            || port_max < port_min
            || first_even.checked_add(1).is_none_or(|p| p > port_max)
        {
            return Err(ConfigError::PortRange(port_min, port_max));
        }
        let table = cli.table.unwrap_or(0);
        if cli.no_fallback && table < 0 {
            // Nothing to fall back from: the kernel was switched off explicitly.
            return Err(ConfigError::NoKernel(table));
        }
        if let Some(chain) = &cli.kernel_iptables_chain {
            chain::check_chain_name(chain).map_err(ConfigError::Chain)?;
        }
        if cli.state_file.as_deref() == Some("") {
            return Err(ConfigError::StateFile);
        }
        let endpoint_learning = match cli.endpoint_learning.as_deref() {
            None => crate::call::LearningMode::default(),
            Some(v) => crate::call::LearningMode::from_name(v)
                .ok_or_else(|| ConfigError::EndpointLearning(v.to_owned()))?,
        };
        let software_id = crate::relay::engine::ice::software_id(cli.software_id.as_deref());
        let dtls = dtls::dtls_options(cli, &software_id)?;
        let redis = redis::redis_options(cli)?;
        let graphite = graphite(cli, host)?;
        let graphite_interval = match &cli.graphite_interval {
            Some(v) => int_option("graphite-interval", v)?,
            None => 0,
        };
        let homer = homer(cli, host)?;
        let secs = |v: Option<u32>, d: u64| Duration::from_secs(v.map_or(d, u64::from));
        let (recording, recording_unsupported) = recording(cli)?;
        Ok(Config {
            interfaces,
            listen_ng,
            listen_cli,
            listen_udp,
            listen_http,
            listen_https,
            https_cert: cli.https_cert.as_ref().map(PathBuf::from),
            https_key: cli.https_key.as_ref().map(PathBuf::from),
            janus_secret: cli.janus_secret.clone(),
            listen_tcp,
            listen_tcp_ng,
            table,
            no_fallback: cli.no_fallback,
            kernel_adopt: cli.kernel_adopt,
            iptables_chain: cli.kernel_iptables_chain.clone(),
            state_file: cli.state_file.as_ref().map(PathBuf::from),
            tos: cli.tos,
            timeout: secs(cli.timeout, 60),
            silent_timeout: secs(cli.silent_timeout, 3600),
            final_timeout: secs(cli.final_timeout, 0),
            offer_timeout: secs(cli.offer_timeout, 3600),
            delete_delay: secs(cli.delete_delay, 30),
            port_min,
            port_max,
            pidfile: cli.pidfile.as_ref().map(PathBuf::from),
            foreground: cli.foreground,
            log_level: cli.log_level.unwrap_or(6),
            log_stderr: cli.log_stderr,
            num_threads: cli.num_threads,
            sip_source: cli.sip_source,
            max_sessions: cli.max_sessions.unwrap_or(-1),
            endpoint_learning,
            software_id,
            dtls,
            redis,
            graphite,
            graphite_interval,
            homer,
            recording,
            recording_unsupported,
        })
    }
}

/// How calls are recorded (`--recording-*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recording {
    pub dir: PathBuf,
    pub format: rtpengine_proto::recording::Format,
    /// `--recording-method=proc`: through the kernel module, for a
    /// recording daemon; else pcap files.
    pub proc: bool,
}

/// 10.5's `recording_fs_init`: no directory, no recording; a method other
/// than pcap and proc records nothing; a bad format is fatal.
fn recording(cli: &Cli) -> Result<(Option<Recording>, Option<String>), ConfigError> {
    let Some(dir) = cli.recording_dir.as_deref().filter(|d| !d.is_empty()) else {
        return Ok((None, None));
    };
    let method = cli.recording_method.as_deref().unwrap_or("pcap");
    let format = cli.recording_format.as_deref().unwrap_or("raw");
    if method != "pcap" && method != "proc" {
        return Ok((None, Some(method.to_owned())));
    }
    let format = rtpengine_proto::recording::Format::parse(format).ok_or_else(|| {
        ConfigError::Fatal(format!("Invalid value for recording format \"{format}\"."))
    })?;
    Ok((
        Some(Recording {
            dir: PathBuf::from(dir),
            format,
            proc: method == "proc",
        }),
        None,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn cfg(args: &[&str]) -> Result<Config, ConfigError> {
        let mut v = vec!["rtpengined", "--config-file=none"];
        v.extend_from_slice(args);
        Config::from_cli(&Cli::parse_from(v))
    }

    #[test]
    fn recording_methods_pcap_and_proc() {
        let rec = |more: &[&str]| {
            let mut v = vec!["-i", "127.0.0.1", "-n", "127.0.0.1:2223"];
            v.extend_from_slice(more);
            let c = cfg(&v).unwrap();
            (c.recording, c.recording_unsupported)
        };
        let (r, u) = rec(&["--recording-dir=/r", "--recording-method=proc"]);
        let r = r.unwrap();
        assert!(r.proc && u.is_none());
        assert_eq!(r.dir, PathBuf::from("/r"));
        assert!(!rec(&["--recording-dir=/r"]).0.unwrap().proc);
        assert_eq!(
            rec(&["--recording-dir=/r", "--recording-method=x"]),
            (None, Some("x".into()))
        );
        // No directory: nothing recorded, whatever the method.
        assert_eq!(rec(&["--recording-method=proc"]), (None, None));
    }

    #[test]
    fn short_and_long_forms() {
        let c = cfg(&[
            "-i",
            "127.0.0.1",
            "-n",
            "127.0.0.1:2223",
            "-m",
            "32000",
            "-M",
            "32099",
            "-o",
            "5",
            "-s",
            "7",
            "-a",
            "9",
            "-d",
            "0",
            "-t",
            "-1",
            "-T",
            "184",
            "-f",
            "-E",
        ])
        .unwrap();
        assert_eq!(c.port_min, 32000);
        assert_eq!(c.port_max, 32099);
        assert_eq!(c.timeout, Duration::from_secs(5));
        assert_eq!(c.silent_timeout, Duration::from_secs(7));
        assert_eq!(c.final_timeout, Duration::from_secs(9));
        assert_eq!(c.delete_delay, Duration::ZERO);
        assert_eq!(c.table, -1);
        assert_eq!(c.tos, Some(184));
        assert!(c.foreground && c.log_stderr);
    }

    #[test]
    fn invalid_combinations() {
        assert!(matches!(
            cfg(&["-n", "2223"]),
            Err(ConfigError::NoInterface)
        ));
        assert!(matches!(
            cfg(&["-i", "127.0.0.1"]),
            Err(ConfigError::NoListener)
        ));
        assert!(matches!(
            cfg(&["-i", "127.0.0.1", "-n", "2223", "-m", "4000", "-M", "3000"]),
            Err(ConfigError::PortRange(..))
        ));
        assert!(matches!(
            cfg(&[
                "-i",
                "127.0.0.1",
                "-n",
                "2223",
                "--no-fallback",
                "--table=-1"
            ]),
            Err(ConfigError::NoKernel(-1))
        ));
    }

    #[test]
    fn endpoint_learning_modes() {
        use crate::call::LearningMode;
        let base = ["-i", "127.0.0.1", "-n", "2223"];
        assert_eq!(cfg(&base).unwrap().endpoint_learning, LearningMode::Delayed);
        for (v, m) in [
            ("delayed", LearningMode::Delayed),
            ("immediate", LearningMode::Immediate),
            ("OFF", LearningMode::Off),
            ("Heuristic", LearningMode::Heuristic),
        ] {
            let opt = format!("--endpoint-learning={v}");
            let mut args = base.to_vec();
            args.push(&opt);
            assert_eq!(cfg(&args).unwrap().endpoint_learning, m);
        }
        let mut args = base.to_vec();
        args.push("--endpoint-learning=latch");
        let err = cfg(&args).unwrap_err();
        assert!(matches!(err, ConfigError::EndpointLearning(_)));
        assert!(err.to_string().contains("'latch'"), "{err}");
        // The config file key, implemented (no warning about it).
        let dir = std::env::temp_dir().join(format!("rtpengined-cfg-el-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("r.conf");
        std::fs::write(
            &path,
            "[rtpengine]\ninterface = 127.0.0.1\nlisten-ng = 2223\nendpoint-learning = immediate\n",
        )
        .unwrap();
        let argv = vec![
            "rtpengined".to_string(),
            format!("--config-file={}", path.display()),
        ];
        let (cli, notes) = Cli::load(argv).unwrap();
        assert_eq!(
            Config::from_cli(&cli).unwrap().endpoint_learning,
            LearningMode::Immediate
        );
        assert!(
            !notes.iter().any(|n| n.text().contains("endpoint-learning")),
            "{notes:?}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn kernel_iptables_chain_and_state_file() {
        let base = ["-i", "127.0.0.1", "-n", "2223"];
        let c = cfg(&base).unwrap();
        assert_eq!((c.iptables_chain, c.state_file), (None, None));
        let mut args = base.to_vec();
        args.extend(["--kernel-iptables-chain=rtpe0", "--state-dir=/run/x/state"]);
        let c = cfg(&args).unwrap();
        assert_eq!(c.iptables_chain.as_deref(), Some("rtpe0"));
        assert_eq!(c.state_file, Some(PathBuf::from("/run/x/state")));
        for bad in ["INPUT", "-x", "a b", ""] {
            let mut args = base.to_vec();
            let opt = format!("--kernel-iptables-chain={bad}");
            args.push(&opt);
            assert!(
                matches!(cfg(&args), Err(ConfigError::Chain(_))),
                "{bad:?} accepted"
            );
        }
        let mut args = base.to_vec();
        args.push("--state-dir=");
        assert!(matches!(cfg(&args), Err(ConfigError::StateFile)));
        // The first name of the option stays an alias.
        let mut args = base.to_vec();
        args.push("--state-file=/run/y");
        assert_eq!(
            cfg(&args).unwrap().state_file,
            Some(PathBuf::from("/run/y"))
        );
        // 10.5's --iptables-chain (per-port firewall rules) is a different option.
        let mut args = base.to_vec();
        args.push("--iptables-chain=fw");
        assert_eq!(cfg(&args).unwrap().iptables_chain, None);
    }

    #[test]
    fn kernel_iptables_chain_and_state_file_from_the_config_file() {
        let dir = std::env::temp_dir().join(format!("rtpengined-cfg-ipt-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("r.conf");
        std::fs::write(
            &path,
            "[rtpengine]\ninterface = 127.0.0.1\nlisten-ng = 2223\n\
             kernel-iptables-chain = rtpe-ini\nstate-file = /var/lib/rtpengine-rs/state\n\
             iptables-chain = fw\n",
        )
        .unwrap();
        let load = |extra: &[&str]| {
            let mut argv = vec![
                "rtpengined".to_string(),
                format!("--config-file={}", path.display()),
            ];
            argv.extend(extra.iter().map(|s| s.to_string()));
            let (cli, notes) = Cli::load(argv).unwrap();
            (Config::from_cli(&cli).unwrap(), notes)
        };
        let (c, notes) = load(&[]);
        assert_eq!(c.iptables_chain.as_deref(), Some("rtpe-ini"));
        assert_eq!(
            c.state_file,
            Some(PathBuf::from("/var/lib/rtpengine-rs/state"))
        );
        let warned = |name: &str| {
            notes
                .iter()
                .any(|n| matches!(n, cli::Note::Warn(t) if t.contains(&format!("--{name} "))))
        };
        assert!(warned("iptables-chain"), "{notes:?}");
        assert!(!warned("kernel-iptables-chain"), "{notes:?}");
        assert!(!warned("state-dir"), "{notes:?}");
        assert!(
            !notes.iter().any(|n| n.text().contains("unknown key")),
            "{notes:?}"
        );
        let (c, _) = load(&["--kernel-iptables-chain=rtpe-cli", "--state-dir=/tmp/s"]);
        assert_eq!(c.iptables_chain.as_deref(), Some("rtpe-cli"));
        assert_eq!(c.state_file, Some(PathBuf::from("/tmp/s")));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn each_new_listener_alone_is_enough_and_not_warned_about() {
        for (opt, https) in [
            ("--listen-tcp=127.0.0.1:2224", false),
            ("--listen-tcp-ng=127.0.0.1:2225", false),
            ("--listen-http=127.0.0.1:2226", false),
            ("--listen-https=127.0.0.1:2227", true),
        ] {
            let mut argv = vec!["rtpengined", "--config-file=none", "-i", "127.0.0.1", opt];
            if https {
                argv.extend(["--https-cert=/c.pem", "--https-key=/k.pem"]);
            }
            let argv = argv.iter().map(|s| s.to_string()).collect();
            let (cli, notes) = Cli::load(argv).unwrap();
            let c = Config::from_cli(&cli).unwrap_or_else(|e| panic!("{opt}: {e}"));
            let got = [
                &c.listen_tcp,
                &c.listen_tcp_ng,
                &c.listen_http,
                &c.listen_https,
            ];
            assert_eq!(got.iter().map(|v| v.len()).sum::<usize>(), 1, "{opt}");
            assert!(
                !notes.iter().any(|n| matches!(n, cli::Note::Warn(_))),
                "{opt}: {notes:?}"
            );
        }
        // HTTPS needs a certificate, as in 10.5.
        let err = cfg(&["-i", "127.0.0.1", "--listen-https=127.0.0.1:2227"]).unwrap_err();
        assert!(
            matches!(&err, ConfigError::Fatal(t) if t.contains("no certificate given")),
            "{err}"
        );
    }

    #[test]
    fn listen_udp_alone_is_a_listener_and_not_warned_about() {
        let argv: Vec<String> = [
            "rtpengined",
            "--config-file=none",
            "-i",
            "127.0.0.1",
            "--listen-udp=127.0.0.1:2222",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let (cli, notes) = Cli::load(argv).unwrap();
        let c = Config::from_cli(&cli).unwrap();
        assert!(c.listen_ng.is_empty());
        assert_eq!(
            c.listen_udp,
            vec!["127.0.0.1:2222".parse::<SocketAddr>().unwrap()]
        );
        assert!(
            !notes
                .iter()
                .any(|n| matches!(n, cli::Note::Warn(t) if t.contains("listen-udp"))),
            "{notes:?}"
        );
    }

    #[test]
    fn config_file_merges_and_cli_wins() {
        let dir = std::env::temp_dir().join(format!("rtpengined-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("r.conf");
        std::fs::write(&path, "[rtpengine]\ninterface = 127.0.0.1\nlisten-ng = 127.0.0.1:2300\ntimeout = 11\nforeground = true\nmqtt-host = 127.0.0.1\n").unwrap();
        let argv: Vec<String> = [
            "rtpengined",
            &format!("--config-file={}", path.display()),
            "--timeout=22",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let (cli, notes) = Cli::load(argv).unwrap();
        let c = Config::from_cli(&cli).unwrap();
        assert_eq!(c.timeout, Duration::from_secs(22));
        assert!(c.foreground);
        assert_eq!(
            c.listen_ng,
            vec!["127.0.0.1:2300".parse::<SocketAddr>().unwrap()]
        );
        assert!(
            notes
                .iter()
                .any(|n| matches!(n, cli::Note::Warn(t) if t.contains("--mqtt-host"))),
            "{notes:?}"
        );
        let missing: Vec<String> = ["rtpengined", "--config-file=/nonexistent/x.conf"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert!(matches!(Cli::load(missing), Err(ConfigError::File(..))));
    }
}
