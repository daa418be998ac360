//! The ng control protocol: codec, framing, typed commands, reply cache.
pub mod bencode;
pub mod cache;
pub mod command;
pub mod flags;
pub mod message;
