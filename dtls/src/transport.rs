//! The in-memory datagram pipe OpenSSL reads from and writes to. One `read`
//! returns one queued datagram. What OpenSSL writes is cut into its DTLS
//! records and packed again into datagrams of at most the MTU: OpenSSL packs
//! several records per write and, with a BIO that is not a UDP socket, can
//! go past the MTU doing so (seen: 592 bytes at MTU 576).

use std::collections::VecDeque;
use std::io::{self, Read, Write};

/// DTLS record header: type, version (2), epoch (2), sequence (6), length (2).
const RECORD_HEADER: usize = 13;

#[derive(Debug)]
pub(crate) struct DatagramPipe {
    pub incoming: VecDeque<Vec<u8>>,
    records: VecDeque<Vec<u8>>,
    mtu: usize,
    /// Bytes OpenSSL wrote so far.
    pub written: usize,
}

impl DatagramPipe {
    pub fn new(mtu: usize) -> DatagramPipe {
        DatagramPipe {
            incoming: VecDeque::new(),
            records: VecDeque::new(),
            mtu,
            written: 0,
        }
    }

    /// The next datagram: as many whole records as fit in the MTU (a record
    /// larger than the MTU, which OpenSSL does not make, goes alone).
    pub fn next_datagram(&mut self) -> Option<Vec<u8>> {
        let mut datagram = self.records.pop_front()?;
        while let Some(next) = self.records.front() {
            if datagram.len() + next.len() > self.mtu {
                break;
            }
            datagram.extend_from_slice(next);
            self.records.pop_front();
        }
        Some(datagram)
    }
}

/// Splits written bytes into records; bytes that do not parse as whole
/// records stay together as one unit.
fn split_records(mut buf: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    while buf.len() >= RECORD_HEADER {
        let len = RECORD_HEADER + u16::from_be_bytes([buf[11], buf[12]]) as usize;
        if len > buf.len() {
            break;
        }
        let (record, rest) = buf.split_at(len);
        out.push(record);
        buf = rest;
    }
    if !buf.is_empty() {
        out.push(buf);
    }
    out
}

impl Read for DatagramPipe {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let Some(d) = self.incoming.pop_front() else {
            return Err(io::ErrorKind::WouldBlock.into());
        };
        // A datagram longer than OpenSSL's buffer is cut, as a socket would.
        let n = d.len().min(buf.len());
        buf[..n].copy_from_slice(&d[..n]);
        Ok(n)
    }
}

impl Write for DatagramPipe {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.written += buf.len();
        self.records
            .extend(split_records(buf).into_iter().map(<[u8]>::to_vec));
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(len: usize) -> Vec<u8> {
        let mut r = vec![22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0];
        r.extend_from_slice(&(len as u16).to_be_bytes());
        r.resize(RECORD_HEADER + len, 7);
        r
    }

    #[test]
    fn repacks_records_within_the_mtu() {
        let mut p = DatagramPipe::new(100);
        let (a, b, c) = (record(40), record(30), record(60));
        p.write_all(&[a.clone(), b.clone(), c.clone()].concat())
            .unwrap();
        assert_eq!(p.next_datagram(), Some([a, b].concat()));
        assert_eq!(p.next_datagram(), Some(c));
        assert_eq!(p.next_datagram(), None);
    }

    #[test]
    fn keeps_unparsable_bytes_together() {
        let mut p = DatagramPipe::new(100);
        p.write_all(&[21, 1, 2]).unwrap();
        let big = record(200);
        p.write_all(&big).unwrap();
        assert_eq!(p.next_datagram(), Some(vec![21, 1, 2]));
        assert_eq!(p.next_datagram(), Some(big));
    }
}
