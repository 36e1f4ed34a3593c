//! Model specifications of the command line and other front ends (`--model [DETECTOR=]DIR`,
//! repeated): each model directory given to the detector it is for.

use crate::{EngineConfig, EngineError};
use std::path::{Path, PathBuf};

impl EngineConfig {
    /// Gives each model specification `[DETECTOR=]DIR` (`kitsune=DIR`, `flow=DIR`) to its
    /// detector. A bare directory goes to the one detector configured, or else to the detector
    /// whose model file it holds; several bare directories need their detectors named.
    ///
    /// # Errors
    /// Bare directories that cannot be assigned, an unknown detector, or two models for one
    /// detector (the message names the specification).
    pub fn assign_models(&mut self, models: &[String]) -> Result<(), EngineError> {
        let bail = |m: String| Err(EngineError::Config(m));
        let bare = models
            .iter()
            .filter(|m| model_target(m).0.is_none())
            .count();
        for m in models {
            let (named, dir) = model_target(m);
            let detector = match named {
                Some(d) => d,
                None if bare > 1 => {
                    return bail(format!(
                        "--model {m}: several models need their detectors named: --model \
                         kitsune=DIR --model flow=DIR"
                    ))
                }
                None => match self.detect.detectors.as_slice() {
                    [only] => only.clone(),
                    [] => guess_detector(&dir).into(),
                    _ => {
                        return bail(format!(
                            "--model {m}: several detectors run; name the one this model is for \
                             (--model kitsune=DIR or --model flow=DIR)"
                        ))
                    }
                },
            };
            let slot = match detector.as_str() {
                "kitsune" => &mut self.detect.kitsune.model,
                "flow" => &mut self.detect.flow.model,
                other => {
                    return bail(format!(
                        "--model {m}: unknown detector {other:?} (known: kitsune, flow)"
                    ))
                }
            };
            if slot.is_some() {
                return bail(format!(
                    "--model: two models for {detector}; one model per detector"
                ));
            }
            *slot = Some(dir);
        }
        Ok(())
    }
}

/// Splits `kitsune=DIR` / `flow=DIR`; anything else is a bare directory (whose name may hold
/// `=`).
fn model_target(m: &str) -> (Option<String>, PathBuf) {
    match m.split_once('=') {
        Some((d, dir)) if ["kitsune", "flow"].contains(&d) => (Some(d.into()), dir.into()),
        _ => (None, m.into()),
    }
}

/// The detector whose model file the directory holds (a flow model's, else Kitsune's).
fn guess_detector(dir: &Path) -> &'static str {
    if dir.join(crate::detectors::FLOW_MODEL_FILE).is_file() {
        "flow"
    } else {
        "kitsune"
    }
}
