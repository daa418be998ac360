//! Thin tokio edges for control: transports, the handler they feed, timers.
pub mod call_store;
pub mod datagram;
pub mod handler;
pub mod ng_tcp;
pub mod rates;
pub mod redis_store;
pub mod redis_subscribe;
pub mod stats;
pub mod timers;
pub mod transport;
