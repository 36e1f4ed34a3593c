//! `custos keygen --model`, `custos model sign` and `custos model verify`: model directories
//! signed in the OpenSSF model-signing format (crate `custos-trust`, docs/trust.md).

use crate::cli::{KeygenArgs, ModelSignArgs, ModelVerifyArgs};
use crate::Outcome;
use custos_trust::{PublicKey, SigningKey, TrustError};

/// Writes PREFIX.pem (private, mode 0600) and PREFIX.pub.
///
/// # Errors
/// Existing key files (never overwritten), I/O errors.
pub fn keygen(a: &KeygenArgs) -> anyhow::Result<Outcome> {
    let files = custos_trust::write_key_pair(&a.output)?;
    println!("{}", files.key_hint);
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
    let signed = custos_trust::sign_model(&a.dir, &key)?;
    eprintln!(
        "custos: signed {} files of {} with key {}: {}",
        signed.files.len(),
        a.dir.display(),
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
            println!(
                "verdict: VERIFIED — {} files of {} signed by key {} (statement sha256 {})",
                v.files.len(),
                a.dir.display(),
                v.key_hint,
                hex(&v.statement_digest)
            );
            Ok(Outcome::Success)
        }
        Err(e @ (TrustError::Io { .. } | TrustError::NotADirectory { .. })) => Err(e.into()),
        Err(e) => {
            println!("verdict: REFUSED — {e}");
            Ok(Outcome::Negative)
        }
    }
}

/// Lower-case hex of a digest.
pub fn hex(d: &[u8]) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}
