//! `harness sweep`: at what message size does this link break? The scenario runs once per size
//! with `payloadBytes` set on its talkers ([`swept`]), each size a normal run directory inside
//! one sweep directory; [`model`] reads each size's run report into delivery, latency and
//! goodput per pair relation and finds the size where delivery first drops below the
//! scenario's `expect` (or a default); [`table`] is the table every format renders, and
//! [`export`] writes `sweep.md`, `report.html`, `sweep.json` and `sweep.csv`. The runs themselves
//! are the runner's, started by the CLI as `harness matrix` starts its variants.

pub mod export;
pub mod model;
pub mod size;
pub mod swept;
pub mod table;

pub use model::{rows_of, SizeOutcome, SizeResult, SweepReport, Threshold};
pub use size::{parse_sizes, SizeError};
pub use swept::{at_size, Swept};
