//! Evaluates a custos run against labelled captures: the engine of `custos evaluate`.
//!
//! [`evaluate`] reads a run's output folder — `stats.json` (inputs and their packet counts,
//! detector thresholds), `scores.csv` (one score per packet and detector), `alerts.jsonl`
//! (the alerts at the operating threshold) and `flows.jsonl`, each plain or `.zst` — with
//! one labels CSV per input, and returns an [`Evaluation`]: the [`Metrics`] (packet-level
//! ROC AUC, average precision, TPR at fixed FPRs, per-phase AUC, phase recall and detection
//! delay from the alerts, false alerts per benign hour, flow-level recall) and the data of
//! its plots. [`Evaluation::write`] writes `metrics.json`, `roc.svg`/`.png`,
//! `timeline-<detector>.svg`/`.png` and a self-contained `report.html`.
//!
//! How the pieces connect: `stats` reads `stats.json`; `labels` folds the labels into one
//! byte per packet (codes: benign, or attack phase *k*); `flows`,
//! `alerts` and `scores` read the run's files against those codes; [`Ranking`] computes
//! the ranking metrics exactly as scikit-learn does (the tests compare them); `assemble`
//! builds [`Metrics`]; `plot` and `html` draw. With feature `clap`, `flags` holds the
//! command-line options of `custos evaluate`.
//!
//! Definitions (also in `docs/evaluate.md`):
//! - *Phase recall*: a phase is caught when at least one alert of the detector falls on an
//!   attack packet of that phase.
//! - *Detection delay*: time of the first such alert minus the time of the phase's earliest
//!   attack packet; also counted in attack packets of the phase before it.
//! - *Benign hours*: for each input, the time from its first to its last evaluated packet,
//!   minus the union of the attack segments (runs of a phase's attack packets no more than
//!   [`SEGMENT_GAP_NS`] apart). *False alerts per hour* = alerts on benign packets / benign
//!   hours.
//!
//! Memory: one byte per packet of the run, four per evaluated packet and scoring detector,
//! and, while one detector is ranked, eight more per evaluated packet; timelines keep
//! [`TIMELINE_POINTS`] points.
//!
//! What it does not do: run detectors, or score flows (the outputs do not list each flow's
//! packets, so flow-level results come from the alerts); scores are ranked as `f32`.
#![deny(missing_docs)]
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

mod alerts;
mod assemble;
mod curve;
mod error;
#[cfg(feature = "clap")]
pub mod flags;
mod flows;
mod headlines;
mod html;
mod labels;
mod metrics;
mod plot;
mod scores;
mod stats;

pub use curve::{OperatingPoint, Ranking};
pub use error::EvalError;
pub use labels::SEGMENT_GAP_NS;
pub use metrics::{
    AlertMetrics, DetectorMetrics, FlowMetrics, FlowSummary, Leak, Metrics, PacketMetrics,
    PhaseFlows, PhaseMetrics, PhaseSummary, TprAtFpr, FORMAT, MAX_FPRS,
};
pub use scores::TIMELINE_POINTS;

use plot::{Band, Curve, Roc, Timeline, TimelineFigure};
use std::path::{Path, PathBuf};

/// Which packets at the start of the run are left out of the evaluation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Skip {
    /// Evaluate every packet (the metrics equal scikit-learn's on `scores.csv` as written).
    #[default]
    None,
    /// Leave out the longest training of any detector — packets scored before it could
    /// alert: `detecting_from.packet` of `stats.json` where the detector names it (Kitsune:
    /// training, calibration window, warm-up), otherwise `trained_packets + warmup_packets`.
    /// An error when a detector never could (`detecting_from` null).
    Training,
    /// Leave out this many packets.
    Packets(u64),
}

/// What to evaluate.
#[derive(Clone, Debug, Default)]
pub struct EvalConfig {
    /// The run's output folder (`custos analyze -o`).
    pub run_dir: PathBuf,
    /// One labels CSV per input of the run, in the run's input order.
    pub labels: Vec<PathBuf>,
    /// Packets left out at the start.
    pub skip: Skip,
}

/// The result of [`evaluate`]: metrics and what the plots need.
#[derive(Clone, Debug)]
pub struct Evaluation {
    /// The metrics (`metrics.json`).
    metrics: Metrics,
    /// ROC curves.
    curves: Vec<Curve>,
    /// Score timelines.
    timelines: Vec<Timeline>,
    /// Attack segments to shade.
    bands: Vec<Band>,
    /// Time 0 of the timelines, ns.
    origin_ns: i64,
}

/// Evaluates the run of `cfg.run_dir` against `cfg.labels`.
///
/// # Errors
/// An input is missing or malformed ([`EvalError::Io`], [`EvalError::Invalid`] with file and
/// line), or the inputs disagree: labels files vs inputs, rows vs packets, indices out of
/// order ([`EvalError::Mismatch`]).
pub fn evaluate(cfg: &EvalConfig) -> Result<Evaluation, EvalError> {
    let dir = cfg.run_dir.as_path();
    let stats = stats::RunStats::read(dir)?;
    let skip = match cfg.skip {
        Skip::None => 0,
        Skip::Training => {
            let mut most = 0;
            for d in &stats.detectors {
                let Some(t) = d.training else {
                    return Err(EvalError::Mismatch {
                        path: stats.path.clone(),
                        message: format!(
                            "detector {} never reached its detecting stage in this run \
                             (detecting_from is null: the input ended during its training, \
                             calibration or warm-up), so skipping its training leaves nothing \
                             to evaluate; evaluate without skipping, or with --skip N",
                            d.name
                        ),
                    });
                };
                most = most.max(t);
            }
            most
        }
        Skip::Packets(n) => n,
    }
    .min(stats.packets());
    let label_paths: Vec<&Path> = cfg.labels.iter().map(PathBuf::as_path).collect();
    let truth = labels::read(&label_paths, &stats, skip)?;
    let flow_index = flows::FlowIndex::read(dir, &stats, &truth)?;
    let mut tallies = alerts::read(dir, &stats, &truth, flow_index.as_ref())?;
    let columns = scores::read(dir, &stats, &truth)?.unwrap_or_default();
    if columns.iter().any(|c| c.name == alerts::COMBINED) {
        let combined = alerts::combined(&tallies);
        tallies.push(combined);
    }
    let done = assemble::detectors(&stats, &truth, columns, &tallies, flow_index.as_ref());
    let metrics = Metrics {
        format: FORMAT.to_string(),
        run: dir.display().to_string(),
        labels: cfg.labels.iter().map(|l| l.display().to_string()).collect(),
        packets: truth.codes.len() as u64,
        skipped_packets: skip,
        benign_packets: truth.benign_packets,
        attack_packets: truth.attack_packets,
        benign_hours: truth.benign_hours(),
        phases: truth
            .phases
            .iter()
            .map(|p| PhaseSummary {
                name: p.name.clone(),
                attack_packets: p.attack_packets,
                first_packet: p.first_index,
                first_time: custos_output::time::eve_time(p.first_ns),
                last_time: custos_output::time::eve_time(p.last_ns),
                segments: p.segments.len(),
            })
            .collect(),
        flows: flow_index.as_ref().map(|f| {
            let attack = f.flows.iter().filter(|x| x.code != labels::BENIGN).count() as u64;
            FlowSummary {
                attack,
                benign: f.flows.len() as u64 - attack,
            }
        }),
        detectors: done.metrics,
        leakage: stats.leakage(),
        leakage_checked: stats.files.iter().all(|f| f.sha256.is_some()),
    };
    let bands = truth
        .phases
        .iter()
        .enumerate()
        .flat_map(|(k, p)| {
            p.segments.iter().map(move |&(s, e)| Band {
                phase: k,
                start_ns: s,
                end_ns: e,
            })
        })
        .collect();
    Ok(Evaluation {
        metrics,
        curves: done.curves,
        timelines: done.timelines,
        bands,
        origin_ns: truth.first_ns.unwrap_or(0),
    })
}

impl Evaluation {
    /// The metrics.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// Writes the report into `out_dir` (created if needed): `metrics.json`, `roc.svg` and
    /// `roc.png` (when a detector has scores), `timeline-<detector>.svg` and `.png` per
    /// detector with scores (the name reduced to `[A-Za-z0-9._-]`, made unique), and
    /// `report.html`. Returns the files written, in that order.
    ///
    /// # Errors
    /// A file cannot be written or a plot cannot be drawn.
    pub fn write(&self, out_dir: &Path) -> Result<Vec<PathBuf>, EvalError> {
        std::fs::create_dir_all(out_dir).map_err(|e| EvalError::io(out_dir, e))?;
        let mut written = Vec::new();
        let json = metrics_json(&self.metrics);
        let path = out_dir.join("metrics.json");
        std::fs::write(&path, json).map_err(|e| EvalError::io(&path, e))?;
        written.push(path);
        let roc = if self.curves.is_empty() {
            None
        } else {
            let (svg, png) = (out_dir.join("roc.svg"), out_dir.join("roc.png"));
            let fig = Roc {
                curves: &self.curves,
            };
            let text = plot::render(&fig, &svg, &png)?;
            written.extend([svg, png]);
            Some(text)
        };
        let phases: Vec<String> = self.metrics.phases.iter().map(|p| p.name.clone()).collect();
        let mut used: Vec<String> = Vec::new();
        let mut timelines = Vec::new();
        for (i, t) in self.timelines.iter().enumerate() {
            let stem = unique(&mut used, &slug(&t.name));
            let svg = out_dir.join(format!("timeline-{stem}.svg"));
            let png = out_dir.join(format!("timeline-{stem}.png"));
            let fig = TimelineFigure {
                timeline: t,
                index: i,
                bands: &self.bands,
                phases: &phases,
                origin_ns: self.origin_ns,
            };
            timelines.push((t.name.clone(), plot::render(&fig, &svg, &png)?));
            written.extend([svg, png]);
        }
        let page = html::render(&self.metrics, roc.as_deref(), &timelines);
        let path = out_dir.join("report.html");
        std::fs::write(&path, page).map_err(|e| EvalError::io(&path, e))?;
        written.push(path);
        Ok(written)
    }
}

/// `metrics.json`'s text: pretty-printed, fields in declaration order, newline-terminated.
pub fn metrics_json(m: &Metrics) -> String {
    // Serialising plain structs, strings, integers and finite or absent floats cannot fail.
    let mut s = serde_json::to_string_pretty(m).unwrap_or_default();
    s.push('\n');
    s
}

/// A detector name fit for a file name: `[A-Za-z0-9._-]` kept, anything else `_`, at most
/// 64 characters, never empty or starting with a dot.
fn slug(name: &str) -> String {
    let s: String = name
        .chars()
        .take(64)
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    match s.strip_prefix('.') {
        _ if s.is_empty() => "detector".into(),
        Some(rest) => format!("_{rest}"),
        None => s,
    }
}

/// `stem`, or `stem-2`, `stem-3`… when already used; records the result.
fn unique(used: &mut Vec<String>, stem: &str) -> String {
    let mut s = stem.to_string();
    let mut n = 2;
    while used.contains(&s) {
        s = format!("{stem}-{n}");
        n += 1;
    }
    used.push(s.clone());
    s
}

#[cfg(test)]
mod test {
    use super::{slug, unique};

    #[test]
    fn slugs_cannot_leave_the_folder() {
        assert_eq!(slug("kitsune"), "kitsune");
        assert_eq!(slug("../../etc/passwd"), "_._.._etc_passwd");
        assert_eq!(slug(""), "detector");
        assert_eq!(slug("<b>é"), "_b__");
    }

    #[test]
    fn unique_numbers_repeats() {
        let mut used = Vec::new();
        assert_eq!(unique(&mut used, "a"), "a");
        assert_eq!(unique(&mut used, "a"), "a-2");
        assert_eq!(unique(&mut used, "a"), "a-3");
    }
}
