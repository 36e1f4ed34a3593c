//! Kitsune models on disk: canonical JSON with a SHA-256 of the content, refused when corrupt,
//! truncated, modified, or made for other features or parameters.
//!
//! Canonical form: the model's fields in a fixed order, no whitespace, numbers in the shortest
//! form that reads back to the same `f64` (serde_json's `ryu`), so the same model always gives
//! the same bytes and the same hash. The file is `{"model":{…},"sha256":"…"}`, the hash taken
//! over the canonical `model` object. (Signing comes with the model-provenance work.)

use crate::error::ModelError;
use crate::kitnet::KitNet;
use crate::threshold::Threshold;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The format string this version writes and reads.
pub const MODEL_FORMAT: &str = "custos-kitsune-model/1";

/// What the features were: a model only works with the same extractor.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeatureSpec {
    /// Extractor mode: `compat` or `default`.
    pub mode: String,
    /// Number of features.
    pub count: usize,
    /// SHA-256 of the feature names joined by newlines.
    pub names_sha256: String,
}

impl FeatureSpec {
    /// The spec of an extractor with `mode` and these feature `names`.
    pub fn new(mode: &str, names: &[String]) -> Self {
        FeatureSpec {
            mode: mode.to_string(),
            count: names.len(),
            names_sha256: hex(&Sha256::digest(names.join("\n").as_bytes())),
        }
    }
}

/// Where and how the model was trained.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainingInfo {
    /// Packets used (grace periods and calibration window).
    pub packets: u64,
    /// Inputs, as given.
    pub captures: Vec<String>,
    /// First packet time (ns).
    pub first_ts: i64,
    /// Last packet time (ns).
    pub last_ts: i64,
}

/// A trained Kitsune model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KitsuneModel {
    /// Always [`MODEL_FORMAT`].
    pub format: String,
    /// custos version that trained it.
    pub custos_version: String,
    /// The features it expects.
    pub features: FeatureSpec,
    /// The trained network.
    pub kitnet: KitNet,
    /// The alert threshold.
    pub threshold: Threshold,
    /// Training provenance.
    pub training: TrainingInfo,
}

#[derive(Serialize, Deserialize)]
struct ModelFile {
    model: KitsuneModel,
    sha256: String,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl KitsuneModel {
    /// The canonical JSON of the model.
    ///
    /// # Errors
    /// `Untrained` when a value cannot be represented (an autoencoder that never trained).
    pub fn canonical_json(&self) -> Result<String, ModelError> {
        let s = serde_json::to_string(self).map_err(|e| ModelError::Untrained {
            what: e.to_string(),
        })?;
        if s.contains("null") {
            return Err(ModelError::Untrained {
                what:
                    "the model holds values that were never learned (train past the grace periods)"
                        .into(),
            });
        }
        Ok(s)
    }

    /// SHA-256 of the canonical JSON, hex.
    ///
    /// # Errors
    /// As [`KitsuneModel::canonical_json`].
    pub fn sha256(&self) -> Result<String, ModelError> {
        Ok(hex(&Sha256::digest(self.canonical_json()?.as_bytes())))
    }

    /// The file's bytes: `{"model":…,"sha256":…}` and a newline.
    ///
    /// # Errors
    /// As [`KitsuneModel::canonical_json`].
    pub fn to_file_bytes(&self) -> Result<Vec<u8>, ModelError> {
        let body = self.canonical_json()?;
        let hash = hex(&Sha256::digest(body.as_bytes()));
        Ok(format!("{{\"model\":{body},\"sha256\":\"{hash}\"}}\n").into_bytes())
    }

    /// Writes the model to `path`.
    ///
    /// # Errors
    /// I/O errors and untrained models.
    pub fn save(&self, path: &std::path::Path) -> Result<(), ModelError> {
        let bytes = self.to_file_bytes()?;
        std::fs::write(path, bytes).map_err(|source| ModelError::Io {
            path: path.display().to_string(),
            source,
        })
    }

    /// Parses and checks a model file's bytes (`path` names it in errors).
    ///
    /// # Errors
    /// `Truncated`, `Corrupt`, `HashMismatch`, `Format`, `Inconsistent`.
    pub fn from_file_bytes(bytes: &[u8], path: &str) -> Result<KitsuneModel, ModelError> {
        let file: ModelFile = serde_json::from_slice(bytes).map_err(|e| {
            if e.is_eof() {
                ModelError::Truncated {
                    path: path.into(),
                    line: e.line(),
                    column: e.column(),
                }
            } else {
                ModelError::Corrupt {
                    path: path.into(),
                    line: e.line(),
                    column: e.column(),
                    what: e.to_string(),
                }
            }
        })?;
        if file.model.format != MODEL_FORMAT {
            return Err(ModelError::Format {
                path: path.into(),
                found: file.model.format,
                expected: MODEL_FORMAT,
            });
        }
        let actual = file.model.sha256().map_err(|_| ModelError::Inconsistent {
            path: path.into(),
            what: "unrepresentable values".into(),
        })?;
        if actual != file.sha256 {
            return Err(ModelError::HashMismatch {
                path: path.into(),
                recorded: file.sha256,
                actual,
            });
        }
        let mut model = file.model;
        model.validate().map_err(|what| ModelError::Inconsistent {
            path: path.into(),
            what,
        })?;
        model.kitnet.after_load();
        Ok(model)
    }

    /// Reads and checks a model file.
    ///
    /// # Errors
    /// As [`KitsuneModel::from_file_bytes`], plus I/O errors.
    pub fn load(path: &std::path::Path) -> Result<KitsuneModel, ModelError> {
        let bytes = std::fs::read(path).map_err(|source| ModelError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_file_bytes(&bytes, &path.display().to_string())
    }

    /// Refuses a model made for other features than `run`.
    ///
    /// # Errors
    /// `Incompatible` naming both.
    pub fn check_features(&self, run: &FeatureSpec, path: &str) -> Result<(), ModelError> {
        if &self.features != run {
            let show = |f: &FeatureSpec| {
                format!(
                    "{} features in {} mode (names {})",
                    f.count,
                    f.mode,
                    &f.names_sha256[..12.min(f.names_sha256.len())]
                )
            };
            return Err(ModelError::Incompatible {
                path: path.into(),
                model: show(&self.features),
                run: show(run),
            });
        }
        Ok(())
    }

    /// Checks that the network's parts fit together.
    fn validate(&self) -> Result<(), String> {
        let k = &self.kitnet;
        if self.features.count != k.n {
            return Err(format!(
                "feature count {} but the network takes {}",
                self.features.count, k.n
            ));
        }
        if k.map.is_empty() || k.map.len() != k.ensemble.len() {
            return Err(format!(
                "{} clusters for {} autoencoders",
                k.map.len(),
                k.ensemble.len()
            ));
        }
        let mut seen = vec![false; k.n];
        for (a, (m, ae)) in k.map.iter().zip(&k.ensemble).enumerate() {
            if m.is_empty() || m.len() != ae.n_visible {
                return Err(format!(
                    "autoencoder {a} has {} inputs for a cluster of {}",
                    ae.n_visible,
                    m.len()
                ));
            }
            for &i in m {
                match seen.get_mut(i) {
                    Some(s) if !*s => *s = true,
                    _ => return Err(format!("feature {i} out of range or mapped twice")),
                }
            }
            check_ae(ae, k.config.hidden_ratio).map_err(|e| format!("autoencoder {a}: {e}"))?;
        }
        let out = k.output.as_ref().ok_or("no output autoencoder")?;
        if out.n_visible != k.map.len() {
            return Err(format!(
                "output autoencoder takes {} inputs for {} autoencoders",
                out.n_visible,
                k.map.len()
            ));
        }
        check_ae(out, k.config.hidden_ratio).map_err(|e| format!("output autoencoder: {e}"))?;
        if !self.threshold.value.is_finite() || self.threshold.value <= 0.0 {
            return Err(format!(
                "threshold {} is not a positive number",
                self.threshold.value
            ));
        }
        Ok(())
    }
}

fn check_ae(ae: &crate::Autoencoder, hidden_ratio: f64) -> Result<(), String> {
    let nh = (ae.n_visible as f64 * hidden_ratio).ceil() as usize;
    if ae.n_hidden != nh {
        return Err(format!("{} hidden units, expected {nh}", ae.n_hidden));
    }
    if ae.w.len() != ae.n_visible * ae.n_hidden
        || ae.hbias.len() != ae.n_hidden
        || ae.vbias.len() != ae.n_visible
        || ae.norm_max.len() != ae.n_visible
        || ae.norm_min.len() != ae.n_visible
    {
        return Err("weight or bias sizes do not match its units".into());
    }
    let all =
        ae.w.iter()
            .chain(&ae.hbias)
            .chain(&ae.vbias)
            .chain(&ae.norm_max)
            .chain(&ae.norm_min);
    if let Some(v) = all.into_iter().find(|v| !v.is_finite()) {
        return Err(format!("non-finite parameter {v}"));
    }
    Ok(())
}
