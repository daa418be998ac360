// SPDX-License-Identifier: GPL-2.0

//! SRTP in the module: the kernel crypto back end of `rtpengine_core::srtp`, and the
//! per-direction state a target or output keeps.

pub(crate) mod crypto;
pub(crate) mod state;
