//! Reading `alerts.jsonl` for the OCSF export: each alert with the fields a per-alert event
//! needs beyond [`crate::Alert`]'s (EVE severity, signature id and revision, Community ID,
//! packet index, score, threshold, model digest, evidence leaf).

use std::io::{self, BufRead};
use std::net::IpAddr;
use std::path::Path;

use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;

use crate::ShareError;

/// An EVE alert as the OCSF export reads it: [`crate::Alert`]'s fields and the ones only a
/// per-alert event needs.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct EveAlert {
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
    pub alert: EveRule,
    /// custos's fields.
    pub custos: EveCustos,
}

/// EVE `alert.*`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct EveRule {
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
pub struct EveCustos {
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

/// Reads the alerts of `dir/alerts.jsonl` (plain or `.zst`; none when absent), with line
/// numbers; lines whose `event_type` is not `alert` are skipped, as in [`crate::Inputs`].
///
/// # Errors
///
/// [`ShareError::Read`] or [`ShareError::Parse`] (with the line).
pub fn read_alerts(dir: &Path) -> Result<Vec<(usize, EveAlert)>, ShareError> {
    read_eve(dir, "alerts.jsonl", "alert")
}

/// Reads the records of EVE type `event_type` of the output file `name` of `dir` (plain or
/// `.zst`; none when absent), with their line numbers.
///
/// # Errors
///
/// [`ShareError::Read`] or [`ShareError::Parse`] (with the line).
pub fn read_eve<T: DeserializeOwned>(
    dir: &Path,
    name: &str,
    event_type: &str,
) -> Result<Vec<(usize, T)>, ShareError> {
    let path = dir.join(name);
    let read_error = |e: io::Error| ShareError::Read {
        path: path.clone(),
        message: e.to_string(),
    };
    let reader = match custos_output::open_output(dir, name) {
        Ok(r) => r,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(read_error(e)),
    };
    let mut out = Vec::new();
    for (i, line) in reader.lines().enumerate() {
        let line = line.map_err(read_error)?;
        if line.trim().is_empty() {
            continue;
        }
        let parse_error = |e: serde_json::Error| ShareError::Parse {
            path: path.clone(),
            line: i + 1,
            message: e.to_string(),
        };
        let value: Value = serde_json::from_str(&line).map_err(parse_error)?;
        if value.get("event_type").and_then(Value::as_str) != Some(event_type) {
            continue;
        }
        out.push((i + 1, serde_json::from_value(value).map_err(parse_error)?));
    }
    Ok(out)
}
