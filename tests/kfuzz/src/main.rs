//! rtpe-kfuzz: structured fuzzer of the xt_RTPENGINE control interface, run as root inside
//! the test VM with the module loaded. Deterministic by `--seed` (the main thread's
//! operations; background readers and the packet sender add timing noise, `--no-threads`
//! removes it). Prints `kfuzz: N operations, M accepted, K refused`, an errno histogram,
//! `not ok - ...` for every answer outside the expected set, and a final `ok -` line.
//!
//! Usage: rtpe-kfuzz [--seed N] [--ops N] [--tables 0,1,2,3] [--rule-tables 0,1]
//!                   [--no-threads] [--readers N] [--pps N] [--max-targets N] [--trace]
//!                   [--del-tables] [--avoid-shared-list-fd]
//!        rtpe-kfuzz --race-list|--race-blist [--ops N] [--tables ID]   (one focused race)

mod background;
mod fuzz;
mod gen;
mod model;
mod mutate;
mod oracle;
mod race;
mod report;
mod rng;
mod sys;

use background::Shared;
use rng::Rng;
use std::process::{Command, ExitCode};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

struct Args {
    seed: u64,
    ops: u64,
    tables: Vec<u32>,
    rule_tables: Vec<u32>,
    threads: bool,
    readers: u32,
    pps: u64,
    max_targets: usize,
    trace: bool,
    del_tables: bool,
    avoid_shared_fd: bool,
    race_list: Option<&'static str>,
}

fn ids(s: &str) -> Result<Vec<u32>, String> {
    if s.is_empty() {
        return Ok(vec![]);
    }
    s.split(',')
        .map(|x| {
            x.parse::<u32>()
                .ok()
                .filter(|&i| i < 64)
                .ok_or(format!("bad table id {x:?}"))
        })
        .collect()
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        seed: 1,
        ops: 10_000,
        tables: vec![0, 1, 2, 3],
        rule_tables: vec![0, 1],
        threads: true,
        readers: 2,
        pps: 500,
        max_targets: 300,
        trace: false,
        del_tables: false,
        avoid_shared_fd: false,
        race_list: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut val = || it.next().ok_or(format!("{arg} needs a value"));
        let num = |v: String| v.parse::<u64>().map_err(|_| format!("bad number {v:?}"));
        match arg.as_str() {
            "--seed" => a.seed = num(val()?)?,
            "--ops" => a.ops = num(val()?)?,
            "--tables" => a.tables = ids(&val()?)?,
            "--rule-tables" => a.rule_tables = ids(&val()?)?,
            "--readers" => a.readers = num(val()?)? as u32,
            "--pps" => a.pps = num(val()?)?,
            "--max-targets" => a.max_targets = num(val()?)? as usize,
            "--no-threads" => a.threads = false,
            "--trace" => a.trace = true,
            "--del-tables" => a.del_tables = true,
            "--avoid-shared-list-fd" => a.avoid_shared_fd = true,
            "--race-list" => a.race_list = Some("list"),
            "--race-blist" => a.race_list = Some("blist"),
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if a.tables.is_empty() {
        return Err("--tables must name at least one table".into());
    }
    Ok(a)
}

fn iptables_rules(ids: &[u32], op: &str) -> Result<(), String> {
    for id in ids {
        for tool in ["iptables", "ip6tables"] {
            let out = Command::new(tool)
                .args([
                    op,
                    "INPUT",
                    "-p",
                    "udp",
                    "-j",
                    "RTPENGINE",
                    "--id",
                    &id.to_string(),
                ])
                .output()
                .map_err(|e| format!("{tool}: {e}"))?;
            if !out.status.success() {
                return Err(format!(
                    "{tool} {op} --id {id}: {}",
                    String::from_utf8_lossy(&out.stderr).trim()
                ));
            }
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}\nusage: rtpe-kfuzz [--seed N] [--ops N] [--tables 0,1,2,3] [--rule-tables 0,1] [--no-threads] [--readers N] [--pps N] [--max-targets N] [--trace] [--del-tables] [--avoid-shared-list-fd]");
            return ExitCode::from(2);
        }
    };
    match rtpe_kctl::table_ids() {
        Ok(v) if v.is_empty() => {}
        Ok(v) => {
            println!(
                "not ok - kfuzz: tables {v:?} exist already; start from a freshly loaded module"
            );
            return ExitCode::FAILURE;
        }
        Err(e) => {
            println!("not ok - kfuzz: /proc/rtpengine/list: {e} (is xt_RTPENGINE loaded?)");
            return ExitCode::FAILURE;
        }
    }
    if let Some(kind) = args.race_list {
        let id = args.tables[0];
        return match race::run(id, 4, args.ops / 4, kind == "blist") {
            Ok((reads, odd, errs)) => {
                println!("kfuzz: {kind} race: {reads} reads by 4 threads on one open {id}/{kind}, {odd} inconsistent, {errs} errors");
                let ok = odd == 0 && errs == 0;
                println!(
                    "{} - kfuzz: concurrent pread()/read() on one {kind} file",
                    if ok { "ok" } else { "not ok" }
                );
                if ok {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::FAILURE
                }
            }
            Err(e) => {
                println!("not ok - kfuzz: {kind} race: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let rule_tables: Vec<u32> = args
        .rule_tables
        .iter()
        .copied()
        .filter(|id| args.tables.contains(id))
        .collect();
    if let Err(e) = iptables_rules(&rule_tables, "-I") {
        println!("not ok - kfuzz: iptables rules: {e}");
        return ExitCode::FAILURE;
    }
    println!(
        "# kfuzz seed {} ops {} tables {:?} rules {:?} threads {}",
        args.seed, args.ops, args.tables, rule_tables, args.threads
    );
    let shared = Arc::new(Shared {
        stop: Default::default(),
        targets: Mutex::new(Vec::new()),
        tables: args.tables.clone(),
        report: Default::default(),
        shared_list: RwLock::new(None),
        avoid_shared_fd: args.avoid_shared_fd,
    });
    let base = Rng::new(args.seed);
    let mut threads = Vec::new();
    if args.threads {
        for i in 0..args.readers {
            let (s, r) = (shared.clone(), base.fork(100 + u64::from(i)));
            threads.push(std::thread::spawn(move || background::reader(s, r)));
        }
        if !rule_tables.is_empty() {
            let (s, r) = (shared.clone(), base.fork(200));
            let pps = args.pps;
            threads.push(std::thread::spawn(move || background::sender(s, r, pps)));
            let s = shared.clone();
            threads.push(std::thread::spawn(move || background::sink(s)));
        }
    }
    let opts = fuzz::Options {
        seed: args.seed,
        ops: args.ops,
        tables: args.tables.clone(),
        rule_tables: rule_tables.clone(),
        trace: args.trace,
        max_targets: args.max_targets,
    };
    let started = Instant::now();
    let mut fuzzer = match fuzz::Fuzzer::new(opts, shared.clone()) {
        Ok(f) => f,
        Err(e) => {
            println!("not ok - kfuzz: scratch memory: {e}");
            return ExitCode::FAILURE;
        }
    };
    fuzzer.run();
    let secs = started.elapsed().as_secs_f64();
    shared.stop.store(true, Ordering::Relaxed);
    for t in threads {
        let _ = t.join();
    }
    *shared.shared_list.write().unwrap() = None;
    let left = fuzzer.finish();
    let mut ok = shared.report.summary(args.seed, secs);
    if let Err(e) = iptables_rules(&rule_tables, "-D") {
        println!("not ok - kfuzz: removing iptables rules: {e}");
        ok = false;
    }
    if args.del_tables {
        for id in left {
            if let Err(e) = rtpe_kctl::main_control(&format!("del {id}\n")) {
                println!("not ok - kfuzz: del {id}: {e}");
                ok = false;
            }
        }
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
