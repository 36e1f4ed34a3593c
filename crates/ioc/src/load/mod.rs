//! Reading indicator files: which format a text is in ([`detect`]) and one reader per format.
//!
//! - `stix`: a STIX 2.1 bundle, chosen when the text starts with `{` or the name ends in
//!   `.json`; its patterns go through `pattern`.
//! - `csv`: chosen when the first line that is neither blank nor a `#` comment is a CSV
//!   header naming an indicator column (`indicator`, `ioc` or `value`).
//! - `plain`: anything else, one indicator per line.
//!
//! A reader turns the whole text into [`Item`]s before anything is added to the set, so a
//! file that fails adds nothing.

mod csv;
mod pattern;
mod plain;
mod stix;

use std::path::Path;

use crate::indicator::Value;
use crate::IocError;

/// One entry of a file, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Item {
    /// Indicators to add (one per value; a STIX pattern can name several), all from one
    /// entry.
    Entry {
        /// The values, normalised.
        values: Vec<Value>,
        /// The STIX id.
        id: Option<String>,
        /// The STIX name or CSV description.
        name: Option<String>,
        /// `file:line` or `file:objects[i]`.
        source: String,
    },
    /// An entry that gives no indicator.
    Unsupported {
        /// `file:line` or `file:objects[i]`.
        source: String,
        /// Why.
        reason: String,
    },
    /// A revoked STIX indicator.
    Revoked,
}

/// The formats read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    /// A STIX 2.1 bundle.
    Stix,
    /// CSV with a header.
    Csv,
    /// One indicator per line.
    Plain,
}

/// The format of `text`, named `name`; see the module documentation.
pub(crate) fn detect(name: &str, text: &str) -> Format {
    let json_name = Path::new(name)
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    if json_name || text.trim_start().starts_with('{') {
        return Format::Stix;
    }
    // As the CSV reader sees comments: a `#` in the first column.
    let first = text
        .lines()
        .find(|l| !l.trim().is_empty() && !l.starts_with('#'));
    match first {
        Some(line) if csv::is_header(line) => Format::Csv,
        _ => Format::Plain,
    }
}

/// Reads `text` (without a byte-order mark) named `name`; errors name `path`.
pub(crate) fn read(path: &Path, name: &str, text: &str) -> Result<Vec<Item>, IocError> {
    match detect(name, text) {
        Format::Stix => stix::read(path, name, text),
        Format::Csv => csv::read(path, name, text),
        Format::Plain => Ok(plain::read(name, text)),
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn detects_formats_by_content_and_json_name() {
        assert_eq!(detect("a.txt", "  {\"type\": \"bundle\"}"), Format::Stix);
        assert_eq!(detect("a.JSON", "evil.example"), Format::Stix);
        assert_eq!(
            detect("a.txt", "# feed\n\nIOC,Type\nevil.example,domain"),
            Format::Csv
        );
        assert_eq!(detect("a.txt", "value\nevil.example"), Format::Csv);
        assert_eq!(detect("a.csv", "evil.example,bad"), Format::Plain);
        assert_eq!(detect("a.txt", "# only a comment\n"), Format::Plain);
    }
}
