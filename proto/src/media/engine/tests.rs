//! The engine driven by scripted inputs: each test is one order of packets,
//! signalling and kernel answers, and checks the outputs that order gives.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rtpengine_core::abi::{Stats, MAX_SSRC};

use super::kernel::{KernelIndexes, KernelOp, Refusal};
use super::{Engine, Event, Output, Transmit};
use crate::call::{StreamConfig, StreamId};
use crate::kernel::address::to_abi;
use crate::sdp::crypto::CryptoAttribute;
use crate::srtp::{SrtpParams, Suite};

const A: StreamId = StreamId(1);
const B: StreamId = StreamId(2);

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

fn alice() -> SocketAddr {
    addr("192.0.2.1:5000")
}
fn bob() -> SocketAddr {
    addr("192.0.2.2:6000")
}
fn a_local() -> SocketAddr {
    addr("203.0.113.1:30000")
}
fn b_local() -> SocketAddr {
    addr("203.0.113.1:30002")
}

use super::test_config::stream;

fn a_cfg() -> StreamConfig {
    stream(A, a_local(), alice(), B)
}
fn b_cfg() -> StreamConfig {
    stream(B, b_local(), bob(), A)
}

/// A call between alice (stream A) and bob (stream B) on an engine with the kernel.
fn call(now: Instant) -> Engine {
    let mut e = Engine::new(true, Duration::from_secs(3));
    e.configure(now, a_cfg());
    e.configure(now, b_cfg());
    assert_eq!(outputs(&mut e), [], "nothing installed yet");
    e
}

fn rtp(seq: u16, ssrc: u32) -> Vec<u8> {
    let mut p = vec![0x80, 0];
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(&[0, 0, 0, 160]);
    p.extend_from_slice(&ssrc.to_be_bytes());
    p.extend([0xd5; 160]);
    p
}

/// Feeds one packet; returns what was sent and the bytes sent.
fn packet(
    e: &mut Engine,
    now: Instant,
    at: StreamId,
    src: SocketAddr,
    data: &[u8],
) -> Option<(Transmit, Vec<u8>)> {
    let mut buf = vec![0u8; 4096];
    buf[..data.len()].copy_from_slice(data);
    e.datagram(now, at, src, &mut buf, data.len())
        .map(|t| (t, buf[..t.len].to_vec()))
}

fn outputs(e: &mut Engine) -> Vec<Output> {
    std::iter::from_fn(|| e.poll_output()).collect()
}

fn kernel_ops(e: &mut Engine) -> Vec<KernelOp> {
    outputs(e)
        .into_iter()
        .filter_map(|o| match o {
            Output::Kernel(k) => Some(k),
            _ => None,
        })
        .collect()
}

/// (stream, ticket, expected source, forwarded to) of an installation.
fn install_of(op: &KernelOp) -> (StreamId, u64, SocketAddr, SocketAddr) {
    match op {
        KernelOp::Install {
            stream,
            ticket,
            summary,
            ..
        } => (*stream, *ticket, summary.source.expected, summary.to),
        other => panic!("not an installation: {other:?}"),
    }
}

fn is_removal_of(op: &KernelOp, id: StreamId) -> bool {
    matches!(op, KernelOp::Remove { stream, .. } if *stream == id)
}

#[test]
fn forwards_out_of_the_sink_socket_to_the_sink_peer() {
    let now = Instant::now();
    let mut e = Engine::new(false, Duration::from_secs(3));
    e.configure(now, a_cfg());
    e.configure(now, b_cfg());
    let p = rtp(1, 7);
    let (t, sent) = packet(&mut e, now, A, alice(), &p).unwrap();
    assert_eq!((t.via, t.to), (B, bob()));
    assert_eq!(sent, p, "plain RTP leaves unchanged");
    let st = e.stats(A).unwrap();
    assert_eq!((st.packets, st.bytes), (1, p.len() as u64));
    assert!(st.confirmed, "immediate learning committed to alice");
    assert!(!st.kernelized);
    assert!(
        outputs(&mut e)
            .iter()
            .all(|o| matches!(o, Output::Event(_))),
        "no kernel"
    );
}

#[test]
fn a_committed_stream_is_installed_once_with_its_sink_peer() {
    let now = Instant::now();
    let mut e = call(now);
    packet(&mut e, now, A, alice(), &rtp(1, 7)).unwrap();
    let ops = kernel_ops(&mut e);
    assert_eq!(ops.len(), 1, "{ops:?}");
    let (stream, ticket, source, to) = install_of(&ops[0]);
    assert_eq!((stream, source, to), (A, alice(), bob()));
    let KernelOp::Install {
        target,
        destination,
        ..
    } = &ops[0]
    else {
        unreachable!()
    };
    assert_eq!(target.local, to_abi(a_local()));
    assert_eq!(
        destination.output.src_addr,
        to_abi(b_local()),
        "leaves from bob's side"
    );
    e.kernel_installed(now, A, ticket, true);
    assert!(e.stats(A).unwrap().kernelized);
    packet(&mut e, now, A, alice(), &rtp(2, 7)).unwrap();
    assert_eq!(kernel_ops(&mut e), [], "installed: nothing more to do");
}

#[test]
fn media_controls_take_the_target_back_and_keep_the_learned_peer() {
    let now = Instant::now();
    let mut e = call(now);
    packet(&mut e, now, A, alice(), &rtp(1, 7)).unwrap();
    let (_, ticket, _, _) = install_of(&kernel_ops(&mut e)[0]);
    e.kernel_installed(now, A, ticket, true);
    let blocked = StreamConfig {
        control: crate::call::MediaControl {
            block_media: true,
            ..Default::default()
        },
        ..a_cfg()
    };
    e.configure(now, blocked);
    let ops = kernel_ops(&mut e);
    assert!(ops.iter().any(|o| is_removal_of(o, A)), "{ops:?}");
    assert!(e.stats(A).unwrap().confirmed, "learning goes on");
    assert_eq!(packet(&mut e, now, A, alice(), &rtp(2, 7)), None, "blocked");
    assert_eq!(kernel_ops(&mut e), [], "blocked media stays in userspace");
    e.configure(now, a_cfg());
    let (t, _) = packet(&mut e, now, A, alice(), &rtp(3, 7)).unwrap();
    assert_eq!((t.via, t.to), (B, bob()));
    let ops = kernel_ops(&mut e);
    assert_eq!(install_of(&ops[0]).0, A, "back into the kernel: {ops:?}");
}

/// Signalling arrives after a packet decided to install a target but before the
/// kernel edge answered: the removal follows the installation, the late answer
/// changes nothing, and the next packet installs the new configuration.
#[test]
fn signalling_between_decision_and_install_takes_the_target_back() {
    let now = Instant::now();
    let mut e = call(now);
    packet(&mut e, now, A, alice(), &rtp(1, 7)).unwrap();
    let mut b = b_cfg();
    b.endpoint = Some(addr("192.0.2.22:6000"));
    e.configure(now, b);
    let ops = kernel_ops(&mut e);
    assert_eq!(ops.len(), 2, "{ops:?}");
    let (_, ticket, _, to) = install_of(&ops[0]);
    assert_eq!(to, bob());
    assert!(
        is_removal_of(&ops[1], A),
        "the target forwarding to B goes: {ops:?}"
    );
    e.kernel_installed(now, A, ticket, true);
    assert!(
        !e.stats(A).unwrap().kernelized,
        "a stale answer installs nothing"
    );
    packet(&mut e, now, A, alice(), &rtp(2, 7)).unwrap();
    let ops = kernel_ops(&mut e);
    assert_eq!(install_of(&ops[0]).3, addr("192.0.2.22:6000"), "new peer");
}

/// The call is deleted after the decision: the target is removed after it is
/// installed, whatever the order of the answers.
#[test]
fn delete_between_decision_and_install_takes_the_target_back() {
    let now = Instant::now();
    let mut e = call(now);
    packet(&mut e, now, A, alice(), &rtp(1, 7)).unwrap();
    e.close(A);
    e.close(B);
    let ops = kernel_ops(&mut e);
    assert_eq!(ops.len(), 2, "{ops:?}");
    install_of(&ops[0]);
    assert!(is_removal_of(&ops[1], A));
    assert!(e.is_empty());
}

/// The sink learns a new peer (media handover) while this stream's target
/// forwards to the old one: the target goes, and the next packet installs it
/// with the new peer. (In the shared-state relay, a decision taken before the
/// sink learned could still install the old peer: learning bumped no generation.)
#[test]
fn the_sink_learning_a_new_peer_takes_the_target_back() {
    let now = Instant::now();
    let mut e = Engine::new(true, Duration::from_secs(3));
    let handover = |mut c: StreamConfig| {
        c.learning.media_handover = true;
        c
    };
    e.configure(now, handover(a_cfg()));
    e.configure(now, handover(b_cfg()));
    packet(&mut e, now, A, alice(), &rtp(1, 7)).unwrap();
    let (_, ticket, _, to) = install_of(&kernel_ops(&mut e)[0]);
    assert_eq!(to, bob());
    e.kernel_installed(now, A, ticket, true);
    packet(&mut e, now, B, bob(), &rtp(1, 9)).unwrap();
    // Bob's phone moves; packets from it reach B.
    let moved = addr("198.51.100.9:7000");
    let (t, _) = packet(&mut e, now, B, moved, &rtp(2, 9)).unwrap();
    assert_eq!(t.to, alice());
    let ops = kernel_ops(&mut e);
    assert!(
        ops.iter().any(|o| is_removal_of(o, A)),
        "A's target forwarded to the old peer: {ops:?}"
    );
    let (t, _) = packet(&mut e, now, A, alice(), &rtp(2, 7)).unwrap();
    assert_eq!(t.to, moved, "userspace follows at once");
    let ops = kernel_ops(&mut e);
    let install = ops
        .iter()
        .find(|o| matches!(o, KernelOp::Install { stream, .. } if *stream == A));
    assert_eq!(install.map(install_of).map(|i| i.3), Some(moved));
}

#[test]
fn a_refused_stream_stays_in_userspace_until_signalling() {
    let now = Instant::now();
    let mut e = call(now);
    packet(&mut e, now, A, alice(), &rtp(1, 7)).unwrap();
    let (_, ticket, _, _) = install_of(&kernel_ops(&mut e)[0]);
    e.kernel_installed(now, A, ticket, false);
    let events = outputs(&mut e);
    assert!(events.contains(&Output::Event(Event::KernelRefused {
        stream: A,
        why: Refusal::Kernel
    })));
    packet(&mut e, now, A, alice(), &rtp(2, 7)).unwrap();
    assert_eq!(kernel_ops(&mut e), [], "not offered again");
    e.configure(now, a_cfg());
    packet(&mut e, now, A, alice(), &rtp(3, 7)).unwrap();
    assert_eq!(
        kernel_ops(&mut e).len(),
        1,
        "offered again after signalling"
    );
}

#[test]
fn kernel_counters_count_from_the_installation_on() {
    let now = Instant::now();
    let mut e = call(now);
    packet(&mut e, now, A, alice(), &rtp(1, 7)).unwrap();
    let (_, ticket, _, _) = install_of(&kernel_ops(&mut e)[0]);
    let installed = now + Duration::from_secs(1);
    let stats = |packets, bytes| Stats {
        packets,
        bytes,
        ..Stats::default()
    };
    // A listing read before the target existed describes an earlier one.
    e.kernel_counters(now, A, &stats(100, 1000));
    e.kernel_installed(installed, A, ticket, true);
    e.kernel_counters(now, A, &stats(100, 1000));
    assert_eq!(
        e.stats(A).unwrap().packets,
        1,
        "listing older than the target"
    );
    let later = installed + Duration::from_secs(1);
    e.kernel_counters(later, A, &stats(10, 1720));
    e.kernel_counters(later, A, &stats(15, 2580));
    let st = e.stats(A).unwrap();
    assert_eq!((st.packets, st.last_packet), (16, Some(later)));
    assert_eq!(st.bytes, 172 + 2580);
}

#[test]
fn statistics_are_published_once_per_change() {
    let now = Instant::now();
    let mut e = call(now);
    let mut seen = Vec::new();
    e.publish(|id, _| seen.push(id));
    assert_eq!(seen.len(), 2, "both new streams");
    seen.clear();
    e.publish(|id, _| seen.push(id));
    assert_eq!(seen, [], "nothing changed");
    packet(&mut e, now, A, alice(), &rtp(1, 7)).unwrap();
    let mut after = Vec::new();
    e.publish(|id, st| after.push((id, st.packets)));
    assert_eq!(after, [(A, 1)]);
}

#[test]
fn stray_rtcp_on_an_rtp_port_does_not_teach_the_peer() {
    let now = Instant::now();
    let mut e = Engine::new(false, Duration::ZERO);
    e.configure(now, a_cfg());
    e.configure(now, b_cfg());
    let stranger = addr("198.51.100.1:9");
    let rr = [0x81, 201, 0, 7, 0, 0, 0, 7, 1, 2, 3, 4, 5, 6, 7, 8];
    packet(&mut e, now, A, stranger, &rr).unwrap();
    assert_eq!(e.stats(A).unwrap().learned, None);
    packet(&mut e, now, A, stranger, &rtp(1, 7)).unwrap();
    assert_eq!(e.stats(A).unwrap().learned, Some(stranger), "RTP does");
}

#[test]
fn relayed_rtcp_is_reported_in_the_clear_when_asked() {
    let now = Instant::now();
    let alice = addr("192.0.2.10:5000");
    let rr = [0x81, 201, 0, 7, 0, 0, 0, 7, 1, 2, 3, 4, 5, 6, 7, 8];
    let rtcp_events = |e: &mut Engine| -> Vec<(StreamId, SocketAddr, Vec<u8>)> {
        outputs(e)
            .into_iter()
            .filter_map(|o| match o {
                Output::Event(Event::Rtcp {
                    stream,
                    source,
                    packet,
                }) => Some((stream, source, packet)),
                _ => None,
            })
            .collect()
    };
    for report in [false, true] {
        let mut e = Engine::new(false, Duration::ZERO);
        if report {
            e = e.with_rtcp_reports();
        }
        e.configure(now, a_cfg());
        e.configure(now, b_cfg());
        packet(&mut e, now, A, alice, &rtp(1, 7)).unwrap();
        outputs(&mut e);
        assert!(packet(&mut e, now, A, alice, &rr).is_some(), "relayed");
        let got = rtcp_events(&mut e);
        if report {
            assert_eq!(got, vec![(A, alice, rr.to_vec())]);
        } else {
            assert!(got.is_empty());
        }
        // RTP is no RTCP.
        packet(&mut e, now, A, alice, &rtp(2, 7)).unwrap();
        assert!(rtcp_events(&mut e).is_empty());
    }
}

fn srtp_params(fill: u8) -> SrtpParams {
    let s = Suite::by_name("AES_CM_128_HMAC_SHA1_80").unwrap();
    let c = CryptoAttribute {
        tag: 1,
        suite: s.name.into(),
        key_salt: (0..s.key_salt_len() as u8).map(|i| i ^ fill).collect(),
        lifetime: None,
        mki: None,
        session_params: vec![],
    };
    s.srtp_params(&c)
}

/// alice speaks SDES-SRTP to A; bob plain RTP.
fn srtp_call(now: Instant) -> (Engine, crate::media::srtp::SrtpDirection) {
    let mut e = Engine::new(true, Duration::from_secs(3));
    let mut a = a_cfg();
    a.kernel.srtp_in = Some(Box::new(srtp_params(1)));
    e.configure(now, a);
    e.configure(now, b_cfg());
    let alice_tx = crate::media::srtp::SrtpDirection::new(&srtp_params(1)).unwrap();
    (e, alice_tx)
}

fn protected(tx: &mut crate::media::srtp::SrtpDirection, seq: u16, ssrc: u32) -> Vec<u8> {
    let mut p = rtp(seq, ssrc);
    tx.protect(&mut p).unwrap();
    p
}

/// A second SSRC reaches userspace past a target that tracks only the first:
/// the target goes and comes back with both (10.5's track_ssrc).
#[test]
fn a_new_ssrc_takes_the_srtp_target_back_and_reinstalls_it_with_both() {
    let now = Instant::now();
    let (mut e, mut alice_tx) = srtp_call(now);
    let (_, sent) = packet(&mut e, now, A, alice(), &protected(&mut alice_tx, 1, 7)).unwrap();
    assert_eq!(sent, rtp(1, 7), "decrypted for bob");
    let ops = kernel_ops(&mut e);
    let (_, ticket, _, _) = install_of(&ops[0]);
    let KernelOp::Install { target, .. } = &ops[0] else {
        unreachable!()
    };
    assert_eq!(target.ssrc[..2], [7u32.to_be(), 0]);
    e.kernel_installed(now, A, ticket, true);
    packet(&mut e, now, A, alice(), &protected(&mut alice_tx, 1, 8)).unwrap();
    let ops = kernel_ops(&mut e);
    assert_eq!(ops.len(), 2, "{ops:?}");
    assert!(is_removal_of(&ops[0], A));
    let KernelOp::Install { target, .. } = &ops[1] else {
        panic!("{ops:?}")
    };
    assert_eq!(target.ssrc[..2], [7u32.to_be(), 8u32.to_be()]);
}

#[test]
fn srtp_failures_and_non_media_on_an_srtp_stream_are_dropped() {
    let now = Instant::now();
    let (mut e, mut alice_tx) = srtp_call(now);
    let mut p = protected(&mut alice_tx, 1, 7);
    let last = p.len() - 1;
    p[last] ^= 1;
    assert!(packet(&mut e, now, A, alice(), &p).is_none());
    let dtls = [22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    assert!(packet(&mut e, now, A, alice(), &dtls).is_none());
    let st = e.stats(A).unwrap();
    assert_eq!((st.packets, st.errors), (0, 2));
    assert_eq!(st.learned, None, "nothing learned from unverified packets");
}

/// The SRTP index the kernel reached comes back into userspace, but only into
/// the keys the target was installed with.
#[test]
fn the_kernel_index_returns_only_to_the_keys_it_belongs_to() {
    let now = Instant::now();
    let (mut e, mut alice_tx) = srtp_call(now);
    packet(&mut e, now, A, alice(), &protected(&mut alice_tx, 1, 7)).unwrap();
    let (_, ticket, _, _) = install_of(&kernel_ops(&mut e)[0]);
    e.kernel_installed(now, A, ticket, true);
    // The kernel forwarded up to ROC 1, seq 5.
    let mut indexes = KernelIndexes {
        decrypt: [0; MAX_SSRC],
        encrypt: [0; MAX_SSRC],
    };
    indexes.decrypt[0] = (1 << 16) | 5;
    // Same keys in a re-INVITE: the target goes, its index comes back.
    let mut a = a_cfg();
    a.kernel.srtp_in = Some(Box::new(srtp_params(1)));
    e.configure(now, a.clone());
    let ops = kernel_ops(&mut e);
    let Some(KernelOp::Remove {
        resume: Some(r), ..
    }) = ops.first()
    else {
        panic!("{ops:?}")
    };
    e.kernel_removed(*r, &indexes);
    let mut far = alice_tx_at(&mut alice_tx, (1 << 16) | 6);
    assert!(
        packet(&mut e, now, A, alice(), &far).is_some(),
        "ROC 1 continues in userspace"
    );
    // New keys: an index of the old ones must not move them.
    let installed = install_of(&kernel_ops(&mut e)[0]).1;
    e.kernel_installed(now, A, installed, true);
    a.kernel.srtp_in = Some(Box::new(srtp_params(2)));
    e.configure(now, a);
    let ops = kernel_ops(&mut e);
    let Some(KernelOp::Remove {
        resume: Some(r), ..
    }) = ops.first()
    else {
        panic!("{ops:?}")
    };
    indexes.decrypt[0] = 40 << 16;
    e.kernel_removed(*r, &indexes);
    let mut fresh = crate::media::srtp::SrtpDirection::new(&srtp_params(2)).unwrap();
    far = protected(&mut fresh, 1, 7);
    assert!(
        packet(&mut e, now, A, alice(), &far).is_some(),
        "new keys start at ROC 0"
    );
}

/// alice's sender after `index` (ROC << 16 | seq) packets: the packet with that index.
fn alice_tx_at(tx: &mut crate::media::srtp::SrtpDirection, index: u64) -> Vec<u8> {
    let mut last = [0u64; MAX_SSRC];
    last[0] = index - 1;
    tx.resume_from_kernel(&last);
    protected(tx, index as u16, 7)
}

/// A publisher's subscribers (pub/sub) beyond the first get a copy of each
/// packet out of their own socket, and the stream stays in userspace.
#[test]
fn copies_go_out_of_each_copy_stream_and_keep_the_stream_out_of_the_kernel() {
    const C: StreamId = StreamId(3);
    let carol = addr("192.0.2.3:7000");
    let now = Instant::now();
    let mut e = call(now);
    let mut a = a_cfg();
    a.copies = vec![C];
    e.configure(now, a);
    e.configure(now, stream(C, addr("203.0.113.1:30004"), carol, A));
    outputs(&mut e);
    let p = rtp(1, 7);
    let (t, sent) = packet(&mut e, now, A, alice(), &p).unwrap();
    assert_eq!((t.via, t.to), (B, bob()));
    assert_eq!(sent, p);
    let out = outputs(&mut e);
    let copies: Vec<_> = out
        .iter()
        .filter_map(|o| match o {
            Output::Send(d) => Some((d.via, d.to, d.data.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(copies, [(C, carol, p.clone())]);
    assert!(
        !out.iter().any(|o| matches!(o, Output::Kernel(_))),
        "no kernel target: {out:?}"
    );
}

/// A recorded stream hands out every packet it accepts, still relays it,
/// and stays in userspace.
#[test]
fn a_recorded_stream_hands_out_its_packets_and_stays_in_userspace() {
    let now = Instant::now();
    let mut e = call(now);
    let recorded = StreamConfig {
        control: crate::call::MediaControl {
            record: true,
            ..Default::default()
        },
        ..a_cfg()
    };
    e.configure(now, recorded);
    let _ = outputs(&mut e);
    let pkt = rtp(1, 7);
    let (t, _) = packet(&mut e, now, A, alice(), &pkt).unwrap();
    assert_eq!((t.via, t.to), (B, bob()));
    let outs = outputs(&mut e);
    assert!(
        outs.iter().all(|o| !matches!(o, Output::Kernel(_))),
        "{outs:?}"
    );
    let recs: Vec<_> = outs
        .iter()
        .filter_map(|o| match o {
            Output::Record { stream, src, data } => Some((*stream, *src, data.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(recs, [(A, alice(), pkt)]);
}

/// A stream recorded through the kernel (proc method) hands out what
/// userspace takes and still goes to the kernel, its target intercepting.
#[test]
fn a_stream_recorded_by_the_kernel_is_kernelized_with_its_intercept() {
    let now = Instant::now();
    let mut e = Engine::new(true, Duration::from_secs(3));
    e.configure(
        now,
        StreamConfig {
            control: crate::call::MediaControl {
                intercept: Some(3),
                ..Default::default()
            },
            ..a_cfg()
        },
    );
    e.configure(now, b_cfg());
    let _ = outputs(&mut e);
    let pkt = rtp(1, 7);
    packet(&mut e, now, A, alice(), &pkt).unwrap();
    let outs = outputs(&mut e);
    assert!(
        outs.iter().any(
            |o| matches!(o, Output::Record { stream, data, .. } if *stream == A && *data == pkt)
        ),
        "{outs:?}"
    );
    let target = outs
        .iter()
        .find_map(|o| match o {
            Output::Kernel(KernelOp::Install { stream, target, .. }) if *stream == A => {
                Some(target.clone())
            }
            _ => None,
        })
        .expect("installed");
    assert_ne!(
        target.flags & rtpengine_core::abi::target_flags::DO_INTERCEPT,
        0
    );
    assert_eq!(target.intercept_stream_idx, 3);
}
