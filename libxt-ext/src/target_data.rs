//! The target's own data in a rule, `struct { u32 id; }` padded to 8 bytes, shared with
//! the kernel module's `xt_rtpengine_info`.

use core::ffi::c_void;

use crate::xtables_abi::{XtEntryTarget, XT_ENTRY_TARGET_DATA_OFFSET};

/// Bytes of data the kernel compares (`struct { u32 id; }`).
pub const TARGET_INFO_SIZE: usize = 4;
/// `XT_ALIGN(TARGET_INFO_SIZE)`: the size both `size` and `userspacesize` declare.
pub const TARGET_INFO_ALIGNED_SIZE: usize = (TARGET_INFO_SIZE + 7) & !7;

const _: () = assert!(TARGET_INFO_ALIGNED_SIZE == 8);

/// Stores the table id at the start of the target data.
///
/// # Safety
/// `data` must be valid for writing `TARGET_INFO_SIZE` bytes.
pub unsafe fn write_table_id(data: *mut c_void, id: u32) {
    if data.is_null() {
        return;
    }
    // SAFETY: valid for 4 bytes (contract above); unaligned write needs no alignment.
    unsafe { data.cast::<u32>().write_unaligned(id) };
}

/// Reads the table id out of a rule's target.
///
/// # Safety
/// `target` must point to an `xt_entry_target` followed by at least our 4 data bytes.
pub unsafe fn read_table_id(target: *const XtEntryTarget) -> u32 {
    if target.is_null() {
        return 0;
    }
    // SAFETY: the data follows the 32-byte header (contract above).
    unsafe {
        target
            .cast::<u8>()
            .add(XT_ENTRY_TARGET_DATA_OFFSET)
            .cast::<u32>()
            .read_unaligned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_round_trips_through_an_entry_target() {
        // 32-byte header plus 8 bytes of data, as iptables allocates it.
        let mut entry = [0u64; 5];
        let data = entry
            .as_mut_ptr()
            .cast::<u8>()
            .wrapping_add(XT_ENTRY_TARGET_DATA_OFFSET);
        // SAFETY: `data` lies 32 bytes into a 40-byte buffer.
        unsafe { write_table_id(data.cast(), 42) };
        assert_eq!(entry[4].to_ne_bytes()[..4], 42u32.to_ne_bytes());
        // SAFETY: the buffer holds a header and 8 data bytes.
        assert_eq!(unsafe { read_table_id(entry.as_ptr().cast()) }, 42);
    }
}
