//! rtpengined library: ng control protocol, call model, SDP, media relay.
//!
//! Shape: a sans-IO core (`ng` decodes requests, `call` updates the call model and
//! returns effects, `sdp` rewrites bodies) and thin tokio edges (`server` for the ng
//! transports, `relay` for media sockets, timers in `server::timers`).
pub mod config;
pub mod ng;
pub mod sdp;
