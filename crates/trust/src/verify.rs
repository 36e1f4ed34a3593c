//! Verifying a signed model directory against trusted public keys.
//!
//! [`verify_model`] checks, in order, and refuses at the first failure:
//!
//! 1. `dir/model.sig` exists ([`TrustError::Unsigned`]) and is a Sigstore bundle v0.3 in key
//!    mode holding one DSSE signature over an in-toto payload ([`TrustError::Malformed`],
//!    [`TrustError::Unsupported`]);
//! 2. the signer is trusted: the bundle's key hint names one of the trusted keys, and the
//!    signature verifies with that key ([`TrustError::UntrustedSigner`],
//!    [`TrustError::BadSignature`]). The hint only selects the key; the key itself is proved
//!    by the signature. A bundle without a hint (written before model-signing 1.0) is tried
//!    against every trusted key;
//! 3. the payload is an in-toto Statement v1 with the model-signing v1.0 predicate, one
//!    subject, the `files` serialisation with SHA-256, no resource listed twice, and the
//!    subject digest equal to the SHA-256 of the resources' digests in order;
//! 4. the directory, hashed as when signing ([`crate::manifest`]), holds exactly the signed
//!    files with the signed digests ([`TrustError::ModelChanged`] lists every added, removed
//!    and modified file).
//!
//! Only the fixed [`IGNORED_PATHS`](crate::IGNORED_PATHS) are skipped. Extra `ignore_paths`
//! recorded in the statement (the reference tool's `--ignore-paths`) are not honoured: a file
//! there is refused as added, so nothing in the directory escapes the signature unnoticed.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use sha2::{Digest, Sha256};

use crate::bundle::{Bundle, MEDIA_TYPE};
use crate::dsse::{self, PAYLOAD_TYPE};
use crate::manifest::{self, FileDigest, Manifest, SIGNATURE_FILE};
use crate::statement::{
    Statement, StatementTypes, METHOD_FILES, PREDICATE_TYPE, SHA256, STATEMENT_TYPE,
};
use crate::{hex, FileChange, PublicKey, TrustError};

/// The largest signature file read, in bytes (about 100 000 files' worth of statement).
pub const MAX_SIGNATURE_LEN: u64 = 32 << 20;

/// The model-signing 0.2 predicate type, recognised only to name it in the error.
const PREDICATE_TYPE_COMPAT: &str = "https://model_signing/Digests/v0.1";

/// A model directory whose files match a statement signed by a trusted key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedModel {
    /// The model directory.
    pub dir: PathBuf,
    /// The model name the statement gives (informative only).
    pub model_name: String,
    /// The statement's subject digest: SHA-256 over the files' digests in order.
    pub root_digest: [u8; 32],
    /// SHA-256 of the signed DSSE payload, the statement's exact bytes: what an alert cites.
    pub statement_digest: [u8; 32],
    /// The hint of the trusted key that signed.
    pub key_hint: String,
    /// Every signed file with its digest, in signing order.
    pub files: Vec<FileDigest>,
}

impl VerifiedModel {
    /// The signed SHA-256 of the file at `path` (relative, `/`-separated), if it is signed.
    pub fn digest_of(&self, path: &str) -> Option<&[u8; 32]> {
        self.files
            .iter()
            .find(|f| f.path == path)
            .map(|f| &f.sha256)
    }

    /// Reads the signed file at `path` (relative, `/`-separated) and checks its bytes against
    /// the signed digest, so what is loaded is what was verified even if the file changed
    /// after [`verify_model`].
    ///
    /// # Errors
    /// [`TrustError::ModelChanged`] when `path` is not a signed file (`Added`) or its bytes
    /// differ (`Modified`), [`TrustError::Io`] when it cannot be read.
    pub fn read_file(&self, path: &str) -> Result<Vec<u8>, TrustError> {
        let changed = |change| TrustError::ModelChanged {
            path: self.dir.clone(),
            changes: vec![change],
        };
        let Some(signed) = self.digest_of(path) else {
            return Err(changed(FileChange::Added {
                path: path.to_string(),
            }));
        };
        let full = self.dir.join(path);
        let bytes = std::fs::read(&full).map_err(|e| TrustError::io(&full, "read", e))?;
        let found: [u8; 32] = Sha256::digest(&bytes).into();
        if &found != signed {
            return Err(changed(FileChange::Modified {
                path: path.to_string(),
                signed: *signed,
                found,
            }));
        }
        Ok(bytes)
    }
}

/// Verifies the model directory `dir` against its signature `dir/model.sig` and the
/// `trusted` public keys (see the module docs for each check).
///
/// # Errors
/// [`TrustError::NotADirectory`], [`TrustError::Unsigned`], [`TrustError::Malformed`],
/// [`TrustError::Unsupported`], [`TrustError::UntrustedSigner`], [`TrustError::BadSignature`],
/// [`TrustError::ModelChanged`], what [`Manifest::of_dir`] refuses, and [`TrustError::Io`];
/// each names the model directory or the file concerned.
pub fn verify_model(dir: &Path, trusted: &[PublicKey]) -> Result<VerifiedModel, TrustError> {
    let meta = dir
        .symlink_metadata()
        .map_err(|e| TrustError::io(dir, "read", e))?;
    if meta.file_type().is_symlink() {
        return Err(TrustError::Symlink {
            path: dir.to_path_buf(),
        });
    }
    if !meta.is_dir() {
        return Err(TrustError::NotADirectory {
            path: dir.to_path_buf(),
        });
    }
    let signature = dir.join(SIGNATURE_FILE);
    let bundle = read_signature(&signature)?;
    let (payload, key_hint) = open_bundle(&signature, &bundle, trusted)?;
    let statement = parse_statement(&signature, &payload)?;
    let signed = signed_files(&signature, &statement)?;

    let manifest = Manifest::of_dir(dir)?;
    let changes = compare(&signed, &manifest.files);
    if !changes.is_empty() {
        return Err(TrustError::ModelChanged {
            path: dir.to_path_buf(),
            changes,
        });
    }
    let root_digest = manifest.root_digest();
    let model_name = statement
        .subject
        .into_iter()
        .next()
        .map(|s| s.name)
        .unwrap_or_default();
    Ok(VerifiedModel {
        dir: dir.to_path_buf(),
        model_name,
        root_digest,
        statement_digest: Sha256::digest(&payload).into(),
        key_hint,
        files: manifest.files,
    })
}

/// Reads the signature file, at most [`MAX_SIGNATURE_LEN`] bytes, refusing a link.
fn read_signature(path: &Path) -> Result<Vec<u8>, TrustError> {
    match path.symlink_metadata() {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(TrustError::Unsigned {
                path: path.to_path_buf(),
            })
        }
        Err(e) => return Err(TrustError::io(path, "read", e)),
        Ok(meta) if meta.file_type().is_symlink() => {
            return Err(TrustError::Symlink {
                path: path.to_path_buf(),
            })
        }
        Ok(meta) if !meta.is_file() => {
            return Err(TrustError::NotRegular {
                path: path.to_path_buf(),
            })
        }
        Ok(_) => {}
    }
    let file = std::fs::File::open(path).map_err(|e| TrustError::io(path, "read", e))?;
    let mut bytes = Vec::new();
    file.take(MAX_SIGNATURE_LEN + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| TrustError::io(path, "read", e))?;
    if bytes.len() as u64 > MAX_SIGNATURE_LEN {
        return Err(TrustError::Malformed {
            path: path.to_path_buf(),
            reason: format!("larger than {MAX_SIGNATURE_LEN} bytes"),
        });
    }
    Ok(bytes)
}

/// Checks the bundle's shape and its signature by a trusted key; returns the DSSE payload
/// and the signing key's hint.
fn open_bundle(
    path: &Path,
    bytes: &[u8],
    trusted: &[PublicKey],
) -> Result<(Vec<u8>, String), TrustError> {
    let malformed = |reason: String| TrustError::Malformed {
        path: path.to_path_buf(),
        reason,
    };
    let unsupported = |reason: &str| TrustError::Unsupported {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    };
    let bundle: Bundle = serde_json::from_slice(bytes)
        .map_err(|e| malformed(format!("not a Sigstore bundle: {e}")))?;
    if bundle.media_type != MEDIA_TYPE {
        return Err(malformed(format!(
            "bundle media type {:?}, expected {MEDIA_TYPE:?}",
            bundle.media_type
        )));
    }
    let material = &bundle.verification_material;
    if material.certificate.is_some() || material.x509_certificate_chain.is_some() {
        return Err(unsupported(
            "signed with a certificate; only key mode (a public key hint) is supported",
        ));
    }
    let Some(public_key) = &material.public_key else {
        return Err(unsupported(
            "no publicKey in verificationMaterial; only key mode is supported",
        ));
    };
    if bundle.message_signature.is_some() {
        return Err(unsupported(
            "a message signature; only DSSE envelopes are supported",
        ));
    }
    let Some(envelope) = &bundle.dsse_envelope else {
        return Err(malformed("no dsseEnvelope".into()));
    };
    if envelope.payload_type != PAYLOAD_TYPE {
        return Err(malformed(format!(
            "DSSE payload type {:?}, expected {PAYLOAD_TYPE:?}",
            envelope.payload_type
        )));
    }
    let [signature] = envelope.signatures.as_slice() else {
        return Err(malformed(format!(
            "{} DSSE signatures, expected exactly one",
            envelope.signatures.len()
        )));
    };
    let payload = STANDARD
        .decode(&envelope.payload)
        .map_err(|e| malformed(format!("DSSE payload is not base64: {e}")))?;
    let sig = STANDARD
        .decode(&signature.sig)
        .map_err(|e| malformed(format!("DSSE signature is not base64: {e}")))?;
    let message = dsse::pae(&payload);

    let hint = public_key.hint.as_deref().filter(|h| !h.is_empty());
    let untrusted = || TrustError::UntrustedSigner {
        path: path.to_path_buf(),
        hint: hint.map(str::to_string),
        trusted: trusted.len(),
    };
    match hint {
        Some(hint) => {
            let mut named = trusted.iter().filter(|k| k.key_hint() == hint).peekable();
            if named.peek().is_none() {
                return Err(untrusted());
            }
            if named.any(|k| k.verify_der(&message, &sig)) {
                Ok((payload, hint.to_string()))
            } else {
                Err(TrustError::BadSignature {
                    path: path.to_path_buf(),
                    key_hint: hint.to_string(),
                })
            }
        }
        None => trusted
            .iter()
            .find(|k| k.verify_der(&message, &sig))
            .map(|k| (payload.clone(), k.key_hint()))
            .ok_or_else(untrusted),
    }
}

/// Parses the signed payload as a model-signing statement.
fn parse_statement(path: &Path, payload: &[u8]) -> Result<Statement, TrustError> {
    let malformed = |reason: String| TrustError::Malformed {
        path: path.to_path_buf(),
        reason,
    };
    let types: StatementTypes = serde_json::from_slice(payload)
        .map_err(|e| malformed(format!("payload is not an in-toto statement: {e}")))?;
    if types.statement_type != STATEMENT_TYPE {
        return Err(malformed(format!(
            "statement type {:?}, expected {STATEMENT_TYPE:?}",
            types.statement_type
        )));
    }
    if types.predicate_type == PREDICATE_TYPE_COMPAT {
        return Err(TrustError::Unsupported {
            path: path.to_path_buf(),
            reason: format!(
                "predicate type {PREDICATE_TYPE_COMPAT:?} (model-signing 0.2); re-sign the model"
            ),
        });
    }
    if types.predicate_type != PREDICATE_TYPE {
        return Err(malformed(format!(
            "predicate type {:?}, expected {PREDICATE_TYPE:?}",
            types.predicate_type
        )));
    }
    serde_json::from_slice(payload)
        .map_err(|e| malformed(format!("not a model-signing v1.0 statement: {e}")))
}

/// The signed files, after checking the statement's subject, serialisation and digests.
fn signed_files(
    path: &Path,
    statement: &Statement,
) -> Result<BTreeMap<String, [u8; 32]>, TrustError> {
    let malformed = |reason: String| TrustError::Malformed {
        path: path.to_path_buf(),
        reason,
    };
    let unsupported = |reason: String| TrustError::Unsupported {
        path: path.to_path_buf(),
        reason,
    };
    let [subject] = statement.subject.as_slice() else {
        return Err(malformed(format!(
            "{} subjects, expected exactly one",
            statement.subject.len()
        )));
    };
    let serialization = &statement.predicate.serialization;
    if serialization.method != METHOD_FILES {
        return Err(unsupported(format!(
            "serialisation method {:?}; only {METHOD_FILES:?} is supported",
            serialization.method
        )));
    }
    if serialization.hash_type != SHA256 {
        return Err(unsupported(format!(
            "hash type {:?}; only {SHA256:?} is supported",
            serialization.hash_type
        )));
    }
    let mut signed = BTreeMap::new();
    let mut digests = Vec::with_capacity(statement.predicate.resources.len());
    for resource in &statement.predicate.resources {
        if resource.algorithm != SHA256 {
            return Err(unsupported(format!(
                "resource {:?} hashed with {:?}; only {SHA256:?} is supported",
                resource.name, resource.algorithm
            )));
        }
        let Some(digest) = hex::decode_sha256(&resource.digest) else {
            return Err(malformed(format!(
                "resource {:?} digest {:?} is not a SHA-256",
                resource.name, resource.digest
            )));
        };
        if signed.insert(resource.name.clone(), digest).is_some() {
            return Err(malformed(format!(
                "resource {:?} listed twice",
                resource.name
            )));
        }
        digests.push(digest);
    }
    let Some(subject_digest) = hex::decode_sha256(&subject.digest.sha256) else {
        return Err(malformed(format!(
            "subject digest {:?} is not a SHA-256",
            subject.digest.sha256
        )));
    };
    let listed = manifest::root_digest(digests.iter());
    if listed != subject_digest {
        return Err(malformed(format!(
            "subject digest {} differs from the resources' digest {}",
            hex::encode(&subject_digest),
            hex::encode(&listed)
        )));
    }
    Ok(signed)
}

/// Every difference between the signed files and the files found, in path order.
fn compare(signed: &BTreeMap<String, [u8; 32]>, found: &[FileDigest]) -> Vec<FileChange> {
    let mut changes = Vec::new();
    for file in found {
        match signed.get(&file.path) {
            None => changes.push(FileChange::Added {
                path: file.path.clone(),
            }),
            Some(digest) if *digest != file.sha256 => changes.push(FileChange::Modified {
                path: file.path.clone(),
                signed: *digest,
                found: file.sha256,
            }),
            Some(_) => {}
        }
    }
    let present: BTreeSet<&str> = found.iter().map(|f| f.path.as_str()).collect();
    for path in signed.keys() {
        if !present.contains(path.as_str()) {
            changes.push(FileChange::Removed { path: path.clone() });
        }
    }
    changes.sort_by(|a, b| manifest::path_order(a.path(), b.path()));
    changes
}
