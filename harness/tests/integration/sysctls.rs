//! A pod's sysctls on the simulated cluster: set in that pod's own network namespace before its
//! containers start, read there by a container of the pod itself, and nowhere else (not in a
//! pod without them, not on this machine). And a pod's kernel state is a trial's own: each
//! trial's pods get new network namespaces, as a new pod on a cluster would.

use super::netns::run;

const IPFRAG_TIME: &str = "/proc/sys/net/ipv4/ipfrag_time";
const IPFRAG_HIGH: &str = "/proc/sys/net/ipv4/ipfrag_high_thresh";

/// A container of pod `pod` that writes what it reads of the reassembly sysctls to `<dir>/<pod>`.
fn reader(dir: &std::path::Path, pod: &str) -> String {
    let out = dir.join(pod);
    format!(
        "{{name: read, role: process, command: [sh, -c, 'cat {IPFRAG_TIME} {IPFRAG_HIGH} > {}.tmp && mv {0}.tmp {0}; exec sleep 600']}}",
        out.display()
    )
}

#[test]
fn pod_sysctls_are_set_in_the_pods_namespace_only() {
    let host = || (std::fs::read_to_string(IPFRAG_TIME).unwrap(), std::fs::read_to_string(IPFRAG_HIGH).unwrap());
    let before = host();
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "name: sysctls
nodes: [{{name: master}}, {{name: pi}}]
pods:
  - name: cam
    nodeSelector: {{kubernetes.io/hostname: master}}
    containers: [{{name: talker, role: talker}}, {cam}]
  - name: view
    nodeSelector: {{kubernetes.io/hostname: pi}}
    sysctls: {{net.ipv4.ipfrag_time: 47, net.ipv4.ipfrag_high_thresh: \"67108864\"}}
    containers: [{{name: listener, role: listener}}, {view}]
trials: {{count: 1, durationS: 1, warmupS: 1, drainS: 0.2}}
",
        cam = reader(dir.path(), "cam"),
        view = reader(dir.path(), "view")
    );
    let path = dir.path().join("sysctls.yaml");
    std::fs::write(&path, text).unwrap();
    let r = run(&path, &[]);
    let read = |pod: &str| std::fs::read_to_string(dir.path().join(pod)).unwrap();
    assert_eq!(read("view"), "47\n67108864\n", "the pod's own namespace has its sysctls");
    assert_eq!(read("cam"), "30\n4194304\n", "a pod without sysctls keeps the kernel's defaults");
    assert_eq!(host(), before, "this machine's own values are untouched");
    assert_ne!(before.0.trim(), "47");
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(r.dir.join("run.json")).unwrap()).unwrap();
    let view = meta["plan"]["pods"].as_array().unwrap().iter().find(|p| p["name"] == "view").unwrap();
    assert_eq!(view["sysctls"]["net.ipv4.ipfrag_time"], "47");
    let notes: Vec<&str> = meta["notes"].as_array().unwrap().iter().filter_map(|n| n.as_str()).collect();
    assert!(
        notes.iter().any(|n| n.starts_with(
            "pod view: sysctls net.ipv4.ipfrag_high_thresh=67108864, net.ipv4.ipfrag_time=47 set in its own network \
             namespace"
        )),
        "{notes:#?}"
    );
}

/// The local backend runs every pod in one namespace: it refuses pod sysctls before anything
/// starts, rather than running without them.
#[test]
fn the_local_backend_refuses_pod_sysctls() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("local.yaml");
    std::fs::write(
        &path,
        "name: local\npods:\n  - name: t\n    containers: [{name: t, role: talker}]\n  - name: view\n    sysctls: \
         {net.ipv4.ipfrag_time: 5}\n    containers: [{name: l, role: listener}]\ntrials: {count: 1, durationS: 1, \
         warmupS: 1}\n",
    )
    .unwrap();
    let out = super::netns::harness()
        .args(["run", "--backend", "local", "--no-progress", "--out"])
        .arg(dir.path().join("out"))
        .arg(&path)
        .output()
        .unwrap();
    assert!(!out.status.success() && out.status.code() != Some(1), "exit {:?}", out.status);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("cannot set pod view's sysctls in a namespace of its own; use --backend netns"),
        "{stderr}"
    );
}

/// Trials one at a time: each trial's pod has a network namespace of its own, not the last
/// trial's (whose incomplete reassembly queues, held for `ipfrag_time`, refused the next trial's
/// fragments when namespaces were kept).
#[test]
fn each_trial_runs_in_new_pod_namespaces() {
    let dir = tempfile::tempdir().unwrap();
    let seen = dir.path().join("seen");
    let text = format!(
        "name: fresh
nodes: [{{name: master}}, {{name: pi}}]
pods:
  - name: cam
    nodeSelector: {{kubernetes.io/hostname: master}}
    containers: [{{name: talker, role: talker}}]
  - name: view
    nodeSelector: {{kubernetes.io/hostname: pi}}
    containers:
      - {{name: listener, role: listener}}
      - {{name: ns, role: process, command: [sh, -c, 'readlink /proc/self/ns/net >> {seen}; exec sleep 600']}}
trials: {{count: 3, durationS: 1, warmupS: 1, drainS: 0.2}}
",
        seen = seen.display()
    );
    let path = dir.path().join("fresh.yaml");
    std::fs::write(&path, text).unwrap();
    run(&path, &[]);
    let lines: Vec<String> = std::fs::read_to_string(&seen).unwrap().lines().map(str::to_owned).collect();
    assert_eq!(lines.len(), 3, "one line a trial: {lines:?}");
    let distinct: std::collections::BTreeSet<&String> = lines.iter().collect();
    assert_eq!(distinct.len(), 3, "a namespace of its own each trial: {lines:?}");
}
