//! Throughput measurements of the engine on one capture, nothing written: passes of the
//! engine alone, passes alternating without and with a detector (its cost as a share of the
//! engine's time), and Kitsune's training and scoring phases timed apart. Front ends print
//! the results (`custos bench`); wall-clock time is the point here, so none of this feeds
//! analysis output.

use crate::detectors::Kitsune;
use crate::Source;
use crate::{AlertQueue, Detector, DetectorError, Engine, EngineConfig, EngineError, PacketView};
use custos_detect::Stage;
use serde::Serialize;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Instant;

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
        total_seconds: total,
        packets: stats.packets,
        score_sum: ph.score_sum,
        summary: stats.detector.unwrap_or_default(),
    })
}
