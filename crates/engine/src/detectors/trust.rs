//! Which saved models a run loads: only model directories signed by a trusted key, unless
//! unsigned models are explicitly allowed (docs/trust.md).

use crate::config::DetectSettings;
use crate::error::EngineError;
use custos_output::ModelSignature;
use custos_trust::{PublicKey, TrustError};
use std::path::Path;

/// The keys a run trusts for models, and whether unsigned models are allowed.
#[derive(Debug, Default)]
pub struct ModelTrust {
    keys: Vec<PublicKey>,
    allow_unsigned: bool,
}

/// A model file read from a directory, with what its signature says.
#[derive(Debug)]
pub struct LoadedModel {
    /// The model file's bytes (checked against the signed digest as they were read).
    pub bytes: Vec<u8>,
    /// Who signed it (or that it is unsigned).
    pub signature: ModelSignature,
}

impl ModelTrust {
    /// From `[detect] trust` and `allow_unsigned_model`.
    ///
    /// # Errors
    /// A trusted key that cannot be read.
    pub fn from_settings(d: &DetectSettings) -> Result<Self, EngineError> {
        let keys = PublicKey::read_all(&d.trust)
            .map_err(|e| EngineError::Config(format!("--trust: {e}")))?;
        Ok(ModelTrust {
            keys,
            allow_unsigned: d.allow_unsigned_model,
        })
    }

    /// Trusts `keys` (and no unsigned model).
    pub fn keys(keys: Vec<PublicKey>) -> Self {
        ModelTrust {
            keys,
            allow_unsigned: false,
        }
    }

    /// Reads `file` of the model directory `dir`: only when the directory's signature verifies
    /// against a trusted key (every file as signed, none added or removed), or when unsigned
    /// models are allowed.
    ///
    /// # Errors
    /// A path that is a single file (the message says how to make it a signed directory), no
    /// trusted key, an unsigned, modified or untrusted-signer model — each naming the
    /// directory and the reason.
    pub fn load(&self, dir: &Path, file: &str) -> Result<LoadedModel, EngineError> {
        let refuse = |reason: String| {
            EngineError::Config(format!("cannot use model {}: {reason}", dir.display()))
        };
        if dir.is_file() {
            return Err(refuse(format!(
                "a single model file; custos loads model directories signed by a trusted key. \
                 Wrap and sign it: mkdir MODEL && cp {} MODEL/{file} && custos keygen --model \
                 -o K && custos model sign MODEL --key K.pem; then --model MODEL --trust K.pub \
                 (--allow-unsigned-model loads it unsigned, for research)",
                dir.display()
            )));
        }
        if self.allow_unsigned {
            let path = dir.join(file);
            let bytes = std::fs::read(&path)
                .map_err(|e| refuse(format!("cannot read {}: {e}", path.display())))?;
            return Ok(LoadedModel {
                bytes,
                signature: ModelSignature {
                    signed: false,
                    statement_sha256: None,
                    signer_key_hint: None,
                },
            });
        }
        if self.keys.is_empty() {
            return Err(refuse(
                "no trusted key: name the signer's public key with --trust KEY.pub \
                 (or --allow-unsigned-model, for research)"
                    .into(),
            ));
        }
        // The trust errors name the directory themselves.
        let refused = |e: TrustError| EngineError::Config(format!("cannot use model: {e}"));
        let verified = custos_trust::verify_model(dir, &self.keys).map_err(|e| match e {
            TrustError::Unsigned { .. } => EngineError::Config(format!(
                "cannot use model: {e}; sign it with custos model sign {} --key KEY.pem",
                dir.display()
            )),
            e => refused(e),
        })?;
        let bytes = verified.read_file(file).map_err(refused)?;
        Ok(LoadedModel {
            bytes,
            signature: ModelSignature {
                signed: true,
                statement_sha256: Some(hex(&verified.statement_digest)),
                signer_key_hint: Some(verified.key_hint.clone()),
            },
        })
    }
}

/// Lower-case hex.
fn hex(d: &[u8]) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}
