//! `stats.json`: what a run saw, deterministic except for the `run` object.

use serde::Serialize;
use std::collections::BTreeMap;

/// Per-input statistics.
#[derive(Clone, Debug, Default, Serialize)]
pub struct FileStats {
    /// Path as given.
    pub path: String,
    /// Capture format.
    pub format: String,
    /// Packets read.
    pub packets: u64,
    /// Captured bytes read.
    pub bytes: u64,
    /// SHA-256 of the whole file, lower-case hex (runs writing an output directory; not for
    /// standard input or live interfaces): what `custos evaluate` compares with a model's
    /// training inputs to flag leakage.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// The error that stopped reading early, if any (file, byte offset, packet number).
    pub error: Option<String>,
    /// Input accepted but altered while reading (e.g. saturated timestamps); absent if none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// The application layer's counters.
#[derive(Clone, Debug, Default, Serialize)]
pub struct AppSummary {
    /// Connections followed.
    pub connections: u64,
    /// Connections whose protocol was recognised.
    pub recognised: u64,
    /// Application events.
    pub events: u64,
    /// Connections ended early to keep the bounds.
    pub evicted: u64,
    /// Bytes missed in reassembly (gaps).
    pub missed_bytes: u64,
    /// Devices in the inventory.
    pub devices: usize,
    /// Findings written.
    pub findings: usize,
    /// Findings not kept (caps).
    pub findings_not_kept: u64,
}

/// Live capture: what the kernel saw and dropped, and what custos read.
#[derive(Clone, Debug, Default, Serialize)]
pub struct LiveStats {
    /// Frames the kernel gave the capture socket, dropped ones included.
    pub kernel_seen: u64,
    /// Frames the kernel dropped because the socket buffer was full (custos did not keep up).
    pub kernel_dropped: u64,
    /// Frames custos's own queues dropped: always 0, they make the reader wait instead, so
    /// any loss shows up as `kernel_dropped`.
    pub custos_dropped: u64,
    /// Frames still in the socket buffer when the capture stopped (not read).
    pub left_unread: u64,
    /// The socket buffer the kernel granted, bytes.
    pub buffer_bytes: u64,
}

/// Wall-clock measurements: the only non-deterministic part of `stats.json`.
#[derive(Clone, Debug, Default, Serialize)]
pub struct RunStats {
    /// Seconds from the first to the last packet processed.
    pub wall_seconds: f64,
    /// Packets per wall-clock second.
    pub packets_per_second: f64,
    /// Peak resident memory of the process (Linux `VmHWM`), when known.
    pub peak_rss_bytes: Option<u64>,
    /// Threads the run used (`--threads`).
    pub threads: usize,
}

/// First and last packet time of a run.
#[derive(Clone, Debug, Default, Serialize)]
pub struct TimeSpan {
    /// The first packet's time.
    pub first: String,
    /// The last packet's time.
    pub last: String,
    /// Seconds between them.
    pub seconds: f64,
}

/// Everything in `stats.json`.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Stats {
    /// Packets read from all inputs.
    pub packets: u64,
    /// Captured bytes read.
    pub bytes: u64,
    /// Original (wire) bytes of the packets read.
    pub wire_bytes: u64,
    /// Packet time of the first and the last packet read (EVE timestamps, UTC); absent
    /// when no packet was read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_span: Option<TimeSpan>,
    /// Per-input details, in argument order.
    pub files: Vec<FileStats>,
    /// Packets per link type name.
    pub link_types: BTreeMap<String, u64>,
    /// Packets skipped because their link type is not supported, per link type name.
    pub unsupported_link_types: BTreeMap<String, u64>,
    /// Decode errors per layer name.
    pub decode_errors: BTreeMap<String, u64>,
    /// Packets whose IPv4 header checksum was wrong (dropped under verification).
    pub bad_ip_checksums: u64,
    /// Transport checksums judged bad (kept out of flow state).
    pub bad_transport_checksums: u64,
    /// Checksum mode asked for and what `auto` decided.
    pub checksums: BTreeMap<String, String>,
    /// Fragment reassembly counters.
    pub fragments: BTreeMap<String, u64>,
    /// Flow counters.
    pub flows: BTreeMap<String, u64>,
    /// Live capture counters (kernel drops), for a live interface.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub live: Option<LiveStats>,
    /// Application-layer counters (connections followed, events, gaps).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app: Option<AppSummary>,
    /// Detection summary (feature map, threshold, alerts), when one detector ran.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detector: Option<serde_json::Value>,
    /// Detection summaries by detector name, when several ran.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub detectors: BTreeMap<String, serde_json::Value>,
    /// The signature detector's rule counts (`loaded`, `skipped`, `skipped_by_keyword`,
    /// `errors`) at a fixed place, whichever other detectors ran; the full summary stays
    /// under `detector` or `detectors.rules`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rules: Option<serde_json::Value>,
    /// What output sinks reported (e.g. leaves logged as evidence), by sink name.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub outputs: BTreeMap<String, serde_json::Value>,
    /// Wall-clock figures (vary between runs).
    pub run: RunStats,
}
