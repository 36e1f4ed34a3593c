//! `custos keygen --model`, `custos model sign` and `custos model verify`: model directories
//! signed in the OpenSSF model-signing format (crate `custos-trust`, docs/trust.md).

use crate::cli::{KeygenArgs, ModelSignArgs, ModelVerifyArgs};
use crate::Outcome;
use custos_engine::detectors::MODEL_FILE;
use custos_trust::{PublicKey, SigningKey, TrustError};
use std::io::Write as _;
use std::path::Path;

/// Writes PREFIX.pem (private, mode 0600) and PREFIX.pub.
///
/// # Errors
/// Existing key files (never overwritten), I/O errors.
pub fn keygen(a: &KeygenArgs) -> anyhow::Result<Outcome> {
    let files = custos_trust::write_key_pair(&a.output)?;
    writeln!(std::io::stdout(), "{}", files.key_hint)?;
    eprintln!(
        "custos: wrote {} (private: keep it where models are signed) and {} (public: give it \
         to sensors as --trust); key hint {}",
        files.private_key.display(),
        files.public_key.display(),
        files.key_hint
    );
    Ok(Outcome::Success)
}

/// Signs a model directory.
///
/// # Errors
/// An unreadable key or directory, a directory that cannot be signed (links, special files).
pub fn sign(a: &ModelSignArgs) -> anyhow::Result<Outcome> {
    let key = SigningKey::read(&a.key)?;
    let dir = if a.dir.is_file() {
        let dir = custos_engine::train::wrap_model_file(&a.dir)?;
        let file = dir.join(MODEL_FILE);
        eprintln!("custos: wrapped {} as {}", a.dir.display(), file.display());
        dir
    } else {
        a.dir.clone()
    };
    let signed = custos_trust::sign_model(&dir, &key)?;
    eprintln!(
        "custos: signed {} files of {} with key {}: {}",
        signed.files.len(),
        dir.display(),
        signed.key_hint,
        signed.signature.display()
    );
    Ok(Outcome::Success)
}

/// Verifies a model directory against trusted keys. A refused model (unsigned, changed,
/// untrusted signer, bad signature) is a negative result; unreadable keys are errors.
///
/// # Errors
/// Unreadable trusted keys or model directory.
pub fn verify(a: &ModelVerifyArgs) -> anyhow::Result<Outcome> {
    let trusted = PublicKey::read_all(&a.trust)?;
    match custos_trust::verify_model(&a.dir, &trusted) {
        Ok(v) => {
            writeln!(
                std::io::stdout(),
                "verdict: VERIFIED — {} files of {} signed by key {} (statement sha256 {})",
                v.files.len(),
                a.dir.display(),
                v.key_hint,
                custos_evidence::merkle::hex(&v.statement_digest)
            )?;
            Ok(Outcome::Success)
        }
        Err(e @ (TrustError::Io { .. } | TrustError::NotADirectory { .. })) => Err(e.into()),
        Err(e) => {
            writeln!(std::io::stdout(), "verdict: REFUSED — {e}")?;
            Ok(Outcome::Negative)
        }
    }
}

/// After a model card changed (`evaluate --model-card`, `robust … --model-card`): signs the
/// model directory again with `sign`, or says that its signature was removed.
///
/// # Errors
/// An unreadable key or a directory that cannot be signed.
pub fn card_updated(model: &Path, sign: Option<&Path>, what: &str) -> anyhow::Result<()> {
    match sign {
        Some(key) => {
            let key = custos_trust::SigningKey::read(key)?;
            let signed = custos_trust::sign_model(model, &key)?;
            eprintln!(
                "custos: wrote {what} into {}'s model card and signed it again ({})",
                model.display(),
                signed.signature.display()
            );
        }
        None => eprintln!(
            "custos: wrote {what} into {}'s model card; its signature was removed (the card \
             changed): sign it again with custos model sign {} --key KEY.pem",
            model.display(),
            model.display()
        ),
    }
    Ok(())
}
