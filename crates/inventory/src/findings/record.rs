//! One finding ([`Finding`]) and its sides ([`Party`]), as `findings.jsonl` writes them.

use super::baseline::{Rule, Severity};
use serde::Serialize;
use serde_json::{json, Map, Value};
use std::collections::BTreeSet;
use std::net::IpAddr;

/// One side of a finding.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Party {
    /// IP address.
    pub ip: IpAddr,
    /// Port (the service's, for servers; absent for clients).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// MAC address, when the link had one.
    pub mac: Option<String>,
}

/// One finding.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// The rule broken.
    pub rule: Rule,
    /// Severity (the rule's, raised by aggravating details).
    pub severity: Severity,
    /// The device that breaks the provision.
    pub device: Party,
    /// The other side, if any (attacker, client, server).
    pub peer: Option<Party>,
    /// Application protocol.
    pub app_proto: &'static str,
    /// Packet time of the first and last evidence (ns).
    pub first_ts: i64,
    /// See `first_ts`.
    pub last_ts: i64,
    /// Occurrences.
    pub count: u64,
    /// Connections involved (Community IDs, capped like the packets).
    pub community_ids: BTreeSet<String>,
    /// Evidence packets `(file, index)`, in capture order, capped.
    pub packets: Vec<(u16, u64)>,
    /// Rule-specific details.
    pub details: Map<String, Value>,
}

impl Finding {
    /// The finding as one JSON object (`time` formats packet times).
    pub fn to_json(&self, time: &dyn Fn(i64) -> String, files: &[String]) -> Value {
        let packets: Vec<Value> = self
            .packets
            .iter()
            .map(|(f, i)| {
                json!({"pcap_file": files.get(usize::from(*f)).map_or("", String::as_str), "packet": i})
            })
            .collect();
        json!({
            "timestamp": time(self.first_ts),
            "event_type": "finding",
            "finding": {
                "rule": self.rule.id,
                "title": self.rule.title,
                "severity": self.severity,
                "app_proto": self.app_proto,
                "device": self.device,
                "peer": self.peer,
                "first_seen": time(self.first_ts),
                "last_seen": time(self.last_ts),
                "count": self.count,
                "provisions": {
                    "etsi_en_303_645": self.rule.etsi,
                    "enisa_baseline_iot": self.rule.enisa,
                },
                "mitre_attack": self.rule.attack,
                "details": self.details,
            },
            "evidence": {
                "community_ids": self.community_ids,
                "packets": packets,
            },
        })
    }
}
