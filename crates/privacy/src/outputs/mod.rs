//! Pseudonymised copies of an analysis's output files, with one mapping for all of them.
//!
//! [`pseudonymize_outputs`] reads each output of a `custos analyze` folder (plain or `.zst`)
//! and writes a copy in which:
//!
//! - identifiers found by key take their class's action from the policy ([`FieldClass`](crate::FieldClass)):
//!   user names, passwords, MQTT client IDs and topics, host names, DNS names, HTTP hosts,
//!   URIs and user agents, TLS names;
//! - every IPv4 or IPv6 address and MAC address standing as a whole token in any string,
//!   whatever its key, is replaced by its pseudonym (`apply_ip` / `apply_mac`): fields,
//!   URLs, command lines, banners alike (module `text`);
//! - flow uids and Community IDs, hashes of the original 5-tuple that would let anyone confirm
//!   a guessed original, become keyed name tokens ([`Pseudonymizer::name`]): the same flow
//!   keeps the same token in every file.
//!
//! `scores.csv` (no identifiers) and the run manifest are copied unchanged; any other file is
//! left out and listed in [`OutputsReport::skipped_files`].

mod conn_log;
mod json;
mod text;

use std::fs;
use std::io::{self, BufRead, Read, Write};
use std::path::Path;

use custos_output::{open_output, Compression, OutFile};

use crate::error::{Error, Result};
use crate::pseudonymizer::Pseudonymizer;
use conn_log::ConnLogRewriter;
use json::JsonRewriter;
use text::Counts;

pub use text::DROPPED;

/// How one output file is rewritten.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    /// Zeek TSV.
    ConnLog,
    /// One JSON document per line.
    JsonLines,
    /// One JSON document (pretty-printed when the original is).
    JsonDocument,
    /// Copied byte for byte: no identifiers.
    Copy,
}

/// The outputs this module knows, by bare name.
const OUTPUTS: [(&str, Format); 9] = [
    ("conn.log", Format::ConnLog),
    ("flows.jsonl", Format::JsonLines),
    ("events.jsonl", Format::JsonLines),
    ("alerts.jsonl", Format::JsonLines),
    ("findings.jsonl", Format::JsonLines),
    ("devices.json", Format::JsonDocument),
    ("stats.json", Format::JsonDocument),
    ("scores.csv", Format::Copy),
    // The run manifest (`custos-engine`'s `outdir::MANIFEST`): file names only.
    ("custos-run.json", Format::Copy),
];

/// What [`pseudonymize_outputs`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct OutputsReport {
    /// Each file written (its name in the destination, `.zst` included) and its line count.
    pub files: Vec<(String, u64)>,
    /// IP addresses replaced (occurrences, not distinct addresses).
    pub addresses: u64,
    /// MAC addresses replaced (occurrences).
    pub macs: u64,
    /// Values replaced by name tokens: policy classes and flow uids / Community IDs.
    pub names: u64,
    /// Keys, array elements and addresses the policy dropped.
    pub dropped: u64,
    /// Files of the source folder that were not copied (not a known output).
    pub skipped_files: Vec<String>,
}

impl OutputsReport {
    /// The lines that report this pseudonymisation into `dir`: what was written and
    /// replaced, then a warning (`warning: …`) per file left out.
    pub fn report_lines(&self, dir: &Path) -> Vec<String> {
        let lines: u64 = self.files.iter().map(|(_, n)| n).sum();
        let mut out = vec![format!(
            "wrote {} pseudonymised files ({lines} lines) to {}: {} addresses, {} MACs, {} names \
             and flow IDs replaced, {} values dropped",
            self.files.len(),
            dir.display(),
            self.addresses,
            self.macs,
            self.names,
            self.dropped
        )];
        for name in &self.skipped_files {
            let d = dir.display();
            out.push(format!(
                "warning: {name} not pseudonymised, left out of {d}"
            ));
        }
        out
    }
}

/// Writes a pseudonymised copy of every known output file of the analysis folder `src` into
/// the existing folder `dst`, each with the compression it had, one mapping for all.
///
/// An output missing from `src` is not an error (not every run writes all of them); a file
/// in `dst` with the name of an output is replaced.
///
/// # Errors
///
/// [`Error::OutputsIo`] when a file cannot be read or written; [`Error::OutputsLine`] when a
/// record is not valid JSON (naming file and line); [`Error::Collision`] when a pseudonym
/// falls in a kept network.
pub fn pseudonymize_outputs(
    src: &Path,
    dst: &Path,
    p: &mut Pseudonymizer,
) -> Result<OutputsReport> {
    let mut report = OutputsReport {
        skipped_files: unknown_files(src)?,
        ..OutputsReport::default()
    };
    for (name, format) in OUTPUTS {
        let Some(compression) = stored_as(src, name) else {
            continue;
        };
        let file_name = compression.file_name(name);
        let lines = match format {
            Format::Copy => copy(&src.join(&file_name), &dst.join(&file_name))?,
            _ => rewrite(src, dst, name, compression, format, p, &mut report)?,
        };
        report.files.push((file_name, lines));
    }
    Ok(report)
}

/// How `name` is stored in `dir`, as [`open_output`] finds it (plain first); `None` if absent.
fn stored_as(dir: &Path, name: &str) -> Option<Compression> {
    [Compression::None, Compression::Zstd]
        .into_iter()
        .find(|c| dir.join(c.file_name(name)).is_file())
}

/// The entries of `dir` that are not known outputs, sorted.
fn unknown_files(dir: &Path) -> Result<Vec<String>> {
    let io_err = |cause| Error::OutputsIo {
        path: dir.to_path_buf(),
        action: "read",
        cause,
    };
    let mut skipped = Vec::new();
    for entry in fs::read_dir(dir).map_err(io_err)? {
        let name = entry.map_err(io_err)?.file_name();
        let name = name.to_string_lossy();
        let known = OUTPUTS.iter().any(|(n, _)| {
            [Compression::None, Compression::Zstd]
                .iter()
                .any(|c| c.file_name(n) == name)
        });
        if !known {
            skipped.push(name.into_owned());
        }
    }
    skipped.sort();
    Ok(skipped)
}

/// Copies a file unchanged; its line count.
fn copy(from: &Path, to: &Path) -> Result<u64> {
    let bytes = fs::read(from).map_err(|cause| Error::OutputsIo {
        path: from.to_path_buf(),
        action: "read",
        cause,
    })?;
    fs::write(to, &bytes).map_err(|cause| Error::OutputsIo {
        path: to.to_path_buf(),
        action: "write",
        cause,
    })?;
    let lines = bytes.iter().filter(|b| **b == b'\n').count();
    Ok(u64::try_from(lines).unwrap_or(u64::MAX))
}

/// Rewrites one text output; its line count.
fn rewrite(
    src: &Path,
    dst: &Path,
    name: &str,
    compression: Compression,
    format: Format,
    p: &mut Pseudonymizer,
    report: &mut OutputsReport,
) -> Result<u64> {
    let in_path = src.join(compression.file_name(name));
    let out_path = dst.join(compression.file_name(name));
    let read_err = |cause| Error::OutputsIo {
        path: in_path.clone(),
        action: "read",
        cause,
    };
    let write_err = |cause| Error::OutputsIo {
        path: out_path.clone(),
        action: "write",
        cause,
    };
    let mut input = open_output(src, name).map_err(read_err)?;
    let mut out = OutFile::create(dst, name, compression).map_err(write_err)?;
    let mut counts = Counts::default();
    let mut names = 0;
    let mut lines = 0u64;
    match format {
        Format::ConnLog | Format::JsonLines => {
            let mut conn = ConnLogRewriter::new(p, &custos_output::CONN_FIELDS);
            let mut line = String::new();
            loop {
                line.clear();
                if input.read_line(&mut line).map_err(read_err)? == 0 {
                    break;
                }
                lines += 1;
                let body = line.strip_suffix('\n').unwrap_or(&line);
                let new = if format == Format::ConnLog {
                    conn.line(body)?
                } else if body.is_empty() {
                    String::new()
                } else {
                    json_line(conn.p, body, &in_path, lines, &mut counts, &mut names)?
                };
                out.write_all(new.as_bytes()).map_err(write_err)?;
                out.write_all(b"\n").map_err(write_err)?;
            }
            counts.addresses += conn.counts.addresses;
            counts.macs += conn.counts.macs;
            counts.dropped += conn.counts.dropped;
            names += conn.names;
        }
        Format::JsonDocument => {
            let mut text = String::new();
            input.read_to_string(&mut text).map_err(read_err)?;
            lines = u64::try_from(text.lines().count()).unwrap_or(u64::MAX);
            let mut value: serde_json::Value =
                serde_json::from_str(&text).map_err(|e| Error::OutputsLine {
                    path: in_path.clone(),
                    line: e.line(),
                    reason: e.to_string(),
                })?;
            let mut r = JsonRewriter {
                p,
                counts: Counts::default(),
                names: 0,
            };
            if !r.value(&mut value, None, None)? {
                value = serde_json::Value::Null;
            }
            counts = r.counts;
            names = r.names;
            let pretty = text.trim_end().contains('\n');
            let result = if pretty {
                serde_json::to_writer_pretty(&mut out, &value)
            } else {
                serde_json::to_writer(&mut out, &value)
            };
            result.map_err(|e| write_err(io::Error::other(e)))?;
            out.write_all(b"\n").map_err(write_err)?;
        }
        Format::Copy => {}
    }
    out.close().map_err(write_err)?;
    report.addresses += counts.addresses;
    report.macs += counts.macs;
    report.dropped += counts.dropped;
    report.names += names;
    Ok(lines)
}

/// One JSON Lines record, rewritten and serialised compactly.
fn json_line(
    p: &mut Pseudonymizer,
    body: &str,
    path: &Path,
    line: u64,
    counts: &mut Counts,
    names: &mut u64,
) -> Result<String> {
    let located = |reason: String| Error::OutputsLine {
        path: path.to_path_buf(),
        line: usize::try_from(line).unwrap_or(usize::MAX),
        reason,
    };
    let mut value: serde_json::Value =
        serde_json::from_str(body).map_err(|e| located(e.to_string()))?;
    let mut r = JsonRewriter {
        p,
        counts: *counts,
        names: *names,
    };
    if !r.value(&mut value, None, None)? {
        value = serde_json::Value::Null;
    }
    *counts = r.counts;
    *names = r.names;
    serde_json::to_string(&value).map_err(|e| located(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::OutputsReport;
    use std::path::Path;

    #[test]
    fn report_lines_count_lines_and_name_skipped_files() {
        let r = OutputsReport {
            files: vec![("conn.log".into(), 3), ("flows.jsonl".into(), 4)],
            addresses: 5,
            skipped_files: vec!["notes.txt".into()],
            ..OutputsReport::default()
        };
        assert_eq!(
            r.report_lines(Path::new("out")),
            [
                "wrote 2 pseudonymised files (7 lines) to out: 5 addresses, 0 MACs, 0 names and \
                 flow IDs replaced, 0 values dropped",
                "warning: notes.txt not pseudonymised, left out of out"
            ]
        );
    }
}
