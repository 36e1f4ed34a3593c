//! Detection sinks: `alerts.jsonl` (EVE alerts) and `scores.csv` (one row per packet).

use crate::out_file::{Compression, OutFile};
use crate::sink::{RunEnd, RunInfo, Sink, SinkError};
use crate::time::fill_digits;
use crate::{Record, RecordKinds};
use std::io::Write;
use std::path::Path;

/// `alerts.jsonl`: one EVE `alert` event per line.
pub struct AlertsSink {
    out: Option<OutFile>,
}

impl AlertsSink {
    /// The sink, writing `dir/alerts.jsonl`.
    ///
    /// # Errors
    /// The file cannot be created.
    pub fn create(dir: &Path, compression: Compression) -> Result<Self, SinkError> {
        let out = OutFile::create(dir, "alerts.jsonl", compression)
            .map_err(|e| SinkError::new("alerts.jsonl", e))?;
        Ok(AlertsSink { out: Some(out) })
    }
}

impl Sink for AlertsSink {
    fn name(&self) -> &str {
        "alerts.jsonl"
    }

    fn reads(&self) -> RecordKinds {
        RecordKinds::ALERTS
    }

    fn record(&mut self, record: &Record) -> Result<(), SinkError> {
        if let (Record::Alert(a), Some(out)) = (record, self.out.as_mut()) {
            serde_json::to_writer(&mut *out, a)
                .map_err(std::io::Error::from)
                .and_then(|()| out.write_all(b"\n"))
                .map_err(|e| SinkError::new("alerts.jsonl", e))?;
        }
        Ok(())
    }

    fn finish(&mut self, _end: &RunEnd) -> Result<Option<serde_json::Value>, SinkError> {
        if let Some(out) = self.out.take() {
            out.close().map_err(|e| SinkError::new("alerts.jsonl", e))?;
        }
        Ok(None)
    }
}

/// `scores.csv`: `index,ts` then one column per packet-scoring detector (`score` when only
/// one runs).
pub struct ScoresSink {
    out: Option<OutFile>,
    line: Vec<u8>,
    scores: ScoreText,
    /// The second of packet time last written and its text with the point (`1795651200.`).
    second: (Option<i64>, Vec<u8>),
}

/// Slots of [`ScoreText`] (a power of two).
const SCORE_TEXT_SLOTS: usize = 256;

/// Scores as text (`f64`'s `Display`, the shortest form that reads back exactly), remembered
/// by bit pattern in a direct-mapped cache. A flow detector's scores repeat — a packet carries
/// its flow's latest score, 0 outside flows, and a flood's flows share theirs — and the float
/// formatting cost as much as the rest of the line; a miss costs one comparison more.
struct ScoreText {
    slots: Vec<(u64, String)>,
}

impl ScoreText {
    fn new() -> Self {
        // Slot 0 starts with the score 0 (bits 0); every other slot with a NaN pattern that
        // no score has (scores are never NaN: detectors give finite values).
        let mut slots = vec![(u64::MAX, String::new()); SCORE_TEXT_SLOTS];
        slots[0] = (0, "0".to_string());
        ScoreText { slots }
    }

    /// The text of `score`.
    fn text(&mut self, score: f64) -> &str {
        use std::fmt::Write as _;
        let bits = score.to_bits();
        let i = (bits.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 56) as usize % SCORE_TEXT_SLOTS;
        let slot = &mut self.slots[i];
        if slot.0 != bits || slot.1.is_empty() {
            slot.0 = bits;
            slot.1.clear();
            let _ = write!(slot.1, "{score}");
        }
        &slot.1
    }
}

impl ScoresSink {
    /// The sink, writing `dir/scores.csv`.
    ///
    /// # Errors
    /// The file cannot be created.
    pub fn create(dir: &Path, compression: Compression) -> Result<Self, SinkError> {
        let out = OutFile::create(dir, "scores.csv", compression)
            .map_err(|e| SinkError::new("scores.csv", e))?;
        Ok(ScoresSink {
            out: Some(out),
            line: Vec::with_capacity(64),
            scores: ScoreText::new(),
            second: (None, Vec::with_capacity(24)),
        })
    }
}

impl Sink for ScoresSink {
    fn name(&self) -> &str {
        "scores.csv"
    }

    fn begin(&mut self, run: &RunInfo) -> Result<(), SinkError> {
        let header = match run.score_columns.as_slice() {
            [_] | [] => "score".to_string(),
            cols => cols.join(","),
        };
        if let Some(out) = self.out.as_mut() {
            writeln!(out, "index,ts,{header}").map_err(|e| SinkError::new("scores.csv", e))?;
        }
        Ok(())
    }

    fn reads(&self) -> RecordKinds {
        RecordKinds::SCORES
    }

    fn record(&mut self, record: &Record) -> Result<(), SinkError> {
        if let (Record::Scores(row), Some(out)) = (record, self.out.as_mut()) {
            // `index,secs.nanoseconds` as `write!("{},{secs}.{ns:09}")` would give, without
            // the formatting machinery (a fifth of the flow detector's cost at one thread).
            // Bytes, not `String`: no UTF-8 encoding per character pushed.
            let l = &mut self.line;
            l.clear();
            let mut num = itoa::Buffer::new();
            l.extend_from_slice(num.format(row.index).as_bytes());
            l.push(b',');
            // `secs.` changes once a second of packet time: kept as text.
            let secs = row.ts.div_euclid(1_000_000_000);
            if self.second.0 != Some(secs) {
                self.second.1.clear();
                self.second.1.extend_from_slice(num.format(secs).as_bytes());
                self.second.1.push(b'.');
                self.second.0 = Some(secs);
            }
            l.extend_from_slice(&self.second.1);
            let mut nanos = [b'0'; 9];
            fill_digits(&mut nanos, row.ts.rem_euclid(1_000_000_000).unsigned_abs());
            l.extend_from_slice(&nanos);
            for &s in row.scores() {
                l.push(b',');
                l.extend_from_slice(self.scores.text(s).as_bytes());
            }
            l.push(b'\n');
            out.write_all(l)
                .map_err(|e| SinkError::new("scores.csv", e))?;
        }
        Ok(())
    }

    fn finish(&mut self, _end: &RunEnd) -> Result<Option<serde_json::Value>, SinkError> {
        if let Some(out) = self.out.take() {
            out.close().map_err(|e| SinkError::new("scores.csv", e))?;
        }
        Ok(None)
    }
}

#[cfg(test)]
mod test {
    use super::{ScoreText, ScoresSink};
    use crate::{Compression, Record, RunEnd, RunInfo, ScoreRow, Sink, MAX_SCORE_COLUMNS};

    #[test]
    fn score_lines_are_the_formatted_text() {
        let dir = tempfile::tempdir().unwrap();
        let mut sink = ScoresSink::create(dir.path(), Compression::None).unwrap();
        let info = RunInfo {
            score_columns: vec!["kitsune".into(), "flow".into()],
            ..RunInfo::default()
        };
        sink.begin(&info).unwrap();
        let times = [
            0i64,
            1,
            999_999_999,
            1_000_000_000,
            1_795_651_181_390_047_000,
            1_795_651_181_390_047_001,
            -1,
            -1_000_000_000,
            -1_500_000_001,
            i64::MAX,
            i64::MIN,
        ];
        let mut want = String::from("index,ts,kitsune,flow\n");
        for (i, &ts) in times.iter().enumerate() {
            let index = [0, 7, u64::MAX][i % 3];
            let scores = [i as f64 / 3.0, -0.0, 1e-300, 0.25][i % 4];
            let mut values = [0.0; MAX_SCORE_COLUMNS];
            values[0] = scores;
            values[1] = 1.0 - scores;
            let row = ScoreRow {
                index,
                ts,
                values,
                len: 2,
            };
            sink.record(&Record::Scores(row)).unwrap();
            let (secs, ns) = (ts.div_euclid(1_000_000_000), ts.rem_euclid(1_000_000_000));
            want += &format!("{index},{secs}.{ns:09},{},{}\n", values[0], values[1]);
        }
        sink.finish(&RunEnd::default()).unwrap();
        let got = std::fs::read_to_string(dir.path().join("scores.csv")).unwrap();
        assert_eq!(got, want);
    }

    #[test]
    fn score_text_is_display_whatever_the_cache_holds() {
        let mut t = ScoreText::new();
        let values: Vec<f64> = (0..5_000)
            .map(|i| f64::from(i % 700) / 7.0 - 3.0)
            .chain([0.0, -0.0, 1e-300, 1e300, f64::MIN_POSITIVE, 0.1 + 0.2, 1.0])
            .collect();
        for round in 0..2 {
            for &v in &values {
                assert_eq!(t.text(v), v.to_string(), "{v} (round {round})");
            }
        }
    }
}
