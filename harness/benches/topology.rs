//! Building and removing the simulated seed cluster (`scenarios/seed.yaml`: 2 nodes, 3 pods,
//! 6 namespaces), one `ip` process per command (the backend before batching) beside `ip -batch`
//! per namespace (now), alternating, in one run. Needs root (it makes network namespaces; no
//! DDS traffic). `cargo bench -p harness --bench topology [-- ROUNDS]`.

use std::time::{Duration, Instant};

use harness::backend::netns::topology::Topology;
use harness::backend::netns::{build_topology, remove_namespaces, BuildMode};

fn main() {
    if !chatter_sandbox::is_root() {
        eprintln!("topology bench: needs root (it creates network namespaces); skipped");
        return;
    }
    let rounds: usize = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(20);
    let root = testkit::workspace_root();
    let scenario = harness::spec::load(&root.join("scenarios/seed.yaml")).expect("seed scenario");
    let plan = harness::placement::place(&scenario, &harness::placement::declared_nodes(&scenario)).expect("placed");
    let tag = format!("bt{:04x}", std::process::id() & 0xffff);
    let topo = Topology::new(&tag, &plan, false);
    let prefix = format!("chh-{tag}-");
    let mut times: Vec<(BuildMode, Duration, Duration)> = Vec::new();
    for round in 0..rounds * 2 {
        let mode = if round % 2 == 0 { BuildMode::PerCommand } else { BuildMode::Batched };
        let t = Instant::now();
        build_topology(&topo, &[], mode).expect("build");
        let built = t.elapsed();
        let t = Instant::now();
        let removed = remove_namespaces(&prefix);
        assert_eq!(removed.len(), topo.namespaces().len());
        times.push((mode, built, t.elapsed()));
    }
    let commands = topo.build_commands().len();
    let batches = topo.batches().len();
    println!(
        "seed topology: {} namespaces, {commands} ip commands, {batches} ip -batch runs; {rounds} rounds each",
        topo.namespaces().len()
    );
    println!("| mode | processes | build median | build p90 | teardown median |");
    println!("|---|---:|---:|---:|---:|");
    for (mode, procs) in [(BuildMode::PerCommand, commands), (BuildMode::Batched, batches)] {
        let mut b: Vec<Duration> = times.iter().filter(|t| t.0 == mode).map(|t| t.1).collect();
        let mut d: Vec<Duration> = times.iter().filter(|t| t.0 == mode).map(|t| t.2).collect();
        b.sort();
        d.sort();
        let ms = |v: Duration| format!("{:.1} ms", v.as_secs_f64() * 1e3);
        // + one `ip netns exec … sh -c 'sysctl; nft -f'` per node in both modes.
        println!(
            "| {mode:?} | {} | {} | {} | {} |",
            procs + topo.nodes.len(),
            ms(b[b.len() / 2]),
            ms(b[b.len() * 9 / 10]),
            ms(d[d.len() / 2])
        );
    }
}
