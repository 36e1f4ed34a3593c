//! Reading an analysis output folder: alerts, findings and application events.
//!
//! Only the fields an export uses are read; unknown fields are ignored, so newer outputs
//! still load. Every file may be plain or zstd (`custos_output::open_output`); a missing
//! file counts as empty.

use std::io::{self, BufRead};
use std::net::IpAddr;
use std::path::Path;

use serde::Deserialize;
use serde_json::Value;

use crate::ShareError;

/// One EVE alert (`alerts.jsonl`).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Alert {
    /// Packet time.
    pub timestamp: String,
    /// Source address, when the packet had one.
    pub src_ip: Option<IpAddr>,
    /// Destination address.
    pub dest_ip: Option<IpAddr>,
    /// Source port.
    pub src_port: Option<u16>,
    /// Destination port.
    pub dest_port: Option<u16>,
    /// Transport protocol (`TCP`, `UDP`…).
    pub proto: Option<String>,
    /// The alert's rule.
    pub alert: AlertRule,
    /// custos's own fields.
    pub custos: AlertCustos,
}

/// The `alert` object of an EVE alert.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct AlertRule {
    /// The rule's text.
    pub signature: String,
}

/// The `custos` object of an EVE alert.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct AlertCustos {
    /// The detector that raised it (`kitsune`, `flow`…).
    pub detector: String,
}

/// One line of `findings.jsonl`.
#[derive(Clone, Debug, Deserialize)]
pub struct FindingLine {
    /// The finding.
    pub finding: Finding,
}

/// A device finding: who was affected, by whom, mapped to ATT&CK where it can be.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Finding {
    /// The rule's short name (`brute-force`).
    pub rule: String,
    /// One line for people.
    pub title: String,
    /// `low`, `medium`, `high`…
    pub severity: String,
    /// The affected device.
    pub device: Endpoint,
    /// The other side (the attacker, where there is one).
    pub peer: Option<Endpoint>,
    /// Packet time of the first evidence.
    pub first_seen: String,
    /// Packet time of the last evidence.
    pub last_seen: String,
    /// How many times it was seen.
    pub count: u64,
    /// ATT&CK technique ids (`T1046`, `T1110.001`, ICS `T0855`).
    pub mitre_attack: Vec<String>,
}

/// A host in a finding.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Endpoint {
    /// Its address.
    pub ip: Option<IpAddr>,
    /// Its service port, where the finding concerns one.
    pub port: Option<u16>,
}

/// What an application event contributes: a TLS fingerprint or a DNS name, with its source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EventIoc {
    /// A JA3 client fingerprint (MD5, 32 hex digits).
    Ja3 {
        /// The client.
        src_ip: Option<IpAddr>,
        /// The fingerprint.
        hash: String,
        /// Packet time.
        timestamp: String,
    },
    /// A JA4 client fingerprint.
    Ja4 {
        /// The client.
        src_ip: Option<IpAddr>,
        /// The fingerprint.
        fingerprint: String,
        /// Packet time.
        timestamp: String,
    },
    /// A DNS query name.
    Domain {
        /// The client.
        src_ip: Option<IpAddr>,
        /// The queried name.
        name: String,
        /// Packet time.
        timestamp: String,
    },
}

/// Everything an export reads from one output folder.
#[derive(Clone, Debug, Default)]
pub struct Inputs {
    /// `alerts.jsonl`, with line numbers.
    pub alerts: Vec<(usize, Alert)>,
    /// `findings.jsonl`, with line numbers.
    pub findings: Vec<(usize, Finding)>,
    /// TLS fingerprints and DNS names of `events.jsonl`.
    pub events: Vec<EventIoc>,
}

impl Inputs {
    /// Reads `dir`.
    ///
    /// # Errors
    ///
    /// [`ShareError::NoInputs`] when none of the three files exists; [`ShareError::Read`] or
    /// [`ShareError::Parse`] (with the line) when one cannot be read.
    pub fn read(dir: &Path) -> Result<Self, ShareError> {
        let alerts = read_lines(dir, "alerts.jsonl")?;
        let findings = read_lines(dir, "findings.jsonl")?;
        let events = read_lines(dir, "events.jsonl")?;
        if alerts.is_none() && findings.is_none() && events.is_none() {
            return Err(ShareError::NoInputs {
                dir: dir.to_path_buf(),
            });
        }
        let mut inputs = Inputs::default();
        for (line, value) in alerts.unwrap_or_default() {
            if value.get("event_type").and_then(Value::as_str) != Some("alert") {
                continue;
            }
            inputs
                .alerts
                .push((line, typed(dir, "alerts.jsonl", line, value)?));
        }
        for (line, value) in findings.unwrap_or_default() {
            let f: FindingLine = typed(dir, "findings.jsonl", line, value)?;
            inputs.findings.push((line, f.finding));
        }
        for (_, value) in events.unwrap_or_default() {
            event_iocs(&value, &mut inputs.events);
        }
        Ok(inputs)
    }
}

/// The non-empty lines of `dir/name` as JSON with their line numbers, `None` when absent.
fn read_lines(dir: &Path, name: &str) -> Result<Option<Vec<(usize, Value)>>, ShareError> {
    let path = dir.join(name);
    let reader = match custos_output::open_output(dir, name) {
        Ok(r) => r,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(ShareError::Read {
                path,
                message: e.to_string(),
            })
        }
    };
    let mut out = Vec::new();
    for (i, line) in reader.lines().enumerate() {
        let line = line.map_err(|e| ShareError::Read {
            path: path.clone(),
            message: e.to_string(),
        })?;
        if line.trim().is_empty() {
            continue;
        }
        let value = serde_json::from_str(&line).map_err(|e| ShareError::Parse {
            path: path.clone(),
            line: i + 1,
            message: e.to_string(),
        })?;
        out.push((i + 1, value));
    }
    Ok(Some(out))
}

/// `value` as a `T`, or a parse error naming the file and line.
fn typed<T: serde::de::DeserializeOwned>(
    dir: &Path,
    name: &str,
    line: usize,
    value: Value,
) -> Result<T, ShareError> {
    serde_json::from_value(value).map_err(|e| ShareError::Parse {
        path: dir.join(name),
        line,
        message: e.to_string(),
    })
}

/// The TLS fingerprints (`tls.ja3.hash`, `tls.ja4`) and DNS names (`dns.rrname`,
/// `dns.queries[].rrname`) of one EVE event.
fn event_iocs(value: &Value, out: &mut Vec<EventIoc>) {
    let timestamp = text(value.get("timestamp")).unwrap_or_default();
    let src_ip = text(value.get("src_ip")).and_then(|s| s.parse().ok());
    if let Some(tls) = value.get("tls") {
        let ja3 = tls
            .get("ja3")
            .and_then(|j| j.get("hash"))
            .or(tls.get("ja3_hash"));
        if let Some(hash) = text(ja3) {
            if hash.len() == 32 && hash.bytes().all(|b| b.is_ascii_hexdigit()) {
                out.push(EventIoc::Ja3 {
                    src_ip,
                    hash: hash.to_ascii_lowercase(),
                    timestamp: timestamp.clone(),
                });
            }
        }
        let ja4 = tls.get("ja4").map(|j| j.get("hash").unwrap_or(j));
        if let Some(fingerprint) = text(ja4) {
            out.push(EventIoc::Ja4 {
                src_ip,
                fingerprint,
                timestamp: timestamp.clone(),
            });
        }
    }
    if let Some(dns) = value.get("dns") {
        let mut names: Vec<String> = text(dns.get("rrname")).into_iter().collect();
        if let Some(queries) = dns.get("queries").and_then(Value::as_array) {
            names.extend(queries.iter().filter_map(|q| text(q.get("rrname"))));
        }
        for name in names {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            if !name.is_empty() && !name.ends_with(".arpa") {
                out.push(EventIoc::Domain {
                    src_ip,
                    name,
                    timestamp: timestamp.clone(),
                });
            }
        }
    }
}

/// A JSON string's text.
fn text(value: Option<&Value>) -> Option<String> {
    value.and_then(Value::as_str).map(str::to_string)
}
