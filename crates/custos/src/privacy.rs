//! `custos keygen --pseudonym`, `custos pseudonymize` and `custos anonymize` (crate
//! `custos-privacy`, docs/privacy.md). Re-identification goes only through the audited `reidentify`.

use crate::cli::{KeygenArgs, PseudonymizeArgs};
use crate::Outcome;
use custos_privacy::flags::AnonymizeFlags;
use custos_privacy::{PseudonymKey, Pseudonymizer, ValueKind};
use std::io::Write;

/// Writes PREFIX.pkey (mode 0600, never overwritten).
///
/// # Errors
/// An existing key file, no randomness, I/O errors.
pub fn keygen(a: &KeygenArgs) -> anyhow::Result<Outcome> {
    let path = PseudonymKey::path_for(&a.output);
    let key = PseudonymKey::generate()?;
    key.write_new(&path)?;
    writeln!(std::io::stdout(), "{}", key.fingerprint())?;
    eprintln!(
        "custos: wrote {} (secret: whoever holds it can re-identify every pseudonym); \
         fingerprint {}",
        path.display(),
        key.fingerprint()
    );
    Ok(Outcome::Success)
}

/// Prints `VALUE<TAB>PSEUDONYM` for each value.
///
/// # Errors
/// An unreadable key or policy, an unknown `--kind`, a value that is not of its kind, a
/// pseudonym that would collide with a network the policy keeps.
pub fn pseudonymize(a: &PseudonymizeArgs) -> anyhow::Result<Outcome> {
    let (key, policy, kind) = a.pseudonyms.load()?;
    let mut p = Pseudonymizer::new(&key, policy);
    let mut out = std::io::stdout().lock();
    for v in &a.values {
        let k = kind.unwrap_or_else(|| ValueKind::detect(v));
        let pseudonym = p.pseudonymize(k, v)?;
        writeln!(out, "{v}\t{pseudonym}")?;
    }
    Ok(Outcome::Success)
}

/// Rewrites a capture with every address pseudonymised.
///
/// # Errors
/// An unreadable key, policy or capture, an existing output (without --force), a bad
/// `--payload`, a pseudonym that would collide with an address kept unchanged.
pub fn anonymize(a: &AnonymizeFlags) -> anyhow::Result<Outcome> {
    let r = a.anonymize()?;
    for line in r.report_lines(&a.output) {
        eprintln!("custos: {line}");
    }
    Ok(if r.partial.is_some() {
        Outcome::Partial
    } else {
        Outcome::Success
    })
}
