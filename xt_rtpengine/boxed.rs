// SPDX-License-Identifier: GPL-2.0

//! Heap copies of large ABI structs (a blist record is 15872 bytes) created zeroed in
//! place, never on the small kernel stack.

use crate::rtpengine_core::abi::Pod;
use kernel::prelude::*;

/// A zeroed `T` on the heap.
pub(crate) fn zeroed<T: Pod>() -> Result<KBox<T>> {
    let mut b = KBox::<T>::new_uninit(GFP_KERNEL)?;
    // SAFETY: `b` points at memory for one `T`; all-zero bytes are a valid `T` (`Pod`).
    unsafe {
        core::ptr::write_bytes(b.as_mut_ptr(), 0, 1);
        Ok(b.assume_init())
    }
}
