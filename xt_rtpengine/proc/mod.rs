// SPDX-License-Identifier: GPL-2.0

//! /proc/rtpengine: the generic procfs adapter, directories, and the files a daemon
//! drives the module through.

pub(crate) mod adapter;
pub(crate) mod control;
pub(crate) mod dir;
pub(crate) mod listing;
pub(crate) mod ops;
pub(crate) mod root;
pub(crate) mod status;
pub(crate) mod stream;
pub(crate) mod tree;
