// SPDX-License-Identifier: GPL-2.0

//! The packet path: the x_tables target, forwarding, and socket buffers.

pub(crate) mod error;
pub(crate) mod forward;
pub(crate) mod skb;
pub(crate) mod xt;
