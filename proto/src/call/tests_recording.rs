//! The proc recording method's view of a call (`recording::proc::Session`).

use super::tests::{clock, flags, reg};
use crate::recording::proc::{Session, Step};

fn sdp(port: u16) -> String {
    format!("v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio {port} RTP/AVP 0 8\r\n")
}

fn labels(steps: &[Step]) -> Vec<String> {
    steps
        .iter()
        .map(|s| match s {
            Step::Chunk(l, _) => l.clone(),
            Step::AddStream { name, .. } => format!("ADD {name}"),
        })
        .collect()
}

#[test]
fn a_call_is_described_party_by_party_and_only_what_changed_again() {
    let mut r = reg();
    let now = clock();
    r.offer(&flags("c", "a", None, sdp(6000)), &now).unwrap();
    let mut s = Session::default();
    let first = s.sync(&r.calls["c"]);
    let l = labels(&first);
    assert_eq!(l[0], "TAG 0");
    assert!(l.contains(&"STREAM 0 details".to_string()), "{l:?}");
    assert!(l.contains(&"ADD tag-0-media-1-component-1-RTP-id-0".to_string()));
    assert!(l.contains(&"ADD tag-0-media-1-component-2-RTCP-id-1".to_string()));
    assert!(l.contains(&"MEDIA 0 PAYLOAD TYPE 0".to_string()), "{l:?}");
    // The answerer's side exists from the offer on (its tag comes later).
    assert!(l.contains(&"TAG 1".to_string()), "{l:?}");
    assert!(
        l.contains(&"ADD tag-1-media-1-component-1-RTP-id-2".to_string()),
        "{l:?}"
    );
    let pcmu = first
        .iter()
        .find_map(|s| match s {
            Step::Chunk(l, d) if l == "MEDIA 0 PAYLOAD TYPE 0" => Some(d.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(pcmu, b"PCMU/8000");
    // Nothing new: nothing written.
    assert_eq!(s.sync(&r.calls["c"]), []);
    r.answer(&flags("c", "a", Some("b"), sdp(7000)), &now)
        .unwrap();
    // The answer names the answerer; its streams are known already.
    let after = s.sync(&r.calls["c"]);
    assert_eq!(after[0], Step::Chunk("TAG 1".into(), b"b".to_vec()));
    assert!(!labels(&after)
        .iter()
        .any(|l| l.starts_with("STREAM") || l.starts_with("ADD")));
    // Indexes are known once the module took the streams.
    let rtp = r.calls["c"].monologues[0].medias[0]
        .rtp
        .as_ref()
        .unwrap()
        .id;
    assert_eq!(s.intercept(rtp), None);
    s.added(rtp, 9);
    assert_eq!(s.intercept(rtp), Some(9));
    assert_eq!(
        labels(&s.flags()),
        [
            "RECORDING 1",
            "FORWARDING 0",
            "STREAM 0 FORWARDING 0",
            "STREAM 1 FORWARDING 0",
            "STREAM 2 FORWARDING 0",
            "STREAM 3 FORWARDING 0"
        ]
    );
}

#[test]
fn a_recording_starts_with_the_call_and_its_kernel_name() {
    assert_eq!(
        labels(&Session::start("c@h", "c%40h-00", "")),
        ["CALL-ID", "PARENT", "RECORDING 1", "FORWARDING 0"]
    );
    assert_eq!(
        Session::start("c", "p", "k:v")[2],
        Step::Chunk("METADATA".into(), b"k:v".to_vec())
    );
}
