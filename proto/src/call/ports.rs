//! Media port reservation: a media takes an even/odd RTP/RTCP pair, or one
//! port when it is known to mux RTCP from the start (as rtpengine 10.5).

use std::collections::HashSet;
use std::net::IpAddr;

/// Reserves runs of consecutive ports. The daemon's implementation binds real
/// sockets while reserving (a port taken by another process is skipped); tests
/// use `RangeCursor` alone.
pub trait PortAllocator {
    /// Reserve `count` consecutive ports on `ip` (starting at an even port
    /// when more than one); the first of them, `None` when the range is
    /// exhausted.
    fn allocate(&mut self, ip: IpAddr, count: u16) -> Option<u16>;
    /// Give one port back.
    fn release(&mut self, ip: IpAddr, port: u16);
    /// Reserve the given ports again (a restarted daemon taking its calls
    /// back); false if one is taken.
    fn reserve(&mut self, ip: IpAddr, port: u16, count: u16) -> bool;
    /// As `reserve`, but without binding anything: the ports of another
    /// node's call, which that node may hold (they are bound when the call
    /// is taken over).
    fn claim(&mut self, ip: IpAddr, port: u16, count: u16) -> bool {
        self.reserve(ip, port, count)
    }
}

/// Walks the configured range round-robin from the port after the last one
/// given out, so freed ports are not reused at once (late packets of an old
/// call must not reach a new one). One walk for all addresses: 10.5 walks
/// each address's ports on its own but starts each search a random 6 to 19
/// ports on, so two addresses practically never share a port number within
/// a call; a shared walk never does either.
#[derive(Debug, Clone)]
pub struct RangeCursor {
    min: u16,
    max: u16,
    next: u32,
    used: HashSet<(IpAddr, u16)>,
}

impl RangeCursor {
    pub fn new(min: u16, max: u16) -> RangeCursor {
        RangeCursor {
            min,
            max,
            next: u32::from(min),
            used: HashSet::new(),
        }
    }

    /// Number of ports in the range.
    pub fn capacity(&self) -> usize {
        if self.min > self.max {
            return 0;
        }
        usize::from(self.max - self.min) + 1
    }

    /// Ports in use on all addresses.
    pub fn in_use(&self) -> usize {
        self.used.len()
    }

    /// Ports in use on `ip`.
    pub fn in_use_on(&self, ip: IpAddr) -> usize {
        self.used.iter().filter(|(i, _)| *i == ip).count()
    }

    /// Whether `port` on `ip` is given out.
    pub fn is_used(&self, ip: IpAddr, port: u16) -> bool {
        self.used.contains(&(ip, port))
    }

    /// The configured range: lowest and highest port.
    pub fn bounds(&self) -> (u16, u16) {
        (self.min, self.max)
    }

    /// Walks from `next` as 10.5's `__get_consecutive_ports` does: the first
    /// run of `count` ports (starting even when more than one) for which
    /// `take` holds; it is asked port by port, a refused port restarts the
    /// search after it, and `undo` is called for the ports of an abandoned
    /// run. At most twice round the range. Returns the first port and where
    /// the next search starts.
    fn search(
        &self,
        count: u16,
        mut take: impl FnMut(u16) -> bool,
        mut undo: impl FnMut(u16),
    ) -> Option<(u16, u32)> {
        let (min, max) = (u32::from(self.min), u32::from(self.max));
        if count == 0 || min > max {
            return None;
        }
        // Every search starts at an even port, a single port's too: 10.5
        // starts each search well past the last run, so an odd port right
        // after an even one of the same call is the RTCP port of a pair only.
        let mut port = self.next + (self.next & 1);
        let mut cycle = 0;
        loop {
            if port < min {
                port = min;
            }
            if count > 1 && port & 1 == 1 {
                port += 1;
            }
            let first = port;
            let mut run = Vec::with_capacity(usize::from(count));
            for _ in 0..count {
                if port > max {
                    port = 0;
                    cycle += 1;
                    break;
                }
                let p = port as u16;
                port += 1;
                if !take(p) {
                    break;
                }
                run.push(p);
            }
            if run.len() == usize::from(count) {
                return Some((first as u16, port));
            }
            run.into_iter().for_each(&mut undo);
            if cycle >= 2 {
                return None;
            }
        }
    }

    /// The run `allocate_with` would take first, if ports for which
    /// `soon_free` holds were free already.
    pub fn next_candidate(
        &self,
        ip: IpAddr,
        count: u16,
        soon_free: impl Fn(u16) -> bool,
    ) -> Option<u16> {
        self.search(
            count,
            |p| !self.used.contains(&(ip, p)) || soon_free(p),
            |_| {},
        )
        .map(|(first, _)| first)
    }

    /// Find `count` free consecutive ports, asking `try_bind` to confirm each
    /// (false if the OS refuses, e.g. another process holds the port) and
    /// `unbind` to let go of those of a run abandoned half way.
    pub fn allocate_with(
        &mut self,
        ip: IpAddr,
        count: u16,
        mut try_bind: impl FnMut(u16) -> bool,
        unbind: impl FnMut(u16),
    ) -> Option<u16> {
        let (first, next) = self.search(
            count,
            |p| !self.used.contains(&(ip, p)) && try_bind(p),
            unbind,
        )?;
        let end = u32::from(first) + u32::from(count);
        self.used
            .extend((u32::from(first)..end).map(|p| (ip, p as u16)));
        self.next = next;
        Some(first)
    }

    pub fn release(&mut self, ip: IpAddr, port: u16) {
        self.used.remove(&(ip, port));
    }

    /// Mark `count` ports from `port` used if they are free and `try_bind`
    /// confirms them.
    pub fn reserve_with(
        &mut self,
        ip: IpAddr,
        port: u16,
        count: u16,
        try_bind: impl FnOnce() -> bool,
    ) -> bool {
        let ports = u32::from(port)..u32::from(port) + u32::from(count);
        if ports.end > 65536
            || ports.clone().any(|p| self.used.contains(&(ip, p as u16)))
            || !try_bind()
        {
            return false;
        }
        self.used.extend(ports.map(|p| (ip, p as u16)));
        true
    }
}

impl PortAllocator for RangeCursor {
    fn allocate(&mut self, ip: IpAddr, count: u16) -> Option<u16> {
        self.allocate_with(ip, count, |_| true, |_| {})
    }

    fn release(&mut self, ip: IpAddr, port: u16) {
        RangeCursor::release(self, ip, port)
    }

    fn reserve(&mut self, ip: IpAddr, port: u16, count: u16) -> bool {
        self.reserve_with(ip, port, count, || true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4() -> IpAddr {
        "127.0.0.1".parse().unwrap()
    }

    #[test]
    fn pairs_are_even_and_exhaust() {
        let ip = v4();
        let mut r = RangeCursor::new(32001, 32008);
        assert_eq!(r.capacity(), 8);
        let got: Vec<u16> = (0..3).map(|_| r.allocate(ip, 2).unwrap()).collect();
        assert_eq!(got, vec![32002, 32004, 32006]);
        assert_eq!(r.allocate(ip, 2), None);
        assert_eq!(r.in_use(), 6);
        r.release(ip, 32004);
        r.release(ip, 32005);
        assert_eq!(r.allocate(ip, 2), Some(32004));
    }

    #[test]
    fn addresses_share_the_walk() {
        // Another address gets other numbers (see `RangeCursor`).
        let mut r = RangeCursor::new(32000, 32099);
        assert_eq!(r.allocate(v4(), 2), Some(32000));
        let v6: IpAddr = "::1".parse().unwrap();
        assert_eq!(r.allocate(v6, 2), Some(32002));
        assert_eq!(r.in_use_on(v4()), 2);
        assert_eq!(r.in_use_on(v6), 2);
    }

    #[test]
    fn a_single_port_is_searched_from_an_even_port() {
        let ip = v4();
        let mut r = RangeCursor::new(32000, 32099);
        assert_eq!(r.allocate(ip, 1), Some(32000));
        assert_eq!(
            r.allocate(ip, 1),
            Some(32002),
            "not 32001, which would look like the RTCP port of 32000"
        );
        assert_eq!(r.allocate(ip, 2), Some(32004));
        assert_eq!(r.allocate(ip, 1), Some(32006));
        assert_eq!(r.allocate(ip, 2), Some(32008), "a pair starts even");
        assert_eq!(r.allocate(ip, 4), Some(32010));
        assert_eq!(r.in_use(), 11);
    }

    #[test]
    fn single_ports_still_take_odd_ports_when_the_even_ones_are_used() {
        let ip = v4();
        let mut r = RangeCursor::new(32000, 32003);
        let got: Vec<u16> = (0..4).filter_map(|_| r.allocate(ip, 1)).collect();
        assert_eq!(got, vec![32000, 32002, 32001, 32003]);
        assert_eq!(r.allocate(ip, 1), None);
    }

    #[test]
    fn a_search_past_the_end_wraps_round_and_skips_used_ports() {
        let ip = v4();
        let mut r = RangeCursor::new(32000, 32005);
        assert_eq!(r.allocate(ip, 2), Some(32000));
        assert_eq!(r.allocate(ip, 2), Some(32002));
        assert_eq!(r.allocate(ip, 2), Some(32004));
        r.release(ip, 32002);
        r.release(ip, 32003);
        assert_eq!(r.allocate(ip, 2), Some(32002));
        assert_eq!(r.allocate(ip, 2), None);
        r.release(ip, 32005);
        assert_eq!(r.allocate(ip, 1), Some(32005));
    }

    #[test]
    fn the_next_candidate_is_what_allocation_takes() {
        let ip = v4();
        let mut r = RangeCursor::new(32000, 32007);
        assert_eq!(r.next_candidate(ip, 2, |_| false), Some(32000));
        assert_eq!(r.allocate(ip, 2), Some(32000));
        assert_eq!(r.allocate(ip, 2), Some(32002));
        assert_eq!(r.allocate(ip, 2), Some(32004));
        // Wrapped around: 32000 is taken unless it is about to be free.
        assert_eq!(r.next_candidate(ip, 2, |_| false), Some(32006));
        r.allocate(ip, 2);
        assert_eq!(r.next_candidate(ip, 2, |_| false), None);
        assert_eq!(
            r.next_candidate(ip, 2, |p| p == 32002 || p == 32003),
            Some(32002)
        );
    }

    #[test]
    fn skips_ports_the_os_refuses() {
        let ip = v4();
        let mut r = RangeCursor::new(32000, 32005);
        let mut unbound = Vec::new();
        let got = r.allocate_with(ip, 2, |p| p != 32001, |p| unbound.push(p));
        assert_eq!(got, Some(32002));
        assert_eq!(unbound, vec![32000], "the half-taken pair is let go");
        assert_eq!(r.allocate_with(ip, 2, |_| false, |_| {}), None);
    }

    #[test]
    fn round_robin_does_not_reuse_at_once() {
        let ip = v4();
        let mut r = RangeCursor::new(32000, 32009);
        let a = r.allocate(ip, 2).unwrap();
        r.release(ip, a);
        r.release(ip, a + 1);
        assert_ne!(r.allocate(ip, 2).unwrap(), a);
    }
}
