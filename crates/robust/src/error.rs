//! The crate's one error type.

use std::path::Path;

/// Why a robustness experiment could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RobustError {
    /// Settings or inputs the experiment cannot use; the message says which and what to change.
    #[error("{0}")]
    Usage(String),
    /// A file could not be read or written.
    #[error("{context}: {cause}")]
    Io {
        /// What was being done, with the path.
        context: String,
        /// The operating system's error.
        cause: std::io::Error,
    },
    /// A capture could not be read (the error names the file, byte offset and packet).
    #[error(transparent)]
    Capture(#[from] custos_capture::CaptureError),
    /// Labels that do not fit a capture, or a dataset that could not be built or read.
    #[error(transparent)]
    Dataset(#[from] custos_dataset::DatasetError),
    /// A model could not be trained.
    #[error("{context}: {message}")]
    Train {
        /// Which model (detector, strategy, rate, partition).
        context: String,
        /// The trainer's message.
        message: String,
    },
    /// The inputs hold too little of something an experiment needs (attack flows, a benign
    /// training window); the message says what and how much.
    #[error("{0}")]
    Insufficient(String),
}

impl RobustError {
    /// An [`RobustError::Io`] for `action` on `path`.
    pub(crate) fn io(action: &str, path: &Path, cause: std::io::Error) -> Self {
        RobustError::Io {
            context: format!("cannot {action} {}", path.display()),
            cause,
        }
    }

    /// A [`RobustError::Train`].
    pub(crate) fn train(context: impl Into<String>, message: impl ToString) -> Self {
        RobustError::Train {
            context: context.into(),
            message: message.to_string(),
        }
    }
}
