//! Raw read()/write() on /proc files with arbitrary lengths and buffer placement, so that
//! every errno the kernel returns is seen as is (std's wrappers would retry or assert).

use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::AsRawFd;

/// Result of one syscall: bytes transferred or a positive errno.
pub type SysResult = Result<usize, i32>;

pub fn errno_of(r: &SysResult) -> i32 {
    match r {
        Ok(_) => 0,
        Err(e) => *e,
    }
}

fn ret(n: isize) -> SysResult {
    if n < 0 {
        Err(io::Error::last_os_error().raw_os_error().unwrap_or(-1))
    } else {
        Ok(n as usize)
    }
}

pub fn write(f: &File, ptr: *const u8, len: usize) -> SysResult {
    // SAFETY: write(2) only reads from `ptr`; an invalid range makes the kernel return
    // EFAULT, which is what the fuzzer wants to observe, and cannot corrupt our memory.
    ret(unsafe { libc::write(f.as_raw_fd(), ptr.cast(), len) })
}

pub fn read(f: &File, ptr: *mut u8, len: usize) -> SysResult {
    // SAFETY: `ptr..ptr+len` is either inside our scratch mapping or deliberately in its
    // PROT_NONE guard page (then the kernel returns EFAULT); nothing else aliases it.
    ret(unsafe { libc::read(f.as_raw_fd(), ptr.cast(), len) })
}

pub fn pread(f: &File, buf: &mut [u8], off: i64) -> SysResult {
    // SAFETY: reads into a live, exclusively borrowed buffer of the given length.
    ret(unsafe { libc::pread(f.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), off) })
}

pub fn read_buf(f: &File, buf: &mut [u8]) -> SysResult {
    read(f, buf.as_mut_ptr(), buf.len())
}

pub fn open_rw(path: &str) -> Result<File, i32> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .map_err(|e| e.raw_os_error().unwrap_or(-1))
}

pub fn open_ro(path: &str) -> Result<File, i32> {
    File::open(path).map_err(|e| e.raw_os_error().unwrap_or(-1))
}

pub fn open_wo(path: &str) -> Result<File, i32> {
    OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(|e| e.raw_os_error().unwrap_or(-1))
}

/// A writable mapping followed by one PROT_NONE guard page, for messages that start in
/// or run into unmapped memory.
pub struct Scratch {
    base: *mut u8,
    size: usize,
}

const PAGE: usize = 4096;

impl Scratch {
    pub fn new(size: usize) -> io::Result<Self> {
        let size = size.div_ceil(PAGE) * PAGE;
        // SAFETY: anonymous private mapping, no existing memory is affected.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                size + PAGE,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: the last page is inside the mapping made above.
        if unsafe { libc::mprotect(base.cast::<u8>().add(size).cast(), PAGE, libc::PROT_NONE) } != 0
        {
            return Err(io::Error::last_os_error());
        }
        Ok(Scratch {
            base: base.cast(),
            size,
        })
    }

    pub fn size(&self) -> usize {
        self.size
    }

    /// The writable part.
    pub fn bytes(&mut self) -> &mut [u8] {
        // SAFETY: `base..base+size` is mapped read/write and owned by `self`.
        unsafe { std::slice::from_raw_parts_mut(self.base, self.size) }
    }

    pub fn ptr(&self, offset: usize) -> *mut u8 {
        // SAFETY: callers pass offsets up to `size + PAGE` (the guard page included);
        // the pointer is only handed to the kernel, never dereferenced here.
        unsafe { self.base.add(offset) }
    }

    /// Offset of the guard page.
    pub fn guard(&self) -> usize {
        self.size
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        // SAFETY: unmapping exactly what `new` mapped.
        unsafe { libc::munmap(self.base.cast(), self.size + PAGE) };
    }
}

/// Name of an errno for the histogram.
pub fn errno_name(e: i32) -> String {
    let name = match e {
        0 => "ok",
        libc::ENOENT => "ENOENT",
        libc::EIO => "EIO",
        libc::ENXIO => "ENXIO",
        libc::ENOMEM => "ENOMEM",
        libc::EFAULT => "EFAULT",
        libc::EBUSY => "EBUSY",
        libc::EEXIST => "EEXIST",
        libc::EINVAL => "EINVAL",
        libc::ENOSPC => "ENOSPC",
        libc::ESPIPE => "ESPIPE",
        libc::ERANGE => "ERANGE",
        libc::EMSGSIZE => "EMSGSIZE",
        libc::EOPNOTSUPP => "EOPNOTSUPP",
        libc::ENODEV => "ENODEV",
        libc::EPERM => "EPERM",
        libc::EAGAIN => "EAGAIN",
        _ => return format!("errno{e}"),
    };
    name.to_string()
}

pub fn errno_list(v: &[i32]) -> String {
    v.iter()
        .map(|&e| errno_name(e))
        .collect::<Vec<_>>()
        .join("|")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guard_page_gives_efault() {
        let mut s = Scratch::new(8192).unwrap();
        s.bytes()[0] = 1;
        let f = OpenOptions::new().write(true).open("/dev/null").unwrap();
        assert_eq!(write(&f, s.ptr(0), 10), Ok(10));
        // /dev/null does not read the buffer; use a pipe, which copies.
        let mut fds = [0; 2];
        // SAFETY: pipe(2) into a 2-element array.
        assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
        // SAFETY: we own the new fds.
        let w: File = unsafe { std::os::fd::FromRawFd::from_raw_fd(fds[1]) };
        let _r: File = unsafe { std::os::fd::FromRawFd::from_raw_fd(fds[0]) };
        assert_eq!(write(&w, s.ptr(s.guard()), 10), Err(libc::EFAULT));
        assert_eq!(errno_name(libc::EFAULT), "EFAULT");
    }
}
