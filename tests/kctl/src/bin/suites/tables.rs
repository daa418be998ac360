//! Issue 2: module load, /proc/rtpengine tables, their errors, status, module parameters,
//! and when rmmod is allowed.

use super::{sh, Checks};
use rtpe_kctl::{main_control, table_ids, Control, PROC_ROOT};
use rtpengine_core::errno::*;
use std::io::{BufRead, BufReader};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::process::{Command, Stdio};

fn mode(path: &str) -> Option<(u32, u32, u32)> {
    std::fs::metadata(path)
        .ok()
        .map(|m| (m.mode() & 0o7777, m.uid(), m.gid()))
}

pub fn run(t: &mut Checks) {
    let (ok, out) = sh("modprobe xt_RTPENGINE");
    t.check("modprobe xt_RTPENGINE", ok, &out);
    let (_, lsmod) = sh("cat /proc/modules");
    t.check(
        "module is named xt_RTPENGINE",
        lsmod.starts_with("xt_RTPENGINE ") || lsmod.contains("\nxt_RTPENGINE "),
        &lsmod,
    );

    t.check(
        "control is 0220",
        mode(&format!("{PROC_ROOT}/control")).map(|m| m.0) == Some(0o220),
        format_args!("{:?}", mode(&format!("{PROC_ROOT}/control"))),
    );
    t.check(
        "list is 0444",
        mode(&format!("{PROC_ROOT}/list")).map(|m| m.0) == Some(0o444),
        "",
    );
    t.check(
        "no tables at load",
        table_ids().ok() == Some(vec![]),
        format_args!("{:?}", table_ids()),
    );

    for id in [0u32, 42, 63] {
        t.errno(
            &format!("add {id}"),
            main_control(&format!("add {id}\n")),
            0,
        );
        let dir = format!("{PROC_ROOT}/{id}");
        t.check(
            &format!("{id}/ is 0555"),
            mode(&dir).map(|m| m.0) == Some(0o555),
            format_args!("{:?}", mode(&dir)),
        );
        for (f, m) in [
            ("control", 0o660),
            ("list", 0o444),
            ("blist", 0o444),
            ("status", 0o444),
        ] {
            let p = format!("{dir}/{f}");
            let md = std::fs::metadata(&p);
            let regular = md
                .as_ref()
                .map(|m| m.file_type().is_file() && !m.file_type().is_fifo())
                .unwrap_or(false);
            t.check(
                &format!("{id}/{f} is a {m:o} file"),
                regular && mode(&p).map(|x| x.0) == Some(m),
                format_args!("{:?}", mode(&p)),
            );
        }
    }
    t.check(
        "list shows 0 42 63",
        table_ids().ok() == Some(vec![0, 42, 63]),
        format_args!("{:?}", table_ids()),
    );
    let text = std::fs::read_to_string(format!("{PROC_ROOT}/list")).unwrap_or_default();
    t.check(
        "list text is one id per line",
        text == "0\n42\n63\n",
        format_args!("{text:?}"),
    );

    // Errors, as rtpengine 10.5 answers them.
    t.errno("add existing → EEXIST", main_control("add 42\n"), EEXIST.0);
    t.errno("del missing → ENOENT", main_control("del 5\n"), ENOENT.0);
    t.errno("add 64 → EINVAL", main_control("add 64\n"), EINVAL.0);
    t.errno("del 64 → EINVAL", main_control("del 64\n"), EINVAL.0);
    t.errno("add without id → EINVAL", main_control("add x\n"), EINVAL.0);
    t.errno("unknown verb → EINVAL", main_control("foo 1\n"), EINVAL.0);
    t.errno(
        "5-byte write → EINVAL (10.5 wants 6..20)",
        main_control("add 1"),
        EINVAL.0,
    );
    t.errno(
        "21-byte write → EINVAL",
        main_control("add 1               \n"),
        EINVAL.0,
    );
    t.errno("trailing junk → EINVAL", main_control("add 4x\n"), EINVAL.0);

    // status
    let status = std::fs::read_to_string(format!("{PROC_ROOT}/42/status")).unwrap_or_default();
    t.check(
        "status of an idle table",
        status == "Refcount:    1\nControl PID: 0\nTargets:     0\n",
        format_args!("{status:?}"),
    );

    // One control opener at a time; del refused while open.
    let first = Control::open(42);
    t.check(
        "open 42/control",
        first.is_ok(),
        format_args!("{:?}", first.as_ref().err()),
    );
    t.errno("second open → EBUSY", Control::open(42), EBUSY.0);
    t.errno(
        "del while control open → EBUSY",
        main_control("del 42\n"),
        EBUSY.0,
    );
    let status = std::fs::read_to_string(format!("{PROC_ROOT}/42/status")).unwrap_or_default();
    let pid = std::process::id();
    t.check(
        "status shows the control PID",
        status.contains(&format!("Control PID: {pid}\n")),
        format_args!("{status:?}"),
    );
    t.check("other tables still open", Control::open(0).is_ok(), "");
    drop(first);
    t.check("reopen after close", Control::open(42).is_ok(), "");

    // The controlling process is SIGKILLed: the table stays deletable.
    let me = std::env::current_exe().unwrap();
    for round in 0..3 {
        let mut child = Command::new(&me)
            .args(["hold-control", "63"])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        t.check(
            &format!("child holds 63/control ({round})"),
            line.trim() == "ready",
            &line,
        );
        t.errno(
            &format!("del 63 while held → EBUSY ({round})"),
            main_control("del 63\n"),
            EBUSY.0,
        );
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
    }
    t.errno(
        "del 63 after SIGKILL of the holder",
        main_control("del 63\n"),
        0,
    );

    // rmmod is refused while a table exists.
    let (ok, out) = sh("rmmod xt_RTPENGINE");
    t.check("rmmod refused with tables", !ok, &out);
    t.check(
        "module still there",
        std::path::Path::new(PROC_ROOT).exists(),
        "",
    );
    t.errno("del 42", main_control("del 42\n"), 0);
    t.errno("del 0", main_control("del 0\n"), 0);
    t.check(
        "table dir gone",
        !std::path::Path::new(&format!("{PROC_ROOT}/42")).exists(),
        "",
    );
    t.errno("add 42 again after del", main_control("add 42\n"), 0);
    t.errno("del 42 again", main_control("del 42\n"), 0);
    t.check(
        "list empty",
        table_ids().ok() == Some(vec![]),
        format_args!("{:?}", table_ids()),
    );
    {
        let _open = std::fs::File::open(format!("{PROC_ROOT}/list"));
        let (ok, _) = sh("rmmod xt_RTPENGINE");
        t.check("rmmod refused while a /proc file is open", !ok, "");
    }
    let (ok, out) = sh("rmmod xt_RTPENGINE");
    t.check("rmmod once no table is left", ok, &out);
    t.check(
        "/proc/rtpengine gone",
        !std::path::Path::new(PROC_ROOT).exists(),
        "",
    );

    // log_errors is a bool in 10.5: every spelling modprobe passes for one must load.
    for arg in ["log_errors=Y", "log_errors=1", "log_errors", "log_errors=n"] {
        let (ok, out) = sh(&format!("modprobe xt_RTPENGINE {arg}"));
        t.check(&format!("modprobe xt_RTPENGINE {arg}"), ok, &out);
        let (ok, out) = sh("rmmod xt_RTPENGINE");
        t.check(&format!("rmmod after {arg}"), ok, &out);
    }

    // proc_uid / proc_gid / proc_mask apply to the per-table entries.
    let (ok, out) = sh("modprobe xt_RTPENGINE proc_uid=1234 proc_gid=5678 proc_mask=0027");
    t.check("modprobe with proc_uid/proc_gid/proc_mask", ok, &out);
    t.errno("add 7", main_control("add 7\n"), 0);
    let d = mode(&format!("{PROC_ROOT}/7"));
    t.check(
        "table dir owned by proc_uid:proc_gid, mode masked",
        d == Some((0o550, 1234, 5678)),
        format_args!("{d:?}"),
    );
    let c = mode(&format!("{PROC_ROOT}/7/control"));
    t.check(
        "control owned by proc_uid:proc_gid",
        c.map(|c| (c.1, c.2)) == Some((1234, 5678)),
        format_args!("{c:?}"),
    );
    let r = mode(&format!("{PROC_ROOT}/control"));
    t.check(
        "main control owned by proc_uid:proc_gid (as 10.5)",
        r.map(|c| (c.0, c.1, c.2)) == Some((0o220, 1234, 5678)),
        format_args!("{r:?}"),
    );
    t.errno("del 7", main_control("del 7\n"), 0);
    let (ok, out) = sh("rmmod xt_RTPENGINE");
    t.check("rmmod", ok, &out);
}
