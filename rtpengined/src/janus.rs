//! The daemon side of 10.5's Janus interface: `rtpengine_proto::janus`'s
//! state behind a lock, its videoroom acting on calls through the ng
//! handler (`publish`, `subscribe request`, `subscribe answer` with the
//! flags 10.5's Janus code sets) and the registry.

use std::sync::{Arc, Mutex};

use rand_core::Rng;
use rtpengine_proto::janus::{ConnId, Host, HostError, Janus, Published, Trickle};

use crate::call::Now;
use crate::ng::bencode::Owned;
use crate::random::DaemonRng;
use crate::server::handler::Handler;

/// The daemon's Janus state (`--janus-secret`).
pub struct JanusService {
    state: Mutex<Janus>,
    rng: Mutex<DaemonRng>,
    handler: Arc<Handler>,
}

impl JanusService {
    pub fn new(handler: Arc<Handler>, secret: Option<String>) -> JanusService {
        JanusService {
            state: Mutex::new(Janus::new(secret, env!("CARGO_PKG_VERSION"))),
            rng: Mutex::new(DaemonRng::default()),
            handler,
        }
    }

    /// One request from connection `conn`: the texts to send back, the
    /// reply last.
    pub fn process(&self, body: &[u8], conn: ConnId) -> Vec<String> {
        let now = Now::system();
        let mut host = LiveHost {
            handler: &self.handler,
            rng: &self.rng,
            now,
        };
        let secs = host.now.unix.as_secs();
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.process(body, conn, secs, &mut host)
    }

    /// Connection `conn` closed.
    pub fn closed(&self, conn: ConnId) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.conn_closed(conn);
    }
}

struct LiveHost<'a> {
    handler: &'a Handler,
    rng: &'a Mutex<DaemonRng>,
    now: Now,
}

impl LiveHost<'_> {
    fn ng(&self, req: Owned) -> Result<Owned, String> {
        self.handler.run_internal(&req)
    }
}

fn sdp_of(reply: &Owned) -> String {
    match reply.get("sdp") {
        Some(Owned::Bytes(b)) => String::from_utf8_lossy(b).into_owned(),
        _ => String::new(),
    }
}

/// An ng error that is the SDP's.
fn is_parse_error(e: &str) -> bool {
    e.contains("parse SDP") || e.contains("SDP")
}

impl Host for LiveHost<'_> {
    fn random(&mut self) -> u64 {
        self.rng
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .next_u64()
    }

    fn create_call(&mut self, call: &str) -> bool {
        let mut reg = self.handler.registry();
        let made = reg.create_empty_call(call, "janus", &self.now);
        if made {
            self.handler.apply_locked(reg, call, &[], &self.now);
        }
        made
    }

    fn call_exists(&self, call: &str) -> bool {
        self.handler.registry().calls.contains_key(call)
    }

    fn destroy_call(&mut self, call: &str) {
        let mut reg = self.handler.registry();
        let relay = self.handler.relay().clone();
        if let Some(effects) = reg.terminate(call, &self.now, relay.as_ref()) {
            self.handler.call_ended(call, self.now.unix);
            self.handler.apply_locked(reg, call, &effects, &self.now);
        }
    }

    fn has_party(&self, call: &str, tag: &str) -> bool {
        let reg = self.handler.registry();
        reg.calls
            .get(call)
            .and_then(|c| c.find_tag(tag).map(|i| !c.monologues[i].deleted))
            .unwrap_or(false)
    }

    fn remove_party(&mut self, call: &str, tag: &str) {
        let mut reg = self.handler.registry();
        let effects = reg.remove_party(call, tag);
        self.handler.apply_locked(reg, call, &effects, &self.now);
    }

    fn publish(&mut self, call: &str, tag: &str, sdp: &str) -> Result<Published, bool> {
        let req = Owned::dict()
            .with("command", "publish")
            .with("call-id", call)
            .with("from-tag", tag)
            .with("sdp", sdp);
        let reply = self.ng(req).map_err(|e| {
            tracing::warn!(%e, "Janus publish failed");
            is_parse_error(&e)
        })?;
        let reg = self.handler.registry();
        let codecs = reg
            .calls
            .get(call)
            .and_then(|c| c.find_tag(tag).map(|i| &c.monologues[i]))
            .map(|m| {
                m.medias
                    .iter()
                    .filter_map(|media| {
                        let first = media.codecs.pts.first()?;
                        Some((media.media_type.clone(), first.encoding.clone()))
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(Published {
            sdp: sdp_of(&reply),
            codecs,
        })
    }

    fn subscribe(&mut self, call: &str, source: &str, tag: &str) -> Result<String, String> {
        // 10.5's WebRTC flags for a subscriber.
        let flags: Vec<Owned> = [
            "trickle-ICE",
            "generate-mid",
            "no-rtcp-attribute",
            "SDES-off",
            "RTCP-mirror",
        ]
        .into_iter()
        .map(Owned::from)
        .collect();
        let req = Owned::dict()
            .with("command", "subscribe request")
            .with("call-id", call)
            .with("from-tag", source)
            .with("to-tag", tag)
            .with("transport-protocol", "UDP/TLS/RTP/SAVPF")
            .with("ICE", "force")
            .with(
                "rtcp-mux",
                vec![Owned::from("offer"), Owned::from("require")],
            )
            .with("flags", flags);
        self.ng(req).map(|r| sdp_of(&r))
    }

    fn subscribe_answer(&mut self, call: &str, tag: &str, sdp: &str) -> Result<(), bool> {
        let req = Owned::dict()
            .with("command", "subscribe answer")
            .with("call-id", call)
            .with("to-tag", tag)
            .with("sdp", sdp);
        self.ng(req).map(|_| ()).map_err(|e| {
            tracing::warn!(%e, "Janus subscription answer failed");
            is_parse_error(&e)
        })
    }

    fn trickle(&mut self, call: &str, tag: &str, t: &Trickle<'_>) -> Result<(), HostError> {
        let mut reg = self.handler.registry();
        let effects = reg.trickle(call, tag, t.mid, t.mline, t.candidate, t.ufrag)?;
        self.handler.apply_locked(reg, call, &effects, &self.now);
        Ok(())
    }
}
