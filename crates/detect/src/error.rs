//! Errors of the detection crate.

use std::fmt;

/// Why a model could not be loaded or used.
///
/// `Display` and `Error` are written by hand: the I/O variant keeps its field named `source`
/// (which `thiserror` would always report as the error's source), and its message already
/// includes the I/O error, so [`std::error::Error::source`] returns `None` for every variant
/// and a cause chain (`{:#}`) names the I/O error once.
#[derive(Debug)]
#[non_exhaustive]
pub enum ModelError {
    /// The file could not be read or written.
    Io {
        /// The model file.
        path: String,
        /// The I/O error (part of the message, not returned by `source()`).
        source: std::io::Error,
    },
    /// The file ends early: it was cut off.
    Truncated {
        /// The model file.
        path: String,
        /// Line where the text ends.
        line: usize,
        /// Column where the text ends.
        column: usize,
    },
    /// The file is not a valid model document.
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
    HashMismatch {
        /// The model file.
        path: String,
        /// Hash recorded in the file.
        recorded: String,
        /// Hash of the content.
        actual: String,
    },
    /// The file is a model of another kind or version.
    Format {
        /// The model file.
        path: String,
        /// Format found.
        found: String,
        /// Format this version reads.
        expected: &'static str,
    },
    /// The model was trained on other features or parameters than this run uses.
    Incompatible {
        /// The model file.
        path: String,
        /// What the model was trained for.
        model: String,
        /// What this run uses.
        run: String,
    },
    /// The model's parts do not fit together (e.g. a weight matrix of the wrong size).
    Inconsistent {
        /// The model file.
        path: String,
        /// What does not fit.
        what: String,
    },
    /// The model has not finished training and cannot score.
    Untrained {
        /// What is missing.
        what: String,
    },
}

impl fmt::Display for ModelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ModelError::Io { path, source } => write!(f, "{path}: {source}"),
            ModelError::Truncated { path, line, column } => write!(
                f,
                "{path}: truncated model file (JSON ends early at line {line}, column {column})"
            ),
            ModelError::Corrupt {
                path,
                line,
                column,
                what,
            } => write!(
                f,
                "{path}: corrupt model file at line {line}, column {column}: {what}"
            ),
            ModelError::HashMismatch {
                path,
                recorded,
                actual,
            } => write!(
                f,
                "{path}: model hash mismatch: recorded {recorded}, content hashes to {actual} \
                 (file modified or damaged)"
            ),
            ModelError::Format {
                path,
                found,
                expected,
            } => write!(
                f,
                "{path}: unsupported model format {found:?} (expected {expected:?})"
            ),
            ModelError::Incompatible { path, model, run } => write!(
                f,
                "{path}: model was made for {model}, but this run computes {run}"
            ),
            ModelError::Inconsistent { path, what } => {
                write!(f, "{path}: inconsistent model: {what}")
            }
            ModelError::Untrained { what } => write!(f, "model not trained: {what}"),
        }
    }
}

/// No variant has a source: the I/O error is part of [`ModelError::Io`]'s message.
impl std::error::Error for ModelError {}

#[cfg(test)]
mod test {
    use super::ModelError;

    /// The message and every source below it, joined as anyhow's `{:#}` does.
    fn chain(e: &dyn std::error::Error) -> String {
        let mut text = e.to_string();
        let mut next = e.source();
        while let Some(s) = next {
            text.push_str(": ");
            text.push_str(&s.to_string());
            next = s.source();
        }
        text
    }

    #[test]
    fn io_error_names_its_cause_once() {
        let cause = "model file vanished";
        let e = ModelError::Io {
            path: "m.json".into(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, cause),
        };
        assert_eq!(e.to_string(), format!("m.json: {cause}"));
        assert_eq!(chain(&e).matches(cause).count(), 1, "{}", chain(&e));
    }

    #[test]
    fn messages_are_unchanged_by_the_hand_written_display() {
        let e = ModelError::HashMismatch {
            path: "m.json".into(),
            recorded: "aa".into(),
            actual: "bb".into(),
        };
        assert_eq!(
            e.to_string(),
            "m.json: model hash mismatch: recorded aa, content hashes to bb \
             (file modified or damaged)"
        );
        let e = ModelError::Format {
            path: "m.json".into(),
            found: "x".into(),
            expected: "custos-kitsune-model/1",
        };
        assert_eq!(
            e.to_string(),
            "m.json: unsupported model format \"x\" (expected \"custos-kitsune-model/1\")"
        );
    }
}
