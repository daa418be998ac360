//! The command line: every option of rtpengine 10.5 (long and short forms), so existing
//! command lines and config files work unchanged. Options whose feature does not exist
//! yet are accepted and reported by `Cli::unimplemented_options` (logged as warnings).

use clap::{ArgAction, CommandFactory, FromArgMatches, Parser};

/// The help headings: 10.5's `--help` puts `-h` under "Help Options" and every other
/// option under "Application Options"; ours that 10.5 lacks get a heading of their own.
pub const HELP_OPTIONS: &str = "Help Options";
pub const APPLICATION_OPTIONS: &str = "Application Options";
pub const OUR_OPTIONS: &str = "rtpengine-rs Options";
/// Added to the help of every option that is not in IMPLEMENTED.
pub const NOT_IMPLEMENTED_NOTE: &str = "Accepted, not implemented (ignored with a warning)";

// Each option's first doc-comment paragraph is its `--help` line and its man page
// entry; `Cli::command_with_notes` adds the "accepted, not implemented" note from
// IMPLEMENTED, so do not write that note here.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "rtpengined",
    about = "rtpengine-rs: next-generation media proxy (rtpengine 10.5 compatible)",
    disable_version_flag = true,
    disable_help_flag = true,
    args_override_self = true,
    next_help_heading = APPLICATION_OPTIONS
)]
pub struct Cli {
    /// Print this help and exit.
    #[arg(short = 'h', long = "help", action = ArgAction::Help, help_heading = HELP_OPTIONS)]
    help: Option<bool>,
    /// Print the version and exit.
    #[arg(short = 'v', long = "version", action = ArgAction::SetTrue)]
    pub version: bool,
    /// Read settings from this INI file; `none` reads no file. Command-line values win
    /// over the file's. Default: /etc/rtpengine/rtpengine.conf, skipped if it does not exist.
    #[arg(long = "config-file", value_name = "FILE")]
    pub config_file: Option<String>,
    /// Section of the config file to read. Default: rtpengine.
    #[arg(long = "config-section", value_name = "STRING")]
    pub config_section: Option<String>,
    /// Syslog facility for the daemon's log. Default: daemon.
    #[arg(long = "log-facility", value_name = "daemon|local0|...|local7")]
    pub log_facility: Option<String>,
    /// Log messages up to this syslog severity, 0 (emergencies only) to 7 (debug).
    /// Default: 6 (informational).
    #[arg(short = 'L', long = "log-level", value_name = "INT")]
    pub log_level: Option<u8>,
    /// Log level for messages that belong to no other subsystem. Default: --log-level.
    #[arg(long = "log-level-core", value_name = "INT")]
    pub log_level_core: Option<String>,
    /// Log level for messages from the SpanDSP library. Default: --log-level.
    #[arg(long = "log-level-spandsp", value_name = "INT")]
    pub log_level_spandsp: Option<String>,
    /// Log level for messages from the ffmpeg libraries. Default: --log-level.
    #[arg(long = "log-level-ffmpeg", value_name = "INT")]
    pub log_level_ffmpeg: Option<String>,
    /// Log level for transcoding of media and RTP. Default: --log-level.
    #[arg(long = "log-level-transcoding", value_name = "INT")]
    pub log_level_transcoding: Option<String>,
    /// Log level for codec negotiation in SDP. Default: --log-level.
    #[arg(long = "log-level-codec", value_name = "INT")]
    pub log_level_codec: Option<String>,
    /// Log level for RTCP processing. Default: --log-level.
    #[arg(long = "log-level-rtcp", value_name = "INT")]
    pub log_level_rtcp: Option<String>,
    /// Log level for ICE negotiation and connectivity checks. Default: --log-level.
    #[arg(long = "log-level-ice", value_name = "INT")]
    pub log_level_ice: Option<String>,
    /// Log level for crypto negotiation (SDES, DTLS, SRTP suites). Default: --log-level.
    #[arg(long = "log-level-crypto", value_name = "INT")]
    pub log_level_crypto: Option<String>,
    /// Log level for SRTP and SRTCP encryption and decryption. Default: --log-level.
    #[arg(long = "log-level-srtp", value_name = "INT")]
    pub log_level_srtp: Option<String>,
    /// Log level for verbose low-level internals. Default: off.
    #[arg(long = "log-level-internals", value_name = "INT")]
    pub log_level_internals: Option<String>,
    /// Log level for the HTTP, HTTPS and WebSocket listeners. Default: --log-level.
    #[arg(long = "log-level-http", value_name = "INT")]
    pub log_level_http: Option<String>,
    /// Log level for the control protocols (ng, rtpproxy, CLI) and their SDP.
    /// Default: --log-level.
    #[arg(long = "log-level-control", value_name = "INT")]
    pub log_level_control: Option<String>,
    /// Log level for DTX timers and buffers. Default: --log-level.
    #[arg(long = "log-level-dtx", value_name = "INT")]
    pub log_level_dtx: Option<String>,
    /// Write the log to standard error instead of syslog. Default: syslog.
    #[arg(short = 'E', long = "log-stderr", action = ArgAction::SetTrue)]
    pub log_stderr: bool,
    /// Log each line of a multi-line message as a message of its own. Default: off.
    #[arg(long = "split-logs", action = ArgAction::SetTrue)]
    pub split_logs: bool,
    /// Wrap log messages longer than this many characters. Default: 0 (no limit).
    #[arg(long = "max-log-line-length", value_name = "INT")]
    pub max_log_line_length: Option<String>,
    /// Leave out the timestamp of each line logged to standard error. Default: off.
    #[arg(long = "no-log-timestamps", action = ArgAction::SetTrue)]
    pub no_log_timestamps: bool,
    /// Text written before sensitive values (addresses, call IDs) in the log, so they
    /// can be found and removed later. Default: none.
    #[arg(long = "log-mark-prefix", value_name = "STRING")]
    pub log_mark_prefix: Option<String>,
    /// Text written after sensitive values in the log. Default: none.
    #[arg(long = "log-mark-suffix", value_name = "STRING")]
    pub log_mark_suffix: Option<String>,
    /// Write the daemon's process ID to this file. Default: no file.
    #[arg(short = 'p', long = "pidfile", value_name = "FILE")]
    pub pidfile: Option<String>,
    /// Stay in the foreground instead of detaching as a daemon. Default: detach.
    #[arg(short = 'f', long = "foreground", action = ArgAction::SetTrue)]
    pub foreground: bool,
    /// Stack size of each thread, in kB. Default: the system's.
    #[arg(long = "thread-stack", value_name = "INT")]
    pub thread_stack: Option<String>,
    /// Kernel forwarding table (xt_RTPENGINE) to use, 0 to 63; a negative number
    /// relays every packet in userspace. Default: 0 (10.5: -1).
    #[arg(
        short = 't',
        long = "table",
        value_name = "INT",
        allow_hyphen_values = true
    )]
    pub table: Option<i32>,
    /// Refuse to start when kernel forwarding cannot be set up, instead of relaying
    /// in userspace. Default: fall back to userspace.
    #[arg(short = 'F', long = "no-fallback", action = ArgAction::SetTrue)]
    pub no_fallback: bool,
    /// Ours (not in 10.5): keep an existing kernel table and its targets at startup
    /// instead of recreating it, so forwarded calls survive a restart. Default: off.
    #[arg(long = "kernel-adopt", action = ArgAction::SetTrue, help_heading = OUR_OPTIONS)]
    pub kernel_adopt: bool,
    /// Ours (not in 10.5): install the rules that send UDP to the kernel table (chain
    /// NAME, `-p udp -j NAME` from INPUT, `-p udp -j RTPENGINE --id TABLE` in it) for
    /// iptables and ip6tables at start, remove them on stop (kept with --kernel-adopt).
    /// Needs root. Not 10.5's --iptables-chain (per-port firewall rules). Default: no
    /// rules (left to rtpengine-rs-setup).
    #[arg(
        long = "kernel-iptables-chain",
        value_name = "NAME",
        help_heading = OUR_OPTIONS
    )]
    pub kernel_iptables_chain: Option<String>,
    /// Ours (not in 10.5): where call state is kept for --kernel-adopt restarts
    /// (`--state-file` is accepted too). Default: none.
    #[arg(
        long = "state-dir",
        alias = "state-file",
        value_name = "DIR",
        help_heading = OUR_OPTIONS
    )]
    pub state_file: Option<String>,
    /// A local address for media, optionally under a logical interface NAME and with
    /// an advertised address after `!`; a network interface name or `any` stands for
    /// its addresses. Repeat for more. Required.
    #[arg(
        short = 'i',
        long = "interface",
        value_name = "[NAME/]IP|IFNAME|any|HOSTNAME[!IP]"
    )]
    pub interface: Vec<String>,
    /// Allocate a stream's ports on the first interface of the wanted address family
    /// only, not on all of them. Default: off.
    #[arg(short = 'S', long = "save-interface-ports", action = ArgAction::SetTrue)]
    pub save_interface_ports: bool,
    /// Redis keyspaces (database numbers) to subscribe to for calls written by other
    /// instances. Default: none.
    #[arg(
        short = 'k',
        long = "subscribe-keyspace",
        num_args = 1..,
        value_name = "INT"
    )]
    pub subscribe_keyspace: Vec<String>,
    /// Listen for the legacy TCP control protocol on this address. Default: off.
    #[arg(short = 'l', long = "listen-tcp", value_name = "[IP:]PORT")]
    pub listen_tcp: Option<String>,
    /// Listen for the rtpproxy (UDP) control protocol on this address. Default: off.
    #[arg(short = 'u', long = "listen-udp", value_name = "[IP46|HOSTNAME:]PORT")]
    pub listen_udp: Option<String>,
    /// Listen for the ng control protocol (bencode over UDP) on this address; repeat
    /// for more. Either this or --listen-udp is required.
    #[arg(short = 'n', long = "listen-ng", value_name = "[IP46|HOSTNAME:]PORT")]
    pub listen_ng: Vec<String>,
    /// Listen for the ng control protocol over TCP on this address. Default: off.
    #[arg(
        short = 'N',
        long = "listen-tcp-ng",
        value_name = "[IP46|HOSTNAME:]PORT"
    )]
    pub listen_tcp_ng: Option<String>,
    /// Listen for rtpengine-ctl's command-line interface (TCP) on this address.
    /// Default: off.
    #[arg(short = 'c', long = "listen-cli", value_name = "[IP46|HOSTNAME:]PORT")]
    pub listen_cli: Option<String>,
    /// Send statistics to this Graphite server. Default: off.
    #[arg(short = 'g', long = "graphite", value_name = "IP46|HOSTNAME:PORT")]
    pub graphite: Option<String>,
    /// Seconds between two Graphite reports. Default: 0 (off).
    #[arg(short = 'G', long = "graphite-interval", value_name = "INT")]
    pub graphite_interval: Option<String>,
    /// Text put before each metric name sent to Graphite. Default: none.
    #[arg(long = "graphite-prefix", value_name = "STRING")]
    pub graphite_prefix: Option<String>,
    /// Seconds to wait for the Graphite server before giving up. Default: 0 (no limit).
    #[arg(long = "graphite-timeout", value_name = "INT")]
    pub graphite_timeout: Option<String>,
    /// TOS (DSCP and ECN) byte set on media packets sent, 0 to 255. Default: the
    /// system's (0).
    #[arg(short = 'T', long = "tos", value_name = "INT")]
    pub tos: Option<u8>,
    /// TOS byte set on ng replies, 0 to 255. Default: the system's (0).
    #[arg(long = "control-tos", value_name = "INT")]
    pub control_tos: Option<u8>,
    /// End a call when no media has arrived for this many seconds. Default: 60.
    #[arg(short = 'o', long = "timeout", value_name = "SECS")]
    pub timeout: Option<u32>,
    /// As --timeout, for calls on hold (every stream inactive or send-only). Default: 3600.
    #[arg(short = 's', long = "silent-timeout", value_name = "SECS")]
    pub silent_timeout: Option<u32>,
    /// End any call this many seconds after it was set up, media or not.
    /// Default: 0 (never).
    #[arg(short = 'a', long = "final-timeout", value_name = "SECS")]
    pub final_timeout: Option<u32>,
    /// End a call that got an offer but never an answer after this many seconds.
    /// Default: 3600.
    #[arg(long = "offer-timeout", value_name = "SECS")]
    pub offer_timeout: Option<u32>,
    /// Lowest local port for media. Default: 30000.
    #[arg(short = 'm', long = "port-min", value_name = "INT")]
    pub port_min: Option<u16>,
    /// Highest local port for media. Default: 40000.
    #[arg(short = 'M', long = "port-max", value_name = "INT")]
    pub port_max: Option<u16>,
    /// Redis server to restore calls from at start and to read updates from.
    /// Default: off.
    #[arg(short = 'r', long = "redis", value_name = "[PW@]IP:PORT/INT")]
    pub redis: Option<String>,
    /// Redis server to write call state to, if not the --redis one. Default: --redis.
    #[arg(short = 'w', long = "redis-write", value_name = "[PW@]IP:PORT/INT")]
    pub redis_write: Option<String>,
    /// Threads restoring calls from Redis at start. Default: the number of CPU cores.
    #[arg(long = "redis-num-threads", value_name = "INT")]
    pub redis_num_threads: Option<String>,
    /// Lifetime of the keys written to Redis, in seconds. Default: 86400.
    #[arg(long = "redis-expires", value_name = "INT")]
    pub redis_expires: Option<String>,
    /// Start even if Redis cannot be reached. Default: Redis required when configured.
    #[arg(short = 'q', long = "no-redis-required", action = ArgAction::SetTrue)]
    pub no_redis_required: bool,
    /// Failed Redis writes in a row tolerated before Redis is left alone for
    /// --redis-disable-time (writes meanwhile are dropped). Default: -1 (never).
    #[arg(long = "redis-allowed-errors", value_name = "INT")]
    pub redis_allowed_errors: Option<String>,
    /// Seconds Redis is left alone after too many errors; then writes try again. Default: 10.
    #[arg(long = "redis-disable-time", value_name = "INT")]
    pub redis_disable_time: Option<String>,
    /// Timeout of a Redis command, in milliseconds. Default: 0 (none).
    #[arg(long = "redis-cmd-timeout", value_name = "INT")]
    pub redis_cmd_timeout: Option<String>,
    /// Timeout of a Redis connection attempt, in milliseconds. Default: 1000.
    #[arg(long = "redis-connect-timeout", value_name = "INT")]
    pub redis_connect_timeout: Option<String>,
    /// Delete calls from Redis in the background, in batches. Default: off.
    #[arg(short = 'y', long = "redis-delete-async", action = ArgAction::SetTrue)]
    pub redis_delete_async: bool,
    /// Seconds between two background Redis delete batches. Default: 0.
    #[arg(long = "redis-delete-async-interval", value_name = "INT")]
    pub redis_delete_async_interval: Option<String>,
    /// Take over a call restored from Redis once media arrives for it (active/standby
    /// pairs). Default: off.
    #[arg(long = "active-switchover", action = ArgAction::SetTrue)]
    pub active_switchover: bool,
    /// XMLRPC URL of the B2BUA told about calls ended by a timeout. Default: none.
    #[arg(short = 'b', long = "b2b-url", value_name = "STRING")]
    pub b2b_url: Option<String>,
    /// Syslog facility for call detail records. Default: --log-facility.
    #[arg(long = "log-facility-cdr", value_name = "daemon|local0|...|local7")]
    pub log_facility_cdr: Option<String>,
    /// Syslog facility for RTCP reports. Default: --log-facility.
    #[arg(long = "log-facility-rtcp", value_name = "daemon|local0|...|local7")]
    pub log_facility_rtcp: Option<String>,
    /// Syslog facility for DTMF events. Default: --log-facility.
    #[arg(long = "log-facility-dtmf", value_name = "daemon|local0|...|local7")]
    pub log_facility_dtmf: Option<String>,
    /// Send DTMF events as JSON datagrams to this address. Default: off.
    #[arg(long = "dtmf-log-dest", value_name = "IP46|HOSTNAME:PORT")]
    pub dtmf_log_dest: Option<String>,
    /// Send DTMF events to the ng TCP connections. Default: off.
    #[arg(long = "dtmf-log-ng-tcp", action = ArgAction::SetTrue)]
    pub dtmf_log_ng_tcp: bool,
    /// Keep forwarding audio while a DTMF event is played. Default: audio suppressed.
    #[arg(long = "dtmf-no-suppress", action = ArgAction::SetTrue)]
    pub dtmf_no_suppress: bool,
    /// Milliseconds between two DTMF digits for trigger detection. Default: 2500.
    #[arg(long = "dtmf-digit-delay", value_name = "INT")]
    pub dtmf_digit_delay: Option<String>,
    /// Form of the log line prefix. Default: default.
    #[arg(long = "log-format", value_name = "default|parsable")]
    pub log_format: Option<String>,
    /// Form of the XMLRPC timeout message to the B2BUA: 0 SEMS, 1 call ID only,
    /// 2 Kamailio. Default: 0.
    #[arg(short = 'x', long = "xmlrpc-format", value_name = "INT")]
    pub xmlrpc_format: Option<String>,
    /// Worker threads of the runtime. Default: the number of CPU cores.
    #[arg(long = "num-threads", value_name = "INT")]
    pub num_threads: Option<usize>,
    /// Threads for media playback. Default: --num-threads.
    #[arg(long = "media-num-threads", value_name = "INT")]
    pub media_num_threads: Option<String>,
    /// Seconds a deleted call is kept before it is freed (a late ng message still
    /// finds it); 0 frees at once. Default: 30.
    #[arg(short = 'd', long = "delete-delay", value_name = "INT")]
    pub delete_delay: Option<u32>,
    /// Send media first to the address the SIP message came from, not to the one in
    /// the SDP. Default: the SDP address.
    #[arg(long = "sip-source", action = ArgAction::SetTrue)]
    pub sip_source: bool,
    /// Prefer the passive (server) DTLS role. Default: active.
    #[arg(long = "dtls-passive", action = ArgAction::SetTrue)]
    pub dtls_passive: bool,
    /// Refuse new calls beyond this many; -1 is unlimited. Default: -1.
    #[arg(long = "max-sessions", value_name = "INT", allow_hyphen_values = true)]
    pub max_sessions: Option<i64>,
    /// Refuse new calls while the 1-minute load average is above this. Default: off.
    #[arg(long = "max-load", value_name = "FLOAT")]
    pub max_load: Option<String>,
    /// Refuse new calls while CPU use (percent) is above this. Default: off.
    #[arg(long = "max-cpu", value_name = "FLOAT")]
    pub max_cpu: Option<String>,
    /// Refuse new calls while relayed traffic (bytes per second) is above this.
    /// Default: off.
    #[arg(long = "max-bandwidth", value_name = "INT")]
    pub max_bandwidth: Option<String>,
    /// Send RTCP statistics to this Homer (HEP) server. Default: off.
    #[arg(long = "homer", value_name = "IP46|HOSTNAME:PORT")]
    pub homer: Option<String>,
    /// Transport to the Homer server. Default: udp.
    #[arg(long = "homer-protocol", value_name = "udp|tcp")]
    pub homer_protocol: Option<String>,
    /// Capture ID put in HEP packets to Homer. Default: 2001.
    #[arg(long = "homer-id", value_name = "INT")]
    pub homer_id: Option<String>,
    /// Directory for call recordings and their metadata (pcap: `metadata/`,
    /// `pcaps/`, `tmp/` below it; proc: the metadata files for a recording
    /// daemon; made if missing). Default: none (no recording).
    #[arg(long = "recording-dir", value_name = "FILE")]
    pub recording_dir: Option<String>,
    /// How calls are recorded: pcap files in --recording-dir, or `proc`:
    /// through the kernel module's recording streams (/proc/rtpengine/TABLE/
    /// calls) and metadata files in --recording-dir, for a recording daemon
    /// (rtpengine-recording); needs the kernel table. Default: pcap.
    #[arg(long = "recording-method", value_name = "pcap|proc")]
    pub recording_method: Option<String>,
    /// Link layer of recorded pcap files: raw IP, or Ethernet. Default: raw.
    #[arg(long = "recording-format", value_name = "raw|eth")]
    pub recording_format: Option<String>,
    /// Add a firewall rule per media port to this iptables chain. Default: off.
    #[arg(long = "iptables-chain", value_name = "STRING")]
    pub iptables_chain: Option<String>,
    /// List the supported codecs and exit.
    #[arg(long = "codecs", action = ArgAction::SetTrue)]
    pub codecs: bool,
    /// Scheduling policy of the media threads. Default: the system's.
    #[arg(
        long = "scheduling",
        value_name = "default|none|fifo|rr|other|batch|idle"
    )]
    pub scheduling: Option<String>,
    /// Scheduling priority of the media threads. Default: the system's.
    #[arg(long = "priority", value_name = "INT")]
    pub priority: Option<String>,
    /// Scheduling policy of the background threads. Default: the system's.
    #[arg(
        long = "idle-scheduling",
        value_name = "default|none|fifo|rr|other|batch|idle"
    )]
    pub idle_scheduling: Option<String>,
    /// Scheduling priority of the background threads. Default: the system's.
    #[arg(long = "idle-priority", value_name = "INT")]
    pub idle_priority: Option<String>,
    /// Write negotiated SRTP keys to the log (for debugging only). Default: off.
    #[arg(long = "log-srtp-keys", action = ArgAction::SetTrue)]
    pub log_srtp_keys: bool,
    /// MySQL server holding media files to play. Default: off.
    #[arg(long = "mysql-host", value_name = "HOST|IP")]
    pub mysql_host: Option<String>,
    /// Port of the MySQL server. Default: 3306.
    #[arg(long = "mysql-port", value_name = "INT")]
    pub mysql_port: Option<String>,
    /// User name for the MySQL server. Default: none.
    #[arg(long = "mysql-user", value_name = "USERNAME")]
    pub mysql_user: Option<String>,
    /// Password for the MySQL server. Default: none.
    #[arg(long = "mysql-pass", value_name = "PASSWORD")]
    pub mysql_pass: Option<String>,
    /// Query fetching a media file by number; exactly one `%llu` stands for the
    /// number. Default: none.
    #[arg(long = "mysql-query", value_name = "STRING")]
    pub mysql_query: Option<String>,
    /// How the address media is sent to is learnt from the packets received.
    /// Default: delayed.
    #[arg(
        long = "endpoint-learning",
        value_name = "delayed|immediate|off|heuristic"
    )]
    pub endpoint_learning: Option<String>,
    /// Jitter buffer length, in packets; 0 is none. Default: 0.
    #[arg(long = "jitter-buffer", value_name = "INT")]
    pub jitter_buffer: Option<String>,
    /// Let the jitter buffer follow a sender's clock drift. Default: off.
    #[arg(long = "jb-clock-drift", action = ArgAction::SetTrue)]
    pub jb_clock_drift: bool,
    /// Log each SRTP packet's encryption details (for debugging only). Default: off.
    #[arg(long = "debug-srtp", action = ArgAction::SetTrue)]
    pub debug_srtp: bool,
    /// Answer an ng request whose SDP cannot be parsed with an error, instead of
    /// passing the SDP through. Default: off.
    #[arg(long = "reject-invalid-sdp", action = ArgAction::SetTrue)]
    pub reject_invalid_sdp: bool,
    /// RSA key size of the DTLS certificate, in bits. Default: 2048.
    #[arg(long = "dtls-rsa-key-size", value_name = "INT")]
    pub dtls_rsa_key_size: Option<String>,
    /// Key type of the DTLS certificate. Default: prime256v1.
    #[arg(long = "dtls-cert-cipher", value_name = "prime256v1|RSA")]
    pub dtls_cert_cipher: Option<String>,
    /// Largest DTLS datagram, in bytes; at least 576. Default: 1200.
    #[arg(long = "dtls-mtu", value_name = "INT")]
    pub dtls_mtu: Option<String>,
    /// OpenSSL cipher list for DTLS handshakes. Default: OpenSSL's DEFAULT less weak
    /// and unauthenticated suites.
    #[arg(long = "dtls-ciphers", value_name = "STRING")]
    pub dtls_ciphers: Option<String>,
    /// Hash of the DTLS certificate fingerprint. Default: SHA-256.
    #[arg(long = "dtls-signature", value_name = "SHA-256|SHA-1")]
    pub dtls_signature: Option<String>,
    /// Serve HTTP and WebSocket (ng, CLI, metrics) on this address; repeat for more.
    /// Default: off.
    #[arg(long = "listen-http", value_name = "[IP46|HOSTNAME:]PORT")]
    pub listen_http: Vec<String>,
    /// Serve HTTPS and secure WebSocket on this address; repeat for more. Default: off.
    #[arg(long = "listen-https", value_name = "[IP46|HOSTNAME:]PORT")]
    pub listen_https: Vec<String>,
    /// Certificate (PEM) for --listen-https. Default: none.
    #[arg(long = "https-cert", value_name = "FILE")]
    pub https_cert: Option<String>,
    /// Private key (PEM) for --listen-https. Default: in the --https-cert file.
    #[arg(long = "https-key", value_name = "FILE")]
    pub https_key: Option<String>,
    /// Threads serving HTTP and WebSocket. Default: --num-threads.
    #[arg(long = "http-threads", value_name = "INT")]
    pub http_threads: Option<String>,
    /// Name this software gives in STUN and DTLS (letters, digits and `-`; others
    /// become `-`). Default: rtpengine-VERSION.
    #[arg(long = "software-id", value_name = "STRING")]
    pub software_id: Option<String>,
    /// Give each worker thread its own poll loop. Default: off.
    #[arg(long = "poller-per-thread", action = ArgAction::SetTrue)]
    pub poller_per_thread: bool,
    /// Milliseconds without audio before DTX handling starts. Default: 0 (off).
    #[arg(long = "dtx-delay", value_name = "INT")]
    pub dtx_delay: Option<String>,
    /// Longest DTX handling, in seconds. Default: 30.
    #[arg(long = "max-dtx", value_name = "INT")]
    pub max_dtx: Option<String>,
    /// Most packets held in the DTX buffer. Default: 10.
    #[arg(long = "dtx-buffer", value_name = "INT")]
    pub dtx_buffer: Option<String>,
    /// Most milliseconds of audio held in the DTX buffer. Default: 100.
    #[arg(long = "dtx-lag", value_name = "INT")]
    pub dtx_lag: Option<String>,
    /// Milliseconds the DTX buffer moves by after an overflow or underflow. Default: 5.
    #[arg(long = "dtx-shift", value_name = "INT")]
    pub dtx_shift: Option<String>,
    /// Comfort noise parameters used while DTX is handled. Default: none.
    #[arg(long = "dtx-cn-params", num_args = 1.., value_name = "INT")]
    pub dtx_cn_params: Vec<String>,
    /// DTX mode for AMR and AMR-WB. Default: native.
    #[arg(long = "amr-dtx", value_name = "native|CN")]
    pub amr_dtx: Option<String>,
    /// Audio level (percent) below which audio counts as silence. Default: 0 (off).
    #[arg(long = "silence-detect", value_name = "FLOAT")]
    pub silence_detect: Option<String>,
    /// Comfort noise parameters that replace detected silence. Default: none.
    #[arg(long = "cn-payload", num_args = 1.., value_name = "INT")]
    pub cn_payload: Vec<String>,
    /// MQTT broker to publish call statistics to. Default: off.
    #[arg(long = "mqtt-host", value_name = "HOST|IP")]
    pub mqtt_host: Option<String>,
    /// Port of the MQTT broker. Default: 1883.
    #[arg(long = "mqtt-port", value_name = "INT")]
    pub mqtt_port: Option<String>,
    /// Client ID given to the MQTT broker. Default: chosen by the library.
    #[arg(long = "mqtt-id", value_name = "STRING")]
    pub mqtt_id: Option<String>,
    /// Seconds between MQTT keepalive messages. Default: 30.
    #[arg(long = "mqtt-keepalive", value_name = "INT")]
    pub mqtt_keepalive: Option<String>,
    /// User name for the MQTT broker. Default: none.
    #[arg(long = "mqtt-user", value_name = "USERNAME")]
    pub mqtt_user: Option<String>,
    /// Password for the MQTT broker. Default: none.
    #[arg(long = "mqtt-pass", value_name = "PASSWORD")]
    pub mqtt_pass: Option<String>,
    /// CA certificate file for the MQTT broker's TLS. Default: no TLS.
    #[arg(long = "mqtt-cafile", value_name = "FILE")]
    pub mqtt_cafile: Option<String>,
    /// Directory of CA certificates for the MQTT broker's TLS. Default: no TLS.
    #[arg(long = "mqtt-capath", value_name = "PATH")]
    pub mqtt_capath: Option<String>,
    /// Client certificate for the MQTT broker's TLS. Default: none.
    #[arg(long = "mqtt-certfile", value_name = "FILE")]
    pub mqtt_certfile: Option<String>,
    /// Client private key for the MQTT broker's TLS. Default: none.
    #[arg(long = "mqtt-keyfile", value_name = "FILE")]
    pub mqtt_keyfile: Option<String>,
    /// MQTT quality of service of published messages. Default: 0.
    #[arg(long = "mqtt-publish-qos", value_name = "0|1|2")]
    pub mqtt_publish_qos: Option<String>,
    /// MQTT topic to publish to. Default: none.
    #[arg(long = "mqtt-publish-topic", value_name = "STRING")]
    pub mqtt_publish_topic: Option<String>,
    /// Milliseconds between two MQTT publications. Default: 5000.
    #[arg(long = "mqtt-publish-interval", value_name = "MILLISECONDS")]
    pub mqtt_publish_interval: Option<String>,
    /// What one MQTT message covers: everything, one call or one media stream.
    /// Default: global.
    #[arg(long = "mqtt-publish-scope", value_name = "global|call|media")]
    pub mqtt_publish_scope: Option<String>,
    /// MOS score model: conversational (CQ) or listening (LQ) quality. Default: CQ.
    #[arg(long = "mos", value_name = "CQ|LQ")]
    pub mos: Option<String>,
    /// Spread media sockets over this many CPUs (SO_INCOMING_CPU); a negative number
    /// means all CPU cores. Default: 0 (off).
    #[arg(long = "socket-cpu-affinity", value_name = "INT")]
    pub socket_cpu_affinity: Option<String>,
    /// The `admin_secret` a Janus `add_token` request must carry (POST /admin
    /// and WebSocket `janus-protocol`). Default: none (`add_token` refused).
    #[arg(long = "janus-secret", value_name = "STRING")]
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
    "listen_https",
    "https_cert",
    "https_key",
    "listen_tcp",
    "listen_tcp_ng",
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
    "redis",
    "redis_write",
    "redis_expires",
    "no_redis_required",
    "redis_cmd_timeout",
    "redis_connect_timeout",
    "redis_allowed_errors",
    "redis_disable_time",
    "graphite",
    "graphite_interval",
    "graphite_prefix",
    "graphite_timeout",
    "homer",
    "homer_protocol",
    "homer_id",
    "subscribe_keyspace",
    "active_switchover",
    "recording_dir",
    "recording_method",
    "recording_format",
    "janus_secret",
];

impl Cli {
    /// The command line as `--help` and the man page show it: `-h` under its 10.5
    /// heading, and NOT_IMPLEMENTED_NOTE on each option missing from IMPLEMENTED.
    pub fn command_with_notes() -> clap::Command {
        Cli::command().mut_args(|a| {
            let id = a.get_id().as_str();
            if id == "help" || IMPLEMENTED.contains(&id) {
                return a;
            }
            let help = match a.get_help() {
                Some(h) => format!(
                    "{}. {NOT_IMPLEMENTED_NOTE}",
                    h.to_string().trim_end_matches('.')
                ),
                None => NOT_IMPLEMENTED_NOTE.to_owned(),
            };
            a.help(help)
        })
    }

    /// Parse argv merged with the INI config file (command line wins). Also returns
    /// notes for the log (warnings about ignored options, which file was read).
    pub fn load(argv: Vec<String>) -> Result<(Cli, Vec<Note>), super::ConfigError> {
        let mut cmd = Cli::command_with_notes();
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Options that act and exit, so they have no default to state.
    const ACTIONS: &[&str] = &["help", "version", "codecs"];

    #[test]
    fn every_option_has_a_description_and_a_default() {
        let cmd = Cli::command();
        let mut bare = Vec::new();
        let mut no_default = Vec::new();
        for arg in cmd.get_arguments() {
            let id = arg.get_id().as_str();
            let help = arg.get_help().map(|h| h.to_string()).unwrap_or_default();
            if help.split_whitespace().count() < 3 {
                bare.push(id);
            } else if !ACTIONS.contains(&id)
                && !help.contains("Default")
                && !help.contains("equired")
            {
                no_default.push(id);
            }
        }
        assert!(bare.is_empty(), "options without a description: {bare:?}");
        assert!(
            no_default.is_empty(),
            "options whose help gives no default: {no_default:?}"
        );
    }

    #[test]
    fn implemented_names_are_options() {
        let cmd = Cli::command();
        for id in IMPLEMENTED {
            assert!(
                cmd.get_arguments().any(|a| a.get_id() == *id),
                "IMPLEMENTED names {id}, which is no option"
            );
        }
    }

    #[test]
    fn help_notes_exactly_the_options_not_implemented() {
        for arg in Cli::command_with_notes().get_arguments() {
            let id = arg.get_id().as_str();
            let help = arg.get_help().unwrap().to_string();
            let noted = help.contains(NOT_IMPLEMENTED_NOTE);
            let implemented = id == "help" || IMPLEMENTED.contains(&id);
            assert_eq!(noted, !implemented, "--{}: {help}", arg.get_long().unwrap());
        }
    }

    #[test]
    fn help_groups_options_under_10_5_headings() {
        let ours = ["kernel_adopt", "kernel_iptables_chain", "state_file"];
        for arg in Cli::command_with_notes().get_arguments() {
            let id = arg.get_id().as_str();
            let want = match id {
                "help" => HELP_OPTIONS,
                _ if ours.contains(&id) => OUR_OPTIONS,
                _ => APPLICATION_OPTIONS,
            };
            assert_eq!(arg.get_help_heading(), Some(want), "{id}");
        }
        let help = Cli::command_with_notes().render_long_help().to_string();
        let at = |h: &str| {
            help.find(&format!("\n{h}:\n"))
                .unwrap_or_else(|| panic!("{h}"))
        };
        assert!(at(HELP_OPTIONS) < at(APPLICATION_OPTIONS));
        assert!(at(APPLICATION_OPTIONS) < at(OUR_OPTIONS));
    }

    #[test]
    fn help_flag_prints_the_described_options() {
        let argv = vec!["rtpengined".to_owned(), "--help".to_owned()];
        let Err(super::super::ConfigError::Args(e)) = Cli::load(argv) else {
            panic!("--help did not stop");
        };
        assert_eq!(e.kind(), clap::error::ErrorKind::DisplayHelp);
        let text = e.to_string();
        assert!(text.contains("Lowest local port for media"), "{text}");
        assert!(text.contains(NOT_IMPLEMENTED_NOTE), "{text}");
    }
}
