//! `scores.csv` (or `scores.csv.zst`): one row per packet of the run, `index,ts` then one
//! column per packet-scoring detector (`score` when one ran, named then by `stats.json`).
//!
//! Memory is bounded by the run's length: one `f32` per evaluated packet and detector, plus
//! [`TIMELINE_POINTS`] points per detector for the timeline plot.

use crate::labels::{parse_ns, Truth};
use crate::stats::RunStats;
use crate::EvalError;
use std::path::Path;

/// Most points a timeline keeps: evaluated packets are cut into this many runs of equal
/// length (by packet index) and each run keeps its highest-scoring packet (the first one on
/// ties), so the plot is the same for the same input and no peak is lost.
pub const TIMELINE_POINTS: usize = 2000;

/// One packet kept for the timeline.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Point {
    /// Packet time, ns.
    pub ts: i64,
    /// Its score.
    pub score: f32,
}

/// One detector's scores.
#[derive(Clone, Debug)]
pub(crate) struct Column {
    /// Detector name (the column's header, `score` resolved through `stats.json`).
    pub name: String,
    /// Score per evaluated packet, in run order.
    pub scores: Vec<f32>,
    /// The timeline: at most [`TIMELINE_POINTS`] points in run order.
    pub timeline: Vec<Point>,
}

/// Reads the scores of every evaluated packet; `Ok(None)` when the run wrote none.
///
/// # Errors
/// The file is malformed, a score is NaN, a row's index is not its position, or the row
/// count differs from the packets of `stats.json`.
pub(crate) fn read(
    dir: &Path,
    stats: &RunStats,
    truth: &Truth,
) -> Result<Option<Vec<Column>>, EvalError> {
    let path = dir.join("scores.csv");
    if !path.exists() && !dir.join("scores.csv.zst").exists() {
        return Ok(None);
    }
    let reader =
        custos_output::open_output(dir, "scores.csv").map_err(|e| EvalError::io(&path, e))?;
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(reader);
    let header = rdr
        .byte_headers()
        .map_err(|e| EvalError::invalid(&path, 1, e.to_string()))?;
    let names: Vec<String> = header
        .iter()
        .skip(2)
        .map(|h| String::from_utf8_lossy(h).trim().to_string())
        .collect();
    if header.get(0) != Some(b"index") || header.get(1) != Some(b"ts") || names.is_empty() {
        let msg = "header must be index,ts,<detector>…";
        return Err(EvalError::invalid(&path, 1, msg));
    }
    let mut acc = Accumulator::new(&names, stats, truth);
    let mut rec = csv::ByteRecord::new();
    while rdr.read_byte_record(&mut rec).map_err(|e| {
        let line = e.position().map_or(0, |p| p.line());
        EvalError::invalid(&path, line, e.to_string())
    })? {
        acc.row(&path, &rec)?;
    }
    if acc.row != acc.total {
        let msg = format!("{} rows for the {} packets of the run", acc.row, acc.total);
        return Err(EvalError::mismatch(&path, msg));
    }
    Ok(Some(acc.columns))
}

/// The columns being filled, row by row.
struct Accumulator<'t> {
    /// The labels.
    truth: &'t Truth,
    /// One per detector.
    columns: Vec<Column>,
    /// Per column, the bucket of its last timeline point.
    last_bucket: Vec<usize>,
    /// Timeline buckets.
    buckets: usize,
    /// Evaluated packets.
    evaluated: u64,
    /// Packets of the run.
    total: u64,
    /// Rows read.
    row: u64,
}

impl<'t> Accumulator<'t> {
    /// Empty columns named after `names`.
    fn new(names: &[String], stats: &RunStats, truth: &'t Truth) -> Self {
        let total = truth.codes.len() as u64;
        let evaluated = total.saturating_sub(truth.skip);
        let buckets = usize::try_from(evaluated)
            .unwrap_or(usize::MAX)
            .min(TIMELINE_POINTS);
        let columns: Vec<Column> = names
            .iter()
            .map(|n| Column {
                name: column_name(n, names.len(), stats),
                scores: Vec::with_capacity(usize::try_from(evaluated).unwrap_or(0)),
                timeline: Vec::with_capacity(buckets),
            })
            .collect();
        Accumulator {
            truth,
            last_bucket: vec![usize::MAX; columns.len()],
            columns,
            buckets,
            evaluated,
            total,
            row: 0,
        }
    }

    /// Takes one row.
    fn row(&mut self, path: &Path, rec: &csv::ByteRecord) -> Result<(), EvalError> {
        let line = rec.position().map_or(0, |p| p.line());
        let text = |c: usize| std::str::from_utf8(rec.get(c).unwrap_or(b"")).unwrap_or("");
        let row = self.row;
        if text(0).parse::<u64>().ok() != Some(row) {
            let msg = format!("index {:?}, expected {row}", text(0));
            return Err(EvalError::invalid(path, line, msg));
        }
        if self.truth.code(row).is_none() {
            let msg = format!(
                "more rows than the {} labelled packets (line {line})",
                self.total
            );
            return Err(EvalError::mismatch(path, msg));
        }
        self.row += 1;
        if row < self.truth.skip {
            return Ok(());
        }
        let ts = parse_ns(text(1))
            .ok_or_else(|| EvalError::invalid(path, line, format!("bad ts {:?}", text(1))))?;
        let pos = u128::from(row - self.truth.skip) * self.buckets as u128;
        let bucket = usize::try_from(pos / u128::from(self.evaluated.max(1))).unwrap_or(usize::MAX);
        for (c, (col, last)) in self
            .columns
            .iter_mut()
            .zip(&mut self.last_bucket)
            .enumerate()
        {
            let s: f64 = text(c + 2).parse().map_err(|_| {
                let msg = format!("bad score {:?} for {}", text(c + 2), col.name);
                EvalError::invalid(path, line, msg)
            })?;
            if s.is_nan() {
                let msg = format!("NaN score for {}", col.name);
                return Err(EvalError::invalid(path, line, msg));
            }
            let s = s as f32;
            col.scores.push(s);
            let p = Point { ts, score: s };
            match col.timeline.last_mut() {
                Some(prev) if *last == bucket => {
                    if s > prev.score {
                        *prev = p;
                    }
                }
                _ => {
                    col.timeline.push(p);
                    *last = bucket;
                }
            }
        }
        Ok(())
    }
}

/// The detector a score column belongs to: its header, or for the lone `score` column the
/// one detector `stats.json` names.
fn column_name(header: &str, columns: usize, stats: &RunStats) -> String {
    match (header, columns, stats.detectors.as_slice()) {
        ("score", 1, [only]) => only.name.clone(),
        _ => header.to_string(),
    }
}
