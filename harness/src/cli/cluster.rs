//! Reaching a Kubernetes cluster: which kubeconfig (kubectl's order, k3s's file last), the
//! client, and the kube backend's options from the flags.

use std::path::PathBuf;

use super::args::{ClusterArgs, ImageArgs, KubeArgs};
use crate::backend::kube::objects::Images;
use crate::backend::kube::KubeOptions;

impl ImageArgs {
    pub(super) fn images(&self) -> Images {
        Images::new(&self.image_registry, &self.image_tag)
    }
}

/// The doctor's probe pods: pinned by node name, in a namespace of their own.
pub(super) fn probe_options(images: &ImageArgs, pod_timeout: std::time::Duration) -> KubeOptions {
    KubeOptions { images: images.images(), namespace: None, pod_timeout, pin: true }
}

/// Where k3s writes its kubeconfig (readable by root only: the seed's users run `sudo k3s
/// kubectl`).
pub const K3S_KUBECONFIG: &str = "/etc/rancher/k3s/k3s.yaml";

/// Which kubeconfig to use, in kubectl's order with k3s's file last.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KubeconfigSource {
    /// `--kubeconfig`.
    Flag(PathBuf),
    /// `$KUBECONFIG`, `~/.kube/config` or the in-cluster service account (kube's inference).
    Inferred,
    /// k3s's own file, when nothing else exists.
    K3s(PathBuf),
}

/// [`KubeconfigSource`] from what exists: the flag, `$KUBECONFIG`, `~/.kube/config`, an
/// in-cluster service account; else k3s's file if present.
pub fn kubeconfig_source(
    flag: Option<&std::path::Path>,
    env: Option<&std::ffi::OsStr>,
    home_config: Option<&std::path::Path>,
    in_cluster: bool,
    k3s: &std::path::Path,
) -> KubeconfigSource {
    if let Some(f) = flag {
        return KubeconfigSource::Flag(f.to_owned());
    }
    let env_set = env.is_some_and(|e| !e.is_empty());
    if env_set || home_config.is_some_and(std::path::Path::exists) || in_cluster || !k3s.exists() {
        KubeconfigSource::Inferred
    } else {
        KubeconfigSource::K3s(k3s.to_owned())
    }
}

impl ClusterArgs {
    pub(super) async fn client(&self) -> Result<kube::Client, String> {
        let options = kube::config::KubeConfigOptions { context: self.context.clone(), ..Default::default() };
        let home = std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".kube/config"));
        let source = kubeconfig_source(
            self.kubeconfig.as_deref(),
            std::env::var_os("KUBECONFIG").as_deref(),
            home.as_deref(),
            std::env::var_os("KUBERNETES_SERVICE_HOST").is_some(),
            std::path::Path::new(K3S_KUBECONFIG),
        );
        let from_file = |path: PathBuf| {
            let options = options.clone();
            async move {
                let kc = kube::config::Kubeconfig::read_from(&path).map_err(|e| {
                    let mut msg = format!("{}: {e}", path.display());
                    if path == std::path::Path::new(K3S_KUBECONFIG) {
                        msg.push_str(
                            " (k3s's kubeconfig is readable by root only: run with sudo, or copy it with \
                         `sudo k3s kubectl config view --raw > ~/.kube/config`)",
                        );
                    }
                    msg
                })?;
                kube::Config::from_custom_kubeconfig(kc, &options).await.map_err(|e| e.to_string())
            }
        };
        let config = match source {
            KubeconfigSource::Flag(path) => from_file(path).await?,
            KubeconfigSource::K3s(path) => {
                eprintln!("harness: no kubeconfig found; using k3s's {}", path.display());
                from_file(path).await?
            }
            KubeconfigSource::Inferred if self.context.is_some() => {
                kube::Config::from_kubeconfig(&options).await.map_err(|e| e.to_string())?
            }
            KubeconfigSource::Inferred => kube::Config::infer().await.map_err(|e| e.to_string())?,
        };
        kube::Client::try_from(config).map_err(|e| e.to_string())
    }
}

impl KubeArgs {
    pub(super) fn options(&self) -> KubeOptions {
        KubeOptions {
            images: self.images.images(),
            namespace: self.namespace.clone(),
            pod_timeout: std::time::Duration::from_secs(self.pod_timeout),
            pin: self.pin,
        }
    }

    /// The doctor's probe pods, within this run's pod timeout.
    pub(super) fn doctor_options(&self) -> KubeOptions {
        probe_options(&self.images, std::time::Duration::from_secs(self.pod_timeout))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    /// kubectl's order, with k3s's root-only file as the last resort.
    #[test]
    fn kubeconfig_resolution() {
        let dir = tempfile::tempdir().expect("tempdir");
        let k3s = dir.path().join("k3s.yaml");
        let home = dir.path().join("config");
        let flag = Path::new("/x/kubeconfig");
        let none: Option<&std::ffi::OsStr> = None;
        assert_eq!(kubeconfig_source(Some(flag), None, None, false, &k3s), KubeconfigSource::Flag(flag.into()));
        // Nothing at all: kube's inference reports what it tried.
        assert_eq!(kubeconfig_source(None, none, Some(&home), false, &k3s), KubeconfigSource::Inferred);
        std::fs::write(&k3s, "").expect("write");
        assert_eq!(kubeconfig_source(None, none, Some(&home), false, &k3s), KubeconfigSource::K3s(k3s.clone()));
        assert_eq!(
            kubeconfig_source(None, Some(std::ffi::OsStr::new("/a")), Some(&home), false, &k3s),
            KubeconfigSource::Inferred
        );
        assert_eq!(kubeconfig_source(None, none, Some(&home), true, &k3s), KubeconfigSource::Inferred);
        std::fs::write(&home, "").expect("write");
        assert_eq!(kubeconfig_source(None, none, Some(&home), false, &k3s), KubeconfigSource::Inferred);
        assert_eq!(kubeconfig_source(Some(flag), none, Some(&home), false, &k3s), KubeconfigSource::Flag(flag.into()));
    }
}
