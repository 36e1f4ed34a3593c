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
        let events: Vec<AppEvent> = self.tracker.drain().collect();
        for e in events {
            let name = e.proto.name();
            let mut v = json!({
                "timestamp": eve_time(e.ts),
                "event_type": name,
                "src_ip": e.client.0.to_string(),
                "src_port": e.client.1,
                "dest_ip": e.server.0.to_string(),
                "dest_port": e.server.1,
                "proto": "TCP",
                "community_id": e.community_id,
            });
            v[name] = e.body;
            v["custos"] = json!({
                "pcap_file": self.files.get(usize::from(e.file)).cloned().unwrap_or_default(),
                "packet": e.index,
            });
            serde_json::to_writer(&mut self.out, &v)?;
            self.out.write_all(b"\n")?;
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
