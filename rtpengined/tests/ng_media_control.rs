//! ng over UDP: the media control commands (block/silence media, block DTMF,
//! forwarding, play media/DTMF, subscriptions), `statistics`, and request
//! details, each answered as rtpengine 10.5 answers them.

mod common;
use std::net::{SocketAddr, UdpSocket};

use common::*;
use rtpengined::ng::bencode::Owned;

/// An established call `call`: caller-tag (label caller) at 127.0.0.1:5000,
/// callee-tag (label callee) at 127.0.0.1:6000.
fn establish(d: &Daemon, call: &str) {
    d.ok(&offer(call, "caller-tag", &sdp("127.0.0.1", 5000)).with("label", "caller"));
    d.ok(
        &answer(call, "caller-tag", "callee-tag", &sdp("127.0.0.1", 6000)).with("label", "callee"),
    );
}

fn command(name: &str, call: &str) -> Owned {
    Owned::dict().with("command", name).with("call-id", call)
}

/// The `error-reason` of a request that must fail.
fn refused(d: &Daemon, msg: &Owned) -> String {
    let r = d.request(msg);
    assert_eq!(text(r.get("result")), "error", "{msg}: {r}");
    text(r.get("error-reason"))
}

fn field<'a>(o: &'a Owned, path: &[&str]) -> &'a Owned {
    path.iter().fold(o, |o, k| {
        o.get(k)
            .unwrap_or_else(|| panic!("no {k} in {o} (path {path:?})"))
    })
}

fn first(o: &Owned) -> &Owned {
    match o {
        Owned::List(items) => items.first().expect("a non-empty list"),
        other => panic!("expected a list, got {other}"),
    }
}

#[test]
fn media_control_commands_select_parties_as_10_5() {
    let d = Daemon::start(44200, 44299, &["--interface=127.0.0.1"]);
    establish(&d, "mc");
    for name in [
        "block media",
        "unblock media",
        "silence media",
        "unsilence media",
        "block DTMF",
        "unblock DTMF",
        "start forwarding",
        "stop forwarding",
    ] {
        // The whole call, one party by each selector, every party.
        d.ok(&command(name, "mc"));
        d.ok(&command(name, "mc").with("from-tag", "callee-tag"));
        d.ok(&command(name, "mc").with("label", "caller"));
        d.ok(&command(name, "mc").with("address", "127.0.0.1"));
        d.ok(&command(name, "mc").with("flags", list(&["all"])));
        let cases = [
            (
                command(name, "mc").with("from-tag", "nobody"),
                "From-tag given, but no such tag exists",
            ),
            (
                command(name, "mc").with("label", "nobody"),
                "No monologue matching the given label",
            ),
            (
                command(name, "mc").with("address", "10.99.99.99"),
                "Failed to match address to any tag",
            ),
            (
                command(name, "mc").with("address", "not-an-address"),
                "Failed to parse network address",
            ),
            (command(name, "no-such-call"), "Unknown call-ID"),
            (Owned::dict().with("command", name), "No call-id in message"),
        ];
        for (msg, reason) in cases {
            assert_eq!(refused(&d, &msg), reason, "{msg}");
        }
    }
    // Keys of the DTMF security modes are read without a warning.
    let r = d.ok(&command("block DTMF", "mc")
        .with("from-tag", "caller-tag")
        .with("DTMF-security", "silence")
        .with("frequency", 600i64));
    assert!(r.get("warning").is_none(), "{r}");
}

#[test]
fn play_commands_refuse_as_10_5_when_nothing_can_play() {
    let d = Daemon::start(44300, 44399, &["--interface=127.0.0.1"]);
    establish(&d, "pl");
    let play = |k: &str, v: Owned| {
        command("play media", "pl")
            .with("from-tag", "caller-tag")
            .with(k, v)
    };
    let cases = [
        (
            play("file", s("/nonexistent/prompt.wav")),
            "Failed to start media playback from file",
        ),
        (
            play("blob", s("RIFF0000WAVE")),
            "Failed to start media playback from blob",
        ),
        (
            play("db-id", Owned::Int(1)),
            "Failed to start media playback from database",
        ),
        (
            command("play media", "pl").with("from-tag", "caller-tag"),
            "No media file specified",
        ),
        (
            command("play media", "pl").with("file", "/x.wav"),
            "No participant party specified",
        ),
        (
            command("stop media", "pl").with("from-tag", "callee-tag"),
            "Not currently playing media",
        ),
        (
            command("play DTMF", "pl")
                .with("from-tag", "caller-tag")
                .with("code", "5"),
            "No SSRC context present for DTMF injection",
        ),
        (
            command("play DTMF", "pl")
                .with("from-tag", "caller-tag")
                .with("code", 16i64),
            "Out of range 'code' specified",
        ),
        (
            command("play DTMF", "pl").with("from-tag", "caller-tag"),
            "Out of range 'code' specified",
        ),
        (
            command("play DTMF", "pl").with("code", "1"),
            "No participant party specified",
        ),
    ];
    for (msg, reason) in cases {
        assert_eq!(refused(&d, &msg), reason, "{msg}");
    }
    // A party that was asked to play has a player: stopping it succeeds.
    d.ok(&command("stop media", "pl").with("from-tag", "caller-tag"));
}

#[test]
fn subscription_commands_check_requests_as_10_5() {
    let d = Daemon::start(44400, 44499, &["--interface=127.0.0.1"]);
    establish(&d, "sub");
    let cases = [
        (
            command("subscribe request", "no-such-call").with("from-tag", "x"),
            "Unknown call-ID",
        ),
        (
            command("subscribe answer", "sub")
                .with("to-tag", "nobody")
                .with("sdp", sdp("127.0.0.1", 7000)),
            "To-tag not found",
        ),
        (
            command("subscribe answer", "sub").with("to-tag", "nobody"),
            "No SDP body in message",
        ),
        (
            command("publish", "sub").with("from-tag", "pub"),
            "No SDP body in message",
        ),
    ];
    for (msg, reason) in cases {
        assert_eq!(refused(&d, &msg), reason, "{msg}");
    }
    d.ok(&command("unsubscribe", "sub").with("to-tag", "nobody"));
    // A request 10.5 accepts: the subscriber's tag, the sources, a sendonly offer.
    let r = d.ok(&command("subscribe request", "sub")
        .with("from-tag", "caller-tag")
        .with("to-tag", "s1"));
    assert_eq!(r.get("to-tag"), Some(&Owned::from("s1")), "{r}");
    assert_eq!(r.get("from-tag"), Some(&Owned::from("caller-tag")), "{r}");
    assert_eq!(
        r.get("from-tags"),
        Some(&Owned::List(vec![Owned::from("caller-tag")])),
        "{r}"
    );
    let offer = match r.get("sdp") {
        Some(Owned::Bytes(b)) => String::from_utf8_lossy(b).into_owned(),
        other => panic!("no sdp: {other:?}"),
    };
    assert!(offer.contains("a=sendonly"), "{offer}");
}

#[test]
fn statistics_count_requests_calls_and_ports() {
    let d = Daemon::start(44500, 44599, &["--interface=127.0.0.1"]);
    let stats = |d: &Daemon| {
        let r = d.ok(&Owned::dict().with("command", "statistics"));
        r.get("statistics").expect("statistics").clone()
    };
    let st = stats(&d);
    assert_eq!(
        int(Some(field(&st, &["currentstatistics", "sessionstotal"]))),
        0
    );
    establish(&d, "st");
    // An error counts too.
    refused(&d, &query("no-such-call"));
    let st = stats(&d);
    assert_eq!(
        int(Some(field(&st, &["currentstatistics", "sessionstotal"]))),
        1
    );
    let proxy = first(field(&st, &["controlstatistics", "proxies"]));
    assert_eq!(text(proxy.get("proxy")), "127.0.0.1");
    assert_eq!(int(proxy.get("offercount")), 1);
    assert_eq!(int(proxy.get("answercount")), 1);
    assert_eq!(int(proxy.get("querycount")), 1);
    assert_eq!(int(proxy.get("errorcount")), 1);
    // This request is counted once answered, as 10.5 does.
    assert_eq!(int(proxy.get("statscount")), 1);
    let ports = field(first(field(&st, &["interfaces"])), &["ports"]);
    assert_eq!(int(ports.get("used")), 4, "two port pairs: {ports}");
    assert_eq!(int(ports.get("totals")), 100);
    assert_eq!(text(ports.get("used_pct")), "4.00");

    d.ok(&delete("st", "caller-tag"));
    let st = stats(&d);
    let total = field(&st, &["totalstatistics"]);
    assert_eq!(int(total.get("managedsessions")), 1, "{total}");
    assert_eq!(int(total.get("regularterminatedsessions")), 1);
    assert_eq!(int(total.get("zerowaystreams")), 1, "no packets either way");
    let ports = field(first(field(&st, &["interfaces"])), &["ports"]);
    assert_eq!(int(ports.get("used")), 0);
    for key in [
        "intervalstatistics",
        "mos",
        "transcoders",
        "currentstatistics",
    ] {
        assert!(st.get(key).is_some(), "no {key} in {st}");
    }
}

#[test]
fn request_details_answered_as_10_5() {
    let d = Daemon::start(44600, 44699, &["--interface=127.0.0.1"]);
    let cases: &[(&[u8], &str)] = &[
        // Only a string is a command.
        (b"d7:commandi5ee", "Dictionary contains no key \"command\""),
        // Commands of later versions are unknown to 10.5.
        (b"d7:command15:pause recordinge", "Unrecognized command"),
        // Only a string is an SDP body.
        (
            b"d7:command5:offer7:call-id1:x8:from-tag1:a3:sdpi7ee",
            "No SDP body in message",
        ),
        (
            b"d7:command4:list5:limiti-1ee",
            "invalid limit, must be >= 0",
        ),
    ];
    for (i, (body, reason)) in cases.iter().enumerate() {
        let mut dg = format!("c{i} ").into_bytes();
        dg.extend_from_slice(body);
        let reply = d.send_raw(&dg).expect("a reply");
        let text_reply = String::from_utf8_lossy(&reply).to_string();
        assert!(
            text_reply.contains("error") && text_reply.contains(reason),
            "{}: {text_reply}",
            String::from_utf8_lossy(body)
        );
    }
    // A delete without from-tag deletes the call and reports nothing of it.
    establish(&d, "del");
    let r = d.ok(&command("delete", "del"));
    assert!(r.get("tags").is_none() && r.get("totals").is_none(), "{r}");
    assert!(refused(&d, &query("del")).contains("Unknown call-id"));
}

/// alice and bob in call `id` with PCMU and telephone-event 101; returns
/// their sockets and where each sends to.
fn phones(d: &Daemon, id: &str) -> (UdpSocket, UdpSocket, SocketAddr, SocketAddr) {
    let body = |port: u16| {
        format!(
            "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
             m=audio {port} RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n\
             a=rtpmap:101 telephone-event/8000\r\n"
        )
    };
    let (alice, bob) = (phone("127.0.0.1"), phone("127.0.0.1"));
    let o = d.ok(&offer(
        id,
        "alice",
        &body(alice.local_addr().unwrap().port()),
    ));
    let a = d.ok(&answer(
        id,
        "alice",
        "bob",
        &body(bob.local_addr().unwrap().port()),
    ));
    (alice, bob, media_target(&a), media_target(&o))
}

/// RTP packets the daemon received from alice (relayed or not).
fn alice_packets(d: &Daemon, call: &str) -> i64 {
    let q = d.ok(&query(call));
    let stream = first(field(
        first(field(&q, &["tags", "alice", "medias"])),
        &["streams"],
    ));
    match field(stream, &["stats", "packets"]) {
        Owned::Int(n) => *n,
        other => panic!("packets: {other}"),
    }
}

/// What `to` receives next (a packet must come).
fn next(to: &UdpSocket) -> Vec<u8> {
    recv(to).expect("a relayed packet").0
}

#[test]
fn media_controls_act_on_relayed_rtp() {
    let d = Daemon::start(44700, 44799, &["--interface=127.0.0.1"]);
    let (alice, bob, alice_to, bob_to) = phones(&d, "fx");
    let ctl = |name: &str| d.ok(&command(name, "fx").with("from-tag", "alice"));
    alice.send_to(&rtp(1, 7), alice_to).unwrap();
    assert_eq!(next(&bob), rtp(1, 7), "relayed unchanged");

    // Silenced PCMU: the header stays, the payload is PCMU silence.
    ctl("silence media");
    alice.send_to(&rtp(2, 7), alice_to).unwrap();
    let got = next(&bob);
    assert_eq!(got[..12], rtp(2, 7)[..12]);
    assert!(got[12..].iter().all(|&b| b == 0xff), "{got:?}");
    ctl("unsilence media");
    alice.send_to(&rtp(3, 7), alice_to).unwrap();
    assert_eq!(next(&bob), rtp(3, 7));

    // Blocked DTMF: the event is dropped, the audio after it arrives.
    ctl("block DTMF");
    let mut event = rtp(4, 0);
    event[1] = 101;
    event.truncate(16);
    alice.send_to(&event, alice_to).unwrap();
    alice.send_to(&rtp(5, 7), alice_to).unwrap();
    assert_eq!(next(&bob), rtp(5, 7), "the DTMF event was not dropped");
    ctl("unblock DTMF");
    alice.send_to(&event, alice_to).unwrap();
    assert_eq!(next(&bob), event);

    // Blocked media: nothing of alice's arrives; bob still reaches alice.
    ctl("block media");
    let seen = alice_packets(&d, "fx");
    alice.send_to(&rtp(6, 7), alice_to).unwrap();
    bob.send_to(&rtp(7, 8), bob_to).unwrap();
    assert_eq!(next(&alice), rtp(7, 8));
    // The daemon reads alice's socket in its own time (bob's may come
    // first): unblock only once it has taken (and dropped) packet 6.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while alice_packets(&d, "fx") == seen && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    assert_eq!(
        alice_packets(&d, "fx"),
        seen + 1,
        "packet 6 reached the daemon"
    );
    ctl("unblock media");
    alice.send_to(&rtp(8, 7), alice_to).unwrap();
    assert_eq!(next(&bob), rtp(8, 7), "the blocked packet was relayed");
}

/// Two subscribers of alice (`subscribe request` + `subscribe answer`) each
/// get a copy of what she sends; bob still gets it too.
#[test]
fn subscribers_receive_copies_of_relayed_rtp() {
    let d = Daemon::start(44800, 44899, &["--interface=127.0.0.1"]);
    let (alice, bob, alice_to, _) = phones(&d, "ps");
    let mut subscribers = Vec::new();
    for tag in ["s1", "s2"] {
        let sock = phone("127.0.0.1");
        let r = d.ok(&command("subscribe request", "ps")
            .with("from-tag", "alice")
            .with("to-tag", tag));
        let offer = match r.get("sdp") {
            Some(Owned::Bytes(b)) => String::from_utf8_lossy(b).into_owned(),
            other => panic!("no sdp: {other:?}"),
        };
        assert!(offer.contains("a=sendonly"), "{offer}");
        let body = format!(
            "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
             m=audio {} RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n\
             a=rtpmap:101 telephone-event/8000\r\na=recvonly\r\n",
            sock.local_addr().unwrap().port()
        );
        d.ok(&command("subscribe answer", "ps")
            .with("to-tag", tag)
            .with("sdp", body.as_str()));
        subscribers.push(sock);
    }
    alice.send_to(&rtp(1, 7), alice_to).unwrap();
    assert_eq!(next(&bob), rtp(1, 7));
    for s in &subscribers {
        assert_eq!(next(s), rtp(1, 7), "a subscriber's copy");
    }
}
