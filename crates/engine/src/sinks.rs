//! The built-in file sinks, chosen by configuration.

use crate::config::OutputSettings;
use crate::error::EngineError;
use custos_output::sinks::{
    AlertsSink, ConnLogSink, DevicesSink, EveFlowSink, EventLevel, EventsSink, FindingsSink,
    ScoresSink, StatsSink,
};
use custos_output::{Compression, Sink};
use std::path::Path;

/// The file sinks `settings` asks for, in the order records reach them; `detectors` says
/// whether `scores.csv` and `alerts.jsonl` are wanted.
///
/// # Errors
/// A file cannot be created.
pub fn builtin_sinks(
    settings: &OutputSettings,
    dir: &Path,
    detectors: bool,
) -> Result<Vec<Box<dyn Sink>>, EngineError> {
    let c = settings.compress;
    let mut sinks: Vec<Box<dyn Sink>> = Vec::new();
    if settings.wants("conn.log") {
        sinks.push(Box::new(ConnLogSink::create(dir, c)?));
    }
    if settings.wants("flows.jsonl") {
        sinks.push(Box::new(EveFlowSink::create(dir, c)?));
    }
    if settings.wants("events.jsonl") && settings.events != EventLevel::None {
        sinks.push(Box::new(EventsSink::create(dir, c, settings.events)?));
    }
    if settings.wants("devices.json") {
        sinks.push(Box::new(DevicesSink::create(dir, c)?));
    }
    if settings.wants("findings.jsonl") {
        sinks.push(Box::new(FindingsSink::create(dir, c)?));
    }
    if detectors && settings.wants("scores.csv") {
        sinks.push(Box::new(ScoresSink::create(dir, c)?));
    }
    if detectors && settings.wants("alerts.jsonl") {
        sinks.push(Box::new(AlertsSink::create(dir, c)?));
    }
    if settings.wants("stats.json") {
        // Small, and what tools read first: never compressed.
        sinks.push(Box::new(StatsSink::create(dir, Compression::None)?));
    }
    Ok(sinks)
}
