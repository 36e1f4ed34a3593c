//! Kitsune (AfterImage features and the KitNET ensemble) as a [`Detector`].

use crate::alerts::{AlertQueue, Evidence, Signature};
use crate::detector::{Detector, DetectorError, Learning, PacketView};
use crate::detectors::ModelTrust;
use crate::error::EngineError;
use custos_detect::{DetectorConfig, KitsuneDetector, KitsuneModel, Stage};
use custos_output::ModelSignature;
use serde_json::json;
use std::path::Path;

/// Kitsune's alert signature.
const SIGNATURE: Signature<'static> = Signature {
    gid: 1,
    signature_id: 9_000_001,
    rev: 1,
    signature: "custos kitsune: packet anomaly score above threshold",
    category: "Anomalous network traffic",
    severity: 2,
};

/// The Kitsune detector: one score per packet, an alert above the threshold.
pub struct Kitsune {
    det: KitsuneDetector,
    max_score: f64,
    /// Index and time of the first packet that could raise an alert.
    detecting_from: Option<(u64, i64)>,
    /// The loaded model's signature.
    signature: Option<ModelSignature>,
    /// The captures its model was trained on (path, SHA-256), from `training.json`.
    training_inputs: Vec<serde_json::Value>,
    /// True when it trains on the run itself (no saved model).
    online: bool,
}

/// The model file in a Kitsune model directory.
pub const MODEL_FILE: &str = "kitsune-model.json";

impl Kitsune {
    /// Kitsune training online with `cfg`.
    pub fn new(cfg: DetectorConfig) -> Self {
        Kitsune {
            det: KitsuneDetector::new(cfg),
            max_score: 0.0,
            detecting_from: None,
            signature: None,
            training_inputs: Vec::new(),
            online: true,
        }
    }

    /// Kitsune scoring with the trained model in the model directory `dir` ([`MODEL_FILE`]),
    /// loaded only as `trust` allows (signed by a trusted key, or unsigned models allowed);
    /// refused if corrupt, modified or made for other features.
    ///
    /// # Errors
    /// The model cannot be used; the message names the directory and the reason.
    pub fn with_model(
        cfg: DetectorConfig,
        dir: &Path,
        trust: &ModelTrust,
    ) -> Result<Self, EngineError> {
        let loaded = trust.load(dir, MODEL_FILE)?;
        let path = dir.join(MODEL_FILE).display().to_string();
        let context = || format!("cannot use model {}", dir.display());
        let model = KitsuneModel::from_file_bytes(&loaded.bytes, &path).map_err(|source| {
            EngineError::Model {
                context: context(),
                source,
            }
        })?;
        let mut det = KitsuneDetector::from_model(model, cfg.features, cfg.explain_top, &path)
            .map_err(|source| EngineError::Model {
                context: context(),
                source,
            })?;
        det.set_warmup(cfg.warmup_ns);
        let training_inputs = trust
            .load(dir, "training.json")
            .ok()
            .map(|t| super::flow::training_captures(&t.bytes))
            .unwrap_or_default();
        Ok(Kitsune {
            training_inputs,
            det,
            max_score: 0.0,
            detecting_from: None,
            signature: Some(loaded.signature),
            online: false,
        })
    }

    /// The underlying detector.
    pub fn inner(&self) -> &KitsuneDetector {
        &self.det
    }
}

impl Detector for Kitsune {
    fn name(&self) -> &str {
        "kitsune"
    }

    fn model_digest(&self) -> Option<&str> {
        self.det.model_sha256()
    }

    fn scores_packets(&self) -> bool {
        true
    }

    fn model_signature(&self) -> Option<ModelSignature> {
        self.signature.clone()
    }

    /// Training online, it learns from every packet before its first detecting one
    /// (`detecting_from`): feature mapping, training, calibration. A saved model learns
    /// nothing from the run (its warm-up only fills statistics).
    fn learning(&self) -> Option<Learning> {
        if !self.online {
            return None;
        }
        Some(match self.detecting_from {
            Some((packet, _)) => Learning::Until(packet),
            None => Learning::Ongoing,
        })
    }

    fn operating_threshold(&self) -> Option<f64> {
        self.det.threshold().map(|t| t.value)
    }

    fn warning(&self) -> Option<String> {
        if self.det.warmup_packets() > 0 && self.detecting_from.is_none() {
            return Some(format!(
                "no packet was checked for attacks: all {} scored packets fell in the model's \
                 warm-up (--warmup, seconds of packet time from the first packet); give a longer \
                 capture or a shorter --warmup",
                self.det.warmup_packets()
            ));
        }
        self.det.not_detecting().or_else(|| {
            self.det
                .threshold()
                .and_then(custos_detect::Threshold::contamination_warning)
        })
    }

    fn packet(
        &mut self,
        p: &PacketView<'_>,
        alerts: &mut AlertQueue,
    ) -> Result<Option<f64>, DetectorError> {
        let v = self.det.packet(p.meta.ts, p.meta.frame_len, p.decoded);
        if v.score > self.max_score {
            self.max_score = v.score;
        }
        if v.stage == Stage::Detecting && self.detecting_from.is_none() {
            self.detecting_from = Some((p.run_index, p.meta.ts));
        }
        if v.alert && alerts.admit(p) {
            let evidence = Evidence {
                score: v.score,
                threshold: self.det.threshold().map(|t| t.value),
                explanation: custos_output::Explanation::of(&self.det.explain()).ok(),
            };
            alerts.raise("kitsune", self.det.model_sha256(), p, &SIGNATURE, evidence);
        }
        Ok(Some(v.score))
    }

    fn finish(&mut self) -> Result<serde_json::Value, DetectorError> {
        let k = self.det.kitnet();
        Ok(json!({
            "name": "kitsune",
            "features": self.det.feature_spec(),
            "trained_packets": k.trained,
            "executed_packets": k.executed,
            "skipped_empty_frames": self.det.skipped_empty(),
            "warmup_packets": self.det.warmup_packets(),
            "detecting_from": self.detecting_from.map(|(packet, ts)| json!({
                "packet": packet,
                "timestamp": custos_output::time::eve_time(ts),
            })),
            "autoencoders": k.map.len(),
            "feature_map": k.map,
            "threshold": self.det.threshold(),
            "model_sha256": self.det.model_sha256(),
            "model_signature": self.signature,
            "training_inputs": self.training_inputs,
            "max_score": self.max_score,
            "warning": self.warning(),
        }))
    }

    fn save_model(
        &mut self,
        path: &Path,
        captures: Vec<String>,
    ) -> Result<Option<String>, DetectorError> {
        self.det.finish_calibration();
        let executed = self.det.kitnet().executed;
        let trained = self.det.kitnet().trained;
        let model = self.det.to_model(captures).map_err(|e| {
            DetectorError(format!(
                "{e} ({trained} packets trained, {executed} scored for calibration)"
            ))
        })?;
        model
            .save(path)
            .map_err(|e| DetectorError(format!("cannot save {}: {e}", path.display())))?;
        let t = model.threshold;
        let sha = model.sha256().map_err(|e| DetectorError(e.to_string()))?;
        let mut line = format!(
            "{} autoencoders, threshold {t}; model {} (sha256 {sha})",
            model.kitnet.map.len(),
            path.display()
        );
        if let Some(w) = t.contamination_warning() {
            line.push_str("\nwarning: ");
            line.push_str(&w);
        }
        Ok(Some(line))
    }
}
