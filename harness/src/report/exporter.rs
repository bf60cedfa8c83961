//! What a report format is: an [`Exporter`] renders a [`RunReport`] into any `io::Write`, under
//! its file name in the run directory.

use std::io::{self, Write};

use crate::summary::RunReport;

/// A report format.
pub trait Exporter {
    /// File name inside the run directory.
    fn file_name(&self) -> &'static str;
    fn export(&self, report: &RunReport, out: &mut dyn Write) -> io::Result<()>;
}
