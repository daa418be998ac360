//! The TCP control protocol of rtpengine 10.5 (`--listen-tcp`), the one its
//! mediaproxy-era clients speak: one command line per connection, answered
//! in text, then the daemon shuts its side. `parse` reads lines and
//! commands, `reply` writes the answers, `Mediaproxy` runs the commands on
//! the daemon's call registry (the one ng drives); `listener` is the TCP
//! edge.
//!
//! A `request` is an offer and a `lookup` an answer of one audio stream
//! per address given; the call then lives like an ng call (timeouts,
//! `list`, ng `delete`/`query` see it).

pub mod listener;
pub mod parse;
pub mod reply;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use tracing::{info, warn};

use crate::call::{Deleted, Expiry, Now};
use crate::ng::flags::Flags;
use crate::server::handler::Handler;
use parse::{Command, Streams};

/// The command runner of one daemon.
pub struct Mediaproxy {
    handler: Arc<Handler>,
}

impl Mediaproxy {
    pub fn new(handler: Arc<Handler>) -> Mediaproxy {
        Mediaproxy { handler }
    }

    /// The answer to `command` from `peer` (empty: none), `clients` being
    /// the connections the listener has open (for `controls`).
    pub fn run(&self, command: &Command, peer: SocketAddr, clients: &[SocketAddr]) -> Vec<u8> {
        match command {
            Command::Version => reply::version(),
            Command::Controls => reply::controls(clients),
            Command::Quit => Vec::new(),
            Command::Status => self.status(),
            Command::Delete { call_id } => {
                self.delete(call_id);
                Vec::new()
            }
            Command::Update {
                lookup,
                call_id,
                streams,
                from_tag,
                to_tag,
            } => {
                let span = tracing::info_span!(
                    "tcp control",
                    command = if *lookup { "lookup" } else { "request" },
                    call_id = call_id.as_str()
                );
                let _enter = span.enter();
                self.update(*lookup, call_id, streams, from_tag, to_tag, peer)
                    .unwrap_or_default()
            }
        }
    }

    fn status(&self) -> Vec<u8> {
        let now = Now::system();
        let reg = self.handler.registry();
        let mut calls: Vec<_> = reg
            .calls
            .values()
            .map(|c| (c.created, c.id.clone()))
            .collect();
        drop(reg);
        // Newest first, as 10.5 keeps its list.
        calls.sort_by(|a, b| b.cmp(a));
        let listed: Vec<(String, u64)> = calls
            .into_iter()
            .map(|(created, id)| (id, now.unix.saturating_sub(created).as_secs()))
            .collect();
        // 10.5 reports the bytes relayed per second, user and kernel together,
        // from the same sample as the CLI's `list totals`.
        let rates = self.handler.statistics().rates();
        reply::status(&listed, rates.user.bytes.saturating_add(rates.kernel.bytes))
    }

    fn update(
        &self,
        lookup: bool,
        call_id: &str,
        streams: &Streams,
        from_tag: &Option<String>,
        to_tag: &Option<String>,
        peer: SocketAddr,
    ) -> Option<Vec<u8>> {
        let mut reg = self.handler.registry();
        if lookup && !reg.calls.contains_key(call_id) {
            warn!("lookup of an unknown call");
            return None;
        }
        let Some(from_tag) = from_tag else {
            warn!("No from-tag in message");
            return None;
        };
        if lookup && to_tag.is_none() {
            warn!("No to-tag in message");
            return None;
        }
        let f = Flags {
            call_id: Some(call_id.to_owned()),
            from_tag: Some(from_tag.clone()),
            to_tag: to_tag.clone(),
            sdp: Some(crate::rtpproxy::reply::offer_sdp(&streams.media)),
            ..Flags::default()
        };
        let now = Now::system();
        let out = match reg.signal(&f, lookup, Some(&peer.to_string()), &now) {
            Ok(out) => out,
            Err(err) => {
                warn!(%err, "TCP control command failed");
                return None;
            }
        };
        let closing = self.handler.relay().apply(&out.effects);
        self.handler.persist(&reg, call_id, &now);
        drop(reg);
        closing.wait_blocking();
        let sdp = out.sdp.as_deref().unwrap_or_default();
        // Each stream given, up to the first one the answer lacks.
        let media: Vec<(IpAddr, u16)> = (1..=streams.count())
            .map_while(|i| crate::rtpproxy::reply::nth_media(sdp, i).map(|(p, a)| (a, p)))
            .collect();
        info!(streams = media.len(), "returning to the SIP proxy");
        Some(reply::streams(&media))
    }

    /// `delete`: the whole call, answered with nothing either way.
    fn delete(&self, call_id: &str) {
        let span = tracing::info_span!("tcp control", command = "delete", call_id);
        let _enter = span.enter();
        let f = Flags {
            call_id: Some(call_id.to_owned()),
            ..Flags::default()
        };
        let now = Now::system();
        let mut reg = self.handler.registry();
        let (deleted, effects) = match reg.delete(&f, &now) {
            Ok(d) => d,
            Err(err) => {
                warn!(%err, "TCP control delete failed");
                return;
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
        self.handler.persist(&reg, call_id, &now);
        drop(reg);
        closing.wait_blocking();
        if matches!(deleted, Deleted::NotFound) {
            info!("TCP control delete: call not found");
        }
    }
}
