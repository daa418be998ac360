//! Per-second rates of the daemon's counters, sampled on a timer as 10.5's
//! call timer does: at most once per 900 ms, the growth of each counter
//! since the previous sample is scaled to one second. Pure: the caller
//! passes the time and the cumulative counters of that moment.

use std::time::{Duration, Instant};

use crate::call::totals::Relayed;
use crate::ng::command::CommandKind;

pub const COMMANDS: usize = CommandKind::ALL.len();

/// The shortest time between two samples (10.5's call timer guard).
pub const MIN_INTERVAL: Duration = Duration::from_millis(900);

/// Cumulative counters at one moment, or per-second rates of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counters {
    pub user: Relayed,
    pub kernel: Relayed,
    /// ng requests per command (`CommandKind::ALL` order).
    pub requests: [u64; COMMANDS],
}

impl Default for Counters {
    fn default() -> Self {
        Counters {
            user: Relayed::default(),
            kernel: Relayed::default(),
            requests: [0; COMMANDS],
        }
    }
}

/// `grown` over `us` microseconds, per second (integer, as 10.5).
fn per_second(grown: u64, us: u64) -> u64 {
    u64::try_from(u128::from(grown) * 1_000_000 / u128::from(us.max(1))).unwrap_or(u64::MAX)
}

fn relayed_rate(now: Relayed, then: Relayed, us: u64) -> Relayed {
    // A stream moving between userspace and kernel moves its counts: a
    // side may shrink, which counts as no growth.
    Relayed {
        packets: per_second(now.packets.saturating_sub(then.packets), us),
        bytes: per_second(now.bytes.saturating_sub(then.bytes), us),
        errors: per_second(now.errors.saturating_sub(then.errors), us),
    }
}

impl Counters {
    /// The per-second growth from `then` to `self` over `us` microseconds.
    fn rate_since(&self, then: &Counters, us: u64) -> Counters {
        let mut requests = [0; COMMANDS];
        for (i, r) in requests.iter_mut().enumerate() {
            *r = per_second(self.requests[i].saturating_sub(then.requests[i]), us);
        }
        Counters {
            user: relayed_rate(self.user, then.user, us),
            kernel: relayed_rate(self.kernel, then.kernel, us),
            requests,
        }
    }
}

/// The rates of the last sample and what the next one starts from.
#[derive(Debug, Default)]
pub struct Sampler {
    last: Option<(Instant, Counters)>,
    rates: Counters,
}

impl Sampler {
    /// Takes a sample at `now` of the cumulative counters `at` when the
    /// previous one is at least `MIN_INTERVAL` old; returns the new rates,
    /// or `None` when it is too early. The first call only sets the start.
    pub fn sample(&mut self, now: Instant, at: Counters) -> Option<Counters> {
        match self.last {
            Some((then, _)) if now.saturating_duration_since(then) < MIN_INTERVAL => None,
            Some((then, before)) => {
                let us = u64::try_from(now.saturating_duration_since(then).as_micros())
                    .unwrap_or(u64::MAX);
                self.rates = at.rate_since(&before, us);
                self.last = Some((now, at));
                Some(self.rates)
            }
            None => {
                self.last = Some((now, at));
                None
            }
        }
    }

    /// The rates of the last sample (zero before the second one).
    pub fn rates(&self) -> Counters {
        self.rates
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(packets: u64, bytes: u64, kernel_packets: u64, offers: u64) -> Counters {
        let mut c = Counters {
            user: Relayed {
                packets,
                bytes,
                errors: 0,
            },
            kernel: Relayed {
                packets: kernel_packets,
                bytes: kernel_packets * 100,
                errors: 0,
            },
            ..Counters::default()
        };
        c.requests[CommandKind::Offer.index()] = offers;
        c
    }

    #[test]
    fn growth_over_the_interval_scaled_to_a_second() {
        let t0 = Instant::now();
        let mut s = Sampler::default();
        assert_eq!(s.sample(t0, at(10, 1000, 0, 1)), None, "first: the start");
        assert_eq!(s.rates(), Counters::default());
        let r = s
            .sample(t0 + Duration::from_secs(1), at(60, 9000, 5, 4))
            .unwrap();
        assert_eq!(r.user.packets, 50);
        assert_eq!(r.user.bytes, 8000);
        assert_eq!(r.kernel.packets, 5);
        assert_eq!(r.kernel.bytes, 500);
        assert_eq!(r.requests[CommandKind::Offer.index()], 3);
        assert_eq!(s.rates(), r);
        // Two seconds later with 100 packets more: 50 per second.
        let r = s
            .sample(t0 + Duration::from_secs(3), at(160, 9000, 5, 4))
            .unwrap();
        assert_eq!(r.user.packets, 50);
        assert_eq!(r.user.bytes, 0);
        assert_eq!(r.requests[CommandKind::Offer.index()], 0);
    }

    #[test]
    fn no_sample_within_900_ms_and_integer_rates() {
        let t0 = Instant::now();
        let mut s = Sampler::default();
        s.sample(t0, at(0, 0, 0, 0));
        let early = t0 + Duration::from_millis(899);
        assert_eq!(s.sample(early, at(9, 9, 0, 0)), None);
        // 900 ms after the start: 9 packets are 10 per second.
        let r = s
            .sample(t0 + Duration::from_millis(900), at(9, 7, 0, 0))
            .unwrap();
        assert_eq!(r.user.packets, 10);
        assert_eq!(r.user.bytes, 7, "7 * 1e6 / 900000 rounds down");
    }

    #[test]
    fn a_side_that_shrinks_has_no_rate() {
        let t0 = Instant::now();
        let mut s = Sampler::default();
        s.sample(t0, at(10, 10, 0, 0));
        let r = s
            .sample(t0 + Duration::from_secs(1), at(0, 0, 12, 0))
            .unwrap();
        assert_eq!(r.user, Relayed::default());
        assert_eq!(r.kernel.packets, 12);
    }
}
