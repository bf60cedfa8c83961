//! Exit codes.

/// Ran, and every expectation held.
pub const OK: u8 = 0;
/// Ran, but an `expect` threshold failed.
pub const EXPECTATIONS_FAILED: u8 = 1;
/// Bad command line or scenario.
pub const USAGE: u8 = 2;
/// The backend (or the results directory) failed.
pub const BACKEND: u8 = 3;
/// Interrupted by Ctrl-C (SIGINT); results so far were written.
pub const INTERRUPTED: u8 = 130;
/// Stopped by SIGTERM (e.g. a cancelled CI job); results so far were written.
pub const TERMINATED: u8 = 143;
