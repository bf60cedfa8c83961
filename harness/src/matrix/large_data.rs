//! The large-data fixes: what teams deploy when small topics cross and camera-sized ones do
//! not. Each applies only where a talker publishes messages that do not fit one frame of the
//! pod network, and keeps the scenario's discovery as it is, so the table shows what each one
//! changes for the large messages alone.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use crate::placement::Plan;
use crate::spec::{ContainerRole, Scenario};

use super::edits::{raised_initial_peers_range, with_fastdds_env, Variant, NOT_FASTDDS};
use super::overlay::{env_patches, profile_patches, KUSTOMIZATION};

/// The under-MTU variant's profile file (in the matrix directory; a ConfigMap in its overlay).
pub(super) const UNDER_MTU_PROFILE: &str = "fastdds-under-mtu.xml";
/// The largest RTPS message the under-MTU profile lets Fast DDS send: one frame of flannel's
/// 1450-byte pod MTU, less the IPv4 and UDP headers (28 bytes), with room to spare.
pub(super) const UNDER_MTU_MESSAGE: u32 = crate::spec::DEFAULT_POD_MTU - 50;

const LARGE_DATA_NOTE: &str = "Fast DDS 2.13 and later (ROS 2 Jazzy on): discovery stays on UDP, data goes over \
     TCP between hosts (shared memory within one), so a lost frame is retransmitted by TCP instead of losing a \
     whole fragmented datagram; every ROS 2 process of both ends needs it";
const UNDER_MTU_NOTE: &str = "the profile replaces Fast DDS's built-in transports by one UDPv4 transport whose \
     messages fit one frame (maxMessageSize), so Fast DDS fragments large samples itself and a reliable reader asks \
     again for the fragments it lost; processes of one pod then talk over UDP rather than shared memory";

/// The largest message a talker of `s` publishes, in bytes, if any sets `payloadBytes`.
fn largest_payload(s: &Scenario) -> Option<u32> {
    s.pods
        .iter()
        .flat_map(|p| &p.containers)
        .filter(|c| c.role == ContainerRole::Talker)
        .filter_map(|c| c.payload_bytes)
        .max()
}

/// The largest message that fits one frame of `s`'s pod network, with room for the RTPS, UDP and
/// IP headers.
pub(super) fn one_frame(s: &Scenario) -> u32 {
    s.network.pod_mtu().saturating_sub(50)
}

/// Why the large-data variants do not apply to `s`, if they do not: every message fits one
/// frame of its pod network.
pub(super) fn not_large(s: &Scenario) -> Option<String> {
    match largest_payload(s) {
        Some(b) if b > one_frame(s) => None,
        Some(b) => Some(format!("the largest message ({b} bytes) fits one frame of the pod network")),
        None => Some("no talker sets payloadBytes: every message fits one frame of the pod network".to_owned()),
    }
}

const SENSOR_QOS_NOTE: &str = "a change in the nodes (rclpy qos_profile_sensor_data, rclcpp SensorDataQoS, or a QoS \
     override file): the large streams' publishers and their subscribers drop what is late instead of holding the \
     writer's history; a sample lost on the wire stays lost";

/// The sensor-data QoS variant: best effort and keep-last 1 on every talker whose messages do not
/// fit one frame, and on the listeners of its topic (a best-effort writer matches no reliable
/// reader). Our own nodes have one topic, so all their listeners take it.
fn with_sensor_qos(s: &Scenario) -> Scenario {
    let limit = one_frame(s);
    let mut out = s.clone();
    let large: Vec<Option<crate::spec::MessageType>> = s
        .pods
        .iter()
        .flat_map(|p| &p.containers)
        .filter(|c| c.role == ContainerRole::Talker && c.payload_bytes.is_some_and(|b| b > limit))
        .map(|c| c.message_type)
        .collect();
    for c in out.pods.iter_mut().flat_map(|p| p.containers.iter_mut()) {
        let talker = c.role == ContainerRole::Talker && c.payload_bytes.is_some_and(|b| b > limit);
        let listener = c.role == ContainerRole::Listener && large.contains(&c.message_type);
        if talker || listener {
            c.reliability = Some(chatter::Reliability::BestEffort);
            c.depth = Some(1);
        }
    }
    out
}

/// The large-data variants of `scenario`, in order of invasiveness.
pub(super) fn large_data_variants(scenario: &Scenario, plan: &Plan, fastdds: bool, files_dir: &Path) -> [Variant; 3] {
    let why = not_large(scenario);
    let applies = |with: &dyn Fn() -> Scenario| match (&why, fastdds) {
        (Some(w), _) => Err(w.clone()),
        (None, false) => Err(NOT_FASTDDS.to_owned()),
        (None, true) => Ok(with()),
    };
    let profile = files_dir.join(UNDER_MTU_PROFILE);
    let range = raised_initial_peers_range(plan);
    [
        Variant {
            files: Vec::new(),
            id: "fastdds-large-data",
            title: "FASTDDS_BUILTIN_TRANSPORTS=LARGE_DATA (data over TCP)",
            rank: 1,
            scenario: applies(&|| with_fastdds_env(scenario, "FASTDDS_BUILTIN_TRANSPORTS", "LARGE_DATA")),
            note: Some(LARGE_DATA_NOTE),
        },
        Variant {
            files: vec![(profile.clone(), under_mtu_xml(range))],
            id: "fastdds-under-mtu",
            title: "a Fast DDS profile keeping RTPS messages under the pod MTU",
            rank: 2,
            scenario: applies(&|| {
                with_fastdds_env(scenario, "FASTRTPS_DEFAULT_PROFILES_FILE", &profile.display().to_string())
            }),
            note: Some(UNDER_MTU_NOTE),
        },
        Variant {
            files: Vec::new(),
            id: "sensor-qos",
            title: "best effort and keep-last 1 for the large streams (sensor-data QoS)",
            rank: 2,
            scenario: why.clone().map_or_else(|| Ok(with_sensor_qos(scenario)), Err),
            note: Some(SENSOR_QOS_NOTE),
        },
    ]
}

/// A Fast DDS profile (the default participant profile) whose one UDPv4 transport sends no
/// message larger than [`UNDER_MTU_MESSAGE`] bytes, announcing to participant ids 0..`range` of
/// each initial peer (the range is a transport setting: the profile keeps static peers working
/// for as many processes per IP as the raised-range variant).
pub fn under_mtu_xml(range: usize) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <!-- Every RTPS message in one frame of the pod network (MTU 1450 on flannel's VXLAN): Fast DDS\n\
         \x20    fragments large samples itself, and a reliable reader asks again for the fragments it lost,\n\
         \x20    instead of the kernel dropping a whole 64 KB datagram for one lost IP fragment. -->\n\
         <dds xmlns=\"http://www.eprosima.com/XMLSchemas/fastRTPS_Profiles\">\n  <profiles>\n    <transport_descriptors>\n\
         \x20     <transport_descriptor>\n        <transport_id>udp_under_mtu</transport_id>\n        <type>UDPv4</type>\n\
         \x20       <maxMessageSize>{UNDER_MTU_MESSAGE}</maxMessageSize>\n\
         \x20       <maxInitialPeersRange>{range}</maxInitialPeersRange>\n      </transport_descriptor>\n\
         \x20   </transport_descriptors>\n    <participant profile_name=\"under_mtu\" is_default_profile=\"true\">\n\
         \x20     <rtps>\n        <userTransports>\n          <transport_id>udp_under_mtu</transport_id>\n\
         \x20       </userTransports>\n        <useBuiltinTransports>false</useBuiltinTransports>\n      </rtps>\n\
         \x20   </participant>\n  </profiles>\n</dds>\n"
    )
}

/// The large-data overlays, for the variants of this file.
pub(super) fn large_data_files(variant: &str, plan: &Plan, namespace: &str) -> Option<BTreeMap<String, String>> {
    let k = match variant {
        "fastdds-large-data" => {
            let mut k = String::from(
                "# Fast DDS's LARGE_DATA builtin transports in every ROS container: discovery on UDP, data over TCP\n\
                 # (Fast DDS 2.13 and later: ROS 2 Jazzy on). A lost frame then costs a TCP retransmission, not a\n\
                 # whole fragmented datagram.\n",
            );
            let _ = write!(k, "{}resources:\n  - base.yaml\npatches:\n", KUSTOMIZATION);
            env_patches(&mut k, plan, "{name: FASTDDS_BUILTIN_TRANSPORTS, value: LARGE_DATA}");
            k
        }
        "fastdds-under-mtu" => {
            let mut k = format!(
                "# Every ROS container reads a Fast DDS profile (ConfigMap fastdds-under-mtu, through\n\
                 # FASTRTPS_DEFAULT_PROFILES_FILE) whose UDP transport sends no message over {UNDER_MTU_MESSAGE} bytes: one\n\
                 # frame of the pod network, so no IP fragments.\n{}namespace: {namespace}\nresources:\n  - base.yaml\n\
                 configMapGenerator:\n  - name: fastdds-under-mtu\n    files:\n      - {UNDER_MTU_PROFILE}\npatches:\n",
                KUSTOMIZATION
            );
            profile_patches(&mut k, plan, "fastdds-under-mtu", UNDER_MTU_PROFILE);
            let mut files = BTreeMap::from([("kustomization.yaml".to_owned(), k)]);
            files.insert(UNDER_MTU_PROFILE.into(), under_mtu_xml(raised_initial_peers_range(plan)));
            return Some(files);
        }
        _ => return None,
    };
    Some(BTreeMap::from([("kustomization.yaml".to_owned(), k)]))
}

/// The advice for the large-data variants that have no manifest change.
pub(super) fn large_data_words(variant: &str) -> Option<String> {
    (variant == "sensor-qos").then(|| {
        "no manifest change: in the large streams' publishers and their subscribers, QoS best effort with \
         keep-last 1 (rclpy qos_profile_sensor_data, rclcpp rclcpp::SensorDataQoS()), or a QoS override file\n"
            .to_owned()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matrix::{fix_files, variants};

    use crate::matrix::edits::parsed as scenario;

    const CAMERA: &str = "name: t\nnodes: [{name: master}, {name: pi}]\npods:\n  - name: base\n    nodeSelector: \
                          {kubernetes.io/hostname: master}\n    containers: [{name: l, role: listener}]\n  - name: \
                          robot\n    nodeSelector: {kubernetes.io/hostname: pi}\n    containers: [{name: cam, role: \
                          talker, payloadBytes: 1048576}]\ndds: {transport: ros}\n";

    #[test]
    fn large_data_variants_apply_to_large_messages_on_fast_dds_only() {
        let (s, plan) = scenario(CAMERA);
        let v = variants(&s, &plan, "netns", None, Path::new("/m/files"));
        let find = |id: &str| v.iter().find(|x| x.id == id).expect("variant");
        let large = find("fastdds-large-data").scenario.as_ref().expect("applies");
        assert!(large
            .pods
            .iter()
            .flat_map(|p| &p.containers)
            .all(|c| c.env["FASTDDS_BUILTIN_TRANSPORTS"] == "LARGE_DATA"));
        let under = find("fastdds-under-mtu");
        let c = &under.scenario.as_ref().expect("applies").pods[1].containers[0];
        assert_eq!(c.env["FASTRTPS_DEFAULT_PROFILES_FILE"], "/m/files/fastdds-under-mtu.xml");
        let xml = &under.files[0].1;
        assert!(
            xml.contains("<maxMessageSize>1400</maxMessageSize>") && xml.contains("<maxInitialPeersRange>16<"),
            "{xml}"
        );
        assert!(xml.contains("<useBuiltinTransports>false</useBuiltinTransports>"));
        // Sensor-data QoS on the camera and on the listeners of its topic (ours: one topic).
        let qos = find("sensor-qos").scenario.as_ref().expect("applies");
        for c in qos.pods.iter().flat_map(|p| &p.containers) {
            assert_eq!((c.reliability, c.depth), (Some(chatter::Reliability::BestEffort), Some(1)), "{}", c.name);
        }
        assert!(large_data_words("sensor-qos").expect("words").contains("qos_profile_sensor_data"));
        // Chatter-sized messages: nothing to fix there.
        let (small, plan) = scenario(&CAMERA.replace("payloadBytes: 1048576", "payloadBytes: 512"));
        let v = variants(&small, &plan, "netns", None, Path::new("/m/files"));
        let why = v.iter().find(|x| x.id == "fastdds-large-data").expect("listed").scenario.clone().err();
        assert_eq!(why.as_deref(), Some("the largest message (512 bytes) fits one frame of the pod network"));
        // Our RustDDS nodes are not Fast DDS.
        let (rustdds, plan) = scenario(&CAMERA.replace("dds: {transport: ros}\n", ""));
        let v = variants(&rustdds, &plan, "netns", None, Path::new("/m/files"));
        let why = v.iter().find(|x| x.id == "fastdds-under-mtu").expect("listed").scenario.clone().err();
        assert!(why.expect("does not apply").starts_with("needs Fast DDS"));
    }

    #[test]
    fn large_data_overlays_set_every_container() {
        let (_, plan) = scenario(CAMERA);
        let large = fix_files("fastdds-large-data", &plan, "ns", None, None).expect("an overlay");
        assert_eq!(
            large["kustomization.yaml"].matches("value: {name: FASTDDS_BUILTIN_TRANSPORTS, value: LARGE_DATA}").count(),
            2
        );
        let under = fix_files("fastdds-under-mtu", &plan, "ns", None, None).expect("an overlay");
        let k = &under["kustomization.yaml"];
        assert_eq!(
            k.matches("FASTRTPS_DEFAULT_PROFILES_FILE, value: /etc/fastdds/fastdds-under-mtu.xml").count(),
            2,
            "{k}"
        );
        assert!(
            k.contains("configMapGenerator:\n  - name: fastdds-under-mtu\n    files:\n      - fastdds-under-mtu.xml")
        );
        assert!(under["fastdds-under-mtu.xml"].contains("<maxMessageSize>1400</maxMessageSize>"));
    }
}
