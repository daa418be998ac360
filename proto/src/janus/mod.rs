//! 10.5's Janus interface (`POST /admin`, WebSocket `janus-protocol`):
//! the Janus admin/API requests (`ping`, `info`, `add_token`, `create`,
//! `keepalive`, `attach`, `detach`, `message`, `trickle`) and the one
//! plugin 10.5 offers, `janus.plugin.videoroom`, without any I/O.
//!
//! State: tokens, sessions (with their handles), rooms (each a call
//! named `janus ROOM`, its publishers and subscribers) and feeds (a
//! publisher's id as subscribers name it). A request goes in as bytes,
//! with the connection it came on and the time; out come the JSON texts
//! to send back on that connection, the reply last (before it, over
//! WebSocket, an early `ack` and events for other publishers, as 10.5
//! sends them). The media side (publish, subscribe, ICE candidates) is
//! the embedder's, behind `Host`: a handle's party in the room's call is
//! tagged with the handle id, as in 10.5.

pub mod json;

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use json::{id_of, str_of, Obj, Out};

/// The plugin name 10.5 answers to.
pub const VIDEOROOM: &str = "janus.plugin.videoroom";

/// A connection requests come on (HTTP or WebSocket), the embedder's id.
pub type ConnId = u64;

/// A failure of the media side: the code and reason of the reply.
pub type HostError = (u16, &'static str);

/// The `publish` of a publisher's offer: our answer and, per audio or
/// video section, its first codec.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Published {
    pub sdp: String,
    /// `("audio" | "video", encoding)`, in section order.
    pub codecs: Vec<(String, String)>,
}

/// One trickled ICE candidate (the `candidate` object of a request).
#[derive(Debug, Clone, PartialEq)]
pub struct Trickle<'a> {
    /// The candidate line, `candidate:` prefix removed (empty: the end of
    /// candidates).
    pub candidate: &'a str,
    pub ufrag: Option<&'a str>,
    pub mid: Option<&'a str>,
    /// `sdpMLineIndex`, when an integer.
    pub mline: Option<i64>,
}

/// What the videoroom needs of the call machinery; `call` is a room's
/// call id, `tag` a handle's id in decimal.
pub trait Host {
    /// A random id (10.5: 51 random bits).
    fn random(&mut self) -> u64;
    /// Creates the (empty) call of a new room; false when a call of that
    /// id exists already.
    fn create_call(&mut self, call: &str) -> bool;
    fn call_exists(&self, call: &str) -> bool;
    fn destroy_call(&mut self, call: &str);
    fn has_party(&self, call: &str, tag: &str) -> bool;
    /// Removes one party (a handle that detached).
    fn remove_party(&mut self, call: &str, tag: &str);
    /// A publisher's offer (10.5's `publish`): `Err(true)` when the SDP
    /// cannot be parsed, `Err(false)` when publishing failed.
    fn publish(&mut self, call: &str, tag: &str, sdp: &str) -> Result<Published, bool>;
    /// Subscribes `tag` to `source` with WebRTC towards the subscriber;
    /// the offer for it, or why not.
    fn subscribe(&mut self, call: &str, source: &str, tag: &str) -> Result<String, String>;
    /// A subscriber's answer: `Err(true)` when the SDP cannot be parsed.
    fn subscribe_answer(&mut self, call: &str, tag: &str, sdp: &str) -> Result<(), bool>;
    /// A trickled candidate for `tag`'s media.
    fn trickle(&mut self, call: &str, tag: &str, t: &Trickle<'_>) -> Result<(), HostError>;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    None,
    Controlling,
    Publisher,
    Subscriber,
}

#[derive(Debug)]
struct Handle {
    room: u64,
    role: Role,
}

#[derive(Debug)]
struct Session {
    /// Last request naming it (seconds, the embedder's clock).
    last_act: u64,
    /// Connections it was created on.
    conns: HashSet<ConnId>,
    handles: HashMap<u64, Handle>,
}

#[derive(Debug)]
struct Room {
    call: String,
    session: u64,
    /// The controlling handle, which created the room.
    controller: u64,
    /// Publishers in joining order: (handle, feed).
    publishers: Vec<(u64, u64)>,
    /// Subscribers: handle -> feed.
    subscribers: HashMap<u64, u64>,
}

impl Room {
    fn feed_of(&self, handle: u64) -> Option<u64> {
        self.publishers
            .iter()
            .find(|(h, _)| *h == handle)
            .map(|(_, f)| *f)
    }

    /// The publishers but `feed`, as 10.5 lists them.
    fn list(&self, feed: u64) -> Out {
        let v = self
            .publishers
            .iter()
            .filter(|(_, f)| *f != feed)
            .map(|(_, f)| Out::Obj(Obj::new().with("id", *f)))
            .collect::<Vec<_>>();
        Out::Arr(v)
    }
}

/// The Janus state of a daemon.
#[derive(Debug, Default)]
pub struct Janus {
    secret: Option<String>,
    version: String,
    tokens: HashMap<String, u64>,
    sessions: HashMap<u64, Session>,
    /// Every handle id given out (10.5 never reuses one).
    handle_ids: HashSet<u64>,
    rooms: HashMap<u64, Room>,
    /// Feed id -> publisher handle.
    feeds: HashMap<u64, u64>,
}

type Res = Result<(), (u16, &'static str)>;

/// One request as it is being answered.
struct Ctx<'a> {
    /// The reply's members before `janus`.
    body: Obj,
    /// Sent before the reply (WebSocket only).
    early: Vec<String>,
    success: &'static str,
    transaction: Option<&'a str>,
    session_id: u64,
    handle_id: u64,
}

impl<'a> Ctx<'a> {
    fn ack(&mut self, session: u64) {
        let mut o = Obj::new().with("janus", "ack");
        if let Some(t) = self.transaction {
            o.set("transaction", t);
        }
        o.set("session_id", session);
        self.early.push(o.to_json());
    }
}

fn random_id(host: &mut dyn Host) -> u64 {
    host.random() & 0x7_ffff_ffff_ffff
}

fn event(session: u64, sender: u64, data: Obj) -> String {
    Obj::new()
        .with("janus", "event")
        .with("session_id", session)
        .with("sender", sender)
        .with(
            "plugindata",
            Obj::new().with("plugin", VIDEOROOM).with("data", data),
        )
        .to_json()
}

impl Janus {
    /// `secret`: `--janus-secret`; `version`: `info`'s `version_string`.
    pub fn new(secret: Option<String>, version: &str) -> Janus {
        Janus {
            secret,
            version: version.to_owned(),
            ..Janus::default()
        }
    }

    pub fn sessions(&self) -> usize {
        self.sessions.len()
    }

    pub fn tokens(&self) -> usize {
        self.tokens.len()
    }

    /// A connection closed: sessions no longer reach it (they stay, as
    /// in 10.5).
    pub fn conn_closed(&mut self, conn: ConnId) {
        for s in self.sessions.values_mut() {
            s.conns.remove(&conn);
        }
    }

    /// The `webrtcup` event for party `tag` of call `call`, and the
    /// connections of its session to send it to; `None` when the call is
    /// no room's or the tag no handle.
    pub fn media_up(&self, call: &str, tag: &str) -> Option<(Vec<ConnId>, String)> {
        let room = self.rooms.values().find(|r| r.call == call)?;
        let handle: u64 = tag.parse().ok().filter(|h| *h != 0)?;
        let s = self.sessions.get(&room.session)?;
        let text = Obj::new()
            .with("janus", "webrtcup")
            .with("session_id", room.session)
            .with("sender", handle)
            .to_json();
        let mut conns: Vec<_> = s.conns.iter().copied().collect();
        conns.sort_unstable();
        Some((conns, text))
    }

    /// Answers one request from `conn` at `now` (seconds): the texts to
    /// send on `conn`, the reply last. Over HTTP only the reply goes out.
    pub fn process(
        &mut self,
        body: &[u8],
        conn: ConnId,
        now: u64,
        host: &mut dyn Host,
    ) -> Vec<String> {
        // An empty document parses (to nothing) for 10.5's reader.
        let blank = body.iter().all(u8::is_ascii_whitespace);
        let parsed = serde_json::from_slice::<Value>(if blank { b"null" } else { body });
        let mut cx = Ctx {
            body: Obj::new(),
            early: Vec::new(),
            success: "success",
            transaction: None,
            session_id: 0,
            handle_id: 0,
        };
        let res = match &parsed {
            Err(_) => Err((454, "Failed to parse JSON")),
            Ok(v) => self.dispatch(v, &mut cx, conn, now, host),
        };
        let mut reply = cx.body;
        match res {
            Err((code, reason)) => {
                reply.set("janus", "error");
                reply.set(
                    "error",
                    Obj::new()
                        .with("code", i64::from(code))
                        .with("reason", reason),
                );
            }
            Ok(()) => reply.set("janus", cx.success),
        }
        if let Some(t) = cx.transaction {
            reply.set("transaction", t);
        }
        if cx.session_id != 0 {
            reply.set("session_id", cx.session_id);
        }
        if cx.handle_id != 0 {
            reply.set("sender", cx.handle_id);
        }
        let mut out = cx.early;
        out.push(reply.to_json());
        out
    }

    fn dispatch<'a>(
        &mut self,
        v: &'a Value,
        cx: &mut Ctx<'a>,
        conn: ConnId,
        now: u64,
        host: &mut dyn Host,
    ) -> Res {
        if !v.is_object() {
            return Err((455, "JSON string is not an object"));
        }
        let Some(cmd) = v.get("janus") else {
            return Err((456, "JSON object does not contain 'janus' key"));
        };
        let Some(cmd) = cmd.as_str() else {
            return Err((456, "'janus' key does not contain a string"));
        };
        if v.get("transaction").is_none() {
            return Err((456, "JSON object does not contain 'transaction' key"));
        }
        cx.transaction = str_of(v, "transaction");
        let authorised = match (&self.secret, str_of(v, "admin_secret")) {
            (Some(s), Some(given)) => s == given,
            _ => false,
        };
        cx.session_id = id_of(v, "session_id");
        let session = if cx.session_id != 0 {
            self.sessions.get_mut(&cx.session_id).map(|s| {
                s.last_act = now;
            })
        } else {
            None
        };
        let session = session.map(|()| cx.session_id);
        cx.handle_id = id_of(v, "handle_id");
        match cmd {
            "add_token" => self.add_token(v, cx, authorised, now),
            "ping" => {
                cx.success = "pong";
                Ok(())
            }
            "keepalive" => {
                session.ok_or((458, "Session ID not found"))?;
                cx.success = "ack";
                Ok(())
            }
            "info" => {
                cx.success = "server_info";
                cx.body.set("name", "rtpengine Janus interface");
                cx.body.set("version_string", self.version.as_str());
                cx.body.set(
                    "plugins",
                    Obj::new().with(
                        VIDEOROOM,
                        Obj::new().with("name", "rtpengine Janus videoroom"),
                    ),
                );
                Ok(())
            }
            "create" => {
                let r = self.create(v, cx, conn, now, host);
                cx.session_id = 0;
                r
            }
            "attach" => self.attach(v, cx, session, host),
            "detach" => self.detach(cx, session, host),
            "message" => self.message(v, cx, session, host),
            "trickle" => {
                let r = self.trickle(v, session, cx.handle_id, host);
                cx.handle_id = 0;
                if r.is_ok() {
                    cx.success = "ack";
                }
                r
            }
            _ => Err((457, "Unhandled request method")),
        }
    }

    fn add_token(&mut self, v: &Value, cx: &mut Ctx<'_>, authorised: bool, now: u64) -> Res {
        if !authorised {
            return Err((403, "Janus 'admin_secret' key not provided or incorrect"));
        }
        let token = str_of(v, "token").ok_or((456, "JSON object does not contain 'token' key"))?;
        self.tokens.insert(token.to_owned(), now);
        cx.body.set(
            "data",
            Obj::new().with("plugins", vec![Out::from(VIDEOROOM)]),
        );
        Ok(())
    }

    fn create(
        &mut self,
        v: &Value,
        cx: &mut Ctx<'_>,
        conn: ConnId,
        now: u64,
        host: &mut dyn Host,
    ) -> Res {
        let mut id = id_of(v, "id");
        while id == 0 || self.sessions.contains_key(&id) {
            id = random_id(host);
        }
        self.sessions.insert(
            id,
            Session {
                last_act: now,
                conns: HashSet::from([conn]),
                handles: HashMap::new(),
            },
        );
        tracing::info!("Created new Janus session with ID {id}");
        cx.body.set("data", Obj::new().with("id", id));
        Ok(())
    }

    fn attach(
        &mut self,
        v: &Value,
        cx: &mut Ctx<'_>,
        session: Option<u64>,
        host: &mut dyn Host,
    ) -> Res {
        let session = session.ok_or((458, "Session ID not found"))?;
        let plugin = str_of(v, "plugin").ok_or((456, "No plugin given"))?;
        if plugin != VIDEOROOM {
            return Err((460, "Unsupported plugin"));
        }
        let mut id = random_id(host);
        while self.handle_ids.contains(&id) {
            id = random_id(host);
        }
        self.handle_ids.insert(id);
        if let Some(s) = self.sessions.get_mut(&session) {
            s.handles.insert(
                id,
                Handle {
                    room: 0,
                    role: Role::None,
                },
            );
        }
        cx.body.set("data", Obj::new().with("id", id));
        Ok(())
    }

    fn detach(&mut self, cx: &mut Ctx<'_>, session: Option<u64>, host: &mut dyn Host) -> Res {
        let session = session.ok_or((458, "Session ID not found"))?;
        let handle_id = cx.handle_id;
        if handle_id == 0 {
            return Err((457, "Unhandled request method"));
        }
        let s = self.sessions.get_mut(&session).expect("looked up");
        let handle = s
            .handles
            .remove(&handle_id)
            .ok_or((463, "Could not detach handle from plugin"))?;
        let room_id = handle.room;
        let Some(room) = self.rooms.get_mut(&room_id).filter(|_| room_id != 0) else {
            return Ok(());
        };
        let tag = handle_id.to_string();
        if let Some(feed) = room.feed_of(handle_id) {
            for &(other, _) in room.publishers.iter().filter(|(h, _)| *h != handle_id) {
                for what in ["unpublished", "leaving"] {
                    let data = Obj::new()
                        .with("videoroom", "event")
                        .with("room", room_id)
                        .with(what, feed);
                    cx.early.push(event(room.session, other, data));
                }
            }
            if host.call_exists(&room.call) {
                host.remove_party(&room.call, &tag);
            }
            room.publishers.retain(|(h, _)| *h != handle_id);
        }
        if room.subscribers.remove(&handle_id).is_some() && host.call_exists(&room.call) {
            host.remove_party(&room.call, &tag);
        }
        Ok(())
    }

    fn message<'a>(
        &mut self,
        v: &'a Value,
        cx: &mut Ctx<'a>,
        session: Option<u64>,
        host: &mut dyn Host,
    ) -> Res {
        let session = session.ok_or((458, "Session ID not found"))?;
        if cx.handle_id == 0 {
            return Err((457, "No plugin handle given"));
        }
        let jsep = v.get("jsep");
        let jsep_type = jsep.and_then(|j| str_of(j, "type"));
        let jsep_sdp = jsep.and_then(|j| str_of(j, "sdp"));
        let body = v
            .get("body")
            .ok_or((456, "JSON object does not contain 'body' key"))?;
        let mut data = Obj::new();
        let mut jsep_out = None;
        let res = if self
            .sessions
            .get(&session)
            .is_some_and(|s| s.handles.contains_key(&cx.handle_id))
        {
            let req = Videoroom {
                body,
                session,
                handle: cx.handle_id,
                jsep_type,
                jsep_sdp,
                room_id: id_of(body, "room"),
            };
            self.videoroom(&req, cx, &mut data, &mut jsep_out, host)
        } else {
            Err((457, "No plugin handle given or invalid handle"))
        };
        cx.body.set(
            "plugindata",
            Obj::new().with("plugin", VIDEOROOM).with("data", data),
        );
        if let Some((t, sdp)) = jsep_out.filter(|(_, s): &(&str, String)| !s.is_empty()) {
            cx.body
                .set("jsep", Obj::new().with("type", t).with("sdp", sdp));
        }
        res
    }

    fn handle_mut(&mut self, session: u64, handle: u64) -> &mut Handle {
        self.sessions
            .get_mut(&session)
            .and_then(|s| s.handles.get_mut(&handle))
            .expect("checked by message")
    }

    /// The room `id` if `session` controls it.
    fn room_of(&self, id: u64, session: u64) -> Option<&Room> {
        self.rooms
            .get(&id)
            .filter(|r| id != 0 && r.session == session)
    }

    fn videoroom(
        &mut self,
        r: &Videoroom<'_>,
        cx: &mut Ctx<'_>,
        data: &mut Obj,
        jsep: &mut Option<(&'static str, String)>,
        host: &mut dyn Host,
    ) -> Res {
        let req = str_of(r.body, "request")
            .ok_or((456, "JSON object does not contain 'message.request' key"))?;
        match req {
            "create" => self.room_create(r, data, host),
            "exists" => {
                let exists = self
                    .room_of(r.room_id, r.session)
                    .is_some_and(|room| host.call_exists(&room.call));
                data.set("videoroom", "success");
                data.set("room", r.room_id);
                data.set("exists", exists);
                Ok(())
            }
            "destroy" => {
                if self.room_of(r.room_id, r.session).is_none() {
                    return Err((426, "No such room"));
                }
                let room = self.rooms.remove(&r.room_id).expect("found");
                tracing::info!("Destroying videoroom with ID {}", r.room_id);
                if host.call_exists(&room.call) {
                    host.destroy_call(&room.call);
                }
                data.set("videoroom", "destroyed");
                data.set("room", r.room_id);
                data.set("permanent", false);
                Ok(())
            }
            "join" => {
                cx.ack(r.session);
                self.join(r, cx, data, jsep, host)
            }
            "configure" => {
                cx.ack(r.session);
                self.configure(r, cx, data, jsep, host)
            }
            "start" => {
                cx.ack(r.session);
                self.start(r, cx, data, host)
            }
            _ => Err((423, "Unknown videoroom request")),
        }
    }

    fn room_create(&mut self, r: &Videoroom<'_>, data: &mut Obj, host: &mut dyn Host) -> Res {
        let handle = self.handle_mut(r.session, r.handle);
        if !matches!(handle.role, Role::None | Role::Controlling) {
            return Err((436, "User already exists in a room"));
        }
        let id = loop {
            let id = random_id(host);
            if self.rooms.contains_key(&id) {
                continue;
            }
            let call = format!("janus {id}");
            if !host.create_call(&call) {
                tracing::warn!("Call with reserved Janus ID '{call}' already exists");
                continue;
            }
            self.rooms.insert(
                id,
                Room {
                    call,
                    session: r.session,
                    controller: r.handle,
                    publishers: Vec::new(),
                    subscribers: HashMap::new(),
                },
            );
            break id;
        };
        self.handle_mut(r.session, r.handle).role = Role::Controlling;
        tracing::info!("Created new videoroom with ID {id}");
        data.set("videoroom", "created");
        data.set("room", id);
        data.set("permanent", false);
        Ok(())
    }

    fn join(
        &mut self,
        r: &Videoroom<'_>,
        cx: &mut Ctx<'_>,
        data: &mut Obj,
        jsep: &mut Option<(&'static str, String)>,
        host: &mut dyn Host,
    ) -> Res {
        let missing = (456, "JSON object does not contain 'message.ptype' key");
        let ptype = str_of(r.body, "ptype").ok_or(missing)?;
        let is_pub = match ptype {
            "publisher" => true,
            "subscriber" | "listener" => false,
            _ => return Err((430, "Invalid 'ptype'")),
        };
        let role = self.handle_mut(r.session, r.handle).role;
        let room = self
            .rooms
            .get(&r.room_id)
            .filter(|room| r.room_id != 0 && room.session == r.session)
            .ok_or((426, "No such room"))?;
        if room.controller == r.handle {
            return Err((436, "User already exists in the room as a controller"));
        }
        if room.subscribers.contains_key(&r.handle) {
            return Err((436, "User already exists in the room as a subscriber"));
        }
        if room.feed_of(r.handle).is_some() {
            return Err((436, "User already exists in the room as a publisher"));
        }
        if role != Role::None {
            return Err((436, "User already exists in the room"));
        }
        let feed = if is_pub {
            let feed = loop {
                let f = random_id(host);
                if f != 0 && !self.feeds.contains_key(&f) {
                    break f;
                }
            };
            self.feeds.insert(feed, r.handle);
            let room = self.rooms.get_mut(&r.room_id).expect("found");
            room.publishers.push((r.handle, feed));
            feed
        } else {
            let missing = (456, "JSON object does not contain 'message.feed' key");
            let feed = id_of(r.body, "feed");
            if r.body.get("feed").is_none() || feed == 0 {
                return Err(missing);
            }
            let source = *self.feeds.get(&feed).ok_or((512, "No such feed exists"))?;
            let room = self.rooms.get_mut(&r.room_id).expect("found");
            if room.feed_of(source).is_none() {
                return Err((512, "No such feed handle exists"));
            }
            // 10.5 keeps the subscriber even when subscribing fails.
            room.subscribers.insert(r.handle, feed);
            if !host.call_exists(&room.call) {
                return Err((426, "No such room"));
            }
            let src = source.to_string();
            if !host.has_party(&room.call, &src) {
                return Err((512, "Feed not found"));
            }
            let sdp = host
                .subscribe(&room.call, &src, &r.handle.to_string())
                .map_err(|e| {
                    tracing::warn!("Janus subscription failed: {e}");
                    (512, "Subscribe error")
                })?;
            *jsep = Some(("offer", sdp));
            feed
        };
        let h = self.handle_mut(r.session, r.handle);
        h.role = if is_pub {
            Role::Publisher
        } else {
            Role::Subscriber
        };
        h.room = r.room_id;
        tracing::info!(
            "Handle {} has joined room {} as {ptype} (feed {feed})",
            r.handle,
            r.room_id
        );
        cx.success = "event";
        let room = &self.rooms[&r.room_id];
        if is_pub {
            data.set("videoroom", "joined");
            data.set("room", r.room_id);
            data.set("id", feed);
            data.set("publishers", room.list(feed));
        } else {
            data.set("videoroom", "attached");
            data.set("room", r.room_id);
            data.set("id", feed);
        }
        Ok(())
    }

    fn configure(
        &mut self,
        r: &Videoroom<'_>,
        cx: &mut Ctx<'_>,
        data: &mut Obj,
        jsep: &mut Option<(&'static str, String)>,
        host: &mut dyn Host,
    ) -> Res {
        if r.body.get("feed").is_none() {
            return Err((456, "JSON object does not contain 'message.feed' key"));
        }
        if r.room_id == 0 {
            return Err((456, "JSON object does not contain 'message.room' key"));
        }
        let h = self.handle_mut(r.session, r.handle);
        if h.room != r.room_id || h.role != Role::Publisher {
            return Err((512, "Not a publisher"));
        }
        let (Some(kind), Some(sdp)) = (r.jsep_type, r.jsep_sdp) else {
            return Err((512, "No SDP"));
        };
        if kind != "offer" {
            return Err((512, "Not an offer"));
        }
        if crate::sdp::Session::parse_body(sdp).is_err() {
            return Err((512, "Failed to parse SDP"));
        }
        let room = self
            .room_of(r.room_id, r.session)
            .ok_or((426, "No such room"))?;
        if !host.call_exists(&room.call) {
            return Err((426, "No such room"));
        }
        let published = host
            .publish(&room.call, &r.handle.to_string(), sdp)
            .map_err(|parse| {
                if parse {
                    (512, "Failed to parse SDP")
                } else {
                    (512, "Publish error")
                }
            })?;
        *jsep = Some(("answer", published.sdp));
        cx.success = "event";
        data.set("videoroom", "event");
        data.set("room", r.room_id);
        data.set("configured", "ok");
        for (media, codec) in &published.codecs {
            match media.as_str() {
                "audio" => data.set("audio_codec", codec.as_str()),
                "video" => data.set("video_codec", codec.as_str()),
                _ => {}
            }
        }
        // The other publishers learn of the new feed (10.5 sends these on
        // the connection of the request).
        for &(other, feed) in room.publishers.iter().filter(|(h, _)| *h != r.handle) {
            let data = Obj::new()
                .with("videoroom", "event")
                .with("room", r.room_id)
                .with("publishers", room.list(feed));
            cx.early.push(event(room.session, other, data));
        }
        Ok(())
    }

    fn start(
        &mut self,
        r: &Videoroom<'_>,
        cx: &mut Ctx<'_>,
        data: &mut Obj,
        host: &mut dyn Host,
    ) -> Res {
        let missing = (456, "JSON object does not contain 'message.feed' key");
        let feed = id_of(r.body, "feed");
        if feed == 0 {
            return Err(missing);
        }
        if r.room_id == 0 {
            return Err((456, "JSON object does not contain 'message.room' key"));
        }
        let h = self.handle_mut(r.session, r.handle);
        if h.room != r.room_id || h.role != Role::Subscriber {
            return Err((456, "Not a subscriber"));
        }
        let (Some(kind), Some(sdp)) = (r.jsep_type, r.jsep_sdp) else {
            return Err((456, "No SDP"));
        };
        if kind != "answer" {
            return Err((456, "Not an answer"));
        }
        if crate::sdp::Session::parse_body(sdp).is_err() {
            return Err((512, "Failed to parse SDP"));
        }
        let room = self
            .room_of(r.room_id, r.session)
            .ok_or((426, "No such room"))?;
        if !host.call_exists(&room.call) {
            return Err((426, "No such room"));
        }
        let source = *self.feeds.get(&feed).ok_or((512, "No such feed exists"))?;
        if !host.has_party(&room.call, &source.to_string()) {
            return Err((512, "Feed not found"));
        }
        let tag = r.handle.to_string();
        if !host.has_party(&room.call, &tag) {
            return Err((512, "Subscriber not found"));
        }
        host.subscribe_answer(&room.call, &tag, sdp)
            .map_err(|_| (512, "Failed to process subscription answer"))?;
        cx.success = "event";
        data.set("videoroom", "event");
        data.set("room", r.room_id);
        data.set("started", "ok");
        Ok(())
    }

    fn trickle(
        &mut self,
        v: &Value,
        session: Option<u64>,
        handle_id: u64,
        host: &mut dyn Host,
    ) -> Res {
        let session = session.ok_or((458, "Session ID not found"))?;
        if handle_id == 0 {
            return Err((457, "Unhandled request method"));
        }
        let c = v
            .get("candidate")
            .ok_or((456, "JSON object does not contain 'candidate' key"))?;
        let missing = (456, "ICE candidate string missing");
        let candidate = str_of(c, "candidate").ok_or(missing)?;
        let ufrag = str_of(c, "usernameFragment");
        let mid = str_of(c, "sdpMid");
        let mline = c.get("sdpMLineIndex").and_then(Value::as_i64);
        if mid.is_none() && mline.is_none_or(|m| m < 0) {
            return Err((456, "Neither sdpMid nor sdpMLineIndex given"));
        }
        let handle = self
            .sessions
            .get(&session)
            .and_then(|s| s.handles.get(&handle_id))
            .ok_or((456, "Unhandled request method"))?;
        let room = self
            .room_of(handle.room, session)
            .ok_or((426, "No such room"))?;
        if !host.call_exists(&room.call) {
            return Err((426, "No such room"));
        }
        let tag = handle_id.to_string();
        if !host.has_party(&room.call, &tag) {
            return Err((426, "Handle not found in room"));
        }
        let t = Trickle {
            candidate: candidate.strip_prefix("candidate:").unwrap_or(candidate),
            ufrag,
            mid,
            mline: mline.filter(|m| *m >= 0),
        };
        host.trickle(&room.call, &tag, &t)
    }
}

/// A videoroom request of a `message`.
struct Videoroom<'a> {
    body: &'a Value,
    session: u64,
    handle: u64,
    jsep_type: Option<&'a str>,
    jsep_sdp: Option<&'a str>,
    room_id: u64,
}

#[cfg(test)]
mod tests;
