//! `harness matrix`: which change makes every listener hear every talker? The scenario runs
//! once per fix variant — as it is, unicast discovery peers, a multicast-capable CNI, the host
//! network — each a normal run directory inside one matrix directory, and one table says which
//! pairs each variant delivered and with which verdict. The least invasive variant that
//! delivers everything is recommended with the manifest change that makes it (a kustomize
//! overlay, checked by `scripts/validate-manifests.sh`). Variants that cannot apply are listed
//! with why.

mod edits;
mod fixes;
mod fragment_sysctls;
mod large_data;
mod overlay;
mod report;
mod variants;
mod zenoh;

pub use edits::{most_processes_per_ip, Variant};
pub use fixes::{fix_files, fix_words, write_fix};
pub use large_data::under_mtu_xml;
pub use report::{outcome_of, Manifests, MatrixReport, Outcome, PairCell, VariantResult};
pub use variants::{cyclone_peers_xml, initial_peers_range_xml, variants, DISCOVERY_POD, DISCOVERY_PORT};
pub use zenoh::bridge_words;
