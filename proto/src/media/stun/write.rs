//! Building a STUN message in a caller's buffer, attribute by attribute, the
//! header's length kept current; MESSAGE-INTEGRITY and FINGERPRINT last.

use std::net::{IpAddr, SocketAddr};

use super::integrity::{digest, fingerprint};
use super::{attr, StunError, HEADER_LEN, INTEGRITY_LEN, MAGIC_COOKIE};

pub struct Writer<'a> {
    buf: &'a mut [u8],
    len: usize,
    transaction: [u8; 12],
}

impl<'a> Writer<'a> {
    /// A message of type `kind` (see `message_type`) with `transaction`, at the
    /// start of `buf`.
    pub fn new(buf: &'a mut [u8], kind: u16, transaction: [u8; 12]) -> Result<Self, StunError> {
        let h = buf.get_mut(..HEADER_LEN).ok_or(StunError::NoRoom)?;
        h[..2].copy_from_slice(&kind.to_be_bytes());
        h[2..4].fill(0);
        h[4..8].copy_from_slice(&MAGIC_COOKIE.to_be_bytes());
        h[8..].copy_from_slice(&transaction);
        Ok(Writer {
            buf,
            len: HEADER_LEN,
            transaction,
        })
    }

    /// Appends an attribute (zero padding to 4 bytes).
    pub fn attribute(&mut self, kind: u16, value: &[u8]) -> Result<(), StunError> {
        let vlen = u16::try_from(value.len()).map_err(|_| StunError::NoRoom)?;
        let padded = (value.len() + 3) & !3;
        let end = self.len + 4 + padded;
        let total = u16::try_from(end - HEADER_LEN).map_err(|_| StunError::NoRoom)?;
        let out = self.buf.get_mut(self.len..end).ok_or(StunError::NoRoom)?;
        out[..2].copy_from_slice(&kind.to_be_bytes());
        out[2..4].copy_from_slice(&vlen.to_be_bytes());
        out[4..4 + value.len()].copy_from_slice(value);
        out[4 + value.len()..].fill(0);
        self.buf[2..4].copy_from_slice(&total.to_be_bytes());
        self.len = end;
        Ok(())
    }

    /// XOR-MAPPED-ADDRESS of `addr`.
    pub fn xor_mapped_address(&mut self, addr: SocketAddr) -> Result<(), StunError> {
        let cookie = MAGIC_COOKIE.to_be_bytes();
        let mut mask = [0u8; 16];
        mask[..4].copy_from_slice(&cookie);
        mask[4..].copy_from_slice(&self.transaction);
        let port = addr.port() ^ (MAGIC_COOKIE >> 16) as u16;
        let mut v = [0u8; 20];
        v[2..4].copy_from_slice(&port.to_be_bytes());
        let n = match addr.ip() {
            IpAddr::V4(ip) => {
                v[1] = 1;
                for (i, b) in ip.octets().iter().enumerate() {
                    v[4 + i] = b ^ mask[i];
                }
                8
            }
            IpAddr::V6(ip) => {
                v[1] = 2;
                for (i, b) in ip.octets().iter().enumerate() {
                    v[4 + i] = b ^ mask[i];
                }
                20
            }
        };
        self.attribute(attr::XOR_MAPPED_ADDRESS, &v[..n])
    }

    /// ERROR-CODE `code` (300..=699) with `reason`.
    pub fn error_code(&mut self, code: u16, reason: &str) -> Result<(), StunError> {
        let mut v = Vec::with_capacity(4 + reason.len());
        // The class digit and the number below 100 (RFC 8489 section 14.8).
        v.extend([0, 0, (code / 100) as u8 & 0x07, (code % 100) as u8]);
        v.extend_from_slice(reason.as_bytes());
        self.attribute(attr::ERROR_CODE, &v)
    }

    /// MESSAGE-INTEGRITY under `key` (the short-term password).
    pub fn message_integrity(&mut self, key: &[u8]) -> Result<(), StunError> {
        let at = self.len;
        // Reserve the attribute first: the header's length must count it.
        self.attribute(attr::MESSAGE_INTEGRITY, &[0; INTEGRITY_LEN])?;
        let mac = digest(self.buf, at, key).ok_or(StunError::NoRoom)?;
        use hmac::Mac;
        let d = mac.finalize().into_bytes();
        self.buf[at + 4..at + 4 + INTEGRITY_LEN].copy_from_slice(&d);
        Ok(())
    }

    /// FINGERPRINT over everything before it.
    pub fn fingerprint(&mut self) -> Result<(), StunError> {
        let at = self.len;
        self.attribute(attr::FINGERPRINT, &[0; 4])?;
        let crc = fingerprint(&self.buf[..at]);
        self.buf[at + 4..at + 8].copy_from_slice(&crc.to_be_bytes());
        Ok(())
    }

    /// The message's length in bytes.
    pub fn finish(self) -> usize {
        self.len
    }
}

#[cfg(test)]
impl<'a> Writer<'a> {
    /// Continues the message of `len` bytes already at the start of `buf`.
    pub(super) fn resume(buf: &'a mut [u8], len: usize) -> Result<Self, StunError> {
        let mut transaction = [0; 12];
        transaction.copy_from_slice(buf.get(8..HEADER_LEN).ok_or(StunError::NoRoom)?);
        Ok(Writer {
            buf,
            len,
            transaction,
        })
    }
}
