//! `shell-operator-without-shell` (error): `&&`, `||`, `;` or `|` in `command`/`args` with no shell
//! to run them — the program gets them as arguments and the second command never starts.

use crate::lint::document::Node;
use crate::lint::finding::{Out, Severity};
use crate::lint::workload::Workload;

/// Shell operators that mean "a shell was expected here".
const SHELL_OPERATORS: [&str; 4] = ["&&", "||", ";", "|"];
/// Programs that run their argument as a shell line.
const SHELLS: [&str; 8] = ["sh", "bash", "/bin/sh", "/bin/bash", "/usr/bin/bash", "/usr/bin/sh", "dash", "zsh"];

/// `&&`, `;`, `|` in `command`/`args` without a shell: the seed's in-pod listener never started.
pub(super) fn check(w: &Workload, out: &mut Out) {
    for c in &w.containers {
        if c.node
            .get("command")
            .map(Node::items)
            .unwrap_or_default()
            .first()
            .and_then(Node::str)
            .is_some_and(|p| SHELLS.contains(&p))
        {
            continue;
        }
        for a in &c.args {
            let Some(text) = a.str() else { continue };
            // `a && b`, and `a; b` (the semicolon ends a word; not inside `KEY=a;b`).
            let operator =
                |t: &str, op: &str| t == op || (op == ";" && t.len() > 1 && t.ends_with(';') && !t.contains('='));
            if let Some(op) = SHELL_OPERATORS.iter().find(|op| text.split_whitespace().any(|t| operator(t, op))) {
                out.push(
                    w,
                    a.line(),
                    Severity::Error,
                    "shell-operator-without-shell",
                    format!(
                        "container {}: `{op}` in \"{text}\" is passed to the program as an argument — no shell runs \
                         it, so the second command never starts",
                        c.name
                    ),
                    "one process per container (a second container for the second node), or `command: [sh, -c]` \
                     with the whole line as one argument",
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::testing::{fired, run};

    #[test]
    fn a_shell_makes_the_operator_fine() {
        let ok = run("kind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n    - name: c\n      image: x\n      command: [sh, -c]\n      args: [\"a && b\"]\n");
        assert_eq!(fired(&ok, "shell-operator-without-shell"), 0, "{ok:?}");
    }
}
