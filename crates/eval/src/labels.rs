//! Ground truth: the labels CSV of each input, folded into one byte per packet of the run.
//!
//! A labels file has a header naming at least `index`, `label` (`0` benign, `1` attack) and
//! `time` (packet time, seconds with up to nine decimals); `phase` names the attack phase of
//! an attack packet (`attack` when the column is absent or empty). Other columns
//! (`attacker`, …) are ignored. Row *r* must have `index` *r*: indices count packets within
//! their capture file, and the file's run offset (the packets of the inputs before it, from
//! `stats.json`) turns them into run indices. A file ending in `.zst` is read through zstd.

use crate::stats::RunStats;
use crate::EvalError;
use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

/// Two attack packets of one phase further apart than this (packet time) start separate
/// segments of the phase: the shaded bands of the timeline, and the time that does not
/// count as benign.
pub const SEGMENT_GAP_NS: i64 = 60_000_000_000;

/// Code of a benign packet; attack packets carry `1 +` their phase's position.
pub(crate) const BENIGN: u8 = 0;

/// Most attack phases a run may have (codes are one byte).
const MAX_PHASES: usize = 255;

/// One attack phase: its attack packets and where they fall in time.
#[derive(Clone, Debug)]
pub(crate) struct Phase {
    /// Name from the labels (`phase` column).
    pub name: String,
    /// Evaluated attack packets of the phase.
    pub attack_packets: u64,
    /// Run index of its first evaluated attack packet.
    pub first_index: u64,
    /// Earliest packet time of its evaluated attack packets, ns.
    pub first_ns: i64,
    /// Latest packet time of its evaluated attack packets, ns.
    pub last_ns: i64,
    /// Time segments (start, end), ns: attack packets closer than [`SEGMENT_GAP_NS`].
    pub segments: Vec<(i64, i64)>,
}

/// The labels of every packet of the run, and what evaluation derives from them.
#[derive(Clone, Debug, Default)]
pub(crate) struct Truth {
    /// Per run index: [`BENIGN`] or `1 + phase`.
    pub codes: Vec<u8>,
    /// Packets before this run index are not evaluated.
    pub skip: u64,
    /// Attack phases in order of first appearance.
    pub phases: Vec<Phase>,
    /// Evaluated benign packets.
    pub benign_packets: u64,
    /// Evaluated attack packets.
    pub attack_packets: u64,
    /// Sum over inputs of the time from the first to the last evaluated packet, ns.
    pub span_ns: i64,
    /// Time covered by the union of all phase segments, ns.
    pub attack_ns: i64,
    /// Time of the first evaluated packet, ns.
    pub first_ns: Option<i64>,
}

impl Truth {
    /// Hours of benign traffic: evaluated capture time outside every attack segment.
    pub fn benign_hours(&self) -> f64 {
        (self.span_ns - self.attack_ns).max(0) as f64 / 3.6e12
    }

    /// The code of run index `i` (`None` past the end).
    pub fn code(&self, i: u64) -> Option<u8> {
        usize::try_from(i)
            .ok()
            .and_then(|i| self.codes.get(i).copied())
    }
}

/// Open segment of a phase while reading one input.
#[derive(Clone, Copy)]
struct Open {
    start: i64,
    end: i64,
}

/// Reads the labels of every input, `labels[k]` for input `k` of `stats`.
///
/// # Errors
/// A labels file is missing or malformed, has fewer rows than its capture's packets (or more,
/// unless reading the capture stopped early), or the run has more than 255 attack phases.
pub(crate) fn read(labels: &[&Path], stats: &RunStats, skip: u64) -> Result<Truth, EvalError> {
    if labels.len() != stats.files.len() {
        return Err(EvalError::mismatch(
            &stats.path,
            format!(
                "{} labels files for {} inputs: give one labels file per input, in order",
                labels.len(),
                stats.files.len()
            ),
        ));
    }
    let mut t = Truth {
        codes: Vec::with_capacity(usize::try_from(stats.packets()).unwrap_or(0)),
        skip,
        ..Truth::default()
    };
    let mut ids: HashMap<String, u8> = HashMap::new();
    for (k, path) in labels.iter().enumerate() {
        let file = stats.files.get(k).ok_or_else(|| {
            EvalError::mismatch(path, format!("no input {k} in stats.json for this file"))
        })?;
        read_file(path, file, &mut t, &mut ids)?;
    }
    let mut segments: Vec<(i64, i64)> = t
        .phases
        .iter()
        .flat_map(|p| p.segments.iter().copied())
        .collect();
    segments.sort_unstable();
    let mut covered = 0i64;
    let mut cur: Option<(i64, i64)> = None;
    for (s, e) in segments {
        cur = match cur {
            Some((cs, ce)) if s <= ce => Some((cs, ce.max(e))),
            Some((cs, ce)) => {
                covered = covered.saturating_add(ce - cs);
                Some((s, e))
            }
            None => Some((s, e)),
        };
    }
    if let Some((cs, ce)) = cur {
        covered = covered.saturating_add(ce - cs);
    }
    t.attack_ns = covered;
    Ok(t)
}

/// Reads one input's labels into `t`.
fn read_file(
    path: &Path,
    file: &crate::stats::InputFile,
    t: &mut Truth,
    ids: &mut HashMap<String, u8>,
) -> Result<(), EvalError> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(open(path)?);
    let cols = Columns::of(path, &mut rdr)?;
    let base = t.codes.len() as u64;
    let mut open: Vec<Option<Open>> = vec![None; t.phases.len()];
    let (mut first, mut last) = (None::<i64>, None::<i64>);
    let mut rec = csv::StringRecord::new();
    let mut rows = 0u64;
    while rdr.read_record(&mut rec).map_err(|e| {
        let line = e.position().map_or(0, |p| p.line());
        EvalError::invalid(path, line, e.to_string())
    })? {
        let line = rec.position().map_or(0, |p| p.line());
        if rows == file.packets {
            if file.truncated {
                break;
            }
            let msg = format!(
                "more rows than the {} packets of {} (line {line})",
                file.packets, file.path
            );
            return Err(EvalError::mismatch(path, msg));
        }
        let at = |m: String| EvalError::invalid(path, line, m);
        let (ts, code) = cols.parse(&rec, rows, ids, &mut t.phases).map_err(at)?;
        let run_index = base + rows;
        rows += 1;
        t.codes.push(code);
        if run_index < t.skip {
            continue;
        }
        t.first_ns.get_or_insert(ts);
        first = Some(first.map_or(ts, |f| f.min(ts)));
        last = Some(last.map_or(ts, |l| l.max(ts)));
        if code == BENIGN {
            t.benign_packets += 1;
        } else {
            t.attack_packets += 1;
            note_attack(t, &mut open, code, run_index, ts);
        }
    }
    if rows < file.packets {
        let msg = format!(
            "{rows} rows for the {} packets of {}",
            file.packets, file.path
        );
        return Err(EvalError::mismatch(path, msg));
    }
    for (k, o) in open.into_iter().enumerate() {
        if let (Some(o), Some(p)) = (o, t.phases.get_mut(k)) {
            p.segments.push((o.start, o.end));
        }
    }
    if let (Some(f), Some(l)) = (first, last) {
        t.span_ns = t.span_ns.saturating_add(l - f);
    }
    Ok(())
}

/// Positions of the columns a labels file must have.
struct Columns {
    index: usize,
    label: usize,
    time: usize,
    phase: Option<usize>,
}

impl Columns {
    /// Finds the columns in the header of `rdr`.
    fn of<R: Read>(path: &Path, rdr: &mut csv::Reader<R>) -> Result<Self, EvalError> {
        let header = rdr
            .headers()
            .map_err(|e| EvalError::invalid(path, 1, e.to_string()))?;
        let col = |name: &str| header.iter().position(|h| h.trim() == name);
        match (col("index"), col("label"), col("time")) {
            (Some(index), Some(label), Some(time)) => Ok(Columns {
                index,
                label,
                time,
                phase: col("phase"),
            }),
            _ => Err(EvalError::invalid(
                path,
                1,
                "header must name index, label and time",
            )),
        }
    }

    /// Time (ns) and code of row `row`, registering a new phase on first sight.
    fn parse(
        &self,
        rec: &csv::StringRecord,
        row: u64,
        ids: &mut HashMap<String, u8>,
        phases: &mut Vec<Phase>,
    ) -> Result<(i64, u8), String> {
        let field = |c: usize| rec.get(c).unwrap_or("").trim();
        if field(self.index).parse::<u64>().ok() != Some(row) {
            return Err(format!("index {:?}, expected {row}", field(self.index)));
        }
        let ts =
            parse_ns(field(self.time)).ok_or_else(|| format!("bad time {:?}", field(self.time)))?;
        let code = match field(self.label) {
            "0" => BENIGN,
            "1" => {
                let name = self.phase.map(field).filter(|p| !p.is_empty());
                phase_code(name.unwrap_or("attack"), ids, phases)
                    .ok_or_else(|| "more than 255 phases".to_string())?
            }
            other => return Err(format!("label {other:?}, expected 0 or 1")),
        };
        Ok((ts, code))
    }
}

/// Counts an evaluated attack packet of phase `code` at `ts` and extends its open segment.
fn note_attack(t: &mut Truth, open: &mut Vec<Option<Open>>, code: u8, run_index: u64, ts: i64) {
    let k = usize::from(code) - 1;
    if open.len() <= k {
        open.resize(k + 1, None);
    }
    let (Some(p), Some(slot)) = (t.phases.get_mut(k), open.get_mut(k)) else {
        return;
    };
    if p.attack_packets == 0 {
        p.first_index = run_index;
        p.first_ns = ts;
        p.last_ns = ts;
    }
    p.attack_packets += 1;
    p.first_ns = p.first_ns.min(ts);
    p.last_ns = p.last_ns.max(ts);
    match slot {
        Some(o) if ts <= o.end.saturating_add(SEGMENT_GAP_NS) => {
            o.start = o.start.min(ts);
            o.end = o.end.max(ts);
        }
        _ => {
            if let Some(o) = slot.take() {
                p.segments.push((o.start, o.end));
            }
            *slot = Some(Open { start: ts, end: ts });
        }
    }
}

/// The code of phase `name`, registering it on first sight; `None` past 255 phases.
fn phase_code(name: &str, ids: &mut HashMap<String, u8>, phases: &mut Vec<Phase>) -> Option<u8> {
    if let Some(&c) = ids.get(name) {
        return Some(c);
    }
    if phases.len() >= MAX_PHASES {
        return None;
    }
    phases.push(Phase {
        name: name.to_string(),
        attack_packets: 0,
        first_index: 0,
        first_ns: 0,
        last_ns: 0,
        segments: Vec::new(),
    });
    let c = u8::try_from(phases.len()).ok()?;
    ids.insert(name.to_string(), c);
    Some(c)
}

/// Opens a labels file, through zstd when its name ends in `.zst`.
fn open(path: &Path) -> Result<Box<dyn Read>, EvalError> {
    let f = std::fs::File::open(path).map_err(|e| EvalError::io(path, e))?;
    let f = std::io::BufReader::new(f);
    if path.extension().is_some_and(|e| e == "zst") {
        let z = zstd::stream::read::Decoder::with_buffer(f).map_err(|e| EvalError::io(path, e))?;
        return Ok(Box::new(z));
    }
    Ok(Box::new(f))
}

/// Parses packet time in seconds (`1795651181.390047000`, optional sign, up to nine
/// decimals kept) into ns.
pub(crate) fn parse_ns(s: &str) -> Option<i64> {
    custos_output::time::parse_decimal_seconds(s).map(|(ns, _)| ns)
}

#[cfg(test)]
mod test {
    use super::parse_ns;

    #[test]
    fn parses_packet_time_to_ns() {
        assert_eq!(
            parse_ns("1795651181.390047000"),
            Some(1_795_651_181_390_047_000)
        );
        assert_eq!(parse_ns("1.5"), Some(1_500_000_000));
        assert_eq!(parse_ns("2"), Some(2_000_000_000));
        assert_eq!(parse_ns("-0.000000001"), Some(-1));
        assert_eq!(parse_ns("1.0000000019"), Some(1_000_000_001));
        assert_eq!(parse_ns(""), None);
        assert_eq!(parse_ns("1e3"), None);
        assert_eq!(parse_ns("99999999999999999999"), None);
    }
}
