//! Port pair reservation: even RTP port, odd RTCP port above it.

use std::collections::HashSet;
use std::net::IpAddr;

/// Reserves pairs of ports. The daemon's implementation binds real sockets while
/// reserving (a port taken by another process is skipped); tests use `RangeCursor`
/// alone.
pub trait PortAllocator {
    /// Reserve `p` (even) and `p + 1` on `ip`; `None` when the range is exhausted.
    fn allocate(&mut self, ip: IpAddr) -> Option<u16>;
    fn release(&mut self, ip: IpAddr, rtp_port: u16);
    /// Reserve the given pair again (a restarted daemon taking its calls back);
    /// false if it is taken.
    fn reserve(&mut self, ip: IpAddr, rtp_port: u16) -> bool;
}

/// Walks the configured range round-robin, so freed ports are not reused at once
/// (late packets of an old call must not reach a new one).
#[derive(Debug, Clone)]
pub struct RangeCursor {
    min_even: u16,
    max: u16,
    next: u16,
    used: HashSet<(IpAddr, u16)>,
}

impl RangeCursor {
    pub fn new(min: u16, max: u16) -> RangeCursor {
        let min_even = min + (min % 2);
        RangeCursor {
            min_even,
            max,
            next: min_even,
            used: HashSet::new(),
        }
    }

    /// Number of pairs in the range.
    pub fn capacity(&self) -> usize {
        if self.min_even >= self.max {
            return 0;
        }
        usize::from((self.max - self.min_even).div_ceil(2))
    }

    pub fn in_use(&self) -> usize {
        self.used.len()
    }

    /// Pairs in use on `ip`.
    pub fn in_use_on(&self, ip: IpAddr) -> usize {
        self.used.iter().filter(|(i, _)| *i == ip).count()
    }

    /// The configured range: lowest usable (even) port and the highest.
    pub fn bounds(&self) -> (u16, u16) {
        (self.min_even, self.max)
    }

    /// The pair `allocate_with` would try first, if pairs for which
    /// `soon_free` holds were free already.
    pub fn next_candidate(&self, ip: IpAddr, soon_free: impl Fn(u16) -> bool) -> Option<u16> {
        let mut port = self.next;
        for _ in 0..self.capacity() {
            if !self.used.contains(&(ip, port)) || soon_free(port) {
                return Some(port);
            }
            port = if u32::from(port) + 3 > u32::from(self.max) {
                self.min_even
            } else {
                port + 2
            };
        }
        None
    }

    /// Find a free pair, asking `try_bind` to confirm it (returns false if the OS
    /// refuses, e.g. another process holds the port).
    pub fn allocate_with(
        &mut self,
        ip: IpAddr,
        mut try_bind: impl FnMut(u16) -> bool,
    ) -> Option<u16> {
        for _ in 0..self.capacity() {
            let port = self.next;
            self.next = if u32::from(port) + 3 > u32::from(self.max) {
                self.min_even
            } else {
                port + 2
            };
            if self.used.contains(&(ip, port)) {
                continue;
            }
            if try_bind(port) {
                self.used.insert((ip, port));
                return Some(port);
            }
        }
        None
    }

    pub fn release(&mut self, ip: IpAddr, port: u16) {
        self.used.remove(&(ip, port));
    }

    /// Mark `port` used if it is free and `try_bind` confirms it.
    pub fn reserve_with(&mut self, ip: IpAddr, port: u16, try_bind: impl FnOnce() -> bool) -> bool {
        if self.used.contains(&(ip, port)) || !try_bind() {
            return false;
        }
        self.used.insert((ip, port));
        true
    }
}

impl PortAllocator for RangeCursor {
    fn allocate(&mut self, ip: IpAddr) -> Option<u16> {
        self.allocate_with(ip, |_| true)
    }

    fn release(&mut self, ip: IpAddr, rtp_port: u16) {
        RangeCursor::release(self, ip, rtp_port)
    }

    fn reserve(&mut self, ip: IpAddr, rtp_port: u16) -> bool {
        self.reserve_with(ip, rtp_port, || true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_are_even_and_exhaust() {
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        let mut r = RangeCursor::new(32001, 32008);
        assert_eq!(r.capacity(), 3);
        let got: Vec<u16> = (0..3).map(|_| r.allocate(ip).unwrap()).collect();
        assert_eq!(got, vec![32002, 32004, 32006]);
        assert_eq!(r.allocate(ip), None);
        // Another address has its own pairs.
        assert_eq!(r.allocate("::1".parse().unwrap()), Some(32002));
        r.release(ip, 32004);
        assert_eq!(r.allocate(ip), Some(32004));
    }

    #[test]
    fn the_next_candidate_is_what_allocation_takes() {
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        let mut r = RangeCursor::new(32000, 32007);
        assert_eq!(r.next_candidate(ip, |_| false), Some(32000));
        assert_eq!(r.allocate(ip), Some(32000));
        assert_eq!(r.allocate(ip), Some(32002));
        assert_eq!(r.allocate(ip), Some(32004));
        // Wrapped around: 32000 is taken unless it is about to be free.
        assert_eq!(r.next_candidate(ip, |_| false), Some(32006));
        r.allocate(ip);
        assert_eq!(r.next_candidate(ip, |_| false), None);
        assert_eq!(r.next_candidate(ip, |p| p == 32002), Some(32002));
    }

    #[test]
    fn skips_ports_the_os_refuses() {
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        let mut r = RangeCursor::new(32000, 32005);
        assert_eq!(r.allocate_with(ip, |p| p != 32000), Some(32002));
        assert_eq!(r.allocate_with(ip, |_| false), None);
    }

    #[test]
    fn round_robin_does_not_reuse_at_once() {
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        let mut r = RangeCursor::new(32000, 32009);
        let a = r.allocate(ip).unwrap();
        r.release(ip, a);
        assert_ne!(r.allocate(ip).unwrap(), a);
    }
}
