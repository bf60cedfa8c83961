//! Who takes part in a trial and where: the planned talkers and listeners ([`Roster`]), and how
//! a talker and a listener sit relative to each other ([`Relation`]), which every per-pair
//! figure is grouped by.

use serde::{Deserialize, Serialize};

/// Name used for talkers that send stock `demo_nodes_cpp` payloads (no id).
pub const ANONYMOUS: &str = "(anonymous)";

/// A talker or listener the plan started.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    /// Record id (`<pod>.<container>`).
    pub id: String,
    pub pod: String,
    pub node: String,
    /// A stock demo node: its messages carry no talker id ("Hello World: N"), so receipts are
    /// attributed to it by their send times.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub demo: bool,
    /// The ROS 2 type of its topic where it is not the chatter's String (a stock node's
    /// `messageType`): a talker and a listener of different types are on different topics, so
    /// they make no pair.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_type: Option<String>,
}

/// Who was supposed to take part: every planned talker and listener, so one that never printed
/// a record still shows up (as a pair that delivered nothing).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Roster {
    pub talkers: Vec<Member>,
    pub listeners: Vec<Member>,
}

impl Roster {
    pub fn from_plan(plan: &crate::placement::Plan) -> Roster {
        let mut r = Roster::default();
        for (pod, c) in plan.containers() {
            let m = Member {
                id: c.id.clone(),
                pod: pod.name.clone(),
                node: pod.node.clone(),
                demo: c.output == crate::spec::Output::DemoNodes,
                message_type: c
                    .message_type
                    .filter(|t| *t != crate::spec::MessageType::String)
                    .map(|t| t.as_str().to_owned()),
            };
            match c.role {
                crate::spec::ContainerRole::Talker => r.talkers.push(m),
                crate::spec::ContainerRole::Listener => r.listeners.push(m),
                // A helper program (a discovery server) is in no pair.
                crate::spec::ContainerRole::Process => {}
            }
        }
        r
    }

    /// The same members with pods moved to other nodes (`pod → node`), for rescheduled trials.
    pub fn with_nodes(&self, placement: &std::collections::BTreeMap<String, String>) -> Roster {
        let moved =
            |m: &Member| Member { node: placement.get(&m.pod).cloned().unwrap_or_else(|| m.node.clone()), ..m.clone() };
        Roster {
            talkers: self.talkers.iter().map(moved).collect(),
            listeners: self.listeners.iter().map(moved).collect(),
        }
    }

    /// The node a member ran on.
    pub fn node_of(&self, id: &str) -> Option<&str> {
        self.find(id).map(|m| m.node.as_str())
    }

    /// Where each pod ran: pod → node.
    pub fn placement(&self) -> std::collections::BTreeMap<String, String> {
        self.talkers.iter().chain(&self.listeners).map(|m| (m.pod.clone(), m.node.clone())).collect()
    }

    /// Whether talker `talker` and listener `listener` share a topic, so that one should hear
    /// the other: both planned with one message type, or either not planned (a stray talker is
    /// judged by what arrived).
    pub fn same_topic(&self, talker: &str, listener: &str) -> bool {
        match (self.find(talker), self.find(listener)) {
            (Some(t), Some(l)) => t.message_type == l.message_type,
            _ => true,
        }
    }

    /// Whether `id` is a talker the plan started.
    pub fn is_talker(&self, id: &str) -> bool {
        self.talkers.iter().any(|t| t.id == id)
    }

    fn find(&self, id: &str) -> Option<&Member> {
        self.talkers.iter().chain(&self.listeners).find(|m| m.id == id)
    }
}

/// Where a talker and a listener sit relative to each other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Relation {
    SamePod,
    SameNode,
    CrossNode,
    /// A talker outside the plan (e.g. an anonymous demo talker).
    Unknown,
}

impl Relation {
    pub fn between(roster: &Roster, talker: &str, listener: &str) -> Relation {
        match (roster.find(talker), roster.find(listener)) {
            (Some(t), Some(l)) if t.pod == l.pod => Relation::SamePod,
            (Some(t), Some(l)) if t.node == l.node => Relation::SameNode,
            (Some(_), Some(_)) => Relation::CrossNode,
            _ => Relation::Unknown,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Relation::SamePod => "same pod",
            Relation::SameNode => "same node",
            Relation::CrossNode => "cross node",
            Relation::Unknown => "unknown",
        }
    }
}
