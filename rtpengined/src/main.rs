//! rtpengined: drop-in userspace replacement for rtpengine 10.5's daemon.

// Frees across threads without contending on arena locks (see Cargo.toml).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    std::process::exit(rtpengined::daemon::run(std::env::args().collect()));
}
