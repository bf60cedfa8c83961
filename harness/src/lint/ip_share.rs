//! How many ROS 2 processes (DDS participants) share one IP in a deployment: a pod's own
//! containers on the pod network; on the host network its node's, with the replicas and the
//! host-network pods the scheduler can put beside it. Read by the static-peers rule (against
//! the peers' range) and by `harness matrix` (against the process counts it measured).

use serde::{Deserialize, Serialize};

use crate::lint::container::Container;
use crate::lint::document::{Node, SourceFile};
use crate::lint::manifest_set::ManifestSet;
use crate::lint::workload::Workload;

/// The IP of a deployment that carries the most ROS 2 processes of one DDS and domain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BusiestIp {
    /// At most, where the scheduler puts together every pod that can share a node.
    pub processes: u64,
    /// Certain to be there, whatever the scheduler does.
    pub certain: u64,
    /// The workload whose IP it is (`Deployment/robot`).
    pub workload: String,
    /// The IP, in words, and who contributes how many.
    pub place: String,
    pub parts: Vec<String>,
    /// Containers that run `ros2 launch`: each may start more processes than the manifest shows.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub launches: Vec<String>,
}

/// The IP of `files` (one deployment) with the most ROS 2 processes of one DDS and domain, if
/// any workload runs ROS 2 on a DDS the lint recognises.
pub fn busiest_ip(files: &[SourceFile]) -> Option<BusiestIp> {
    let set = ManifestSet::read(files);
    let all = &set.workloads;
    let mut best: Option<BusiestIp> = None;
    for w in all {
        let mut keys: Vec<(Dds, String)> = Vec::new();
        for c in w.containers.iter().filter(|c| alongside(w, c)) {
            let Some(dds) = dds_of(c) else { continue };
            let key = (dds, domain(c));
            if !keys.contains(&key) {
                keys.push(key);
            }
        }
        for key in &keys {
            let ip = on_ip(w, all, key);
            if best.as_ref().is_none_or(|b| (ip.most, ip.certain) > (b.processes, b.certain)) {
                best = Some(BusiestIp {
                    processes: ip.most,
                    certain: ip.certain,
                    workload: w.label.clone(),
                    place: ip.place,
                    parts: ip.parts,
                    launches: ip.launches,
                });
            }
        }
    }
    best
}

/// The DDS implementation a container's RMW runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dds {
    FastDds,
    Cyclone,
}

/// The participants of one DDS and domain on a workload's IP.
pub(crate) struct OnIp {
    /// Certain to be there (its own pod; pods pinned to the same node).
    pub(crate) certain: u64,
    /// At most, where the scheduler puts every pod that can land on the node together.
    pub(crate) most: u64,
    /// The IP, in words.
    pub(crate) place: String,
    /// Who contributes how many.
    pub(crate) parts: Vec<String>,
    /// `container x of Pod/y` for each container that runs `ros2 launch`.
    pub(crate) launches: Vec<String>,
    /// The line of the workload's own first container that runs `ros2 launch`.
    pub(crate) launch_line: Option<usize>,
}

/// One pod's containers of one DDS and domain, running beside each other.
struct PodShare<'w> {
    count: u64,
    names: Vec<&'w str>,
    launches: Vec<&'w str>,
    launch_line: Option<usize>,
}

fn pod_share<'w>(w: &'w Workload, key: &(Dds, String)) -> PodShare<'w> {
    let mut s = PodShare { count: 0, names: Vec::new(), launches: Vec::new(), launch_line: None };
    for c in w.containers.iter().filter(|c| alongside(w, c) && dds_of(c) == Some(key.0) && domain(c) == key.1) {
        s.count += 1;
        s.names.push(c.name);
        if launches(c) {
            s.launches.push(c.name);
            s.launch_line = s.launch_line.or(Some(c.node.line()));
        }
    }
    s
}

/// The participants of `key` on `w`'s IP: its pod's own on the pod network (each replica has an
/// IP of its own); on the host network its node's, with its replicas and the host-network pods
/// that can share that node.
pub(crate) fn on_ip(w: &Workload, all: &[Workload], key: &(Dds, String)) -> OnIp {
    let own = pod_share(w, key);
    let launches: Vec<String> = own.launches.iter().map(|c| format!("container {c}")).collect();
    if !w.host_network() {
        let place = if w.replicas > 1 {
            format!("each pod IP of its {} replicas (one IP per pod)", w.replicas)
        } else {
            "its pod IP".to_owned()
        };
        let parts = vec![format!("containers {}", own.names.join(", "))];
        return OnIp { certain: own.count, most: own.count, place, parts, launches, launch_line: own.launch_line };
    }
    let (pods, sure) = (pods_per_node(w), if w.pinned_node().is_some() { pods_per_node(w) } else { 1 });
    let mut ip = OnIp {
        certain: own.count * sure,
        most: own.count * pods,
        place: w
            .pinned_node()
            .map_or("one node's IP (hostNetwork)".to_owned(), |n| format!("the IP of node {n} (hostNetwork)")),
        parts: vec![share(&w.label, own.count, sure, pods)],
        launches,
        launch_line: own.launch_line,
    };
    let neighbours =
        all.iter().filter(|o| !std::ptr::eq(*o, w) && o.host_network() && w.may_share_node(o) && !ports_clash(w, o));
    for o in neighbours {
        let s = pod_share(o, key);
        if s.count == 0 {
            continue;
        }
        let pods = pods_per_node(o);
        let sure = w.pinned_node().is_some() && w.pinned_node() == o.pinned_node();
        ip.most += s.count * pods;
        if sure {
            ip.certain += s.count * pods;
        }
        ip.parts.push(share(&o.label, s.count, if sure { pods } else { 0 }, pods));
        ip.launches.extend(s.launches.iter().map(|c| format!("container {c} of {}", o.label)));
    }
    ip
}

/// `Deployment/x: 3 pods × 2 processes`, as sure as the placement makes it.
fn share(label: &str, per_pod: u64, sure: u64, most: u64) -> String {
    let each = if per_pod == 1 { "1 process".to_owned() } else { format!("{per_pod} processes") };
    match (sure, most) {
        (1, 1) => format!("{label}: {each}"),
        (s, m) if s == m => format!("{label}: {m} pods × {each}"),
        (_, 1) => format!("{label}: {each} if it lands on that node"),
        (_, m) => format!("{label}: {each} per pod, up to {m} pods on one node"),
    }
}

/// How many pods of a host-network workload one node can hold: its replicas, unless it is a
/// DaemonSet, keeps them apart, or holds ports (on the host network a `containerPort` is a host
/// port, and the scheduler puts no two pods holding one port on one node).
fn pods_per_node(w: &Workload) -> u64 {
    if w.replicas_share_node() && host_ports(w).is_empty() {
        w.replicas
    } else {
        1
    }
}

fn host_ports(w: &Workload) -> Vec<u64> {
    w.containers.iter().filter(|c| alongside(w, c)).flat_map(|c| c.ports.iter().map(|(p, _)| *p)).collect()
}

fn ports_clash(a: &Workload, b: &Workload) -> bool {
    let ports = host_ports(a);
    host_ports(b).iter().any(|p| ports.contains(p))
}

/// A container that runs beside the others: not an init container, unless a sidecar
/// (`restartPolicy: Always`).
pub(crate) fn alongside(w: &Workload, c: &Container) -> bool {
    let main = w.spec.get("containers").map(Node::items).unwrap_or_default();
    main.iter().any(|n| std::ptr::eq(n, c.node)) || c.node.get("restartPolicy").and_then(Node::str) == Some("Always")
}

pub(crate) fn dds_of(c: &Container) -> Option<Dds> {
    if c.fast_dds() {
        Some(Dds::FastDds)
    } else if c.cyclone_dds() {
        Some(Dds::Cyclone)
    } else {
        None
    }
}

/// Participant ids are taken per domain: the ports depend on it.
pub(crate) fn domain(c: &Container) -> String {
    c.env.get("ROS_DOMAIN_ID").map(|(v, _)| v.trim().to_owned()).filter(|v| !v.is_empty()).unwrap_or("0".to_owned())
}

/// `ros2 launch` starts as many processes as its launch file says, which the manifest does not.
fn launches(c: &Container) -> bool {
    c.words.windows(2).any(|x| x == ["ros2", "launch"])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn busiest(yaml: &str) -> Option<BusiestIp> {
        busiest_ip(&[SourceFile::parse("m.yaml", yaml.to_owned()).expect("parses")])
    }

    #[test]
    fn the_busiest_ip_counts_a_pods_ros_containers() {
        let text = std::fs::read_to_string(
            testkit::workspace_root().join("harness/tests/fixtures/matrix/robot-twelve-processes.yaml"),
        )
        .expect("fixture");
        let b = busiest(&text).expect("ROS 2 containers");
        assert_eq!((b.processes, b.certain, b.workload.as_str()), (12, 12, "Deployment/robot"), "{b:?}");
        assert!(b.launches.is_empty());
        // On the host network, pods that can share the node count together; a launch is named.
        let host = "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec:\n  hostNetwork: true\n  containers:\n    - \
                    {name: x, image: 'ros:jazzy', command: [ros2, launch, pkg, robot.launch.py]}\n---\napiVersion: \
                    v1\nkind: Pod\nmetadata: {name: b}\nspec:\n  hostNetwork: true\n  containers:\n    - {name: y, \
                    image: 'ros:jazzy', command: [ros2, run, demo_nodes_cpp, talker]}\n    - {name: z, image: \
                    'ros:jazzy', command: [ros2, run, demo_nodes_cpp, listener]}\n";
        let b = busiest(host).expect("ROS 2 containers");
        assert_eq!((b.processes, b.certain), (3, 2), "{b:?}");
        assert_eq!(b.launches, vec!["container x of Pod/a".to_owned()], "{b:?}");
        // Nothing ROS: nothing to compare.
        assert!(busiest(
            "apiVersion: v1\nkind: Pod\nmetadata: {name: n}\nspec:\n  containers: [{name: w, image: nginx}]\n"
        )
        .is_none());
    }
}
