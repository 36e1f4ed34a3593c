//! Writing a Kitsune model directory: the directory itself, `training.json` (the settings and
//! every input with its SHA-256) and the model card (`model-card.json`, `model-card.md`, after
//! Mitchell et al. 2019). The model file is written by the detector's `save_model`; signing
//! is `custos-trust`'s.

use crate::config::KitsuneSettings;
use crate::error::EngineError;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// Creates the model directory `dir`; an existing non-empty one only with `force` (its files
/// are then replaced, and a stale signature is removed).
///
/// # Errors
/// `dir` is a file, is not empty (without `force`), or cannot be created.
pub fn prepare_model_dir(dir: &Path, force: bool) -> Result<(), EngineError> {
    if dir.is_file() {
        return Err(EngineError::Config(format!(
            "{} is a file; a model is a directory (choose a new name, e.g. model/)",
            dir.display()
        )));
    }
    let occupied = std::fs::read_dir(dir).is_ok_and(|mut d| d.next().is_some());
    if occupied && !force {
        return Err(EngineError::Config(format!(
            "{} exists and is not empty; choose another directory, or pass --force to replace \
             the model in it",
            dir.display()
        )));
    }
    std::fs::create_dir_all(dir)
        .map_err(|e| EngineError::io(format!("cannot create {}", dir.display()), e))?;
    let sig = dir.join(custos_trust::SIGNATURE_FILE);
    if sig.exists() {
        std::fs::remove_file(&sig)
            .map_err(|e| EngineError::io(format!("cannot remove {}", sig.display()), e))?;
    }
    Ok(())
}

/// Writes `training.json` and the model card into the model directory `dir`, for a Kitsune
/// model trained with `settings` on `captures` (`packets` read), whose threshold (as
/// `stats.json` has it) is `threshold`. `learned_from_attacks`: the signs of attack custos
/// found in the training packets, without addresses (the card travels with the model and is
/// never pseudonymised), added to the card's caveats.
///
/// # Errors
/// An input that cannot be read to hash it, a file that cannot be written.
pub fn write_model_card(
    dir: &Path,
    captures: &[PathBuf],
    settings: &KitsuneSettings,
    packets: u64,
    threshold: &Value,
    learned_from_attacks: Option<&str>,
) -> Result<(), EngineError> {
    let mut inputs = Vec::new();
    for p in captures {
        inputs.push(json!({"path": p.display().to_string(), "sha256": sha256_file(p)?}));
    }
    let k = settings;
    let training = json!({
        "detector": "kitsune",
        "custos_version": env!("CARGO_PKG_VERSION"),
        "inputs": inputs,
        "packets": packets,
        "settings": {
            "compat": k.compat, "features_115": k.features_115, "fm_grace": k.fm_grace,
            "ad_grace": k.ad_grace, "max_ae": k.max_ae, "calibration": k.calibration,
            "fpr": k.fpr, "beta": k.beta,
        },
    });
    let card = json!({
        "model_details": {
            "name": dir.file_name().map(|n| n.to_string_lossy().into_owned()),
            "detector": "kitsune (AfterImage features, KitNET autoencoder ensemble; Mirsky et al., NDSS 2018)",
            "custos_version": env!("CARGO_PKG_VERSION"),
            "threshold": threshold,
        },
        "intended_use": "anomaly detection on the network whose normal traffic it was trained on; \
            every alert is a lead for an analyst, not a verdict",
        "out_of_scope_uses": "other networks without retraining (a model scores traffic of devices it \
            never saw as unusual); blocking traffic automatically",
        "factors": "device set, protocols and traffic rates of the training network",
        "training_data": training["inputs"],
        "evaluation_data": "not stated (run custos evaluate on labelled traffic the model never saw)",
        "metrics": "not evaluated",
        "caveats": caveats(learned_from_attacks),
    });
    write_card_files(dir, &training, &card)
}

/// The Kitsune card's caveats: those of every model, then the signs of attack custos found in
/// its training packets, when it found any.
fn caveats(learned_from_attacks: Option<&str>) -> String {
    let mut c = "the calibration window is assumed benign: attacks inside it raise the \
        threshold; the first minute of a capture is a warm-up without alerts"
        .to_string();
    if let Some(w) = learned_from_attacks {
        c.push_str("; ");
        c.push_str(w);
    }
    c
}

/// Writes `training.json` (`training`) and the model card (`card` as `model-card.json` and,
/// one section per key, as `model-card.md`) into the model directory `dir`.
///
/// # Errors
/// A file that cannot be written.
pub fn write_card_files(dir: &Path, training: &Value, card: &Value) -> Result<(), EngineError> {
    write_json(&dir.join("training.json"), training)?;
    write_json(&dir.join("model-card.json"), card)?;
    let md = dir.join("model-card.md");
    std::fs::write(&md, card_markdown(card))
        .map_err(|e| EngineError::io(format!("cannot write {}", md.display()), e))
}

/// Puts the results of an evaluation into the model card of the model directory `dir`:
/// `metrics` and `evaluation_data` of `model-card.json`, and `model-card.md` written again.
/// The card is one of the signed files, so a signature (`model.sig`) is removed: the caller
/// re-signs.
///
/// # Errors
/// No readable model card in `dir`, or a file that cannot be written or removed.
pub fn update_card_metrics(
    dir: &Path,
    metrics: Value,
    evaluation_data: Value,
) -> Result<(), EngineError> {
    update_card(
        dir,
        vec![("metrics", metrics), ("evaluation_data", evaluation_data)],
        &[],
    )
}

/// Sets `fields` of the model card of the model directory `dir` (each replaced whole) and
/// writes `model-card.md` again; copies each `(file, name)` of `attachments` into `dir` as
/// `name` (a relative path; its folders are created), so the card can point at them. The
/// card and the attachments are signed files, so a signature (`model.sig`) is removed: the
/// caller re-signs.
///
/// # Errors
/// No readable model card in `dir`, an attachment name that is not a plain relative path,
/// or a file that cannot be read, written or removed.
pub fn update_card(
    dir: &Path,
    fields: Vec<(&str, Value)>,
    attachments: &[(PathBuf, String)],
) -> Result<(), EngineError> {
    let path = dir.join("model-card.json");
    let text = std::fs::read(&path).map_err(|e| {
        EngineError::io(
            format!(
                "cannot read {} (is {} a model directory?)",
                path.display(),
                dir.display()
            ),
            e,
        )
    })?;
    let mut card: Value = serde_json::from_slice(&text)
        .map_err(|e| EngineError::Config(format!("{}: not a model card: {e}", path.display())))?;
    let Some(object) = card.as_object_mut() else {
        return Err(EngineError::Config(format!(
            "{}: not a model card (not a JSON object)",
            path.display()
        )));
    };
    for (file, name) in attachments {
        let relative = Path::new(name);
        let plain = relative
            .components()
            .all(|c| matches!(c, std::path::Component::Normal(_)));
        if !plain {
            return Err(EngineError::Config(format!(
                "attachment name {name:?} is not a plain relative path"
            )));
        }
        let to = dir.join(relative);
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| EngineError::io(format!("cannot create {}", parent.display()), e))?;
        }
        std::fs::copy(file, &to).map_err(|e| {
            EngineError::io(
                format!("cannot copy {} to {}", file.display(), to.display()),
                e,
            )
        })?;
    }
    for (key, value) in fields {
        object.insert(key.to_string(), value);
    }
    write_json(&path, &card)?;
    let md = dir.join("model-card.md");
    std::fs::write(&md, card_markdown(&card))
        .map_err(|e| EngineError::io(format!("cannot write {}", md.display()), e))?;
    let sig = dir.join(custos_trust::SIGNATURE_FILE);
    if sig.exists() {
        std::fs::remove_file(&sig)
            .map_err(|e| EngineError::io(format!("cannot remove {}", sig.display()), e))?;
    }
    Ok(())
}

fn write_json(path: &Path, v: &Value) -> Result<(), EngineError> {
    let mut text = serde_json::to_string_pretty(v).unwrap_or_default();
    text.push('\n');
    std::fs::write(path, text)
        .map_err(|e| EngineError::io(format!("cannot write {}", path.display()), e))
}

/// The model card as Markdown: one section per field of the JSON card.
fn card_markdown(card: &Value) -> String {
    let mut md = String::from("# Model card\n");
    for (key, value) in card.as_object().into_iter().flatten() {
        let title = key.replace('_', " ");
        let body = match value {
            Value::String(s) => s.clone(),
            v => format!(
                "```json\n{}\n```",
                serde_json::to_string_pretty(v).unwrap_or_default()
            ),
        };
        md.push_str(&format!("\n## {title}\n\n{body}\n"));
    }
    md
}

fn sha256_file(path: &Path) -> Result<String, EngineError> {
    if path.as_os_str() == "-" {
        return Ok("not stated (standard input)".into());
    }
    let read = |e| EngineError::io(format!("cannot read {}", path.display()), e);
    let mut f = std::fs::File::open(path).map_err(read)?;
    let mut h = Sha256::new();
    std::io::copy(&mut f, &mut h).map_err(read)?;
    Ok(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
}
