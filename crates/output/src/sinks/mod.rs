//! The built-in file sinks, one per output file.

mod detection;
mod event_summary;
mod events;
mod flows;
mod report;

pub use detection::{AlertsSink, ScoresSink};
pub use events::{EventLevel, EventsSink};
pub use flows::{ConnLogSink, EveFlowSink};
pub use report::{DevicesSink, FindingsSink, StatsSink};
