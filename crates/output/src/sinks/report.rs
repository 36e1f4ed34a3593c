//! End-of-run sinks: `devices.json`, `findings.jsonl` and `stats.json`.

use crate::out_file::{Compression, OutFile};
use crate::sink::{RunEnd, RunInfo, Sink, SinkError};
use crate::time::eve_time;
use crate::{Record, RecordKinds, Stats};
use std::io::Write;
use std::path::Path;

/// `findings.jsonl`: one baseline finding per line.
pub struct FindingsSink {
    out: Option<OutFile>,
    files: Vec<String>,
}

impl FindingsSink {
    /// The sink, writing `dir/findings.jsonl`.
    ///
    /// # Errors
    /// The file cannot be created.
    pub fn create(dir: &Path, compression: Compression) -> Result<Self, SinkError> {
        let out = OutFile::create(dir, "findings.jsonl", compression)
            .map_err(|e| SinkError::new("findings.jsonl", e))?;
        Ok(FindingsSink {
            out: Some(out),
            files: Vec::new(),
        })
    }
}

impl Sink for FindingsSink {
    fn name(&self) -> &str {
        "findings.jsonl"
    }

    fn begin(&mut self, run: &RunInfo) -> Result<(), SinkError> {
        self.files.clone_from(&run.files);
        Ok(())
    }

    fn reads(&self) -> RecordKinds {
        RecordKinds::FINDINGS
    }

    fn record(&mut self, record: &Record) -> Result<(), SinkError> {
        if let (Record::Finding(f), Some(out)) = (record, self.out.as_mut()) {
            serde_json::to_writer(&mut *out, &f.to_json(&eve_time, &self.files))
                .map_err(std::io::Error::from)
                .and_then(|()| out.write_all(b"\n"))
                .map_err(|e| SinkError::new("findings.jsonl", e))?;
        }
        Ok(())
    }

    fn finish(&mut self, _end: &RunEnd) -> Result<Option<serde_json::Value>, SinkError> {
        if let Some(out) = self.out.take() {
            out.close()
                .map_err(|e| SinkError::new("findings.jsonl", e))?;
        }
        Ok(None)
    }
}

/// `devices.json`: the device inventory, pretty-printed.
pub struct DevicesSink {
    out: Option<OutFile>,
}

impl DevicesSink {
    /// The sink, writing `dir/devices.json`.
    ///
    /// # Errors
    /// The file cannot be created.
    pub fn create(dir: &Path, compression: Compression) -> Result<Self, SinkError> {
        let out = OutFile::create(dir, "devices.json", compression)
            .map_err(|e| SinkError::new("devices.json", e))?;
        Ok(DevicesSink { out: Some(out) })
    }
}

impl Sink for DevicesSink {
    fn name(&self) -> &str {
        "devices.json"
    }

    fn reads(&self) -> RecordKinds {
        RecordKinds::DEVICES
    }

    fn record(&mut self, record: &Record) -> Result<(), SinkError> {
        if let (Record::Devices(d), Some(out)) = (record, self.out.as_mut()) {
            write_pretty(out, &**d).map_err(|e| SinkError::new("devices.json", e))?;
        }
        Ok(())
    }

    fn finish(&mut self, _end: &RunEnd) -> Result<Option<serde_json::Value>, SinkError> {
        if let Some(out) = self.out.take() {
            out.close().map_err(|e| SinkError::new("devices.json", e))?;
        }
        Ok(None)
    }
}

/// `stats.json`: what the run saw (written last, with every other sink's report).
pub struct StatsSink {
    out: Option<OutFile>,
}

impl StatsSink {
    /// The sink, writing `dir/stats.json`.
    ///
    /// # Errors
    /// The file cannot be created.
    pub fn create(dir: &Path, compression: Compression) -> Result<Self, SinkError> {
        let out = OutFile::create(dir, "stats.json", compression)
            .map_err(|e| SinkError::new("stats.json", e))?;
        Ok(StatsSink { out: Some(out) })
    }
}

impl Sink for StatsSink {
    fn name(&self) -> &str {
        "stats.json"
    }

    fn reads(&self) -> RecordKinds {
        RecordKinds::NONE
    }

    fn record(&mut self, _record: &Record) -> Result<(), SinkError> {
        Ok(())
    }

    fn stats(&mut self, stats: &Stats) -> Result<(), SinkError> {
        if let Some(mut out) = self.out.take() {
            write_pretty(&mut out, stats)
                .and_then(|()| out.close())
                .map_err(|e| SinkError::new("stats.json", e))?;
        }
        Ok(())
    }
}

fn write_pretty<T: serde::Serialize>(out: &mut OutFile, value: &T) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, value)?;
    out.write_all(b"\n")
}
