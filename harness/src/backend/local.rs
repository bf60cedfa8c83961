//! The `local` backend, the embedded default: every container is a process on this machine,
//! all of them inside one fresh private network namespace per trial (loopback only), so DDS
//! traffic never leaves the machine. Nodes are not simulated here: every pod sees every other
//! one as on the same host. Use the `netns` backend to study cross-node behaviour.

use tokio::sync::{mpsc, watch};

use super::drive::drive;
use super::{Backend, BackendError, Line, NodeCommand, TrialFacts, TrialStart};
use crate::analysis::TrialMeta;
use crate::placement::{declared_nodes, Node, PlacedPod, Plan, PlannedContainer};
use crate::spec::Scenario;

#[derive(Debug)]
pub struct LocalBackend {
    nodes: NodeCommand,
    /// Per trial, the processes that ended by themselves.
    facts: std::collections::BTreeMap<u32, TrialFacts>,
}

impl LocalBackend {
    pub fn new(nodes: NodeCommand) -> LocalBackend {
        LocalBackend { nodes, facts: Default::default() }
    }
}

impl Backend for LocalBackend {
    fn name(&self) -> &'static str {
        "local"
    }

    fn notes(&self) -> Vec<String> {
        let mut notes = vec!["local backend: every pod runs on this machine in one network namespace and one /dev/shm, so node placement is not simulated (cross-node pairs behave like same-node ones); use --backend netns for a simulated cluster".to_owned()];
        if !chatter_sandbox::is_root() {
            notes.push("not root: each trial ran in an unprivileged user + network namespace (loopback only)".into());
        }
        notes
    }

    async fn prepare(&mut self, scenario: &Scenario, plan: &Plan, _run_id: &str) -> Result<(), BackendError> {
        if let Some(f) = scenario.faults.first() {
            return Err(BackendError::Unsupported(format!(
                "the local backend cannot inject faults ({}); use --backend netns",
                f.describe()
            )));
        }
        if let Some(p) = plan.pods.iter().find(|p| !p.sysctls.is_empty()) {
            return Err(BackendError::Unsupported(format!(
                "the local backend runs every pod in one network namespace, so it cannot set pod {}'s sysctls in a \
                 namespace of its own; use --backend netns",
                p.name
            )));
        }
        super::check_commands(plan)
    }

    async fn nodes(&mut self, scenario: &Scenario) -> Result<Vec<Node>, BackendError> {
        Ok(declared_nodes(scenario))
    }

    /// Its talkers are processes it started: SIGUSR1 opens their window.
    fn opens_windows_early(&self) -> bool {
        true
    }

    async fn run_trial(
        &mut self,
        plan: &Plan,
        start: TrialStart,
        lines: mpsc::UnboundedSender<Line>,
        stop: watch::Receiver<bool>,
    ) -> Result<TrialMeta, BackendError> {
        let sandbox = chatter_sandbox::Sandbox::new()?;
        let nodes = &self.nodes;
        let command = |pod: &PlacedPod, c: &PlannedContainer| {
            let mut cmd = tokio::process::Command::new("nsenter");
            cmd.args(sandbox.nsenter_args());
            super::program(&mut cmd, nodes, pod, c, None)?;
            Ok(cmd)
        };
        let trial = start.trial;
        let driven = drive(plan, start, &lines, stop, command, Vec::new(), |_| async { Ok(()) }).await;
        drop(sandbox);
        let driven = driven?;
        self.facts.insert(
            trial,
            TrialFacts { containers: driven.exits, participants: driven.participants, ..TrialFacts::default() },
        );
        Ok(driven.meta)
    }

    fn trial_facts(&mut self, trial: u32) -> TrialFacts {
        self.facts.remove(&trial).unwrap_or_default()
    }

    async fn cleanup(&mut self) -> Result<(), BackendError> {
        // Each trial's namespace ends with its processes; nothing outlives a trial.
        Ok(())
    }
}
