// SPDX-License-Identifier: GPL-2.0

//! The forwarding tables and the targets in each.

pub(crate) mod recording;
pub(crate) mod registry;
pub(crate) mod targets;

pub(crate) use registry::{registry, Registry, Table, NUM_TABLES};
