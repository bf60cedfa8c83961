//! Analysis: from records to delivery facts. Pure and synchronous; it streams (memory grows
//! with talker×listener pairs and trials, never with records), so `harness report` can
//! re-analyse any `records.csv` and the benchmark can push millions of records through it.
//!
//! - [`roster`]: who took part and where ([`Roster`], [`Relation`]); [`delivery`]: how a pair
//!   did in one trial ([`Delivery`]).
//! - [`trial`]: one trial's records → [`TrialReport`] (per-pair delivery and discovery,
//!   per-node facts, silences).
//! - [`run`]: trial reports → per-pair (and per-relation) summaries, the outcome distribution
//!   with Wilson intervals.
//! - [`pair`]: the constant-memory per-pair accumulator; [`sends`]: when each talker sent.
//!
//! The verdict and the findings are built above this layer (`diagnosis`, `summary`).

pub mod clocks;
pub mod delivery;
pub mod pair;
pub mod roster;
pub mod run;
pub mod sends;
pub mod timeline;
pub mod trial;

pub use crate::backend::TrialMeta;
pub use clocks::ClockCorrection;
pub use delivery::{Delivery, DELIVERED_RATIO};
pub use roster::{Member, Relation, Roster, ANONYMOUS};
pub use run::{OutcomeShare, PairSummary, RunAnalyzer};
pub use trial::{TrialAnalyzer, TrialReport};

#[cfg(test)]
pub(crate) mod fixture;
