//! `--race-list`: several threads read one open N/list (or N/blist) file at the same
//! time with pread(), which skips the file-position lock that plain read() takes on a
//! shared file. Each pread at offset 0 must return the start of the same listing.

use crate::sys;
use rtpe_kctl::{main_control, Control};
use rtpengine_core::abi::{Address, Pod, Srtp, TargetInfo, LIST_ENTRY_SIZE};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Returns (reads done, inconsistent answers, errors).
pub fn run(
    table: u32,
    threads: usize,
    rounds: u64,
    blist: bool,
) -> Result<(u64, u64, u64), String> {
    main_control(&format!("add {table}\n")).map_err(|e| format!("add {table}: {e}"))?;
    {
        let mut c = Control::open(table).map_err(|e| format!("open control: {e}"))?;
        for port in 0..300u16 {
            let mut t = TargetInfo::zeroed();
            t.local = Address::v4([127, 0, 0, 1], 30000 + port);
            t.decrypt = Srtp::plain();
            t.num_destinations = 0;
            t.flags = rtpengine_core::abi::target_flags::NON_FORWARDING;
            c.add_target(&t).map_err(|e| format!("ADD_TARGET: {e}"))?;
        }
    }
    let name = if blist { "blist" } else { "list" };
    let path = format!("/proc/rtpengine/{table}/{name}");
    let f = Arc::new(sys::open_ro(&path).map_err(|e| format!("open {path}: errno {e}"))?);
    let mut first = vec![0u8; if blist { LIST_ENTRY_SIZE } else { 4096 }];
    let n = sys::pread(&f, &mut first, 0).map_err(|e| format!("first pread: errno {e}"))?;
    first.truncate(n);
    let first = Arc::new(first);
    let (reads, odd, errs) = (
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
    );
    let handles: Vec<_> = (0..threads)
        .map(|i| {
            let (f, first, reads, odd, errs) = (
                f.clone(),
                first.clone(),
                reads.clone(),
                odd.clone(),
                errs.clone(),
            );
            std::thread::spawn(move || {
                let mut buf = vec![0u8; 65536];
                for r in 0..rounds {
                    if i == 0 && !blist {
                        // The slow reader: a whole-listing pread into pages that are not
                        // mapped in yet, so its copy to user space takes page faults while
                        // the others restart the listing with short preads.
                        match slow_pread(&f) {
                            Ok(_) | Err(libc::ESPIPE) => {}
                            Err(_) => {
                                errs.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                        reads.fetch_add(1, Ordering::Relaxed);
                        continue;
                    }
                    // Mostly whole-listing preads at 0: each one restarts the listing that
                    // another thread may be copying from.
                    let size = if blist {
                        LIST_ENTRY_SIZE
                    } else {
                        [17usize, 1, 300, 4096, 65536][(r as usize + i) % 5]
                    };
                    let res = if r % 3 != 2 {
                        sys::pread(&f, &mut buf[..size], 0)
                    } else {
                        sys::read_buf(&f, &mut buf[..size])
                    };
                    reads.fetch_add(1, Ordering::Relaxed);
                    match res {
                        Ok(n) if r % 3 != 2 && !blist => {
                            let k = n.min(first.len());
                            if buf[..k] != first[..k] {
                                odd.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                        Ok(_) => {}
                        Err(libc::ESPIPE) => {}
                        Err(_) => {
                            errs.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            })
        })
        .collect();
    for h in handles {
        let _ = h.join();
    }
    drop(f);
    main_control(&format!("del {table}\n")).map_err(|e| format!("del {table}: {e}"))?;
    Ok((
        reads.load(Ordering::Relaxed),
        odd.load(Ordering::Relaxed),
        errs.load(Ordering::Relaxed),
    ))
}

/// pread(0) of 64 KiB into a fresh, not yet populated anonymous mapping.
fn slow_pread(f: &std::fs::File) -> sys::SysResult {
    const LEN: usize = 65536;
    // SAFETY: a new private anonymous mapping; unmapped below, never aliased.
    let p = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            LEN,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if p == libc::MAP_FAILED {
        return Err(libc::ENOMEM);
    }
    // SAFETY: `p..p+LEN` is the mapping made above, exclusively ours until munmap.
    let r = sys::pread(
        f,
        unsafe { std::slice::from_raw_parts_mut(p.cast::<u8>(), LEN) },
        0,
    );
    // SAFETY: unmapping exactly the mapping made above.
    unsafe { libc::munmap(p, LEN) };
    r
}
