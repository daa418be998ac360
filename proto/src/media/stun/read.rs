//! Walking a message's attributes (type, length, value, padding to 4 bytes)
//! and decoding the values ICE needs.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use super::{StunError, HEADER_LEN, MAGIC_COOKIE};

/// One attribute as it stands in the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attribute<'a> {
    pub kind: u16,
    pub value: &'a [u8],
    /// Where its type-length header starts in the message.
    pub at: usize,
}

impl Attribute<'_> {
    /// A 32-bit value (PRIORITY, FINGERPRINT).
    pub fn u32(&self) -> Result<u32, StunError> {
        let v: [u8; 4] = self.value.try_into().map_err(|_| self.bad())?;
        Ok(u32::from_be_bytes(v))
    }

    /// A 64-bit value (ICE-CONTROLLED/ICE-CONTROLLING tie-breakers).
    pub fn u64(&self) -> Result<u64, StunError> {
        let v: [u8; 8] = self.value.try_into().map_err(|_| self.bad())?;
        Ok(u64::from_be_bytes(v))
    }

    fn bad(&self) -> StunError {
        StunError::BadValue { kind: self.kind }
    }
}

/// The attributes of `msg[..end]` after the header, in order. A truncated
/// attribute yields one error and ends the walk.
pub struct Attributes<'a> {
    msg: &'a [u8],
    pos: usize,
}

impl<'a> Attributes<'a> {
    /// Attributes of the whole of `msg` (a complete message or datagram).
    pub fn new(msg: &'a [u8]) -> Attributes<'a> {
        Attributes {
            msg,
            pos: HEADER_LEN.min(msg.len()),
        }
    }
}

impl<'a> Iterator for Attributes<'a> {
    type Item = Result<Attribute<'a>, StunError>;

    fn next(&mut self) -> Option<Self::Item> {
        let at = self.pos;
        let rest = self.msg.get(at..).filter(|r| !r.is_empty())?;
        let Some(tl) = rest.get(..4) else {
            self.pos = self.msg.len();
            return Some(Err(StunError::TruncatedAttribute(at)));
        };
        let kind = u16::from_be_bytes([tl[0], tl[1]]);
        let len = usize::from(u16::from_be_bytes([tl[2], tl[3]]));
        let padded = (len + 3) & !3;
        if rest.len() - 4 < padded {
            self.pos = self.msg.len();
            return Some(Err(StunError::TruncatedAttribute(at)));
        }
        self.pos = at + 4 + padded;
        Some(Ok(Attribute {
            kind,
            value: &rest[4..4 + len],
            at,
        }))
    }
}

/// XOR-MAPPED-ADDRESS (RFC 8489 section 14.2): family, port and address
/// XORed with the magic cookie (and, for IPv6, the transaction id).
pub fn xor_address(value: &[u8], transaction: &[u8; 12]) -> Result<SocketAddr, StunError> {
    let bad = StunError::BadValue {
        kind: super::attr::XOR_MAPPED_ADDRESS,
    };
    let head = value.get(..4).ok_or(bad)?;
    let cookie = MAGIC_COOKIE.to_be_bytes();
    let port = u16::from_be_bytes([head[2] ^ cookie[0], head[3] ^ cookie[1]]);
    let mut mask = [0u8; 16];
    mask[..4].copy_from_slice(&cookie);
    mask[4..].copy_from_slice(transaction);
    let ip = match (head[1], value.len()) {
        (1, 8) => {
            let mut a = [0u8; 4];
            for (i, b) in a.iter_mut().enumerate() {
                *b = value[4 + i] ^ mask[i];
            }
            IpAddr::V4(Ipv4Addr::from(a))
        }
        (2, 20) => {
            let mut a = [0u8; 16];
            for (i, b) in a.iter_mut().enumerate() {
                *b = value[4 + i] ^ mask[i];
            }
            IpAddr::V6(Ipv6Addr::from(a))
        }
        _ => return Err(bad),
    };
    Ok(SocketAddr::new(ip, port))
}

/// ERROR-CODE (RFC 8489 section 14.8): the code (300..=699) and its reason.
pub fn error_code(value: &[u8]) -> Result<(u16, &str), StunError> {
    let bad = StunError::BadValue {
        kind: super::attr::ERROR_CODE,
    };
    let head = value.get(..4).ok_or(bad)?;
    let class = u16::from(head[2] & 0x07);
    let number = u16::from(head[3]);
    if !(3..=6).contains(&class) || number > 99 {
        return Err(bad);
    }
    let reason = std::str::from_utf8(&value[4..]).map_err(|_| bad)?;
    Ok((class * 100 + number, reason))
}
