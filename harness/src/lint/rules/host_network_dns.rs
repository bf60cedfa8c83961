//! `host-network-dns` (warning when a Service is named, else a note): hostNetwork without
//! `dnsPolicy: ClusterFirstWithHostNet` resolves with the node's DNS, not the cluster's.

use crate::lint::document::Node;
use crate::lint::finding::{Out, Severity};
use crate::lint::manifest_set::ManifestSet;
use crate::lint::workload::Workload;

/// hostNetwork without `dnsPolicy: ClusterFirstWithHostNet`: Service names do not resolve —
/// a warning when the pod names a Service, otherwise only a note.
pub(super) fn check(w: &Workload, set: &ManifestSet, out: &mut Out) {
    let services = &set.services;
    if !w.host_network() || w.spec.get("dnsPolicy").and_then(Node::str) == Some("ClusterFirstWithHostNet") {
        return;
    }
    let names_service = w.containers.iter().any(|c| {
        c.words
            .iter()
            .chain(c.env.values().map(|(v, _)| v).flat_map(|v| v.split([' ', ',', ';'])).collect::<Vec<_>>().iter())
            .any(|t| t.contains(".svc") || services.iter().any(|s| t.split([':', '/', '.']).any(|p| p == *s)))
    });
    let line = w.spec.get("dnsPolicy").or(w.host_network).map_or(w.spec.line(), Node::line);
    let (severity, message) = if names_service {
        (Severity::Warning, "hostNetwork without dnsPolicy: ClusterFirstWithHostNet, and the pod names a Service: it resolves with the node's DNS and does not find it")
    } else {
        (Severity::Note, "hostNetwork without dnsPolicy: ClusterFirstWithHostNet: the pod resolves with the node's DNS, so cluster Service names would not resolve (none is named here)")
    };
    out.push(
        w,
        line,
        severity,
        "host-network-dns",
        message.into(),
        "add `dnsPolicy: ClusterFirstWithHostNet` if it resolves Service names",
    );
}

#[cfg(test)]
mod tests {
    use crate::lint::finding::Severity;
    use crate::lint::testing::{fired, rules, run};

    #[test]
    fn host_network_dns_is_a_note_when_no_service_is_named() {
        let p = |spec: &str, ports: &str| {
            run(&format!("kind: Pod\nmetadata: {{name: p}}\nspec:\n{spec}  containers:\n    - name: c\n      image: ros:jazzy\n      command: [ros2, run, rosbridge_server, rosbridge_websocket]\n{ports}"))
        };
        // hostNetwork DNS: a note unless a Service is named.
        let dns = p("  hostNetwork: true\n", "");
        assert!(rules(&dns).contains(&("host-network-dns", 4, Severity::Note)), "{:?}", rules(&dns));
    }

    #[test]
    fn host_network_dns_is_a_warning_when_a_service_of_the_set_is_named() {
        let pod = |name: &str, spec: &str, container: &str| {
            format!("---\nkind: Pod\nmetadata: {{name: {name}}}\nspec:\n{spec}  containers:\n    - name: c\n      image: ros:jazzy\n      command: [ros2, run, demo_nodes_cpp, talker, --ros-args, -r, __node:={name}]\n{container}")
        };
        // hostNetwork DNS: a warning when the pod names a Service of the set, silent when set.
        let svc = "---\nkind: Service\nmetadata: {name: rosbridge}\n";
        let names = pod("a", "  hostNetwork: true\n", "      env: [{name: URL, value: 'ws://rosbridge:9090'}]\n") + svc;
        assert!(rules(&run(&names)).contains(&("host-network-dns", 5, Severity::Warning)), "{:?}", rules(&run(&names)));
        let fixed = pod("a", "  hostNetwork: true\n  dnsPolicy: ClusterFirstWithHostNet\n", "") + svc;
        assert_eq!(fired(&run(&fixed), "host-network-dns"), 0);
    }
}
