//! Trustworthy detection models: signed model directories in the OpenSSF model-signing
//! format, interoperable with the reference tool (PyPI `model-signing` 1.1.1, key mode).
//!
//! A model is a directory: the model file(s), `model-card.md` and `model-card.json`, the
//! dataset manifest and the training config. Signing binds every file of it, so the model
//! card and dataset manifest are covered too.
//!
//! # Design overview
//! - [`keys`]: ECDSA P-256 key pairs ([`SigningKey`], [`PublicKey`], [`write_key_pair`]):
//!   PKCS#8 PEM private keys (mode 0600) and SubjectPublicKeyInfo PEM public keys, and the
//!   key hint the reference tool puts in bundles.
//! - [`manifest`]: every file of a model directory with its SHA-256 ([`Manifest`]), sorted
//!   and named as the reference tool does, skipping [`IGNORED_PATHS`] (the signature file
//!   [`SIGNATURE_FILE`] and git's files), refusing symbolic links and special files.
//! - [`statement`]: the in-toto Statement v1 with the `https://model_signing/signature/v1.0`
//!   predicate: one subject (the model's name and root digest) and every file under
//!   `predicate.resources`.
//! - [`dsse`]: the DSSE envelope and its pre-authentication encoding, the bytes signed.
//! - [`bundle`]: the Sigstore bundle v0.3 JSON written to `model.sig`.
//! - [`sign`]: [`sign_model`] (manifest → statement → DSSE → bundle → `model.sig`).
//! - [`verify`]: [`verify_model`] checks the bundle, that a trusted key signed it, and every
//!   file, and returns a [`VerifiedModel`] (statement digest, key hint, files) for alerts to
//!   cite; [`VerifiedModel::read_file`] re-checks a file's bytes as they are loaded.
//! - Errors: one enum, [`TrustError`]; every variant names the file and the reason, and a
//!   wrapped I/O error is part of the message, never also a `source()`.
//!
//! ```
//! use custos_trust::{sign_model, verify_model, PublicKey, SigningKey, TrustError};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let dir = std::env::temp_dir().join(format!("custos-trust-doc-{}", std::process::id()));
//! # let _ = std::fs::remove_dir_all(&dir);
//! # std::fs::create_dir_all(&dir)?;
//! std::fs::write(dir.join("model.bin"), b"weights")?;
//! std::fs::write(dir.join("model-card.md"), b"# A model")?;
//! let key = SigningKey::generate();
//! sign_model(&dir, &key)?;
//! let verified = verify_model(&dir, &[key.public_key()])?;
//! assert_eq!(verified.files.len(), 2);
//! assert_eq!(verified.key_hint, key.public_key().key_hint());
//!
//! std::fs::write(dir.join("model.bin"), b"weightz")?;
//! let err = verify_model(&dir, &[key.public_key()]).unwrap_err();
//! assert!(matches!(err, TrustError::ModelChanged { .. }));
//! assert!(err.to_string().contains("model.bin modified"));
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok(())
//! # }
//! ```
//!
//! # What it does not do
//! - No keyless (Sigstore/OIDC), certificate or PKCS#11 signing, no transparency log: key
//!   mode only. Bundles of those modes are refused as unsupported.
//! - Only the reference tool's default hashing: whole files with SHA-256 (`files`
//!   serialisation). `shards`, BLAKE2 and BLAKE3 signatures are refused as unsupported, as
//!   are model-signing 0.2 signatures (old predicate and PAE).
//! - No symbolic links are followed (`allow_symlinks` is `false`), even inside the model.
//! - No key management: no encrypted private keys, no key rotation or revocation lists; the
//!   caller decides which public keys are trusted.
//! - It does not load or interpret models; the caller loads the files it verified.

#![deny(missing_docs)]
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

pub mod bundle;
pub mod dsse;
mod error;
mod hex;
pub mod keys;
pub mod manifest;
pub mod sign;
pub mod statement;
pub mod verify;

pub use error::{FileChange, TrustError};
pub use keys::{write_key_pair, KeyFiles, PublicKey, SigningKey};
pub use manifest::{FileDigest, Manifest, IGNORED_PATHS, SIGNATURE_FILE};
pub use sign::{sign_manifest, sign_model, SignedModel};
pub use verify::{verify_model, VerifiedModel};
