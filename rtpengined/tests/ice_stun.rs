//! ICE connectivity checks on a media port, sent by aioice (an implementation
//! we did not write): a call offered with ICE=force answers a binding request
//! under the ufrag/pwd of its SDP with XOR-MAPPED-ADDRESS = the sender,
//! signed with that password; a wrong password gets 401, as from 10.5.

mod common;

use std::path::Path;
use std::process::Command;

use common::*;

/// The aioice client (tests/ice/stun_client.py).
fn client() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/ice/stun_client.py")
}

/// Python's aioice, the independent STUN client, must be importable
/// (scripts/install-deps installs it); without it the test fails rather than
/// passing untested.
fn have_aioice() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import aioice"])
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "python3 cannot import aioice: run scripts/install-deps");
    ok
}

/// One check against `port` on 127.0.0.1: the client's JSON report.
fn check(port: u16, username: &str, password: &str, extra: &[&str]) -> String {
    let out = Command::new("python3")
        .arg(client())
        .args(["127.0.0.1", &port.to_string(), username, password])
        .args(extra)
        .output()
        .expect("python3 runs");
    let report = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    assert!(
        out.status.success(),
        "client failed ({}): {report} {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    report
}

/// The raw JSON value of `key` in a flat report (strings with their quotes).
fn field<'a>(report: &'a str, key: &str) -> &'a str {
    let tag = format!("\"{key}\": ");
    let at = report
        .find(&tag)
        .unwrap_or_else(|| panic!("no {key} in {report}"))
        + tag.len();
    let rest = &report[at..];
    let end = if rest.starts_with('[') {
        rest.find(']').unwrap() + 1
    } else {
        rest.find([',', '}']).unwrap()
    };
    &rest[..end]
}

/// `a=<name>:` of an SDP body.
fn attribute(body: &str, name: &str) -> String {
    let tag = format!("a={name}:");
    body.lines()
        .find_map(|l| l.strip_prefix(&tag))
        .unwrap_or_else(|| panic!("no {tag} in {body}"))
        .to_owned()
}

#[test]
fn binding_requests_on_an_ice_port_are_answered_as_10_5_does() {
    if !have_aioice() {
        return;
    }
    let d = Daemon::start(38400, 38439, &["--interface=127.0.0.1"]);
    let o = d.ok(&offer("ice-stun", "alice", &sdp("127.0.0.1", 6000)).with("ICE", "force"));
    let body = text(o.get("sdp"));
    let ufrag = attribute(&body, "ice-ufrag");
    let pwd = attribute(&body, "ice-pwd");
    let port = media_target(&o).port();
    let user = format!("{ufrag}:peer");

    let ok = check(port, &user, &pwd, &[]);
    assert_eq!(field(&ok, "class"), "\"RESPONSE\"", "{ok}");
    assert_eq!(field(&ok, "same_transaction"), "true", "{ok}");
    assert_eq!(
        field(&ok, "integrity"),
        "true",
        "signed with our ice-pwd: {ok}"
    );
    assert_eq!(field(&ok, "mapped"), field(&ok, "local"), "{ok}");
    assert_eq!(
        field(&ok, "attributes"),
        r#"["SOFTWARE", "XOR-MAPPED-ADDRESS", "MESSAGE-INTEGRITY", "FINGERPRINT"]"#
    );

    // A wrong password: 401, unsigned (the peer's SDP gave no password yet).
    let bad = check(port, &user, "not-our-password", &[&format!("--key={pwd}")]);
    assert_eq!(field(&bad, "class"), "\"ERROR\"", "{bad}");
    assert_eq!(field(&bad, "error"), "401", "{bad}");
    assert_eq!(
        field(&bad, "attributes"),
        r#"["SOFTWARE", "ERROR-CODE", "FINGERPRINT"]"#
    );

    // Neither is media (10.5 counts no packet for STUN it handles).
    let q = d.ok(&query("ice-stun"));
    let totals = q.get("totals").unwrap().get("RTP").unwrap();
    assert_eq!(int(totals.get("packets")), 0);
    d.ok(&delete("ice-stun", "alice"));
}
