//! Session SRTP state for SDES (RFC 4568): the suites rtpengine 10.5 offers,
//! fresh master keys, and the offer/answer choice of suite and keys. The packet
//! transform itself is `rtpengine_core::srtp`, shared with the kernel module.

pub mod keys;
pub mod sdes;
pub mod session;
pub mod suite;

pub use sdes::{answer_crypto, offer_crypto, SdesOptions};
pub use session::{MediaSdes, NegotiatedKeys};
pub use suite::{SessionParams, SrtpParams, Suite, SUITES};
