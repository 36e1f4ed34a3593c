//! `custos bench`: the engine's throughput on one capture, read from the page cache, with
//! nothing written (`custos_engine::bench` measures; this prints one JSON line per pass and a
//! summary); with `--detector`, Kitsune's training and scoring phases timed apart; with
//! `--flow-model` or `--rules`, passes alternating without and with that detector.

use crate::cli::BenchArgs;
use crate::Outcome;
use anyhow::Context;
use custos_capture::{FileReader, PacketSource};
use custos_engine::bench::{self, Pass};
use custos_engine::EngineConfig;

/// What a detector under measurement adds to the engine's configuration.
type AddDetector = Box<dyn Fn(&mut EngineConfig)>;

/// Prints a pass as one JSON line.
fn print_pass(p: &Pass) {
    println!("{}", serde_json::to_string(p).unwrap_or_default());
}

/// Runs the benchmark and prints one JSON line per measured pass, then a summary.
///
/// # Errors
/// An unreadable capture.
pub fn run(args: BenchArgs) -> anyhow::Result<Outcome> {
    // Warm the page cache.
    let mut reader = FileReader::open(&args.capture)
        .with_context(|| format!("cannot read {}", args.capture.display()))?;
    while reader.next_packet()?.is_some() {}
    if args
        .detect
        .detector
        .contains(&crate::cli::DetectorArg::Flow)
    {
        anyhow::bail!(
            "bench --detector measures Kitsune; measure the flow detector with \
             --flow-model MODEL (docs/detection.md)"
        );
    }
    let cfg = config(&args);
    let capture = args.capture.display().to_string();
    let (what, with): (&str, AddDetector) = if let Some(model) = args.flow_model.clone() {
        let with = move |c: &mut EngineConfig| {
            c.detect.flow.model = Some(model.clone());
            c.detect.allow_unsigned_model = true;
        };
        ("flow detector", Box::new(with))
    } else if !args.rules.is_empty() {
        let rules = args.rules.clone();
        (
            "rules",
            Box::new(move |c: &mut EngineConfig| c.detect.rules.files.clone_from(&rules)),
        )
    } else if !args.detect.detector.is_empty() {
        let mut kcfg = cfg.clone();
        crate::config::apply_detector_args(&mut kcfg, &args.detect);
        let k = bench::kitsune_phases(&kcfg, &args.capture)?;
        let mode = if args.detect.kitsune_compat {
            "compat"
        } else {
            "default"
        };
        let mut line = serde_json::json!({
            "capture": capture,
            "stage": "engine + kitsune, no output",
            "threads": kcfg.threads,
            "mode": mode,
            "features": k.summary["features"]["count"],
            "autoencoders": k.summary["autoencoders"],
            "skipped_empty_frames": k.summary["skipped_empty_frames"],
        });
        if let (Some(m), serde_json::Value::Object(t)) =
            (line.as_object_mut(), serde_json::to_value(&k)?)
        {
            m.extend(t);
            m.insert(
                "train_packets_per_second".into(),
                (k.train_packets as f64 / k.train_seconds.max(1e-9))
                    .round()
                    .into(),
            );
            m.insert(
                "execute_packets_per_second".into(),
                (k.execute_packets as f64 / k.execute_seconds.max(1e-9))
                    .round()
                    .into(),
            );
            m.insert(
                "packets_per_second".into(),
                (k.packets as f64 / k.total_seconds.max(1e-9))
                    .round()
                    .into(),
            );
        }
        println!("{line}");
        return Ok(Outcome::Success);
    } else {
        let (median, best) = bench::passes(&cfg, &args.capture, args.iterations, print_pass)?;
        println!(
            "{}",
            serde_json::json!({
                "capture": capture,
                "stage": "engine: read+decode+flow+app+inventory+findings, no output",
                "threads": cfg.threads,
                "median_packets_per_second": median.round(),
                "best_packets_per_second": best.round(),
            })
        );
        return Ok(Outcome::Success);
    };
    let a = bench::alternating(&cfg, &args.capture, args.iterations, with, print_pass)?;
    let mut line = serde_json::json!({
        "capture": capture,
        "stage": format!("engine, no output, without and with the {what}"),
        "threads": cfg.threads,
    });
    if let (Some(m), serde_json::Value::Object(t)) =
        (line.as_object_mut(), serde_json::to_value(&a)?)
    {
        m.extend(t);
    }
    println!("{line}");
    Ok(Outcome::Success)
}

fn config(args: &BenchArgs) -> EngineConfig {
    let mut cfg = EngineConfig::default();
    if let Some(t) = args.threads {
        cfg.threads = t;
    }
    if let Some(c) = args.checksums {
        cfg.decode.checksums = crate::config::checksums(c);
    }
    cfg
}
