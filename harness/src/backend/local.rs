//! The `local` backend, the embedded default: every container is a process on this machine,
//! all of them inside one fresh private network namespace per trial (loopback only), so DDS
//! traffic never leaves the machine. Nodes are not simulated here: every pod sees every other
//! one as on the same host. Use the `netns` backend to study cross-node behaviour.

use std::time::Duration;

use tokio::sync::{mpsc, watch};

use super::process::NodeProcess;
use super::{Backend, BackendError, Line, NodeCommand, TrialStart};
use crate::analysis::TrialMeta;
use crate::placement::{declared_nodes, Node, Plan};
use crate::spec::{ContainerRole, Scenario};

/// Extra time talkers get beyond their own duration before the harness stops them.
const TALKER_SLACK: Duration = Duration::from_secs(10);

#[derive(Debug)]
pub struct LocalBackend {
    nodes: NodeCommand,
}

impl LocalBackend {
    pub fn new(nodes: NodeCommand) -> LocalBackend {
        LocalBackend { nodes }
    }
}

/// Resolves when `stop` is (or becomes) true; never if its sender is gone.
pub async fn stopped(stop: &mut watch::Receiver<bool>) {
    if stop.wait_for(|s| *s).await.is_err() {
        std::future::pending::<()>().await;
    }
}

impl Backend for LocalBackend {
    fn name(&self) -> &'static str {
        "local"
    }

    fn note(&self) -> Option<&'static str> {
        Some("local backend: every pod runs on this machine in one network namespace, so node placement is not simulated (cross-node pairs behave like same-node ones); use --backend netns for a simulated cluster")
    }

    async fn nodes(&mut self, scenario: &Scenario) -> Result<Vec<Node>, BackendError> {
        Ok(declared_nodes(scenario))
    }

    async fn run_trial(
        &mut self,
        plan: &Plan,
        start: TrialStart,
        lines: mpsc::UnboundedSender<Line>,
        mut stop: watch::Receiver<bool>,
    ) -> Result<TrialMeta, BackendError> {
        let sandbox = chatter_sandbox::Sandbox::new()?;
        let t0 = tokio::time::Instant::now();
        let mut order: Vec<_> = plan.containers().collect();
        order.sort_by_key(|(_, c)| c.start_delay);

        let mut procs: Vec<NodeProcess> = Vec::new();
        let mut interrupted = false;
        for (pod, c) in order {
            tokio::select! {
                _ = tokio::time::sleep_until(t0 + c.start_delay) => {}
                _ = stopped(&mut stop) => { interrupted = true; break; }
            }
            let (program, lead) = self.nodes.resolve(c.binary())?;
            let mut cmd = tokio::process::Command::new("nsenter");
            cmd.args(sandbox.nsenter_args())
                .arg(program)
                .args(lead)
                .args(&c.args);
            procs.push(NodeProcess::spawn(cmd, &pod.name, &c.name, c.role, &lines)?);
        }

        // Talkers stop by themselves after warm-up + duration: wait for that event.
        let talk_for = plan.timing.warmup + plan.timing.duration + TALKER_SLACK;
        if !interrupted {
            let talkers_done = async {
                for p in procs.iter_mut().filter(|p| p.role == ContainerRole::Talker) {
                    p.wait().await;
                }
            };
            tokio::select! {
                _ = talkers_done => {}
                _ = tokio::time::sleep_until(t0 + talk_for) => tracing::warn!("talkers overran their duration; stopping them"),
                _ = stopped(&mut stop) => interrupted = true,
            }
        }
        let (talkers, listeners): (Vec<_>, Vec<_>) = procs
            .into_iter()
            .partition(|p| p.role == ContainerRole::Talker);
        for p in talkers {
            p.stop().await;
        }
        // Messages still in flight get the drain period to arrive.
        if !interrupted {
            tokio::select! {
                _ = tokio::time::sleep(plan.timing.drain) => {}
                _ = stopped(&mut stop) => interrupted = true,
            }
        }
        futures_join(listeners.into_iter().map(NodeProcess::stop)).await;
        drop(sandbox);
        Ok(TrialMeta {
            trial: start.trial,
            start_ns: start.start_ns,
            window_start_ns: start.window_start_ns,
            end_ns: chatter::now_ns(),
            interrupted,
        })
    }

    async fn cleanup(&mut self) -> Result<(), BackendError> {
        // Each trial's namespace ends with its processes; nothing outlives a trial.
        Ok(())
    }
}

/// Runs the futures concurrently and waits for all of them.
pub async fn futures_join<F: std::future::Future<Output = ()> + Send + 'static>(
    futs: impl Iterator<Item = F>,
) {
    let handles: Vec<_> = futs.map(tokio::spawn).collect();
    for h in handles {
        let _ = h.await;
    }
}
