//! What the set knows besides its workloads: the data of its ConfigMaps, and the image names its
//! Kustomizations rewrite.

use std::collections::BTreeMap;

use super::document::Node;

/// ConfigMaps of the set: (namespace, name) → key → (value, line).
pub(super) type ConfigMaps = BTreeMap<(String, String), BTreeMap<String, (String, usize)>>;

/// What the set knows besides its workloads: ConfigMaps, and the image names a
/// Kustomization's `images:` rewrites (name → `newName:newTag` or `@digest`).
#[derive(Default)]
pub(super) struct Context {
    pub(super) config_maps: ConfigMaps,
    images: BTreeMap<String, String>,
}

impl Context {
    /// Reads the ConfigMaps and Kustomizations among the set's documents.
    pub(super) fn read(docs: &[(&str, &Node)]) -> Self {
        let mut cx = Context::default();
        for (_, d) in docs {
            match d.get("kind").and_then(Node::str) {
                Some("ConfigMap") => cx.read_config_map(d),
                Some("Kustomization") => cx.read_kustomization(d),
                _ => {}
            }
        }
        cx
    }

    /// A ConfigMap's data, under its namespace and name.
    fn read_config_map(&mut self, d: &Node) {
        let ns = d.at(&["metadata", "namespace"]).and_then(Node::str).unwrap_or("default");
        let name = d.at(&["metadata", "name"]).and_then(Node::str).unwrap_or("");
        let data = d.get("data").map(Node::entries).unwrap_or_default();
        self.config_maps.insert(
            (ns.to_owned(), name.to_owned()),
            data.iter().map(|(k, v)| (k.clone(), (v.str().unwrap_or("").to_owned(), v.line()))).collect(),
        );
    }

    /// A Kustomization's `images:` rewrites; where two set one name, the first counts.
    fn read_kustomization(&mut self, d: &Node) {
        for i in d.get("images").map(Node::items).unwrap_or_default() {
            let Some(name) = i.get("name").and_then(Node::str) else { continue };
            let new_name = i.get("newName").and_then(Node::str).unwrap_or(name);
            let new = match (i.get("digest").and_then(Node::str), i.get("newTag").and_then(Node::str)) {
                (Some(d), _) => format!("{new_name}@{d}"),
                (None, Some(t)) => format!("{new_name}:{t}"),
                (None, None) => continue,
            };
            self.images.entry(name.to_owned()).or_insert(new);
        }
    }

    /// The image a container names, as a Kustomization of the set rewrites it.
    pub(super) fn image(&self, image: &str) -> String {
        let name = image.split(['@', ':']).next().unwrap_or(image);
        // A tag after the last '/' (a registry port is not a tag).
        let tag_at = image.rfind(':').filter(|i| !image[*i..].contains('/'));
        match self.images.get(name) {
            Some(new) if tag_at.is_none() && !image.contains('@') => new.clone(),
            _ => image.to_owned(),
        }
    }
}
