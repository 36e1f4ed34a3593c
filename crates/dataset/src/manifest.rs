//! `manifest.json`: where a dataset came from and what it holds.
//!
//! Keys keep the order of these structs (maps are sorted), so a manifest is the same bytes
//! for the same inputs, settings and custos version. It holds no wall-clock time and no
//! absolute path the caller did not give.

use crate::collector::CollectorReport;
use crate::counts::{Counts, Duplicates};
use crate::error::DatasetError;
use crate::labels::LabelKind;
use crate::schema::{self, Column, FEATURE_SCHEMA, FEATURE_SCHEMA_VERSION};
use crate::sink::SinkReport;
use custos_engine::EngineConfig;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::Path;

/// The manifest's file name in the dataset directory.
pub const MANIFEST_FILE: &str = "manifest.json";

/// The rule of per-packet labels, as the manifest states it.
pub const PER_PACKET_RULE: &str = "A flow is an attack flow (label 1) when any of its packets \
is labelled 1 in the per-packet labels of its capture, benign (0) otherwise. Its phase is the \
phase of its first attack packet; a benign flow takes the phase of its first packet. A flow's \
packets are exactly the IP layers the flow table gave it (docs/dataset.md).";

/// The rule of per-flow labels, as the manifest states it.
pub const PER_FLOW_RULE: &str = "Each flow takes the label (0 benign, 1 attack) and phase of \
the row of its uid in the per-flow labels; every flow must have a row and every row must name \
a flow of this run.";

/// The rule for duplicate flows, as the manifest states it.
pub const DUPLICATE_RULE: &str = "A row is a duplicate when its feature columns (role \
feature) equal those of an earlier row (compared by a 64-bit hash); it conflicts when the \
earlier identical rows carry only the other label.";

/// One input file, identified by its SHA-256.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct InputFile {
    /// `capture`, `labels` or `datasheet`.
    pub role: &'static str,
    /// The path as given.
    pub path: String,
    /// Size in bytes.
    pub bytes: u64,
    /// SHA-256, lowercase hex.
    pub sha256: String,
}

/// How flows were labelled.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Labelling {
    /// `per-packet` or `per-flow`.
    pub kind: LabelKind,
    /// The rule, in words.
    pub rule: &'static str,
    /// Phase names, in order of first appearance in the labels.
    pub phases: Vec<String>,
}

/// The feature schema: name, version, columns and their hash.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FeatureSchema {
    /// [`FEATURE_SCHEMA`].
    pub name: &'static str,
    /// [`FEATURE_SCHEMA_VERSION`].
    pub version: u32,
    /// SHA-256 of the compact JSON array `[columns, prefix_columns]`.
    pub sha256: String,
    /// Every column of `flows.parquet`, in order.
    pub columns: Vec<Column>,
    /// Every column of `flow-prefixes.parquet`, in order.
    pub prefix_columns: Vec<Column>,
}

/// The settings of the run that decide what the rows hold.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RunConfig {
    /// Packets read at most (`None`: all).
    pub max_packets: Option<u64>,
    /// Checksum setting (`auto`, `verify`, `ignore`).
    pub checksums: String,
    /// Flow table cap.
    pub max_flows: usize,
    /// Zeek bare-mode originator rules.
    pub zeek_bare: bool,
    /// Extra default-credential list, as given.
    pub default_credentials: Option<String>,
}

impl RunConfig {
    /// The relevant settings of `c`.
    pub fn of(c: &EngineConfig) -> RunConfig {
        RunConfig {
            max_packets: c.max_packets,
            checksums: format!("{:?}", c.decode.checksums).to_lowercase(),
            max_flows: c.flow.max_flows,
            zeek_bare: c.flow.zeek_bare,
            default_credentials: c
                .app
                .default_credentials
                .as_ref()
                .map(|p| p.display().to_string()),
        }
    }
}

/// What the run read and how well the flows were rebuilt.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RunFacts {
    /// Packets read.
    pub packets: u64,
    /// An input was damaged part-way (the dataset covers what came before).
    pub partial: bool,
    /// The run's warnings.
    pub warnings: Vec<String>,
    /// The collector's counts (refused packets, unmatched events, inexact flows).
    pub collector: CollectorReport,
}

/// The Parquet file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OutputFile {
    /// File name in the dataset directory.
    pub file: String,
    /// Size in bytes.
    pub bytes: u64,
    /// SHA-256, lowercase hex.
    pub sha256: String,
    /// Rows.
    pub rows: u64,
    /// Row groups.
    pub row_groups: u64,
}

/// First and last packet time over all flows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TimeSpan {
    /// First packet, EVE time (UTC).
    pub first: String,
    /// Last packet, EVE time (UTC).
    pub last: String,
    /// First packet, ns since the epoch.
    pub first_ns: i64,
    /// Last packet, ns since the epoch.
    pub last_ns: i64,
}

/// Duplicate flows and the rule that finds them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DuplicateReport {
    /// [`DUPLICATE_RULE`].
    pub rule: &'static str,
    /// What was found.
    #[serde(flatten)]
    pub found: Duplicates,
}

/// The manifest of a dataset.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Manifest {
    /// Always `custos dataset manifest`.
    pub format: &'static str,
    /// The custos version that built it.
    pub custos_version: &'static str,
    /// Captures, labels and datasheet information, in that order, as given.
    pub inputs: Vec<InputFile>,
    /// The labelling.
    pub labelling: Labelling,
    /// The feature schema.
    pub feature_schema: FeatureSchema,
    /// The settings that decide the rows.
    pub config: RunConfig,
    /// What the run read.
    pub run: RunFacts,
    /// The Parquet file.
    pub output: OutputFile,
    /// The flows' prefixes (`flow-prefixes.parquet`): each flow at 1, 2, 4, … packets.
    pub prefixes: OutputFile,
    /// Flows per label, phase and device.
    pub counts: Counts,
    /// Time span of the flows (`None`: no flow).
    pub time_span: Option<TimeSpan>,
    /// Duplicate flows.
    pub duplicates: DuplicateReport,
}

impl Manifest {
    /// The lines that report building the dataset in `dir`: the run's warnings
    /// (`warning: …`), then the flows per label, the packets, the file and its SHA-256.
    pub fn report_lines(&self, dir: &Path) -> Vec<String> {
        let mut lines: Vec<String> = self
            .run
            .warnings
            .iter()
            .map(|w| format!("warning: {w}"))
            .collect();
        let labels: Vec<String> = self
            .counts
            .label
            .iter()
            .map(|(k, v)| format!("{v} {k}"))
            .collect();
        lines.push(format!(
            "{} flows ({}) from {} packets in {} (sha256 {})",
            self.output.rows,
            labels.join(", "),
            self.run.packets,
            dir.join(&self.output.file).display(),
            self.output.sha256
        ));
        lines
    }

    /// The manifest as written: pretty JSON and a final newline.
    ///
    /// # Errors
    /// Never in practice (every value serialises); reported as an I/O error.
    pub fn to_json(&self) -> Result<Vec<u8>, DatasetError> {
        let mut v = serde_json::to_vec_pretty(self).map_err(|e| {
            DatasetError::io("cannot serialise the manifest", std::io::Error::other(e))
        })?;
        v.push(b'\n');
        Ok(v)
    }
}

/// The feature schema of this version, with its hash.
pub fn feature_schema() -> FeatureSchema {
    let columns = schema::columns();
    let prefix_columns = schema::prefix_columns();
    let json = serde_json::to_vec(&(&columns, &prefix_columns)).unwrap_or_default();
    FeatureSchema {
        name: FEATURE_SCHEMA,
        version: FEATURE_SCHEMA_VERSION,
        sha256: hex(&Sha256::digest(&json)),
        columns,
        prefix_columns,
    }
}

/// What [`crate::build`] hands over to make the manifest.
pub(crate) struct Parts {
    pub inputs: Vec<InputFile>,
    pub labelling: Labelling,
    pub config: RunConfig,
    pub run: RunFacts,
    pub output: OutputFile,
    pub prefixes: OutputFile,
    pub sink: SinkReport,
}

impl From<Parts> for Manifest {
    fn from(p: Parts) -> Manifest {
        let time_span = p.sink.span.map(|(first_ns, last_ns)| TimeSpan {
            first: custos_output::time::eve_time(first_ns),
            last: custos_output::time::eve_time(last_ns),
            first_ns,
            last_ns,
        });
        Manifest {
            format: "custos dataset manifest",
            custos_version: env!("CARGO_PKG_VERSION"),
            inputs: p.inputs,
            labelling: p.labelling,
            feature_schema: feature_schema(),
            config: p.config,
            run: p.run,
            output: p.output,
            prefixes: p.prefixes,
            counts: p.sink.counts,
            time_span,
            duplicates: DuplicateReport {
                rule: DUPLICATE_RULE,
                found: p.sink.duplicates,
            },
        }
    }
}

/// Size and SHA-256 of the file at `path`.
///
/// # Errors
/// The file cannot be read.
pub fn sha256_file(path: &Path) -> Result<(u64, String), DatasetError> {
    let io = |e| DatasetError::io(format!("cannot read {}", path.display()), e);
    let mut f = std::fs::File::open(path).map_err(io)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut n = 0u64;
    loop {
        let k = f.read(&mut buf).map_err(io)?;
        let Some(chunk) = buf.get(..k).filter(|c| !c.is_empty()) else {
            break;
        };
        h.update(chunk);
        n += k as u64;
    }
    Ok((n, hex(&h.finalize())))
}

/// An input's record.
pub(crate) fn input(role: &'static str, path: &Path) -> Result<InputFile, DatasetError> {
    let (bytes, sha256) = sha256_file(path)?;
    Ok(InputFile {
        role,
        path: path.display().to_string(),
        bytes,
        sha256,
    })
}

/// Lowercase hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// SHA-256 of `bytes`, lowercase hex.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}
