//! Pure logic shared by the `xt_RTPENGINE` kernel module and `rtpengined`.
//!
//! This crate is `no_std`, allocation-free and float-free so that the very same files
//! compile into the kernel module (which includes them with `#[path]`) and into the
//! daemon (as an ordinary dependency), and are unit-tested on the host by `cargo test`.
//!
//! Rule for every file here: refer to sibling modules with `super::`, never `crate::`,
//! because in the kernel build these modules sit below the module's own crate root.
#![cfg_attr(not(any(test, rtpengine_kernel)), no_std)]

pub mod abi;
pub mod errno;
pub mod forward;
pub mod listing;
pub mod packet;
pub mod proc_cmd;
pub mod recording;
pub mod rewrite;
pub mod rtp;
pub mod srtp;
pub mod target;
pub mod validate;
