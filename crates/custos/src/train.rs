//! `custos train`: learn a detector's model from captures of normal traffic and write it as a
//! model directory: the model, its model card and the training settings, signed on request.

use crate::cli::{DetectorArg, TrainArgs};
use crate::Outcome;
use anyhow::{bail, Context};
use custos_dataset::FlowTrainOptions;
use custos_engine::config::Checksums;
use custos_engine::detectors::{prepare_model_dir, write_model_card, MODEL_FILE};
use custos_engine::{Engine, EngineConfig, Source};

/// Runs `train`.
///
/// # Errors
/// Unreadable inputs, too little traffic to finish training, an existing model directory
/// (without --force), an unwritable model, an unusable signing key.
pub fn run(args: TrainArgs) -> anyhow::Result<Outcome> {
    let key = match &args.sign {
        Some(path) => Some(custos_trust::SigningKey::read(path)?),
        None => None,
    };
    match args.detect.detector.as_slice() {
        [DetectorArg::Kitsune] => {}
        [DetectorArg::Flow] => return train_flow(&args, key),
        [] => bail!("choose a detector with --detector (kitsune or flow)"),
        _ => bail!("train one detector at a time (--detector kitsune or --detector flow)"),
    }
    if args.dataset.is_some() {
        bail!("Kitsune learns from captures of normal traffic, not a dataset: give CAPTURE...");
    }
    prepare_model_dir(&args.output, args.force)?;
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
    finish(&args.output, key)?;
    Ok(if summary.partial {
        Outcome::Partial
    } else {
        Outcome::Success
    })
}

/// Trains the flow detector on `--dataset` (crate `custos-dataset`).
fn train_flow(args: &TrainArgs, key: Option<custos_trust::SigningKey>) -> anyhow::Result<Outcome> {
    let Some(ds) = &args.dataset else {
        bail!("the flow detector learns from a labelled dataset: give --dataset DS (custos dataset build)");
    };
    let mut opts = FlowTrainOptions::default();
    if let Some(t) = args.trees {
        opts.params.trees = t;
    }
    if let Some(s) = args.seed {
        opts.params.seed = s;
    }
    if let Some(h) = args.holdout {
        opts.holdout = h;
    }
    if let Some(f) = args.detect.fpr {
        opts.fpr = f;
    }
    opts.screen_folds = args.screen_labels;
    let trained = custos_dataset::train_flow_model(ds, &opts)?;
    custos_dataset::write_flow_model_dir(&args.output, &trained, args.force)?;
    let t = &trained.training;
    eprintln!(
        "custos: trained the flow model on {} rows of {} ({} trees); threshold {:.4}; held out: \
         ROC AUC {}, recall {}, false-positive rate {}",
        t["rows"]["training"],
        ds.display(),
        trained.model.gbdt.trees().len(),
        trained.model.threshold(),
        t["held_out_metrics"]["roc_auc"],
        t["held_out_metrics"]["recall"],
        t["held_out_metrics"]["false_positive_rate"],
    );
    if let Some(sc) = &trained.screening {
        eprintln!(
            "custos: label screening ({} folds): {} of {} flows have a label the rest of the \
             data contradicts ({} attack, {} benign); listed in {}",
            sc["folds"],
            sc["suspicious"],
            sc["flows"],
            sc["suspicious_attack_labels"],
            sc["suspicious_benign_labels"],
            args.output
                .join(custos_dataset::screening::SCREENING_FILE)
                .display()
        );
    }
    finish(&args.output, key)?;
    Ok(Outcome::Success)
}

/// Signs the model directory when a key was given, or says how to.
fn finish(dir: &std::path::Path, key: Option<custos_trust::SigningKey>) -> anyhow::Result<()> {
    if let Some(key) = key {
        let signed = custos_trust::sign_model(dir, &key)?;
        eprintln!(
            "custos: signed {} with key {} ({})",
            dir.display(),
            signed.key_hint,
            signed.signature.display()
        );
    } else {
        eprintln!(
            "custos: the model is unsigned: sign it (custos model sign {} --key KEY.pem) so \
             sensors load it with --trust",
            dir.display()
        );
    }
    Ok(())
}
