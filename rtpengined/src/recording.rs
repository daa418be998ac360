//! Call recording: `--recording-method=pcap` (below) writes the files of
//! recorded calls itself; `proc` (module `proc`) hands them to a recording
//! daemon through the kernel module.
//!
//! `--recording-method=pcap`: the files of recorded calls. Signalling and the
//! relay hand this module what happened (`Recorder`); one writer thread does
//! the file I/O (`rtpengine_proto::recording` makes the bytes), so a slow or
//! full disk never holds up a call's media. A failure is logged, counted
//! (`Recorder::errors`) and ends that file's writing; nothing panics.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rtpengine_proto::recording::{self as rec, Format, LocalTime};
use tracing::{info, warn};

/// Packets waiting for the writer beyond this many are dropped (and counted).
const QUEUE: usize = 16384;

enum Job {
    Start {
        call_id: String,
        prefix: String,
    },
    Sdp {
        call_id: String,
        label: Option<String>,
        started: Duration,
        mode: &'static str,
        sdp: String,
    },
    Packet {
        call_id: String,
        ts: Duration,
        src: SocketAddr,
        dst: SocketAddr,
        data: Vec<u8>,
    },
    Finish {
        call_id: String,
        terminated: Duration,
        created: Duration,
        metadata: String,
    },
    /// Answered once every job before it is done.
    Barrier(std::sync::mpsc::Sender<()>),
}

struct Active {
    pcap: String,
    created: Duration,
    metadata: String,
}

struct Shared {
    /// Calls being recorded, by call-id.
    active: Mutex<HashMap<String, Active>>,
    errors: AtomicU64,
    dropped: AtomicU64,
}

pub mod proc;

/// The handle signalling and the relay use (cheap to clone).
#[derive(Clone)]
pub enum Recorder {
    Pcap(Pcap),
    Proc(Arc<proc::Proc>),
}

fn random_u64() -> u64 {
    use rand_core::TryRng;
    rand::rngs::SysRng.try_next_u64().unwrap_or_default()
}

impl Recorder {
    /// `--recording-method=pcap` into `dir`.
    pub fn start(dir: &Path, format: Format) -> std::io::Result<Recorder> {
        Pcap::start(dir, format).map(Recorder::Pcap)
    }

    /// `--recording-method=proc` with spool directory `dir` and the kernel
    /// table's control file `control` (`None`: no kernel table).
    pub fn start_proc(dir: &Path, control: Option<File>) -> std::io::Result<Recorder> {
        proc::Proc::start(dir, control).map(|p| Recorder::Proc(Arc::new(p)))
    }

    /// Starts recording `call` (or, asked again, says so again).
    pub fn begin(&self, call: &rtpengine_proto::call::model::Call) {
        match self {
            Recorder::Pcap(p) => {
                p.begin(&call.id, call.created, &call.metadata);
            }
            Recorder::Proc(p) => p.begin(call, || rec::file_prefix(&call.id, random_u64())),
        }
    }

    /// The capture's path while `call_id` is recorded (pcap method).
    pub fn pcap_of(&self, call_id: &str) -> Option<String> {
        match self {
            Recorder::Pcap(p) => p.pcap_of(call_id),
            Recorder::Proc(_) => None,
        }
    }

    /// The call's `metadata` changed.
    pub fn set_metadata(&self, call_id: &str, metadata: &str) {
        match self {
            Recorder::Pcap(p) => p.set_metadata(call_id, metadata),
            Recorder::Proc(p) => p.set_metadata(call_id, metadata),
        }
    }

    /// A packet of a recorded call, received on stream `stream` from `src`
    /// at our socket `dst`. Never waits.
    pub fn packet(
        &self,
        call_id: &str,
        stream: rtpengine_proto::call::StreamId,
        src: SocketAddr,
        dst: SocketAddr,
        data: Vec<u8>,
    ) {
        match self {
            Recorder::Pcap(p) => p.packet(call_id, src, dst, data),
            Recorder::Proc(p) => p.packet(stream, src, dst, &data),
        }
    }

    /// Ends the recording of `call_id` (`terminated`: when its first party
    /// ended, zero if it has not).
    pub fn finish(&self, call_id: &str, terminated: Duration) {
        match self {
            Recorder::Pcap(p) => p.finish(call_id, terminated),
            Recorder::Proc(p) => p.finish(call_id),
        }
    }

    /// Ends every recording (the daemon stops).
    pub fn finish_all(&self) {
        match self {
            Recorder::Pcap(p) => p.finish_all(),
            Recorder::Proc(p) => p.finish_all(),
        }
    }

    /// Failures so far (each also logged).
    pub fn errors(&self) -> u64 {
        match self {
            Recorder::Pcap(p) => p.errors(),
            Recorder::Proc(p) => p.errors(),
        }
    }
}

/// The pcap method's handle.
#[derive(Clone)]
pub struct Pcap {
    dir: PathBuf,
    tx: SyncSender<Job>,
    shared: Arc<Shared>,
}

impl Pcap {
    /// Makes `dir` and its `metadata`, `pcaps` and `tmp` directories as 10.5
    /// does (the spool directory 0700, the others 0777 before the umask) and
    /// starts the writer.
    pub fn start(dir: &Path, format: Format) -> std::io::Result<Pcap> {
        use std::os::unix::fs::DirBuilderExt;
        let dir = PathBuf::from(dir.to_string_lossy().trim_end_matches('/'));
        for (d, mode) in [
            (dir.clone(), 0o700),
            (dir.join("metadata"), 0o777),
            (dir.join("pcaps"), 0o777),
            (dir.join("tmp"), 0o777),
        ] {
            if !d.is_dir() {
                std::fs::DirBuilder::new().mode(mode).create(&d)?;
            }
        }
        let (tx, rx) = sync_channel(QUEUE);
        let shared = Arc::new(Shared {
            active: Mutex::new(HashMap::new()),
            errors: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
        });
        let writer = Writer {
            dir: dir.clone(),
            format,
            files: HashMap::new(),
            shared: shared.clone(),
        };
        std::thread::Builder::new()
            .name("recording".into())
            .spawn(move || writer.run(rx))?;
        Ok(Pcap { dir, tx, shared })
    }

    fn active(&self) -> std::sync::MutexGuard<'_, HashMap<String, Active>> {
        self.shared.active.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Control jobs wait for room: losing one would lose a whole file.
    fn control(&self, job: Job) {
        if self.tx.send(job).is_err() {
            self.shared.errors.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Starts recording `call_id` (created at `created`, Unix time) unless it
    /// is already recorded; returns the capture's path.
    pub fn begin(&self, call_id: &str, created: Duration, metadata: &str) -> String {
        let mut active = self.active();
        if let Some(a) = active.get(call_id) {
            return a.pcap.clone();
        }
        let prefix = rec::file_prefix(call_id, random_u64());
        let pcap = self
            .dir
            .join(rec::pcap_path(&prefix))
            .to_string_lossy()
            .into_owned();
        active.insert(
            call_id.to_owned(),
            Active {
                pcap: pcap.clone(),
                created,
                metadata: metadata.to_owned(),
            },
        );
        info!(call_id, "Turning on call recording.");
        self.control(Job::Start {
            call_id: call_id.to_owned(),
            prefix,
        });
        pcap
    }

    /// The capture's path while `call_id` is recorded.
    pub fn pcap_of(&self, call_id: &str) -> Option<String> {
        self.active().get(call_id).map(|a| a.pcap.clone())
    }

    /// The call's `metadata` changed (written when the recording ends).
    pub fn set_metadata(&self, call_id: &str, metadata: &str) {
        if let Some(a) = self.active().get_mut(call_id) {
            a.metadata = metadata.to_owned();
        }
    }

    /// An offer or answer of a recorded call: the SDP we sent on.
    pub fn sdp(
        &self,
        call_id: &str,
        label: Option<&str>,
        started: Duration,
        mode: &'static str,
        sdp: &str,
    ) {
        if !self.active().contains_key(call_id) {
            return;
        }
        self.control(Job::Sdp {
            call_id: call_id.to_owned(),
            label: label.map(str::to_owned),
            started,
            mode,
            sdp: sdp.to_owned(),
        });
    }

    /// A packet of a recorded call, from `src` to our socket `dst`. Never
    /// waits: a full queue drops it (counted).
    pub fn packet(&self, call_id: &str, src: SocketAddr, dst: SocketAddr, data: Vec<u8>) {
        let ts = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let job = Job::Packet {
            call_id: call_id.to_owned(),
            ts,
            src,
            dst,
            data,
        };
        match self.tx.try_send(job) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                if self.shared.dropped.fetch_add(1, Ordering::Relaxed) == 0 {
                    warn!("recording falls behind: packets dropped from captures");
                }
            }
            Err(TrySendError::Disconnected(_)) => {
                self.shared.errors.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Ends the recording of `call_id` (stop recording, or the call ended;
    /// `terminated`: when its first party ended, zero if it has not).
    pub fn finish(&self, call_id: &str, terminated: Duration) {
        let Some(a) = self.active().remove(call_id) else {
            return;
        };
        info!(call_id, "Turning off call recording.");
        self.control(Job::Finish {
            call_id: call_id.to_owned(),
            terminated,
            created: a.created,
            metadata: a.metadata,
        });
    }

    /// Ends every recording (the daemon stops).
    pub fn finish_all(&self) {
        let ids: Vec<String> = self.active().keys().cloned().collect();
        for id in ids {
            self.finish(&id, Duration::ZERO);
        }
        // The files are complete before the process goes.
        let (tx, rx) = std::sync::mpsc::channel();
        self.control(Job::Barrier(tx));
        let _ = rx.recv_timeout(Duration::from_secs(5));
    }

    /// File errors so far (each also logged).
    pub fn errors(&self) -> u64 {
        self.shared.errors.load(Ordering::Relaxed)
    }

    /// Packets dropped because the writer fell behind.
    pub fn dropped(&self) -> u64 {
        self.shared.dropped.load(Ordering::Relaxed)
    }
}

struct Files {
    meta: Option<File>,
    meta_tmp: PathBuf,
    meta_final: PathBuf,
    pcap: Option<BufWriter<File>>,
    /// The number the next packet gets (Wireshark counts from 1).
    next_packet: u64,
}

struct Writer {
    dir: PathBuf,
    format: Format,
    files: HashMap<String, Files>,
    shared: Arc<Shared>,
}

impl Writer {
    fn run(mut self, rx: Receiver<Job>) {
        while let Ok(job) = rx.recv() {
            self.job(job);
            while let Ok(job) = rx.try_recv() {
                self.job(job);
            }
            // Idle: what is written reaches the files (a capture can be
            // read while its call goes on, and a stop loses little).
            self.flush();
        }
    }

    fn flush(&mut self) {
        let mut failed = Vec::new();
        for files in self.files.values_mut() {
            if let Some(w) = files.pcap.as_mut() {
                if let Err(e) = w.flush() {
                    files.pcap = None;
                    failed.push((files.meta_final.clone(), e));
                }
            }
        }
        for (path, e) in failed {
            self.failed("writing the capture", &path, &e);
        }
    }

    fn failed(&self, what: &str, path: &Path, err: &std::io::Error) {
        self.shared.errors.fetch_add(1, Ordering::Relaxed);
        warn!(path = %path.display(), %err, "recording: {what} failed");
    }

    fn job(&mut self, job: Job) {
        match job {
            Job::Barrier(done) => {
                self.flush();
                let _ = done.send(());
            }
            Job::Start { call_id, prefix } => {
                let meta_tmp = self.dir.join(rec::meta_tmp_path(&prefix));
                let meta_final = self.dir.join(rec::meta_final_path(&prefix));
                let pcap_path = self.dir.join(rec::pcap_path(&prefix));
                let meta = match open_meta(&meta_tmp) {
                    Ok(f) => Some(f),
                    Err(e) => {
                        self.failed("opening the metadata file", &meta_tmp, &e);
                        None
                    }
                };
                let pcap = match File::create(&pcap_path).and_then(|f| {
                    let mut w = BufWriter::new(f);
                    w.write_all(&rec::pcap_header(self.format))?;
                    Ok(w)
                }) {
                    Ok(w) => {
                        info!(path = %pcap_path.display(), "Writing recording file");
                        Some(w)
                    }
                    Err(e) => {
                        self.failed("opening the capture", &pcap_path, &e);
                        None
                    }
                };
                let mut files = Files {
                    meta,
                    meta_tmp,
                    meta_final,
                    pcap,
                    next_packet: 1,
                };
                // 10.5 names the capture only when it could open both.
                if files.pcap.is_some() {
                    let text = rec::meta_start(&pcap_path.to_string_lossy());
                    self.meta_write(&mut files, &text);
                }
                self.files.insert(call_id, files);
            }
            Job::Sdp {
                call_id,
                label,
                started,
                mode,
                sdp,
            } => {
                let Some(mut files) = self.files.remove(&call_id) else {
                    return;
                };
                let text = rec::meta_sdp(label.as_deref(), started, mode, files.next_packet, &sdp);
                self.meta_write(&mut files, &text);
                self.files.insert(call_id, files);
            }
            Job::Packet {
                call_id,
                ts,
                src,
                dst,
                data,
            } => {
                let format = self.format;
                let Some(files) = self.files.get_mut(&call_id) else {
                    return;
                };
                files.next_packet += 1;
                let Some(w) = files.pcap.as_mut() else { return };
                if let Err(e) = w.write_all(&rec::pcap_record(format, ts, src, dst, &data)) {
                    files.pcap = None;
                    let path = files.meta_tmp.clone();
                    self.failed("writing the capture", &path, &e);
                }
            }
            Job::Finish {
                call_id,
                terminated,
                created,
                metadata,
            } => {
                let Some(mut files) = self.files.remove(&call_id) else {
                    return;
                };
                if let Some(mut w) = files.pcap.take() {
                    if let Err(e) = w.flush() {
                        let path = files.meta_final.clone();
                        self.failed("finishing the capture", &path, &e);
                    }
                }
                let end = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .unwrap_or_default();
                let text =
                    rec::meta_finish(terminated, local_time(created), local_time(end), &metadata);
                self.meta_write(&mut files, &text);
                if files.meta.take().is_some() {
                    match std::fs::rename(&files.meta_tmp, &files.meta_final) {
                        Ok(()) => info!(path = %files.meta_final.display(), "Moved metadata file"),
                        Err(e) => self.failed("moving the metadata file", &files.meta_tmp, &e),
                    }
                }
            }
        }
    }

    fn meta_write(&self, files: &mut Files, text: &str) {
        let Some(f) = files.meta.as_mut() else { return };
        if let Err(e) = f.write_all(text.as_bytes()) {
            files.meta = None;
            self.failed("writing the metadata file", &files.meta_tmp, &e);
        }
    }
}

/// 10.5 makes the metadata file readable by all, writable by owner and group.
fn open_meta(path: &Path) -> std::io::Result<File> {
    use std::os::unix::fs::PermissionsExt;
    let f = File::create(path)?;
    f.set_permissions(std::fs::Permissions::from_mode(0o664))?;
    Ok(f)
}

/// `t` (Unix time) in the local time zone.
fn local_time(t: Duration) -> LocalTime {
    let secs = t.as_secs() as libc::time_t;
    // SAFETY: localtime_r writes only into `tm`, which we own.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    unsafe { libc::localtime_r(&secs, &mut tm) };
    LocalTime {
        year: tm.tm_year + 1900,
        month: (tm.tm_mon + 1) as u8,
        day: tm.tm_mday as u8,
        hour: tm.tm_hour as u8,
        minute: tm.tm_min as u8,
        second: tm.tm_sec as u8,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while !f() {
            assert!(std::time::Instant::now() < deadline, "{what}");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    #[test]
    fn a_spool_that_went_away_is_counted_not_fatal() {
        let dir = std::env::temp_dir().join(format!("rtpengined-rec-gone-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let r = Pcap::start(&dir, Format::Raw).unwrap();
        for sub in ["metadata", "pcaps", "tmp"] {
            assert!(dir.join(sub).is_dir());
        }
        std::fs::remove_dir_all(&dir).unwrap();
        let pcap = r.begin("c", Duration::from_secs(1), "");
        assert!(
            pcap.ends_with(".pcap") && pcap.contains("/pcaps/c-"),
            "{pcap}"
        );
        r.sdp("c", None, Duration::ZERO, "offer", "v=0\r\n");
        let (a, b) = (
            "127.0.0.1:1".parse().unwrap(),
            "127.0.0.1:2".parse().unwrap(),
        );
        r.packet("c", a, b, vec![1, 2, 3]);
        r.finish("c", Duration::ZERO);
        // Both files failed to open; nothing else is tried on them.
        wait_for("errors counted", || r.errors() == 2);
        assert_eq!(r.pcap_of("c"), None);
        // The writer goes on: a later recording works once the spool is back.
        for sub in ["metadata", "pcaps", "tmp"] {
            std::fs::create_dir_all(dir.join(sub)).unwrap();
        }
        r.begin("d", Duration::ZERO, "m");
        r.finish("d", Duration::ZERO);
        wait_for("metadata moved", || {
            std::fs::read_dir(dir.join("metadata")).is_ok_and(|d| d.count() == 1)
        });
        assert_eq!(r.errors(), 2);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
