//! Host smoke test: the real iptables 1.8.9 programs load our freshly built
//! libxt_RTPENGINE.so (through XTABLES_LIBDIR) and use its help, option parser, error
//! messages and print callback. Every command runs in a fresh network namespace, so
//! nothing touches the host's rules. Without the kernel module no rule can be committed
//! (iptables warns "revision 0 not supported"); `tests/vm/iptables_ext.sh` covers that.
//! Needs: iptables (legacy and nft front ends), util-linux `unshare`.

use std::process::{Command, Output};

mod common;

use xt_RTPENGINE::table_id_option::{parse_table_id, HELP_TEXT, MISSING_ID_MESSAGE};

const PROGRAMS: [&str; 4] = [
    "iptables-legacy",
    "iptables-nft",
    "ip6tables-legacy",
    "ip6tables-nft",
];
/// iptables' exit status for PARAMETER_PROBLEM.
const PARAMETER_PROBLEM: i32 = 2;

fn is_root() -> bool {
    let out = Command::new("id").arg("-u").output().expect("run id -u");
    String::from_utf8_lossy(&out.stdout).trim() == "0"
}

/// Runs `program args` in a new network namespace with our extension directory.
fn iptables(program: &str, args: &[&str]) -> Output {
    let mut cmd = Command::new("unshare");
    if !is_root() {
        cmd.args(["--user", "--map-root-user"]);
    }
    cmd.arg("--net")
        .arg(program)
        .args(args)
        .env("XTABLES_LIBDIR", common::xtables_libdir());
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("running unshare {program}: {e}"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("unshare failed") && !stderr.contains("unshare:"),
        "cannot create a network namespace: {stderr}"
    );
    out
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn help_text_comes_from_our_library() {
    for program in PROGRAMS {
        let out = iptables(program, &["-p", "udp", "-j", "RTPENGINE", "--help"]);
        let stdout = text(&out.stdout);
        assert!(out.status.success(), "{program}: {}", text(&out.stderr));
        assert!(
            stdout.contains(HELP_TEXT),
            "{program} printed no RTPENGINE help:\n{stdout}"
        );
    }
}

#[test]
fn missing_id_is_refused_with_the_10_5_message() {
    for program in PROGRAMS {
        let out = iptables(program, &["-A", "INPUT", "-p", "udp", "-j", "RTPENGINE"]);
        let stderr = text(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(PARAMETER_PROBLEM),
            "{program}: {stderr}"
        );
        assert!(stderr.contains(MISSING_ID_MESSAGE), "{program}: {stderr}");
    }
}

#[test]
fn bad_ids_are_refused_with_our_message() {
    for program in PROGRAMS {
        for bad in ["64", "99", "-1", "abc", " 5", "", "4294967296"] {
            let out = iptables(
                program,
                &["-A", "INPUT", "-p", "udp", "-j", "RTPENGINE", "--id", bad],
            );
            let stderr = text(&out.stderr);
            let expected = parse_table_id(bad).expect_err("a bad id").to_string();
            assert_eq!(
                out.status.code(),
                Some(PARAMETER_PROBLEM),
                "{program} --id {bad:?}: {stderr}"
            );
            assert!(
                stderr.contains(&expected),
                "{program} --id {bad:?}: {stderr}"
            );
        }
    }
}

#[test]
fn repeated_or_inverted_id_is_refused() {
    for program in PROGRAMS {
        let out = iptables(
            program,
            &["-A", "INPUT", "-j", "RTPENGINE", "--id", "1", "--id", "2"],
        );
        let stderr = text(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(PARAMETER_PROBLEM),
            "{program}: {stderr}"
        );
        assert!(
            stderr.contains("--id") && stderr.contains("once"),
            "{program}: {stderr}"
        );

        let out = iptables(
            program,
            &["-A", "INPUT", "-j", "RTPENGINE", "!", "--id", "1"],
        );
        let stderr = text(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(PARAMETER_PROBLEM),
            "{program}: {stderr}"
        );
        assert!(
            stderr.contains("--id") && stderr.contains("cannot be inverted"),
            "{program}: {stderr}"
        );
    }
}

#[test]
fn verbose_append_prints_the_parsed_id() {
    // `-v` prints the rule as parsed, through our print callback, before the commit
    // (which fails here unless the kernel knows the target: harmless in the namespace).
    for program in PROGRAMS {
        for id in ["0", "5", "63"] {
            let out = iptables(
                program,
                &[
                    "-v",
                    "-A",
                    "INPUT",
                    "-p",
                    "udp",
                    "-j",
                    "RTPENGINE",
                    "--id",
                    id,
                ],
            );
            let stdout = text(&out.stdout);
            let line = stdout
                .lines()
                .find(|l| l.starts_with("RTPENGINE"))
                .unwrap_or_else(|| {
                    panic!("{program}: no rule printed:\n{stdout}{}", text(&out.stderr))
                });
            assert!(
                line.ends_with(&format!(" RTPENGINE id:{id}")),
                "{program}: {line:?}"
            );
        }
    }
}
