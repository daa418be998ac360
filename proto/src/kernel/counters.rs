//! Kernel counters folded into a stream's statistics: `blist` reports totals per
//! target since it was added; we add only what changed since the last read.

use rtpengine_core::abi::{Stats, StatsInfo};

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

/// One SSRC's share of a GET_RESET_STATS answer: what the kernel counted for it
/// since the previous reset (packets, bytes, lost) and where it is now.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SsrcCounts {
    /// Host order.
    pub ssrc: u32,
    pub packets: u64,
    pub bytes: u64,
    pub lost: u32,
    /// Highest extended sequence number (ROC << 16 | seq) and RTP timestamp seen.
    pub ext_seq: u32,
    pub timestamp: u32,
    /// Interarrival jitter in timestamp units (RFC 3550 §6.4.1).
    pub jitter: u32,
}

/// The per-SSRC deltas in a GET_RESET_STATS answer, read as rtpengine 10.5's
/// `__stream_update_stats` does: slots in order up to the first empty one, and a
/// slot without new packets is no change. Needs a target with `track_ssrc` (the
/// slots) and `rtp_stats` (the module counts per SSRC only then).
pub fn ssrc_counts(info: &StatsInfo) -> Vec<SsrcCounts> {
    info.ssrc
        .iter()
        .zip(info.ssrc_stats.iter())
        .take_while(|(ssrc, _)| **ssrc != 0)
        .filter(|(_, s)| s.packets != 0)
        .map(|(ssrc, s)| SsrcCounts {
            ssrc: u32::from_be(*ssrc),
            packets: s.packets,
            bytes: s.bytes,
            lost: s.total_lost,
            ext_seq: s.ext_seq,
            timestamp: s.timestamp,
            jitter: s.jitter,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rtpengine_core::abi::{Pod, SsrcStats};

    #[test]
    fn per_ssrc_deltas_from_get_reset_stats() {
        let mut info = StatsInfo::zeroed();
        info.ssrc = [
            0xaaaa_0001u32.to_be(),
            0xbbbb_0002u32.to_be(),
            0,
            0xcccc_0003u32.to_be(),
        ];
        info.ssrc_stats[0] = SsrcStats {
            packets: 50,
            bytes: 8600,
            total_lost: 2,
            ext_seq: 0x1_0005,
            timestamp: 8000,
            jitter: 3,
            ..SsrcStats::default()
        };
        // Slot 1 saw nothing since the last reset; slot 3 is past the first empty slot.
        info.ssrc_stats[3].packets = 9;
        let c = ssrc_counts(&info);
        assert_eq!(
            c,
            [SsrcCounts {
                ssrc: 0xaaaa_0001,
                packets: 50,
                bytes: 8600,
                lost: 2,
                ext_seq: 0x1_0005,
                timestamp: 8000,
                jitter: 3,
            }]
        );
        info.ssrc_stats[1].packets = 1;
        assert_eq!(
            ssrc_counts(&info)
                .iter()
                .map(|c| c.ssrc)
                .collect::<Vec<_>>(),
            [0xaaaa_0001, 0xbbbb_0002]
        );
        assert!(ssrc_counts(&StatsInfo::zeroed()).is_empty());
    }

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
