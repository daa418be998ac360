//! A WebRTC call from headless Chromium (Debian's `chromium`, fake
//! microphone) to a plain RTP phone through the daemon: Chromium's ICE,
//! DTLS-SRTP and rtcp-mux against ours. tests/webrtc/chromium-call runs it in
//! a network namespace (Chromium gathers no loopback candidates); Chromium
//! must have decoded and played the phone's tone (audio energy above zero)
//! and the phone must have received PCMU. Needs root, as CI runs.

use std::process::Command;

#[test]
fn chromium_calls_a_sip_phone_with_audio_both_ways() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: needs root to create a network namespace (CI runs as root)");
        return;
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/webrtc/chromium-call");
    let out = Command::new(script)
        .arg(env!("CARGO_BIN_EXE_rtpengined"))
        .output()
        .expect("the script runs");
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}: {report}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(report.contains("\"state\": \"connected\""), "{report}");
}
