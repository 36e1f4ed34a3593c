//! Detection sinks: `alerts.jsonl` (EVE alerts) and `scores.csv` (one row per packet).

use crate::out_file::{Compression, OutFile};
use crate::sink::{RunEnd, RunInfo, Sink, SinkError};
use crate::Record;
use std::io::Write;
use std::path::Path;

/// `alerts.jsonl`: one EVE `alert` event per line.
pub struct AlertsSink {
    out: Option<OutFile>,
}

impl AlertsSink {
    /// The sink, writing `dir/alerts.jsonl`.
    ///
    /// # Errors
    /// The file cannot be created.
    pub fn create(dir: &Path, compression: Compression) -> Result<Self, SinkError> {
        let out = OutFile::create(dir, "alerts.jsonl", compression)
            .map_err(|e| SinkError::new("alerts.jsonl", e))?;
        Ok(AlertsSink { out: Some(out) })
    }
}

impl Sink for AlertsSink {
    fn name(&self) -> &str {
        "alerts.jsonl"
    }

    fn record(&mut self, record: &Record) -> Result<(), SinkError> {
        if let (Record::Alert(a), Some(out)) = (record, self.out.as_mut()) {
            serde_json::to_writer(&mut *out, a)
                .map_err(std::io::Error::from)
                .and_then(|()| out.write_all(b"\n"))
                .map_err(|e| SinkError::new("alerts.jsonl", e))?;
        }
        Ok(())
    }

    fn finish(&mut self, _end: &RunEnd) -> Result<Option<serde_json::Value>, SinkError> {
        if let Some(out) = self.out.take() {
            out.close().map_err(|e| SinkError::new("alerts.jsonl", e))?;
        }
        Ok(None)
    }
}

/// `scores.csv`: `index,ts` then one column per packet-scoring detector (`score` when only
/// one runs).
pub struct ScoresSink {
    out: Option<OutFile>,
    line: String,
}

impl ScoresSink {
    /// The sink, writing `dir/scores.csv`.
    ///
    /// # Errors
    /// The file cannot be created.
    pub fn create(dir: &Path, compression: Compression) -> Result<Self, SinkError> {
        let out = OutFile::create(dir, "scores.csv", compression)
            .map_err(|e| SinkError::new("scores.csv", e))?;
        Ok(ScoresSink {
            out: Some(out),
            line: String::with_capacity(64),
        })
    }
}

impl Sink for ScoresSink {
    fn name(&self) -> &str {
        "scores.csv"
    }

    fn begin(&mut self, run: &RunInfo) -> Result<(), SinkError> {
        let header = match run.score_columns.as_slice() {
            [_] | [] => "score".to_string(),
            cols => cols.join(","),
        };
        if let Some(out) = self.out.as_mut() {
            writeln!(out, "index,ts,{header}").map_err(|e| SinkError::new("scores.csv", e))?;
        }
        Ok(())
    }

    fn record(&mut self, record: &Record) -> Result<(), SinkError> {
        use std::fmt::Write as _;
        if let (Record::Scores(row), Some(out)) = (record, self.out.as_mut()) {
            let l = &mut self.line;
            l.clear();
            let secs = row.ts.div_euclid(1_000_000_000);
            let ns = row.ts.rem_euclid(1_000_000_000);
            let _ = write!(l, "{},{secs}.{ns:09}", row.index);
            for s in row.scores() {
                let _ = write!(l, ",{s}");
            }
            l.push('\n');
            out.write_all(l.as_bytes())
                .map_err(|e| SinkError::new("scores.csv", e))?;
        }
        Ok(())
    }

    fn finish(&mut self, _end: &RunEnd) -> Result<Option<serde_json::Value>, SinkError> {
        if let Some(out) = self.out.take() {
            out.close().map_err(|e| SinkError::new("scores.csv", e))?;
        }
        Ok(None)
    }
}
