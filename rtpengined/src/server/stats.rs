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
use crate::ng::bencode::Owned;
use crate::ng::command::CommandKind;

const COMMANDS: usize = CommandKind::ALL.len();

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
    /// RTP streams that relayed packets, by who relayed them.
    pub streams_user: u64,
    pub streams_kernel: u64,
    pub totals: SessionTotals,
    /// Relayed by ended and running calls.
    pub relayed_user: Relayed,
    pub relayed_kernel: Relayed,
    pub clients: Vec<ClientCounters>,
    pub interfaces: Vec<InterfacePorts>,
}

/// The daemon's counters that outlive calls.
#[derive(Debug)]
pub struct Statistics {
    pub started: Instant,
    pub requests: RequestCounters,
}

impl Default for Statistics {
    fn default() -> Self {
        Statistics {
            started: Instant::now(),
            requests: RequestCounters::default(),
        }
    }
}

impl Statistics {
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
            streams_user: 0,
            streams_kernel: 0,
            totals: *totals,
            relayed_user: totals.relayed_user,
            relayed_kernel: totals.relayed_kernel,
            clients: self.requests.clients(),
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
    /// value types as 10.5 has them. Rates, interval figures, MOS and
    /// transcoders are zero or empty: we measure none of them.
    pub fn to_ng(&self) -> Owned {
        let t = &self.totals;
        let current = Owned::dict()
            .with("sessionsown", int(self.sessions))
            .with("sessionsforeign", 0i64)
            .with("sessionstotal", int(self.sessions))
            .with("transcodedmedia", 0i64)
            .with("packetrate_user", 0i64)
            .with("byterate_user", 0i64)
            .with("errorrate_user", 0i64)
            .with("packetrate_kernel", 0i64)
            .with("byterate_kernel", 0i64)
            .with("errorrate_kernel", 0i64)
            .with("packetrate", 0i64)
            .with("byterate", 0i64)
            .with("errorrate", 0i64)
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

        let mut interval = Owned::dict()
            .with("totalcallsduration", secs(0))
            .with("minmanagedsessions", 0i64)
            .with("maxmanagedsessions", 0i64);
        for kind in CommandKind::ALL {
            let n = kind.name();
            for m in ["min", "max", "avg"] {
                interval.insert(&format!("{m}{n}delay"), secs(0));
                interval.insert(&format!("{m}{n}requestrate"), "0");
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
