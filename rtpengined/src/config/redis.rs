//! `--redis`, `--redis-write`, `--redis-expires`, `--no-redis-required`, in
//! rtpengine 10.5's syntax: `[PASSWORD@]IP:PORT/DB`, the password otherwise
//! from `RTPENGINE_REDIS_AUTH_PW` (`RTPENGINE_REDIS_WRITE_AUTH_PW` for
//! `--redis-write`).

use std::net::SocketAddr;
use std::time::Duration;

use super::cli::Cli;
use super::ConfigError;

/// One Redis database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisTarget {
    pub addr: SocketAddr,
    pub db: u32,
    pub password: Option<String>,
    /// `--redis-connect-timeout` (10.5's default: one second).
    pub connect_timeout: Duration,
    /// `--redis-cmd-timeout`; `None` (10.5's default, 0): commands may take
    /// as long as they take.
    pub cmd_timeout: Option<Duration>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisOptions {
    /// Where calls are restored from at start (and written, without `write`).
    pub read: Option<RedisTarget>,
    /// Where calls are written, if not to `read`.
    pub write: Option<RedisTarget>,
    /// Lifetime of a call's key after its last write.
    pub expires: Duration,
    /// Start (and go on) when Redis cannot be reached.
    pub not_required: bool,
    /// `--subscribe-keyspace`: databases whose calls we keep as foreign.
    pub keyspaces: Vec<u32>,
    /// `--active-switchover`.
    pub active_switchover: bool,
    /// `--redis-allowed-errors`: failed writes in a row tolerated before
    /// Redis is left alone for `disable_time`; negative: never.
    pub allowed_errors: i64,
    /// `--redis-disable-time`.
    pub disable_time: Duration,
}

impl RedisOptions {
    /// Where calls are written: `--redis-write`, else `--redis`.
    pub fn writer(&self) -> Option<&RedisTarget> {
        self.write.as_ref().or(self.read.as_ref())
    }
}

/// Parses `[PASSWORD@]IP:PORT/DB` (the password up to the last `@`).
pub fn parse_target(text: &str, env_password: Option<String>) -> Option<RedisTarget> {
    let (password, rest) = match text.rsplit_once('@') {
        Some((pw, rest)) => (Some(pw.to_string()), rest),
        None => (env_password, text),
    };
    let (addr, db) = rest.split_once('/')?;
    if db.is_empty() || !db.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(RedisTarget {
        addr: addr.parse().ok()?,
        db: db.parse().ok()?,
        password,
        connect_timeout: Duration::from_secs(1),
        cmd_timeout: None,
    })
}

pub fn redis_options(cli: &Cli) -> Result<RedisOptions, ConfigError> {
    let target = |name: &'static str, v: &Option<String>, env: &str| match v {
        None => Ok(None),
        Some(t) => parse_target(t, std::env::var(env).ok())
            .map(Some)
            .ok_or_else(|| ConfigError::Redis(name, t.clone())),
    };
    let ms = |name: &'static str, v: &Option<String>| -> Result<Option<Duration>, ConfigError> {
        match v.as_deref() {
            None => Ok(None),
            Some(t) => t
                .trim()
                .parse::<u64>()
                .map(|n| (n > 0).then(|| Duration::from_millis(n)))
                .map_err(|_| ConfigError::RedisTimeout(name, t.to_string())),
        }
    };
    let connect = ms("redis-connect-timeout", &cli.redis_connect_timeout)?;
    let cmd = ms("redis-cmd-timeout", &cli.redis_cmd_timeout)?;
    let timed = |t: Option<RedisTarget>| {
        t.map(|t| RedisTarget {
            connect_timeout: connect.unwrap_or(t.connect_timeout),
            cmd_timeout: cmd,
            ..t
        })
    };
    let read = timed(target("redis", &cli.redis, "RTPENGINE_REDIS_AUTH_PW")?);
    let write = timed(target(
        "redis-write",
        &cli.redis_write,
        "RTPENGINE_REDIS_WRITE_AUTH_PW",
    )?);
    let expires = match cli.redis_expires.as_deref() {
        None => 86400,
        Some(v) => v
            .trim()
            .parse::<u64>()
            .map_err(|_| ConfigError::RedisExpires(v.to_string()))?,
    };
    let int = |name: &'static str, v: &Option<String>, default: i64| match v.as_deref() {
        None => Ok(default),
        Some(t) => t
            .trim()
            .parse::<i64>()
            .map_err(|_| ConfigError::RedisNumber(name, t.to_string())),
    };
    let allowed_errors = int("redis-allowed-errors", &cli.redis_allowed_errors, -1)?;
    let disable_time = int("redis-disable-time", &cli.redis_disable_time, 10)?;
    Ok(RedisOptions {
        read,
        write,
        expires: Duration::from_secs(expires),
        not_required: cli.no_redis_required,
        keyspaces: keyspaces(&cli.subscribe_keyspace),
        active_switchover: cli.active_switchover,
        allowed_errors,
        disable_time: Duration::from_secs(disable_time.max(0) as u64),
    })
}

/// `--subscribe-keyspace` values read as 10.5 reads them: the leading
/// digits; one without any is logged and left out.
fn keyspaces(given: &[String]) -> Vec<u32> {
    given
        .iter()
        .filter_map(|v| {
            let digits: String = v
                .trim_start()
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            match digits.parse::<u64>() {
                Ok(n) => Some(n as u32),
                Err(_) => {
                    tracing::error!(
                        "Fail adding keyspace '{v}' to redis notifications; no digits found"
                    );
                    None
                }
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_in_10_5_syntax() {
        let t = parse_target("127.0.0.1:6379/2", None).unwrap();
        assert_eq!((t.addr.port(), t.db, t.password), (6379, 2, None));
        let t = parse_target("s3cr@t@[::1]:6380/0", None).unwrap();
        assert_eq!(t.password.as_deref(), Some("s3cr@t"));
        assert_eq!(t.addr, "[::1]:6380".parse().unwrap());
        let t = parse_target("10.0.0.1:6379/1", Some("env".into())).unwrap();
        assert_eq!(t.password.as_deref(), Some("env"));
        for bad in [
            "127.0.0.1:6379",
            "127.0.0.1:6379/",
            "127.0.0.1:6379/-1",
            "x:1/1",
        ] {
            assert_eq!(parse_target(bad, None), None, "{bad}");
        }
    }

    #[test]
    fn error_limits_default_to_10_5s() {
        use clap::Parser;
        let o = redis_options(&Cli::parse_from(["rtpengined"])).unwrap();
        assert_eq!((o.allowed_errors, o.disable_time.as_secs()), (-1, 10));
        let cli = Cli::parse_from([
            "rtpengined",
            "--redis-allowed-errors=3",
            "--redis-disable-time=7",
        ]);
        let o = redis_options(&cli).unwrap();
        assert_eq!((o.allowed_errors, o.disable_time.as_secs()), (3, 7));
        let bad = Cli::parse_from(["rtpengined", "--redis-disable-time=soon"]);
        assert!(redis_options(&bad).is_err());
    }

    #[test]
    fn timeouts_apply_to_both_targets() {
        use clap::Parser;
        let cli = Cli::parse_from([
            "rtpengined",
            "--redis=127.0.0.1:6379/1",
            "--redis-write=127.0.0.1:6380/2",
            "--redis-connect-timeout=250",
            "--redis-cmd-timeout=40",
        ]);
        let o = redis_options(&cli).unwrap();
        for t in [o.read.unwrap(), o.write.unwrap()] {
            assert_eq!(t.connect_timeout, Duration::from_millis(250));
            assert_eq!(t.cmd_timeout, Some(Duration::from_millis(40)));
        }
        let cli = Cli::parse_from(["rtpengined", "--redis=127.0.0.1:6379/1"]);
        let t = redis_options(&cli).unwrap().read.unwrap();
        assert_eq!(
            (t.connect_timeout, t.cmd_timeout),
            (Duration::from_secs(1), None)
        );
        assert_eq!(
            redis_options(&cli).unwrap().expires,
            Duration::from_secs(86400)
        );
        let cli = Cli::parse_from(["rtpengined", "--redis-cmd-timeout=x"]);
        assert!(redis_options(&cli).is_err());
    }
}
