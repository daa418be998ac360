//! Thin tokio edges for control: transports, the handler they feed, timers.
pub mod handler;
pub mod timers;
pub mod transport;
