//! The `nodes` section: simulated cluster nodes, their labels and taints, and the pods'
//! tolerations with Kubernetes' matching rules.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NodeSpec {
    pub name: String,
    /// Node labels; `kubernetes.io/hostname` defaults to the node name.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Node taints, as `kubectl taint` sets them (a simulated node can carry them too).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub taints: Vec<Taint>,
    /// A fleet of this many identical nodes, named `<name>-1` … `<name>-N` (default: one node,
    /// named `<name>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u32>,
}

/// A node taint: pods that do not tolerate it are not scheduled there (`NoSchedule`,
/// `NoExecute`); `PreferNoSchedule` only discourages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Taint {
    pub key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    pub effect: String,
}

impl Taint {
    /// Whether the scheduler keeps pods that do not tolerate it off the node.
    pub fn repels(&self) -> bool {
        matches!(self.effect.as_str(), "NoSchedule" | "NoExecute")
    }

    pub fn describe(&self) -> String {
        match &self.value {
            Some(v) => format!("{}={v}:{}", self.key, self.effect),
            None => format!("{}:{}", self.key, self.effect),
        }
    }
}

/// A pod toleration, with Kubernetes' matching rules: `operator: Exists` matches any value
/// (and, with no key, any taint); `Equal` (the default) needs the same value; no effect
/// matches every effect.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Toleration {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator: Option<TolerationOperator>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effect: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TolerationOperator {
    Exists,
    Equal,
}

impl Toleration {
    pub fn tolerates(&self, taint: &Taint) -> bool {
        let exists = self.operator == Some(TolerationOperator::Exists);
        let key_ok = match &self.key {
            None => exists,
            Some(k) => k == &taint.key,
        };
        let value_ok = exists || self.value.as_deref().unwrap_or("") == taint.value.as_deref().unwrap_or("");
        let effect_ok = self.effect.as_deref().is_none_or(|e| e.is_empty() || e == taint.effect);
        key_ok && value_ok && effect_ok
    }
}
