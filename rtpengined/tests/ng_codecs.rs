//! Codec options over ng (`codec`, `ptime`, `ptime-reverse`, `T.38`), held
//! to what rtpengine 10.5 answers (measured with the live differential
//! harness): its SDP where no transcoder is needed, an error where 10.5
//! would decode and re-encode (we have no transcoder).

mod common;
use common::*;
use rtpengined::ng::bencode::Owned;

const OFFER: &str = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0 8 101 63\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=rtpmap:63 red/8000\r\n";

fn answer_sdp(formats: &str, lines: &str) -> String {
    format!("v=0\r\no=- 2 2 IN IP4 192.0.2.2\r\ns=-\r\nc=IN IP4 192.0.2.2\r\nt=0 0\r\nm=audio 6000 RTP/AVP {formats}\r\n{lines}")
}

/// The `m=audio` line's format list and the codec lines of a reply's SDP.
fn codecs(reply: &Owned) -> (String, Vec<String>) {
    let body = text(reply.get("sdp"));
    let m = body
        .lines()
        .find_map(|l| l.strip_prefix("m=audio "))
        .map(|rest| rest.splitn(3, ' ').nth(2).unwrap_or("").to_string())
        .unwrap_or_default();
    let lines = body
        .lines()
        .filter(|l| {
            l.starts_with("a=rtpmap:") || l.starts_with("a=fmtp:") || l.starts_with("a=ptime:")
        })
        .map(str::to_string)
        .collect();
    (m, lines)
}

#[test]
fn transcode_offers_the_codec_and_an_answer_without_it_passes_through() {
    let d = Daemon::start(39140, 39179, &[]);
    let o = d
        .ok(&offer("t-1", "a", OFFER)
            .with("codec", Owned::dict().with("transcode", list(&["G722"]))));
    // As 10.5: G722 added before the DTMF type, red (which its codec
    // library cannot handle) dropped, no warning.
    assert_eq!(
        codecs(&o),
        (
            "0 8 9 101".to_string(),
            vec![
                "a=rtpmap:0 PCMU/8000".to_string(),
                "a=rtpmap:8 PCMA/8000".into(),
                "a=rtpmap:9 G722/8000".into(),
                "a=rtpmap:101 telephone-event/8000".into(),
                "a=fmtp:101 0-16".into(),
            ]
        )
    );
    assert!(o.get("warning").is_none(), "{o}");
    let q = d.ok(&query("t-1"));
    assert!(q.to_string().contains("transcoding"), "{q}");
    let a = d.ok(&answer(
        "t-1",
        "a",
        "b",
        &answer_sdp(
            "0 101",
            "a=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n",
        ),
    ));
    assert_eq!(
        codecs(&a),
        (
            "0 101".to_string(),
            vec![
                "a=rtpmap:0 PCMU/8000".to_string(),
                "a=rtpmap:101 telephone-event/8000".into()
            ]
        )
    );
    let q = d.ok(&query("t-1"));
    assert!(!q.to_string().contains("transcoding"), "{q}");

    // The answerer picking the added codec would need a transcoder.
    d.ok(&offer("t-2", "a", OFFER).with("codec", Owned::dict().with("transcode", list(&["G722"]))));
    let r = d.request(&answer(
        "t-2",
        "a",
        "b",
        &answer_sdp("9", "a=rtpmap:9 G722/8000\r\n"),
    ));
    assert_eq!(text(r.get("result")), "error", "{r}");
    assert!(
        text(r.get("error-reason")).starts_with("Transcoding is not supported"),
        "{r}"
    );
}

#[test]
fn ptime_is_printed_toward_the_receiver() {
    let d = Daemon::start(39180, 39219, &[]);
    // PCMU's own packet time: nothing to repacketise.
    let o = d.ok(&offer("p-1", "a", OFFER).with("ptime", 20i64));
    assert!(codecs(&o).1.contains(&"a=ptime:20".to_string()), "{o}");
    assert!(o.get("warning").is_none(), "{o}");
    d.ok(&answer(
        "p-1",
        "a",
        "b",
        &answer_sdp("0", "a=rtpmap:0 PCMU/8000\r\n"),
    ));
    // ptime-reverse goes into the answer.
    let with_ptime = format!("{OFFER}a=ptime:30\r\n");
    d.ok(&offer("p-2", "a", &with_ptime).with("ptime-reverse", 30i64));
    let a = d.ok(&answer(
        "p-2",
        "a",
        "b",
        &answer_sdp("0", "a=rtpmap:0 PCMU/8000\r\n"),
    ));
    assert!(codecs(&a).1.contains(&"a=ptime:30".to_string()), "{a}");
    // 30 ms toward a party sending 20 ms packets: 10.5 re-packetises (and
    // drops red, adds nothing else at 8 kHz). The codec stays: the answer
    // is 10.5's, and the packets are relayed as they come.
    let o = d.ok(&offer("p-3", "a", OFFER).with("ptime", 30i64));
    assert_eq!(codecs(&o).0, "0 8 101");
    assert!(codecs(&o).1.contains(&"a=ptime:30".to_string()), "{o}");
    let a = d.ok(&answer(
        "p-3",
        "a",
        "b",
        &answer_sdp("0", "a=rtpmap:0 PCMU/8000\r\n"),
    ));
    assert_eq!(
        codecs(&a),
        ("0".to_string(), vec!["a=rtpmap:0 PCMU/8000".to_string()])
    );
}

/// A PCMU + DTMF SDP for a party at 127.0.0.1:`port`.
fn pcmu_dtmf(port: u16, extra: &str) -> String {
    format!(
        "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio {port} RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n{extra}"
    )
}

#[test]
fn a_ptime_change_alone_is_answered_and_relayed_unchanged() {
    let d = Daemon::start(39260, 39299, &[]);
    let (alice, bob) = (phone("127.0.0.1"), phone("127.0.0.1"));
    let (a_port, b_port) = (
        alice.local_addr().unwrap().port(),
        bob.local_addr().unwrap().port(),
    );
    let o = d.ok(&offer("r-1", "alice", &pcmu_dtmf(a_port, "a=ptime:20\r\n")).with("ptime", 30i64));
    assert!(codecs(&o).1.contains(&"a=ptime:30".to_string()), "{o}");
    // Same codecs, bob's packet time differs from the 30 ms asked for him:
    // 10.5 answers, re-packetising; we answer the same and relay.
    let a = d.ok(&answer("r-1", "alice", "bob", &pcmu_dtmf(b_port, "")));
    assert_eq!(
        codecs(&a),
        (
            "0 101".to_string(),
            vec![
                "a=rtpmap:0 PCMU/8000".to_string(),
                "a=rtpmap:101 telephone-event/8000".into(),
                "a=ptime:20".into(),
            ]
        )
    );
    // The answer goes to alice (she sends there), the offer to bob.
    let (alice_sends, bob_sends) = (media_target(&a), media_target(&o));
    for seq in 1..4u16 {
        for (from, to_addr, to) in [(&alice, alice_sends, &bob), (&bob, bob_sends, &alice)] {
            let p = rtp(seq, seq as u8);
            from.send_to(&p, to_addr).unwrap();
            let (got, _) = recv(to).expect("relayed");
            assert_eq!(got, p, "payload relayed unchanged");
        }
    }
}

#[test]
fn inject_dtmf_shapes_the_sdp_as_10_5s_transcoder_does() {
    let d = Daemon::start(39300, 39339, &[]);
    // 10.5 puts its codec handlers in the way to be able to inject DTMF:
    // red, which they cannot handle, is dropped from the offer and answer.
    let o = d.ok(&offer("i-1", "a", OFFER).with("flags", list(&["inject-DTMF"])));
    assert_eq!(codecs(&o).0, "0 8 101");
    let a = d.ok(&answer(
        "i-1",
        "a",
        "b",
        &answer_sdp("8 63", "a=rtpmap:8 PCMA/8000\r\na=rtpmap:63 red/8000\r\n"),
    ));
    assert_eq!(
        codecs(&a),
        ("8".to_string(), vec!["a=rtpmap:8 PCMA/8000".to_string()])
    );
    let q = d.ok(&query("i-1"));
    assert!(q.to_string().contains("transcoding"), "{q}");
}

#[test]
fn t38_gateway_is_refused_and_other_t38_items_accepted() {
    let d = Daemon::start(39220, 39259, &[]);
    let r = d.request(&offer("x-1", "a", OFFER).with("T.38", list(&["force"])));
    assert_eq!(text(r.get("result")), "error", "{r}");
    assert!(text(r.get("error-reason")).contains("T.38"), "{r}");
    // `decode` only acts on image/udptl media: an audio offer passes as in 10.5.
    let o = d.ok(&offer("x-2", "a", OFFER).with("T.38", list(&["decode", "no-ECM"])));
    assert!(o.get("warning").is_none(), "{o}");
    assert_eq!(codecs(&o).0, "0 8 101 63");
}
