//! The statistics as one ordered list of entries, each with what the text
//! rendering (`list totals`) and what the JSON rendering (`list jsonstats`)
//! show of it, in rtpengine 10.5's order. Built from the same `Snapshot` as
//! the ng `statistics` reply. Entries that Prometheus sees carry their
//! metric name, type and labels (10.5's `/metrics` exposition).

use crate::ng::command::CommandKind;
use crate::server::stats::Snapshot;

/// One entry: a section header, a bracket, or a value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Entry {
    /// The JSON key, or the bracket itself; none: not in the JSON.
    pub label: Option<String>,
    /// The text line's description; none: not in the text.
    pub descr: Option<String>,
    /// The value as JSON shows it.
    pub short: Option<String>,
    /// The value as the text shows it.
    pub long: Option<String>,
    /// Its Prometheus metric, if `/metrics` shows it.
    pub prom: Option<Prom>,
    bracket: bool,
    close: bool,
    /// JSON needs a comma before this entry.
    follow_up: bool,
}

/// How `/metrics` shows an entry: `rtpengine_<name>{<labels>} <short>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prom {
    pub name: &'static str,
    /// `gauge` or `counter`.
    pub kind: &'static str,
    /// The label set without braces (`type="own"`), already escaped.
    pub labels: Option<String>,
}

/// A label value in the exposition format's escaping.
pub fn prom_escape(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

#[derive(Debug, Default)]
pub struct Entries(pub Vec<Entry>);

impl Entries {
    fn push(&mut self, mut e: Entry) {
        let last = self.0.iter().rev().find(|x| x.label.is_some());
        if let Some(last) = last {
            if !e.bracket {
                e.follow_up = !last.bracket || last.close;
            } else {
                e.follow_up = !e.close && last.close;
            }
        }
        self.0.push(e);
    }

    fn header(&mut self, label: Option<&str>, descr: Option<&str>) {
        let bracket = matches!(label, Some("{" | "}" | "[" | "]"));
        let close = matches!(label, Some("}" | "]"));
        self.push(Entry {
            label: label.map(str::to_owned),
            descr: descr.map(str::to_owned),
            bracket,
            close,
            ..Entry::default()
        });
    }

    fn value(
        &mut self,
        label: Option<&str>,
        descr: Option<&str>,
        short: Option<String>,
        long: Option<String>,
    ) {
        self.push(Entry {
            label: label.map(str::to_owned),
            descr: descr.map(str::to_owned),
            short,
            long,
            ..Entry::default()
        });
    }

    /// A value shown the same way in both renderings.
    fn same(&mut self, label: &str, descr: &str, v: String) {
        self.value(Some(label), Some(descr), Some(v.clone()), Some(v));
    }

    fn json_only(&mut self, label: &str, v: String) {
        self.value(Some(label), None, Some(v), None);
    }

    fn text_only(&mut self, descr: &str, v: String) {
        self.value(None, Some(descr), None, Some(v));
    }

    /// Makes the entry pushed last a Prometheus metric.
    fn prom(&mut self, name: &'static str, kind: &'static str, labels: Option<String>) {
        if let Some(e) = self.0.last_mut() {
            e.prom = Some(Prom { name, kind, labels });
        }
    }

    /// `GET /metrics`: the Prometheus text exposition, as 10.5 renders it.
    /// Every entry with a JSON key, a value and a metric name is a sample;
    /// the first sample of a name brings its `# HELP` (the entry's
    /// description, when it has one) and `# TYPE` lines.
    pub fn prometheus(&self) -> String {
        let mut out = String::new();
        let mut seen: Vec<&str> = Vec::new();
        for e in &self.0 {
            let (Some(_), Some(v), Some(p)) = (&e.label, &e.short, &e.prom) else {
                continue;
            };
            if !seen.contains(&p.name) {
                seen.push(p.name);
                if let Some(d) = &e.descr {
                    out.push_str(&format!("# HELP rtpengine_{} {d}\n", p.name));
                }
                out.push_str(&format!("# TYPE rtpengine_{} {}\n", p.name, p.kind));
            }
            match &p.labels {
                Some(l) => out.push_str(&format!("rtpengine_{}{{{l}}} {v}\n", p.name)),
                None => out.push_str(&format!("rtpengine_{} {v}\n", p.name)),
            }
        }
        out
    }

    /// `list totals`: a line per entry with a description.
    pub fn text(&self) -> String {
        let mut out = String::new();
        for e in &self.0 {
            let Some(d) = &e.descr else { continue };
            match &e.long {
                Some(v) if d.is_empty() => out.push_str(&format!("{v}\n")),
                Some(v) => out.push_str(&format!(" {d:<48}:{v}\n")),
                None => out.push_str(&format!("{d}\n")),
            }
        }
        out
    }

    /// `list jsonstats`: one JSON object, no line end.
    pub fn json(&self) -> String {
        let mut out = String::new();
        for e in &self.0 {
            let Some(l) = &e.label else { continue };
            if e.follow_up {
                out.push(',');
            }
            match &e.short {
                Some(v) => out.push_str(&format!("\"{l}\":{v}")),
                None if e.bracket => out.push_str(l),
                None => out.push_str(&format!("\"{l}\":")),
            }
        }
        out
    }
}

/// A total: JSON key, description, value, and its metric name and labels
/// (a counter) if `/metrics` shows it.
type TotalRow<'a> = (
    &'a str,
    &'a str,
    u64,
    Option<(&'static str, Option<String>)>,
);

fn f6(v: f64) -> String {
    format!("{v:.6}")
}

/// The entries of `snap`; `last_ports` is the last port used per interface
/// (parallel to `snap.interfaces`).
pub fn gather(snap: &Snapshot, last_ports: &[u16]) -> Entries {
    let mut m = Entries::default();
    let t = &snap.totals;
    m.header(Some("{"), Some(""));
    m.header(
        Some("currentstatistics"),
        Some("Statistics over currently running sessions:"),
    );
    m.header(Some("{"), Some(""));
    let typed = |t: &str| Some(format!("type=\"{t}\""));
    let own = snap.sessions - snap.foreign;
    m.same("sessionsown", "Owned sessions", own.to_string());
    m.prom("sessions", "gauge", typed("own"));
    m.same(
        "sessionsforeign",
        "Foreign sessions",
        snap.foreign.to_string(),
    );
    m.prom("sessions", "gauge", typed("foreign"));
    m.same("sessionstotal", "Total sessions", snap.sessions.to_string());
    m.same("transcodedmedia", "Transcoded media", "0".into());
    m.prom("transcoded_media", "gauge", None);
    let (ru, rk) = (snap.rates.user, snap.rates.kernel);
    for (label, descr, v) in [
        (
            "packetrate_user",
            "Packets per second (userspace)",
            ru.packets,
        ),
        ("byterate_user", "Bytes per second (userspace)", ru.bytes),
        ("errorrate_user", "Errors per second (userspace)", ru.errors),
        (
            "packetrate_kernel",
            "Packets per second (kernel)",
            rk.packets,
        ),
        ("byterate_kernel", "Bytes per second (kernel)", rk.bytes),
        ("errorrate_kernel", "Errors per second (kernel)", rk.errors),
        (
            "packetrate",
            "Packets per second (total)",
            ru.packets + rk.packets,
        ),
        ("byterate", "Bytes per second (total)", ru.bytes + rk.bytes),
        (
            "errorrate",
            "Errors per second (total)",
            ru.errors + rk.errors,
        ),
    ] {
        m.same(label, descr, v.to_string());
    }
    m.same(
        "media_userspace",
        "Userspace-only media streams",
        snap.streams_user.to_string(),
    );
    m.prom("mediastreams", "gauge", typed("userspace"));
    m.same(
        "media_kernel",
        "Kernel-only media streams",
        snap.streams_kernel.to_string(),
    );
    m.prom("mediastreams", "gauge", typed("kernel"));
    m.same(
        "media_mixed",
        "Mixed kernel/userspace media streams",
        "0".into(),
    );
    m.prom("mediastreams", "gauge", typed("mixed"));

    m.header(Some("}"), Some(""));
    m.header(
        Some("totalstatistics"),
        Some("Total statistics (does not include current running sessions):"),
    );
    m.header(Some("{"), Some(""));
    let up = snap.uptime.as_secs();
    m.value(
        Some("uptime"),
        Some("Uptime of rtpengine"),
        Some(up.to_string()),
        Some(format!("{up} seconds")),
    );
    m.prom("uptime_seconds", "gauge", None);
    let (u, k) = (snap.relayed_user, snap.relayed_kernel);
    let closed = "closed_sessions_total";
    let reason = |r: &str| Some(format!("reason=\"{r}\""));
    let totals: [TotalRow; 19] = [
        (
            "managedsessions",
            "Total managed sessions",
            t.managed,
            Some(("sessions_total", None)),
        ),
        (
            "rejectedsessions",
            "Total rejected sessions",
            t.rejected,
            Some((closed, reason("rejected"))),
        ),
        (
            "timeoutsessions",
            "Total timed-out sessions via TIMEOUT",
            t.timeout,
            Some((closed, reason("timeout"))),
        ),
        (
            "silenttimeoutsessions",
            "Total timed-out sessions via SILENT_TIMEOUT",
            t.silent_timeout,
            Some((closed, reason("silent_timeout"))),
        ),
        (
            "finaltimeoutsessions",
            "Total timed-out sessions via FINAL_TIMEOUT",
            t.final_timeout,
            Some((closed, reason("final_timeout"))),
        ),
        (
            "offertimeoutsessions",
            "Total timed-out sessions via OFFER_TIMEOUT",
            t.offer_timeout,
            Some((closed, reason("offer_timeout"))),
        ),
        (
            "regularterminatedsessions",
            "Total regular terminated sessions",
            t.regular,
            Some((closed, reason("terminated"))),
        ),
        (
            "forcedterminatedsessions",
            "Total forced terminated sessions",
            t.forced,
            Some((closed, reason("force_terminated"))),
        ),
        (
            "relayedpackets_user",
            "Total relayed packets (userspace)",
            u.packets,
            Some(("packets_total", typed("userspace"))),
        ),
        (
            "relayedpacketerrors_user",
            "Total relayed packet errors (userspace)",
            u.errors,
            Some(("packet_errors_total", typed("userspace"))),
        ),
        (
            "relayedbytes_user",
            "Total relayed bytes (userspace)",
            u.bytes,
            Some(("bytes_total", typed("userspace"))),
        ),
        (
            "relayedpackets_kernel",
            "Total relayed packets (kernel)",
            k.packets,
            Some(("packets_total", typed("kernel"))),
        ),
        (
            "relayedpacketerrors_kernel",
            "Total relayed packet errors (kernel)",
            k.errors,
            Some(("packet_errors_total", typed("kernel"))),
        ),
        (
            "relayedbytes_kernel",
            "Total relayed bytes (kernel)",
            k.bytes,
            Some(("bytes_total", typed("kernel"))),
        ),
        (
            "relayedpackets",
            "Total relayed packets",
            u.packets + k.packets,
            None,
        ),
        (
            "relayedpacketerrors",
            "Total relayed packet errors",
            u.errors + k.errors,
            None,
        ),
        (
            "relayedbytes",
            "Total relayed bytes",
            u.bytes + k.bytes,
            None,
        ),
        (
            "zerowaystreams",
            "Total number of streams with no relayed packets",
            t.zero_way,
            Some(("zero_packet_streams_total", None)),
        ),
        (
            "onewaystreams",
            "Total number of 1-way streams",
            t.one_way,
            Some(("one_way_sessions_total", None)),
        ),
    ];
    for (label, descr, v, prom) in totals {
        m.same(label, descr, v.to_string());
        if let Some((name, labels)) = prom {
            m.prom(name, "counter", labels);
        }
    }
    let avg_us = t.duration_us.checked_div(t.managed).unwrap_or(0);
    let secs = |label: &str, descr: &str, v: f64, unit: &str| {
        (
            label.to_owned(),
            descr.to_owned(),
            f6(v),
            format!("{} {unit}", f6(v)),
        )
    };
    let variance = if t.managed > 0 {
        let avg_ms = avg_us as f64 / 1000.0;
        (t.duration2_ms2 as f64 / t.managed as f64 - avg_ms * avg_ms).abs()
    } else {
        0.0
    };
    let durations = [
        secs(
            "avgcallduration",
            "Average call duration",
            avg_us as f64 / 1e6,
            "seconds",
        ),
        secs(
            "totalcallsduration",
            "Total calls duration",
            t.duration_us as f64 / 1e6,
            "seconds",
        ),
        secs(
            "totalcallsduration2",
            "Total calls duration squared",
            t.duration2_ms2 as f64 / 1e6,
            "seconds squared",
        ),
        secs(
            "totalcallsduration_stddev",
            "Total calls duration standard deviation",
            variance.sqrt() / 1000.0,
            "seconds",
        ),
    ];
    let duration_prom = [
        Some(("call_duration_avg", "gauge")),
        Some(("call_duration_total", "counter")),
        Some(("call_duration2_total", "counter")),
        None,
    ];
    for ((label, descr, short, long), prom) in durations.into_iter().zip(duration_prom) {
        m.value(Some(&label), Some(&descr), Some(short), Some(long));
        if let Some((name, kind)) = prom {
            m.prom(name, kind, None);
        }
    }

    // The figures of the last graphite report (zero without --graphite).
    let iv = &snap.interval;
    m.header(None, Some(""));
    m.header(Some("}"), Some(""));
    m.header(
        Some("intervalstatistics"),
        Some("Graphite interval statistics (last reported values to graphite):"),
    );
    m.header(Some("{"), None);
    let calls_dur = f6(iv.calls_duration_us as f64 / 1e6);
    m.value(
        Some("totalcallsduration"),
        Some("Total calls duration"),
        Some(calls_dur.clone()),
        Some(format!("{calls_dur} seconds")),
    );
    m.header(None, Some(""));
    m.same(
        "minmanagedsessions",
        "Min managed sessions",
        iv.sessions.min.to_string(),
    );
    m.same(
        "maxmanagedsessions",
        "Max managed sessions",
        iv.sessions.max.to_string(),
    );
    let us = |v: u64| f6(v as f64 / 1e6);
    for kind in CommandKind::ALL {
        let n = kind.name();
        let t = iv.request_time[kind.index()];
        let (lo, hi, avg) = (us(t.min), us(t.max), us(t.avg()));
        m.text_only(
            &format!("Min/Max/Avg {n} processing delay"),
            format!("{lo}/{hi}/{avg} sec"),
        );
        for (w, v) in [("min", lo), ("max", hi), ("avg", avg)] {
            m.json_only(&format!("{w}{n}delay"), v);
        }
    }
    for kind in CommandKind::ALL {
        let n = kind.name();
        let r = iv.request_rate[kind.index()];
        m.text_only(
            &format!("Min/Max/Avg {n} requests per second"),
            format!("{}/{}/{} per sec", r.min, r.max, r.avg()),
        );
        for (w, v) in [("min", r.min), ("max", r.max), ("avg", r.avg())] {
            m.json_only(&format!("{w}{n}requestrate"), v.to_string());
        }
    }
    m.header(None, Some(""));
    m.header(Some("}"), Some(""));

    // No MOS: we compute none.
    m.header(Some("mos"), Some("MOS statistics:"));
    m.header(Some("{"), Some(""));
    m.same("mos_total", "Sum of all MOS values sampled", f6(0.0));
    m.prom("mos_total", "counter", None);
    m.same(
        "mos2_total",
        "Sum of all MOS square values sampled",
        f6(0.0),
    );
    m.prom("mos2_total", "counter", None);
    m.same(
        "mos_samples_total",
        "Total number of MOS samples",
        "0".into(),
    );
    m.prom("mos_samples_total", "counter", None);
    m.same("mos_average", "Average MOS", f6(0.0));
    m.same("mos_stddev", "MOS standard deviation", f6(0.0));
    m.header(None, Some(""));
    m.header(Some("}"), Some(""));

    m.header(Some("controlstatistics"), Some("Control statistics:"));
    m.header(Some("{"), Some(""));
    m.header(Some("proxies"), None);
    m.header(Some("["), None);
    let mut head = format!(" {:>20} ", "Proxy");
    for kind in CommandKind::ALL {
        head.push_str(&format!("| {:>10} ", kind.short_name()));
    }
    m.value(None, Some(&head), None, None);
    let mut all = [0u64; CommandKind::ALL.len()];
    for c in &snap.clients {
        m.header(Some("{"), None);
        m.json_only("proxy", format!("\"{}\"", c.address));
        let proxy = prom_escape(&c.address.to_string());
        let mut row = format!(" {:>20} ", c.address.to_string());
        for kind in CommandKind::ALL {
            let i = kind.index();
            let short = kind.short_name().to_ascii_lowercase();
            row.push_str(&format!("| {:>10} ", c.count[i]));
            all[i] += c.count[i];
            let labels = Some(format!(
                "proxy=\"{proxy}\",request=\"{}\"",
                prom_escape(kind.name())
            ));
            m.json_only(&format!("{short}count"), c.count[i].to_string());
            m.prom("requests_total", "counter", labels.clone());
            let d = c.time[i];
            m.json_only(
                &format!("{short}duration"),
                format!("{}.{:06}", d.as_secs(), d.subsec_micros()),
            );
            m.prom("request_seconds_total", "counter", labels);
        }
        m.text_only("", row);
        m.json_only("errorcount", c.errors.to_string());
        m.prom(
            "errors_total",
            "counter",
            Some(format!("proxy=\"{proxy}\"")),
        );
        m.header(Some("}"), None);
    }
    m.header(Some("]"), Some(""));
    for kind in CommandKind::ALL {
        let short = kind.short_name().to_ascii_lowercase();
        m.json_only(&format!("total{short}count"), all[kind.index()].to_string());
    }
    m.header(Some("}"), Some(""));

    m.header(Some("interfaces"), None);
    m.header(Some("["), None);
    for (n, i) in snap.interfaces.iter().enumerate() {
        let total = i.total();
        let used = i.used.min(total);
        m.header(Some("{"), None);
        m.json_only("name", format!("\"{}\"", i.name));
        m.json_only("address", format!("\"{}\"", i.address));
        m.header(Some("ports"), None);
        m.header(Some("{"), None);
        m.json_only("min", i.min.to_string());
        m.json_only("max", i.max.to_string());
        let labels = Some(format!(
            "name=\"{}\",address=\"{}\"",
            prom_escape(&i.name),
            prom_escape(&i.address.to_string())
        ));
        m.json_only("used", used.to_string());
        m.prom("ports_used", "gauge", labels.clone());
        m.json_only(
            "used_pct",
            format!("{:.2}", used as f64 * 100.0 / total as f64),
        );
        m.json_only("free", (total - used).to_string());
        m.prom("ports_free", "gauge", labels.clone());
        m.json_only("totals", total.to_string());
        m.prom("ports", "gauge", labels);
        m.json_only("last", last_ports.get(n).copied().unwrap_or(0).to_string());
        m.header(Some("}"), None);
        m.header(Some("}"), None);
    }
    m.header(Some("]"), None);
    // No transcoding, no transcoders.
    m.header(Some("transcoders"), None);
    m.header(Some("["), Some(""));
    m.header(Some("]"), Some(""));
    m.header(Some("}"), None);
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::call::totals::{Relayed, SessionTotals};
    use crate::server::stats::{ClientCounters, InterfacePorts};
    use std::time::Duration;

    fn snapshot() -> Snapshot {
        let mut count = [0; CommandKind::ALL.len()];
        let mut time = [Duration::ZERO; CommandKind::ALL.len()];
        count[CommandKind::Offer.index()] = 3;
        time[CommandKind::Offer.index()] = Duration::from_micros(1_500_250);
        Snapshot {
            uptime: Duration::from_secs(42),
            sessions: 2,
            foreign: 0,
            streams_user: 4,
            streams_kernel: 1,
            totals: SessionTotals {
                managed: 5,
                regular: 4,
                forced: 1,
                ..SessionTotals::default()
            },
            relayed_user: Relayed {
                packets: 10,
                bytes: 1720,
                errors: 1,
            },
            relayed_kernel: Relayed {
                packets: 7,
                bytes: 700,
                errors: 0,
            },
            clients: vec![ClientCounters {
                address: "::1".parse().unwrap(),
                count,
                time,
                errors: 2,
            }],
            rates: crate::server::rates::Counters::default(),
            interval: Default::default(),
            interfaces: vec![InterfacePorts {
                name: "pub\"lic".into(),
                address: "127.0.0.1".parse().unwrap(),
                min: 41000,
                max: 41499,
                used: 4,
            }],
        }
    }

    fn lines(text: &str) -> Vec<&str> {
        text.lines().collect()
    }

    #[test]
    fn prometheus_names_types_and_labels_as_10_5() {
        let text = gather(&snapshot(), &[41012]).prometheus();
        let l = lines(&text);
        // The first sample of a name brings HELP (the description) and TYPE.
        assert_eq!(
            &l[..4],
            [
                "# HELP rtpengine_sessions Owned sessions",
                "# TYPE rtpengine_sessions gauge",
                "rtpengine_sessions{type=\"own\"} 2",
                "rtpengine_sessions{type=\"foreign\"} 0",
            ]
        );
        for want in [
            "rtpengine_transcoded_media 0",
            "rtpengine_mediastreams{type=\"userspace\"} 4",
            "rtpengine_mediastreams{type=\"kernel\"} 1",
            "rtpengine_mediastreams{type=\"mixed\"} 0",
            "# TYPE rtpengine_uptime_seconds gauge",
            "rtpengine_uptime_seconds 42",
            "# TYPE rtpengine_sessions_total counter",
            "rtpengine_sessions_total 5",
            "# HELP rtpengine_closed_sessions_total Total rejected sessions",
            "rtpengine_closed_sessions_total{reason=\"terminated\"} 4",
            "rtpengine_closed_sessions_total{reason=\"force_terminated\"} 1",
            "rtpengine_packets_total{type=\"userspace\"} 10",
            "rtpengine_packet_errors_total{type=\"userspace\"} 1",
            "rtpengine_bytes_total{type=\"kernel\"} 700",
            "rtpengine_zero_packet_streams_total 0",
            "rtpengine_one_way_sessions_total 0",
            "# TYPE rtpengine_call_duration_avg gauge",
            "# TYPE rtpengine_call_duration2_total counter",
            "rtpengine_mos_samples_total 0",
            // Per client and request; no description, so no HELP.
            "# TYPE rtpengine_requests_total counter",
            "rtpengine_requests_total{proxy=\"::1\",request=\"offer\"} 3",
            "rtpengine_request_seconds_total{proxy=\"::1\",request=\"offer\"} 1.500250",
            "rtpengine_requests_total{proxy=\"::1\",request=\"start recording\"} 0",
            "rtpengine_errors_total{proxy=\"::1\"} 2",
            // Label values are escaped.
            "rtpengine_ports_used{name=\"pub\\\"lic\",address=\"127.0.0.1\"} 4",
            "rtpengine_ports_free{name=\"pub\\\"lic\",address=\"127.0.0.1\"} 496",
            "rtpengine_ports{name=\"pub\\\"lic\",address=\"127.0.0.1\"} 500",
        ] {
            assert!(l.contains(&want), "{want} missing from\n{text}");
        }
        // Each name has one TYPE line, HELP only where 10.5 has one.
        for name in ["packets_total", "requests_total", "ports_used", "sessions"] {
            let t = format!("# TYPE rtpengine_{name} ");
            assert_eq!(l.iter().filter(|x| x.starts_with(&t)).count(), 1, "{name}");
        }
        assert!(!text.contains("# HELP rtpengine_requests_total"));
        assert!(!text.contains("# HELP rtpengine_ports "));
        // Entries 10.5 does not export stay out: sums, stddev, rates, MOS average.
        for gone in [
            "relayedpackets",
            "stddev",
            "packetrate",
            "mos_average",
            "used_pct",
        ] {
            assert!(!text.contains(gone), "{gone}");
        }
        assert!(text.ends_with('\n'));
    }

    #[test]
    fn prometheus_without_clients_or_interfaces() {
        let mut s = snapshot();
        s.clients.clear();
        s.interfaces.clear();
        let text = gather(&s, &[]).prometheus();
        assert!(!text.contains("requests_total"));
        assert!(!text.contains("ports"));
        // Every sample line: a name, maybe labels, a value.
        for l in text.lines().filter(|l| !l.starts_with('#')) {
            let (name, value) = l.rsplit_once(' ').unwrap();
            assert!(name.starts_with("rtpengine_"), "{l}");
            assert!(value.parse::<f64>().is_ok(), "{l}");
        }
    }

    #[test]
    fn label_escaping() {
        assert_eq!(prom_escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
        assert_eq!(prom_escape("::1"), "::1");
    }
}
