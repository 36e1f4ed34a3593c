//! The summary of a run an analyst reads first, collected from its output folder.
//!
//! [`RunReport::collect`] reads `stats.json`, `devices.json`, `findings.jsonl` and
//! `alerts.jsonl` (plain or `.zst`) of a finished run; [`RunReport::render`] writes it as plain
//! text for a terminal or as Markdown for a ticket. Reading is streaming and bounded: alerts and
//! findings are counted, and only the top few of each list are kept (the full lists stay in
//! the files). Everything shown that came from packets — device names, findings' details — is
//! hostile text: the renderers escape it (see `render.rs`).

mod render;

pub use render::Format;

use crate::time::parse_eve_time;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::io::BufRead;
use std::path::{Path, PathBuf};

/// How many entries each top list keeps.
pub const TOP: usize = 5;
/// Most distinct alert sources counted; beyond it new sources are counted as `other`.
const MAX_SOURCES: usize = 100_000;
/// Alerts further apart than this (packet time) start a new episode of the timeline.
pub const EPISODE_GAP_NS: i64 = 15_000_000_000;
/// Most episodes kept in the timeline (later ones are merged into the last).
pub const MAX_EPISODES: usize = 20;

/// Why a summary could not be made.
#[derive(Debug, thiserror::Error)]
pub enum SummaryError {
    /// The folder has no `stats.json`: not the output folder of a finished run.
    #[error(
        "{dir}: no stats.json here — not the output folder of a finished `custos analyze` run"
    )]
    NotARun {
        /// The folder.
        dir: String,
    },
    /// An output file could not be read or is not what custos writes.
    #[error("{file}: {message}")]
    Unreadable {
        /// The file.
        file: String,
        /// What is wrong (line number where known).
        message: String,
    },
}

/// One finding line of the summary.
#[derive(Clone, Debug, PartialEq)]
pub struct FindingLine {
    /// Severity (`critical`, `high`, `medium`, `low`, `info`).
    pub severity: String,
    /// Rule name.
    pub rule: String,
    /// Title.
    pub title: String,
    /// The device (IP or MAC) it concerns.
    pub device: String,
    /// The other party (an attacker, a client), when the finding names one.
    pub peer: Option<String>,
    /// How often it was seen.
    pub count: u64,
}

/// A burst of alerts: alerts closer than [`EPISODE_GAP_NS`] to the previous one.
#[derive(Clone, Debug, PartialEq)]
pub struct Episode {
    /// First alert's packet time (ns).
    pub start_ns: i64,
    /// Last alert's packet time (ns).
    pub end_ns: i64,
    /// Alerts in it.
    pub alerts: u64,
    /// The source raising most of them, and how many.
    pub top_source: (String, u64),
}

/// Alerts of one detector.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DetectorLine {
    /// Detector name.
    pub name: String,
    /// Alerts written.
    pub alerts: u64,
    /// Alerts counted but not written (one per flow and second).
    pub suppressed: u64,
    /// Its threshold, when it has one.
    pub threshold: Option<f64>,
    /// Its warning (`stats.json`): why it did not detect, or why its alerts may mislead.
    pub warning: Option<String>,
}

/// Everything the summary shows.
#[derive(Clone, Debug, Default)]
pub struct RunReport {
    /// The output folder.
    pub dir: PathBuf,
    /// Packets read.
    pub packets: u64,
    /// Captured bytes read.
    pub bytes: u64,
    /// First and last packet time (EVE text) and seconds between.
    pub span: Option<(String, String, f64)>,
    /// Inputs: path, packets, error.
    pub inputs: Vec<(String, u64, Option<String>)>,
    /// Flows created.
    pub flows: u64,
    /// Devices in the inventory.
    pub devices: u64,
    /// Devices with a role worth an analyst's eye (`scanner`, `attacker`…): role → devices.
    pub roles: BTreeMap<String, Vec<String>>,
    /// Findings per severity.
    pub findings_by_severity: BTreeMap<String, u64>,
    /// The most severe findings (then the most frequent).
    pub top_findings: Vec<FindingLine>,
    /// Alerts per detector.
    pub detectors: Vec<DetectorLine>,
    /// Sources of most alerts (IP or MAC), with counts.
    pub top_sources: Vec<(String, u64)>,
    /// Bursts of alerts in packet-time order.
    pub timeline: Vec<Episode>,
    /// Episodes beyond [`MAX_EPISODES`] merged into the last one.
    pub timeline_merged: u64,
    /// Files of the run with their sizes.
    pub files: Vec<(String, u64)>,
}

/// Roles the summary lists by device (the others are routine: publisher, broker, …).
const NOTABLE_ROLES: [&str; 4] = ["attacker", "scanner", "flooder", "brute_forcer"];

fn severity_rank(s: &str) -> u8 {
    match s {
        "critical" => 0,
        "high" => 1,
        "medium" => 2,
        "low" => 3,
        _ => 4,
    }
}

fn unreadable(file: &Path, message: String) -> SummaryError {
    SummaryError::Unreadable {
        file: file.display().to_string(),
        message,
    }
}

impl RunReport {
    /// Reads the summary of the run whose outputs are in `dir`.
    ///
    /// # Errors
    /// `dir` has no `stats.json`, or an output file is not what custos writes (the error names
    /// the file and line).
    pub fn collect(dir: &Path) -> Result<RunReport, SummaryError> {
        let stats_path = dir.join("stats.json");
        let text = std::fs::read_to_string(&stats_path).map_err(|_| SummaryError::NotARun {
            dir: dir.display().to_string(),
        })?;
        let stats: Value = serde_json::from_str(&text)
            .map_err(|e| unreadable(&stats_path, format!("not JSON: {e}")))?;
        let mut r = RunReport {
            dir: dir.to_path_buf(),
            ..RunReport::default()
        };
        r.read_stats(&stats);
        r.read_devices(dir)?;
        r.read_findings(dir)?;
        r.read_alerts(dir)?;
        r.read_files(dir);
        Ok(r)
    }

    fn read_stats(&mut self, s: &Value) {
        self.packets = s["packets"].as_u64().unwrap_or(0);
        self.bytes = s["bytes"].as_u64().unwrap_or(0);
        if let (Some(a), Some(b)) = (
            s["time_span"]["first"].as_str(),
            s["time_span"]["last"].as_str(),
        ) {
            let secs = s["time_span"]["seconds"].as_f64().unwrap_or(0.0);
            self.span = Some((a.to_string(), b.to_string(), secs));
        }
        for f in s["files"].as_array().into_iter().flatten() {
            self.inputs.push((
                f["path"].as_str().unwrap_or("").to_string(),
                f["packets"].as_u64().unwrap_or(0),
                f["error"].as_str().map(str::to_string),
            ));
        }
        self.flows = s["flows"]["created"].as_u64().unwrap_or(0);
        self.devices = s["app"]["devices"].as_u64().unwrap_or(0);
        let mut detectors: Vec<(&str, &Value)> = Vec::new();
        if let Some(d) = s.get("detector").filter(|d| d.is_object()) {
            detectors.push((d["name"].as_str().unwrap_or("detector"), d));
        }
        if let Some(m) = s["detectors"].as_object() {
            detectors.extend(m.iter().map(|(k, v)| (k.as_str(), v)));
        }
        for (name, d) in detectors {
            self.detectors.push(DetectorLine {
                name: name.to_string(),
                alerts: d["alerts"].as_u64().unwrap_or(0),
                suppressed: d["alerts_suppressed"].as_u64().unwrap_or(0),
                threshold: d["threshold"]["value"].as_f64(),
                warning: d["warning"].as_str().map(str::to_string),
            });
        }
    }

    fn read_devices(&mut self, dir: &Path) -> Result<(), SummaryError> {
        let Ok(reader) = crate::open_output(dir, "devices.json") else {
            return Ok(());
        };
        let path = dir.join("devices.json");
        let v: Value = serde_json::from_reader(reader)
            .map_err(|e| unreadable(&path, format!("not JSON: {e}")))?;
        for d in v["devices"].as_array().into_iter().flatten() {
            let name = d["ips"][0]
                .as_str()
                .or_else(|| d["id"].as_str())
                .unwrap_or("?")
                .to_string();
            for role in d["roles"].as_array().into_iter().flatten() {
                let Some(role) = role.as_str() else { continue };
                if NOTABLE_ROLES.contains(&role) {
                    self.roles
                        .entry(role.to_string())
                        .or_default()
                        .push(name.clone());
                }
            }
        }
        Ok(())
    }

    fn read_findings(&mut self, dir: &Path) -> Result<(), SummaryError> {
        let mut all: Vec<FindingLine> = Vec::new();
        for_each_json_line(dir, "findings.jsonl", |v| {
            let f = &v["finding"];
            let line = FindingLine {
                severity: f["severity"].as_str().unwrap_or("info").to_string(),
                rule: f["rule"].as_str().unwrap_or("").to_string(),
                title: f["title"].as_str().unwrap_or("").to_string(),
                device: f["device"]["ip"]
                    .as_str()
                    .or_else(|| f["device"]["mac"].as_str())
                    .unwrap_or("")
                    .to_string(),
                peer: f["peer"]["ip"]
                    .as_str()
                    .or_else(|| f["peer"]["mac"].as_str())
                    .map(str::to_string),
                count: f["count"].as_u64().unwrap_or(1),
            };
            *self
                .findings_by_severity
                .entry(line.severity.clone())
                .or_default() += 1;
            all.push(line);
            // Keep memory bounded on huge files: trim to the best few now and then.
            if all.len() >= 4 * TOP + 1024 {
                sort_findings(&mut all);
                all.truncate(TOP);
            }
        })?;
        sort_findings(&mut all);
        all.truncate(TOP);
        self.top_findings = all;
        Ok(())
    }

    fn read_alerts(&mut self, dir: &Path) -> Result<(), SummaryError> {
        let mut sources: HashMap<String, u64> = HashMap::new();
        let mut episode_sources: HashMap<String, u64> = HashMap::new();
        let mut current: Option<Episode> = None;
        let mut episodes: Vec<Episode> = Vec::new();
        let mut merged = 0u64;
        for_each_json_line(dir, "alerts.jsonl", |v| {
            let src = v["src_ip"]
                .as_str()
                .or_else(|| v["src_mac"].as_str())
                .unwrap_or("?");
            let key = if sources.len() < MAX_SOURCES || sources.contains_key(src) {
                src
            } else {
                "other"
            };
            *sources.entry(key.to_string()).or_default() += 1;
            let Some(ts) = v["timestamp"].as_str().and_then(parse_eve_time) else {
                return;
            };
            match current.as_mut() {
                Some(e) if ts - e.end_ns <= EPISODE_GAP_NS => {
                    e.end_ns = e.end_ns.max(ts);
                    e.alerts += 1;
                }
                _ => {
                    if let Some(mut done) = current.take() {
                        done.top_source = top_of(&episode_sources);
                        episode_sources.clear();
                        close_episode(&mut episodes, done, &mut merged);
                    }
                    current = Some(Episode {
                        start_ns: ts,
                        end_ns: ts,
                        alerts: 1,
                        top_source: (String::new(), 0),
                    });
                }
            }
            if episode_sources.len() < MAX_SOURCES || episode_sources.contains_key(src) {
                *episode_sources.entry(src.to_string()).or_default() += 1;
            }
        })?;
        if let Some(mut done) = current {
            done.top_source = top_of(&episode_sources);
            close_episode(&mut episodes, done, &mut merged);
        }
        let mut top: Vec<(String, u64)> = sources.into_iter().collect();
        top.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        top.truncate(TOP);
        self.top_sources = top;
        self.timeline = episodes;
        self.timeline_merged = merged;
        Ok(())
    }

    fn read_files(&mut self, dir: &Path) {
        let Ok(text) = std::fs::read_to_string(dir.join("custos-run.json")) else {
            return;
        };
        let Ok(v) = serde_json::from_str::<Value>(&text) else {
            return;
        };
        for f in v["files"].as_array().into_iter().flatten() {
            if let Some(name) = f["name"].as_str() {
                let size = std::fs::metadata(dir.join(name)).map_or(0, |m| m.len());
                self.files.push((name.to_string(), size));
            }
        }
    }

    /// The summary as text in `format`.
    pub fn render(&self, format: Format) -> String {
        render::render(self, format)
    }
}

fn sort_findings(v: &mut [FindingLine]) {
    v.sort_by(|a, b| {
        severity_rank(&a.severity)
            .cmp(&severity_rank(&b.severity))
            .then(b.count.cmp(&a.count))
            .then_with(|| a.rule.cmp(&b.rule))
            .then_with(|| a.device.cmp(&b.device))
    });
}

/// Adds a finished episode; past [`MAX_EPISODES`] it is merged into the last one.
fn close_episode(episodes: &mut Vec<Episode>, done: Episode, merged: &mut u64) {
    if episodes.len() >= MAX_EPISODES {
        if let Some(last) = episodes.last_mut() {
            last.end_ns = last.end_ns.max(done.end_ns);
            last.alerts += done.alerts;
            *merged += 1;
            return;
        }
    }
    episodes.push(done);
}

fn top_of(m: &HashMap<String, u64>) -> (String, u64) {
    m.iter()
        .max_by(|a, b| a.1.cmp(b.1).then_with(|| b.0.cmp(a.0)))
        .map(|(k, v)| (k.clone(), *v))
        .unwrap_or_default()
}

/// Calls `f` with each JSON line of the output `name` in `dir` (plain or `.zst`); a missing
/// file is no lines.
///
/// # Errors
/// A line that is not JSON (the error names file and line), or a read error.
fn for_each_json_line(
    dir: &Path,
    name: &str,
    mut f: impl FnMut(&Value),
) -> Result<(), SummaryError> {
    let Ok(reader) = crate::open_output(dir, name) else {
        return Ok(());
    };
    let path = dir.join(name);
    for (i, line) in reader.lines().enumerate() {
        let line = line.map_err(|e| unreadable(&path, format!("line {}: {e}", i + 1)))?;
        if line.trim().is_empty() {
            continue;
        }
        let v: Value = serde_json::from_str(&line)
            .map_err(|e| unreadable(&path, format!("line {}: not JSON: {e}", i + 1)))?;
        f(&v);
    }
    Ok(())
}
