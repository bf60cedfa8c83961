//! The [`Backend`] trait: what the runner asks of every way to run trials.

use tokio::sync::{mpsc, watch};

use super::{BackendError, Line, TrialFacts, TrialMeta, TrialStart};
use crate::placement::{Node, Plan};
use crate::spec::Scenario;

/// A way to run trials.
#[allow(async_fn_in_trait)] // used generically within this crate, never as a trait object
pub trait Backend {
    fn name(&self) -> &'static str;

    /// What a reader of the report must know: the backend's fidelity, faults injected.
    fn notes(&self) -> Vec<String> {
        Vec::new()
    }

    /// Checks and builds what the trials need, after placement and before the first trial.
    /// Anything the scenario asks for that this backend cannot do is refused here.
    async fn prepare(&mut self, scenario: &Scenario, plan: &Plan, run_id: &str) -> Result<(), BackendError> {
        let _ = (scenario, plan, run_id);
        Ok(())
    }

    /// Every node stamps its records with one clock (processes on this machine), so one-way
    /// latency between nodes is real.
    fn shared_clock(&self) -> bool {
        true
    }

    /// What the backend saw of trial `trial` beyond the records (called once, after it ran).
    fn trial_facts(&mut self, trial: u32) -> TrialFacts {
        let _ = trial;
        TrialFacts::default()
    }

    /// Another instance of this backend that runs trials beside this one, on resources of its
    /// own (netns: a simulated cluster of its own), for `--parallel`; `None` when trials here
    /// cannot run at once (they would share nodes and network). It is prepared and cleaned up
    /// like this one.
    fn sibling(&self, slot: usize) -> Option<Self>
    where
        Self: Sized,
    {
        let _ = slot;
        None
    }

    /// Whether it can open a trial's window before the warm-up runs out (see
    /// [`TrialStart::open`]): it starts the talkers itself and can signal them.
    fn opens_windows_early(&self) -> bool {
        false
    }

    /// The nodes placement may use.
    async fn nodes(&mut self, scenario: &Scenario) -> Result<Vec<Node>, BackendError>;

    /// Runs one trial of `plan`, sending every line the containers print to `lines`. Returns
    /// early, with `interrupted` set, when `stop` becomes true.
    async fn run_trial(
        &mut self,
        plan: &Plan,
        start: TrialStart,
        lines: mpsc::UnboundedSender<Line>,
        stop: watch::Receiver<bool>,
    ) -> Result<TrialMeta, BackendError>;

    /// Removes whatever the backend created. Called at the end, after errors and after Ctrl-C.
    async fn cleanup(&mut self) -> Result<(), BackendError>;
}
