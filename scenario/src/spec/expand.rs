//! Shapes of real deployments, written once and expanded before anything runs: a container of
//! `processes: N` (a launch file's N ROS 2 processes, each its own DDS participant on the pod's
//! IP), a pod of `replicas: N` (a Deployment's pods, placed by the scheduler), a node of
//! `count: N` (a fleet of identical nodes). Each becomes N entries named `<name>-1` … `<name>-N`;
//! everything after loading (placement, backends, records, reports) sees only the expanded
//! scenario.

use super::{ContainerSpec, NodeSpec, PodSpec, Scenario};

/// At most this many processes in one container, replicas of one pod and nodes of one entry.
pub const MAX_PROCESSES: u32 = 128;
pub const MAX_REPLICAS: u32 = 32;
pub const MAX_NODE_COUNT: u32 = 32;

/// The names `name` stands for when it is written `n` times (`None`: once, as itself).
pub fn expanded_names(name: &str, n: Option<u32>) -> Vec<String> {
    match n {
        None => vec![name.to_owned()],
        Some(n) => (1..=n).map(|i| format!("{name}-{i}")).collect(),
    }
}

impl Scenario {
    /// The scenario with every `count`, `replicas` and `processes` written out (a validated
    /// scenario's names stay unique: validation checks the expanded names).
    pub fn expanded(mut self) -> Scenario {
        self.nodes = self.nodes.into_iter().flat_map(NodeSpec::expanded).collect();
        self.pods = self.pods.into_iter().flat_map(PodSpec::expanded).collect();
        self
    }
}

impl NodeSpec {
    fn expanded(self) -> Vec<NodeSpec> {
        let Some(n) = self.count else { return vec![self] };
        expanded_names(&self.name, Some(n))
            .into_iter()
            .map(|name| {
                let mut node = NodeSpec { name, count: None, ..self.clone() };
                // Each node of a fleet has its own hostname.
                if node.labels.contains_key(HOSTNAME) {
                    node.labels.insert(HOSTNAME.into(), node.name.clone());
                }
                node
            })
            .collect()
    }
}

const HOSTNAME: &str = "kubernetes.io/hostname";

impl PodSpec {
    fn expanded(self) -> Vec<PodSpec> {
        let containers: Vec<ContainerSpec> =
            self.containers.iter().cloned().flat_map(ContainerSpec::expanded).collect();
        expanded_names(&self.name, self.replicas)
            .into_iter()
            .map(|name| PodSpec { name, replicas: None, containers: containers.clone(), ..self.clone() })
            .collect()
    }
}

impl ContainerSpec {
    fn expanded(self) -> Vec<ContainerSpec> {
        expanded_names(&self.name, self.processes)
            .into_iter()
            .map(|name| ContainerSpec { name, processes: None, ..self.clone() })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::spec::parse;

    #[test]
    fn counts_replicas_and_processes_are_written_out() {
        let s = parse(
            "name: fleet
nodes:
  - {name: master}
  - {name: pi, count: 3, labels: {kubernetes.io/arch: arm64, kubernetes.io/hostname: pi}}
pods:
  - name: robot
    replicas: 2
    containers:
      - {name: t, role: talker, processes: 3}
      - {name: l, role: listener}
",
            Path::new("fleet.yaml"),
        )
        .expect("valid");
        let nodes: Vec<&str> = s.nodes.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(nodes, ["master", "pi-1", "pi-2", "pi-3"]);
        assert_eq!(s.nodes[2].labels["kubernetes.io/hostname"], "pi-2");
        let pods: Vec<&str> = s.pods.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(pods, ["robot-1", "robot-2"]);
        let containers: Vec<&str> = s.pods[1].containers.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(containers, ["t-1", "t-2", "t-3", "l"]);
        assert!(s.pods.iter().flat_map(|p| &p.containers).all(|c| c.processes.is_none()));
    }

    #[test]
    fn an_expanded_name_that_is_taken_is_an_error_at_the_count() {
        let e = parse(
            "name: clash
pods:
  - name: robot
    containers:
      - {name: t, role: talker, processes: 2}
      - {name: t-2, role: listener}
",
            Path::new("clash.yaml"),
        )
        .expect_err("t-2 is taken twice")
        .to_string();
        assert!(e.contains("clash.yaml:6:") && e.contains("t-2"), "{e}");
    }

    #[test]
    fn zero_processes_is_an_error_naming_the_field() {
        let e = parse(
            "name: none
pods:
  - name: robot
    containers:
      - {name: t, role: talker, processes: 0}
      - {name: l, role: listener}
",
            Path::new("none.yaml"),
        )
        .expect_err("0 processes")
        .to_string();
        assert!(e.contains("none.yaml:5:") && e.contains("pods[0].containers[0].processes"), "{e}");
    }
}
