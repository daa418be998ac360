//! The fuzzer's own bookkeeping of what the module should hold: which tables exist, and
//! for each table its targets and which of their outputs are filled. Only the main fuzz
//! thread changes the module's state, so after every operation the model is exact.

use rtpengine_core::abi::{Address, TargetInfo, AF_INET, MAX_TABLES};
use std::collections::BTreeMap;

/// A target's identity as the module matches it: family, address bytes (IPv4 tail and
/// padding ignored), port.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug, Hash)]
pub struct Key {
    pub family: i32,
    pub addr: [u8; 16],
    pub port: u16,
}

impl Key {
    pub fn of(a: &Address) -> Key {
        let mut addr = a.addr;
        if a.family == AF_INET {
            addr[4..].fill(0);
        }
        Key {
            family: a.family,
            addr,
            port: a.port,
        }
    }

    pub fn address(&self) -> Address {
        Address {
            family: self.family,
            addr: self.addr,
            port: self.port,
            _pad: [0; 2],
        }
    }
}

#[derive(Clone, Debug)]
pub struct TargetState {
    pub outputs: u32,
    /// Bit i set when output i was filled.
    pub filled: u32,
    pub ssrc: [u32; 4],
}

impl TargetState {
    pub fn of(t: &TargetInfo) -> Self {
        TargetState {
            outputs: t.num_destinations,
            filled: 0,
            ssrc: t.ssrc,
        }
    }

    pub fn complete(&self) -> bool {
        self.filled.count_ones() >= self.outputs
    }
}

#[derive(Default, Debug)]
pub struct Table {
    pub targets: BTreeMap<Key, TargetState>,
    /// Our control fd is open (the module then refuses `del` and a second open).
    pub control_open: bool,
    pub recording: Recording,
}

/// Index allocation of recorded calls and streams (10.5's `auto_array`): the last freed
/// index first, else the lowest never used. Per table in our module.
#[derive(Default, Debug)]
pub struct Indexes {
    free: Vec<u32>,
    next: u32,
}

impl Indexes {
    /// The index the next allocation gets.
    pub fn peek(&self) -> u32 {
        self.free.last().copied().unwrap_or(self.next)
    }
    fn take(&mut self) -> u32 {
        match self.free.pop() {
            Some(i) => i,
            None => {
                self.next += 1;
                self.next - 1
            }
        }
    }
    fn put(&mut self, i: u32) {
        self.free.push(i);
    }
}

/// The recorded calls and streams of a table (ADD_CALL, ADD_STREAM, ...).
#[derive(Default, Debug)]
pub struct Recording {
    /// call index → call id.
    pub calls: BTreeMap<u32, Vec<u8>>,
    /// stream index → (call index, name, order of creation).
    pub streams: BTreeMap<u32, (u32, Vec<u8>, u64)>,
    pub call_idx: Indexes,
    pub stream_idx: Indexes,
    created: u64,
}

impl Recording {
    pub fn add_call(&mut self, name: Vec<u8>) -> u32 {
        let i = self.call_idx.take();
        self.calls.insert(i, name);
        i
    }

    /// Deletes the call and its streams, newest first.
    pub fn del_call(&mut self, idx: u32) {
        self.calls.remove(&idx);
        let mut mine: Vec<(u64, u32)> = self
            .streams
            .iter()
            .filter(|(_, s)| s.0 == idx)
            .map(|(&i, s)| (s.2, i))
            .collect();
        mine.sort_unstable_by(|a, b| b.cmp(a));
        for (_, i) in mine {
            self.del_stream(i);
        }
        self.call_idx.put(idx);
    }

    pub fn add_stream(&mut self, call: u32, name: Vec<u8>) -> u32 {
        let i = self.stream_idx.take();
        self.created += 1;
        self.streams.insert(i, (call, name, self.created));
        i
    }

    pub fn del_stream(&mut self, idx: u32) {
        if self.streams.remove(&idx).is_some() {
            self.stream_idx.put(idx);
        }
    }
}

impl Table {
    /// Distinct local IP addresses (10.5 refuses more than 256 with ENXIO).
    pub fn distinct_ips(&self) -> usize {
        let mut ips: Vec<(i32, [u8; 16])> =
            self.targets.keys().map(|k| (k.family, k.addr)).collect();
        ips.dedup();
        ips.len()
    }
}

pub struct Model {
    pub tables: Vec<Option<Table>>,
}

impl Default for Model {
    fn default() -> Self {
        Model {
            tables: (0..MAX_TABLES).map(|_| None).collect(),
        }
    }
}

impl Model {
    pub fn table(&self, id: u32) -> Option<&Table> {
        self.tables.get(id as usize).and_then(|t| t.as_ref())
    }

    pub fn table_mut(&mut self, id: u32) -> Option<&mut Table> {
        self.tables.get_mut(id as usize).and_then(|t| t.as_mut())
    }

    pub fn existing(&self) -> Vec<u32> {
        (0..MAX_TABLES)
            .filter(|&i| self.tables[i as usize].is_some())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv4_tail_and_padding_do_not_count() {
        let mut a = Address::v4([127, 0, 0, 1], 5);
        let k = Key::of(&a);
        a.addr[9] = 7;
        a._pad = [1, 2];
        assert_eq!(Key::of(&a), k);
        let mut b = Address::v6([1; 16], 5);
        let k6 = Key::of(&b);
        b.addr[9] = 7;
        assert_ne!(Key::of(&b), k6);
    }

    #[test]
    fn distinct_ips_counts_addresses_not_ports() {
        let mut t = Table::default();
        for port in 1..5 {
            t.targets.insert(
                Key::of(&Address::v4([127, 0, 0, 1], port)),
                TargetState {
                    outputs: 1,
                    filled: 0,
                    ssrc: [0; 4],
                },
            );
        }
        t.targets.insert(
            Key::of(&Address::v6([1; 16], 1)),
            TargetState {
                outputs: 1,
                filled: 0,
                ssrc: [0; 4],
            },
        );
        assert_eq!(t.distinct_ips(), 2);
    }
}
