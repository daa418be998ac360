//! The seam for kernel forwarding (issue 6): the relay reports streams whose peer is
//! confirmed and streams that close; a kernel implementation turns these into
//! /proc/rtpengine/N/control writes. Until then, `NoKernel` keeps all media in
//! userspace.

use std::net::SocketAddr;

use crate::call::{StreamConfig, StreamId};

pub trait Offload: Send + Sync {
    /// The stream's peer is known: forwarding may move into the kernel.
    fn kernelize(&self, stream: &StreamConfig, peer: SocketAddr, sink: Option<SocketAddr>);
    /// The stream closes or changes: remove any kernel target.
    fn unkernelize(&self, id: StreamId);
}

pub struct NoKernel;

impl Offload for NoKernel {
    fn kernelize(&self, _stream: &StreamConfig, _peer: SocketAddr, _sink: Option<SocketAddr>) {}
    fn unkernelize(&self, _id: StreamId) {}
}
