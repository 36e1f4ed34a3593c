//! The in-toto Statement v1 that names a model and lists its files, with the model-signing
//! v1.0 predicate (`_signing/signing.py`, `Payload`, model-signing 1.1.1).
//!
//! ```json
//! {
//!   "_type": "https://in-toto.io/Statement/v1",
//!   "subject": [{"name": "<model dir name>", "digest": {"sha256": "<root digest>"}}],
//!   "predicateType": "https://model_signing/signature/v1.0",
//!   "predicate": {
//!     "serialization": {"method": "files", "hash_type": "sha256", "allow_symlinks": false,
//!                       "ignore_paths": ["model.sig", ".git", ".gitattributes", ".github", ".gitignore"]},
//!     "resources": [{"name": "<relative path>", "algorithm": "sha256", "digest": "<hex>"}, ...]
//!   }
//! }
//! ```
//!
//! The subject's digest is the SHA-256 of the resources' raw digests concatenated in the
//! order listed ([`crate::Manifest::root_digest`]). The reference tool writes the statement
//! through protobuf's `MessageToJson` (2-space indent, ASCII-escaped, object keys in an
//! order that changes from run to run) and reads it back with `json.loads`, so only the JSON
//! value matters, never the bytes: this crate writes the keys in the order above and
//! non-ASCII characters as UTF-8. The bytes are fixed once signed: the DSSE signature covers
//! them exactly.

use serde::{Deserialize, Serialize};

use crate::hex;
use crate::manifest::{Manifest, IGNORED_PATHS};

/// The statement's `_type`.
pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";

/// The model-signing predicate type this crate writes and reads.
pub const PREDICATE_TYPE: &str = "https://model_signing/signature/v1.0";

/// The only serialisation method this crate implements (one resource per file).
pub const METHOD_FILES: &str = "files";

/// The only hash this crate implements.
pub const SHA256: &str = "sha256";

/// An in-toto Statement v1 with the model-signing predicate.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Statement {
    /// Always [`STATEMENT_TYPE`].
    #[serde(rename = "_type")]
    pub statement_type: String,
    /// The model: exactly one subject.
    pub subject: Vec<Subject>,
    /// Always [`PREDICATE_TYPE`].
    #[serde(rename = "predicateType")]
    pub predicate_type: String,
    /// How the model was hashed, and every file's digest.
    pub predicate: Predicate,
}

/// The statement's subject: the model's name and root digest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subject {
    /// The model directory's name (informative only).
    pub name: String,
    /// The root digest.
    pub digest: SubjectDigest,
}

/// The subject's digest set; only SHA-256 is written or read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubjectDigest {
    /// Lower-case hex SHA-256 of the resources' digests, in order.
    pub sha256: String,
}

/// The model-signing v1.0 predicate.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Predicate {
    /// How the manifest was made.
    pub serialization: Serialization,
    /// One resource per hashed file.
    pub resources: Vec<Resource>,
}

/// The serialisation parameters a verifier needs to hash the model the same way.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Serialization {
    /// [`METHOD_FILES`] (the reference tool also has `shards`, not implemented here).
    pub method: String,
    /// [`SHA256`] (the reference tool also has `blake2` and `blake3`).
    pub hash_type: String,
    /// Whether symbolic links were followed; this crate writes `false` and never follows one.
    pub allow_symlinks: bool,
    /// Top-level paths not hashed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore_paths: Option<Vec<String>>,
}

/// One hashed file, an in-toto ResourceDescriptor in the model-signing form.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resource {
    /// The path relative to the model directory, with `/` separators.
    pub name: String,
    /// [`SHA256`].
    pub algorithm: String,
    /// Lower-case hex digest of the file.
    pub digest: String,
}

/// The two type fields, read first so that a statement of another type is named as such
/// rather than failing on its shape.
#[derive(Deserialize)]
pub(crate) struct StatementTypes {
    /// The statement's `_type`.
    #[serde(rename = "_type")]
    pub(crate) statement_type: String,
    /// The statement's `predicateType`.
    #[serde(rename = "predicateType")]
    pub(crate) predicate_type: String,
}

impl Statement {
    /// The statement for `manifest`, as the reference tool builds it.
    pub fn of_manifest(manifest: &Manifest) -> Self {
        Statement {
            statement_type: STATEMENT_TYPE.to_string(),
            subject: vec![Subject {
                name: manifest.model_name.clone(),
                digest: SubjectDigest {
                    sha256: hex::encode(&manifest.root_digest()),
                },
            }],
            predicate_type: PREDICATE_TYPE.to_string(),
            predicate: Predicate {
                serialization: Serialization {
                    method: METHOD_FILES.to_string(),
                    hash_type: SHA256.to_string(),
                    allow_symlinks: false,
                    ignore_paths: Some(IGNORED_PATHS.iter().map(|p| p.to_string()).collect()),
                },
                resources: manifest
                    .files
                    .iter()
                    .map(|f| Resource {
                        name: f.path.clone(),
                        algorithm: SHA256.to_string(),
                        digest: hex::encode(&f.sha256),
                    })
                    .collect(),
            },
        }
    }

    /// The statement as the DSSE payload: JSON with a 2-space indent, like the reference tool.
    pub fn to_payload(&self) -> Vec<u8> {
        #[allow(clippy::expect_used)]
        serde_json::to_vec_pretty(self)
            .expect("a statement of strings, booleans and lists always serialises to JSON")
    }
}
