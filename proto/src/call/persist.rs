//! A call's state as bytes (bencode), so a restarted daemon can take its calls back
//! (`--state-dir`, with `--kernel-adopt` for the kernel's targets).
//!
//! Monotonic instants do not survive a restart: they are stored as wall-clock
//! milliseconds and mapped back onto the new process's clock when loaded.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use rand_core::CryptoRng;

use super::dtls::MediaDtls;
use super::effect::{Effect, Learning, LearningMode, RemoteCandidate, StreamId};
use super::model::{Call, IceAlternate, Media, Monologue, Now, PacketStream, Subscription};
use super::ports::PortAllocator;
use super::registry::Registry;
use crate::ng::bencode::{self, Owned, Value};
use crate::ng::flags::RtcpMuxFlags;
use crate::sdp::crypto::CryptoAttribute;
use crate::sdp::{fingerprint_hash_name, Direction, Fingerprint};
use crate::srtp::{MediaSdes, NegotiatedKeys, Suite};

/// Bumped when the layout changes incompatibly; other versions are refused.
const FORMAT: i64 = 1;

pub fn encode_call(call: &Call, now: &Now) -> Vec<u8> {
    let unix_ms = |d: Duration| Owned::from(d.as_millis() as u64);
    let mut d = Owned::dict()
        .with("format", FORMAT)
        .with("id", call.id.as_str())
        .with("created", unix_ms(call.created))
        .with("last-signal", unix_ms(call.last_signal))
        .with("created-from", call.created_from.as_str())
        .with("monologues", list(call.monologues.iter().map(monologue)));
    if !call.held_ports.is_empty() {
        d.insert("held-ports", list(call.held_ports.iter().map(|a| addr(*a))));
    }
    if let Some(at) = call.delete_at {
        d.insert("delete-at", unix_ms(unix_at(now, at)));
    }
    d.encode()
}

/// Rebuilds a call saved by `encode_call`, its instants mapped onto `now`'s clock.
pub fn decode_call(bytes: &[u8], now: &Now) -> Result<Call, String> {
    let v = bencode::decode(bytes).map_err(|e| e.to_string())?;
    let d = D(&v);
    let format = d.int("format")?;
    if format != FORMAT {
        return Err(format!("format {format}, expected {FORMAT}"));
    }
    let created = Duration::from_millis(d.uint("created")?);
    let last_signal = Duration::from_millis(d.uint("last-signal")?);
    let delete_at = match d.0.get("delete-at") {
        Some(_) => Some(mono_at(now, Duration::from_millis(d.uint("delete-at")?))),
        None => None,
    };
    let monologues: Vec<Monologue> = d
        .list("monologues")?
        .iter()
        .map(decode_monologue)
        .collect::<Result<_, _>>()?;
    // Indices into the call's own list: a bad one would panic later.
    if monologues.iter().any(|m| {
        m.peer.is_some_and(|p| p >= monologues.len())
            || m.subscriptions.iter().any(|s| s.from >= monologues.len())
    }) {
        return Err("peer: no such monologue".into());
    }
    Ok(Call {
        id: d.text("id")?,
        created,
        created_mono: mono_at(now, created),
        last_signal,
        last_signal_mono: mono_at(now, last_signal),
        monologues,
        delete_at,
        // The daemon's certificate now (`Registry::restore`): the one the call
        // had went with the process.
        dtls: Default::default(),
        // Media controls are not saved: a restarted call forwards everything.
        controls: Default::default(),
        created_from: d.optional("created-from", D::text)?.unwrap_or_default(),
        held_ports: match d.0.get("held-ports") {
            Some(_) => d
                .list("held-ports")?
                .iter()
                .map(parse_addr)
                .collect::<Result<_, _>>()?,
            None => Vec::new(),
        },
        // The recording's files went with the process.
        recording: false,
        metadata: String::new(),
        foreign: false,
        redis_db: 0,
    })
}

/// Wall-clock time of `at` (an instant of this process).
fn unix_at(now: &Now, at: Instant) -> Duration {
    match at.checked_duration_since(now.mono) {
        Some(ahead) => now.unix + ahead,
        None => now.unix.saturating_sub(now.mono - at),
    }
}

/// The instant of this process that corresponds to wall-clock `unix`.
fn mono_at(now: &Now, unix: Duration) -> Instant {
    if unix >= now.unix {
        now.mono + (unix - now.unix)
    } else {
        // Before this process (or the machine) started: clamp to what exists.
        now.mono.checked_sub(now.unix - unix).unwrap_or(now.mono)
    }
}

fn list(items: impl Iterator<Item = Owned>) -> Owned {
    Owned::List(items.collect())
}

/// `None` as the empty list, `Some(x)` as a one-item list.
fn opt(v: Option<Owned>) -> Owned {
    Owned::List(v.into_iter().collect())
}

fn opt_int(v: Option<i64>) -> Owned {
    opt(v.map(Owned::from))
}

fn opt_text(v: Option<&str>) -> Owned {
    opt(v.map(Owned::from))
}

fn flag(b: bool) -> Owned {
    Owned::from(i64::from(b))
}

fn addr(a: SocketAddr) -> Owned {
    Owned::from(a.to_string())
}

fn monologue(m: &Monologue) -> Owned {
    let l = &m.learning;
    let x = &m.mux_flags;
    Owned::dict()
        .with("tag", m.tag.as_str())
        .with("via-branch", opt_text(m.via_branch.as_deref()))
        .with("label", opt_text(m.label.as_deref()))
        .with("created", m.created.as_millis() as u64)
        .with("peer", opt_int(m.peer.map(|p| p as i64)))
        .with("medias", list(m.medias.iter().map(media)))
        .with(
            "learning",
            list(
                [l.asymmetric, l.strict_source, l.media_handover]
                    .into_iter()
                    .map(flag),
            ),
        )
        .with(
            "rtcp-mux-flags",
            list(
                [x.offer, x.demux, x.accept, x.reject, x.require]
                    .into_iter()
                    .map(flag),
            ),
        )
        .with("learning-mode", l.mode.name())
        .with(
            "sip-source",
            opt_text(m.sip_source.map(|ip| ip.to_string()).as_deref()),
        )
        .with("tos", opt_int(m.tos.map(i64::from)))
        .with("answered", flag(m.answered))
        .with("deleted", flag(m.deleted))
        .with(
            "subscriptions",
            list(
                m.subscriptions
                    .iter()
                    .map(|s| list([Owned::from(s.from as i64), flag(s.rtcp_only)].into_iter())),
            ),
        )
        .with("pubsub", flag(m.pubsub))
        .with("last-sdp", opt_text(m.last_sdp.as_deref()))
        .with(
            "sdp-session-id",
            opt_text(m.sdp_session_id.map(|id| id.to_string()).as_deref()),
        )
}

fn stream(s: &PacketStream) -> Owned {
    Owned::dict()
        .with("id", s.id.0)
        .with("local", addr(s.local))
        .with("endpoint", opt(s.endpoint.map(addr)))
        .with("rtcp", flag(s.is_rtcp))
}

fn texts(v: &[String]) -> Owned {
    list(v.iter().map(|s| Owned::from(s.as_str())))
}

fn media(m: &Media) -> Owned {
    let keys = m.sdes.keys.as_ref().map(|k| {
        Owned::dict()
            .with("suite", k.suite.name)
            .with("rx", k.rx.to_string())
            .with("tx", k.tx.to_string())
    });
    let sdes = Owned::dict()
        .with("remote", texts(&m.sdes.remote))
        .with(
            "sent",
            list(m.sdes.sent.iter().map(|c| Owned::from(c.to_string()))),
        )
        .with("keys", opt(keys))
        .with(
            "stream-suite",
            opt_text(m.sdes.stream_suite.map(|s| s.name)),
        )
        .with("dtls-started", flag(m.sdes.dtls_started));
    Owned::dict()
        .with("index", u64::from(m.index))
        .with("type", m.media_type.as_str())
        .with("protocol", m.protocol.as_str())
        .with("formats", texts(&m.formats))
        .with(
            "clock-rates",
            list(m.clock_rates.iter().map(|(pt, rate)| {
                list([Owned::from(u64::from(*pt)), Owned::from(u64::from(*rate))].into_iter())
            })),
        )
        .with("ptime", opt_int(m.ptime.map(i64::from)))
        .with("ptime-memory", opt_int(m.ptime_memory.map(i64::from)))
        .with("mid", opt_text(m.mid.as_deref()))
        .with("interface", m.interface as u64)
        .with("advertised", m.advertised.to_string())
        .with("rtp", opt(m.rtp.as_ref().map(stream)))
        .with("rtcp", opt(m.rtcp.as_ref().map(stream)))
        .with("extra", list(m.extra.iter().map(stream)))
        .with("extra-ports", u64::from(m.extra_ports))
        .with("mux-offered", flag(m.mux_offered))
        .with("rtcp-mux", flag(m.rtcp_mux))
        .with("direction", m.direction.as_attribute())
        .with("ice", flag(m.ice))
        .with("trickle-ice", flag(m.trickle_ice))
        .with("ice-ufrag", m.ice_ufrag.as_str())
        .with("ice-pwd", m.ice_pwd.as_str())
        .with("ice-agent", flag(m.ice_agent))
        .with("ice-started", flag(m.ice_started))
        .with("passthru", flag(m.passthru))
        .with("ice-controlling", flag(m.ice_controlling))
        .with("ice-lite-self", flag(m.ice_lite_self))
        .with("ice-lite-peer", flag(m.ice_lite_peer))
        .with("ice-remote-ufrag", opt_text(m.ice_remote_ufrag.as_deref()))
        .with("ice-remote-pwd", opt_text(m.ice_remote_pwd.as_deref()))
        .with(
            "ice-alternates",
            list(m.ice_alternates.iter().map(|a| {
                Owned::dict()
                    .with("interface", a.interface as u64)
                    .with("local", addr(a.local))
                    .with("ports", u64::from(a.ports))
                    .with("advertised", a.advertised.to_string())
            })),
        )
        .with("forwarded-formats", texts(&m.forwarded_formats))
        .with("sdes", sdes)
        .with("dtls", dtls(&m.dtls))
        .with(
            "remote-candidates",
            list(
                m.remote_candidates
                    .iter()
                    .map(|c| Owned::from(candidate(c))),
            ),
        )
        .with(
            "status",
            Owned::dict()
                .with("initialized", flag(m.status.initialized))
                .with("send", flag(m.status.send))
                .with("recv", flag(m.status.recv))
                .with("ice", flag(m.status.ice))
                .with("ports-decided", flag(m.status.ports_decided))
                .with("single-port", flag(m.status.single_port))
                .with("unidirectional", flag(m.status.unidirectional)),
        )
}

fn dtls(d: &MediaDtls) -> Owned {
    Owned::dict()
        .with("active", flag(d.active))
        .with("passive", flag(d.passive))
        .with("enabled", flag(d.enabled))
        .with("sdes", flag(d.sdes))
        .with(
            "remote",
            opt_text(d.remote.as_ref().map(Fingerprint::to_value).as_deref()),
        )
        .with("hash", opt_text(d.hash))
}

/// A remote candidate as its `a=candidate` value.
fn candidate(c: &RemoteCandidate) -> String {
    format!(
        "{} {} UDP {} {} {} typ {}",
        c.foundation,
        c.component,
        c.priority,
        c.address.ip(),
        c.address.port(),
        c.kind
    )
}

fn decode_dtls(v: &Value<'_>) -> Result<MediaDtls, String> {
    let d = D(v);
    let remote = match d.opt_text("remote")? {
        Some(t) => Some(Fingerprint::parse(&t).ok_or_else(|| format!("dtls remote: {t}"))?),
        None => None,
    };
    let hash = match d.opt_text("hash")? {
        Some(h) => Some(fingerprint_hash_name(&h).ok_or_else(|| format!("dtls hash: {h}"))?),
        None => None,
    };
    Ok(MediaDtls {
        active: d.flag("active")?,
        passive: d.flag("passive")?,
        enabled: d.flag("enabled")?,
        sdes: d.flag("sdes")?,
        remote,
        hash,
    })
}

fn decode_candidate(text: &str) -> Result<RemoteCandidate, String> {
    let w: Vec<&str> = text.split(' ').collect();
    let bad = || format!("remote candidate: {text}");
    match w.as_slice() {
        [foundation, component, _, priority, ip, port, "typ", kind] => Ok(RemoteCandidate {
            foundation: (*foundation).to_owned(),
            component: component.parse().map_err(|_| bad())?,
            priority: priority.parse().map_err(|_| bad())?,
            address: SocketAddr::new(
                ip.parse().map_err(|_| bad())?,
                port.parse().map_err(|_| bad())?,
            ),
            kind: (*kind).to_owned(),
        }),
        _ => Err(bad()),
    }
}

/// Field access with errors that name the missing or malformed key.
struct D<'v, 'a>(&'v Value<'a>);

impl<'v, 'a> D<'v, 'a> {
    fn get(&self, key: &str) -> Result<&'v Value<'a>, String> {
        self.0.get(key).ok_or_else(|| format!("missing {key}"))
    }
    /// `read` of a key that older saves lack: `None` when the key is absent.
    fn optional<T>(
        &self,
        key: &str,
        read: fn(&Self, &str) -> Result<T, String>,
    ) -> Result<Option<T>, String> {
        if self.0.get(key).is_some() {
            read(self, key).map(Some)
        } else {
            Ok(None)
        }
    }
    fn text(&self, key: &str) -> Result<String, String> {
        match self.get(key)? {
            Value::Bytes(b) => {
                String::from_utf8(b.to_vec()).map_err(|_| format!("{key}: not UTF-8"))
            }
            _ => Err(format!("{key}: not a string")),
        }
    }
    fn int(&self, key: &str) -> Result<i64, String> {
        match self.get(key)? {
            Value::Int(n) => Ok(*n),
            _ => Err(format!("{key}: not an integer")),
        }
    }
    fn uint(&self, key: &str) -> Result<u64, String> {
        u64::try_from(self.int(key)?).map_err(|_| format!("{key}: negative"))
    }
    fn small<T: TryFrom<i64>>(&self, key: &str) -> Result<T, String> {
        T::try_from(self.int(key)?).map_err(|_| format!("{key}: out of range"))
    }
    fn flag(&self, key: &str) -> Result<bool, String> {
        Ok(self.int(key)? != 0)
    }
    fn list(&self, key: &str) -> Result<&'v [Value<'a>], String> {
        match self.get(key)? {
            Value::List(l) => Ok(l),
            _ => Err(format!("{key}: not a list")),
        }
    }
    fn texts(&self, key: &str) -> Result<Vec<String>, String> {
        self.list(key)?
            .iter()
            .map(|v| as_text(v).ok_or_else(|| format!("{key}: not strings")))
            .collect()
    }
    fn flags<const N: usize>(&self, key: &str) -> Result<[bool; N], String> {
        let l = self.list(key)?;
        let mut out = [false; N];
        if l.len() != N {
            return Err(format!("{key}: expected {N} flags"));
        }
        for (o, v) in out.iter_mut().zip(l) {
            *o = matches!(v, Value::Int(n) if *n != 0);
        }
        Ok(out)
    }
    /// An optional value: the empty list or a one-item list.
    fn opt(&self, key: &str) -> Result<Option<&'v Value<'a>>, String> {
        match self.list(key)? {
            [] => Ok(None),
            [v] => Ok(Some(v)),
            _ => Err(format!("{key}: more than one value")),
        }
    }
    fn opt_text(&self, key: &str) -> Result<Option<String>, String> {
        self.opt(key)?
            .map(|v| as_text(v).ok_or_else(|| format!("{key}: not a string")))
            .transpose()
    }
    fn opt_int(&self, key: &str) -> Result<Option<i64>, String> {
        match self.opt(key)? {
            None => Ok(None),
            Some(Value::Int(n)) => Ok(Some(*n)),
            Some(_) => Err(format!("{key}: not an integer")),
        }
    }
    fn parsed<T: std::str::FromStr>(&self, key: &str) -> Result<T, String> {
        self.text(key)?
            .parse()
            .map_err(|_| format!("{key}: malformed"))
    }
}

fn as_text(v: &Value<'_>) -> Option<String> {
    match v {
        Value::Bytes(b) => String::from_utf8(b.to_vec()).ok(),
        _ => None,
    }
}

fn parse_addr(v: &Value<'_>) -> Result<SocketAddr, String> {
    as_text(v)
        .and_then(|t| t.parse().ok())
        .ok_or_else(|| "malformed address".to_string())
}

fn decode_monologue(v: &Value<'_>) -> Result<Monologue, String> {
    let d = D(v);
    let [asymmetric, strict_source, media_handover] = d.flags("learning")?;
    let [offer, demux, accept, reject, require] = d.flags("rtcp-mux-flags")?;
    Ok(Monologue {
        tag: d.text("tag")?,
        via_branch: d.opt_text("via-branch")?,
        label: d.opt_text("label")?,
        created: Duration::from_millis(d.uint("created")?),
        peer: d.opt_int("peer")?.map(|p| p as usize),
        medias: d
            .list("medias")?
            .iter()
            .map(decode_media)
            .collect::<Result<_, _>>()?,
        learning: Learning {
            // Absent from files of earlier versions: the default mode.
            mode: match d.0.get("learning-mode") {
                None => LearningMode::default(),
                Some(_) => {
                    let name = d.text("learning-mode")?;
                    LearningMode::from_name(&name)
                        .ok_or_else(|| format!("learning-mode: unknown {name}"))?
                }
            },
            asymmetric,
            strict_source,
            media_handover,
        },
        sip_source: match d.0.get("sip-source") {
            None => None,
            Some(_) => d
                .opt_text("sip-source")?
                .map(|t| t.parse().map_err(|_| "sip-source: malformed".to_string()))
                .transpose()?,
        },
        mux_flags: RtcpMuxFlags {
            offer,
            demux,
            accept,
            reject,
            require,
        },
        tos: d.opt_int("tos")?.and_then(|t| u8::try_from(t).ok()),
        answered: d.flag("answered")?,
        deleted: d.flag("deleted")?,
        controls: Default::default(),
        // Absent from files of earlier versions: no pub/sub.
        subscriptions: match d.0.get("subscriptions") {
            None => Vec::new(),
            Some(_) => d
                .list("subscriptions")?
                .iter()
                .map(decode_subscription)
                .collect::<Result<_, _>>()?,
        },
        pubsub: d.0.get("pubsub").is_some() && d.flag("pubsub")?,
        last_sdp: match d.0.get("last-sdp") {
            None => None,
            Some(_) => d.opt_text("last-sdp")?,
        },
        sdp_session_id: match d.0.get("sdp-session-id") {
            None => None,
            Some(_) => d
                .opt_text("sdp-session-id")?
                .map(|t| {
                    t.parse()
                        .map_err(|_| "sdp-session-id: malformed".to_string())
                })
                .transpose()?,
        },
        srtp_resume: Default::default(),
    })
}

/// `[from, rtcp-only]`.
fn decode_subscription(v: &Value<'_>) -> Result<Subscription, String> {
    match v {
        Value::List(l) => match l.as_slice() {
            [Value::Int(from), Value::Int(rtcp_only)] => Ok(Subscription {
                from: usize::try_from(*from).map_err(|_| "subscription: negative")?,
                rtcp_only: *rtcp_only != 0,
            }),
            _ => Err("subscription: malformed".into()),
        },
        _ => Err("subscription: not a list".into()),
    }
}

fn decode_stream(v: &Value<'_>) -> Result<PacketStream, String> {
    let d = D(v);
    Ok(PacketStream {
        id: StreamId(d.uint("id")?),
        local: d.parsed("local")?,
        endpoint: d.opt("endpoint")?.map(parse_addr).transpose()?,
        is_rtcp: d.flag("rtcp")?,
    })
}

fn crypto(text: &str) -> Result<CryptoAttribute, String> {
    CryptoAttribute::parse(text).map_err(|e| format!("crypto: {e}"))
}

fn decode_sdes(v: &Value<'_>) -> Result<MediaSdes, String> {
    let d = D(v);
    let keys = match d.opt("keys")? {
        None => None,
        Some(k) => {
            let k = D(k);
            let name = k.text("suite")?;
            let suite: &'static Suite =
                Suite::by_name(&name).ok_or_else(|| format!("unknown suite {name}"))?;
            Some(NegotiatedKeys {
                suite,
                rx: crypto(&k.text("rx")?)?,
                tx: crypto(&k.text("tx")?)?,
            })
        }
    };
    Ok(MediaSdes {
        remote: d.texts("remote")?,
        sent: d
            .texts("sent")?
            .iter()
            .map(|t| crypto(t))
            .collect::<Result<_, _>>()?,
        keys,
        stream_suite: match d.optional("stream-suite", D::opt_text)?.flatten() {
            None => None,
            Some(name) => {
                Some(Suite::by_name(&name).ok_or_else(|| format!("unknown suite {name}"))?)
            }
        },
        dtls_started: d.optional("dtls-started", D::flag)?.unwrap_or(false),
    })
}

fn decode_media(v: &Value<'_>) -> Result<Media, String> {
    let d = D(v);
    let clock_rates = d
        .list("clock-rates")?
        .iter()
        .map(|pair| match pair {
            Value::List(l) => match l.as_slice() {
                [Value::Int(pt), Value::Int(rate)] => Ok((
                    u8::try_from(*pt).map_err(|_| "clock-rates: bad payload type")?,
                    u32::try_from(*rate).map_err(|_| "clock-rates: bad rate")?,
                )),
                _ => Err("clock-rates: malformed pair"),
            },
            _ => Err("clock-rates: malformed pair"),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let direction = d.text("direction")?;
    let ice_alternates = d
        .list("ice-alternates")?
        .iter()
        .map(|a| {
            let a = D(a);
            Ok(IceAlternate {
                interface: a.small("interface")?,
                local: a.parsed("local")?,
                // Saved before single ports: a pair.
                ports: a.optional("ports", D::small)?.unwrap_or(2),
                advertised: a.parsed("advertised")?,
            })
        })
        .collect::<Result<_, String>>()?;
    Ok(Media {
        index: d.small("index")?,
        media_type: d.text("type")?,
        protocol: d.text("protocol")?,
        formats: d.texts("formats")?,
        clock_rates,
        // Not saved: only the media controls use them, and those are not
        // restored either.
        encodings: Vec::new(),
        ptime: d.opt_int("ptime")?.and_then(|p| u32::try_from(p).ok()),
        ptime_memory: d
            .optional("ptime-memory", D::opt_int)?
            .flatten()
            .and_then(|p| u32::try_from(p).ok()),
        mid: d.opt_text("mid")?,
        interface: d.small("interface")?,
        advertised: d.parsed::<IpAddr>("advertised")?,
        rtp: d.opt("rtp")?.map(decode_stream).transpose()?,
        rtcp: d.opt("rtcp")?.map(decode_stream).transpose()?,
        // Absent in calls saved before port counts (`m=audio P/2`).
        extra: match d.0.get("extra") {
            Some(_) => d
                .list("extra")?
                .iter()
                .map(decode_stream)
                .collect::<Result<_, _>>()?,
            None => Vec::new(),
        },
        extra_ports: d.optional("extra-ports", D::small)?.unwrap_or(0),
        mux_offered: d.flag("mux-offered")?,
        rtcp_mux: d.flag("rtcp-mux")?,
        direction: Direction::from_attribute(&direction)
            .ok_or_else(|| format!("direction: {direction}"))?,
        ice: d.flag("ice")?,
        // Absent in calls saved before trickle ICE was tracked.
        trickle_ice: d.0.get("trickle-ice").is_some() && d.flag("trickle-ice")?,
        ice_ufrag: d.text("ice-ufrag")?,
        ice_pwd: d.text("ice-pwd")?,
        // Absent in calls saved before ICE answered STUN.
        ice_agent: d.optional("ice-agent", D::flag)?.unwrap_or(false),
        ice_started: d.optional("ice-started", D::flag)?.unwrap_or(false),
        passthru: d.optional("passthru", D::flag)?.unwrap_or(false),
        ice_controlling: d.optional("ice-controlling", D::flag)?.unwrap_or(false),
        ice_lite_self: d.optional("ice-lite-self", D::flag)?.unwrap_or(false),
        ice_lite_peer: d.optional("ice-lite-peer", D::flag)?.unwrap_or(false),
        // Not kept: a restarted call stays on the interface of its sockets.
        logical_interface: None,
        ice_remote_ufrag: d.optional("ice-remote-ufrag", D::opt_text)?.flatten(),
        ice_remote_pwd: d.optional("ice-remote-pwd", D::opt_text)?.flatten(),
        ice_alternates,
        forwarded_formats: d.texts("forwarded-formats")?,
        // Not kept across restarts: later SDP of the call falls back to the
        // formats above.
        codecs: Default::default(),
        sdes: decode_sdes(d.get("sdes")?)?,
        // Absent in calls saved before DTLS signalling.
        dtls: match d.0.get("dtls") {
            Some(v) => decode_dtls(v)?,
            None => MediaDtls::default(),
        },
        remote_candidates: match d.0.get("remote-candidates") {
            Some(_) => d
                .texts("remote-candidates")?
                .iter()
                .map(|t| decode_candidate(t))
                .collect::<Result<_, _>>()?,
            None => Vec::new(),
        },
        // Absent in calls saved before the query flags were kept.
        status: match d.0.get("status") {
            Some(v) => decode_status(v)?,
            None => Default::default(),
        },
        // Not saved: only query replies show them.
        idle: [None, None],
    })
}

fn decode_status(v: &Value<'_>) -> Result<super::media_status::MediaStatus, String> {
    let d = D(v);
    Ok(super::media_status::MediaStatus {
        initialized: d.flag("initialized")?,
        send: d.flag("send")?,
        recv: d.flag("recv")?,
        ice: d.flag("ice")?,
        ports_decided: d.flag("ports-decided")?,
        single_port: d.flag("single-port")?,
        // Absent in calls saved before it was kept.
        unidirectional: d.flag("unidirectional").unwrap_or(false),
        loop_check: false,
    })
}

impl<P: PortAllocator, R: CryptoRng> Registry<P, R> {
    /// The saved form of call `call_id`; `None` when the call is gone.
    pub fn snapshot(&self, call_id: &str, now: &Now) -> Option<Vec<u8>> {
        self.calls.get(call_id).map(|c| encode_call(c, now))
    }

    /// Takes calls of an earlier run back: reserves their ports again and returns
    /// the effects that start relaying on them. A call whose ports cannot all be
    /// had (taken meanwhile), or whose call-id is in use, is skipped and returned
    /// with the reason. The restart counts as activity for the timeouts: media
    /// that flowed while no daemon watched gets a full `--timeout` to show up.
    pub fn restore(&mut self, calls: Vec<Call>, now: &Now) -> (Vec<Effect>, Vec<(String, String)>) {
        let mut effects = Vec::new();
        let mut skipped = Vec::new();
        for mut call in calls {
            call.last_signal_mono = call.last_signal_mono.max(now.mono);
            call.dtls = self.dtls.clone();
            if self.calls.contains_key(&call.id) {
                skipped.push((call.id, "call-id already in use".to_string()));
                continue;
            }
            if let Some(why) = self.foreign_interface(&call) {
                skipped.push((call.id, why));
                continue;
            }
            if let Err(why) = self.take_ports(&call, false) {
                skipped.push((call.id, why));
                continue;
            }
            // Documents from Redis number each call's streams from 0.
            self.renumber_streams(&mut call);
            effects.extend(self.relay_effects(&call, &call.id));
            // The streams have the indices now; later signalling starts
            // new contexts from zero.
            for m in &mut call.monologues {
                m.srtp_resume = Default::default();
            }
            self.calls.insert(call.id.clone(), call);
        }
        (effects, skipped)
    }

    /// Reserves every port `call` holds (each media's ports on its own
    /// address and on the others, the held ones); with `unbound` without
    /// binding them (a foreign call's, which another node may hold). All or
    /// none: the port that could not be had is named.
    pub(super) fn take_ports(&mut self, call: &Call, unbound: bool) -> Result<(), String> {
        let mut runs: Vec<(SocketAddr, u16)> = Vec::new();
        for m in call.monologues.iter().flat_map(|m| m.medias.iter()) {
            let count = super::registry::media_ports(m);
            // An RTCP stream that kept its socket when the RTP stream took a
            // new single port (an ICE start) is a run of its own.
            let apart = match (&m.rtp, &m.rtcp) {
                (Some(rtp), Some(rtcp)) => (rtcp.local.port() != 0
                    && (rtcp.local.ip() != rtp.local.ip()
                        || rtcp.local.port() != rtp.local.port().wrapping_add(1)))
                .then_some(rtcp.local),
                _ => None,
            };
            let count = if apart.is_some() { 1 } else { count };
            runs.extend(m.rtp.as_ref().map(|s| (s.local, count)));
            runs.extend(apart.map(|p| (p, 1)));
            runs.extend(m.ice_alternates.iter().map(|a| (a.local, a.ports)));
        }
        runs.extend(call.held_ports.iter().map(|p| (*p, 1)));
        let mut taken = Vec::new();
        for (p, count) in runs {
            let ok = if unbound {
                self.ports.claim(p.ip(), p.port(), count)
            } else {
                self.ports.reserve(p.ip(), p.port(), count)
            };
            if !ok {
                for (t, count) in taken {
                    let t: SocketAddr = t;
                    for port in t.port()..t.port() + count {
                        self.ports.release(t.ip(), port);
                    }
                }
                return Err(format!("port {p} is taken"));
            }
            taken.push((p, count));
        }
        Ok(())
    }

    /// Why a saved call cannot live on this configuration: its media sit on an
    /// interface that is no longer configured (the operator changed `interface`
    /// between the runs). Later offers index the interface list with it.
    pub(super) fn foreign_interface(&self, call: &Call) -> Option<String> {
        let ifaces = &self.settings.interfaces;
        let on = |i: usize, ip: IpAddr| ifaces.get(i).is_some_and(|f| f.local == ip);
        for m in call.monologues.iter().flat_map(|m| m.medias.iter()) {
            let local = m.rtp.as_ref().map(|s| s.local.ip());
            let fits = ifaces.get(m.interface).is_some()
                && local.is_none_or(|ip| on(m.interface, ip))
                && m.ice_alternates
                    .iter()
                    .all(|a| on(a.interface, a.local.ip()));
            if !fits {
                return Some(format!(
                    "media {} was on an interface no longer configured",
                    m.index
                ));
            }
        }
        None
    }
}
