//! `--state-dir`: one file per call, rewritten after every signalling change, so
//! that a restarted daemon (crash, SIGKILL, upgrade) takes its calls back.
//!
//! Files are replaced by rename (a reader never sees half a file) and not fsynced:
//! they need to survive the daemon's process, not the machine; after a reboot the
//! kernel's targets are gone too and the calls with them.

use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use tracing::warn;

use crate::call::model::Call;
use crate::call::persist::decode_call;
use crate::call::Now;

const SUFFIX: &str = ".call";

pub struct CallStore {
    dir: PathBuf,
}

impl CallStore {
    /// Creates the directory (mode 0700: files hold SRTP keys) if it is missing.
    pub fn open(dir: &Path) -> io::Result<CallStore> {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
        // Proves the directory is writable now rather than at the first call.
        let probe = dir.join(".probe");
        std::fs::write(&probe, b"")?;
        std::fs::remove_file(&probe)?;
        Ok(CallStore {
            dir: dir.to_owned(),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, call_id: &str) -> PathBuf {
        self.dir.join(file_name(call_id))
    }

    /// Replaces the call's file; failures are logged (the call goes on without).
    pub fn save(&self, call_id: &str, bytes: &[u8]) {
        let path = self.path(call_id);
        let tmp = path.with_extension("tmp");
        let written = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)
            .and_then(|mut f| f.write_all(bytes))
            .and_then(|()| std::fs::rename(&tmp, &path));
        if let Err(e) = written {
            warn!(call_id, path = %path.display(), %e, "cannot save call state");
            let _ = std::fs::remove_file(&tmp);
        }
    }

    pub fn remove(&self, call_id: &str) {
        match std::fs::remove_file(self.path(call_id)) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => {
                warn!(call_id, %e, "cannot remove saved call state")
            }
            _ => {}
        }
    }

    /// Every saved call. Unreadable files are renamed to `*.bad` (kept for a
    /// look, never loaded again) and reported.
    pub fn load(&self, now: &Now) -> Vec<Call> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(e) => {
                warn!(dir = %self.dir.display(), %e, "cannot read the state directory");
                return Vec::new();
            }
        };
        let mut calls = Vec::new();
        for entry in entries.flatten() {
            let path = entry.path();
            if !path.to_string_lossy().ends_with(SUFFIX) {
                continue;
            }
            let loaded = std::fs::read(&path)
                .map_err(|e| e.to_string())
                .and_then(|b| decode_call(&b, now));
            match loaded {
                Ok(call) if path == self.path(&call.id) => calls.push(call),
                Ok(call) => {
                    warn!(path = %path.display(), call_id = %call.id, "saved call in a file of another name, ignored")
                }
                Err(why) => {
                    warn!(path = %path.display(), %why, "unreadable saved call, set aside as .bad");
                    let _ = std::fs::rename(&path, path.with_extension("bad"));
                }
            }
        }
        calls
    }
}

/// Call-ids are arbitrary bytes: hex keeps any of them a safe file name; very
/// long ones are hashed (the file holds the call-id itself).
fn file_name(call_id: &str) -> String {
    let b = call_id.as_bytes();
    let stem = if b.len() <= 100 {
        b.iter().map(|x| format!("{x:02x}")).collect::<String>()
    } else {
        // FNV-1a: stable across versions, unlike std's hasher.
        let h = b.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, x| {
            (h ^ u64::from(*x)).wrapping_mul(0x0000_0100_0000_01b3)
        });
        format!("h{h:016x}-{}", b.len())
    };
    format!("{stem}{SUFFIX}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_safe_and_distinct() {
        assert_eq!(file_name("a/b"), "612f62.call");
        let long_a = "x".repeat(150);
        let long_b = "y".repeat(150);
        assert_ne!(file_name(&long_a), file_name(&long_b));
        assert!(file_name(&long_a).len() < 64);
        assert!(!file_name("../..").contains('/'));
    }
}
