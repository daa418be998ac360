//! Reserving media ports by binding real sockets, shared between the call
//! model (which decides) and the relay (which takes the sockets over).
//!
//! A port the call model releases goes back to the range only once its socket
//! is closed: the relay's task closes its sockets after the reply to the
//! signalling that released them, so a new call must not be given the port (and
//! fail to bind it, or bind it beside a socket still open) before then. When the
//! range's next ports include such a port, allocation waits for it rather than
//! skip it: which ports a call gets does not depend on how fast tasks ran.

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
    /// Ports whose sockets the relay holds open, and whether the call model
    /// has released them.
    lent: HashMap<SocketAddr, bool>,
}

/// How long allocation waits for a task to close a released port before it
/// takes the next one (a task closes it as soon as it runs).
const CLOSE_WAIT: Duration = Duration::from_secs(1);

/// The pool as the call model sees it (cheap to clone, locks internally).
#[derive(Clone)]
pub struct SharedPool(Arc<(Mutex<SocketPool>, Condvar)>);

/// A socket the relay took from the pool. Dropping it closes the socket, then
/// gives its port back to the range if the call model released it meanwhile.
pub struct PooledSocket {
    socket: Option<UdpSocket>,
    local: SocketAddr,
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
        self.pool.closed(self.local);
    }
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

    /// Waits (a bounded time) while `closing` says a port the next allocation
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
        let socket = match pool.bound.remove(&local) {
            Some(s) => s,
            // A port the call model still holds whose socket the relay
            // closed (the further pair of a port count that a later SDP
            // without the count left streamless, shown again): bound anew.
            None if !pool.lent.contains_key(&local)
                && pool.cursor.is_used(local.ip(), local.port()) =>
            {
                UdpSocket::bind(local).ok()?
            }
            None => return None,
        };
        pool.lent.insert(local, false);
        Some(PooledSocket {
            socket: Some(socket),
            local,
            pool: self.clone(),
        })
    }

    /// A lent socket was closed.
    fn closed(&self, local: SocketAddr) {
        let mut pool = self.lock();
        if pool.lent.remove(&local) == Some(true) {
            pool.cursor.release(local.ip(), local.port());
            self.0 .1.notify_all();
        }
    }

    /// Ports in use: a released port counts as free at once, whether or not
    /// its task has closed the socket yet (so statistics do not depend on how
    /// fast tasks ran).
    pub fn in_use(&self) -> usize {
        let pool = self.lock();
        let closing = pool.lent.values().filter(|released| **released).count();
        pool.cursor.in_use().saturating_sub(closing)
    }

    /// Ports in use on `ip` (counted as `in_use` counts them).
    pub fn in_use_on(&self, ip: IpAddr) -> usize {
        let pool = self.lock();
        let closing = pool
            .lent
            .iter()
            .filter(|(local, released)| **released && local.ip() == ip)
            .count();
        pool.cursor.in_use_on(ip).saturating_sub(closing)
    }

    /// The configured port range (lowest port, highest port).
    pub fn bounds(&self) -> (u16, u16) {
        self.lock().cursor.bounds()
    }
}

impl PortAllocator for SharedPool {
    fn allocate(&mut self, ip: IpAddr, count: u16) -> Option<u16> {
        let closing = |pool: &SocketPool| {
            let released = |p| pool.lent.get(&SocketAddr::new(ip, p)) == Some(&true);
            pool.cursor
                .next_candidate(ip, count, released)
                .is_some_and(|first| (first..first.saturating_add(count)).any(released))
        };
        let mut guard = self.wait_for_closes(self.lock(), closing);
        let pool = &mut *guard;
        // Sockets of a run abandoned half way close at once.
        let sockets = std::cell::RefCell::new(HashMap::new());
        let first = pool.cursor.allocate_with(
            ip,
            count,
            |p| match UdpSocket::bind(SocketAddr::new(ip, p)) {
                Ok(s) => {
                    sockets.borrow_mut().insert(p, s);
                    true
                }
                Err(_) => false,
            },
            |p| {
                sockets.borrow_mut().remove(&p);
            },
        )?;
        for (p, s) in sockets.into_inner() {
            pool.bound.insert(SocketAddr::new(ip, p), s);
        }
        Some(first)
    }

    fn reserve(&mut self, ip: IpAddr, port: u16, count: u16) -> bool {
        let ports = u32::from(port)..u32::from(port) + u32::from(count);
        let closing = |pool: &SocketPool| {
            ports
                .clone()
                .any(|p| pool.lent.get(&SocketAddr::new(ip, p as u16)) == Some(&true))
        };
        let mut guard = self.wait_for_closes(self.lock(), closing);
        let pool = &mut *guard;
        let mut sockets = Vec::new();
        let ok = pool.cursor.reserve_with(ip, port, count, || {
            for p in ports.clone() {
                match UdpSocket::bind(SocketAddr::new(ip, p as u16)) {
                    Ok(s) => sockets.push((p as u16, s)),
                    Err(_) => return false,
                }
            }
            true
        });
        if ok {
            for (p, s) in sockets {
                pool.bound.insert(SocketAddr::new(ip, p), s);
            }
        }
        ok
    }

    fn claim(&mut self, ip: IpAddr, port: u16, count: u16) -> bool {
        let ports = u32::from(port)..u32::from(port) + u32::from(count);
        let closing = |pool: &SocketPool| {
            ports
                .clone()
                .any(|p| pool.lent.get(&SocketAddr::new(ip, p as u16)) == Some(&true))
        };
        let mut guard = self.wait_for_closes(self.lock(), closing);
        // Marked used only: `take` binds each port when the relay starts on it.
        guard.cursor.reserve_with(ip, port, count, || true)
    }

    fn release(&mut self, ip: IpAddr, port: u16) {
        let mut pool = self.lock();
        let local = SocketAddr::new(ip, port);
        pool.bound.remove(&local);
        match pool.lent.get_mut(&local) {
            // Back to the range when the relay has closed its socket.
            Some(released) => *released = true,
            None => pool.cursor.release(ip, port),
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
    fn a_released_port_returns_only_once_the_relay_closed_its_socket() {
        // One pair in the range: whether it is free decides the next allocation.
        let mut pool = SharedPool::new(38990, 38991);
        let port = pool.allocate(lo(), 2).expect("the range has one pair");
        let rtp = pool.take(SocketAddr::new(lo(), port)).expect("reserved");
        pool.release(lo(), port);
        pool.release(lo(), port + 1);
        assert_eq!(pool.in_use(), 0, "released: counted free at once");
        assert_eq!(pool.in_use_on(lo()), 0);
        assert_eq!(
            pool.allocate(lo(), 2),
            None,
            "the relay still holds the RTP socket"
        );
        drop(rtp);
        assert_eq!(pool.in_use(), 0);
        assert_eq!(pool.allocate(lo(), 2), Some(port), "bindable again");
    }

    #[test]
    fn allocation_waits_for_a_closing_port_it_would_take_next() {
        let mut pool = SharedPool::new(38996, 38999);
        let port = pool.allocate(lo(), 2).unwrap();
        let rtp = pool.take(SocketAddr::new(lo(), port)).unwrap();
        pool.release(lo(), port);
        pool.release(lo(), port + 1);
        // The range wraps to `port` again after the other pair.
        let other = pool.allocate(lo(), 2).unwrap();
        assert_ne!(other, port);
        let closer = std::thread::spawn(move || drop(rtp));
        assert_eq!(pool.allocate(lo(), 2), Some(port), "waited for the close");
        closer.join().unwrap();
    }

    #[test]
    fn a_port_the_relay_never_took_returns_at_once() {
        let mut pool = SharedPool::new(38992, 38993);
        let port = pool.allocate(lo(), 2).unwrap();
        pool.release(lo(), port);
        pool.release(lo(), port + 1);
        assert_eq!(pool.allocate(lo(), 2), Some(port));
    }

    #[test]
    fn closing_a_socket_the_call_still_uses_keeps_the_port() {
        let mut pool = SharedPool::new(38994, 38995);
        let port = pool.allocate(lo(), 2).unwrap();
        let rtp = pool.take(SocketAddr::new(lo(), port)).unwrap();
        let rtcp = pool.take(SocketAddr::new(lo(), port + 1)).unwrap();
        drop(rtcp);
        assert_eq!(pool.in_use(), 2, "not released by the call model");
        pool.release(lo(), port);
        pool.release(lo(), port + 1);
        drop(rtp);
        assert_eq!(pool.allocate(lo(), 2), Some(port));
    }

    #[test]
    fn a_held_port_whose_socket_closed_can_be_taken_again() {
        let mut pool = SharedPool::new(25400, 25401);
        let port = pool.allocate(lo(), 2).unwrap();
        let local = SocketAddr::new(lo(), port + 1);
        drop(pool.take(local).unwrap());
        let again = pool.take(local).expect("still the call's: bound anew");
        assert_eq!(again.local_addr().unwrap(), local);
        assert_eq!(pool.in_use(), 2);
        pool.release(lo(), port);
        pool.release(lo(), port + 1);
        drop(again);
        assert!(pool.take(local).is_none(), "released: not the call's");
    }

    #[test]
    fn a_single_port_binds_one_socket() {
        let mut pool = SharedPool::new(38986, 38989);
        let port = pool.allocate(lo(), 1).unwrap();
        assert_eq!(pool.in_use_on(lo()), 1);
        assert!(pool.take(SocketAddr::new(lo(), port)).is_some());
        assert!(
            pool.take(SocketAddr::new(lo(), port + 1)).is_none(),
            "no RTCP socket"
        );
        // The port after it stays free; the next search starts even.
        assert_eq!(pool.allocate(lo(), 1), Some(port + 2));
        assert_eq!(pool.allocate(lo(), 1), Some(port + 1), "then the odd ones");
    }
}
