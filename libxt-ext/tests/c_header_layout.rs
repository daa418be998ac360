//! Checks our `repr(C)` mirrors of libxtables' structs against the installed
//! `/usr/include/xtables.h` (libxtables-dev), by compiling a C program that prints the
//! real sizes and offsets. Needs `cc` and libxtables-dev, as building the crate does.

use std::mem::{offset_of, size_of};
use std::path::PathBuf;
use std::process::Command;

use xt_RTPENGINE::target_data::TARGET_INFO_ALIGNED_SIZE;
use xt_RTPENGINE::xtables_abi::*;

const C_PROGRAM: &str = r#"
#include <stddef.h>
#include <stdio.h>
#include <xtables.h>
#define SZ(t) printf(#t " %zu\n", sizeof(struct t))
#define OFF(t, f) printf(#t "." #f " %zu\n", offsetof(struct t, f))
int main(void) {
    SZ(xt_option_entry); OFF(xt_option_entry, type); OFF(xt_option_entry, id);
    OFF(xt_option_entry, flags); OFF(xt_option_entry, size); OFF(xt_option_entry, max);
    SZ(xt_option_call); OFF(xt_option_call, arg); OFF(xt_option_call, entry);
    OFF(xt_option_call, data); OFF(xt_option_call, xflags); OFF(xt_option_call, invert);
    OFF(xt_option_call, val); OFF(xt_option_call, target); OFF(xt_option_call, udata);
    SZ(xt_fcheck_call); OFF(xt_fcheck_call, data); OFF(xt_fcheck_call, xflags);
    SZ(xtables_target); OFF(xtables_target, name); OFF(xtables_target, revision);
    OFF(xtables_target, family); OFF(xtables_target, size); OFF(xtables_target, help);
    OFF(xtables_target, x6_parse); OFF(xtables_target, x6_fcheck);
    OFF(xtables_target, x6_options); OFF(xtables_target, print); OFF(xtables_target, save);
    OFF(xtables_target, udata_size); OFF(xtables_target, option_offset);
    OFF(xtables_target, tflags); OFF(xtables_target, loaded);
    SZ(xtables_globals); OFF(xtables_globals, exit_err); OFF(xtables_globals, compat_rev);
    SZ(xt_entry_target); OFF(xt_entry_target, data);
    printf("XT_ALIGN(4) %zu\n", (size_t)XT_ALIGN(4));
    printf("XTTYPE_STRING %d\nPARAMETER_PROBLEM %d\n", XTTYPE_STRING, PARAMETER_PROBLEM);
    printf("NFPROTO_IPV4 %d\nNFPROTO_IPV6 %d\n", NFPROTO_IPV4, NFPROTO_IPV6);
    printf("XTABLES_VERSION %s\n", XTABLES_VERSION);
    return 0;
}
"#;

/// Compiles and runs `C_PROGRAM`, returning its "name value" lines.
fn c_facts() -> Vec<(String, String)> {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("c_header_layout");
    std::fs::create_dir_all(&dir).expect("create temp dir");
    let (src, exe) = (dir.join("layout.c"), dir.join("layout"));
    std::fs::write(&src, C_PROGRAM).expect("write C source");
    let cc = Command::new("cc")
        .arg("-o")
        .arg(&exe)
        .arg(&src)
        .output()
        .expect("running cc failed: install gcc and libxtables-dev to check the xtables layout");
    assert!(
        cc.status.success(),
        "cc failed:\n{}",
        String::from_utf8_lossy(&cc.stderr)
    );
    let out = Command::new(&exe).output().expect("run layout program");
    assert!(out.status.success());
    String::from_utf8(out.stdout)
        .expect("utf-8")
        .lines()
        .map(|l| {
            let (k, v) = l.split_once(' ').expect("name value");
            (k.to_owned(), v.to_owned())
        })
        .collect()
}

#[test]
fn rust_layouts_match_the_installed_xtables_header() {
    let rust: Vec<(&str, String)> = vec![
        ("xt_option_entry", size_of::<XtOptionEntry>().to_string()),
        (
            "xt_option_entry.type",
            offset_of!(XtOptionEntry, type_).to_string(),
        ),
        (
            "xt_option_entry.id",
            offset_of!(XtOptionEntry, id).to_string(),
        ),
        (
            "xt_option_entry.flags",
            offset_of!(XtOptionEntry, flags).to_string(),
        ),
        (
            "xt_option_entry.size",
            offset_of!(XtOptionEntry, size).to_string(),
        ),
        (
            "xt_option_entry.max",
            offset_of!(XtOptionEntry, max).to_string(),
        ),
        ("xt_option_call", size_of::<XtOptionCall>().to_string()),
        (
            "xt_option_call.arg",
            offset_of!(XtOptionCall, arg).to_string(),
        ),
        (
            "xt_option_call.entry",
            offset_of!(XtOptionCall, entry).to_string(),
        ),
        (
            "xt_option_call.data",
            offset_of!(XtOptionCall, data).to_string(),
        ),
        (
            "xt_option_call.xflags",
            offset_of!(XtOptionCall, xflags).to_string(),
        ),
        (
            "xt_option_call.invert",
            offset_of!(XtOptionCall, invert).to_string(),
        ),
        (
            "xt_option_call.val",
            offset_of!(XtOptionCall, val).to_string(),
        ),
        (
            "xt_option_call.target",
            offset_of!(XtOptionCall, target).to_string(),
        ),
        (
            "xt_option_call.udata",
            offset_of!(XtOptionCall, udata).to_string(),
        ),
        ("xt_fcheck_call", size_of::<XtFcheckCall>().to_string()),
        (
            "xt_fcheck_call.data",
            offset_of!(XtFcheckCall, data).to_string(),
        ),
        (
            "xt_fcheck_call.xflags",
            offset_of!(XtFcheckCall, xflags).to_string(),
        ),
        ("xtables_target", size_of::<XtablesTarget>().to_string()),
        (
            "xtables_target.name",
            offset_of!(XtablesTarget, name).to_string(),
        ),
        (
            "xtables_target.revision",
            offset_of!(XtablesTarget, revision).to_string(),
        ),
        (
            "xtables_target.family",
            offset_of!(XtablesTarget, family).to_string(),
        ),
        (
            "xtables_target.size",
            offset_of!(XtablesTarget, size).to_string(),
        ),
        (
            "xtables_target.help",
            offset_of!(XtablesTarget, help).to_string(),
        ),
        (
            "xtables_target.x6_parse",
            offset_of!(XtablesTarget, x6_parse).to_string(),
        ),
        (
            "xtables_target.x6_fcheck",
            offset_of!(XtablesTarget, x6_fcheck).to_string(),
        ),
        (
            "xtables_target.x6_options",
            offset_of!(XtablesTarget, x6_options).to_string(),
        ),
        (
            "xtables_target.print",
            offset_of!(XtablesTarget, print).to_string(),
        ),
        (
            "xtables_target.save",
            offset_of!(XtablesTarget, save).to_string(),
        ),
        (
            "xtables_target.udata_size",
            offset_of!(XtablesTarget, udata_size).to_string(),
        ),
        (
            "xtables_target.option_offset",
            offset_of!(XtablesTarget, option_offset).to_string(),
        ),
        (
            "xtables_target.tflags",
            offset_of!(XtablesTarget, tflags).to_string(),
        ),
        (
            "xtables_target.loaded",
            offset_of!(XtablesTarget, loaded).to_string(),
        ),
        ("xtables_globals", size_of::<XtablesGlobals>().to_string()),
        (
            "xtables_globals.exit_err",
            offset_of!(XtablesGlobals, exit_err).to_string(),
        ),
        (
            "xtables_globals.compat_rev",
            offset_of!(XtablesGlobals, compat_rev).to_string(),
        ),
        ("xt_entry_target", XT_ENTRY_TARGET_DATA_OFFSET.to_string()),
        (
            "xt_entry_target.data",
            XT_ENTRY_TARGET_DATA_OFFSET.to_string(),
        ),
        ("XT_ALIGN(4)", TARGET_INFO_ALIGNED_SIZE.to_string()),
        ("XTTYPE_STRING", XTTYPE_STRING.to_string()),
        ("PARAMETER_PROBLEM", PARAMETER_PROBLEM.to_string()),
        ("NFPROTO_IPV4", NFPROTO_IPV4.to_string()),
        ("NFPROTO_IPV6", NFPROTO_IPV6.to_string()),
        (
            "XTABLES_VERSION",
            XTABLES_VERSION.to_str().unwrap().to_owned(),
        ),
    ];
    let c = c_facts();
    assert_eq!(
        c.len(),
        rust.len(),
        "C program and Rust list disagree on what to check"
    );
    for ((c_name, c_value), (r_name, r_value)) in c.iter().zip(&rust) {
        assert_eq!(c_name, r_name, "check lists out of order");
        assert_eq!(
            c_value, r_value,
            "{c_name}: header says {c_value}, Rust says {r_value}"
        );
    }
}
