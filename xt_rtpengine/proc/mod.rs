// SPDX-License-Identifier: GPL-2.0

//! /proc/rtpengine: directories, and the files a daemon drives the module through.

pub(crate) mod control;
pub(crate) mod dir;
pub(crate) mod files;
