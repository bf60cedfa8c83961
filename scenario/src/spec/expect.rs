//! The `expect` section: the thresholds a run is gated on.

use serde::{Deserialize, Serialize};

use super::{Fraction, PositiveF64};

/// Thresholds that make `harness run` exit 1 when missed (for CI gating).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ExpectSpec {
    /// Every talker→listener pair must deliver at least this fraction (0..=1) over the run.
    #[serde(default)]
    pub min_delivery: Option<Fraction>,
    /// Every pair's p99 latency must stay below this many milliseconds.
    #[serde(default)]
    pub max_p99_latency_ms: Option<PositiveF64>,
}
