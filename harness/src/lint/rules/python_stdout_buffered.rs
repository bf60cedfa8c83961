//! `stdout-buffered` (note): output that really is block-buffered on a pipe — Python's `print`,
//! `ros2 topic echo`, ROS 1's rosconsole — so `kubectl logs` shows it late, or never.

use crate::lint::distro::Ros;
use crate::lint::document::is_true;
use crate::lint::finding::{Out, Severity};
use crate::lint::workload::Workload;

/// What really buffers a pipe: Python's `print` without unbuffered output, `ros2 topic echo`
/// (print, too), ROS 1's rosconsole. ROS 2 loggers write to stderr unbuffered (measured on
/// Jazzy: a SIGKILLed rclpy talker had every line out).
pub(super) fn check(w: &Workload, out: &mut Out) {
    for c in &w.containers {
        if is_true(c.node.get("tty")) {
            continue;
        }
        let unbuffered = c.env_is("PYTHONUNBUFFERED", |v| !v.is_empty() && v != "0");
        let python = c.words.iter().position(|x| x.rsplit('/').next().is_some_and(|b| b.starts_with("python")));
        let python_script =
            python.is_some_and(|i| c.words.get(i + 1).is_some_and(|a| *a != "-u" && !a.starts_with("-u")));
        let echo = c.words.windows(3).any(|x| x == ["ros2", "topic", "echo"]);
        let what = if c.ros == Ros::One && !c.env_is("ROSCONSOLE_STDOUT_LINE_BUFFERED", |v| v == "1") {
            Some((
                "a ROS 1 node: rosconsole writes INFO to stdout, block-buffered on a pipe",
                "set ROSCONSOLE_STDOUT_LINE_BUFFERED=1 (rospy: PYTHONUNBUFFERED=1)",
            ))
        } else if !unbuffered && echo {
            Some(("`ros2 topic echo` prints with Python's print: on a pipe (kubectl logs) its output comes in blocks, late, and is lost if the process is killed", "set PYTHONUNBUFFERED=1"))
        } else if !unbuffered && python_script {
            Some(("a Python program: its print() output to a pipe is block-buffered (kubectl logs shows it late, or never if it is killed); ROS 2 logger output goes to stderr unbuffered and is not affected", "set PYTHONUNBUFFERED=1 or run `python -u`"))
        } else {
            None
        };
        if let Some((what, fix)) = what {
            out.push(w, c.node.line(), Severity::Note, "stdout-buffered", format!("container {}: {what}", c.name), fix);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::finding::Severity;
    use crate::lint::testing::{fired, run};

    #[test]
    fn buffering_is_claimed_only_for_what_buffers() {
        let c = |cmd: &str, env: &str| {
            run(&format!("kind: Pod\nmetadata: {{name: p}}\nspec:\n  nodeName: n\n  containers:\n    - name: c\n      image: ros:jazzy\n      command: {cmd}\n{env}"))
        };
        assert_eq!(fired(&c("[ros2, run, demo_nodes_py, talker]", ""), "stdout-buffered"), 0);
        assert_eq!(fired(&c("[python3, /app/node.py]", ""), "stdout-buffered"), 1);
        assert_eq!(fired(&c("[python3, -u, /app/node.py]", ""), "stdout-buffered"), 0);
        assert_eq!(
            fired(
                &c("[python3, /app/node.py]", "      env: [{name: PYTHONUNBUFFERED, value: '1'}]\n"),
                "stdout-buffered"
            ),
            0
        );
        assert_eq!(fired(&c("[ros2, topic, echo, /chatter]", ""), "stdout-buffered"), 1);
        assert_eq!(fired(&c("[ros2, topic, echo, /chatter]", "      tty: true\n"), "stdout-buffered"), 0);
        let ros1 = run("kind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n    - name: c\n      image: ros:noetic\n      command: [roslaunch, robot, bringup.launch]\n");
        assert_eq!(fired(&ros1, "stdout-buffered"), 1);
        assert!(ros1.iter().all(|x| x.severity == Severity::Note));
    }
}
