//! Errors of the detection crate.

/// Why a model could not be loaded or used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    /// The file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The model file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file ends early: it was cut off.
    #[error("{path}: truncated model file (JSON ends early at line {line}, column {column})")]
    Truncated {
        /// The model file.
        path: String,
        /// Line where the text ends.
        line: usize,
        /// Column where the text ends.
        column: usize,
    },
    /// The file is not a valid model document.
    #[error("{path}: corrupt model file at line {line}, column {column}: {what}")]
    Corrupt {
        /// The model file.
        path: String,
        /// Line of the problem.
        line: usize,
        /// Column of the problem.
        column: usize,
        /// What the parser found.
        what: String,
    },
    /// The content does not match its recorded hash: changed since it was written.
    #[error("{path}: model hash mismatch: recorded {recorded}, content hashes to {actual} (file modified or damaged)")]
    HashMismatch {
        /// The model file.
        path: String,
        /// Hash recorded in the file.
        recorded: String,
        /// Hash of the content.
        actual: String,
    },
    /// The file is a model of another kind or version.
    #[error("{path}: unsupported model format {found:?} (expected {expected:?})")]
    Format {
        /// The model file.
        path: String,
        /// Format found.
        found: String,
        /// Format this version reads.
        expected: &'static str,
    },
    /// The model was trained on other features or parameters than this run uses.
    #[error("{path}: model was made for {model}, but this run computes {run}")]
    Incompatible {
        /// The model file.
        path: String,
        /// What the model was trained for.
        model: String,
        /// What this run uses.
        run: String,
    },
    /// The model's parts do not fit together (e.g. a weight matrix of the wrong size).
    #[error("{path}: inconsistent model: {what}")]
    Inconsistent {
        /// The model file.
        path: String,
        /// What does not fit.
        what: String,
    },
    /// The model has not finished training and cannot score.
    #[error("model not trained: {what}")]
    Untrained {
        /// What is missing.
        what: String,
    },
}
