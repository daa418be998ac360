//! The media path without I/O: the per-call engine (`engine`) with endpoint
//! learning (`learning`) and SDES-SRTP transforms (`srtp`). The daemon's call
//! tasks feed it datagrams and signalling and carry out what it returns.

pub mod engine;
pub mod learning;
pub mod srtp;
