//! `events.jsonl`: application events, EVE style (`event_type` = protocol).

use super::event_summary::{routine_kind, Session, Sessions};
use crate::out_file::{Compression, OutFile};
use crate::push::{push_int, push_ip};
use crate::sink::{RunEnd, RunInfo, Sink, SinkError};
use crate::time::EveTimeWriter;
use crate::{Record, RecordKinds};
use custos_app::{AppEvent, AppRecord, Direction};
use custos_flow::keyed_hash::KeyedMap;
use serde_json::json;
use std::io::Write;
use std::path::Path;

/// Which application events are written. Levels filter what is written, never what the
/// findings, inventory and detectors see.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum EventLevel {
    /// Every event.
    #[default]
    All,
    /// Routine messages (MQTT publishes and keep-alives, Modbus reads, CoAP GETs and their
    /// answers) counted per session in one `app_summary` record; every other event written.
    Summary,
    /// None (no events.jsonl); findings, inventory and detectors still see every event.
    None,
}

/// Writes `events.jsonl` line by line from JSON text.
pub struct EventsSink {
    out: Option<OutFile>,
    /// Input names as JSON strings.
    file_json: Vec<String>,
    /// Per connection: the event fields that do not change (see `write_event`).
    prefixes: KeyedMap<u64, String>,
    line: Vec<u8>,
    clock: EveTimeWriter,
    level: EventLevel,
    sessions: Sessions,
}

impl EventsSink {
    /// The sink, writing `dir/events.jsonl`.
    ///
    /// # Errors
    /// The file cannot be created.
    pub fn create(
        dir: &Path,
        compression: Compression,
        level: EventLevel,
    ) -> Result<Self, SinkError> {
        let out = OutFile::create(dir, "events.jsonl", compression)
            .map_err(|e| SinkError::new("events.jsonl", e))?;
        Ok(EventsSink {
            out: Some(out),
            file_json: Vec::new(),
            prefixes: KeyedMap::default(),
            line: Vec::with_capacity(1024),
            clock: EveTimeWriter::default(),
            level,
            sessions: Sessions::default(),
        })
    }

    /// Starts a line: timestamp, event type and the connection's endpoints.
    fn begin_line(&mut self, ts: i64, name: &str, e: &AppEvent) {
        // Bytes, not a String: serde_json writes into the same buffer without a UTF-8 check.
        let line = &mut self.line;
        line.clear();
        line.extend_from_slice(b"{\"timestamp\":\"");
        self.clock.push(line, ts);
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
            let mut p = String::with_capacity(160);
            p.push_str("\"src_ip\":\"");
            push_ip(&mut p, src.0);
            p.push_str("\",\"src_port\":");
            push_int(&mut p, src.1);
            p.push_str(",\"dest_ip\":\"");
            push_ip(&mut p, dst.0);
            p.push_str("\",\"dest_port\":");
            push_int(&mut p, dst.1);
            p.push_str(",\"proto\":\"");
            p.push_str(proto);
            p.push_str("\",\"app_proto\":\"");
            p.push_str(e.proto.name());
            p.push_str("\",\"community_id\":\"");
            p.push_str(&e.community_id);
            p.push('"');
            p
        });
        line.extend_from_slice(prefix.as_bytes());
    }

    /// Ends a line with the `custos` object (input file when several, packet indices).
    fn end_line(
        &mut self,
        file: u16,
        first_packet: Option<u64>,
        packet: u64,
    ) -> std::io::Result<()> {
        let line = &mut self.line;
        // The input file is named only when there are several (stats.json names them all).
        if self.file_json.len() > 1 {
            let file = self
                .file_json
                .get(usize::from(file))
                .map_or("\"\"", String::as_str);
            line.extend_from_slice(b",\"custos\":{\"pcap_file\":");
            line.extend_from_slice(file.as_bytes());
            line.push(b',');
        } else {
            line.extend_from_slice(b",\"custos\":{");
        }
        let mut num = itoa::Buffer::new();
        if let Some(first) = first_packet {
            line.extend_from_slice(b"\"first_packet\":");
            line.extend_from_slice(num.format(first).as_bytes());
            line.push(b',');
        }
        line.extend_from_slice(b"\"packet\":");
        line.extend_from_slice(num.format(packet).as_bytes());
        line.extend_from_slice(b"}}\n");
        match self.out.as_mut() {
            Some(out) => out.write_all(line),
            None => Ok(()),
        }
    }

    fn write_event(&mut self, e: &AppEvent) -> std::io::Result<()> {
        let name = e.event_type();
        self.begin_line(e.ts, name, e);
        let line = &mut self.line;
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
        self.end_line(e.file, None, e.index)
    }

    /// One `app_summary` record for a session's routine events.
    fn write_summary(&mut self, s: &Session) -> std::io::Result<()> {
        self.begin_line(s.last_ts, "app_summary", &s.first);
        let total = s.total;
        let body = SummaryBody {
            app_proto: s.first.proto.name(),
            events: total,
            counts: &s.counts,
            first_timestamp: crate::time::eve_time(s.first.ts),
        };
        self.line.extend_from_slice(b",\"app_summary\":");
        serde_json::to_writer(&mut self.line, &body)?;
        self.end_line(s.last_file, Some(s.first.index), s.last_index)
    }
}

/// The body of an `app_summary` record, serialised without building a `Value`.
#[derive(serde::Serialize)]
struct SummaryBody<'a> {
    app_proto: &'static str,
    events: u64,
    counts: &'a std::collections::BTreeMap<&'static str, u64>,
    first_timestamp: String,
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

    fn reads(&self) -> RecordKinds {
        RecordKinds::EVENTS | RecordKinds::FLOWS
    }

    fn record(&mut self, record: &Record) -> Result<(), SinkError> {
        let summary = self.level == EventLevel::Summary;
        let written = match record {
            Record::Event(e) => match routine_kind(e).filter(|_| summary) {
                Some(kind) => match self.sessions.count(e, kind) {
                    Some(early) => self.write_summary(&early),
                    None => Ok(()),
                },
                None => self.write_event(e),
            },
            Record::Flow(f) if summary => match self.sessions.ended(f) {
                Some(s) => self.write_summary(&s),
                None => Ok(()),
            },
            _ => Ok(()),
        };
        written.map_err(|e| SinkError::new("events.jsonl", e))
    }

    fn finish(&mut self, _end: &RunEnd) -> Result<Option<serde_json::Value>, SinkError> {
        for s in self.sessions.drain() {
            self.write_summary(&s)
                .map_err(|e| SinkError::new("events.jsonl", e))?;
        }
        if let Some(out) = self.out.take() {
            out.close().map_err(|e| SinkError::new("events.jsonl", e))?;
        }
        Ok(None)
    }
}
