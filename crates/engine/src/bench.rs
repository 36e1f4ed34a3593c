//! Throughput measurements of the engine on one capture, nothing written: passes of the
//! engine alone, passes alternating without and with a detector (its cost as a share of the
//! engine's time), and Kitsune's training and scoring phases timed apart. Each has a report,
//! the one JSON object a front end prints (`custos bench`): [`engine_report`],
//! [`cost_report`], [`kitsune_report`]. Wall-clock time is the point here, so none of this
//! feeds analysis output.

use crate::detectors::Kitsune;
use crate::Source;
use crate::{AlertQueue, Detector, DetectorError, Engine, EngineConfig, EngineError, PacketView};
use custos_detect::Stage;
use serde::Serialize;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One pass of the engine over the capture.
#[derive(Clone, Debug, Serialize)]
pub struct Pass {
    /// Pass number, from 1.
    pub pass: u32,
    /// With the detector under measurement (alternating passes only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub with: Option<bool>,
    /// Packets read.
    pub packets: u64,
    /// Flows created.
    pub flows: u64,
    /// Alerts raised by the detectors.
    pub alerts: u64,
    /// Wall-clock seconds.
    pub seconds: f64,
    /// Packets per second.
    pub packets_per_second: f64,
}

/// The median of `v` (0 when empty).
fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

fn one_pass(cfg: EngineConfig, capture: &Path, pass: u32) -> Result<Pass, EngineError> {
    let mut engine = Engine::new(cfg)?;
    let start = Instant::now();
    let s = engine
        .run(Source::Files(vec![capture.to_path_buf()]))?
        .stats;
    let seconds = start.elapsed().as_secs_f64();
    let alerts = s
        .detector
        .iter()
        .chain(s.detectors.values())
        .filter_map(|d| d.get("alerts").and_then(serde_json::Value::as_u64))
        .sum();
    Ok(Pass {
        pass,
        with: None,
        packets: s.packets,
        flows: s.flows.get("created").copied().unwrap_or(0),
        alerts,
        seconds,
        packets_per_second: s.packets as f64 / seconds.max(1e-9),
    })
}

/// `iterations` passes of the engine configured by `cfg`; `each` sees every pass. Returns the
/// median and best rates.
///
/// # Errors
/// The engine cannot be built or the capture read.
pub fn passes(
    cfg: &EngineConfig,
    capture: &Path,
    iterations: u32,
    mut each: impl FnMut(&Pass),
) -> Result<(f64, f64), EngineError> {
    let mut rates = Vec::new();
    for pass in 1..=iterations.max(1) {
        let p = one_pass(cfg.clone(), capture, pass)?;
        each(&p);
        rates.push(p.packets_per_second);
    }
    let m = median(&mut rates);
    Ok((m, rates.last().copied().unwrap_or(0.0)))
}

/// The cost of a detector: medians of passes without and with it.
#[derive(Clone, Debug, Serialize)]
pub struct Alternating {
    /// Packets per pass.
    pub packets: u64,
    /// Alerts of a pass with the detector.
    pub alerts_with: u64,
    /// Median rate without the detector.
    pub median_packets_per_second: f64,
    /// Median rate with it.
    pub median_packets_per_second_with: f64,
    /// The share of the rate kept with the detector.
    pub throughput_kept: f64,
    /// The detector's cost as a share of the engine's time (`without / with − 1`).
    pub overhead: f64,
}

/// Passes alternating between the engine configured by `cfg` alone and configured by `with`
/// too (a detector added), `iterations` of each; `each` sees every pass.
///
/// # Errors
/// The engine cannot be built or the capture read.
pub fn alternating(
    cfg: &EngineConfig,
    capture: &Path,
    iterations: u32,
    with: impl Fn(&mut EngineConfig),
    mut each: impl FnMut(&Pass),
) -> Result<Alternating, EngineError> {
    let mut rates: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
    let (mut packets, mut alerts_with) = (0, 0);
    for pass in 1..=iterations.max(1) {
        for on in [false, true] {
            let mut c = cfg.clone();
            if on {
                with(&mut c);
            }
            let mut p = one_pass(c, capture, pass)?;
            p.with = Some(on);
            each(&p);
            packets = p.packets;
            if on {
                alerts_with = p.alerts;
            }
            rates[usize::from(on)].push(p.packets_per_second);
        }
    }
    let [b, w] = &mut rates;
    let (base, with) = (median(b), median(w));
    Ok(Alternating {
        packets,
        alerts_with,
        median_packets_per_second: base,
        median_packets_per_second_with: with,
        throughput_kept: if base > 0.0 { with / base } else { 0.0 },
        overhead: if with > 0.0 { base / with - 1.0 } else { 0.0 },
    })
}

/// Kitsune's phases timed apart in one pass.
#[derive(Clone, Debug, Serialize)]
pub struct KitsunePhases {
    /// Packets of its training phases (feature mapping, training).
    pub train_packets: u64,
    /// Seconds until scoring began.
    pub train_seconds: f64,
    /// Packets scored (calibration, warm-up, detection).
    pub execute_packets: u64,
    /// Seconds from the first scored packet to the end.
    pub execute_seconds: f64,
    /// Of those, seconds spent in Kitsune itself (its features and KitNET, from the decoded
    /// packet to the score), without reading, decoding, the flow table, the application layer
    /// and the inventory: estimated from one scored packet in 17 (by packet index; a prime, so
    /// that traffic repeating every 2, 4, 8 … packets is not sampled in step), timed.
    pub execute_kitsune_seconds: f64,
    /// The whole pass in seconds.
    pub total_seconds: f64,
    /// Packets read.
    pub packets: u64,
    /// The sum of every score (a checksum of the work done).
    pub score_sum: f64,
    /// Kitsune's `stats.json` summary.
    #[serde(skip)]
    pub summary: serde_json::Value,
}

/// When the phases of a detector run began and how many packets each saw.
#[derive(Default)]
struct Phases {
    train: u64,
    exec: u64,
    exec_start: Option<Instant>,
    /// Time spent in Kitsune while it scored.
    exec_inside: Duration,
    score_sum: f64,
}

/// One scored packet in this many is timed for [`KitsunePhases::execute_kitsune_seconds`].
const TIME_SAMPLE: u64 = 17;

/// Kitsune, noting when its scoring phase starts.
struct Timed {
    inner: Kitsune,
    /// Counted here while the run lasts (no lock per packet), handed over at `finish`.
    local: Phases,
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
        // Kitsune's own time while it scores is sampled: one packet in TIME_SAMPLE, by packet
        // index, is timed (two clock readings, tens of nanoseconds, which would otherwise
        // weigh on the engine's rate) and counts for TIME_SAMPLE packets.
        let scoring = |stage| !matches!(stage, Stage::FeatureMapping | Stage::Training);
        let timed = (p.run_index % TIME_SAMPLE == 0 && scoring(self.inner.inner().stage()))
            .then(Instant::now);
        let score = self.inner.packet(p, alerts)?;
        let inside = timed.map(|t| t.elapsed() * TIME_SAMPLE as u32);
        let ph = &mut self.local;
        ph.score_sum += score.unwrap_or(0.0);
        ph.exec_inside += inside.unwrap_or_default();
        if !p.decoded.is_empty() {
            if scoring(self.inner.inner().stage()) {
                ph.exec_start.get_or_insert_with(Instant::now);
                ph.exec += 1;
            } else {
                ph.train += 1;
            }
        }
        Ok(score)
    }

    fn finish(&mut self) -> Result<serde_json::Value, DetectorError> {
        *self
            .phases
            .lock()
            .map_err(|_| DetectorError("benchmark state poisoned".into()))? =
            std::mem::take(&mut self.local);
        self.inner.finish()
    }
}

/// One pass of the engine configured by `cfg` with Kitsune (its `[detect.kitsune]`
/// settings, in place of the configured detectors), its phases timed apart.
///
/// # Errors
/// The engine cannot be built or the capture read; no packet was scored (the capture is
/// shorter than Kitsune's grace periods).
pub fn kitsune_phases(cfg: &EngineConfig, capture: &Path) -> Result<KitsunePhases, EngineError> {
    let mut cfg = cfg.clone();
    let kcfg = cfg
        .detect
        .kitsune
        .detector_config()
        .map_err(|e| EngineError::Config(e.to_string()))?;
    cfg.detect.detectors.clear();
    let phases = Arc::new(Mutex::new(Phases::default()));
    let mut engine = Engine::new(cfg)?;
    engine.add_detector(Box::new(Timed {
        inner: Kitsune::new(kcfg),
        local: Phases::default(),
        phases: Arc::clone(&phases),
    }));
    let start = Instant::now();
    let stats = engine
        .run(Source::Files(vec![capture.to_path_buf()]))?
        .stats;
    let total = start.elapsed().as_secs_f64();
    let ph = phases
        .lock()
        .map_err(|_| EngineError::Config("benchmark state poisoned".into()))?;
    if ph.exec == 0 {
        return Err(EngineError::Config(format!(
            "no packet was scored, so there is no scoring speed to report: {} packets read, and \
             kitsune trains on the first {} (--fm-grace + --ad-grace + 1); give a larger capture \
             or lower --fm-grace and --ad-grace",
            stats.packets,
            kcfg.kitnet.fm_grace + kcfg.kitnet.ad_grace + 1
        )));
    }
    let execute_seconds = ph.exec_start.map_or(0.0, |s| s.elapsed().as_secs_f64());
    Ok(KitsunePhases {
        train_packets: ph.train,
        train_seconds: total - execute_seconds,
        execute_packets: ph.exec,
        execute_seconds,
        execute_kitsune_seconds: ph.exec_inside.as_secs_f64(),
        total_seconds: total,
        packets: stats.packets,
        score_sum: ph.score_sum,
        summary: stats.detector.unwrap_or_default(),
    })
}

/// What the passes "with" of [`cost_report`] add to the engine.
#[derive(Clone, Debug)]
pub enum Measured {
    /// The supervised flow detector with this model directory, loaded without a signature
    /// check (only its speed is measured).
    FlowModel(PathBuf),
    /// Signatures from these rule files.
    Rules(Vec<PathBuf>),
}

impl Measured {
    /// Its name in a report.
    pub fn name(&self) -> &'static str {
        match self {
            Measured::FlowModel(_) => "flow detector",
            Measured::Rules(_) => "rules",
        }
    }

    /// Adds it to `cfg`.
    pub fn add_to(&self, cfg: &mut EngineConfig) {
        match self {
            Measured::FlowModel(model) => {
                cfg.detect.flow.model = Some(model.clone());
                cfg.detect.allow_unsigned_model = true;
            }
            Measured::Rules(files) => cfg.detect.rules.files.clone_from(files),
        }
    }
}

/// [`passes`] of the engine alone (`each` sees every pass) and their report: the median and
/// best rates.
///
/// # Errors
/// As [`passes`].
pub fn engine_report(
    cfg: &EngineConfig,
    capture: &Path,
    iterations: u32,
    each: impl FnMut(&Pass),
) -> Result<Value, EngineError> {
    let (median, best) = passes(cfg, capture, iterations, each)?;
    Ok(json!({
        "capture": capture.display().to_string(),
        "stage": "engine: read+decode+flow+app+inventory+findings, no output",
        "threads": cfg.threads,
        "median_packets_per_second": median.round(),
        "best_packets_per_second": best.round(),
    }))
}

/// Passes [`alternating`] without and with `measured` (`each` sees every pass) and their
/// report: the [`Alternating`] fields after the capture, stage and threads.
///
/// # Errors
/// As [`alternating`].
pub fn cost_report(
    cfg: &EngineConfig,
    capture: &Path,
    iterations: u32,
    measured: &Measured,
    each: impl FnMut(&Pass),
) -> Result<Value, EngineError> {
    let a = alternating(cfg, capture, iterations, |c| measured.add_to(c), each)?;
    let mut line = json!({
        "capture": capture.display().to_string(),
        "stage": format!("engine, no output, without and with the {}", measured.name()),
        "threads": cfg.threads,
    });
    append(&mut line, &a);
    Ok(line)
}

/// [`kitsune_phases`] and their report: Kitsune's mode, features and autoencoders, the
/// [`KitsunePhases`] fields and the rate of each phase and of the whole pass.
///
/// # Errors
/// As [`kitsune_phases`].
pub fn kitsune_report(cfg: &EngineConfig, capture: &Path) -> Result<Value, EngineError> {
    let k = kitsune_phases(cfg, capture)?;
    let mode = if cfg.detect.kitsune.compat {
        "compat"
    } else {
        "default"
    };
    let mut line = json!({
        "capture": capture.display().to_string(),
        "stage": "engine + kitsune, no output",
        "threads": cfg.threads,
        "mode": mode,
        "features": k.summary["features"]["count"],
        "autoencoders": k.summary["autoencoders"],
        "skipped_empty_frames": k.summary["skipped_empty_frames"],
    });
    append(&mut line, &k);
    if let Some(m) = line.as_object_mut() {
        let rate = |packets: u64, seconds: f64| (packets as f64 / seconds.max(1e-9)).round();
        let rates = [
            (
                "train_packets_per_second",
                rate(k.train_packets, k.train_seconds),
            ),
            (
                "execute_packets_per_second",
                rate(k.execute_packets, k.execute_seconds),
            ),
            (
                "execute_kitsune_packets_per_second",
                rate(k.execute_packets, k.execute_kitsune_seconds),
            ),
            ("packets_per_second", rate(k.packets, k.total_seconds)),
        ];
        for (name, r) in rates {
            m.insert(name.into(), r.into());
        }
    }
    Ok(line)
}

/// Appends the fields of `value` (a struct) to the object `line`.
fn append(line: &mut Value, value: &impl Serialize) {
    if let (Some(m), Ok(Value::Object(fields))) =
        (line.as_object_mut(), serde_json::to_value(value))
    {
        m.extend(fields);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measured_detectors_are_added_to_the_configuration() {
        let mut cfg = EngineConfig::default();
        Measured::FlowModel("m".into()).add_to(&mut cfg);
        assert_eq!(cfg.detect.flow.model, Some(PathBuf::from("m")));
        assert!(cfg.detect.allow_unsigned_model);
        Measured::Rules(vec!["a.rules".into()]).add_to(&mut cfg);
        assert_eq!(cfg.detect.rules.files, [PathBuf::from("a.rules")]);
        assert_eq!(Measured::Rules(Vec::new()).name(), "rules");
    }

    #[test]
    fn reports_keep_their_field_order() {
        let capture = custos_test_support::repo_root().join("samples/iot-small.pcap");
        let mut cfg = EngineConfig {
            threads: 1,
            ..EngineConfig::default()
        };
        let mut passes = 0;
        let line = engine_report(&cfg, &capture, 2, |_| passes += 1).unwrap();
        assert_eq!(passes, 2);
        let keys = |line: &serde_json::Value| -> Vec<String> {
            line.as_object().unwrap().keys().cloned().collect()
        };
        assert_eq!(
            keys(&line),
            [
                "capture",
                "stage",
                "threads",
                "median_packets_per_second",
                "best_packets_per_second"
            ]
        );
        let rules = Measured::Rules(Vec::new());
        let line = cost_report(&cfg, &capture, 1, &rules, |_| {}).unwrap();
        assert_eq!(
            line["stage"],
            "engine, no output, without and with the rules"
        );
        assert_eq!(line["packets"], 241);
        cfg.detect.kitsune.fm_grace = 10;
        cfg.detect.kitsune.ad_grace = 50;
        cfg.detect.kitsune.calibration = 40;
        let line = kitsune_report(&cfg, &capture).unwrap();
        assert_eq!(
            (&line["mode"], &line["packets"]),
            (&json!("default"), &json!(241))
        );
        assert_eq!(
            keys(&line).last().map(String::as_str),
            Some("packets_per_second")
        );
        // Kitsune's own time is measured (an estimate from a sample, so on a capture this
        // small it is not compared with the phase's).
        let inside = line["execute_kitsune_seconds"].as_f64().unwrap();
        assert!(inside > 0.0 && inside.is_finite(), "{inside}");
        assert!(line["execute_kitsune_packets_per_second"].as_f64() > Some(0.0));
    }
}
