//! `custos keygen` and `custos verify --log`.

use crate::cli::{CaseExportArgs, KeygenArgs, VerifyArgs};
use crate::Outcome;
use anyhow::{bail, Context};
use custos_evidence::{CaseSelection, Checkpoint, Verifier};
use std::io::Write;
use std::path::Path;

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

/// Verifies a case bundle, or a log and its archived checkpoints; prints each check.
///
/// # Errors
/// An unreadable key. A failing check is `Outcome::Negative`, not an error.
pub fn verify(a: VerifyArgs) -> anyhow::Result<Outcome> {
    let text = std::fs::read_to_string(&a.vkey)
        .with_context(|| format!("cannot read {}", a.vkey.display()))?;
    let verifier = Verifier::from_vkey(text.trim())
        .with_context(|| format!("{} is not a verifier key", a.vkey.display()))?;
    if let Some(case) = &a.case_dir {
        return verify_case(case, &verifier);
    }
    let Some(log) = a.log.as_ref() else {
        bail!("give a case directory or --log LOGDIR")
    };
    verify_log_dir(log, &verifier, &a)
}

fn verify_case(dir: &Path, verifier: &Verifier) -> anyhow::Result<Outcome> {
    match custos_evidence::verify_case(dir, verifier) {
        Ok(report) => {
            for c in &report.checks {
                println!("ok   {c}");
            }
            println!(
                "verified: all {} checks hold for case {}",
                report.checks.len(),
                dir.display()
            );
            Ok(Outcome::Success)
        }
        Err(e) => {
            println!("FAIL {e}");
            Ok(Outcome::Negative)
        }
    }
}

fn verify_log_dir(log: &Path, verifier: &Verifier, a: &VerifyArgs) -> anyhow::Result<Outcome> {
    let mut options = custos_evidence::VerifyOptions {
        excerpts: !a.no_excerpts,
        ..custos_evidence::VerifyOptions::default()
    };
    for p in &a.checkpoints {
        let bytes = std::fs::read(p).with_context(|| format!("cannot read {}", p.display()))?;
        match Checkpoint::open(&bytes, verifier) {
            Ok(c) => options.trusted.push(c),
            Err(e) => {
                println!("FAIL checkpoint {}: {e}", p.display());
                println!(
                    "verdict: FAILED — {} is not a checkpoint signed by {}",
                    p.display(),
                    verifier.name()
                );
                return Ok(Outcome::Negative);
            }
        }
    }
    let report = match custos_evidence::verify_log_with(log, verifier, &options) {
        Ok(r) => r,
        Err(e) => {
            println!("FAIL log {}: {e}", log.display());
            println!("verdict: FAILED — the log cannot be trusted as it is");
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
    for c in &options.trusted {
        println!(
            "ok   log extends checkpoint of size {} kept elsewhere",
            c.size
        );
    }
    // The archive's files are named by their sizes (checked by the verification above).
    let mut archived: Vec<u64> = std::fs::read_dir(log.join(custos_evidence::verify::ARCHIVE_DIR))
        .map(|d| {
            d.flatten()
                .filter_map(|e| e.file_name().to_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default();
    archived.sort_unstable();
    for size in archived {
        println!("ok   log extends earlier checkpoint of size {size} (archived; consistent)");
    }
    for line in report.summary() {
        println!("     {line}");
    }
    println!("verified: all checks hold");
    Ok(Outcome::Success)
}

/// `custos case export`.
///
/// # Errors
/// Unreadable key or log, bad selection, an existing non-empty output directory.
pub fn case_export(a: CaseExportArgs) -> anyhow::Result<Outcome> {
    let signer = custos_engine::evidence::load_signer(&a.key)?;
    let selection = if !a.alert.is_empty() {
        CaseSelection::Indices(a.alert.clone())
    } else if let Some(f) = &a.flow {
        CaseSelection::CommunityId(f.clone())
    } else if let (Some(from), Some(to)) = (&a.from, &a.to) {
        CaseSelection::TimeRange {
            from: from.clone(),
            to: to.clone(),
        }
    } else {
        bail!("choose alerts with --alert, --flow or --from/--to");
    };
    // The examiner is part of the chain of custody: never recorded as a placeholder.
    let who = a
        .who
        .clone()
        .or_else(|| std::env::var("USER").ok())
        .map(|w| w.trim().to_string())
        .filter(|w| !w.is_empty())
        .ok_or_else(|| {
            anyhow::anyhow!(
                "who exports this case? give --who NAME (the chain of custody records the examiner; $USER is not set)"
            )
        })?;
    // Chain-of-custody records are the one place where the wall clock belongs.
    let now_ns = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as i128)
        .unwrap_or(0);
    let now = custos_evidence::case::time::format_rfc3339(now_ns);
    let s = custos_evidence::export_case(
        &a.log, &signer, &selection, &a.reason, &who, &now, &a.output,
    )
    .with_context(|| format!("cannot export a case from {}", a.log.display()))?;
    eprintln!(
        "custos: exported {} alerts to {} (custody leaf {}, checkpoint size {}, manifest sha256 {})",
        s.alerts.len(),
        a.output.display(),
        s.custody_index,
        s.checkpoint.size,
        s.manifest_sha256
    );
    Ok(Outcome::Success)
}
