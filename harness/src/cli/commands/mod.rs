//! One function per subcommand, from its flags to its exit code.

mod cleanup;
mod doctor;
mod lint;
mod matrix;
mod render;
mod report;
mod run;
mod sweep;
mod validate;

pub(super) use cleanup::{kube_cleanup, netns_cleanup};
pub(super) use doctor::doctor;
pub(super) use lint::lint;
pub(super) use matrix::matrix;
pub(super) use render::render;
pub(super) use report::report_dir;
pub(super) use run::run;
pub(super) use sweep::sweep;
pub(super) use validate::validate;
