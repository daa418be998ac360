//! Process setup: config, logging, daemonising, runtime, listeners, signals.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use rand_core::Rng;
use tracing::{error, info, warn};

use rtpengine_dtls::{Certificate, HashFunc};

use crate::call::{DtlsSettings, Registry, Settings};
use crate::config::{Cli, Config};
use crate::kernel::iptables::Rules;
use crate::kernel::table::{Setup, PROC_ROOT};
use crate::kernel::{KernelError, Table};
use crate::random::DaemonRng;
use crate::relay::dtls::DtlsIdentity;
use crate::relay::engine::IceSettings;
use crate::relay::kernel_edge::KernelEdge;
use crate::relay::pool::SharedPool;
use crate::relay::Relay;
use crate::server::call_store::CallStore;
use crate::server::handler::Handler;
use crate::server::transport::{NgUdp, Transport};

pub(crate) mod logging;

/// The daemon's DTLS certificate and handshake settings from `--dtls-*`.
pub fn dtls_identity(cfg: &Config) -> Result<DtlsIdentity, rtpengine_dtls::DtlsError> {
    let cert = Certificate::generate(&cfg.dtls.cert, std::time::SystemTime::now())?;
    Ok(DtlsIdentity {
        cert: Arc::new(cert),
        config: cfg.dtls.handshake.clone(),
    })
}

/// What signalling needs of the certificate: its fingerprint for every hash
/// 10.5 offers, sha-256 first.
pub fn dtls_settings(cert: &Certificate, passive: bool) -> DtlsSettings {
    DtlsSettings {
        fingerprints: HashFunc::ALL
            .into_iter()
            .map(|h| (h.name(), cert.fingerprint(h).to_string()))
            .collect(),
        passive,
    }
}

/// When a certificate that `expires` should be replaced at `now`: once half
/// of its `validity` is left, as 10.5 does (so a call that starts just before
/// still has half of it).
pub fn dtls_renewal_due(expires: SystemTime, validity: Duration, now: SystemTime) -> bool {
    expires
        .checked_sub(validity / 2)
        .is_none_or(|renew_at| now >= renew_at)
}

/// Renews the certificate when it is due; checks at least hourly, so a
/// wall-clock jump is noticed.
fn spawn_dtls_renewal(handler: Arc<Handler>, cfg: Config, mut expires: SystemTime) {
    tokio::spawn(async move {
        let validity = cfg.dtls.cert.validity;
        loop {
            let renew_at = expires.checked_sub(validity / 2).unwrap_or(expires);
            let wait = renew_at
                .duration_since(SystemTime::now())
                .unwrap_or_default()
                .min(Duration::from_secs(3600));
            tokio::time::sleep(wait).await;
            if !dtls_renewal_due(expires, validity, SystemTime::now()) {
                continue;
            }
            let c = cfg.clone();
            match tokio::task::spawn_blocking(move || dtls_identity(&c)).await {
                Ok(Ok(identity)) => {
                    expires = identity.cert.expires();
                    let settings = dtls_settings(&identity.cert, cfg.dtls.passive);
                    handler.renew_dtls(identity, settings);
                    info!("DTLS certificate renewed; running calls keep theirs");
                }
                Ok(Err(e)) => {
                    warn!(%e, "cannot renew the DTLS certificate; trying again in a minute");
                    tokio::time::sleep(Duration::from_secs(60)).await;
                }
                Err(e) => warn!(%e, "DTLS certificate renewal stopped"),
            }
        }
    });
}

/// Run the daemon; returns the process exit code.
pub fn run(argv: Vec<String>) -> i32 {
    let (cli, notes) = match Cli::load(argv) {
        Ok(r) => r,
        Err(crate::config::ConfigError::Args(e)) => {
            let _ = e.print();
            return if e.use_stderr() { 1 } else { 0 };
        }
        Err(e) => {
            eprintln!("rtpengined: {e}");
            return 1;
        }
    };
    if cli.version {
        println!(
            "rtpengined {} (rtpengine 10.5 compatible)",
            env!("CARGO_PKG_VERSION")
        );
        return 0;
    }
    if cli.codecs {
        println!("No codecs: transcoding is not supported.");
        return 0;
    }
    let cfg = match Config::from_cli(&cli) {
        Ok(c) => c,
        // 10.5 exits with -1 (255) on the values it dies on.
        Err(e @ crate::config::ConfigError::Fatal(_)) => {
            eprintln!("rtpengined: {e}");
            return 255;
        }
        Err(e) => {
            eprintln!("rtpengined: {e}");
            return 1;
        }
    };
    // One certificate per run, as in 10.5; before daemonising so that a
    // failure is seen with its exit status.
    let dtls = match dtls_identity(&cfg) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("rtpengined: cannot generate the DTLS certificate: {e}");
            return 1;
        }
    };
    // Before daemonising, so that --no-fallback fails with a visible exit code.
    let kernel = match open_kernel(&cfg) {
        Ok(k) => k,
        Err(e) => {
            eprintln!("rtpengined: kernel forwarding unavailable and --no-fallback given: {e}");
            return 1;
        }
    };
    // Also before daemonising: a root daemon sends UDP to its table itself.
    let mut iptables_note = None;
    let rules = match (&kernel, &cfg.iptables_chain) {
        (Ok(table), Some(chain)) => {
            match Rules::install(chain, table.id) {
                Ok(r) => Some(r),
                Err(e) if cfg.no_fallback => {
                    eprintln!("rtpengined: cannot install the iptables rules and --no-fallback given: {e}");
                    return 1;
                }
                Err(e) => {
                    iptables_note = Some(e);
                    None
                }
            }
        }
        _ => None,
    };
    // From here on the rules are installed: every way out goes through their
    // removal below (a failed start must not leave the table's rules behind).
    let mut wrote_pidfile = false;
    let code = 'run: {
        if !cfg.foreground {
            // SAFETY: called before any thread exists (the runtime is built below), so
            // forking cannot leave locks held by other threads; stdio stays open.
            if unsafe { libc::daemon(0, 1) } != 0 {
                eprintln!(
                    "rtpengined: cannot daemonise: {}",
                    std::io::Error::last_os_error()
                );
                break 'run 1;
            }
        }
        logging::init(cfg.log_level, cfg.log_stderr);
        for n in &notes {
            match n {
                crate::config::cli::Note::Info(t) => info!("{t}"),
                crate::config::cli::Note::Warn(t) => warn!("{t}"),
            }
        }
        if let Some(e) = iptables_note {
            error!("cannot install the iptables rules ({e}); the kernel table gets no packets, media stays in userspace");
        }
        if let Some(r) = &rules {
            for w in &r.warnings {
                warn!("{w}");
            }
            info!(chain = %r.chain(), table = r.table(), programs = ?r.programs(), "iptables rules installed");
        }
        if let Some(p) = &cfg.pidfile {
            if let Err(e) = std::fs::write(p, format!("{}\n", std::process::id())) {
                error!(path = %p.display(), %e, "cannot write pidfile");
                break 'run 1;
            }
            wrote_pidfile = true;
        }
        let mut rt = tokio::runtime::Builder::new_multi_thread();
        rt.enable_all();
        if let Some(n) = cfg.num_threads.filter(|n| *n > 0) {
            rt.worker_threads(n);
        }
        match rt.build() {
            Ok(rt) => {
                let code = rt.block_on(serve(cfg.clone(), kernel, dtls));
                // Socket tasks never finish on their own; do not wait for them.
                rt.shutdown_timeout(Duration::from_millis(100));
                code
            }
            Err(e) => {
                error!(%e, "cannot start runtime");
                1
            }
        }
    };
    if let Some(r) = rules {
        // Without them the kernel forwards nothing while the daemon is away.
        if cfg.kernel_adopt {
            r.keep();
        } else {
            r.remove();
        }
    }
    if let Some(p) = cfg.pidfile.as_ref().filter(|_| wrote_pidfile) {
        let _ = std::fs::remove_file(p);
    }
    code
}

/// 10.5: with `--redis` alone that server must be a master (calls are
/// written there); with `--redis-write` too, either may be a replica.
fn redis_role(cfg: &Config) -> crate::server::redis_store::Role {
    match cfg.redis.write {
        Some(_) => crate::server::redis_store::Role::Any,
        None => crate::server::redis_store::Role::Master,
    }
}

/// Takes back the calls kept in Redis (by us or by rtpengine 10.5); a call
/// that cannot be had (unreadable, or its ports or interface are not ours)
/// is logged and its key deleted, as 10.5 does. Returns how many came back.
async fn restore_from_redis(
    handler: &Handler,
    target: &crate::config::redis::RedisTarget,
    cfg: &Config,
) -> Result<usize, String> {
    use crate::server::redis_store;
    let docs = redis_store::load(target, redis_role(cfg)).await?;
    let now = crate::call::Now::system();
    let mut rng = DaemonRng::from_os().map_err(|e| e.to_string())?;
    let mut calls = Vec::new();
    let mut failed = Vec::new();
    for (id, doc) in docs {
        // Already back from --state-dir: the key stays, it is this call's.
        if handler.registry().calls.contains_key(&id) {
            continue;
        }
        match crate::call::redis_json::decode_call(&id, &doc, &now, &cfg.interfaces, &mut rng) {
            Ok(call) => calls.push(call),
            Err(why) => failed.push((id, why)),
        }
    }
    let wanted = calls.len();
    let refused = handler.restore(calls, &now);
    let restored = wanted - refused.len();
    for (call_id, why) in failed.into_iter().chain(refused) {
        warn!(%call_id, %why, "call in Redis not restored; its key is deleted");
        redis_store::discard(target, &call_id).await;
    }
    Ok(restored)
}

/// The kernel table, or why there is none (logged once logging is up). An error
/// only with --no-fallback.
fn open_kernel(cfg: &Config) -> Result<Result<Table, String>, KernelError> {
    if cfg.table < 0 {
        return Ok(Err("kernel forwarding disabled (table < 0)".into()));
    }
    let setup = if cfg.kernel_adopt {
        Setup::Adopt
    } else {
        Setup::Recreate
    };
    match Table::open(PROC_ROOT, cfg.table, setup) {
        Ok(t) => Ok(Ok(t)),
        Err(e) if cfg.no_fallback => Err(e),
        Err(e) => Ok(Err(format!("kernel forwarding unavailable: {e}"))),
    }
}

async fn serve(cfg: Config, kernel: Result<Table, String>, dtls: DtlsIdentity) -> i32 {
    // rtpengine 10.5 defaults to --table=0 and falls back to userspace without the
    // module (unless --no-fallback, handled before we got here).
    // --recording-method=proc sends its commands through the table's control file.
    let recording_control = match (&kernel, &cfg.recording) {
        (Ok(table), Some(rec)) if rec.proc => match table.control_clone() {
            Ok(f) => Some(f),
            Err(e) => {
                error!(%e, "cannot use the kernel table for recording");
                return 1;
            }
        },
        _ => None,
    };
    let kernel_edge = match kernel {
        Ok(table) => {
            info!(
                table = table.id,
                adopt = cfg.kernel_adopt,
                "kernel forwarding enabled"
            );
            Some(Arc::new(KernelEdge::new(table, cfg.timeout)))
        }
        Err(why) => {
            warn!("{why}; relaying in userspace");
            None
        }
    };
    let pool = SharedPool::new(cfg.port_min, cfg.port_max);
    let mut rng = match DaemonRng::from_os() {
        Ok(rng) => rng,
        Err(e) => {
            error!(%e, "cannot seed the random number generator");
            return 1;
        }
    };
    // One ICE tie-breaker per daemon run, as in 10.5.
    let ice = IceSettings {
        software: cfg.software_id.clone(),
        tiebreaker: rng.next_u64(),
        seed: rtpengine_proto::media::ice_agent::AgentConfig::seed_from(&mut rng),
    };
    let dtls_settings = dtls_settings(&dtls.cert, cfg.dtls.passive);
    let dtls_expires = dtls.cert.expires();
    if let Some(m) = &cfg.recording_unsupported {
        warn!("Recording method '{m}' not supported; calls are not recorded");
    }
    let recorder = match &cfg.recording {
        Some(rec) => {
            let started = if rec.proc {
                crate::recording::Recorder::start_proc(&rec.dir, recording_control)
            } else {
                crate::recording::Recorder::start(&rec.dir, rec.format)
            };
            match started {
                Ok(r) => Some(r),
                Err(e) => {
                    error!(dir = %rec.dir.display(), %e, "Error while setting up spool directory");
                    return 1;
                }
            }
        }
        None => None,
    };
    let mut relay = Relay::new(pool.clone(), kernel_edge.clone())
        .with_ice(ice)
        .with_dtls(dtls);
    if let Some(r) = &recorder {
        relay = relay.with_recorder(r.clone());
    }
    if let Some(h) = &cfg.homer {
        info!(addr = %h.addr, tcp = h.tcp, id = h.capture_id, "reporting RTCP to Homer");
        relay = relay.with_homer(crate::homer::sender::Homer::start(
            h.addr,
            h.tcp,
            h.capture_id,
        ));
    }
    let relay = Arc::new(relay);
    let settings = Settings {
        interfaces: cfg.interfaces.clone(),
        delete_delay: cfg.delete_delay,
        max_sessions: cfg.max_sessions,
        sip_source: cfg.sip_source,
        tos: cfg.tos,
        timeout: cfg.timeout,
        silent_timeout: cfg.silent_timeout,
        final_timeout: cfg.final_timeout,
        offer_timeout: cfg.offer_timeout,
        endpoint_learning: cfg.endpoint_learning,
    };
    let mut registry = Registry::with_rng(settings, pool, rng).with_dtls(dtls_settings);
    registry.software_id = cfg.software_id.clone();
    let mut handler = Handler::new(registry, relay);
    if let Some(r) = recorder {
        handler = handler.with_recorder(r);
    }
    if let Some(dir) = &cfg.state_file {
        match CallStore::open(dir) {
            Ok(store) => handler = handler.with_store(store),
            Err(e) => {
                error!(dir = %dir.display(), %e, "cannot use the state directory");
                return 1;
            }
        }
    }
    if let Some(target) = cfg.redis.writer() {
        use crate::server::redis_store::{connect_as, spawn_writer, Faults};
        let role = redis_role(&cfg);
        if !cfg.redis.not_required {
            if let Err(e) = connect_as(target, role).await {
                error!(addr = %target.addr, %e, "cannot start without Redis (see --no-redis-required)");
                return 1;
            }
        }
        let faults = Faults {
            allowed_errors: cfg.redis.allowed_errors,
            disable_time: cfg.redis.disable_time,
        };
        handler = handler.with_redis(spawn_writer(
            target.clone(),
            role,
            cfg.redis.expires,
            faults,
        ));
    }
    let handler = Arc::new(handler.with_switchover(cfg.redis.active_switchover));
    spawn_dtls_renewal(handler.clone(), cfg.clone(), dtls_expires);
    let restored = handler.restore_calls();
    // 10.5 reads the other node's calls first: our own may then replace one.
    let keyspaces = match &cfg.redis.read {
        Some(target) => {
            crate::server::redis_subscribe::start(
                handler.clone(),
                target.clone(),
                cfg.redis.keyspaces.clone(),
            )
            .await
        }
        None => crate::server::redis_subscribe::Keyspaces::detached(cfg.redis.keyspaces.clone()),
    };
    if restored > 0 {
        info!(calls = restored, "calls of the previous run restored");
    }
    if let Some(target) = &cfg.redis.read {
        match restore_from_redis(&handler, target, &cfg).await {
            Ok(n) if n > 0 => info!(calls = n, "calls restored from Redis"),
            Ok(_) => {}
            Err(e) if cfg.redis.not_required => {
                warn!(addr = %target.addr, %e, "cannot restore calls from Redis")
            }
            Err(e) => {
                error!(addr = %target.addr, %e, "cannot restore calls from Redis (see --no-redis-required)");
                return 1;
            }
        }
    }
    if let Some(k) = kernel_edge {
        // Counters of adopted targets before the first timeout sweep.
        k.sync();
        spawn_stats_sync(k);
    }
    let mut transports: Vec<Box<dyn Transport>> = Vec::new();
    for addr in &cfg.listen_ng {
        match NgUdp::bind(*addr, None).await {
            Ok(t) => transports.push(Box::new(t)),
            Err(e) => {
                error!(%addr, %e, "cannot listen for ng");
                return 1;
            }
        }
    }
    for i in &cfg.interfaces {
        info!(name = %i.name, local = %i.local, advertised = %i.advertised, "media interface");
    }
    for t in transports {
        tokio::spawn(t.serve(handler.clone()));
    }
    if !cfg.listen_udp.is_empty() {
        let service = Arc::new(crate::rtpproxy::Rtpproxy::new(handler.clone()));
        for addr in &cfg.listen_udp {
            let bound = crate::rtpproxy::listener::Listener::bind(*addr)
                .and_then(|l| l.spawn(service.clone()));
            if let Err(e) = bound {
                error!(%addr, %e, "cannot listen for rtpproxy commands");
                return 1;
            }
        }
    }
    for addr in &cfg.listen_tcp_ng {
        match crate::cli::listener::bind(*addr) {
            Ok(l) => {
                tokio::spawn(crate::server::ng_tcp::serve(l, handler.clone()));
            }
            Err(e) => {
                error!(%addr, %e, "cannot listen for ng over TCP");
                return 1;
            }
        }
    }
    if !cfg.listen_tcp.is_empty() {
        let service = Arc::new(crate::mediaproxy::Mediaproxy::new(handler.clone()));
        for addr in &cfg.listen_tcp {
            match crate::cli::listener::bind(*addr) {
                Ok(l) => {
                    tokio::spawn(crate::mediaproxy::listener::serve(l, service.clone()));
                }
                Err(e) => {
                    error!(%addr, %e, "cannot listen for TCP control connections");
                    return 1;
                }
            }
        }
    }
    let tls = match (&cfg.https_cert, cfg.listen_https.is_empty()) {
        (Some(cert), false) => {
            match crate::http::server::tls_acceptor(cert, cfg.https_key.as_deref()) {
                Ok(a) => Some(Arc::new(a)),
                Err(e) => {
                    error!("Failed to init websocket listener: {e}");
                    return 1;
                }
            }
        }
        _ => None,
    };
    if !cfg.listen_cli.is_empty() || !cfg.listen_http.is_empty() || tls.is_some() {
        let kept = cli_tunables(&cfg);
        let live =
            crate::cli::daemon::Live::new(handler.clone(), kept.clone()).with_keyspaces(keyspaces);
        let start = crate::cli::Start {
            tunables: kept,
            fixed: cli_fixed(&cfg),
        };
        let server = Arc::new(crate::cli::listener::CliServer::new(live, start));
        let http = Arc::new(crate::http::server::Live::new(
            handler.clone(),
            server.clone(),
            cfg.janus_secret.clone(),
        ));
        let plain = cfg.listen_http.iter().map(|a| (a, None));
        let secure = cfg.listen_https.iter().map(|a| (a, tls.clone()));
        for (addr, tls) in plain.chain(secure) {
            match crate::cli::listener::bind(*addr) {
                Ok(l) => {
                    tokio::spawn(crate::http::server::serve(l, http.clone(), tls));
                }
                Err(e) => {
                    error!(%addr, %e, "cannot listen for HTTP connections");
                    return 1;
                }
            }
        }
        for addr in &cfg.listen_cli {
            match crate::cli::listener::bind(*addr) {
                Ok(l) => {
                    tokio::spawn(crate::cli::listener::serve(l, server.clone()));
                }
                Err(e) => {
                    error!(%addr, %e, "cannot listen for CLI connections");
                    return 1;
                }
            }
        }
    }
    if let Some(g) = &cfg.graphite {
        tokio::spawn(crate::graphite::sender::run(handler.clone(), g.clone()));
    }
    tokio::spawn(crate::server::timers::sweep_loop(
        handler.clone(),
        Duration::from_millis(250),
    ));
    info!(
        ports = format!("{}-{}", cfg.port_min, cfg.port_max),
        "rtpengined started"
    );
    let code = wait_for_shutdown().await;
    info!("shutting down");
    let h = handler.clone();
    let _ = tokio::task::spawn_blocking(move || h.finish_recordings()).await;
    code
}

/// The CLI's settings at start: the config's, 10.5's defaults for the rest.
fn cli_tunables(cfg: &Config) -> crate::cli::Tunables {
    let secs = |d: Duration| i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
    crate::cli::Tunables {
        max_sessions: cfg.max_sessions,
        timeout: secs(cfg.timeout),
        silent_timeout: secs(cfg.silent_timeout),
        offer_timeout: secs(cfg.offer_timeout),
        final_timeout: secs(cfg.final_timeout),
        delete_delay: secs(cfg.delete_delay),
        control_tos: 0,
        redis_allowed_errors: cfg.redis.allowed_errors,
        redis_disable_time: secs(cfg.redis.disable_time),
        ..crate::cli::Tunables::defaults(i64::from(cfg.log_level))
    }
}

/// What `params start|current` shows of the config beyond the tunables.
fn cli_fixed(cfg: &Config) -> crate::cli::params::Fixed {
    // 10.5 runs as many workers as CPUs, at least 4, unless told.
    let cpus = std::thread::available_parallelism().map_or(1, usize::from);
    crate::cli::params::Fixed {
        table: cfg.table,
        tos: cfg.tos.unwrap_or(0),
        no_fallback: cfg.no_fallback,
        port_min: cfg.port_min,
        port_max: cfg.port_max,
        num_threads: cfg.num_threads.filter(|n| *n > 0).unwrap_or(cpus.max(4)),
        interfaces: cfg
            .interfaces
            .iter()
            .map(|i| (i.name.clone(), i.local))
            .collect(),
        listen_ng: cfg.listen_ng.clone(),
        listen_cli: cfg.listen_cli.clone(),
        listen_udp: cfg.listen_udp.clone(),
        listen_tcp: cfg.listen_tcp.clone(),
        // 10.5's graphite thread makes an interval not above 0 into 1.
        graphite_interval: if cfg.graphite.is_some() {
            cfg.graphite_interval.max(1)
        } else {
            cfg.graphite_interval
        },
        homer: cfg.homer.as_ref().map(|h| (h.tcp, h.capture_id)),
    }
}

/// Folds the kernel's counters into the streams about once a second (as 10.5).
/// A plain thread: reading blist is a blocking file read.
fn spawn_stats_sync(k: Arc<KernelEdge>) {
    let spawned = std::thread::Builder::new()
        .name("kernel-stats".into())
        .spawn(move || loop {
            std::thread::sleep(Duration::from_millis(900));
            k.sync();
        });
    if let Err(e) = spawned {
        error!(%e, "cannot start the kernel statistics thread");
    }
}

async fn wait_for_shutdown() -> i32 {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut int), Ok(mut hup)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
        signal(SignalKind::hangup()),
    ) else {
        error!("cannot install signal handlers");
        return 1;
    };
    loop {
        tokio::select! {
            _ = term.recv() => return 0,
            _ = int.recv() => return 0,
            // No reload on SIGHUP (rtpengine neither): note it and keep running.
            _ = hup.recv() => info!("SIGHUP ignored"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_certificate_is_renewed_once_half_of_its_validity_is_left() {
        let day = Duration::from_secs(24 * 3600);
        let start = SystemTime::UNIX_EPOCH + 1000 * day;
        let validity = 30 * day;
        let expires = start + validity;
        assert!(!dtls_renewal_due(expires, validity, start));
        assert!(!dtls_renewal_due(
            expires,
            validity,
            start + 15 * day - Duration::from_secs(1)
        ));
        assert!(dtls_renewal_due(expires, validity, start + 15 * day));
        assert!(
            dtls_renewal_due(expires, validity, expires + day),
            "already expired"
        );
    }
}
