//! Flow sinks: Zeek `conn.log` and Suricata EVE `flows.jsonl`.

use crate::out_file::{Compression, OutFile};
use crate::sink::{RunEnd, RunInfo, Sink, SinkError};
use crate::{ConnLogWriter, EveFlowWriter, Record, RecordKinds};
use std::path::Path;

/// `conn.log`: Zeek TSV, one line per ended flow.
pub struct ConnLogSink {
    writer: Option<ConnLogWriter<OutFile>>,
    out: Option<OutFile>,
}

impl ConnLogSink {
    /// The sink, writing `dir/conn.log`.
    ///
    /// # Errors
    /// The file cannot be created.
    pub fn create(dir: &Path, compression: Compression) -> Result<Self, SinkError> {
        let out = OutFile::create(dir, "conn.log", compression)
            .map_err(|e| SinkError::new("conn.log", e))?;
        Ok(ConnLogSink {
            writer: None,
            out: Some(out),
        })
    }
}

impl Sink for ConnLogSink {
    fn name(&self) -> &str {
        "conn.log"
    }

    fn begin(&mut self, run: &RunInfo) -> Result<(), SinkError> {
        if let Some(out) = self.out.take() {
            let mut w = ConnLogWriter::new(out, run.files.clone());
            w.write_header(run.first_ts.unwrap_or(0))
                .map_err(|e| SinkError::new("conn.log", e))?;
            self.writer = Some(w);
        }
        Ok(())
    }

    fn reads(&self) -> RecordKinds {
        RecordKinds::FLOWS
    }

    fn record(&mut self, record: &Record) -> Result<(), SinkError> {
        if let (Record::Flow(f), Some(w)) = (record, self.writer.as_mut()) {
            w.write_flow(f).map_err(|e| SinkError::new("conn.log", e))?;
        }
        Ok(())
    }

    fn finish(&mut self, end: &RunEnd) -> Result<Option<serde_json::Value>, SinkError> {
        if let Some(mut w) = self.writer.take() {
            w.finish(end.last_ts.unwrap_or(0))
                .and_then(|()| w.into_inner().close())
                .map_err(|e| SinkError::new("conn.log", e))?;
        }
        Ok(None)
    }
}

/// `flows.jsonl`: Suricata EVE `flow` events.
pub struct EveFlowSink {
    writer: Option<EveFlowWriter<OutFile>>,
    out: Option<OutFile>,
}

impl EveFlowSink {
    /// The sink, writing `dir/flows.jsonl`.
    ///
    /// # Errors
    /// The file cannot be created.
    pub fn create(dir: &Path, compression: Compression) -> Result<Self, SinkError> {
        let out = OutFile::create(dir, "flows.jsonl", compression)
            .map_err(|e| SinkError::new("flows.jsonl", e))?;
        Ok(EveFlowSink {
            writer: None,
            out: Some(out),
        })
    }
}

impl Sink for EveFlowSink {
    fn name(&self) -> &str {
        "flows.jsonl"
    }

    fn begin(&mut self, run: &RunInfo) -> Result<(), SinkError> {
        if let Some(out) = self.out.take() {
            self.writer = Some(EveFlowWriter::new(out, run.files.clone()));
        }
        Ok(())
    }

    fn reads(&self) -> RecordKinds {
        RecordKinds::FLOWS
    }

    fn record(&mut self, record: &Record) -> Result<(), SinkError> {
        if let (Record::Flow(f), Some(w)) = (record, self.writer.as_mut()) {
            w.write_flow(f)
                .map_err(|e| SinkError::new("flows.jsonl", e))?;
        }
        Ok(())
    }

    fn finish(&mut self, _end: &RunEnd) -> Result<Option<serde_json::Value>, SinkError> {
        if let Some(w) = self.writer.take() {
            w.into_inner()
                .close()
                .map_err(|e| SinkError::new("flows.jsonl", e))?;
        }
        Ok(None)
    }
}
