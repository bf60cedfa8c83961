//! The `trials` section: how many trials, how long each phase lasts, the talkers' rate, and
//! when a run may stop early; with the defaults a scenario gets when it leaves them out.

use serde::{Deserialize, Serialize};

use super::{NonNegativeF64, PositiveF64};

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TrialSpec {
    #[serde(default = "TrialSpec::default_count")]
    pub count: u32,
    /// Measured part of a trial.
    #[serde(default = "TrialSpec::default_duration")]
    pub duration_s: PositiveF64,
    /// Discovery time before measurement starts; messages sent in it are not expected.
    #[serde(default = "TrialSpec::default_warmup")]
    pub warmup_s: NonNegativeF64,
    /// After the talkers stop, how long listeners keep listening for messages in flight.
    #[serde(default = "TrialSpec::default_drain")]
    pub drain_s: NonNegativeF64,
    /// Talker rate.
    #[serde(default = "TrialSpec::default_rate")]
    pub rate_hz: PositiveF64,
    /// Place every pod afresh each trial, on a random node among those its selector allows
    /// (as the scheduler may on every `kubectl apply`); otherwise placement is fixed.
    #[serde(default)]
    pub reschedule: bool,
    /// Seed of the rescheduling draws, so a run can be repeated exactly.
    #[serde(default)]
    pub seed: u64,
    /// `confident`: instead of `count` trials, run until the verdict can no longer change at
    /// 95 % (see the harness's stop rule), at most `max`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<Until>,
    /// The most trials `until: confident` runs.
    #[serde(default = "TrialSpec::default_max")]
    pub max: u32,
}

/// When a run stops early.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Until {
    /// When the verdict can no longer change at 95 %.
    Confident,
}

impl TrialSpec {
    fn default_count() -> u32 {
        5
    }
    fn default_duration() -> PositiveF64 {
        PositiveF64(5.0)
    }
    fn default_warmup() -> NonNegativeF64 {
        NonNegativeF64(1.0)
    }
    fn default_drain() -> NonNegativeF64 {
        NonNegativeF64(0.5)
    }
    fn default_rate() -> PositiveF64 {
        PositiveF64(10.0)
    }
    fn default_max() -> u32 {
        50
    }
}

impl Default for TrialSpec {
    fn default() -> Self {
        TrialSpec {
            count: Self::default_count(),
            duration_s: Self::default_duration(),
            warmup_s: Self::default_warmup(),
            drain_s: Self::default_drain(),
            rate_hz: Self::default_rate(),
            reschedule: false,
            seed: 0,
            until: None,
            max: Self::default_max(),
        }
    }
}
