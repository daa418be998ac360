//! What ended calls leave behind for the daemon's statistics: how many
//! there were, why they ended, how long they lasted, what they relayed
//! (rtpengine 10.5's cumulative "total statistics").

use std::time::Instant;

use super::delete::Expiry;
use super::effect::StatsSource;
use super::model::Call;

/// Counters over the calls that ended since the daemon started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SessionTotals {
    /// Calls that ended (10.5's "managed sessions").
    pub managed: u64,
    /// Offers refused by `--max-sessions`.
    pub rejected: u64,
    pub timeout: u64,
    pub silent_timeout: u64,
    pub final_timeout: u64,
    pub offer_timeout: u64,
    /// Ended by a delete (at once or after its delete-delay).
    pub regular: u64,
    pub forced: u64,
    /// Pairs of parties of which neither sent a packet (10.5 counts the
    /// parties and halves the count per call).
    pub zero_way: u64,
    /// Parties that sent packets while their peer sent none.
    pub one_way: u64,
    /// Sum of call durations, microseconds.
    pub duration_us: u64,
    /// Sum of squared call durations, milliseconds squared.
    pub duration2_ms2: u64,
    /// What the ended calls relayed, by who forwarded it.
    pub relayed_user: Relayed,
    pub relayed_kernel: Relayed,
}

/// Packets, bytes and errors.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Relayed {
    pub packets: u64,
    pub bytes: u64,
    pub errors: u64,
}

impl Relayed {
    pub fn plus(self, o: Relayed) -> Relayed {
        Relayed {
            packets: self.packets + o.packets,
            bytes: self.bytes + o.bytes,
            errors: self.errors + o.errors,
        }
    }
}

/// What the streams of `call` relayed so far: (userspace, kernel).
pub fn relayed(call: &Call, stats: &dyn StatsSource) -> (Relayed, Relayed) {
    let (mut user, mut kernel) = (Relayed::default(), Relayed::default());
    for (_, m) in call.live() {
        for s in m.streams() {
            let st = stats.stats(s.id);
            let r = Relayed {
                packets: st.packets,
                bytes: st.bytes,
                errors: st.errors,
            };
            if st.kernelized {
                kernel = kernel.plus(r);
            } else {
                user = user.plus(r);
            }
        }
    }
    (user, kernel)
}

impl SessionTotals {
    /// Account for `call`, which ended at `now` for `why` (a delete is
    /// `Expiry::DeleteDelay`, with or without a delay).
    pub fn ended(&mut self, call: &Call, why: Expiry, now: Instant, stats: &dyn StatsSource) {
        let mut no_packets = 0u64;
        for (i, m) in call.live() {
            // The party's first RTP stream and where it is forwarded: the
            // stream of the same media towards its peer.
            let Some((k, rtp)) = m
                .medias
                .iter()
                .enumerate()
                .find_map(|(k, media)| media.rtp.as_ref().map(|s| (k, s)))
            else {
                continue;
            };
            let sink = m
                .peer
                .filter(|&p| p != i)
                .and_then(|p| call.monologues[p].medias.get(k))
                .and_then(|media| media.rtp.as_ref());
            let Some(sink) = sink else { continue };
            if stats.stats(sink.id).packets == 0 {
                if stats.stats(rtp.id).packets != 0 {
                    self.one_way += 1;
                } else {
                    no_packets += 1;
                }
            }
        }
        self.zero_way += no_packets / 2;
        match why {
            Expiry::DeleteDelay => self.regular += 1,
            Expiry::Timeout => self.timeout += 1,
            Expiry::SilentTimeout => self.silent_timeout += 1,
            Expiry::FinalTimeout => self.final_timeout += 1,
            Expiry::OfferTimeout => self.offer_timeout += 1,
            Expiry::Forced => self.forced += 1,
        }
        self.managed += 1;
        let us = now.saturating_duration_since(call.created_mono).as_micros();
        let us = u64::try_from(us).unwrap_or(u64::MAX);
        self.duration_us = self.duration_us.saturating_add(us);
        let ms = us / 1000;
        self.duration2_ms2 = self.duration2_ms2.saturating_add(ms.saturating_mul(ms));
        let (user, kernel) = relayed(call, stats);
        self.relayed_user = self.relayed_user.plus(user);
        self.relayed_kernel = self.relayed_kernel.plus(kernel);
    }
}
