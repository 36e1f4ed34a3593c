//! [`IocError`]: why an indicator file could not be loaded, naming the file and the line.
//!
//! Only a file that cannot be read as a whole is an error. One indicator that cannot be
//! used (a bad value, a STIX pattern outside the supported subset) is not: it is reported in
//! [`LoadReport::unsupported`](crate::LoadReport::unsupported) and loading goes on.

use std::path::PathBuf;

/// Why an indicator file could not be loaded. Nothing of a file that fails is loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IocError {
    /// The file could not be opened or read.
    #[error("cannot read {}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not UTF-8 text.
    #[error("{}:{line}: not UTF-8 text", path.display())]
    Encoding {
        /// The file.
        path: PathBuf,
        /// The line (from 1) holding the first byte that is not UTF-8.
        line: usize,
    },
    /// The file looks like JSON (it starts with `{` or is named `.json`) but does not parse.
    #[error("{}:{line}:{column}: {message}", path.display())]
    Json {
        /// The file.
        path: PathBuf,
        /// The line, from 1.
        line: usize,
        /// The column, from 1.
        column: usize,
        /// What is wrong, as serde_json says it.
        message: String,
    },
    /// The file is JSON but not a STIX 2.1 bundle.
    #[error("{}: not a STIX 2.1 bundle: {message}", path.display())]
    NotBundle {
        /// The file.
        path: PathBuf,
        /// What is missing or wrong.
        message: String,
    },
    /// A CSV file whose structure is broken (a row with another number of fields than the
    /// header).
    #[error("{}:{line}: {message}", path.display())]
    Csv {
        /// The file.
        path: PathBuf,
        /// The line of the record, from 1.
        line: u64,
        /// What is wrong.
        message: String,
    },
}
