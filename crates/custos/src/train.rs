//! `custos train`: learn a detector's model from captures of normal traffic and write it as a
//! model directory: the model, its model card and the training settings, signed on request.

use crate::cli::TrainArgs;
use crate::Outcome;
use anyhow::{bail, Context};
use custos_engine::config::Checksums;
use custos_engine::detectors::MODEL_FILE;
use custos_engine::{Engine, EngineConfig, Source};
use serde_json::json;
use sha2::{Digest, Sha256};
use std::path::Path;

/// Runs `train`.
///
/// # Errors
/// Unreadable inputs, too little traffic to finish training, an existing model directory
/// (without --force), an unwritable model, an unusable signing key.
pub fn run(args: TrainArgs) -> anyhow::Result<Outcome> {
    if args.detect.detector.is_none() {
        bail!("choose a detector with --detector (e.g. --detector kitsune)");
    }
    prepare_dir(&args.output, args.force)?;
    let key = match &args.sign {
        Some(path) => Some(custos_trust::SigningKey::read(path)?),
        None => None,
    };
    let mut cfg = EngineConfig::default();
    crate::config::apply_detector_args(&mut cfg, &args.detect);
    if let Some(t) = args.threads {
        cfg.threads = t;
    }
    // Training reads every packet as Kitsune-py does, whatever its checksums.
    cfg.decode.checksums = Checksums::Ignore;
    let k = &cfg.detect.kitsune;
    let needed = k.fm_grace + k.ad_grace + 1 + k.calibration;
    cfg.max_packets = Some(needed);
    let mut engine = Engine::new(cfg.clone())?;
    let summary = engine.run(Source::Files(args.captures.clone()))?;
    for w in &summary.warnings {
        eprintln!("custos: warning: {w}; training uses the packets before it");
    }
    let names: Vec<String> = args
        .captures
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    let read = summary.stats.packets;
    let Some(det) = engine.detectors_mut().first_mut() else {
        bail!("no detector to train");
    };
    let saved = det
        .save_model(&args.output.join(MODEL_FILE), names)
        .with_context(|| {
            format!("{read} packets read, {needed} needed (grace periods + calibration)")
        })?;
    let threshold = summary.stats.detector.clone().unwrap_or_default()["threshold"].clone();
    write_card(&args, &cfg, read, &threshold)?;
    if let Some(line) = saved {
        eprintln!("custos: trained kitsune on {read} packets: {line}");
    }
    if let Some(key) = key {
        let signed = custos_trust::sign_model(&args.output, &key)?;
        eprintln!(
            "custos: signed {} with key {} ({})",
            args.output.display(),
            signed.key_hint,
            signed.signature.display()
        );
    } else {
        eprintln!(
            "custos: the model is unsigned: sign it (custos model sign {} --key KEY.pem) so \
             sensors load it with --trust",
            args.output.display()
        );
    }
    Ok(if summary.partial {
        Outcome::Partial
    } else {
        Outcome::Success
    })
}

/// Creates the model directory; an existing non-empty one only with `force` (its files are
/// then replaced, a stale signature removed).
fn prepare_dir(dir: &Path, force: bool) -> anyhow::Result<()> {
    if dir.is_file() {
        bail!(
            "{} is a file; a model is a directory (choose a new name, e.g. model/)",
            dir.display()
        );
    }
    let occupied = std::fs::read_dir(dir).is_ok_and(|mut d| d.next().is_some());
    if occupied && !force {
        bail!(
            "{} exists and is not empty; choose another directory, or pass --force to replace \
             the model in it",
            dir.display()
        );
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let sig = dir.join(custos_trust::SIGNATURE_FILE);
    if sig.exists() {
        std::fs::remove_file(&sig).with_context(|| format!("cannot remove {}", sig.display()))?;
    }
    Ok(())
}

/// Writes `training.json` (the settings and the inputs with their SHA-256) and the model
/// card (`model-card.json` and `model-card.md`, after Mitchell et al. 2019).
fn write_card(
    args: &TrainArgs,
    cfg: &EngineConfig,
    packets: u64,
    threshold: &serde_json::Value,
) -> anyhow::Result<()> {
    let mut inputs = Vec::new();
    for p in &args.captures {
        inputs.push(json!({"path": p.display().to_string(), "sha256": sha256_file(p)?}));
    }
    let k = &cfg.detect.kitsune;
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
            "name": args.output.file_name().map(|n| n.to_string_lossy().into_owned()),
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
        "caveats": "the calibration window is assumed benign: attacks inside it raise the \
            threshold; the first minute of a capture is a warm-up without alerts",
    });
    write_json(&args.output.join("training.json"), &training)?;
    write_json(&args.output.join("model-card.json"), &card)?;
    std::fs::write(args.output.join("model-card.md"), card_markdown(&card))
        .with_context(|| format!("cannot write the model card in {}", args.output.display()))?;
    Ok(())
}

fn write_json(path: &Path, v: &serde_json::Value) -> anyhow::Result<()> {
    let mut text = serde_json::to_string_pretty(v)?;
    text.push('\n');
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}

/// The model card as Markdown: one section per field of the JSON card.
fn card_markdown(card: &serde_json::Value) -> String {
    let mut md = String::from("# Model card\n");
    for (key, value) in card.as_object().into_iter().flatten() {
        let title = key.replace('_', " ");
        let body = match value {
            serde_json::Value::String(s) => s.clone(),
            v => format!(
                "```json\n{}\n```",
                serde_json::to_string_pretty(v).unwrap_or_default()
            ),
        };
        md.push_str(&format!("\n## {title}\n\n{body}\n"));
    }
    md
}

fn sha256_file(path: &Path) -> anyhow::Result<String> {
    if path.as_os_str() == "-" {
        return Ok("not stated (standard input)".into());
    }
    let mut f =
        std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut h = Sha256::new();
    std::io::copy(&mut f, &mut h).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
}
