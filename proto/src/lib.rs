//! rtpengine-rs signalling and media logic without I/O: `ng` decodes requests,
//! `call` updates the call model and returns effects, `sdp` parses and rewrites
//! bodies, `srtp` negotiates SDES keys, `media` relays a call's packets and
//! decides its kernel targets (`kernel` builds them). The daemon (`rtpengined`)
//! runs the sockets, timers, kernel table and files around it.
//!
//! Nothing here does I/O or reads a clock or a random source: time comes in
//! as `call::Now` with each event, random numbers from the `rand_core`
//! generator given to `call::Registry::with_rng`, ports from a
//! `call::ports::PortAllocator`. `tests/no_io.rs` checks that (README.md).
pub mod call;
pub mod janus;
pub mod kernel;
pub mod media;
pub mod ng;
pub mod recording;
pub mod sdp;
pub mod srtp;
