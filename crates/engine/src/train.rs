//! Training Kitsune through the engine (`custos train --detector kitsune`): the capture is
//! read until Kitsune's grace periods and calibration are over, and the model directory is
//! written — model file, `training.json` and model card ([`crate::detectors`]), whose
//! caveats name any attack custos found in those packets
//! ([`KitsuneTrained::learned_from_attacks`]); signing is the caller's (`custos-trust`).
//! [`wrap_model_file`] turns a model file of the format before model directories into a
//! directory that can be signed.

use crate::config::Checksums;
use crate::detectors::{prepare_model_dir, write_model_card, MODEL_FILE};
use crate::{Engine, EngineConfig, EngineError, Source};
use std::path::{Path, PathBuf};

/// What training Kitsune did.
#[derive(Debug)]
pub struct KitsuneTrained {
    /// Packets read.
    pub packets: u64,
    /// The detector's line describing the model, when it has one.
    pub model: Option<String>,
    /// An input was damaged part-way: the model learnt from the packets before the damage.
    pub partial: bool,
    /// Warnings about the inputs (damage, alterations), in order.
    pub warnings: Vec<String>,
    /// Signs of attack custos found in the packets Kitsune trained on (findings, other
    /// detectors' alerts): the warning, whose facts without addresses are among the model
    /// card's caveats; `None` when none was found.
    pub learned_from_attacks: Option<String>,
}

/// Trains Kitsune (`cfg`'s Kitsune settings, `cfg.threads`) on `captures` and writes the
/// model directory `out` (replacing its files only with `force`). Checksums are ignored, as
/// Kitsune's features do not depend on them, and reading stops once the model is complete.
///
/// # Errors
/// A bad configuration, an unreadable capture, a directory that exists (without `force`),
/// too few packets for the grace periods and calibration, or a file that cannot be written.
pub fn train_kitsune(
    mut cfg: EngineConfig,
    captures: &[PathBuf],
    out: &Path,
    force: bool,
) -> Result<KitsuneTrained, EngineError> {
    prepare_model_dir(out, force)?;
    cfg.decode.checksums = Checksums::Ignore;
    let k = &cfg.detect.kitsune;
    let needed = k.fm_grace + k.ad_grace + 1 + k.calibration;
    cfg.max_packets = Some(needed);
    let mut engine = Engine::new(cfg.clone())?;
    let summary = engine.run(Source::Files(captures.to_vec()))?;
    let names: Vec<String> = captures.iter().map(|p| p.display().to_string()).collect();
    let packets = summary.stats.packets;
    let Some(det) = engine.detectors_mut().first_mut() else {
        return Err(EngineError::Config("no detector to train".into()));
    };
    let name = det.name().to_string();
    let model =
        det.save_model(&out.join(MODEL_FILE), names)
            .map_err(|e| EngineError::Detector {
                detector: name.clone(),
                message: format!(
                    "{}: {packets} packets read, {needed} needed (grace periods + \
                     calibration){}",
                    e.0,
                    summary
                        .warnings
                        .iter()
                        .map(|w| format!("; {w}"))
                        .collect::<String>()
                ),
            })?;
    let threshold = summary.stats.detector.clone().unwrap_or_default()["threshold"].clone();
    let learned = summary
        .learned_from_attacks
        .iter()
        .find(|l| l.detector == name);
    write_model_card(
        out,
        captures,
        &cfg.detect.kitsune,
        packets,
        &threshold,
        learned.map(|l| l.without_addresses.as_str()),
    )?;
    let own = |w: &String| {
        summary
            .learned_from_attacks
            .iter()
            .all(|l| *w != format!("{}: {}", l.detector, l.warning))
    };
    Ok(KitsuneTrained {
        packets,
        model,
        partial: summary.partial,
        warnings: summary
            .warnings
            .iter()
            .filter(|w| own(w))
            .cloned()
            .collect(),
        learned_from_attacks: learned.map(|l| l.warning.clone()),
    })
}

/// Wraps a single Kitsune model file (the format before model directories) into a new model
/// directory beside it — `model.json` → `model/kitsune-model.json` — so it can be signed.
/// Returns the directory.
///
/// # Errors
/// The directory it would create exists, the file is not a Kitsune model (checked before
/// anything is made), or the directory or copy cannot be written.
pub fn wrap_model_file(file: &Path) -> Result<PathBuf, EngineError> {
    let dir = file.with_extension("");
    if dir == file || dir.exists() {
        return Err(EngineError::Config(format!(
            "{} is a single model file; to wrap it custos creates {}, which exists: move it \
             into a new directory as {MODEL_FILE} and sign the directory",
            file.display(),
            dir.display()
        )));
    }
    custos_detect::KitsuneModel::load(file).map_err(EngineError::ModelFile)?;
    std::fs::create_dir(&dir)
        .map_err(|e| EngineError::io(format!("cannot create {}", dir.display()), e))?;
    std::fs::copy(file, dir.join(MODEL_FILE)).map_err(|e| {
        let what = format!("cannot copy {} into {}", file.display(), dir.display());
        EngineError::io(what, e)
    })?;
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_refuses_when_the_directory_exists() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("model.json");
        std::fs::write(&file, "{}").unwrap();
        std::fs::create_dir(tmp.path().join("model")).unwrap();
        let e = wrap_model_file(&file).unwrap_err().to_string();
        assert!(e.contains("is a single model file"), "{e}");
        assert!(e.contains(&format!("as {MODEL_FILE} and sign")), "{e}");
    }

    #[test]
    fn wrap_refuses_what_is_not_a_model_before_making_anything() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("model.json");
        std::fs::write(&file, "{}").unwrap();
        let e = wrap_model_file(&file).unwrap_err();
        assert!(matches!(e, EngineError::ModelFile(_)), "{e:?}");
        assert!(!tmp.path().join("model").exists());
    }
}
