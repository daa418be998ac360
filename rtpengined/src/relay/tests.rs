//! The relay driven by the call model (no ng), with real sockets on loopback and
//! a kernel table made of plain files: what the call tasks forward, and the
//! commands they write to the table's control file.

use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rtpengine_core::abi::{cmd, ListEntry, Message, Pod, MESSAGE_SIZE};

use super::kernel_edge::KernelEdge;
use super::pool::SharedPool;
use super::Relay;
use crate::call::{Effect, Now, Registry, Settings, StatsSource};
use crate::config::Interface;
use crate::kernel::table::{Setup, Table};
use crate::ng::flags::Flags;

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
        endpoint_learning: crate::call::LearningMode::Immediate,
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

/// /proc/rtpengine as plain files: table 0's control file records what is
/// written to it, and its listing is empty.
struct FakeProc(PathBuf);

impl FakeProc {
    fn new(name: &str) -> FakeProc {
        let root =
            std::env::temp_dir().join(format!("rtpe-fake-proc-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("0")).unwrap();
        std::fs::write(root.join("control"), "").unwrap();
        std::fs::write(root.join("0/control"), "").unwrap();
        std::fs::write(root.join("0/blist"), "").unwrap();
        FakeProc(root)
    }

    fn table(&self) -> Table {
        Table::open(&self.0, 0, Setup::Adopt).unwrap()
    }

    /// (command, local address of the target) of every message written so far,
    /// the version handshake left out.
    fn commands(&self) -> Vec<(u32, SocketAddr)> {
        read_commands(&self.0.join("0/control"))
    }
}

impl Drop for FakeProc {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn read_commands(path: &Path) -> Vec<(u32, SocketAddr)> {
    let bytes = std::fs::read(path).unwrap();
    bytes
        .chunks(MESSAGE_SIZE)
        .filter_map(Message::read_from)
        .filter(|m| m.cmd != cmd::NOOP)
        .map(|m| {
            let local = if m.cmd == cmd::ADD_DESTINATION {
                m.destination().local
            } else {
                m.target().local
            };
            (m.cmd, crate::kernel::address::from_abi(&local).unwrap())
        })
        .collect()
}

/// Polls `f` until it holds (the call task works concurrently).
async fn until(what: &str, mut f: impl FnMut() -> bool) {
    for _ in 0..500 {
        if f() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("timed out waiting for: {what}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_is_relayed_installed_in_the_table_and_closed() {
    let proc = FakeProc::new("install");
    let pool = SharedPool::new(38000, 38099);
    let edge = Arc::new(KernelEdge::new(proc.table(), Duration::from_secs(60)));
    let relay = Relay::new(pool.clone(), Some(edge)).with_learning_delay(Duration::ZERO);
    let mut reg = Registry::new(settings(), pool.clone());
    let alice = UdpSocket::bind("127.0.0.1:0").unwrap();
    let bob = UdpSocket::bind("127.0.0.1:0").unwrap();
    bob.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
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

    // Where alice sends: the port in the answer; bob hears it from the offer's.
    let to: SocketAddr = ([127, 0, 0, 1], media_port(a.sdp.as_ref().unwrap())).into();
    let bob_side: SocketAddr = ([127, 0, 0, 1], media_port(o.sdp.as_ref().unwrap())).into();
    alice
        .send_to(&[0x80, 0, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8], to)
        .unwrap();
    let mut buf = [0u8; 64];
    let (n, from) = bob.recv_from(&mut buf).unwrap();
    assert_eq!(
        (n, from),
        (12, bob_side),
        "forwarded out of bob's side socket"
    );
    until("the target and its destination are written", || {
        proc.commands() == [(cmd::ADD_TARGET, to), (cmd::ADD_DESTINATION, to)]
    })
    .await;
    let alice_stream = stream_on(&a.effects, to);
    until("statistics published", || {
        relay.stats(alice_stream).kernelized
    })
    .await;
    let st = relay.stats(alice_stream);
    assert_eq!(st.packets, 1);
    assert_eq!(st.learned, Some(alice.local_addr().unwrap()));

    let (_, effects) = reg.delete(&flags("a", None, String::new()), &now).unwrap();
    relay.apply(&effects).wait().await;
    // In force when `wait` returns: the target is gone and the ports are free.
    assert_eq!(proc.commands().last(), Some(&(cmd::DEL_TARGET, to)));
    assert_eq!(relay.stream_count(), 0);
    assert!(UdpSocket::bind(to).is_ok());
    assert_eq!(pool.in_use(), 0);
}

/// The stream on `local` among `effects`.
fn stream_on(effects: &[Effect], local: SocketAddr) -> crate::call::StreamId {
    effects
        .iter()
        .find_map(|e| match e {
            Effect::Relay(c) if c.local == local => Some(c.id),
            _ => None,
        })
        .expect("stream on that address")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reinvite_takes_the_target_back_before_its_reply() {
    let proc = FakeProc::new("reinvite");
    let pool = SharedPool::new(38100, 38199);
    let edge = Arc::new(KernelEdge::new(proc.table(), Duration::from_secs(60)));
    let relay = Relay::new(pool.clone(), Some(edge)).with_learning_delay(Duration::ZERO);
    let mut reg = Registry::new(settings(), pool.clone());
    let alice = UdpSocket::bind("127.0.0.1:0").unwrap();
    let bob = UdpSocket::bind("127.0.0.1:0").unwrap();
    bob.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let now = Now::system();
    let offer = flags("a", None, sdp(alice.local_addr().unwrap().port()));
    relay
        .apply(&reg.offer(&offer, &now).unwrap().effects)
        .wait()
        .await;
    let answer = flags("a", Some("b"), sdp(bob.local_addr().unwrap().port()));
    let a = reg.answer(&answer, &now).unwrap();
    relay.apply(&a.effects).wait().await;
    let to: SocketAddr = ([127, 0, 0, 1], media_port(&a.sdp.unwrap())).into();
    alice
        .send_to(&[0x80, 0, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8], to)
        .unwrap();
    bob.recv_from(&mut [0u8; 64]).unwrap();
    until("installed", || proc.commands().len() == 2).await;
    relay
        .apply(&reg.offer(&offer, &now).unwrap().effects)
        .wait()
        .await;
    assert_eq!(proc.commands().get(2), Some(&(cmd::DEL_TARGET, to)));
}

/// A restart with `--kernel-adopt`: the restored streams take over the targets
/// the previous run left on their ports. Configuring one stream of the call must
/// not take back a target another stream has already adopted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restored_streams_keep_the_targets_they_adopt() {
    let proc = FakeProc::new("adopt");
    let pool = SharedPool::new(38200, 38299);
    let mut reg = Registry::new(settings(), pool.clone());
    let now = Now::system();
    let o = reg.offer(&flags("a", None, sdp(4000)), &now).unwrap();
    let a = reg.answer(&flags("a", Some("b"), sdp(5000)), &now).unwrap();
    let effects: Vec<Effect> = o.effects.iter().chain(&a.effects).cloned().collect();
    let rtp_locals: Vec<SocketAddr> = a
        .effects
        .iter()
        .filter_map(|e| match e {
            Effect::Relay(c) if !c.is_rtcp => Some(c.local),
            _ => None,
        })
        .collect();
    assert_eq!(rtp_locals.len(), 2);
    // The previous run's targets, one per RTP stream, in the table's listing.
    let mut blist = Vec::new();
    for local in &rtp_locals {
        let mut e: ListEntry = Pod::zeroed();
        e.target.local = crate::kernel::address::to_abi(*local);
        e.target.expected_src = crate::kernel::address::to_abi("127.0.0.1:4000".parse().unwrap());
        e.stats.packets = 450;
        blist.extend_from_slice(e.as_bytes());
    }
    std::fs::write(proc.0.join("0/blist"), &blist).unwrap();
    let edge = Arc::new(KernelEdge::new(proc.table(), Duration::from_secs(60)));
    let relay = Relay::new(pool.clone(), Some(edge.clone()));
    relay.restore(&effects).wait().await;
    assert_eq!(proc.commands(), [], "no target removed or replaced");
    edge.sync();
    for local in rtp_locals {
        let id = stream_on(&a.effects, local);
        until("the adopted target's counters", || {
            relay.stats(id).packets == 450
        })
        .await;
        assert!(relay.stats(id).kernelized);
    }
}

/// `m=audio PORT/2` on both sides: the second pair is relayed to the peer's
/// second pair (10.5's `__init_streams` walks both sides' streams alike).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_second_pair_of_a_port_count_goes_to_the_peers_second_pair() {
    let pool = SharedPool::new(25440, 25499);
    let relay = Relay::new(pool.clone(), None).with_learning_delay(Duration::ZERO);
    let mut reg = Registry::new(settings(), pool.clone());
    let bind = |port: u16| UdpSocket::bind(("127.0.0.1", port)).unwrap();
    let (alice, alice2) = (bind(25420), bind(25422));
    let bob2 = bind(25412);
    bob2.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let counted = |port: u16| sdp(port).replace(&format!(" {port} "), &format!(" {port}/2 "));
    let now = Now::system();
    let o = reg.offer(&flags("a", None, counted(25420)), &now).unwrap();
    relay.apply(&o.effects).wait().await;
    let a = reg
        .answer(&flags("a", Some("b"), counted(25410)), &now)
        .unwrap();
    relay.apply(&a.effects).wait().await;
    assert_eq!(relay.stream_count(), 8);
    let port_of = |body: &str| -> u16 {
        let m = body
            .lines()
            .find_map(|l| l.strip_prefix("m=audio "))
            .unwrap();
        assert!(
            m.starts_with(|c: char| c.is_ascii_digit()) && m.contains("/2 "),
            "{m}"
        );
        m.split('/').next().unwrap().parse().unwrap()
    };
    let (to_a, to_b) = (
        port_of(a.sdp.as_ref().unwrap()),
        port_of(o.sdp.as_ref().unwrap()),
    );
    alice2
        .send_to(
            &[0x80, 0, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8],
            ("127.0.0.1", to_a + 2),
        )
        .unwrap();
    let mut buf = [0u8; 64];
    let (n, from) = bob2.recv_from(&mut buf).unwrap();
    assert_eq!((n, from.port()), (12, to_b + 2), "out of bob's second pair");
    drop(alice);
    let (_, effects) = reg.delete(&flags("a", None, String::new()), &now).unwrap();
    relay.apply(&effects).wait().await;
    assert_eq!(relay.stream_count(), 0);
    assert_eq!(pool.in_use(), 0);
}
