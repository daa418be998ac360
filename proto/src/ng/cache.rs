//! Reply cache keyed by cookie: a retransmitted request gets the same reply without
//! being executed again.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

/// How long a reply is kept: Kamailio retransmits up to 5 times, 1 s apart.
pub const REPLY_TTL: Duration = Duration::from_secs(30);

#[derive(Default)]
pub struct ReplyCache {
    replies: HashMap<Vec<u8>, (Instant, Vec<u8>)>,
    order: VecDeque<(Instant, Vec<u8>)>,
}

impl ReplyCache {
    pub fn get(&self, cookie: &[u8]) -> Option<&[u8]> {
        self.replies.get(cookie).map(|(_, r)| r.as_slice())
    }

    pub fn insert(&mut self, now: Instant, cookie: &[u8], reply: Vec<u8>) {
        self.expire(now);
        self.replies.insert(cookie.to_vec(), (now, reply));
        self.order.push_back((now, cookie.to_vec()));
    }

    /// Drop replies older than the TTL (oldest first, cheap per insert).
    pub fn expire(&mut self, now: Instant) {
        while let Some((t, _)) = self.order.front() {
            if now.duration_since(*t) < REPLY_TTL {
                break;
            }
            let (t, cookie) = self.order.pop_front().expect("front exists");
            // Only remove if not refreshed by a later insert with the same cookie.
            if self.replies.get(&cookie).is_some_and(|(ti, _)| *ti == t) {
                self.replies.remove(&cookie);
            }
        }
    }

    pub fn len(&self) -> usize {
        self.replies.len()
    }

    pub fn is_empty(&self) -> bool {
        self.replies.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caches_and_expires() {
        let t0 = Instant::now();
        let mut c = ReplyCache::default();
        c.insert(t0, b"a", b"r1".to_vec());
        assert_eq!(c.get(b"a"), Some(&b"r1"[..]));
        assert_eq!(c.get(b"b"), None);
        c.insert(t0 + REPLY_TTL, b"b", b"r2".to_vec());
        assert_eq!(c.get(b"a"), None);
        assert_eq!(c.get(b"b"), Some(&b"r2"[..]));
        assert_eq!(c.len(), 1);
    }
}
