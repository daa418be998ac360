//! rtpengined library: ng control protocol, call model, SDP, media relay.
//!
//! Shape: a sans-IO core (`ng` decodes requests, `call` updates the call model and
//! returns effects, `sdp` rewrites bodies) and thin tokio edges (`server` for the ng
//! transports and timers, `relay` for media sockets).
pub mod call;
pub mod config;
pub mod daemon;
pub mod kernel;
pub mod ng;
pub mod relay;
pub mod sdp;
pub mod server;
pub mod srtp;
