//! The command line: every option of rtpengine 10.5 (long and short forms), so existing
//! command lines and config files work unchanged. Options whose feature does not exist
//! yet are accepted and reported by `Cli::unimplemented_options` (logged as warnings).

use clap::{ArgAction, CommandFactory, FromArgMatches, Parser};

#[derive(Debug, Clone, Parser)]
#[command(
    name = "rtpengined",
    about = "rtpengine-rs: next-generation media proxy (rtpengine 10.5 compatible)",
    disable_version_flag = true,
    args_override_self = true
)]
pub struct Cli {
    #[arg(short = 'v', long = "version", action = ArgAction::SetTrue)]
    pub version: bool,
    #[arg(long = "config-file", value_name = "FILE")]
    pub config_file: Option<String>,
    #[arg(long = "config-section", value_name = "STRING")]
    pub config_section: Option<String>,
    #[arg(long = "log-facility")]
    pub log_facility: Option<String>,
    #[arg(short = 'L', long = "log-level", value_name = "INT")]
    pub log_level: Option<u8>,
    #[arg(long = "log-level-core")]
    pub log_level_core: Option<String>,
    #[arg(long = "log-level-spandsp")]
    pub log_level_spandsp: Option<String>,
    #[arg(long = "log-level-ffmpeg")]
    pub log_level_ffmpeg: Option<String>,
    #[arg(long = "log-level-transcoding")]
    pub log_level_transcoding: Option<String>,
    #[arg(long = "log-level-codec")]
    pub log_level_codec: Option<String>,
    #[arg(long = "log-level-rtcp")]
    pub log_level_rtcp: Option<String>,
    #[arg(long = "log-level-ice")]
    pub log_level_ice: Option<String>,
    #[arg(long = "log-level-crypto")]
    pub log_level_crypto: Option<String>,
    #[arg(long = "log-level-srtp")]
    pub log_level_srtp: Option<String>,
    #[arg(long = "log-level-internals")]
    pub log_level_internals: Option<String>,
    #[arg(long = "log-level-http")]
    pub log_level_http: Option<String>,
    #[arg(long = "log-level-control")]
    pub log_level_control: Option<String>,
    #[arg(long = "log-level-dtx")]
    pub log_level_dtx: Option<String>,
    #[arg(short = 'E', long = "log-stderr", action = ArgAction::SetTrue)]
    pub log_stderr: bool,
    #[arg(long = "split-logs", action = ArgAction::SetTrue)]
    pub split_logs: bool,
    #[arg(long = "max-log-line-length")]
    pub max_log_line_length: Option<String>,
    #[arg(long = "no-log-timestamps", action = ArgAction::SetTrue)]
    pub no_log_timestamps: bool,
    #[arg(long = "log-mark-prefix")]
    pub log_mark_prefix: Option<String>,
    #[arg(long = "log-mark-suffix")]
    pub log_mark_suffix: Option<String>,
    #[arg(short = 'p', long = "pidfile", value_name = "FILE")]
    pub pidfile: Option<String>,
    #[arg(short = 'f', long = "foreground", action = ArgAction::SetTrue)]
    pub foreground: bool,
    #[arg(long = "thread-stack")]
    pub thread_stack: Option<String>,
    #[arg(
        short = 't',
        long = "table",
        value_name = "INT",
        allow_hyphen_values = true
    )]
    pub table: Option<i32>,
    #[arg(short = 'F', long = "no-fallback", action = ArgAction::SetTrue)]
    pub no_fallback: bool,
    /// Ours (not in 10.5): keep an existing kernel table and its targets at startup
    /// instead of recreating it, so forwarded calls survive a restart.
    #[arg(long = "kernel-adopt", action = ArgAction::SetTrue)]
    pub kernel_adopt: bool,
    /// Ours (not in 10.5): install the rules that send UDP to the kernel table (chain
    /// NAME, `-p udp -j NAME` from INPUT, `-p udp -j RTPENGINE --id TABLE` in it) for
    /// iptables and ip6tables at start, remove them on stop (kept with --kernel-adopt).
    /// Needs root. Not 10.5's --iptables-chain (per-port firewall rules).
    #[arg(long = "kernel-iptables-chain", value_name = "NAME")]
    pub kernel_iptables_chain: Option<String>,
    /// Ours (not in 10.5): where call state is kept for --kernel-adopt restarts.
    #[arg(long = "state-dir", alias = "state-file", value_name = "DIR")]
    pub state_file: Option<String>,
    #[arg(
        short = 'i',
        long = "interface",
        value_name = "[NAME/]IP|IFNAME|any|HOSTNAME[!IP]"
    )]
    pub interface: Vec<String>,
    #[arg(short = 'S', long = "save-interface-ports", action = ArgAction::SetTrue)]
    pub save_interface_ports: bool,
    #[arg(short = 'k', long = "subscribe-keyspace", num_args = 1..)]
    pub subscribe_keyspace: Vec<String>,
    #[arg(short = 'l', long = "listen-tcp")]
    pub listen_tcp: Option<String>,
    #[arg(short = 'u', long = "listen-udp")]
    pub listen_udp: Option<String>,
    #[arg(short = 'n', long = "listen-ng", value_name = "[IP46|HOSTNAME:]PORT")]
    pub listen_ng: Vec<String>,
    #[arg(short = 'N', long = "listen-tcp-ng")]
    pub listen_tcp_ng: Option<String>,
    #[arg(short = 'c', long = "listen-cli")]
    pub listen_cli: Option<String>,
    #[arg(short = 'g', long = "graphite")]
    pub graphite: Option<String>,
    #[arg(short = 'G', long = "graphite-interval")]
    pub graphite_interval: Option<String>,
    #[arg(long = "graphite-prefix")]
    pub graphite_prefix: Option<String>,
    #[arg(long = "graphite-timeout")]
    pub graphite_timeout: Option<String>,
    #[arg(short = 'T', long = "tos", value_name = "INT")]
    pub tos: Option<u8>,
    #[arg(long = "control-tos", value_name = "INT")]
    pub control_tos: Option<u8>,
    #[arg(short = 'o', long = "timeout", value_name = "SECS")]
    pub timeout: Option<u32>,
    #[arg(short = 's', long = "silent-timeout", value_name = "SECS")]
    pub silent_timeout: Option<u32>,
    #[arg(short = 'a', long = "final-timeout", value_name = "SECS")]
    pub final_timeout: Option<u32>,
    #[arg(long = "offer-timeout", value_name = "SECS")]
    pub offer_timeout: Option<u32>,
    #[arg(short = 'm', long = "port-min", value_name = "INT")]
    pub port_min: Option<u16>,
    #[arg(short = 'M', long = "port-max", value_name = "INT")]
    pub port_max: Option<u16>,
    #[arg(short = 'r', long = "redis")]
    pub redis: Option<String>,
    #[arg(short = 'w', long = "redis-write")]
    pub redis_write: Option<String>,
    #[arg(long = "redis-num-threads")]
    pub redis_num_threads: Option<String>,
    #[arg(long = "redis-expires")]
    pub redis_expires: Option<String>,
    #[arg(short = 'q', long = "no-redis-required", action = ArgAction::SetTrue)]
    pub no_redis_required: bool,
    #[arg(long = "redis-allowed-errors")]
    pub redis_allowed_errors: Option<String>,
    #[arg(long = "redis-disable-time")]
    pub redis_disable_time: Option<String>,
    #[arg(long = "redis-cmd-timeout")]
    pub redis_cmd_timeout: Option<String>,
    #[arg(long = "redis-connect-timeout")]
    pub redis_connect_timeout: Option<String>,
    #[arg(short = 'y', long = "redis-delete-async", action = ArgAction::SetTrue)]
    pub redis_delete_async: bool,
    #[arg(long = "redis-delete-async-interval")]
    pub redis_delete_async_interval: Option<String>,
    #[arg(long = "active-switchover", action = ArgAction::SetTrue)]
    pub active_switchover: bool,
    #[arg(short = 'b', long = "b2b-url")]
    pub b2b_url: Option<String>,
    #[arg(long = "log-facility-cdr")]
    pub log_facility_cdr: Option<String>,
    #[arg(long = "log-facility-rtcp")]
    pub log_facility_rtcp: Option<String>,
    #[arg(long = "log-facility-dtmf")]
    pub log_facility_dtmf: Option<String>,
    #[arg(long = "dtmf-log-dest")]
    pub dtmf_log_dest: Option<String>,
    #[arg(long = "dtmf-log-ng-tcp", action = ArgAction::SetTrue)]
    pub dtmf_log_ng_tcp: bool,
    #[arg(long = "dtmf-no-suppress", action = ArgAction::SetTrue)]
    pub dtmf_no_suppress: bool,
    #[arg(long = "dtmf-digit-delay")]
    pub dtmf_digit_delay: Option<String>,
    #[arg(long = "log-format")]
    pub log_format: Option<String>,
    #[arg(short = 'x', long = "xmlrpc-format")]
    pub xmlrpc_format: Option<String>,
    #[arg(long = "num-threads", value_name = "INT")]
    pub num_threads: Option<usize>,
    #[arg(long = "media-num-threads")]
    pub media_num_threads: Option<String>,
    #[arg(short = 'd', long = "delete-delay", value_name = "INT")]
    pub delete_delay: Option<u32>,
    #[arg(long = "sip-source", action = ArgAction::SetTrue)]
    pub sip_source: bool,
    #[arg(long = "dtls-passive", action = ArgAction::SetTrue)]
    pub dtls_passive: bool,
    #[arg(long = "max-sessions", value_name = "INT", allow_hyphen_values = true)]
    pub max_sessions: Option<i64>,
    #[arg(long = "max-load")]
    pub max_load: Option<String>,
    #[arg(long = "max-cpu")]
    pub max_cpu: Option<String>,
    #[arg(long = "max-bandwidth")]
    pub max_bandwidth: Option<String>,
    #[arg(long = "homer")]
    pub homer: Option<String>,
    #[arg(long = "homer-protocol")]
    pub homer_protocol: Option<String>,
    #[arg(long = "homer-id")]
    pub homer_id: Option<String>,
    #[arg(long = "recording-dir")]
    pub recording_dir: Option<String>,
    #[arg(long = "recording-method")]
    pub recording_method: Option<String>,
    #[arg(long = "recording-format")]
    pub recording_format: Option<String>,
    #[arg(long = "iptables-chain")]
    pub iptables_chain: Option<String>,
    #[arg(long = "codecs", action = ArgAction::SetTrue)]
    pub codecs: bool,
    #[arg(long = "scheduling")]
    pub scheduling: Option<String>,
    #[arg(long = "priority")]
    pub priority: Option<String>,
    #[arg(long = "idle-scheduling")]
    pub idle_scheduling: Option<String>,
    #[arg(long = "idle-priority")]
    pub idle_priority: Option<String>,
    #[arg(long = "log-srtp-keys", action = ArgAction::SetTrue)]
    pub log_srtp_keys: bool,
    #[arg(long = "mysql-host")]
    pub mysql_host: Option<String>,
    #[arg(long = "mysql-port")]
    pub mysql_port: Option<String>,
    #[arg(long = "mysql-user")]
    pub mysql_user: Option<String>,
    #[arg(long = "mysql-pass")]
    pub mysql_pass: Option<String>,
    #[arg(long = "mysql-query")]
    pub mysql_query: Option<String>,
    #[arg(long = "endpoint-learning")]
    pub endpoint_learning: Option<String>,
    #[arg(long = "jitter-buffer")]
    pub jitter_buffer: Option<String>,
    #[arg(long = "jb-clock-drift", action = ArgAction::SetTrue)]
    pub jb_clock_drift: bool,
    #[arg(long = "debug-srtp", action = ArgAction::SetTrue)]
    pub debug_srtp: bool,
    #[arg(long = "reject-invalid-sdp", action = ArgAction::SetTrue)]
    pub reject_invalid_sdp: bool,
    #[arg(long = "dtls-rsa-key-size")]
    pub dtls_rsa_key_size: Option<String>,
    #[arg(long = "dtls-cert-cipher")]
    pub dtls_cert_cipher: Option<String>,
    #[arg(long = "dtls-mtu")]
    pub dtls_mtu: Option<String>,
    #[arg(long = "dtls-ciphers")]
    pub dtls_ciphers: Option<String>,
    #[arg(long = "dtls-signature")]
    pub dtls_signature: Option<String>,
    #[arg(long = "listen-http", value_name = "[IP46|HOSTNAME:]PORT")]
    pub listen_http: Vec<String>,
    #[arg(long = "listen-https", value_name = "[IP46|HOSTNAME:]PORT")]
    pub listen_https: Vec<String>,
    #[arg(long = "https-cert")]
    pub https_cert: Option<String>,
    #[arg(long = "https-key")]
    pub https_key: Option<String>,
    #[arg(long = "http-threads")]
    pub http_threads: Option<String>,
    #[arg(long = "software-id")]
    pub software_id: Option<String>,
    #[arg(long = "poller-per-thread", action = ArgAction::SetTrue)]
    pub poller_per_thread: bool,
    #[arg(long = "dtx-delay")]
    pub dtx_delay: Option<String>,
    #[arg(long = "max-dtx")]
    pub max_dtx: Option<String>,
    #[arg(long = "dtx-buffer")]
    pub dtx_buffer: Option<String>,
    #[arg(long = "dtx-lag")]
    pub dtx_lag: Option<String>,
    #[arg(long = "dtx-shift")]
    pub dtx_shift: Option<String>,
    #[arg(long = "dtx-cn-params", num_args = 1..)]
    pub dtx_cn_params: Vec<String>,
    #[arg(long = "amr-dtx")]
    pub amr_dtx: Option<String>,
    #[arg(long = "silence-detect")]
    pub silence_detect: Option<String>,
    #[arg(long = "cn-payload", num_args = 1..)]
    pub cn_payload: Vec<String>,
    #[arg(long = "mqtt-host")]
    pub mqtt_host: Option<String>,
    #[arg(long = "mqtt-port")]
    pub mqtt_port: Option<String>,
    #[arg(long = "mqtt-id")]
    pub mqtt_id: Option<String>,
    #[arg(long = "mqtt-keepalive")]
    pub mqtt_keepalive: Option<String>,
    #[arg(long = "mqtt-user")]
    pub mqtt_user: Option<String>,
    #[arg(long = "mqtt-pass")]
    pub mqtt_pass: Option<String>,
    #[arg(long = "mqtt-cafile")]
    pub mqtt_cafile: Option<String>,
    #[arg(long = "mqtt-capath")]
    pub mqtt_capath: Option<String>,
    #[arg(long = "mqtt-certfile")]
    pub mqtt_certfile: Option<String>,
    #[arg(long = "mqtt-keyfile")]
    pub mqtt_keyfile: Option<String>,
    #[arg(long = "mqtt-publish-qos")]
    pub mqtt_publish_qos: Option<String>,
    #[arg(long = "mqtt-publish-topic")]
    pub mqtt_publish_topic: Option<String>,
    #[arg(long = "mqtt-publish-interval")]
    pub mqtt_publish_interval: Option<String>,
    #[arg(long = "mqtt-publish-scope")]
    pub mqtt_publish_scope: Option<String>,
    #[arg(long = "mos")]
    pub mos: Option<String>,
    #[arg(long = "socket-cpu-affinity")]
    pub socket_cpu_affinity: Option<String>,
    #[arg(long = "janus-secret")]
    pub janus_secret: Option<String>,
}

/// Something to log once logging is set up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Note {
    Info(String),
    Warn(String),
}

impl Note {
    pub fn text(&self) -> &str {
        match self {
            Note::Info(t) | Note::Warn(t) => t,
        }
    }
}

/// Options with a real implementation; anything else given is warned about.
const IMPLEMENTED: &[&str] = &[
    "version",
    "config_file",
    "config_section",
    "log_level",
    "log_stderr",
    "no_log_timestamps",
    "pidfile",
    "foreground",
    "table",
    "no_fallback",
    "kernel_adopt",
    "kernel_iptables_chain",
    "state_file",
    "interface",
    "listen_ng",
    "listen_cli",
    "listen_udp",
    "listen_http",
    "tos",
    "timeout",
    "silent_timeout",
    "final_timeout",
    "port_min",
    "port_max",
    "num_threads",
    "delete_delay",
    "sip_source",
    "max_sessions",
    "offer_timeout",
    "endpoint_learning",
    "dtls_passive",
    "dtls_rsa_key_size",
    "dtls_cert_cipher",
    "dtls_mtu",
    "dtls_ciphers",
    "dtls_signature",
    "graphite",
    "graphite_interval",
    "graphite_prefix",
    "graphite_timeout",
    "homer",
    "homer_protocol",
    "homer_id",
];

impl Cli {
    /// Parse argv merged with the INI config file (command line wins). Also returns
    /// notes for the log (warnings about ignored options, which file was read).
    pub fn load(argv: Vec<String>) -> Result<(Cli, Vec<Note>), super::ConfigError> {
        let mut cmd = Cli::command();
        // Building resolves each argument's value count, used to map INI keys below.
        cmd.build();
        let first = cmd.clone().try_get_matches_from(&argv)?;
        let cli_only = Cli::from_arg_matches(&first)?;
        let mut notes = Vec::new();
        let file = match cli_only.config_file.as_deref() {
            Some("none") => None,
            Some(path) => Some((path.to_owned(), true)),
            None => Some((super::DEFAULT_CONFIG_FILE.to_owned(), false)),
        };
        let mut merged = argv.clone();
        if let Some((path, explicit)) = file {
            let section = cli_only
                .config_section
                .clone()
                .unwrap_or_else(|| "rtpengine".into());
            match std::fs::read_to_string(&path) {
                Ok(text) => {
                    let entries = super::ini::section(&text, &section)?;
                    notes.push(Note::Info(format!(
                        "loaded config file {path} section [{section}]"
                    )));
                    let mut extra = Vec::new();
                    for (key, value) in entries {
                        // Long names and their aliases (`state-file` for `state-dir`).
                        let arg = cmd.get_arguments().find(|a| {
                            a.get_long() == Some(key.as_str())
                                || a.get_all_aliases()
                                    .is_some_and(|v| v.contains(&key.as_str()))
                        });
                        let Some(arg) = arg else {
                            notes.push(Note::Warn(format!(
                                "config file: unknown key '{key}' ignored"
                            )));
                            continue;
                        };
                        let id = arg.get_id().as_str();
                        if first.value_source(id) == Some(clap::parser::ValueSource::CommandLine) {
                            continue;
                        }
                        let takes_value = arg.get_num_args().is_some_and(|n| n.takes_values());
                        if takes_value {
                            // Array options in INI files are `;`-separated, as in glib.
                            for v in value.split(';').map(str::trim).filter(|v| !v.is_empty()) {
                                extra.push(format!("--{key}={v}"));
                            }
                        } else if matches!(value.as_str(), "true" | "yes" | "1" | "on") {
                            extra.push(format!("--{key}"));
                        }
                    }
                    merged.splice(1..1, extra);
                }
                Err(e) if !explicit && e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(super::ConfigError::File(path, e.to_string())),
            }
        }
        let matches = cmd.try_get_matches_from(&merged)?;
        let cli = Cli::from_arg_matches(&matches)?;
        for arg in Cli::command().get_arguments() {
            let id = arg.get_id().as_str();
            let given = matches!(
                matches.value_source(id),
                Some(clap::parser::ValueSource::CommandLine)
            );
            if given && !IMPLEMENTED.contains(&id) {
                let name = arg.get_long().unwrap_or(id);
                notes.push(Note::Warn(format!(
                    "option --{name} is accepted but not implemented yet; ignored"
                )));
            }
        }
        Ok((cli, notes))
    }
}
