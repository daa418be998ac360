//! The engine's side of kernel forwarding: what it asks the kernel edge to do
//! (install or remove a target) and what it keeps about each stream's target.
//! The edge executes the operations in order and reports back with
//! `Engine::kernel_installed` / `Engine::kernel_removed`.

use std::net::SocketAddr;
use std::time::Instant;

use rtpengine_core::abi::{Address, DestinationInfo, TargetInfo, MAX_SSRC};

use crate::call::StreamId;
use crate::kernel::counters::Baseline;
use crate::kernel::target::SourceCheck;

/// Where the SRTP indexes of a removed target go back to: the receiving stream's
/// decryption and its sink's encryption, each only if signalling has not replaced
/// those keys since the target was installed (same `epoch`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resume {
    pub here: StreamId,
    pub here_epoch: u64,
    pub sink: StreamId,
    pub sink_epoch: u64,
}

/// The index the kernel reached: `decrypt` from the target, `encrypt` from its
/// output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KernelIndexes {
    pub decrypt: [u64; MAX_SSRC],
    pub encrypt: [u64; MAX_SSRC],
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KernelOp {
    /// Install this target and its destination for `stream`, replacing anything
    /// left on its local address; answer with `kernel_installed(stream, ticket, ..)`.
    Install {
        stream: StreamId,
        ticket: u64,
        target: Box<TargetInfo>,
        destination: Box<DestinationInfo>,
        /// For the log.
        summary: Summary,
    },
    /// Remove `stream`'s target on `local`. With `resume`, read the target's SRTP
    /// indexes first and hand them back with `kernel_removed`.
    Remove {
        stream: StreamId,
        local: Address,
        resume: Option<Resume>,
    },
}

/// What an installed target does, in words for the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    pub local: SocketAddr,
    pub source: SourceCheck,
    pub to: SocketAddr,
    pub srtp: bool,
}

/// A stream's kernel target as the engine knows it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum KernelState {
    /// Not in the kernel; the next committed packet may offer it.
    #[default]
    Idle,
    /// Asked for; the edge's answer carries `ticket`.
    Pending { ticket: u64, target: Target },
    Installed {
        target: Target,
        /// The kernel's totals already counted.
        baseline: Baseline,
        /// A counter listing read before this describes an earlier target.
        since: Instant,
    },
    /// The kernel cannot run it; userspace relays until signalling changes it.
    Refused,
}

/// One installed (or pending) target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target {
    pub local: Address,
    /// The stream the target forwards to: its peer and keys are in the target.
    pub sink: Option<StreamId>,
    pub resume: Option<Resume>,
}

impl KernelState {
    /// The target that exists (or is about to), which a change must remove.
    pub fn target(&self) -> Option<&Target> {
        match self {
            KernelState::Pending { target, .. } | KernelState::Installed { target, .. } => {
                Some(target)
            }
            KernelState::Idle | KernelState::Refused => None,
        }
    }

    pub fn installed(&self) -> bool {
        matches!(self, KernelState::Installed { .. })
    }
}

/// Why the engine keeps a committed stream in userspace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The addresses or media cannot form a target (mixed families, SRTP without
    /// RTP parsing).
    Unsupported,
    /// SSRC slots differ between decryption and encryption: the kernel uses one
    /// slot number both ways.
    SlotConflict(usize),
    /// The kernel answered the installation with an error.
    Kernel,
}
