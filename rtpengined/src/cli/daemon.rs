//! The CLI's view of the running daemon: the handler's registry, relay and
//! statistics, and the settings only the CLI keeps.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::view::CallView;
use super::{Daemon, OpenFiles, Tunables, Which};
use crate::call::Now;
use crate::server::handler::Handler;
use crate::server::redis_subscribe::Keyspaces;
use crate::server::stats::Snapshot;

pub struct Live {
    handler: Arc<Handler>,
    /// The settings the call layer does not use (CPU, load, bandwidth,
    /// Redis, log levels): kept for `list`/`set`/`params`; the core log
    /// level sets the daemon's.
    kept: Mutex<Tunables>,
    /// `--subscribe-keyspace`, `ksadd`, `ksrm`.
    keyspaces: Arc<Keyspaces>,
}

impl Live {
    pub fn new(handler: Arc<Handler>, kept: Tunables) -> Live {
        Live {
            handler,
            kept: Mutex::new(kept),
            keyspaces: Keyspaces::detached(Vec::new()),
        }
    }

    /// The keyspaces `kslist` shows and `ksadd`/`ksrm` change.
    pub fn with_keyspaces(mut self, keyspaces: Arc<Keyspaces>) -> Live {
        self.keyspaces = keyspaces;
        self
    }

    /// The view of `c`: an own call's key is in our write database.
    fn view(&self, c: &crate::call::model::Call, now: &Now) -> CallView {
        let mut v = CallView::of(c, &c.created_from, now, self.handler.relay().as_ref());
        if !c.foreign {
            if let Some(db) = self.handler.redis_db() {
                v.redis_keyspace = db;
            }
        }
        v
    }
}

fn secs(d: Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
}

fn duration(s: i64) -> Duration {
    Duration::from_secs(u64::try_from(s).unwrap_or(0))
}

impl Daemon for Live {
    fn tunables(&self) -> Tunables {
        let mut t = self.kept.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let reg = self.handler.registry();
        let s = &reg.settings;
        t.max_sessions = s.max_sessions;
        t.timeout = secs(s.timeout);
        t.silent_timeout = secs(s.silent_timeout);
        t.offer_timeout = secs(s.offer_timeout);
        t.final_timeout = secs(s.final_timeout);
        t.delete_delay = secs(s.delete_delay);
        t
    }

    fn set_tunables(&self, t: &Tunables) {
        {
            let mut reg = self.handler.registry();
            let s = &mut reg.settings;
            s.max_sessions = t.max_sessions;
            s.timeout = duration(t.timeout);
            s.silent_timeout = duration(t.silent_timeout);
            s.offer_timeout = duration(t.offer_timeout);
            s.final_timeout = duration(t.final_timeout);
            // 10.5 takes a negative delete-delay as none.
            s.delete_delay = duration(t.delete_delay);
        }
        let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        // Our log level is daemon-wide: it follows the core subsystem's.
        if kept.log_levels[0] != t.log_levels[0] {
            let level = u8::try_from(t.log_levels[0].clamp(0, 7)).unwrap_or(6);
            crate::daemon::logging::set_level(level);
        }
        if let Some(w) = self.handler.redis() {
            w.set_faults(crate::server::redis_store::Faults {
                allowed_errors: t.redis_allowed_errors,
                disable_time: duration(t.redis_disable_time),
            });
        }
        *kept = t.clone();
    }

    fn calls(&self) -> Vec<CallView> {
        let now = Now::system();
        let reg = self.handler.registry();
        let mut calls: Vec<CallView> = reg.calls.values().map(|c| self.view(c, &now)).collect();
        drop(reg);
        calls.sort_by(|a, b| (a.created, &a.id).cmp(&(b.created, &b.id)));
        calls
    }

    fn call(&self, id: &str) -> Option<CallView> {
        let now = Now::system();
        let reg = self.handler.registry();
        reg.calls.get(id).map(|c| self.view(c, &now))
    }

    fn statistics(&self) -> (Snapshot, Vec<u16>) {
        let reg = self.handler.registry();
        let pool = reg.ports();
        let ports: Vec<_> = reg
            .settings
            .interfaces
            .iter()
            .map(|i| (i.clone(), pool.in_use_on(i.local)))
            .collect();
        let relay = self.handler.relay().as_ref();
        let snap = self.handler.statistics().gather(
            reg.calls.values(),
            &reg.totals,
            relay,
            &ports,
            pool.bounds(),
        );
        // The highest port a running call uses on each interface.
        let last = reg
            .settings
            .interfaces
            .iter()
            .map(|i| {
                reg.calls
                    .values()
                    .flat_map(|c| c.live().flat_map(|(_, m)| m.streams()))
                    .filter(|s| s.local.ip() == i.local)
                    .map(|s| s.local.port())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        (snap, last)
    }

    fn terminate(&self, which: Which<'_>) -> usize {
        let now = Now::system();
        let handler = &self.handler;
        let mut reg = handler.registry();
        let ids: Vec<String> = match which {
            Which::All => reg.calls.keys().cloned().collect(),
            Which::Own | Which::Foreign => {
                let foreign = which == Which::Foreign;
                reg.calls
                    .values()
                    .filter(|c| c.foreign == foreign)
                    .map(|c| c.id.clone())
                    .collect()
            }
            Which::Call(id) => vec![id.to_owned()],
        };
        let mut closing = Vec::new();
        for id in &ids {
            if let Some(effects) = reg.terminate(id, &now, handler.relay().as_ref()) {
                closing.push(handler.relay().apply(&effects));
                handler.persist(&reg, id, &now);
            }
        }
        drop(reg);
        let n = closing.len();
        for c in closing {
            c.wait_blocking();
        }
        n
    }

    fn open_files(&self) -> OpenFiles {
        let mut r = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit writes into the struct we pass.
        if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut r) } != 0 {
            return OpenFiles::Unknown;
        }
        if r.rlim_cur == libc::RLIM_INFINITY {
            OpenFiles::Unlimited
        } else {
            OpenFiles::Limit(r.rlim_cur)
        }
    }

    fn set_open_files(&self, n: u64) -> Result<(), i32> {
        let r = libc::rlimit {
            rlim_cur: n,
            rlim_max: n,
        };
        // SAFETY: setrlimit only reads the struct.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &r) } != 0 {
            return Err(std::io::Error::last_os_error().raw_os_error().unwrap_or(0));
        }
        Ok(())
    }

    fn pid(&self) -> u32 {
        std::process::id()
    }

    fn keyspaces(&self) -> Vec<u32> {
        self.keyspaces.list()
    }

    fn add_keyspace(&self, db: u32) -> bool {
        self.keyspaces.add(db)
    }

    fn remove_keyspace(&self, db: u32) -> bool {
        if !self.keyspaces.remove(db) {
            return false;
        }
        crate::server::redis_subscribe::drop_keyspace(&self.handler, Some(db));
        true
    }

    fn set_all_foreign(&self, foreign: bool) {
        let ids: Vec<String> = self.handler.registry().calls.keys().cloned().collect();
        self.handler.set_foreign(&ids, foreign);
    }
}
