//! Transaction ids and timer jitter without a random source of our own: a
//! keyed HMAC-SHA1 over a counter, keyed with a seed the embedder drew from
//! its generator. Ids stay unguessable to anyone who does not know the seed
//! (RFC 7675 section 5.1 wants that of consent checks).

use hmac::{Hmac, Mac};
use sha1::Sha1;

pub(super) struct Ids {
    seed: [u8; 32],
    counter: u64,
}

impl Ids {
    pub(super) fn new(seed: [u8; 32]) -> Ids {
        Ids { seed, counter: 0 }
    }

    fn next_block(&mut self) -> [u8; 20] {
        self.counter += 1;
        // HMAC accepts keys of any length, so this cannot fail.
        let mut mac = Hmac::<Sha1>::new_from_slice(&self.seed).expect("any key length");
        mac.update(&self.counter.to_be_bytes());
        mac.finalize().into_bytes().into()
    }

    /// A fresh 96-bit STUN transaction id.
    pub(super) fn transaction(&mut self) -> [u8; 12] {
        let mut id = [0; 12];
        id.copy_from_slice(&self.next_block()[..12]);
        id
    }

    /// A number in `0..=max`.
    pub(super) fn below_or_at(&mut self, max: u32) -> u32 {
        let b = self.next_block();
        let x = u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
        (u64::from(x) % (u64::from(max) + 1)) as u32
    }
}
