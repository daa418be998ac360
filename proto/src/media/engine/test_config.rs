//! The stream configuration the engine's tests start from: stream `id` on
//! `local`, its peer signalled at `endpoint`, forwarding out of `sink`;
//! immediate endpoint learning, RTP with PCMU, no ICE, no DTLS.

use std::net::SocketAddr;

use crate::call::{KernelHints, Learning, LearningMode, StreamConfig, StreamId};

pub fn stream(
    id: StreamId,
    local: SocketAddr,
    endpoint: SocketAddr,
    sink: StreamId,
) -> StreamConfig {
    StreamConfig {
        id,
        call_id: "c".into(),
        tag: format!("t{}", id.0),
        local,
        is_rtcp: false,
        sink: Some(sink),
        rtcp_sink: None,
        copies: Vec::new(),
        endpoint: Some(endpoint),
        sip_source: None,
        learning: Learning {
            mode: LearningMode::Immediate,
            ..Learning::default()
        },
        tos: None,
        kernel: KernelHints {
            rtp: true,
            payload_types: vec![(0, 8000)],
            ..KernelHints::default()
        },
        ice: None,
        dtls: None,
        control: Default::default(),
        srtp_resume: None,
    }
}
