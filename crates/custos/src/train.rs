//! `custos train`: learn a detector's model from captures of normal traffic and write it as a
//! model directory: the model, its model card and the training settings, signed on request.

use crate::cli::TrainArgs;
use crate::Outcome;
use anyhow::bail;
use custos_dataset::FlowTrainOptions;
use custos_engine::flags::Detector;
use custos_engine::train::train_kitsune;
use custos_engine::EngineConfig;

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
        [Detector::Kitsune] => {}
        [Detector::Flow] => return train_flow(&args, key),
        [] => bail!("choose a detector with --detector (kitsune or flow)"),
        _ => bail!("train one detector at a time (--detector kitsune or --detector flow)"),
    }
    if args.flow.dataset.is_some() {
        bail!("Kitsune learns from captures of normal traffic, not a dataset: give CAPTURE...");
    }
    let f = &args.flow;
    if f.trees.is_some()
        || f.seed.is_some()
        || f.holdout.is_some()
        || f.screen_labels.is_some()
        || f.phase_weights.is_some()
    {
        bail!("--trees, --seed, --holdout, --screen-labels and --phase-weights are the flow detector's options (--detector flow --dataset DS)");
    }
    let mut cfg = EngineConfig::default();
    args.detect.apply(&mut cfg);
    if let Some(t) = args.threads {
        cfg.threads = t;
    }
    let trained = train_kitsune(cfg, &args.captures, &args.output, args.force)?;
    for w in &trained.warnings {
        eprintln!("custos: warning: {w}; training uses the packets before it");
    }
    if let Some(w) = &trained.learned_from_attacks {
        eprintln!(
            "custos: warning: kitsune: {w} (the model card's caveats name the same, without \
             addresses)"
        );
    }
    if let Some(line) = &trained.model {
        eprintln!(
            "custos: trained kitsune on {} packets: {line}",
            trained.packets
        );
    }
    finish(&args.output, key)?;
    Ok(if trained.partial {
        Outcome::Partial
    } else {
        Outcome::Success
    })
}

/// Trains the flow detector on `--dataset` (crate `custos-dataset`).
fn train_flow(args: &TrainArgs, key: Option<custos_trust::SigningKey>) -> anyhow::Result<Outcome> {
    let Some(ds) = &args.flow.dataset else {
        bail!("the flow detector learns from a labelled dataset: give --dataset DS (custos dataset build)");
    };
    let opts = FlowTrainOptions::from_flags(&args.flow, args.detect.fpr);
    let trained = custos_dataset::train_flow_model(ds, &opts)?;
    custos_dataset::write_flow_model_dir(&args.output, &trained, args.force)?;
    for line in trained.report_lines(ds, &args.output) {
        eprintln!("custos: {line}");
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
