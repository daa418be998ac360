//! Per-target lookups done for every packet: the SSRC slot and the payload-type entry.

use super::super::abi::{TargetInfo, MAX_PAYLOAD_TYPES, MAX_SSRC};

/// Index of `ssrc_raw` (as [`super::RtpHeader::ssrc_raw`] returns it) in a target's SSRC
/// list. As in 10.5 every slot is compared, including unused (zero) slots.
pub fn ssrc_slot(ssrcs: &[u32; MAX_SSRC], ssrc_raw: u32) -> Option<usize> {
    ssrcs.iter().position(|&s| s == ssrc_raw)
}

/// Index of payload type `pt` (7 bits) in the target's sorted `payload_types`, or `None`
/// when unknown. `hint` is the index found for the previous packet (10.5 checks it first,
/// since a stream rarely changes payload type). A `num_payload_types` beyond the array
/// is clamped.
pub fn payload_type_index(target: &TargetInfo, pt: u8, hint: Option<usize>) -> Option<usize> {
    let count = usize::try_from(target.num_payload_types)
        .map_or(MAX_PAYLOAD_TYPES, |n| n.min(MAX_PAYLOAD_TYPES));
    let known = target.payload_types.get(..count)?;
    let pt = pt & 0x7f;
    if let Some(i) = hint {
        if known.get(i).is_some_and(|e| e.pt == pt) {
            return Some(i);
        }
    }
    known.binary_search_by(|e| e.pt.cmp(&pt)).ok()
}

#[cfg(test)]
mod tests {
    use super::super::super::abi::Pod;
    use super::*;

    fn target(pts: &[u8]) -> TargetInfo {
        let mut t = TargetInfo::zeroed();
        for (slot, &pt) in t.payload_types.iter_mut().zip(pts) {
            slot.pt = pt;
        }
        t.num_payload_types = pts.len() as u32;
        t
    }

    #[test]
    fn finds_known_payload_types() {
        let t = target(&[0, 8, 101, 111]);
        assert_eq!(payload_type_index(&t, 0, None), Some(0));
        assert_eq!(payload_type_index(&t, 101, None), Some(2));
        assert_eq!(payload_type_index(&t, 111, Some(1)), Some(3));
        assert_eq!(payload_type_index(&t, 8, Some(1)), Some(1));
        assert_eq!(payload_type_index(&t, 9, None), None);
        // The marker bit is not part of the payload type.
        assert_eq!(payload_type_index(&t, 0x80 | 8, None), Some(1));
    }

    #[test]
    fn bad_counts_and_hints_are_harmless() {
        let mut t = target(&[0, 8]);
        assert_eq!(payload_type_index(&t, 8, Some(999)), Some(1));
        t.num_payload_types = u32::MAX;
        // Clamped to the 32 entries (an unsorted list then gives some answer, never a panic).
        assert!(payload_type_index(&t, 8, None).is_none_or(|i| i < MAX_PAYLOAD_TYPES));
        t.num_payload_types = 0;
        assert_eq!(payload_type_index(&t, 0, Some(0)), None);
    }

    #[test]
    fn ssrc_slots() {
        let list = [0x1111_1111u32.to_be(), 0x2222_2222u32.to_be(), 0, 0];
        assert_eq!(ssrc_slot(&list, 0x2222_2222u32.to_be()), Some(1));
        assert_eq!(ssrc_slot(&list, 0x3333_3333u32.to_be()), None);
        assert_eq!(
            ssrc_slot(&list, 0),
            Some(2),
            "unused slots match SSRC 0 as in 10.5"
        );
    }
}
