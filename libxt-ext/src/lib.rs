// The library file must be named libxt_RTPENGINE.so for iptables to find it.
#![allow(non_snake_case)]

//! `libxt_RTPENGINE.so`: the iptables/ip6tables extension for `-j RTPENGINE --id <n>`,
//! for Debian 12's iptables 1.8.9 (libxtables.so.12), legacy and nft front ends.
//!
//! It registers target RTPENGINE, revision 0, for IPv4 and IPv6, whose rule data is the
//! kernel module's `{ u32 id }` (8 bytes after alignment). `--id` is mandatory and must
//! name an existing table number (0..63); `-L` shows ` RTPENGINE id:<n>`, `-S` and
//! `iptables-save` show ` --id <n>`.

pub mod table_id_option;
pub mod target_callbacks;
pub mod target_data;
pub mod target_registration;
pub mod xtables_abi;
