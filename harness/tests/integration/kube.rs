//! The kube backend against a mock API server (kube-rs's tower-test pattern): every request the
//! harness makes is recorded and answered like a small cluster would, then asserted in order.

use std::collections::HashSet;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chatter::{Record, Role};
use harness::backend::kube::objects::Images;
use harness::backend::kube::{KubeBackend, KubeOptions};
use harness::runner::{self, RunError, RunOptions};
use http::{Method, Request, Response};
use kube::client::Body;
use serde_json::{json, Value};
use tokio::sync::watch;
use tower_test::mock::{self, Handle};

const SCENARIO: &str = "name: mock\npods:\n  - name: pi\n    nodeSelector: {kubernetes.io/arch: arm64}\n    containers: [{name: talker, role: talker}, {name: listener, role: listener}]\n  - name: master\n    nodeSelector: {kubernetes.io/hostname: master}\n    containers: [{name: listener, role: listener}]\ntrials: {count: 1, durationS: 0.2, warmupS: 0, drainS: 0}\n";

/// How the mock cluster behaves.
#[derive(Clone, Copy, PartialEq)]
enum Cluster {
    Healthy,
    /// The `pi` pod can never be scheduled.
    NoArmNode,
    /// Talkers never finish (the run is interrupted).
    Endless,
}

fn nodes() -> Value {
    let node = |name: &str, arch: &str| json!({"metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, "kubernetes.io/arch": arch}}});
    json!({"apiVersion": "v1", "kind": "NodeList", "metadata": {}, "items": [node("master", "amd64"), node("pi", "arm64")]})
}

fn pod_json(name: &str, ns: &str, cluster: Cluster) -> Value {
    let (phase, conditions, statuses) = match (cluster, name) {
        (Cluster::NoArmNode, "pi") => (
            "Pending",
            json!([{"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": "0/2 nodes are available: 1 node(s) didn't match Pod's node affinity/selector."}]),
            json!([]),
        ),
        _ => {
            let talker_state = if cluster == Cluster::Endless {
                json!({"running": {}})
            } else {
                json!({"terminated": {"exitCode": 0}})
            };
            let mut statuses = vec![
                json!({"name": "listener", "ready": true, "restartCount": 0, "image": "l", "imageID": "", "state": {"running": {}}}),
            ];
            if name == "pi" {
                statuses.push(json!({"name": "talker", "ready": false, "restartCount": 0, "image": "t", "imageID": "", "state": talker_state}));
            }
            ("Running", json!([{"type": "PodScheduled", "status": "True"}]), json!(statuses))
        }
    };
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": ns, "uid": format!("uid-{name}"), "resourceVersion": "1"},
        "spec": {"nodeName": name, "containers": []},
        "status": {"phase": phase, "conditions": conditions, "containerStatuses": statuses}
    })
}

fn list(kind: &str, items: Vec<Value>) -> Value {
    json!({"apiVersion": "v1", "kind": kind, "metadata": {"resourceVersion": "1"}, "items": items})
}

/// The JSON lines a container would print.
fn logs(pod: &str, container: &str) -> String {
    let id = format!("{pod}.{container}");
    // One time base for every container, as on a cluster whose pods start together.
    static BASE: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    let now = *BASE.get_or_init(chatter::now_ns);
    let mut out = Vec::new();
    if container == "talker" {
        out.push(testkit::start_record(now, &id, Role::Talker, pod, None));
        out.extend((1..=5).map(|s| Record::sent(now + s, &id, s)));
        out.push(Record::talker_stop(now + 10, &id, 5, "duration"));
    } else {
        out.push(testkit::start_record(now, &id, Role::Listener, pod, None));
        for s in 1..=5 {
            let data = chatter::payload::encode(s, "pi.talker", now + s, 0);
            out.push(Record::recv(now + s + 500_000, &id, &data));
        }
        out.push(Record::listener_stop(
            now + 20,
            &id,
            &chatter::ListenerTotals { received: 5, foreign: 0, talkers: 1 },
            "SIGTERM",
        ));
    }
    out.iter().map(|r| r.to_json() + "\n").collect()
}

/// Answers requests until the client goes away; returns "METHOD path" of each, in order.
async fn serve(mut handle: Handle<Request<Body>, Response<Body>>, cluster: Cluster, seen: Arc<Mutex<Vec<String>>>) {
    let mut deleted: HashSet<String> = HashSet::new();
    let mut held = Vec::new();
    while let Some((req, send)) = handle.next_request().await {
        let method = req.method().clone();
        let path = req.uri().path().to_owned();
        let query = req.uri().query().unwrap_or("").to_owned();
        let body = req.into_body().collect_bytes().await.unwrap_or_default();
        seen.lock().unwrap().push(format!("{method} {path}"));
        let parts: Vec<&str> = path.trim_start_matches("/api/v1/").split('/').collect();
        let reply: Option<Value> = match (&method, parts.as_slice()) {
            (&Method::GET, ["nodes"]) => Some(nodes()),
            (&Method::PATCH, ["namespaces", ns]) => {
                let mut v: Value = serde_json::from_slice(&body).unwrap();
                v["metadata"]["uid"] = json!(format!("uid-{ns}"));
                Some(v)
            }
            (&Method::GET, ["namespaces", ns]) => Some(
                json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns, "uid": format!("uid-{ns}"), "labels": {"app.kubernetes.io/managed-by": "chatter-harness"}}}),
            ),
            (&Method::DELETE, ["namespaces", ns]) => {
                deleted.insert((*ns).to_owned());
                Some(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}))
            }
            (&Method::GET, ["namespaces"]) if query.contains("watch=true") => None,
            (&Method::GET, ["namespaces"]) => Some(list("NamespaceList", vec![])),
            (&Method::PATCH, ["namespaces", ns, "pods", name]) => {
                assert!(serde_json::from_slice::<Value>(&body).unwrap()["spec"]["nodeSelector"].is_object());
                Some(pod_json(name, ns, cluster))
            }
            (&Method::GET, ["namespaces", _, "pods"]) if query.contains("watch=true") => None,
            (&Method::GET, ["namespaces", ns, "pods"]) => {
                let name = query.split("metadata.name%3D").nth(1).unwrap_or("").split('&').next().unwrap_or("");
                let items = if deleted.contains(name) { vec![] } else { vec![pod_json(name, ns, cluster)] };
                Some(list("PodList", items))
            }
            (&Method::GET, ["namespaces", ns, "pods", name]) => Some(pod_json(name, ns, cluster)),
            (&Method::GET, ["namespaces", _, "pods", name, "log"]) => {
                let container = query.split("container=").nth(1).unwrap_or("").split('&').next().unwrap_or("");
                send.send_response(Response::builder().body(Body::from(logs(name, container).into_bytes())).unwrap());
                continue;
            }
            (&Method::DELETE, ["namespaces", ns, "pods", name]) => {
                deleted.insert((*name).to_owned());
                Some(pod_json(name, ns, cluster))
            }
            (&Method::DELETE, ["namespaces", _, "pods"]) => Some(list("PodList", vec![])),
            _ => panic!("unexpected request {method} {path}?{query}"),
        };
        match reply {
            Some(v) => {
                send.send_response(Response::builder().body(Body::from(serde_json::to_vec(&v).unwrap())).unwrap())
            }
            // A watch: hold it open, as a quiet API server would.
            None => held.push(send),
        }
    }
}

async fn run_mock(
    cluster: Cluster,
    stop_after: Option<Duration>,
) -> (Result<runner::RunOutcome, RunError>, Vec<String>, tempfile::TempDir) {
    let (service, handle) = mock::pair::<Request<Body>, Response<Body>>();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let server = tokio::spawn(serve(handle, cluster, Arc::clone(&seen)));
    let client = kube::Client::new(service, "default");
    let scenario = harness::spec::parse(SCENARIO, Path::new("mock.yaml")).unwrap();
    let out = tempfile::tempdir().unwrap();
    let opts = RunOptions { results_root: out.path().to_owned(), trials: None, progress: false };
    let kube_opts =
        KubeOptions { images: Images::new("registry.test", "t"), namespace: None, pod_timeout: Duration::from_secs(5) };
    let (stop_tx, stop) = watch::channel(false);
    if let Some(after) = stop_after {
        tokio::spawn(async move {
            tokio::time::sleep(after).await; // stands in for the user pressing Ctrl-C
            let _ = stop_tx.send(true);
        });
    }
    let mut backend = KubeBackend::new(client, kube_opts);
    let result = tokio::time::timeout(Duration::from_secs(60), runner::run(&scenario, &mut backend, &opts, stop))
        .await
        .expect("run hung");
    drop(backend);
    server.abort();
    let seen = seen.lock().unwrap().clone();
    (result, seen, out)
}

/// Request lines with the run-specific namespace replaced by `NS`, log requests sorted (they
/// run concurrently).
fn normalise(seen: &[String]) -> Vec<String> {
    let mut v: Vec<String> = seen
        .iter()
        .map(|s| {
            let mut parts: Vec<String> = s.split('/').map(str::to_owned).collect();
            for p in parts.iter_mut() {
                if p.starts_with("chatter-") {
                    *p = "NS".into();
                }
            }
            parts.join("/")
        })
        .collect();
    if let (Some(first), Some(last)) =
        (v.iter().position(|s| s.ends_with("/log")), v.iter().rposition(|s| s.ends_with("/log")))
    {
        v[first..=last].sort();
    }
    v
}

#[tokio::test]
async fn full_trial_create_wait_logs_delete() {
    let (result, seen, _out) = run_mock(Cluster::Healthy, None).await;
    let outcome = result.expect("run succeeds");
    let seen = normalise(&seen);
    let expected: Vec<&str> = vec![
        "GET /api/v1/nodes",
        "PATCH /api/v1/namespaces/NS",
        "PATCH /api/v1/namespaces/NS/pods/pi",
        "PATCH /api/v1/namespaces/NS/pods/master",
        "GET /api/v1/namespaces/NS/pods",
        "GET /api/v1/namespaces/NS/pods",
        "GET /api/v1/namespaces/NS/pods/master/log",
        "GET /api/v1/namespaces/NS/pods/pi/log",
        "GET /api/v1/namespaces/NS/pods/pi/log",
        "GET /api/v1/namespaces/NS/pods",
        "GET /api/v1/namespaces/NS/pods/pi",
        "DELETE /api/v1/namespaces/NS/pods/pi",
        "GET /api/v1/namespaces/NS/pods",
        "GET /api/v1/namespaces/NS/pods/master",
        "DELETE /api/v1/namespaces/NS/pods/master",
        "GET /api/v1/namespaces/NS/pods",
        "GET /api/v1/namespaces/NS",
        "DELETE /api/v1/namespaces/NS",
        "GET /api/v1/namespaces",
    ];
    assert_eq!(seen, expected);
    // The logs went through the collector into the analysis.
    let pair = outcome.report.pairs.iter().find(|p| p.talker == "pi.talker" && p.listener == "pi.listener").unwrap();
    assert_eq!((pair.expected, pair.received), (5, 5), "{pair:?} {:?}", outcome.report.trials[0].listeners);
    assert!(outcome.report.notes.iter().any(|n| n == "trial 1: pod pi ran on node pi"), "{:?}", outcome.report.notes);
}

#[tokio::test]
async fn unschedulable_pod_is_reported_with_its_reason() {
    let (result, seen, _out) = run_mock(Cluster::NoArmNode, None).await;
    let err = result.expect_err("pi cannot be scheduled").to_string();
    assert!(err.contains("pod pi cannot run: Unschedulable: 0/2 nodes are available"), "{err}");
    let seen = normalise(&seen);
    // Nothing was left behind: both pods and the namespace were deleted.
    for want in [
        "DELETE /api/v1/namespaces/NS/pods/pi",
        "DELETE /api/v1/namespaces/NS/pods/master",
        "DELETE /api/v1/namespaces/NS",
    ] {
        assert!(seen.iter().any(|s| s == want), "missing {want}: {seen:#?}");
    }
    assert!(!seen.iter().any(|s| s.ends_with("/log")), "no logs streamed from a pod that never ran");
}

#[tokio::test]
async fn ctrl_c_deletes_everything_it_created() {
    let (result, seen, _out) = run_mock(Cluster::Endless, Some(Duration::from_millis(500))).await;
    let outcome = result.expect("an interrupted run still reports");
    assert!(outcome.interrupted);
    assert!(outcome.report.trials[0].meta.interrupted);
    let seen = normalise(&seen);
    let tail: Vec<&str> = seen.iter().rev().take(3).rev().map(String::as_str).collect();
    assert_eq!(tail, ["GET /api/v1/namespaces/NS", "DELETE /api/v1/namespaces/NS", "GET /api/v1/namespaces"]);
    assert!(seen.iter().any(|s| s == "DELETE /api/v1/namespaces/NS/pods/pi"));
    assert!(seen.iter().any(|s| s == "DELETE /api/v1/namespaces/NS/pods/master"));
}

#[tokio::test]
#[ignore = "needs cluster"]
async fn real_cluster_seed_run() {
    // Run by .github/workflows/ci.yml's kube job on a two-node k3d cluster (one node labelled
    // arm64) with the images loaded: the seed layout must complete and report every pair.
    let client = kube::Client::try_default().await.expect("a kubeconfig");
    let scenario = harness::spec::load(&testkit::workspace_root().join("scenarios/seed.yaml")).unwrap();
    let out = tempfile::tempdir().unwrap();
    let opts = RunOptions { results_root: out.path().to_owned(), trials: Some(2), progress: false };
    let tag = std::env::var("CHATTER_IMAGE_TAG").unwrap_or_else(|_| "dev".into());
    let registry = std::env::var("CHATTER_IMAGE_REGISTRY").unwrap_or_else(|_| Images::DEFAULT_REGISTRY.into());
    let kube_opts =
        KubeOptions { images: Images::new(&registry, &tag), namespace: None, pod_timeout: Duration::from_secs(300) };
    let (_tx, stop) = watch::channel(false);
    let outcome = runner::run(&scenario, &mut KubeBackend::new(client, kube_opts), &opts, stop).await.expect("run");
    assert_eq!(outcome.report.trials.len(), 2);
    assert_eq!(outcome.report.pairs.len(), 4);
    let same_pod = outcome
        .report
        .pairs
        .iter()
        .find(|p| p.talker == "demo-talkerlistener.talker" && p.listener == "demo-talkerlistener.listener")
        .unwrap();
    assert!(same_pod.ratio >= 0.95, "{same_pod:?}");
}
