//! Kernel counters folded into a stream's statistics: `blist` reports totals per
//! target since it was added; we add only what changed since the last read.

use rtpengine_core::abi::Stats;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub packets: u64,
    pub bytes: u64,
    pub errors: u64,
}

/// The last totals seen for one installed target.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Baseline(Counts);

impl Baseline {
    /// Adopted targets start from what they have already counted: those packets
    /// were counted by the daemon that installed them (or are lost with it).
    pub fn at(s: &Stats) -> Baseline {
        Baseline(Counts {
            packets: s.packets,
            bytes: s.bytes,
            errors: s.errors,
        })
    }

    /// What the target counted since the previous call.
    pub fn advance(&mut self, s: &Stats) -> Counts {
        // Totals only grow while a target exists; a smaller value means the target
        // was replaced behind our back, so everything it shows is new.
        let step = |old: u64, new: u64| if new >= old { new - old } else { new };
        let d = Counts {
            packets: step(self.0.packets, s.packets),
            bytes: step(self.0.bytes, s.bytes),
            errors: step(self.0.errors, s.errors),
        };
        self.0 = Counts {
            packets: s.packets,
            bytes: s.bytes,
            errors: s.errors,
        };
        d
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(p: u64, b: u64, e: u64) -> Stats {
        Stats {
            packets: p,
            bytes: b,
            errors: e,
            ..Stats::default()
        }
    }

    #[test]
    fn deltas_between_reads() {
        let mut b = Baseline::default();
        assert_eq!(
            b.advance(&stats(10, 1720, 1)),
            Counts {
                packets: 10,
                bytes: 1720,
                errors: 1
            }
        );
        assert_eq!(b.advance(&stats(10, 1720, 1)), Counts::default());
        assert_eq!(
            b.advance(&stats(15, 2580, 1)),
            Counts {
                packets: 5,
                bytes: 860,
                errors: 0
            }
        );
        // Replaced target: counts restart.
        assert_eq!(b.advance(&stats(2, 344, 0)).packets, 2);
        let mut adopted = Baseline::at(&stats(100, 17200, 0));
        assert_eq!(adopted.advance(&stats(101, 17372, 0)).packets, 1);
    }
}
