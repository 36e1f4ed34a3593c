//! The leaves custos logs, as typed records: one serde type per leaf kind, used by the
//! writers (offline and live evidence, `custos reidentify`) and readable by anything that
//! reads the log.
//!
//! A leaf's bytes are the RFC 8785 (JCS) canonical JSON of its record ([`AlertLeaf::to_leaf`]).
//! Custody leaves (`custos.custody/1`) are written by [`crate::case`].

use crate::case::ALERT_TYPE;
use crate::jcs::{canonicalize, JcsError};
use serde::{Deserialize, Serialize};

/// `type` of the leaves that log a spooled live-capture file.
pub const CAPTURE_TYPE: &str = "custos.capture/1";

/// `type` of the leaves that log a re-identification of pseudonyms (`custos reidentify`).
pub const REIDENTIFICATION_TYPE: &str = "custos.reidentification/1";

/// Where an alert's packets are: the capture, the alert packet and the excerpt's size.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeafPackets {
    /// The capture file (offline: as named on the command line; live: `spool/NNNNNNNN.pcap`).
    pub pcap_file: String,
    /// Index of the alert packet in that file.
    pub alert_packet: u64,
    /// Packets in the excerpt.
    pub excerpt_packets: usize,
}

/// A `custos.alert/1` leaf: an alert with the hashes that bind it to its packets and model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AlertLeaf {
    /// Always [`ALERT_TYPE`].
    #[serde(rename = "type")]
    pub kind: String,
    /// The EVE alert as written to `alerts.jsonl`.
    pub alert: serde_json::Value,
    /// Community ID of the alert's flow (`null` for frames without IP).
    pub community_id: Option<String>,
    /// Where its packets are.
    pub packets: LeafPackets,
    /// SHA-256 of the capture file (live: of the spool file, known once it is closed).
    pub capture_sha256: Option<String>,
    /// SHA-256 of the excerpt file under `excerpts/`.
    pub excerpt_sha256: String,
    /// SHA-256 of the model that raised it, when a model file was used.
    pub model_sha256: Option<String>,
    /// Version of custos that logged it.
    pub custos_version: String,
    /// Sensor name.
    pub sensor: String,
}

impl AlertLeaf {
    /// The leaf's bytes: canonical JSON.
    ///
    /// # Errors
    /// A value JCS cannot encode (a non-finite number).
    pub fn to_leaf(&self) -> Result<String, JcsError> {
        to_leaf(self)
    }

    /// True when the record is of the alert kind.
    pub fn is_alert(&self) -> bool {
        self.kind == ALERT_TYPE
    }
}

/// A `custos.capture/1` leaf: one closed live spool file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaptureLeaf {
    /// Always [`CAPTURE_TYPE`].
    #[serde(rename = "type")]
    pub kind: String,
    /// `spool/NNNNNNNN.pcap` under the log directory.
    pub pcap_file: String,
    /// Sequence number of the spool file.
    pub sequence: u64,
    /// SHA-256 of the file.
    pub sha256: String,
    /// Its size.
    pub bytes: u64,
    /// Packets in it.
    pub packets: u64,
    /// Index of its first packet in the capture.
    pub first_packet: u64,
    /// Index of its last packet.
    pub last_packet: u64,
    /// Time of its first packet (ns).
    pub first_ts: i64,
    /// Time of its last packet (ns).
    pub last_ts: i64,
    /// Sensor name.
    pub sensor: String,
    /// Version of custos that logged it.
    pub custos_version: String,
}

impl CaptureLeaf {
    /// The leaf's bytes: canonical JSON.
    ///
    /// # Errors
    /// A value JCS cannot encode.
    pub fn to_leaf(&self) -> Result<String, JcsError> {
        to_leaf(self)
    }
}

/// A `custos.reidentification/1` leaf: who re-identified which pseudonyms, when and why.
///
/// It never holds an original: only its keyed hash ([`crate::audit::AuditKey`]), which
/// someone holding the pseudonym key can recompute to check which original was revealed, and
/// which the log alone cannot be searched for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReidentificationLeaf {
    /// Always [`REIDENTIFICATION_TYPE`].
    #[serde(rename = "type")]
    pub kind: String,
    /// Who re-identified (free text, as given).
    pub who: String,
    /// When: wall-clock time, RFC 3339 in UTC (an audit record, not a packet time).
    pub when: String,
    /// Why (free text, as given).
    pub why: String,
    /// Fingerprint of the pseudonym key the pseudonyms were reversed with.
    pub pseudonym_key: String,
    /// Whether MAC pseudonyms were reversed keeping the OUI (the policy's `mac_keep_oui`).
    pub mac_keep_oui: bool,
    /// The pseudonyms, in the order given.
    pub pseudonyms: Vec<Reidentified>,
    /// Version of custos that logged it.
    pub custos_version: String,
}

/// One re-identified pseudonym: its kind, the pseudonym as given, and the keyed hash of its
/// original.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reidentified {
    /// `ip`, `mac` or `name`.
    pub kind: String,
    /// The pseudonym as given.
    pub pseudonym: String,
    /// HMAC-SHA256 of the original under the audit key, lower-case hex
    /// ([`crate::audit::AuditKey::original_hmac`]).
    pub original_hmac: String,
}

impl ReidentificationLeaf {
    /// The leaf's bytes: canonical JSON.
    ///
    /// # Errors
    /// A value JCS cannot encode.
    pub fn to_leaf(&self) -> Result<String, JcsError> {
        to_leaf(self)
    }

    /// True when the record is of the re-identification kind.
    pub fn is_reidentification(&self) -> bool {
        self.kind == REIDENTIFICATION_TYPE
    }
}

fn to_leaf<T: Serialize>(record: &T) -> Result<String, JcsError> {
    let value = serde_json::to_value(record).map_err(|e| JcsError::Encode(e.to_string()))?;
    canonicalize(&value)
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn alert_leaf_is_canonical_json_that_reads_back() {
        let leaf = AlertLeaf {
            kind: ALERT_TYPE.into(),
            alert: serde_json::json!({"event_type": "alert", "b": 1, "a": 2}),
            community_id: None,
            packets: LeafPackets {
                pcap_file: "x.pcap".into(),
                alert_packet: 7,
                excerpt_packets: 3,
            },
            capture_sha256: Some("00".repeat(32)),
            excerpt_sha256: "11".repeat(32),
            model_sha256: None,
            custos_version: "0.1.0".into(),
            sensor: "s".into(),
        };
        let bytes = leaf.to_leaf().unwrap();
        assert!(bytes.starts_with("{\"alert\":{\"a\":2,\"b\":1,"), "{bytes}");
        assert!(bytes.contains("\"community_id\":null"));
        let back: AlertLeaf = serde_json::from_str(&bytes).unwrap();
        assert_eq!(back, leaf);
        assert!(back.is_alert());
    }
}
