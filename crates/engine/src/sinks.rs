//! The built-in file sinks, chosen by configuration.

use crate::config::OutputSettings;
use crate::error::EngineError;
use custos_output::sinks::{
    AlertsSink, ConnLogSink, DevicesSink, EveFlowSink, EventLevel, EventsSink, FindingsSink,
    ScoresSink, StatsSink,
};
use custos_output::{Compression, Sink};
use std::path::Path;

/// Which detector outputs a run has reason to write.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DetectorOutputs {
    /// A detector scores every packet (`scores.csv`).
    pub scores: bool,
    /// A detector may raise alerts (`alerts.jsonl`).
    pub alerts: bool,
}

/// The built-in output files `settings` asks for, in the order records reach them, with the
/// compression each gets; `detectors` says whether `scores.csv` (a detector scores packets)
/// and `alerts.jsonl` (a detector raises alerts) are wanted.
pub fn builtin_files(
    settings: &OutputSettings,
    detectors: DetectorOutputs,
) -> Vec<(&'static str, Compression)> {
    let c = settings.compress;
    let mut files = Vec::new();
    for name in crate::config::SINK_NAMES {
        let wanted = settings.wants(name)
            && match name {
                "events.jsonl" => settings.events != EventLevel::None,
                "scores.csv" => detectors.scores,
                "alerts.jsonl" => detectors.alerts,
                _ => true,
            };
        if wanted {
            // stats.json is small, and what tools read first: never compressed.
            let compression = if name == "stats.json" {
                Compression::None
            } else {
                c
            };
            files.push((name, compression));
        }
    }
    files
}

/// The file sinks `settings` asks for (see [`builtin_files`]).
///
/// # Errors
/// A file cannot be created.
pub fn builtin_sinks(
    settings: &OutputSettings,
    dir: &Path,
    detectors: DetectorOutputs,
) -> Result<Vec<Box<dyn Sink>>, EngineError> {
    let mut sinks: Vec<Box<dyn Sink>> = Vec::new();
    for (name, c) in builtin_files(settings, detectors) {
        sinks.push(match name {
            "conn.log" => Box::new(ConnLogSink::create(dir, c)?),
            "flows.jsonl" => Box::new(EveFlowSink::create(dir, c)?),
            "events.jsonl" => Box::new(EventsSink::create(dir, c, settings.events)?),
            "devices.json" => Box::new(DevicesSink::create(dir, c)?),
            "findings.jsonl" => Box::new(FindingsSink::create(dir, c)?),
            "scores.csv" => Box::new(ScoresSink::create(dir, c)?),
            "alerts.jsonl" => Box::new(AlertsSink::create(dir, c)?),
            _ => Box::new(StatsSink::create(dir, c)?),
        });
    }
    Ok(sinks)
}
