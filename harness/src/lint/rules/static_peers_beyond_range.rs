//! `static-peers-beyond-range` (warning; a note when only the scheduler could put that many
//! together, when a profile the lint cannot read may raise the range, or when a `ros2 launch`
//! hides the count): more ROS 2 processes on one IP than DDS sends its static-peer
//! announcements to. Fast DDS announces to a peer address without a port only on the ports of
//! participant ids 0..`maxInitialPeersRange` (default 4); Cyclone DDS only at participant
//! indices 0..=`MaxAutoParticipantIndex`.

use crate::dds_xml::{attribute, elements, numbers, without_comments, FastDdsProfile};
use crate::lint::container::Container;
use crate::lint::distro::distro_has_static_peers;
use crate::lint::finding::{Out, Severity};
use crate::lint::ip_share::{alongside, dds_of, domain, on_ip, Dds, OnIp};
use crate::lint::workload::Workload;

const RULE: &str = "static-peers-beyond-range";
/// Fast DDS's default `maxInitialPeersRange` (UDPv4 transport descriptor).
const FASTDDS_DEFAULT_RANGE: u64 = 4;
/// Cyclone DDS's default `Discovery/MaxAutoParticipantIndex`.
const CYCLONE_DEFAULT_MAX_INDEX: u64 = 9;
/// The `MaxAutoParticipantIndex` rmw_cyclonedds writes ahead of CYCLONEDDS_URI on Iron and
/// later, for the SUBNET and LOCALHOST discovery ranges (CYCLONEDDS_URI can override it).
const RMW_CYCLONE_MAX_INDEX: u64 = 32;

/// A container's peers without a port, and how many participant ids of each it announces to.
struct Peers {
    dds: Dds,
    /// Participant ids 0..range of each peer address.
    range: u64,
    /// `false` when a profile the lint cannot read may set another range.
    range_known: bool,
    /// What lists the peers.
    from: &'static str,
    /// Where the range comes from.
    range_from: &'static str,
}

/// ROS 2 pods whose IP carries more DDS participants than the static peers' range reaches.
pub(super) fn check(all: &[Workload], out: &mut Out) {
    for w in all {
        let mut keys: Vec<(Dds, String)> = Vec::new();
        for c in w.containers.iter().filter(|c| alongside(w, c)) {
            if let Some(p) = peers_of(c) {
                let key = (p.dds, domain(c));
                if !keys.contains(&key) {
                    keys.push(key);
                }
            }
        }
        for key in &keys {
            judge(w, all, key, out);
        }
    }
}

/// The participants of `key` (DDS, domain) on `w`'s IP against its containers' range.
fn judge(w: &Workload, all: &[Workload], key: &(Dds, String), out: &mut Out) {
    let peers: Vec<(&Container, Peers)> = w
        .containers
        .iter()
        .filter(|c| alongside(w, c) && domain(c) == key.1)
        .filter_map(|c| Some((c, peers_of(c).filter(|p| p.dds == key.0)?)))
        .collect();
    let Some((first, p)) = peers.iter().min_by_key(|(_, p)| p.range) else { return };
    let ip = on_ip(w, all, key);
    let range = p.range;
    let known = peers.iter().all(|(_, p)| p.range_known);
    let line = first.node.line();
    let (severity, (message, fix), line) = if ip.certain > range {
        (if known { Severity::Warning } else { Severity::Note }, range_text(&ip, p, &key.1, ip.certain), line)
    } else if ip.most > range {
        (Severity::Note, range_text(&ip, p, &key.1, ip.most), line)
    } else if let Some(l) = ip.launch_line {
        (Severity::Note, launch_text(&ip, p, &key.1), l)
    } else {
        return;
    };
    out.push(w, line, severity, RULE, message, &fix);
}

/// The message and fix when `count` participants share the IP.
fn range_text(ip: &OnIp, p: &Peers, domain: &str, count: u64) -> (String, String) {
    let range = p.range;
    let (many, share) = if count == ip.certain {
        let more = if ip.most > count {
            format!(" (up to {} where the scheduler puts more together)", ip.most)
        } else {
            String::new()
        };
        (count.to_string(), format!("share {}{more}", ip.place))
    } else {
        (format!("up to {count}"), format!("can share {} when the scheduler puts them together", ip.place))
    };
    let unread = if p.range_known { "" } else { " unless a profile the lint cannot read raises it" };
    let launched = match ip.launches.as_slice() {
        [] => String::new(),
        l => format!(
            "; {} `ros2 launch`: each process a launch file starts is one more participant here (counted as one: the manifest does not show how many)",
            runs(l)
        ),
    };
    let (who, beyond) = match p.dds {
        Dds::FastDds => (
            "Fast DDS",
            format!(
                "Fast DDS announces to each peer address without a port only on the ports of participant ids 0–{last} ({ports}maxInitialPeersRange {range}, {from}{unread}), so the participants that take {ids} here (the {nth} and later to start) are announced to by no one on another IP: they meet the first {range} there, whose replies reach them, but never the participants beyond id {last} of another IP that has more than {range} too, where no SPDP multicast reaches between the two (flannel drops it across nodes) — measured on Fast DDS 2.14.5 and 3.2.3: 6 talker processes on one IP and 6 listener processes on another, 32 of 36 pairs delivered",
                last = range - 1,
                ports = ports(domain, range),
                from = p.range_from,
                ids = span("id", range, count),
                nth = ordinal(range + 1),
            ),
        ),
        Dds::Cyclone => (
            "Cyclone DDS",
            format!(
                "Cyclone DDS sends to each peer without a port only at participant indices 0–{last} ({ports}MaxAutoParticipantIndex {last}, {from}{unread}), and with ParticipantIndex auto a process finds no free index beyond it: the {nth} and later to start here ({ids}) may fail to create their participant, and no peer without a port reaches them",
                last = range - 1,
                ports = ports(domain, range),
                from = p.range_from,
                ids = span("index", range, count),
                nth = ordinal(range + 1),
            ),
        ),
    };
    let message = format!(
        "{many} ROS 2 processes ({who} participants, domain {domain}) {share} — {} — with peers from {}: {beyond}{launched}",
        ip.parts.join(", "),
        p.from
    );
    (message, fix_text(p.dds, Some(count)))
}

/// The note when a `ros2 launch` hides how many participants share the IP.
fn launch_text(ip: &OnIp, p: &Peers, domain: &str) -> (String, String) {
    let range = p.range;
    let limit = match p.dds {
        Dds::FastDds => format!(
            "Fast DDS announces to each peer address without a port only on participant ids 0–{} ({}maxInitialPeersRange {range}), so with more than {range} processes on one IP the {} and later to start never discover those beyond the range on another IP like it",
            range - 1,
            ports(domain, range),
            ordinal(range + 1)
        ),
        Dds::Cyclone => format!(
            "Cyclone DDS reaches a peer without a port only at participant indices 0–{} ({}MaxAutoParticipantIndex {}), so the {} and later process to start on one IP may fail to create its participant",
            range - 1,
            ports(domain, range),
            range - 1,
            ordinal(range + 1)
        ),
    };
    let message = format!(
        "{} `ros2 launch` on {}, with peers from {}: {} ROS 2 processes (domain {domain}) there counting each launch as one, but how many processes a launch file starts is not visible in the manifest, and each is a DDS participant on this IP (composable nodes loaded into one container process share its participant); {limit} — `harness run` on a scenario whose container sets `processes: N` measures it",
        runs(&ip.launches),
        ip.place,
        p.from,
        ip.certain
    );
    (message, fix_text(p.dds, None))
}

/// The fix, for `count` participants on one IP (`None`: not known).
fn fix_text(dds: Dds, count: Option<u64>) -> String {
    let need = count.map_or("the most processes on one IP".to_owned(), |n| n.to_string());
    let index = count.map_or("one less than the most processes on one IP".to_owned(), |n| (n - 1).to_string());
    match dds {
        Dds::FastDds => format!(
            "raise the range: a Fast DDS XML profile (FASTRTPS_DEFAULT_PROFILES_FILE, which Fast DDS 2 — Humble to Jazzy — reads and 3 still does; FASTDDS_DEFAULT_PROFILES_FILE only Fast DDS 3, Kilted on) with a UDPv4 transport descriptor whose <maxInitialPeersRange> is at least {need}, used through <userTransports> with <useBuiltinTransports>false</useBuiltinTransports>; or list each peer with its ports (an initialPeersList locator per participant, port 7400 + 250·domain + 10 + 2·id); or a Fast DDS discovery server (ROS_DISCOVERY_SERVER)"
        ),
        Dds::Cyclone => format!(
            "raise MaxAutoParticipantIndex in CYCLONEDDS_URI's <Discovery> to at least {index}, or run fewer ROS 2 processes per IP (spread them over pods)"
        ),
    }
}

/// `container a runs` / `containers a, b run`.
fn runs(launches: &[String]) -> String {
    match launches {
        [one] => format!("{one} runs"),
        many => format!("{} run", many.join(", ")),
    }
}

/// `ids 4–5` (or `id 4` alone) for `what` (`id`, `index`) `from..count`.
fn span(what: &str, from: u64, count: u64) -> String {
    if count == from + 1 {
        format!("{what} {from}")
    } else {
        let plural = if what == "index" { "indices".to_owned() } else { format!("{what}s") };
        format!("{plural} {from}–{}", count - 1)
    }
}

/// `ports 7410–7416; `: the metatraffic unicast ports (7400 + 250·domain + 10 + 2·id) of ids
/// 0..range, when the domain is a number.
fn ports(domain: &str, range: u64) -> String {
    domain.parse::<u64>().map_or(String::new(), |d| {
        let first = 7400 + 250 * d + 10;
        format!("ports {first}–{}; ", first + 2 * (range - 1))
    })
}

fn ordinal(n: u64) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

/// The peers without a port container `c` announces to, if any. On Iron and later the rmw reads
/// ROS_STATIC_PEERS unless ROS_AUTOMATIC_DISCOVERY_RANGE is OFF (no discovery) or
/// SYSTEM_DEFAULT (peers ignored); LOCALHOST (or ROS_LOCALHOST_ONLY=1) is left alone: there
/// rmw_fastrtps raises the range to 32 with a transport of its own.
fn peers_of(c: &Container) -> Option<Peers> {
    let recent = distro_has_static_peers(c.distro());
    let range = c
        .env
        .get("ROS_AUTOMATIC_DISCOVERY_RANGE")
        .filter(|_| recent)
        .map(|(v, _)| v.trim().to_ascii_uppercase())
        .filter(|v| !v.is_empty());
    match range.as_deref() {
        Some("OFF" | "LOCALHOST") => return None,
        None if c.env_is("ROS_LOCALHOST_ONLY", |v| v.trim() == "1") => return None,
        _ => {}
    }
    let rmw_discovery = recent && range.as_deref() != Some("SYSTEM_DEFAULT");
    let static_peers = rmw_discovery && c.env_is("ROS_STATIC_PEERS", |v| v.split(';').any(|p| !p.trim().is_empty()));
    match dds_of(c)? {
        Dds::FastDds => fast_dds_peers(c, static_peers),
        Dds::Cyclone => cyclone_peers(c, static_peers, rmw_discovery),
    }
}

/// Fast DDS: ROS_STATIC_PEERS (never with a port) or a profile's initialPeersList locators
/// without one, each sent to ids 0..maxInitialPeersRange. A discovery server replaces them.
fn fast_dds_peers(c: &Container, static_peers: bool) -> Option<Peers> {
    if c.env_is("ROS_DISCOVERY_SERVER", |v| !v.trim().is_empty()) {
        return None;
    }
    let (profile_peers, raised, readable) = match &c.fastdds_profile {
        None => (false, None, true),
        Some(None) => (false, None, false),
        Some(Some(xml)) => {
            let profile = FastDdsProfile::read(xml);
            if profile.discovery_server {
                return None;
            }
            // Any raised range counts, whichever descriptor sets it: the lint stays on the safe side.
            (profile.peers_without_port, profile.max_initial_peers_range, true)
        }
    };
    let from = match (static_peers, profile_peers) {
        (false, false) => return None,
        (true, false) => "ROS_STATIC_PEERS",
        (false, true) => "its Fast DDS profile's initialPeersList",
        (true, true) => "ROS_STATIC_PEERS and its Fast DDS profile's initialPeersList",
    };
    Some(Peers {
        dds: Dds::FastDds,
        range: raised.unwrap_or(FASTDDS_DEFAULT_RANGE).max(1),
        range_known: readable,
        from,
        range_from: if raised.is_some() { "as its profile sets it" } else { "Fast DDS's default" },
    })
}

/// Cyclone DDS: CYCLONEDDS_URI's Peers without a port, or ROS_STATIC_PEERS (rmw_cyclonedds
/// makes them Peers), each probed at indices 0..=MaxAutoParticipantIndex.
fn cyclone_peers(c: &Container, static_peers: bool, rmw_discovery: bool) -> Option<Peers> {
    let (uri_peers, max_index, readable) = match &c.cyclone_config {
        None => (false, None, true),
        Some(None) => (false, None, false),
        Some(Some(xml)) => {
            let xml = without_comments(xml);
            (cyclone_peers_without_port(&xml), numbers(&xml, "MaxAutoParticipantIndex").max(), true)
        }
    };
    let from = match (static_peers, uri_peers) {
        (false, false) => return None,
        (true, false) => "ROS_STATIC_PEERS",
        (false, true) => "CYCLONEDDS_URI's Peers",
        (true, true) => "ROS_STATIC_PEERS and CYCLONEDDS_URI's Peers",
    };
    let (max, range_from) = match max_index {
        Some(m) => (m, "as CYCLONEDDS_URI sets it"),
        None if rmw_discovery => (RMW_CYCLONE_MAX_INDEX, "as rmw_cyclonedds sets it on Iron and later"),
        None => (CYCLONE_DEFAULT_MAX_INDEX, "Cyclone DDS's default"),
    };
    Some(Peers { dds: Dds::Cyclone, range: max + 1, range_known: readable, from, range_from })
}

/// A `<Peer address="…"/>` of Cyclone DDS's Peers without a `:port`.
fn cyclone_peers_without_port(xml: &str) -> bool {
    elements(xml, "Peers").iter().flat_map(|(_, peers)| elements(peers, "Peer")).any(|(attrs, body)| {
        let address = attribute(attrs, "address").unwrap_or(body);
        !names_a_port(address)
    })
}

/// `host:7410`, `[::1]:7410`; a bare IPv6 address has none.
fn names_a_port(address: &str) -> bool {
    let a = address.trim();
    let port = match a.rsplit_once("]:") {
        Some((_, p)) => Some(p),
        None if !a.contains(']') => a.split_once(':').map(|(_, p)| p).filter(|p| !p.contains(':')),
        None => None,
    };
    port.is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::names_a_port;
    use crate::dds_xml::{elements, without_comments};
    use crate::lint::finding::{LintFinding, Severity};
    use crate::lint::testing::{rules, run, set};

    const RULE: &str = "static-peers-beyond-range";
    const PEERS: &str = "{name: ROS_STATIC_PEERS, value: 'listeners.peers.default.svc'}";

    /// `n` talker containers, one ROS 2 process each, with `env` and the `more` lines.
    fn containers(pod: &str, image: &str, n: usize, env: &str, more: &str) -> String {
        (0..n)
            .map(|i| format!("    - name: talker-{i}\n      image: {image}\n      command: [ros2, run, demo_nodes_cpp, talker, --ros-args, -r, '__node:=talker_{pod}_{i}']\n      env: [{env}]\n{more}"))
            .collect()
    }

    /// A Pod of `n` such containers, with the pod spec lines `spec`.
    fn pod(name: &str, n: usize, env: &str, spec: &str) -> String {
        format!(
            "---\nkind: Pod\nmetadata: {{name: {name}}}\nspec:\n{spec}  containers:\n{}",
            containers(name, "ros:jazzy", n, env, "")
        )
    }

    fn found(f: &[LintFinding]) -> Vec<&LintFinding> {
        f.iter().filter(|x| x.rule == RULE).collect()
    }

    fn one(f: &[LintFinding], severity: Severity) -> &LintFinding {
        let got = found(f);
        assert!(got.len() == 1 && got[0].severity == severity, "{:?}", rules(f));
        got[0]
    }

    #[test]
    fn six_processes_on_one_pod_ip_with_static_peers_are_beyond_the_range() {
        let f = run(&pod("talkers", 6, PEERS, ""));
        assert!(rules(&f).contains(&(RULE, 6, Severity::Warning)), "{:?}", rules(&f));
        let x = one(&f, Severity::Warning);
        for part in [
            "6 ROS 2 processes (Fast DDS participants, domain 0) share its pod IP — containers talker-0, talker-1, talker-2, talker-3, talker-4, talker-5 — with peers from ROS_STATIC_PEERS",
            "participant ids 0–3 (ports 7410–7416; maxInitialPeersRange 4, Fast DDS's default)",
            "the participants that take ids 4–5 here (the 5th and later to start)",
            "6 talker processes on one IP and 6 listener processes on another, 32 of 36 pairs delivered",
        ] {
            assert!(x.message.contains(part), "{part}\n{}", x.message);
        }
        assert!(
            x.fix.contains("<maxInitialPeersRange> is at least 6") && x.fix.contains("ROS_DISCOVERY_SERVER"),
            "{}",
            x.fix
        );
        // Five: only id 4 is beyond; another domain moves the ports.
        let five = run(&pod("talkers", 5, &format!("{PEERS}, {{name: ROS_DOMAIN_ID, value: '1'}}"), ""));
        let x = one(&five, Severity::Warning);
        assert!(x.message.contains("take id 4 here") && x.message.contains("ports 7660–7666;"), "{}", x.message);
        // Four fit the range; no peers, a discovery server, a pre-Iron distro, or a discovery
        // range that drops the peers (or raises the range): nothing to say.
        assert!(found(&run(&pod("talkers", 4, PEERS, ""))).is_empty());
        assert!(found(&run(&pod("talkers", 6, "", ""))).is_empty());
        let server = format!("{PEERS}, {{name: ROS_DISCOVERY_SERVER, value: 'ds:11811'}}");
        assert!(found(&run(&pod("talkers", 6, &server, ""))).is_empty());
        assert!(found(&run(&pod("talkers", 6, PEERS, "").replace("ros:jazzy", "ros:humble"))).is_empty());
        for range in ["OFF", "LOCALHOST", "SYSTEM_DEFAULT"] {
            let env = format!("{PEERS}, {{name: ROS_AUTOMATIC_DISCOVERY_RANGE, value: {range}}}");
            assert!(found(&run(&pod("talkers", 6, &env, ""))).is_empty(), "{range}");
        }
    }

    /// Participant ids are per domain, and init containers have exited before the pod's run.
    #[test]
    fn other_domains_and_init_containers_do_not_add_up() {
        let two_domains = format!(
            "{}{}",
            pod("talkers", 3, PEERS, ""),
            containers("d1", "ros:jazzy", 3, &format!("{PEERS}, {{name: ROS_DOMAIN_ID, value: '1'}}"), "")
        );
        assert!(found(&run(&two_domains)).is_empty(), "{:?}", rules(&run(&two_domains)));
        let init = |more: &str| {
            let inits =
                containers("init", "ros:jazzy", 1, PEERS, more) + &containers("setup", "ros:jazzy", 1, PEERS, "");
            format!("{}  initContainers:\n{inits}", pod("talkers", 4, PEERS, ""))
        };
        assert!(found(&run(&init(""))).is_empty(), "{:?}", rules(&run(&init(""))));
        // A sidecar (an init container that keeps running) counts.
        let sidecar = init("      restartPolicy: Always\n");
        assert_eq!(one(&run(&sidecar), Severity::Warning).message.split_once(" ROS 2").map(|x| x.0), Some("5"));
    }

    const RANGE_8: &str = "<profiles><transport_descriptors><transport_descriptor><transport_id>udp</transport_id><type>UDPv4</type><maxInitialPeersRange>8</maxInitialPeersRange></transport_descriptor></transport_descriptors><participant profile_name=\"p\" is_default_profile=\"true\"><rtps><userTransports><transport_id>udp</transport_id></userTransports><useBuiltinTransports>false</useBuiltinTransports></rtps></participant></profiles>";

    /// `n` containers loading the Fast DDS profile `xml` from a ConfigMap (`None`: not in the set).
    fn with_profile(n: usize, env: &str, xml: Option<&str>) -> String {
        with_profile_in(n, env, xml, "FASTRTPS_DEFAULT_PROFILES_FILE", "ros:jazzy")
    }

    /// The same through the variable `var`, on `image`.
    fn with_profile_in(n: usize, env: &str, xml: Option<&str>, var: &str, image: &str) -> String {
        let env =
            format!("{env}{}{{name: {var}, value: /etc/fastdds/profile.xml}}", if env.is_empty() { "" } else { ", " });
        let mount = "      volumeMounts: [{name: dds, mountPath: /etc/fastdds}]\n";
        let pod = format!(
            "---\nkind: Pod\nmetadata: {{name: talkers}}\nspec:\n  volumes: [{{name: dds, configMap: {{name: fastdds}}}}]\n  containers:\n{}",
            containers("talkers", image, n, &env, mount)
        );
        match xml {
            Some(xml) => {
                format!("{pod}---\nkind: ConfigMap\nmetadata: {{name: fastdds}}\ndata:\n  profile.xml: |\n    {xml}\n")
            }
            None => pod,
        }
    }

    #[test]
    fn a_profile_that_raises_the_range_or_gives_ports_is_read() {
        assert!(found(&run(&with_profile(6, PEERS, Some(RANGE_8)))).is_empty());
        // Fast DDS 3 (Kilted) reads FASTDDS_DEFAULT_PROFILES_FILE; Jazzy's 2.14 does not (measured).
        let fastdds_var = |image| with_profile_in(6, PEERS, Some(RANGE_8), "FASTDDS_DEFAULT_PROFILES_FILE", image);
        assert!(found(&run(&fastdds_var("ros:kilted"))).is_empty());
        one(&run(&fastdds_var("ros:jazzy")), Severity::Warning);
        let nine = run(&with_profile(9, PEERS, Some(RANGE_8)));
        let x = one(&nine, Severity::Warning);
        assert!(
            x.message.contains("; maxInitialPeersRange 8, as its profile sets it)")
                && x.message.contains("take id 8 here (the 9th"),
            "{}",
            x.message
        );
        // Commented out, it raises nothing.
        let commented = RANGE_8.replace(
            "<maxInitialPeersRange>8</maxInitialPeersRange>",
            "<!-- <maxInitialPeersRange>8</maxInitialPeersRange> -->",
        );
        one(&run(&with_profile(6, PEERS, Some(&commented))), Severity::Warning);
        // Initial peers from the profile, without a port: the same range; with ports: none.
        let peers = |locator: &str| {
            format!("<profiles><participant profile_name=\"p\" is_default_profile=\"true\"><rtps><builtin><initialPeersList><locator><udpv4><address>listeners.peers</address>{locator}</udpv4></locator></initialPeersList></builtin></rtps></participant></profiles>")
        };
        let f = run(&with_profile(6, "", Some(&peers(""))));
        assert!(one(&f, Severity::Warning).message.contains("with peers from its Fast DDS profile's initialPeersList"));
        assert!(found(&run(&with_profile(6, "", Some(&peers("<port>7410</port>"))))).is_empty());
        // A profile the set does not hold may raise it: a note that says so.
        let unread = run(&with_profile(6, PEERS, None));
        assert!(one(&unread, Severity::Note).message.contains("unless a profile the lint cannot read raises it"));
        assert!(found(&run(&with_profile(6, "", None))).is_empty(), "no peers the lint can see");
    }

    #[test]
    fn ros2_launch_hides_the_count_in_a_note() {
        let launch = "    - name: nav\n      image: ros:jazzy\n      command: [ros2, launch, nav2_bringup, navigation_launch.py]\n      env: [{name: ROS_STATIC_PEERS, value: 'listeners.peers'}]\n";
        let f = run(&format!("{}{launch}", pod("robot", 1, PEERS, "")));
        let x = one(&f, Severity::Note);
        assert!(rules(&f).contains(&(RULE, 10, Severity::Note)), "{:?}", rules(&f));
        for part in [
            "container nav runs `ros2 launch` on its pod IP, with peers from ROS_STATIC_PEERS: 2 ROS 2 processes (domain 0) there counting each launch as one",
            "not visible in the manifest",
            "`processes: N`",
        ] {
            assert!(x.message.contains(part), "{part}\n{}", x.message);
        }
        // Already beyond the range counting it as one: the warning, which says so.
        let f = run(&format!("{}{launch}", pod("robot", 5, PEERS, "")));
        assert!(one(&f, Severity::Warning).message.contains(
            "container nav runs `ros2 launch`: each process a launch file starts is one more participant here"
        ));
    }

    const HOST_ENV: &str =
        "{name: ROS_STATIC_PEERS, value: '10.0.0.2'}, {name: FASTDDS_BUILTIN_TRANSPORTS, value: UDPv4}";

    /// `text` four columns further in: a pod template's containers.
    fn shifted(text: &str) -> String {
        text.lines().map(|l| format!("    {l}\n")).collect()
    }

    /// A hostNetwork `kind` of `replicas` pods, two ROS 2 containers each, with pod spec lines `spec`.
    fn host_deployment(name: &str, kind: &str, replicas: u32, spec: &str) -> String {
        format!(
            "---\napiVersion: apps/v1\nkind: {kind}\nmetadata: {{name: {name}}}\nspec:\n  replicas: {replicas}\n  template:\n    metadata: {{labels: {{app: {name}}}}}\n    spec:\n      hostNetwork: true\n      dnsPolicy: ClusterFirstWithHostNet\n{spec}      containers:\n{}",
            shifted(&containers(name, "ros:jazzy", 2, HOST_ENV, ""))
        )
    }

    #[test]
    fn host_network_replicas_and_pods_add_up_on_the_node_ip() {
        let f = run(&host_deployment("drivers", "Deployment", 3, ""));
        let x = one(&f, Severity::Note);
        assert!(x.message.starts_with("up to 6 ROS 2 processes (Fast DDS participants, domain 0) can share one node's IP (hostNetwork) when the scheduler puts them together — Deployment/drivers: 2 processes per pod, up to 3 pods on one node"), "{}", x.message);
        // Pinned to one node, the three are there for certain.
        let pinned = host_deployment("drivers", "Deployment", 3, "      nodeSelector: {kubernetes.io/hostname: pi}\n");
        let x = one(&run(&pinned), Severity::Warning).message.clone();
        assert!(x.starts_with("6 ROS 2 processes (Fast DDS participants, domain 0) share the IP of node pi (hostNetwork) — Deployment/drivers: 3 pods × 2 processes"), "{x}");
        // Replicas on the pod network have an IP each; a DaemonSet has one pod per node; pods
        // holding a port, or kept apart, never share a node.
        assert!(found(&run(&host_deployment("drivers", "Deployment", 3, "").replace("      hostNetwork: true\n", "")))
            .is_empty());
        assert!(found(&run(&host_deployment("drivers", "DaemonSet", 3, ""))).is_empty());
        let port = host_deployment("drivers", "Deployment", 3, "").replacen(
            "          env:",
            "          ports: [{containerPort: 9090}]\n          env:",
            1,
        );
        assert!(found(&run(&port)).is_empty(), "{:?}", rules(&run(&port)));
        let apart = "      affinity:\n        podAntiAffinity:\n          requiredDuringSchedulingIgnoredDuringExecution:\n            - {topologyKey: kubernetes.io/hostname, labelSelector: {matchLabels: {app: drivers}}}\n";
        assert!(found(&run(&host_deployment("drivers", "Deployment", 3, apart))).is_empty());
        // Two workloads pinned to one node add up; on two nodes they do not.
        let on = |a: &str, b: &str| {
            let pinned = |name: &str, node: &str| {
                host_deployment(
                    name,
                    "Deployment",
                    2,
                    &format!("      nodeSelector: {{kubernetes.io/hostname: {node}}}\n"),
                )
            };
            run(&(pinned("camera", a) + &pinned("lidar", b)))
        };
        let f = on("pi", "pi");
        let got = found(&f);
        assert!(got.len() == 2 && got.iter().all(|x| x.severity == Severity::Warning), "{:?}", rules(&f));
        assert!(
            got[0].message.contains("8 ROS 2 processes")
                && got[0]
                    .message
                    .contains("Deployment/camera: 2 pods × 2 processes, Deployment/lidar: 2 pods × 2 processes"),
            "{}",
            got[0].message
        );
        assert!(found(&on("pi", "master")).is_empty());
    }

    /// `n` Cyclone DDS containers of `image` with CYCLONEDDS_URI `uri` inline.
    fn cyclone(n: usize, image: &str, uri: &str) -> String {
        let env = format!(
            "{{name: RMW_IMPLEMENTATION, value: rmw_cyclonedds_cpp}}, {{name: CYCLONEDDS_URI, value: '{uri}'}}"
        );
        format!(
            "---\nkind: Pod\nmetadata: {{name: robot}}\nspec:\n  containers:\n{}",
            containers("robot", image, n, &env, "")
        )
    }

    #[test]
    fn cyclone_peers_are_bounded_by_max_auto_participant_index() {
        let uri = |peer: &str, discovery: &str| {
            format!("<CycloneDDS><Domain><Discovery>{discovery}<Peers><Peer Address=\"{peer}\"/></Peers></Discovery></Domain></CycloneDDS>")
        };
        let f = run(&cyclone(11, "ros:humble", &uri("listeners.peers", "")));
        let x = one(&f, Severity::Warning);
        assert!(
            x.message.contains("11 ROS 2 processes (Cyclone DDS participants, domain 0)")
                && x.message.contains(
                    "participant indices 0–9 (ports 7410–7428; MaxAutoParticipantIndex 9, Cyclone DDS's default)"
                )
                && x.message.contains("the 11th and later to start here (index 10)"),
            "{}",
            x.message
        );
        assert!(x.fix.contains("MaxAutoParticipantIndex in CYCLONEDDS_URI's <Discovery> to at least 10"), "{}", x.fix);
        assert!(found(&run(&cyclone(10, "ros:humble", &uri("listeners.peers", "")))).is_empty());
        let raised = uri("listeners.peers", "<MaxAutoParticipantIndex>20</MaxAutoParticipantIndex>");
        assert!(found(&run(&cyclone(11, "ros:humble", &raised))).is_empty());
        assert!(found(&run(&cyclone(11, "ros:humble", &uri("listeners.peers:7410", "")))).is_empty());
        // rmw_cyclonedds on Iron and later writes MaxAutoParticipantIndex 32 first.
        assert!(found(&run(&cyclone(11, "ros:jazzy", &uri("listeners.peers", "")))).is_empty());
        let x = run(&cyclone(34, "ros:jazzy", &uri("listeners.peers", "")));
        assert!(one(&x, Severity::Warning)
            .message
            .contains("MaxAutoParticipantIndex 32, as rmw_cyclonedds sets it on Iron and later"));
    }

    /// The measured shape, as a fixture: six talkers in one pod, six listeners in another, each
    /// listing the other as its static peer; with the range raised to 8 in a profile, silent.
    #[test]
    fn the_measured_six_talkers_and_six_listeners() {
        let f = set(&[(
            "talkers-and-listeners.yaml",
            include_str!("../../../tests/fixtures/lint/static-peers-beyond-range/talkers-and-listeners.yaml"),
        )]);
        let got = found(&f);
        assert!(got.len() == 2 && got.iter().all(|x| x.severity == Severity::Warning), "{:?}", rules(&f));
        assert_eq!(got.iter().map(|x| x.object.as_str()).collect::<Vec<_>>(), ["Pod/talkers", "Pod/listeners"]);
        let f = set(&[(
            "talkers-and-listeners.yaml",
            include_str!("../../../tests/fixtures/lint/static-peers-range-raised/talkers-and-listeners.yaml"),
        )]);
        assert!(found(&f).is_empty(), "{:?}", rules(&f));
        assert!(f.iter().all(|x| x.severity == Severity::Note), "{:?}", rules(&f));
    }

    #[test]
    fn xml_is_read_for_peers_and_ports() {
        let xml = "<Peers><Peer Address=\"a\"/><Peer address='b:7410'/></Peers>";
        let peers = elements(xml, "Peer");
        assert_eq!(peers.len(), 2, "{peers:?}");
        assert_eq!(elements(xml, "Peers").len(), 1);
        assert!(names_a_port("b:7410") && names_a_port("[fe80::1]:7410"));
        assert!(!names_a_port("b") && !names_a_port("fe80::1") && !names_a_port("[fe80::1]"));
        assert_eq!(without_comments("a<!-- b -->c<!-- d"), "ac");
    }
}
