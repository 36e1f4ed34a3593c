//! The output stage: hands records to the sinks, in order.

use crate::error::EngineError;
use custos_output::{Record, RunEnd, RunInfo, Sink, Stats};

/// The sinks of a run.
pub(crate) struct OutputStage {
    sinks: Vec<Box<dyn Sink>>,
    begun: bool,
}

impl OutputStage {
    /// A stage over `sinks` (called in this order).
    pub fn new(sinks: Vec<Box<dyn Sink>>) -> Self {
        OutputStage {
            sinks,
            begun: false,
        }
    }

    /// Starts every sink (once).
    ///
    /// # Errors
    /// A sink's error.
    pub fn begin(&mut self, info: &RunInfo) -> Result<(), EngineError> {
        if self.begun {
            return Ok(());
        }
        self.begun = true;
        for s in &mut self.sinks {
            s.begin(info)?;
        }
        Ok(())
    }

    /// Hands every record to every sink (the caller empties `records`).
    ///
    /// # Errors
    /// The first sink error.
    pub fn records(&mut self, records: &[Record]) -> Result<(), EngineError> {
        for r in records {
            for s in &mut self.sinks {
                s.record(r)?;
            }
        }
        Ok(())
    }

    /// Ends the run: finishes every sink, adds their reports to `stats` (under `outputs`),
    /// then gives every sink the statistics.
    ///
    /// # Errors
    /// The first sink error.
    pub fn finish(
        &mut self,
        info: &RunInfo,
        end: &RunEnd,
        stats: &mut Stats,
    ) -> Result<(), EngineError> {
        self.begin(info)?;
        for s in &mut self.sinks {
            if let Some(report) = s.finish(end)? {
                stats.outputs.insert(s.name().to_string(), report);
            }
        }
        for s in &mut self.sinks {
            s.stats(stats)?;
        }
        Ok(())
    }
}
