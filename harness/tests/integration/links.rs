//! Links as flannel and a radio make them, on the simulated cluster: frame loss (a netdev hook,
//! before reassembly), a bandwidth cap (tbf), and what the kernel counted — read back from
//! run.json and summary.json of real runs, with the diagnosis they lead to.

use serde_json::Value;

use super::netns::{run, trial_rows};

/// A camera talker (256 KiB samples) and a chatter talker on the master, a listener on the
/// Pi, all on the host network (discovery crosses nodes there), best effort; `extra` appended.
fn camera(transport: &str, rate_hz: u32, faults: &str) -> String {
    format!(
        "name: camera-link
nodes:
  - {{name: master, labels: {{kubernetes.io/arch: amd64}}}}
  - {{name: pi, labels: {{kubernetes.io/arch: amd64}}}}
pods:
  - name: cam
    nodeSelector: {{kubernetes.io/hostname: master}}
    hostNetwork: true
    containers: [{{name: talker, role: talker, rateHz: {rate_hz}, payloadBytes: 262144}}]
  - name: chat
    nodeSelector: {{kubernetes.io/hostname: master}}
    hostNetwork: true
    containers: [{{name: talker, role: talker, rateHz: 10}}]
  - name: l
    nodeSelector: {{kubernetes.io/hostname: pi}}
    hostNetwork: true
    containers: [{{name: listener, role: listener}}]
trials: {{count: 1, durationS: 4, warmupS: 2, drainS: 0.5}}
dds: {{reliability: best-effort, transport: {transport}}}
faults:
{faults}"
    )
}

fn write(dir: &tempfile::TempDir, text: &str) -> std::path::PathBuf {
    let path = dir.path().join("links.yaml");
    std::fs::write(&path, text).unwrap();
    path
}

fn meta(dir: &std::path::Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("run.json")).unwrap()).unwrap()
}

/// Trial 1's kernel counters of `node`'s own namespace.
fn node_ns<'a>(meta: &'a Value, node: &str) -> &'a Value {
    meta["kernel"]["1"].as_array().unwrap().iter().find(|k| k["node"] == node && k.get("pod").is_none()).unwrap()
}

fn rules_about(summary: &Value, pair: &str) -> Vec<String> {
    let findings = summary["findings"].as_array().unwrap();
    let about = findings.iter().filter(|f| f["pairs"].as_array().unwrap().iter().any(|p| p == pair));
    about.map(|f| f["rule"].as_str().unwrap().to_owned()).collect()
}

/// RustDDS (our default nodes) sends a 256 KiB sample as RTPS fragments in datagrams under the
/// MTU: the kernel fragments nothing, and with 2 % of the frames into the Pi lost, a sample
/// (some 200 frames) almost never arrives whole while the chatter (one frame each) does. The
/// diagnosis is fragment loss, never discovery or the data path.
#[test]
fn rustdds_large_samples_lost_to_frame_loss_are_fragment_loss() {
    let dir = tempfile::tempdir().unwrap();
    let r = run(&write(&dir, &camera("rustdds", 5, "  - {kind: loss, node: pi, percent: 2}\n")), &[]);
    let cam = &trial_rows(&r.pairs_csv, "cam.talker", "l.listener")[0];
    let chat = &trial_rows(&r.pairs_csv, "chat.talker", "l.listener")[0];
    let (cam_got, cam_exp): (f64, f64) = (cam["received"].parse().unwrap(), cam["expected"].parse().unwrap());
    let (chat_got, chat_exp): (f64, f64) = (chat["received"].parse().unwrap(), chat["expected"].parse().unwrap());
    assert!(cam_exp >= 15.0 && cam_got <= 0.3 * cam_exp, "0.98^200 ≈ 2 % of samples whole: {cam:?}");
    assert!(chat_got >= 0.85 * chat_exp, "one frame per message, 2 % lost: {chat:?}");
    let rules = rules_about(&r.summary, "cam.talker → l.listener");
    assert!(rules.contains(&"fragment-loss".to_owned()), "{rules:?}: {}", r.summary["findings"]);
    for wrong in ["no-discovery-across-nodes", "matched-but-no-data", "no-discovery"] {
        assert!(!rules.contains(&wrong.to_owned()), "{rules:?}");
    }
    let f = r.summary["findings"].as_array().unwrap().iter().find(|f| f["rule"] == "fragment-loss").unwrap();
    let evidence = f["evidence"].to_string();
    assert!(evidence.contains("262144 bytes (payloadBytes)"), "{evidence}");
    assert!(evidence.contains("nothing needed IP reassembly"), "{evidence}");
    assert_eq!(f["fault"]["matches"], true, "{f}");
    // What RustDDS put on the wire: datagrams under the MTU, none fragmented by the kernel.
    let m = meta(&r.dir);
    let master = m["traffic"]["1"].as_array().unwrap().iter().find(|t| t["node"] == "master").unwrap();
    let (bytes, packets) =
        (master["data_sent"]["bytes"].as_f64().unwrap(), master["data_sent"]["packets"].as_f64().unwrap());
    assert!(
        packets > 1000.0 && bytes / packets < 1500.0,
        "mean data datagram {:.0} bytes of {packets}",
        bytes / packets
    );
    assert_eq!(node_ns(&m, "master")["ip"]["frag_oks"], 0, "{}", node_ns(&m, "master"));
    // The frames dropped were the Pi's: it was offered more than its listener's socket got.
    let pi = node_ns(&m, "pi");
    assert!(pi["link"]["in"]["packets"].as_u64().unwrap() > 1000, "{pi}");
}

/// A 5 Mbit/s cap on the master's link and a camera offering about 20 Mbit/s: the link is
/// saturated, with both numbers; what left the node stayed near the cap (tbf really caps).
#[test]
fn a_capped_link_offered_more_than_its_rate_is_saturated() {
    let dir = tempfile::tempdir().unwrap();
    let r = run(
        &write(&dir, &camera("rustdds", 10, "  - {kind: bandwidth, node: master, mbit: 5, direction: out}\n")),
        &[],
    );
    let f = r.summary["findings"].as_array().unwrap().iter().find(|f| f["rule"] == "link-saturated");
    let f = f.unwrap_or_else(|| panic!("{}", r.summary["findings"]));
    let evidence = f["evidence"][0].as_str().unwrap();
    assert!(evidence.contains("Mbit/s offered out of node master against a cap of 5 Mbit/s"), "{evidence}");
    let offered: f64 = evidence.split(": ").nth(1).unwrap().split(' ').next().unwrap().parse().unwrap();
    assert!(offered > 10.0, "10 Hz × 256 KiB ≈ 21 Mbit/s offered: {evidence}");
    assert_eq!(f["fault"]["matches"], true, "{f}");
    let m = meta(&r.dir);
    let master = node_ns(&m, "master");
    assert_eq!(master["link"]["cap_out_kbit"], 5000, "{master}");
    let (sent, ms) = (master["eth0_tx"]["bytes"].as_f64().unwrap(), master["ms"].as_f64().unwrap());
    let mbit = sent * 8.0 / 1e6 / (ms / 1e3);
    assert!(mbit < 6.0, "what crossed the link ({mbit:.1} Mbit/s) stayed near the 5 Mbit/s cap");
    let report = std::fs::read_to_string(r.dir.join("report.md")).unwrap();
    assert!(report.contains("## Kernel counters") && report.contains("/ 5 |"), "{report}");
}
