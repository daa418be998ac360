//! SRTP packet index (ROC || SEQ) estimation per SSRC slot, RFC 3711 §3.3.1 and
//! Appendix A, with 10.5's treatment of a zero `last_index` as "nothing seen yet", plus
//! the replay window. The state mirrors `abi::Srtp::last_index`.

use super::super::abi::MAX_SSRC;
use super::replay::{ReplayCheck, ReplayWindow};

/// Packet indices are 48 bits: 32-bit ROC, 16-bit sequence number.
pub const INDEX_MASK: u64 = 0xffff_ffff_ffff;

/// Rollover counter of an index.
pub fn roc_of(index: u64) -> u32 {
    ((index & INDEX_MASK) >> 16) as u32
}

/// The index a packet with sequence number `seq` most likely has, given the highest
/// index `last` accepted so far (0 = none yet: the packet starts at ROC 0).
///
/// Appendix A: with `s_l` the last sequence number, a `seq` more than 2^15 below `s_l`
/// belongs to the next ROC, more than 2^15 above to the previous one (never below 0,
/// as in 10.5).
pub fn estimate(last: u64, seq: u16) -> u64 {
    if last == 0 {
        return u64::from(seq);
    }
    let s_l = (last & 0xffff) as u16;
    let roc = roc_of(last);
    let v = if s_l < 0x8000 {
        if seq > s_l && seq - s_l > 0x8000 && roc > 0 {
            roc - 1
        } else {
            roc
        }
    } else if s_l - 0x8000 > seq {
        roc.wrapping_add(1)
    } else {
        roc
    };
    (u64::from(v) << 16) | u64::from(seq)
}

/// Index and replay state of one direction (decrypt of a target or encrypt of an output),
/// one slot per tracked SSRC. Kept apart from the keyed context so a caller can lock just
/// this.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IndexState {
    last_index: [u64; MAX_SSRC],
    windows: [ReplayWindow; MAX_SSRC],
}

impl IndexState {
    /// State seeded from `abi::Srtp::last_index` (what the daemon hands over).
    pub fn new(last_index: &[u64; MAX_SSRC]) -> Self {
        let mut state = IndexState::default();
        for (slot, &index) in last_index.iter().enumerate() {
            state.set_last_index(slot, index);
        }
        state
    }

    /// The live `last_index` values, for blist.
    pub fn last_index(&self) -> [u64; MAX_SSRC] {
        self.last_index
    }

    /// Highest index of a slot (0 for a bad slot or nothing seen).
    pub fn last(&self, slot: usize) -> u64 {
        self.last_index.get(slot).copied().unwrap_or(0)
    }

    /// Resets a slot to `index` (0 = nothing seen); the window then holds only `index`.
    pub fn set_last_index(&mut self, slot: usize, index: u64) {
        if let (Some(last), Some(window)) =
            (self.last_index.get_mut(slot), self.windows.get_mut(slot))
        {
            *last = index & INDEX_MASK;
            *window = if *last == 0 {
                ReplayWindow::EMPTY
            } else {
                ReplayWindow::holding_top()
            };
        }
    }

    /// Estimated index of a packet with `seq` in `slot` (see [`estimate`]).
    pub fn estimate(&self, slot: usize, seq: u16) -> u64 {
        estimate(self.last(slot), seq)
    }

    /// Whether `index` would be new in `slot`.
    pub fn check(&self, slot: usize, index: u64) -> ReplayCheck {
        match self.windows.get(slot) {
            Some(w) if self.last(slot) != 0 || !w.is_empty() => w.check(self.last(slot), index),
            _ => ReplayCheck::New,
        }
    }

    /// Records `index` as received (after authentication) in `slot`.
    pub fn accept(&mut self, slot: usize, index: u64) {
        let index = index & INDEX_MASK;
        if let (Some(last), Some(window)) =
            (self.last_index.get_mut(slot), self.windows.get_mut(slot))
        {
            if *last == 0 && window.is_empty() {
                *last = index;
                *window = ReplayWindow::holding_top();
            } else {
                *last = window.accept(*last, index);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimate_follows_appendix_a() {
        assert_eq!(estimate(0, 1234), 1234);
        assert_eq!(estimate(100, 101), 101);
        assert_eq!(estimate(100, 99), 99);
        // Wrap forwards: last seq near the top, new seq small.
        assert_eq!(estimate(0xfff0, 5), 0x1_0005);
        assert_eq!(estimate(0x3_fff0, 0x10), 0x4_0010);
        // A reordered packet from before the wrap keeps the old ROC.
        assert_eq!(estimate(0x1_0005, 0xfff0), 0xfff0);
        // ... but never below ROC 0.
        assert_eq!(estimate(0x0005, 0xfff0), 0xfff0);
        // Half a cycle is the limit on both sides.
        assert_eq!(estimate(0x1_0000 + 0x9000, 0x1000), 0x1_1000);
        assert_eq!(estimate(0x1_0000 + 0x9000, 0x0fff), 0x2_0fff);
        assert_eq!(estimate(0x1_0000 + 0x1000, 0x9000), 0x1_9000);
        assert_eq!(estimate(0x1_0000 + 0x1000, 0x9001), 0x9001);
    }

    #[test]
    fn extremes_do_not_overflow() {
        assert_eq!(estimate(INDEX_MASK, 0), 0); // ROC wraps modulo 2^32
        assert_eq!(estimate(u64::MAX, 0xffff), INDEX_MASK);
    }

    #[test]
    fn state_tracks_slots_independently() {
        let mut st = IndexState::new(&[0, 0x5_0010, 0, 0]);
        assert_eq!(st.estimate(0, 7), 7);
        assert_eq!(st.estimate(1, 0x11), 0x5_0011);
        st.accept(0, 7);
        st.accept(1, 0x5_0011);
        assert_eq!(st.last_index(), [7, 0x5_0011, 0, 0]);
        assert_eq!(
            st.check(1, 0x5_0010),
            ReplayCheck::Replayed,
            "seeded index counts as seen"
        );
        assert_eq!(st.check(1, 0x5_000f), ReplayCheck::New);
        assert_eq!(st.check(2, 0), ReplayCheck::New);
        // Bad slots are ignored, not a panic.
        st.accept(9, 1);
        st.set_last_index(9, 1);
        assert_eq!(st.last(9), 0);
        assert_eq!(st.check(9, 1), ReplayCheck::New);
    }
}
