//! The application stage of `analyze`: protocol events from `custos-app` written to
//! `events.jsonl` (EVE-style, `event_type` = protocol), the device inventory to
//! `devices.json` and baseline findings to `findings.jsonl`.

use anyhow::Context;
use custos_app::credentials::DefaultCredentials;
use custos_app::findings::{Findings, FindingsConfig};
use custos_app::inventory::oui::{OuiRegistry, DEFAULT_DIR};
use custos_app::inventory::{Inventory, InventoryConfig};
use custos_app::{AppConfig, AppEvent, AppTracker};
use custos_decode::Decoded;
use custos_flow::PacketMeta;
use custos_output::time::{eve_time, EveTimeWriter};
use rustc_hash::FxHashMap;
use serde_json::json;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// Settings of the application stage, from `--app-config FILE` (TOML) and flags.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AppSettings {
    /// Rule thresholds and windows (`[findings]`).
    pub findings: FindingsConfig,
    /// A file of extra default credentials (`user password` lines) added to the built-in list.
    pub default_credentials: Option<PathBuf>,
    /// Directory of the IEEE registries (`oui.csv`, …); default `/usr/share/ieee-data`.
    pub oui_dir: Option<PathBuf>,
}

impl AppSettings {
    /// Reads a TOML settings file.
    ///
    /// # Errors
    /// Unreadable file, TOML syntax, unknown keys or wrong types (with line and column).
    pub fn load(path: &Path) -> anyhow::Result<AppSettings> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        toml::from_str(&text).with_context(|| format!("{}: invalid settings", path.display()))
    }
}

/// Tracker, inventory, findings and the events file.
pub struct AppStage {
    tracker: AppTracker,
    inventory: Inventory,
    findings: Findings,
    dir: PathBuf,
    out: BufWriter<File>,
    files: Vec<String>,
    /// `files` as JSON strings.
    file_json: Vec<String>,
    /// Per connection: the event fields that do not change (see `write_event`).
    prefixes: FxHashMap<u64, String>,
    line: Vec<u8>,
    clock: EveTimeWriter,
    /// Buffer the tracker's events are swapped into (reused).
    pending: Vec<AppEvent>,
}

impl AppStage {
    /// A stage writing into `dir`.
    ///
    /// # Errors
    /// `events.jsonl` cannot be created; the credential list or OUI registry named in
    /// `settings` cannot be read.
    pub fn new(dir: &Path, files: Vec<String>, settings: &AppSettings) -> anyhow::Result<Self> {
        let mut credentials = (*DefaultCredentials::builtin()).clone();
        if let Some(path) = &settings.default_credentials {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            let extra = DefaultCredentials::parse(&text)
                .with_context(|| format!("{}: invalid credential list", path.display()))?;
            credentials.extend(&extra);
        }
        let oui = match &settings.oui_dir {
            Some(d) => OuiRegistry::load_dir(d)?,
            // Without an explicit directory a missing registry only leaves vendors empty.
            None => OuiRegistry::load_dir(Path::new(DEFAULT_DIR)).unwrap_or_default(),
        };
        let out = BufWriter::with_capacity(
            1 << 20,
            File::create(dir.join("events.jsonl")).context("cannot create events.jsonl")?,
        );
        Ok(AppStage {
            tracker: AppTracker::new(AppConfig {
                credentials: std::sync::Arc::new(credentials),
                ..AppConfig::default()
            }),
            inventory: Inventory::new(InventoryConfig::default(), oui),
            findings: Findings::new(settings.findings.clone()),
            dir: dir.to_path_buf(),
            out,
            file_json: files
                .iter()
                .map(|f| serde_json::to_string(f).unwrap_or_else(|_| "\"\"".into()))
                .collect(),
            files,
            prefixes: FxHashMap::default(),
            line: Vec::with_capacity(1024),
            clock: EveTimeWriter::default(),
            pending: Vec::new(),
        })
    }

    /// Feeds one decoded packet and writes the events it completed; a packet whose transport
    /// checksum was rejected only counts in the inventory.
    ///
    /// # Errors
    /// Write errors.
    pub fn packet(
        &mut self,
        meta: &PacketMeta,
        decoded: &Decoded<'_>,
        bad_checksum: bool,
    ) -> std::io::Result<()> {
        self.inventory.packet(meta.ts, meta.frame_len, decoded);
        if !bad_checksum {
            self.tracker.packet(meta.ts, meta.file, meta.index, decoded);
        }
        self.write_pending()
    }

    fn write_pending(&mut self) -> std::io::Result<()> {
        let mut events = std::mem::take(&mut self.pending);
        self.tracker.take_events(&mut events);
        let mut result = Ok(());
        for e in &events {
            self.inventory.event(e);
            self.findings.event(e);
            if result.is_ok() {
                result = self.write_event(e);
            }
        }
        events.clear();
        self.pending = events;
        result
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
            custos_app::Direction::ToServer => b",\"direction\":\"to_server\",\"",
            custos_app::Direction::ToClient => b",\"direction\":\"to_client\",\"",
        });
        line.extend_from_slice(name.as_bytes());
        line.extend_from_slice(b"\":");
        let body = if let custos_app::AppRecord::Anomaly { error } = &e.record {
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
        self.out.write_all(line)
    }

    /// The application protocol recognised in `flow`, for its flow record.
    pub fn app_proto_of(&mut self, flow: &custos_flow::Flow) -> Option<&'static str> {
        let key = custos_flow::FlowKey::canonical(flow.orig, flow.resp, flow.proto, flow.vlans).0;
        self.tracker.take_app_proto(&key).map(|p| p.name())
    }

    /// Ends every connection still followed (end of input) and writes its last events. Called
    /// before the flow table's last flows are written, so that their records carry the
    /// protocols decided only at the end.
    ///
    /// # Errors
    /// Write errors.
    pub fn end_connections(&mut self) -> std::io::Result<()> {
        self.tracker.finish();
        self.write_pending()
    }

    /// Ends every connection, writes the last events, `devices.json` and `findings.jsonl`.
    ///
    /// # Errors
    /// Write errors.
    pub fn finish(self) -> std::io::Result<serde_json::Value> {
        let mut me = self;
        me.end_connections()?;
        me.out.flush()?;
        let time = |ts: i64| eve_time(ts);
        let inventory = me.inventory.to_json(&time);
        let devices = me.inventory.len();
        let mut f = BufWriter::new(File::create(me.dir.join("devices.json"))?);
        serde_json::to_writer_pretty(&mut f, &inventory)?;
        f.write_all(b"\n")?;
        f.flush()?;
        let dropped = me.findings.dropped();
        let findings = me.findings.finish();
        let mut f = BufWriter::new(File::create(me.dir.join("findings.jsonl"))?);
        for finding in &findings {
            serde_json::to_writer(&mut f, &finding.to_json(&time, &me.files))?;
            f.write_all(b"\n")?;
        }
        f.flush()?;
        let s = me.tracker.stats();
        Ok(json!({
            "connections": s.connections,
            "recognised": s.recognised,
            "events": s.events,
            "evicted": s.evicted,
            "missed_bytes": s.missed_bytes,
            "devices": devices,
            "findings": findings.len(),
            "findings_not_kept": dropped,
        }))
    }
}
