//! Scripted packet sequences for every learning mode and flag combination.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::{Learner, Outcome, Params, Verdict};
use crate::call::{Learning, LearningMode};
use crate::kernel::target::{OnMismatch, SourceCheck};

/// The SDP endpoint of the peer.
const PEER: &str = "192.0.2.10:4000";
/// The SDP address, another port (a NAT that keeps the address).
const PEER_PORT: &str = "192.0.2.10:5555";
/// From the address the party's SIP came from (a NAT'd phone).
const NAT: &str = "198.51.100.20:6000";
const SIP_SOURCE: &str = "198.51.100.20";
/// The SDP port from another address.
const PORT_ONLY: &str = "203.0.113.66:4000";
const STRANGER: &str = "203.0.113.66:7777";
const STRANGER2: &str = "203.0.113.77:8888";

fn a(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

/// A learner signalled at `t0` with `PEER` in SDP and `SIP_SOURCE`.
struct Script {
    l: Learner,
    t0: Instant,
}

impl Script {
    fn new(learning: Learning) -> Script {
        Self::with(learning, Some(a(PEER)), Some(SIP_SOURCE))
    }

    fn with(learning: Learning, sdp: Option<SocketAddr>, sip: Option<&str>) -> Script {
        let t0 = Instant::now();
        let params = Params {
            learning,
            sdp,
            sip_source: sip.map(|s| s.parse().unwrap()),
            delay: Duration::from_secs(3),
        };
        Script {
            l: Learner::new(params, t0),
            t0,
        }
    }

    fn at(&self, ms: u64) -> Instant {
        self.t0 + Duration::from_millis(ms)
    }

    fn packet(&mut self, src: &str, ms: u64) -> Outcome {
        self.l.packet(a(src), self.at(ms), true)
    }

    fn dest(&self) -> SocketAddr {
        self.l.destination().expect("a destination")
    }

    /// Signalling again at `ms`, with the same or changed parameters.
    fn signal(&mut self, ms: u64, change: impl FnOnce(&mut Params)) {
        let mut p = self.l.params.clone();
        change(&mut p);
        let at = self.at(ms);
        self.l.signalled(p, at);
    }
}

fn mode(m: LearningMode) -> Learning {
    Learning {
        mode: m,
        ..Learning::default()
    }
}

fn check(expected: &str, on_mismatch: OnMismatch) -> Option<SourceCheck> {
    Some(SourceCheck {
        expected: a(expected),
        on_mismatch,
    })
}

#[test]
fn delayed_a_stranger_first_never_gets_the_media() {
    let mut s = Script::new(Learning::default());
    let o = s.packet(STRANGER, 10);
    assert_eq!(o.verdict, Verdict::Forward, "not strict: relayed");
    assert_eq!((o.changed, o.committed, o.kernel), (false, false, None));
    assert_eq!(
        s.dest(),
        a(PEER),
        "media goes to the SDP endpoint meanwhile"
    );
    let o = s.packet(PEER_PORT, 20);
    assert!(o.changed && !o.committed);
    assert_eq!(s.dest(), a(PEER_PORT), "a matching source gets it at once");
    s.packet(STRANGER, 2999);
    assert_eq!(s.dest(), a(PEER_PORT));
    assert!(!s.l.confirmed());
    // The first packet after the delay commits, to the matching source although
    // it is the stranger's.
    let o = s.packet(STRANGER, 3000);
    assert!(o.committed && !o.changed);
    assert_eq!(o.kernel, check(PEER_PORT, OnMismatch::Ignore));
    assert_eq!(s.dest(), a(PEER_PORT));
    assert!(s.l.confirmed());
    let o = s.packet(STRANGER, 3100);
    assert_eq!(
        (o.verdict, o.changed, o.committed),
        (Verdict::Forward, false, false)
    );
    assert_eq!(s.dest(), a(PEER_PORT));
}

#[test]
fn delayed_follows_the_last_matching_source_until_the_commit() {
    let mut s = Script::new(Learning::default());
    for (src, ms) in [(PEER_PORT, 10), (NAT, 20), (PEER, 30), (NAT, 40)] {
        s.packet(src, ms);
        assert_eq!(s.dest(), a(src));
    }
    let o = s.packet(STRANGER, 3500);
    assert!(o.committed);
    assert_eq!(s.dest(), a(NAT));
    // Committed: another matching source changes nothing without handover.
    let o = s.packet(PEER, 3600);
    assert!(!o.changed);
    assert_eq!(s.dest(), a(NAT));
}

#[test]
fn delayed_nat_unknown_to_signalling_gets_media_after_the_commit() {
    let mut s = Script::new(Learning::default());
    s.packet(STRANGER, 10);
    assert_eq!(s.dest(), a(PEER));
    // 10.5: the first packet after the delay decides.
    let o = s.packet(STRANGER2, 3000);
    assert!(o.committed && o.changed);
    assert_eq!(s.dest(), a(STRANGER2));
    // Userspace must see other sources: a matching one takes over.
    assert_eq!(o.kernel, check(STRANGER2, OnMismatch::Userspace));
    assert!(!s.packet(STRANGER, 3100).changed);
    let o = s.packet(NAT, 4000);
    assert!(o.changed && !o.committed);
    assert_eq!(s.dest(), a(NAT));
    assert_eq!(o.kernel, check(NAT, OnMismatch::Ignore));
    assert!(!s.packet(STRANGER2, 4100).changed);
    assert_eq!(s.dest(), a(NAT));
}

#[test]
fn delayed_nat_behind_the_sip_source_gets_media_from_its_first_packet() {
    let mut s = Script::new(Learning::default());
    let o = s.packet(NAT, 10);
    assert!(o.changed);
    assert_eq!(s.dest(), a(NAT));
    assert!(s.packet(NAT, 3000).committed);
    assert_eq!(s.dest(), a(NAT));
}

#[test]
fn without_a_sip_source_only_the_sdp_address_matches() {
    let mut s = Script::with(Learning::default(), Some(a(PEER)), None);
    s.packet(NAT, 10);
    assert_eq!(s.dest(), a(PEER));
    s.packet(NAT, 3000);
    assert_eq!(s.dest(), a(NAT), "after the commit, as 10.5");
}

#[test]
fn without_any_signalled_address_the_first_packet_after_the_delay_decides() {
    let mut s = Script::with(Learning::default(), None, None);
    s.packet(STRANGER, 10);
    assert_eq!(s.l.destination(), None);
    assert!(s.packet(STRANGER2, 3000).committed);
    assert_eq!(s.dest(), a(STRANGER2));
}

#[test]
fn immediate_commits_at_the_first_matching_packet() {
    let mut s = Script::new(mode(LearningMode::Immediate));
    let o = s.packet(PEER_PORT, 0);
    assert!(o.committed && o.changed);
    assert_eq!(o.kernel, check(PEER_PORT, OnMismatch::Ignore));
    assert!(!s.packet(PEER, 10).changed, "committed");
    assert_eq!(s.dest(), a(PEER_PORT));

    let mut s = Script::new(mode(LearningMode::Immediate));
    let o = s.packet(STRANGER, 0);
    assert!(!o.committed && o.kernel.is_none());
    assert_eq!(s.dest(), a(PEER));
    assert!(s.packet(NAT, 10).committed);
    assert_eq!(s.dest(), a(NAT));
}

#[test]
fn immediate_commits_to_a_stranger_only_after_the_delay() {
    let mut s = Script::new(mode(LearningMode::Immediate));
    for ms in [0, 1000, 2999] {
        assert!(!s.packet(STRANGER, ms).committed);
        assert_eq!(s.dest(), a(PEER));
    }
    let o = s.packet(STRANGER, 3000);
    assert!(o.committed && o.changed);
    assert_eq!(s.dest(), a(STRANGER));
    assert_eq!(o.kernel, check(STRANGER, OnMismatch::Userspace));
}

#[test]
fn heuristic_ranks_sources() {
    let mut s = Script::new(mode(LearningMode::Heuristic));
    // (source, where media goes afterwards)
    for (src, dest) in [
        (STRANGER, PEER),
        (PORT_ONLY, PEER),
        (NAT, NAT),
        (PEER_PORT, PEER_PORT),
        (NAT, PEER_PORT),
        (PEER, PEER),
        (PEER_PORT, PEER),
        (STRANGER, PEER),
    ] {
        s.packet(src, 100);
        assert_eq!(s.dest(), a(dest), "after {src}");
    }
    let o = s.packet(STRANGER, 3000);
    assert!(o.committed);
    assert_eq!(s.dest(), a(PEER));
    assert_eq!(o.kernel, check(PEER, OnMismatch::Ignore));
}

#[test]
fn heuristic_without_a_match_commits_to_the_best_ranked_stranger() {
    let mut s = Script::new(mode(LearningMode::Heuristic));
    s.packet(STRANGER, 10);
    s.packet(PORT_ONLY, 20);
    s.packet(STRANGER2, 30);
    assert_eq!(s.dest(), a(PEER));
    let o = s.packet(STRANGER, 3000);
    assert!(o.committed);
    assert_eq!(s.dest(), a(PORT_ONLY), "same port as in SDP ranks first");
}

#[test]
fn heuristic_keeps_the_last_of_equal_rank() {
    let mut s = Script::new(mode(LearningMode::Heuristic));
    s.packet(PEER_PORT, 10);
    s.packet("192.0.2.10:6666", 20);
    assert_eq!(s.dest(), a("192.0.2.10:6666"));
}

#[test]
fn off_and_asymmetric_never_learn() {
    let off = mode(LearningMode::Off);
    let asym = Learning {
        asymmetric: true,
        ..Learning::default()
    };
    let asym_heuristic = Learning {
        asymmetric: true,
        ..mode(LearningMode::Heuristic)
    };
    for base in [off, asym, asym_heuristic] {
        for handover in [false, true] {
            let l = Learning {
                media_handover: handover,
                ..base
            };
            let mut s = Script::new(l);
            assert!(!s.l.confirmed());
            for (src, ms) in [(NAT, 0), (PEER_PORT, 10), (STRANGER, 5000)] {
                let o = s.packet(src, ms);
                assert_eq!(o.verdict, Verdict::Forward);
                assert!(!o.changed && !o.committed);
                assert_eq!(s.dest(), a(PEER), "{l:?}");
                // In the kernel from the first packet, any source accepted.
                assert_eq!(o.kernel, check(src, OnMismatch::Ignore));
                assert!(s.l.confirmed());
                assert_eq!(s.l.learned(), None);
            }
            s.l.adopt(a(STRANGER));
            assert_eq!(s.dest(), a(PEER), "a restored target changes nothing");
        }
    }
}

#[test]
fn off_and_asymmetric_with_strict_source_accept_only_the_sdp_endpoint() {
    for base in [
        mode(LearningMode::Off),
        Learning {
            asymmetric: true,
            ..Learning::default()
        },
    ] {
        let mut s = Script::new(Learning {
            strict_source: true,
            ..base
        });
        assert_eq!(s.packet(PEER_PORT, 0).verdict, Verdict::Drop);
        assert_eq!(s.packet(NAT, 10).verdict, Verdict::Drop);
        let o = s.packet(PEER, 20);
        assert_eq!(o.verdict, Verdict::Forward);
        assert_eq!(o.kernel, check(PEER, OnMismatch::Drop));
        assert_eq!(s.dest(), a(PEER));
    }
    // Nothing to compare with: everything is dropped, nothing offloaded.
    let mut s = Script::with(
        Learning {
            strict_source: true,
            ..mode(LearningMode::Off)
        },
        None,
        None,
    );
    let o = s.packet(PEER, 0);
    assert_eq!((o.verdict, o.kernel), (Verdict::Drop, None));
}

#[test]
fn strict_source_drops_strangers_while_learning_and_others_after() {
    let mut s = Script::new(Learning {
        strict_source: true,
        ..Learning::default()
    });
    assert_eq!(s.packet(STRANGER, 10).verdict, Verdict::Drop);
    assert_eq!(s.dest(), a(PEER));
    assert_eq!(s.packet(PEER_PORT, 20).verdict, Verdict::Forward);
    assert_eq!(s.packet(NAT, 30).verdict, Verdict::Forward);
    let o = s.packet(PEER, 3000);
    assert_eq!((o.verdict, o.committed), (Verdict::Forward, true));
    assert_eq!(o.kernel, check(PEER, OnMismatch::Drop));
    assert_eq!(s.packet(NAT, 3100).verdict, Verdict::Drop);
    assert_eq!(s.packet(STRANGER, 3200).verdict, Verdict::Drop);
    assert_eq!(s.dest(), a(PEER));
}

#[test]
fn strict_source_commit_to_a_stranger_lets_a_matching_source_take_over() {
    let mut s = Script::new(Learning {
        strict_source: true,
        ..Learning::default()
    });
    assert_eq!(s.packet(STRANGER, 10).verdict, Verdict::Drop);
    let o = s.packet(STRANGER, 3000);
    assert_eq!((o.verdict, o.committed), (Verdict::Forward, true));
    assert_eq!(o.kernel, check(STRANGER, OnMismatch::Userspace));
    assert_eq!(s.packet(STRANGER2, 3100).verdict, Verdict::Drop);
    let o = s.packet(NAT, 3200);
    assert_eq!((o.verdict, o.changed), (Verdict::Forward, true));
    assert_eq!(o.kernel, check(NAT, OnMismatch::Drop));
    assert_eq!(s.packet(STRANGER, 3300).verdict, Verdict::Drop);
}

#[test]
fn strict_source_commit_on_a_stranger_packet_drops_it() {
    let mut s = Script::new(Learning {
        strict_source: true,
        ..Learning::default()
    });
    s.packet(PEER_PORT, 10);
    let o = s.packet(STRANGER, 3000);
    assert_eq!((o.verdict, o.committed), (Verdict::Drop, true));
    assert_eq!(s.dest(), a(PEER_PORT));
}

#[test]
fn media_handover_follows_every_source_after_the_commit_only() {
    for strict in [false, true] {
        let mut s = Script::new(Learning {
            media_handover: true,
            strict_source: strict,
            ..Learning::default()
        });
        // Before the commit the stranger gets nothing (with strict: not relayed).
        let o = s.packet(STRANGER, 10);
        assert_eq!(o.verdict == Verdict::Drop, strict);
        assert_eq!(s.dest(), a(PEER));
        s.packet(PEER, 20);
        let o = s.packet(PEER, 3000);
        assert!(o.committed);
        // New sources must reach userspace (10.5 drops them in the kernel when
        // strict source is set too, so the handover never happens there).
        assert_eq!(o.kernel, check(PEER, OnMismatch::Userspace));
        let o = s.packet(STRANGER, 3100);
        assert_eq!((o.verdict, o.changed), (Verdict::Forward, true));
        assert_eq!(s.dest(), a(STRANGER));
        assert_eq!(o.kernel, check(STRANGER, OnMismatch::Userspace));
        let o = s.packet(NAT, 3200);
        assert!(o.changed);
        assert_eq!(s.dest(), a(NAT));
        assert!(!s.packet(NAT, 3300).changed);
    }
}

#[test]
fn resignalling_keeps_the_learned_peer_until_another_is_chosen() {
    let mut s = Script::new(Learning::default());
    s.packet(PEER_PORT, 10);
    assert!(s.packet(PEER_PORT, 3000).committed);
    s.signal(5000, |_| {});
    assert!(!s.l.confirmed(), "learning is open again");
    assert_eq!(s.dest(), a(PEER_PORT));
    assert_eq!(s.packet(STRANGER, 5010).kernel, None);
    assert_eq!(s.dest(), a(PEER_PORT));
    // Silent since: a stranger after the delay does not take it.
    let o = s.packet(STRANGER, 8000);
    assert!(o.committed && !o.changed);
    assert_eq!(s.dest(), a(PEER_PORT));

    s.signal(9000, |_| {});
    let o = s.packet(NAT, 9010);
    assert!(o.changed, "a matching source heard now is preferred");
    assert_eq!(s.dest(), a(NAT));
}

#[test]
fn resignalling_keeps_a_nat_peer_unknown_to_signalling() {
    let mut s = Script::new(Learning {
        strict_source: true,
        ..Learning::default()
    });
    s.packet(STRANGER, 3000);
    assert_eq!(s.dest(), a(STRANGER));
    s.signal(5000, |_| {});
    assert_eq!(s.dest(), a(STRANGER), "no gap in its media");
    assert_eq!(s.packet(STRANGER, 5010).verdict, Verdict::Forward);
    assert_eq!(s.packet(STRANGER2, 5020).verdict, Verdict::Drop);
    // Heard since the signalling: committed again ahead of another stranger.
    let o = s.packet(STRANGER2, 8000);
    assert!(o.committed && !o.changed);
    assert_eq!(s.dest(), a(STRANGER));

    // Not heard since: the packet after the delay decides, as 10.5.
    s.signal(9000, |_| {});
    let o = s.packet(STRANGER2, 12000);
    assert!(o.committed && o.changed);
    assert_eq!(s.dest(), a(STRANGER2));
}

#[test]
fn resignalling_with_a_new_sdp_endpoint_forgets_the_learned_peer() {
    let mut s = Script::new(mode(LearningMode::Immediate));
    s.packet(PEER_PORT, 10);
    assert_eq!(s.dest(), a(PEER_PORT));
    s.signal(100, |p| p.sdp = Some(a("192.0.2.99:4100")));
    assert_eq!(s.dest(), a("192.0.2.99:4100"));
    assert_eq!(s.l.learned(), None);
    // The old address does not match any more.
    assert!(!s.packet(PEER_PORT, 110).committed);
    assert_eq!(s.dest(), a("192.0.2.99:4100"));
}

#[test]
fn resignalling_from_a_new_sip_source_withdraws_its_trust() {
    let mut s = Script::new(Learning::default());
    s.packet(NAT, 10);
    assert_eq!(s.dest(), a(NAT));
    s.signal(100, |p| {
        p.sip_source = Some("198.51.100.99".parse().unwrap())
    });
    assert_eq!(s.dest(), a(NAT), "kept until another is chosen");
    let o = s.packet("198.51.100.99:6000", 110);
    assert!(o.changed);
    // The old peer, silent and no longer vouched for, loses against a stranger.
    s.signal(200, |p| {
        p.sip_source = Some("198.51.100.42".parse().unwrap())
    });
    let o = s.packet(STRANGER, 3200);
    assert!(o.committed);
    assert_eq!(s.dest(), a(STRANGER));
}

#[test]
fn learning_delay_restarts_with_each_signalling() {
    let mut s = Script::new(Learning::default());
    s.signal(2000, |_| {});
    assert!(!s.packet(PEER, 3500).committed);
    assert!(s.packet(PEER, 5000).committed);
}

#[test]
fn stray_rtcp_does_not_teach_the_peer() {
    let mut s = Script::new(Learning::default());
    let at = s.at(10);
    let o = s.l.packet(a(PEER_PORT), at, false);
    assert!(!o.changed);
    assert_eq!(s.dest(), a(PEER));
    let at = s.at(3000);
    assert!(!s.l.packet(a(PEER_PORT), at, false).committed);
    assert!(s.packet(PEER_PORT, 3001).committed);
    assert_eq!(s.dest(), a(PEER_PORT));
}

#[test]
fn an_adopted_kernel_target_is_the_committed_peer() {
    let mut s = Script::new(Learning::default());
    s.l.adopt(a(PEER_PORT));
    assert!(s.l.confirmed());
    assert_eq!(s.dest(), a(PEER_PORT));
    let o = s.packet(PEER_PORT, 10);
    assert_eq!(o.kernel, check(PEER_PORT, OnMismatch::Ignore));
    s.l.adopt(a(STRANGER));
    let o = s.packet(NAT, 20);
    assert!(o.changed, "a peer signalling does not vouch for yields");
    assert_eq!(s.dest(), a(NAT));
}
