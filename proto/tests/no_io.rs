//! Keeps rtpengine-proto free of I/O: its manifest may name only dependencies
//! that do none, and its sources (test code aside) may not touch files,
//! sockets, processes, the environment, the clocks or a random source. The
//! daemon injects those (see README.md in this crate).

use std::fs;
use std::path::{Path, PathBuf};

/// Dependencies known to do no I/O. Adding one here means checking that.
/// hmac, sha1 and crc32fast (STUN's MESSAGE-INTEGRITY and FINGERPRINT) are
/// pure computations over byte slices.
const ALLOWED_DEPENDENCIES: &[&str] = &[
    "rtpengine-core",
    "rand_core",
    "thiserror",
    "tracing",
    "hmac",
    "sha1",
    "crc32fast",
    // JSON values to and from strings (call::redis_json); its readers and
    // writers are generic over io traits, it opens nothing itself.
    "serde_json",
];

/// Names whose use means I/O, a clock reading or randomness of the crate's own.
const FORBIDDEN: &[&str] = &[
    "std::fs",
    "fs::",
    "File::",
    "UdpSocket",
    "TcpStream",
    "TcpListener",
    "UnixStream",
    "UnixDatagram",
    "std::process",
    "std::env",
    "tokio",
    "mio",
    "socket2",
    "libc",
    "Instant::now",
    "SystemTime::now",
    "thread_rng",
    "rand::rng",
    "OsRng",
    "SysRng",
    "getrandom",
    "RandomState",
];

/// The dependency names of `[dependencies]` and `[target.*.dependencies]`.
fn dependencies(manifest: &str) -> Vec<String> {
    let mut section = "";
    let mut out = Vec::new();
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            section = line;
            continue;
        }
        let normal = section == "[dependencies]"
            || (section.starts_with("[target.") && section.ends_with(".dependencies]"));
        if let (true, Some((name, _))) = (normal, line.split_once('=')) {
            if !line.starts_with('#') {
                out.push(name.trim().to_owned());
            }
        }
    }
    out
}

/// Where `word` stands as a name (not inside a longer identifier).
fn mentions(code: &str, word: &str) -> bool {
    code.match_indices(word).any(|(at, _)| {
        let before = code[..at].chars().next_back();
        let after = code[at + word.len()..].chars().next();
        let ident = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
        !ident(before) && (word.ends_with("::") || !ident(after))
    })
}

/// The forbidden names in a source file's non-test code: everything before its
/// first `#[cfg(test)]`, without `//` comments.
fn violations(source: &str) -> Vec<(usize, &'static str)> {
    let mut found = Vec::new();
    for (n, line) in source.lines().enumerate() {
        if line.trim() == "#[cfg(test)]" {
            break;
        }
        let code = line.split("//").next().unwrap_or("");
        for word in FORBIDDEN {
            if mentions(code, word) {
                found.push((n + 1, *word));
            }
        }
    }
    found
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn manifest_names_only_io_free_dependencies() {
    let manifest = fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml")).unwrap();
    let deps = dependencies(&manifest);
    assert!(deps.contains(&"rand_core".to_owned()), "parsed: {deps:?}");
    let unknown: Vec<_> = deps
        .iter()
        .filter(|d| !ALLOWED_DEPENDENCIES.contains(&d.as_str()))
        .collect();
    assert!(
        unknown.is_empty(),
        "rtpengine-proto does no I/O; these dependencies are not known to be free of it: {unknown:?}"
    );
}

#[test]
fn sources_do_no_io() {
    let mut files = Vec::new();
    rust_files(
        Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/src")),
        &mut files,
    );
    assert!(files.len() > 20, "sources not found: {files:?}");
    let mut bad = Vec::new();
    for file in files {
        if file.file_name().is_some_and(|n| n == "tests.rs") {
            continue;
        }
        for (line, word) in violations(&fs::read_to_string(&file).unwrap()) {
            bad.push(format!("{}:{line}: {word}", file.display()));
        }
    }
    assert!(
        bad.is_empty(),
        "rtpengine-proto does no I/O and reads no clock or random source \
         (inject them from the daemon):\n{}",
        bad.join("\n")
    );
}

#[test]
fn the_checks_catch_what_they_are_for() {
    let src = "use std::fs;\nuse std::{io, fs};\nlet t = Instant::now(); // fine: Instant::now\n\
               let s = std::net::UdpSocket::bind(a);\nlet m = mio_free; let x = my_tokio_x;\n\
               #[cfg(test)]\nlet u = SystemTime::now();\n";
    assert_eq!(
        violations(src),
        [(1, "std::fs"), (3, "Instant::now"), (4, "UdpSocket")]
    );
    assert!(violations("use std::{io, fs};\nfs::read(p);\n").contains(&(2, "fs::")));
    let manifest = "[dependencies]\ntokio = \"1\"\n# x = 1\n[dev-dependencies]\nrand = \"0.10\"\n\
                    [target.'cfg(unix)'.dependencies]\nlibc = \"0.2\"\n";
    assert_eq!(dependencies(manifest), ["tokio", "libc"]);
}
