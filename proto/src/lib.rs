//! rtpengine-rs signalling logic: `ng` decodes requests, `call` updates the call
//! model and returns effects, `sdp` parses and rewrites bodies, `srtp` negotiates
//! SDES. The daemon (`rtpengined`) runs the sockets, timers, kernel and files
//! around it.
pub mod call;
pub mod ng;
pub mod sdp;
pub mod srtp;
