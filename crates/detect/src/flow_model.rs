//! [`FlowModel`]: the supervised flow detector's model — gradient-boosted trees ([`Gbdt`])
//! over a flow's live features, with its operating threshold — and its file format.
//!
//! The model scores a flow with the probability that it is attack traffic; it alerts when the
//! probability exceeds [`FlowModel::threshold`]. The feature names are checked against the
//! features the running custos computes when the model is loaded, so a model made for other
//! features is refused rather than fed the wrong columns.

use crate::gbdt::{Gbdt, GbdtError};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Format name of a flow model file.
pub const FLOW_MODEL_FORMAT: &str = "custos-flow-model/1";

/// How the operating threshold was chosen.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FlowThreshold {
    /// Alert when a flow's probability exceeds this.
    pub value: f64,
    /// The false-positive rate asked for, per scored benign moment (a flow at a checkpoint
    /// or at its end) of the held-out data.
    pub fpr: f64,
    /// Held-out benign rows the threshold was chosen on.
    pub benign_rows: u64,
    /// The false-positive rate it gives on them.
    pub achieved_fpr: f64,
    /// The rule, in words.
    pub rule: String,
}

/// A trained flow model, as saved in `flow-model.json`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FlowModel {
    /// [`FLOW_MODEL_FORMAT`].
    pub format: String,
    /// The feature set the model reads (`custos_features::flow::LIVE_FEATURES`).
    pub feature_set: String,
    /// The trees (their feature names are the feature set's, in order).
    pub gbdt: Gbdt,
    /// The operating threshold.
    pub threshold: FlowThreshold,
    /// The IP protocols of its training flows, ascending: flows of other protocols are
    /// outside what it learned and are not scored ([`FlowModel::knows_protocol`]).
    pub protocols: Vec<u8>,
}

/// Why a flow model cannot be used.
#[derive(Debug)]
pub enum FlowModelError {
    /// The file is not a flow model (JSON error, another format, damaged trees).
    Invalid(String),
    /// The model reads other features than this custos computes.
    Features(String),
}

impl std::fmt::Display for FlowModelError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FlowModelError::Invalid(m) => write!(f, "not a usable flow model: {m}"),
            FlowModelError::Features(m) => write!(f, "made for other features: {m}"),
        }
    }
}

impl std::error::Error for FlowModelError {}

impl From<GbdtError> for FlowModelError {
    fn from(e: GbdtError) -> Self {
        FlowModelError::Invalid(e.to_string())
    }
}

impl FlowModel {
    /// The model file's bytes: pretty JSON and a final newline.
    ///
    /// # Errors
    /// A value that does not serialise (never in practice).
    pub fn to_bytes(&self) -> Result<Vec<u8>, FlowModelError> {
        let mut v = serde_json::to_vec_pretty(self)
            .map_err(|e| FlowModelError::Invalid(format!("cannot serialise: {e}")))?;
        v.push(b'\n');
        Ok(v)
    }

    /// Reads a model file's bytes, checking its format, its trees and that it reads exactly
    /// the features `feature_set` / `names` this custos computes.
    ///
    /// # Errors
    /// Not a flow model, damaged, or made for other features.
    pub fn from_bytes(
        bytes: &[u8],
        feature_set: &str,
        names: &[String],
    ) -> Result<FlowModel, FlowModelError> {
        let v: serde_json::Value = serde_json::from_slice(bytes)
            .map_err(|e| FlowModelError::Invalid(format!("not JSON: {e}")))?;
        match v.get("format").and_then(|f| f.as_str()) {
            Some(FLOW_MODEL_FORMAT) => {}
            Some(other) => {
                return Err(FlowModelError::Invalid(format!(
                    "format {other:?}, expected {FLOW_MODEL_FORMAT:?}"
                )))
            }
            None => return Err(FlowModelError::Invalid("no format field".into())),
        }
        let gbdt_json = v
            .get("gbdt")
            .map(|g| g.to_string())
            .ok_or_else(|| FlowModelError::Invalid("no gbdt field".into()))?;
        let gbdt = Gbdt::from_json(gbdt_json.as_bytes())?;
        let rest: Rest = serde_json::from_value(v)
            .map_err(|e| FlowModelError::Invalid(format!("bad fields: {e}")))?;
        let t = &rest.threshold;
        if !(t.value.is_finite() && (0.0..=1.0).contains(&t.value)) {
            return Err(FlowModelError::Invalid(format!(
                "threshold {} is not a probability",
                t.value
            )));
        }
        if rest.feature_set != feature_set {
            return Err(FlowModelError::Features(format!(
                "feature set {:?}, this custos computes {feature_set:?}",
                rest.feature_set
            )));
        }
        if gbdt.feature_names() != names {
            let first = gbdt
                .feature_names()
                .iter()
                .zip(names)
                .position(|(a, b)| a != b)
                .unwrap_or(names.len().min(gbdt.feature_names().len()));
            return Err(FlowModelError::Features(format!(
                "{} features, this custos computes {}; they differ from position {first}",
                gbdt.feature_names().len(),
                names.len()
            )));
        }
        Ok(FlowModel {
            format: FLOW_MODEL_FORMAT.into(),
            feature_set: rest.feature_set,
            gbdt,
            threshold: rest.threshold,
            protocols: rest.protocols,
        })
    }

    /// True when its training data held flows of IP protocol `proto`: a tree model says
    /// nothing reliable about a protocol it never saw (all its splits were learned without
    /// it), so the detector leaves such flows unscored and counts them.
    pub fn knows_protocol(&self, proto: u8) -> bool {
        self.protocols.binary_search(&proto).is_ok()
    }

    /// SHA-256 of `bytes` (the model file), lower-case hex.
    pub fn sha256_of(bytes: &[u8]) -> String {
        Sha256::digest(bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// The probability that a flow with features `row` is attack traffic.
    pub fn score(&self, row: &[f64]) -> f64 {
        self.gbdt.probability(row)
    }

    /// The operating threshold.
    pub fn threshold(&self) -> f64 {
        self.threshold.value
    }
}

/// The fields of a model file beside the trees.
#[derive(Deserialize)]
struct Rest {
    feature_set: String,
    threshold: FlowThreshold,
    protocols: Vec<u8>,
}

/// The operating threshold for benign scores `benign` (held-out data, any order): the
/// smallest of those scores, and at least 0.5, such that at most a fraction `fpr` of them
/// is above it. Returns the threshold and the fraction above it.
pub fn choose_threshold(benign: &[f64], fpr: f64) -> (f64, f64) {
    let mut s: Vec<f64> = benign.iter().copied().filter(|x| x.is_finite()).collect();
    if s.is_empty() {
        return (0.5, 0.0);
    }
    s.sort_by(|a, b| b.total_cmp(a));
    let allowed = (fpr.clamp(0.0, 1.0) * s.len() as f64).floor() as usize;
    let t = s
        .get(allowed.min(s.len() - 1))
        .copied()
        .unwrap_or(0.5)
        .max(0.5);
    let above = s.iter().filter(|&&x| x > t).count();
    (t, above as f64 / s.len() as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gbdt::{train, GbdtParams, TrainingData};

    fn model() -> (FlowModel, Vec<String>) {
        let names: Vec<String> = vec!["a".into(), "b".into()];
        let a: Vec<f64> = (0..200).map(|i| f64::from(i % 20)).collect();
        let b: Vec<f64> = (0..200).map(|i| f64::from(i % 7)).collect();
        let labels: Vec<bool> = a.iter().map(|&x| x >= 10.0).collect();
        let data = TrainingData {
            names: &names,
            columns: &[a, b],
            labels: &labels,
            weights: None,
        };
        let params = GbdtParams {
            trees: 60,
            ..GbdtParams::default()
        };
        let gbdt = train(&data, &params).unwrap();
        let threshold = FlowThreshold {
            value: 0.5,
            fpr: 1e-3,
            benign_rows: 1,
            achieved_fpr: 0.0,
            rule: "test".into(),
        };
        let m = FlowModel {
            format: FLOW_MODEL_FORMAT.into(),
            feature_set: "set/1".into(),
            gbdt,
            threshold,
            protocols: vec![6, 17],
        };
        (m, names)
    }

    #[test]
    fn round_trip_and_scores() {
        let (m, names) = model();
        let bytes = m.to_bytes().unwrap();
        let back = FlowModel::from_bytes(&bytes, "set/1", &names).unwrap();
        assert_eq!(back.to_bytes().unwrap(), bytes);
        assert!(back.score(&[15.0, 1.0]) > 0.9);
        assert!(back.score(&[3.0, 1.0]) < 0.1);
        assert!(back.knows_protocol(6) && back.knows_protocol(17) && !back.knows_protocol(58));
    }

    #[test]
    fn refuses_other_features_formats_and_damage() {
        let (m, names) = model();
        let bytes = m.to_bytes().unwrap();
        let other: Vec<String> = vec!["a".into(), "c".into()];
        let e = FlowModel::from_bytes(&bytes, "set/1", &other).unwrap_err();
        assert!(e.to_string().contains("position 1"), "{e}");
        assert!(FlowModel::from_bytes(&bytes, "set/2", &names).is_err());
        let text = String::from_utf8(bytes.clone()).unwrap();
        let wrong = text.replace(FLOW_MODEL_FORMAT, "custos-flow-model/9");
        assert!(FlowModel::from_bytes(wrong.as_bytes(), "set/1", &names).is_err());
        for cut in [0, 1, bytes.len() / 2, bytes.len() - 3] {
            assert!(FlowModel::from_bytes(&bytes[..cut], "set/1", &names).is_err());
        }
        let mut flipped = bytes.clone();
        for i in (0..flipped.len()).step_by(97) {
            flipped[i] ^= 0x55;
            let _ = FlowModel::from_bytes(&flipped, "set/1", &names);
            flipped[i] ^= 0x55;
        }
    }

    #[test]
    fn threshold_keeps_the_false_positive_rate() {
        let benign: Vec<f64> = (0..1000).map(|i| f64::from(i) / 1000.0).collect();
        let (t, achieved) = choose_threshold(&benign, 0.01);
        assert!(achieved <= 0.01, "{achieved}");
        assert!((t - 0.989).abs() < 1e-9, "{t}");
        // Never below 0.5, and no benign rows: 0.5.
        assert_eq!(choose_threshold(&[0.1, 0.2], 0.9).0, 0.5);
        assert_eq!(choose_threshold(&[], 0.01), (0.5, 0.0));
    }
}
