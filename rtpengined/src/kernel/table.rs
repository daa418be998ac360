//! One xt_RTPENGINE table: (re)creation through /proc/rtpengine/control, the NOOP
//! version handshake, and the table's control file kept open for our lifetime.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::PathBuf;

use rtpengine_core::abi::{self, ListEntry, Message, Pod, LIST_ENTRY_SIZE, MESSAGE_SIZE};

/// Where xt_RTPENGINE lives.
pub const PROC_ROOT: &str = "/proc/rtpengine";

/// Why the kernel cannot be used; the message is what the operator needs to act.
#[derive(Debug, thiserror::Error)]
pub enum KernelError {
    #[error("kernel table {0} out of range 0..=63")]
    BadTable(i32),
    #[error("xt_RTPENGINE module not loaded ({} missing)", .0.display())]
    NoModule(PathBuf),
    #[error("cannot {0}: {1}")]
    Io(String, io::Error),
    #[error(
        "kernel module refused the version handshake ({0}): this daemon speaks the rtpengine 10.5 \
         interface ({size}-byte messages, {last} commands); the module logs its own in the kernel log (dmesg)",
        size = rtpengine_core::abi::MESSAGE_SIZE,
        last = rtpengine_core::abi::cmd::LAST
    )]
    Handshake(io::Error),
}

/// How to come by the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setup {
    /// rtpengine 10.5: delete any existing table (and its targets), create it afresh.
    Recreate,
    /// Keep an existing table and its targets (restart without dropping media);
    /// create it only if it is missing.
    Adopt,
}

pub struct Table {
    pub id: u32,
    root: PathBuf,
    control: File,
}

impl Table {
    /// Sets up table `id` under `root` (normally /proc/rtpengine).
    pub fn open(root: impl Into<PathBuf>, id: i32, setup: Setup) -> Result<Table, KernelError> {
        let root = root.into();
        let uid = u32::try_from(id)
            .ok()
            .filter(|i| *i < abi::MAX_TABLES)
            .ok_or(KernelError::BadTable(id))?;
        let main = root.join("control");
        if !main.exists() {
            return Err(KernelError::NoModule(root.clone()));
        }
        let exists = root.join(uid.to_string()).join("control").exists();
        if setup == Setup::Recreate || !exists {
            if setup == Setup::Recreate {
                // ENOENT: there was no table, which is fine.
                match write_main(&main, &format!("del {uid}\n")) {
                    Err(e) if e.raw_os_error() != Some(libc::ENOENT) => {
                        return Err(KernelError::Io(format!("delete table {uid}"), e))
                    }
                    _ => {}
                }
            }
            write_main(&main, &format!("add {uid}\n"))
                .map_err(|e| KernelError::Io(format!("create table {uid}"), e))?;
        }
        let path = root.join(uid.to_string()).join("control");
        let control = OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .map_err(|e| KernelError::Io(format!("open {}", path.display()), e))?;
        let mut t = Table {
            id: uid,
            root,
            control,
        };
        t.send(&Message::noop()).map_err(KernelError::Handshake)?;
        Ok(t)
    }

    /// Executes one command through write(); the module answers with an errno.
    pub fn send(&mut self, msg: &Message) -> io::Result<()> {
        let n = self.control.write(msg.as_bytes())?;
        if n != MESSAGE_SIZE {
            return Err(io::Error::new(
                io::ErrorKind::WriteZero,
                format!("control write returned {n}"),
            ));
        }
        Ok(())
    }

    /// The control file again (the same open file: the module admits one
    /// opener of a table's control file), for the recording commands.
    pub fn control_clone(&self) -> io::Result<File> {
        self.control.try_clone()
    }

    pub fn add_target(&mut self, t: &abi::TargetInfo) -> io::Result<()> {
        self.send(&Message::add_target(t))
    }

    pub fn add_destination(&mut self, d: &abi::DestinationInfo) -> io::Result<()> {
        self.send(&Message::add_destination(d))
    }

    pub fn del_target(&mut self, local: &abi::Address) -> io::Result<()> {
        self.send(&Message::del_target(local))
    }

    /// Every target of the table with its live counters.
    pub fn list(&self) -> io::Result<Vec<ListEntry>> {
        list(&self.blist_path())
    }

    /// The binary listing; reading it needs no access to the control file.
    pub fn blist_path(&self) -> PathBuf {
        self.root.join(self.id.to_string()).join("blist")
    }
}

pub fn list(blist: &std::path::Path) -> io::Result<Vec<ListEntry>> {
    read_records(&mut File::open(blist)?)
}

fn write_main(path: &std::path::Path, text: &str) -> io::Result<()> {
    let mut f = OpenOptions::new().write(true).open(path)?;
    f.write_all(text.as_bytes())
}

/// Reads `blist`: one whole record per read(), 0 at the end.
pub fn read_records(r: &mut impl Read) -> io::Result<Vec<ListEntry>> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; LIST_ENTRY_SIZE];
    loop {
        let n = r.read(&mut buf)?;
        if n == 0 {
            return Ok(out);
        }
        let entry = (n == LIST_ENTRY_SIZE)
            .then(|| ListEntry::read_from(&buf))
            .flatten()
            .ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("blist record of {n} bytes"),
                )
            })?;
        out.push(entry);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_module_and_bad_ids_are_clear_errors() {
        let dir = std::env::temp_dir().join(format!("rtpe-nomod-{}", std::process::id()));
        let e = Table::open(&dir, 0, Setup::Recreate).err().unwrap();
        assert!(matches!(e, KernelError::NoModule(..)), "{e}");
        assert!(e.to_string().contains("not loaded"), "{e}");
        for id in [-1, 64, 1000] {
            assert!(matches!(
                Table::open(&dir, id, Setup::Recreate),
                Err(KernelError::BadTable(_))
            ));
        }
    }

    #[test]
    fn records_must_be_whole() {
        let e = ListEntry::zeroed();
        let mut two = e.as_bytes().to_vec();
        two.extend_from_slice(e.as_bytes());
        // A reader that returns one record per read, like the module.
        struct Chunks(Vec<u8>, usize);
        impl Read for Chunks {
            fn read(&mut self, b: &mut [u8]) -> io::Result<usize> {
                let n = self.1.min(self.0.len()).min(b.len());
                b[..n].copy_from_slice(&self.0[..n]);
                self.0.drain(..n);
                Ok(n)
            }
        }
        assert_eq!(
            read_records(&mut Chunks(two, LIST_ENTRY_SIZE))
                .unwrap()
                .len(),
            2
        );
        let short = e.as_bytes()[..100].to_vec();
        assert_eq!(
            read_records(&mut Chunks(short, LIST_ENTRY_SIZE))
                .unwrap_err()
                .kind(),
            io::ErrorKind::InvalidData
        );
    }
}
