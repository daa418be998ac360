//! Graphite reporting (`--graphite`): every `--graphite-interval` seconds
//! the daemon sends its figures of the interval to a carbon receiver over
//! TCP in the plaintext protocol, one `PATH VALUE TIMESTAMP\n` line each,
//! with 10.5's metric names and `--graphite-prefix` put in front as is.
//!
//! This module is pure: `Accum` collects what happens between two reports
//! (request processing times, per-second request rates, session counts),
//! `Report` is one interval's figures and `Report::render` their lines.
//! The socket and the timer are in `sender`.

pub mod sender;

use std::net::IpAddr;
use std::time::Duration;

use crate::ng::command::CommandKind;
use crate::server::rates::COMMANDS;

/// 10.5's running minimum: 0 means "none yet", so the next value replaces
/// it (and a 0 value is replaced by the one after it).
fn min_set(old: u64, cur: u64) -> u64 {
    if old != 0 && old <= cur {
        old
    } else {
        cur
    }
}

/// Minimum, maximum and sum of values over an interval.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MinMax {
    pub min: u64,
    pub max: u64,
    pub sum: u64,
    pub count: u64,
}

impl MinMax {
    pub fn add(&mut self, v: u64) {
        self.min = min_set(self.min, v);
        self.max = self.max.max(v);
        self.sum = self.sum.saturating_add(v);
        self.count += 1;
    }

    pub fn avg(&self) -> u64 {
        self.sum.checked_div(self.count).unwrap_or(0)
    }

    /// The figures of the interval; the next starts at `start` for its
    /// minimum and maximum (10.5: the current value of a gauge, 0 for
    /// samples).
    fn take(&mut self, start: u64) -> MinMax {
        let out = *self;
        *self = MinMax {
            min: start,
            max: start,
            ..MinMax::default()
        };
        out
    }
}

/// What happens between two reports.
#[derive(Debug, Clone)]
pub struct Accum {
    /// Processing time of each request, microseconds, per command.
    pub request_time: [MinMax; COMMANDS],
    /// Per-second request rates of each sample, per command.
    pub request_rate: [MinMax; COMMANDS],
    /// Running sessions, as sampled.
    pub sessions: MinMax,
}

impl Default for Accum {
    fn default() -> Self {
        Accum {
            request_time: [MinMax::default(); COMMANDS],
            request_rate: [MinMax::default(); COMMANDS],
            sessions: MinMax::default(),
        }
    }
}

impl Accum {
    pub fn request(&mut self, kind: CommandKind, took: Duration) {
        let us = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        self.request_time[kind.index()].add(us);
    }

    pub fn rates(&mut self, requests: &[u64; COMMANDS]) {
        for (mm, r) in self.request_rate.iter_mut().zip(requests) {
            mm.add(*r);
        }
    }

    pub fn sessions(&mut self, n: u64) {
        self.sessions.add(n);
    }

    /// The interval's figures; starts the next interval (`sessions`: the
    /// sessions running now).
    pub fn take(&mut self, sessions: u64) -> Interval {
        let mut out = Interval::default();
        for i in 0..COMMANDS {
            out.request_time[i] = self.request_time[i].take(0);
            out.request_rate[i] = self.request_rate[i].take(0);
        }
        out.sessions = self.sessions.take(sessions);
        out
    }
}

/// The figures of one interval that the statistics show as "last reported
/// to graphite" (`intervalstatistics`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interval {
    pub request_time: [MinMax; COMMANDS],
    pub request_rate: [MinMax; COMMANDS],
    pub sessions: MinMax,
    /// Time the running calls spent in the interval, microseconds.
    pub calls_duration_us: u64,
}

impl Default for Interval {
    fn default() -> Self {
        Interval {
            request_time: [MinMax::default(); COMMANDS],
            request_rate: [MinMax::default(); COMMANDS],
            sessions: MinMax::default(),
            calls_duration_us: 0,
        }
    }
}

/// Counts of ended sessions and relayed traffic over one interval.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Ended {
    pub managed: u64,
    pub duration_us: u64,
    pub forced: u64,
    pub regular: u64,
    pub zero_way: u64,
    pub one_way: u64,
    pub silent_timeout: u64,
    pub final_timeout: u64,
    pub offer_timeout: u64,
    pub timeout: u64,
    pub rejected: u64,
}

/// Ports of one interface address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ports {
    pub name: String,
    pub address: IpAddr,
    pub free: u64,
    pub used: u64,
}

/// Everything one report sends.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    pub interval: Interval,
    /// Requests per command since the start.
    pub requests_total: [u64; COMMANDS],
    /// What ended in the interval.
    pub ended: Ended,
    /// Managed sessions since the last per-second sample (10.5 reports
    /// its running accumulator here).
    pub managed_recent: u64,
    pub sessions: u64,
    /// Running sessions by their media's address families (answered calls).
    pub ipv4: u64,
    pub ipv6: u64,
    pub mixed: u64,
    /// Relayed in the interval: (userspace, kernel) packets, bytes, errors.
    pub relayed_user: crate::call::totals::Relayed,
    pub relayed_kernel: crate::call::totals::Relayed,
    pub ports: Vec<Ports>,
}

/// A metric path as Graphite takes it: 10.5 puts the command names with
/// their spaces into the path (`start recording_count`), which a carbon
/// receiver rejects as a line of four fields; we send `_` instead.
fn path(name: &str) -> String {
    name.replace(' ', "_")
}

fn secs6(us: u64) -> String {
    format!("{}.{:06}", us / 1_000_000, us % 1_000_000)
}

fn f6(us: u64) -> String {
    format!("{:.6}", us as f64 / 1_000_000.0)
}

impl Report {
    /// The plaintext lines of the report at Unix time `ts`, in 10.5's
    /// order and names, each path after `prefix`.
    pub fn render(&self, prefix: &str, ts: u64) -> String {
        let mut out = String::new();
        let mut line = |name: &str, value: String| {
            out.push_str(prefix);
            out.push_str(&path(name));
            out.push(' ');
            out.push_str(&value);
            out.push_str(&format!(" {ts}\n"));
        };
        let iv = &self.interval;
        for kind in CommandKind::ALL {
            let (i, n) = (kind.index(), kind.name());
            let t = iv.request_time[i];
            line(&format!("{n}_time_min"), f6(t.min));
            line(&format!("{n}_time_max"), f6(t.max));
            line(&format!("{n}_time_avg"), f6(t.avg()));
            let r = iv.request_rate[i];
            line(&format!("{n}s_ps_min"), r.min.to_string());
            line(&format!("{n}s_ps_max"), r.max.to_string());
            line(&format!("{n}s_ps_avg"), r.avg().to_string());
            line(&format!("{n}_count"), self.requests_total[i].to_string());
        }
        let e = &self.ended;
        line("call_dur", f6(iv.calls_duration_us));
        let avg = e.duration_us.checked_div(e.managed).unwrap_or(0);
        line("average_call_dur", secs6(avg));
        line("forced_term_sess", e.forced.to_string());
        line("managed_sess", self.managed_recent.to_string());
        line("managed_sess_min", iv.sessions.min.to_string());
        line("managed_sess_max", iv.sessions.max.to_string());
        line("current_sessions_total", self.sessions.to_string());
        line("current_sessions_own", self.sessions.to_string());
        line("current_sessions_foreign", "0".into());
        line("current_transcoded_media", "0".into());
        line("current_sessions_ipv4", self.ipv4.to_string());
        line("current_sessions_ipv6", self.ipv6.to_string());
        line("current_sessions_mixed", self.mixed.to_string());
        line("nopacket_relayed_sess", e.zero_way.to_string());
        line("oneway_stream_sess", e.one_way.to_string());
        line("regular_term_sess", e.regular.to_string());
        let (u, k) = (self.relayed_user, self.relayed_kernel);
        line("relayed_errors_user", u.errors.to_string());
        line("relayed_packets_user", u.packets.to_string());
        line("relayed_bytes_user", u.bytes.to_string());
        line("relayed_errors_kernel", k.errors.to_string());
        line("relayed_packets_kernel", k.packets.to_string());
        line("relayed_bytes_kernel", k.bytes.to_string());
        line("relayed_errors", (u.errors + k.errors).to_string());
        line("relayed_packets", (u.packets + k.packets).to_string());
        line("relayed_bytes", (u.bytes + k.bytes).to_string());
        line("silent_timeout_sess", e.silent_timeout.to_string());
        line("final_timeout_sess", e.final_timeout.to_string());
        line("offer_timeout_sess", e.offer_timeout.to_string());
        line("timeout_sess", e.timeout.to_string());
        line("reject_sess", e.rejected.to_string());
        for p in &self.ports {
            line(
                &format!("ports_free_{}_{}", p.name, p.address),
                p.free.to_string(),
            );
            line(
                &format!("ports_used_{}_{}", p.name, p.address),
                p.used.to_string(),
            );
        }
        out
    }
}

/// Time the calls started at `started` (offsets before now) spent in an
/// interval that began `since` ago: a call older than the interval counts
/// `interval` (10.5 adds the configured interval, not the time since the
/// last report), a younger one its age.
pub fn calls_duration(
    started: impl Iterator<Item = Duration>,
    since: Duration,
    interval: Duration,
) -> u64 {
    let total: Duration = started
        .map(|age| if age > since { interval } else { age })
        .sum();
    u64::try_from(total.as_micros()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::call::totals::Relayed;

    #[test]
    fn minimum_treats_zero_as_unset_as_10_5() {
        let mut m = MinMax::default();
        for v in [5, 3, 0, 7, 4] {
            m.add(v);
        }
        // 0 replaced 3 and was replaced by 7; 4 is below 7.
        assert_eq!((m.min, m.max, m.sum, m.count), (4, 7, 19, 5));
        assert_eq!(m.avg(), 3);
    }

    #[test]
    fn an_interval_starts_the_next() {
        let mut a = Accum::default();
        a.request(CommandKind::Offer, Duration::from_micros(1500));
        a.request(CommandKind::Offer, Duration::from_micros(500));
        a.sessions(2);
        a.sessions(5);
        let mut rates = [0; COMMANDS];
        rates[CommandKind::Offer.index()] = 3;
        a.rates(&rates);
        let iv = a.take(4);
        let t = iv.request_time[CommandKind::Offer.index()];
        assert_eq!((t.min, t.max, t.avg()), (500, 1500, 1000));
        assert_eq!(iv.request_rate[CommandKind::Offer.index()].max, 3);
        assert_eq!((iv.sessions.min, iv.sessions.max), (2, 5));
        // Next interval: sessions start at the current count, samples at 0.
        let iv = a.take(4);
        assert_eq!((iv.sessions.min, iv.sessions.max), (4, 4));
        assert_eq!(
            iv.request_time[CommandKind::Offer.index()],
            MinMax::default()
        );
    }

    #[test]
    fn lines_in_10_5_order_with_prefix_and_timestamp() {
        let mut r = Report::default();
        r.requests_total[CommandKind::Offer.index()] = 7;
        r.requests_total[CommandKind::StartRecording.index()] = 1;
        r.interval.request_time[CommandKind::Offer.index()] = MinMax {
            min: 250,
            max: 1_500_000,
            sum: 1_500_250,
            count: 2,
        };
        r.interval.calls_duration_us = 2_500_000;
        r.ended = Ended {
            managed: 2,
            duration_us: 3_000_001,
            regular: 2,
            ..Ended::default()
        };
        r.sessions = 3;
        r.ipv4 = 3;
        r.relayed_user = Relayed {
            packets: 10,
            bytes: 1720,
            errors: 1,
        };
        r.ports = vec![Ports {
            name: "pub".into(),
            address: "127.0.0.1".parse().unwrap(),
            free: 496,
            used: 4,
        }];
        let text = r.render("rtp.", 1700000000);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            &lines[..8],
            [
                "rtp.ping_time_min 0.000000 1700000000",
                "rtp.ping_time_max 0.000000 1700000000",
                "rtp.ping_time_avg 0.000000 1700000000",
                "rtp.pings_ps_min 0 1700000000",
                "rtp.pings_ps_max 0 1700000000",
                "rtp.pings_ps_avg 0 1700000000",
                "rtp.ping_count 0 1700000000",
                "rtp.offer_time_min 0.000250 1700000000",
            ]
        );
        for want in [
            "rtp.offer_time_max 1.500000 1700000000",
            "rtp.offer_time_avg 0.750125 1700000000",
            "rtp.offer_count 7 1700000000",
            "rtp.start_recording_count 1 1700000000",
            "rtp.start_recordings_ps_avg 0 1700000000",
            "rtp.call_dur 2.500000 1700000000",
            "rtp.average_call_dur 1.500000 1700000000",
            "rtp.current_sessions_total 3 1700000000",
            "rtp.current_sessions_ipv4 3 1700000000",
            "rtp.regular_term_sess 2 1700000000",
            "rtp.relayed_packets_user 10 1700000000",
            "rtp.relayed_bytes 1720 1700000000",
            "rtp.relayed_errors 1 1700000000",
            "rtp.ports_free_pub_127.0.0.1 496 1700000000",
            "rtp.ports_used_pub_127.0.0.1 4 1700000000",
        ] {
            assert!(lines.contains(&want), "{want} missing from\n{text}");
        }
        assert_eq!(
            lines.last(),
            Some(&"rtp.ports_used_pub_127.0.0.1 4 1700000000")
        );
        // 7 lines per command, 30 others, 2 per interface address.
        assert_eq!(lines.len(), 7 * COMMANDS + 30 + 2);
        // Plaintext protocol: three fields, a numeric value.
        for l in &lines {
            let f: Vec<&str> = l.split(' ').collect();
            assert_eq!(f.len(), 3, "{l}");
            assert!(f[1].parse::<f64>().is_ok(), "{l}");
        }
        // No prefix: the bare names.
        assert!(r.render("", 5).starts_with("ping_time_min 0.000000 5\n"));
    }

    #[test]
    fn ongoing_calls_count_their_time_in_the_interval() {
        let s = Duration::from_secs;
        // Interval began 10 s ago, configured as 10 s: a call of 4 s counts
        // 4 s, one of 60 s the interval.
        assert_eq!(
            calls_duration([s(4), s(60)].into_iter(), s(10), s(10)),
            14_000_000
        );
        // 10.5 adds the configured interval even when the report came late.
        assert_eq!(calls_duration([s(60)].into_iter(), s(12), s(5)), 5_000_000);
    }
}
