//! The seam for kernel forwarding (issue 6): the relay reports streams whose peer is
//! confirmed and streams that close; a kernel implementation turns these into
//! /proc/rtpengine/N/control writes (one target per `KernelTarget`). Until then,
//! `NoKernel` keeps all media in userspace.

use std::net::SocketAddr;

use crate::call::{StreamConfig, StreamId};

/// Everything a kernel forwarding target needs for one direction of one stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KernelTarget<'a> {
    /// The receiving stream (its `local` is the address the target matches on).
    pub stream: &'a StreamConfig,
    /// The confirmed peer sending to `stream.local`.
    pub expected_source: SocketAddr,
    /// The sink's local socket: forwarded packets leave from here.
    pub forward_from: Option<SocketAddr>,
    /// The sink's peer: forwarded packets go there.
    pub forward_to: Option<SocketAddr>,
}

pub trait Offload: Send + Sync {
    /// The stream's peer is known: forwarding may move into the kernel.
    fn kernelize(&self, target: &KernelTarget<'_>);
    /// The stream closes or changes: remove any kernel target.
    fn unkernelize(&self, id: StreamId);
}

pub struct NoKernel;

impl Offload for NoKernel {
    fn kernelize(&self, _target: &KernelTarget<'_>) {}
    fn unkernelize(&self, _id: StreamId) {}
}
