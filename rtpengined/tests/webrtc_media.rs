//! WebRTC <-> SIP media through the daemon, with aiortc (a WebRTC stack we
//! did not write) as the browser: ICE, DTLS-SRTP and rtcp-mux on its side,
//! plain RTP/AVP on the phone's (tests/webrtc/aiortc_call.py drives both and
//! reports what each received). Audio must arrive both ways: aiortc decodes
//! the phone's tone, the phone gets PCMU from the daemon's port.

mod common;

use std::path::Path;
use std::process::Command;

use common::*;

fn driver() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/webrtc/aiortc_call.py")
}

/// Runs one call; the driver's JSON report.
fn call(d: &Daemon, direction: &str, id: &str) -> String {
    let out = Command::new("python3")
        .arg(driver())
        .arg(d.ng.port().to_string())
        .arg(format!("--direction={direction}"))
        .arg(format!("--call-id={id}"))
        // An upper bound only: the driver stops as soon as both sides have
        // 50 packets.
        .arg("--seconds=30")
        .output()
        .expect("python3 runs");
    let report = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    assert!(
        out.status.success(),
        "{direction}: audio did not flow both ways ({}): {report}\nstderr: {}\ndaemon log: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr),
        d.log_text()
    );
    report
}

fn number(report: &str, key: &str) -> u64 {
    let tag = format!("\"{key}\": ");
    let at = report.find(&tag).unwrap_or_else(|| panic!("no {key}")) + tag.len();
    let digits: String = report[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().unwrap()
}

/// aiortc must be importable (scripts/install-deps installs it): without it
/// the test fails rather than passing untested.
fn have_aiortc() {
    let ok = Command::new("python3")
        .args(["-c", "import aiortc"])
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "python3 cannot import aiortc: run scripts/install-deps");
}

#[test]
fn a_webrtc_offer_bridged_to_a_sip_phone_carries_audio_both_ways() {
    have_aiortc();
    let d = Daemon::start(38700, 38749, &["--interface=127.0.0.1"]);
    let r = call(&d, "webrtc-offers", "aiortc-offers");
    assert!(number(&r, "browser_loud_frames") >= 25, "{r}");
    assert!(number(&r, "phone_pcmu_packets") >= 25, "{r}");
    assert!(
        r.contains("a=setup:active") && r.contains("a=fingerprint:sha-256 "),
        "we answer the browser as the DTLS client: {r}"
    );
    let log = d.log_text();
    assert!(log.contains("DTLS-SRTP handshake done"), "{log}");
}

#[test]
fn a_sip_offer_to_webrtc_makes_us_the_controlling_ice_agent_and_audio_flows() {
    have_aiortc();
    let d = Daemon::start(38750, 38789, &["--interface=127.0.0.1"]);
    // aiortc answers as the controlled agent: it waits for our checks and
    // our nomination before its DTLS client starts.
    let r = call(&d, "sip-offers", "aiortc-answers");
    assert!(number(&r, "browser_loud_frames") >= 25, "{r}");
    assert!(number(&r, "phone_pcmu_packets") >= 25, "{r}");
    assert!(r.contains("a=setup:actpass"), "we offer actpass: {r}");
    let log = d.log_text();
    assert!(log.contains("nominated=true"), "{log}");
    assert!(log.contains("DTLS-SRTP handshake done"), "{log}");
}
