//! `--redis`: calls kept in Redis in rtpengine 10.5's layout (one key per
//! call-id holding `call::redis_json`'s document), so that a 10.5 node and
//! rtpengined take over each other's calls.
//!
//! Writes never wait on Redis: the ng handler queues the document and one
//! writer task sends `SET` + `EXPIRE` (or `DEL` when the call is gone) in
//! queue order. While Redis is unreachable writes are dropped with a warning,
//! as 10.5 does; the connection comes back by itself.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tokio::sync::mpsc;
use tracing::{info, warn};

use crate::config::redis::RedisTarget;

enum Job {
    Set(String, String),
    Del(String),
}

/// The handle the ng handler writes through.
pub struct RedisWriter {
    jobs: mpsc::UnboundedSender<Job>,
    db: u32,
    limits: Arc<Limits>,
}

/// `--redis-allowed-errors` and `--redis-disable-time` as the CLI's `set`
/// changes them (10.5 reads them at each error too).
struct Limits {
    allowed_errors: AtomicI64,
    disable_secs: AtomicU64,
}

impl Limits {
    fn get(&self) -> Faults {
        Faults {
            allowed_errors: self.allowed_errors.load(Ordering::Relaxed),
            disable_time: Duration::from_secs(self.disable_secs.load(Ordering::Relaxed)),
        }
    }
}

impl RedisWriter {
    /// New error limits, from the next failed write on.
    pub fn set_faults(&self, f: Faults) {
        self.limits
            .allowed_errors
            .store(f.allowed_errors, Ordering::Relaxed);
        self.limits
            .disable_secs
            .store(f.disable_time.as_secs(), Ordering::Relaxed);
    }

    /// The database the documents go to (their `redis_hosted_db`).
    pub fn db(&self) -> u32 {
        self.db
    }

    pub fn save(&self, call_id: &str, doc: String) {
        let _ = self.jobs.send(Job::Set(call_id.to_owned(), doc));
    }

    pub fn remove(&self, call_id: &str) {
        let _ = self.jobs.send(Job::Del(call_id.to_owned()));
    }
}

pub(crate) fn client(t: &RedisTarget) -> redis::RedisResult<redis::Client> {
    // Any byte of the password may need escaping in the URL.
    let auth = t.password.as_ref().map_or_else(String::new, |pw| {
        let enc: String = pw.bytes().map(|b| format!("%{b:02X}")).collect();
        format!(":{enc}@")
    });
    redis::Client::open(format!("redis://{auth}{}/{}", t.addr, t.db))
}

/// A connection to `t` (its database selected, authenticated).
pub async fn connect(t: &RedisTarget) -> Result<ConnectionManager, String> {
    let config = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(t.connect_timeout))
        .set_response_timeout(t.cmd_timeout)
        .set_number_of_retries(1);
    let client = client(t).map_err(|e| e.to_string())?;
    // The first connection: its handshake (AUTH, SELECT) within the connect
    // timeout too, retry included.
    tokio::time::timeout(
        t.connect_timeout * 2 + t.cmd_timeout.unwrap_or(t.connect_timeout),
        ConnectionManager::new_with_config(client, config),
    )
    .await
    .map_err(|_| "timed out".to_string())?
    .map_err(|e| e.to_string())
}

/// Which Redis a connection accepts, by the `role:` of its `INFO` (10.5:
/// with `--redis` alone that server must be a master, since calls are
/// written there; with `--redis-write` any will do for either).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Master,
    Any,
}

/// [`connect`], then the role check: a read-only replica where a master
/// is wanted is refused (10.5 refuses it likewise).
pub async fn connect_as(t: &RedisTarget, role: Role) -> Result<ConnectionManager, String> {
    let mut con = connect(t).await?;
    if role == Role::Master {
        let info: String = redis::cmd("INFO")
            .arg("replication")
            .query_async(&mut con)
            .await
            .map_err(|e| e.to_string())?;
        if !is_master(&info) {
            return Err("is a replica (read-only), not a master".into());
        }
    }
    Ok(con)
}

/// Whether `INFO`'s text names a master (10.5 takes `active-replica` too).
fn is_master(info: &str) -> bool {
    info.lines()
        .filter_map(|l| l.trim().strip_prefix("role:"))
        .any(|r| r == "master" || r == "active-replica")
}

/// Every call document in `t`'s database: `(call-id, document)`. Keys that
/// are not strings (10.5's writes are) are left out.
pub async fn load(t: &RedisTarget, role: Role) -> Result<Vec<(String, String)>, String> {
    let mut con = connect_as(t, role).await?;
    let keys: Vec<Vec<u8>> = redis::cmd("KEYS")
        .arg("*")
        .query_async(&mut con)
        .await
        .map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for key in keys {
        let value: redis::RedisResult<Option<String>> =
            redis::cmd("GET").arg(&key).query_async(&mut con).await;
        match (String::from_utf8(key), value) {
            (Ok(id), Ok(Some(doc))) => out.push((id, doc)),
            (Ok(id), Err(e)) => warn!(call_id = %id, %e, "redis: key not restorable"),
            _ => {}
        }
    }
    Ok(out)
}

/// Deletes the key of a call that could not be restored (10.5 does too).
pub async fn discard(t: &RedisTarget, call_id: &str) {
    if let Ok(mut con) = connect(t).await {
        let _: redis::RedisResult<()> = redis::cmd("DEL").arg(call_id).query_async(&mut con).await;
    }
}

/// What the writer does when Redis fails (`--redis-allowed-errors`,
/// `--redis-disable-time`, 10.5's semantics): after more than
/// `allowed_errors` failed writes in a row (negative: never) Redis is left
/// alone for `disable_time`, the writes meanwhile dropped; the first write
/// after it tries again, and a failure then leaves it alone again at once.
#[derive(Debug, Clone, Copy)]
pub struct Faults {
    pub allowed_errors: i64,
    pub disable_time: Duration,
}

struct Health {
    limits: Arc<Limits>,
    errors: i64,
    disabled_until: Option<Instant>,
    /// Writes dropped in the current disabled period.
    dropped: u64,
}

impl Health {
    /// Whether Redis is to be left alone now.
    fn disabled(&mut self, addr: &std::net::SocketAddr) -> bool {
        match self.disabled_until {
            Some(t) if Instant::now() < t => {
                if self.dropped == 0 {
                    warn!(%addr, "redis: disabled; call state not written");
                }
                self.dropped += 1;
                true
            }
            Some(_) => {
                info!(%addr, dropped = self.dropped, "redis: trying again after the disable time");
                self.disabled_until = None;
                self.dropped = 0;
                false
            }
            None => false,
        }
    }

    fn failed(&mut self, addr: &std::net::SocketAddr) {
        let faults = self.limits.get();
        if faults.allowed_errors < 0 {
            return;
        }
        self.errors += 1;
        if self.errors > faults.allowed_errors {
            self.disabled_until = Some(Instant::now() + faults.disable_time);
            warn!(
                %addr,
                seconds = faults.disable_time.as_secs(),
                "redis: disabled after {} errors in a row",
                self.errors
            );
        }
    }
}

/// Starts the writer task for `t`; keys live `expires` after each write.
pub fn spawn_writer(t: RedisTarget, role: Role, expires: Duration, faults: Faults) -> RedisWriter {
    let (tx, mut rx) = mpsc::unbounded_channel::<Job>();
    let db = t.db;
    let limits = Arc::new(Limits {
        allowed_errors: AtomicI64::new(faults.allowed_errors),
        disable_secs: AtomicU64::new(faults.disable_time.as_secs()),
    });
    let task_limits = limits.clone();
    tokio::spawn(async move {
        let mut con: Option<ConnectionManager> = None;
        let mut down_logged = false;
        let mut health = Health {
            limits: task_limits,
            errors: 0,
            disabled_until: None,
            dropped: 0,
        };
        while let Some(job) = rx.recv().await {
            if health.disabled(&t.addr) {
                continue;
            }
            if con.is_none() {
                match connect_as(&t, role).await {
                    Ok(c) => {
                        if down_logged {
                            info!(addr = %t.addr, "redis: connected again");
                        }
                        down_logged = false;
                        con = Some(c);
                    }
                    Err(e) => {
                        if !down_logged {
                            warn!(addr = %t.addr, %e, "redis: cannot connect; call state not written");
                            down_logged = true;
                        }
                        health.failed(&t.addr);
                        continue;
                    }
                }
            }
            let Some(c) = con.as_mut() else { continue };
            let done: redis::RedisResult<()> = match &job {
                Job::Set(id, doc) => {
                    redis::pipe()
                        .atomic()
                        .cmd("SET")
                        .arg(id)
                        .arg(doc)
                        .ignore()
                        .cmd("EXPIRE")
                        .arg(id)
                        .arg(expires.as_secs())
                        .ignore()
                        .query_async(c)
                        .await
                }
                Job::Del(id) => redis::cmd("DEL").arg(id).query_async(c).await,
            };
            match done {
                Ok(()) => health.errors = 0,
                Err(e) => {
                    warn!(addr = %t.addr, %e, "redis: write failed");
                    // A server that went read-only (demoted) or away: the
                    // next write connects afresh, with the role check.
                    con = None;
                    health.failed(&t.addr);
                }
            }
        }
    });
    RedisWriter {
        jobs: tx,
        db,
        limits,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_of_info() {
        assert!(is_master(
            "# Replication\r\nrole:master\r\nconnected_slaves:0\r\n"
        ));
        assert!(is_master("role:active-replica\n"));
        assert!(!is_master(
            "# Replication\r\nrole:slave\r\nmaster_host:127.0.0.1\r\n"
        ));
        assert!(!is_master(""));
    }

    #[test]
    fn passwords_are_escaped_in_the_url() {
        let t = RedisTarget {
            addr: "127.0.0.1:6379".parse().unwrap(),
            db: 4,
            password: Some("a@b/:".into()),
            connect_timeout: Duration::from_secs(1),
            cmd_timeout: None,
        };
        let info = client(&t).unwrap().get_connection_info().clone();
        assert_eq!(info.redis_settings().db(), 4);
        assert_eq!(info.redis_settings().password(), Some("a@b/:"));
    }
}
