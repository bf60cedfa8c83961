//! How a command ends: a [`Failure`] of its exit code's class, or its console summary on
//! stdout.

use super::exit;

/// A command that could not do its job, with the exit code of its class.
#[derive(Debug)]
pub struct Failure {
    pub code: u8,
    pub message: String,
}

impl Failure {
    pub(super) fn usage(e: impl std::fmt::Display) -> Failure {
        Failure { code: exit::USAGE, message: e.to_string() }
    }

    pub(super) fn backend(e: impl std::fmt::Display) -> Failure {
        Failure { code: exit::BACKEND, message: e.to_string() }
    }
}

/// Writes the console summary to stdout. A closed pipe (`harness report DIR | head`) is not a
/// failure: the reader has what it wanted, and the reports are written.
pub(super) fn emit(text: &str) -> Result<(), Failure> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Failure::backend(format!("stdout: {e}"))),
        _ => Ok(()),
    }
}
