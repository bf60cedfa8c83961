//! The environment a container gets — `env` values, ConfigMap key references and `envFrom` — and
//! the files ConfigMaps of the set mount into it (DDS profiles).

use std::collections::BTreeMap;

use super::context::ConfigMaps;
use super::document::Node;

/// A container's environment: name → (value, line it is set on).
pub(super) type Env = BTreeMap<String, (String, usize)>;

/// The environment of container `c` in `namespace`: `envFrom` ConfigMaps first, then `env`.
pub(super) fn env_of(c: &Node, namespace: &str, config_maps: &ConfigMaps) -> Env {
    let mut env = BTreeMap::new();
    for from in c.get("envFrom").map(Node::items).unwrap_or_default() {
        let Some(name) = from.at(&["configMapRef", "name"]).and_then(Node::str) else { continue };
        let prefix = from.get("prefix").and_then(Node::str).unwrap_or("");
        for (k, v) in config_maps.get(&(namespace.to_owned(), name.to_owned())).into_iter().flatten() {
            env.insert(format!("{prefix}{k}"), v.clone());
        }
    }
    for e in c.get("env").map(Node::items).unwrap_or_default() {
        let Some(name) = e.get("name").and_then(Node::str) else { continue };
        let value = match (e.get("value"), e.at(&["valueFrom", "configMapKeyRef"])) {
            (Some(v), _) => (v.str().unwrap_or("").to_owned(), v.line()),
            (None, Some(r)) => {
                let cm = r.get("name").and_then(Node::str).unwrap_or("");
                let key = r.get("key").and_then(Node::str).unwrap_or("");
                config_maps
                    .get(&(namespace.to_owned(), cm.to_owned()))
                    .and_then(|m| m.get(key))
                    .cloned()
                    .unwrap_or((String::new(), e.line()))
            }
            (None, None) => (String::new(), e.line()),
        };
        env.insert(name.to_owned(), value);
    }
    env
}

/// The text of `path` in a container, where a ConfigMap of the set is mounted there.
pub(super) fn mounted_file(
    spec: &Node,
    c: &Node,
    path: &str,
    namespace: &str,
    config_maps: &ConfigMaps,
) -> Option<String> {
    for m in c.get("volumeMounts").map(Node::items).unwrap_or_default() {
        let (Some(at), Some(volume)) = (m.get("mountPath").and_then(Node::str), m.get("name").and_then(Node::str))
        else {
            continue;
        };
        let key = match m.get("subPath").and_then(Node::str) {
            Some(sub) if path == at => sub.to_owned(),
            Some(_) => continue,
            None => match path.strip_prefix(at.trim_end_matches('/')).and_then(|r| r.strip_prefix('/')) {
                Some(key) if !key.contains('/') => key.to_owned(),
                _ => continue,
            },
        };
        let volumes = spec.get("volumes").map(Node::items).unwrap_or_default();
        let vol = volumes.iter().find(|v| v.get("name").and_then(Node::str) == Some(volume))?;
        let cm = vol.at(&["configMap", "name"]).and_then(Node::str)?;
        // `items` may map keys to other file names.
        let items = vol.at(&["configMap", "items"]).map(Node::items).unwrap_or_default();
        let key = items
            .iter()
            .find(|i| i.get("path").and_then(Node::str) == Some(key.as_str()))
            .and_then(|i| i.get("key").and_then(Node::str))
            .map_or(key.clone(), str::to_owned);
        return config_maps.get(&(namespace.to_owned(), cm.to_owned()))?.get(&key).map(|(v, _)| v.clone());
    }
    None
}

#[cfg(test)]
mod tests {
    use crate::lint::finding::{LintFinding, Severity};
    use crate::lint::testing::{fired, rules, run};

    /// Profiles from ConfigMaps of the set are read: a UDP-only Fast DDS profile turns shared
    /// memory off, an initial peers list is unicast discovery; one the set does not hold is a note.
    #[test]
    fn fast_dds_profiles_in_config_maps_are_read() {
        let deploy = |name: &str, mount: &str| {
            format!("---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {name}}}\nspec:\n  template:\n    spec:\n      hostNetwork: true\n      dnsPolicy: ClusterFirstWithHostNet\n      volumes: [{{name: dds, configMap: {{name: fastdds}}}}]\n      containers:\n        - name: c\n          image: ros:humble\n          command: [ros2, run, demo_nodes_cpp, talker, --ros-args, -r, __node:={name}]\n          env: [{{name: FASTRTPS_DEFAULT_PROFILES_FILE, value: /etc/fastdds/profile.xml}}]\n{mount}")
        };
        let mount = "          volumeMounts: [{name: dds, mountPath: /etc/fastdds}]\n";
        let cm = |xml: &str| {
            format!("---\nkind: ConfigMap\nmetadata: {{name: fastdds}}\ndata:\n  profile.xml: |\n    {xml}\n")
        };
        let udp = "<profiles><transport_descriptors><transport_descriptor><transport_id>udp</transport_id><type>UDPv4</type></transport_descriptor></transport_descriptors><participant profile_name=\"p\" is_default_profile=\"true\"><rtps><userTransports><transport_id>udp</transport_id></userTransports><useBuiltinTransports>false</useBuiltinTransports></rtps></participant></profiles>";
        let both = deploy("a", mount) + &deploy("b", mount);
        let f = run(&(both.clone() + &cm(udp)));
        assert_eq!(fired(&f, "fastdds-host-network-shm"), 0, "{:?}", rules(&f));
        let f =
            run(&(both.clone()
                + &cm("<profiles><participant profile_name=\"p\" is_default_profile=\"true\"/></profiles>")));
        let warned = |f: &[LintFinding], s: Severity| {
            f.iter().filter(|x| x.rule == "fastdds-host-network-shm" && x.severity == s).count()
        };
        assert_eq!(warned(&f, Severity::Warning), 2, "{:?}", rules(&f));
        // Humble: the fix is a profile, not FASTDDS_BUILTIN_TRANSPORTS (its Fast DDS predates it).
        assert!(f
            .iter()
            .any(|x| x.rule == "fastdds-host-network-shm" && x.fix.contains("UDP-only Fast DDS XML profile")));
        // The profile is not in the set: the lint cannot tell.
        let f = run(&(deploy("a", "") + &deploy("b", "")));
        assert_eq!(warned(&f, Severity::Note), 2, "{:?}", rules(&f));
        // On the pod network: an initial peers list is unicast discovery.
        let pod_net = |xml: &str| (both.clone() + &cm(xml)).replace("      hostNetwork: true\n", "");
        let peers = "<profiles><participant profile_name=\"p\" is_default_profile=\"true\"><rtps><builtin><initialPeersList><locator><udpv4><address>talker.peers</address></udpv4></locator></initialPeersList></builtin></rtps></participant></profiles>";
        assert_eq!(fired(&run(&pod_net(peers)), "multicast-discovery-across-nodes"), 0);
        assert_eq!(fired(&run(&pod_net(udp)), "multicast-discovery-across-nodes"), 2);
    }
}
