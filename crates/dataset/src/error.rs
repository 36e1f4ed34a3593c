//! The crate's error type.

use std::path::{Path, PathBuf};

/// Why a dataset could not be built.
///
/// Each variant displays what went wrong once: where a cause is kept it is the
/// [`std::error::Error::source`], not part of the message.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DatasetError {
    /// A labels file is malformed at a line (header, a field, an index out of order).
    #[error("{}:{line}: {message}", path.display())]
    Labels {
        /// The labels file.
        path: PathBuf,
        /// Line number (1 = the header).
        line: u64,
        /// What is wrong there.
        message: String,
    },
    /// Labels and captures do not match: too many or too few files, rows or flows, a packet
    /// whose time differs from its label row's.
    #[error("{}: {message}", path.display())]
    LabelsMismatch {
        /// The labels file.
        path: PathBuf,
        /// What does not match.
        message: String,
    },
    /// The datasheet information file (`--datasheet info.toml`) is invalid.
    #[error("{}: {message}", path.display())]
    Info {
        /// The file.
        path: PathBuf,
        /// What is wrong, with line and column for a TOML error.
        message: String,
    },
    /// The arguments cannot make a dataset (no capture, standard input, no labels).
    #[error("{0}")]
    Usage(String),
    /// The output directory already holds a dataset (replace it with `--force`).
    #[error("{} already holds a dataset ({names}); choose another directory, or pass --force to replace it", path.display())]
    Exists {
        /// The output directory.
        path: PathBuf,
        /// The dataset files found there.
        names: String,
    },
    /// The run of the engine failed.
    #[error(transparent)]
    Engine(#[from] custos_engine::EngineError),
    /// A file could not be read or written.
    #[error("{context}")]
    Io {
        /// What was being done, naming the file.
        context: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The Parquet file could not be written.
    #[error("{context}")]
    Parquet {
        /// What was being done.
        context: String,
        /// The cause.
        #[source]
        source: parquet::errors::ParquetError,
    },
    /// The run ended in a state it cannot end in (a worker thread panicked, a report is
    /// missing): a bug of custos.
    #[error("internal error: {0}")]
    Internal(String),
    /// A flow reached the writer without the packet statistics of the collector, or the
    /// other way round: the collector was not registered with the sink it feeds.
    #[error("flow {uid}: {message}")]
    Pairing {
        /// The flow's uid.
        uid: String,
        /// What was missing.
        message: String,
    },
}

impl DatasetError {
    /// An I/O error while doing `context`.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        DatasetError::Io {
            context: context.into(),
            source,
        }
    }

    /// A labels error at `line` of `path`.
    pub fn labels(path: &Path, line: u64, message: impl Into<String>) -> Self {
        DatasetError::Labels {
            path: path.to_path_buf(),
            line,
            message: message.into(),
        }
    }

    /// A mismatch between `path` and the captures.
    pub fn mismatch(path: &Path, message: impl Into<String>) -> Self {
        DatasetError::LabelsMismatch {
            path: path.to_path_buf(),
            message: message.into(),
        }
    }
}
