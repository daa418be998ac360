//! STUN (RFC 8489) as ICE (RFC 8445) uses it on media ports: the message
//! header, the attributes of connectivity checks, short-term MESSAGE-INTEGRITY
//! (HMAC-SHA1) and FINGERPRINT (CRC-32). Only the codec lives here; what a
//! stream answers is decided in `media::engine::ice`.
//!
//! Parsing never panics: malformed input is a [`StunError`]. Reading keeps each
//! attribute's position, because integrity and fingerprint cover the message
//! up to their own attribute and rtpengine 10.5 decides by attribute order.

mod header;
mod integrity;
mod read;
mod write;

pub use header::{message_type, Class, Header};
pub use integrity::{fingerprint, fingerprint_matches, integrity_matches};
pub use read::{error_code, xor_address, Attribute, Attributes};
pub use write::Writer;

/// The second word of every RFC 5389/8489 message.
pub const MAGIC_COOKIE: u32 = 0x2112_a442;
/// Header size: type, length, cookie, 96-bit transaction id.
pub const HEADER_LEN: usize = 20;
/// The only method ICE uses.
pub const BINDING: u16 = 0x001;
/// FINGERPRINT's CRC-32 is XORed with this ("STUN").
pub const FINGERPRINT_XOR: u32 = 0x5354_554e;
/// An HMAC-SHA1 digest.
pub const INTEGRITY_LEN: usize = 20;

/// Attribute types (RFC 8489 section 18.3, RFC 8445 section 16.1).
pub mod attr {
    pub const USERNAME: u16 = 0x0006;
    pub const MESSAGE_INTEGRITY: u16 = 0x0008;
    pub const ERROR_CODE: u16 = 0x0009;
    pub const UNKNOWN_ATTRIBUTES: u16 = 0x000a;
    pub const XOR_MAPPED_ADDRESS: u16 = 0x0020;
    pub const PRIORITY: u16 = 0x0024;
    pub const USE_CANDIDATE: u16 = 0x0025;
    pub const SOFTWARE: u16 = 0x8022;
    pub const FINGERPRINT: u16 = 0x8028;
    pub const ICE_CONTROLLED: u16 = 0x8029;
    pub const ICE_CONTROLLING: u16 = 0x802a;

    /// Types below 0x8000 must be understood by the receiver.
    pub fn comprehension_required(kind: u16) -> bool {
        kind & 0x8000 == 0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum StunError {
    #[error("shorter than a STUN header")]
    ShortHeader,
    #[error("not a STUN message (leading bits or magic cookie)")]
    NotStun,
    #[error("message length {0} exceeds the datagram")]
    Length(u16),
    #[error("attribute at byte {0} runs past the message")]
    TruncatedAttribute(usize),
    #[error("attribute {kind:#06x} has a malformed value")]
    BadValue { kind: u16 },
    #[error("no room for the message in the buffer")]
    NoRoom,
}

#[cfg(test)]
mod tests;
