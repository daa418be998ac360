//! Test suites that run inside the test VM (as root, on our kernel): `rtpe-vmtest SUITE`.
//! Each check prints `ok - NAME` or `not ok - NAME: detail`; the exit status is 1 if any
//! check failed. scripts/vm-test counts the lines.

mod suites;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(suite) = args.first() else {
        eprintln!("usage: rtpe-vmtest SUITE|hold-control ID");
        return ExitCode::from(2);
    };
    let mut t = suites::Checks {
        stock: std::env::var("RTPE_STOCK").is_ok_and(|v| v == "1"),
        ..Default::default()
    };
    match suite.as_str() {
        "hold-control" => return suites::hold_control(&args[1..]),
        "fill-table" => return suites::fill_table(&args[1..]),
        "tables" => suites::tables::run(&mut t),
        "handshake" => suites::handshake::run(&mut t),
        "forward" => suites::forward::run(&mut t),
        "lifecycle" => suites::lifecycle::run(&mut t),
        "srtp" => suites::srtp::run(&mut t),
        "recording" => suites::recording::run(&mut t),
        "recording-stress" => {
            let secs = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(20);
            suites::recording::stress(&mut t, secs)
        }
        "bench" => {
            suites::bench::run(&mut t);
            return ExitCode::SUCCESS;
        }
        other => {
            eprintln!("unknown suite {other}");
            return ExitCode::from(2);
        }
    }
    println!("# {}: {} passed, {} failed", suite, t.passed, t.failed);
    if t.failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
