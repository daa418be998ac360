//! The media path without I/O: the per-call engine (`engine`) with endpoint
//! learning (`learning`), SDES-SRTP transforms (`srtp`), the STUN codec
//! (`stun`) and our own ICE checks (`ice_agent`). The daemon's call tasks
//! feed it datagrams and signalling and carry out what it returns.

pub mod engine;
pub mod ice_agent;
pub mod learning;
pub mod srtp;
pub mod stun;
