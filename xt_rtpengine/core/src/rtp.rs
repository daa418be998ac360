//! RTP on the packet path: header parsing, packet classification, per-SSRC receive
//! statistics, and the lookups a target needs (SSRC slot, payload-type index).
//!
//! Everything works on borrowed byte slices (the UDP payload), never allocates and
//! never panics, whatever the bytes are.
//!
//! API for the kernel module and the daemon:
//! - [`parse`]`(udp_payload) -> Result<`[`RtpHeader`]`, `[`RtpError`]`>`: version 2,
//!   CSRC list and header extension skipped; `header_len()`, `payload_range()`, `seq()`,
//!   `timestamp()`, `ssrc()`, `ssrc_raw()`, `payload_type()`, `marker()`.
//! - [`is_stun`], [`is_dtls`], [`is_muxed_rtcp`]: the 10.5 classification rules.
//! - [`record_packet`]`(&mut abi::SsrcStats, &`[`StatsSample`]`)`: extended sequence,
//!   loss and jitter accounting (RFC 3550 A.1/A.8 in integers, 10.5's field meanings).
//! - [`ssrc_slot`]`(&target.ssrc, header.ssrc_raw())` and
//!   [`payload_type_index`]`(&target, pt, hint)`.

mod classify;
mod header;
mod lookup;
mod stats;

pub use classify::{is_dtls, is_muxed_rtcp, is_stun};
pub use header::{parse, RtpError, RtpHeader, FIXED_HEADER_LEN};
pub use lookup::{payload_type_index, ssrc_slot};
pub use stats::{record_packet, StatsSample};
