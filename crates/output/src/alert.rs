//! The one alert type every detector produces: Suricata's EVE `alert` event, with custos's
//! own fields (detector, input file, packet, score, model digest) under `custos`.

use serde::{Deserialize, Serialize};

/// An EVE `alert` event. Field names and order are Suricata's (`etc/schema.json`); what only
/// custos knows is under [`Alert::custos`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// Packet time of the alert packet (EVE format).
    pub timestamp: String,
    /// Always `alert`.
    pub event_type: String,
    /// Source address (IP packets).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub src_ip: Option<String>,
    /// Source port (TCP, UDP).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub src_port: Option<u16>,
    /// Destination address (IP packets).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub dest_ip: Option<String>,
    /// Destination port (TCP, UDP).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub dest_port: Option<u16>,
    /// EVE `proto` (a name such as `TCP`, or the protocol number).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub proto: Option<serde_json::Value>,
    /// Community ID v1 of the packet's flow (IP packets).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub community_id: Option<String>,
    /// Source MAC (frames without IP).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub src_mac: Option<String>,
    /// Destination MAC (frames without IP).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub dest_mac: Option<String>,
    /// Application protocol of the flow (signature and indicator alerts on application
    /// data).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub app_proto: Option<String>,
    /// What fired.
    pub alert: AlertInfo,
    /// Application metadata of what fired, as Suricata writes it beside `alert`
    /// (`"mqtt": {…}`, `"modbus": {…}`); empty for most detectors.
    #[serde(flatten, default)]
    pub app: serde_json::Map<String, serde_json::Value>,
    /// custos's fields.
    pub custos: AlertContext,
    /// Input file index of the alert packet (not written: `custos.pcap_file` names it).
    #[serde(skip)]
    pub file: u16,
    /// The flow of the alert packet (not written: the Community ID names it), for sinks that
    /// gather its packets (evidence excerpts).
    #[serde(skip)]
    pub flow: Option<custos_flow::FlowKey>,
}

/// EVE `alert.*`: the signature that fired.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AlertInfo {
    /// `allowed`: custos never blocks.
    pub action: String,
    /// Generator id.
    pub gid: u32,
    /// Signature id.
    pub signature_id: u64,
    /// Signature revision.
    pub rev: u32,
    /// Human-readable signature.
    pub signature: String,
    /// Category (classification).
    pub category: String,
    /// Severity, 1 (high) to 3 (low) as in Suricata.
    pub severity: u8,
}

/// The signature of a model a detector loaded: what an alert and its evidence leaf cite.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelSignature {
    /// False when the model was loaded unsigned (`--allow-unsigned-model`, for research).
    pub signed: bool,
    /// SHA-256 of the signed in-toto statement (the DSSE payload) that lists the model's files.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub statement_sha256: Option<String>,
    /// The signer's key hint (SHA-256 of its PEM public key).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub signer_key_hint: Option<String>,
}

/// `custos.*` of an alert: which detector, where in the input, how sure.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AlertContext {
    /// Detector name (`kitsune`, …).
    pub detector: String,
    /// The input file of the alert packet.
    pub pcap_file: String,
    /// Index of the alert packet within that file (0-based).
    pub packet: u64,
    /// The detector's score.
    pub score: f64,
    /// The detector's operating threshold (`null` when none).
    pub threshold: Option<f64>,
    /// SHA-256 of the model the detector ran, when it ran a saved model.
    pub model_sha256: Option<String>,
    /// Who signed the saved model, when the detector ran one (absent for online training).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub model_signature: Option<ModelSignature>,
    /// Why it fired (detector specific).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub explanation: Option<serde_json::Value>,
    /// The evidence log leaf holding this alert, once logged.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub evidence_leaf: Option<u64>,
}
