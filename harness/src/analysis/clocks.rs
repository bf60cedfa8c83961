//! Nodes with their own clocks, put on one: the doctor measured each node's clock against a
//! reference node (NTP-style, see [`crate::doctor`]); records are moved onto the reference's
//! clock before they are analysed, so one-way latency and discovery times between nodes mean
//! something — to within the measurement's uncertainty, which the report shows.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Each node's clock against the reference node's.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClockCorrection {
    /// The node whose clock the others are put on.
    pub reference: String,
    /// Node → its clock minus the reference's (ns) and how well that is known (± ns).
    pub offsets: BTreeMap<String, (i64, u64)>,
}

impl ClockCorrection {
    /// The offsets the doctor measured, or `None` when it measured none.
    pub fn from_doctor(d: &crate::doctor::DoctorReport) -> Option<ClockCorrection> {
        if d.clocks.is_empty() || d.reference.is_empty() {
            return None;
        }
        let mut offsets: BTreeMap<String, (i64, u64)> =
            d.clocks.iter().map(|c| (c.node.clone(), (c.offset_ns, c.uncertainty_ns))).collect();
        offsets.insert(d.reference.clone(), (0, 0));
        Some(ClockCorrection { reference: d.reference.clone(), offsets })
    }

    /// `t_ns` read on `node`'s clock, on the reference's; `None` when the node was not measured.
    pub fn to_reference(&self, node: &str, t_ns: u64) -> Option<u64> {
        let (offset, _) = self.offsets.get(node)?;
        Some(t_ns.saturating_add_signed(offset.saturating_neg()))
    }

    /// How far off a time between `a` and `b` can be after correction (± ns); `None` when
    /// either node was not measured. One node's times share its clock: 0.
    pub fn uncertainty_ns(&self, a: &str, b: &str) -> Option<u64> {
        if a == b {
            return Some(0);
        }
        Some(self.offsets.get(a)?.1 + self.offsets.get(b)?.1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doctor::{ClockOffset, DoctorReport};

    fn doctor(clocks: Vec<ClockOffset>) -> DoctorReport {
        DoctorReport { clocks, ..DoctorReport::new("s", "kube", 0, Vec::new(), "master", Vec::new()) }
    }

    #[test]
    fn times_move_onto_the_reference_clock() {
        let pi = ClockOffset { node: "pi".into(), offset_ns: 40_000_000, uncertainty_ns: 300_000, samples: 20 };
        let c = ClockCorrection::from_doctor(&doctor(vec![pi])).expect("measured");
        // The Pi's clock runs 40 ms ahead: its 1.040 s is the master's 1.000 s.
        assert_eq!(c.to_reference("pi", 1_040_000_000), Some(1_000_000_000));
        assert_eq!(c.to_reference("master", 7), Some(7));
        assert_eq!(c.to_reference("laptop", 7), None);
        assert_eq!(c.uncertainty_ns("pi", "master"), Some(300_000));
        assert_eq!(c.uncertainty_ns("pi", "pi"), Some(0));
        assert_eq!(c.uncertainty_ns("pi", "laptop"), None);
        let behind = ClockOffset { node: "pi".into(), offset_ns: -5, uncertainty_ns: 1, samples: 1 };
        let c = ClockCorrection::from_doctor(&doctor(vec![behind])).expect("measured");
        assert_eq!(c.to_reference("pi", 10), Some(15));
    }

    #[test]
    fn no_offsets_no_correction() {
        assert_eq!(ClockCorrection::from_doctor(&doctor(Vec::new())), None);
    }
}
