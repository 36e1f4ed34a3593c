//! CSV with a header line (RFC 4180, read by the `csv` crate): the column named `indicator`,
//! `ioc` or `value` (first found, in that order, case-insensitively) holds the indicator, a
//! `type` column its kind ([`IndicatorKind::from_type_name`]; empty: guessed as in a plain
//! list), and a `description`, `name` or `comment` column its name.
//!
//! Lines starting with `#` are comments, fields are trimmed, blank lines (and lines of
//! whitespace or empty fields only) skipped. A row with another number of fields than the
//! header is an error ([`IocError::Csv`]): the file's structure is broken, so nothing of it is
//! trusted. A value that is not an indicator of its
//! kind, or an unknown type, makes that row unsupported.

use std::path::Path;

use ::csv::{ErrorKind, ReaderBuilder, StringRecord, Trim};

use crate::indicator::Value;
use crate::{IndicatorKind, IocError};

use super::Item;

/// Names of the indicator column, by preference.
const VALUE_COLUMNS: [&str; 3] = ["indicator", "ioc", "value"];
/// Names of the description column, by preference.
const NAME_COLUMNS: [&str; 3] = ["description", "name", "comment"];

/// The columns of a header.
struct Columns {
    value: usize,
    kind: Option<usize>,
    name: Option<usize>,
}

impl Columns {
    /// The columns of `header`, or `None` when it names no indicator column.
    fn find(header: &StringRecord) -> Option<Columns> {
        let find = |names: &[&str]| {
            names
                .iter()
                .find_map(|n| header.iter().position(|h| h.trim().eq_ignore_ascii_case(n)))
        };
        Some(Columns {
            value: find(&VALUE_COLUMNS)?,
            kind: find(&["type"]),
            name: find(&NAME_COLUMNS),
        })
    }
}

fn reader(text: &str) -> ::csv::Reader<&[u8]> {
    ReaderBuilder::new()
        .has_headers(true)
        .comment(Some(b'#'))
        .trim(Trim::All)
        // Field counts are checked in `read`, after skipping lines of whitespace.
        .flexible(true)
        .from_reader(text.as_bytes())
}

/// True when `line` is a CSV header naming an indicator column.
pub(crate) fn is_header(line: &str) -> bool {
    let mut r = reader(line);
    r.headers().ok().and_then(Columns::find).is_some()
}

/// Reads the rows of `text`; sources are `name:line`.
pub(crate) fn read(path: &Path, name: &str, text: &str) -> Result<Vec<Item>, IocError> {
    let mut r = reader(text);
    let mut lines = Lines::new(text);
    let error = |line: u64, message: String| IocError::Csv {
        path: path.to_path_buf(),
        line,
        message,
    };
    let header = r
        .headers()
        .map_err(|e| error(lines.error(&e), message(&e)))?
        .clone();
    let columns = Columns::find(&header).ok_or_else(|| {
        error(
            1,
            "the header names no indicator, ioc or value column".into(),
        )
    })?;
    let mut items = Vec::new();
    for row in r.records() {
        let row = row.map_err(|e| error(lines.error(&e), message(&e)))?;
        let line = row.position().map_or(1, |p| lines.record(p.byte()));
        if row.iter().all(str::is_empty) {
            // A line of whitespace (or of empty fields): nothing to read.
            continue;
        }
        if row.len() != header.len() {
            let message = format!("{} fields where the header has {}", row.len(), header.len());
            return Err(error(line, message));
        }
        let source = format!("{name}:{line}");
        items.push(item(&columns, &row, source));
    }
    Ok(items)
}

/// One row as an item.
fn item(columns: &Columns, row: &StringRecord, source: String) -> Item {
    let value = row.get(columns.value).unwrap_or_default();
    let kind = columns.kind.and_then(|k| row.get(k)).unwrap_or_default();
    let parsed = if kind.is_empty() {
        Value::guess(value).map_err(|e| e.to_string())
    } else {
        match IndicatorKind::from_type_name(kind) {
            Some(k) => Value::parse(k, value).map_err(|e| e.to_string()),
            None => Err(format!("unknown indicator type {kind:?}")),
        }
    };
    match parsed {
        Ok(v) => Item::Entry {
            values: vec![v],
            id: None,
            name: columns
                .name
                .and_then(|n| row.get(n))
                .filter(|n| !n.is_empty())
                .map(str::to_string),
            source,
        },
        Err(reason) => Item::Unsupported { source, reason },
    }
}

/// Line numbers of the positions the `csv` crate gives.
///
/// Its positions are where it started reading a record, before the blank and comment lines it
/// then skipped (and its own line numbers miscount those lines), so lines are counted here: the
/// line feeds before the position, the rest of a CR LF split by it, then each blank or `#` line
/// after it. Positions come in increasing order, so the count goes on from the last one and a
/// whole file costs one pass.
struct Lines<'a> {
    text: &'a [u8],
    /// The last position asked for, and the line it is on.
    at: usize,
    line: usize,
}

impl<'a> Lines<'a> {
    fn new(text: &'a str) -> Self {
        Lines {
            text: text.as_bytes(),
            at: 0,
            line: 1,
        }
    }

    /// The line of the record placed at byte `byte`.
    fn record(&mut self, byte: u64) -> u64 {
        let byte = usize::try_from(byte).map_or(self.text.len(), |b| b.min(self.text.len()));
        if byte < self.at {
            self.at = 0;
            self.line = 1;
        }
        let between = self.text.get(self.at..byte).unwrap_or_default();
        self.line += between.iter().filter(|&&b| b == b'\n').count();
        self.at = byte;
        let mut line = self.line;
        let mut rest = self.text.get(byte..).unwrap_or_default();
        let cr_before = byte
            .checked_sub(1)
            .and_then(|i| self.text.get(i))
            .is_some_and(|&b| b == b'\r');
        if let Some(after) = rest.strip_prefix(b"\n") {
            if cr_before {
                line += 1;
                rest = after;
            }
        }
        while let Some(end) = rest.iter().position(|&b| b == b'\n') {
            let content = rest.get(..end).unwrap_or_default();
            let content = content.strip_suffix(b"\r").unwrap_or(content);
            if !(content.is_empty() || content.starts_with(b"#")) {
                break;
            }
            line += 1;
            rest = rest.get(end + 1..).unwrap_or_default();
        }
        u64::try_from(line).unwrap_or(u64::MAX)
    }

    /// The line a CSV error is on (1 when it names none).
    fn error(&mut self, e: &::csv::Error) -> u64 {
        e.position().map_or(1, |p| self.record(p.byte()))
    }
}

/// A CSV error without the position the caller shows already.
fn message(e: &::csv::Error) -> String {
    match e.kind() {
        ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("{len} fields where the header has {expected_len}"),
        _ => e.to_string(),
    }
}

#[cfg(test)]
mod test {
    use super::*;

    /// The line of each record of `text`, or of the error that ends it.
    fn lines(text: &str) -> Vec<u64> {
        let mut r = reader(text);
        let mut lines = Lines::new(text);
        r.records()
            .map(|rec| match rec {
                Ok(rec) => lines.record(rec.position().unwrap().byte()),
                Err(e) => lines.error(&e),
            })
            .collect()
    }

    #[test]
    fn counts_lines_across_comments_and_blank_lines() {
        assert_eq!(lines("a,b\n1,2\n# c\n3,4\n5,6\n"), [2, 4, 5]);
        assert_eq!(
            lines("# c\n# d\na,b\n1,2\n\n3,4\n# e\n# f\n5,6,7\n"),
            [4, 6, 9]
        );
        // A line of spaces is a record of one empty field, which `read` skips.
        assert_eq!(lines("a,b\r\n\r\n# x\r\n  \r\n1,2\r\n"), [4, 5]);
        assert_eq!(lines("a,b\r\n1,2\r\n\r\n3,4"), [2, 4]);
    }
}
