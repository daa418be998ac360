//! The graphite edge: a TCP connection to the receiver and the report
//! timer. As 10.5: connects at start and reports as soon as connected,
//! then every interval (at least a second); a failed connection or write
//! drops the connection, and the next interval connects anew.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tracing::{error, info, warn};

use crate::call::Now;
use crate::config::Graphite;
use crate::server::handler::Handler;

/// Sets the connection's TCP user timeout (`--graphite-timeout`).
fn user_timeout(s: &TcpStream, secs: u32) {
    use std::os::fd::AsRawFd;
    let ms: libc::c_uint = secs.saturating_mul(1000);
    // SAFETY: a valid socket descriptor, a c_uint option of the right size.
    let rc = unsafe {
        libc::setsockopt(
            s.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_USER_TIMEOUT,
            (&ms as *const libc::c_uint).cast(),
            std::mem::size_of::<libc::c_uint>() as libc::socklen_t,
        )
    };
    if rc != 0 {
        warn!(e = %std::io::Error::last_os_error(), "cannot set the graphite connection's timeout");
    }
}

async fn connect(cfg: &Graphite, wait: Duration) -> Option<TcpStream> {
    info!(addr = %cfg.addr, "connecting to graphite server");
    match tokio::time::timeout(wait, TcpStream::connect(cfg.addr)).await {
        Ok(Ok(s)) => {
            if let Some(t) = cfg.timeout_secs {
                user_timeout(&s, t);
            }
            info!("graphite server connected");
            Some(s)
        }
        Ok(Err(e)) => {
            error!(addr = %cfg.addr, %e, "cannot connect to graphite server");
            None
        }
        Err(_) => {
            error!(addr = %cfg.addr, "connecting to graphite server timed out");
            None
        }
    }
}

/// Reports to `cfg.addr` until the process ends.
pub async fn run(handler: Arc<Handler>, cfg: Graphite) {
    if cfg.interval_secs <= 0 {
        warn!("graphite send interval was not set; sending every second");
    }
    let every = Duration::from_secs(u64::try_from(cfg.interval_secs).unwrap_or(0).max(1));
    // Call durations count the interval as configured (0 when not).
    let counted = Duration::from_secs(u64::try_from(cfg.interval_secs).unwrap_or(0));
    let mut conn: Option<TcpStream> = None;
    loop {
        if conn.is_none() {
            conn = connect(&cfg, every).await;
        }
        if let Some(s) = conn.as_mut() {
            let now = Now::system();
            let report = handler.graphite_report(&now, counted);
            let text = report.render(&cfg.prefix, now.unix.as_secs());
            if let Err(e) = s.write_all(text.as_bytes()).await {
                error!(%e, "cannot write to graphite server; disconnecting");
                conn = None;
            }
        }
        tokio::time::sleep(every).await;
    }
}
