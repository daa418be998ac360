//! WebRTC → SIP end to end: a Chrome-style offer (BUNDLE, rtcp-mux, ICE,
//! UDP/TLS/RTP/SAVPF with a DTLS fingerprint, `c=IN IP4 0.0.0.0`) bridged to a
//! plain RTP/AVP phone and its answer back to the browser, replayed from
//! tests/fixtures/webrtc (recorded from Debian's rtpengine 10.5 by
//! tests/differential/record_webrtc.sh) against our daemon.
//!
//! Replies must equal 10.5's after renaming what differs run to run (ports,
//! ICE credentials, candidate foundations, fresh SDES keys, the digest of our
//! certificate's fingerprint, per hash function) by order of first
//! appearance. Ports count per address: a candidate on another address than
//! the section's first candidate (e.g. `::1` next to `127.0.0.1`) has its own
//! port numbers, which may coincide with an unrelated port of 10.5's run.
//! The `a=setup` and `a=fingerprint` lines (DTLS-SRTP signalling) are
//! compared like every other line: role, hash name and place must match.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::path::Path;

use common::*;
use rtpengined::ng::bencode::{decode, Owned};

/// One recorded step: fixture name, ng request, rtpengine's SDP.
type Step = (String, Owned, String);

fn cases() -> BTreeMap<String, Vec<Step>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/webrtc");
    let mut cases: BTreeMap<String, Vec<Step>> = BTreeMap::new();
    for entry in fs::read_dir(&root).unwrap() {
        let dir = entry.unwrap().path();
        let name = dir.file_name().unwrap().to_str().unwrap().to_string();
        let (case, _) = name.rsplit_once('.').unwrap();
        let bytes = fs::read(dir.join("request.bencode")).unwrap();
        let request = decode(&bytes).unwrap().to_owned_value();
        let output = fs::read_to_string(dir.join("output.sdp")).unwrap();
        cases
            .entry(case.to_string())
            .or_default()
            .push((name, request, output));
    }
    // Each call is an offer then an answer, then re-INVITEs (offer2, answer2).
    for steps in cases.values_mut() {
        steps.sort_by_key(|s| {
            let step = s.0.rsplit_once('.').unwrap().1;
            let round = step.trim_start_matches(char::is_alphabetic).to_string();
            (round, !step.starts_with("offer"))
        });
    }
    cases
}

/// Renames run-to-run values by order of first appearance, per kind.
#[derive(Default)]
struct Renamer {
    names: HashMap<(&'static str, String), String>,
    counts: HashMap<&'static str, usize>,
    /// The first candidate's address in the current section.
    main_address: Option<String>,
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

    fn port(&mut self, p: &str) -> String {
        if p == "0" {
            return p.into();
        }
        self.name("PORT", p)
    }

    fn sdp(&mut self, sdp: &str) -> Vec<String> {
        let mut out = Vec::new();
        for line in sdp.split_inclusive('\n') {
            let bare = line.trim_end_matches(['\r', '\n']);
            let text = if let Some(rest) = bare.strip_prefix("m=") {
                self.main_address = None;
                let mut w: Vec<String> = rest.split(' ').map(str::to_string).collect();
                w[1] = self.port(&w[1]);
                format!("m={}", w.join(" "))
            } else if let Some(rest) = bare.strip_prefix("a=rtcp:") {
                let (port, tail) = rest.split_once(' ').unwrap_or((rest, ""));
                let sep = if tail.is_empty() { "" } else { " " };
                format!("a=rtcp:{}{sep}{tail}", self.port(port))
            } else if let Some(rest) = bare.strip_prefix("a=candidate:") {
                let mut f: Vec<String> = rest.split(' ').map(str::to_string).collect();
                if f.len() >= 6 {
                    f[0] = self.name("FOUNDATION", &f[0]);
                    let main = self
                        .main_address
                        .get_or_insert_with(|| f[4].clone())
                        .clone();
                    f[5] = if main == f[4] {
                        self.port(&f[5])
                    } else {
                        self.name("PORT", &format!("{} {}", f[4], f[5]))
                    };
                    // Our relay candidates (ICE=force-relay) name our port as rport.
                    if let Some(k) = f.iter().position(|w| w == "rport") {
                        if k + 1 < f.len() && f[k - 1] == f[4] {
                            let key = format!("{} {}", f[4], f[k + 1]);
                            f[k + 1] = if main == f[4] {
                                self.port(&f[k + 1])
                            } else {
                                self.name("PORT", &key)
                            };
                        }
                    }
                }
                format!("a=candidate:{}", f.join(" "))
            } else if let Some((head, key)) = bare.split_once(" inline:") {
                // Our keys are fresh (the browser sent none): compare their length.
                let key = key.split('|').next().unwrap_or(key);
                format!("{head} inline:<{} chars>", key.len())
            } else if let Some(v) = bare.strip_prefix("a=fingerprint:") {
                // Our certificate differs from 10.5's: keep the hash, name the digest.
                let (hash, digest) = v.split_once(' ').unwrap_or((v, ""));
                let bytes = digest.split(':').count();
                let name = self.name("DIGEST", digest);
                format!("a=fingerprint:{hash} {name}<{bytes} bytes>")
            } else if let Some(v) = bare.strip_prefix("a=ice-ufrag:") {
                format!("a=ice-ufrag:{}", self.name("UFRAG", v))
            } else if let Some(v) = bare.strip_prefix("a=ice-pwd:") {
                format!("a=ice-pwd:{}", self.name("PWD", v))
            } else {
                bare.to_string()
            };
            out.push(format!("{text}{}", &line[bare.len()..]));
        }
        out
    }
}

fn first_difference(want: &[String], got: &[String]) -> String {
    for i in 0..want.len().max(got.len()) {
        if want.get(i) != got.get(i) {
            return format!(
                "line {}: 10.5 wrote {:?}, we wrote {:?}",
                i + 1,
                want.get(i),
                got.get(i)
            );
        }
    }
    "same".into()
}

#[test]
fn webrtc_to_sip_matches_rtpengine_10_5() {
    let d = Daemon::start(
        31000,
        31199,
        &[
            "--interface=127.0.0.1",
            "--interface=::1",
            "--interface=internal/127.0.0.2",
            "--interface=external/127.0.0.3",
        ],
    );
    let mut compared = 0;
    let mut differ = Vec::new();
    for (case, steps) in cases() {
        let call_id = format!("webrtc-{case}");
        let (mut theirs, mut ours) = (Renamer::default(), Renamer::default());
        for (name, request, expected) in &steps {
            let reply = d.request(&request.clone().with("call-id", call_id.as_str()));
            compared += 1;
            if text(reply.get("result")) != "ok" {
                differ.push(format!("{name}: {reply}"));
                continue;
            }
            let (want, got) = (theirs.sdp(expected), ours.sdp(&text(reply.get("sdp"))));
            if want != got {
                differ.push(format!("{name}: {}", first_difference(&want, &got)));
                eprintln!(
                    "--- {name}, 10.5:\n{}--- ours:\n{}",
                    want.concat(),
                    got.concat()
                );
            }
        }
        d.request(&delete(&call_id, "browser-tag"));
    }
    assert!(compared >= 74, "only {compared} recorded exchanges found");
    assert!(
        differ.is_empty(),
        "{} of {compared} differ:\n{}",
        differ.len(),
        differ.join("\n")
    );
}

/// `--dtls-passive` is the default of both `DTLS: passive` and `DTLS-reverse:
/// passive`: the plain Kamailio requests of `chrome-to-sip` then give what
/// 10.5 gave with `DTLS: passive` (checked live against 10.5 started with
/// `--dtls-passive`: `a=setup:passive` toward the browser, also when the
/// answer says `DTLS: active`, since the offer already took the role).
#[test]
fn dtls_passive_option_answers_passive() {
    let d = Daemon::start(
        31200,
        31399,
        &["--interface=127.0.0.1", "--interface=::1", "--dtls-passive"],
    );
    let all = cases();
    let requests = &all["chrome-to-sip"];
    let expected = &all["dtls-chrome-to-sip-passive"];
    let (mut theirs, mut ours) = (Renamer::default(), Renamer::default());
    let mut differ = Vec::new();
    for ((name, request, _), (_, _, want)) in requests.iter().zip(expected) {
        let reply = d.request(&request.clone().with("call-id", "dtls-passive-option"));
        let got = text(reply.get("sdp"));
        let (want, got) = (theirs.sdp(want), ours.sdp(&got));
        if want != got {
            differ.push(format!("{name}: {}", first_difference(&want, &got)));
        }
    }
    assert!(differ.is_empty(), "{}", differ.join("\n"));
    // DTLS=active in the answer does not take back what the offer decided.
    let mut answer = requests[1]
        .1
        .clone()
        .with("call-id", "dtls-passive-option-2");
    d.request(
        &requests[0]
            .1
            .clone()
            .with("call-id", "dtls-passive-option-2"),
    );
    answer = answer.with("DTLS", "active");
    let sdp = text(d.request(&answer).get("sdp"));
    assert_eq!(sdp.matches("a=setup:passive\r\n").count(), 2, "{sdp}");
}
