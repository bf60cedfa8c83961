//! How a pair did in one trial: delivered, partial or nothing ([`Delivery`]), by the share of
//! its expected messages that arrived.

use serde::{Deserialize, Serialize};

/// Fraction of expected messages at or above which a pair counts as delivered.
pub const DELIVERED_RATIO: f64 = 0.95;

/// How a pair did in one trial.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Delivery {
    Delivered,
    Partial,
    None,
}

impl Delivery {
    pub fn classify(received: u64, expected: u64) -> Delivery {
        if received == 0 {
            Delivery::None
        } else if expected == 0 || received as f64 >= DELIVERED_RATIO * expected as f64 {
            Delivery::Delivered
        } else {
            Delivery::Partial
        }
    }
}
