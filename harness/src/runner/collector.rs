//! One trial while it runs: its lines read (records, stock demo-node console lines, lifecycle
//! events), appended to `records.csv` and analysed, and its window opened early or at the
//! start barrier.

use chatter::record::parse_line;
use tokio::sync::watch;

use crate::analysis::TrialAnalyzer;
use crate::backend::{Lifecycle, Line};
use crate::demo::DemoNode;
use crate::results::{ResultsError, RunDir};

/// One trial while it runs: its plan, its analysis so far, and how its lines are read.
pub(super) struct Collector<'r> {
    pub(super) acc: TrialAnalyzer<'r>,
    /// Containers whose console is read as the stock demo nodes print it.
    pub(super) demo_nodes: std::collections::HashMap<(String, String), DemoNode>,
    /// Helper processes (`role: process`), whose output is not read.
    helpers: std::collections::HashSet<(String, String)>,
    /// Pods the cluster placed, as the backend learns it (kube-scheduler).
    placed: std::collections::BTreeMap<String, String>,
    first_message: bool,
    /// Opens the window early once every expected pair has matched (see
    /// [`TrialAnalyzer::all_matched`]), or at the start barrier; `None` where the trial keeps
    /// the scenario's timing.
    open: Option<watch::Sender<Option<u64>>>,
    /// When the window opened early because every pair had matched (wall clock ns).
    pub(super) early_ns: Option<u64>,
    /// When the start barrier opens the window (the warm-up after the last node's start),
    /// once every node has started.
    barrier_ns: Option<u64>,
}

impl<'r> Collector<'r> {
    pub(super) fn new(
        plan: &crate::placement::Plan,
        acc: TrialAnalyzer<'r>,
        open: Option<watch::Sender<Option<u64>>>,
    ) -> Self {
        let demo_nodes = plan
            .containers()
            .filter(|(_, c)| c.output == crate::spec::Output::DemoNodes)
            .map(|(p, c)| ((p.name.clone(), c.name.clone()), DemoNode::new(&c.id, &p.name, c.role, c.domain)))
            .collect();
        let helpers = plan
            .containers()
            .filter(|(_, c)| c.role == crate::spec::ContainerRole::Process)
            .map(|(p, c)| (p.name.clone(), c.name.clone()))
            .collect();
        Collector {
            acc,
            demo_nodes,
            helpers,
            placed: Default::default(),
            first_message: false,
            open,
            early_ns: None,
            barrier_ns: None,
        }
    }

    /// When the start barrier is due and has not opened the window yet.
    pub(super) fn barrier_due(&self) -> Option<u64> {
        self.barrier_ns.filter(|_| self.open.as_ref().is_some_and(|o| o.borrow().is_none()))
    }

    /// Opens the window at the start barrier, if it is due by `now_ns`.
    pub(super) fn open_at_barrier(&mut self, trial: u32, now_ns: u64) {
        if let (Some(at), Some(open)) = (self.barrier_due().filter(|b| *b <= now_ns), self.open.as_ref()) {
            let _ = open.send(Some(at));
            tracing::info!(trial, "window opened: the warm-up after the last node's start ran out");
        }
    }

    /// Reads one line of trial `trial`: a record (or a demo console line read as one) goes to
    /// `records.csv` and the analysis.
    pub(super) fn line(&mut self, trial: u32, line: Line, dir: &mut RunDir) -> Result<(), ResultsError> {
        if let Some(Lifecycle::Placed { node }) = line.event {
            self.placed.insert(line.pod, node);
            self.acc.relocate(&self.placed);
            return Ok(());
        }
        if self.helpers.contains(&(line.pod.clone(), line.container.clone())) {
            tracing::debug!("{}/{}: {}", line.pod, line.container, line.text);
            return Ok(());
        }
        let demo = self.demo_nodes.get_mut(&(line.pod.clone(), line.container.clone()));
        let record = match (line.event, demo) {
            (Some(event), Some(d)) => d.event(event),
            (Some(_), None) => None,
            (None, Some(d)) => {
                let id = format!("{}.{}", line.pod, line.container);
                dir.append_log(trial, &id, &line.text)?;
                d.line(&line.text)
            }
            (None, None) => match parse_line(&line.text) {
                Ok(record) => Some(record),
                Err(e) => {
                    tracing::debug!("{}/{}: not a record ({e}): {}", line.pod, line.container, line.text);
                    self.acc.stray();
                    None
                }
            },
        };
        if let Some(record) = record {
            if record.kind == chatter::RecordKind::Recv && !self.first_message {
                self.first_message = true;
                tracing::info!(trial, "first message received");
            }
            dir.append(trial, &line.pod, &line.container, &record)?;
            self.acc.push(&record.view());
            // Only start and matched records bring the pairs closer to all matched.
            let discovery = matches!(record.kind, chatter::RecordKind::Start | chatter::RecordKind::Matched);
            if let Some(open) = self.open.as_ref().filter(|o| discovery && o.borrow().is_none()) {
                if self.barrier_ns.is_none() {
                    self.barrier_ns = self.acc.last_start_ns().map(|l| l.saturating_add(self.acc.warmup_ns()));
                }
                if self.acc.all_matched() {
                    let now = chatter::now_ns();
                    self.acc.open_window_at(Some(now));
                    self.early_ns = Some(now);
                    let _ = open.send(Some(now));
                }
            }
        }
        Ok(())
    }
}
