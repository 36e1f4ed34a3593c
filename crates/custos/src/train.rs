//! `custos train`: learn a detector's model from captures of normal traffic.

use crate::cli::TrainArgs;
use crate::Outcome;
use anyhow::{bail, Context};
use custos_engine::config::Checksums;
use custos_engine::{Engine, EngineConfig, Source};

/// Runs `train`.
///
/// # Errors
/// Unreadable inputs, too little traffic to finish training, unwritable model.
pub fn run(args: TrainArgs) -> anyhow::Result<Outcome> {
    if args.detect.detector.is_none() {
        bail!("choose a detector with --detector (e.g. --detector kitsune)");
    }
    if args.output.exists() && !args.force {
        bail!(
            "{} exists; choose another file, or pass --force to replace it",
            args.output.display()
        );
    }
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
    let mut engine = Engine::new(cfg)?;
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
    let saved = det.save_model(&args.output, names).with_context(|| {
        format!("{read} packets read, {needed} needed (grace periods + calibration)")
    })?;
    if let Some(line) = saved {
        eprintln!("custos: trained kitsune on {read} packets: {line}");
    }
    Ok(if summary.partial {
        Outcome::Partial
    } else {
        Outcome::Success
    })
}
