//! SDES end to end: every recorded exchange of tests/fixtures/sdes (ng request
//! as sent to Debian's rtpengine 10.5, and its reply SDP) is replayed against
//! our daemon. Replies must be equal after renaming ports by order of first
//! appearance, replacing fresh keys by their length and the digest of our
//! DTLS fingerprint (another certificate) by its byte count; keys copied
//! from an input SDP, and the `a=setup` lines, must be equal byte for byte.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::path::Path;

use common::*;
use rtpengined::ng::bencode::{decode, Owned};
use rtpengined::sdp::crypto::CryptoAttribute;
use rtpengined::srtp::Suite;

/// One recorded step: fixture name, ng request, rtpengine's SDP (if any), input SDP.
type Step = (String, Owned, Option<String>, String);

fn steps() -> BTreeMap<String, Vec<Step>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sdes");
    let mut cases: BTreeMap<String, Vec<(u32, Step)>> = BTreeMap::new();
    for entry in fs::read_dir(&root).unwrap() {
        let dir = entry.unwrap().path();
        let name = dir.file_name().unwrap().to_str().unwrap().to_string();
        let (case, step) = name.rsplit_once('.').unwrap();
        let bytes = fs::read(dir.join("request.bencode")).unwrap();
        let request = decode(&bytes).unwrap().to_owned_value();
        let output = fs::read_to_string(dir.join("output.sdp")).ok();
        let input = fs::read_to_string(dir.join("input.sdp")).unwrap();
        cases.entry(case.to_string()).or_default().push((
            step.parse().unwrap(),
            (name.clone(), request, output, input),
        ));
    }
    cases
        .into_iter()
        .map(|(k, mut v)| {
            v.sort_by_key(|s| s.0);
            (k, v.into_iter().map(|s| s.1).collect())
        })
        .collect()
}

struct Normaliser<'a> {
    ports: HashMap<String, String>,
    copied: &'a [Vec<u8>],
}

impl Normaliser<'_> {
    fn port(&mut self, p: &str) -> String {
        let n = self.ports.len() + 1;
        self.ports
            .entry(p.to_string())
            .or_insert_with(|| format!("PORT{n}"))
            .clone()
    }

    fn sdp(&mut self, sdp: &str, where_: &str) -> String {
        let mut out = String::new();
        for line in sdp.split_inclusive('\n') {
            let bare = line.trim_end_matches(['\r', '\n']);
            let eol = &line[bare.len()..];
            let text = if let Some(v) = bare.strip_prefix("a=fingerprint:") {
                let (hash, digest) = v.split_once(' ').unwrap_or((v, ""));
                format!("a=fingerprint:{hash} <{} bytes>", digest.split(':').count())
            } else if let Some(rest) = bare.strip_prefix("m=") {
                let mut w: Vec<String> = rest.split(' ').map(str::to_string).collect();
                w[1] = self.port(&w[1]);
                format!("m={}", w.join(" "))
            } else if let Some(rest) = bare.strip_prefix("a=rtcp:") {
                let (port, tail) = rest.split_once(' ').map_or((rest, ""), |(p, t)| (p, t));
                format!(
                    "a=rtcp:{}{}{}",
                    self.port(port),
                    if tail.is_empty() { "" } else { " " },
                    tail
                )
            } else if let Some(value) = bare.strip_prefix("a=crypto:") {
                let c = CryptoAttribute::parse(value).unwrap_or_else(|e| panic!("{where_}: {e}"));
                if self.copied.contains(&c.key_salt) {
                    bare.to_string()
                } else {
                    let suite =
                        Suite::by_name(&c.suite).unwrap_or_else(|| panic!("{where_}: {value}"));
                    assert_eq!(c.key_salt.len(), suite.key_salt_len(), "{where_}: {value}");
                    format!(
                        "a=crypto:{} {} <fresh> {:?} {:?}",
                        c.tag, c.suite, c.mki, c.session_params
                    )
                }
            } else {
                bare.to_string()
            };
            out.push_str(&text);
            out.push_str(eol);
        }
        out
    }
}

#[test]
fn daemon_sdes_replies_match_rtpengine_10_5() {
    let d = Daemon::start(42400, 42499, &[]);
    let mut compared = 0;
    for (case, steps) in steps() {
        let copied: Vec<Vec<u8>> = steps
            .iter()
            .flat_map(|s| {
                s.3.lines()
                    .filter_map(|l| l.trim_end().strip_prefix("a=crypto:"))
                    .map(str::to_string)
                    .collect::<Vec<_>>()
            })
            .filter_map(|v| CryptoAttribute::parse(&v).ok())
            .map(|c| c.key_salt)
            .collect();
        let mut ours_n = Normaliser {
            ports: HashMap::new(),
            copied: &copied,
        };
        let mut theirs_n = Normaliser {
            ports: HashMap::new(),
            copied: &copied,
        };
        let call_id = format!("sdes-daemon-{case}");
        for (name, request, expected, _) in &steps {
            let reply = d.request(&request.clone().with("call-id", call_id.as_str()));
            let Some(expected) = expected else { continue };
            assert_eq!(text(reply.get("result")), "ok", "{name}: {reply}");
            let ours = text(reply.get("sdp"));
            assert_eq!(
                ours_n.sdp(&ours, name),
                theirs_n.sdp(expected, name),
                "{name}"
            );
            compared += 1;
        }
        d.ok(&delete(&call_id, "ft-x")
            .with("from-tag", steps[0].1.get("from-tag").cloned().unwrap()));
    }
    assert!(compared >= 25, "compared {compared}");
}
