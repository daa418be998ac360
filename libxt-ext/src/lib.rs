//! `libxt_RTPENGINE.so`: the iptables/ip6tables extension for `-j RTPENGINE --id <n>`,
//! for Debian 12's iptables 1.8.9 (libxtables.so.12), legacy and nft front ends.
//!
//! It registers target RTPENGINE, revision 0, for IPv4 and IPv6, whose rule data is the
//! kernel module's `{ u32 id }` (8 bytes after alignment). `--id` is mandatory and must
//! name an existing table number (0..63); `-L` shows ` RTPENGINE id:<n>`, `-S` and
//! `iptables-save` show ` --id <n>`.
//!
//! Layout: `xtables_abi` (the C structs), `table_id_option` (pure parsing and texts),
//! `target_data` (the rule's bytes), `target_callbacks` (the C entry points),
//! `target_registration` (the load-time constructor).

// iptables looks for a file named libxt_RTPENGINE.so, hence the crate name.
#![allow(non_snake_case)]

pub mod table_id_option;
pub mod target_callbacks;
pub mod target_data;
pub mod target_registration;
pub mod xtables_abi;
