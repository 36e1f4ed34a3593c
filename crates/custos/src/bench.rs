//! `custos bench`: the engine's throughput on one capture, read from the page cache, with
//! nothing written; with `--detector`, the detector's training and scoring phases timed
//! apart by a detector wrapped around it (a plug-in of the engine, as any other).

use crate::cli::BenchArgs;
use crate::Outcome;
use anyhow::Context;
use custos_capture::{FileReader, PacketSource};
use custos_detect::Stage;
use custos_engine::detectors::Kitsune;
use custos_engine::{
    AlertQueue, Detector, DetectorError, Engine, EngineConfig, PacketView, Source,
};
use std::sync::{Arc, Mutex};
use std::time::Instant;

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
    if let Some(model) = &args.flow_model {
        let model = model.clone();
        return run_alternating(&args, "flow detector", move |cfg| {
            cfg.detect.flow.model = Some(model.clone());
            cfg.detect.allow_unsigned_model = true;
        });
    }
    if !args.rules.is_empty() {
        let rules = args.rules.clone();
        return run_alternating(&args, "rules", move |cfg| {
            cfg.detect.rules.files.clone_from(&rules);
        });
    }
    if !args.detect.detector.is_empty() {
        return run_detector(&args);
    }
    let mut rates = Vec::new();
    for pass in 1..=args.iterations.max(1) {
        let mut engine = Engine::new(config(&args))?;
        let start = Instant::now();
        let s = engine.run(Source::Files(vec![args.capture.clone()]))?.stats;
        let secs = start.elapsed().as_secs_f64();
        let pps = s.packets as f64 / secs;
        println!(
            "{{\"pass\":{pass},\"packets\":{},\"flows\":{},\"seconds\":{secs:.4},\"packets_per_second\":{pps:.0}}}",
            s.packets,
            s.flows.get("created").copied().unwrap_or(0)
        );
        rates.push(pps);
    }
    rates.sort_by(f64::total_cmp);
    let median = rates.get(rates.len() / 2).copied().unwrap_or(0.0);
    let best = rates.last().copied().unwrap_or(0.0);
    println!(
        "{{\"capture\":{:?},\"stage\":\"engine: read+decode+flow+app+inventory+findings, no output\",\"threads\":{},\"median_packets_per_second\":{median:.0},\"best_packets_per_second\":{best:.0}}}",
        args.capture.display().to_string(),
        config(&args).threads
    );
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

/// When the phases of a detector run began and how many packets each saw.
#[derive(Default)]
struct Phases {
    train: u64,
    exec: u64,
    exec_start: Option<Instant>,
    score_sum: f64,
}

/// Kitsune, noting when its scoring phase starts.
struct Timed {
    inner: Kitsune,
    phases: Arc<Mutex<Phases>>,
}

impl Detector for Timed {
    fn name(&self) -> &str {
        "kitsune"
    }

    fn scores_packets(&self) -> bool {
        true
    }

    fn packet(
        &mut self,
        p: &PacketView<'_>,
        alerts: &mut AlertQueue,
    ) -> Result<Option<f64>, DetectorError> {
        let score = self.inner.packet(p, alerts)?;
        let mut ph = self
            .phases
            .lock()
            .map_err(|_| DetectorError("lock".into()))?;
        ph.score_sum += score.unwrap_or(0.0);
        if !p.decoded.is_empty() {
            match self.inner.inner().stage() {
                Stage::FeatureMapping | Stage::Training => ph.train += 1,
                Stage::Calibrating | Stage::WarmingUp | Stage::Detecting => {
                    ph.exec_start.get_or_insert_with(Instant::now);
                    ph.exec += 1;
                }
            }
        }
        Ok(score)
    }

    fn finish(&mut self) -> Result<serde_json::Value, DetectorError> {
        self.inner.finish()
    }
}

/// Detector benchmark: one pass through the engine with the detector, timed separately for
/// the training phase (grace periods) and the scoring phase (calibration and detection).
fn run_detector(args: &BenchArgs) -> anyhow::Result<Outcome> {
    let mut cfg = config(args);
    crate::config::apply_detector_args(&mut cfg, &args.detect);
    let kcfg = cfg.detect.kitsune.detector_config()?;
    cfg.detect.detectors.clear();
    let phases = Arc::new(Mutex::new(Phases::default()));
    let mut engine = Engine::new(cfg.clone())?;
    engine.add_detector(Box::new(Timed {
        inner: Kitsune::new(kcfg),
        phases: Arc::clone(&phases),
    }));
    let start = Instant::now();
    let stats = engine.run(Source::Files(vec![args.capture.clone()]))?.stats;
    let total = start.elapsed().as_secs_f64();
    let ph = phases
        .lock()
        .map_err(|_| anyhow::anyhow!("benchmark state poisoned"))?;
    let exec_secs = ph.exec_start.map_or(0.0, |s| s.elapsed().as_secs_f64());
    let train_secs = total - exec_secs;
    if ph.exec == 0 {
        anyhow::bail!(
            "no packet was scored, so there is no scoring speed to report: {} packets read, and \
             kitsune trains on the first {} (--fm-grace + --ad-grace + 1); give a larger capture \
             or lower --fm-grace and --ad-grace",
            stats.packets,
            kcfg.kitnet.fm_grace + kcfg.kitnet.ad_grace + 1
        );
    }
    let det = stats.detector.unwrap_or_default();
    let mode = if args.detect.kitsune_compat {
        "compat"
    } else {
        "default"
    };
    println!(
        "{{\"capture\":{:?},\"stage\":\"engine + kitsune, no output\",\"threads\":{},\"mode\":\"{mode}\",\"features\":{},\"autoencoders\":{},\"train_packets\":{},\"train_seconds\":{train_secs:.3},\"train_packets_per_second\":{:.0},\"execute_packets\":{},\"execute_seconds\":{exec_secs:.3},\"execute_packets_per_second\":{:.0},\"skipped_empty_frames\":{},\"total_seconds\":{total:.3},\"packets_per_second\":{:.0},\"score_sum\":{}}}",
        args.capture.display().to_string(),
        cfg.threads,
        det["features"]["count"],
        det["autoencoders"],
        ph.train,
        ph.train as f64 / train_secs.max(1e-9),
        ph.exec,
        ph.exec as f64 / exec_secs.max(1e-9),
        det["skipped_empty_frames"],
        stats.packets as f64 / total.max(1e-9),
        ph.score_sum,
    );
    Ok(Outcome::Success)
}

/// A detector's cost: passes alternate between the engine alone and the engine configured
/// by `with` (a detector added); prints each pass, the medians, the share of the engine's
/// throughput kept and the detector's cost as a share of the engine's time.
fn run_alternating(
    args: &BenchArgs,
    what: &str,
    with: impl Fn(&mut EngineConfig),
) -> anyhow::Result<Outcome> {
    let mut rates: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
    let mut packets = 0;
    let mut alerts = 0;
    for pass in 1..=args.iterations.max(1) {
        for (on, slot) in [(false, 0), (true, 1)] {
            let mut cfg = config(args);
            if on {
                with(&mut cfg);
            }
            let mut engine = Engine::new(cfg)?;
            let start = Instant::now();
            let s = engine.run(Source::Files(vec![args.capture.clone()]))?.stats;
            let secs = start.elapsed().as_secs_f64();
            packets = s.packets;
            if on {
                alerts = s
                    .detector
                    .as_ref()
                    .and_then(|d| d.get("alerts"))
                    .and_then(serde_json::Value::as_u64)
                    .unwrap_or(0);
            }
            let pps = s.packets as f64 / secs;
            println!(
                "{{\"pass\":{pass},\"with\":{on},\"packets\":{},\"seconds\":{secs:.4},\"packets_per_second\":{pps:.0}}}",
                s.packets
            );
            if let Some(r) = rates.get_mut(slot) {
                r.push(pps);
            }
        }
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v.get(v.len() / 2).copied().unwrap_or(0.0)
    };
    let [b, w] = &mut rates;
    let (base, with) = (median(b), median(w));
    let overhead = if with > 0.0 { base / with - 1.0 } else { 0.0 };
    let kept = if base > 0.0 { with / base } else { 0.0 };
    println!(
        "{{\"capture\":{:?},\"stage\":\"engine, no output, without and with the {what}\",\"threads\":{},\"packets\":{packets},\"alerts_with\":{alerts},\"median_packets_per_second\":{base:.0},\"median_packets_per_second_with\":{with:.0},\"throughput_kept\":{kept:.4},\"overhead\":{overhead:.4}}}",
        args.capture.display().to_string(),
        config(args).threads
    );
    Ok(Outcome::Success)
}
