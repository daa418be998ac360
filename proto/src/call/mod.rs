//! The sans-IO call model: signalling in, reply fields and effects out.

pub mod codecs;
pub mod control;
pub mod delete;
pub mod dtls;
pub mod effect;
pub mod error;
pub mod foreign;
pub mod interface;
pub mod janus;
pub mod media_status;
pub mod model;
pub mod persist;
mod plan;
pub mod ports;
pub mod protocol;
pub mod pubsub;
pub mod query;
pub mod redis_json;
pub mod registry;
mod token;
pub mod totals;

pub use control::{Party, Switch};
pub use delete::{Deleted, Expiry};
pub use dtls::DtlsSettings;
pub use effect::{
    DtlsParams, Effect, IceCredentials, KernelHints, Learning, LearningMode, MediaControl, NoStats,
    PeerFingerprint, RemoteCandidate, SrtpState, SsrcIndex, StatsSource, StreamConfig, StreamId,
    StreamStats,
};
pub use error::CallError;
pub use interface::Interface;
pub use model::Now;
pub use pubsub::Subscribed;
pub use registry::{Outcome, Registry, Settings};
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_delete;
#[cfg(test)]
mod tests_dtls;
#[cfg(test)]
mod tests_family;
#[cfg(test)]
mod tests_foreign;
#[cfg(test)]
mod tests_ice;
#[cfg(test)]
mod tests_ice_restart;
#[cfg(test)]
mod tests_passthru;
#[cfg(test)]
mod tests_port_count;
#[cfg(test)]
mod tests_protocol;
#[cfg(test)]
mod tests_pubsub;
#[cfg(test)]
mod tests_query;
#[cfg(test)]
mod tests_recording;
#[cfg(test)]
mod tests_timeout;
