//! Timing policy, in one place: how long nodes run, how long the harness waits for them, and
//! which messages a listener is expected to have received.
//!
//! The measurement window of a talker→listener pair opens [`TrialTiming::warmup`] after *both*
//! ends were up — by their own `start` records, not by a stamp the harness took before setting
//! anything up — because discovery cannot begin before both endpoints exist. It closes when the
//! listener stops (its `stop` record, or its last record if it died). A message is expected by
//! a listener only if it was sent inside that window; what a late listener missed before it was
//! up is not loss.
//!
//! Where the harness starts the talkers itself (local, netns) and every node is its own, it
//! holds a trial at a start barrier instead: every pair's window opens at once, the warm-up
//! after the *last* node's start (or as soon as every pair matched), and the talkers publish a
//! whole window from then ([`BARRIER_BOUND`]), so each pair expects `duration × rate` however
//! late an emulated node came up.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// How long the harness lets talkers overrun their own duration before stopping them
/// (processes on this machine).
pub const TALKER_SLACK: Duration = Duration::from_secs(10);

/// The start barrier (local and netns): how much later than the trial's start its last node may
/// come up (an emulated node under qemu takes seconds) with every talker still publishing a
/// whole window after it. Only a trial whose barrier never opens (a node that never started)
/// sees talkers run this much longer than the scenario says.
pub const BARRIER_BOUND: Duration = Duration::from_secs(5);

/// … plus this much per process the trial starts: starting many DDS processes on this
/// machine's cores spreads their starts (measured on 2 cores: 100 r2r processes on Fast DDS,
/// the last up 13–15 s after the first; without this allowance the first talkers' duration
/// ran out before the barrier opened, and the trial measured nothing — bench/scale.py).
pub const BARRIER_PER_PROCESS: Duration = Duration::from_millis(250);

/// How much longer than [`BARRIER_BOUND`] the starts of a trial of `processes` may spread.
pub fn start_spread(processes: usize) -> Duration {
    BARRIER_PER_PROCESS.saturating_mul(u32::try_from(processes).unwrap_or(u32::MAX))
}

/// The same on a real cluster, where containers start and stop more slowly.
pub const KUBE_TALKER_SLACK: Duration = Duration::from_secs(30);

/// Listeners are stopped by the harness; this bound (beyond the talkers' time and the drain)
/// only ends an orphaned listener.
pub const LISTENER_ORPHAN_BOUND: Duration = Duration::from_secs(60);

/// The longest a talker lingers after its last message for reliable retransmissions.
pub const MAX_LINGER: Duration = Duration::from_secs(1);

/// A listener that came up this much later than a talker (and later than the warm-up) is a
/// late joiner worth telling the reader about.
pub const LATE_JOIN: Duration = Duration::from_secs(1);

/// A silence counts as an outage when it lasts this many send periods …
pub const OUTAGE_PERIODS: u64 = 10;
/// … and at least this long.
pub const OUTAGE_MIN: Duration = Duration::from_millis(500);

/// How far an observed symptom may be from an injected fault's time and still match it.
pub const FAULT_TOLERANCE: Duration = Duration::from_millis(300);

/// Timing of every trial.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TrialTiming {
    /// Time after both ends of a pair are up before its window opens (discovery).
    pub warmup: Duration,
    /// Length of the window.
    pub duration: Duration,
    /// Time given to messages still in flight after the talkers stop.
    pub drain: Duration,
}

impl TrialTiming {
    /// How long a talker that starts `delay` into the trial publishes.
    pub fn talker_runs_for(&self, delay: Duration) -> Duration {
        (self.warmup + self.duration).saturating_sub(delay)
    }

    /// How long our talker publishes, at most, when the start barrier holds its window: the
    /// barrier's SIGUSR1 ends it [`TrialTiming::duration`] after the window opened.
    /// `processes`: how many the trial starts ([`BARRIER_PER_PROCESS`] each).
    pub fn barrier_talker_runs_for(&self, processes: usize) -> Duration {
        self.warmup + self.duration + BARRIER_BOUND + start_spread(processes)
    }

    /// How long a talker stays after its last message.
    pub fn talker_linger(&self) -> Duration {
        self.drain.min(MAX_LINGER)
    }

    /// The `--duration` a listener gets (it is stopped long before, unless orphaned).
    pub fn listener_bound(&self) -> Duration {
        self.warmup + self.duration + self.drain + LISTENER_ORPHAN_BOUND
    }

    /// When the harness stops talkers that have not stopped by themselves, from the start of
    /// the trial's timeline.
    pub fn talker_deadline(&self, slack: Duration) -> Duration {
        self.warmup + self.duration + slack
    }

    pub fn warmup_ns(&self) -> u64 {
        nanos(self.warmup)
    }
}

/// When the window of a pair opens: warm-up after the later of the two `start` records.
pub fn window_opens(talker_start_ns: u64, listener_start_ns: u64, warmup_ns: u64) -> u64 {
    talker_start_ns.max(listener_start_ns).saturating_add(warmup_ns)
}

/// The shortest silence that is an outage for a stream with this send period.
pub fn outage_threshold_ns(period_ns: u64) -> u64 {
    period_ns.saturating_mul(OUTAGE_PERIODS).max(nanos(OUTAGE_MIN))
}

/// A duration in whole nanoseconds (saturating).
pub fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// Nanoseconds between `origin_ns` and `t_ns` in seconds (negative before the origin).
pub fn secs_since(origin_ns: u64, t_ns: u64) -> f64 {
    (t_ns as f64 - origin_ns as f64) / 1e9
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_waits_for_the_later_end() {
        assert_eq!(window_opens(10, 50, 5), 55);
        assert_eq!(window_opens(70, 50, 5), 75);
    }

    #[test]
    fn outage_threshold_scales_with_the_period() {
        assert_eq!(outage_threshold_ns(100_000_000), 1_000_000_000, "10 Hz: ten periods");
        assert_eq!(outage_threshold_ns(1_000_000), 500_000_000, "1 kHz: the floor");
    }

    #[test]
    fn the_barrier_waits_longer_for_a_trial_of_many_processes() {
        let t = TrialTiming { warmup: Duration::from_secs(4), duration: Duration::from_secs(4), drain: Duration::ZERO };
        assert_eq!(t.barrier_talker_runs_for(4), Duration::from_secs(14));
        // 100 processes: their starts took 15 s here; every talker still outlasts the barrier.
        assert_eq!(t.barrier_talker_runs_for(100), Duration::from_secs(38));
    }

    #[test]
    fn talker_time_shrinks_with_a_late_start() {
        let t = TrialTiming {
            warmup: Duration::from_secs(1),
            duration: Duration::from_secs(3),
            drain: Duration::from_secs(2),
        };
        assert_eq!(t.talker_runs_for(Duration::from_secs(1)), Duration::from_secs(3));
        assert_eq!(t.talker_linger(), MAX_LINGER);
        assert_eq!(t.talker_deadline(TALKER_SLACK), Duration::from_secs(14));
    }
}
