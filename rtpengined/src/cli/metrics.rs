//! The statistics as one ordered list of entries, each with what the text
//! rendering (`list totals`) and what the JSON rendering (`list jsonstats`)
//! show of it, in rtpengine 10.5's order. Built from the same `Snapshot` as
//! the ng `statistics` reply.

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
    bracket: bool,
    close: bool,
    /// JSON needs a comma before this entry.
    follow_up: bool,
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
    m.same("sessionsown", "Owned sessions", snap.sessions.to_string());
    m.same("sessionsforeign", "Foreign sessions", "0".into());
    m.same("sessionstotal", "Total sessions", snap.sessions.to_string());
    m.same("transcodedmedia", "Transcoded media", "0".into());
    for (label, descr) in [
        ("packetrate_user", "Packets per second (userspace)"),
        ("byterate_user", "Bytes per second (userspace)"),
        ("errorrate_user", "Errors per second (userspace)"),
        ("packetrate_kernel", "Packets per second (kernel)"),
        ("byterate_kernel", "Bytes per second (kernel)"),
        ("errorrate_kernel", "Errors per second (kernel)"),
        ("packetrate", "Packets per second (total)"),
        ("byterate", "Bytes per second (total)"),
        ("errorrate", "Errors per second (total)"),
    ] {
        // We measure no per-second rates.
        m.same(label, descr, "0".into());
    }
    m.same(
        "media_userspace",
        "Userspace-only media streams",
        snap.streams_user.to_string(),
    );
    m.same(
        "media_kernel",
        "Kernel-only media streams",
        snap.streams_kernel.to_string(),
    );
    m.same(
        "media_mixed",
        "Mixed kernel/userspace media streams",
        "0".into(),
    );

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
    let (u, k) = (snap.relayed_user, snap.relayed_kernel);
    for (label, descr, v) in [
        ("managedsessions", "Total managed sessions", t.managed),
        ("rejectedsessions", "Total rejected sessions", t.rejected),
        (
            "timeoutsessions",
            "Total timed-out sessions via TIMEOUT",
            t.timeout,
        ),
        (
            "silenttimeoutsessions",
            "Total timed-out sessions via SILENT_TIMEOUT",
            t.silent_timeout,
        ),
        (
            "finaltimeoutsessions",
            "Total timed-out sessions via FINAL_TIMEOUT",
            t.final_timeout,
        ),
        (
            "offertimeoutsessions",
            "Total timed-out sessions via OFFER_TIMEOUT",
            t.offer_timeout,
        ),
        (
            "regularterminatedsessions",
            "Total regular terminated sessions",
            t.regular,
        ),
        (
            "forcedterminatedsessions",
            "Total forced terminated sessions",
            t.forced,
        ),
        (
            "relayedpackets_user",
            "Total relayed packets (userspace)",
            u.packets,
        ),
        (
            "relayedpacketerrors_user",
            "Total relayed packet errors (userspace)",
            u.errors,
        ),
        (
            "relayedbytes_user",
            "Total relayed bytes (userspace)",
            u.bytes,
        ),
        (
            "relayedpackets_kernel",
            "Total relayed packets (kernel)",
            k.packets,
        ),
        (
            "relayedpacketerrors_kernel",
            "Total relayed packet errors (kernel)",
            k.errors,
        ),
        (
            "relayedbytes_kernel",
            "Total relayed bytes (kernel)",
            k.bytes,
        ),
        (
            "relayedpackets",
            "Total relayed packets",
            u.packets + k.packets,
        ),
        (
            "relayedpacketerrors",
            "Total relayed packet errors",
            u.errors + k.errors,
        ),
        ("relayedbytes", "Total relayed bytes", u.bytes + k.bytes),
        (
            "zerowaystreams",
            "Total number of streams with no relayed packets",
            t.zero_way,
        ),
        ("onewaystreams", "Total number of 1-way streams", t.one_way),
    ] {
        m.same(label, descr, v.to_string());
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
    for (label, descr, short, long) in [
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
    ] {
        m.value(Some(&label), Some(&descr), Some(short), Some(long));
    }

    // Graphite's interval figures: we report to no Graphite, all zero.
    m.header(None, Some(""));
    m.header(Some("}"), Some(""));
    m.header(
        Some("intervalstatistics"),
        Some("Graphite interval statistics (last reported values to graphite):"),
    );
    m.header(Some("{"), None);
    m.value(
        Some("totalcallsduration"),
        Some("Total calls duration"),
        Some(f6(0.0)),
        Some(format!("{} seconds", f6(0.0))),
    );
    m.header(None, Some(""));
    m.same("minmanagedsessions", "Min managed sessions", "0".into());
    m.same("maxmanagedsessions", "Max managed sessions", "0".into());
    for kind in CommandKind::ALL {
        let n = kind.name();
        m.text_only(
            &format!("Min/Max/Avg {n} processing delay"),
            format!("{0}/{0}/{0} sec", f6(0.0)),
        );
        for w in ["min", "max", "avg"] {
            m.json_only(&format!("{w}{n}delay"), f6(0.0));
        }
    }
    for kind in CommandKind::ALL {
        let n = kind.name();
        m.text_only(
            &format!("Min/Max/Avg {n} requests per second"),
            "0/0/0 per sec".into(),
        );
        for w in ["min", "max", "avg"] {
            m.json_only(&format!("{w}{n}requestrate"), "0".into());
        }
    }
    m.header(None, Some(""));
    m.header(Some("}"), Some(""));

    // No MOS: we compute none.
    m.header(Some("mos"), Some("MOS statistics:"));
    m.header(Some("{"), Some(""));
    m.same("mos_total", "Sum of all MOS values sampled", f6(0.0));
    m.same(
        "mos2_total",
        "Sum of all MOS square values sampled",
        f6(0.0),
    );
    m.same(
        "mos_samples_total",
        "Total number of MOS samples",
        "0".into(),
    );
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
        let mut row = format!(" {:>20} ", c.address.to_string());
        for kind in CommandKind::ALL {
            let i = kind.index();
            let short = kind.short_name().to_ascii_lowercase();
            row.push_str(&format!("| {:>10} ", c.count[i]));
            all[i] += c.count[i];
            m.json_only(&format!("{short}count"), c.count[i].to_string());
            let d = c.time[i];
            m.json_only(
                &format!("{short}duration"),
                format!("{}.{:06}", d.as_secs(), d.subsec_micros()),
            );
        }
        m.text_only("", row);
        m.json_only("errorcount", c.errors.to_string());
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
        m.json_only("used", used.to_string());
        m.json_only(
            "used_pct",
            format!("{:.2}", used as f64 * 100.0 / total as f64),
        );
        m.json_only("free", (total - used).to_string());
        m.json_only("totals", total.to_string());
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
