//! The media path without I/O: the per-call engine (`engine`) with endpoint
//! learning (`learning`), SDES-SRTP transforms (`srtp`) and the STUN codec
//! (`stun`). The daemon's call tasks feed it datagrams and signalling and
//! carry out what it returns.

pub mod engine;
pub mod learning;
pub mod srtp;
pub mod stun;
