//! Which talkers a sweep changes, and the scenario at one size: `payloadBytes` set on those
//! talkers and nothing else.

use serde::{Deserialize, Serialize};

use crate::spec::{ContainerRole, Scenario};

/// The talkers whose `payloadBytes` a sweep sets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Swept {
    /// Their record ids (`<pod>.<container>`, as in every report).
    pub talkers: Vec<String>,
    /// Talkers left as the scenario has them.
    pub kept: Vec<String>,
    /// Every talker, because none set `payloadBytes`.
    pub all: bool,
    /// Of the swept talkers, those that run your own program (`command`, `image`, `standIn`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub own_programs: Vec<String>,
}

impl Swept {
    /// The talkers of `s` (expanded, as loaded) that set `payloadBytes`; if none does, all.
    pub fn of(s: &Scenario) -> Swept {
        let talkers: Vec<(String, bool, bool)> = s
            .pods
            .iter()
            .flat_map(|p| p.containers.iter().map(move |c| (p, c)))
            .filter(|(_, c)| c.role == ContainerRole::Talker)
            .map(|(p, c)| (format!("{}.{}", p.name, c.name), c.payload_bytes.is_some(), c.is_custom()))
            .collect();
        let all = !talkers.iter().any(|t| t.1);
        let (swept, kept): (Vec<_>, Vec<_>) = talkers.into_iter().partition(|t| all || t.1);
        Swept {
            own_programs: swept.iter().filter(|t| t.2).map(|t| t.0.clone()).collect(),
            talkers: swept.into_iter().map(|t| t.0).collect(),
            kept: kept.into_iter().map(|t| t.0).collect(),
            all,
        }
    }

    /// Whether talker `id` is swept.
    pub fn covers(&self, id: &str) -> bool {
        self.talkers.iter().any(|t| t == id)
    }

    /// In words, for the reports' notes.
    pub fn note(&self) -> String {
        let list = |v: &[String]| v.join(", ");
        let mut n = if self.all {
            format!("No talker sets payloadBytes, so the sweep sets it on every talker: {}.", list(&self.talkers))
        } else {
            let mut n = format!("The sweep sets payloadBytes on the talkers that set it: {}", list(&self.talkers));
            if !self.kept.is_empty() {
                n.push_str(&format!(
                    "; the others keep the scenario's size and are not in the tables: {}",
                    list(&self.kept)
                ));
            }
            n + "."
        };
        if self.all && !self.own_programs.is_empty() {
            n.push_str(&format!(
                " Of these, {} run your own program: its messages follow payloadBytes only if it reads it.",
                list(&self.own_programs)
            ));
        }
        n
    }
}

/// `s` with `payloadBytes: bytes` on the swept talkers.
pub fn at_size(s: &Scenario, swept: &Swept, bytes: u32) -> Scenario {
    let mut out = s.clone();
    for p in &mut out.pods {
        for c in p.containers.iter_mut().filter(|c| c.role == ContainerRole::Talker) {
            if swept.covers(&format!("{}.{}", p.name, c.name)) {
                c.payload_bytes = Some(bytes);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenario(pods: &str) -> Scenario {
        let text = format!("name: t\nnodes:\n  - name: a\n  - name: b\npods:\n{pods}");
        crate::spec::parse(&text, std::path::Path::new("t.yaml")).expect("valid scenario")
    }

    const TWO_TALKERS: &str = "  - name: cam\n    containers:\n      - {name: talker, role: talker, payloadBytes: 1000}\n  - name: chat\n    replicas: 2\n    containers:\n      - {name: talker, role: talker}\n      - {name: listener, role: listener}\n";

    #[test]
    fn only_the_talkers_that_set_payload_bytes() {
        let s = scenario(TWO_TALKERS);
        let swept = Swept::of(&s);
        assert_eq!(swept.talkers, ["cam.talker"]);
        assert_eq!(swept.kept, ["chat-1.talker", "chat-2.talker"]);
        assert!(!swept.all);
        let big = at_size(&s, &swept, 4 << 20);
        let sizes: Vec<Option<u32>> = big.pods.iter().flat_map(|p| &p.containers).map(|c| c.payload_bytes).collect();
        assert_eq!(sizes, [Some(4 << 20), None, None, None, None]);
        assert!(swept.note().contains("the others keep the scenario's size"), "{}", swept.note());
    }

    #[test]
    fn every_talker_when_none_sets_it() {
        let s = scenario("  - name: p\n    containers:\n      - {name: t, role: talker, processes: 2}\n      - {name: l, role: listener}\n");
        let swept = Swept::of(&s);
        assert!(swept.all);
        assert_eq!(swept.talkers, ["p.t-1", "p.t-2"]);
        let big = at_size(&s, &swept, 65_536);
        let talkers = big.pods[0].containers.iter().filter(|c| c.role == ContainerRole::Talker);
        assert!(talkers.map(|c| c.payload_bytes).all(|b| b == Some(65_536)));
        assert_eq!(big.pods[0].containers.iter().find(|c| c.name == "l").and_then(|c| c.payload_bytes), None);
        assert!(swept.note().starts_with("No talker sets payloadBytes"), "{}", swept.note());
    }
}
