//! DTLS-SRTP through the engine, scripted with a stand-in handshake (the real
//! one, OpenSSL's, is tested in the rtpengine-dtls crate and end to end): when
//! the handshake starts, where its records go, that no media passes before
//! the keys exist, and that the keys then protect both directions and reach
//! the kernel target.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::{DtlsEvent, DtlsFactory, DtlsSession};
use crate::call::{DtlsParams, IceCredentials, PeerFingerprint, StreamConfig, StreamId};
use crate::media::engine::{Datagram, Engine, Event, Output};
use crate::media::srtp::SrtpDirection;
use crate::media::stun::{attr, message_type, Class, Header, Writer, BINDING};
use crate::srtp::Suite;

const A: StreamId = StreamId(1);
const B: StreamId = StreamId(2);
const SUITE: &str = "AES_CM_128_HMAC_SHA1_80";
/// The master key||salt we send with (ours) and the browser sends with.
const OURS: [u8; 30] = [1; 30];
const THEIRS: [u8; 30] = [2; 30];
const HELLO: &[u8] = b"\x16client-hello";
const REPLY: &[u8] = b"\x16server-flight";
const CLOSE: &[u8] = b"\x15close-notify";
const BAD: &[u8] = b"\x16wrong-certificate";

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}
fn browser() -> SocketAddr {
    addr("192.0.2.1:5000")
}
fn phone() -> SocketAddr {
    addr("192.0.2.2:6000")
}

/// What the stand-in sessions were started with, for the tests to check.
#[derive(Default)]
struct Log {
    started: Vec<(bool, PeerFingerprint)>,
}

struct Factory(Arc<Mutex<Log>>);

/// A client sends HELLO (and again on each timeout until answered), is done
/// on REPLY; a server answers HELLO with REPLY and is done; BAD fails either.
struct Scripted {
    active: bool,
    out: Vec<Vec<u8>>,
    events: Vec<DtlsEvent>,
    deadline: Option<Instant>,
    connected: bool,
}

impl DtlsFactory for Factory {
    fn start(
        &self,
        active: bool,
        peer: &PeerFingerprint,
        now: Instant,
    ) -> Result<Box<dyn DtlsSession>, String> {
        self.0.lock().unwrap().started.push((active, peer.clone()));
        let mut s = Scripted {
            active,
            out: Vec::new(),
            events: Vec::new(),
            deadline: None,
            connected: false,
        };
        if active {
            s.out.push(HELLO.to_vec());
            s.deadline = Some(now + Duration::from_secs(1));
        }
        Ok(Box::new(s))
    }
}

impl Scripted {
    fn connect(&mut self) {
        self.connected = true;
        self.deadline = None;
        self.events.push(DtlsEvent::Connected {
            suite: SUITE,
            local_key_salt: OURS.to_vec(),
            remote_key_salt: THEIRS.to_vec(),
        });
    }
}

impl DtlsSession for Scripted {
    fn handle_datagram(&mut self, _now: Instant, d: &[u8]) {
        match (d, self.active) {
            (BAD, _) => self.events.push(DtlsEvent::Failed("mismatch".into())),
            (HELLO, false) => {
                self.out.push(REPLY.to_vec());
                self.connect();
            }
            (REPLY, true) => self.connect(),
            _ => {}
        }
    }
    fn handle_timeout(&mut self, now: Instant) {
        if !self.connected {
            self.out.push(HELLO.to_vec());
            self.deadline = Some(now + Duration::from_secs(2));
        }
    }
    fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        (!self.out.is_empty()).then(|| self.out.remove(0))
    }
    fn poll_timeout(&self) -> Option<Instant> {
        self.deadline
    }
    fn poll_event(&mut self) -> Option<DtlsEvent> {
        (!self.events.is_empty()).then(|| self.events.remove(0))
    }
    fn close(&mut self) {
        if self.connected {
            self.out.push(CLOSE.to_vec());
        }
    }
}

fn fingerprint(b: u8) -> PeerFingerprint {
    PeerFingerprint {
        hash: "sha-256".into(),
        digest: vec![b; 32],
    }
}

fn stream(id: StreamId, local: &str, endpoint: SocketAddr, sink: StreamId) -> StreamConfig {
    crate::media::engine::test_config::stream(id, addr(local), endpoint, sink)
}

/// The browser's side, with DTLS in role `active` (ours).
fn browser_side(active: bool) -> StreamConfig {
    let mut a = stream(A, "203.0.113.1:30000", browser(), B);
    a.kernel.dtls = true;
    a.dtls = Some(DtlsParams {
        active,
        fingerprint: fingerprint(0xab),
    });
    a
}

/// Stream A towards the browser (DTLS), B towards the phone (plain).
fn call(kernel: bool, a: StreamConfig, now: Instant) -> (Engine, Arc<Mutex<Log>>) {
    let log = Arc::new(Mutex::new(Log::default()));
    let mut e =
        Engine::new(kernel, Duration::from_secs(3)).with_dtls(Arc::new(Factory(log.clone())));
    e.configure(now, a);
    e.configure(now, stream(B, "203.0.113.1:30002", phone(), A));
    (e, log)
}

fn rtp(seq: u16) -> Vec<u8> {
    let mut p = vec![0x80, 0];
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(&[0, 0, 0, 160, 0, 0, 0x12, 0x34]);
    p.extend([0xd5; 160]);
    p
}

fn direction(key_salt: &[u8]) -> SrtpDirection {
    let p = Suite::by_name(SUITE)
        .unwrap()
        .params_from_key_salt(key_salt)
        .unwrap();
    SrtpDirection::new(&p).unwrap()
}

/// Feeds one datagram; what the engine sends in answer (bytes and where).
fn feed(
    e: &mut Engine,
    now: Instant,
    at: StreamId,
    src: SocketAddr,
    data: &[u8],
) -> Option<(SocketAddr, Vec<u8>)> {
    let mut buf = vec![0u8; 2048];
    buf[..data.len()].copy_from_slice(data);
    let t = e.datagram(now, at, src, &mut buf, data.len())?;
    Some((t.to, buf[..t.len].to_vec()))
}

fn outputs(e: &mut Engine) -> Vec<Output> {
    std::iter::from_fn(|| e.poll_output()).collect()
}

fn sent(out: &[Output]) -> Vec<Datagram> {
    out.iter()
        .filter_map(|o| match o {
            Output::Send(d) => Some(d.clone()),
            _ => None,
        })
        .collect()
}

fn record(via: StreamId, to: SocketAddr, data: &[u8]) -> Datagram {
    Datagram {
        via,
        to,
        data: data.to_vec(),
    }
}

fn connected(out: &[Output]) -> bool {
    out.iter().any(|o| {
        matches!(
            o,
            Output::Event(Event::DtlsConnected {
                stream: A,
                suite: SUITE
            })
        )
    })
}

#[test]
fn no_media_passes_until_the_handshake_gives_keys_then_both_ways_are_protected() {
    let now = Instant::now();
    let (mut e, log) = call(false, browser_side(false), now);
    assert!(sent(&outputs(&mut e)).is_empty(), "passive: we wait");
    assert!(log.lock().unwrap().started.is_empty());

    // Before the keys: the phone's RTP is not sent to the browser in clear,
    // and nothing from the browser is taken as media.
    assert_eq!(feed(&mut e, now, B, phone(), &rtp(1)), None);
    assert_eq!(feed(&mut e, now, A, browser(), &rtp(1)), None);
    assert_eq!(e.stats(A).unwrap().errors, 1);

    // The browser's ClientHello starts our (server) side; the answer goes back
    // out of stream A to where it came from.
    assert_eq!(feed(&mut e, now, A, browser(), HELLO), None);
    let out = outputs(&mut e);
    assert_eq!(sent(&out), [record(A, browser(), REPLY)]);
    assert!(connected(&out), "{out:?}");
    assert_eq!(log.lock().unwrap().started, [(false, fingerprint(0xab))]);

    // Phone → browser: SRTP under our key.
    let (to, wire) = feed(&mut e, now, B, phone(), &rtp(2)).expect("relayed");
    assert_eq!(to, browser());
    let mut check = wire.clone();
    direction(&OURS)
        .unprotect(&mut check)
        .expect("under our key");
    assert_eq!(check, rtp(2));

    // Browser → phone: its SRTP verified and decrypted.
    let mut srtp = rtp(3);
    direction(&THEIRS).protect(&mut srtp).unwrap();
    let (to, plain) = feed(&mut e, now, A, browser(), &srtp).expect("relayed");
    assert_eq!((to, plain), (phone(), rtp(3)));
    // Garbage under the right SSRC does not verify.
    let mut forged = srtp.clone();
    forged[20] ^= 1;
    assert_eq!(feed(&mut e, now, A, browser(), &forged), None);
}

#[test]
fn the_active_side_sends_its_hello_at_once_and_retransmits_until_answered() {
    let now = Instant::now();
    let (mut e, log) = call(false, browser_side(true), now);
    assert_eq!(sent(&outputs(&mut e)), [record(A, browser(), HELLO)]);
    assert_eq!(log.lock().unwrap().started, [(true, fingerprint(0xab))]);

    let due = e.poll_timeout().expect("a retransmission timer");
    e.handle_timeout(due - Duration::from_millis(1));
    assert!(sent(&outputs(&mut e)).is_empty(), "not due yet");
    e.handle_timeout(due);
    assert_eq!(sent(&outputs(&mut e)), [record(A, browser(), HELLO)]);

    assert_eq!(feed(&mut e, due, A, browser(), REPLY), None);
    assert!(connected(&outputs(&mut e)));
    assert_eq!(e.poll_timeout(), None, "nothing left to retransmit");
}

/// A binding request as a browser sends it, nominating with USE-CANDIDATE.
fn check(use_candidate: bool) -> Vec<u8> {
    let mut buf = vec![0u8; 1500];
    let mut w = Writer::new(&mut buf, message_type(BINDING, Class::Request), [9; 12]).unwrap();
    w.attribute(attr::USERNAME, b"ours:theirs").unwrap();
    w.attribute(attr::ICE_CONTROLLING, &7u64.to_be_bytes())
        .unwrap();
    if use_candidate {
        w.attribute(attr::USE_CANDIDATE, &[]).unwrap();
    }
    w.message_integrity(b"our-password-0123456789").unwrap();
    w.fingerprint().unwrap();
    let n = w.finish();
    buf.truncate(n);
    buf
}

/// Our success response to the check in `request` (as the browser answers
/// our checks), signed with the browser's password.
fn respond(request: &[u8], from: SocketAddr) -> Vec<u8> {
    let h = Header::parse(request).unwrap();
    let mut buf = vec![0u8; 1500];
    let mut w = Writer::new(
        &mut buf,
        message_type(BINDING, Class::Success),
        h.transaction,
    )
    .unwrap();
    w.xor_mapped_address(from).unwrap();
    w.message_integrity(b"their-password-012345678").unwrap();
    w.fingerprint().unwrap();
    let n = w.finish();
    buf.truncate(n);
    buf
}

/// Runs the engine's timers that are due within `within` of `now`; what they
/// made comes out with the rest.
fn run_timers(e: &mut Engine, now: Instant, within: Duration) -> Instant {
    let mut at = now;
    while let Some(t) = e.poll_timeout().filter(|t| *t <= now + within) {
        at = t.max(at);
        e.handle_timeout(at);
    }
    at
}

/// The one connectivity check of ours in `out`, to `to`.
fn our_check(out: &[Output], to: SocketAddr) -> Vec<u8> {
    let checks: Vec<_> = sent(out)
        .into_iter()
        .filter(|d| d.to == to && d.data.first() == Some(&0))
        .collect();
    assert_eq!(checks.len(), 1, "{out:?}");
    checks[0].data.clone()
}

#[test]
fn with_ice_the_hello_waits_for_a_checked_pair_and_media_follows_the_nomination() {
    let now = Instant::now();
    // Chrome's SDP address says nothing: c=IN IP4 0.0.0.0, port 9.
    let mut a = browser_side(true);
    a.endpoint = Some(addr("0.0.0.0:9"));
    a.ice = Some(IceCredentials {
        ufrag: "ours".into(),
        pwd: "our-password-0123456789".into(),
        remote_ufrag: Some("theirs".into()),
        remote_pwd: Some("their-password-012345678".into()),
        controlling: false,
        remote_candidates: Vec::new(),
        lite: false,
    });
    let (mut e, _) = call(false, a, now);
    assert!(
        sent(&outputs(&mut e)).is_empty(),
        "nowhere to send anything yet"
    );

    // The browser's check from an address its SDP did not give: answered,
    // and checked back (a triggered check to the peer-reflexive candidate).
    let first = addr("192.0.2.1:5001");
    assert!(
        feed(&mut e, now, A, first, &check(false)).is_some(),
        "answered"
    );
    // Checks are paced: the triggered one leaves on the next timer round.
    let now = run_timers(&mut e, now, Duration::from_millis(20));
    let out = outputs(&mut e);
    let ours = our_check(&out, first);
    assert!(!out
        .iter()
        .any(|o| matches!(o, Output::Event(Event::IceSelected { .. }))));
    assert_eq!(feed(&mut e, now, B, phone(), &rtp(1)), None, "no pair yet");

    // Our check succeeds: the pair is usable, media and the ClientHello go there.
    assert_eq!(feed(&mut e, now, A, first, &respond(&ours, first)), None);
    let out = outputs(&mut e);
    assert!(out.contains(&Output::Event(Event::IceSelected {
        stream: A,
        peer: first,
        nominated: false
    })));
    assert!(sent(&out).contains(&record(A, first, HELLO)), "{out:?}");

    // The controlling browser nominates another pair; once our check of it
    // succeeds, media goes there.
    assert!(feed(&mut e, now, A, browser(), &check(true)).is_some());
    let now = run_timers(&mut e, now, Duration::from_millis(20));
    let ours = our_check(&outputs(&mut e), browser());
    assert_eq!(
        feed(&mut e, now, A, browser(), &respond(&ours, browser())),
        None
    );
    let out = outputs(&mut e);
    assert!(
        out.contains(&Output::Event(Event::IceSelected {
            stream: A,
            peer: browser(),
            nominated: true
        })),
        "{out:?}"
    );
    assert_eq!(feed(&mut e, now, A, browser(), REPLY), None);
    assert!(connected(&outputs(&mut e)));
    let (to, _) = feed(&mut e, now, B, phone(), &rtp(2)).expect("relayed");
    assert_eq!(to, browser());
}

/// Nominates the pair from `from` by the browser's check and our answered
/// check back, as a controlling browser does; the time after it.
fn nominate(e: &mut Engine, now: Instant, from: SocketAddr) -> Instant {
    assert!(feed(e, now, A, from, &check(true)).is_some(), "answered");
    let now = run_timers(e, now, Duration::from_millis(20));
    let ours = our_check(&outputs(e), from);
    assert_eq!(feed(e, now, A, from, &respond(&ours, from)), None);
    let out = outputs(e);
    let selected = Output::Event(Event::IceSelected {
        stream: A,
        peer: from,
        nominated: true,
    });
    assert!(out.contains(&selected), "{out:?}");
    now
}

#[test]
fn an_ice_restart_keeps_the_association_and_its_records_follow_the_new_pair() {
    let now = Instant::now();
    let with_ice = |remote_ufrag: &str| {
        let mut a = browser_side(false);
        a.endpoint = Some(addr("0.0.0.0:9"));
        a.ice = Some(IceCredentials {
            ufrag: "ours".into(),
            pwd: "our-password-0123456789".into(),
            remote_ufrag: Some(remote_ufrag.into()),
            remote_pwd: Some("their-password-012345678".into()),
            controlling: false,
            lite: false,
            remote_candidates: Vec::new(),
        });
        a
    };
    let (mut e, _) = call(false, with_ice("theirs"), now);
    outputs(&mut e);
    let first = addr("192.0.2.1:5001");
    let now = nominate(&mut e, now, first);
    feed(&mut e, now, A, first, HELLO);
    assert!(connected(&outputs(&mut e)));

    // The browser restarts ICE from another port, same certificate: the
    // association and its keys stay, media and DTLS follow the new pair.
    e.configure(now, with_ice("theirs2"));
    assert!(sent(&outputs(&mut e)).is_empty(), "no close_notify");
    let moved = addr("192.0.2.1:5003");
    let now = nominate(&mut e, now, moved);
    let (to, wire) = feed(&mut e, now, B, phone(), &rtp(1)).expect("still keyed");
    assert_eq!(to, moved);
    let mut plain = wire;
    direction(&OURS).unprotect(&mut plain).unwrap();
    e.close(A);
    assert_eq!(sent(&outputs(&mut e)), [record(A, moved, CLOSE)]);
}

#[test]
fn the_kernel_gets_the_stream_only_with_the_handshakes_keys() {
    let now = Instant::now();
    let (mut e, _) = call(true, browser_side(false), now);
    outputs(&mut e);
    assert_eq!(feed(&mut e, now, B, phone(), &rtp(1)), None);
    assert!(
        !outputs(&mut e)
            .iter()
            .any(|o| matches!(o, Output::Kernel(_))),
        "no plain target towards a DTLS peer"
    );
    feed(&mut e, now, A, browser(), HELLO);
    outputs(&mut e);
    feed(&mut e, now, B, phone(), &rtp(2)).expect("relayed");
    let (stream, destination) = outputs(&mut e)
        .into_iter()
        .find_map(|o| match o {
            Output::Kernel(crate::media::engine::kernel::KernelOp::Install {
                stream,
                destination,
                ..
            }) => Some((stream, destination)),
            _ => None,
        })
        .expect("installed once keyed");
    assert_eq!(stream, B, "the phone's stream, towards the browser");
    let want = Suite::by_name(SUITE)
        .unwrap()
        .params_from_key_salt(&OURS)
        .unwrap();
    let got = destination.output.encrypt;
    assert_eq!(
        (got.cipher, &got.master_key[..16], &got.master_salt[..14]),
        (want.keys.cipher, &OURS[..16], &OURS[16..]),
        "the target encrypts with the handshake's key"
    );
}

#[test]
fn resignalling_keeps_the_association_unless_role_or_fingerprint_change() {
    let now = Instant::now();
    let (mut e, log) = call(false, browser_side(false), now);
    feed(&mut e, now, A, browser(), HELLO);
    outputs(&mut e);

    // A re-INVITE with the same DTLS parameters: keys and association stay.
    e.configure(now, browser_side(false));
    assert!(sent(&outputs(&mut e)).is_empty());
    let (_, wire) = feed(&mut e, now, B, phone(), &rtp(1)).expect("still keyed");
    let mut plain = wire;
    direction(&OURS).unprotect(&mut plain).unwrap();

    // A new certificate: the old association ends (close_notify) and media
    // waits for a new handshake.
    let mut changed = browser_side(false);
    changed.dtls.as_mut().unwrap().fingerprint = fingerprint(0xcd);
    e.configure(now, changed);
    assert_eq!(sent(&outputs(&mut e)), [record(A, browser(), CLOSE)]);
    assert_eq!(feed(&mut e, now, B, phone(), &rtp(2)), None);
    feed(&mut e, now, A, browser(), HELLO);
    assert!(connected(&outputs(&mut e)));
    assert_eq!(log.lock().unwrap().started.len(), 2);
    assert_eq!(log.lock().unwrap().started[1], (false, fingerprint(0xcd)));
}

#[test]
fn a_new_certificate_from_a_new_address_closes_the_old_association_at_its_peer() {
    let now = Instant::now();
    let (mut e, _) = call(false, browser_side(false), now);
    feed(&mut e, now, A, browser(), HELLO);
    outputs(&mut e);

    // The browser renegotiates from another port with another certificate:
    // close_notify belongs to the old peer, not to the new SDP endpoint.
    let moved = addr("192.0.2.1:5002");
    let mut changed = stream(A, "203.0.113.1:30000", moved, B);
    changed.kernel.dtls = true;
    changed.dtls = Some(DtlsParams {
        active: false,
        fingerprint: fingerprint(0xcd),
    });
    e.configure(now, changed);
    assert_eq!(sent(&outputs(&mut e)), [record(A, browser(), CLOSE)]);
    feed(&mut e, now, A, moved, HELLO);
    let out = outputs(&mut e);
    assert!(connected(&out), "{out:?}");
    assert_eq!(sent(&out), [record(A, moved, REPLY)]);
}

#[test]
fn a_strangers_records_do_not_divert_an_established_association() {
    let now = Instant::now();
    let (mut e, _) = call(false, browser_side(false), now);
    feed(&mut e, now, A, browser(), HELLO);
    outputs(&mut e);
    // Anyone can send a record to the port once it is connected; the
    // association's records (close_notify here) still go to its peer.
    let stranger = addr("198.51.100.7:4000");
    feed(&mut e, now, A, stranger, b"\x17junk");
    e.close(A);
    assert_eq!(sent(&outputs(&mut e)), [record(A, browser(), CLOSE)]);
}

#[test]
fn a_failed_handshake_leaves_the_stream_mute_and_other_streams_alone() {
    let now = Instant::now();
    let (mut e, _) = call(false, browser_side(false), now);
    feed(&mut e, now, A, browser(), BAD);
    let out = outputs(&mut e);
    assert!(
        out.iter()
            .any(|o| matches!(o, Output::Event(Event::DtlsFailed { stream: A, .. }))),
        "{out:?}"
    );
    // Later records and media are dropped and counted; no panic.
    assert_eq!(feed(&mut e, now, A, browser(), HELLO), None);
    assert_eq!(feed(&mut e, now, A, browser(), &rtp(1)), None);
    assert!(sent(&outputs(&mut e)).is_empty());
    assert_eq!(e.stats(A).unwrap().errors, 3);
    // The phone's side still counts what it receives.
    feed(&mut e, now, B, phone(), &rtp(1));
    assert_eq!(e.stats(B).unwrap().packets, 1);
}

#[test]
fn closing_the_stream_sends_close_notify_and_without_dtls_support_it_fails() {
    let now = Instant::now();
    let (mut e, _) = call(false, browser_side(false), now);
    feed(&mut e, now, A, browser(), HELLO);
    outputs(&mut e);
    e.close(A);
    assert_eq!(sent(&outputs(&mut e)), [record(A, browser(), CLOSE)]);

    // An engine without DTLS refuses the stream rather than relaying plain.
    let mut e = Engine::new(false, Duration::ZERO);
    e.configure(now, browser_side(true));
    let out = outputs(&mut e);
    assert!(
        out.iter()
            .any(|o| matches!(o, Output::Event(Event::DtlsFailed { stream: A, .. }))),
        "{out:?}"
    );
}
