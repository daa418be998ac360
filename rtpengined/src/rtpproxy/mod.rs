//! The rtpproxy control protocol (`--listen-udp`), as rtpengine 10.5 serves
//! it: `parse` reads a datagram, `reply` writes the answers, `Rtpproxy` runs
//! the commands on the daemon's call registry (the one ng drives) and keeps
//! the per-cookie reply cache; `listener` is the UDP edge.
//!
//! An update (`U`) is an offer and a lookup (`L`) an answer of one audio
//! stream at the address and port given, with the tags given; the call then
//! lives like an ng call (timeouts, `list`, ng `delete`/`query` see it).

pub mod listener;
pub mod parse;
pub mod reply;

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tracing::{info, warn};

use crate::call::model::Monologue;
use crate::call::{Deleted, Expiry, Now};
use crate::ng::bencode::Owned;
use crate::ng::cache::ReplyCache;
use crate::ng::flags::Flags;
use crate::server::handler::Handler;
use parse::{Command, Parsed, Stream, Tags};

/// The rtpproxy command runner of one daemon.
pub struct Rtpproxy {
    handler: Arc<Handler>,
    cache: Mutex<ReplyCache>,
}

impl Rtpproxy {
    pub fn new(handler: Arc<Handler>) -> Rtpproxy {
        Rtpproxy {
            handler,
            cache: Mutex::new(ReplyCache::default()),
        }
    }

    /// One datagram from `peer` in, the answer out (`None`: none is due).
    pub fn handle(&self, datagram: &[u8], peer: SocketAddr) -> Option<Vec<u8>> {
        let (cookie, command) = match parse::parse(datagram) {
            Parsed::Silent => {
                warn!(%peer, "unreadable rtpproxy command line, not answered");
                return None;
            }
            Parsed::Fallback { reply, .. } => {
                warn!(%peer, line = %String::from_utf8_lossy(datagram).trim_end(),
                    "rtpproxy command line outside the protocol");
                return Some(reply);
            }
            Parsed::Command { cookie, command } => (cookie, command),
        };
        if let Some(cached) = self.cache().get(cookie) {
            info!(%peer, "rtpproxy command repeated, resending the answer");
            return Some(cached.to_vec());
        }
        let reply = match &command {
            Command::Version => return Some(reply::version(cookie)),
            Command::Capability(date) => return Some(reply::capability(cookie, date.as_deref())),
            Command::Update(s) => self.update(cookie, s, false, peer),
            Command::Lookup(s) => self.update(cookie, s, true, peer),
            Command::Delete(t) => self.delete(cookie, t),
            Command::Query(t) => self.query(cookie, t),
        };
        self.cache().insert(Instant::now(), cookie, reply.clone());
        Some(reply)
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, ReplyCache> {
        self.cache.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `U` (an offer) or `L` (an answer).
    fn update(&self, cookie: &[u8], s: &Stream, answer: bool, peer: SocketAddr) -> Vec<u8> {
        let span = tracing::info_span!(
            "rtpproxy",
            command = if answer { "lookup" } else { "update" },
            call_id = s.call_id.as_str()
        );
        let _enter = span.enter();
        let mut reg = self.handler.registry();
        if answer && !reg.calls.contains_key(&s.call_id) {
            warn!("lookup of an unknown call");
            return reply::no_call(cookie);
        }
        let Some(endpoint) = endpoint(s) else {
            warn!(addr = %s.addr, port = %s.port, "cannot read the media address");
            return reply::error(cookie);
        };
        let index = s.index() as usize;
        if index > MAX_MEDIA {
            warn!(index, "media number too high");
            return reply::error(cookie);
        }
        let call = reg.calls.get(&s.call_id);
        // A lookup without a to-tag is the answer of the party in dialogue
        // with the from-tag, as 10.5 finds it.
        let to_tag = match (&s.to_tag, answer) {
            (None, true) => call.and_then(|c| other_party(c, &s.from_tag)),
            (t, _) => t.clone(),
        };
        // The SDP holds every media number the sender has, this one changed.
        let sender = if answer {
            to_tag.as_deref()
        } else {
            Some(s.from_tag.as_str())
        };
        let mut streams = call
            .and_then(|c| sender.and_then(|t| party(c, t)))
            .map(streams_of)
            .unwrap_or_default();
        let len = streams.len().max(index);
        streams.resize(len, None);
        streams[index - 1] = Some(endpoint);
        let f = Flags {
            call_id: Some(s.call_id.clone()),
            from_tag: Some(s.from_tag.clone()),
            to_tag,
            via_branch: s.via_branch.clone(),
            sdp: Some(reply::offer_sdp(&streams)),
            direction: s.directions(),
            ..Flags::default()
        };
        let now = Now::system();
        let out = match reg.signal(&f, answer, Some(&peer.to_string()), &now) {
            Ok(out) => out,
            Err(err) => {
                warn!(%err, "rtpproxy command failed");
                return reply::error(cookie);
            }
        };
        let closing = self.handler.relay().apply(&out.effects);
        self.handler.persist(&reg, &s.call_id, &now);
        drop(reg);
        closing.wait_blocking();
        match out
            .sdp
            .as_deref()
            .and_then(|sdp| reply::nth_media(sdp, index))
        {
            Some((port, addr)) => {
                info!(port, %addr, "rtpproxy {} processed", if answer { "lookup" } else { "update" });
                reply::media(cookie, port, addr)
            }
            None => reply::error(cookie),
        }
    }

    /// `D`: the call, or the branch the tags name.
    fn delete(&self, cookie: &[u8], t: &Tags) -> Vec<u8> {
        let span =
            tracing::info_span!("rtpproxy", command = "delete", call_id = t.call_id.as_str());
        let _enter = span.enter();
        let f = tag_flags(t);
        let now = Now::system();
        let mut reg = self.handler.registry();
        let (deleted, effects) = match reg.delete(&f, &now) {
            Ok(d) => d,
            Err(err) => {
                warn!(%err, "rtpproxy delete failed");
                return reply::error(cookie);
            }
        };
        if let Deleted::Call(c) | Deleted::Branch(c) = &deleted {
            crate::server::handler::log_final_stats(c, self.handler.relay().as_ref());
        }
        if let Deleted::Call(c) = &deleted {
            if !reg.calls.contains_key(&c.id) {
                self.handler.call_ended(&c.id, now.unix);
                let relay = self.handler.relay().as_ref();
                reg.totals.ended(c, Expiry::DeleteDelay, now.mono, relay);
            }
        }
        let closing = self.handler.relay().apply(&effects);
        self.handler.persist(&reg, &t.call_id, &now);
        drop(reg);
        closing.wait_blocking();
        if matches!(deleted, Deleted::NotFound) {
            info!("rtpproxy delete: call or tag not found");
            reply::error(cookie)
        } else {
            info!("rtpproxy delete done");
            reply::ok(cookie)
        }
    }

    /// `Q`: seconds until the silent timeout and the packets relayed.
    fn query(&self, cookie: &[u8], t: &Tags) -> Vec<u8> {
        let now = Now::system();
        let reg = self.handler.registry();
        let Some(call) = reg.calls.get(&t.call_id) else {
            info!(call_id = %t.call_id, "rtpproxy query of an unknown call");
            return reply::error(cookie);
        };
        let tag = t.to_tag.as_deref().filter(|s| !s.is_empty());
        let tag = tag.or(Some(t.from_tag.as_str())).filter(|s| !s.is_empty());
        let dict =
            crate::call::query::query_parties(call, tag, &now, self.handler.relay().as_ref());
        let silent = reg.settings.silent_timeout.as_secs() as i64;
        drop(reg);
        let packets = |proto: &str| {
            let totals = dict.get("totals").and_then(|t| t.get(proto));
            match totals.and_then(|t| t.get("packets")) {
                Some(Owned::Int(n)) => (*n).max(0) as u64,
                _ => 0,
            }
        };
        let last = last_packet(dict.get("tags"));
        let ttl = silent - (now.unix.as_secs() as i64 - last);
        reply::query(cookie, ttl, packets("RTP"), packets("RTCP"))
    }
}

/// The highest media number served (10.5 has no limit; each number is an
/// `m=` line of the SDP here).
const MAX_MEDIA: usize = 32;

/// The live party tagged `tag`.
fn party<'c>(call: &'c crate::call::model::Call, tag: &str) -> Option<&'c Monologue> {
    call.live().map(|(_, m)| m).find(|m| m.tag == tag)
}

/// The tag of the party in dialogue with `tag`, if it has one.
fn other_party(call: &crate::call::model::Call, tag: &str) -> Option<String> {
    let (_, me) = call.live().find(|(_, m)| m.tag == tag)?;
    let other = call.monologues.get(me.peer?)?;
    (!other.deleted && !other.tag.is_empty()).then(|| other.tag.clone())
}

/// Where each media number of a party sends from, as signalled (`None`
/// for a number it does not have).
fn streams_of(m: &Monologue) -> Vec<Option<SocketAddr>> {
    let mut out: Vec<Option<SocketAddr>> = Vec::new();
    for media in &m.medias {
        let i = media.index as usize;
        if i == 0 || i > MAX_MEDIA {
            continue;
        }
        if out.len() < i {
            out.resize(i, None);
        }
        out[i - 1] = media.rtp.as_ref().and_then(|r| r.endpoint);
    }
    out
}

/// The address and port of an update, as 10.5 accepts them (port 0 only
/// when written `0`).
fn endpoint(s: &Stream) -> Option<SocketAddr> {
    let ip: IpAddr = s.addr.parse().ok()?;
    let port = parse::atoi(&s.port);
    if port == 0 && s.port != "0" {
        return None;
    }
    // 10.5 keeps the number and sends to its low 16 bits.
    Some(SocketAddr::new(ip, port as u32 as u16))
}

fn tag_flags(t: &Tags) -> Flags {
    Flags {
        call_id: Some(t.call_id.clone()),
        from_tag: Some(t.from_tag.clone()),
        to_tag: t.to_tag.clone(),
        via_branch: t.via_branch.clone(),
        ..Flags::default()
    }
}

/// The latest `last packet` of the streams under a query's `tags`.
fn last_packet(v: Option<&Owned>) -> i64 {
    fn walk(v: &Owned, best: &mut i64) {
        match v {
            Owned::Dict(items) => {
                for (k, v) in items {
                    match v {
                        Owned::Int(n) if k.as_slice() == b"last packet" => *best = (*best).max(*n),
                        _ => walk(v, best),
                    }
                }
            }
            Owned::List(items) => items.iter().for_each(|i| walk(i, best)),
            _ => {}
        }
    }
    let mut best = 0;
    if let Some(v) = v {
        walk(v, &mut best);
    }
    best
}
