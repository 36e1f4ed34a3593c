//! `custos bench`: the engine's throughput on one capture, read from the page cache, with
//! nothing written (`custos_engine::bench` measures and reports; this prints one JSON line
//! per pass and the report); with `--detector`, Kitsune's training and scoring phases timed
//! apart; with `--flow-model` or `--rules`, passes alternating without and with that detector.

use crate::cli::BenchArgs;
use crate::Outcome;
use anyhow::Context;
use custos_capture::{FileReader, PacketSource};
use custos_engine::bench::{self, Measured, Pass};
use custos_engine::flags::Detector;
use custos_engine::EngineConfig;
use std::io::Write as _;

/// Prints a pass as one JSON line.
fn print_pass(p: &Pass) {
    // A closed pipe ends the output, not the benchmark (the report's own write says so).
    let _ = writeln!(
        std::io::stdout(),
        "{}",
        serde_json::to_string(p).unwrap_or_default()
    );
}

/// Runs the benchmark and prints one JSON line per measured pass, then the report.
///
/// # Errors
/// An unreadable capture.
pub fn run(args: BenchArgs) -> anyhow::Result<Outcome> {
    // Warm the page cache.
    let mut reader = FileReader::open(&args.capture)
        .with_context(|| format!("cannot read {}", args.capture.display()))?;
    while reader.next_packet()?.is_some() {}
    if args.detect.detector.contains(&Detector::Flow) {
        anyhow::bail!(
            "bench --detector measures Kitsune; measure the flow detector with \
             --flow-model MODEL (docs/detection.md)"
        );
    }
    let mut cfg = EngineConfig::default();
    if let Some(t) = args.threads {
        cfg.threads = t;
    }
    if let Some(c) = args.checksums {
        cfg.decode.checksums = c;
    }
    let (capture, n) = (&args.capture, args.iterations);
    let measured = match (args.flow_model, args.rules) {
        (Some(model), _) => Some(Measured::FlowModel(model)),
        (None, rules) if !rules.is_empty() => Some(Measured::Rules(rules)),
        _ => None,
    };
    let report = if let Some(m) = &measured {
        bench::cost_report(&cfg, capture, n, m, print_pass)?
    } else if !args.detect.detector.is_empty() {
        args.detect.apply(&mut cfg);
        bench::kitsune_report(&cfg, capture)?
    } else {
        bench::engine_report(&cfg, capture, n, print_pass)?
    };
    writeln!(std::io::stdout(), "{report}")?;
    Ok(Outcome::Success)
}
