//! [`Model`]: what an export says, aggregated and already pseudonymised, shared by the STIX
//! and MISP writers.
//!
//! An *attacker* is the source of an alert or the peer of a finding, when its address can
//! mean something elsewhere (not link-local, loopback, multicast…). Fingerprints and DNS
//! names count only when an attacker produced them; traffic is the alerts' flows.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::path::Path;

use custos_privacy::FieldClass;

use crate::anon::Anon;
use crate::ids::stix_time;
use crate::input::{EventIoc, Inputs};
use crate::ShareError;

/// The most flows an export describes (a SYN flood's spoofed ports would otherwise give one
/// object per packet); those with the most alerts are kept, ties in address order.
pub const MAX_FLOWS: usize = 1000;

/// How often, and when, something was seen, and what reported it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Seen {
    /// Times seen.
    pub count: u64,
    /// First packet time (STIX format).
    pub first: String,
    /// Last packet time (STIX format).
    pub last: String,
    /// What reported it: `alert:kitsune`, `finding:brute-force`, `tls`, `dns`.
    pub sources: BTreeSet<String>,
    /// ATT&CK techniques of the findings that name it.
    pub techniques: BTreeSet<String>,
}

impl Seen {
    /// Adds `count` sightings between `first` and `last`, reported by `source`.
    fn add(&mut self, count: u64, first: &str, last: &str, source: String) {
        if self.count == 0 || first < self.first.as_str() {
            self.first = first.to_string();
        }
        if self.count == 0 || last > self.last.as_str() {
            self.last = last.to_string();
        }
        self.count += count.max(1);
        self.sources.insert(source);
    }
}

/// The kind of an indicator's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum IocKind {
    /// An attacker's address.
    Ip,
    /// A JA3 fingerprint (MD5).
    Ja3,
    /// A JA4 fingerprint.
    Ja4,
    /// A domain an attacker resolved.
    Domain,
}

/// One aggregated flow between two (exported) addresses.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FlowKey {
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// Source port, when known.
    pub src_port: Option<u16>,
    /// Destination port, when known.
    pub dst_port: Option<u16>,
    /// Transport protocol, lower case (`tcp`), when known.
    pub proto: Option<String>,
}

/// A finding as exported: its addresses are in the indicators, not here (the device, a
/// victim, is never exported).
#[derive(Clone, Debug)]
pub struct ModelFinding {
    /// Rule name.
    pub rule: String,
    /// Title.
    pub title: String,
    /// Severity.
    pub severity: String,
    /// ATT&CK technique ids.
    pub techniques: Vec<String>,
}

/// Everything an export says.
#[derive(Clone, Debug, Default)]
pub struct Model {
    /// Earliest packet time in the inputs (STIX format).
    pub first: String,
    /// Latest packet time in the inputs: the `created`/`modified` of every object.
    pub last: String,
    /// Indicators: kind and exported value.
    pub iocs: BTreeMap<(IocKind, String), Seen>,
    /// Alerted traffic: the [`MAX_FLOWS`] flows with the most alerts.
    pub flows: BTreeMap<FlowKey, Seen>,
    /// Alerted flows left out beyond [`MAX_FLOWS`].
    pub flows_left_out: usize,
    /// Findings in file order.
    pub findings: Vec<ModelFinding>,
    /// Every ATT&CK technique named by a finding.
    pub techniques: BTreeSet<String>,
}

impl Model {
    /// Aggregates `inputs` (read from `dir`, for error messages), passing every address and
    /// name through `anon`.
    ///
    /// # Errors
    ///
    /// [`ShareError::Parse`] for a record whose packet time is not a UTC timestamp;
    /// [`ShareError::Pseudonymize`].
    pub fn build(dir: &Path, inputs: &Inputs, anon: &mut Anon<'_>) -> Result<Self, ShareError> {
        let mut m = Model::default();
        let mut attackers = BTreeSet::new();
        for (line, a) in &inputs.alerts {
            let t = time(dir, "alerts.jsonl", *line, &a.timestamp)?;
            m.span(&t);
            let source = format!("alert:{}", a.custos.detector);
            let Some(src) = a.src_ip.filter(|ip| actionable(*ip)) else {
                continue;
            };
            attackers.insert(src);
            let Some(src) = anon.ip(src)? else { continue };
            m.ioc(IocKind::Ip, src.to_string())
                .add(1, &t, &t, source.clone());
            let Some(dst) = a.dest_ip else { continue };
            let Some(dst) = anon.ip(dst)? else { continue };
            let key = FlowKey {
                src,
                dst,
                src_port: a.src_port,
                dst_port: a.dest_port,
                proto: a.proto.as_deref().map(str::to_ascii_lowercase),
            };
            m.flows.entry(key).or_default().add(1, &t, &t, source);
        }
        for (line, f) in &inputs.findings {
            let first = time(dir, "findings.jsonl", *line, &f.first_seen)?;
            let last = time(dir, "findings.jsonl", *line, &f.last_seen)?;
            m.span(&first);
            m.span(&last);
            let source = format!("finding:{}", f.rule);
            let mut peer = None;
            if let Some(ip) = f
                .peer
                .as_ref()
                .and_then(|p| p.ip)
                .filter(|ip| actionable(*ip))
            {
                attackers.insert(ip);
                peer = anon.ip(ip)?;
            }
            if let Some(peer) = peer {
                let ioc = m.ioc(IocKind::Ip, peer.to_string());
                ioc.add(f.count, &first, &last, source);
                ioc.techniques.extend(f.mitre_attack.iter().cloned());
            }
            m.techniques.extend(f.mitre_attack.iter().cloned());
            m.findings.push(ModelFinding {
                rule: f.rule.clone(),
                title: f.title.clone(),
                severity: f.severity.clone(),
                techniques: f.mitre_attack.clone(),
            });
        }
        for e in &inputs.events {
            let (src, kind, value, t, source) = match e {
                EventIoc::Ja3 {
                    src_ip,
                    hash,
                    timestamp,
                } => (src_ip, IocKind::Ja3, Some(hash.clone()), timestamp, "tls"),
                EventIoc::Ja4 {
                    src_ip,
                    fingerprint,
                    timestamp,
                } => (
                    src_ip,
                    IocKind::Ja4,
                    Some(fingerprint.clone()),
                    timestamp,
                    "tls",
                ),
                EventIoc::Domain {
                    src_ip,
                    name,
                    timestamp,
                } => {
                    let exported = anon.field(FieldClass::DnsQuery, name)?;
                    (src_ip, IocKind::Domain, exported, timestamp, "dns")
                }
            };
            let (Some(src), Some(value), Some(t)) = (src, value, stix_time(t)) else {
                continue;
            };
            if attackers.contains(src) {
                m.ioc(kind, value).add(1, &t, &t, source.to_string());
            }
        }
        m.cap_flows();
        Ok(m)
    }

    /// Keeps the [`MAX_FLOWS`] flows with the most alerts.
    fn cap_flows(&mut self) {
        if self.flows.len() <= MAX_FLOWS {
            return;
        }
        let mut by_count: Vec<(FlowKey, Seen)> =
            std::mem::take(&mut self.flows).into_iter().collect();
        // Stable: equal counts stay in key order.
        by_count.sort_by_key(|(_, seen)| std::cmp::Reverse(seen.count));
        self.flows_left_out = by_count.len() - MAX_FLOWS;
        by_count.truncate(MAX_FLOWS);
        self.flows = by_count.into_iter().collect();
    }

    /// The indicator for `value`, created empty.
    fn ioc(&mut self, kind: IocKind, value: String) -> &mut Seen {
        self.iocs.entry((kind, value)).or_default()
    }

    /// Widens the inputs' time span to `t`.
    fn span(&mut self, t: &str) {
        if self.first.is_empty() || t < self.first.as_str() {
            self.first = t.to_string();
        }
        if t > self.last.as_str() {
            self.last = t.to_string();
        }
    }
}

/// Whether an address can identify an attacker elsewhere: not link-local, loopback,
/// multicast, broadcast or unspecified.
fn actionable(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            !(v4.is_link_local()
                || v4.is_loopback()
                || v4.is_multicast()
                || v4.is_broadcast()
                || v4.is_unspecified())
        }
        IpAddr::V6(v6) => {
            let link_local = v6.segments().first().is_some_and(|s| s & 0xffc0 == 0xfe80);
            !(link_local || v6.is_loopback() || v6.is_multicast() || v6.is_unspecified())
        }
    }
}

/// `text` as a STIX timestamp, or a parse error naming the record.
fn time(dir: &Path, name: &str, line: usize, text: &str) -> Result<String, ShareError> {
    stix_time(text).ok_or_else(|| ShareError::Parse {
        path: dir.join(name),
        line,
        message: format!("timestamp {text:?} is not a UTC RFC 3339 time"),
    })
}
