//! Ground truth: labels files, read before the run.
//!
//! Two kinds, told apart by their header:
//!
//! - **per packet** (`custos lab`'s `PREFIX.labels.csv`, the reference captures' labels): the
//!   header names `index` and `label`, usually `phase` and `time`; row *r* has `index` *r*,
//!   indices count packets within one capture file, `label` is `0` (benign) or `1` (attack).
//!   One file per capture, paired in order. When a `time` column is there, each packet's time
//!   must equal its row's within [`TIME_TOLERANCE_NS`]: labels paired with the wrong capture
//!   are refused at their first packet.
//! - **per flow**: the header names `uid` (conn.log's uid) and `label`, optionally `phase`.
//!   Uids are unique within a run (Community IDs are not: a reused 5-tuple gives one Community
//!   ID to two flows). Several files may be given; each applies to the whole run.
//!
//! A run uses one kind. Other columns (`attacker`, …) are ignored. A file whose name ends in
//! `.zst` is read through zstd.

use crate::error::DatasetError;
use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Largest difference allowed between a packet's time and its label row's `time`, ns.
pub const TIME_TOLERANCE_NS: i64 = 1_000;

/// Most distinct phase names over all labels files.
const MAX_PHASES: usize = u16::MAX as usize;

/// The label of one packet or flow; its phase is an index into [`Labels::phases`].
pub use custos_features::flow::Label;

/// Which kind of labels a run has.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LabelKind {
    /// One row per packet, one file per capture.
    PerPacket,
    /// One row per flow, keyed by uid.
    PerFlow,
}

/// The labels of one capture, one entry per packet.
#[derive(Debug)]
struct PacketFile {
    path: PathBuf,
    labels: Vec<Label>,
    /// Packet times (ns), when the file has a `time` column.
    times: Option<Vec<i64>>,
}

/// One per-flow label, with where it was read and whether a flow used it.
#[derive(Debug)]
struct FlowEntry {
    label: Label,
    file: usize,
    line: u64,
    used: bool,
}

/// The labels of a run.
#[derive(Debug)]
pub struct Labels {
    kind: LabelKind,
    paths: Vec<PathBuf>,
    packets: Vec<PacketFile>,
    flows: HashMap<String, FlowEntry>,
    phases: Vec<String>,
    phase_ids: HashMap<String, u16>,
}

impl Labels {
    /// Reads `paths`, the labels of a run over `captures` capture files.
    ///
    /// # Errors
    /// No labels file, kinds mixed, per-packet files not one per capture, a file that cannot
    /// be read, or a malformed row ([`DatasetError::Labels`] names the file and line).
    pub fn read(paths: &[PathBuf], captures: usize) -> Result<Labels, DatasetError> {
        let Some(first) = paths.first() else {
            return Err(DatasetError::Usage(
                "no labels: give one per-packet labels file per capture (as custos lab writes) \
                 or per-flow labels keyed by uid; an unlabelled dataset is refused"
                    .into(),
            ));
        };
        let mut labels = Labels {
            kind: LabelKind::PerPacket,
            paths: paths.to_vec(),
            packets: Vec::new(),
            flows: HashMap::new(),
            phases: Vec::new(),
            phase_ids: HashMap::new(),
        };
        for (k, path) in paths.iter().enumerate() {
            let mut rdr = reader(path)?;
            let cols = Columns::of(path, &mut rdr)?;
            let kind = cols.kind();
            if k == 0 {
                labels.kind = kind;
            } else if kind != labels.kind {
                return Err(DatasetError::Usage(format!(
                    "{} has {} labels but {} has {} labels: use one kind per dataset",
                    first.display(),
                    kind_name(labels.kind),
                    path.display(),
                    kind_name(kind)
                )));
            }
            match kind {
                LabelKind::PerPacket => labels.read_packets(path, &cols, &mut rdr)?,
                LabelKind::PerFlow => labels.read_flows(k, path, &cols, &mut rdr)?,
            }
        }
        if labels.kind == LabelKind::PerPacket && paths.len() != captures {
            return Err(DatasetError::Usage(format!(
                "{} per-packet labels files for {captures} captures: give one per capture, in \
                 the captures' order",
                paths.len()
            )));
        }
        Ok(labels)
    }

    /// The kind of labels.
    pub fn kind(&self) -> LabelKind {
        self.kind
    }

    /// The labels files, in the order given.
    pub fn paths(&self) -> &[PathBuf] {
        &self.paths
    }

    /// Phase names, in order of first appearance; [`Label::phase`] indexes them.
    pub fn phases(&self) -> &[String] {
        &self.phases
    }

    /// Rows of per-packet labels file `file` (0 for per-flow labels).
    pub fn rows(&self, file: usize) -> u64 {
        self.packets.get(file).map_or(0, |f| f.labels.len() as u64)
    }

    /// The label of packet `index` of capture `file`, at time `ts` (ns).
    ///
    /// # Errors
    /// The labels file has no row for it, or its row's time differs from `ts`.
    pub fn packet(&self, file: u16, index: u64, ts: i64) -> Result<Label, DatasetError> {
        let Some(f) = self.packets.get(usize::from(file)) else {
            return Err(DatasetError::Usage(format!(
                "no per-packet labels for capture {file}"
            )));
        };
        let i = usize::try_from(index).unwrap_or(usize::MAX);
        let Some(label) = f.labels.get(i).copied() else {
            return Err(DatasetError::mismatch(
                &f.path,
                format!(
                    "{} rows, but capture {file} has more packets (packet {index}): are the \
                     labels paired with the right capture?",
                    f.labels.len()
                ),
            ));
        };
        if let Some(t) = f.times.as_ref().and_then(|t| t.get(i)) {
            if t.abs_diff(ts) > TIME_TOLERANCE_NS.unsigned_abs() {
                return Err(DatasetError::mismatch(
                    &f.path,
                    format!(
                        "line {}: time {} but packet {index} of capture {file} is at {}: are \
                         the labels paired with the right capture?",
                        index + 2,
                        format_ns(*t),
                        format_ns(ts)
                    ),
                ));
            }
        }
        Ok(label)
    }

    /// The label of the flow with `uid` (per-flow labels), marking it used.
    pub fn flow(&mut self, uid: &str) -> Option<Label> {
        self.flows.get_mut(uid).map(|e| {
            e.used = true;
            e.label
        })
    }

    /// Per-flow labels no flow of the run used: how many, and the first (file, line, uid)
    /// in file order.
    pub fn unused(&self) -> (u64, Option<(PathBuf, u64, String)>) {
        let mut first: Option<(usize, u64, &str)> = None;
        let mut n = 0;
        for (uid, e) in self.flows.iter().filter(|(_, e)| !e.used) {
            n += 1;
            if first.is_none_or(|(f, l, _)| (e.file, e.line) < (f, l)) {
                first = Some((e.file, e.line, uid.as_str()));
            }
        }
        let first = first.map(|(f, l, u)| {
            let path = self.paths.get(f).cloned().unwrap_or_default();
            (path, l, u.to_string())
        });
        (n, first)
    }

    fn read_packets<R: Read>(
        &mut self,
        path: &Path,
        cols: &Columns,
        rdr: &mut csv::Reader<R>,
    ) -> Result<(), DatasetError> {
        let mut file = PacketFile {
            path: path.to_path_buf(),
            labels: Vec::new(),
            times: cols.time.map(|_| Vec::new()),
        };
        let mut rec = csv::StringRecord::new();
        while next(path, rdr, &mut rec)? {
            let line = rec.position().map_or(0, csv::Position::line);
            let at = |m: String| DatasetError::labels(path, line, m);
            let row = file.labels.len() as u64;
            let index = cols.field(&rec, cols.key);
            if index.parse::<u64>().ok() != Some(row) {
                return Err(at(format!("index {index:?}, expected {row}")));
            }
            file.labels.push(self.label(&rec, cols).map_err(at)?);
            if let (Some(c), Some(times)) = (cols.time, file.times.as_mut()) {
                let t = cols.field(&rec, c);
                times.push(parse_ns(t).ok_or_else(|| at(format!("time {t:?} is no time")))?);
            }
        }
        self.packets.push(file);
        Ok(())
    }

    fn read_flows<R: Read>(
        &mut self,
        k: usize,
        path: &Path,
        cols: &Columns,
        rdr: &mut csv::Reader<R>,
    ) -> Result<(), DatasetError> {
        let mut rec = csv::StringRecord::new();
        while next(path, rdr, &mut rec)? {
            let line = rec.position().map_or(0, csv::Position::line);
            let at = |m: String| DatasetError::labels(path, line, m);
            let uid = cols.field(&rec, cols.key);
            if uid.is_empty() {
                return Err(at("empty uid".into()));
            }
            let label = self.label(&rec, cols).map_err(at)?;
            if let Some(e) = self.flows.get(uid) {
                let other = self.paths.get(e.file).map_or(path, PathBuf::as_path);
                return Err(at(format!(
                    "uid {uid} labelled twice (also {}:{})",
                    other.display(),
                    e.line
                )));
            }
            let entry = FlowEntry {
                label,
                file: k,
                line,
                used: false,
            };
            self.flows.insert(uid.to_string(), entry);
        }
        Ok(())
    }

    /// The label and phase of a row.
    fn label(&mut self, rec: &csv::StringRecord, cols: &Columns) -> Result<Label, String> {
        let attack = match cols.field(rec, cols.label) {
            "0" => false,
            "1" => true,
            other => return Err(format!("label {other:?}, expected 0 or 1")),
        };
        let name = cols.phase.map(|c| cols.field(rec, c)).unwrap_or("");
        let name = match (name, attack) {
            ("", true) => "attack",
            ("", false) => {
                return Ok(Label {
                    attack,
                    phase: None,
                })
            }
            (n, _) => n,
        };
        let phase = match self.phase_ids.get(name) {
            Some(&id) => id,
            None if self.phases.len() >= MAX_PHASES => {
                return Err(format!("more than {MAX_PHASES} phases"));
            }
            None => {
                let id = self.phases.len() as u16;
                self.phases.push(name.to_string());
                self.phase_ids.insert(name.to_string(), id);
                id
            }
        };
        Ok(Label {
            attack,
            phase: Some(phase),
        })
    }
}

fn kind_name(kind: LabelKind) -> &'static str {
    match kind {
        LabelKind::PerPacket => "per-packet",
        LabelKind::PerFlow => "per-flow",
    }
}

/// A CSV reader over `path` (through zstd for `.zst`).
fn reader(path: &Path) -> Result<csv::Reader<Box<dyn Read>>, DatasetError> {
    let file = std::fs::File::open(path)
        .map_err(|e| DatasetError::io(format!("cannot open labels {}", path.display()), e))?;
    let input: Box<dyn Read> =
        if path.extension().is_some_and(|e| e == "zst") {
            Box::new(zstd::Decoder::new(file).map_err(|e| {
                DatasetError::io(format!("cannot read labels {}", path.display()), e)
            })?)
        } else {
            Box::new(std::io::BufReader::new(file))
        };
    Ok(csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(input))
}

/// Reads the next row into `rec`; false at the end.
fn next<R: Read>(
    path: &Path,
    rdr: &mut csv::Reader<R>,
    rec: &mut csv::StringRecord,
) -> Result<bool, DatasetError> {
    rdr.read_record(rec).map_err(|e| {
        let line = e.position().map_or(0, csv::Position::line);
        DatasetError::labels(path, line, e.to_string())
    })
}

/// Positions of the columns of a labels file.
struct Columns {
    /// `index` (per packet) or `uid` (per flow).
    key: usize,
    per_flow: bool,
    label: usize,
    phase: Option<usize>,
    time: Option<usize>,
}

impl Columns {
    /// Finds the columns in the header of `rdr`.
    fn of<R: Read>(path: &Path, rdr: &mut csv::Reader<R>) -> Result<Self, DatasetError> {
        let header = rdr
            .headers()
            .map_err(|e| DatasetError::labels(path, 1, e.to_string()))?;
        let col = |name: &str| header.iter().position(|h| h.trim() == name);
        let label = col("label");
        match (col("uid"), col("index"), label) {
            (Some(key), None, Some(label)) | (None, Some(key), Some(label)) => Ok(Columns {
                key,
                per_flow: col("uid").is_some(),
                label,
                phase: col("phase"),
                time: col("time"),
            }),
            _ => Err(DatasetError::labels(
                path,
                1,
                "header must name label and either index (per-packet labels) or uid \
                 (per-flow labels)",
            )),
        }
    }

    fn kind(&self) -> LabelKind {
        if self.per_flow {
            LabelKind::PerFlow
        } else {
            LabelKind::PerPacket
        }
    }

    fn field<'r>(&self, rec: &'r csv::StringRecord, c: usize) -> &'r str {
        rec.get(c).unwrap_or("").trim()
    }
}

/// Parses `[-]seconds[.fraction]` (at most nine decimals) into ns; the sign applies to the
/// whole number (`-0.5` is half a second before the epoch).
fn parse_ns(s: &str) -> Option<i64> {
    custos_output::time::parse_decimal_seconds(s)
        .filter(|&(_, decimals)| decimals <= 9)
        .map(|(ns, _)| ns)
}

/// `seconds.nanoseconds`, as labels files write times (a time before the epoch with its sign
/// in front, as [`parse_ns`] reads it back).
fn format_ns(ns: i64) -> String {
    let sign = if ns < 0 { "-" } else { "" };
    let abs = ns.unsigned_abs();
    format!("{sign}{}.{:09}", abs / 1_000_000_000, abs % 1_000_000_000)
}

#[cfg(test)]
#[path = "labels_tests.rs"]
mod tests;
