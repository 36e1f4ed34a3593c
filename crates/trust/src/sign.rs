//! Signing a model directory: manifest → statement → DSSE → bundle → `model.sig`.

use std::io::Write;
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use sha2::{Digest, Sha256};

use crate::bundle::{Bundle, PublicKeyIdentifier, VerificationMaterial, MEDIA_TYPE};
use crate::dsse::{self, Envelope, PAYLOAD_TYPE};
use crate::manifest::{FileDigest, Manifest, SIGNATURE_FILE};
use crate::statement::Statement;
use crate::{SigningKey, TrustError};

/// What [`sign_model`] wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedModel {
    /// The signature file written (`<dir>/model.sig`).
    pub signature: PathBuf,
    /// The model's root digest (the statement's subject digest).
    pub root_digest: [u8; 32],
    /// SHA-256 of the signed DSSE payload (the statement's bytes).
    pub statement_digest: [u8; 32],
    /// The signing key's hint.
    pub key_hint: String,
    /// Every signed file, in signing order.
    pub files: Vec<FileDigest>,
}

/// The bundle (JSON bytes) signing `manifest` with `key`, as the reference tool writes it.
pub fn sign_manifest(manifest: &Manifest, key: &SigningKey) -> Vec<u8> {
    sign_payload(&Statement::of_manifest(manifest).to_payload(), key)
}

/// The bundle (JSON bytes) signing the DSSE `payload` with `key`.
pub fn sign_payload(payload: &[u8], key: &SigningKey) -> Vec<u8> {
    let bundle = Bundle {
        media_type: MEDIA_TYPE.to_string(),
        verification_material: VerificationMaterial {
            public_key: Some(PublicKeyIdentifier {
                hint: Some(key.public_key().key_hint()),
            }),
            tlog_entries: Vec::new(),
            certificate: None,
            x509_certificate_chain: None,
        },
        dsse_envelope: Some(Envelope {
            payload: STANDARD.encode(payload),
            payload_type: PAYLOAD_TYPE.to_string(),
            signatures: vec![dsse::Signature {
                sig: STANDARD.encode(key.sign_der(&dsse::pae(payload))),
                keyid: String::new(),
            }],
        }),
        message_signature: None,
    };
    #[allow(clippy::expect_used)]
    serde_json::to_vec(&bundle).expect("a bundle of strings and lists always serialises to JSON")
}

/// Hashes the model directory `dir`, signs it with `key` and writes `dir/model.sig`
/// (replacing an earlier one through a temporary file and a rename).
///
/// # Errors
/// What [`Manifest::of_dir`] refuses, [`TrustError::EmptyModel`] for a directory with no
/// file to sign, [`TrustError::Io`] naming the signature file when it cannot be written.
pub fn sign_model(dir: &Path, key: &SigningKey) -> Result<SignedModel, TrustError> {
    let manifest = Manifest::of_dir(dir)?;
    if manifest.files.is_empty() {
        return Err(TrustError::EmptyModel {
            path: dir.to_path_buf(),
        });
    }
    let payload = Statement::of_manifest(&manifest).to_payload();
    let bundle = sign_payload(&payload, key);
    let signature = dir.join(SIGNATURE_FILE);
    write_replacing(&signature, &bundle)?;
    Ok(SignedModel {
        signature,
        root_digest: manifest.root_digest(),
        statement_digest: Sha256::digest(&payload).into(),
        key_hint: key.public_key().key_hint(),
        files: manifest.files,
    })
}

/// Writes `bytes` to `path` through a temporary file beside it and a rename.
fn write_replacing(path: &Path, bytes: &[u8]) -> Result<(), TrustError> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".tmp-{}", std::process::id()));
    let tmp = PathBuf::from(tmp);
    let result = std::fs::File::create(&tmp)
        .and_then(|mut f| f.write_all(bytes).and_then(|()| f.sync_all()))
        .map_err(|e| TrustError::io(&tmp, "write", e))
        .and_then(|()| std::fs::rename(&tmp, path).map_err(|e| TrustError::io(path, "write", e)));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
