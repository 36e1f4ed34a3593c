//! The Sigstore bundle v0.3 that holds the signature, in its protobuf JSON form
//! (<https://docs.sigstore.dev/about/bundle/>), as the reference tool writes it in key mode
//! (`_signing/sign_ec_key.py`, `Signer.sign`):
//!
//! ```json
//! {"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json",
//!  "verificationMaterial":{"publicKey":{"hint":"<key hint>"},"tlogEntries":[]},
//!  "dsseEnvelope":{"payload":"<base64>","payloadType":"application/vnd.in-toto+json",
//!                  "signatures":[{"sig":"<base64 DER>","keyid":""}]}}
//! ```
//!
//! Compact JSON, fields in that order, no trailing newline. In key mode there is no key in
//! the bundle, only the hint (lower-case hex SHA-256 of the PEM public key); the verifier
//! must already hold the key. A field this crate does not know is refused (`deny_unknown_fields`), so
//! that no byte of the signature file can change without the change being refused: a renamed
//! `hint` or `keyid` would otherwise be read as absent. A bundle carrying a certificate
//! instead of a key hint, or a message signature instead of a DSSE envelope, is refused as
//! unsupported.

use serde::{Deserialize, Serialize};

use crate::dsse::Envelope;

/// The bundle media type the reference tool writes and requires.
pub const MEDIA_TYPE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";

/// A Sigstore bundle.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Bundle {
    /// [`MEDIA_TYPE`].
    pub media_type: String,
    /// What identifies the signer.
    pub verification_material: VerificationMaterial,
    /// The signed statement.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dsse_envelope: Option<Envelope>,
    /// A signature over a message digest (not used for models; refused when present).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_signature: Option<serde_json::Value>,
}

/// The bundle's verification material.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VerificationMaterial {
    /// The key hint (key mode).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<PublicKeyIdentifier>,
    /// Transparency-log entries: none in key mode.
    #[serde(default)]
    pub tlog_entries: Vec<serde_json::Value>,
    /// A signing certificate (certificate and Sigstore modes; refused when present).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<serde_json::Value>,
    /// A certificate chain (certificate mode; refused when present).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x509_certificate_chain: Option<serde_json::Value>,
}

/// Names the public key that signed, without carrying it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublicKeyIdentifier {
    /// Lower-case hex SHA-256 of the PEM public key; absent in bundles written before
    /// model-signing 1.0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}
