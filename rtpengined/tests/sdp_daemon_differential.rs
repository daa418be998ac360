//! End-to-end SDP differential: replay the recorded corpus (the ng requests of
//! tests/differential/replay_requests.bencode, exported from the python corpus
//! by export_replay.py) against the built daemon, configured with the
//! interfaces rtpengine 10.5 was recorded with, and require every rewritten SDP
//! to equal rtpengine's recording (rtpengined/tests/fixtures/sdp/<step>/output.sdp)
//! up to the values that differ run to run: ports, ICE credentials and
//! foundations and the loop-protect token are renamed by order of first
//! appearance (as tests/differential/replay_sdp_fixtures.py does).
//!
//! Unlike sdp_fixtures.rs, which builds each plan itself, this checks the
//! daemon's own mapping of ng flags onto rewrite plans, across whole calls.

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use common::*;
use rtpengined::ng::bencode::{decode, Owned, Value};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// One recorded call: its name and its steps `(fixture name, request without call-id)`.
struct Case {
    name: String,
    steps: Vec<(String, Owned)>,
}

fn load_cases() -> Vec<Case> {
    let path = repo_root().join("tests/differential/replay_requests.bencode");
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let root = decode(&bytes).expect("replay_requests.bencode is bencode");
    let Value::List(cases) = root else {
        panic!("replay_requests.bencode: expected a list of cases")
    };
    cases
        .iter()
        .map(|case| {
            let name = case
                .get("case")
                .and_then(Value::as_text)
                .expect("case name");
            let Some(Value::List(steps)) = case.get("steps") else {
                panic!("{name}: no steps")
            };
            let steps = steps
                .iter()
                .map(|step| {
                    let step_name = step
                        .get("name")
                        .and_then(Value::as_text)
                        .expect("step name");
                    let request = step.get("request").expect("step request").to_owned_value();
                    (step_name.into_owned(), request)
                })
                .collect();
            Case {
                name: name.into_owned(),
                steps,
            }
        })
        .collect()
}

/// Rename run-to-run values by order of first appearance, per kind.
struct Renamer {
    names: HashMap<(&'static str, String), String>,
    counts: HashMap<&'static str, usize>,
}

impl Renamer {
    fn name(&mut self, kind: &'static str, value: &str) -> String {
        if let Some(n) = self.names.get(&(kind, value.to_owned())) {
            return n.clone();
        }
        let count = self.counts.entry(kind).or_insert(0);
        *count += 1;
        let n = format!("{kind}{count}");
        self.names.insert((kind, value.to_owned()), n.clone());
        n
    }
}

/// A port as the first word after `prefix` (`m=audio 1234 ...`, `a=rtcp:1234`);
/// rejected sections keep their port 0.
fn rename_leading_port(r: &mut Renamer, head: &str, rest: &str) -> Option<String> {
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    if digits.is_empty() || (head.starts_with("m=") && digits == "0") {
        return None;
    }
    Some(format!(
        "{head}{}{}",
        r.name("PORT", &digits),
        &rest[digits.len()..]
    ))
}

fn normalize(sdp: &str) -> String {
    let mut r = Renamer {
        names: HashMap::new(),
        counts: HashMap::new(),
    };
    let mut out = Vec::new();
    for line in sdp.split('\n') {
        let (body, cr) = match line.strip_suffix('\r') {
            Some(b) => (b, "\r"),
            None => (line, ""),
        };
        let mut new = None;
        if let Some(rest) = body.strip_prefix("m=") {
            if let Some((media, after)) = rest.split_once(' ') {
                new = rename_leading_port(&mut r, &format!("m={media} "), after);
            }
        } else if let Some(rest) = body.strip_prefix("a=rtcp:") {
            new = rename_leading_port(&mut r, "a=rtcp:", rest);
        } else if let Some(rest) = body.strip_prefix("a=candidate:") {
            let f: Vec<&str> = rest.splitn(7, ' ').collect();
            if f.len() >= 6 && f[5].chars().all(|c| c.is_ascii_digit()) {
                let foundation = r.name("FOUNDATION", f[0]);
                let port = r.name("PORT", f[5]);
                let tail = f.get(6).map(|t| format!(" {t}")).unwrap_or_default();
                new = Some(format!(
                    "a=candidate:{foundation} {} {} {} {} {port}{tail}",
                    f[1], f[2], f[3], f[4]
                ));
            }
        } else {
            for (attr, kind) in [
                ("a=ice-ufrag:", "UFRAG"),
                ("a=ice-pwd:", "PWD"),
                ("a=rtpengine:", "LOOP"),
            ] {
                if let Some(value) = body.strip_prefix(attr) {
                    new = Some(format!("{attr}{}", r.name(kind, value)));
                }
            }
        }
        out.push(format!("{}{cr}", new.unwrap_or_else(|| body.to_owned())));
    }
    out.join("\n")
}

fn first_difference(expected: &str, got: &str) -> String {
    let (e, g): (Vec<&str>, Vec<&str>) =
        (expected.split('\n').collect(), got.split('\n').collect());
    for i in 0..e.len().max(g.len()) {
        if e.get(i) != g.get(i) {
            return format!(
                "line {}: expected {:?}, got {:?}",
                i + 1,
                e.get(i),
                g.get(i)
            );
        }
    }
    "same".into()
}

#[test]
fn normalize_renames_by_first_appearance_only() {
    let a = normalize("m=audio 4000 RTP/AVP 0\r\na=rtcp:4001\r\na=candidate:xy 1 UDP 5 ::1 4000 typ host\r\nm=video 0 RTP/AVP 31\r\n");
    let b = normalize("m=audio 5000 RTP/AVP 0\r\na=rtcp:5001\r\na=candidate:zz 1 UDP 5 ::1 5000 typ host\r\nm=video 0 RTP/AVP 31\r\n");
    assert_eq!(a, b);
    assert!(
        a.contains("m=audio PORT1 RTP/AVP 0\r\na=rtcp:PORT2\r\n"),
        "{a}"
    );
    assert!(a.contains("m=video 0 RTP/AVP 31"), "{a}");
    // Structure still counts: the same port twice is not two different ports.
    let c = normalize("m=audio 5000 RTP/AVP 0\r\na=rtcp:5000\r\n");
    assert_ne!(normalize("m=audio 5000 RTP/AVP 0\r\na=rtcp:5001\r\n"), c);
}

#[test]
fn daemon_rewrites_match_rtpengine_10_5() {
    let cases = load_cases();
    let fixtures = repo_root().join("rtpengined/tests/fixtures/sdp");
    let d = Daemon::start(
        39000,
        39999,
        &[
            "--interface=127.0.0.1",
            "--interface=::1",
            "--interface=internal/127.0.0.2",
            "--interface=external/127.0.0.3",
        ],
    );
    let mut compared = 0;
    let mut differ = Vec::new();
    for case in &cases {
        let call_id = format!("sdp-diff-{}-{}", case.name, std::process::id());
        for (name, request) in &case.steps {
            let mut msg = request.clone();
            msg.insert("call-id", call_id.as_str());
            let reply = d.request(&msg);
            let Ok(expected) = std::fs::read_to_string(fixtures.join(name).join("output.sdp"))
            else {
                continue; // rtpengine refused this step when recording
            };
            compared += 1;
            if reply.get("result") != Some(&Owned::from("ok")) || reply.get("sdp").is_none() {
                differ.push(format!("{name}: {reply}"));
                continue;
            }
            let (want, got) = (normalize(&expected), normalize(&text(reply.get("sdp"))));
            if want != got {
                differ.push(format!("{name}: {}", first_difference(&want, &got)));
            }
        }
        d.request(
            &Owned::dict()
                .with("command", "delete")
                .with("call-id", call_id.as_str()),
        );
    }
    eprintln!(
        "sdp-differential: {} passed, {} failed",
        compared - differ.len(),
        differ.len()
    );
    assert!(compared >= 170, "only {compared} recorded exchanges found");
    assert!(
        differ.is_empty(),
        "{} of {compared} differ:\n{}",
        differ.len(),
        differ.join("\n")
    );
}
