//! Reserving port pairs by binding real sockets, shared between the call model
//! (which decides) and the relay (which takes the sockets over).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::sync::{Arc, Mutex};

use crate::call::ports::{PortAllocator, RangeCursor};

pub struct SocketPool {
    cursor: RangeCursor,
    /// Bound sockets not yet taken by the relay.
    bound: HashMap<SocketAddr, UdpSocket>,
}

/// The pool as the call model sees it (cheap to clone, locks internally).
#[derive(Clone)]
pub struct SharedPool(pub Arc<Mutex<SocketPool>>);

impl SharedPool {
    pub fn new(min: u16, max: u16) -> SharedPool {
        SharedPool(Arc::new(Mutex::new(SocketPool {
            cursor: RangeCursor::new(min, max),
            bound: HashMap::new(),
        })))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, SocketPool> {
        // A panic while holding the lock cannot leave the maps inconsistent in a way
        // that matters more than stopping the daemon would.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Hand a reserved socket to the relay.
    pub fn take(&self, local: SocketAddr) -> Option<UdpSocket> {
        self.lock().bound.remove(&local)
    }

    pub fn in_use(&self) -> usize {
        self.lock().cursor.in_use()
    }

    /// Port pairs in use on `ip`.
    pub fn in_use_on(&self, ip: IpAddr) -> usize {
        self.lock().cursor.in_use_on(ip)
    }

    /// The configured port range (lowest even port, highest port).
    pub fn bounds(&self) -> (u16, u16) {
        self.lock().cursor.bounds()
    }
}

impl PortAllocator for SharedPool {
    fn allocate(&mut self, ip: IpAddr) -> Option<u16> {
        let mut pool = self.lock();
        let mut pair = None;
        let port = pool.cursor.allocate_with(ip, |p| {
            let rtp = UdpSocket::bind(SocketAddr::new(ip, p));
            let rtcp = UdpSocket::bind(SocketAddr::new(ip, p + 1));
            match (rtp, rtcp) {
                (Ok(a), Ok(b)) => {
                    pair = Some((a, b));
                    true
                }
                _ => false,
            }
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
        let mut guard = self.lock();
        let pool = &mut *guard;
        let mut pair = None;
        let ok = pool.cursor.reserve_with(ip, rtp_port, || {
            let rtp = UdpSocket::bind(SocketAddr::new(ip, rtp_port));
            let rtcp = UdpSocket::bind(SocketAddr::new(ip, rtcp_port));
            match (rtp, rtcp) {
                (Ok(a), Ok(b)) => {
                    pair = Some((a, b));
                    true
                }
                _ => false,
            }
        });
        if let Some((a, b)) = pair {
            pool.bound.insert(SocketAddr::new(ip, rtp_port), a);
            pool.bound.insert(SocketAddr::new(ip, rtcp_port), b);
        }
        ok
    }

    fn release(&mut self, ip: IpAddr, rtp_port: u16) {
        let mut pool = self.lock();
        pool.cursor.release(ip, rtp_port);
        pool.bound.remove(&SocketAddr::new(ip, rtp_port));
        pool.bound.remove(&SocketAddr::new(ip, rtp_port + 1));
    }
}
