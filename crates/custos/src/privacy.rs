//! `custos keygen --pseudonym`, `custos pseudonymize` and `custos anonymize` (crate
//! `custos-privacy`, docs/privacy.md). Re-identification goes only through the audited `reidentify`.

use crate::cli::{AnonymizeArgs, KeygenArgs, PseudonymArgs, PseudonymizeArgs};
use crate::Outcome;
use anyhow::bail;
use custos_privacy::{Policy, PseudonymKey, Pseudonymizer, ValueKind};
use std::io::Write;

/// Writes PREFIX.pkey (mode 0600, never overwritten).
///
/// # Errors
/// An existing key file, no randomness, I/O errors.
pub fn keygen(a: &KeygenArgs) -> anyhow::Result<Outcome> {
    let path = PseudonymKey::path_for(&a.output);
    let key = PseudonymKey::generate()?;
    key.write_new(&path)?;
    println!("{}", key.fingerprint());
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
    let (key, policy, kind) = load(&a.pseudonyms)?;
    let mut p = Pseudonymizer::new(&key, policy);
    let mut out = std::io::stdout().lock();
    for v in &a.values {
        let k = kind.unwrap_or_else(|| ValueKind::detect(v));
        let pseudonym = p.pseudonymize(k, v)?;
        writeln!(out, "{v}\t{pseudonym}")?;
    }
    Ok(Outcome::Success)
}

/// The key, policy and kind of `--pseudonym-key`/`--key-hex`, `--policy` and `--kind`.
///
/// # Errors
/// An unreadable key or policy, an unknown kind.
pub fn load(a: &PseudonymArgs) -> anyhow::Result<(PseudonymKey, Policy, Option<ValueKind>)> {
    let policy = match &a.policy {
        Some(p) => Policy::read(p)?,
        None => Policy::default(),
    };
    let key = match (&a.pseudonym_key, &a.key_hex) {
        (Some(path), _) => PseudonymKey::read(path)?,
        (None, Some(hex)) => PseudonymKey::from_cryptopan_hex(hex)?,
        (None, None) => bail!("give --pseudonym-key K.pkey or --key-hex HEX"),
    };
    let kind = match &a.kind {
        Some(k) => Some(
            k.parse()
                .map_err(|e| anyhow::anyhow!("--kind {k:?}: {e}"))?,
        ),
        None => None,
    };
    Ok((key, policy, kind))
}

/// Rewrites a capture with every address pseudonymised.
///
/// # Errors
/// An unreadable key, policy or capture, an existing output (without --force), a bad
/// `--payload`, a pseudonym that would collide with an address kept unchanged.
pub fn anonymize(a: &AnonymizeArgs) -> anyhow::Result<Outcome> {
    let policy = match &a.policy {
        Some(p) => Policy::read(p)?,
        None => Policy::default(),
    };
    let payload: custos_privacy::PayloadPolicy = a
        .payload
        .parse()
        .map_err(|e| anyhow::anyhow!("--payload {:?}: {e}", a.payload))?;
    let mut p = Pseudonymizer::new(&PseudonymKey::read(&a.pseudonym_key)?, policy);
    let options = custos_privacy::AnonymizeOptions {
        payload,
        force: a.force,
    };
    let r = custos_privacy::anonymize(&a.input, &a.output, &mut p, &options)?;
    eprintln!(
        "custos: wrote {}: {} packets, {} rewritten ({} addresses, {} checksums updated); {} \
         not IP, {} with unreadable bytes zeroed, {} payloads cut",
        a.output.display(),
        r.packets,
        r.rewritten,
        r.addresses,
        r.checksums,
        r.non_ip,
        r.scrubbed,
        r.payload_cut
    );
    for w in &r.warnings {
        eprintln!("custos: warning: {w}");
    }
    Ok(match &r.partial {
        Some(why) => {
            eprintln!("custos: warning: the input is damaged part-way ({why}); everything before it was written");
            Outcome::Partial
        }
        None => Outcome::Success,
    })
}
