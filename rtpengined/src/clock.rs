//! The daemon's clock. `rtpengine-proto` reads no clock: each event carries a
//! `Now` (monotonic and wall-clock time), and the daemon reads it here.

use std::ops::Deref;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// A `rtpengine_proto::call::Now` read from the system clocks. It derefs to
/// that type, so `&now` goes wherever the call model takes a `&Now`.
#[derive(Debug, Clone, Copy)]
pub struct Now(pub rtpengine_proto::call::Now);

impl Now {
    /// Both clocks, read once.
    pub fn system() -> Now {
        Now(rtpengine_proto::call::Now {
            mono: Instant::now(),
            // A clock set before 1970 reads as the epoch.
            unix: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default(),
        })
    }
}

impl Deref for Now {
    type Target = rtpengine_proto::call::Now;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}
