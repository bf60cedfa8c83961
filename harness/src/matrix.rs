//! `harness matrix`: which change makes every listener hear every talker? The scenario runs
//! once per fix variant — as it is, unicast discovery peers, a multicast-capable CNI, the host
//! network — each a normal run directory inside one matrix directory, and one table says which
//! pairs each variant delivered and with which verdict. The least invasive variant that
//! delivers everything is recommended with the manifest change that makes it (a kustomize
//! overlay, checked by `scripts/validate-manifests.sh`). Variants that cannot apply are listed
//! with why.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::backend::netns::topology::Topology;
use crate::placement::Plan;
use crate::report::html::esc;
use crate::report::Table;
use crate::results::{write_atomic, ResultsError};
use crate::spec::{Rmw, Scenario};
use crate::summary::{RunReport, VerdictKind};

/// A way to change the deployment.
#[derive(Debug, Clone)]
pub struct Variant {
    pub id: &'static str,
    pub title: &'static str,
    /// How much it changes a cluster: 0 nothing, higher is more invasive.
    pub rank: u8,
    /// The scenario to run, or why the variant does not apply.
    pub scenario: Result<Scenario, String>,
}

/// The peer list of the unicast-peers variant on the simulated cluster: every address a pod
/// can have there (its pod-network address on any node, and every node's address for the host
/// network), so it holds wherever the pods are placed.
fn netns_peers(plan: &Plan) -> Vec<String> {
    let mut peers = Vec::new();
    for i in 0..plan.nodes.len() {
        for k in 0..plan.pods.len() {
            peers.push(format!("10.42.{i}.{}", k + 2));
        }
        peers.push(Topology::node_addr(i));
    }
    peers
}

/// A Cyclone DDS configuration that discovers through unicast `peers` (SPDP multicast stays
/// allowed, for peers on one node); participant indices make the peers' ports predictable.
pub fn cyclone_peers_xml(peers: &[String]) -> String {
    let mut x = String::from(
        "<CycloneDDS><Domain Id=\"any\"><General><AllowMulticast>spdp</AllowMulticast></General><Discovery>\
         <ParticipantIndex>auto</ParticipantIndex><MaxAutoParticipantIndex>20</MaxAutoParticipantIndex><Peers>",
    );
    for p in peers {
        let _ = write!(x, "<Peer Address=\"{p}\"/>");
    }
    x.push_str("</Peers></Discovery></Domain></CycloneDDS>");
    x
}

/// The variants for `scenario` on `backend`, in order of invasiveness.
pub fn variants(scenario: &Scenario, plan: &Plan, backend: &str) -> Vec<Variant> {
    let custom = scenario.pods.iter().flat_map(|p| &p.containers).any(|c| c.is_custom());
    let ours = !custom;
    let mut v = vec![Variant { id: "as-is", title: "as deployed", rank: 0, scenario: Ok(scenario.clone()) }];
    v.push(Variant {
        id: "unicast-peers",
        title: "Cyclone DDS unicast discovery peers (CYCLONEDDS_URI)",
        rank: 1,
        scenario: match scenario.dds.rmw {
            Some(Rmw::Cyclonedds) => {
                let xml = cyclone_peers_xml(&netns_peers(plan));
                let mut s = scenario.clone();
                for c in s.pods.iter_mut().flat_map(|p| p.containers.iter_mut()).filter(|c| c.is_custom()) {
                    c.env.insert("CYCLONEDDS_URI".into(), xml.clone());
                }
                Ok(s)
            }
            Some(Rmw::Fastdds) => Err("the containers use Fast DDS: its unicast peers are ROS_STATIC_PEERS (Jazzy+) \
                                       or initial peers in an XML profile, not CYCLONEDDS_URI"
                .into()),
            None if ours => Err("the harness's own nodes (RustDDS) have no static-peer API".into()),
            None => Err("set dds.rmw to the containers' RMW to try unicast peers".into()),
        },
    });
    v.push(Variant {
        id: "ros-static-peers",
        title: "ROS_STATIC_PEERS (ROS 2 Jazzy and later)",
        rank: 1,
        scenario: Err(match scenario.dds.rmw {
            Some(Rmw::Fastdds) => "needs ROS 2 Jazzy or later in the images; not available on this machine".into(),
            _ => "needs ROS 2 Jazzy or later with Fast DDS; these containers are not that".into(),
        }),
    });
    v.push(Variant {
        id: "discovery-server",
        title: "a Fast DDS discovery server",
        rank: 2,
        scenario: Err(match scenario.dds.rmw {
            Some(Rmw::Fastdds) => "needs Fast DDS's `fastdds discovery` tool, which is not installed here".into(),
            _ => "needs Fast DDS (rmw_fastrtps_cpp) in the containers".into(),
        }),
    });
    v.push(Variant {
        id: "multicast-cni",
        title: "a CNI that carries multicast between nodes",
        rank: 3,
        scenario: if backend == "netns" {
            let mut s = scenario.clone();
            s.network.multicast_between_nodes = true;
            Ok(s)
        } else {
            Err("only simulated on the netns backend".into())
        },
    });
    v.push(Variant {
        id: "host-network",
        title: "hostNetwork: true for the ROS pods",
        // (With Fast DDS also FASTDDS_BUILTIN_TRANSPORTS=UDPv4: no shared memory between pods.)
        rank: 4,
        scenario: {
            let mut s = scenario.clone();
            for p in &mut s.pods {
                p.host_network = true;
            }
            // Same-host pods on the host network look like one host to Fast DDS, which then
            // picks shared memory they do not share: UDP only.
            if s.dds.rmw == Some(Rmw::Fastdds) {
                for c in s.pods.iter_mut().flat_map(|p| p.containers.iter_mut()).filter(|c| c.is_custom()) {
                    c.env.insert("FASTDDS_BUILTIN_TRANSPORTS".into(), "UDPv4".into());
                }
            }
            Ok(s)
        },
    });
    v
}

/// One pair's result under one variant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PairCell {
    pub pair: String,
    pub delivered: u32,
    pub trials: u32,
}

/// What one variant gave.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum Outcome {
    Ran {
        /// Its run directory, relative to the matrix directory.
        dir: String,
        verdict: VerdictKind,
        headline: String,
        pairs: Vec<PairCell>,
        /// Every pair delivered in every complete trial.
        delivers_all: bool,
    },
    NotApplicable {
        why: String,
    },
    Failed {
        error: String,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VariantResult {
    pub id: String,
    pub title: String,
    pub rank: u8,
    pub outcome: Outcome,
}

/// The whole matrix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatrixReport {
    pub scenario: String,
    pub backend: String,
    pub variants: Vec<VariantResult>,
    /// The least invasive variant that delivered everything.
    pub recommended: Option<String>,
    /// The manifest change for it (kustomize), or what to do where none exists.
    pub fix: Option<String>,
}

/// What a run gave, as a matrix outcome.
pub fn outcome_of(report: &RunReport, dir: &str) -> Outcome {
    let pairs: Vec<PairCell> = report
        .pairs
        .iter()
        .filter(|p| p.talker != crate::analysis::ANONYMOUS)
        .map(|p| PairCell {
            pair: format!("{} → {}", p.talker, p.listener),
            delivered: p.trials_delivered,
            trials: p.trials,
        })
        .collect();
    let complete = report.complete().count() > 0;
    let delivers_all = complete && pairs.iter().all(|p| p.trials > 0 && p.delivered == p.trials);
    Outcome::Ran {
        dir: dir.to_owned(),
        verdict: report.verdict.kind,
        headline: report.verdict.headline.clone(),
        pairs,
        delivers_all,
    }
}

impl MatrixReport {
    /// Picks the least invasive variant that delivered everything.
    pub fn recommend(&mut self) {
        self.recommended = self
            .variants
            .iter()
            .filter(|v| matches!(v.outcome, Outcome::Ran { delivers_all: true, .. }))
            .min_by_key(|v| v.rank)
            .map(|v| v.id.clone());
    }

    /// Variant × pair: trials delivered / trials, and the verdict.
    pub fn table(&self) -> Table {
        let mut pairs: Vec<String> = Vec::new();
        for v in &self.variants {
            if let Outcome::Ran { pairs: ps, .. } = &v.outcome {
                for p in ps {
                    if !pairs.contains(&p.pair) {
                        pairs.push(p.pair.clone());
                    }
                }
            }
        }
        let head = std::iter::once(("variant".to_owned(), false))
            .chain(pairs.iter().map(|p| (p.clone(), true)))
            .chain([("verdict".to_owned(), false)]);
        let mut t = Table::new("Which fix delivers: trials in which each pair delivered, per variant", head);
        for v in &self.variants {
            let mut row = vec![v.title.clone()];
            match &v.outcome {
                Outcome::Ran { pairs: ps, verdict, delivers_all, .. } => {
                    for p in &pairs {
                        row.push(
                            ps.iter()
                                .find(|c| &c.pair == p)
                                .map_or("–".into(), |c| format!("{}/{}", c.delivered, c.trials)),
                        );
                    }
                    let mark = if *delivers_all { "delivers everything" } else { "does not" };
                    row.push(format!("{} ({mark})", verdict.as_str()));
                }
                Outcome::NotApplicable { why } => {
                    row.extend(pairs.iter().map(|_| "n/a".to_owned()));
                    row.push(format!("not applicable: {why}"));
                }
                Outcome::Failed { error } => {
                    row.extend(pairs.iter().map(|_| "–".to_owned()));
                    row.push(format!("failed: {error}"));
                }
            }
            t.rows.push(row);
        }
        t
    }

    fn recommendation_words(&self) -> String {
        match &self.recommended {
            Some(id) => {
                let title = self.variants.iter().find(|v| &v.id == id).map_or(id.as_str(), |v| v.title.as_str());
                if id == "as-is" {
                    "As deployed, every listener already hears every talker: nothing to fix.".to_owned()
                } else {
                    format!(
                        "Recommended: {title} — the least invasive change that delivered every pair in every trial."
                    )
                }
            }
            None => "No variant delivered every pair in every trial.".to_owned(),
        }
    }

    pub fn markdown(&self) -> String {
        let mut md = format!("# Fix matrix: {} ({} backend)\n\n", self.scenario, self.backend);
        md.push_str(&crate::report::markdown::table_string(&self.table()));
        let _ = writeln!(md, "\n**{}**\n", self.recommendation_words());
        if let Some(fix) = &self.fix {
            let _ = writeln!(
                md,
                "The change (also in `fix/`, applied with `kubectl apply -k fix/`):\n\n```yaml\n{fix}```\n"
            );
        }
        md.push_str("Each variant's full report is in its own directory:\n\n");
        for v in &self.variants {
            if let Outcome::Ran { dir, headline, .. } = &v.outcome {
                let _ = writeln!(md, "- [{}]({dir}/report.md): {}", v.title, crate::report::markdown::cell(headline));
            }
        }
        md
    }

    pub fn html(&self) -> String {
        let mut h = format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" \
             content=\"width=device-width,initial-scale=1\"><title>Fix matrix: {s}</title><style>{css}</style></head>\
             <body><h1>Fix matrix: {s} ({b} backend)</h1>\n",
            s = esc(&self.scenario),
            b = esc(&self.backend),
            css = crate::report::html::STYLE
        );
        h.push_str(&crate::report::html::table_html(&self.table()));
        let _ = writeln!(h, "<p><strong>{}</strong></p>", esc(&self.recommendation_words()));
        if let Some(fix) = &self.fix {
            let _ = writeln!(
                h,
                "<p>The change (also in <code>fix/</code>):</p><div class=\"scroll\"><pre>{}</pre></div>",
                esc(fix)
            );
        }
        h.push_str("<ul>\n");
        for v in &self.variants {
            if let Outcome::Ran { dir, headline, .. } = &v.outcome {
                let _ = writeln!(
                    h,
                    "<li><a href=\"{}/report.html\">{}</a>: {}</li>",
                    esc(dir),
                    esc(&v.title),
                    esc(headline)
                );
            }
        }
        h.push_str("</ul></body></html>\n");
        h
    }

    pub fn console(&self) -> String {
        let t = self.table();
        let mut out = String::new();
        let widths: Vec<usize> = (0..t.head.len())
            .map(|i| t.rows.iter().map(|r| r[i].chars().count()).chain([t.head[i].chars().count()]).max().unwrap_or(0))
            .collect();
        let line = |cells: &[String]| {
            let mut s = String::new();
            for (i, c) in cells.iter().enumerate() {
                let _ = write!(s, "{c:<w$}  ", w = widths[i]);
            }
            s.trim_end().to_owned() + "\n"
        };
        out.push_str(&line(&t.head));
        for r in &t.rows {
            out.push_str(&line(r));
        }
        let _ = writeln!(out, "{}", self.recommendation_words());
        if let Some(fix) = &self.fix {
            let _ = write!(out, "the change (kustomize, in fix/):\n{fix}");
        }
        out
    }

    /// Writes `matrix.json`, `matrix.md` and `matrix.html` into `dir`.
    pub fn write(&self, dir: &Path) -> Result<(), ResultsError> {
        write_atomic(&dir.join("matrix.json"), |w| {
            serde_json::to_writer_pretty(&mut *w, self).map_err(std::io::Error::from)?;
            w.write_all(b"\n")
        })?;
        write_atomic(&dir.join("matrix.md"), |w| w.write_all(self.markdown().as_bytes()))?;
        write_atomic(&dir.join("matrix.html"), |w| w.write_all(self.html().as_bytes()))
    }
}

/// The kustomize overlay that applies a variant to the scenario's rendered objects
/// (`base.yaml`, what `harness render` writes): `kustomization.yaml` and any files it names.
/// `None` where no manifest change exists (a CNI is a cluster choice).
pub fn fix_files(variant: &str, plan: &Plan, namespace: &str, rmw: Option<Rmw>) -> Option<BTreeMap<String, String>> {
    let mut files = BTreeMap::new();
    match variant {
        "host-network" => {
            let mut k = String::from(
                "# Every ROS pod on the host network: DDS discovery multicast travels on the nodes' LAN.\n\
                 apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - base.yaml\n\
                 patches:\n  - target:\n      kind: Pod\n    patch: |-\n      - op: add\n        path: /spec/hostNetwork\n\
                 \x20       value: true\n      - op: add\n        path: /spec/dnsPolicy\n        value: ClusterFirstWithHostNet\n",
            );
            if rmw == Some(Rmw::Fastdds) {
                // Pods on one host look like one host to Fast DDS: no shared memory between them.
                for p in &plan.pods {
                    for i in 0..p.containers.len() {
                        let _ = write!(
                            k,
                            "  - target:\n      kind: Pod\n      name: {n}\n    patch: |-\n      - op: add\n        path: /spec/containers/{i}/env/-\n        value: {{name: FASTDDS_BUILTIN_TRANSPORTS, value: UDPv4}}\n",
                            n = p.name
                        );
                    }
                }
            }
            files.insert("kustomization.yaml".into(), k);
            Some(files)
        }
        "unicast-peers" => {
            let service = "chatter-peers";
            let peers: Vec<String> =
                plan.pods.iter().map(|p| format!("{}.{service}.{namespace}.svc.cluster.local", p.name)).collect();
            let xml = cyclone_peers_xml(&peers).replace("><", ">\n<");
            files.insert("cyclonedds.xml".into(), format!("{xml}\n"));
            let mut k = String::from(
                "# Discovery without multicast: every pod resolvable as <pod>.chatter-peers.<namespace>.svc\n\
                 # (headless Service + hostname/subdomain) and listed as a Cyclone DDS unicast peer.\n\
                 apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n",
            );
            let _ = write!(
                k,
                "namespace: {namespace}\nresources:\n  - base.yaml\n  - peers-service.yaml\nconfigMapGenerator:\n  - name: cyclonedds-peers\n    files:\n      - cyclonedds.xml\npatches:\n"
            );
            for p in &plan.pods {
                let _ = write!(
                    k,
                    "  - target:\n      kind: Pod\n      name: {n}\n    patch: |-\n      apiVersion: v1\n      kind: Pod\n      metadata:\n        name: {n}\n        labels:\n          chatter-harness/peer: \"true\"\n      spec:\n        hostname: {n}\n        subdomain: {service}\n        volumes:\n          - name: dds-config\n            configMap:\n              name: cyclonedds-peers\n",
                    n = p.name
                );
                for (i, _) in p.containers.iter().enumerate() {
                    let _ = write!(
                        k,
                        "  - target:\n      kind: Pod\n      name: {n}\n    patch: |-\n      - op: add\n        path: /spec/containers/{i}/env/-\n        value: {{name: CYCLONEDDS_URI, value: file:///etc/cyclonedds/cyclonedds.xml}}\n      - op: add\n        path: /spec/containers/{i}/volumeMounts/-\n        value: {{name: dds-config, mountPath: /etc/cyclonedds, readOnly: true}}\n",
                        n = p.name
                    );
                }
            }
            files.insert("kustomization.yaml".into(), k);
            files.insert(
                "peers-service.yaml".into(),
                format!(
                    "# Headless: gives each pod the DNS name <pod>.{service}.{namespace}.svc; resolvable before Ready.\n\
                     apiVersion: v1\nkind: Service\nmetadata:\n  name: {service}\nspec:\n  clusterIP: None\n  \
                     publishNotReadyAddresses: true\n  selector:\n    chatter-harness/peer: \"true\"\n  ports:\n    \
                     - name: spdp\n      port: 7400\n      protocol: UDP\n"
                ),
            );
            Some(files)
        }
        _ => None,
    }
}

/// The advice where no manifest change exists.
pub fn fix_words(variant: &str) -> Option<String> {
    (variant == "multicast-cni").then(|| {
        "no manifest change: replace flannel's VXLAN backend by a CNI that forwards multicast between nodes \
         (e.g. a Multus macvlan secondary network for the ROS pods)\n"
            .to_owned()
    })
}

/// Writes the fix overlay into `dir/fix/`: `base.yaml` (the rendered objects) and the overlay.
pub fn write_fix(dir: &Path, base_yaml: &str, files: &BTreeMap<String, String>) -> Result<PathBuf, ResultsError> {
    let fix = dir.join("fix");
    std::fs::create_dir_all(&fix).map_err(|source| ResultsError::Io { path: fix.clone(), source })?;
    write_atomic(&fix.join("base.yaml"), |w| w.write_all(base_yaml.as_bytes()))?;
    for (name, text) in files {
        write_atomic(&fix.join(name), |w| w.write_all(text.as_bytes()))?;
    }
    Ok(fix)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenario(text: &str) -> (Scenario, Plan) {
        let s = crate::spec::parse(text, Path::new("t.yaml")).expect("valid");
        let plan = crate::placement::place(&s, &crate::placement::declared_nodes(&s)).expect("placeable");
        (s, plan)
    }

    #[test]
    fn variants_say_why_they_do_not_apply() {
        let (s, plan) =
            scenario(&std::fs::read_to_string(testkit::workspace_root().join("scenarios/seed.yaml")).expect("present"));
        let v = variants(&s, &plan, "netns");
        let why = |id: &str| v.iter().find(|x| x.id == id).map(|x| x.scenario.clone().err()).expect("present");
        assert_eq!(why("unicast-peers").as_deref(), Some("the harness's own nodes (RustDDS) have no static-peer API"));
        assert!(why("as-is").is_none() && why("host-network").is_none() && why("multicast-cni").is_none());
        let (s, plan) = scenario(
            &std::fs::read_to_string(testkit::workspace_root().join("scenarios/stock-demo.yaml")).expect("present"),
        );
        let v = variants(&s, &plan, "netns");
        let peers =
            v.iter().find(|x| x.id == "unicast-peers").expect("present").scenario.as_ref().expect("applies to Cyclone");
        let uri = &peers.pods[0].containers[0].env["CYCLONEDDS_URI"];
        assert!(uri.contains("<Peer Address=\"10.42.1.3\"/>") && uri.contains("<ParticipantIndex>auto"), "{uri}");
        let kube = variants(&s, &plan, "kube");
        assert!(kube.iter().find(|x| x.id == "multicast-cni").expect("present").scenario.is_err());
    }

    /// With Fast DDS, the host network alone would make same-host pods pick shared memory they
    /// cannot share: the variant and its overlay turn it off in every container.
    #[test]
    fn host_network_with_fast_dds_turns_shared_memory_off() {
        let text = std::fs::read_to_string(testkit::workspace_root().join("scenarios/stock-demo.yaml"))
            .expect("scenario")
            .replace("rmw: rmw_cyclonedds_cpp", "rmw: rmw_fastrtps_cpp");
        let (s, plan) = scenario(&text);
        let v = variants(&s, &plan, "netns");
        let host = v.iter().find(|x| x.id == "host-network").expect("variant").scenario.as_ref().expect("applies");
        assert!(host.pods.iter().flat_map(|p| &p.containers).all(|c| c.env["FASTDDS_BUILTIN_TRANSPORTS"] == "UDPv4"));
        let files = fix_files("host-network", &plan, "ns", Some(Rmw::Fastdds)).expect("an overlay");
        assert_eq!(files["kustomization.yaml"].matches("FASTDDS_BUILTIN_TRANSPORTS").count(), 4, "one per container");
        let cyclone = fix_files("host-network", &plan, "ns", Some(Rmw::Cyclonedds)).expect("an overlay");
        assert!(!cyclone["kustomization.yaml"].contains("FASTDDS"));
    }

    #[test]
    fn the_least_invasive_variant_that_delivers_everything_is_recommended() {
        let ran = |id: &str, rank, all| VariantResult {
            id: id.into(),
            title: id.into(),
            rank,
            outcome: Outcome::Ran {
                dir: id.into(),
                verdict: VerdictKind::Consistent,
                headline: String::new(),
                pairs: vec![PairCell { pair: "a → b".into(), delivered: if all { 3 } else { 1 }, trials: 3 }],
                delivers_all: all,
            },
        };
        let mut m = MatrixReport {
            scenario: "s".into(),
            backend: "netns".into(),
            variants: vec![ran("as-is", 0, false), ran("host-network", 4, true), ran("unicast-peers", 1, true)],
            recommended: None,
            fix: None,
        };
        m.recommend();
        assert_eq!(m.recommended.as_deref(), Some("unicast-peers"));
        let t = m.table();
        assert_eq!(t.rows[0][1], "1/3");
        assert!(m.markdown().contains("Recommended: unicast-peers"));
    }
}
