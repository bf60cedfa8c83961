//! When a talker sent which sequence number, so the analysis can count exactly what a listener
//! was expected to receive in *its* window (which depends on when the listener was up).
//!
//! Memory is bounded: up to [`CAPACITY`] points are kept exactly; past that every other point is
//! dropped (and then every other one again), and counts between two kept points are
//! interpolated. Trials of up to [`CAPACITY`] messages per talker — every scenario here — are
//! counted exactly; a long soak is counted to within its decimation step.

/// Points kept before thinning.
pub const CAPACITY: usize = 8192;

/// The send times of one talker in one trial.
///
/// Kept by position, `seq + 1`: a talker may number its messages from 0 (the ROS 2 tutorial's
/// publisher does) or from 1 (ours, demo_nodes), and a count is a difference of positions.
#[derive(Debug, Clone, Default)]
pub struct SendLog {
    /// (send time ns, position = seq + 1), increasing in both.
    points: Vec<(u64, u64)>,
    /// Only every `stride`-th point is kept (1 = all).
    stride: u64,
    seen: u64,
    last: Option<(u64, u64)>,
}

impl SendLog {
    /// Notes that `seq` was sent at `t_ns`. Sequence numbers and times only grow.
    pub fn push(&mut self, t_ns: u64, seq: u64) {
        let seq = seq.saturating_add(1);
        if self.stride == 0 {
            self.stride = 1;
        }
        if self.last.is_some_and(|(lt, ls)| t_ns < lt || seq <= ls) {
            return; // out of order: ignore rather than corrupt the index
        }
        self.last = Some((t_ns, seq));
        if self.seen.is_multiple_of(self.stride) {
            if self.points.len() == CAPACITY {
                let mut i = 0;
                self.points.retain(|_| {
                    i += 1;
                    i % 2 == 1
                });
                self.stride *= 2;
            }
            if self.seen.is_multiple_of(self.stride) {
                self.points.push((t_ns, seq));
            }
        }
        self.seen += 1;
    }

    pub fn is_empty(&self) -> bool {
        self.last.is_none()
    }

    /// The position (`seq + 1`) of the last message sent at or before `t_ns`; before the
    /// first message, the position just before it (0 for a talker numbering from 0).
    fn position_at(&self, t_ns: u64) -> u64 {
        let Some((last_t, last_seq)) = self.last else { return 0 };
        if t_ns >= last_t {
            return last_seq;
        }
        let i = self.points.partition_point(|(t, _)| *t <= t_ns);
        if i == 0 {
            // Before the first kept point: exact when the first point is the first message.
            return self.points.first().map_or(0, |(_, s)| s.saturating_sub(1));
        }
        let (t0, s0) = self.points[i - 1];
        let (t1, s1) = self.points.get(i).copied().unwrap_or((last_t, last_seq));
        if s1 <= s0 + 1 || t1 <= t0 {
            return s0;
        }
        // Thinned: interpolate between the two kept points.
        let frac = (t_ns - t0) as f64 / (t1 - t0) as f64;
        s0 + ((s1 - s0 - 1) as f64 * frac).floor() as u64
    }

    /// How many messages were sent in `[from_ns, to_ns]`.
    pub fn count_between(&self, from_ns: u64, to_ns: u64) -> u64 {
        if to_ns < from_ns {
            return 0;
        }
        self.position_at(to_ns).saturating_sub(self.position_at(from_ns.saturating_sub(1)))
    }

    /// When `seq` was sent, where that point is kept exactly.
    pub fn time_of(&self, seq: u64) -> Option<u64> {
        let seq = seq.saturating_add(1);
        if let Some((t, s)) = self.last {
            if s == seq {
                return Some(t);
            }
        }
        let i = self.points.partition_point(|(_, s)| *s < seq);
        self.points.get(i).filter(|(_, s)| *s == seq).map(|(t, _)| *t)
    }

    /// Send time of the last message.
    pub fn last_ns(&self) -> Option<u64> {
        self.last.map(|(t, _)| t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn log(times: &[u64]) -> SendLog {
        let mut l = SendLog::default();
        for (i, t) in times.iter().enumerate() {
            l.push(*t, i as u64 + 1);
        }
        l
    }

    #[test]
    fn counts_inclusive_ranges_exactly() {
        let l = log(&[10, 20, 30, 40, 50]);
        assert_eq!(l.count_between(20, 40), 3);
        assert_eq!(l.count_between(21, 39), 1);
        assert_eq!(l.count_between(0, 5), 0);
        assert_eq!(l.count_between(45, 1000), 1);
        assert_eq!(l.count_between(0, u64::MAX), 5);
        assert_eq!(l.count_between(40, 20), 0);
    }

    /// The ROS 2 tutorial's publisher says "Hello World: 0" first: all of its messages count
    /// (once measured 7 expected of 8 sent inside the window, and 8 received).
    #[test]
    fn a_talker_numbering_from_zero_is_counted_whole() {
        let mut l = SendLog::default();
        for (seq, t) in [10, 20, 30, 40].into_iter().enumerate() {
            l.push(t, seq as u64);
        }
        assert_eq!(l.count_between(0, 100), 4);
        assert_eq!(l.count_between(15, 100), 3);
        assert_eq!(l.count_between(0, 25), 2);
        assert_eq!((l.time_of(0), l.time_of(3), l.time_of(4)), (Some(10), Some(40), None));
    }

    proptest! {
        /// Exact below capacity, and within the thinning step above it, against brute force.
        #[test]
        fn matches_brute_force(gaps in proptest::collection::vec(1u64..1000, 1..20_000), a in 0u64..20_000_000, b in 0u64..20_000_000) {
            let mut t = 0;
            let times: Vec<u64> = gaps.iter().map(|g| { t += g; t }).collect();
            let l = log(&times);
            let (from, to) = (a.min(b), a.max(b));
            let truth = times.iter().filter(|&&x| x >= from && x <= to).count() as u64;
            let got = l.count_between(from, to);
            let step = (times.len() / CAPACITY + 1) as u64 * 2;
            if times.len() <= CAPACITY {
                prop_assert_eq!(got, truth);
            } else {
                prop_assert!(got.abs_diff(truth) <= step, "got {} truth {} step {}", got, truth, step);
            }
        }
    }
}
