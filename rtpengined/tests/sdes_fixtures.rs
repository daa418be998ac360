//! SDES offer/answer against rtpengine 10.5: every exchange recorded by
//! tests/differential/record_sdes_fixtures.py in tests/fixtures/sdes/<case>.<step>/
//! is replayed through `srtp::offer_crypto`/`answer_crypto` and `sdp::rewrite`.
//! Keys rtpengine copied from an input SDP must match byte for byte; fresh
//! keys only need the suite's length (and must differ from each other).
//! rtpengine's DTLS lines (`a=setup`, `a=fingerprint`) are not compared: we do
//! not do DTLS.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use rtpengined::random::DaemonRng;
use rtpengined::sdp::crypto::CryptoAttribute;
use rtpengined::sdp::{rewrite, MediaPlan, RewritePlan, Session};
use rtpengined::srtp::keys::random_key_salt;
use rtpengined::srtp::sdes::usable_crypto;
use rtpengined::srtp::{answer_crypto, offer_crypto, SdesOptions, Suite};

struct Step {
    dir: PathBuf,
    flags: BTreeMap<String, String>,
    input: String,
    output: Option<String>,
}

fn fixtures() -> BTreeMap<String, Vec<Step>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sdes");
    let mut cases: BTreeMap<String, Vec<(u32, Step)>> = BTreeMap::new();
    for entry in fs::read_dir(&root).expect("fixtures/sdes") {
        let dir = entry.unwrap().path();
        let name = dir.file_name().unwrap().to_str().unwrap().to_string();
        let (case, step) = name.rsplit_once('.').unwrap();
        let flags = fs::read_to_string(dir.join("flags.txt"))
            .unwrap()
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let step_data = Step {
            input: fs::read_to_string(dir.join("input.sdp")).unwrap(),
            output: fs::read_to_string(dir.join("output.sdp")).ok(),
            flags,
            dir,
        };
        cases
            .entry(case.to_string())
            .or_default()
            .push((step.parse().unwrap(), step_data));
    }
    cases
        .into_iter()
        .map(|(k, mut v)| {
            v.sort_by_key(|(n, _)| *n);
            (k, v.into_iter().map(|(_, s)| s).collect())
        })
        .collect()
}

fn sdes_options(flags: &BTreeMap<String, String>) -> SdesOptions {
    let mut items: Vec<&str> = flags
        .get("SDES")
        .map_or(Vec::new(), |l| l.split(',').collect());
    if let Some(list) = flags.get("flags") {
        items.extend(list.split(',').filter_map(|f| f.strip_prefix("SDES-")));
    }
    SdesOptions::from_ng(items)
}

/// What rtpengine chose that our plan must repeat: port, rtcp port, mux, ptime, protocol.
fn media_plan_from_output(output: &Session, text: &str) -> MediaPlan {
    let m = &output.media[0];
    let mut plan = MediaPlan::new(m.port, "127.0.0.1".parse().unwrap());
    plan.rtcp_port = text
        .lines()
        .find_map(|l| l.trim_end().strip_prefix("a=rtcp:"))
        .map(|p| p.parse().unwrap());
    plan.rtcp_mux = m.rtcp_mux;
    plan.ptime = m.ptime;
    plan.protocol = Some(m.protocol.clone());
    plan
}

/// The SDP with DTLS lines dropped and every key that is not in `copied`
/// replaced by `<fresh N>` after checking its length against the suite.
fn normalise(sdp: &str, copied: &[Vec<u8>], where_: &str) -> String {
    let mut fresh_keys: Vec<Vec<u8>> = Vec::new();
    let mut out = String::new();
    for line in sdp.split_inclusive('\n') {
        let bare = line.trim_end_matches(['\r', '\n']);
        if bare.starts_with("a=setup:") || bare.starts_with("a=fingerprint:") {
            continue;
        }
        if let Some(value) = bare.strip_prefix("a=crypto:") {
            let mut c =
                CryptoAttribute::parse(value).unwrap_or_else(|e| panic!("{where_}: {e}: {value}"));
            if !copied.contains(&c.key_salt) {
                let suite = Suite::by_name(&c.suite).unwrap();
                assert_eq!(c.key_salt.len(), suite.key_salt_len(), "{where_}: {value}");
                assert!(!fresh_keys.contains(&c.key_salt), "{where_}: key repeated");
                fresh_keys.push(c.key_salt.clone());
                c.key_salt = format!("<fresh {}>", suite.key_salt_len()).into_bytes();
                out.push_str(&format!(
                    "a=crypto:{} {} {:?}",
                    c.tag,
                    c.suite,
                    String::from_utf8(c.key_salt).unwrap()
                ));
                for p in &c.session_params {
                    out.push(' ');
                    out.push_str(p);
                }
                out.push_str(&line[bare.len()..]);
                continue;
            }
        }
        out.push_str(line);
    }
    out
}

#[test]
fn sdes_offer_answer_matches_rtpengine_10_5() {
    let cases = fixtures();
    assert!(cases.len() >= 15, "fixtures missing: {}", cases.len());
    let mut compared = 0;
    for (case, steps) in &cases {
        let copied: Vec<Vec<u8>> = steps
            .iter()
            .flat_map(|s| Session::parse(&s.input).unwrap().media[0].crypto.clone())
            .filter_map(|v| CryptoAttribute::parse(&v).ok())
            .map(|c| c.key_salt)
            .collect();
        let mut last_offer: Option<&Step> = None;
        let mut rng = DaemonRng::from_os().unwrap();
        let mut fresh_key = |len| random_key_salt(&mut rng, len);
        for step in steps {
            let where_ = step.dir.display().to_string();
            let Some(expected) = &step.output else {
                continue;
            };
            let input = Session::parse(&step.input).unwrap();
            let out_session = Session::parse(expected).unwrap();
            let options = sdes_options(&step.flags);
            let mut media = media_plan_from_output(&out_session, expected);
            let srtp_out = media.protocol.as_deref().unwrap().contains("SAVP");
            let crypto = match step.flags["command"].as_str() {
                "offer" => {
                    last_offer = Some(step);
                    if srtp_out {
                        // No earlier lines: the recorded re-offer (savp_reinvite)
                        // follows an answer whose line matched none of ours.
                        offer_crypto(
                            &usable_crypto(&input.media[0].crypto),
                            &[],
                            &options,
                            &mut fresh_key,
                        )
                    } else {
                        Vec::new()
                    }
                }
                _ => {
                    let offer =
                        Session::parse(&last_offer.expect("answer without offer").input).unwrap();
                    let offered = usable_crypto(&offer.media[0].crypto);
                    let answered = usable_crypto(&input.media[0].crypto);
                    answer_crypto(&offered, &answered, &options, &mut fresh_key)
                        .into_iter()
                        .collect()
                }
            };
            media.crypto = Some(crypto.iter().map(|c| c.to_string()).collect());
            let plan = RewritePlan::new("127.0.0.1".parse().unwrap(), vec![media]);
            let ours = rewrite(&step.input, &input, &plan).unwrap();
            assert_eq!(
                normalise(&ours, &copied, &where_),
                normalise(expected, &copied, &where_),
                "{case}: {where_}"
            );
            compared += 1;
        }
    }
    assert!(compared >= 20, "only {compared} exchanges compared");
}

#[test]
fn every_suite_key_length_matches_rtpengines_offer() {
    // rtpengine's bridged offer lists every suite with its key||salt length.
    let text = fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/sdes/avp_to_savp_dtls_off.0/output.sdp"),
    )
    .unwrap();
    let names: Vec<String> = text
        .lines()
        .filter_map(|l| l.strip_prefix("a=crypto:"))
        .map(|v| {
            let c = CryptoAttribute::parse(v.trim_end()).unwrap();
            assert_eq!(
                c.key_salt.len(),
                Suite::by_name(&c.suite).unwrap().key_salt_len(),
                "{v}"
            );
            c.suite
        })
        .collect();
    let ours: Vec<&str> = rtpengined::srtp::SUITES.iter().map(|s| s.name).collect();
    assert_eq!(names, ours);
}
