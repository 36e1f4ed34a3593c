//! Robustness of custos's detectors against training-data poisoning and evasion: the
//! engines of `custos robust poison` and `custos robust evade` (docs/robustness.md).
//!
//! [`poison`] takes a labelled training capture and a labelled test capture
//! ([`PoisonConfig`]), poisons the training data with each [`Strategy`] at each rate, trains
//! each detector undefended and defended, measures it on the test capture, and writes
//! `robustness.json` ([`report::Report`]) and one SVG per detector and strategy.
//!
//! ```no_run
//! use custos_robust::{poison, PoisonConfig, Strategy};
//! let mut cfg = PoisonConfig::new(
//!     "train.pcap".into(),
//!     "train.labels.csv".into(),
//!     "test.pcap".into(),
//!     "test.labels.csv".into(),
//!     "report".into(),
//! );
//! cfg.strategies = vec![Strategy::LabelFlip];
//! cfg.rates = vec![0.05, 0.1];
//! let (report, _files) = poison(cfg)?;
//! for s in &report.summary {
//!     println!("{} / {}: {}", s.detector, s.strategy, s.goal.verdict);
//! }
//! # Ok::<(), custos_robust::RobustError>(())
//! ```
//!
//! How the parts connect:
//! - [`capture`] holds a capture and its per-packet labels in memory and writes one back;
//!   [`renumber`] rewrites a frame's attacker addresses with valid checksums; [`split`]
//!   divides one capture into two by flow (for tests).
//! - [`strategies`]: [`strategies::label_flip`] and [`strategies::targeted_flip`] choose
//!   training flows to relabel, [`strategies::window_injection`] writes a poisoned capture.
//! - [`flowdata`] builds datasets with `custos-dataset` and holds their rows;
//!   [`flowmodel`] trains the flow model as `custos train` does; [`defence::dpa`] is
//!   deterministic partition aggregation with certificates; [`defence::screen`] relabels
//!   the flows whose conversation contradicts their label (where a model of the flows' own
//!   features, trained without them, agrees) and drops those whose out-of-fold
//!   prediction (`custos_dataset::screening`) does, before DPA trains (`screen+dpa`, not
//!   certified).
//! - [`kitsune`] trains and scores Kitsune through `custos-detect`;
//!   [`defence::sanitise`] cross-checks its window with slice models, drops the rest of
//!   mostly dropped passing conversations and of hosts' stretches holding more dropped
//!   packets than the host usually sends ([`defence::conversation`]) and retrains.
//! - [`metrics`] measures (ROC AUC from `custos-eval`), [`report`] assembles and summarises,
//!   [`plot`] draws.
//! - `flags` (feature `clap`): the command-line options of `custos robust poison` and `evade`
//!   and the configurations they give.
//!
//! Everything is seeded ([`PoisonConfig::seed`]) and single-threaded apart from the dataset
//! builds (whose output does not depend on threads): the same inputs, settings and seed give
//! byte-identical `robustness.json` and plots.
//!
//! [`evasion::evade`] is the other half: it rewrites a labelled capture's attack phases with
//! realizable transforms within a budget, keeps the attack working (a functional check),
//! searches black-box for the cheapest rewrite no detector alerts on, and measures the
//! defences (combined detectors, event features, adversarial training); see [`evasion`].
//!
//! What it does not do: poisoning of pretrained models or of the feature extractor,
//! white-box evasion, or any claim beyond the captures measured.
#![deny(missing_docs)]
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod capture;
pub mod config;
pub mod defence;
mod error;
pub mod evasion;
#[cfg(feature = "clap")]
pub mod flags;
pub mod flowdata;
pub mod flowmodel;
pub mod kitsune;
pub mod metrics;
pub mod plot;
pub mod renumber;
pub mod report;
mod run_flow;
mod run_kitsune;
pub mod seeded;
pub mod split;
pub mod strategies;

pub use config::{DetectorKind, PoisonConfig};
pub use error::RobustError;
pub use report::{Report, REPORT_FILE};
pub use strategies::Strategy;

use capture::LabelledCapture;
use report::{NotApplicable, PoisonEntry};
use std::path::{Path, PathBuf};

/// The scratch directory inside the report directory (removed at the end).
const WORK_DIR: &str = ".work";

/// Checks and creates the report directory `out`: an existing report there is refused
/// without `force`. Returns the report's path.
pub(crate) fn report_dir(out: &Path, force: bool) -> Result<PathBuf, RobustError> {
    let report_path = out.join(REPORT_FILE);
    if report_path.exists() && !force {
        return Err(RobustError::Usage(format!(
            "{} exists; choose another directory or pass --force to replace it",
            report_path.display()
        )));
    }
    std::fs::create_dir_all(out).map_err(|e| RobustError::io("create", out, e))?;
    Ok(report_path)
}

/// Runs `f` with a scratch directory inside `out`, removed afterwards whatever happened.
pub(crate) fn with_work_dir<T>(
    out: &Path,
    f: impl FnOnce(&Path) -> Result<T, RobustError>,
) -> Result<T, RobustError> {
    let work = out.join(WORK_DIR);
    let result = f(&work);
    let _ = std::fs::remove_dir_all(&work);
    result
}

/// Runs every experiment of `cfg` and writes the report into `cfg.output`; returns the
/// report and the files written.
///
/// # Errors
/// Invalid settings, unreadable or unfit inputs, a report already there (without
/// `cfg.force`), too little data to train on, or a file that cannot be written.
pub fn poison(mut cfg: PoisonConfig) -> Result<(Report, Vec<PathBuf>), RobustError> {
    cfg.validate()?;
    let out = cfg.output.clone();
    let report_path = report_dir(&out, cfg.force)?;
    let report = with_work_dir(&out, |work| run(&cfg, work))?;
    let mut files = Vec::new();
    for (pair, name) in pairs(&report).into_iter().zip(&report.plots) {
        let path = out.join(name);
        let svg = plot::render(&pair.0, &pair.1, &entries_of(&report, &pair.0, &pair.1));
        std::fs::write(&path, svg).map_err(|e| RobustError::io("write", &path, e))?;
        files.push(path);
    }
    std::fs::write(&report_path, report::to_json(&report))
        .map_err(|e| RobustError::io("write", &report_path, e))?;
    files.insert(0, report_path);
    Ok((report, files))
}

/// Reads the inputs and runs the experiments.
fn run(cfg: &PoisonConfig, work: &Path) -> Result<Report, RobustError> {
    std::fs::create_dir_all(work).map_err(|e| RobustError::io("create", work, e))?;
    let (train, train_facts) = LabelledCapture::read(&cfg.train, &cfg.train_labels)?;
    let (test, test_facts) = LabelledCapture::read(&cfg.test, &cfg.test_labels)?;
    let mut poison = Vec::new();
    let mut not_applicable = Vec::new();
    for &d in &cfg.detectors {
        match d {
            DetectorKind::Kitsune => {
                for &s in &cfg.strategies {
                    if s.needs_labels() {
                        not_applicable.push(NotApplicable {
                            detector: d.name().into(),
                            strategy: s.name().into(),
                            reason: "Kitsune learns without labels: relabelling cannot reach it"
                                .into(),
                        });
                    } else {
                        poison.extend(run_kitsune::window_injection(cfg, &train, &test)?);
                    }
                }
            }
            DetectorKind::Flow => {
                let mut flow = run_flow::FlowRun::new(cfg, &train, work)?;
                for &s in &cfg.strategies {
                    poison.extend(flow.strategy(s)?);
                }
            }
        }
    }
    let mut report = Report {
        format: report::FORMAT.into(),
        custos_version: env!("CARGO_PKG_VERSION").into(),
        inputs: report::Inputs {
            train: train_facts,
            test: test_facts,
        },
        settings: cfg.settings_json(),
        poison,
        summary: Vec::new(),
        not_applicable,
        plots: Vec::new(),
    };
    for (d, s) in pairs(&report) {
        let entries = entries_of(&report, &d, &s);
        let sums: Vec<report::Summary> = report::defences(&entries)
            .iter()
            .filter_map(|defence| report::summarise(&d, &s, defence, &entries))
            .collect();
        report.summary.extend(sums);
        report.plots.push(plot::file_name(&d, &s));
    }
    Ok(report)
}

/// The (detector, strategy) pairs of the report, in order of first appearance.
fn pairs(r: &Report) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = Vec::new();
    for e in &r.poison {
        if !v.iter().any(|(d, s)| *d == e.detector && *s == e.strategy) {
            v.push((e.detector.clone(), e.strategy.clone()));
        }
    }
    v
}

/// The entries of one pair.
fn entries_of<'a>(r: &'a Report, detector: &str, strategy: &str) -> Vec<&'a PoisonEntry> {
    r.poison
        .iter()
        .filter(|e| e.detector == detector && e.strategy == strategy)
        .collect()
}
