//! The output stage: hands records to the sinks, in order.

use crate::error::EngineError;
use custos_output::{Record, RecordKinds, RunEnd, RunInfo, Sink, Stats};

/// The sinks of a run.
pub(crate) struct OutputStage {
    sinks: Vec<Box<dyn Sink>>,
    /// For each record kind ([`RecordKinds::index`]), the sinks that read it, in order.
    readers: [Vec<usize>; RecordKinds::EACH.len()],
    begun: bool,
}

impl OutputStage {
    /// A stage over `sinks` (called in this order, each with the kinds of record it reads).
    pub fn new(sinks: Vec<Box<dyn Sink>>) -> Self {
        let readers = RecordKinds::EACH.map(|kind| {
            let reading = sinks
                .iter()
                .enumerate()
                .filter(|(_, s)| s.reads().contains(kind));
            reading.map(|(i, _)| i).collect()
        });
        OutputStage {
            sinks,
            readers,
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

    /// Hands every record to every sink that reads its kind (the caller empties `records`).
    ///
    /// # Errors
    /// The first sink error.
    pub fn records(&mut self, records: &[Record]) -> Result<(), EngineError> {
        for r in records {
            let readers = self.readers.get(r.kind().index()).map_or(&[][..], |v| v);
            for &i in readers {
                if let Some(s) = self.sinks.get_mut(i) {
                    s.record(r)?;
                }
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
