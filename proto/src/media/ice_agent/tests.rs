//! The agent driven by a scripted peer, time as an input: exact schedules,
//! nomination, triggered checks, roles, restarts, consent, failure, and
//! input that is not ours.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use proptest::prelude::*;

use super::*;
use crate::media::stun::{
    attr, fingerprint_matches, integrity_matches, message_type, Attributes, Class, Header, Writer,
    BINDING,
};

const UFRAG: &str = "ours";
const PWD: &str = "our-password-0123456789ab";
const PEER_UFRAG: &str = "peer";
const PEER_PWD: &str = "peer-password-0123456789";
const TIEBREAKER: u64 = 0x1234_5678_9abc_def0;
const LOCAL: &str = "10.0.0.1:30000";
/// 10.5's PRIORITY in checks: peer-reflexive type preference 110, local
/// preference 65535, component 1.
const CHECK_PRIORITY: u32 = (110 << 24) | (65535 << 8) | 255;

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn cand(address: &str, priority: u32, kind: &str) -> RemoteCandidate {
    RemoteCandidate {
        foundation: format!("f{priority}"),
        component: 1,
        priority,
        address: addr(address),
        kind: kind.into(),
    }
}

fn creds(controlling: bool, candidates: Vec<RemoteCandidate>) -> IceCredentials {
    IceCredentials {
        ufrag: UFRAG.into(),
        pwd: PWD.into(),
        remote_ufrag: Some(PEER_UFRAG.into()),
        remote_pwd: Some(PEER_PWD.into()),
        controlling,
        remote_candidates: candidates,
        lite: false,
    }
}

fn agent(controlling: bool, candidates: Vec<RemoteCandidate>, now: Instant) -> IceAgent {
    IceAgent::new(
        AgentConfig {
            credentials: creds(controlling, candidates),
            local: addr(LOCAL),
            component: 1,
            interface_index: 0,
            tiebreaker: TIEBREAKER,
            software: "rtpengine-rs-test".into(),
            seed: [7; 32],
        },
        now,
    )
}

/// A request as the peer sees it.
#[derive(Debug, Clone)]
struct Req {
    to: SocketAddr,
    at: Duration,
    transaction: [u8; 12],
    kinds: Vec<u16>,
    username: String,
    controlling: Option<u64>,
    controlled: Option<u64>,
    priority: Option<u32>,
    use_candidate: bool,
    authentic: bool,
}

fn parse(to: SocketAddr, at: Duration, msg: &[u8], pwd: &str) -> Req {
    let h = Header::parse(msg).unwrap();
    assert_eq!((h.method, h.class), (BINDING, Class::Request));
    assert_eq!(usize::from(h.length) + 20, msg.len());
    let mut r = Req {
        to,
        at,
        transaction: h.transaction,
        kinds: Vec::new(),
        username: String::new(),
        controlling: None,
        controlled: None,
        priority: None,
        use_candidate: false,
        authentic: false,
    };
    let (mut mi, mut fp) = (false, false);
    for a in Attributes::new(msg) {
        let a = a.unwrap();
        r.kinds.push(a.kind);
        match a.kind {
            attr::USERNAME => r.username = String::from_utf8(a.value.to_vec()).unwrap(),
            attr::ICE_CONTROLLING => r.controlling = Some(a.u64().unwrap()),
            attr::ICE_CONTROLLED => r.controlled = Some(a.u64().unwrap()),
            attr::PRIORITY => r.priority = Some(a.u32().unwrap()),
            attr::USE_CANDIDATE => r.use_candidate = true,
            attr::MESSAGE_INTEGRITY => mi = integrity_matches(msg, a.at, a.value, pwd.as_bytes()),
            attr::FINGERPRINT => fp = fingerprint_matches(msg, a.at, a.u32().unwrap()),
            _ => {}
        }
    }
    r.authentic = mi && fp;
    r
}

/// Runs the agent's timers from `start` up to `until`, collecting what it
/// sends (with the time of sending, relative to `t0`).
struct Run {
    t0: Instant,
    now: Instant,
    sent: Vec<Req>,
    events: Vec<(Duration, IceEvent)>,
}

impl Run {
    fn new(t0: Instant) -> Run {
        Run {
            t0,
            now: t0,
            sent: Vec::new(),
            events: Vec::new(),
        }
    }

    fn collect(&mut self, a: &mut IceAgent) {
        while let Some((to, msg)) = a.poll_transmit() {
            let pwd = PEER_PWD;
            self.sent.push(parse(to, self.now - self.t0, &msg, pwd));
        }
        while let Some(e) = a.poll_event() {
            self.events.push((self.now - self.t0, e));
        }
    }

    /// Advances to `t0 + until`, running every timer on its due time.
    fn until(&mut self, a: &mut IceAgent, until: Duration) {
        let end = self.t0 + until;
        self.collect(a);
        while let Some(t) = a.poll_timeout() {
            if t > end {
                break;
            }
            self.now = self.now.max(t);
            a.handle_timeout(self.now);
            self.collect(a);
            assert!(
                a.poll_timeout().is_none_or(|next| next > t),
                "handle_timeout did not move the timer on from {:?}",
                t - self.t0
            );
        }
        self.now = end;
        a.handle_timeout(end);
        self.collect(a);
    }

    fn at(&mut self, after: Duration) -> Instant {
        self.now = self.t0 + after;
        self.now
    }

    fn to(&self, dest: &str) -> Vec<&Req> {
        self.sent.iter().filter(|r| r.to == addr(dest)).collect()
    }
}

fn response(req: &Req, class: Class, code: Option<u16>, pwd: Option<&str>) -> Vec<u8> {
    let mut buf = vec![0u8; 512];
    let mut w = Writer::new(&mut buf, message_type(BINDING, class), req.transaction).unwrap();
    w.attribute(attr::SOFTWARE, b"scripted-peer").unwrap();
    if let Some(code) = code {
        w.error_code(code, "error").unwrap();
    } else {
        w.xor_mapped_address(addr(LOCAL)).unwrap();
    }
    if let Some(pwd) = pwd {
        w.message_integrity(pwd.as_bytes()).unwrap();
    }
    w.fingerprint().unwrap();
    let n = w.finish();
    buf.truncate(n);
    buf
}

fn success(req: &Req) -> Vec<u8> {
    response(req, Class::Success, None, Some(PEER_PWD))
}

fn error(req: &Req, code: u16) -> Vec<u8> {
    response(req, Class::Error, Some(code), Some(PEER_PWD))
}

const HOST: &str = "192.0.2.1:4000";
const SRFLX: &str = "198.51.100.1:5000";
const RELAY: &str = "203.0.113.1:6000";

fn three() -> Vec<RemoteCandidate> {
    vec![
        cand(RELAY, 16_777_215, "relay"),
        cand(HOST, 2_130_706_431, "host"),
        cand(SRFLX, 1_694_498_815, "srflx"),
    ]
}

#[test]
fn checks_carry_10_5_attributes_in_its_order() {
    let t0 = Instant::now();
    let mut a = agent(true, vec![cand(HOST, 2_130_706_431, "host")], t0);
    let mut run = Run::new(t0);
    run.until(&mut a, ms(0));
    let r = &run.sent[0];
    assert_eq!(r.to, addr(HOST));
    assert_eq!(
        r.kinds,
        [
            attr::SOFTWARE,
            attr::USERNAME,
            attr::ICE_CONTROLLING,
            attr::PRIORITY,
            attr::MESSAGE_INTEGRITY,
            attr::FINGERPRINT
        ]
    );
    assert_eq!(r.username, "peer:ours");
    assert_eq!(r.controlling, Some(TIEBREAKER));
    assert_eq!(r.priority, Some(CHECK_PRIORITY));
    assert!(
        r.authentic,
        "signed with the peer's password, fingerprinted"
    );
    assert!(!r.use_candidate);

    let mut b = agent(false, vec![cand(HOST, 2_130_706_431, "host")], t0);
    let mut run = Run::new(t0);
    run.until(&mut b, ms(0));
    assert_eq!(run.sent[0].controlled, Some(TIEBREAKER));
    assert_eq!(run.sent[0].controlling, None);
}

#[test]
fn checks_are_paced_and_retransmitted_on_10_5s_schedule() {
    let t0 = Instant::now();
    let mut a = agent(true, three(), t0);
    let mut run = Run::new(t0);
    run.until(&mut a, Duration::from_secs(60));
    // One new check per 20 ms round, highest pair priority first.
    let firsts: Vec<_> = [HOST, SRFLX, RELAY]
        .iter()
        .map(|d| run.to(d)[0].at)
        .collect();
    assert_eq!(firsts, [ms(0), ms(20), ms(40)]);
    // Retransmissions after 100 ms, doubling, same transaction: 9 sends.
    let offsets = [0, 100, 300, 700, 1500, 3100, 6300, 12700, 25500];
    for (dest, start) in [(HOST, 0), (SRFLX, 20), (RELAY, 40)] {
        let sent = run.to(dest);
        let times: Vec<_> = sent.iter().map(|r| r.at).collect();
        let want: Vec<_> = offsets.iter().map(|o| ms(o + start)).collect();
        assert_eq!(times, want, "{dest}");
        assert!(sent.iter().all(|r| r.transaction == sent[0].transaction));
    }
    // The last pair fails 25.6 s after its ninth send: ICE failed then.
    assert_eq!(run.events, [(ms(51_140), IceEvent::Failed)]);
    assert_eq!(a.selected(), None);
}

#[test]
fn controlling_agent_nominates_100_ms_after_the_first_success() {
    let t0 = Instant::now();
    let mut a = agent(true, vec![cand(HOST, 2_130_706_431, "host")], t0);
    let mut run = Run::new(t0);
    run.until(&mut a, ms(0));
    let first = run.sent[0].clone();
    let now = run.at(ms(5));
    assert!(a.response_received(&success(&first), addr(HOST), now));
    run.collect(&mut a);
    assert_eq!(
        run.events,
        [(
            ms(5),
            IceEvent::Selected {
                remote: addr(HOST),
                nominated: false
            }
        )]
    );
    assert!(!a.completed());
    run.until(&mut a, ms(200));
    let nominating: Vec<_> = run.sent.iter().filter(|r| r.use_candidate).collect();
    assert_eq!(nominating.len(), 1, "{nominating:?}");
    let n = nominating[0].clone();
    assert_eq!(n.at, ms(105));
    assert_ne!(n.transaction, first.transaction);
    assert_eq!(
        n.kinds,
        [
            attr::SOFTWARE,
            attr::USERNAME,
            attr::ICE_CONTROLLING,
            attr::PRIORITY,
            attr::USE_CANDIDATE,
            attr::MESSAGE_INTEGRITY,
            attr::FINGERPRINT
        ]
    );
    let now = run.at(ms(210));
    assert!(a.response_received(&success(&n), addr(HOST), now));
    run.collect(&mut a);
    assert_eq!(
        run.events.last(),
        Some(&(
            ms(210),
            IceEvent::Selected {
                remote: addr(HOST),
                nominated: true
            }
        ))
    );
    assert!(a.completed());
    assert_eq!(a.selected(), Some(addr(HOST)));
    // Nothing more is checked once completed (consent aside).
    let before = run.sent.len();
    run.until(&mut a, ms(3000));
    assert_eq!(run.sent.len(), before);
}

#[test]
fn controlling_agent_nominates_the_best_pair_that_succeeded() {
    let t0 = Instant::now();
    let mut a = agent(true, three(), t0);
    let mut run = Run::new(t0);
    run.until(&mut a, ms(50));
    // Only the relay pair answers at first, the host pair 50 ms later.
    let relay = run.to(RELAY)[0].clone();
    let host = run.to(HOST)[0].clone();
    let now = run.at(ms(60));
    assert!(a.response_received(&success(&relay), addr(RELAY), now));
    let now = run.at(ms(110));
    assert!(a.response_received(&success(&host), addr(HOST), now));
    run.until(&mut a, ms(300));
    let nominated: Vec<_> = run.sent.iter().filter(|r| r.use_candidate).collect();
    assert_eq!(nominated[0].to, addr(HOST));
    assert_eq!(nominated[0].at, ms(160));
    let selected: Vec<_> = run.events.iter().map(|(_, e)| e.clone()).collect();
    assert_eq!(
        selected,
        [
            IceEvent::Selected {
                remote: addr(RELAY),
                nominated: false
            },
            IceEvent::Selected {
                remote: addr(HOST),
                nominated: false
            }
        ]
    );
}

#[test]
fn controlled_agent_is_nominated_by_the_peers_use_candidate() {
    let t0 = Instant::now();
    let mut a = agent(false, vec![cand(HOST, 2_130_706_431, "host")], t0);
    let mut run = Run::new(t0);
    run.until(&mut a, ms(0));
    let now = run.at(ms(10));
    assert!(a.response_received(&success(&run.sent[0].clone()), addr(HOST), now));
    run.until(&mut a, ms(1000));
    assert!(
        run.sent.iter().all(|r| !r.use_candidate),
        "only the controlling side nominates"
    );
    assert!(!a.completed());
    let now = run.at(ms(1000));
    a.request_received(addr(HOST), true, 2_130_706_431, now);
    run.collect(&mut a);
    assert_eq!(
        run.events,
        [
            (
                ms(10),
                IceEvent::Selected {
                    remote: addr(HOST),
                    nominated: false
                }
            ),
            (
                ms(1000),
                IceEvent::Selected {
                    remote: addr(HOST),
                    nominated: true
                }
            )
        ]
    );
    assert!(a.completed());
}

#[test]
fn use_candidate_before_our_check_succeeds_completes_on_its_success() {
    let t0 = Instant::now();
    let mut a = agent(false, vec![cand(HOST, 2_130_706_431, "host")], t0);
    let mut run = Run::new(t0);
    let now = run.at(ms(0));
    a.request_received(addr(SRFLX), true, 1_694_498_815, now);
    run.until(&mut a, ms(30));
    assert!(run.events.is_empty());
    // The request triggered a check of its (peer-reflexive) pair first.
    assert_eq!(run.sent[0].to, addr(SRFLX));
    let trig = run.sent[0].clone();
    let now = run.at(ms(40));
    assert!(a.response_received(&success(&trig), addr(SRFLX), now));
    run.collect(&mut a);
    assert_eq!(
        run.events,
        [(
            ms(40),
            IceEvent::Selected {
                remote: addr(SRFLX),
                nominated: true
            }
        )]
    );
}

#[test]
fn a_request_triggers_a_check_ahead_of_the_waiting_pairs() {
    let t0 = Instant::now();
    // Controlled: nomination would check the succeeded pair again.
    let mut a = agent(false, three(), t0);
    let mut run = Run::new(t0);
    run.until(&mut a, ms(5));
    assert_eq!(run.sent.len(), 1);
    let now = run.at(ms(5));
    a.request_received(addr(RELAY), false, 16_777_215, now);
    run.until(&mut a, ms(45));
    let order: Vec<_> = run.sent.iter().map(|r| (r.to, r.at)).collect();
    assert_eq!(
        order,
        [
            (addr(HOST), ms(0)),
            (addr(RELAY), ms(20)),
            (addr(SRFLX), ms(40))
        ]
    );
    // A pair that already succeeded is not checked again on a request.
    let relay = run.to(RELAY)[0].clone();
    let now = run.at(ms(50));
    assert!(a.response_received(&success(&relay), addr(RELAY), now));
    let n = run.sent.len();
    a.request_received(addr(RELAY), false, 16_777_215, now);
    run.until(&mut a, ms(400));
    assert!(run.sent.len() > n);
    assert!(
        run.sent[n..].iter().all(|r| r.to != addr(RELAY)),
        "{:?}",
        &run.sent[n..]
    );
}

#[test]
fn a_request_from_an_unknown_source_is_a_peer_reflexive_candidate() {
    let t0 = Instant::now();
    // No candidates from signalling at all (trickle that never came).
    let mut a = agent(true, Vec::new(), t0);
    let mut run = Run::new(t0);
    run.until(&mut a, ms(100));
    assert!(run.sent.is_empty());
    let prflx = "192.0.2.77:41000";
    let now = run.at(ms(100));
    a.request_received(addr(prflx), false, 1_853_824_767, now);
    run.until(&mut a, ms(100));
    assert_eq!(run.sent.len(), 1);
    assert_eq!(run.sent[0].to, addr(prflx));
    let now = run.at(ms(101));
    assert!(a.response_received(&success(&run.sent[0].clone()), addr(prflx), now));
    assert_eq!(a.selected(), Some(addr(prflx)));
    // An address of the other family cannot pair with our IPv4 socket.
    a.request_received(addr("[2001:db8::1]:5000"), false, 1, now);
    run.until(&mut a, ms(102));
    assert!(run.sent.iter().all(|r| r.to.is_ipv4()));
}

#[test]
fn a_487_switches_the_role_and_checks_again() {
    let t0 = Instant::now();
    let mut a = agent(true, vec![cand(HOST, 2_130_706_431, "host")], t0);
    let mut run = Run::new(t0);
    run.until(&mut a, ms(0));
    let first = run.sent[0].clone();
    let now = run.at(ms(5));
    assert!(a.response_received(&error(&first, 487), addr(HOST), now));
    run.collect(&mut a);
    assert_eq!(
        run.events,
        [(ms(5), IceEvent::RoleChanged { controlling: false })]
    );
    assert!(!a.controlling());
    run.until(&mut a, ms(20));
    let again = run.sent[1].clone();
    assert_eq!(again.at, ms(20), "a triggered check in the next round");
    assert_eq!(again.controlled, Some(TIEBREAKER));
    assert_eq!(again.controlling, None);
    assert_ne!(
        again.transaction, first.transaction,
        "new role, new transaction"
    );
    // A late answer to the old transaction is not ours any more.
    assert!(!a.response_received(&success(&first), addr(HOST), now));
    // And back: a 487 to a check sent as controlled makes us controlling.
    let now = run.at(ms(25));
    assert!(a.response_received(&error(&again, 487), addr(HOST), now));
    assert!(a.controlling());
    // The embedder resolving a conflict in a request switches us as well.
    a.set_controlling(false);
    assert!(!a.controlling());
}

#[test]
fn other_errors_fail_the_pair() {
    let t0 = Instant::now();
    let mut a = agent(true, three(), t0);
    let mut run = Run::new(t0);
    run.until(&mut a, ms(40));
    for (i, r) in run.sent.clone().iter().enumerate() {
        let now = run.at(ms(41 + i as u64));
        assert!(a.response_received(&error(r, 401), r.to, now));
    }
    run.collect(&mut a);
    assert_eq!(run.events, [(ms(43), IceEvent::Failed)]);
    // No retransmissions of failed pairs.
    let n = run.sent.len();
    run.until(&mut a, ms(5000));
    assert_eq!(run.sent.len(), n);
    // A trickled candidate starts checks again.
    let now = run.at(ms(5000));
    a.add_remote_candidate(cand("192.0.2.9:9", 2_000_000_000, "host"), now);
    run.until(&mut a, ms(5000));
    assert_eq!(run.sent.last().map(|r| r.to), Some(addr("192.0.2.9:9")));
}

#[test]
fn new_remote_credentials_restart_ice() {
    let t0 = Instant::now();
    let mut a = agent(true, vec![cand(HOST, 2_130_706_431, "host")], t0);
    let mut run = Run::new(t0);
    run.until(&mut a, ms(0));
    let old = run.sent[0].clone();
    let now = run.at(ms(5));
    assert!(a.response_received(&success(&old), addr(HOST), now));
    run.until(&mut a, ms(300));
    let nom = run.sent.iter().find(|r| r.use_candidate).unwrap().clone();
    assert!(a.response_received(&success(&nom), addr(HOST), run.now));
    assert!(a.completed());
    run.collect(&mut a);
    let events_before = run.events.len();

    // A re-offer with new ufrag/pwd (the peer restarted ICE).
    let mut c = creds(true, vec![cand(HOST, 2_130_706_431, "host")]);
    c.remote_ufrag = Some("newpeer".into());
    c.remote_pwd = Some("new-peer-password-000000".into());
    let now = run.at(ms(1000));
    a.set_remote(&c, now);
    assert!(!a.completed());
    assert_eq!(
        a.selected(),
        Some(addr(HOST)),
        "media keeps going meanwhile"
    );
    let n = run.sent.len();
    run.until(&mut a, ms(1000));
    let new = run.sent[n].clone();
    assert_eq!((new.to, new.at), (addr(HOST), ms(1000)));
    assert_eq!(new.username, "newpeer:ours");
    assert!(
        !new.authentic,
        "signed with the new password, not the old one"
    );
    // Old transactions are gone.
    assert!(!a.response_received(&success(&old), addr(HOST), run.now));
    // An answer signed with the old password does not count.
    assert!(a.response_received(&success(&new), addr(HOST), run.now));
    assert!(!a.completed());
    run.collect(&mut a);
    assert_eq!(run.events.len(), events_before);
    let resp = response(&new, Class::Success, None, Some("new-peer-password-000000"));
    assert!(a.response_received(&resp, addr(HOST), run.now));
    run.collect(&mut a);
    // The same address is reported again after the restart.
    assert_eq!(
        run.events[events_before..],
        [(
            ms(1000),
            IceEvent::Selected {
                remote: addr(HOST),
                nominated: false
            }
        )]
    );
}

#[test]
fn consent_is_kept_by_responses_and_lost_after_30_s_without() {
    let t0 = Instant::now();
    let mut a = agent(false, vec![cand(HOST, 2_130_706_431, "host")], t0);
    let mut run = Run::new(t0);
    run.until(&mut a, ms(0));
    let now = run.at(ms(10));
    assert!(a.response_received(&success(&run.sent[0].clone()), addr(HOST), now));
    a.request_received(addr(HOST), true, 2_130_706_431, now);
    assert!(a.completed());
    // The peer answers every consent check for two minutes.
    let mut answered = 1;
    let mut last = run.now;
    for step in 1..=1200u64 {
        run.until(&mut a, ms(10 + step * 100));
        let new: Vec<Req> = run.sent[answered..].to_vec();
        for r in &new {
            assert!(!r.use_candidate);
            assert!(a.response_received(&success(r), addr(HOST), run.now));
            last = run.now;
        }
        answered = run.sent.len();
    }
    let checks: Vec<_> = run.sent[1..].iter().map(|r| r.at).collect();
    assert!(checks.len() >= 20 && checks.len() <= 30, "{checks:?}");
    for w in checks.windows(2) {
        assert!(
            w[1] - w[0] >= ms(4000) && w[1] - w[0] <= ms(6000),
            "{checks:?}"
        );
    }
    let tx: std::collections::HashSet<_> = run.sent.iter().map(|r| r.transaction).collect();
    assert_eq!(
        tx.len(),
        run.sent.len(),
        "each consent check is a new transaction"
    );
    assert!(!run
        .events
        .iter()
        .any(|(_, e)| matches!(e, IceEvent::ConsentLost(_))));

    // Then silence: consent ends 30 s after the last response.
    run.until(&mut a, last - t0 + Duration::from_secs(29) + ms(999));
    assert_eq!(a.selected(), Some(addr(HOST)));
    run.until(&mut a, last - t0 + Duration::from_secs(30));
    assert_eq!(
        run.events.last(),
        Some(&(
            last - t0 + Duration::from_secs(30),
            IceEvent::ConsentLost(addr(HOST))
        ))
    );
    assert_eq!(a.selected(), None);
    // No consent checks after that.
    let n = run.sent.len();
    run.until(&mut a, last - t0 + Duration::from_secs(60));
    assert_eq!(run.sent.len(), n);
}

#[test]
fn at_most_100_remote_candidates_are_checked() {
    let t0 = Instant::now();
    let many: Vec<_> = (0..150u32)
        .map(|i| {
            let a = SocketAddr::new([192, 0, 2, (i % 250) as u8].into(), 10_000 + i as u16);
            RemoteCandidate {
                address: a,
                ..cand(HOST, 1_000_000 + i, "host")
            }
        })
        .collect();
    // A second copy of a known address with a lower priority changes nothing.
    let mut with_dup = many.clone();
    with_dup.insert(
        1,
        RemoteCandidate {
            priority: 5,
            ..many[0].clone()
        },
    );
    let mut a = agent(true, with_dup, t0);
    let mut run = Run::new(t0);
    run.until(&mut a, Duration::from_secs(3));
    let firsts: std::collections::HashSet<_> = run.sent.iter().map(|r| r.to).collect();
    assert_eq!(firsts.len(), 100);
    assert!(
        firsts.iter().all(|d| d.port() < 10_100),
        "the first 100 in order"
    );
    // Highest priority first, one new check per 20 ms: the 100th candidate
    // (highest priority) at once, the first after 99 rounds.
    for (i, c) in many[..100].iter().enumerate() {
        let first = run.sent.iter().find(|r| r.to == c.address).unwrap();
        assert_eq!(first.at, ms((99 - i as u64) * 20), "{}", c.address);
    }
}

#[test]
fn consent_comes_only_from_the_address_checked() {
    let t0 = Instant::now();
    let two = vec![
        cand(HOST, 2_130_706_431, "host"),
        cand(SRFLX, 1_694_498_815, "srflx"),
    ];
    let mut a = agent(false, two, t0);
    let mut run = Run::new(t0);
    run.until(&mut a, ms(20));
    let (host, srflx) = (run.to(HOST)[0].clone(), run.to(SRFLX)[0].clone());
    let now = run.at(ms(30));
    assert!(a.response_received(&success(&host), addr(HOST), now));
    assert_eq!(a.selected(), Some(addr(HOST)));
    // The selected address answers the check sent to the other pair.
    run.until(&mut a, Duration::from_secs(20));
    assert!(a.response_received(&success(&srflx), addr(HOST), run.now));
    run.until(&mut a, ms(30_029));
    assert_eq!(a.selected(), Some(addr(HOST)));
    run.until(&mut a, ms(30_030));
    assert_eq!(
        a.selected(),
        None,
        "consent ran out 30 s after the one real answer"
    );
}

#[test]
fn responses_that_are_not_ours_change_nothing() {
    let t0 = Instant::now();
    let mut a = agent(true, vec![cand(HOST, 2_130_706_431, "host")], t0);
    let mut run = Run::new(t0);
    run.until(&mut a, ms(0));
    let r = run.sent[0].clone();
    let now = run.at(ms(5));
    // Someone else's transaction.
    let mut foreign = r.clone();
    foreign.transaction = [9; 12];
    assert!(!a.response_received(&success(&foreign), addr(HOST), now));
    // Ours, but not signed with the peer's password: taken, ignored.
    let forged = response(&r, Class::Success, None, Some("guess"));
    assert!(a.response_received(&forged, addr(HOST), now));
    let unsigned = response(&r, Class::Success, None, None);
    assert!(a.response_received(&unsigned, addr(HOST), now));
    // A request is not a response.
    let mut req = vec![0u8; 64];
    let n = {
        let mut w = Writer::new(
            &mut req,
            message_type(BINDING, Class::Request),
            r.transaction,
        )
        .unwrap();
        w.fingerprint().unwrap();
        w.finish()
    };
    assert!(!a.response_received(&req[..n], addr(HOST), now));
    run.collect(&mut a);
    assert!(run.events.is_empty());
    assert_eq!(a.selected(), None);
    // Retransmissions go on as if nothing came.
    run.until(&mut a, ms(100));
    assert_eq!(run.sent.len(), 2);
    // From another address than the one checked: the pair fails (RFC 8445
    // section 7.2.5.2.1).
    assert!(a.response_received(&success(&r), addr("192.0.2.200:1"), run.now));
    run.collect(&mut a);
    assert_eq!(a.selected(), None);
    assert_eq!(run.events, [(ms(100), IceEvent::Failed)]);
}

#[test]
fn no_checks_without_the_peers_password() {
    let t0 = Instant::now();
    let mut c = creds(true, vec![cand(HOST, 2_130_706_431, "host")]);
    c.remote_pwd = None;
    c.remote_ufrag = None;
    let mut a = IceAgent::new(
        AgentConfig {
            credentials: c.clone(),
            local: addr(LOCAL),
            component: 1,
            interface_index: 0,
            tiebreaker: TIEBREAKER,
            software: "x".into(),
            seed: [1; 32],
        },
        t0,
    );
    let mut run = Run::new(t0);
    run.until(&mut a, ms(500));
    assert!(run.sent.is_empty());
    // The answer brings it.
    let now = run.at(ms(500));
    a.set_remote(&creds(true, Vec::new()), now);
    run.until(&mut a, ms(500));
    assert_eq!(run.sent.len(), 1);
}

#[test]
fn check_attributes_of_a_request() {
    let t0 = Instant::now();
    let mut a = agent(true, vec![cand(HOST, 2_130_706_431, "host")], t0);
    a.handle_timeout(t0);
    let (_, msg) = a.poll_transmit().unwrap();
    let c = CheckAttributes::parse(&msg).unwrap();
    assert_eq!(
        c,
        CheckAttributes {
            use_candidate: false,
            priority: CHECK_PRIORITY,
            controlling: Some(TIEBREAKER),
            controlled: None
        }
    );
    assert_eq!(CheckAttributes::parse(&msg[..10]), None);
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..200),
                                   splice in any::<bool>()) {
        let t0 = Instant::now();
        let mut a = agent(true, vec![cand(HOST, 2_130_706_431, "host")], t0);
        a.handle_timeout(t0);
        let (_, req) = a.poll_transmit().unwrap();
        let mut data = data;
        if splice && data.len() >= 20 {
            // A valid response header with our transaction id, random rest.
            data[..2].copy_from_slice(&message_type(BINDING, Class::Success).to_be_bytes());
            let len = (data.len() - 20) as u16;
            data[2..4].copy_from_slice(&len.to_be_bytes());
            data[4..8].copy_from_slice(&crate::media::stun::MAGIC_COOKIE.to_be_bytes());
            data[8..20].copy_from_slice(&req[8..20]);
        }
        a.response_received(&data, addr(HOST), t0 + ms(1));
        let _ = CheckAttributes::parse(&data);
        a.handle_timeout(t0 + ms(100));
        prop_assert_eq!(a.selected(), None);
    }
}

/// One input of a random session.
#[derive(Debug, Clone)]
enum Op {
    Advance(u16),
    Request(u8, bool),
    Answer(u8, u16),
    Trickle(u8),
    Restart,
    Role(bool),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0u16..8000).prop_map(Op::Advance),
        (0u8..6, any::<bool>()).prop_map(|(s, u)| Op::Request(s, u)),
        (
            any::<u8>(),
            prop_oneof![Just(0u16), Just(400), Just(487), Just(500)]
        )
            .prop_map(|(i, c)| Op::Answer(i, c)),
        (0u8..6).prop_map(Op::Trickle),
        Just(Op::Restart),
        any::<bool>().prop_map(Op::Role),
    ]
}

fn source(i: u8) -> SocketAddr {
    match i {
        5 => addr("[2001:db8::5]:5000"),
        i => SocketAddr::new([192, 0, 2, i].into(), 4000 + u16::from(i)),
    }
}

proptest! {
    /// Any order of inputs: no panic, the timer always moves on, and media
    /// is only ever sent to an address the peer used or signalled.
    #[test]
    fn random_sessions_stay_consistent(ops in proptest::collection::vec(op(), 1..80)) {
        let t0 = Instant::now();
        let mut a = agent(true, vec![cand(HOST, 2_130_706_431, "host")], t0);
        let mut run = Run::new(t0);
        let mut elapsed = Duration::ZERO;
        let mut generation = 0u32;
        let mut pwd = PEER_PWD.to_owned();
        for op in ops {
            let now = run.at(elapsed);
            match op {
                Op::Advance(n) => {
                    elapsed += ms(u64::from(n));
                    run.until(&mut a, elapsed);
                }
                Op::Request(s, u) => a.request_received(source(s), u, 1_000_000, now),
                Op::Answer(i, code) => {
                    if !run.sent.is_empty() {
                        let r = run.sent[usize::from(i) % run.sent.len()].clone();
                        let class = if code == 0 { Class::Success } else { Class::Error };
                        let code = (code != 0).then_some(code);
                        let msg = response(&r, class, code, Some(&pwd));
                        a.response_received(&msg, r.to, now);
                    }
                }
                Op::Trickle(s) => a.add_remote_candidate(
                    RemoteCandidate { address: source(s), ..cand(HOST, 1000 + u32::from(s), "host") },
                    now,
                ),
                Op::Restart => {
                    generation += 1;
                    pwd = format!("{PEER_PWD}-{generation}");
                    let mut c = creds(a.controlling(), Vec::new());
                    c.remote_ufrag = Some(format!("peer{generation}"));
                    c.remote_pwd = Some(pwd.clone());
                    a.set_remote(&c, now);
                }
                Op::Role(c) => a.set_controlling(c),
            }
            run.collect(&mut a);
            if let Some(s) = a.selected() {
                prop_assert!(s == addr(HOST) || (0..5).any(|i| source(i) == s), "{s}");
            }
        }
    }
}
