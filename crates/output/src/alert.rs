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
    pub explanation: Option<Explanation>,
    /// The evidence log leaf holding this alert, once logged.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub evidence_leaf: Option<u64>,
}

/// A detector's explanation of an alert: JSON, kept as its text. The detector serialises it
/// once and the writers copy it, where a tree of `serde_json::Value`s was built, written and
/// freed for every alert (2 % of Kitsune's instructions on attack traffic, which alerts often;
/// docs/PERFORMANCE.md).
#[derive(Clone, Debug)]
pub struct Explanation(Box<serde_json::value::RawValue>);

impl Explanation {
    /// `value` serialised (the same text as `serde_json::to_value(value)` written out).
    ///
    /// # Errors
    /// `value`'s `Serialize` fails or has a map with keys that are not strings.
    pub fn of<T: Serialize + ?Sized>(value: &T) -> serde_json::Result<Self> {
        serde_json::value::to_raw_value(value).map(Explanation)
    }

    /// Its JSON text.
    pub fn json(&self) -> &str {
        self.0.get()
    }

    /// As a JSON value (parsed again).
    pub fn to_value(&self) -> serde_json::Value {
        serde_json::from_str(self.0.get()).unwrap_or(serde_json::Value::Null)
    }
}

impl PartialEq for Explanation {
    fn eq(&self, other: &Self) -> bool {
        self.json() == other.json()
    }
}

impl Serialize for Explanation {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Explanation {
    /// Through a `Value` (an alert's other fields are flattened, and serde's buffering of
    /// them cannot hand out raw text).
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = serde_json::Value::deserialize(d)?;
        Explanation::of(&v).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[derive(Serialize)]
    struct Part {
        name: String,
        share: f64,
        rank: usize,
        note: Option<&'static str>,
    }

    #[test]
    fn an_explanation_is_written_as_its_value_would_be_and_reads_back() {
        let parts: Vec<Part> = [0.75, f64::NAN, 1e-300, -0.0, 3.0]
            .iter()
            .enumerate()
            .map(|(rank, &share)| Part {
                name: format!("f\"{rank}\\\u{7}"),
                share,
                rank,
                note: (rank % 2 == 0).then_some("é"),
            })
            .collect();
        let e = Explanation::of(&parts).unwrap();
        let via_value = serde_json::to_string(&serde_json::to_value(&parts).unwrap()).unwrap();
        assert_eq!(e.json(), via_value);
        let written = serde_json::to_string(&Some(&e)).unwrap();
        assert_eq!(written, via_value);
        // Read back inside a struct with flattened fields, as an alert is.
        #[derive(Deserialize)]
        struct Holder {
            explanation: Explanation,
            #[serde(flatten)]
            _rest: serde_json::Map<String, serde_json::Value>,
        }
        let h: Holder =
            serde_json::from_str(&format!(r#"{{"a":1,"explanation":{written},"b":[2]}}"#)).unwrap();
        assert_eq!(h.explanation, e);
        assert_eq!(
            h.explanation.to_value(),
            serde_json::from_str::<serde_json::Value>(&via_value).unwrap()
        );
    }
}
