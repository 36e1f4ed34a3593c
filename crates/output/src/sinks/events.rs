//! `events.jsonl`: application events, EVE style (`event_type` = protocol).

use crate::out_file::{Compression, OutFile};
use crate::sink::{RunEnd, RunInfo, Sink, SinkError};
use crate::time::EveTimeWriter;
use crate::Record;
use custos_app::{AppEvent, AppRecord, Direction};
use rustc_hash::FxHashMap;
use serde_json::json;
use std::io::Write;
use std::path::Path;

/// Which application events are written. Levels filter what is written, never what the
/// findings, inventory and detectors see.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EventLevel {
    /// Every event.
    #[default]
    All,
    /// No events file.
    None,
}

/// Writes `events.jsonl` line by line from JSON text.
pub struct EventsSink {
    out: Option<OutFile>,
    /// Input names as JSON strings.
    file_json: Vec<String>,
    /// Per connection: the event fields that do not change (see `write_event`).
    prefixes: FxHashMap<u64, String>,
    line: Vec<u8>,
    clock: EveTimeWriter,
}

impl EventsSink {
    /// The sink, writing `dir/events.jsonl`.
    ///
    /// # Errors
    /// The file cannot be created.
    pub fn create(dir: &Path, compression: Compression) -> Result<Self, SinkError> {
        let out = OutFile::create(dir, "events.jsonl", compression)
            .map_err(|e| SinkError::new("events.jsonl", e))?;
        Ok(EventsSink {
            out: Some(out),
            file_json: Vec::new(),
            prefixes: FxHashMap::default(),
            line: Vec::with_capacity(1024),
            clock: EveTimeWriter::default(),
        })
    }

    fn write_event(&mut self, e: &AppEvent) -> std::io::Result<()> {
        // Bytes, not a String: serde_json writes into the same buffer without a UTF-8 check.
        let line = &mut self.line;
        let name = e.event_type();
        line.clear();
        line.extend_from_slice(b"{\"timestamp\":\"");
        self.clock.push(line, e.ts);
        line.extend_from_slice(b"\",\"event_type\":\"");
        line.extend_from_slice(name.as_bytes());
        line.extend_from_slice(b"\",");
        // The endpoints, protocol and Community ID are the same for every event of a
        // connection: formatted once per connection (a bounded cache).
        if self.prefixes.len() > 16_384 {
            self.prefixes.clear();
        }
        let prefix = self.prefixes.entry(e.conn).or_insert_with(|| {
            let (src, dst) = (e.client, e.server);
            let proto = if e.transport == 6 { "TCP" } else { "UDP" };
            format!(
                "\"src_ip\":\"{}\",\"src_port\":{},\"dest_ip\":\"{}\",\"dest_port\":{},\"proto\":\"{proto}\",\"app_proto\":\"{}\",\"community_id\":\"{}\"",
                src.0,
                src.1,
                dst.0,
                dst.1,
                e.proto.name(),
                e.community_id
            )
        });
        line.extend_from_slice(prefix.as_bytes());
        line.extend_from_slice(match e.direction {
            Direction::ToServer => b",\"direction\":\"to_server\",\"",
            Direction::ToClient => b",\"direction\":\"to_client\",\"",
        });
        line.extend_from_slice(name.as_bytes());
        line.extend_from_slice(b"\":");
        let body = if let AppRecord::Anomaly { error } = &e.record {
            serde_json::to_writer(
                &mut *line,
                &json!({"type": "applayer", "app_proto": e.proto.name(), "error": error}),
            )
        } else {
            serde_json::to_writer(&mut *line, &e.record)
        };
        if body.is_err() {
            line.extend_from_slice(b"null");
        }
        // The input file is named only when there are several (stats.json names them all).
        if self.file_json.len() > 1 {
            let file = self
                .file_json
                .get(usize::from(e.file))
                .map_or("\"\"", String::as_str);
            line.extend_from_slice(b",\"custos\":{\"pcap_file\":");
            line.extend_from_slice(file.as_bytes());
            line.push(b',');
        } else {
            line.extend_from_slice(b",\"custos\":{");
        }
        writeln!(line, "\"packet\":{}}}}}", e.index)?;
        match self.out.as_mut() {
            Some(out) => out.write_all(line),
            None => Ok(()),
        }
    }
}

impl Sink for EventsSink {
    fn name(&self) -> &str {
        "events.jsonl"
    }

    fn begin(&mut self, run: &RunInfo) -> Result<(), SinkError> {
        self.file_json = run
            .files
            .iter()
            .map(|f| serde_json::to_string(f).unwrap_or_else(|_| "\"\"".into()))
            .collect();
        Ok(())
    }

    fn record(&mut self, record: &Record) -> Result<(), SinkError> {
        if let Record::Event(e) = record {
            self.write_event(e)
                .map_err(|e| SinkError::new("events.jsonl", e))?;
        }
        Ok(())
    }

    fn finish(&mut self, _end: &RunEnd) -> Result<Option<serde_json::Value>, SinkError> {
        if let Some(out) = self.out.take() {
            out.close().map_err(|e| SinkError::new("events.jsonl", e))?;
        }
        Ok(None)
    }
}
