//! A call as the JSON document rtpengine 10.5 keeps in Redis (`--redis`), so
//! that a call written by either daemon can be taken over by the other.
//!
//! The document is one object: `json` (the call), then `tag-N` (parties),
//! `media-N`, `stream-N` (packet streams), `sfd-N` (local sockets) and `map-N`
//! (endpoint maps), objects of string values, plus lists linking them by
//! number (`medias-N`, `streams-N`, `rtp_sinks-N`, ...). Every value is a
//! string, %-escaped the way 10.5's `str_uri_encode_len` does (bytes outside
//! ' '..'~' and `%\'"`), so binary SRTP keys fit.
//!
//! Our call model is the source: this module only translates. What 10.5 does
//! not keep (our ICE state, the last SDP, codec details beyond the payload
//! types) is not kept here either; a call restored from it relays on its
//! ports, with its SRTP keys, to the endpoints it had.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use rand_core::CryptoRng;
use serde_json::{Map, Value};

use super::dtls::MediaDtls;
use super::effect::{Learning, SrtpState, SsrcIndex, StreamId};
use super::interface::Interface;
use super::media_status::MediaStatus;
use super::model::{Call, Media, Monologue, Now, PacketStream, Subscription};
use crate::sdp::crypto::CryptoAttribute;
use crate::sdp::{fingerprint_hash_name, Direction, Fingerprint};
use crate::srtp::{MediaSdes, NegotiatedKeys, Suite};

// 10.5's media flags (call.h), the ones our model has a field for.
const M_ASYMMETRIC: u32 = 0x2;
const M_SEND: u32 = 0x4;
const M_RECV: u32 = 0x8;
const M_RTCP_MUX: u32 = 0x10;
const M_SETUP_ACTIVE: u32 = 0x20;
const M_SETUP_PASSIVE: u32 = 0x40;
const M_ICE: u32 = 0x80;
const M_TRICKLE_ICE: u32 = 0x400;
const M_ICE_LITE_PEER: u32 = 0x800;
const M_UNIDIRECTIONAL: u32 = 0x1000;
const M_INITIALIZED: u32 = 0x1_0000;
const M_DTLS: u32 = 0x4_0000;
const M_SDES: u32 = 0x8_0000;
const M_PASSTHRU: u32 = 0x10_0000;
const M_ICE_CONTROLLING: u32 = 0x20_0000;
const M_ICE_LITE_SELF: u32 = 0x400_0000;
// Packet stream flags.
const PS_IMPLICIT_RTCP: u32 = 0x1;
const PS_RTP: u32 = 0x1_0000;
const PS_RTCP: u32 = 0x2_0000;
const PS_FILLED: u32 = 0x10_0000;
/// 10.5's `(unsigned) -1`: no such object.
const NONE: u32 = u32::MAX;
/// 10.5's fixed buffers: keys and fingerprints are stored padded to these.
const MASTER_KEY_BUF: usize = 32;
const MASTER_SALT_BUF: usize = 14;
const DIGEST_BUF: usize = 64;

/// `%`-escapes what 10.5 escapes (lower-case hex, as it writes).
pub fn uri_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        if !(b' '..=b'~').contains(&b) || matches!(b, b'%' | b'\\' | b'\'' | b'"') {
            out.push_str(&format!("%{b:02x}"));
        } else {
            out.push(char::from(b));
        }
    }
    out
}

/// Undoes [`uri_encode`] (any hex case; a `%` without two hex digits stays).
pub fn uri_decode(text: &str) -> Vec<u8> {
    let b = text.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = std::str::from_utf8(&b[i + 1..i + 3]).ok();
            if let Some(v) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

fn family(ip: IpAddr) -> &'static str {
    if ip.is_ipv4() {
        "IP4"
    } else {
        "IP6"
    }
}

/// 10.5's `local_intf_uid`: the place of interface `i` among the addresses
/// of its logical interface and family.
fn local_uid(ifaces: &[Interface], i: usize) -> usize {
    let Some(me) = ifaces.get(i) else { return 0 };
    ifaces[..i]
        .iter()
        .filter(|f| f.name == me.name && f.local.is_ipv4() == me.local.is_ipv4())
        .count()
}

/// The interface a 10.5 socket names: logical name, family and uid.
fn find_iface(ifaces: &[Interface], name: &str, fam: &str, uid: usize) -> Option<usize> {
    let v4 = fam != "IP6";
    let mut seen = 0;
    for (i, f) in ifaces.iter().enumerate() {
        if f.name == name && f.local.is_ipv4() == v4 {
            if seen == uid {
                return Some(i);
            }
            seen += 1;
        }
    }
    None
}

struct Builder {
    doc: Map<String, Value>,
}

fn s(v: impl ToString) -> Value {
    Value::String(uri_encode(v.to_string().as_bytes()))
}

fn ids(v: impl IntoIterator<Item = usize>) -> Value {
    Value::Array(v.into_iter().map(s).collect())
}

/// `PREFIX-crypto_suite` and friends of one SDES key.
fn put_crypto(o: &mut Map<String, Value>, prefix: &str, c: &CryptoAttribute) {
    let Some(suite) = Suite::by_name(&c.suite) else {
        return;
    };
    let mut key = c.key_salt[..suite.key_len.min(c.key_salt.len())].to_vec();
    let mut salt = c.key_salt[key.len()..].to_vec();
    key.resize(MASTER_KEY_BUF, 0);
    salt.resize(MASTER_SALT_BUF, 0);
    let p = crate::srtp::SessionParams::of(c);
    o.insert(format!("{prefix}-crypto_suite"), s(suite.name));
    o.insert(
        format!("{prefix}-master_key"),
        Value::String(uri_encode(&key)),
    );
    o.insert(
        format!("{prefix}-master_salt"),
        Value::String(uri_encode(&salt)),
    );
    o.insert(
        format!("{prefix}-unenc-srtp"),
        s(i32::from(p.unencrypted_srtp)),
    );
    o.insert(
        format!("{prefix}-unenc-srtcp"),
        s(i32::from(p.unencrypted_srtcp)),
    );
    o.insert(
        format!("{prefix}-unauth-srtp"),
        s(i32::from(p.unauthenticated_srtp)),
    );
    if let Some(mki) = c.mki {
        let len = usize::from(mki.length).min(8);
        let bytes = mki.value.to_be_bytes();
        o.insert(
            format!("{prefix}-mki"),
            Value::String(uri_encode(&bytes[8 - len..])),
        );
    }
}

/// A list of SDES keys as 10.5's `sdes_in`/`sdes_out`: `K_tag`, `K-...`,
/// then `K-0_tag`, `K-0-...`, ...
fn put_sdes(o: &mut Map<String, Value>, k: &str, list: &[CryptoAttribute]) {
    for (n, c) in list.iter().enumerate() {
        let key = if n == 0 {
            k.to_string()
        } else {
            format!("{k}-{}", n - 1)
        };
        if Suite::by_name(&c.suite).is_none() {
            break;
        }
        o.insert(format!("{key}_tag"), s(c.tag));
        put_crypto(o, &key, c);
    }
}

fn media_flags(mono: &Monologue, m: &Media) -> u32 {
    let st = &m.status;
    let mut f = 0;
    let mut set = |b: bool, bit: u32| {
        if b {
            f |= bit
        }
    };
    set(mono.learning.asymmetric, M_ASYMMETRIC);
    set(st.send, M_SEND);
    set(st.recv, M_RECV);
    set(m.rtcp_mux, M_RTCP_MUX);
    set(m.dtls.active, M_SETUP_ACTIVE);
    set(m.dtls.passive, M_SETUP_PASSIVE);
    set(m.ice, M_ICE);
    set(m.trickle_ice, M_TRICKLE_ICE);
    set(m.ice_lite_peer, M_ICE_LITE_PEER);
    set(st.unidirectional, M_UNIDIRECTIONAL);
    set(st.initialized, M_INITIALIZED);
    set(m.dtls.enabled, M_DTLS);
    set(m.dtls.sdes, M_SDES);
    set(m.passthru, M_PASSTHRU);
    set(m.ice_controlling, M_ICE_CONTROLLING);
    set(m.ice_lite_self, M_ICE_LITE_SELF);
    f
}

/// Well-known names of the static payload types (RFC 3551), for payload
/// types whose encoding we do not know otherwise.
fn static_encoding(pt: u8) -> Option<&'static str> {
    Some(match pt {
        0 => "PCMU",
        3 => "GSM",
        4 => "G723",
        8 => "PCMA",
        9 => "G722",
        13 => "CN",
        18 => "G729",
        _ => return None,
    })
}

/// 10.5's `ssrc_table-N` of one party: per SSRC the SRTP and SRTCP indices
/// of what it sent us (`in_`) and of what we sent it (`out_`). Payload
/// types are not tracked here: 255, 10.5's "none".
fn ssrc_table(state: &SrtpState) -> Value {
    let mut ssrcs: Vec<u32> = state.received.iter().map(|e| e.ssrc).collect();
    for e in &state.sent {
        if !ssrcs.contains(&e.ssrc) {
            ssrcs.push(e.ssrc);
        }
    }
    let find = |l: &[SsrcIndex], ssrc: u32| l.iter().find(|e| e.ssrc == ssrc).copied();
    let rows = ssrcs
        .into_iter()
        .map(|ssrc| {
            let i = find(&state.received, ssrc).unwrap_or_default();
            let o = find(&state.sent, ssrc).unwrap_or_default();
            let mut row = Map::new();
            row.insert("ssrc".into(), s(ssrc));
            row.insert("in_srtp_index".into(), s(i.rtp));
            row.insert("in_srtcp_index".into(), s(i.rtcp));
            row.insert("in_payload_type".into(), s(255));
            row.insert("out_srtp_index".into(), s(o.rtp));
            row.insert("out_srtcp_index".into(), s(o.rtcp));
            row.insert("out_payload_type".into(), s(255));
            Value::Object(row)
        })
        .collect();
    Value::Array(rows)
}

/// Reads `ssrc_table-N` back (entries it cannot read are left out, as are
/// those without an index: nothing to continue).
fn get_ssrc_table(doc: &Map<String, Value>, name: &str) -> SrtpState {
    let mut state = SrtpState::default();
    let Some(Value::Array(rows)) = doc.get(name) else {
        return state;
    };
    for row in rows {
        let Value::Object(o) = row else { continue };
        let h = H {
            name: name.to_string(),
            o,
        };
        let Some(ssrc) = h.opt_num::<u32>("ssrc") else {
            continue;
        };
        let entry = |rtp: &str, rtcp: &str| SsrcIndex {
            ssrc,
            rtp: h.opt_num::<u64>(rtp).unwrap_or(0),
            rtcp: h.opt_num::<u64>(rtcp).unwrap_or(0),
        };
        let i = entry("in_srtp_index", "in_srtcp_index");
        if i.rtp != 0 || i.rtcp != 0 {
            state.received.push(i);
        }
        let o = entry("out_srtp_index", "out_srtcp_index");
        if o.rtp != 0 || o.rtcp != 0 {
            state.sent.push(o);
        }
    }
    state
}

/// The call as 10.5's document; `db` is the database it lives in
/// (`redis_hosted_db`), `ifaces` the daemon's interfaces (`Media::interface`
/// indexes them), `srtp` where the SRTP indices of a stream stand.
pub fn encode_call(
    call: &Call,
    db: u32,
    ifaces: &[Interface],
    srtp: &dyn Fn(StreamId) -> Option<SrtpState>,
) -> String {
    let mut b = Builder { doc: Map::new() };
    // Numbering: medias in the order of the monologues; per media its RTP
    // then RTCP stream; one socket and one endpoint map per stream / media.
    let mut media_ids = Vec::new(); // per monologue: its media ids
    let mut next_media = 0usize;
    let mut stream_ids: Vec<Vec<(Option<usize>, Option<usize>)>> = Vec::new();
    let mut next_stream = 0usize;
    for mono in &call.monologues {
        let mut mids = Vec::new();
        let mut sids = Vec::new();
        for m in &mono.medias {
            mids.push(next_media);
            next_media += 1;
            let rtp = m.rtp.as_ref().map(|_| {
                next_stream += 1;
                next_stream - 1
            });
            let rtcp = m.rtcp.as_ref().map(|_| {
                next_stream += 1;
                next_stream - 1
            });
            sids.push((rtp, rtcp));
        }
        media_ids.push(mids);
        stream_ids.push(sids);
    }
    let num_maps = stream_ids
        .iter()
        .flatten()
        .filter(|(r, _)| r.is_some())
        .count();

    let mut head = Map::new();
    let us = |d: Duration| d.as_micros() as u64;
    head.insert("created".into(), s(us(call.created)));
    head.insert("destroyed".into(), s(0));
    head.insert("last_signal".into(), s(call.last_signal.as_secs()));
    let tos = call
        .monologues
        .iter()
        .find_map(|m| m.tos)
        .unwrap_or_default();
    head.insert("tos".into(), s(tos));
    head.insert("deleted".into(), s(0));
    head.insert("num_sfds".into(), s(next_stream));
    head.insert("num_streams".into(), s(next_stream));
    head.insert("num_medias".into(), s(next_media));
    head.insert("num_tags".into(), s(call.monologues.len()));
    head.insert("num_maps".into(), s(num_maps));
    head.insert("ml_deleted".into(), s(0));
    head.insert("created_from".into(), s(&call.created_from));
    let from_addr = call
        .created_from
        .parse::<SocketAddr>()
        .map(|a| a.ip().to_string())
        .unwrap_or_default();
    head.insert("created_from_addr".into(), s(from_addr));
    head.insert("redis_hosted_db".into(), s(db));
    head.insert("recording_metadata".into(), s(""));
    head.insert("block_dtmf".into(), s(i32::from(call.controls.block_dtmf)));
    head.insert(
        "block_media".into(),
        s(i32::from(call.controls.block_media)),
    );
    b.doc.insert("json".into(), Value::Object(head));

    let iface_name = |i: usize| ifaces.get(i).map_or("default", |f| f.name.as_str());
    let mut map_id = 0usize;
    for (mi, mono) in call.monologues.iter().enumerate() {
        let peer = mono
            .peer
            .and_then(|p| call.monologues.get(p).map(|m| (p, m)));
        for (k, m) in mono.medias.iter().enumerate() {
            let media_id = media_ids[mi][k];
            let (rtp_id, rtcp_id) = stream_ids[mi][k];
            let peer_ids = peer.and_then(|(p, _)| stream_ids[p].get(k).copied());
            let keys = m.sdes.keys.as_ref();
            let local_uid = local_uid(ifaces, m.interface);
            for (id, stream, sibling, sink) in [
                (
                    rtp_id,
                    m.rtp.as_ref(),
                    rtcp_id,
                    peer_ids.and_then(|(r, _)| r),
                ),
                (
                    rtcp_id,
                    m.rtcp.as_ref(),
                    None,
                    peer_ids.and_then(|(r, c)| c.or(r)),
                ),
            ] {
                let (Some(id), Some(ps)) = (id, stream) else {
                    continue;
                };
                let rtcp = ps.is_rtcp;
                let mut sfd = Map::new();
                sfd.insert("pref_family".into(), s(family(ps.local.ip())));
                sfd.insert("localport".into(), s(ps.local.port()));
                sfd.insert("fd".into(), s(0));
                sfd.insert("logical_intf".into(), s(iface_name(m.interface)));
                sfd.insert("local_intf_uid".into(), s(local_uid));
                sfd.insert("stream".into(), s(id));
                if let Some(k) = keys {
                    put_crypto(&mut sfd, "", &k.rx);
                }
                b.doc.insert(format!("sfd-{id}"), Value::Object(sfd));

                let mut o = Map::new();
                o.insert("media".into(), s(media_id));
                o.insert("sfd".into(), s(id));
                o.insert("rtcp_sibling".into(), s(sibling.map_or(NONE, |x| x as u32)));
                o.insert("last_packet".into(), s(call.last_signal.as_secs()));
                let mut flags = if rtcp {
                    PS_RTCP | PS_IMPLICIT_RTCP
                } else {
                    PS_RTP
                };
                if ps.endpoint.is_some() {
                    flags |= PS_FILLED;
                }
                o.insert("ps_flags".into(), s(flags));
                o.insert("component".into(), s(if rtcp { 2 } else { 1 }));
                let ep = ps.endpoint.map_or_else(String::new, |e| e.to_string());
                o.insert("endpoint".into(), s(&ep));
                o.insert("advertised_endpoint".into(), s(&ep));
                o.insert("stats-packets".into(), s(0));
                o.insert("stats-bytes".into(), s(0));
                o.insert("stats-errors".into(), s(0));
                if let Some(k) = keys {
                    put_crypto(&mut o, "", &k.tx);
                }
                b.doc.insert(format!("stream-{id}"), Value::Object(o));
                b.doc.insert(format!("stream_sfds-{id}"), ids([id]));
                let (rtp_sinks, rtcp_sinks) = match (rtcp, sink) {
                    (false, Some(t)) => (vec![t], vec![]),
                    (true, Some(t)) => (vec![], vec![t]),
                    (_, None) => (vec![], vec![]),
                };
                b.doc.insert(format!("rtp_sinks-{id}"), ids(rtp_sinks));
                b.doc.insert(format!("rtcp_sinks-{id}"), ids(rtcp_sinks));
            }

            let mut o = Map::new();
            o.insert("tag".into(), s(mi));
            o.insert("index".into(), s(m.index));
            o.insert("type".into(), s(&m.media_type));
            o.insert("format_str".into(), s(m.formats.join(" ")));
            if let Some(mid) = &m.mid {
                o.insert("media_id".into(), s(mid));
            }
            o.insert("protocol".into(), s(&m.protocol));
            o.insert("desired_family".into(), s(family(m.advertised)));
            o.insert("logical_intf".into(), s(iface_name(m.interface)));
            o.insert("ptime".into(), s(m.ptime.unwrap_or(0)));
            o.insert("media_flags".into(), s(media_flags(mono, m)));
            let sdes_in: Vec<CryptoAttribute> = match keys {
                Some(k) => vec![k.rx.clone()],
                None => m
                    .sdes
                    .remote
                    .iter()
                    .filter_map(|t| CryptoAttribute::parse(t).ok())
                    .collect(),
            };
            put_sdes(&mut o, "sdes_in", &sdes_in);
            let sdes_out: Vec<CryptoAttribute> = match keys {
                Some(k) => vec![k.tx.clone()],
                None => m.sdes.sent.clone(),
            };
            put_sdes(&mut o, "sdes_out", &sdes_out);
            if let Some(fp) = &m.dtls.remote {
                o.insert("hash_func".into(), s(fp.hash));
                let mut d = fp.digest.clone();
                d.resize(DIGEST_BUF.max(d.len()), 0);
                o.insert("fingerprint".into(), Value::String(uri_encode(&d)));
            }
            b.doc.insert(format!("media-{media_id}"), Value::Object(o));
            b.doc.insert(
                format!("streams-{media_id}"),
                ids(rtp_id.into_iter().chain(rtcp_id)),
            );
            let pts = m
                .clock_rates
                .iter()
                .map(|&(pt, rate)| {
                    let name = m
                        .encodings
                        .iter()
                        .find(|(p, _)| *p == pt)
                        .map(|(_, n)| n.split('/').next().unwrap_or("").to_string())
                        .or_else(|| static_encoding(pt).map(str::to_string))
                        .unwrap_or_default();
                    s(format!("{pt}/{name}/{rate}///0/{}", m.ptime.unwrap_or(0)))
                })
                .collect();
            b.doc
                .insert(format!("payload_types-{media_id}"), Value::Array(pts));
            if let (Some(rtp_id), Some(rtp)) = (rtp_id, m.rtp.as_ref()) {
                let id = map_id;
                map_id += 1;
                b.doc.insert(format!("maps-{media_id}"), ids([id]));
                let mut mo = Map::new();
                mo.insert("wildcard".into(), s(0));
                mo.insert("num_ports".into(), s(super::registry::media_ports(m)));
                mo.insert("intf_preferred_family".into(), s(family(rtp.local.ip())));
                mo.insert("logical_intf".into(), s(iface_name(m.interface)));
                let ep = rtp.endpoint.map_or_else(String::new, |e| e.to_string());
                mo.insert("endpoint".into(), s(ep));
                b.doc.insert(format!("map-{id}"), Value::Object(mo));
                let mut sf = vec![s(format!("loc-{local_uid}"))];
                sf.extend(std::iter::once(rtp_id).chain(rtcp_id).map(s));
                b.doc.insert(format!("map_sfds-{id}"), Value::Array(sf));
            } else {
                b.doc.insert(format!("maps-{media_id}"), ids([]));
            }
        }

        let mut t = Map::new();
        t.insert("created".into(), s(mono.created.as_secs()));
        t.insert("deleted".into(), s(0));
        t.insert("block_dtmf".into(), s(i32::from(mono.controls.block_dtmf)));
        t.insert(
            "block_media".into(),
            s(i32::from(mono.controls.block_media)),
        );
        let lif = mono.medias.first().map_or(0, |m| m.interface);
        t.insert("logical_intf".into(), s(iface_name(lif)));
        t.insert("tag".into(), s(&mono.tag));
        if let Some(v) = &mono.via_branch {
            t.insert("via-branch".into(), s(v));
        }
        if let Some(l) = &mono.label {
            t.insert("label".into(), s(l));
        }
        b.doc.insert(format!("tag-{mi}"), Value::Object(t));
        b.doc.insert(format!("other_tags-{mi}"), ids(mono.peer));
        b.doc.insert(format!("branches-{mi}"), ids([]));
        b.doc
            .insert(format!("medias-{mi}"), ids(media_ids[mi].iter().copied()));
        let mut state = SrtpState::default();
        for st in mono.streams() {
            if let Some(x) = srtp(st.id) {
                state.merge(&x);
            }
        }
        b.doc.insert(format!("ssrc_table-{mi}"), ssrc_table(&state));
        // The dialogue peer as an offer/answer subscription, pub/sub ones
        // after it.
        let mut subs: Vec<Value> = mono
            .peer
            .into_iter()
            .map(|p| s(format!("{p}/0/1/0/0")))
            .collect();
        subs.extend(
            mono.subscriptions
                .iter()
                .map(|x| s(format!("{}/0/0/{}/0", x.from, i32::from(x.rtcp_only)))),
        );
        b.doc
            .insert(format!("subscriptions-{mi}"), Value::Array(subs));
    }
    Value::Object(b.doc).to_string()
}

/// Read access to one object of string values, with errors that name the key.
struct H<'a> {
    name: String,
    o: &'a Map<String, Value>,
}

impl<'a> H<'a> {
    fn of(doc: &'a Map<String, Value>, name: &str) -> Result<H<'a>, String> {
        match doc.get(name) {
            Some(Value::Object(o)) => Ok(H {
                name: name.to_string(),
                o,
            }),
            _ => Err(format!("missing {name}")),
        }
    }
    fn bytes(&self, k: &str) -> Option<Vec<u8>> {
        match self.o.get(k) {
            Some(Value::String(t)) => Some(uri_decode(t)),
            _ => None,
        }
    }
    fn opt(&self, k: &str) -> Option<String> {
        self.bytes(k)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
    }
    fn text(&self, k: &str) -> Result<String, String> {
        self.opt(k)
            .ok_or_else(|| format!("{}: missing {k}", self.name))
    }
    fn num<T: std::str::FromStr>(&self, k: &str) -> Result<T, String> {
        self.text(k)?
            .trim()
            .parse()
            .map_err(|_| format!("{}: malformed {k}", self.name))
    }
    fn opt_num<T: std::str::FromStr>(&self, k: &str) -> Option<T> {
        self.opt(k).and_then(|t| t.trim().parse().ok())
    }
}

/// The strings of list `name` (absent: empty).
fn list(doc: &Map<String, Value>, name: &str) -> Vec<String> {
    match doc.get(name) {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|v| v.as_str())
            .map(|t| String::from_utf8_lossy(&uri_decode(t)).into_owned())
            .collect(),
        _ => Vec::new(),
    }
}

fn id_list(doc: &Map<String, Value>, name: &str) -> Result<Vec<usize>, String> {
    list(doc, name)
        .iter()
        .map(|t| t.parse().map_err(|_| format!("{name}: malformed {t}")))
        .collect()
}

/// One SDES key from `PREFIX-...`; `None` without a suite.
fn get_crypto(h: &H<'_>, prefix: &str, tag: u32) -> Result<Option<CryptoAttribute>, String> {
    let Some(name) = h.opt(&format!("{prefix}-crypto_suite")) else {
        return Ok(None);
    };
    let suite = Suite::by_name(&name).ok_or_else(|| format!("unknown suite {name}"))?;
    let key = h
        .bytes(&format!("{prefix}-master_key"))
        .ok_or("missing master_key")?;
    let salt = h
        .bytes(&format!("{prefix}-master_salt"))
        .ok_or("missing master_salt")?;
    if key.len() < suite.key_len || salt.len() < suite.salt_len {
        return Err(format!("{}: short key or salt", h.name));
    }
    let mut key_salt = key[..suite.key_len].to_vec();
    key_salt.extend_from_slice(&salt[..suite.salt_len]);
    let mut session_params = Vec::new();
    let flag = |k: &str| h.opt_num::<i32>(&format!("{prefix}-{k}")).unwrap_or(0) != 0;
    if flag("unenc-srtp") {
        session_params.push("UNENCRYPTED_SRTP".to_string());
    }
    if flag("unenc-srtcp") {
        session_params.push("UNENCRYPTED_SRTCP".to_string());
    }
    if flag("unauth-srtp") {
        session_params.push("UNAUTHENTICATED_SRTP".to_string());
    }
    let mki = h.bytes(&format!("{prefix}-mki")).and_then(|m| {
        (!m.is_empty() && m.len() <= 8).then(|| crate::sdp::crypto::Mki {
            value: m.iter().fold(0u64, |v, b| (v << 8) | u64::from(*b)),
            length: m.len() as u8,
        })
    });
    Ok(Some(CryptoAttribute {
        tag,
        suite: suite.name.to_string(),
        key_salt,
        lifetime: None,
        mki,
        session_params,
    }))
}

fn get_sdes(h: &H<'_>, k: &str) -> Result<Vec<CryptoAttribute>, String> {
    let mut out = Vec::new();
    let mut key = k.to_string();
    while let Some(tag) = h.opt_num::<u32>(&format!("{key}_tag")) {
        match get_crypto(h, &key, tag)? {
            Some(c) => out.push(c),
            None => break,
        }
        key = format!("{k}-{}", out.len() - 1);
    }
    Ok(out)
}

/// Rebuilds a call from 10.5's document (written by 10.5 or by
/// [`encode_call`]); `ifaces` are this daemon's interfaces, which the call's
/// sockets must be on. `rng` makes the ICE credentials 10.5 does not keep.
pub fn decode_call(
    call_id: &str,
    text: &str,
    now: &Now,
    ifaces: &[Interface],
    rng: &mut dyn CryptoRng,
) -> Result<Call, String> {
    let root: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let doc = root.as_object().ok_or("not a JSON object")?;
    let head = H::of(doc, "json")?;
    let created = Duration::from_micros(head.num("created")?);
    let last_signal = Duration::from_secs(head.num("last_signal")?);
    let num_tags: usize = head.num("num_tags")?;
    let num_medias: usize = head.num("num_medias")?;
    // Each tag and media has an object of its own: larger counts are not
    // this document's (and would only allocate).
    if num_tags > doc.len() || num_medias > doc.len() {
        return Err("json: num_tags or num_medias beyond the document".into());
    }
    let tos: Option<u8> = head.opt_num("tos").filter(|t| *t != 0);

    // Local socket of each packet stream: (interface, address).
    let sfd_of = |id: usize| -> Result<(usize, SocketAddr), String> {
        let h = H::of(doc, &format!("sfd-{id}"))?;
        let fam = h.text("pref_family")?;
        let name = h.text("logical_intf")?;
        let uid: usize = h.num("local_intf_uid")?;
        let port: u16 = h.num("localport")?;
        let i = find_iface(ifaces, &name, &fam, uid)
            .ok_or_else(|| format!("no interface {name} {fam} #{uid} here"))?;
        Ok((i, SocketAddr::new(ifaces[i].local, port)))
    };

    // Which monologue each media belongs to, and its place there.
    let mut owner: Vec<Option<(usize, usize)>> = vec![None; num_medias];
    let mut monologues = Vec::with_capacity(num_tags);
    for t in 0..num_tags {
        let h = H::of(doc, &format!("tag-{t}"))?;
        let mut m = Monologue::new(&h.opt("tag").unwrap_or_default(), now);
        m.created = Duration::from_secs(h.num("created")?);
        m.via_branch = h.opt("via-branch");
        m.label = h.opt("label");
        m.tos = tos;
        m.controls.block_dtmf = h.opt_num::<i32>("block_dtmf").unwrap_or(0) != 0;
        m.controls.block_media = h.opt_num::<i32>("block_media").unwrap_or(0) != 0;
        for (place, media) in id_list(doc, &format!("medias-{t}"))?
            .into_iter()
            .enumerate()
        {
            if let Some(o) = owner.get_mut(media) {
                *o = Some((t, place));
            }
        }
        for sub in list(doc, &format!("subscriptions-{t}")) {
            let f: Vec<u32> = sub.split('/').filter_map(|x| x.parse().ok()).collect();
            let Some(&from) = f.first() else { continue };
            let from = from as usize;
            if from >= num_tags {
                return Err(format!("subscription to missing tag {from}"));
            }
            let offer_answer = f.get(2).is_none_or(|x| *x != 0);
            if offer_answer && m.peer.is_none() {
                m.peer = Some(from);
            } else {
                m.subscriptions.push(Subscription {
                    from,
                    rtcp_only: f.get(3).is_some_and(|x| *x != 0),
                });
                m.pubsub = true;
            }
        }
        if m.peer.is_none() {
            m.peer = id_list(doc, &format!("other_tags-{t}"))?
                .into_iter()
                .find(|p| *p < num_tags && *p != t);
        }
        m.answered = m.peer.is_some();
        m.srtp_resume = get_ssrc_table(doc, &format!("ssrc_table-{t}"));
        monologues.push(m);
    }

    let mut next_stream = 0u64;
    let mut medias: Vec<Vec<(usize, Media)>> = vec![Vec::new(); num_tags];
    for (id, own) in owner.iter().enumerate() {
        let Some((t, place)) = *own else {
            return Err(format!("media-{id} of no tag"));
        };
        let h = H::of(doc, &format!("media-{id}"))?;
        let flags: u32 = h.num("media_flags")?;
        let has = |bit: u32| flags & bit != 0;
        let protocol = h.text("protocol")?;
        let mut interface = None;
        let mut rtp = None;
        let mut rtcp = None;
        for sid in id_list(doc, &format!("streams-{id}"))? {
            let sh = H::of(doc, &format!("stream-{sid}"))?;
            let component: u32 = sh.num("component")?;
            let sfd: usize = sh.num("sfd")?;
            let (iface, local) = sfd_of(sfd)?;
            interface.get_or_insert(iface);
            let endpoint = sh
                .opt("endpoint")
                .and_then(|e| e.parse::<SocketAddr>().ok())
                .filter(|e| e.port() != 0 && !e.ip().is_unspecified());
            let is_rtcp = component == 2;
            let ps = PacketStream {
                id: StreamId(next_stream),
                local,
                endpoint,
                is_rtcp,
            };
            next_stream += 1;
            match (is_rtcp, &rtp, &rtcp) {
                (false, None, _) => rtp = Some(ps),
                (true, _, None) => rtcp = Some(ps),
                _ => {}
            }
        }
        let interface = match interface {
            Some(i) => i,
            None => {
                let name = h.opt("logical_intf").unwrap_or_default();
                let fam = h.opt("desired_family").unwrap_or_default();
                find_iface(ifaces, &name, &fam, 0).unwrap_or(0)
            }
        };
        let mut clock_rates = Vec::new();
        let mut encodings = Vec::new();
        for pt in list(doc, &format!("payload_types-{id}")) {
            let f: Vec<&str> = pt.split('/').collect();
            if let [num, name, rate, ..] = f.as_slice() {
                if let (Ok(num), Ok(rate)) = (num.parse::<u8>(), rate.parse::<u32>()) {
                    clock_rates.push((num, rate));
                    encodings.push((num, (*name).to_string()));
                }
            }
        }
        let formats: Vec<String> = h
            .opt("format_str")
            .unwrap_or_default()
            .split_whitespace()
            .map(str::to_string)
            .collect();
        let sdes_in = get_sdes(&h, "sdes_in")?;
        let sdes_out = get_sdes(&h, "sdes_out")?;
        let keys = match (sdes_in.first(), sdes_out.first()) {
            (Some(rx), Some(tx)) if crate::srtp::session::is_sdes_protocol(&protocol) => {
                Suite::by_name(&rx.suite).map(|suite| NegotiatedKeys {
                    suite,
                    rx: rx.clone(),
                    tx: tx.clone(),
                })
            }
            _ => None,
        };
        let stream_suite = keys.as_ref().map(|k| k.suite);
        let sdes = MediaSdes {
            remote: sdes_in.iter().map(|c| c.to_string()).collect(),
            sent: sdes_out,
            keys,
            stream_suite,
            dtls_started: false,
        };
        let remote_fp = match (h.opt("hash_func"), h.bytes("fingerprint")) {
            (Some(hash), Some(mut digest)) => {
                let hash = fingerprint_hash_name(&hash)
                    .ok_or_else(|| format!("media-{id}: hash {hash}"))?;
                let len = crate::sdp::FINGERPRINT_HASHES
                    .iter()
                    .find(|(n, _)| *n == hash)
                    .map_or(digest.len(), |(_, l)| *l);
                digest.truncate(len);
                Some(Fingerprint { hash, digest })
            }
            _ => None,
        };
        let direction = match (has(M_SEND), has(M_RECV)) {
            (true, true) => Direction::SendRecv,
            (true, false) => Direction::SendOnly,
            (false, true) => Direction::RecvOnly,
            (false, false) => Direction::Inactive,
        };
        if has(M_ASYMMETRIC) {
            monologues[t].learning = Learning {
                asymmetric: true,
                ..monologues[t].learning
            };
        }
        let is_rtp = protocol.contains("RTP");
        let media = Media {
            index: h.num("index")?,
            media_type: h.text("type")?,
            codecs: super::codecs::CodecStore::new(
                is_rtp,
                h.opt("type").as_deref() == Some("audio"),
            ),
            protocol,
            forwarded_formats: formats.clone(),
            formats,
            clock_rates,
            encodings,
            ptime: h.opt_num::<u32>("ptime").filter(|p| *p != 0),
            ptime_memory: None,
            mid: h.opt("media_id"),
            interface,
            logical_interface: None,
            advertised: ifaces.get(interface).map_or_else(
                || {
                    rtp.as_ref()
                        .map_or(IpAddr::from([0, 0, 0, 0]), |s: &PacketStream| s.local.ip())
                },
                |f| f.advertised,
            ),
            mux_offered: has(M_RTCP_MUX),
            rtcp_mux: has(M_RTCP_MUX),
            idle: [None, None],
            direction,
            ice: has(M_ICE),
            trickle_ice: has(M_TRICKLE_ICE),
            ice_ufrag: super::token::random_token(rng, 8),
            ice_pwd: super::token::random_token(rng, 26),
            ice_agent: false,
            ice_started: false,
            passthru: has(M_PASSTHRU),
            ice_controlling: has(M_ICE_CONTROLLING),
            ice_lite_self: has(M_ICE_LITE_SELF),
            ice_lite_peer: has(M_ICE_LITE_PEER),
            ice_remote_ufrag: None,
            ice_remote_pwd: None,
            ice_alternates: Vec::new(),
            extra: Vec::new(),
            extra_ports: 0,
            sdes,
            dtls: MediaDtls {
                active: has(M_SETUP_ACTIVE),
                passive: has(M_SETUP_PASSIVE),
                enabled: has(M_DTLS),
                sdes: has(M_SDES),
                remote: remote_fp,
                hash: None,
            },
            remote_candidates: Vec::new(),
            status: MediaStatus {
                initialized: has(M_INITIALIZED),
                send: has(M_SEND),
                recv: has(M_RECV),
                ice: has(M_ICE),
                ports_decided: rtp.is_some(),
                single_port: rtp.is_some() && rtcp.is_none(),
                unidirectional: has(M_UNIDIRECTIONAL),
                loop_check: false,
            },
            rtp,
            rtcp,
        };
        medias[t].push((place, media));
    }
    for (t, mut list) in medias.into_iter().enumerate() {
        list.sort_by_key(|(p, _)| *p);
        monologues[t].medias = list.into_iter().map(|(_, m)| m).collect();
    }
    Ok(Call {
        id: call_id.to_string(),
        created,
        created_mono: mono_at(now, created),
        last_signal,
        last_signal_mono: mono_at(now, last_signal),
        monologues,
        delete_at: None,
        // Ports of replaced streams are not written (README, Redis): after
        // a restore from Redis they are free.
        held_ports: Vec::new(),
        dtls: Default::default(),
        controls: Default::default(),
        created_from: head.opt("created_from").unwrap_or_default(),
        // Recording is not carried over (README, Deliberate differences).
        recording: false,
        metadata: String::new(),
        foreign: false,
        redis_db: head.opt_num("redis_hosted_db").unwrap_or(0),
    })
}

/// The instant of this process at wall-clock `unix` (clamped to what exists).
fn mono_at(now: &Now, unix: Duration) -> std::time::Instant {
    if unix >= now.unix {
        now.mono.checked_add(unix - now.unix).unwrap_or(now.mono)
    } else {
        now.mono.checked_sub(now.unix - unix).unwrap_or(now.mono)
    }
}

#[cfg(test)]
#[path = "redis_json/tests.rs"]
mod tests;
