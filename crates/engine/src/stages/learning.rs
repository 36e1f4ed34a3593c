//! Attacks inside a detector's learning window: a detector that trains on the run itself
//! (Kitsune without `--model`) takes whatever it sees before it starts detecting as normal
//! traffic, so an attack there is learned and later missed, silently. The host stage checks
//! each such window ([`Detector::learning`]) against custos's own evidence — attack findings
//! ([`ATTACK_FINDINGS`]) and the alerts of the other detectors — and the run warns, naming
//! what was found and where ([`LearnedAttacks::warning`]).
//!
//! Packets are numbered by run index (0-based over all inputs together, as Kitsune's
//! `detecting_from`); findings and alerts name `(input, index in the input)`, converted here.
//! State is bounded: alert groups per window are capped ([`MAX_ALERT_GROUPS`]), the rest counted.

use crate::detector::{Detector, Learning};
use custos_flow::PacketMeta;
use custos_inventory::findings::{Finding, Party};
use custos_output::Alert;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::net::IpAddr;

/// The findings that show an attack, by rule id — the rules with a MITRE ATT&CK technique:
///
/// - `network-service-discovery`: a port scan or host sweep;
/// - `syn-flood`, `udp-flood`: floods;
/// - `brute-force`: repeated failed logins;
/// - `default-credential-login`: a login with a publicly known default credential;
/// - `download-and-execute`: a download through a remote login shell (dropper);
/// - `modbus-new-writer`: a Modbus write from a host not seen writing before.
///
/// The hygiene findings (`cleartext-credentials`, `weak-tls`, `insecure-update`,
/// `upnp-exposed`, `mqtt-anonymous`, `telnet-exposed`) describe how a device normally
/// behaves: learning them as normal is right, so they do not count.
pub(crate) const ATTACK_FINDINGS: [&str; 7] = [
    "network-service-discovery",
    "syn-flood",
    "udp-flood",
    "brute-force",
    "default-credential-login",
    "download-and-execute",
    "modbus-new-writer",
];

/// Alert groups (detector, signature, source, destination) kept per learning window; more
/// are counted in [`LearnedAttacks::not_listed`].
pub(crate) const MAX_ALERT_GROUPS: usize = 256;

/// Attacks listed by name in a warning; the others are counted ("and 4 more").
const LISTED: usize = 3;

/// Alerts of one detector and signature between one source and one destination.
type AlertKey = (String, u64, Option<String>, Option<String>);

/// Alerts of one group inside a window.
struct AlertGroup {
    /// Run index of the first.
    first: u64,
    /// How many.
    count: u64,
    /// What it says, for people.
    what: String,
}

/// One detector that learns from the run, and the alerts inside its window so far.
struct Learner {
    /// Its index among the run's detectors.
    detector: usize,
    /// Its name (its own alerts do not count).
    name: String,
    groups: BTreeMap<AlertKey, AlertGroup>,
    /// Alerts inside the window in groups beyond [`MAX_ALERT_GROUPS`].
    not_kept: u64,
}

/// Collects, in packet order, what falls inside the learning windows of a run's detectors.
pub(crate) struct LearningCheck {
    learners: Vec<Learner>,
    /// Per input: run index of its packet 0 (the run index of any packet less its index in
    /// the input).
    bases: BTreeMap<u16, u64>,
    /// The input of the last packet (its base is in `bases`).
    current: Option<u16>,
    /// Run index of the last packet.
    last: Option<u64>,
}

impl LearningCheck {
    /// A check for the detectors that learn from the run; `None` when none does.
    pub fn new(detectors: &[Box<dyn Detector>]) -> Option<Self> {
        let learners: Vec<Learner> = detectors
            .iter()
            .enumerate()
            .filter(|(_, d)| d.learning().is_some())
            .map(|(i, d)| Learner {
                detector: i,
                name: d.name().to_string(),
                groups: BTreeMap::new(),
                not_kept: 0,
            })
            .collect();
        (!learners.is_empty()).then_some(LearningCheck {
            learners,
            bases: BTreeMap::new(),
            current: None,
            last: None,
        })
    }

    /// Notes a packet of the run (for the numbering of findings and alerts).
    #[inline]
    pub fn packet(&mut self, run_index: u64, meta: &PacketMeta) {
        if self.current != Some(meta.file) {
            self.current = Some(meta.file);
            self.bases
                .entry(meta.file)
                .or_insert(run_index.saturating_sub(meta.index));
        }
        self.last = Some(run_index);
    }

    /// Run index of packet `index` of input `file`; `None` for an input no packet came from.
    fn run_index(&self, file: u16, index: u64) -> Option<u64> {
        self.bases.get(&file).map(|b| b.saturating_add(index))
    }

    /// Notes an alert: it counts for every other detector whose window holds its packet.
    pub fn alert(&mut self, alert: &Alert, detectors: &[Box<dyn Detector>]) {
        let Some(at) = self.run_index(alert.file, alert.custos.packet) else {
            return;
        };
        for l in &mut self.learners {
            let inside = detectors
                .get(l.detector)
                .and_then(|d| d.learning())
                .is_some_and(|w| w.covers(at));
            if !inside || alert.custos.detector == l.name {
                continue;
            }
            let key: AlertKey = (
                alert.custos.detector.clone(),
                alert.alert.signature_id,
                alert.src_ip.clone(),
                alert.dest_ip.clone(),
            );
            if let Some(g) = l.groups.get_mut(&key) {
                g.count += 1;
                g.first = g.first.min(at);
            } else if l.groups.len() < MAX_ALERT_GROUPS {
                let what = describe_alert(alert);
                l.groups.insert(
                    key,
                    AlertGroup {
                        first: at,
                        count: 1,
                        what,
                    },
                );
            } else {
                l.not_kept += 1;
            }
        }
    }

    /// At the end of the run: for each detector (by index) whose window holds attacks, what
    /// they are. `findings` are the run's findings; `detectors` the run's, in their final state.
    pub fn finish(
        &self,
        findings: &[Finding],
        detectors: &[Box<dyn Detector>],
    ) -> Vec<(usize, LearnedAttacks)> {
        let Some(last) = self.last else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for l in &self.learners {
            let Some(window) = detectors.get(l.detector).and_then(|d| d.learning()) else {
                continue;
            };
            let to = match window {
                Learning::Ongoing => last,
                Learning::Until(0) => continue,
                Learning::Until(end) => end.saturating_sub(1).min(last),
            };
            let mut attacks: Vec<Attack> = findings
                .iter()
                .filter(|f| ATTACK_FINDINGS.contains(&f.rule.id))
                .filter_map(|f| {
                    let (file, index) = *f.packets.first()?;
                    let first = self.run_index(file, index)?;
                    window.covers(first).then(|| Attack {
                        source: Source::Finding(f.rule.id),
                        what: describe_finding(f),
                        first,
                        count: None,
                    })
                })
                .collect();
            attacks.extend(l.groups.iter().map(|((detector, sid, ..), g)| Attack {
                source: Source::Alert(detector.clone(), *sid),
                what: g.what.clone(),
                first: g.first,
                count: Some(g.count),
            }));
            if attacks.is_empty() && l.not_kept == 0 {
                continue;
            }
            attacks.sort_by(|a, b| (a.first, &a.what).cmp(&(b.first, &b.what)));
            out.push((
                l.detector,
                LearnedAttacks {
                    name: l.name.clone(),
                    to,
                    attacks,
                    not_listed: l.not_kept,
                },
            ));
        }
        out
    }
}

/// Where an attack was seen.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Source {
    /// A finding of this rule.
    Finding(&'static str),
    /// Alerts of this detector and signature id.
    Alert(String, u64),
}

/// One attack inside a learning window.
#[derive(Debug, Clone)]
struct Attack {
    source: Source,
    /// For people: what, from where to where.
    what: String,
    /// Run index of its first packet.
    first: u64,
    /// Alerts inside the window (`None` for a finding).
    count: Option<u64>,
}

/// The attacks custos found inside one detector's learning window.
#[derive(Debug, Clone)]
pub(crate) struct LearnedAttacks {
    /// The detector.
    name: String,
    /// Run index of the window's last packet (it starts at 0).
    to: u64,
    /// The attacks, by first packet.
    attacks: Vec<Attack>,
    /// Alerts inside the window not grouped (beyond [`MAX_ALERT_GROUPS`]).
    not_listed: u64,
}

impl LearnedAttacks {
    /// The warning: the window, the first attacks with their first packet, how many more,
    /// and what to do. Addresses appear as whole tokens (`10.0.0.9`, `10.0.0.2:80`,
    /// `[fe80::1]:80`), so pseudonymised outputs replace them.
    pub fn warning(&self) -> String {
        format!(
            "learned normal traffic from packets 0 to {}, but custos found signs of attack there: \
             {}; the model may take them for normal traffic and miss them later: train on a \
             capture known to be clean (custos train --detector {} CLEAN.pcap -o MODEL) and \
             analyze with --model MODEL",
            self.to,
            self.listing(|a| a.what.clone()),
            self.name
        )
    }

    /// The warning's facts without addresses (for a model card): the window and the first
    /// attacks by kind — a finding's rule, an alert's detector and signature id.
    pub fn without_addresses(&self) -> String {
        format!(
            "{} learned normal traffic from packets 0 to {} of its training input(s), in which \
             custos found signs of attack: {}; the model may take them for normal traffic",
            self.name,
            self.to,
            self.listing(|a| match &a.source {
                Source::Finding(rule) => format!("finding {rule}"),
                Source::Alert(detector, sid) => format!("{detector} alert, signature {sid}"),
            })
        )
    }

    /// The first [`LISTED`] attacks as `describe` names them, each with its first packet (and
    /// alert count), then how many more.
    fn listing(&self, describe: impl Fn(&Attack) -> String) -> String {
        let listed: Vec<String> = self
            .attacks
            .iter()
            .take(LISTED)
            .map(|a| match a.count {
                Some(n) => format!(
                    "{} ({n} alert{}, first at packet {})",
                    describe(a),
                    if n == 1 { "" } else { "s" },
                    a.first
                ),
                None => format!("{} (first at packet {})", describe(a), a.first),
            })
            .collect();
        let mut text = listed.join(", ");
        let rest = self.attacks.len().saturating_sub(LISTED);
        if rest > 0 {
            text.push_str(&format!(" and {rest} more"));
        }
        if self.not_listed > 0 {
            text.push_str(&format!(
                " (and {} more alerts, beyond {MAX_ALERT_GROUPS} groups)",
                self.not_listed
            ));
        }
        text
    }

    /// The `stats.json` object (`learned_from_attacks` of the detector's summary): the window,
    /// each attack's kind, first packet and (alerts) count, and the warning (whose addresses
    /// pseudonymisation rewrites like any other text of `stats.json`).
    pub fn to_json(&self) -> Value {
        let attacks: Vec<Value> = self
            .attacks
            .iter()
            .map(|a| match &a.source {
                Source::Finding(rule) => json!({
                    "source": "finding",
                    "rule": rule,
                    "first_packet": a.first,
                }),
                Source::Alert(detector, sid) => json!({
                    "source": "alert",
                    "detector": detector,
                    "signature_id": sid,
                    "first_packet": a.first,
                    "alerts": a.count,
                }),
            })
            .collect();
        json!({
            "window": {"first_packet": 0, "last_packet": self.to},
            "attacks": attacks,
            "alerts_not_grouped": self.not_listed,
            "warning": self.warning(),
        })
    }
}

/// An address (with its port when given) as one token pseudonymisation recognises.
fn addr(ip: IpAddr, port: Option<u16>) -> String {
    match (ip, port) {
        (IpAddr::V6(v6), Some(p)) => format!("[{v6}]:{p}"),
        (ip, Some(p)) => format!("{ip}:{p}"),
        (ip, None) => ip.to_string(),
    }
}

/// A finding for people: what, from where (the peer), to where (the device).
fn describe_finding(f: &Finding) -> String {
    let device = addr(f.device.ip, f.device.port);
    let host = f.device.ip.to_string();
    let peer = f.peer.as_ref().map_or_else(
        || "an unknown source".to_string(),
        |p: &Party| addr(p.ip, None),
    );
    let detail = |k: &str| f.details.get(k).and_then(Value::as_str).unwrap_or_default();
    match f.rule.id {
        "syn-flood" => format!("SYN flood from {peer} to {device}"),
        "udp-flood" => format!("UDP flood from {peer} to {device}"),
        "network-service-discovery" if detail("kind") == "host_sweep" => {
            match f.details.get("port").and_then(Value::as_u64) {
                Some(p) => format!("host sweep from {host} of port {p}"),
                None => format!("host sweep from {host}"),
            }
        }
        "network-service-discovery" => format!("port scan from {peer} of {host}"),
        "brute-force" => format!("brute force from {peer} against {device} ({})", f.app_proto),
        "default-credential-login" => {
            format!(
                "default-credential login from {peer} to {device} ({})",
                f.app_proto
            )
        }
        "download-and-execute" => {
            format!("download through a remote shell from {peer} on {device}")
        }
        "modbus-new-writer" => format!("Modbus write from a new writer {peer} to {device}"),
        _ => format!("{} ({device})", f.rule.title),
    }
}

/// An alert group for people: detector, signature, endpoints.
fn describe_alert(a: &Alert) -> String {
    let end = |ip: &Option<String>, port: Option<u16>| {
        ip.as_deref()
            .and_then(|s| s.parse::<IpAddr>().ok())
            .map(|ip| addr(ip, port))
    };
    let mut s = format!("{} alert \"{}\"", a.custos.detector, a.alert.signature);
    if let Some(src) = end(&a.src_ip, None) {
        s.push_str(&format!(" from {src}"));
    }
    if let Some(dst) = end(&a.dest_ip, a.dest_port) {
        s.push_str(&format!(" to {dst}"));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use custos_inventory::findings::baseline::{self, RULES};

    #[test]
    fn attack_findings_are_the_rules_with_an_attack_technique() {
        let with: Vec<&str> = RULES
            .iter()
            .filter(|r| !r.attack.is_empty())
            .map(|r| r.id)
            .collect();
        let mut listed = ATTACK_FINDINGS.to_vec();
        listed.sort_unstable();
        let mut with_sorted = with.clone();
        with_sorted.sort_unstable();
        assert_eq!(listed, with_sorted);
        assert!(!ATTACK_FINDINGS.contains(&baseline::CLEARTEXT_CREDENTIALS.id));
        assert!(!ATTACK_FINDINGS.contains(&baseline::TELNET_EXPOSED.id));
    }

    fn attack(what: &str, first: u64) -> Attack {
        Attack {
            source: Source::Finding("syn-flood"),
            what: what.into(),
            first,
            count: None,
        }
    }

    #[test]
    fn warning_lists_three_and_counts_the_rest() {
        let l = LearnedAttacks {
            name: "kitsune".into(),
            to: 749,
            attacks: (0..5).map(|i| attack(&format!("a{i}"), i * 10)).collect(),
            not_listed: 0,
        };
        let w = l.warning();
        assert!(
            w.starts_with("learned normal traffic from packets 0 to 749, but custos found signs of attack there: a0 (first at packet 0), a1 (first at packet 10), a2 (first at packet 20) and 2 more;"),
            "{w}"
        );
        assert!(
            w.contains("custos train --detector kitsune CLEAN.pcap"),
            "{w}"
        );
        let j = l.to_json();
        assert_eq!(j["attacks"].as_array().map(Vec::len), Some(5));
        assert_eq!(j["window"]["last_packet"], 749);
    }

    #[test]
    fn addresses_are_single_tokens() {
        assert_eq!(addr("10.0.0.2".parse().unwrap(), Some(80)), "10.0.0.2:80");
        assert_eq!(addr("fe80::1".parse().unwrap(), Some(80)), "[fe80::1]:80");
        assert_eq!(addr("fe80::1".parse().unwrap(), None), "fe80::1");
    }
}
