//! Userspace client of the xt_RTPENGINE /proc interface, built on the shared ABI
//! definitions of `rtpengine-core`. Used by the VM tests and by `rtpe-kctl`.

use rtpengine_core::abi::{self, ListEntry, Message, Pod, LIST_ENTRY_SIZE, MESSAGE_SIZE};
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::FileExt;

pub const PROC_ROOT: &str = "/proc/rtpengine";

/// Writes `text` to /proc/rtpengine/control in one write() (e.g. "add 0\n").
pub fn main_control(text: &str) -> io::Result<()> {
    let mut f = OpenOptions::new()
        .write(true)
        .open(format!("{PROC_ROOT}/control"))?;
    let n = f.write(text.as_bytes())?;
    if n != text.len() {
        return Err(io::Error::new(io::ErrorKind::WriteZero, "short write"));
    }
    Ok(())
}

/// The ids listed in /proc/rtpengine/list.
pub fn table_ids() -> io::Result<Vec<u32>> {
    let text = std::fs::read_to_string(format!("{PROC_ROOT}/list"))?;
    Ok(text.lines().filter_map(|l| l.trim().parse().ok()).collect())
}

/// An open /proc/rtpengine/N/control.
#[derive(Debug)]
pub struct Control {
    file: File,
    pub id: u32,
}

impl Control {
    pub fn open(id: u32) -> io::Result<Self> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(format!("{PROC_ROOT}/{id}/control"))?;
        Ok(Control { file, id })
    }

    /// One write() of raw bytes; returns what write() returned.
    pub fn write_raw(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.file.write(bytes)
    }

    /// Executes `msg` through write().
    pub fn send(&mut self, msg: &Message) -> io::Result<()> {
        let n = self.write_raw(msg.as_bytes())?;
        assert_eq!(n, MESSAGE_SIZE, "control write returned {n}");
        Ok(())
    }

    /// Executes `msg` through read(): the kernel takes the request from the buffer and
    /// writes the answer back into it.
    pub fn exchange(&mut self, msg: &Message) -> io::Result<Message> {
        let mut buf = msg.as_bytes().to_vec();
        let n = self.file.read(&mut buf)?;
        assert_eq!(n, MESSAGE_SIZE, "control read returned {n}");
        Ok(Message::read_from(&buf).expect("full message"))
    }

    pub fn noop(&mut self) -> io::Result<()> {
        self.send(&Message::noop())
    }

    pub fn add_target(&mut self, t: &abi::TargetInfo) -> io::Result<()> {
        self.send(&Message::add_target(t))
    }

    pub fn del_target(&mut self, local: &abi::Address) -> io::Result<()> {
        self.send(&Message::del_target(local))
    }

    pub fn add_destination(&mut self, d: &abi::DestinationInfo) -> io::Result<()> {
        self.send(&Message::add_destination(d))
    }

    pub fn stats(&mut self, local: &abi::Address, reset: bool) -> io::Result<abi::StatsInfo> {
        let cmd = if reset {
            abi::cmd::GET_RESET_STATS
        } else {
            abi::cmd::GET_STATS
        };
        Ok(self.exchange(&Message::get_stats(cmd, local))?.stats())
    }
}

/// Reads all of /proc/rtpengine/N/blist, one record per read().
pub fn blist(id: u32) -> io::Result<Vec<ListEntry>> {
    let file = File::open(format!("{PROC_ROOT}/{id}/blist"))?;
    blist_from(&file)
}

pub fn blist_from(mut file: &File) -> io::Result<Vec<ListEntry>> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; LIST_ENTRY_SIZE];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            return Ok(out);
        }
        if n != LIST_ENTRY_SIZE {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("blist record of {n} bytes"),
            ));
        }
        out.push(ListEntry::read_from(&buf).expect("full record"));
    }
}

/// Reads at most `len` bytes at `offset` (for odd-size read tests).
pub fn read_at(path: &str, len: usize, offset: u64) -> io::Result<Vec<u8>> {
    let f = File::open(path)?;
    let mut buf = vec![0u8; len];
    let n = f.read_at(&mut buf, offset)?;
    buf.truncate(n);
    Ok(buf)
}

/// errno of an I/O result, or 0 for success.
pub fn errno<T>(r: &io::Result<T>) -> i32 {
    match r {
        Ok(_) => 0,
        Err(e) => e.raw_os_error().unwrap_or(-1),
    }
}

/// Reads a whole file with read() calls of `chunk` bytes.
pub fn read_in_chunks(path: &str, chunk: usize) -> io::Result<Vec<u8>> {
    let mut f = File::open(path)?;
    let mut out = Vec::new();
    let mut buf = vec![0u8; chunk];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            return Ok(out);
        }
        out.extend_from_slice(&buf[..n]);
    }
}
