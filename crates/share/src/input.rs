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

/// One EVE alert (`alerts.jsonl`): what STIX and MISP aggregate, and what an OCSF event
/// carries per alert (severity, signature id, score, threshold, model digest).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Alert {
    /// Packet time.
    pub timestamp: String,
    /// Source address.
    pub src_ip: Option<IpAddr>,
    /// Destination address.
    pub dest_ip: Option<IpAddr>,
    /// Source port.
    pub src_port: Option<u16>,
    /// Destination port.
    pub dest_port: Option<u16>,
    /// Transport protocol (`TCP`, `IPv6-ICMP`, or a number).
    pub proto: Option<String>,
    /// Community ID v1 of the flow (computed over the original addresses).
    pub community_id: Option<String>,
    /// The signature.
    pub alert: AlertRule,
    /// custos's fields.
    pub custos: AlertCustos,
}

/// EVE `alert.*`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct AlertRule {
    /// Signature id.
    pub signature_id: Option<u64>,
    /// Signature revision.
    pub rev: Option<u64>,
    /// The signature's text.
    pub signature: String,
    /// Its classification.
    pub category: String,
    /// 1 (high) to 3 (low), as in Suricata.
    pub severity: Option<i64>,
}

/// EVE `custos.*`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct AlertCustos {
    /// `kitsune`, `flow`…
    pub detector: String,
    /// Index of the alert packet in its capture.
    pub packet: Option<u64>,
    /// The detector's score.
    pub score: Option<f64>,
    /// Its threshold.
    pub threshold: Option<f64>,
    /// SHA-256 of the model it ran.
    pub model_sha256: Option<String>,
    /// The evidence log leaf holding the alert.
    pub evidence_leaf: Option<u64>,
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
        let mut inputs = Inputs {
            alerts: of_type(dir, "alerts.jsonl", "alert", alerts.unwrap_or_default())?,
            ..Inputs::default()
        };
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

/// The records of EVE type `event_type` of the output file `name` of `dir` (plain or `.zst`;
/// none when absent), with their line numbers.
///
/// # Errors
///
/// [`ShareError::Read`] or [`ShareError::Parse`] (with the line).
pub fn read_records<T: serde::de::DeserializeOwned>(
    dir: &Path,
    name: &str,
    event_type: &str,
) -> Result<Vec<(usize, T)>, ShareError> {
    of_type(
        dir,
        name,
        event_type,
        read_lines(dir, name)?.unwrap_or_default(),
    )
}

/// The `lines` of `name` whose `event_type` is `event_type`, as `T`s.
fn of_type<T: serde::de::DeserializeOwned>(
    dir: &Path,
    name: &str,
    event_type: &str,
    lines: Vec<(usize, Value)>,
) -> Result<Vec<(usize, T)>, ShareError> {
    lines
        .into_iter()
        .filter(|(_, v)| v.get("event_type").and_then(Value::as_str) == Some(event_type))
        .map(|(line, v)| Ok((line, typed(dir, name, line, v)?)))
        .collect()
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
