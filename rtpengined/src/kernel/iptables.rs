//! The iptables/ip6tables rules that send UDP into the kernel table, installed by the
//! daemon itself with `--kernel-iptables-chain=NAME` (what rtpengine 10.5's
//! `rtpengine-iptables-setup` and our `scripts/rtpengine-rs-setup` do from outside):
//!
//! ```text
//! iptables -N NAME; iptables -I INPUT -p udp -j NAME; iptables -I NAME -p udp -j RTPENGINE --id TABLE
//! ```
//!
//! and the same with ip6tables. Installing leaves exactly one jump and one RTPENGINE
//! rule, whatever an earlier (crashed) run left behind; removing deletes our RTPENGINE
//! rule and, once the chain is empty, the jump and the chain (a chain shared with other
//! tables stays). Rules are compared as `iptables -S` prints them and deleted by rule
//! number: ip6tables-legacy's `-C`/`-D` ignore the target's `--id`, so deleting by
//! specification could take another table's rule.
//!
//! The decisions are plain functions over `-S` listings, tested with a simulated
//! iptables; `System` runs the real binaries.

use std::io;
use std::process::Command;

use tracing::{info, warn};

use crate::config::chain::check_chain_name;

/// The programs, in the order rules are installed.
pub const PROGRAMS: [&str; 2] = ["iptables", "ip6tables"];

/// What one run of an iptables program gave.
#[derive(Debug, Clone, Default)]
pub struct Output {
    pub success: bool,
    pub stdout: String,
    pub stderr: String,
}

/// Runs iptables programs; `Err` with `ErrorKind::NotFound` when a program is missing.
pub trait Runner {
    fn run(&mut self, prog: &str, args: &[String]) -> io::Result<Output>;
}

/// The real binaries, found through `PATH`.
pub struct System;

impl Runner for System {
    fn run(&mut self, prog: &str, args: &[String]) -> io::Result<Output> {
        let out = Command::new(prog).args(args).env("LC_ALL", "C").output()?;
        Ok(Output {
            success: out.status.success(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        })
    }
}

// --- argv lists -----------------------------------------------------------------

fn argv(parts: &[&str]) -> Vec<String> {
    parts.iter().map(|s| s.to_string()).collect()
}

/// `-S CHAIN`: the chain's rules as `-A CHAIN ...` lines; fails if it does not exist.
pub fn list_cmd(chain: &str) -> Vec<String> {
    argv(&["-w", "-S", chain])
}

pub fn new_chain_cmd(chain: &str) -> Vec<String> {
    argv(&["-w", "-N", chain])
}

pub fn delete_chain_cmd(chain: &str) -> Vec<String> {
    argv(&["-w", "-X", chain])
}

/// The jump from INPUT into our chain, as `-S` prints it after `-A INPUT`.
pub fn jump_spec(chain: &str) -> String {
    format!("-p udp -j {chain}")
}

/// The rule that hands UDP to the kernel table, as `-S` prints it.
pub fn target_spec(table: u32) -> String {
    format!("-p udp -j RTPENGINE --id {table}")
}

/// `-I CHAIN SPEC`: at the top of the chain.
pub fn insert_cmd(chain: &str, spec: &str) -> Vec<String> {
    let mut v = argv(&["-w", "-I", chain]);
    v.extend(spec.split(' ').map(str::to_owned));
    v
}

/// `-D CHAIN N` (rule numbers start at 1).
pub fn delete_cmd(chain: &str, number: usize) -> Vec<String> {
    argv(&["-w", "-D", chain, &number.to_string()])
}

/// Rule numbers (1-based) of the rules in a `-S CHAIN` listing that are exactly `spec`.
pub fn positions(listing: &str, chain: &str, spec: &str) -> Vec<usize> {
    let prefix = format!("-A {chain} ");
    listing
        .lines()
        .map(str::trim_end)
        .filter(|l| l.starts_with(&prefix))
        .enumerate()
        .filter(|(_, l)| l[prefix.len()..] == *spec)
        .map(|(i, _)| i + 1)
        .collect()
}

/// Whether a `-S CHAIN` listing holds any rule.
pub fn has_rules(listing: &str, chain: &str) -> bool {
    let prefix = format!("-A {chain} ");
    listing.lines().any(|l| l.starts_with(&prefix))
}

// --- running them ---------------------------------------------------------------

enum Failure {
    /// The program is not installed (or the kernel has no such family).
    Missing(String),
    Failed(String),
}

fn exec(r: &mut dyn Runner, prog: &str, args: &[String]) -> Result<Output, Failure> {
    match r.run(prog, args) {
        Ok(o) => Ok(o),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            Err(Failure::Missing(format!("{prog} not found")))
        }
        Err(e) => Err(Failure::Failed(format!("cannot run {prog}: {e}"))),
    }
}

/// The operator's next step for an iptables error message.
fn hint(stderr: &str) -> &'static str {
    if stderr.contains("Permission denied") || stderr.contains("must be root") {
        " (managing iptables needs root or CAP_NET_ADMIN; an unprivileged daemon leaves the rules to rtpengine-rs-setup)"
    } else if stderr.contains("RTPENGINE") || stderr.contains("unknown option \"--id\"") {
        " (the iptables extension libxt_RTPENGINE.so is missing: install rtpengine-rs-iptables)"
    } else {
        ""
    }
}

fn failed(prog: &str, args: &[String], o: &Output) -> Failure {
    let what = format!("{prog} {} failed: {}", args.join(" "), o.stderr);
    // ip6tables on a kernel without IPv6: as good as missing.
    if o.stderr.contains("Address family not supported") {
        Failure::Missing(what)
    } else {
        Failure::Failed(format!("{what}{}", hint(&o.stderr)))
    }
}

/// Runs a command that must succeed.
fn must(r: &mut dyn Runner, prog: &str, args: Vec<String>) -> Result<Output, Failure> {
    let o = exec(r, prog, &args)?;
    if o.success {
        Ok(o)
    } else {
        Err(failed(prog, &args, &o))
    }
}

/// Leaves exactly one `spec` rule in `chain` (inserting it at the top if there was
/// none, deleting extra copies from the bottom up so the numbers stay valid).
fn ensure_one(
    r: &mut dyn Runner,
    prog: &str,
    chain: &str,
    spec: &str,
    listing: &str,
) -> Result<(), Failure> {
    let found = positions(listing, chain, spec);
    if found.is_empty() {
        must(r, prog, insert_cmd(chain, spec))?;
    }
    for &n in found.iter().skip(1).rev() {
        must(r, prog, delete_cmd(chain, n))?;
    }
    Ok(())
}

fn install_one(r: &mut dyn Runner, prog: &str, chain: &str, table: u32) -> Result<(), Failure> {
    let listing = match exec(r, prog, &list_cmd(chain))? {
        o if o.success => o.stdout,
        o => {
            if let Err(e) = must(r, prog, new_chain_cmd(chain)) {
                // Created meanwhile by someone else? Otherwise report why -S failed
                // too (e.g. no permission), which says more than -N's message.
                let again = exec(r, prog, &list_cmd(chain))?;
                if !again.success {
                    return Err(match e {
                        Failure::Missing(_) => e,
                        Failure::Failed(_) => failed(prog, &list_cmd(chain), &o),
                    });
                }
            }
            String::new()
        }
    };
    // The rule first: the jump only ever leads to a chain that forwards.
    ensure_one(r, prog, chain, &target_spec(table), &listing)?;
    let input = must(r, prog, list_cmd("INPUT"))?.stdout;
    ensure_one(r, prog, "INPUT", &jump_spec(chain), &input)
}

/// Deletes our RTPENGINE rule; if the chain is then empty, the jumps to it and the
/// chain. Returns what went wrong.
fn remove_one(r: &mut dyn Runner, prog: &str, chain: &str, table: u32) -> Vec<String> {
    let mut errors = Vec::new();
    let mut step = |r: &mut dyn Runner, args: Vec<String>| -> Option<Output> {
        match must(r, prog, args) {
            Ok(o) => Some(o),
            Err(Failure::Missing(m) | Failure::Failed(m)) => {
                errors.push(m);
                None
            }
        }
    };
    // A missing chain: someone removed it already, nothing of ours is left.
    let Ok(o) = exec(r, prog, &list_cmd(chain)) else {
        return errors;
    };
    if !o.success {
        return errors;
    }
    for n in positions(&o.stdout, chain, &target_spec(table))
        .into_iter()
        .rev()
    {
        step(r, delete_cmd(chain, n));
    }
    let Some(o) = step(r, list_cmd(chain)) else {
        return errors;
    };
    if has_rules(&o.stdout, chain) {
        // Other tables' rules (another daemon, or rtpengine-rs-setup): keep the chain.
        return errors;
    }
    if let Some(input) = step(r, list_cmd("INPUT")) {
        for n in positions(&input.stdout, "INPUT", &jump_spec(chain))
            .into_iter()
            .rev()
        {
            step(r, delete_cmd("INPUT", n));
        }
    }
    step(r, delete_chain_cmd(chain));
    errors
}

/// Our rules, installed. Dropping it leaves them in place (as a crash would; the next
/// `install` finds them): call `remove` or `keep`.
#[derive(Debug)]
pub struct Rules {
    chain: String,
    table: u32,
    programs: Vec<&'static str>,
    /// To log once logging is up (e.g. ip6tables missing).
    pub warnings: Vec<String>,
}

impl Rules {
    /// Creates chain `chain` if missing and leaves exactly one `-p udp -j chain` jump in
    /// INPUT and one `-p udp -j RTPENGINE --id table` rule in the chain, for iptables
    /// and ip6tables. A missing ip6tables is a warning; any other failure undoes what
    /// was done and is the error.
    pub fn install(chain: &str, table: u32) -> Result<Rules, String> {
        Self::install_with(&mut System, chain, table)
    }

    pub fn install_with(r: &mut dyn Runner, chain: &str, table: u32) -> Result<Rules, String> {
        check_chain_name(chain)?;
        let mut rules = Rules {
            chain: chain.to_owned(),
            table,
            programs: Vec::new(),
            warnings: Vec::new(),
        };
        for prog in PROGRAMS {
            match install_one(r, prog, chain, table) {
                Ok(()) => rules.programs.push(prog),
                Err(Failure::Missing(m)) if prog == "ip6tables" => rules
                    .warnings
                    .push(format!("{m}: IPv6 media is not forwarded by the kernel")),
                Err(Failure::Missing(m) | Failure::Failed(m)) => {
                    // Undo this program's part too (it may have created the chain).
                    rules.programs.push(prog);
                    let mut e = rules.remove_with(r);
                    e.insert(0, m);
                    return Err(e.join("; "));
                }
            }
        }
        Ok(rules)
    }

    pub fn chain(&self) -> &str {
        &self.chain
    }

    pub fn table(&self) -> u32 {
        self.table
    }

    /// The programs whose rules are in place.
    pub fn programs(&self) -> &[&'static str] {
        &self.programs
    }

    /// Removes our rules (and the chain and jump when nothing else uses the chain).
    /// Problems are logged: at shutdown there is nothing else to do about them.
    pub fn remove(mut self) {
        let errors = self.remove_with(&mut System);
        for e in &errors {
            warn!(chain = %self.chain, "cannot remove iptables rule: {e}");
        }
        if errors.is_empty() {
            info!(chain = %self.chain, table = self.table, "iptables rules removed");
        }
    }

    /// Leaves the rules in place (--kernel-adopt: the kernel goes on forwarding).
    pub fn keep(self) {
        info!(
            chain = %self.chain,
            table = self.table,
            "iptables rules left in place for the adopted kernel table"
        );
    }

    /// Removes through `r`; returns the errors.
    pub fn remove_with(&mut self, r: &mut dyn Runner) -> Vec<String> {
        let mut errors = Vec::new();
        for prog in std::mem::take(&mut self.programs) {
            errors.extend(remove_one(r, prog, &self.chain, self.table));
        }
        errors
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeMap, BTreeSet};

    /// A simulated iptables filter table per program, recording every call.
    #[derive(Default)]
    struct Fake {
        /// prog → chain → rule specs in order.
        chains: BTreeMap<String, BTreeMap<String, Vec<String>>>,
        missing: BTreeSet<String>,
        /// Specs containing this string are refused by -I (e.g. a missing extension).
        refuse: Option<(String, String)>,
        calls: Vec<String>,
    }

    impl Fake {
        fn new() -> Fake {
            let mut f = Fake::default();
            for p in PROGRAMS {
                f.chains
                    .entry(p.into())
                    .or_default()
                    .insert("INPUT".into(), Vec::new());
            }
            f
        }
        fn rules(&mut self, prog: &str, chain: &str) -> &mut Vec<String> {
            self.chains
                .get_mut(prog)
                .unwrap()
                .entry(chain.into())
                .or_default()
        }
        fn has_chain(&self, prog: &str, chain: &str) -> bool {
            self.chains[prog].contains_key(chain)
        }
        fn get(&self, prog: &str, chain: &str) -> Vec<String> {
            self.chains[prog].get(chain).cloned().unwrap_or_default()
        }
    }

    fn err(msg: &str) -> io::Result<Output> {
        Ok(Output {
            success: false,
            stdout: String::new(),
            stderr: msg.into(),
        })
    }

    impl Runner for Fake {
        fn run(&mut self, prog: &str, args: &[String]) -> io::Result<Output> {
            self.calls.push(format!("{prog} {}", args.join(" ")));
            if self.missing.contains(prog) {
                return Err(io::ErrorKind::NotFound.into());
            }
            assert_eq!(args[0], "-w", "every command waits for the xtables lock");
            let chain = args[2].clone();
            let exists = self.has_chain(prog, &chain);
            let ok = |stdout: String| {
                Ok(Output {
                    success: true,
                    stdout,
                    stderr: String::new(),
                })
            };
            match args[1].as_str() {
                "-S" if !exists => err("iptables: No chain/target/match by that name."),
                "-S" => {
                    let head = if chain == "INPUT" {
                        "-P INPUT ACCEPT".to_string()
                    } else {
                        format!("-N {chain}")
                    };
                    let mut out = head + "\n";
                    for r in self.get(prog, &chain) {
                        out += &format!("-A {chain} {r}\n");
                    }
                    ok(out)
                }
                "-N" if exists => err("iptables: Chain already exists."),
                "-N" => {
                    self.rules(prog, &chain);
                    ok(String::new())
                }
                "-I" if !exists => err("iptables: No chain/target/match by that name."),
                "-I" => {
                    let spec = args[3..].join(" ");
                    if let Some((p, s)) = &self.refuse {
                        if p == prog && spec.contains(s.as_str()) {
                            return err("iptables v1.8.9 (legacy): Couldn't load target `RTPENGINE':No such file or directory");
                        }
                    }
                    let target = args.last().unwrap();
                    if args[args.len() - 2] == "-j" && !target.starts_with(char::is_uppercase) {
                        assert!(self.has_chain(prog, target), "jump to a missing chain");
                    }
                    self.rules(prog, &chain).insert(0, spec);
                    ok(String::new())
                }
                "-D" => {
                    let n: usize = args[3].parse().expect("deletes by rule number");
                    let rules = self.rules(prog, &chain);
                    if n == 0 || n > rules.len() {
                        return err("iptables: Index of deletion too big.");
                    }
                    rules.remove(n - 1);
                    ok(String::new())
                }
                "-X" if !exists => err("iptables: No chain/target/match by that name."),
                "-X" => {
                    let referenced = self.chains[prog]
                        .values()
                        .flatten()
                        .any(|r| r.ends_with(&format!("-j {chain}")));
                    if !self.get(prog, &chain).is_empty() || referenced {
                        return err("iptables: Directory not empty.");
                    }
                    self.chains.get_mut(prog).unwrap().remove(&chain);
                    ok(String::new())
                }
                other => panic!("unexpected command {other}"),
            }
        }
    }

    #[test]
    fn argv_lists() {
        assert_eq!(list_cmd("rtpengine"), ["-w", "-S", "rtpengine"]);
        assert_eq!(new_chain_cmd("rtpengine"), ["-w", "-N", "rtpengine"]);
        assert_eq!(delete_chain_cmd("rtpengine"), ["-w", "-X", "rtpengine"]);
        assert_eq!(
            insert_cmd("INPUT", &jump_spec("rtpengine")),
            ["-w", "-I", "INPUT", "-p", "udp", "-j", "rtpengine"]
        );
        assert_eq!(
            insert_cmd("rtpengine", &target_spec(7)),
            [
                "-w",
                "-I",
                "rtpengine",
                "-p",
                "udp",
                "-j",
                "RTPENGINE",
                "--id",
                "7"
            ]
        );
        assert_eq!(delete_cmd("INPUT", 3), ["-w", "-D", "INPUT", "3"]);
    }

    #[test]
    fn positions_match_whole_rules_only() {
        let listing = "-N rtpengine\n\
                       -A rtpengine -p udp -j RTPENGINE --id 1\n\
                       -A rtpengine -p udp -j RTPENGINE --id 10\n\
                       -A rtpengine -p udp -m udp --dport 5 -j RTPENGINE --id 1\n\
                       -A rtpengine -p udp -j RTPENGINE --id 1\n\
                       -A other -p udp -j RTPENGINE --id 1\n";
        assert_eq!(positions(listing, "rtpengine", &target_spec(1)), [1, 4]);
        assert_eq!(positions(listing, "rtpengine", &target_spec(10)), [2]);
        assert!(positions(listing, "rtpengine", &target_spec(0)).is_empty());
        assert!(has_rules(listing, "rtpengine"));
        assert!(!has_rules("-N rtpengine\n", "rtpengine"));
        // The policy line is no rule and does not count in the numbering.
        let input = "-P INPUT DROP\n-A INPUT -i lo -j ACCEPT\n-A INPUT -p udp -j rtpengine\n";
        assert_eq!(positions(input, "INPUT", &jump_spec("rtpengine")), [2]);
    }

    #[test]
    fn fresh_install_runs_exactly_these_commands() {
        let mut f = Fake::new();
        let rules = Rules::install_with(&mut f, "rtpengine", 0).unwrap();
        let mut want = Vec::new();
        for p in PROGRAMS {
            want.extend([
                format!("{p} -w -S rtpengine"),
                format!("{p} -w -N rtpengine"),
                format!("{p} -w -I rtpengine -p udp -j RTPENGINE --id 0"),
                format!("{p} -w -S INPUT"),
                format!("{p} -w -I INPUT -p udp -j rtpengine"),
            ]);
        }
        assert_eq!(f.calls, want);
        assert_eq!(rules.programs(), PROGRAMS);
        assert!(rules.warnings.is_empty());
        for p in PROGRAMS {
            assert_eq!(f.get(p, "rtpengine"), ["-p udp -j RTPENGINE --id 0"]);
            assert_eq!(f.get(p, "INPUT"), ["-p udp -j rtpengine"]);
        }
    }

    #[test]
    fn jump_goes_to_the_top_of_input() {
        let mut f = Fake::new();
        f.rules("iptables", "INPUT").push("-p udp -j DROP".into());
        Rules::install_with(&mut f, "rtpengine", 3).unwrap();
        assert_eq!(
            f.get("iptables", "INPUT"),
            ["-p udp -j rtpengine", "-p udp -j DROP"]
        );
    }

    #[test]
    fn install_after_a_crash_adds_nothing() {
        let mut f = Fake::new();
        let first = Rules::install_with(&mut f, "rtpengine", 5).unwrap();
        drop(first); // a crash: nothing removed
        let before = f.chains.clone();
        f.calls.clear();
        Rules::install_with(&mut f, "rtpengine", 5).unwrap();
        assert_eq!(f.chains, before);
        let want: Vec<String> = PROGRAMS
            .iter()
            .flat_map(|p| [format!("{p} -w -S rtpengine"), format!("{p} -w -S INPUT")])
            .collect();
        assert_eq!(f.calls, want, "only listings when all is in place");
    }

    #[test]
    fn duplicates_are_reduced_to_one_from_the_bottom() {
        let mut f = Fake::new();
        for _ in 0..3 {
            f.rules("iptables", "INPUT")
                .push("-p udp -j rtpengine".into());
        }
        f.rules("iptables", "INPUT")
            .insert(1, "-p tcp -j ACCEPT".into());
        *f.rules("iptables", "rtpengine") = vec![
            "-p udp -j RTPENGINE --id 2".into(),
            "-p udp -j RTPENGINE --id 1".into(),
            "-p udp -j RTPENGINE --id 2".into(),
        ];
        Rules::install_with(&mut f, "rtpengine", 2).unwrap();
        let ipt: Vec<_> = f
            .calls
            .iter()
            .filter(|c| c.starts_with("iptables "))
            .collect();
        assert_eq!(
            ipt,
            [
                "iptables -w -S rtpengine",
                "iptables -w -D rtpengine 3",
                "iptables -w -S INPUT",
                "iptables -w -D INPUT 4",
                "iptables -w -D INPUT 3",
            ]
        );
        assert_eq!(
            f.get("iptables", "INPUT"),
            ["-p udp -j rtpengine", "-p tcp -j ACCEPT"]
        );
        assert_eq!(
            f.get("iptables", "rtpengine"),
            ["-p udp -j RTPENGINE --id 2", "-p udp -j RTPENGINE --id 1"]
        );
    }

    #[test]
    fn remove_takes_away_rule_jump_and_chain() {
        let mut f = Fake::new();
        f.rules("ip6tables", "INPUT")
            .push("-p tcp -j ACCEPT".into());
        let mut rules = Rules::install_with(&mut f, "rtpengine", 0).unwrap();
        f.calls.clear();
        assert!(rules.remove_with(&mut f).is_empty());
        let mut want = Vec::new();
        for p in PROGRAMS {
            want.extend([
                format!("{p} -w -S rtpengine"),
                format!("{p} -w -D rtpengine 1"),
                format!("{p} -w -S rtpengine"),
                format!("{p} -w -S INPUT"),
                format!("{p} -w -D INPUT 1"),
                format!("{p} -w -X rtpengine"),
            ]);
        }
        assert_eq!(f.calls, want);
        for p in PROGRAMS {
            assert!(!f.has_chain(p, "rtpengine"));
        }
        assert!(f.get("iptables", "INPUT").is_empty());
        assert_eq!(f.get("ip6tables", "INPUT"), ["-p tcp -j ACCEPT"]);
        // A second removal finds nothing to do.
        f.calls.clear();
        assert!(rules.remove_with(&mut f).is_empty());
        assert!(f.calls.is_empty());
    }

    #[test]
    fn remove_keeps_a_chain_other_tables_use() {
        let mut f = Fake::new();
        let mut rules = Rules::install_with(&mut f, "rtpengine", 0).unwrap();
        // Another daemon (table 1) shares the chain.
        f.rules("iptables", "rtpengine")
            .push("-p udp -j RTPENGINE --id 1".into());
        assert!(rules.remove_with(&mut f).is_empty());
        assert_eq!(
            f.get("iptables", "rtpengine"),
            ["-p udp -j RTPENGINE --id 1"]
        );
        assert_eq!(f.get("iptables", "INPUT"), ["-p udp -j rtpengine"]);
        assert!(!f.has_chain("ip6tables", "rtpengine"));
        assert!(f.get("ip6tables", "INPUT").is_empty());
    }

    #[test]
    fn missing_ip6tables_is_a_warning() {
        let mut f = Fake::new();
        f.missing.insert("ip6tables".into());
        let mut rules = Rules::install_with(&mut f, "rtpengine", 0).unwrap();
        assert_eq!(rules.programs(), ["iptables"]);
        assert_eq!(rules.warnings.len(), 1);
        assert!(
            rules.warnings[0].contains("ip6tables not found"),
            "{:?}",
            rules.warnings
        );
        f.calls.clear();
        assert!(rules.remove_with(&mut f).is_empty());
        assert!(
            f.calls.iter().all(|c| c.starts_with("iptables ")),
            "{:?}",
            f.calls
        );
    }

    #[test]
    fn missing_iptables_is_an_error() {
        let mut f = Fake::new();
        f.missing.insert("iptables".into());
        let e = Rules::install_with(&mut f, "rtpengine", 0).unwrap_err();
        assert!(e.contains("iptables not found"), "{e}");
    }

    #[test]
    fn failure_is_explained_and_undone() {
        let mut f = Fake::new();
        f.rules("iptables", "INPUT").push("-p tcp -j ACCEPT".into());
        // ip6tables cannot load the RTPENGINE extension; iptables' rules were in.
        f.refuse = Some(("ip6tables".into(), "RTPENGINE".into()));
        let e = Rules::install_with(&mut f, "rtpengine", 4).unwrap_err();
        assert!(
            e.contains("ip6tables -w -I rtpengine -p udp -j RTPENGINE --id 4 failed"),
            "{e}"
        );
        assert!(e.contains("libxt_RTPENGINE.so"), "{e}");
        for p in PROGRAMS {
            assert!(!f.has_chain(p, "rtpengine"), "{p}: chain left behind");
        }
        assert_eq!(f.get("iptables", "INPUT"), ["-p tcp -j ACCEPT"]);
    }

    #[test]
    fn invalid_chain_runs_nothing() {
        let mut f = Fake::new();
        assert!(Rules::install_with(&mut f, "INPUT", 0).is_err());
        assert!(f.calls.is_empty());
    }
}
