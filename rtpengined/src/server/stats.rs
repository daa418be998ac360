//! The daemon's statistics: counters of ng requests per client, of ended
//! calls, of running calls and ports, gathered into one snapshot
//! (`Statistics::gather`) that the ng `statistics` command renders as 10.5
//! does (`Snapshot::to_ng`); other renderings (CLI, `list totals`,
//! Prometheus) can start from the same snapshot.

use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::call::interface::Interface;
use crate::call::model::Call;
use crate::call::totals::{relayed, Relayed, SessionTotals};
use crate::call::StatsSource;
use crate::graphite::{Accum, Ended, Interval, Report};
use crate::ng::bencode::Owned;
use crate::ng::command::CommandKind;
use crate::server::rates::{Counters, Sampler, COMMANDS};

/// What one ng client (by source address) asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientCounters {
    pub address: IpAddr,
    /// Requests per command (in `CommandKind::ALL` order), errors or not.
    pub count: [u64; COMMANDS],
    /// Time spent on them.
    pub time: [Duration; COMMANDS],
    /// Requests answered with an error.
    pub errors: u64,
}

/// The ng request counters, per client in order of first contact.
#[derive(Debug, Default)]
pub struct RequestCounters {
    clients: Mutex<Vec<ClientCounters>>,
}

impl RequestCounters {
    fn with<T>(&self, from: IpAddr, f: impl FnOnce(&mut ClientCounters) -> T) -> T {
        let mut clients = self.clients.lock().unwrap_or_else(|e| e.into_inner());
        let i = match clients.iter().position(|c| c.address == from) {
            Some(i) => i,
            None => {
                clients.push(ClientCounters {
                    address: from,
                    count: [0; COMMANDS],
                    time: [Duration::ZERO; COMMANDS],
                    errors: 0,
                });
                clients.len() - 1
            }
        };
        f(&mut clients[i])
    }

    /// A datagram from `from` arrived (10.5 lists a client from then on).
    pub fn seen(&self, from: IpAddr) {
        self.with(from, |_| ());
    }

    /// A request of `kind` took `took` (counted whatever its result).
    pub fn request(&self, from: IpAddr, kind: CommandKind, took: Duration) {
        self.with(from, |c| {
            c.count[kind.index()] += 1;
            c.time[kind.index()] += took;
        });
    }

    /// A request was answered with an error.
    pub fn error(&self, from: IpAddr) {
        self.with(from, |c| c.errors += 1);
    }

    pub fn clients(&self) -> Vec<ClientCounters> {
        self.clients
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

/// Ports of one local interface address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterfacePorts {
    pub name: String,
    pub address: IpAddr,
    pub min: u16,
    pub max: u16,
    /// Ports (not pairs) in use.
    pub used: u64,
}

impl InterfacePorts {
    pub fn total(&self) -> u64 {
        u64::from(self.max.saturating_sub(self.min)) + 1
    }
}

/// Everything the statistics show, taken at one moment.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub uptime: Duration,
    /// Calls in memory (including those waiting for their delete-delay).
    pub sessions: u64,
    /// Of those, other nodes' calls (from subscribed Redis keyspaces).
    pub foreign: u64,
    /// RTP streams that relayed packets, by who relayed them.
    pub streams_user: u64,
    pub streams_kernel: u64,
    pub totals: SessionTotals,
    /// Relayed by ended and running calls.
    pub relayed_user: Relayed,
    pub relayed_kernel: Relayed,
    pub clients: Vec<ClientCounters>,
    /// Per-second rates of the last sample.
    pub rates: Counters,
    /// The figures of the last graphite report (zero without one).
    pub interval: Interval,
    pub interfaces: Vec<InterfacePorts>,
}

/// The daemon's counters that outlive calls.
#[derive(Debug)]
pub struct Statistics {
    pub started: Instant,
    pub requests: RequestCounters,
    /// The per-second rates, sampled by `tick`.
    rates: Mutex<Sampler>,
    /// What graphite reports are made of.
    graphite: Mutex<GraphiteState>,
}

/// Between two graphite reports: what happened, and where the counters
/// stood at the last report.
#[derive(Debug, Default)]
struct GraphiteState {
    accum: Accum,
    /// The figures of the last report (the statistics show them).
    last: Interval,
    /// When the last report was made, with the totals of then.
    then: Option<(Instant, SessionTotals, Relayed, Relayed)>,
    /// Ended sessions at the last per-second sample.
    managed_at_sample: u64,
}

impl Default for Statistics {
    fn default() -> Self {
        Statistics {
            started: Instant::now(),
            requests: RequestCounters::default(),
            rates: Mutex::default(),
            graphite: Mutex::default(),
        }
    }
}

/// What a graphite report needs of the daemon's state at its time.
#[derive(Debug, Clone, Default)]
pub struct ReportInputs {
    pub totals: SessionTotals,
    /// Relayed by ended and running calls (`relayed_all`).
    pub relayed: (Relayed, Relayed),
    pub sessions: u64,
    /// Running answered calls by media family: IPv4, IPv6, mixed.
    pub families: (u64, u64, u64),
    /// Age of each running call.
    pub call_ages: Vec<Duration>,
    /// `--graphite-interval` as configured (10.5 counts it for calls
    /// older than the interval).
    pub interval: Duration,
    pub ports: Vec<crate::graphite::Ports>,
}

fn minus(a: Relayed, b: Relayed) -> Relayed {
    Relayed {
        packets: a.packets.saturating_sub(b.packets),
        bytes: a.bytes.saturating_sub(b.bytes),
        errors: a.errors.saturating_sub(b.errors),
    }
}

/// What `calls` running and the ended ones (`totals`) relayed, by who
/// relayed it: (userspace, kernel).
pub fn relayed_all<'a>(
    calls: impl Iterator<Item = &'a Call>,
    totals: &SessionTotals,
    stats: &dyn StatsSource,
) -> (Relayed, Relayed) {
    let (mut user, mut kernel) = (totals.relayed_user, totals.relayed_kernel);
    for call in calls {
        let (u, k) = relayed(call, stats);
        user = user.plus(u);
        kernel = kernel.plus(k);
    }
    (user, kernel)
}

impl Statistics {
    /// The cumulative counters the rates are taken of: what was relayed
    /// (`relayed_all`) and the ng requests so far.
    pub fn counters(&self, relayed: (Relayed, Relayed)) -> Counters {
        let mut requests = [0u64; COMMANDS];
        for c in self.requests.clients() {
            for (i, n) in c.count.iter().enumerate() {
                requests[i] += n;
            }
        }
        Counters {
            user: relayed.0,
            kernel: relayed.1,
            requests,
        }
    }

    /// The timer's turn at `now` with the counters of that moment, the
    /// sessions running and the ended ones so far: a new sample of the
    /// per-second rates when the last is old enough.
    pub fn tick(
        &self,
        now: Instant,
        counters: Counters,
        sessions: u64,
        managed: u64,
    ) -> Option<Counters> {
        let sample = self
            .rates
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .sample(now, counters);
        let mut g = self.graphite();
        g.accum.sessions(sessions);
        if let Some(r) = &sample {
            g.accum.rates(&r.requests);
            g.managed_at_sample = managed;
        }
        sample
    }

    /// A request of `kind` from `from` took `took` (counted whatever its
    /// result).
    pub fn request(&self, from: IpAddr, kind: CommandKind, took: Duration) {
        self.requests.request(from, kind, took);
        self.graphite().accum.request(kind, took);
    }

    fn graphite(&self) -> std::sync::MutexGuard<'_, GraphiteState> {
        self.graphite.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The graphite report at `now`: the figures since the last report
    /// (or the start), which become the statistics' interval figures.
    pub fn graphite_report(&self, now: Instant, inp: ReportInputs) -> Report {
        let mut requests_total = [0u64; COMMANDS];
        for c in self.requests.clients() {
            for (i, n) in c.count.iter().enumerate() {
                requests_total[i] += n;
            }
        }
        let mut g = self.graphite();
        let (since, t0, u0, k0) = g.then.unwrap_or((
            self.started,
            SessionTotals::default(),
            Relayed::default(),
            Relayed::default(),
        ));
        let mut interval = g.accum.take(inp.sessions);
        interval.calls_duration_us = crate::graphite::calls_duration(
            inp.call_ages.iter().copied(),
            now.saturating_duration_since(since),
            inp.interval,
        );
        let t = &inp.totals;
        let ended = Ended {
            managed: t.managed.saturating_sub(t0.managed),
            duration_us: t.duration_us.saturating_sub(t0.duration_us),
            forced: t.forced.saturating_sub(t0.forced),
            regular: t.regular.saturating_sub(t0.regular),
            zero_way: t.zero_way.saturating_sub(t0.zero_way),
            one_way: t.one_way.saturating_sub(t0.one_way),
            silent_timeout: t.silent_timeout.saturating_sub(t0.silent_timeout),
            final_timeout: t.final_timeout.saturating_sub(t0.final_timeout),
            offer_timeout: t.offer_timeout.saturating_sub(t0.offer_timeout),
            timeout: t.timeout.saturating_sub(t0.timeout),
            rejected: t.rejected.saturating_sub(t0.rejected),
        };
        let report = Report {
            interval,
            requests_total,
            ended,
            managed_recent: t.managed.saturating_sub(g.managed_at_sample),
            sessions: inp.sessions,
            ipv4: inp.families.0,
            ipv6: inp.families.1,
            mixed: inp.families.2,
            relayed_user: minus(inp.relayed.0, u0),
            relayed_kernel: minus(inp.relayed.1, k0),
            ports: inp.ports,
        };
        g.last = interval;
        g.then = Some((now, *t, inp.relayed.0, inp.relayed.1));
        report
    }

    /// The rates of the last sample.
    pub fn rates(&self) -> Counters {
        self.rates.lock().unwrap_or_else(|e| e.into_inner()).rates()
    }

    /// The snapshot of now: `calls` running, `totals` of the ended ones,
    /// `ports` (interface, ports in use) with the port range.
    pub fn gather<'a>(
        &self,
        calls: impl Iterator<Item = &'a Call>,
        totals: &SessionTotals,
        stats: &dyn StatsSource,
        ports: &[(Interface, usize)],
        range: (u16, u16),
    ) -> Snapshot {
        let mut snap = Snapshot {
            uptime: self.started.elapsed(),
            sessions: 0,
            foreign: 0,
            streams_user: 0,
            streams_kernel: 0,
            totals: *totals,
            relayed_user: totals.relayed_user,
            relayed_kernel: totals.relayed_kernel,
            clients: self.requests.clients(),
            rates: self.rates(),
            interval: self.graphite().last,
            interfaces: ports
                .iter()
                .map(|(i, ports)| InterfacePorts {
                    name: i.name.clone(),
                    address: i.local,
                    min: range.0,
                    max: range.1,
                    used: *ports as u64,
                })
                .collect(),
        };
        for call in calls {
            snap.sessions += 1;
            snap.foreign += u64::from(call.foreign);
            let (user, kernel) = relayed(call, stats);
            snap.relayed_user = snap.relayed_user.plus(user);
            snap.relayed_kernel = snap.relayed_kernel.plus(kernel);
            for (_, m) in call.live() {
                for s in m.streams().filter(|s| !s.is_rtcp) {
                    let st = stats.stats(s.id);
                    if st.packets == 0 {
                        continue;
                    }
                    if st.kernelized {
                        snap.streams_kernel += 1;
                    } else {
                        snap.streams_user += 1;
                    }
                }
            }
        }
        snap
    }
}

fn secs(us: u64) -> String {
    format!("{:.6}", us as f64 / 1_000_000.0)
}

fn int(n: u64) -> Owned {
    Owned::Int(i64::try_from(n).unwrap_or(i64::MAX))
}

impl Snapshot {
    /// The `statistics` dictionary of the ng `statistics` reply, keys and
    /// value types as 10.5 has them. MOS and transcoders are zero or
    /// empty: we measure none of them.
    pub fn to_ng(&self) -> Owned {
        let t = &self.totals;
        let r = &self.rates;
        let current = Owned::dict()
            .with("sessionsown", int(self.sessions - self.foreign))
            .with("sessionsforeign", int(self.foreign))
            .with("sessionstotal", int(self.sessions))
            .with("transcodedmedia", 0i64)
            .with("packetrate_user", int(r.user.packets))
            .with("byterate_user", int(r.user.bytes))
            .with("errorrate_user", int(r.user.errors))
            .with("packetrate_kernel", int(r.kernel.packets))
            .with("byterate_kernel", int(r.kernel.bytes))
            .with("errorrate_kernel", int(r.kernel.errors))
            .with("packetrate", int(r.user.packets + r.kernel.packets))
            .with("byterate", int(r.user.bytes + r.kernel.bytes))
            .with("errorrate", int(r.user.errors + r.kernel.errors))
            .with("media_userspace", int(self.streams_user))
            .with("media_kernel", int(self.streams_kernel))
            .with("media_mixed", 0i64);

        let (u, k) = (self.relayed_user, self.relayed_kernel);
        let avg_us = t.duration_us.checked_div(t.managed).unwrap_or(0);
        let variance = if t.managed > 0 {
            let avg_ms = avg_us as f64 / 1000.0;
            (t.duration2_ms2 as f64 / t.managed as f64 - avg_ms * avg_ms).abs()
        } else {
            0.0
        };
        let total = Owned::dict()
            .with("uptime", self.uptime.as_secs().to_string())
            .with("managedsessions", int(t.managed))
            .with("rejectedsessions", int(t.rejected))
            .with("timeoutsessions", int(t.timeout))
            .with("silenttimeoutsessions", int(t.silent_timeout))
            .with("finaltimeoutsessions", int(t.final_timeout))
            .with("offertimeoutsessions", int(t.offer_timeout))
            .with("regularterminatedsessions", int(t.regular))
            .with("forcedterminatedsessions", int(t.forced))
            .with("relayedpackets_user", int(u.packets))
            .with("relayedpacketerrors_user", int(u.errors))
            .with("relayedbytes_user", int(u.bytes))
            .with("relayedpackets_kernel", int(k.packets))
            .with("relayedpacketerrors_kernel", int(k.errors))
            .with("relayedbytes_kernel", int(k.bytes))
            .with("relayedpackets", int(u.packets + k.packets))
            .with("relayedpacketerrors", int(u.errors + k.errors))
            .with("relayedbytes", int(u.bytes + k.bytes))
            .with("zerowaystreams", int(t.zero_way))
            .with("onewaystreams", int(t.one_way))
            .with("avgcallduration", secs(avg_us))
            .with("totalcallsduration", secs(t.duration_us))
            .with(
                "totalcallsduration2",
                format!("{:.6}", t.duration2_ms2 as f64 / 1_000_000.0),
            )
            .with(
                "totalcallsduration_stddev",
                format!("{:.6}", variance.sqrt() / 1000.0),
            );

        let iv = &self.interval;
        let mut interval = Owned::dict()
            .with("totalcallsduration", secs(iv.calls_duration_us))
            .with("minmanagedsessions", int(iv.sessions.min))
            .with("maxmanagedsessions", int(iv.sessions.max));
        for kind in CommandKind::ALL {
            let n = kind.name();
            let (t, r) = (iv.request_time[kind.index()], iv.request_rate[kind.index()]);
            for (m, tv, rv) in [
                ("min", t.min, r.min),
                ("max", t.max, r.max),
                ("avg", t.avg(), r.avg()),
            ] {
                interval.insert(&format!("{m}{n}delay"), secs(tv));
                interval.insert(&format!("{m}{n}requestrate"), rv.to_string());
            }
        }

        let mos = Owned::dict()
            .with("mos_total", secs(0))
            .with("mos2_total", secs(0))
            .with("mos_samples_total", 0i64)
            .with("mos_average", secs(0))
            .with("mos_stddev", secs(0));

        let mut control = Owned::dict();
        let mut proxies = Vec::new();
        let mut all = [0u64; COMMANDS];
        for c in &self.clients {
            let mut p = Owned::dict().with("proxy", c.address.to_string());
            for kind in CommandKind::ALL {
                let i = kind.index();
                let short = kind.short_name().to_ascii_lowercase();
                all[i] += c.count[i];
                p.insert(&format!("{short}count"), int(c.count[i]));
                let d = c.time[i];
                p.insert(
                    &format!("{short}duration"),
                    format!("{}.{:06}", d.as_secs(), d.subsec_micros()),
                );
            }
            p.insert("errorcount", int(c.errors));
            proxies.push(p);
        }
        control.insert("proxies", proxies);
        for kind in CommandKind::ALL {
            let short = kind.short_name().to_ascii_lowercase();
            control.insert(&format!("total{short}count"), int(all[kind.index()]));
        }

        let interfaces: Vec<Owned> = self
            .interfaces
            .iter()
            .map(|i| {
                let total = i.total();
                let used = i.used.min(total);
                Owned::dict()
                    .with("name", i.name.as_str())
                    .with("address", i.address.to_string())
                    .with(
                        "ports",
                        Owned::dict()
                            .with("min", i.min)
                            .with("max", i.max)
                            .with("used", int(used))
                            .with(
                                "used_pct",
                                format!("{:.2}", used as f64 * 100.0 / total as f64),
                            )
                            .with("free", int(total - used))
                            .with("totals", int(total))
                            .with("last", 0i64),
                    )
            })
            .collect();

        Owned::dict()
            .with("currentstatistics", current)
            .with("totalstatistics", total)
            .with("intervalstatistics", interval)
            .with("mos", mos)
            .with("controlstatistics", control)
            .with("interfaces", interfaces)
            .with("transcoders", Vec::<Owned>::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn ng_statistics_show_the_sampled_rates() {
        let stats = Statistics::default();
        let t0 = Instant::now();
        let user = Relayed {
            packets: 10,
            bytes: 1000,
            errors: 0,
        };
        let kernel = Relayed::default();
        assert!(stats
            .tick(t0, stats.counters((user, kernel)), 0, 0)
            .is_none());
        let later = Relayed {
            packets: 60,
            bytes: 9600,
            errors: 2,
        };
        let k = Relayed {
            packets: 5,
            bytes: 500,
            errors: 0,
        };
        let r = stats
            .tick(
                t0 + Duration::from_secs(1),
                stats.counters((later, k)),
                0,
                0,
            )
            .unwrap();
        assert_eq!(r.user.packets, 50);
        let snap = stats.gather(
            std::iter::empty(),
            &SessionTotals::default(),
            &crate::call::NoStats,
            &[],
            (1, 2),
        );
        let ng = snap.to_ng();
        let cur = ng.get("currentstatistics").unwrap();
        for (k, v) in [
            ("packetrate_user", 50),
            ("byterate_user", 8600),
            ("errorrate_user", 2),
            ("packetrate_kernel", 5),
            ("byterate_kernel", 500),
            ("packetrate", 55),
            ("byterate", 9100),
            ("errorrate", 2),
        ] {
            assert_eq!(cur.get(k), Some(&Owned::Int(v)), "{k}");
        }
    }
}
