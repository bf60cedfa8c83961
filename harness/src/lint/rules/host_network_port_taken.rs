//! `host-network-port-taken` (warning): a hostNetwork container on a port k3s itself holds on
//! every node.

use crate::lint::finding::{Out, Severity};
use crate::lint::workload::Workload;

/// Ports k3s itself holds on every node (k3s docs, "Inbound rules for K3s nodes"; 80 and 443
/// through ServiceLB for the bundled Traefik): a hostNetwork container on one of them collides.
const K3S_NODE_PORTS: [(u64, &str); 9] = [
    (80, "Traefik through ServiceLB"),
    (443, "Traefik through ServiceLB"),
    (2379, "embedded etcd"),
    (2380, "embedded etcd"),
    (6443, "the Kubernetes API server"),
    (8472, "flannel VXLAN"),
    (10250, "the kubelet"),
    (51820, "flannel WireGuard"),
    (51821, "flannel WireGuard (IPv6)"),
];

/// A hostNetwork container listening on a port k3s holds on every node.
pub(super) fn check(w: &Workload, out: &mut Out) {
    if !w.host_network() {
        return;
    }
    for c in &w.containers {
        for (port, line) in &c.ports {
            if let Some((_, owner)) = K3S_NODE_PORTS.iter().find(|(p, _)| p == port) {
                out.push(
                    w,
                    *line,
                    Severity::Warning,
                    "host-network-port-taken",
                    format!("container {}: port {port} on the host network: k3s holds it on its nodes ({owner}), so binding it fails there", c.name),
                    "use another port, or the pod network with a Service",
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::testing::{fired, run};

    #[test]
    fn host_network_ports_that_k3s_holds_are_flagged() {
        let p = |spec: &str, ports: &str| {
            run(&format!("kind: Pod\nmetadata: {{name: p}}\nspec:\n{spec}  containers:\n    - name: c\n      image: ros:jazzy\n      command: [ros2, run, rosbridge_server, rosbridge_websocket]\n{ports}"))
        };
        let port = "      ports: [{containerPort: 443}]\n";
        assert_eq!(fired(&p("  hostNetwork: true\n", port), "host-network-port-taken"), 1);
        assert_eq!(
            fired(&p("  hostNetwork: true\n", "      ports: [{containerPort: 9090}]\n"), "host-network-port-taken"),
            0
        );
        assert_eq!(fired(&p("", port), "host-network-port-taken"), 0);
    }
}
