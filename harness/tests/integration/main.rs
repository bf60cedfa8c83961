//! The harness CLI driven as a user would: real scenarios, the local backend (each trial in its
//! own private network namespace), real result files.
#![allow(clippy::unwrap_used)]

mod browser;
mod cli;
mod kube;
mod netns;
