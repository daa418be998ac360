//! Kernel table setup on a host without xt_RTPENGINE (the VM tests cover the module):
//! userspace fallback with a clear log line, --no-fallback failing with the reason.

mod common;

use std::path::Path;
use std::process::Command;

fn run(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_rtpengined"))
        .args(["--config-file=none", "-i", "127.0.0.1", "-n", "127.0.0.1:0"])
        .args(args)
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap_or(-1), text)
}

fn module_loaded() -> bool {
    Path::new("/proc/rtpengine/control").exists()
}

#[test]
fn no_fallback_without_module_exits_with_reason() {
    if module_loaded() {
        eprintln!("skipped: xt_RTPENGINE is loaded here");
        return;
    }
    let (code, out) = run(&["--table=0", "--no-fallback", "--foreground"]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("--no-fallback") && out.contains("module not loaded"),
        "{out}"
    );
}

#[test]
fn no_fallback_needs_a_table_and_tables_are_range_checked() {
    let (code, out) = run(&["--table=-1", "--no-fallback", "--foreground"]);
    assert_ne!(code, 0);
    assert!(out.contains("disabled"), "{out}");
    let (code, out) = run(&["--table=64", "--no-fallback", "--foreground"]);
    assert_ne!(code, 0);
    assert!(out.contains("out of range"), "{out}");
}

#[test]
fn without_module_the_daemon_relays_in_userspace() {
    if module_loaded() {
        eprintln!("skipped: xt_RTPENGINE is loaded here");
        return;
    }
    let d = common::Daemon::start(43100, 43199, &["--table=0"]);
    let a = common::phone("127.0.0.1");
    let b = common::phone("127.0.0.1");
    let o = d.ok(&common::offer(
        "kf",
        "a",
        &common::sdp("127.0.0.1", a.local_addr().unwrap().port()),
    ));
    let r = d.ok(&common::answer(
        "kf",
        "a",
        "b",
        &common::sdp("127.0.0.1", b.local_addr().unwrap().port()),
    ));
    a.send_to(&common::rtp(1, 7), common::media_target(&r))
        .unwrap();
    let (got, _) = common::recv(&b).expect("relayed in userspace");
    assert_eq!(got, common::rtp(1, 7));
    b.send_to(&common::rtp(1, 8), common::media_target(&o))
        .unwrap();
    assert!(common::recv(&a).is_some());
    let log = d.log_text();
    assert!(
        log.contains("module not loaded") && log.contains("relaying in userspace"),
        "{log}"
    );
}
