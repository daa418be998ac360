//! rtpengined: drop-in userspace replacement for rtpengine 10.5's daemon.
fn main() {
    std::process::exit(rtpengined::daemon::run(std::env::args().collect()));
}
