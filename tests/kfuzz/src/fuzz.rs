//! The main fuzz loop: one thread, deterministic by seed, is the only one changing the
//! module's state, so each answer can be checked against the oracle and the model.

use crate::background::Shared;
use crate::gen::{self, SINK_PORTS, TARGET_PORTS};
use crate::model::{Key, Model, Table};
use crate::mutate;
use crate::oracle::{self, Buffer, Effect};
use crate::rng::Rng;
use crate::sys::{self, errno_list, errno_name, errno_of, Scratch, SysResult};
use rtpengine_core::abi::{
    cmd, Address, ListEntry, Message, Pod, AF_INET, AF_INET6, LIST_ENTRY_SIZE, MESSAGE_SIZE,
};
use std::collections::BTreeMap;
use std::fs::File;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// Main-loop steps between progress lines.
const PROGRESS_EVERY: u64 = 50_000;

pub struct Options {
    pub seed: u64,
    pub ops: u64,
    /// Tables the fuzzer adds, deletes and fills.
    pub tables: Vec<u32>,
    /// Tables with an iptables rule (their loopback targets receive packets).
    pub rule_tables: Vec<u32>,
    pub trace: bool,
    /// Largest number of targets per table before deletes take over.
    pub max_targets: usize,
}

pub struct Fuzzer {
    rng: Rng,
    model: Model,
    controls: Vec<Option<File>>,
    main_control: Option<File>,
    scratch: Scratch,
    shared: Arc<Shared>,
    combo: u64,
    opts: Options,
    op: u64,
    pid: u32,
}

fn socket_addr(k: &Key) -> Option<SocketAddr> {
    match k.family {
        AF_INET if k.addr[0] == 127 => Some(SocketAddr::from((
            [k.addr[0], k.addr[1], k.addr[2], k.addr[3]],
            k.port,
        ))),
        AF_INET6 if k.addr == gen::LOOP6 => Some(SocketAddr::from((k.addr, k.port))),
        _ => None,
    }
}

fn cmd_name(c: u32) -> String {
    match c {
        cmd::NOOP => "NOOP".into(),
        cmd::ADD_TARGET => "ADD_TARGET".into(),
        cmd::DEL_TARGET => "DEL_TARGET".into(),
        cmd::ADD_DESTINATION => "ADD_DESTINATION".into(),
        cmd::ADD_CALL => "ADD_CALL".into(),
        cmd::DEL_CALL => "DEL_CALL".into(),
        cmd::ADD_STREAM => "ADD_STREAM".into(),
        cmd::DEL_STREAM => "DEL_STREAM".into(),
        cmd::PACKET => "PACKET".into(),
        cmd::GET_STATS => "GET_STATS".into(),
        cmd::GET_RESET_STATS => "GET_RESET_STATS".into(),
        c => format!("cmd{c}"),
    }
}

impl Fuzzer {
    pub fn new(opts: Options, shared: Arc<Shared>) -> std::io::Result<Self> {
        Ok(Fuzzer {
            rng: Rng::new(opts.seed),
            model: Model::default(),
            controls: (0..64).map(|_| None).collect(),
            main_control: None,
            scratch: Scratch::new(2 << 20)?,
            shared,
            combo: 0,
            opts,
            op: 0,
            pid: std::process::id(),
        })
    }

    /// Records the answer of operation `what`; reports it if not in `allowed`.
    fn check(&mut self, what: &str, r: &SysResult, allowed: &[i32]) -> i32 {
        let e = errno_of(r);
        self.shared.report.op(e);
        if self.opts.trace {
            println!("# op {}: {what} → {}", self.op, errno_name(e));
        }
        if !allowed.contains(&e) {
            self.violation(format_args!(
                "{what}: got {}, expected {}",
                errno_name(e),
                errno_list(allowed)
            ));
        }
        e
    }

    fn violation(&self, what: std::fmt::Arguments) {
        self.shared.report.violation(format_args!(
            "kfuzz seed {} op {}: {what}",
            self.opts.seed, self.op
        ));
    }

    pub fn run(&mut self) {
        // Start with every fuzz table present and open, so the first operations do something.
        for id in self.opts.tables.clone() {
            self.main_text(format!("add {id}\n").into_bytes());
            self.open_control(id);
        }
        // Counted in checked syscalls (an inspection opens and reads: two of them).
        let started = std::time::Instant::now();
        let mut next_progress = PROGRESS_EVERY;
        while self.shared.report.ops.load(Ordering::Relaxed) < self.opts.ops {
            self.op += 1;
            if self.op >= next_progress {
                // Long runs show they are alive (and how fast they go).
                next_progress += PROGRESS_EVERY;
                let done = self.shared.report.ops.load(Ordering::Relaxed);
                println!(
                    "# kfuzz: {done} operations after {:.0} s",
                    started.elapsed().as_secs_f64()
                );
            }
            match self.rng.weighted(&[80, 3, 4, 3, 2]) {
                0 => self.control_message(),
                1 => self.main_control_op(),
                2 => self.open_close(),
                3 => self.inspect(),
                _ => self.bad_buffer(),
            }
        }
    }

    /// Closes our control files; the tables and their targets stay.
    pub fn finish(&mut self) -> Vec<u32> {
        for c in self.controls.iter_mut() {
            *c = None;
        }
        for t in self.model.tables.iter_mut().flatten() {
            t.control_open = false;
        }
        self.model.existing()
    }

    fn open_tables(&self) -> Vec<u32> {
        self.opts
            .tables
            .iter()
            .copied()
            .filter(|&id| self.model.table(id).is_some_and(|t| t.control_open))
            .collect()
    }

    fn table_id(&mut self) -> u32 {
        if self.rng.chance(900) {
            *self.rng.pick(&self.opts.tables)
        } else {
            self.rng.below(64) as u32
        }
    }

    // ---- /proc/rtpengine/control ----

    fn main_control_op(&mut self) {
        let id = self.table_id();
        let verb = if self.rng.chance(500) { "add" } else { "del" };
        let mut text = format!("{verb} {id}\n").into_bytes();
        if self.rng.chance(250) {
            match self.rng.below(6) {
                0 => text.truncate(self.rng.below(text.len() as u64 + 1) as usize),
                1 => text.extend(std::iter::repeat_n(b' ', self.rng.below(20) as usize)),
                2 => {
                    let i = self.rng.below(text.len() as u64) as usize;
                    text[i] = self.rng.next() as u8;
                }
                3 => text = format!("{verb} {}\n", self.rng.next() % 100_000_000_000).into_bytes(),
                4 => text.insert(4, b'0'),
                _ => {
                    let n = self.rng.below(24) as usize;
                    text = vec![0; n];
                    self.rng.fill(&mut text);
                }
            }
        }
        self.main_text(text);
    }

    fn main_text(&mut self, text: Vec<u8>) {
        if self.main_control.is_none() || self.rng.chance(50) {
            match sys::open_wo("/proc/rtpengine/control") {
                Ok(f) => self.main_control = Some(f),
                Err(e) => {
                    self.check("open /proc/rtpengine/control", &Err(e), &[0]);
                    return;
                }
            }
        }
        let (allowed, effect) = oracle::main_control(&text, &self.model.tables);
        let f = self.main_control.as_ref().unwrap();
        let r = sys::write(f, text.as_ptr(), text.len());
        let what = format!("main control {:?}", String::from_utf8_lossy(&text));
        if self.check(&what, &r, &allowed) == 0 {
            if let Ok(n) = r {
                if n != text.len() {
                    self.violation(format_args!("{what}: write returned {n}"));
                }
            }
            match effect {
                Some((id, true)) => self.model.tables[id as usize] = Some(Table::default()),
                Some((id, false)) => {
                    self.model.tables[id as usize] = None;
                    self.publish_targets();
                }
                None => self.violation(format_args!("{what}: succeeded, but it should not have")),
            }
        }
    }

    // ---- N/control open and close ----

    fn open_control(&mut self, id: u32) {
        let r = sys::open_rw(&format!("/proc/rtpengine/{id}/control"));
        let allowed = match self.model.table(id) {
            None => libc::ENOENT,
            Some(t) if t.control_open => libc::EBUSY,
            Some(_) => 0,
        };
        let res: SysResult = r.as_ref().map(|_| 0).map_err(|e| *e);
        if self.check(&format!("open {id}/control"), &res, &[allowed]) == 0 {
            if let Ok(f) = r {
                if self.controls[id as usize].is_none() {
                    self.controls[id as usize] = Some(f);
                    if let Some(t) = self.model.table_mut(id) {
                        t.control_open = true;
                    }
                }
            }
        }
    }

    fn open_close(&mut self) {
        let id = self.table_id();
        let open = self.model.table(id).is_some_and(|t| t.control_open);
        if open && self.rng.chance(700) {
            self.controls[id as usize] = None;
            if let Some(t) = self.model.table_mut(id) {
                t.control_open = false;
            }
            self.shared.report.op(0);
        } else {
            self.open_control(id);
        }
    }

    // ---- N/control messages ----

    fn pick_target(&mut self, id: u32) -> Option<Key> {
        let t = self.model.table(id)?;
        if t.targets.is_empty() || self.rng.chance(150) {
            return None;
        }
        let n = self.rng.below(t.targets.len() as u64) as usize;
        t.targets.keys().nth(n).copied()
    }

    fn fresh_local(&mut self) -> Address {
        let port = gen::target_port(&mut self.rng);
        gen::loopback(&mut self.rng, port)
    }

    fn generate(&mut self, id: u32) -> Message {
        self.combo += 1;
        let combo = self.combo;
        let n = self.model.table(id).map_or(0, |t| t.targets.len());
        let del_weight = if n > self.opts.max_targets { 60 } else { 12 };
        match self.rng.weighted(&[30, 28, del_weight, 10, 4, 5, 2]) {
            0 => {
                let local = self.fresh_local();
                let outputs = gen::outputs_count(&mut self.rng);
                Message::add_target(&gen::target(&mut self.rng, combo, local, outputs))
            }
            1 => {
                let (local, num) = match self.pick_target(id) {
                    Some(k) => {
                        let t = &self.model.table(id).unwrap().targets[&k];
                        let free: Vec<u32> = (0..t.outputs)
                            .filter(|i| t.filled & (1 << i) == 0)
                            .collect();
                        let num = if !free.is_empty() && self.rng.chance(850) {
                            *self.rng.pick(&free)
                        } else {
                            self.rng.below(34) as u32
                        };
                        (k.address(), num)
                    }
                    None => (self.fresh_local(), 0),
                };
                Message::add_destination(&gen::destination(&mut self.rng, combo, local, num))
            }
            2 => {
                let local = self
                    .pick_target(id)
                    .map_or_else(|| self.fresh_local(), |k| k.address());
                Message::del_target(&local)
            }
            3 => {
                let local = self
                    .pick_target(id)
                    .map_or_else(|| self.fresh_local(), |k| k.address());
                gen::stats(&mut self.rng, local)
            }
            4 => gen::noop(),
            5 => {
                let r = self.model.table(id).map(|t| &t.recording);
                let calls: Vec<u32> = r.map_or(vec![], |r| r.calls.keys().copied().collect());
                let streams: Vec<(u32, u32)> = r.map_or(vec![], |r| {
                    r.streams.iter().map(|(&i, s)| (s.0, i)).collect()
                });
                gen::call_family(&mut self.rng, &calls, &streams)
            }
            _ => {
                let mut m = Message::new(self.rng.below(16) as u32);
                self.rng.fill(&mut m.as_bytes_mut()[8..]);
                m
            }
        }
    }

    /// Keeps forwarding loop-free after a mutation: outputs only go to the sink ports and
    /// targets never sit on them (a loop would be a daemon bug, not a kernel one).
    fn avoid_loops(buf: &mut [u8]) {
        let c = u32::from_ne_bytes(buf[..4].try_into().unwrap());
        let port_at = |buf: &[u8], o: usize| u16::from_ne_bytes([buf[o], buf[o + 1]]);
        if c == cmd::ADD_DESTINATION {
            let p = port_at(buf, 84);
            if p != 0 && !(SINK_PORTS.0..=SINK_PORTS.1).contains(&p) {
                buf[84..86].copy_from_slice(&(SINK_PORTS.0 + p % 1000).to_ne_bytes());
            }
        }
        if c == cmd::ADD_TARGET {
            let p = port_at(buf, 28);
            if (SINK_PORTS.0..=SINK_PORTS.1).contains(&p) {
                buf[28..30].copy_from_slice(&(TARGET_PORTS.0 + p % 1000).to_ne_bytes());
            }
        }
    }

    fn control_message(&mut self) {
        let open = self.open_tables();
        if open.is_empty() {
            return self.open_close();
        }
        let id = *self.rng.pick(&open);
        let msg = self.generate(id);
        let mut len = MESSAGE_SIZE;
        let mut mutations = Vec::new();
        {
            let buf = self.scratch.bytes();
            buf[..MESSAGE_SIZE].copy_from_slice(msg.as_bytes());
        }
        if self.rng.chance(300) {
            let mut rng = self.rng.clone();
            mutations = mutate::mutate(
                &mut rng,
                &mut self.scratch.bytes()[..MESSAGE_SIZE],
                &mut len,
            );
            self.rng = rng;
            self.shared.report.mutated.fetch_add(1, Ordering::Relaxed);
        }
        Self::avoid_loops(self.scratch.bytes());
        if mutations.is_empty() && msg.cmd == cmd::PACKET && self.rng.chance(900) {
            // PACKET carries the packet after the message.
            len = MESSAGE_SIZE + self.rng.range(1, 1500) as usize;
        }
        if len > MESSAGE_SIZE {
            // The tail of a long write is a packet for PACKET, junk for the others.
            let tail_end = len.min(self.scratch.size()).min(MESSAGE_SIZE + 4096);
            let mut rng = self.rng.clone();
            rng.fill(&mut self.scratch.bytes()[MESSAGE_SIZE..tail_end]);
            self.rng = rng;
        }
        let sent = Message::read_from(&self.scratch.bytes()[..MESSAGE_SIZE]).unwrap();
        let is_read = if oracle_needs_read(sent.cmd) {
            self.rng.chance(900)
        } else {
            self.rng.chance(350)
        };
        let table = self.model.table(id).unwrap();
        let expect = oracle::control(&sent, len, is_read, Buffer::Valid, table);
        let f = self.controls[id as usize].as_ref().unwrap();
        let ptr = self.scratch.ptr(0);
        let r = if is_read {
            sys::read(f, ptr, len)
        } else {
            sys::write(f, ptr, len)
        };
        let what = format!(
            "{} {}/control {} len {}{}",
            if is_read { "read" } else { "write" },
            id,
            cmd_name(sent.cmd),
            len,
            if mutations.is_empty() {
                String::new()
            } else {
                format!(" (mutated: {})", mutations.join(","))
            }
        );
        if self.check(&what, &r, &expect.allowed) != 0 {
            return;
        }
        if let Ok(n) = r {
            if n != len {
                self.violation(format_args!("{what}: returned {n}, not the length"));
            }
        }
        let answer = Message::read_from(&self.scratch.bytes()[..MESSAGE_SIZE]).unwrap();
        self.apply(id, &what, expect.effect, &sent, &answer, is_read);
    }

    fn apply(
        &mut self,
        id: u32,
        what: &str,
        effect: Effect,
        sent: &Message,
        answer: &Message,
        is_read: bool,
    ) {
        let rule = self.opts.rule_tables.contains(&id);
        let table = self.model.table_mut(id).unwrap();
        match effect {
            Effect::AddTarget(k, st) => {
                table.targets.insert(k, st);
                if let (true, Some(a)) = (rule, socket_addr(&k)) {
                    self.shared.targets.lock().unwrap().push(a);
                }
            }
            Effect::DelTarget(k) => {
                table.targets.remove(&k);
                if let (true, Some(a)) = (rule, socket_addr(&k)) {
                    let mut t = self.shared.targets.lock().unwrap();
                    if let Some(i) = t.iter().position(|x| *x == a) {
                        t.swap_remove(i);
                    }
                }
            }
            Effect::Fill(k, num) => {
                if let Some(t) = table.targets.get_mut(&k) {
                    t.filled |= 1 << num;
                }
            }
            Effect::Stats(k) => {
                let want = table.targets[&k].ssrc;
                if answer.stats().ssrc != want {
                    self.violation(format_args!(
                        "{what}: answer has SSRCs {:x?}, target has {:x?}",
                        answer.stats().ssrc,
                        want
                    ));
                }
            }
            Effect::None if is_read && sent.cmd == cmd::NOOP => {
                if answer.as_bytes() != sent.as_bytes() {
                    self.violation(format_args!("{what}: NOOP answer differs from the request"));
                }
            }
            Effect::AddCall(name, idx) => {
                let got = table.recording.add_call(name);
                let answer_idx = answer.call().call_idx;
                if is_read && (got != idx || answer_idx != idx) {
                    self.violation(format_args!(
                        "{what}: answer has call_idx {answer_idx}, expected {idx}"
                    ));
                }
            }
            Effect::DelCall(idx) => table.recording.del_call(idx),
            Effect::AddStream(call, name, idx) => {
                let got = table.recording.add_stream(call, name);
                let answer_idx = answer.stream().stream_idx;
                if is_read && (got != idx || answer_idx != idx) {
                    self.violation(format_args!(
                        "{what}: answer has stream_idx {answer_idx}, expected {idx}"
                    ));
                }
            }
            Effect::DelStream(idx) => table.recording.del_stream(idx),
            Effect::None | Effect::Untracked => {}
        }
    }

    /// A valid message whose buffer starts in, or runs into, unmapped memory: EFAULT
    /// and no effect.
    fn bad_buffer(&mut self) {
        let open = self.open_tables();
        if open.is_empty() {
            return self.open_close();
        }
        let id = *self.rng.pick(&open);
        let msg = self.generate(id);
        let guard = self.scratch.guard();
        let (start, kind) = match self.rng.below(3) {
            0 => (guard, "unmapped"),
            _ => (
                guard - self.rng.range(1, MESSAGE_SIZE as u64 - 1) as usize,
                "straddling",
            ),
        };
        let fit = guard - start.min(guard);
        self.scratch.bytes()[start.min(guard)..guard].copy_from_slice(&msg.as_bytes()[..fit]);
        let is_read = self.rng.chance(500);
        let expect = oracle::control(
            &msg,
            MESSAGE_SIZE,
            is_read,
            Buffer::Unmapped,
            self.model.table(id).unwrap(),
        );
        let f = self.controls[id as usize].as_ref().unwrap();
        let ptr = self.scratch.ptr(start);
        let r = if is_read {
            sys::read(f, ptr, MESSAGE_SIZE)
        } else {
            sys::write(f, ptr, MESSAGE_SIZE)
        };
        let what = format!(
            "{} {id}/control {} from a {kind} buffer",
            if is_read { "read" } else { "write" },
            cmd_name(msg.cmd)
        );
        self.check(&what, &r, &expect.allowed);
    }

    // ---- list / blist / status, checked against the model ----

    fn inspect(&mut self) {
        let id = self.table_id();
        match self.rng.weighted(&[4, 3, 2, 1, 2]) {
            0 => self.check_status(id),
            1 => self.check_list(id),
            2 => self.check_blist(id),
            3 => self.check_table_list(),
            _ => self.check_calls(id),
        }
    }

    /// `N/calls/` holds a directory per recorded call of the model, and a stream file
    /// reads a packet or EAGAIN (opened non-blocking).
    fn check_calls(&mut self, id: u32) {
        use std::io::Read;
        use std::os::unix::ffi::OsStringExt;
        use std::os::unix::fs::OpenOptionsExt;
        let Some(t) = self.model.table(id) else {
            return;
        };
        let r = &t.recording;
        let want: std::collections::BTreeSet<Vec<u8>> = r.calls.values().cloned().collect();
        let dir = format!("/proc/rtpengine/{id}/calls");
        let got = std::fs::read_dir(&dir).map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.file_name().into_vec())
                .collect::<std::collections::BTreeSet<_>>()
        });
        match got {
            Ok(g) if g == want => {}
            other => self.violation(format_args!(
                "{dir}: {} entries, the model has {} calls ({:?})",
                other.as_ref().map_or(0, |g| g.len()),
                want.len(),
                other.err()
            )),
        }
        if r.streams.is_empty() {
            return;
        }
        let n = self.rng.below(r.streams.len() as u64) as usize;
        let (_, (call, name, _)) = r.streams.iter().nth(n).unwrap();
        let mut path = std::path::PathBuf::from(&dir);
        path.push(<std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(&r.calls[call]));
        path.push(<std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(name));
        let res = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(&path)
            .and_then(|mut f| f.read(&mut [0u8; 2048]));
        match res {
            Ok(n) if n > 0 => {}
            Err(e) if e.raw_os_error() == Some(libc::EAGAIN) => {}
            other => self.violation(format_args!(
                "read of {}: {other:?}, expected a packet or EAGAIN",
                path.display()
            )),
        }
    }

    fn open_file(&mut self, id: u32, name: &str) -> Option<File> {
        let path = format!("/proc/rtpengine/{id}/{name}");
        let want = if self.model.table(id).is_some() {
            0
        } else {
            libc::ENOENT
        };
        let r = sys::open_ro(&path);
        let res: SysResult = r.as_ref().map(|_| 0).map_err(|e| *e);
        self.check(&format!("open {path}"), &res, &[want]);
        r.ok()
    }

    fn read_all(&mut self, f: &File, chunk: usize) -> Result<Vec<u8>, i32> {
        let mut out = Vec::new();
        let mut buf = vec![0u8; chunk];
        loop {
            match sys::read_buf(f, &mut buf)? {
                0 => return Ok(out),
                n => out.extend_from_slice(&buf[..n]),
            }
        }
    }

    fn check_status(&mut self, id: u32) {
        let Some(f) = self.open_file(id, "status") else {
            return;
        };
        let chunk = *self.rng.pick(&[1usize, 3, 16, 4096]);
        let r = self.read_all(&f, chunk);
        let what = format!("read {id}/status in {chunk}-byte reads");
        self.check(&what, &r.as_ref().map(|v| v.len()).map_err(|e| *e), &[0]);
        let Ok(text) = r else { return };
        let text = String::from_utf8_lossy(&text);
        let t = self.model.table(id).unwrap();
        let want_pid = if t.control_open { self.pid } else { 0 };
        let want = format!(
            "Control PID: {want_pid}\nTargets:     {}\n",
            t.targets.len()
        );
        if !text.ends_with(&want) {
            self.violation(format_args!(
                "{what}: {text:?}, expected it to end with {want:?}"
            ));
        }
    }

    fn check_list(&mut self, id: u32) {
        let n = self.model.table(id).map_or(0, |t| t.targets.len());
        if n > 30 && !self.rng.chance(50) {
            return; // long listings are slow under TCG; check them now and then
        }
        let Some(f) = self.open_file(id, "list") else {
            return;
        };
        // 1-byte reads only of short listings: a read() per byte is slow under KASAN/TCG.
        let chunk = if n <= 2 {
            *self.rng.pick(&[1usize, 7, 4095])
        } else {
            *self.rng.pick(&[7usize, 100, 4095, 65536])
        };
        let r = self.read_all(&f, chunk);
        let what = format!("read {id}/list in {chunk}-byte reads");
        self.check(&what, &r.as_ref().map(|v| v.len()).map_err(|e| *e), &[0]);
        let Ok(text) = r else { return };
        let text = String::from_utf8_lossy(&text);
        let locals = text.lines().filter(|l| l.starts_with("local ")).count();
        if locals != n {
            self.violation(format_args!(
                "{what}: {locals} targets listed, {n} expected"
            ));
        }
    }

    fn check_blist(&mut self, id: u32) {
        let n = self.model.table(id).map_or(0, |t| t.targets.len());
        if n > 30 && !self.rng.chance(50) {
            return;
        }
        let Some(f) = self.open_file(id, "blist") else {
            return;
        };
        let mut got: BTreeMap<Key, u32> = BTreeMap::new();
        let mut buf = vec![0u8; LIST_ENTRY_SIZE];
        let what = format!("read {id}/blist");
        loop {
            let r = sys::read_buf(&f, &mut buf);
            if self.check(&what, &r, &[0]) != 0 {
                return;
            }
            if r == Ok(0) {
                break;
            }
            let e = ListEntry::read_from(&buf).unwrap();
            let n = e.target.num_destinations.min(32) as usize;
            let filled = e.outputs[..n]
                .iter()
                .enumerate()
                .filter(|(_, o)| o.src_addr.family != 0)
                .fold(0u32, |m, (i, _)| m | 1 << i);
            got.insert(Key::of(&e.target.local), filled);
        }
        let t = self.model.table(id).unwrap();
        let want: BTreeMap<Key, u32> = t.targets.iter().map(|(k, s)| (*k, s.filled)).collect();
        if got != want {
            let missing = want.keys().filter(|k| !got.contains_key(k)).count();
            let extra = got.keys().filter(|k| !want.contains_key(k)).count();
            let differ = want
                .iter()
                .filter(|(k, f)| got.get(k).is_some_and(|g| g != *f))
                .count();
            self.violation(format_args!(
                "{what}: blist differs from the model: {missing} targets missing, {extra} unexpected, {differ} with other outputs filled"
            ));
        }
    }

    fn check_table_list(&mut self) {
        let f = match sys::open_ro("/proc/rtpengine/list") {
            Ok(f) => f,
            Err(e) => {
                self.check("open /proc/rtpengine/list", &Err(e), &[0]);
                return;
            }
        };
        let chunk = *self.rng.pick(&[1usize, 2, 5, 4096]);
        let r = self.read_all(&f, chunk);
        self.check(
            "read /proc/rtpengine/list",
            &r.as_ref().map(|v| v.len()).map_err(|e| *e),
            &[0],
        );
        let Ok(text) = r else { return };
        let ids: Vec<u32> = String::from_utf8_lossy(&text)
            .lines()
            .filter_map(|l| l.trim().parse().ok())
            .collect();
        if ids != self.model.existing() {
            self.violation(format_args!(
                "/proc/rtpengine/list shows {ids:?}, expected {:?}",
                self.model.existing()
            ));
        }
    }

    /// Rebuilds the packet sender's destinations after a table went away.
    fn publish_targets(&self) {
        let mut v = Vec::new();
        for &id in &self.opts.rule_tables {
            if let Some(t) = self.model.table(id) {
                v.extend(t.targets.keys().filter_map(socket_addr));
            }
        }
        *self.shared.targets.lock().unwrap() = v;
    }
}

fn oracle_needs_read(c: u32) -> bool {
    matches!(
        c,
        cmd::GET_STATS | cmd::GET_RESET_STATS | cmd::ADD_CALL | cmd::ADD_STREAM
    )
}
