//! `host-pid-ipc-unneeded` (note): hostPID on a ROS 2 pod, or hostIPC off the host network,
//! where it gives Fast DDS nothing.

use crate::lint::document::is_true;
use crate::lint::finding::{Out, Severity};
use crate::lint::workload::Workload;

/// hostPID for a ROS pod; hostIPC on the pod network (where Fast DDS never picks shared
/// memory between pods: measured, pods of one node on the pod network deliver with their own
/// /dev/shm).
pub(super) fn check(w: &Workload, out: &mut Out) {
    if !w.ros2() {
        return;
    }
    if let Some(n) = w.host_pid.filter(|n| is_true(Some(n))) {
        out.push(
            w,
            n.line(),
            Severity::Note,
            "host-pid-ipc-unneeded",
            "hostPID: ROS 2 does not need the node's process namespace; the pod sees and can signal every process on the node".into(),
            "remove hostPID",
        );
    }
    if let Some(n) = w.host_ipc.filter(|n| is_true(Some(n)) && !w.host_network()) {
        out.push(
            w,
            n.line(),
            Severity::Note,
            "host-pid-ipc-unneeded",
            "hostIPC on the pod network: each pod has its own network namespace, so Fast DDS uses UDP between pods \
             and never the node's shared memory (measured: pods of one node on the pod network deliver, each with \
             its own /dev/shm); hostIPC only shares the node's IPC with the pod"
                .into(),
            "remove hostIPC (it is needed only with hostNetwork: true and Fast DDS shared memory)",
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::testing::{fired, run};

    #[test]
    fn host_pid_and_host_ipc_off_the_host_network_are_noted() {
        let p = |spec: &str, ports: &str| {
            run(&format!("kind: Pod\nmetadata: {{name: p}}\nspec:\n{spec}  containers:\n    - name: c\n      image: ros:jazzy\n      command: [ros2, run, rosbridge_server, rosbridge_websocket]\n{ports}"))
        };
        assert_eq!(fired(&p("  hostPID: true\n", ""), "host-pid-ipc-unneeded"), 1);
        assert_eq!(fired(&p("  hostIPC: true\n", ""), "host-pid-ipc-unneeded"), 1);
        // hostIPC with hostNetwork is the shared-memory fix: not unneeded.
        assert_eq!(fired(&p("  hostNetwork: true\n  hostIPC: true\n", ""), "host-pid-ipc-unneeded"), 0);
    }
}
