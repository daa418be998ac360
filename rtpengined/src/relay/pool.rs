//! Reserving port pairs by binding real sockets, shared between the call model
//! (which decides) and the relay (which takes the sockets over).
//!
//! A pair the call model releases goes back to the range only once every socket
//! of it is closed: the relay's task closes its sockets after the reply to the
//! signalling that released them, so a new call must not be given the port (and
//! fail to bind it, or bind it beside a socket still open) before then. When the
//! range's next pair is such a pair, allocation waits for it rather than skip
//! it: which ports a call gets does not depend on how fast tasks ran.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::os::fd::{AsRawFd, RawFd};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use crate::call::ports::{PortAllocator, RangeCursor};

pub struct SocketPool {
    cursor: RangeCursor,
    /// Bound sockets not yet taken by the relay.
    bound: HashMap<SocketAddr, UdpSocket>,
    /// Pairs (by RTP address) with sockets held by the relay: how many are
    /// open, and whether the call model has released the pair.
    lent: HashMap<SocketAddr, Lent>,
}

#[derive(Default)]
struct Lent {
    open: u8,
    released: bool,
}

/// How long allocation waits for a task to close a released pair before it
/// takes the next one (a task closes it as soon as it runs).
const CLOSE_WAIT: Duration = Duration::from_secs(1);

/// The pool as the call model sees it (cheap to clone, locks internally).
#[derive(Clone)]
pub struct SharedPool(Arc<(Mutex<SocketPool>, Condvar)>);

/// A socket the relay took from the pool. Dropping it closes the socket, then
/// gives its pair back to the range if the call model released it meanwhile.
pub struct PooledSocket {
    socket: Option<UdpSocket>,
    pair: SocketAddr,
    pool: SharedPool,
}

impl std::ops::Deref for PooledSocket {
    type Target = UdpSocket;
    fn deref(&self) -> &UdpSocket {
        self.socket.as_ref().expect("present until dropped")
    }
}

impl AsRawFd for PooledSocket {
    fn as_raw_fd(&self) -> RawFd {
        (**self).as_raw_fd()
    }
}

impl Drop for PooledSocket {
    fn drop(&mut self) {
        // Closed first: the port must be bindable once the range offers it.
        drop(self.socket.take());
        self.pool.closed(self.pair);
    }
}

/// The RTP address of the pair `local` belongs to (RTP ports are even).
fn pair_of(local: SocketAddr) -> SocketAddr {
    SocketAddr::new(local.ip(), local.port() & !1)
}

impl SharedPool {
    pub fn new(min: u16, max: u16) -> SharedPool {
        let pool = SocketPool {
            cursor: RangeCursor::new(min, max),
            bound: HashMap::new(),
            lent: HashMap::new(),
        };
        SharedPool(Arc::new((Mutex::new(pool), Condvar::new())))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, SocketPool> {
        // A panic while holding the lock cannot leave the maps inconsistent in a way
        // that matters more than stopping the daemon would.
        self.0 .0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits (a bounded time) while `closing` says a pair the next allocation
    /// would need is still open in a task.
    fn wait_for_closes<'a>(
        &'a self,
        mut pool: std::sync::MutexGuard<'a, SocketPool>,
        closing: impl Fn(&SocketPool) -> bool,
    ) -> std::sync::MutexGuard<'a, SocketPool> {
        let deadline = Instant::now() + CLOSE_WAIT;
        while closing(&pool) {
            let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                break;
            };
            pool = match self.0 .1.wait_timeout(pool, left) {
                Ok((g, _)) => g,
                Err(e) => e.into_inner().0,
            };
        }
        pool
    }

    /// Hand a reserved socket to the relay.
    pub fn take(&self, local: SocketAddr) -> Option<PooledSocket> {
        let mut pool = self.lock();
        let socket = pool.bound.remove(&local)?;
        let pair = pair_of(local);
        pool.lent.entry(pair).or_default().open += 1;
        Some(PooledSocket {
            socket: Some(socket),
            pair,
            pool: self.clone(),
        })
    }

    /// A lent socket of `pair` was closed.
    fn closed(&self, pair: SocketAddr) {
        let mut pool = self.lock();
        let Some(lent) = pool.lent.get_mut(&pair) else {
            return;
        };
        lent.open = lent.open.saturating_sub(1);
        if lent.open == 0 {
            let released = lent.released;
            pool.lent.remove(&pair);
            if released {
                pool.cursor.release(pair.ip(), pair.port());
                self.0 .1.notify_all();
            }
        }
    }

    /// Port pairs in use: a released pair counts as free at once, whether or
    /// not its task has closed the sockets yet (so statistics do not depend on
    /// how fast tasks ran).
    pub fn in_use(&self) -> usize {
        let pool = self.lock();
        let closing = pool.lent.values().filter(|l| l.released).count();
        pool.cursor.in_use().saturating_sub(closing)
    }

    /// Port pairs in use on `ip` (counted as `in_use` counts them).
    pub fn in_use_on(&self, ip: IpAddr) -> usize {
        let pool = self.lock();
        let closing = pool
            .lent
            .iter()
            .filter(|(pair, l)| l.released && pair.ip() == ip)
            .count();
        pool.cursor.in_use_on(ip).saturating_sub(closing)
    }

    /// The configured port range (lowest even port, highest port).
    pub fn bounds(&self) -> (u16, u16) {
        self.lock().cursor.bounds()
    }
}

fn bind_pair(ip: IpAddr, rtp_port: u16, rtcp_port: u16) -> Option<(UdpSocket, UdpSocket)> {
    let rtp = UdpSocket::bind(SocketAddr::new(ip, rtp_port)).ok()?;
    let rtcp = UdpSocket::bind(SocketAddr::new(ip, rtcp_port)).ok()?;
    Some((rtp, rtcp))
}

impl PortAllocator for SharedPool {
    fn allocate(&mut self, ip: IpAddr) -> Option<u16> {
        let closing = |pool: &SocketPool| {
            let released = |p| {
                pool.lent
                    .get(&SocketAddr::new(ip, p))
                    .is_some_and(|l| l.released)
            };
            pool.cursor
                .next_candidate(ip, released)
                .is_some_and(released)
        };
        let mut pool = self.wait_for_closes(self.lock(), closing);
        let mut pair = None;
        let port = pool.cursor.allocate_with(ip, |p| {
            pair = bind_pair(ip, p, p + 1);
            pair.is_some()
        })?;
        let (a, b) = pair.expect("set when allocate_with succeeds");
        pool.bound.insert(SocketAddr::new(ip, port), a);
        pool.bound.insert(SocketAddr::new(ip, port + 1), b);
        Some(port)
    }

    fn reserve(&mut self, ip: IpAddr, rtp_port: u16) -> bool {
        let Some(rtcp_port) = rtp_port.checked_add(1) else {
            return false;
        };
        let rtp = SocketAddr::new(ip, rtp_port);
        let closing = |pool: &SocketPool| pool.lent.get(&rtp).is_some_and(|l| l.released);
        let mut guard = self.wait_for_closes(self.lock(), closing);
        let pool = &mut *guard;
        let mut pair = None;
        let ok = pool.cursor.reserve_with(ip, rtp_port, || {
            pair = bind_pair(ip, rtp_port, rtcp_port);
            pair.is_some()
        });
        if let Some((a, b)) = pair {
            pool.bound.insert(SocketAddr::new(ip, rtp_port), a);
            pool.bound.insert(SocketAddr::new(ip, rtcp_port), b);
        }
        ok
    }

    fn release(&mut self, ip: IpAddr, rtp_port: u16) {
        let mut pool = self.lock();
        let rtp = SocketAddr::new(ip, rtp_port);
        pool.bound.remove(&rtp);
        pool.bound
            .remove(&SocketAddr::new(ip, rtp_port.wrapping_add(1)));
        match pool.lent.get_mut(&rtp) {
            // Back to the range when the relay has closed its sockets.
            Some(lent) => lent.released = true,
            None => pool.cursor.release(ip, rtp_port),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lo() -> IpAddr {
        "127.0.0.1".parse().unwrap()
    }

    #[test]
    fn a_released_pair_returns_only_once_the_relay_closed_its_sockets() {
        // One pair in the range: whether it is free decides the next allocation.
        let mut pool = SharedPool::new(38990, 38991);
        let port = pool.allocate(lo()).expect("the range has one pair");
        let rtp = pool.take(SocketAddr::new(lo(), port)).expect("reserved");
        pool.release(lo(), port);
        assert_eq!(pool.in_use(), 0, "released: counted free at once");
        assert_eq!(pool.in_use_on(lo()), 0);
        assert_eq!(
            pool.allocate(lo()),
            None,
            "the relay still holds the RTP socket"
        );
        drop(rtp);
        assert_eq!(pool.in_use(), 0);
        assert_eq!(pool.allocate(lo()), Some(port), "bindable again");
    }

    #[test]
    fn allocation_waits_for_a_closing_pair_it_would_take_next() {
        let mut pool = SharedPool::new(38996, 38999);
        let port = pool.allocate(lo()).unwrap();
        let rtp = pool.take(SocketAddr::new(lo(), port)).unwrap();
        pool.release(lo(), port);
        // The range wraps to `port` again after the other pair.
        let other = pool.allocate(lo()).unwrap();
        assert_ne!(other, port);
        let closer = std::thread::spawn(move || drop(rtp));
        assert_eq!(pool.allocate(lo()), Some(port), "waited for the close");
        closer.join().unwrap();
    }

    #[test]
    fn a_pair_the_relay_never_took_returns_at_once() {
        let mut pool = SharedPool::new(38992, 38993);
        let port = pool.allocate(lo()).unwrap();
        pool.release(lo(), port);
        assert_eq!(pool.allocate(lo()), Some(port));
    }

    #[test]
    fn closing_a_socket_the_call_still_uses_keeps_the_pair() {
        let mut pool = SharedPool::new(38994, 38995);
        let port = pool.allocate(lo()).unwrap();
        let rtp = pool.take(SocketAddr::new(lo(), port)).unwrap();
        let rtcp = pool.take(SocketAddr::new(lo(), port + 1)).unwrap();
        drop(rtcp);
        assert_eq!(pool.in_use(), 1, "not released by the call model");
        pool.release(lo(), port);
        drop(rtp);
        assert_eq!(pool.allocate(lo()), Some(port));
    }
}
