//! Replay protection (RFC 3711 §3.3.2): a 128-packet sliding window below the highest
//! accepted index, as an integer bitmask (two u64 words, no u128 in the kernel build).

/// Packets tracked below the highest accepted index (that one included).
pub const REPLAY_WINDOW: u64 = 128;

/// Outcome of a replay check.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ReplayCheck {
    New,
    /// Already received.
    Replayed,
    /// Older than the window: cannot tell, so refused.
    TooOld,
}

/// Bit k set = index `top - k` was received. `top` itself is kept by the caller
/// ([`super::index::IndexState`] stores it as `last_index`).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct ReplayWindow {
    bits: [u64; 2],
}

impl ReplayWindow {
    pub const EMPTY: ReplayWindow = ReplayWindow { bits: [0, 0] };

    /// A window in which only the top index has been received.
    pub fn holding_top() -> Self {
        ReplayWindow { bits: [1, 0] }
    }

    pub fn is_empty(&self) -> bool {
        self.bits == [0, 0]
    }

    pub fn check(&self, top: u64, index: u64) -> ReplayCheck {
        if index > top {
            return ReplayCheck::New;
        }
        let behind = top - index;
        if behind >= REPLAY_WINDOW {
            ReplayCheck::TooOld
        } else if self.bit(behind) {
            ReplayCheck::Replayed
        } else {
            ReplayCheck::New
        }
    }

    /// Marks `index` received; returns the new top.
    pub fn accept(&mut self, top: u64, index: u64) -> u64 {
        if index > top {
            self.shift(index - top);
            self.set(0);
            index
        } else {
            let behind = top - index;
            if behind < REPLAY_WINDOW {
                self.set(behind);
            }
            top
        }
    }

    fn bit(&self, k: u64) -> bool {
        let word = if k < 64 { self.bits[0] } else { self.bits[1] };
        (word >> (k % 64)) & 1 == 1
    }

    fn set(&mut self, k: u64) {
        if k < 64 {
            self.bits[0] |= 1 << k;
        } else if k < REPLAY_WINDOW {
            self.bits[1] |= 1 << (k - 64);
        }
    }

    fn shift(&mut self, by: u64) {
        let [low, high] = self.bits;
        self.bits = if by >= REPLAY_WINDOW {
            [0, 0]
        } else if by >= 64 {
            [0, low << (by - 64)]
        } else if by == 0 {
            [low, high]
        } else {
            [low << by, (high << by) | (low >> (64 - by))]
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept_all(indices: &[u64]) -> (ReplayWindow, u64) {
        let mut w = ReplayWindow::holding_top();
        let mut top = indices[0];
        for &i in &indices[1..] {
            top = w.accept(top, i);
        }
        (w, top)
    }

    #[test]
    fn duplicates_are_caught_inside_the_window() {
        let (w, top) = accept_all(&[1000, 1001, 1003, 1002, 1100]);
        assert_eq!(top, 1100);
        for i in [1000, 1001, 1002, 1003, 1100] {
            assert_eq!(w.check(top, i), ReplayCheck::Replayed, "{i}");
        }
        for i in [1004, 1050, 1099, 1101, 5000] {
            assert_eq!(w.check(top, i), ReplayCheck::New, "{i}");
        }
        assert_eq!(w.check(top, 1100 - 128), ReplayCheck::TooOld);
        assert_eq!(w.check(top, 1100 - 127), ReplayCheck::New);
    }

    #[test]
    fn bits_cross_the_word_boundary() {
        let (w, top) = accept_all(&[10, 11, 75, 137]);
        // 137-75 = 62, 137-11 = 126, 137-10 = 127.
        assert_eq!(w.check(top, 75), ReplayCheck::Replayed);
        assert_eq!(w.check(top, 11), ReplayCheck::Replayed);
        assert_eq!(w.check(top, 10), ReplayCheck::Replayed);
        assert_eq!(w.check(top, 12), ReplayCheck::New);
        let mut w2 = w;
        let top2 = w2.accept(top, 138);
        assert_eq!(w2.check(top2, 10), ReplayCheck::TooOld);
        assert_eq!(w2.check(top2, 11), ReplayCheck::Replayed);
    }

    #[test]
    fn big_jump_clears_the_window() {
        let (mut w, top) = accept_all(&[5, 6, 7]);
        let top = w.accept(top, 1_000_000);
        assert_eq!(w.check(top, 7), ReplayCheck::TooOld);
        assert_eq!(w.check(top, 999_999), ReplayCheck::New);
        assert_eq!(w.check(top, 1_000_000), ReplayCheck::Replayed);
    }
}
