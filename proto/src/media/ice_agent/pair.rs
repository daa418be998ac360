//! A candidate pair: our one host candidate (the stream's socket) with one
//! remote candidate, its flags as 10.5 keeps them, and its priorities.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// Type preferences 10.5 uses (`ice_type_preferences`).
pub(super) const HOST_TYPE_PREFERENCE: u32 = 126;
pub(super) const PRFLX_TYPE_PREFERENCE: u32 = 110;

/// A candidate priority as 10.5 computes it (`ice_priority_pref`): type
/// preference, local preference 65535 minus the interface's index, 256 minus
/// the component.
pub(super) fn candidate_priority(type_pref: u32, interface_index: u16, component: u8) -> u32 {
    (type_pref << 24) | ((65535 - u32::from(interface_index)) << 8) | (256 - u32::from(component))
}

/// RFC 8445 section 6.1.2.3: G is the controlling agent's candidate priority,
/// D the controlled agent's.
pub(super) fn pair_priority(local: u32, remote: u32, controlling: bool) -> u64 {
    let (g, d) = if controlling {
        (u64::from(local), u64::from(remote))
    } else {
        (u64::from(remote), u64::from(local))
    };
    (g.min(d) << 32) + (g.max(d) << 1) + u64::from(g > d)
}

#[derive(Debug, Clone)]
pub(super) struct Pair {
    pub remote: SocketAddr,
    pub foundation: String,
    pub kind: String,
    pub remote_priority: u32,
    pub priority: u64,
    /// Learned from a request (peer-reflexive), not from signalling.
    pub learned: bool,
    pub in_progress: bool,
    pub failed: bool,
    /// Our check got a success response.
    pub succeeded: bool,
    /// The peer nominated it (USE-CANDIDATE), or we did.
    pub nominated: bool,
    /// Succeeded and nominated.
    pub valid: bool,
    /// We are nominating it: its checks carry USE-CANDIDATE.
    pub to_use: bool,
    /// Queued as a triggered check.
    pub triggered: bool,
    pub transaction: [u8; 12],
    pub rto: Duration,
    pub retransmits: u32,
    pub retransmit_at: Option<Instant>,
    /// Our role and USE-CANDIDATE when the last request went out: a response
    /// is judged by what it answers.
    pub was_controlling: bool,
    pub was_nominated: bool,
}

impl Pair {
    pub(super) fn new(
        remote: SocketAddr,
        foundation: String,
        kind: String,
        remote_priority: u32,
        learned: bool,
        transaction: [u8; 12],
    ) -> Pair {
        Pair {
            remote,
            foundation,
            kind,
            remote_priority,
            priority: 0,
            learned,
            in_progress: false,
            failed: false,
            succeeded: false,
            nominated: false,
            valid: false,
            to_use: false,
            triggered: false,
            transaction,
            rto: Duration::ZERO,
            retransmits: 0,
            retransmit_at: None,
            was_controlling: false,
            was_nominated: false,
        }
    }

    /// 10.5's `__fail_pair`.
    pub(super) fn fail(&mut self) {
        self.failed = true;
        self.in_progress = false;
    }
}
