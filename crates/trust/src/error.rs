//! The crate's one error type.
//!
//! Every variant names the file it is about and why it was refused. A wrapped I/O error is
//! part of the message and is never also returned by `source()`, so a cause chain printed
//! with `{:#}` shows each cause once.

use std::fmt;
use std::path::PathBuf;

use crate::hex;

/// Why a key could not be written or read, a model could not be hashed or signed, or a
/// signed model was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TrustError {
    /// A file or directory could not be read, written or listed.
    #[error("cannot {action} {path}: {error}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What was being done (`read`, `create`, `list`…).
        action: &'static str,
        /// The operating system's error.
        error: std::io::Error,
    },
    /// A key file is not an unencrypted P-256 key in a PEM form this crate reads.
    #[error("{path}: not a usable key: {reason}")]
    Key {
        /// The key file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The model path is not a directory.
    #[error("{path}: a model must be a directory")]
    NotADirectory {
        /// The path given as the model.
        path: PathBuf,
    },
    /// A symbolic link inside the model directory (or the model path itself); the format's
    /// `allow_symlinks` is `false`, as the reference tool's default, so none is followed.
    #[error("{path}: symbolic links are not allowed in a model directory")]
    Symlink {
        /// The link.
        path: PathBuf,
    },
    /// Something that is neither a regular file nor a directory (a FIFO, socket or device).
    #[error("{path}: not a regular file or directory")]
    NotRegular {
        /// The special file.
        path: PathBuf,
    },
    /// A file name that is not valid UTF-8 cannot be named in the JSON statement.
    #[error("{path}: file name is not valid UTF-8")]
    NonUtf8Name {
        /// The file.
        path: PathBuf,
    },
    /// The model directory holds no file to sign.
    #[error("{path}: no file to sign in the model directory")]
    EmptyModel {
        /// The model directory.
        path: PathBuf,
    },
    /// The model has no signature file.
    #[error("{path}: model is unsigned (no signature file)")]
    Unsigned {
        /// The missing signature file.
        path: PathBuf,
    },
    /// The signature file is not a bundle this crate can read, or what it holds breaks the
    /// format (media type, payload type, statement or predicate type, digests).
    #[error("{path}: malformed signature: {reason}")]
    Malformed {
        /// The signature file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The signature uses a part of the format this crate does not implement (keyless or
    /// certificate signing, shard serialisation, a hash other than SHA-256).
    #[error("{path}: unsupported signature: {reason}")]
    Unsupported {
        /// The signature file.
        path: PathBuf,
        /// What is not supported.
        reason: String,
    },
    /// No trusted key matches the signer.
    #[error(
        "{path}: signed by an untrusted key ({}; {trusted} trusted key(s))",
        HintText(.hint)
    )]
    UntrustedSigner {
        /// The signature file.
        path: PathBuf,
        /// The key hint the bundle names, if any.
        hint: Option<String>,
        /// How many keys were trusted.
        trusted: usize,
    },
    /// The bundle names a trusted key but its DSSE signature does not verify with it: the
    /// statement was changed or re-made without the private key.
    #[error("{path}: signature does not verify with trusted key {key_hint}")]
    BadSignature {
        /// The signature file.
        path: PathBuf,
        /// The trusted key's hint.
        key_hint: String,
    },
    /// The files of the model differ from those the signature lists.
    #[error("{path}: model does not match its signature: {}", Changes(.changes))]
    ModelChanged {
        /// The model directory.
        path: PathBuf,
        /// Each difference, in file-name order.
        changes: Vec<FileChange>,
    },
}

/// One difference between a model directory and its signed statement.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FileChange {
    /// A file the statement does not list.
    Added {
        /// The file, relative to the model directory, with `/` separators.
        path: String,
    },
    /// A file the statement lists that is not in the directory.
    Removed {
        /// The file, relative to the model directory, with `/` separators.
        path: String,
    },
    /// A file whose SHA-256 differs from the signed one.
    Modified {
        /// The file, relative to the model directory, with `/` separators.
        path: String,
        /// The signed digest.
        signed: [u8; 32],
        /// The digest of the file as found.
        found: [u8; 32],
    },
}

impl FileChange {
    /// The file the change is about, relative to the model directory.
    pub fn path(&self) -> &str {
        match self {
            FileChange::Added { path }
            | FileChange::Removed { path }
            | FileChange::Modified { path, .. } => path,
        }
    }
}

impl fmt::Display for FileChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FileChange::Added { path } => write!(f, "{path} added (not signed)"),
            FileChange::Removed { path } => write!(f, "{path} removed"),
            FileChange::Modified {
                path,
                signed,
                found,
            } => write!(
                f,
                "{path} modified (signed sha256 {}, found {})",
                hex::encode(signed),
                hex::encode(found)
            ),
        }
    }
}

/// Displays a bundle's key hint, or says there is none.
struct HintText<'a>(&'a Option<String>);

impl fmt::Display for HintText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(hint) => write!(f, "key hint {hint}"),
            None => f.write_str("no key hint"),
        }
    }
}

/// Displays a list of changes separated by `; `.
struct Changes<'a>(&'a [FileChange]);

impl fmt::Display for Changes<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, change) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{change}")?;
        }
        Ok(())
    }
}

impl TrustError {
    /// An [`TrustError::Io`] for `path`.
    pub(crate) fn io(
        path: impl Into<PathBuf>,
        action: &'static str,
        error: std::io::Error,
    ) -> Self {
        TrustError::Io {
            path: path.into(),
            action,
            error,
        }
    }
}
