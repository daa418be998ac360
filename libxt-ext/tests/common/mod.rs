//! Shared by the host tests that load the built libxt_RTPENGINE.so into libxtables.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

const SYSTEM_XTABLES_DIR: &str = "/usr/lib/x86_64-linux-gnu/xtables";

/// The cdylib cargo built alongside this test's rlib (target/<profile>/deps/), or
/// `$XT_RTPENGINE_SO`.
pub fn our_library() -> PathBuf {
    if let Some(path) = std::env::var_os("XT_RTPENGINE_SO") {
        return PathBuf::from(path);
    }
    let exe = std::env::current_exe().expect("test executable path");
    let deps = exe.parent().expect("deps dir");
    [
        deps.to_path_buf(),
        deps.parent().expect("profile dir").to_path_buf(),
    ]
    .iter()
    .map(|dir| dir.join("libxt_RTPENGINE.so"))
    .find(|p| p.exists())
    .expect("libxt_RTPENGINE.so not built next to the test binary")
}

/// A directory for XTABLES_LIBDIR: the system's extensions plus ours (not Debian's).
pub fn xtables_libdir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        // One directory per test binary: they run in parallel.
        let exe = std::env::current_exe().expect("test executable path");
        let name = exe
            .file_name()
            .expect("exe name")
            .to_string_lossy()
            .into_owned();
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("xtables-libdir-{name}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create libdir");
        let system = std::fs::read_dir(SYSTEM_XTABLES_DIR)
            .unwrap_or_else(|e| panic!("{SYSTEM_XTABLES_DIR}: {e}; install iptables"));
        for entry in system.flatten() {
            let name = entry.file_name();
            if name != "libxt_RTPENGINE.so" {
                std::os::unix::fs::symlink(entry.path(), dir.join(&name)).expect("symlink");
            }
        }
        let ours = our_library().canonicalize().expect("our library");
        std::os::unix::fs::symlink(ours, dir.join("libxt_RTPENGINE.so")).expect("symlink ours");
        dir
    })
}
