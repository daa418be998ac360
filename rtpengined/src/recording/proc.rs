//! `--recording-method=proc`: recorded calls handed to a recording daemon
//! (Debian's rtpengine-recording) through the kernel module, as rtpengine
//! 10.5 does it. Per call: ADD_CALL, the metadata file `DIR/PREFIX.meta`
//! appended chunk by chunk, an ADD_STREAM per packet stream (whose kernel
//! targets then intercept to it), PACKET for what userspace relays, and
//! DEL_CALL (the module drops the call's streams) with the metadata file
//! removed when the recording ends. What to do comes from
//! `rtpengine_proto::recording::proc`; this is the I/O.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, RwLock};

use rtpengine_core::abi::{Message, Pod, MESSAGE_SIZE};
use rtpengine_proto::call::model::Call;
use rtpengine_proto::call::{Effect, StreamId};
use rtpengine_proto::recording::proc::{self as rec, Session, Step};
use tracing::{debug, error, info, warn};

struct Recorded {
    prefix: String,
    meta: PathBuf,
    call_idx: u32,
    session: Session,
    metadata: String,
}

pub struct Proc {
    dir: PathBuf,
    /// The table's control file; `None` when the kernel table is not open.
    control: Option<File>,
    calls: Mutex<HashMap<String, Recorded>>,
    /// Recording stream of each stream, for PACKET from the relay.
    intercepts: RwLock<HashMap<StreamId, u32>>,
    errors: AtomicU64,
}

impl Proc {
    /// Makes the spool directory if missing (0700, as 10.5; nothing below
    /// it); `control` is the kernel table's control file (`None` without a
    /// kernel table).
    pub fn start(dir: &Path, control: Option<File>) -> std::io::Result<Proc> {
        use std::os::unix::fs::DirBuilderExt;
        let dir = PathBuf::from(dir.to_string_lossy().trim_end_matches('/'));
        if !dir.is_dir() {
            std::fs::DirBuilder::new().mode(0o700).create(&dir)?;
        }
        Ok(Proc {
            dir,
            control,
            calls: Mutex::new(HashMap::new()),
            intercepts: RwLock::new(HashMap::new()),
            errors: AtomicU64::new(0),
        })
    }

    fn calls(&self) -> std::sync::MutexGuard<'_, HashMap<String, Recorded>> {
        self.calls.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A command the module answers by filling in the message (read()).
    fn exchange(&self, mut m: Message) -> std::io::Result<Message> {
        let f = self.control.as_ref().ok_or(std::io::ErrorKind::NotFound)?;
        let n = (&*f).read(m.as_bytes_mut())?;
        if n != MESSAGE_SIZE {
            return Err(std::io::Error::other(format!("control read returned {n}")));
        }
        Ok(m)
    }

    fn send(&self, bytes: &[u8]) -> std::io::Result<()> {
        let f = self.control.as_ref().ok_or(std::io::ErrorKind::NotFound)?;
        let n = (&*f).write(bytes)?;
        if n != bytes.len() {
            return Err(std::io::Error::other(format!("control write returned {n}")));
        }
        Ok(())
    }

    /// Appends one chunk, opening and closing the file (the recording
    /// daemon reads on close).
    fn chunk(&self, meta: &Path, label: &str, data: &[u8]) {
        use std::os::unix::fs::OpenOptionsExt;
        let r = OpenOptions::new()
            .append(true)
            .create(true)
            .mode(0o666)
            .open(meta)
            .and_then(|mut f| f.write_all(&rec::meta_chunk(label, data)));
        if let Err(e) = r {
            self.errors.fetch_add(1, Ordering::Relaxed);
            error!(path = %meta.display(), %e, "Failed to write recording metadata file");
        }
    }

    /// Executes `steps` for call `r`.
    fn run(&self, r: &mut Recorded, steps: Vec<Step>) {
        for step in steps {
            match step {
                Step::Chunk(label, data) => self.chunk(&r.meta, &label, &data),
                Step::AddStream { id, uid, name } => {
                    match self.exchange(rec::add_stream(r.call_idx, &name)) {
                        Ok(m) => {
                            let idx = m.stream().stream_idx;
                            debug!(idx, "kernel stream idx");
                            r.session.added(id, idx);
                            self.intercepts
                                .write()
                                .unwrap_or_else(|e| e.into_inner())
                                .insert(id, idx);
                            let Step::Chunk(l, d) = Session::interface(uid, &name) else {
                                continue;
                            };
                            self.chunk(&r.meta, &l, &d);
                        }
                        Err(e) => {
                            self.errors.fetch_add(1, Ordering::Relaxed);
                            error!(%e, "Failed to add stream to kernel recording interface");
                        }
                    }
                }
            }
        }
    }

    /// Starts recording `call` (10.5's recording_start); asked again, it
    /// writes the flags again.
    pub fn begin(&self, call: &Call, prefix: impl FnOnce() -> String) {
        let mut calls = self.calls();
        if let Some(r) = calls.get_mut(&call.id) {
            let steps = r.session.flags();
            self.run(r, steps);
            return;
        }
        if self.control.is_none() {
            warn!("Call recording through /proc interface requested, but kernel table not open");
            return;
        }
        info!(call_id = %call.id, "Turning on call recording.");
        let prefix = prefix();
        let call_idx = match self.exchange(rec::add_call(&prefix)) {
            Ok(m) => m.call().call_idx,
            Err(e) => {
                self.errors.fetch_add(1, Ordering::Relaxed);
                error!(%e, "Failed to add call to kernel recording interface");
                return;
            }
        };
        debug!(call_idx, "kernel call idx");
        let meta = self.dir.join(rec::meta_path(&prefix));
        // Start afresh, as 10.5 does.
        let _ = std::fs::remove_file(&meta);
        let mut r = Recorded {
            prefix,
            meta,
            call_idx,
            session: Session::default(),
            metadata: call.metadata.clone(),
        };
        let mut steps = Session::start(&call.id, &r.prefix, &call.metadata);
        steps.extend(r.session.sync(call));
        self.run(&mut r, steps);
        let flags = r.session.flags();
        self.run(&mut r, flags);
        calls.insert(call.id.clone(), r);
    }

    /// Whether `call_id` is being recorded.
    pub fn is_recorded(&self, call_id: &str) -> bool {
        self.calls().contains_key(call_id)
    }

    /// `start recording` with `output-destination`: its chunk, for a call
    /// already recorded (10.5 writes it before it starts a recording, so the
    /// first `start recording`'s is lost).
    pub fn output_destination(&self, call_id: &str, dest: &str) {
        if let Some(r) = self.calls().get(call_id) {
            self.chunk(&r.meta, "OUTPUT_DESTINATION", dest.as_bytes());
        }
    }

    /// The call's metadata changed: a METADATA chunk (10.5's
    /// update_metadata_call).
    pub fn set_metadata(&self, call_id: &str, metadata: &str) {
        let mut calls = self.calls();
        let Some(r) = calls.get_mut(call_id) else {
            return;
        };
        if r.metadata != metadata {
            r.metadata = metadata.to_owned();
            self.chunk(&r.meta, "METADATA", metadata.as_bytes());
        }
    }

    /// Brings the recordings of the calls `effects` touch up to date (new
    /// parties, medias, streams) and points their streams at their kernel
    /// recording streams. Recording through the kernel needs no userspace
    /// relaying, so nothing stays there for it.
    pub fn patch(&self, calls_now: &HashMap<String, Call>, effects: &mut [Effect]) {
        let mut calls = self.calls();
        let mut synced: Vec<&str> = Vec::new();
        for e in effects.iter() {
            let Effect::Relay(cfg) = e else { continue };
            if synced.contains(&cfg.call_id.as_str()) {
                continue;
            }
            synced.push(&cfg.call_id);
            if let (Some(r), Some(call)) =
                (calls.get_mut(&cfg.call_id), calls_now.get(&cfg.call_id))
            {
                let steps = r.session.sync(call);
                self.run(r, steps);
            }
        }
        for e in effects.iter_mut() {
            let Effect::Relay(cfg) = e else { continue };
            cfg.control.record = false;
            cfg.control.intercept = calls
                .get(&cfg.call_id)
                .and_then(|r| r.session.intercept(cfg.id));
        }
    }

    /// The SDP of an offer or answer of a recorded call, as received
    /// (`before`) and as sent on (`after`), from party `tag`.
    pub fn sdp(&self, call: &Call, tag: &str, mode: &str, before: Option<&str>, after: &str) {
        let mut calls = self.calls();
        let Some(r) = calls.get_mut(&call.id) else {
            return;
        };
        let mut steps = Vec::new();
        if let Some(b) = before {
            steps.push(r.session.sdp(call, tag, false, mode, b));
        }
        steps.push(r.session.sdp(call, tag, true, mode, after));
        self.run(r, steps);
    }

    /// A packet userspace relayed on stream `stream` of a recorded call.
    pub fn packet(&self, stream: StreamId, src: SocketAddr, dst: SocketAddr, data: &[u8]) {
        let Some(idx) = self
            .intercepts
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&stream)
            .copied()
        else {
            return;
        };
        if let Err(e) = self.send(&rec::packet(idx, src, dst, data)) {
            if self.errors.fetch_add(1, Ordering::Relaxed) == 0 {
                error!(%e, "Failed to submit packet to kernel intercepted stream");
            }
        }
    }

    /// Ends the recording of `call_id`: DEL_CALL, and the metadata file goes
    /// (the recording daemon then finishes its output).
    pub fn finish(&self, call_id: &str) {
        let Some(r) = self.calls().remove(call_id) else {
            return;
        };
        info!(call_id, "Turning off call recording.");
        {
            let mut i = self.intercepts.write().unwrap_or_else(|e| e.into_inner());
            for (id, _) in r.session.kernel_streams() {
                i.remove(&id);
            }
        }
        if let Err(e) = self.send(rec::del_call(r.call_idx).as_bytes()) {
            self.errors.fetch_add(1, Ordering::Relaxed);
            warn!(%e, "Failed to delete call from kernel recording interface");
        }
        let _ = std::fs::remove_file(&r.meta);
    }

    /// Ends every recording (daemon shutdown).
    pub fn finish_all(&self) {
        let ids: Vec<String> = self.calls().keys().cloned().collect();
        for id in ids {
            self.finish(&id);
        }
    }

    /// Failures so far (each also logged).
    pub fn errors(&self) -> u64 {
        self.errors.load(Ordering::Relaxed)
    }
}
