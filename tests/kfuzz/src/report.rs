//! Counters shared by the fuzz threads, and the summary printed at the end.

use crate::sys::errno_name;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// Violations printed in full; later ones are only counted.
const PRINT_LIMIT: u64 = 30;

#[derive(Default)]
pub struct Report {
    pub ops: AtomicU64,
    pub accepted: AtomicU64,
    pub refused: AtomicU64,
    pub errnos: Mutex<BTreeMap<i32, u64>>,
    pub violations: AtomicU64,
    pub bg_reads: AtomicU64,
    pub bg_errnos: Mutex<BTreeMap<i32, u64>>,
    pub packets_sent: AtomicU64,
    pub packets_forwarded: AtomicU64,
    pub mutated: AtomicU64,
}

impl Report {
    /// Counts one main-thread operation and its errno (0 = accepted).
    pub fn op(&self, errno: i32) {
        self.ops.fetch_add(1, Ordering::Relaxed);
        if errno == 0 {
            self.accepted.fetch_add(1, Ordering::Relaxed);
        } else {
            self.refused.fetch_add(1, Ordering::Relaxed);
        }
        *self.errnos.lock().unwrap().entry(errno).or_default() += 1;
    }

    pub fn bg(&self, errno: i32) {
        self.bg_reads.fetch_add(1, Ordering::Relaxed);
        *self.bg_errnos.lock().unwrap().entry(errno).or_default() += 1;
    }

    pub fn violation(&self, what: std::fmt::Arguments) {
        let n = self.violations.fetch_add(1, Ordering::Relaxed);
        if n < PRINT_LIMIT {
            println!("not ok - {what}");
        } else if n == PRINT_LIMIT {
            println!("# (further violations only counted)");
        }
    }

    pub fn histogram(map: &BTreeMap<i32, u64>) -> String {
        map.iter()
            .map(|(e, n)| format!("{} {}", errno_name(*e), n))
            .collect::<Vec<_>>()
            .join(", ")
    }

    pub fn summary(&self, seed: u64, secs: f64) -> bool {
        let ops = self.ops.load(Ordering::Relaxed);
        println!(
            "kfuzz: {} operations, {} accepted, {} refused",
            ops,
            self.accepted.load(Ordering::Relaxed),
            self.refused.load(Ordering::Relaxed)
        );
        println!(
            "kfuzz: errnos: {}",
            Self::histogram(&self.errnos.lock().unwrap())
        );
        println!(
            "kfuzz: {} of them mutated",
            self.mutated.load(Ordering::Relaxed)
        );
        println!(
            "kfuzz: background: {} reads/opens ({}), {} packets sent, {} forwarded packets received",
            self.bg_reads.load(Ordering::Relaxed),
            Self::histogram(&self.bg_errnos.lock().unwrap()),
            self.packets_sent.load(Ordering::Relaxed),
            self.packets_forwarded.load(Ordering::Relaxed)
        );
        println!(
            "kfuzz: {:.1} s, {:.0} operations/s",
            secs,
            ops as f64 / secs.max(0.001)
        );
        let v = self.violations.load(Ordering::Relaxed);
        if v == 0 {
            println!("ok - kfuzz seed {seed}: {ops} operations, every answer as expected");
        } else {
            println!("not ok - kfuzz seed {seed}: {v} violations");
        }
        v == 0
    }
}
