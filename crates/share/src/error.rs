//! [`ShareError`]: why an export failed, naming the file and line.

use std::path::PathBuf;

/// Why an export could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ShareError {
    /// An output file could not be opened or read.
    #[error("cannot read {}: {message}", path.display())]
    Read {
        /// The file (without `.zst`).
        path: PathBuf,
        /// The I/O error, as text (shown once, so not also a `source`).
        message: String,
    },
    /// A line of a JSON Lines output, or a JSON output, does not parse.
    #[error("{}:{line}: {message}", path.display())]
    Parse {
        /// The file (without `.zst`).
        path: PathBuf,
        /// The line number, from 1.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// The folder has none of `alerts.jsonl`, `findings.jsonl` and `events.jsonl`.
    #[error("{}: no alerts.jsonl, findings.jsonl or events.jsonl (plain or .zst)", dir.display())]
    NoInputs {
        /// The analysis output folder.
        dir: PathBuf,
    },
    /// The pseudonymizer refused a value (a pseudonym inside a kept network).
    #[error("cannot pseudonymise a value: {message}")]
    Pseudonymize {
        /// The pseudonymizer's error, as text.
        message: String,
    },
    /// A `--tlp` value that is not a TLP 2.0 level.
    #[error("unknown TLP level {0:?}; expected clear, green, amber, amber+strict or red")]
    UnknownTlp(String),
}
