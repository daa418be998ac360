//! tracing output: stderr (--log-stderr) or syslog via /dev/log.

use std::io::Write;
use std::os::unix::net::UnixDatagram;

use std::sync::OnceLock;

use tracing_subscriber::fmt::{self, MakeWriter};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{reload, EnvFilter, Registry};

/// rtpengine's syslog-style --log-level (0..7) as a tracing filter.
fn level_name(level: u8) -> &'static str {
    match level {
        0..=3 => "error",
        4 => "warn",
        5 | 6 => "info",
        _ => "debug",
    }
}

/// The default filter: the daemon's events and those of the signalling logic
/// in `rtpengine-proto` (other crates stay quiet).
fn default_filter(level: u8) -> String {
    let level = level_name(level);
    format!("rtpengined={level},rtpengine_proto={level}")
}

/// Changes the level of the default filter while running (the CLI's
/// `set loglevel`); `RTPENGINED_LOG`, when set, stays in force.
static RELOAD: OnceLock<reload::Handle<EnvFilter, Registry>> = OnceLock::new();

pub fn set_level(level: u8) {
    if std::env::var_os("RTPENGINED_LOG").is_some() {
        return;
    }
    if let Some(h) = RELOAD.get() {
        let _ = h.reload(EnvFilter::new(default_filter(level)));
    }
}

pub fn init(level: u8, stderr: bool) {
    let filter = EnvFilter::try_from_env("RTPENGINED_LOG")
        .unwrap_or_else(|_| EnvFilter::new(default_filter(level)));
    let (filter, handle) = reload::Layer::new(filter);
    let registry = tracing_subscriber::registry().with(filter);
    let syslog = if stderr { None } else { Syslog::connect() };
    let installed = match syslog {
        Some(s) => registry
            .with(
                fmt::layer()
                    .with_target(false)
                    .with_ansi(false)
                    .without_time()
                    .with_writer(s),
            )
            .try_init(),
        None => {
            let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
            registry
                .with(
                    fmt::layer()
                        .with_target(false)
                        .with_ansi(ansi)
                        .with_writer(std::io::stderr),
                )
                .try_init()
        }
    };
    if installed.is_ok() {
        let _ = RELOAD.set(handle);
    }
}

/// Writes each formatted event as one datagram to the local syslog socket.
#[derive(Clone)]
struct Syslog {
    socket: std::sync::Arc<UnixDatagram>,
}

impl Syslog {
    fn connect() -> Option<Syslog> {
        let socket = UnixDatagram::unbound().ok()?;
        socket.connect("/dev/log").ok()?;
        Some(Syslog {
            socket: std::sync::Arc::new(socket),
        })
    }
}

struct SyslogLine {
    socket: std::sync::Arc<UnixDatagram>,
    buf: Vec<u8>,
}

impl Write for SyslogLine {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for SyslogLine {
    fn drop(&mut self) {
        // Facility daemon (3), severity info (6): <30>.
        let mut msg = format!("<30>rtpengined[{}]: ", std::process::id()).into_bytes();
        msg.extend_from_slice(self.buf.strip_suffix(b"\n").unwrap_or(&self.buf));
        let _ = self.socket.send(&msg);
    }
}

impl<'a> MakeWriter<'a> for Syslog {
    type Writer = SyslogLine;
    fn make_writer(&'a self) -> SyslogLine {
        SyslogLine {
            socket: self.socket.clone(),
            buf: Vec::new(),
        }
    }
}
