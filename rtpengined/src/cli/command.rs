//! One CLI line read the way rtpengine 10.5 reads it and answered with its
//! texts: commands match by prefix in table order (`list loglevels` before
//! `list loglevel`), the one character after a command is skipped whatever
//! it is, and an unknown word is echoed back as
//! `Unknown or incomplete command::WORD`.

use std::fmt::Write as _;

use super::metrics;
use super::view::MediaFamily;
use super::{Daemon, OpenFiles, Start, Tunables, Which, LOG_SUBSYSTEMS};

const MORE: &str = "More parameters required.\n";

const TOP: [&str; 12] = [
    "list",
    "terminate",
    "set",
    "get",
    "params",
    "ksadd",
    "ksrm",
    "kslist",
    "active",
    "standby",
    "debug",
    "call",
];
const LIST: [&str; 24] = [
    "numsessions",
    "sessions",
    "totals",
    "counters",
    "maxopenfiles",
    "maxsessions",
    "maxcpu",
    "maxload",
    "maxbw",
    "timeout",
    "silenttimeout",
    "offertimeout",
    "finaltimeout",
    "loglevels",
    "loglevel",
    "redisallowederrors",
    "redisdisabletime",
    "redisconnecttimeout",
    "rediscmdtimeout",
    "controltos",
    "deletedelay",
    "interfaces",
    "jsonstats",
    "transcoders",
];
const SET: [&str; 16] = [
    "maxopenfiles",
    "maxsessions",
    "maxcpu",
    "maxload",
    "maxbw",
    "timeout",
    "silenttimeout",
    "offertimeout",
    "finaltimeout",
    "loglevel",
    "redisallowederrors",
    "redisdisabletime",
    "redisconnecttimeout",
    "rediscmdtimeout",
    "controltos",
    "deletedelay",
];
const PARAMS: [&str; 4] = ["start", "current", "diff", "revert"];
const CALL: [&str; 4] = ["info", "terminate", "debug", "tag"];

/// The rest of the line being read.
#[derive(Clone, Copy)]
struct Rest<'a>(&'a str);

impl<'a> Rest<'a> {
    /// Skips `n` bytes (10.5 skips the separator without looking at it);
    /// `None` if fewer are left.
    fn shift(self, n: usize) -> Option<Rest<'a>> {
        // A line is bytes to 10.5; ours is text: skip whole characters.
        let mut chars = self.0.char_indices();
        let mut end = 0;
        for _ in 0..n {
            let (i, c) = chars.next()?;
            end = i + c.len_utf8();
        }
        Some(Rest(&self.0[end..]))
    }
}

/// Picks the first entry of `table` the line starts with; `help` lists the
/// table.
fn dispatch<'a>(
    table: &[&'static str],
    rest: Rest<'a>,
    out: &mut String,
) -> Option<(&'static str, Rest<'a>)> {
    if rest.0 == "help" {
        out.push_str("Available sub-commands at this level:\n");
        for c in table {
            let _ = writeln!(out, "\t{c}");
        }
        return None;
    }
    for c in table {
        if let Some(r) = rest.0.strip_prefix(c) {
            return Some((c, Rest(r)));
        }
    }
    let _ = writeln!(out, "Unknown or incomplete command::{}", rest.0);
    None
}

/// Answers one command line (without its line end).
pub fn run(line: &str, d: &dyn Daemon, initial: &Start) -> String {
    // A C string ends at its first NUL.
    let line = line.split('\0').next().unwrap_or("");
    let mut out = String::new();
    let Some((cmd, rest)) = dispatch(&TOP, Rest(line), &mut out) else {
        return out;
    };
    match cmd {
        "list" | "get" => match rest.shift(1) {
            None => out.push_str(MORE),
            Some(r) => list(r, d, &mut out),
        },
        "set" => match rest.shift(1) {
            None => out.push_str(MORE),
            Some(r) => set(r, d, &mut out),
        },
        "params" => match rest.shift(1) {
            None => out.push_str(MORE),
            Some(r) => params(r, d, initial, &mut out),
        },
        "terminate" => match rest.shift(1) {
            None => out.push_str(MORE),
            Some(r) => terminate(r.0, d, &mut out),
        },
        "kslist" => {
            out.push_str("\nSubscribed-on keyspaces:\n");
            for db in d.keyspaces() {
                let _ = write!(out, "{db} ");
            }
            out.push('\n');
        }
        "active" => {
            d.set_all_foreign(false);
            out.push_str("Ok, all calls set to 'owned (active)'\n");
        }
        "standby" => {
            d.set_all_foreign(true);
            out.push_str("Ok, all calls set to 'foreign (standby)'\n");
        }
        "call" => call(rest, d, &mut out),
        "ksadd" => ksadd(rest, d, &mut out),
        "ksrm" => ksrm(rest, d, &mut out),
        "debug" => debug(rest, d, &mut out),
        _ => unreachable!("every entry of TOP is handled"),
    }
    out
}

fn list(rest: Rest<'_>, d: &dyn Daemon, out: &mut String) {
    let Some((sub, rest)) = dispatch(&LIST, rest, out) else {
        return;
    };
    let t = || d.tunables();
    match sub {
        "numsessions" => {
            let calls = d.calls();
            let n = calls.len();
            let foreign = calls.iter().filter(|c| c.foreign).count();
            let own = n - foreign;
            // 10.5 counts the families at signalling: not those of calls
            // that came from Redis.
            let count = |f| {
                calls
                    .iter()
                    .filter(|c| !c.foreign && c.media_family == Some(f))
                    .count()
            };
            let v4 = count(MediaFamily::Ipv4);
            let v6 = count(MediaFamily::Ipv6);
            let mixed = count(MediaFamily::Mixed);
            let _ = write!(
                out,
                "Current sessions own: {own}\nCurrent sessions foreign: {foreign}\nCurrent sessions total: {n}\n\
                 Current transcoded media: 0\nCurrent sessions ipv4 only media: {v4}\n\
                 Current sessions ipv6 only media: {v6}\nCurrent sessions ip mixed  media: {mixed}\n"
            );
        }
        "sessions" => sessions(rest, d, out),
        "totals" => {
            let (snap, last) = d.statistics();
            out.push_str(&metrics::gather(&snap, &last).text());
        }
        "jsonstats" => {
            let (snap, last) = d.statistics();
            out.push_str(&metrics::gather(&snap, &last).json());
        }
        "counters" => {
            let r = d.statistics().0.rates;
            let total = r.user.plus(r.kernel);
            out.push_str("\nCurrent per-second counters:\n\n");
            for (by, v) in [
                ("userspace", r.user),
                ("kernel", r.kernel),
                ("total", total),
            ] {
                for (what, n) in [
                    ("Packets", v.packets),
                    ("Bytes", v.bytes),
                    ("Errors", v.errors),
                ] {
                    let d = format!("{what} per second ({by})");
                    let _ = writeln!(out, " {d:<48}:{n}");
                }
            }
        }
        "maxopenfiles" => {
            let pid = d.pid();
            match d.open_files() {
                OpenFiles::Unknown => {
                    let _ = writeln!(
                        out,
                        "Fail getting rtpengine configured limits; cat /proc/{pid}/limits"
                    );
                }
                OpenFiles::Unlimited => {
                    let _ = writeln!(out, "Maximum open-files configured on rtpengine: infinite; cat /proc/{pid}/limits");
                }
                OpenFiles::Limit(n) => {
                    let _ = writeln!(
                        out,
                        "Maximum open-files configured on rtpengine: {n}; cat /proc/{pid}/limits"
                    );
                }
            }
        }
        "maxsessions" => {
            let _ = writeln!(
                out,
                "Maximum sessions configured on rtpengine: {}",
                t().max_sessions
            );
        }
        "maxcpu" => {
            let _ = writeln!(
                out,
                "Maximum CPU usage configured on rtpengine: {:.1}",
                t().cpu_limit as f64 / 100.0
            );
        }
        "maxload" => {
            let _ = writeln!(
                out,
                "Maximum load average configured on rtpengine: {:.2}",
                t().load_limit as f64 / 100.0
            );
        }
        "maxbw" => {
            let _ = writeln!(
                out,
                "Maximum bandwidth configured on rtpengine: {}",
                t().bw_limit
            );
        }
        "timeout" => {
            let _ = writeln!(out, "TIMEOUT={}", t().timeout);
        }
        "silenttimeout" => {
            let _ = writeln!(out, "SILENT_TIMEOUT={}", t().silent_timeout);
        }
        "offertimeout" => {
            let _ = writeln!(out, "OFFER_TIMEOUT={}", t().offer_timeout);
        }
        "finaltimeout" => {
            let _ = writeln!(out, "FINAL_TIMEOUT={}", t().final_timeout);
        }
        "loglevels" => {
            for (name, descr) in LOG_SUBSYSTEMS {
                let _ = writeln!(out, "{name} - {descr}");
            }
        }
        "loglevel" => {
            let levels = t().log_levels;
            let only = if rest.0.is_empty() {
                ""
            } else {
                rest.shift(1).map_or("", |r| r.0)
            };
            for (i, (name, _)) in LOG_SUBSYSTEMS.iter().enumerate() {
                if only.is_empty() {
                    let _ = writeln!(out, "{name} = {}", levels[i]);
                } else if only == *name {
                    let _ = writeln!(out, "{}", levels[i]);
                }
            }
        }
        "redisallowederrors" => {
            let _ = writeln!(out, "{}", t().redis_allowed_errors);
        }
        "redisdisabletime" => {
            let _ = writeln!(out, "{}", t().redis_disable_time);
        }
        "redisconnecttimeout" => {
            let _ = writeln!(out, "{}", t().redis_connect_timeout);
        }
        "rediscmdtimeout" => {
            let _ = writeln!(out, "{}", t().redis_cmd_timeout);
        }
        "controltos" => {
            let _ = writeln!(out, "{}", t().control_tos);
        }
        "deletedelay" => {
            let _ = writeln!(out, "{}", t().delete_delay);
        }
        "interfaces" => {
            let (snap, last) = d.statistics();
            for (n, i) in snap.interfaces.iter().enumerate() {
                let total = i.total();
                let used = i.used.min(total);
                let fam = if i.address.is_ipv4() { "IPv4" } else { "IPv6" };
                let _ = write!(
                    out,
                    "Interface '{}' address '{}' ({fam})\n Port range: {:>5} - {:>5}\n \
                     Ports used: {used:>5} / {total:>5} ({:>5.1}%)\n Last port used: {:>5}\n",
                    i.name,
                    i.address,
                    i.min,
                    i.max,
                    used as f64 * 100.0 / total as f64,
                    last.get(n).copied().unwrap_or(0)
                );
            }
        }
        "transcoders" => out.push_str("No stats entries\n"),
        _ => unreachable!("every entry of LIST is handled"),
    }
}

fn sessions(rest: Rest<'_>, d: &dyn Daemon, out: &mut String) {
    let Some(r) = rest.shift(1) else {
        out.push_str(MORE);
        return;
    };
    let (show, none): (fn(bool) -> bool, _) = match r.0 {
        "all" => (|_| true, "No sessions on this media relay.\n"),
        "own" => (|f| !f, "No own sessions on this media relay.\n"),
        "foreign" => (|f| f, "No foreign sessions on this media relay.\n"),
        id => {
            if id.is_empty() {
                out.push_str(MORE);
                return;
            }
            match d.call(id) {
                Some(c) => out.push_str(&c.details()),
                None => {
                    let _ = write!(out, "\nCall ID not found ({id}).\n\n");
                }
            }
            return;
        }
    };
    let calls: Vec<_> = d.calls().into_iter().filter(|c| show(c.foreign)).collect();
    for c in &calls {
        out.push_str(&c.line());
    }
    if calls.is_empty() {
        out.push_str(none);
    }
}

fn terminate(arg: &str, d: &dyn Daemon, out: &mut String) {
    // 10.5 compares only as many bytes as were given: `a` is `all`.
    let is = |word: &str| !arg.is_empty() && word.starts_with(arg);
    if is("all") {
        d.terminate(Which::All);
        tracing::info!("All calls terminated by operator.");
        out.push_str("All calls terminated by operator.\n");
    } else if is("own") {
        d.terminate(Which::Own);
        tracing::info!("All own calls terminated by operator.");
        out.push_str("All own calls terminated by operator.\n");
    } else if is("foreign") {
        d.terminate(Which::Foreign);
        tracing::info!("All foreign calls terminated by operator.");
        out.push_str("All foreign calls terminated by operator.\n");
    } else if d.terminate(Which::Call(arg)) == 0 {
        let _ = write!(out, "\nCall Id not found ({arg}).\n\n");
    } else {
        tracing::warn!("Call Id ({arg}) successfully terminated by operator.");
        let _ = write!(
            out,
            "\nCall Id ({arg}) successfully terminated by operator.\n\n"
        );
    }
}

/// C's `strtol`/`strtoul` prefix: the value (saturated) and whether any
/// digit was read, whether it overflowed.
fn c_long(s: &str) -> (i128, bool, bool) {
    let t = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (neg, t) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let digits: &str = &t[..t.bytes().take_while(u8::is_ascii_digit).count()];
    if digits.is_empty() {
        return (0, false, false);
    }
    let v: i128 = digits.parse().unwrap_or(i128::MAX);
    let v = if neg { -v } else { v };
    let over = v > i128::from(i64::MAX) || v < i128::from(i64::MIN);
    (
        v.clamp(i128::from(i64::MIN), i128::from(i64::MAX)),
        true,
        over,
    )
}

/// C's `strtod` prefix: `None` without a number; NaN and infinities count as
/// numbers (and fail later, as in 10.5).
fn c_double(s: &str) -> Option<f64> {
    let t = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let lower = t.to_ascii_lowercase();
    let body = lower.trim_start_matches(['+', '-']);
    if body.starts_with("inf") || body.starts_with("nan") {
        return Some(f64::NAN);
    }
    let b = t.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        i += 1;
    }
    let start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let mut digits = i - start;
    if i < b.len() && b[i] == b'.' {
        i += 1;
        let f = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        digits += i - f;
    }
    if digits == 0 {
        return None;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        let mut j = i + 1;
        if j < b.len() && (b[j] == b'+' || b[j] == b'-') {
            j += 1;
        }
        let e = j;
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
        if j > e {
            i = j;
        }
    }
    t[..i].parse().ok()
}

const ERANGE: i32 = 34;

fn set(rest: Rest<'_>, d: &dyn Daemon, out: &mut String) {
    let Some((sub, rest)) = dispatch(&SET, rest, out) else {
        return;
    };
    let Some(arg) = rest.shift(1).map(|r| r.0) else {
        out.push_str(MORE);
        return;
    };
    let mut t = d.tunables();
    match sub {
        "maxopenfiles" => {
            let (v, any, over) = c_long(arg);
            // strtoul takes a minus sign and wraps.
            let n = if v < 0 { (v as i64) as u64 } else { v as u64 };
            if over {
                let _ = writeln!(out, "Fail setting open_files to {arg}; errno={ERANGE}");
            } else if !any {
                let _ = writeln!(out, "Fail setting open_files to {arg}; no digists found");
            } else if n < 1 << 16 {
                let _ = writeln!(
                    out,
                    "Fail setting open_files to {n}; can't set it under {}",
                    1u64 << 16
                );
            } else if let Err(errno) = d.set_open_files(n) {
                let _ = writeln!(out, "Fail setting open_files to {n}; errno = {errno}");
            } else {
                let _ = writeln!(
                    out,
                    "Success setting open_files to {n}; cat /proc/{}/limits",
                    d.pid()
                );
            }
            return;
        }
        "maxsessions" => {
            let (v, any, over) = c_long(arg);
            if over {
                let _ = writeln!(out, "Fail setting maxsessions to {arg}; errno={ERANGE}");
                return;
            } else if !any {
                let _ = writeln!(out, "Fail setting maxsessions to {arg}; no digists found");
                return;
            } else if v < -1 {
                let _ = writeln!(
                    out,
                    "Fail setting maxsessions to {v}; either positive or -1 values allowed"
                );
                return;
            }
            // 10.5 keeps it in an int.
            t.max_sessions = i64::from(v as i32);
            if v == -1 {
                let _ = writeln!(out, "Success setting maxsessions to {v}; disable feature");
            } else {
                let _ = writeln!(out, "Success setting maxsessions to {v}");
            }
        }
        "maxcpu" | "maxload" => {
            let Some(num) = c_double(arg) else {
                let _ = writeln!(out, "Fail setting {sub} to {arg}; no digists found");
                return;
            };
            if !num.is_finite() {
                let errno = if num.is_nan() { 0 } else { ERANGE };
                let _ = writeln!(out, "Fail setting {sub} to {arg}; errno={errno}");
                return;
            }
            if sub == "maxcpu" {
                t.cpu_limit = (num * 100.0) as i32 as i64;
                let _ = writeln!(out, "Success setting maxcpu to {num:.1}");
            } else {
                t.load_limit = (num * 100.0) as i32 as i64;
                let _ = writeln!(out, "Success setting maxload to {num:.2}");
            }
        }
        "maxbw" => {
            let (v, any, over) = c_long(arg);
            if over {
                let _ = writeln!(out, "Fail setting maxbw to {arg}; errno={ERANGE}");
                return;
            } else if !any {
                let _ = writeln!(out, "Fail setting maxbw to {arg}; no digists found");
                return;
            }
            let n = if v < 0 { (v as i64) as u64 } else { v as u64 };
            // 10.5 stores a hundred times what it was given.
            t.bw_limit = n.wrapping_mul(100);
            let _ = writeln!(out, "Success setting maxbw to {n}");
        }
        "timeout" | "silenttimeout" | "offertimeout" | "finaltimeout" => {
            let (v, any, over) = c_long(arg);
            if over || v < 0 || v >= i128::from(i32::MAX) {
                let errno = if over { ERANGE } else { 0 };
                let _ = writeln!(out, "Fail setting timeout to {arg}; errno={errno}");
                return;
            } else if !any {
                let _ = writeln!(out, "Fail setting timeout to {arg}; no digists found");
                return;
            }
            let v = v as i64;
            match sub {
                "timeout" => t.timeout = v,
                "silenttimeout" => t.silent_timeout = v,
                "offertimeout" => t.offer_timeout = v,
                _ => t.final_timeout = v,
            }
            let _ = writeln!(out, "Success setting timeout to {v}");
        }
        "loglevel" => {
            let (subsys, level) = match arg.as_bytes().first() {
                Some(c) if !c.is_ascii_digit() => match arg.split_once(' ') {
                    Some((s, l)) => (Some(s), l),
                    None => (Some(arg), ""),
                },
                _ => (None, arg),
            };
            if level.is_empty() {
                out.push_str(MORE);
                return;
            }
            let (v, _, _) = c_long(level);
            let nl = v as i64 as i32;
            for (i, (name, _)) in LOG_SUBSYSTEMS.iter().enumerate() {
                if subsys.is_none_or(|s| s == *name) {
                    t.log_levels[i] = i64::from(nl);
                }
            }
            let _ = writeln!(out, "Success setting loglevel to {nl}");
        }
        "redisallowederrors" => {
            let v = c_long(arg).0 as i64;
            t.redis_allowed_errors = i64::from(v as i32);
            let _ = writeln!(out, "Success setting redis-allowed-errors to {v}");
        }
        "redisdisabletime" => {
            let v = c_long(arg).0 as i64;
            if v < 0 {
                let _ = writeln!(out, "Invalid redis-disable-time value {v}, must be >= 0");
                return;
            }
            t.redis_disable_time = i64::from(v as i32);
            let _ = writeln!(out, "Success setting redis-disable-time to {v}");
        }
        "redisconnecttimeout" => {
            let v = c_long(arg).0 as i64;
            if v <= 0 {
                let _ = writeln!(out, "Invalid redis-connect-timeout value {v}, must be > 0");
                return;
            }
            t.redis_connect_timeout = i64::from(v as i32);
            let _ = writeln!(out, "Success setting redis-connect-timeout to {v}");
        }
        "rediscmdtimeout" => {
            let v = c_long(arg).0 as i64;
            if v < 0 {
                let _ = writeln!(out, "Invalid redis-cmd-timeout value {v}, must be >= 0");
                return;
            }
            if t.redis_cmd_timeout != v && v == 0 {
                out.push_str("Warning: Setting redis-cmd-timeout to 0 (no timeout) will require a redis reconnect\n");
            }
            t.redis_cmd_timeout = i64::from(v as i32);
            let _ = writeln!(out, "Success setting redis-cmd-timeout to {v}");
        }
        "controltos" => {
            let v = c_long(arg).0 as i64;
            if !(0..=255).contains(&v) {
                let _ = writeln!(
                    out,
                    "Invalid control-tos value {v}, must be between 0 and 255"
                );
                return;
            }
            t.control_tos = v;
            // 10.5 answers with the wrong option's name.
            let _ = writeln!(out, "Success setting redis-connect-timeout to {v}");
        }
        "deletedelay" => {
            let (v, any, _) = c_long(arg);
            let v = if !any || v > i128::from(i32::MAX) || v < i128::from(i32::MIN) {
                -1
            } else {
                v as i64
            };
            if v == -1 {
                out.push_str("Invalid delete-delay value\n");
                return;
            }
            t.delete_delay = v;
            let _ = writeln!(out, "Success setting delete-delay to {v}");
        }
        _ => unreachable!("every entry of SET is handled"),
    }
    d.set_tunables(&t);
}

/// The settings `params diff` compares and `params revert` restores, with
/// 10.5's names for them.
fn compared(t: &Tunables) -> Vec<(String, i64)> {
    let mut v: Vec<(String, i64)> = LOG_SUBSYSTEMS
        .iter()
        .zip(t.log_levels)
        .map(|((n, _), l)| (format!("log-level-{n}"), l))
        .collect();
    v.extend([
        ("max-sessions".to_owned(), t.max_sessions),
        ("max-cpu".to_owned(), t.cpu_limit),
        ("max-load".to_owned(), t.load_limit),
        ("max-bw".to_owned(), t.bw_limit as i64),
        ("timeout".to_owned(), t.timeout),
        ("silent-timeout".to_owned(), t.silent_timeout),
        ("final-timeout".to_owned(), t.final_timeout),
        ("control-tos".to_owned(), t.control_tos),
        ("redis_allowed_errors".to_owned(), t.redis_allowed_errors),
        ("redis_disable_time".to_owned(), t.redis_disable_time),
        ("redis_cmd_timeout".to_owned(), t.redis_cmd_timeout),
        (
            "redis_connect_timeout-db".to_owned(),
            t.redis_connect_timeout,
        ),
    ]);
    v
}

fn params(rest: Rest<'_>, d: &dyn Daemon, start: &Start, out: &mut String) {
    let initial = &start.tunables;
    let Some((sub, _)) = dispatch(&PARAMS, rest, out) else {
        return;
    };
    let now = d.tunables();
    match sub {
        "diff" => {
            for ((name, was), (_, is)) in compared(initial).into_iter().zip(compared(&now)) {
                if was != is {
                    let _ = writeln!(out, "{name}: {was} => {is}");
                }
            }
        }
        "revert" => {
            let t = Tunables {
                offer_timeout: now.offer_timeout,
                delete_delay: now.delete_delay,
                ..initial.clone()
            };
            d.set_tunables(&t);
        }
        "start" => out.push_str(&super::params::render(&start.fixed, initial, true)),
        _ => out.push_str(&super::params::render(&start.fixed, &now, false)),
    }
}

fn call(rest: Rest<'_>, d: &dyn Daemon, out: &mut String) {
    let Some(r) = rest.shift(1) else {
        out.push_str(MORE);
        return;
    };
    let (id, rest) = r.0.split_once(' ').unwrap_or((r.0, ""));
    if id.is_empty() {
        out.push_str("No call ID specified\n");
        return;
    }
    let Some(c) = d.call(id) else {
        let _ = writeln!(out, "No such call '{id}'");
        return;
    };
    let Some((sub, rest)) = dispatch(&CALL, Rest(rest), out) else {
        return;
    };
    match sub {
        "info" => out.push_str(&c.details()),
        "terminate" => {
            let _ = write!(out, "\nCall '{id}' terminated.\n\n");
            tracing::warn!("Call {id} terminated by operator");
            d.terminate(Which::Call(id));
        }
        "debug" => debug_flag(rest.shift(1).map_or("", |r| r.0), id, out),
        _ => tag(rest, &c, out),
    }
}

const TAG: [&str; 3] = ["info", "delay", "detect-dtmf"];

fn tag(rest: Rest<'_>, c: &super::view::CallView, out: &mut String) {
    let Some(r) = rest.shift(1) else {
        out.push_str(MORE);
        return;
    };
    let (name, rest) = r.0.split_once(' ').unwrap_or((r.0, ""));
    if name.is_empty() {
        out.push_str("No tag specified\n");
        return;
    }
    let Some(t) = c.tags.iter().find(|t| t.tag == name) else {
        let _ = writeln!(out, "No such tag '{name}'");
        return;
    };
    let Some((sub, rest)) = dispatch(&TAG, Rest(rest), out) else {
        return;
    };
    if sub == "info" {
        out.push_str(&t.details());
        return;
    }
    // `delay MS` and `detect-dtmf 0|1` take their argument as 10.5 does (a
    // missing or invalid one gets 10.5's answer), but both act through a
    // transcoder, which we do not have: a valid request is refused.
    let Some(arg) = rest.shift(1) else {
        out.push_str(MORE);
        return;
    };
    let v = c_int(arg.0, 1);
    let valid = match sub {
        "delay" => v >= 0,
        _ => v == 0 || v == 1,
    };
    if !valid {
        let what = if sub == "delay" { "delay" } else { "setting" };
        let _ = writeln!(out, "Invalid {what} {v}");
        return;
    }
    let _ = writeln!(out, "The '{sub}' command is not supported by rtpengined.");
}

/// 10.5's `str_to_i`: a C `int` read as `strtoll` does, `default` without
/// digits or out of the `int` range.
fn c_int(s: &str, default: i32) -> i32 {
    let (v, any, _) = c_long(s);
    if !any {
        return default;
    }
    i32::try_from(v).unwrap_or(default)
}

/// Removing a Redis keyspace: we subscribe to none.
/// `ksadd N`, `ksrm N`: 10.5 reads the number with `strtoul` (a minus sign
/// wraps) and keeps it as an unsigned int.
fn keyspace_arg(rest: Rest<'_>, verb: &str, out: &mut String) -> Option<u64> {
    let Some(arg) = rest.shift(1).map(|r| r.0) else {
        out.push_str(MORE);
        return None;
    };
    let (v, any, over) = c_long(arg);
    if over {
        let _ = writeln!(
            out,
            "Fail {verb} keyspace {arg} to redis notifications; errono={ERANGE}"
        );
        None
    } else if !any {
        let _ = writeln!(
            out,
            "Fail {verb} keyspace {arg} to redis notifications; no digists found"
        );
        None
    } else {
        Some(if v < 0 { (v as i64) as u64 } else { v as u64 })
    }
}

fn ksadd(rest: Rest<'_>, d: &dyn Daemon, out: &mut String) {
    let Some(n) = keyspace_arg(rest, "adding", out) else {
        return;
    };
    if d.add_keyspace(n as u32) {
        let _ = writeln!(out, "Success adding keyspace {n} to redis notifications.");
    } else {
        let _ = writeln!(out, "Keyspace {n} is already among redis notifications.");
    }
}

fn ksrm(rest: Rest<'_>, d: &dyn Daemon, out: &mut String) {
    let Some(n) = keyspace_arg(rest, "removing", out) else {
        return;
    };
    if d.remove_keyspace(n as u32) {
        let _ = writeln!(out, "Successfully unsubscribed from keyspace {n}.");
        let _ = writeln!(
            out,
            "Successfully removed all foreign calls for keyspace {n}."
        );
    } else {
        let _ = writeln!(out, "Keyspace {n} is not among redis notifications.");
    }
}

fn debug(rest: Rest<'_>, d: &dyn Daemon, out: &mut String) {
    let Some(r) = rest.shift(1) else {
        out.push_str("No call ID specified\n");
        return;
    };
    let (id, flag) = r.0.split_once(' ').unwrap_or((r.0, ""));
    if id.is_empty() {
        out.push_str("No call ID specified\n");
        return;
    }
    if !matches!(flag, "" | "on" | "enable" | "off" | "disable") {
        let _ = writeln!(out, "Invalid on/off flag ('{flag}') specified");
        return;
    }
    if d.call(id).is_none() {
        let _ = writeln!(out, "Call ID '{id}' not found");
        return;
    }
    debug_flag(flag, id, out);
}

/// Per-call debug logging: acknowledged as 10.5 does; our log level is
/// daemon-wide.
fn debug_flag(flag: &str, id: &str, out: &mut String) {
    let on = match flag {
        "" | "on" | "enable" => true,
        "off" | "disable" => false,
        other => {
            let _ = writeln!(out, "Invalid on/off flag ('{other}') specified");
            return;
        }
    };
    let _ = writeln!(
        out,
        "{} debugging for call '{id}'",
        if on { "Enabled" } else { "Disabled" }
    );
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::time::Duration;

    use super::*;
    use crate::call::totals::SessionTotals;
    use crate::cli::view::CallView;
    use crate::server::stats::{InterfacePorts, Snapshot};

    struct Fake {
        t: RefCell<Tunables>,
        calls: RefCell<Vec<CallView>>,
        rates: std::cell::Cell<crate::server::rates::Counters>,
        keyspaces: RefCell<Vec<u32>>,
    }

    impl Fake {
        fn new() -> Fake {
            Fake {
                t: RefCell::new(Tunables::defaults(6)),
                calls: RefCell::new(vec![call("c1")]),
                rates: Default::default(),
                keyspaces: RefCell::new(Vec::new()),
            }
        }
        fn run(&self, line: &str) -> String {
            let start = Start {
                tunables: Tunables::defaults(6),
                fixed: Default::default(),
            };
            run(line, self, &start)
        }
    }

    fn call(id: &str) -> CallView {
        CallView {
            id: id.into(),
            deleted: false,
            created: 1_700_000_000,
            last_signal: 1_700_000_001,
            proxy: "127.0.0.1:5060".into(),
            tos: 0,
            tags: Vec::new(),
            media_family: Some(MediaFamily::Ipv4),
            foreign: false,
            redis_keyspace: 0,
        }
    }

    impl Daemon for Fake {
        fn tunables(&self) -> Tunables {
            self.t.borrow().clone()
        }
        fn set_tunables(&self, t: &Tunables) {
            *self.t.borrow_mut() = t.clone();
        }
        fn calls(&self) -> Vec<CallView> {
            self.calls.borrow().clone()
        }
        fn call(&self, id: &str) -> Option<CallView> {
            self.calls.borrow().iter().find(|c| c.id == id).cloned()
        }
        fn statistics(&self) -> (Snapshot, Vec<u16>) {
            let snap = Snapshot {
                uptime: Duration::from_secs(42),
                sessions: self.calls.borrow().len() as u64,
                foreign: 0,
                streams_user: 0,
                streams_kernel: 0,
                totals: SessionTotals::default(),
                relayed_user: Default::default(),
                relayed_kernel: Default::default(),
                clients: Vec::new(),
                rates: self.rates.get(),
                interval: Default::default(),
                interfaces: vec![InterfacePorts {
                    name: "default".into(),
                    address: "127.0.0.1".parse().unwrap(),
                    min: 41000,
                    max: 41499,
                    used: 4,
                }],
            };
            (snap, vec![41012])
        }
        fn terminate(&self, which: Which<'_>) -> usize {
            let mut calls = self.calls.borrow_mut();
            let before = calls.len();
            match which {
                Which::All => calls.clear(),
                Which::Own => calls.retain(|c| c.foreign),
                Which::Foreign => calls.retain(|c| !c.foreign),
                Which::Call(id) => calls.retain(|c| c.id != id),
            }
            before - calls.len()
        }
        fn open_files(&self) -> OpenFiles {
            OpenFiles::Limit(20000)
        }
        fn set_open_files(&self, _n: u64) -> Result<(), i32> {
            Ok(())
        }
        fn pid(&self) -> u32 {
            77
        }
        fn keyspaces(&self) -> Vec<u32> {
            self.keyspaces.borrow().clone()
        }
        fn add_keyspace(&self, db: u32) -> bool {
            let mut k = self.keyspaces.borrow_mut();
            !k.contains(&db) && {
                k.push(db);
                true
            }
        }
        fn remove_keyspace(&self, db: u32) -> bool {
            let mut k = self.keyspaces.borrow_mut();
            let before = k.len();
            k.retain(|d| *d != db);
            self.calls
                .borrow_mut()
                .retain(|c| !(c.foreign && c.redis_keyspace == db));
            k.len() < before
        }
        fn set_all_foreign(&self, foreign: bool) {
            for c in self.calls.borrow_mut().iter_mut() {
                c.foreign = foreign;
            }
        }
    }

    #[test]
    fn keyspaces_and_foreign_calls_as_10_5_shows_them() {
        let d = Fake::new();
        assert_eq!(d.run("kslist"), "\nSubscribed-on keyspaces:\n\n");
        assert_eq!(d.run("ksadd"), MORE);
        assert_eq!(
            d.run("ksadd 3"),
            "Success adding keyspace 3 to redis notifications.\n"
        );
        assert_eq!(
            d.run("ksadd 3"),
            "Keyspace 3 is already among redis notifications.\n"
        );
        assert_eq!(
            d.run("ksadd y"),
            "Fail adding keyspace y to redis notifications; no digists found\n"
        );
        d.run("ksadd 12");
        assert_eq!(d.run("kslist"), "\nSubscribed-on keyspaces:\n3 12 \n");
        let mut f = call("f1");
        f.foreign = true;
        f.redis_keyspace = 3;
        d.calls.borrow_mut().push(f);
        assert!(d
            .run("list sessions foreign")
            .contains("| redis_keyspace:3 | foreign:yes\n"));
        assert!(!d.run("list sessions own").contains("f1"));
        assert!(d.run("list numsessions").starts_with(
            "Current sessions own: 1\nCurrent sessions foreign: 1\nCurrent sessions total: 2\n"
        ));
        assert_eq!(
            d.run("ksrm 3"),
            "Successfully unsubscribed from keyspace 3.\n\
             Successfully removed all foreign calls for keyspace 3.\n"
        );
        assert_eq!(
            d.run("list sessions foreign"),
            "No foreign sessions on this media relay.\n"
        );
        assert_eq!(
            d.run("standby"),
            "Ok, all calls set to 'foreign (standby)'\n"
        );
        assert!(d.run("list sessions c1").contains("\nforeign: yes\n"));
        assert_eq!(
            d.run("terminate foreign"),
            "All foreign calls terminated by operator.\n"
        );
        assert_eq!(
            d.run("list sessions all"),
            "No sessions on this media relay.\n"
        );
        assert_eq!(d.run("active"), "Ok, all calls set to 'owned (active)'\n");
    }

    #[test]
    fn words_match_by_prefix_in_table_order() {
        let d = Fake::new();
        assert_eq!(d.run("foo"), "Unknown or incomplete command::foo\n");
        assert_eq!(d.run("list"), MORE);
        // One character after the command is skipped, whatever it is.
        assert_eq!(d.run("listx"), "Unknown or incomplete command::\n");
        assert!(d.run("list loglevels").starts_with("core - Everything"));
        assert_eq!(d.run("list loglevel core"), "6\n");
        assert_eq!(d.run("list loglevel internals"), "-1\n");
        assert_eq!(d.run("list loglevel nosuch"), "");
        assert_eq!(
            d.run("get maxsessions"),
            "Maximum sessions configured on rtpengine: -1\n"
        );
        assert_eq!(
            d.run("list maxopenfiles"),
            "Maximum open-files configured on rtpengine: 20000; cat /proc/77/limits\n"
        );
        assert!(d
            .run("help")
            .starts_with("Available sub-commands at this level:\n\tlist\n\tterminate\n"));
        assert_eq!(d.run("list sessions"), MORE);
        assert_eq!(
            d.run("list sessions nope"),
            "\nCall ID not found (nope).\n\n"
        );
        assert_eq!(
            d.run("list sessions foreign"),
            "No foreign sessions on this media relay.\n"
        );
        assert!(d
            .run("list sessions all")
            .starts_with(&format!("callid: {:>60} |", "c1")));
    }

    #[test]
    fn set_changes_the_settings_at_once() {
        let d = Fake::new();
        assert_eq!(
            d.run("set maxsessions 0"),
            "Success setting maxsessions to 0\n"
        );
        assert_eq!(d.tunables().max_sessions, 0);
        assert_eq!(
            d.run("set maxsessions -1"),
            "Success setting maxsessions to -1; disable feature\n"
        );
        assert_eq!(
            d.run("set maxsessions -5"),
            "Fail setting maxsessions to -5; either positive or -1 values allowed\n"
        );
        assert_eq!(
            d.run("set maxsessions abc"),
            "Fail setting maxsessions to abc; no digists found\n"
        );
        assert_eq!(d.run("set maxsessions"), MORE);
        assert_eq!(d.tunables().max_sessions, -1);
        assert_eq!(
            d.run("set timeout -3"),
            "Fail setting timeout to -3; errno=0\n"
        );
        assert_eq!(d.run("set timeout 99"), "Success setting timeout to 99\n");
        assert_eq!(d.run("list timeout"), "TIMEOUT=99\n");
        assert_eq!(d.run("set maxcpu 1.25"), "Success setting maxcpu to 1.2\n");
        assert_eq!(
            d.run("list maxcpu"),
            "Maximum CPU usage configured on rtpengine: 1.2\n"
        );
        // 10.5 keeps a hundred times the bandwidth it was given.
        assert_eq!(d.run("set maxbw 7"), "Success setting maxbw to 7\n");
        assert_eq!(
            d.run("list maxbw"),
            "Maximum bandwidth configured on rtpengine: 700\n"
        );
        assert_eq!(
            d.run("set loglevel core 5"),
            "Success setting loglevel to 5\n"
        );
        assert_eq!(d.run("list loglevel core"), "5\n");
        assert_eq!(d.run("set deletedelay -1"), "Invalid delete-delay value\n");
        assert_eq!(
            d.run("set deletedelay 12"),
            "Success setting delete-delay to 12\n"
        );
        assert_eq!(d.run("list deletedelay"), "12\n");
        assert_eq!(
            d.run("params diff"),
            "log-level-core: 6 => 5\nmax-cpu: 0 => 125\nmax-bw: 0 => 700\ntimeout: 60 => 99\n"
        );
        assert_eq!(d.run("params revert"), "");
        assert_eq!(d.run("params diff"), "");
        // Not among what revert restores.
        assert_eq!(d.run("list deletedelay"), "12\n");
    }

    #[test]
    fn terminate_matches_as_many_letters_as_given() {
        let d = Fake::new();
        assert_eq!(d.run("terminate"), MORE);
        assert_eq!(d.run("terminate xyz"), "\nCall Id not found (xyz).\n\n");
        assert_eq!(
            d.run("terminate c1"),
            "\nCall Id (c1) successfully terminated by operator.\n\n"
        );
        d.calls.borrow_mut().push(call("c2"));
        assert_eq!(
            d.run("terminate fo"),
            "All foreign calls terminated by operator.\n"
        );
        assert_eq!(d.calls().len(), 1);
        assert_eq!(d.run("terminate a"), "All calls terminated by operator.\n");
        assert!(d.calls().is_empty());
        assert_eq!(
            d.run("list sessions all"),
            "No sessions on this media relay.\n"
        );
    }

    #[test]
    fn interfaces_and_statistics_render_as_10_5() {
        let d = Fake::new();
        assert_eq!(
            d.run("list interfaces"),
            "Interface 'default' address '127.0.0.1' (IPv4)\n Port range: 41000 - 41499\n \
             Ports used:     4 /   500 (  0.8%)\n Last port used: 41012\n"
        );
        let totals = d.run("list totals");
        assert!(
            totals.starts_with("\nStatistics over currently running sessions:\n\n Owned sessions")
        );
        assert!(totals.contains(&format!(" {:<48}:42 seconds\n", "Uptime of rtpengine")));
        assert!(totals.ends_with("\n\n\n\n"), "{totals:?}");
        let json = d.run("list jsonstats");
        assert!(json.starts_with("{\"currentstatistics\":{\"sessionsown\":1,"));
        assert!(json.contains("\"uptime\":42,"));
        assert!(json.contains(
            "\"interfaces\":[{\"name\":\"default\",\"address\":\"127.0.0.1\",\"ports\":{\"min\":41000,"
        ));
        assert!(json.ends_with("\"transcoders\":[]}"));
        // Commas only between members: never before a closing bracket or
        // after an opening one.
        for bad in [",}", ",]", "{,", "[,", "}{", "\"\""] {
            assert!(!json.contains(bad), "{bad} in {json}");
        }
        assert!(json.contains("},\"totalstatistics\":{\"uptime\":42,"));
    }

    #[test]
    fn per_second_rates_in_counters_totals_and_jsonstats() {
        let d = Fake::new();
        let mut r = crate::server::rates::Counters::default();
        r.user.packets = 50;
        r.user.bytes = 8600;
        r.kernel.packets = 7;
        r.kernel.errors = 1;
        d.rates.set(r);
        let counters = d.run("list counters");
        for (what, v) in [
            ("Packets per second (userspace)", 50),
            ("Bytes per second (userspace)", 8600),
            ("Errors per second (userspace)", 0),
            ("Packets per second (kernel)", 7),
            ("Errors per second (kernel)", 1),
            ("Packets per second (total)", 57),
            ("Bytes per second (total)", 8600),
            ("Errors per second (total)", 1),
        ] {
            let line = format!(" {what:<48}:{v}\n");
            assert!(counters.contains(&line), "{line:?} not in {counters}");
        }
        let totals = d.run("list totals");
        assert!(totals.contains(&format!(" {:<48}:57\n", "Packets per second (total)")));
        let json = d.run("list jsonstats");
        assert!(json.contains("\"packetrate_user\":50,\"byterate_user\":8600,"));
        assert!(json.contains("\"packetrate\":57,\"byterate\":8600,\"errorrate\":1,"));
    }

    #[test]
    fn keyspaces_and_parties() {
        let d = Fake::new();
        assert_eq!(
            d.run("ksrm x"),
            "Fail removing keyspace x to redis notifications; no digists found\n"
        );
        assert_eq!(
            d.run("ksrm 3"),
            "Keyspace 3 is not among redis notifications.\n"
        );
        assert_eq!(d.run("call nope info"), "No such call 'nope'\n");
        assert_eq!(d.run("call c1 tag"), MORE);
        assert_eq!(d.run("call c1 tag a info"), "No such tag 'a'\n");
    }

    #[test]
    fn tag_delay_and_detect_dtmf_arguments() {
        let d = Fake::new();
        let mut c = call("c9");
        c.tags.push(crate::cli::view::TagView {
            tag: "ft".into(),
            kind: "monologue",
            label: String::new(),
            branch: String::new(),
            duration: Duration::ZERO,
            subscriptions: Vec::new(),
            medias: Vec::new(),
        });
        d.calls.borrow_mut().push(c);
        let unsupported =
            |sub: &str| format!("The '{sub}' command is not supported by rtpengined.\n");
        for (line, want) in [
            ("call c9 tag ft delay", MORE.to_owned()),
            ("call c9 tag ft delay -5", "Invalid delay -5\n".to_owned()),
            ("call c9 tag ft delay 20", unsupported("delay")),
            // No digits, or beyond a C int: 10.5's default of 1.
            ("call c9 tag ft delay x", unsupported("delay")),
            ("call c9 tag ft delay -99999999999", unsupported("delay")),
            ("call c9 tag ft detect-dtmf", MORE.to_owned()),
            (
                "call c9 tag ft detect-dtmf 2",
                "Invalid setting 2\n".to_owned(),
            ),
            (
                "call c9 tag ft detect-dtmf -1",
                "Invalid setting -1\n".to_owned(),
            ),
            ("call c9 tag ft detect-dtmf 0", unsupported("detect-dtmf")),
            ("call c9 tag ft detect-dtmf on", unsupported("detect-dtmf")),
            (
                "call c9 tag ft help",
                "Available sub-commands at this level:\n\tinfo\n\tdelay\n\tdetect-dtmf\n"
                    .to_owned(),
            ),
        ] {
            assert_eq!(d.run(line), want, "{line}");
        }
        assert_eq!(c_int("2147483648", 1), 1);
        assert_eq!(c_int(" -2147483648", 1), i32::MIN);
    }

    #[test]
    fn c_number_prefixes() {
        assert_eq!(c_long("  12abc"), (12, true, false));
        assert_eq!(c_long("-7"), (-7, true, false));
        assert_eq!(c_long("x"), (0, false, false));
        assert!(c_long("99999999999999999999").2);
        assert_eq!(c_double("1.5e1x"), Some(15.0));
        assert_eq!(c_double(".5"), Some(0.5));
        assert_eq!(c_double("e5"), None);
        assert!(c_double("nan").unwrap().is_nan());
    }
}
