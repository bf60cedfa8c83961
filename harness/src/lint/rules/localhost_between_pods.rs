//! `localhost-between-pods` (warning): `localhost:PORT` to a port another pod serves; loopback is
//! per pod.

use std::collections::BTreeSet;

use crate::lint::finding::{Out, Severity};
use crate::lint::workload::Workload;

/// `localhost:PORT` to a port that another pod serves: works only while both share a network
/// namespace (hostNetwork on one node).
pub(super) fn check(all: &[Workload], out: &mut Out) {
    for w in all {
        let own: BTreeSet<u64> = w.containers.iter().flat_map(|c| c.ports.iter().map(|(p, _)| *p)).collect();
        for c in &w.containers {
            let texts = c
                .args
                .iter()
                .filter_map(|a| a.str().map(|t| (t, a.line())))
                .chain(c.env.values().map(|(v, l)| (v.as_str(), *l)));
            for (text, line) in texts {
                for host in ["localhost:", "127.0.0.1:"] {
                    let Some(rest) = text.split(host).nth(1) else { continue };
                    let Ok(port) = rest.chars().take_while(char::is_ascii_digit).collect::<String>().parse::<u64>()
                    else {
                        continue;
                    };
                    if own.contains(&port) {
                        continue;
                    }
                    let servers: Vec<&Workload> = all
                        .iter()
                        .filter(|o| {
                            !std::ptr::eq(*o, w)
                                && o.containers.iter().any(|oc| oc.ports.iter().any(|(p, _)| *p == port))
                        })
                        .collect();
                    if servers.is_empty() {
                        continue;
                    }
                    out.push(
                        w,
                        line,
                        Severity::Warning,
                        "localhost-between-pods",
                        format!(
                            "container {}: {host}{port} is served by {}, another pod: loopback is per pod, so this works only while both are on the host network of one node",
                            c.name,
                            w.other_names(&servers)
                        ),
                        "reach it through a Service name (or put both containers in one pod)",
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::finding::Severity;
    use crate::lint::testing::{fired, rules, run, ONE_POD_AND_TWO_SERVERS_APART, REPLICATED_TALKER_BRIDGE_AND_SERVER};

    #[test]
    fn localhost_to_a_port_another_pod_serves_is_flagged() {
        let f = run(REPLICATED_TALKER_BRIDGE_AND_SERVER);
        let r = rules(&f);
        assert!(r.contains(&("localhost-between-pods", 12, Severity::Warning)), "{r:?}");
        // One replica, the port in its own pod, two servers apart: silent.
        let ok = run(ONE_POD_AND_TWO_SERVERS_APART);
        let r = rules(&ok);
        let rule = "localhost-between-pods";
        assert_eq!(fired(&ok, rule), 0, "{rule}: {r:?}");
    }
}
