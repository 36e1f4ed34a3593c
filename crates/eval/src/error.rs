//! The crate's one error type: every variant names the file, and the line where there is one.

use std::path::{Path, PathBuf};

/// Why an evaluation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EvalError {
    /// A file could not be opened, read or written.
    #[error("{}: {error}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error (part of the message, not returned by `source()`,
        /// so a cause chain names it once).
        error: std::io::Error,
    },
    /// A line of an input file is malformed (bad CSV, JSON or value).
    #[error("{}:{line}: {message}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// 1-based line number (0 when the error concerns the whole file).
        line: u64,
        /// What is wrong, with the offending value.
        message: String,
    },
    /// Inputs that parse but disagree with each other (packet counts, indices, file lists).
    #[error("{}: {message}", path.display())]
    Mismatch {
        /// The file that disagrees with the others.
        path: PathBuf,
        /// What disagrees, with both values.
        message: String,
    },
    /// A plot could not be drawn or encoded.
    #[error("{}: cannot draw: {message}", path.display())]
    Plot {
        /// The plot file.
        path: PathBuf,
        /// The plotting library's error.
        message: String,
    },
}

impl EvalError {
    /// An [`EvalError::Io`] for `path`.
    pub(crate) fn io(path: &Path, error: std::io::Error) -> Self {
        EvalError::Io {
            path: path.to_path_buf(),
            error,
        }
    }

    /// An [`EvalError::Invalid`] for `path` at `line`.
    pub(crate) fn invalid(path: &Path, line: u64, message: impl Into<String>) -> Self {
        EvalError::Invalid {
            path: path.to_path_buf(),
            line,
            message: message.into(),
        }
    }

    /// An [`EvalError::Mismatch`] for `path`.
    pub(crate) fn mismatch(path: &Path, message: impl Into<String>) -> Self {
        EvalError::Mismatch {
            path: path.to_path_buf(),
            message: message.into(),
        }
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn io_error_names_its_cause_once() {
        let cause = "labels file vanished";
        let e = EvalError::io(
            Path::new("l.csv"),
            std::io::Error::new(std::io::ErrorKind::NotFound, cause),
        );
        assert_eq!(e.to_string(), format!("l.csv: {cause}"));
        assert!(std::error::Error::source(&e).is_none());
    }
}
