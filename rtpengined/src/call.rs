//! The call model of `rtpengine-proto` with the daemon's clock and random
//! numbers filled in: `crate::call::Registry<P>` is the registry the daemon
//! runs, `crate::call::Now::system()` reads the time of an event.

pub use rtpengine_proto::call::*;

pub use crate::clock::Now;

/// The daemon's registry: ports from `P`, random numbers from the OS-seeded
/// `DaemonRng`.
pub type Registry<P> = rtpengine_proto::call::Registry<P, crate::random::DaemonRng>;
