//! The 20-byte STUN header: message type (method and class), length, magic
//! cookie, transaction id.

use super::{StunError, HEADER_LEN, MAGIC_COOKIE};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    Request,
    Indication,
    Success,
    Error,
}

impl Class {
    fn bits(self) -> u16 {
        match self {
            Class::Request => 0,
            Class::Indication => 1,
            Class::Success => 2,
            Class::Error => 3,
        }
    }
}

/// The message type field: 12 method bits interleaved with 2 class bits
/// (RFC 8489 figure 3).
pub fn message_type(method: u16, class: Class) -> u16 {
    let c = class.bits();
    (method & 0x000f)
        | ((method & 0x0070) << 1)
        | ((method & 0x0f80) << 2)
        | ((c & 1) << 4)
        | ((c & 2) << 7)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub method: u16,
    pub class: Class,
    /// Bytes of attributes after the header, as the message says.
    pub length: u16,
    pub transaction: [u8; 12],
}

impl Header {
    /// The header at the start of `msg`: the two leading bits zero and the magic
    /// cookie in place. The length is checked against `msg` by the caller's
    /// policy (rtpengine 10.5 accepts a datagram longer than the message).
    pub fn parse(msg: &[u8]) -> Result<Header, StunError> {
        let h = msg.get(..HEADER_LEN).ok_or(StunError::ShortHeader)?;
        let kind = u16::from_be_bytes([h[0], h[1]]);
        let cookie = u32::from_be_bytes([h[4], h[5], h[6], h[7]]);
        if kind & 0xc000 != 0 || cookie != MAGIC_COOKIE {
            return Err(StunError::NotStun);
        }
        let method = (kind & 0x000f) | ((kind & 0x00e0) >> 1) | ((kind & 0x3e00) >> 2);
        let class = match ((kind >> 4) & 1) | ((kind >> 7) & 2) {
            0 => Class::Request,
            1 => Class::Indication,
            2 => Class::Success,
            _ => Class::Error,
        };
        let mut transaction = [0; 12];
        transaction.copy_from_slice(&h[8..20]);
        Ok(Header {
            method,
            class,
            length: u16::from_be_bytes([h[2], h[3]]),
            transaction,
        })
    }
}
