//! Endpoint learning on loopback (userspace, `--table=-1`): the RTP Bleed attack, and
//! what each `--endpoint-learning` mode does for phones behind NAT.

mod common;
use common::*;
use rtpengined::ng::bencode::Owned;
use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

/// rtpengine's wait between signalling and the commit to a peer.
const DELAY: Duration = Duration::from_secs(3);

fn received_from(ip: &str) -> Owned {
    list(&["IP4", ip])
}

/// The stream entry (RTP) of `tag` in a query reply.
fn rtp_stream(q: &Owned, tag: &str) -> Owned {
    let Some(Owned::List(m)) = q.get("tags").unwrap().get(tag).unwrap().get("medias") else {
        panic!("no medias for {tag}: {q}")
    };
    let Some(Owned::List(st)) = m[0].get("streams") else {
        panic!("no streams")
    };
    st[0].clone()
}

fn confirmed(st: &Owned) -> bool {
    matches!(st.get("flags"), Some(Owned::List(f)) if f.contains(&Owned::from("confirmed")))
}

fn endpoint_port(st: &Owned) -> u16 {
    int(st.get("endpoint").unwrap().get("port")) as u16
}

/// Packets that arrive at `sock` within `wait`, tagged by their payload byte.
fn drain(sock: &UdpSocket, wait: Duration) -> Vec<u8> {
    sock.set_read_timeout(Some(wait)).unwrap();
    let mut tags = Vec::new();
    while let Some((p, _)) = recv(sock) {
        tags.push(p.last().copied().unwrap_or(0));
    }
    sock.set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    tags
}

/// Waits until `sock` got a packet tagged `tag` (others are skipped).
fn expect_tag(sock: &UdpSocket, tag: u8, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if let Some((p, _)) = recv(sock) {
            if p.last() == Some(&tag) {
                return;
            }
        }
    }
    panic!("{what}: no packet tagged {tag:#x}");
}

const ATTACK: u8 = 0xee;
const CALLEE: u8 = 0xbb;
const CALLER: u8 = 0xaa;

#[test]
fn a_spraying_attacker_never_gets_the_callee_media() {
    let d = Daemon::start(35000, 35099, &["--table=-1"]);
    let caller = phone("127.0.0.1");
    let callee = phone("127.0.0.1");
    let attacker = phone("127.0.0.2");
    let o = d.ok(&offer(
        "bleed",
        "caller",
        &sdp("127.0.0.1", caller.local_addr().unwrap().port()),
    )
    .with("received-from", received_from("127.0.0.1")));
    let a = d.ok(&answer(
        "bleed",
        "caller",
        "callee",
        &sdp("127.0.0.1", callee.local_addr().unwrap().port()),
    )
    .with("received-from", received_from("127.0.0.1")));
    // The caller-side relay port: the caller sends there, and the callee's media
    // leaves from there towards the caller.
    let caller_side = media_target(&a);
    let callee_side = media_target(&o);

    // The attacker sprays the caller's relay port before the caller says anything;
    // its packets are relayed to the callee (no strict source), which shows that the
    // daemon has seen them.
    for seq in 0..5 {
        attacker.send_to(&rtp(seq, ATTACK), caller_side).unwrap();
    }
    expect_tag(&callee, ATTACK, "attacker's packets relayed to the callee");
    // The callee speaks: its media goes to the caller's SDP address.
    for seq in 0..5 {
        callee.send_to(&rtp(seq, CALLEE), callee_side).unwrap();
        expect_tag(
            &caller,
            CALLEE,
            "callee media reaches the caller before it speaks",
        );
    }
    // The caller speaks, then the callee again.
    caller.send_to(&rtp(10, CALLER), caller_side).unwrap();
    expect_tag(&callee, CALLER, "caller media");
    callee.send_to(&rtp(11, CALLEE), callee_side).unwrap();
    expect_tag(&caller, CALLEE, "callee media after the caller spoke");

    // The attacker keeps spraying until learning commits (the first packet 3 s
    // after the answer): in 10.5 that packet would win the stream.
    let deadline = Instant::now() + DELAY * 4;
    loop {
        attacker.send_to(&rtp(20, ATTACK), caller_side).unwrap();
        let st = rtp_stream(&d.ok(&query("bleed")), "caller");
        if confirmed(&st) {
            assert_eq!(endpoint_port(&st), caller.local_addr().unwrap().port());
            break;
        }
        assert!(Instant::now() < deadline, "learning never committed: {st}");
        std::thread::sleep(Duration::from_millis(100));
    }
    for seq in 30..35 {
        callee.send_to(&rtp(seq, CALLEE), callee_side).unwrap();
        expect_tag(&caller, CALLEE, "callee media after the commit");
    }
    let stolen = drain(&attacker, Duration::from_millis(300));
    assert!(
        stolen.is_empty(),
        "the attacker received {} packets",
        stolen.len()
    );
}

#[test]
fn a_caller_sending_from_another_port_gets_media_once_it_speaks() {
    let d = Daemon::start(35100, 35199, &["--table=-1"]);
    let caller = phone("127.0.0.1");
    let callee = phone("127.0.0.1");
    let attacker = phone("127.0.0.2");
    // The SDP names a port the caller does not use (a NAT that keeps the address).
    let sdp_port = free_port("127.0.0.1");
    let o = d.ok(&offer("port", "caller", &sdp("127.0.0.1", sdp_port)));
    let a = d.ok(&answer(
        "port",
        "caller",
        "callee",
        &sdp("127.0.0.1", callee.local_addr().unwrap().port()),
    ));
    let (caller_side, callee_side) = (media_target(&a), media_target(&o));
    attacker.send_to(&rtp(1, ATTACK), caller_side).unwrap();
    expect_tag(&callee, ATTACK, "attacker relayed");
    callee.send_to(&rtp(2, CALLEE), callee_side).unwrap();
    caller.send_to(&rtp(3, CALLER), caller_side).unwrap();
    expect_tag(&callee, CALLER, "caller relayed");
    callee.send_to(&rtp(4, CALLEE), callee_side).unwrap();
    expect_tag(&caller, CALLEE, "callee media follows the caller");
    assert!(drain(&attacker, Duration::from_millis(300)).is_empty());
}

/// When a NAT'd caller first got the callee's media: how long after the answer,
/// and the sequence number of that packet (the callee sends 1, 2, ... from the
/// moment the caller's first packet has been relayed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FirstMedia {
    after: Duration,
    seq: u16,
}

/// A call from a NAT'd caller: its SDP names 127.0.0.9 (nobody there), it sends
/// from `ip`, and its SIP came from `sip`.
struct NatCall {
    caller: UdpSocket,
    callee: UdpSocket,
    caller_side: SocketAddr,
    callee_side: SocketAddr,
    answered: Instant,
}

impl NatCall {
    fn signal(d: &Daemon, call: &str, ip: &str, sip: &str) -> NatCall {
        let caller = phone(ip);
        let callee = phone("127.0.0.1");
        let o = d.ok(
            &offer(call, "caller", &sdp("127.0.0.9", free_port("127.0.0.1")))
                .with("received-from", received_from(sip)),
        );
        let answered = Instant::now();
        let a = d.ok(&answer(
            call,
            "caller",
            "callee",
            &sdp("127.0.0.1", callee.local_addr().unwrap().port()),
        )
        .with("received-from", received_from("127.0.0.1")));
        NatCall {
            caller,
            callee,
            caller_side: media_target(&a),
            callee_side: media_target(&o),
            answered,
        }
    }

    /// Both talk until the caller gets the callee's media or `wait` has passed
    /// since the answer.
    fn talk(&self, wait: Duration) -> Option<FirstMedia> {
        let (caller, callee) = (&self.caller, &self.callee);
        caller.send_to(&rtp(0, CALLER), self.caller_side).unwrap();
        expect_tag(callee, CALLER, "the caller's first packet relayed");
        caller
            .set_read_timeout(Some(Duration::from_millis(20)))
            .unwrap();
        callee
            .set_read_timeout(Some(Duration::from_millis(1)))
            .unwrap();
        let mut seq = 1u16;
        while self.answered.elapsed() < wait {
            callee.send_to(&rtp(seq, CALLEE), self.callee_side).unwrap();
            caller.send_to(&rtp(seq, CALLER), self.caller_side).unwrap();
            seq += 1;
            while recv(callee).is_some() {}
            if let Some((p, _)) = recv(caller).filter(|(p, _)| p.last() == Some(&CALLEE)) {
                return Some(FirstMedia {
                    after: self.answered.elapsed(),
                    seq: u16::from_be_bytes([p[2], p[3]]),
                });
            }
        }
        None
    }

    fn port(&self) -> u16 {
        self.caller.local_addr().unwrap().port()
    }
}

/// What a mode does for a NAT'd caller whose RTP comes from its SIP source
/// (`vouched`) and for one whose RTP comes from elsewhere (`unknown`).
fn nat_callers(mode: &str, port_min: u16, vouched: &str, unknown: &str) {
    let opt = format!("--endpoint-learning={mode}");
    let d = Daemon::start(port_min, port_min + 99, &["--table=-1", &opt]);
    let wait = DELAY * 2;
    // Signalling one after the other (one ng client), media at the same time.
    let call_a = NatCall::signal(&d, "nat-a", vouched, vouched);
    let call_b = NatCall::signal(&d, "nat-b", unknown, "127.0.0.5");
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| call_a.talk(wait));
        let b = s.spawn(|| call_b.talk(wait));
        (a.join().unwrap(), b.join().unwrap())
    });
    let (a_port, b_port) = (call_a.port(), call_b.port());
    let a_st = rtp_stream(&d.ok(&query("nat-a")), "caller");
    let b_st = rtp_stream(&d.ok(&query("nat-b")), "caller");
    if mode == "off" {
        assert_eq!((a, b), (None, None), "off never learns");
        for st in [a_st, b_st] {
            let sdp_port = int(st.get("advertised endpoint").unwrap().get("port")) as u16;
            assert_eq!(endpoint_port(&st), sdp_port, "{st}");
        }
        return;
    }
    let a = a.expect("media reaches a caller behind its SIP source");
    let b = b.expect("media reaches a NAT'd caller unknown to signalling");
    eprintln!("{mode}: behind its SIP source {a:?}, elsewhere {b:?}");
    // Behind its SIP source: the callee's first packet after the caller's first.
    assert_eq!(a.seq, 1, "{mode}: {a:?}");
    // Elsewhere: only once learning commits, 3 s after the answer.
    assert!(
        b.after >= DELAY,
        "{mode}: unknown source got media after {b:?}"
    );
    assert_eq!(endpoint_port(&a_st), a_port, "{a_st}");
    assert_eq!(endpoint_port(&b_st), b_port, "{b_st}");
    assert!(confirmed(&b_st), "{b_st}");
}

#[test]
fn delayed_mode_and_nat() {
    nat_callers("delayed", 35200, "127.0.0.3", "127.0.0.4");
}

#[test]
fn immediate_mode_and_nat() {
    nat_callers("immediate", 35300, "127.0.0.13", "127.0.0.14");
}

#[test]
fn heuristic_mode_and_nat() {
    nat_callers("heuristic", 35400, "127.0.0.23", "127.0.0.24");
}

#[test]
fn off_mode_and_nat() {
    nat_callers("off", 35500, "127.0.0.33", "127.0.0.34");
}
