//! Random mutations of real SDP bodies (the recorded fixtures) must never make
//! parse or rewrite panic: either an SdpError or an SDP comes back. A seeded
//! xorshift keeps failures reproducible without extra dependencies.

use std::fs;
use std::net::IpAddr;
use std::path::Path;

use rtpengined::sdp::{
    rewrite, Direction, DtlsAdvert, IceAdvert, IceCandidate, MediaPlan, RewritePlan, SdpOptions,
    Session, Setup,
};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Fragments that hit parser edge cases when spliced in anywhere.
const PIECES: &[&str] = &[
    "\r\n",
    "\n",
    "\r",
    " ",
    "  ",
    ":",
    "/",
    "=",
    "0",
    "65535",
    "65536",
    "-1",
    "é",
    "\u{0}",
    "m=",
    "c=",
    "a=",
    "o=",
    "m=audio 0 RTP/AVP",
    "c=IN IP6 ::",
    "c=IN IP4 0.0.0.0",
    "a=rtcp:",
    "a=rtcp-mux",
    "a=rtpmap:96 ",
    "a=fmtp:",
    "a=ptime:",
    "a=mid:",
    "a=candidate:",
    "a=sendonly",
    "IN IP4",
    "IP6",
    "/2",
    "a=rtcp-fb:*",
    "a=end-of-candidates",
];

fn mutate(rng: &mut Rng, text: &str) -> String {
    let mut s = text.to_string();
    for _ in 0..1 + rng.below(4) {
        let boundaries: Vec<usize> = (0..=s.len()).filter(|&i| s.is_char_boundary(i)).collect();
        let at = boundaries[rng.below(boundaries.len())];
        match rng.below(4) {
            0 => s.insert_str(at, PIECES[rng.below(PIECES.len())]),
            1 => {
                let end = boundaries[(boundaries.iter().position(|&b| b == at).unwrap()
                    + 1
                    + rng.below(12))
                .min(boundaries.len() - 1)];
                s.replace_range(at..end, "");
            }
            2 => {
                let lines: Vec<&str> = s.split_inclusive('\n').collect();
                if let Some(line) = lines.get(rng.below(lines.len())).map(|l| l.to_string()) {
                    s.insert_str(at, &line);
                }
            }
            _ => s.truncate(at),
        }
    }
    s
}

fn random_plan(rng: &mut Rng, media: usize) -> RewritePlan {
    let addresses: [IpAddr; 3] = [
        "127.0.0.1".parse().unwrap(),
        "::1".parse().unwrap(),
        "0.0.0.0".parse().unwrap(),
    ];
    let media = (0..media)
        .map(|_| MediaPlan {
            port: [0, 1, 30000, 65535][rng.below(4)],
            address: addresses[rng.below(3)],
            rtcp_port: [None, Some(30001)][rng.below(2)],
            rtcp_mux: rng.below(2) == 0,
            protocol: [None, Some("RTP/AVPF".to_string())][rng.below(2)].clone(),
            formats: [
                None,
                Some(vec![]),
                Some(vec!["0".into(), "96".into(), "x".into()]),
            ][rng.below(3)]
            .clone(),
            codecs: None,
            mid: [None, Some("0".to_string())][rng.below(2)].clone(),
            direction: [None, Some(Direction::Inactive)][rng.below(2)],
            ptime: [None, Some(20)][rng.below(2)],
            ice: (rng.below(2) == 0).then(|| IceAdvert {
                ufrag: "u".into(),
                pwd: "p".into(),
                candidates: vec![IceCandidate {
                    foundation: "f".into(),
                    component: 1,
                    priority: 1,
                    address: addresses[0],
                    port: 30000,
                    relay: rng.below(2) == 0,
                }],
            }),
            trickle_ice: rng.below(2) == 0,
            ice_agent: rng.below(2) == 0,
            crypto: [
                None,
                Some(vec!["1 AES_CM_128_HMAC_SHA1_80 inline:AAAA".to_string()]),
            ][rng.below(2)]
            .clone(),
            dtls: (rng.below(2) == 0).then(|| DtlsAdvert {
                setup: [Setup::ActPass, Setup::Active, Setup::Passive][rng.below(3)],
                fingerprint: "sha-256 AA:BB".into(),
            }),
            passthrough: rng.below(2) == 0,
        })
        .collect();
    RewritePlan {
        address: addresses[rng.below(3)],
        replace_origin: rng.below(2) == 0,
        replace_session_connection: rng.below(2) == 0,
        loop_protect: (rng.below(4) == 0).then(|| "abc".to_string()),
        media,
        options: SdpOptions {
            original_sendrecv: rng.below(2) == 0,
            full_rtcp_attribute: rng.below(2) == 0,
            strip_extmap: rng.below(2) == 0,
            ice_lite: rng.below(2) == 0,
            keep_party_ice: rng.below(2) == 0,
            force_relay: rng.below(4) == 0,
        },
    }
}

#[test]
fn mutated_sdp_never_panics() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sdp");
    let mut corpus: Vec<String> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| fs::read_to_string(e.unwrap().path().join("input.sdp")).unwrap())
        .collect();
    corpus.sort();
    assert!(!corpus.is_empty());
    // SDP_FUZZ_SEED / SDP_FUZZ_ITERATIONS let a longer run explore further.
    let env = |name: &str, default: u64| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let mut rng = Rng(env("SDP_FUZZ_SEED", 0x5d9).wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let (mut parsed, mut rejected) = (0, 0);
    for _ in 0..env("SDP_FUZZ_ITERATIONS", 20_000) {
        let base = &corpus[rng.below(corpus.len())];
        let text = mutate(&mut rng, base);
        let parsed_result = std::panic::catch_unwind(|| Session::parse(&text))
            .unwrap_or_else(|_| panic!("parse panicked on {text:?}"));
        match parsed_result {
            Ok(session) => {
                parsed += 1;
                let plan = random_plan(&mut rng, session.media.len());
                let result = std::panic::catch_unwind(|| rewrite(&text, &session, &plan));
                let out = match result {
                    Ok(result) => result.expect("a plan with the right media count fits"),
                    Err(_) => panic!("rewrite panicked on {text:?}"),
                };
                assert!(out.starts_with("v=0"));
                // A wrong media count is an error, not a panic.
                let wrong = random_plan(&mut rng, session.media.len() + 1);
                assert!(rewrite(&text, &session, &wrong).is_err());
            }
            Err(e) => {
                rejected += 1;
                assert!(!e.to_string().is_empty());
            }
        }
    }
    // Both paths must have been exercised for the test to mean anything.
    assert!(
        parsed > 1000 && rejected > 1000,
        "parsed {parsed}, rejected {rejected}"
    );
}
