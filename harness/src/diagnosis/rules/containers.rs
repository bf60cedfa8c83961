//! `container-failed`: containers the backend saw end badly (wrong architecture, OOMKilled, an
//! exit, restarts); they explain their pairs, so the other rules stay quiet about them.

use crate::analysis::trial::{PairReport, TrialReport};
use crate::diagnosis::{Finding, Severity};

/// Containers the backend saw end badly: a wrong-architecture image, OOMKilled, a non-zero
/// exit, restarts. They explain their pairs better than "never started" or "died".
pub fn containers_failed(trial: &TrialReport) -> Vec<Finding> {
    trial
        .containers
        .iter()
        .map(|c| {
            let (severity, cause, advice) = if c.wrong_arch {
                (
                    Severity::Failure,
                    format!(
                        "`{}` could not run on {} node {}: its image has no build for that architecture",
                        c.id,
                        c.arch.as_deref().unwrap_or("this"),
                        c.node
                    ),
                    "publish multi-arch images (docker-bake.hcl builds amd64 and arm64), or keep the pod off that \
                     architecture with a kubernetes.io/arch nodeSelector",
                )
            } else if c.reason == "OOMKilled" {
                (
                    Severity::Failure,
                    format!("`{}` was OOMKilled on node {}: it reached its memory limit", c.id, c.node),
                    "raise the container's memory limit (resources.limits.memory), or lower its message rate or \
                     payload size",
                )
            } else if let Some(how) = c.ended() {
                // A process on this machine, reaped by the harness: how and when, and its last
                // words on stderr.
                let words = c.last_words().map(|w| format!(": {w}")).unwrap_or_default();
                if c.exit_code == Some(0) {
                    (
                        Severity::Warning,
                        format!(
                            "`{}` on node {} ended by itself before the trial was over: it {how}{words}",
                            c.id, c.node
                        ),
                        "a node that exits at once usually ran the wrong command (check its command and args); \
                         messages it would have sent or received after that are not network loss",
                    )
                } else {
                    (
                        Severity::Failure,
                        format!("`{}` on node {} {how}{words}", c.id, c.node),
                        "a program that exits at once usually has a wrong command, a missing package or a missing \
                         environment: its last stderr line is quoted above; run its command by hand to see more. What \
                         it would have sent or received after that is not network loss",
                    )
                }
            } else if c.exit_code.is_some_and(|x| x != 0) || c.signal.is_some() {
                (
                    Severity::Failure,
                    format!("`{}` exited with an error on node {} ({})", c.id, c.node, c.reason),
                    "read the container's log (`kubectl logs --previous`) for its last words; messages it would \
                     have sent or received after that are not network loss",
                )
            } else {
                (
                    Severity::Warning,
                    format!("`{}` restarted on node {}", c.id, c.node),
                    "a restarted node starts DDS discovery afresh; find why it stopped in `kubectl logs --previous`",
                )
            };
            let pairs: Vec<String> =
                trial.pairs.iter().filter(|p| p.talker == c.id || p.listener == c.id).map(PairReport::name).collect();
            let mut h = Finding::new("container-failed", severity, cause, advice)
                .trial(trial.meta.trial)
                .evidence(format!("trial {}: {}", trial.meta.trial, c.describe()));
            if c.stderr.len() > 1 {
                h = h.evidence(format!("its last {} stderr lines: {}", c.stderr.len(), c.stderr.join(" | ")));
            }
            h.pairs = pairs;
            h
        })
        .collect()
}

/// Whether the backend saw container `id` end badly in this trial (a
/// [`containers_failed`] finding explains it).
pub(super) fn container_failed(trial: &TrialReport, id: &str) -> bool {
    trial.containers.iter().any(|c| {
        c.id == id
            && (c.wrong_arch
                || c.exit_code.is_some_and(|x| x != 0)
                || c.reason == "OOMKilled"
                || c.signal.is_some()
                // A process on this machine that ended by itself early, even with status 0.
                || c.at_ms.is_some())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::trial::NodeFacts;
    use crate::diagnosis::rules::test_support::{seed, setting, silent_rule};

    fn exit(id: &str, reason: &str, code: i32, message: &str) -> crate::backend::ContainerExit {
        crate::backend::ContainerExit {
            id: id.into(),
            node: "master".into(),
            arch: Some("amd64".into()),
            reason: reason.into(),
            exit_code: Some(code),
            signal: None,
            restarts: 0,
            message: message.into(),
            wrong_arch: message.contains("exec format error"),
            at_ms: None,
            stderr: Vec::new(),
        }
    }

    /// A listener whose container could not run is explained by that, not by the `&&` advice
    /// of listener-not-started, and not twice.
    #[test]
    fn failed_container_explains_its_pairs() {
        let mut t = seed();
        t.listeners[1].node = NodeFacts::default();
        t.containers.push(exit("l.listener", "StartError", 128, "exec /listener: exec format error"));
        assert_eq!(silent_rule(&t, &setting()), None);
        let hits = containers_failed(&t);
        assert_eq!(hits.len(), 1);
        assert_eq!(
            hits[0].cause,
            "`l.listener` could not run on amd64 node master: its image has no build for that architecture"
        );
        assert_eq!(hits[0].pairs, ["tl.talker → l.listener"]);
        assert!(hits[0].evidence[0].contains("StartError, exit 128"), "{:?}", hits[0].evidence);
        let oom = containers_failed(&trial_with(exit("tl.talker", "OOMKilled", 137, "")));
        assert!(oom[0].cause.contains("OOMKilled") && oom[0].severity == Severity::Failure);
        let restarted =
            crate::backend::ContainerExit { exit_code: None, restarts: 2, ..exit("tl.talker", "Restarted", 0, "") };
        let hits = containers_failed(&trial_with(restarted));
        assert_eq!(
            (hits[0].severity, hits[0].cause.as_str()),
            (Severity::Warning, "`tl.talker` restarted on node master")
        );
    }

    /// A process on this machine that exited at once: its status, time and last words, and
    /// never "published nothing" for its pairs.
    #[test]
    fn a_process_exit_is_named_with_its_status_time_and_stderr() {
        let end = crate::backend::process::Ended {
            code: Some(1),
            signal: None,
            t_ns: 1_020_000_000,
            by_harness: false,
            stderr: vec!["starting".into(), "error: package not found".into()],
        };
        let e = crate::backend::ContainerExit::of_process("tl.talker".into(), "pi".into(), None, end, 1_000_000_000);
        let mut t = trial_with(e);
        t.talkers[0].sent = 0;
        let pair = t.pairs.iter().find(|p| p.talker == "tl.talker").cloned();
        assert!(pair.is_some_and(|p| container_failed(&t, &p.talker)), "its pairs are explained by the exit");
        let hits = containers_failed(&t);
        assert_eq!(hits[0].cause, "`tl.talker` on node pi exited with status 1 at 0.02 s: error: package not found");
        assert_eq!(hits[0].severity, Severity::Failure);
        assert_eq!(hits[0].evidence[1], "its last 2 stderr lines: starting | error: package not found");
        let signalled = crate::backend::process::Ended {
            code: None,
            signal: Some(11),
            t_ns: 2_500_000_000,
            by_harness: false,
            stderr: Vec::new(),
        };
        let e = crate::backend::ContainerExit::of_process("tl.talker".into(), "pi".into(), None, signalled, 0);
        assert_eq!(
            containers_failed(&trial_with(e))[0].cause,
            "`tl.talker` on node pi was killed by signal 11 (SIGSEGV) at 2.50 s"
        );
    }

    fn trial_with(e: crate::backend::ContainerExit) -> TrialReport {
        let mut t = seed();
        t.containers.push(e);
        t
    }
}
