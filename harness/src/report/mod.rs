//! Reports: one exporter per format, each rendering a [`RunReport`](crate::summary::RunReport)
//! into any `io::Write`. `records.csv` is not here: the run appends it record by record (see
//! `results`).
//!
//! - `exporter`: what a format is ([`Exporter`]); `files`: every file exporter, written into
//!   the run directory ([`write_all`]).
//! - `table`: the [`Table`] model and the run's tables, which Markdown, HTML and the console
//!   all render (`kernel`: the kernel's counters per namespace); [`markup`]: escaping for HTML and SVG.
//! - `groups`: past 64 pairs, the reports show them by group (a launch file's processes, a
//!   Deployment's replicas) and list pair by pair only those not heard in every trial.
//! - One module per format: `csv`, `json`, [`markdown`], [`html`] (with its [`plots`]), and
//!   the console summary.

mod console;
mod csv;
mod exporter;
mod files;
mod groups;
pub mod html;
mod json;
mod kernel;
pub mod markdown;
pub mod markup;
pub mod plots;
mod table;

pub use self::console::render as console;
pub use self::csv::{PairsCsv, TrialRow, TrialsCsv};
pub use self::exporter::Exporter;
pub use self::files::{exporters, write_all};
pub use self::html::Html;
pub use self::json::SummaryJson;
pub use self::markdown::Markdown;
pub use self::table::{distribution_table, expectations_table, matrix, pairs_table, trials_table, Table};
