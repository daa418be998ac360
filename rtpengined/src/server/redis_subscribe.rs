//! `--subscribe-keyspace`: the standby side of an active/standby pair, as in
//! rtpengine 10.5. We subscribe to Redis keyspace notifications of the
//! given databases (on the `--redis` server); a call key set there is read
//! and kept as a foreign call (in place of an earlier version of it), a key
//! deleted drops the foreign call. Calls already in those databases are
//! read at start. The CLI's `ksadd`/`ksrm` change the databases at run time.
//!
//! Redis sends keyspace notifications only when its `notify-keyspace-events`
//! asks for them (`K$g` at least); the operator configures that.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use redis::aio::ConnectionManager;
use tokio::sync::mpsc;
use tracing::{debug, info, warn};

use crate::call::Now;
use crate::config::redis::RedisTarget;
use crate::random::DaemonRng;
use crate::server::handler::Handler;
use crate::server::redis_store;

enum Change {
    Subscribe(u32),
    Unsubscribe(u32),
}

/// The subscribed databases (10.5's `redis_subscribed_keyspaces`), in the
/// order they were added.
pub struct Keyspaces {
    list: Mutex<Vec<u32>>,
    /// To the subscriber task; `None` without `--redis` (the list is kept,
    /// nothing is subscribed).
    changes: Option<mpsc::UnboundedSender<Change>>,
}

impl Keyspaces {
    /// Keyspaces without a subscriber (no `--redis`).
    pub fn detached(initial: Vec<u32>) -> Arc<Keyspaces> {
        Arc::new(Keyspaces {
            list: Mutex::new(dedup(initial)),
            changes: None,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<u32>> {
        self.list.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn list(&self) -> Vec<u32> {
        self.lock().clone()
    }

    /// Subscribes to `db`; false if it already is.
    pub fn add(&self, db: u32) -> bool {
        let mut list = self.lock();
        if list.contains(&db) {
            return false;
        }
        list.push(db);
        if let Some(tx) = &self.changes {
            let _ = tx.send(Change::Subscribe(db));
        }
        true
    }

    /// Unsubscribes from `db`; false if it was not.
    pub fn remove(&self, db: u32) -> bool {
        let mut list = self.lock();
        let Some(i) = list.iter().position(|d| *d == db) else {
            return false;
        };
        list.remove(i);
        if let Some(tx) = &self.changes {
            let _ = tx.send(Change::Unsubscribe(db));
        }
        true
    }
}

fn dedup(dbs: Vec<u32>) -> Vec<u32> {
    let mut out = Vec::new();
    for d in dbs {
        if !out.contains(&d) {
            out.push(d);
        }
    }
    out
}

fn pattern(db: u32) -> String {
    format!("__keyspace@{db}__:*")
}

/// `__keyspace@<db>__:<key>` → `(db, key)`.
fn parse_channel(channel: &str) -> Option<(u32, &str)> {
    let rest = channel.strip_prefix("__keyspace@")?;
    let (db, key) = rest.split_once("__:")?;
    Some((db.parse().ok()?, key))
}

/// Starts subscribing to `initial` on `target`'s server: the subscription
/// is in place when this returns (or the server could not be reached; it
/// is retried every second). The calls already in those databases are then
/// read as foreign calls.
pub async fn start(
    handler: Arc<Handler>,
    target: RedisTarget,
    initial: Vec<u32>,
) -> Arc<Keyspaces> {
    let (tx, rx) = mpsc::unbounded_channel();
    let keyspaces = Arc::new(Keyspaces {
        list: Mutex::new(dedup(initial)),
        changes: Some(tx),
    });
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
    let mut sub = Subscriber {
        handler: handler.clone(),
        target: target.clone(),
        keyspaces: keyspaces.clone(),
        data: HashMap::new(),
        rng: DaemonRng::from_os().ok(),
    };
    tokio::spawn(async move { sub.run(rx, Some(ready_tx)).await });
    let _ = ready_rx.await;
    for db in keyspaces.list() {
        load_keyspace(&handler, &target, db).await;
    }
    keyspaces
}

/// Reads every call of database `db` as a foreign call.
async fn load_keyspace(handler: &Handler, target: &RedisTarget, db: u32) {
    let t = RedisTarget {
        db,
        ..target.clone()
    };
    let docs = match redis_store::load(&t, redis_store::Role::Any).await {
        Ok(d) => d,
        Err(e) => {
            warn!(db, %e, "redis: cannot read the calls of a subscribed keyspace");
            return;
        }
    };
    let Ok(mut rng) = DaemonRng::from_os() else {
        return;
    };
    let mut n = 0;
    for (id, doc) in docs {
        if adopt(handler, &id, &doc, db, &mut rng) {
            n += 1;
        }
    }
    if n > 0 {
        info!(db, calls = n, "foreign calls read from Redis");
    }
}

/// Keeps one call document of keyspace `db` as a foreign call.
fn adopt(handler: &Handler, id: &str, doc: &str, db: u32, rng: &mut DaemonRng) -> bool {
    let now = Now::system();
    let mut reg = handler.registry();
    let decoded =
        crate::call::redis_json::decode_call(id, doc, &now, &reg.settings.interfaces, rng);
    let result = decoded.and_then(|call| reg.adopt_foreign(call, db, &now));
    match result {
        Ok(effects) => {
            let closing = handler.relay().apply(&effects);
            drop(reg);
            closing.wait_blocking();
            debug!(call_id = %id, db, "foreign call kept");
            true
        }
        Err(why) => {
            warn!(call_id = %id, db, %why, "foreign call from Redis not kept");
            false
        }
    }
}

/// Drops the foreign calls of keyspace `db` (`ksrm`, as 10.5: counted as
/// terminated by the operator).
pub fn drop_keyspace(handler: &Handler, db: Option<u32>) -> usize {
    let now = Now::system();
    let mut reg = handler.registry();
    let ids: Vec<String> = reg
        .calls
        .values()
        .filter(|c| c.foreign && db.is_none_or(|d| c.redis_db == d))
        .map(|c| c.id.clone())
        .collect();
    let mut closing = Vec::new();
    for id in &ids {
        if let Some(effects) = reg.terminate(id, &now, handler.relay().as_ref()) {
            closing.push(handler.relay().apply(&effects));
        }
    }
    drop(reg);
    for c in closing {
        c.wait_blocking();
    }
    ids.len()
}

struct Subscriber {
    handler: Arc<Handler>,
    target: RedisTarget,
    keyspaces: Arc<Keyspaces>,
    /// One connection per database calls are read from.
    data: HashMap<u32, ConnectionManager>,
    rng: Option<DaemonRng>,
}

impl Subscriber {
    async fn run(
        &mut self,
        mut changes: mpsc::UnboundedReceiver<Change>,
        mut ready: Option<tokio::sync::oneshot::Sender<()>>,
    ) {
        let mut down_logged = false;
        loop {
            match self.session(&mut changes, &mut ready).await {
                Ok(()) => return,
                Err(e) => {
                    if !down_logged {
                        warn!(addr = %self.target.addr, %e, "redis: keyspace notifications lost; reconnecting");
                        down_logged = true;
                    }
                }
            }
            if let Some(r) = ready.take() {
                let _ = r.send(());
            }
            // Changes meanwhile are in the list, subscribed on reconnect.
            while changes.try_recv().is_ok() {}
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }

    /// One connection's life: `Ok` only when the daemon drops the
    /// keyspaces (nothing more to do).
    async fn session(
        &mut self,
        changes: &mut mpsc::UnboundedReceiver<Change>,
        ready: &mut Option<tokio::sync::oneshot::Sender<()>>,
    ) -> Result<(), String> {
        let client = redis_store::client(&self.target).map_err(|e| e.to_string())?;
        let pubsub =
            tokio::time::timeout(self.target.connect_timeout * 2, client.get_async_pubsub())
                .await
                .map_err(|_| "timed out".to_string())?
                .map_err(|e| e.to_string())?;
        let (mut sink, mut stream) = pubsub.split();
        for db in self.keyspaces.list() {
            sink.psubscribe(pattern(db))
                .await
                .map_err(|e| e.to_string())?;
        }
        info!(addr = %self.target.addr, keyspaces = ?self.keyspaces.list(), "redis: subscribed to keyspace notifications");
        if let Some(r) = ready.take() {
            let _ = r.send(());
        }
        loop {
            tokio::select! {
                msg = stream.next() => {
                    let Some(msg) = msg else {
                        return Err("connection closed".into());
                    };
                    let channel = msg.get_channel_name().to_owned();
                    let event: String = msg.get_payload().unwrap_or_default();
                    self.notified(&channel, &event).await;
                }
                change = changes.recv() => {
                    let done = match change {
                        None => return Ok(()),
                        Some(Change::Subscribe(db)) => sink.psubscribe(pattern(db)).await,
                        Some(Change::Unsubscribe(db)) => sink.punsubscribe(pattern(db)).await,
                    };
                    done.map_err(|e| e.to_string())?;
                }
            }
        }
    }

    /// One notification: `set` (re)reads the call, `del` drops it.
    async fn notified(&mut self, channel: &str, event: &str) {
        let Some((db, key)) = parse_channel(channel) else {
            return;
        };
        debug!(db, key, event, "redis: keyspace notification");
        // 10.5 compares the first three letters only.
        if event.starts_with("set") {
            let own = self
                .handler
                .registry()
                .calls
                .get(key)
                .is_some_and(|c| !c.foreign);
            if own {
                warn!(call_id = %key, "Redis-Notifier: Ignoring SET received for OWN call");
                return;
            }
            let Some(doc) = self.get(db, key).await else {
                return;
            };
            let Some(rng) = self.rng.as_mut() else { return };
            adopt(&self.handler, key, &doc, db, rng);
        } else if event.starts_with("del") {
            let closing = {
                let mut reg = self.handler.registry();
                match reg.calls.get(key).map(|c| c.foreign) {
                    None => {
                        info!(call_id = %key, "Redis-Notifier: DEL did not find call");
                        None
                    }
                    Some(false) => {
                        warn!(call_id = %key, "Redis-Notifier: Ignoring DEL received for an OWN call");
                        None
                    }
                    Some(true) => reg
                        .drop_foreign(key)
                        .map(|effects| self.handler.relay().apply(&effects)),
                }
            };
            if let Some(closing) = closing {
                closing.wait().await;
                info!(call_id = %key, db, "foreign call dropped: its key was deleted");
            }
        }
    }

    /// The document of `key` in database `db`.
    async fn get(&mut self, db: u32, key: &str) -> Option<String> {
        if !self.data.contains_key(&db) {
            let t = RedisTarget {
                db,
                ..self.target.clone()
            };
            match redis_store::connect(&t).await {
                Ok(c) => {
                    self.data.insert(db, c);
                }
                Err(e) => {
                    warn!(db, %e, "redis: cannot read a foreign call");
                    return None;
                }
            }
        }
        let con = self.data.get_mut(&db)?;
        let got: redis::RedisResult<Option<String>> =
            redis::cmd("GET").arg(key).query_async(con).await;
        match got {
            Ok(doc) => doc,
            Err(e) => {
                warn!(db, call_id = %key, %e, "redis: cannot read a foreign call");
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channels_name_the_database_and_the_key() {
        assert_eq!(parse_channel("__keyspace@3__:abc"), Some((3, "abc")));
        assert_eq!(parse_channel("__keyspace@12__:a__:b"), Some((12, "a__:b")));
        assert_eq!(parse_channel("__keyevent@3__:set"), None);
        assert_eq!(parse_channel("__keyspace@x__:abc"), None);
    }

    #[test]
    fn keyspaces_are_added_and_removed_once() {
        let k = Keyspaces::detached(vec![3, 3, 4]);
        assert_eq!(k.list(), vec![3, 4]);
        assert!(!k.add(4));
        assert!(k.add(7));
        assert!(k.remove(3));
        assert!(!k.remove(3));
        assert_eq!(k.list(), vec![4, 7]);
    }
}
