//! The [`Sink`] trait: where records go.

use crate::{Record, RecordKinds, Stats};

/// An error of a sink: which sink, and what failed.
#[derive(Debug, thiserror::Error)]
#[error("{sink}")]
pub struct SinkError {
    /// The sink's name.
    pub sink: String,
    /// What failed.
    #[source]
    pub source: std::io::Error,
}

impl SinkError {
    /// An error of sink `sink`.
    pub fn new(sink: &str, source: std::io::Error) -> Self {
        SinkError {
            sink: sink.to_string(),
            source,
        }
    }
}

/// What a sink learns when a run starts.
#[derive(Clone, Debug, Default)]
pub struct RunInfo {
    /// The inputs, as named on the command line (index = a record's `file`).
    pub files: Vec<String>,
    /// Time of the first packet (ns), when there is one.
    pub first_ts: Option<i64>,
    /// Names of the detectors that score every packet, in the order of [`crate::ScoreRow`]'s
    /// columns.
    pub score_columns: Vec<String>,
}

/// What a sink learns when a run ends.
#[derive(Clone, Debug, Default)]
pub struct RunEnd {
    /// Time of the last packet (ns), when there was one.
    pub last_ts: Option<i64>,
}

/// Receives the records of a run. Sinks run off the packet threads, in registration order,
/// and see every record in the same order whatever the number of threads.
///
/// Shaped after ripgrep's `Sink`: no-op hooks by default, one call per record carrying all a
/// record needs.
pub trait Sink: Send {
    /// A short name (`conn.log`, `alerts`, …) for errors and statistics.
    fn name(&self) -> &str;

    /// Called once before the first record.
    ///
    /// # Errors
    /// I/O errors of the sink.
    fn begin(&mut self, _run: &RunInfo) -> Result<(), SinkError> {
        Ok(())
    }

    /// The kinds of record [`Sink::record`] is given (read once, when the run starts);
    /// every kind unless a sink says otherwise.
    fn reads(&self) -> RecordKinds {
        RecordKinds::ALL
    }

    /// Called for every record of the kinds it [`Sink::reads`], in order.
    ///
    /// # Errors
    /// I/O errors of the sink; the run stops and reports it.
    fn record(&mut self, record: &Record) -> Result<(), SinkError>;

    /// Called once after the last record: flush and close. What it returns (e.g. how many
    /// leaves an evidence sink logged) goes into `stats.json` under `outputs.<name>`.
    ///
    /// # Errors
    /// I/O errors of the sink.
    fn finish(&mut self, _end: &RunEnd) -> Result<Option<serde_json::Value>, SinkError> {
        Ok(None)
    }

    /// Called last, after every sink finished, with the run's statistics (which hold the
    /// sinks' reports).
    ///
    /// # Errors
    /// I/O errors of the sink.
    fn stats(&mut self, _stats: &Stats) -> Result<(), SinkError> {
        Ok(())
    }
}
