//! The shapes of a rule, as the registry (`rules::registry::RULES`) lists them: one that judges each
//! workload on its own, one that judges each workload knowing the rest of the set, and one that
//! compares the set's workloads.

use super::finding::Out;
use super::manifest_set::ManifestSet;
use super::workload::Workload;

/// A rule of the registry, by what it is given.
#[derive(Clone, Copy)]
pub(super) enum Rule {
    /// Judges one workload on its own; run on each workload in turn.
    PerWorkload(fn(&Workload, &mut Out)),
    /// Judges one workload, given the set around it (its other workloads, its Services); run on
    /// each workload in turn.
    PerWorkloadInSet(fn(&Workload, &ManifestSet, &mut Out)),
    /// Compares the set's workloads; run once, after the per-workload rules.
    AcrossWorkloads(fn(&[Workload], &mut Out)),
}
