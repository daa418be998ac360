//! The call model of `rtpengine-proto` with the daemon's random numbers filled
//! in: `crate::call::Registry<P>` is the registry the daemon runs.

pub use rtpengine_proto::call::*;

/// The daemon's registry: ports from `P`, random numbers from the OS-seeded
/// `DaemonRng`.
pub type Registry<P> = rtpengine_proto::call::Registry<P, crate::random::DaemonRng>;
