//! What the media engine asks of xt_RTPENGINE, as data: targets built from
//! confirmed streams (rtpengine 10.5's rules), addresses in the ABI's form, and
//! the counters read back. Writing them to the table is the daemon's edge.

pub mod address;
pub mod counters;
pub mod target;
