//! The relay driven directly by the call model (no ng): wiring, stats, and the kernel
//! offload seam.

use std::net::{SocketAddr, UdpSocket};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::offload::{KernelTarget, Offload};
use super::pool::SharedPool;
use super::Relay;
use crate::call::{Now, Registry, Settings, StatsSource, StreamId};
use crate::config::Interface;
use crate::kernel::target::{OnMismatch, SourceCheck};
use crate::ng::flags::Flags;

/// (stream, expected source, forward from, forward to) of one kernelize call.
type Kernelized = (StreamId, SocketAddr, Option<SocketAddr>, Option<SocketAddr>);

/// Runs inside `kernelize`, between the relay's decision and the installation.
type Hook = Box<dyn FnOnce() + Send>;

#[derive(Default)]
struct Recorder {
    kernelized: Mutex<Vec<Kernelized>>,
    /// The source check of each kernelize call.
    checks: Mutex<Vec<(StreamId, SourceCheck)>>,
    unkernelized: Mutex<Vec<StreamId>>,
    closed: Mutex<Vec<StreamId>>,
    /// Whether each decision was still current when it reached `kernelize`.
    current: Mutex<Vec<bool>>,
    during_kernelize: Mutex<Option<Hook>>,
}

impl Offload for Recorder {
    fn enabled(&self) -> bool {
        true
    }
    fn kernelize(&self, t: &KernelTarget<'_>) -> bool {
        let hook = self.during_kernelize.lock().unwrap().take();
        if let Some(hook) = hook {
            hook();
        }
        self.current.lock().unwrap().push(t.decided.still_current());
        self.checks.lock().unwrap().push((t.stream.id, t.source));
        self.kernelized.lock().unwrap().push((
            t.stream.id,
            t.source.expected,
            t.forward_from,
            t.forward_to,
        ));
        true
    }
    fn unkernelize(&self, id: StreamId) {
        self.unkernelized.lock().unwrap().push(id);
    }
    fn close(&self, id: StreamId) {
        self.closed.lock().unwrap().push(id);
    }
}

fn sdp(port: u16) -> String {
    format!("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio {port} RTP/AVP 0\r\n")
}

fn flags(from: &str, to: Option<&str>, body: String) -> Flags {
    Flags {
        call_id: Some("k".into()),
        from_tag: Some(from.into()),
        to_tag: to.map(String::from),
        sdp: Some(body),
        delete_delay: Some(0),
        ..Flags::default()
    }
}

fn settings() -> Settings {
    Settings {
        interfaces: vec![Interface::parse("127.0.0.1").unwrap()],
        delete_delay: Duration::ZERO,
        max_sessions: -1,
        sip_source: false,
        tos: None,
        timeout: Duration::from_secs(60),
        silent_timeout: Duration::from_secs(60),
        final_timeout: Duration::ZERO,
        offer_timeout: Duration::from_secs(60),
        endpoint_learning: Default::default(),
    }
}

/// The port of the first m=audio line.
fn media_port(sdp: &str) -> u16 {
    sdp.lines()
        .find_map(|l| l.strip_prefix("m=audio "))
        .and_then(|l| l.split(' ').next())
        .and_then(|p| p.parse().ok())
        .expect("m=audio port")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn confirmed_streams_are_offered_to_the_kernel_seam() {
    let pool = SharedPool::new(38000, 38099);
    let rec = Arc::new(Recorder::default());
    let relay = Relay::new(pool.clone(), rec.clone()).with_learning_delay(Duration::ZERO);
    let mut reg = Registry::new(settings(), pool.clone());
    let alice = UdpSocket::bind("127.0.0.1:0").unwrap();
    let bob = UdpSocket::bind("127.0.0.1:0").unwrap();
    bob.set_read_timeout(Some(Duration::from_secs(1))).unwrap();
    let now = Now::system();
    let o = reg
        .offer(
            &flags("a", None, sdp(alice.local_addr().unwrap().port())),
            &now,
        )
        .unwrap();
    relay.apply(&o.effects).wait().await;
    let a = reg
        .answer(
            &flags("a", Some("b"), sdp(bob.local_addr().unwrap().port())),
            &now,
        )
        .unwrap();
    relay.apply(&a.effects).wait().await;
    assert_eq!(relay.stream_count(), 4);

    // Where alice sends: the port in the answer.
    let to: SocketAddr = ([127, 0, 0, 1], media_port(&a.sdp.unwrap())).into();
    let bob_side_local: SocketAddr = ([127, 0, 0, 1], media_port(&o.sdp.unwrap())).into();
    let bob_addr = bob.local_addr().unwrap();
    let bob_got = tokio::task::spawn_blocking(move || {
        let mut buf = [0u8; 64];
        bob.recv_from(&mut buf)
            .map(|(n, from)| (buf[..n].to_vec(), from))
    });
    alice
        .send_to(&[0x80, 0, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8], to)
        .unwrap();
    let (data, from) = bob_got.await.unwrap().unwrap();
    assert_eq!(data.len(), 12);
    assert_eq!(from, bob_side_local, "forwarded out of bob's side socket");

    let k = rec.kernelized.lock().unwrap().clone();
    assert_eq!(k.len(), 1);
    let (id, src, forward_from, forward_to) = k[0];
    assert_eq!(src, alice.local_addr().unwrap());
    assert_eq!(forward_from, Some(bob_side_local));
    assert_eq!(forward_to, Some(bob_addr));
    assert_eq!(relay.stats(id).packets, 1);

    let (_, effects) = reg.delete(&flags("a", None, String::new()), &now).unwrap();
    relay.apply(&effects).wait().await;
    assert_eq!(relay.stream_count(), 0);
    assert_eq!(rec.closed.lock().unwrap().len(), 4);
    // Signalling (the answer rewired all four streams) took them back from the kernel.
    assert!(rec.unkernelized.lock().unwrap().len() >= 4);
    // Closed means closed: the port can be bound again right away.
    assert!(UdpSocket::bind(to).is_ok());
    assert_eq!(pool.in_use(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_committed_streams_are_offered_and_a_new_peer_is_offered_again() {
    let pool = SharedPool::new(39000, 39099);
    let rec = Arc::new(Recorder::default());
    // Never committed by time in this test: only a matching source commits.
    let relay = Relay::new(pool.clone(), rec.clone()).with_learning_delay(Duration::from_secs(600));
    let mut s = settings();
    s.endpoint_learning = crate::call::LearningMode::Immediate;
    let mut reg = Registry::new(s, pool.clone());
    let alice = UdpSocket::bind("127.0.0.1:0").unwrap();
    let stranger = UdpSocket::bind("127.0.0.2:0").unwrap();
    let bob = UdpSocket::bind("127.0.0.1:0").unwrap();
    bob.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let now = Now::system();
    let mut offer = flags("a", None, sdp(alice.local_addr().unwrap().port()));
    offer.media_handover = true;
    relay
        .apply(&reg.offer(&offer, &now).unwrap().effects)
        .wait()
        .await;
    let answer = flags("a", Some("b"), sdp(bob.local_addr().unwrap().port()));
    let a = reg.answer(&answer, &now).unwrap();
    relay.apply(&a.effects).wait().await;
    let to: SocketAddr = ([127, 0, 0, 1], media_port(&a.sdp.unwrap())).into();
    let packet = [0x80, 0, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8];
    // Relayed (bob gets it) once the relay is done with it, kernel decisions included.
    let relayed = |from: &UdpSocket| {
        from.send_to(&packet, to).unwrap();
        let mut buf = [0u8; 64];
        bob.recv_from(&mut buf).expect("relayed to bob");
    };
    let checks = |rec: &Recorder| rec.checks.lock().unwrap().clone();

    relayed(&stranger);
    assert!(checks(&rec).is_empty(), "a stranger commits nothing");
    relayed(&alice);
    let alice_stream = checks(&rec)[0].0;
    let alice_check = SourceCheck {
        expected: alice.local_addr().unwrap(),
        // Media handover: new sources must reach userspace.
        on_mismatch: OnMismatch::Userspace,
    };
    assert_eq!(checks(&rec), [(alice_stream, alice_check)]);
    let before = rec.unkernelized.lock().unwrap().len();
    relayed(&stranger);
    assert!(
        rec.unkernelized.lock().unwrap()[before..].contains(&alice_stream),
        "the old target goes"
    );
    let last = *checks(&rec).last().unwrap();
    assert_eq!(
        last,
        (
            alice_stream,
            SourceCheck {
                expected: stranger.local_addr().unwrap(),
                on_mismatch: OnMismatch::Userspace,
            }
        ),
        "installed again for the new peer"
    );
}

/// An answered call between alice and bob on a relay that commits at once: the
/// pieces the race tests below drive, and where alice sends.
struct Answered {
    rec: Arc<Recorder>,
    relay: Arc<Relay>,
    reg: Registry<SharedPool>,
    alice: UdpSocket,
    offer: Flags,
    to: SocketAddr,
}

async fn answered(ports: (u16, u16)) -> Answered {
    let pool = SharedPool::new(ports.0, ports.1);
    let rec = Arc::new(Recorder::default());
    let relay = Arc::new(Relay::new(pool.clone(), rec.clone()).with_learning_delay(Duration::ZERO));
    let mut reg = Registry::new(settings(), pool.clone());
    let alice = UdpSocket::bind("127.0.0.1:0").unwrap();
    let bob = UdpSocket::bind("127.0.0.1:0").unwrap();
    let now = Now::system();
    let offer = flags("a", None, sdp(alice.local_addr().unwrap().port()));
    let o = reg.offer(&offer, &now).unwrap();
    relay.apply(&o.effects).wait().await;
    let answer = flags("a", Some("b"), sdp(bob.local_addr().unwrap().port()));
    let a = reg.answer(&answer, &now).unwrap();
    relay.apply(&a.effects).wait().await;
    let to: SocketAddr = ([127, 0, 0, 1], media_port(&a.sdp.unwrap())).into();
    Answered {
        rec,
        relay,
        reg,
        alice,
        offer,
        to,
    }
}

const PACKET: [u8; 12] = [0x80, 0, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signalling_between_decision_and_install_makes_the_decision_stale() {
    let mut c = answered((38100, 38199)).await;
    // A re-INVITE lands while alice's first packet is on its way into the kernel.
    let reinvite = c.reg.offer(&c.offer, &Now::system()).unwrap().effects;
    let r = c.relay.clone();
    *c.rec.during_kernelize.lock().unwrap() = Some(Box::new(move || {
        let _closing = r.apply(&reinvite);
    }));
    c.alice.send_to(&PACKET, c.to).unwrap();
    wait_current(&c.rec, 1).await;
    // The next packet decides again, on the configuration now in force.
    c.alice.send_to(&PACKET, c.to).unwrap();
    wait_current(&c.rec, 2).await;
    assert_eq!(*c.rec.current.lock().unwrap(), [false, true]);
}

async fn wait_current(rec: &Recorder, n: usize) {
    for _ in 0..300 {
        if rec.current.lock().unwrap().len() >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!(
        "{n} kernelize calls expected, saw {:?}",
        rec.current.lock().unwrap()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_between_decision_and_install_makes_the_decision_stale() {
    let mut c = answered((38200, 38239)).await;
    // The call is deleted while alice's first packet is on its way into the kernel:
    // a target installed now would forward the deleted call's media for good.
    let (_, gone) = c
        .reg
        .delete(&flags("a", None, String::new()), &Now::system())
        .unwrap();
    let r = c.relay.clone();
    *c.rec.during_kernelize.lock().unwrap() = Some(Box::new(move || {
        let _closing = r.apply(&gone);
    }));
    c.alice.send_to(&PACKET, c.to).unwrap();
    wait_current(&c.rec, 1).await;
    assert_eq!(*c.rec.current.lock().unwrap(), [false]);
    assert_eq!(c.rec.closed.lock().unwrap().len(), 4);
}
