//! rtpengined library: the tokio edges around the sans-IO signalling logic of
//! `rtpengine-proto` (ng decoding, call model, SDP, SDES).
//!
//! `server` runs the ng transports, timers and the call store; `relay` the media
//! sockets; `kernel` the kernel table and iptables rules; `config` reads options
//! and resolves interfaces. The protocol modules are re-exported under their old
//! names, so `crate::call::...` paths keep working; `call` adds the daemon's
//! clock (`clock`) and random numbers (`random`).
pub use rtpengine_proto::{ng, sdp, srtp};

pub mod call;
pub mod cli;
pub mod clock;
pub mod config;
pub mod daemon;
pub mod graphite;
pub mod homer;
pub mod http;
pub mod janus;
pub mod kernel;
pub mod man;
pub mod mediaproxy;
pub mod random;
pub mod recording;
pub mod relay;
pub mod rtpproxy;
pub mod server;
