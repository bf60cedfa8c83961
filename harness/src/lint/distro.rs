//! Which ROS a container runs — none, ROS 1, or ROS 2 and its distro — as its image and command
//! say, and what a distro's DDS and rmw support.

/// Which ROS a container runs, as far as its image and command say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Ros {
    None,
    /// ROS 1: no DDS.
    One,
    /// ROS 2, with the distro if the image names one.
    Two(Option<&'static str>),
}

const ROS1_DISTROS: [&str; 5] = ["noetic", "melodic", "kinetic", "lunar", "indigo"];
const ROS2_DISTROS: [&str; 10] =
    ["foxy", "galactic", "humble", "iron", "jazzy", "kilted", "rolling", "eloquent", "dashing", "lyrical"];

/// Distros whose Fast DDS has `FASTDDS_BUILTIN_TRANSPORTS` (Fast DDS 2.13 and later: Jazzy on);
/// `None` (no distro in the tag) counts as recent.
pub(super) fn distro_at_least_jazzy(d: Option<&str>) -> bool {
    !matches!(d, Some("foxy" | "galactic" | "humble" | "iron" | "eloquent" | "dashing"))
}
/// The environment variables naming the Fast DDS XML profile a distro's Fast DDS loads, the one
/// it reads first first: Fast DDS 3 (Kilted on) reads FASTDDS_DEFAULT_PROFILES_FILE, then
/// FASTRTPS_DEFAULT_PROFILES_FILE; Fast DDS 2 (Humble, Iron, Jazzy) only the latter — measured on
/// Jazzy's 2.14.5: a profile raising maxInitialPeersRange through FASTDDS_DEFAULT_PROFILES_FILE
/// changed nothing (32 of 36 pairs), through FASTRTPS_DEFAULT_PROFILES_FILE 36 of 36. `None`
/// (no distro in the tag) counts as recent.
pub(super) fn fastdds_profile_vars(d: Option<&str>) -> &'static [&'static str] {
    if distro_at_least_kilted(d) {
        &["FASTDDS_DEFAULT_PROFILES_FILE", "FASTRTPS_DEFAULT_PROFILES_FILE"]
    } else {
        &["FASTRTPS_DEFAULT_PROFILES_FILE"]
    }
}

/// Distros on Fast DDS 3 (Kilted on); `None` counts as recent.
fn distro_at_least_kilted(d: Option<&str>) -> bool {
    distro_at_least_jazzy(d) && d != Some("jazzy")
}

/// Distros whose rmw has `ROS_STATIC_PEERS` (Iron on); `None` (no distro in the tag) counts as
/// recent.
pub(super) fn distro_has_static_peers(d: Option<&str>) -> bool {
    !matches!(d, Some("foxy" | "galactic" | "humble" | "eloquent" | "dashing"))
}

/// The ROS a container with `image` runs `words` with.
pub(super) fn image_ros(image: &str, words: &[&str]) -> Ros {
    let lower = image.to_ascii_lowercase();
    let repo = lower.rsplit('/').next().unwrap_or(&lower);
    let tag_words: Vec<&str> = repo.split([':', '-', '_', '.']).collect();
    let ours = lower.contains("chatter-harness/");
    let runs_ros2 = words.contains(&"ros2");
    let runs_ros1 = words.iter().any(|w| matches!(*w, "roslaunch" | "rosrun" | "roscore"));
    let ros_image = repo.starts_with("ros:") || repo.starts_with("ros-") || lower.contains("/ros:");
    if ours || !(runs_ros2 || runs_ros1 || ros_image) {
        return Ros::None;
    }
    if runs_ros1 || (!runs_ros2 && tag_words.iter().any(|w| ROS1_DISTROS.contains(w))) {
        return Ros::One;
    }
    Ros::Two(ROS2_DISTROS.iter().find(|d| tag_words.contains(d)).copied())
}
