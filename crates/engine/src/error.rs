//! The engine's error type.

/// Why a run could not start or finish.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    /// The configuration is invalid (a value out of range, a combination that cannot work,
    /// an unknown key in a configuration file — the message names the key and line).
    #[error("{0}")]
    Config(String),
    /// An input could not be opened or read.
    #[error("{context}")]
    Input {
        /// What was being done, naming the input.
        context: String,
        /// The cause.
        #[source]
        source: custos_capture::CaptureError,
    },
    /// A model could not be loaded or saved.
    #[error("{context}")]
    Model {
        /// What was being done, naming the model.
        context: String,
        /// The cause.
        #[source]
        source: custos_detect::ModelError,
    },
    /// A model file could not be read, or is not a model custos can load.
    #[error(transparent)]
    ModelFile(custos_detect::ModelError),
    /// A detector failed.
    #[error("detector {detector}: {message}")]
    Detector {
        /// The detector's name.
        detector: String,
        /// What failed.
        message: String,
    },
    /// A sink failed to write.
    #[error(transparent)]
    Sink(#[from] custos_output::SinkError),
    /// The evidence log refused or failed.
    #[error("{context}")]
    Evidence {
        /// What was being done.
        context: String,
        /// The cause.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The evidence log refused (another key's log, alerts that do not match).
    #[error("{0}")]
    EvidenceRefused(String),
    /// A file could not be read or written.
    #[error("{context}")]
    Io {
        /// What was being done, naming the file.
        context: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A worker thread stopped unexpectedly.
    #[error("the {0} thread stopped unexpectedly")]
    Thread(&'static str),
}

impl EngineError {
    /// An I/O error with what was being done.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        EngineError::Io {
            context: context.into(),
            source,
        }
    }

    /// An evidence-log error with what was being done.
    pub fn evidence(
        context: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        EngineError::Evidence {
            context: context.into(),
            source: source.into(),
        }
    }
}
