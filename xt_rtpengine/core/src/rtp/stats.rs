//! Per-SSRC receive statistics in integer math: extended sequence number and loss
//! (RFC 3550 A.1, with 10.5's 32-packet loss bitmap) and interarrival jitter (A.8),
//! kept in `abi::SsrcStats` so GET_STATS can return them unchanged.

use super::super::abi::SsrcStats;

/// Sequence jumps larger than this (forwards) restart sequence tracking, as in 10.5.
const MAX_SEQ_JUMP: u16 = 0x100;
/// Sequence numbers this far behind (or more) count as old or duplicate: ignored.
const OLD_SEQ: u16 = 0xfeff;
/// Packets covered by `lost_bits`.
const LOSS_WINDOW: u32 = u32::BITS;

/// One received packet, as the statistics need it.
#[derive(Clone, Copy, Debug)]
pub struct StatsSample {
    pub seq: u16,
    pub timestamp: u32,
    /// Payload bytes after SRTP decryption.
    pub payload_len: u32,
    /// Arrival time in microseconds (any fixed epoch; the kernel passes skb->tstamp).
    pub arrival_us: i64,
    /// RTP clock rate of the packet's payload type (Hz).
    pub clock_rate: u32,
}

/// Accounts one packet of an SSRC.
///
/// Fields of [`SsrcStats`]: `ext_seq` highest extended sequence number; `lost_bits` bit
/// k set = packet `ext_seq - k` arrived; `total_lost` packets that left the 32-packet
/// window without arriving; `transit` last relative transit time (timestamp units);
/// `jitter` RFC 3550 jitter scaled by 16 (report `jitter >> 4`).
///
/// Differences from 10.5, both deliberate: the very first packet starts tracking (10.5
/// treats the zeroed `ext_seq` as a previous packet and may count phantom losses), and
/// the arrival time in timestamp units is computed in 64 bits before truncation (10.5
/// truncates first, which makes jitter jump every 2^32 / clock_rate milliseconds).
pub fn record_packet(s: &mut SsrcStats, p: &StatsSample) {
    let first = s.packets == 0;
    s.packets = s.packets.wrapping_add(1);
    s.bytes = s.bytes.wrapping_add(u64::from(p.payload_len));
    s.timestamp = p.timestamp;

    track_sequence(s, p.seq, first);
    track_jitter(s, p);
}

fn track_sequence(s: &mut SsrcStats, seq: u16, first: bool) {
    let last = s.ext_seq;
    let ahead = seq.wrapping_sub(last as u16);
    if first || (ahead > MAX_SEQ_JUMP && ahead < OLD_SEQ) {
        // Start (or restart after a jump): nothing before this packet counts as lost.
        s.ext_seq = u32::from(seq);
        s.lost_bits = u32::MAX;
    } else if ahead != 0 && ahead < OLD_SEQ {
        // In order, possibly after a gap: shift the window, counting the holes that leave it.
        s.ext_seq = last.wrapping_add(u32::from(ahead));
        let shift = u32::from(ahead);
        if shift >= LOSS_WINDOW {
            s.total_lost = s.total_lost.wrapping_add(s.lost_bits.count_zeros());
            s.total_lost = s.total_lost.wrapping_add(shift.saturating_sub(LOSS_WINDOW));
            s.lost_bits = 0;
        } else {
            let leaving = s.lost_bits >> (LOSS_WINDOW - shift);
            s.total_lost = s
                .total_lost
                .wrapping_add(shift.saturating_sub(leaving.count_ones()));
            s.lost_bits <<= shift;
        }
    }
    // Mark this packet as arrived if it is inside the window (late packets included).
    let behind = (s.ext_seq as u16).wrapping_sub(seq);
    if u32::from(behind) < LOSS_WINDOW {
        s.lost_bits |= 1 << behind;
    }
}

fn track_jitter(s: &mut SsrcStats, p: &StatsSample) {
    let arrival_ms = u64::try_from(p.arrival_us / 1000).unwrap_or(0);
    let arrival_units = (arrival_ms.wrapping_mul(u64::from(p.clock_rate)) / 1000) as u32;
    let transit = arrival_units.wrapping_sub(p.timestamp);
    if s.transit != 0 {
        let d = (transit.wrapping_sub(s.transit) as i32).unsigned_abs();
        // J += (|D| - J) / 16, with J kept scaled by 16 (RFC 3550 A.8).
        s.jitter = s
            .jitter
            .wrapping_add(d)
            .wrapping_sub((s.jitter.wrapping_add(8)) >> 4);
    }
    s.transit = transit;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(seq: u16, timestamp: u32, arrival_ms: i64) -> StatsSample {
        StatsSample {
            seq,
            timestamp,
            payload_len: 160,
            arrival_us: arrival_ms * 1000,
            clock_rate: 8000,
        }
    }

    fn feed(seqs: &[u16]) -> SsrcStats {
        let mut s = SsrcStats::default();
        for &q in seqs {
            record_packet(&mut s, &sample(q, u32::from(q) * 160, i64::from(q) * 20));
        }
        s
    }

    #[test]
    fn in_order_stream_has_no_loss_and_no_jitter() {
        let seqs: [u16; 100] = core::array::from_fn(|i| 1000 + i as u16);
        let s = feed(&seqs);
        assert_eq!(s.packets, 100);
        assert_eq!(s.bytes, 16000);
        assert_eq!(s.ext_seq, 1099);
        assert_eq!(s.total_lost, 0);
        assert_eq!(s.jitter, 0);
        assert_eq!(s.lost_bits, u32::MAX);
    }

    #[test]
    fn sequence_wrap_extends_the_cycle_count() {
        let s = feed(&[65534, 65535, 0, 1]);
        assert_eq!(s.ext_seq, 0x1_0001);
        assert_eq!(s.total_lost, 0);
    }

    #[test]
    fn loss_is_counted_once_the_window_moves_past_it() {
        // 10..=50 without 20 and 21.
        let seqs: [u16; 39] = core::array::from_fn(|i| {
            let i = i as u16;
            if i < 10 {
                10 + i
            } else {
                12 + i
            }
        });
        let s = feed(&seqs);
        assert_eq!(s.ext_seq, 50);
        // 20 and 21 are 30/29 behind 50: still inside the window, not yet counted.
        assert_eq!(s.total_lost, 0);
        assert_eq!(s.lost_bits.count_zeros(), 2);
        let mut s = s;
        for q in 51..=60u16 {
            record_packet(&mut s, &sample(q, u32::from(q) * 160, i64::from(q) * 20));
        }
        assert_eq!(s.total_lost, 2);
    }

    #[test]
    fn late_packet_inside_the_window_is_not_lost() {
        let mut s = feed(&[1, 2, 3, 5, 6]);
        record_packet(&mut s, &sample(4, 640, 80));
        assert_eq!(s.ext_seq, 6);
        for q in 7..=40u16 {
            record_packet(&mut s, &sample(q, u32::from(q) * 160, i64::from(q) * 20));
        }
        assert_eq!(s.total_lost, 0);
        // Duplicates and old packets do not move ext_seq.
        record_packet(&mut s, &sample(40, 0, 0));
        record_packet(&mut s, &sample(3, 0, 0));
        assert_eq!(s.ext_seq, 40);
    }

    #[test]
    fn big_gap_inside_jump_limit_counts_all_missing() {
        let mut s = feed(&[1, 2]);
        record_packet(&mut s, &sample(102, 0, 0));
        assert_eq!(s.ext_seq, 102);
        // 3..=70 fell out of the window at once; 71..=101 are holes inside it.
        assert_eq!(s.total_lost, 68);
        assert_eq!(s.lost_bits, 1);
        for q in 103..=133u16 {
            record_packet(&mut s, &sample(q, 0, 0));
        }
        assert_eq!(s.total_lost, 99);
    }

    #[test]
    fn large_jump_restarts_tracking() {
        let mut s = feed(&[1, 2, 3]);
        record_packet(&mut s, &sample(30000, 0, 0));
        assert_eq!(s.ext_seq, 30000);
        assert_eq!(s.total_lost, 0);
        assert_eq!(s.lost_bits, u32::MAX);
    }

    #[test]
    fn jitter_follows_rfc3550() {
        // Packets every 20 ms, but every other one arrives 10 ms late (80 units at 8 kHz).
        let mut s = SsrcStats::default();
        let mut expect: i64 = 0; // scaled by 16, computed independently
        let mut last_transit: Option<i64> = None;
        for i in 0..50i64 {
            let late = if i % 2 == 1 { 10 } else { 0 };
            let arrival_ms = 1_000_000 + i * 20 + late;
            let ts = (i * 160) as u32;
            record_packet(&mut s, &sample(i as u16 + 1, ts, arrival_ms));
            let transit = arrival_ms * 8 - i * 160;
            if let Some(prev) = last_transit {
                let d = (transit - prev).abs();
                expect += d - ((expect + 8) >> 4);
            }
            last_transit = Some(transit);
        }
        assert_eq!(i64::from(s.jitter), expect);
        assert!(
            s.jitter >> 4 > 40 && s.jitter >> 4 <= 80,
            "jitter {}",
            s.jitter >> 4
        );
    }

    #[test]
    fn hostile_values_do_not_panic() {
        let mut s = SsrcStats {
            packets: u64::MAX,
            bytes: u64::MAX,
            jitter: u32::MAX,
            ..Default::default()
        };
        for (seq, arr) in [(0u16, i64::MIN), (u16::MAX, i64::MAX), (1, -1)] {
            record_packet(
                &mut s,
                &StatsSample {
                    seq,
                    timestamp: u32::MAX,
                    payload_len: u32::MAX,
                    arrival_us: arr,
                    clock_rate: u32::MAX,
                },
            );
        }
    }
}
