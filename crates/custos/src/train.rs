//! `custos train`: learn a detector's model from captures of normal traffic and write it as a
//! model directory: the model, its model card and the training settings, signed on request.

use crate::cli::TrainArgs;
use crate::Outcome;
use anyhow::{bail, Context};
use custos_engine::config::Checksums;
use custos_engine::detectors::{prepare_model_dir, write_model_card, MODEL_FILE};
use custos_engine::{Engine, EngineConfig, Source};

/// Runs `train`.
///
/// # Errors
/// Unreadable inputs, too little traffic to finish training, an existing model directory
/// (without --force), an unwritable model, an unusable signing key.
pub fn run(args: TrainArgs) -> anyhow::Result<Outcome> {
    if args.detect.detector.is_none() {
        bail!("choose a detector with --detector (e.g. --detector kitsune)");
    }
    prepare_model_dir(&args.output, args.force)?;
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
    write_model_card(
        &args.output,
        &args.captures,
        &cfg.detect.kitsune,
        read,
        &threshold,
    )?;
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
