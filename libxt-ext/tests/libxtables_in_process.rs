//! Loads our libxt_RTPENGINE.so into libxtables the way iptables does (XTABLES_LIBDIR,
//! dlopen, constructor registration), from a small C program that needs no kernel: it
//! answers libxtables' "does the kernel know this revision?" question itself. Checks
//! what registration declared, and the `save`/`print` output that `iptables -S` and
//! `-L` would show, for both families. Needs `cc`, libxtables-dev and iptables.

use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::OnceLock;

mod common;

use xt_RTPENGINE::table_id_option::{print_text, save_text};

const HARNESS: &str = r#"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xtables.h>

/* Pretend the kernel supports every revision: no kernel module is needed. */
static int compat_rev(const char *name, uint8_t rev, int opt) { return 1; }

static void exit_err(enum xtables_exittype status, const char *msg, ...) {
    va_list ap;
    va_start(ap, msg);
    vfprintf(stderr, msg, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(status);
}

static struct xtables_globals globals = {
    .program_name = "harness", .program_version = "0",
    .exit_err = exit_err, .compat_rev = compat_rev,
};

/* usage: harness 4|6 ID */
int main(int argc, char **argv) {
    if (argc != 3) return 64;
    uint8_t family = atoi(argv[1]) == 6 ? NFPROTO_IPV6 : NFPROTO_IPV4;
    if (xtables_init_all(&globals, family) < 0) return 65;
    struct xtables_target *t = xtables_find_target("RTPENGINE", XTF_LOAD_MUST_SUCCEED);
    printf("name=%s revision=%u family=%u size=%zu userspacesize=%zu\n", t->name,
           t->revision, t->family, t->size, t->userspacesize);
    printf("callbacks help=%d x6_parse=%d x6_fcheck=%d print=%d save=%d option=%s\n",
           !!t->help, !!t->x6_parse, !!t->x6_fcheck, !!t->print, !!t->save,
           t->x6_options ? t->x6_options[0].name : "(none)");
    struct xt_entry_target *e = calloc(1, XT_ALIGN(sizeof(*e)) + t->size);
    *(uint32_t *)e->data = (uint32_t)strtoul(argv[2], NULL, 10);
    printf("save=[");
    t->save(NULL, e);
    printf("]\nprint=[");
    t->print(NULL, e, 0);
    printf("]\n");
    return 0;
}
"#;

/// Compiles the harness once per test binary.
fn harness() -> &'static PathBuf {
    static EXE: OnceLock<PathBuf> = OnceLock::new();
    EXE.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("libxtables_in_process");
        std::fs::create_dir_all(&dir).expect("create temp dir");
        let (src, exe) = (dir.join("harness.c"), dir.join("harness"));
        std::fs::write(&src, HARNESS).expect("write harness");
        let cc = Command::new("cc")
            .arg("-Wall")
            .arg("-o")
            .arg(&exe)
            .arg(&src)
            .arg("-lxtables")
            .output()
            .expect("running cc failed: install gcc and libxtables-dev");
        assert!(
            cc.status.success(),
            "cc failed:\n{}",
            String::from_utf8_lossy(&cc.stderr)
        );
        exe
    })
}

fn run(family: &str, id: &str) -> Output {
    Command::new(harness())
        .args([family, id])
        .env("XTABLES_LIBDIR", common::xtables_libdir())
        .output()
        .expect("run harness")
}

#[test]
fn registration_declares_revision_0_and_8_byte_data_for_both_families() {
    for (family, nfproto) in [("4", 2), ("6", 10)] {
        let out = run(family, "0");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let expected = format!(
            "name=RTPENGINE revision=0 family={nfproto} size=8 userspacesize=8\n\
             callbacks help=1 x6_parse=1 x6_fcheck=1 print=1 save=1 option=id\n"
        );
        assert!(stdout.starts_with(&expected), "IPv{family}:\n{stdout}");
    }
}

#[test]
fn save_and_print_show_the_rule_id() {
    for family in ["4", "6"] {
        for id in [0u32, 1, 42, 63] {
            let out = run(family, &id.to_string());
            let stdout = String::from_utf8_lossy(&out.stdout);
            assert!(out.status.success(), "{stdout}");
            assert!(
                stdout.contains(&format!("save=[{}]\n", save_text(id))),
                "IPv{family} id {id}:\n{stdout}"
            );
            assert!(
                stdout.contains(&format!("print=[{}]\n", print_text(id))),
                "IPv{family} id {id}:\n{stdout}"
            );
        }
    }
}
