//! Containers that print the stock demo nodes' console lines instead of records: each line
//! becomes the record our own node would have printed (`sent`, `recv`), the process's start and
//! end become its `start` and `stop`, and everything else is counted and kept.

use chatter::demo_log::{self, DemoLine};
use chatter::{Durability, ListenerTotals, Qos, Record, Reliability, Role, StartInfo};

use crate::backend::Lifecycle;
use crate::spec::ContainerRole;

/// One demo-node container's console, turned into records.
#[derive(Debug)]
pub struct DemoNode {
    id: String,
    pod: String,
    role: Role,
    domain: u32,
    sent: u64,
    heard: u64,
    /// Lines that were neither a publish nor a receipt.
    pub other: u64,
}

impl DemoNode {
    pub fn new(id: &str, pod: &str, role: ContainerRole, domain: u16) -> DemoNode {
        let role = match role {
            ContainerRole::Talker => Role::Talker,
            // A process's console is never read as a demo node's (validation).
            ContainerRole::Listener | ContainerRole::Process => Role::Listener,
        };
        DemoNode {
            id: id.to_owned(),
            pod: pod.to_owned(),
            role,
            domain: u32::from(domain),
            sent: 0,
            heard: 0,
            other: 0,
        }
    }

    /// The record a lifecycle event stands for: the process started (`start`) or its output
    /// ended (`stop`; a crash cannot be told from a stop here); none for a placement.
    pub fn event(&self, event: Lifecycle) -> Option<Record> {
        Some(match event {
            Lifecycle::Started { t_ns } => {
                let info = StartInfo {
                    host: &self.pod,
                    pid: 0,
                    transport: "demo-nodes",
                    domain: self.domain,
                    topic: chatter::DEFAULT_TOPIC,
                    // demo_nodes' QoS: reliable, volatile, keep-last 10.
                    qos: Qos { reliability: Reliability::Reliable, durability: Durability::Volatile, depth: 10 },
                    guid: None,
                };
                Record::start(t_ns, &self.id, self.role, &info)
            }
            Lifecycle::Ended { t_ns } => match self.role {
                Role::Talker => Record::talker_stop(t_ns, &self.id, self.sent, "output ended"),
                Role::Listener => Record::listener_stop(
                    t_ns,
                    &self.id,
                    &ListenerTotals { received: self.heard, foreign: 0, talkers: 0 },
                    "output ended",
                ),
            },
            Lifecycle::Placed { .. } => return None,
        })
    }

    /// The record of one console line, or `None` (counted in [`DemoNode::other`]).
    pub fn line(&mut self, text: &str) -> Option<Record> {
        match (demo_log::parse(text), self.role) {
            (DemoLine::Published { t_ns, data, .. }, Role::Talker) => {
                // "Hello World: N" numbers itself; any other text is counted in order.
                let seq = match chatter::Payload::parse(&data).seq() {
                    Some(s) => s,
                    None => self.sent + 1,
                };
                self.sent = self.sent.max(seq);
                Some(Record::sent(t_ns, &self.id, seq))
            }
            (DemoLine::Heard { t_ns, data, .. }, Role::Listener) => {
                self.heard += 1;
                Some(Record::recv(t_ns, &self.id, &data))
            }
            _ => {
                self.other += 1;
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chatter::{PayloadKind, RecordKind};

    #[test]
    fn console_lines_become_records() {
        let mut t = DemoNode::new("pi.talker", "pi", ContainerRole::Talker, 3);
        let start = t.event(Lifecycle::Started { t_ns: 5 }).expect("a start");
        assert_eq!((start.kind, start.domain, start.role), (RecordKind::Start, Some(3), Role::Talker));
        let sent = t.line("[INFO] [1764650000.000000007] [talker]: Publishing: 'Hello World: 7'").expect("sent");
        assert_eq!((sent.kind, sent.seq, sent.t_ns), (RecordKind::Sent, Some(7), 1_764_650_000_000_000_007));
        assert!(t.line("[INFO] [1764650000.1] [listener]: I heard: [Hello World: 1]").is_none(), "not a talker's line");
        assert!(t.line("garbage \u{fffd}").is_none());
        assert_eq!(t.other, 2);
        let stop = t.event(Lifecycle::Ended { t_ns: 9 }).expect("a stop");
        assert_eq!((stop.kind, stop.count), (RecordKind::Stop, Some(7)));

        let mut l = DemoNode::new("m.listener", "m", ContainerRole::Listener, 0);
        let recv = l.line("[INFO] [1764650000.5] [listener]: I heard: [Hello World: 7]").expect("recv");
        assert_eq!(
            (recv.kind, recv.payload, recv.seq, recv.talker),
            (RecordKind::Recv, Some(PayloadKind::Demo), Some(7), None)
        );
        assert_eq!(l.event(Lifecycle::Ended { t_ns: 9 }).expect("a stop").count, Some(1));
    }
}
