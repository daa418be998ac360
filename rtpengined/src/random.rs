//! The daemon's random numbers for the call model (ICE credentials and
//! foundations, SRTP master keys): ChaCha (rand's `StdRng`) seeded from the
//! operating system. `rtpengine-proto` draws them through `rand_core`'s traits
//! and has no source of its own.

use std::convert::Infallible;

use rand::rngs::{StdRng, SysError, SysRng};
use rand::SeedableRng;
use rand_core::{TryCryptoRng, TryRng};

pub struct DaemonRng(StdRng);

impl DaemonRng {
    /// A generator seeded from the operating system's random numbers.
    pub fn from_os() -> Result<DaemonRng, SysError> {
        StdRng::try_from_rng(&mut SysRng).map(DaemonRng)
    }
}

/// For `Registry::new`; the daemon itself uses `from_os` and reports a failure.
impl Default for DaemonRng {
    fn default() -> Self {
        DaemonRng::from_os().expect("the operating system gives no random numbers")
    }
}

impl TryRng for DaemonRng {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        self.0.try_next_u32()
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        self.0.try_next_u64()
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        self.0.try_fill_bytes(dst)
    }
}

impl TryCryptoRng for DaemonRng {}

#[cfg(test)]
mod tests {
    use rand_core::Rng;

    use super::*;

    #[test]
    fn seeded_apart() {
        let (mut a, mut b) = (DaemonRng::default(), DaemonRng::from_os().unwrap());
        let (mut x, mut y) = ([0u8; 32], [0u8; 32]);
        a.fill_bytes(&mut x);
        b.fill_bytes(&mut y);
        assert_ne!(x, y);
    }
}
