//! The kube backend against a mock API server (kube-rs's tower-test pattern). The mock is a
//! small stateful cluster: it stores what the harness applies, schedules pods itself (so the
//! harness's own placement can be wrong), streams watch events, serves logs and events, and can
//! fail any call. Tests assert the bodies, query parameters and content types of requests, and
//! the set of requests rather than their exact order where order is not the point.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chatter::{Record, Role};
use harness::backend::kube::objects::Images;
use harness::backend::kube::{cleanup_leftovers, KubeBackend, KubeOptions};
use harness::doctor::DoctorReport;
use harness::runner::{self, RunError, RunOptions};
use http::{Method, Request, Response, StatusCode};
use kube::client::Body;
use serde_json::{json, Value};
use tokio::sync::watch;
use tower_test::mock::{self, Handle};

/// Three pods: `pi` must go to an arm64 node, `master` is pinned by its own selector, and
/// `roamer` has no selector at all: the scheduler decides (in the seed: `demo-talker`).
const SCENARIO: &str = "name: mock
pods:
  - name: pi
    nodeSelector: {kubernetes.io/arch: arm64}
    tolerations: [{key: dedicated, operator: Equal, value: robot, effect: NoSchedule}]
    containers: [{name: talker, role: talker}, {name: listener, role: listener}]
  - name: master
    nodeSelector: {kubernetes.io/hostname: master}
    containers: [{name: listener, role: listener}]
  - name: roamer
    containers: [{name: talker, role: talker}]
trials: {count: 1, durationS: 0.2, warmupS: 0, drainS: 0}
";

const RUN: &str = "20261202T000000Z-mock";

/// How the mock cluster behaves.
#[derive(Clone, Default)]
struct Mock {
    /// The scheduler's choice for pods without a hostname selector (pod → node).
    schedule: BTreeMap<&'static str, &'static str>,
    /// This pod can never be scheduled.
    unschedulable: Option<&'static str>,
    /// This pod stays in ContainerCreating (its image pull never finishes).
    never_starts: Option<&'static str>,
    /// Pods are first listed Pending; a watch event makes them Running.
    pending_first: bool,
    /// Talkers never finish (the run is interrupted).
    endless: bool,
    /// A container's terminated state: pod, container, state.
    died: Vec<(&'static str, &'static str, Value)>,
    /// Answer a request whose "METHOD path" contains this text with this status code
    /// (`once`: only the first time).
    fail: Option<(&'static str, u16, bool)>,
    /// Run in this existing namespace, which holds a pod `pi` someone else made.
    user_namespace: Option<&'static str>,
    /// The namespace the harness would create exists already.
    namespace_exists: bool,
    /// The master node is NotReady, and a third node is cordoned.
    unhealthy_nodes: bool,
    /// This container's log stream breaks: the connection drops in the middle of a line,
    /// before the node's stop record, while the container goes on running.
    broken_log: Option<(&'static str, &'static str)>,
    /// The Pi's clock runs this far ahead of the master's (ns): containers there stamp
    /// their records with it, and the doctor's probes measure it.
    pi_ahead_ns: u64,
    /// This pod's listener comes up 100 ms late, after every talker's last message, and so
    /// hears nothing.
    late_listener: Option<&'static str>,
}

/// One request as the mock saw it.
#[derive(Debug, Clone)]
struct Seen {
    method: Method,
    path: String,
    query: String,
    content_type: String,
    body: Value,
}

impl Seen {
    fn line(&self) -> String {
        normalise(&format!("{} {}", self.method, self.path))
    }

    fn param(&self, key: &str) -> Option<String> {
        url_param(&self.query, key)
    }
}

fn url_param(query: &str, key: &str) -> Option<String> {
    query.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k == key).then(|| v.replace("%3D", "=").replace("%2C", ",").replace("%2F", "/"))
    })
}

/// The run-specific namespace replaced by `NS`.
fn normalise(s: &str) -> String {
    s.split('/').map(|p| if p.starts_with("chatter-") { "NS" } else { p }).collect::<Vec<_>>().join("/")
}

fn nodes(mock: &Mock) -> Value {
    let node = |name: &str, arch: &str, ready: bool, cordoned: bool, taints: Value| {
        json!({
            "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, "kubernetes.io/arch": arch}},
            "spec": {"unschedulable": cordoned, "taints": taints},
            "status": {"conditions": [{"type": "Ready", "status": if ready { "True" } else { "False" }, "reason": if ready { "KubeletReady" } else { "KubeletNotReady" }}]}
        })
    };
    let mut items = vec![
        node("master", "amd64", true, false, json!([])),
        node("pi", "arm64", true, false, json!([{"key": "dedicated", "value": "robot", "effect": "NoSchedule"}])),
    ];
    if mock.unhealthy_nodes {
        items.push(node("pi2", "arm64", true, true, json!([])));
        items.push(node("pi3", "arm64", false, false, json!([])));
    }
    json!({"apiVersion": "v1", "kind": "NodeList", "metadata": {}, "items": items})
}

fn list(kind: &str, items: Vec<Value>) -> Value {
    json!({"apiVersion": "v1", "kind": kind, "metadata": {"resourceVersion": "1"}, "items": items})
}

fn status(code: u16, reason: &str, message: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Status", "status": "Failure", "code": code, "reason": reason, "message": message})
}

/// The JSON lines a container would print; `ahead(pod)` is how far the clock of the node
/// `pod` runs on is ahead (every record is stamped with its own node's clock).
fn logs(pod: &str, container: &str, ahead: &dyn Fn(&str) -> u64, late: bool) -> String {
    let id = format!("{pod}.{container}");
    // One time base for every container, as on a cluster whose pods start together.
    static BASE: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    let now = *BASE.get_or_init(chatter::now_ns);
    let own = now + ahead(pod);
    let mut out = Vec::new();
    if container == "talker" {
        out.push(testkit::start_record(own, &id, Role::Talker, pod, None));
        out.extend((1..=5).map(|s| Record::sent(own + s * 1_000_000, &id, s)));
        out.push(Record::talker_stop(own + 10_000_000, &id, 5, "duration"));
    } else if late {
        out.push(testkit::start_record(own + 100_000_000, &id, Role::Listener, pod, None));
        out.push(Record::listener_stop(own + 120_000_000, &id, &chatter::ListenerTotals::default(), "SIGTERM"));
    } else {
        out.push(testkit::start_record(own, &id, Role::Listener, pod, None));
        for talker in ["pi.talker", "roamer.talker"] {
            let sender = now + ahead(talker.split('.').next().unwrap_or(talker));
            for s in 1..=5 {
                let data = chatter::payload::encode(s, talker, sender + s * 1_000_000, 0);
                // Half a millisecond on the wire.
                out.push(Record::recv(own + s * 1_000_000 + 500_000, &id, &data));
            }
        }
        out.push(Record::listener_stop(
            own + 20_000_000,
            &id,
            &chatter::ListenerTotals { received: 10, foreign: 0, talkers: 2 },
            "SIGTERM",
        ));
    }
    out.iter().map(|r| r.to_json() + "\n").collect()
}

/// The mock's state between requests.
#[derive(Default)]
struct State {
    namespaces: HashMap<String, Value>,
    /// Applied pods by name, as the harness sent them.
    pods: HashMap<String, Value>,
    deleted: HashSet<String>,
    /// Pods a watch has reported Running (with `pending_first`).
    running: HashSet<String>,
    failed_once: bool,
}

impl State {
    fn pod_json(&self, mock: &Mock, name: &str, ns: &str) -> Option<Value> {
        if self.deleted.contains(name) {
            return None;
        }
        let applied = self.pods.get(name)?;
        let selector = &applied["spec"]["nodeSelector"];
        let node = applied["spec"]["nodeName"]
            .as_str()
            .or(selector["kubernetes.io/hostname"].as_str())
            .map(str::to_owned)
            .or_else(|| mock.schedule.get(name).map(|n| (*n).to_owned()))
            .unwrap_or_else(|| if selector["kubernetes.io/arch"] == "arm64" { "pi".into() } else { "master".into() });
        let containers: Vec<String> = applied["spec"]["containers"]
            .as_array()
            .map(|cs| cs.iter().filter_map(|c| c["name"].as_str().map(str::to_owned)).collect())
            .unwrap_or_default();
        let (phase, conditions, statuses) = if mock.unschedulable == Some(name) {
            (
                "Pending",
                json!([{"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": "0/2 nodes are available: 1 node(s) didn't match Pod's node affinity/selector."}]),
                json!([]),
            )
        } else if mock.never_starts == Some(name) || (mock.pending_first && !self.running.contains(name)) {
            let waiting: Vec<Value> = containers
                .iter()
                .map(|c| json!({"name": c, "ready": false, "restartCount": 0, "image": "i", "imageID": "", "state": {"waiting": {"reason": "ContainerCreating"}}}))
                .collect();
            ("Pending", json!([{"type": "PodScheduled", "status": "True"}]), json!(waiting))
        } else {
            let statuses: Vec<Value> = containers
                .iter()
                .map(|c| {
                    let died = mock.died.iter().find(|(p, cn, _)| *p == name && cn == c).map(|(_, _, s)| s.clone());
                    let state = match died {
                        Some(s) => json!({"terminated": s}),
                        None if (c == "talker" && !mock.endless) || c == "send" => {
                            json!({"terminated": {"exitCode": 0, "reason": "Completed"}})
                        }
                        None => json!({"running": {}}),
                    };
                    json!({"name": c, "ready": true, "restartCount": 0, "image": "i", "imageID": "", "state": state})
                })
                .collect();
            ("Running", json!([{"type": "PodScheduled", "status": "True"}]), json!(statuses))
        };
        let host = applied["spec"]["hostNetwork"] == true;
        let node_no = if node == "master" { 1 } else { 2 };
        let pod_ip = if host { format!("192.168.0.{node_no}") } else { format!("10.42.{node_no}.{}", name.len()) };
        let mut meta = applied["metadata"].clone();
        meta["namespace"] = json!(ns);
        meta["uid"] = json!(format!("uid-{name}"));
        meta["resourceVersion"] = json!("1");
        Some(json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": meta,
            "spec": {"nodeName": node, "containers": applied["spec"]["containers"].clone()},
            "status": {"phase": phase, "conditions": conditions, "containerStatuses": statuses, "podIP": pod_ip}
        }))
    }
}

fn respond(send: tower_test::mock::SendResponse<Response<Body>>, code: u16, v: &Value) {
    send.send_response(
        Response::builder()
            .status(StatusCode::from_u16(code).unwrap())
            .body(Body::from(serde_json::to_vec(v).unwrap()))
            .unwrap(),
    );
}

/// Answers requests until the client goes away, recording each.
async fn serve(mut handle: Handle<Request<Body>, Response<Body>>, mock: Mock, seen: Arc<Mutex<Vec<Seen>>>) {
    let mut st = State::default();
    if let Some(ns) = mock.user_namespace {
        st.namespaces.insert(
            ns.into(),
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns, "uid": "uid-user-ns"}}),
        );
        // Someone else's pod, with the name of a scenario pod.
        st.pods.insert("pi".into(), json!({"metadata": {"name": "pi", "labels": {"app": "mine"}}, "spec": {"containers": [{"name": "listener"}]}}));
    }
    let mut held = Vec::new();
    while let Some((req, send)) = handle.next_request().await {
        let method = req.method().clone();
        let path = req.uri().path().to_owned();
        let query = req.uri().query().unwrap_or("").to_owned();
        let content_type = req.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
        let bytes = req.into_body().collect_bytes().await.unwrap_or_default();
        let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        let s =
            Seen { method: method.clone(), path: path.clone(), query: query.clone(), content_type, body: body.clone() };
        let line = format!("{method} {}", normalise(&path));
        seen.lock().unwrap().push(s);
        if let Some((needle, code, once)) = mock.fail {
            if line.contains(needle) && !(once && st.failed_once) {
                st.failed_once = true;
                let reason = match code {
                    403 => "Forbidden",
                    409 => "AlreadyExists",
                    422 => "Invalid",
                    _ => "ServiceUnavailable",
                };
                respond(send, code, &status(code, reason, &format!("mock refuses {line}")));
                continue;
            }
        }
        let dry = query.contains("dryRun=All");
        let watch = query.contains("watch=true");
        let (api_path, is_core) = match path.strip_prefix("/api/v1/") {
            Some(p) => (p.to_owned(), true),
            None => (path.clone(), false),
        };
        let parts: Vec<&str> = api_path.split('/').collect();
        let reply: Option<Value> = match (&method, is_core, parts.as_slice()) {
            (&Method::GET, true, ["nodes"]) => Some(nodes(&mock)),
            (&Method::POST, true, ["namespaces"]) => {
                let name = body["metadata"]["name"].as_str().unwrap_or("").to_owned();
                if mock.namespace_exists || (st.namespaces.contains_key(&name) && !dry) {
                    respond(send, 409, &status(409, "AlreadyExists", &format!("namespaces \"{name}\" already exists")));
                    continue;
                }
                let mut v = body.clone();
                v["metadata"]["uid"] = json!(format!("uid-{name}"));
                if !dry {
                    st.namespaces.insert(name, v.clone());
                }
                Some(v)
            }
            (&Method::GET, true, ["namespaces"]) if watch => None,
            (&Method::GET, true, ["namespaces"]) => {
                let items = st.namespaces.values().filter(|v| v["metadata"]["labels"].is_object()).cloned().collect();
                Some(list("NamespaceList", items))
            }
            (&Method::GET, true, ["namespaces", ns]) => match st.namespaces.get(*ns) {
                Some(v) => Some(v.clone()),
                None => {
                    respond(send, 404, &status(404, "NotFound", "not found"));
                    continue;
                }
            },
            (&Method::DELETE, true, ["namespaces", ns]) => {
                let v = st.namespaces.remove(*ns);
                Some(v.unwrap_or(json!({})))
            }
            (&Method::GET, true, ["namespaces", _, "events"]) => {
                let name = url_param(&query, "fieldSelector").unwrap_or_default().replace("involvedObject.name=", "");
                Some(list(
                    "EventList",
                    vec![
                        json!({"metadata": {"name": "e1"}, "involvedObject": {"name": name}, "reason": "Scheduled", "message": "Successfully assigned to pi", "lastTimestamp": "2026-12-02T00:00:00Z"}),
                        json!({"metadata": {"name": "e2"}, "involvedObject": {"name": name}, "reason": "Pulling", "message": "Pulling image \"registry.test/listener:t\"", "lastTimestamp": "2026-12-02T00:00:01Z"}),
                    ],
                ))
            }
            (&Method::PATCH, true, ["namespaces", ns, "pods", name]) => {
                if body["metadata"]["annotations"].is_object() && !body["spec"].is_object() {
                    // A merge patch: the release annotation.
                    let pod = st.pods.get_mut(*name).expect("release of an applied pod");
                    pod["metadata"]["annotations"] = body["metadata"]["annotations"].clone();
                } else if !dry {
                    st.pods.insert((*name).to_owned(), body.clone());
                    st.deleted.remove(*name);
                }
                let mut shown = State::default();
                shown.pods.insert((*name).to_owned(), body.clone());
                st.pod_json(&mock, name, ns).or_else(|| shown.pod_json(&mock, name, ns))
            }
            (&Method::GET, true, ["namespaces", ns, "pods"]) if watch => {
                let name = url_param(&query, "fieldSelector").unwrap_or_default().replace("metadata.name=", "");
                if mock.pending_first && !st.running.contains(&name) && st.pods.contains_key(&name) {
                    st.running.insert(name.clone());
                    let pod = st.pod_json(&mock, &name, ns).unwrap();
                    let event = json!({"type": "MODIFIED", "object": pod});
                    send.send_response(
                        Response::builder().body(Body::from(format!("{event}\n").into_bytes())).unwrap(),
                    );
                    continue;
                }
                None
            }
            (&Method::GET, true, ["namespaces", ns, "pods"]) => {
                let items: Vec<Value> = match url_param(&query, "fieldSelector") {
                    Some(f) => st.pod_json(&mock, &f.replace("metadata.name=", ""), ns).into_iter().collect(),
                    None => {
                        let selector = url_param(&query, "labelSelector").unwrap_or_default();
                        let names: Vec<String> = st.pods.keys().cloned().collect();
                        names
                            .iter()
                            .filter_map(|n| st.pod_json(&mock, n, ns))
                            .filter(|p| {
                                selector.is_empty()
                                    || p["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "chatter-harness"
                            })
                            .collect()
                    }
                };
                Some(list("PodList", items))
            }
            (&Method::GET, true, ["namespaces", ns, "pods", name]) => match st.pod_json(&mock, name, ns) {
                Some(p) => Some(p),
                None => {
                    respond(send, 404, &status(404, "NotFound", &format!("pods \"{name}\" not found")));
                    continue;
                }
            },
            (&Method::GET, true, ["namespaces", _, "pods", name, "log"]) if query.contains("container=send") => {
                // A prober's report, as the mock network answers: flannel drops multicast
                // between nodes on the pod network; the host network carries it.
                let args: Vec<String> = st.pods[*name]["spec"]["containers"][0]["args"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|a| a.as_str().unwrap().to_owned())
                    .collect();
                let from = args[args.iter().position(|a| a == "--node").unwrap() + 1].clone();
                let host = from.ends_with("/host");
                let mut counts = Vec::new();
                for t in args.iter().enumerate().filter(|(i, _)| *i > 0 && args[i - 1] == "--target").map(|(_, t)| t) {
                    let to = t.split('=').next().unwrap();
                    for kind in ["unicast-64", "unicast-1472", "unicast-8972", "unicast-65000", "multicast"] {
                        let answered = if kind == "multicast" && !host { 0 } else { 20 };
                        counts.push(json!({"kind": kind, "to": to, "sent": 20, "answered": answered}));
                    }
                }
                // The master's host-network prober measures the Pi's clock (± 0.3 ms).
                let clocks = if from == "master/host" {
                    json!([{"node": "pi/host", "offset_ns": mock.pi_ahead_ns, "uncertainty_ns": 300_000, "samples": 20}])
                } else {
                    json!([])
                };
                let report = json!({"from": from, "counts": counts, "clocks": clocks});
                send.send_response(
                    Response::builder().body(Body::from(format!("talker probe\n{report}\n").into_bytes())).unwrap(),
                );
                continue;
            }
            (&Method::GET, true, ["namespaces", _, "pods", name, "log"]) => {
                let container = url_param(&query, "container").unwrap_or_default();
                let ns = path.split('/').nth(4).unwrap_or_default();
                let ahead = |pod: &str| match st.pod_json(&mock, pod, ns) {
                    Some(p) if p["spec"]["nodeName"] == "pi" => mock.pi_ahead_ns,
                    _ => 0,
                };
                let mut text = logs(name, &container, &ahead, mock.late_listener == Some(*name));
                if mock.broken_log == Some((*name, container.as_str())) {
                    let cut = text.len() / 2;
                    text.truncate(cut);
                }
                send.send_response(Response::builder().body(Body::from(text.into_bytes())).unwrap());
                continue;
            }
            (&Method::DELETE, true, ["namespaces", ns, "pods", name]) => {
                let pod = st.pod_json(&mock, name, ns);
                st.deleted.insert((*name).to_owned());
                pod
            }
            (&Method::DELETE, true, ["namespaces", _, "pods"]) => Some(list("PodList", vec![])),
            (&Method::POST, false, ["", "apis", "authentication.k8s.io", "v1", "selfsubjectreviews"]) => Some(json!({
                "apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview", "metadata": {},
                "status": {"userInfo": {"username": "system:serviceaccount:ci:chatter-harness"}}
            })),
            (
                &Method::POST,
                false,
                ["", "apis", "rbac.authorization.k8s.io", "v1", "namespaces", _, "rolebindings"],
            ) => Some(body.clone()),
            _ => panic!("unexpected request {method} {path}?{query}"),
        };
        match reply {
            Some(v) => respond(send, 200, &v),
            // A watch: hold it open, as a quiet API server would.
            None => held.push(send),
        }
    }
}

/// What a run (or the doctor) asked the mock, in order.
struct Requests(Vec<Seen>);

impl std::ops::Deref for Requests {
    type Target = [Seen];

    fn deref(&self) -> &[Seen] {
        &self.0
    }
}

struct Ran {
    result: Result<runner::RunOutcome, RunError>,
    seen: Requests,
    _out: tempfile::TempDir,
}

impl std::ops::Deref for Ran {
    type Target = Requests;

    fn deref(&self) -> &Requests {
        &self.seen
    }
}

impl Requests {
    fn lines(&self) -> Vec<String> {
        self.iter().map(Seen::line).collect()
    }

    fn has(&self, line: &str) -> bool {
        self.lines().iter().any(|l| l == line)
    }

    fn requests(&self, line: &str) -> Vec<&Seen> {
        self.iter().filter(|s| s.line() == line).collect()
    }

    /// The body of the real (not dry-run) server-side apply of pod `name`.
    fn applied(&self, name: &str) -> &Value {
        let line = format!("PATCH /api/v1/namespaces/NS/pods/{name}");
        &self
            .requests(&line)
            .into_iter()
            .find(|s| s.content_type == "application/apply-patch+yaml" && s.param("dryRun").is_none())
            .unwrap_or_else(|| panic!("no apply of {name}: {:#?}", self.lines()))
            .body
    }
}

async fn run_mock(mock: Mock, pin: bool, stop_after: Option<Duration>) -> Ran {
    run_mock_with(mock, pin, stop_after, Duration::from_secs(5)).await
}

async fn run_mock_with(mock: Mock, pin: bool, stop_after: Option<Duration>, pod_timeout: Duration) -> Ran {
    run_mock_after(mock, pin, stop_after, pod_timeout, None).await
}

/// A run, with the doctor's report from a preflight.
async fn run_mock_after(
    mock: Mock,
    pin: bool,
    stop_after: Option<Duration>,
    pod_timeout: Duration,
    preflight: Option<DoctorReport>,
) -> Ran {
    let namespace = mock.user_namespace.map(str::to_owned);
    let (client, cluster) = MockCluster::start(mock);
    let scenario = harness::spec::parse(SCENARIO, Path::new("mock.yaml")).unwrap();
    let out = tempfile::tempdir().unwrap();
    let opts = RunOptions {
        results_root: out.path().to_owned(),
        trials: None,
        progress: false,
        run_id: Some(RUN.into()),
        preflight,
        parallel: 1,
        ros: None,
    };
    let kube_opts = KubeOptions { images: Images::new("registry.test", "t"), namespace, pod_timeout, pin };
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
    Ran { result, seen: cluster.stop(), _out: out }
}

/// The mock API server, serving in the background, and what it has seen.
struct MockCluster {
    server: tokio::task::JoinHandle<()>,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl MockCluster {
    /// Serves `mock`; the client talks to it.
    fn start(mock: Mock) -> (kube::Client, MockCluster) {
        let (service, handle) = mock::pair::<Request<Body>, Response<Body>>();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let server = tokio::spawn(serve(handle, mock, Arc::clone(&seen)));
        (kube::Client::new(service, "default"), MockCluster { server, seen })
    }

    /// Stops serving; the requests it saw.
    fn stop(self) -> Requests {
        self.server.abort();
        let seen = self.seen.lock().unwrap().clone();
        Requests(seen)
    }
}

/// Every object is created by this run, labelled, and deleted again.
fn assert_cleaned_up(ran: &Ran) {
    for want in [
        "DELETE /api/v1/namespaces/NS/pods/pi",
        "DELETE /api/v1/namespaces/NS/pods/master",
        "DELETE /api/v1/namespaces/NS/pods/roamer",
        "DELETE /api/v1/namespaces/NS",
    ] {
        assert!(ran.has(want), "missing {want}: {:#?}", ran.lines());
    }
    for d in ran.seen.iter().filter(|s| s.method == Method::DELETE && s.path.contains("/pods/")) {
        let uid = d.path.rsplit('/').next().map(|n| format!("uid-{n}"));
        assert_eq!(d.body["preconditions"]["uid"].as_str().map(str::to_owned), uid, "delete by uid only: {d:?}");
    }
}

#[tokio::test]
async fn scheduler_places_and_the_report_uses_where_pods_ran() {
    // The harness's own placement would put roamer on master (the least-loaded node); the
    // scheduler puts it on pi.
    let ran = run_mock(Mock { schedule: BTreeMap::from([("roamer", "pi")]), ..Mock::default() }, false, None).await;
    let outcome = ran.result.as_ref().expect("run succeeds");

    // The namespace: created (not applied over an existing one), dry-run first, labelled, with
    // Pod Security admission at restricted.
    let creates = ran.requests("POST /api/v1/namespaces");
    assert_eq!(creates.len(), 2, "dry run, then the real create");
    assert_eq!(creates[0].param("dryRun").as_deref(), Some("All"));
    assert_eq!(creates[1].param("dryRun"), None);
    let labels = &creates[1].body["metadata"]["labels"];
    assert_eq!(labels["app.kubernetes.io/managed-by"], "chatter-harness");
    assert_eq!(labels["chatter-harness/run"], RUN);
    assert_eq!(labels["pod-security.kubernetes.io/enforce"], "restricted");
    // Pod permissions bound in this namespace only, to whoever runs the harness.
    let binding = &ran.requests("POST /apis/rbac.authorization.k8s.io/v1/namespaces/NS/rolebindings")[0].body;
    assert_eq!(binding["roleRef"]["name"], "chatter-harness-pods");
    assert_eq!(binding["subjects"][0], json!({"kind": "ServiceAccount", "name": "chatter-harness", "namespace": "ci"}));

    // Pods: server-side apply with our field manager, forced; dry-run of every pod before
    // the first real apply.
    let applies: Vec<&Seen> = ran
        .seen
        .iter()
        .filter(|s| s.method == Method::PATCH && s.content_type == "application/apply-patch+yaml")
        .collect();
    assert_eq!(applies.len(), 6, "3 dry runs + 3 applies");
    assert!(applies[..3].iter().all(|s| s.param("dryRun").as_deref() == Some("All")));
    for a in &applies {
        assert_eq!(a.param("fieldManager").as_deref(), Some("chatter-harness"));
        assert_eq!(a.param("force").as_deref(), Some("true"));
    }
    // Only the scenario's own selectors and tolerations: the scheduler decides.
    let roamer = ran.applied("roamer");
    assert!(roamer["spec"]["nodeSelector"].is_null(), "{roamer:#}");
    let pi = ran.applied("pi");
    assert_eq!(pi["spec"]["nodeSelector"], json!({"kubernetes.io/arch": "arm64"}));
    assert_eq!(
        pi["spec"]["tolerations"],
        json!([{"key": "dedicated", "operator": "Equal", "value": "robot", "effect": "NoSchedule"}])
    );
    assert_eq!(pi["metadata"]["labels"]["chatter-harness/run"], RUN);
    assert_eq!(pi["spec"]["automountServiceAccountToken"], false);
    assert_eq!(pi["spec"]["securityContext"]["runAsNonRoot"], true);
    let listener = pi["spec"]["containers"].as_array().unwrap().iter().find(|c| c["name"] == "listener").unwrap();
    assert_eq!(listener["image"], "registry.test/listener:t");
    assert_eq!(listener["securityContext"]["allowPrivilegeEscalation"], false);
    let env: BTreeMap<&str, &Value> =
        listener["env"].as_array().unwrap().iter().map(|e| (e["name"].as_str().unwrap(), e)).collect();
    assert_eq!(env["ROS_DOMAIN_ID"]["value"], "0");
    assert_eq!(env["POD_NAME"]["valueFrom"]["fieldRef"]["fieldPath"], "metadata.name");
    assert_eq!(env["CHATTER_RELEASE_FILE"]["value"], "/etc/chatter-harness/annotations");

    // The start barrier: one merge patch per pod, after every pod was applied.
    let releases: Vec<usize> = ran
        .seen
        .iter()
        .enumerate()
        .filter(|(_, s)| s.content_type == "application/merge-patch+json")
        .map(|(i, _)| i)
        .collect();
    assert_eq!(releases.len(), 3);
    let last_apply = ran.seen.iter().rposition(|s| s.content_type == "application/apply-patch+yaml").unwrap();
    assert!(releases.iter().all(|&i| i > last_apply));
    assert!(ran.seen[releases[0]].body["metadata"]["annotations"]["chatter-harness.io/release"].is_string());

    // Where the pods actually ran flows into the report.
    let trial = &outcome.report.trials[0];
    assert_eq!(trial.placement["roamer"], "pi", "{:?}", trial.placement);
    assert_eq!(trial.placement["master"], "master");
    let pair =
        outcome.report.pairs.iter().find(|p| p.talker == "roamer.talker" && p.listener == "pi.listener").unwrap();
    assert_eq!(pair.relation, harness::analysis::Relation::SameNode, "{pair:?}");
    let to_master =
        outcome.report.pairs.iter().find(|p| p.talker == "roamer.talker" && p.listener == "master.listener").unwrap();
    assert_eq!(to_master.relation, harness::analysis::Relation::CrossNode);
    assert_eq!((pair.expected, pair.received), (5, 5));
    assert!(
        outcome.report.notes.iter().any(|n| n == "trial 1: pod roamer ran on node pi (arm64)"),
        "{:?}",
        outcome.report.notes
    );
    let meta: Value = serde_json::from_slice(&std::fs::read(outcome.dir.join("run.json")).unwrap()).unwrap();
    assert_eq!(meta["placements"]["1"]["roamer"], "pi");
    // Re-analysis from disk agrees.
    let again = runner::reanalyze(&outcome.dir).unwrap();
    assert_eq!(again.trials[0].placement["roamer"], "pi");
    assert_cleaned_up(&ran);
}

#[tokio::test]
async fn pin_restores_the_hostname_pin() {
    let ran = run_mock(Mock { schedule: BTreeMap::from([("roamer", "pi")]), ..Mock::default() }, true, None).await;
    let outcome = ran.result.as_ref().expect("run succeeds");
    assert_eq!(ran.applied("roamer")["spec"]["nodeSelector"], json!({"kubernetes.io/hostname": "master"}));
    assert_eq!(
        ran.applied("pi")["spec"]["nodeSelector"],
        json!({"kubernetes.io/arch": "arm64", "kubernetes.io/hostname": "pi"})
    );
    assert_eq!(outcome.report.trials[0].placement["roamer"], "master");
}

#[tokio::test]
async fn pods_pending_until_a_watch_event_says_running() {
    let ran = run_mock(Mock { pending_first: true, ..Mock::default() }, false, None).await;
    let outcome = ran.result.as_ref().expect("run succeeds once the watch reports Running");
    let watches = ran.seen.iter().filter(|s| s.param("watch").as_deref() == Some("true")).count();
    assert!(watches >= 3, "each pod was watched: {:#?}", ran.lines());
    assert_eq!(outcome.report.trials.len(), 1);
    assert!(!outcome.report.trials[0].meta.interrupted);
}

#[tokio::test]
async fn unhealthy_nodes_are_not_offered_and_said() {
    let ran = run_mock(Mock { unhealthy_nodes: true, ..Mock::default() }, false, None).await;
    let outcome = ran.result.as_ref().expect("run succeeds");
    let notes = outcome.report.notes.join("\n");
    assert!(notes.contains("node pi2 skipped: cordoned"), "{notes}");
    assert!(notes.contains("node pi3 skipped: NotReady (KubeletNotReady)"), "{notes}");
    let meta: Value = serde_json::from_slice(&std::fs::read(outcome.dir.join("run.json")).unwrap()).unwrap();
    let nodes: Vec<&str> =
        meta["plan"]["nodes"].as_array().unwrap().iter().map(|n| n["name"].as_str().unwrap()).collect();
    assert_eq!(nodes, ["master", "pi"]);
    assert_eq!(meta["plan"]["nodes"][1]["taints"][0]["key"], "dedicated");
}

#[tokio::test]
async fn unschedulable_pod_is_reported_with_its_reason() {
    let ran = run_mock(Mock { unschedulable: Some("pi"), ..Mock::default() }, false, None).await;
    let err = ran.result.as_ref().expect_err("pi cannot be scheduled").to_string();
    assert!(err.contains("pod pi cannot run: Unschedulable: 0/2 nodes are available"), "{err}");
    assert_cleaned_up(&ran);
    assert!(!ran.lines().iter().any(|s| s.ends_with("/log")), "no logs streamed from a pod that never ran");
    assert!(ran.seen.iter().all(|s| s.content_type != "application/merge-patch+json"), "never released");
}

#[tokio::test]
async fn a_timeout_names_waiting_reasons_and_events() {
    let ran =
        run_mock_with(Mock { never_starts: Some("master"), ..Mock::default() }, false, None, Duration::from_secs(1))
            .await;
    let err = ran.result.as_ref().expect_err("master never starts").to_string();
    assert!(err.contains("pod master cannot run: not running after 1 s"), "{err}");
    assert!(err.contains("container listener waiting: ContainerCreating"), "{err}");
    assert!(err.contains("event Pulling: Pulling image \"registry.test/listener:t\""), "{err}");
    let events = ran.requests("GET /api/v1/namespaces/NS/events");
    assert_eq!(events[0].param("fieldSelector").as_deref(), Some("involvedObject.name=master"));
    assert_cleaned_up(&ran);
}

#[tokio::test]
async fn dead_containers_mark_the_trial_with_why() {
    let mock = Mock {
        died: vec![
            ("master", "listener", json!({"exitCode": 137, "reason": "OOMKilled"})),
            (
                "pi",
                "talker",
                json!({"exitCode": 128, "reason": "StartError", "message": "exec /talker: exec format error"}),
            ),
        ],
        ..Mock::default()
    };
    let ran = run_mock(mock, false, None).await;
    let outcome = ran.result.as_ref().expect("a trial with dead containers still reports");
    let trial = &outcome.report.trials[0];
    let died: Vec<String> = trial.containers.iter().map(|c| c.describe()).collect();
    assert!(died.iter().any(|d| d.starts_with("master.listener on master (amd64): OOMKilled, exit 137")), "{died:?}");
    let arch = trial.containers.iter().find(|c| c.id == "pi.talker").expect("pi.talker");
    assert!(arch.wrong_arch && arch.exit_code == Some(128), "{arch:?}");
    let findings: Vec<(&str, &str)> =
        outcome.report.findings.iter().map(|f| (f.rule.as_str(), f.cause.as_str())).collect();
    assert!(
        findings.contains(&(
            "container-failed",
            "`pi.talker` could not run on arm64 node pi: its image has no build for that architecture"
        )),
        "{findings:#?}"
    );
    assert!(
        findings.contains(&(
            "container-failed",
            "`master.listener` was OOMKilled on node master: it reached its memory limit"
        )),
        "{findings:#?}"
    );
    // The evidence agrees with the title, and the records so far were kept.
    let oom = outcome.report.findings.iter().find(|f| f.cause.contains("OOMKilled")).unwrap();
    assert!(oom.evidence[0].contains("OOMKilled, exit 137"), "{oom:?}");
    assert!(oom.pairs.iter().any(|p| p == "pi.talker → master.listener"), "{oom:?}");
    let md = std::fs::read_to_string(outcome.dir.join("report.md")).unwrap();
    assert!(md.contains("master.listener on master (amd64): OOMKilled, exit 137"), "the trials table says why");
    let meta: Value = serde_json::from_slice(&std::fs::read(outcome.dir.join("run.json")).unwrap()).unwrap();
    assert_eq!(meta["container_exits"]["1"].as_array().map(Vec::len), Some(2));
    let again = runner::reanalyze(&outcome.dir).unwrap();
    assert_eq!(again.trials[0].containers, trial.containers);
}

#[tokio::test]
async fn forbidden_is_explained_and_nothing_is_created() {
    let ran =
        run_mock(Mock { fail: Some(("POST /api/v1/namespaces", 403, false)), ..Mock::default() }, false, None).await;
    let err = ran.result.as_ref().expect_err("forbidden").to_string();
    assert!(err.contains("create namespace chatter-") && err.contains("forbidden by the cluster's RBAC"), "{err}");
    assert!(err.contains("manifests/rbac"), "{err}");
    assert!(!ran.lines().iter().any(|l| l.contains("/pods")), "{:#?}", ran.lines());
}

#[tokio::test]
async fn an_existing_namespace_is_never_taken_over() {
    let ran = run_mock(Mock { namespace_exists: true, ..Mock::default() }, false, None).await;
    let err = ran.result.as_ref().expect_err("exists").to_string();
    assert!(err.contains("already exists; the harness never takes over"), "{err}");
    assert!(!ran.lines().iter().any(|l| l.starts_with("DELETE") || l.starts_with("PATCH")), "{:#?}", ran.lines());
}

#[tokio::test]
async fn an_invalid_pod_fails_the_dry_run_and_the_namespace_goes() {
    let ran = run_mock(
        Mock { fail: Some(("PATCH /api/v1/namespaces/NS/pods/roamer", 422, false)), ..Mock::default() },
        false,
        None,
    )
    .await;
    let err = ran.result.as_ref().expect_err("invalid").to_string();
    assert!(err.contains("dry-run pod roamer") && err.contains("rejected the object as invalid"), "{err}");
    let patches = ran.seen.iter().filter(|s| s.method == Method::PATCH);
    assert!(patches.clone().all(|s| s.param("dryRun").as_deref() == Some("All")), "nothing really applied");
    assert!(ran.has("DELETE /api/v1/namespaces/NS"));
}

#[tokio::test]
async fn transient_errors_are_retried() {
    let ran = run_mock(Mock { fail: Some(("GET /api/v1/nodes", 503, true)), ..Mock::default() }, false, None).await;
    ran.result.as_ref().expect("the retry succeeds");
    assert_eq!(ran.requests("GET /api/v1/nodes").len(), 2);
}

#[tokio::test]
async fn namespace_mode_never_replaces_or_deletes_someone_elses_pod() {
    let ran = run_mock(Mock { user_namespace: Some("robots"), ..Mock::default() }, false, None).await;
    let err = ran.result.as_ref().expect_err("pi exists and is not ours").to_string();
    assert!(err.contains("pod pi already exists in namespace robots and was not created by this run"), "{err}");
    let lines = ran.lines();
    assert!(!lines.iter().any(|l| l == "DELETE /api/v1/namespaces/robots/pods/pi"), "{lines:#?}");
    assert!(!lines.iter().any(|l| l.starts_with("POST /api/v1/namespaces") || l == "DELETE /api/v1/namespaces/robots"));
    // Cleanup deletes by this run's labels only.
    let collection = ran.requests("DELETE /api/v1/namespaces/robots/pods");
    assert_eq!(
        collection[0].param("labelSelector").as_deref(),
        Some(format!("app.kubernetes.io/managed-by=chatter-harness,chatter-harness/run={RUN}").as_str())
    );
}

#[tokio::test]
async fn ctrl_c_deletes_everything_it_created() {
    let ran = run_mock(Mock { endless: true, ..Mock::default() }, false, Some(Duration::from_millis(500))).await;
    let outcome = ran.result.as_ref().expect("an interrupted run still reports");
    assert!(outcome.interrupted);
    assert!(outcome.report.trials[0].meta.interrupted);
    let lines = ran.lines();
    let tail: Vec<&str> = lines.iter().rev().take(3).rev().map(String::as_str).collect();
    assert_eq!(tail, ["GET /api/v1/namespaces/NS", "DELETE /api/v1/namespaces/NS", "GET /api/v1/namespaces"]);
    assert_cleaned_up(&ran);
}

#[tokio::test]
async fn ctrl_c_ends_a_wait_for_pods_that_never_start() {
    let started = std::time::Instant::now();
    let ran = run_mock_with(
        Mock { never_starts: Some("pi"), ..Mock::default() },
        false,
        Some(Duration::from_millis(300)),
        Duration::from_secs(120),
    )
    .await;
    let outcome = ran.result.as_ref().expect("interrupted, not failed");
    assert!(outcome.interrupted);
    assert!(started.elapsed() < Duration::from_secs(60), "the 120 s pod wait was not cut short");
    assert_cleaned_up(&ran);
}

/// `harness kube cleanup`: lists by the managed-by and run labels, deletes by uid, and refuses
/// an object without them even if a server returned it.
#[tokio::test]
async fn cleanup_deletes_only_what_the_harness_labelled() {
    let (service, mut handle) = mock::pair::<Request<Body>, Response<Body>>();
    let seen = Arc::new(Mutex::new(Vec::<Seen>::new()));
    let seen2 = Arc::clone(&seen);
    let server = tokio::spawn(async move {
        let ns = |name: &str, labels: Value| json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "uid": format!("uid-{name}"), "labels": labels}});
        let ours =
            ns("chatter-old", json!({"app.kubernetes.io/managed-by": "chatter-harness", "chatter-harness/run": "old"}));
        let theirs = ns("kube-system", json!({}));
        let mut deleted = HashSet::new();
        let mut held = Vec::new();
        while let Some((req, send)) = handle.next_request().await {
            let (method, path, query) =
                (req.method().clone(), req.uri().path().to_owned(), req.uri().query().unwrap_or("").to_owned());
            let body: Value = serde_json::from_slice(&req.into_body().collect_bytes().await.unwrap_or_default())
                .unwrap_or(Value::Null);
            seen2.lock().unwrap().push(Seen {
                method: method.clone(),
                path: path.clone(),
                query: query.clone(),
                content_type: String::new(),
                body,
            });
            let reply = match (method.as_str(), path.as_str()) {
                ("GET", "/api/v1/namespaces") if query.contains("watch=true") => None,
                // A misbehaving server ignores the selector and returns everything.
                ("GET", "/api/v1/namespaces") => Some(list("NamespaceList", vec![ours.clone(), theirs.clone()])),
                ("GET", "/api/v1/namespaces/chatter-old") if deleted.contains("chatter-old") => {
                    respond(send, 404, &status(404, "NotFound", "gone"));
                    continue;
                }
                ("GET", "/api/v1/namespaces/chatter-old") => Some(ours.clone()),
                ("GET", "/api/v1/namespaces/kube-system") => Some(theirs.clone()),
                ("DELETE", "/api/v1/namespaces/chatter-old") => {
                    deleted.insert("chatter-old");
                    Some(ours.clone())
                }
                _ => panic!("unexpected {method} {path}?{query}"),
            };
            match reply {
                Some(v) => respond(send, 200, &v),
                None => held.push(send),
            }
        }
    });
    let client = kube::Client::new(service, "default");
    let err = cleanup_leftovers(&client, None, None).await.expect_err("kube-system is not ours");
    assert!(err.to_string().contains("namespace kube-system was not created by chatter-harness"), "{err}");
    let seen = seen.lock().unwrap().clone();
    server.abort();
    let list = seen.iter().find(|s| s.path == "/api/v1/namespaces" && s.param("watch").is_none()).unwrap();
    assert_eq!(
        list.param("labelSelector").as_deref(),
        Some("app.kubernetes.io/managed-by=chatter-harness,chatter-harness/run")
    );
    let deletes: Vec<&Seen> = seen.iter().filter(|s| s.method == Method::DELETE).collect();
    assert_eq!(deletes.len(), 1, "{deletes:?}");
    assert_eq!(deletes[0].path, "/api/v1/namespaces/chatter-old");
    assert_eq!(deletes[0].body["preconditions"]["uid"], "uid-chatter-old");
}

/// `harness doctor --backend kube` against the mock: its report and the requests it made.
async fn doctor_mock(mock: Mock) -> (DoctorReport, Requests) {
    let (client, cluster) = MockCluster::start(mock);
    let scenario = harness::spec::parse(SCENARIO, Path::new("mock.yaml")).unwrap();
    let opts = KubeOptions {
        images: Images::new("registry.test", "t"),
        namespace: None,
        pod_timeout: Duration::from_secs(5),
        pin: true,
    };
    let report =
        tokio::time::timeout(Duration::from_secs(60), KubeBackend::new(client, opts).doctor(&scenario, 20, RUN))
            .await
            .expect("doctor hung");
    let seen = cluster.stop();
    match report {
        Ok(r) => (r, seen),
        Err(e) => panic!("{e}: {:#?}", seen.lines()),
    }
}

/// The kube doctor: a responder pinned (nodeName) to every node on the pod network and on the
/// host network, probers against the other nodes' responder addresses on the same network,
/// the reports read from their logs, and the namespace (privileged: host-network probes) gone.
#[tokio::test]
async fn kube_doctor_pins_probe_pods_to_every_node_on_both_networks() {
    let (report, ran) = doctor_mock(Mock::default()).await;
    let ns = ran.requests("POST /api/v1/namespaces");
    assert_eq!(ns[1].body["metadata"]["labels"]["pod-security.kubernetes.io/enforce"], "privileged");
    for (i, node) in ["master", "pi"].iter().enumerate() {
        for net in ["pod", "host"] {
            let serve = ran.applied(&format!("doctor-serve-{i}-{net}"));
            assert_eq!(serve["spec"]["nodeName"], *node, "{serve:#}");
            assert_eq!(serve["spec"]["hostNetwork"] == true, net == "host", "{serve:#}");
            assert_eq!(serve["spec"]["containers"][0]["image"], "registry.test/talker:t");
            let send = ran.applied(&format!("doctor-send-{i}-{net}"));
            assert_eq!(send["spec"]["nodeName"], *node);
            let args = send["spec"]["containers"][0]["args"].to_string();
            let other = if *node == "master" { "pi" } else { "master" };
            let ip = if net == "host" { format!("192.168.0.{}", 2 - i) } else { format!("10.42.{}.18", 2 - i) };
            assert!(args.contains(&format!("{other}/{net}={ip}")), "{args}");
        }
    }
    assert_eq!(report.count("pod", "pi", "master", "multicast").map(|c| c.answered), Some(0));
    assert_eq!(report.count("host", "pi", "master", "multicast").map(|c| c.answered), Some(20));
    assert_eq!(report.count("pod", "master", "pi", "unicast-65000").map(|c| c.answered), Some(20));
    assert!(ran.has("DELETE /api/v1/namespaces/NS"));
}

/// A log stream that breaks mid-trial (the connection drops while the listener runs on) is not
/// message loss: the trial is marked incomplete with why, counted nowhere, and says so.
#[tokio::test]
async fn a_broken_log_stream_makes_the_trial_incomplete_not_lossy() {
    let ran = run_mock(Mock { broken_log: Some(("master", "listener")), ..Mock::default() }, false, None).await;
    let outcome = ran.result.as_ref().expect("run succeeds");
    let trial = &outcome.report.trials[0];
    assert!(trial.meta.interrupted, "{trial:?}");
    assert_eq!(trial.incomplete.len(), 1, "{:?}", trial.incomplete);
    assert!(trial.incomplete[0].starts_with("master.listener: its log stream ended"), "{:?}", trial.incomplete);
    // Counted nowhere: no pair summary, no outcome.
    assert!(outcome.report.pairs.is_empty(), "{:?}", outcome.report.pairs);
    assert!(outcome.report.distribution.is_empty());
    let md = std::fs::read_to_string(outcome.dir.join("report.md")).unwrap();
    assert!(md.contains("not counted: master.listener: its log stream"), "{md}");
    assert!(md.contains("1 interrupted or incomplete"), "{md}");
    // And so after re-analysis.
    let again = runner::reanalyze(&outcome.dir).unwrap();
    assert_eq!(again.trials[0].incomplete, trial.incomplete);
    assert!(again.pairs.is_empty());
    assert_cleaned_up(&ran);

    // A whole stream, by contrast, leaves the trial complete.
    let ran = run_mock(Mock::default(), false, None).await;
    let outcome = ran.result.as_ref().expect("run succeeds");
    assert!(outcome.report.trials[0].incomplete.is_empty());
    assert!(!outcome.report.trials[0].meta.interrupted);
}

/// A listener that came up only after every talker's last message could expect nothing: its
/// pairs measured nothing, so the trial is shown but counted nowhere — not read as "nothing
/// delivered" — and re-analysis agrees.
#[tokio::test]
async fn a_pair_without_a_window_is_not_counted_as_no_delivery() {
    let ran = run_mock(Mock { late_listener: Some("master"), ..Mock::default() }, false, None).await;
    let outcome = ran.result.as_ref().expect("run succeeds");
    let trial = &outcome.report.trials[0];
    assert!(trial.meta.interrupted, "{trial:?}");
    let why = trial.incomplete.join("; ");
    assert!(why.contains("pi.talker → master.listener had no window"), "{why}");
    assert!(why.contains("roamer.talker → master.listener had no window"), "{why}");
    assert!(outcome.report.pairs.is_empty(), "counted nowhere: {:?}", outcome.report.pairs);
    assert!(!outcome.report.findings.iter().any(|f| f.rule.starts_with("no-")), "{:?}", outcome.report.findings);
    let again = runner::reanalyze(&outcome.dir).unwrap();
    assert_eq!(again.trials[0].incomplete, trial.incomplete);
    assert!(again.pairs.is_empty());
    assert_cleaned_up(&ran);
}

/// `harness run --backend kube --preflight`: the Pi's clock runs 40 ms ahead. The doctor
/// measures it; the run moves every record onto the master's clock — with the node each pod
/// really ran on (the scheduler put `roamer` on the Pi, the harness would have drawn the
/// master) — so cross-node latency is the 0.5 ms on the wire, trusted, ± the measurement. The
/// same run without the preflight leaves those pairs untrusted, their receipts "before" their
/// sends.
#[tokio::test]
async fn preflight_offsets_correct_cross_node_times() {
    const AHEAD: u64 = 40_000_000;
    let mock = Mock { schedule: BTreeMap::from([("roamer", "pi")]), pi_ahead_ns: AHEAD, ..Mock::default() };
    let (doctor, _) = doctor_mock(mock.clone()).await;
    assert_eq!(doctor.reference, "master");
    assert_eq!(doctor.clocks.iter().map(|c| (c.node.as_str(), c.offset_ns)).collect::<Vec<_>>(), [("pi", 40_000_000)]);

    let pair = |o: &runner::RunOutcome, t: &str, l: &str| {
        o.report.pairs.iter().find(|p| p.talker == t && p.listener == l).cloned().expect("pair")
    };
    let ran = run_mock_after(mock.clone(), false, None, Duration::from_secs(5), Some(doctor)).await;
    let outcome = ran.result.as_ref().expect("run succeeds");
    for talker in ["pi.talker", "roamer.talker"] {
        let p = pair(outcome, talker, "master.listener");
        assert_eq!(p.relation, harness::analysis::Relation::CrossNode);
        assert!(p.clock_trusted, "{p:?}");
        assert_eq!(p.clock_uncertainty_ms, Some(0.3));
        assert_eq!(p.negative_latency, 0, "{p:?}");
        let p50 = p.latency_p50_us.expect("latency");
        assert!((495..=505).contains(&p50), "{talker}: 0.5 ms on the wire, got {p50} µs");
    }
    assert!(outcome
        .report
        .notes
        .iter()
        .any(|n| n.contains("put on node master's clock") && n.contains("pi +40.000 ms")));
    // Re-analysis from disk reads the offsets from run.json.
    let again = runner::reanalyze(&outcome.dir).unwrap();
    let p = again.pairs.iter().find(|p| p.talker == "roamer.talker" && p.listener == "master.listener").unwrap();
    assert_eq!(
        (p.clock_trusted, p.latency_p50_us),
        (true, pair(outcome, "roamer.talker", "master.listener").latency_p50_us)
    );

    let ran = run_mock_after(mock, false, None, Duration::from_secs(5), None).await;
    let outcome = ran.result.as_ref().expect("run succeeds");
    let p = pair(outcome, "roamer.talker", "master.listener");
    assert!(!p.clock_trusted);
    assert_eq!(p.negative_latency, 5);
}

#[tokio::test]
#[ignore = "needs cluster"]
async fn real_cluster_seed_run() {
    // Run by .github/workflows/ci.yml's kube job on a two-node k3d cluster (the agent labelled
    // arm64, the images loaded), with scheduler placement: the seed layout must complete, report
    // every pair, and its cross-node pairs must be cross-node in the actual placement.
    let client = kube::Client::try_default().await.expect("a kubeconfig");
    let scenario = harness::spec::load(&testkit::workspace_root().join("scenarios/seed.yaml")).unwrap();
    let out = tempfile::tempdir().unwrap();
    let opts = RunOptions {
        results_root: out.path().to_owned(),
        trials: Some(2),
        progress: false,
        run_id: None,
        preflight: None,
        parallel: 1,
        ros: None,
    };
    let tag = std::env::var("CHATTER_IMAGE_TAG").unwrap_or_else(|_| "dev".into());
    let registry = std::env::var("CHATTER_IMAGE_REGISTRY").unwrap_or_else(|_| Images::DEFAULT_REGISTRY.into());
    let kube_opts = KubeOptions {
        images: Images::new(&registry, &tag),
        namespace: None,
        pod_timeout: Duration::from_secs(300),
        pin: false,
    };
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
    for t in &outcome.report.trials {
        assert_ne!(t.placement["demo-listener"], t.placement["demo-talkerlistener"], "{:?}", t.placement);
        let cross = t
            .pairs
            .iter()
            .find(|p| p.listener == "demo-listener.listener" && p.talker == "demo-talkerlistener.talker")
            .unwrap();
        assert_eq!(cross.relation, harness::analysis::Relation::CrossNode);
    }
}
