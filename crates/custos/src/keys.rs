//! `custos keygen` and `custos verify --log`.

use crate::cli::{KeygenArgs, VerifyArgs};
use crate::Outcome;
use anyhow::{bail, Context};
use custos_evidence::{verify_log, verify_log_consistent, Checkpoint, Verifier};
use std::io::Write;

/// Writes PREFIX.skey (mode 0600) and PREFIX.vkey.
///
/// # Errors
/// Existing key files (never overwritten), I/O errors.
pub fn keygen(a: KeygenArgs) -> anyhow::Result<Outcome> {
    let (skey, vkey) = custos_evidence::generate_key(&a.name).context("cannot generate a key")?;
    let sk_path = a.output.with_extension("skey");
    let vk_path = a.output.with_extension("vkey");
    for p in [&sk_path, &vk_path] {
        if p.exists() {
            bail!("{} exists; refusing to overwrite a key", p.display());
        }
    }
    {
        use std::os::unix::fs::OpenOptionsExt;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&sk_path)
            .with_context(|| format!("cannot create {}", sk_path.display()))?;
        writeln!(f, "{skey}")?;
        f.sync_all()?;
    }
    std::fs::write(&vk_path, format!("{vkey}\n"))
        .with_context(|| format!("cannot create {}", vk_path.display()))?;
    println!("{}", vkey);
    eprintln!(
        "custos: wrote {} (private, keep on the sensor) and {} (public)",
        sk_path.display(),
        vk_path.display()
    );
    Ok(Outcome::Success)
}

/// Verifies a log and its archived checkpoints; prints each check.
///
/// # Errors
/// An unreadable key. A failing check is `Outcome::Negative`, not an error.
pub fn verify(a: VerifyArgs) -> anyhow::Result<Outcome> {
    let text = std::fs::read_to_string(&a.vkey)
        .with_context(|| format!("cannot read {}", a.vkey.display()))?;
    let verifier = Verifier::from_vkey(text.trim())
        .with_context(|| format!("{} is not a verifier key", a.vkey.display()))?;
    let report = match verify_log(&a.log, &verifier) {
        Ok(r) => r,
        Err(e) => {
            println!("FAIL log {}: {e}", a.log.display());
            return Ok(Outcome::Negative);
        }
    };
    println!(
        "ok   checkpoint: origin {:?}, size {}, root {}, signed by {}",
        report.checkpoint.origin,
        report.checkpoint.size,
        report.checkpoint.root_hex(),
        verifier.name()
    );
    println!(
        "ok   tree recomputed from {} leaves in {} entry bundles; {} hash tiles match",
        report.leaves, report.bundles_checked, report.tiles_checked
    );
    if !report.unchecked.is_empty() {
        println!(
            "note {} files beyond the checkpoint (not yet published) were not checked",
            report.unchecked.len()
        );
    }
    let arch = a.log.join("custos/checkpoints");
    let mut older: Vec<_> = std::fs::read_dir(&arch)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    older.sort();
    for p in older {
        let bytes = std::fs::read(&p)?;
        let trusted = match Checkpoint::open(&bytes, &verifier) {
            Ok(c) => c,
            Err(e) => {
                println!("FAIL earlier checkpoint {}: {e}", p.display());
                return Ok(Outcome::Negative);
            }
        };
        match verify_log_consistent(&a.log, &verifier, &trusted) {
            Ok(_) => println!(
                "ok   log extends earlier checkpoint of size {} (consistency proof holds)",
                trusted.size
            ),
            Err(e) => {
                println!(
                    "FAIL log does not extend earlier checkpoint of size {} ({}): {e}",
                    trusted.size,
                    p.display()
                );
                return Ok(Outcome::Negative);
            }
        }
    }
    println!("verified: all checks hold");
    Ok(Outcome::Success)
}
