//! The application stage of `analyze`: MQTT, Telnet and Modbus/TCP events from `custos-app`,
//! written to `events.jsonl` as EVE-style records (`event_type` = protocol).

use custos_app::{AppConfig, AppEvent, AppTracker};
use custos_decode::Decoded;
use custos_flow::PacketMeta;
use custos_output::time::eve_time;
use serde_json::json;
use std::fs::File;
use std::io::{BufWriter, Write};

/// Tracker plus its output file.
pub struct AppStage {
    tracker: AppTracker,
    out: BufWriter<File>,
    files: Vec<String>,
    last: (u16, u64),
}

impl AppStage {
    /// A stage writing `dir/events.jsonl`.
    ///
    /// # Errors
    /// The file cannot be created.
    pub fn new(dir: &std::path::Path, files: Vec<String>) -> std::io::Result<Self> {
        let out = BufWriter::with_capacity(1 << 16, File::create(dir.join("events.jsonl"))?);
        Ok(AppStage {
            tracker: AppTracker::new(AppConfig::default()),
            out,
            files,
            last: (0, 0),
        })
    }

    /// Feeds one decoded packet and writes the events it completed.
    ///
    /// # Errors
    /// Write errors.
    pub fn packet(&mut self, meta: &PacketMeta, decoded: &Decoded<'_>) -> std::io::Result<()> {
        self.last = (meta.file, meta.index);
        self.tracker.packet(meta.ts, meta.file, meta.index, decoded);
        self.write_pending()
    }

    fn write_pending(&mut self) -> std::io::Result<()> {
        use std::fmt::Write as _;
        let events: Vec<AppEvent> = self.tracker.drain().collect();
        let mut line = String::with_capacity(512);
        for e in events {
            let name = e.proto.name();
            let file = self
                .files
                .get(usize::from(e.file))
                .map_or("", String::as_str);
            let file_json = serde_json::to_string(file).unwrap_or_else(|_| "\"\"".into());
            line.clear();
            // Written directly (not through a JSON tree): one line per event, many per flow.
            let _ = write!(
                line,
                "{{\"timestamp\":\"{}\",\"event_type\":\"{name}\",\"src_ip\":\"{}\",\"src_port\":{},\"dest_ip\":\"{}\",\"dest_port\":{},\"proto\":\"TCP\",\"community_id\":\"{}\",\"{name}\":{},\"custos\":{{\"pcap_file\":{file_json},\"packet\":{}}}}}",
                eve_time(e.ts),
                e.client.0,
                e.client.1,
                e.server.0,
                e.server.1,
                e.community_id,
                e.body,
                e.index
            );
            line.push('\n');
            self.out.write_all(line.as_bytes())?;
        }
        Ok(())
    }

    /// Ends every connection, writes the last events and flushes.
    ///
    /// # Errors
    /// Write errors.
    pub fn finish(&mut self) -> std::io::Result<serde_json::Value> {
        self.tracker.finish(self.last.0, self.last.1);
        self.write_pending()?;
        self.out.flush()?;
        let s = self.tracker.stats();
        Ok(
            json!({"connections": s.connections, "events": s.events, "evicted": s.evicted, "missed_bytes": s.missed_bytes}),
        )
    }
}
