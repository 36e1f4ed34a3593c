//! `custos keygen`, `custos verify` (a case bundle or `--log`) and `custos case export`.

use crate::cli::{CaseExportArgs, KeygenArgs, VerifyArgs};
use crate::Outcome;
use anyhow::{bail, Context};
use custos_evidence::CaseSelection;
use std::io::Write as _;

/// Writes PREFIX.skey (mode 0600) and PREFIX.vkey.
///
/// # Errors
/// Existing key files (never overwritten), I/O errors.
pub fn keygen(a: KeygenArgs) -> anyhow::Result<Outcome> {
    let Some(name) = a.name.as_deref() else {
        bail!("an evidence key needs --name (or give --model for a model-signing key)");
    };
    let w = custos_engine::evidence::write_key_pair(&a.output, name)?;
    writeln!(std::io::stdout(), "{}", w.vkey_text)?;
    eprintln!(
        "custos: wrote {} (private, keep on the sensor) and {} (public)",
        w.skey.display(),
        w.vkey.display()
    );
    Ok(Outcome::Success)
}

/// Verifies a case bundle, or a log and its archived checkpoints. Prints each check that
/// holds (`ok …`), the first that fails (`FAIL …`; verification stops there), for a log that
/// verifies its audit trail (the `custos reidentify` leaves), and always a last line with the
/// verdict: `verdict: VERIFIED — all N checks hold for …` or
/// `verdict: FAILED — 1 of N checks failed for …`.
///
/// # Errors
/// What is not a verification result (exit status 2): an unreadable key, a secret key given
/// as `--vkey`; a path that is missing or unreadable; a folder that is neither a case bundle
/// nor an evidence log (the error says what it holds and what `verify` expects). A failing
/// check is `Outcome::Negative`.
pub fn verify(a: VerifyArgs) -> anyhow::Result<Outcome> {
    let verifier = custos_engine::evidence::load_verifier(&a.vkey)?;
    let transcript = match (&a.case_dir, &a.log) {
        (Some(case), None) => custos_evidence::verify_case_transcript(case, &verifier)?,
        (None, Some(log)) => {
            custos_evidence::verify_log_transcript(log, &verifier, &a.checkpoints, !a.no_excerpts)?
        }
        (Some(_), Some(_)) => bail!("give a case directory or --log LOGDIR, not both"),
        (None, None) => bail!(
            "give a case directory (written by `custos case export`) or --log LOGDIR (an evidence log)"
        ),
    };
    let mut out = std::io::stdout().lock();
    for line in transcript.lines() {
        writeln!(out, "{line}")?;
    }
    Ok(if transcript.verified() {
        Outcome::Success
    } else {
        Outcome::Negative
    })
}

/// `custos case export`.
///
/// # Errors
/// Unreadable key or log, bad selection, an existing non-empty output directory.
pub fn case_export(a: CaseExportArgs) -> anyhow::Result<Outcome> {
    let signer = custos_engine::evidence::load_signer(&a.key)?;
    let range = a.from.as_deref().zip(a.to.as_deref());
    let Some(selection) = CaseSelection::first_of(&a.alert, a.flow.as_deref(), range) else {
        bail!("choose alerts with --alert, --flow or --from/--to");
    };
    let Some(who) = custos_evidence::examiner(a.who.as_deref()) else {
        bail!(
            "who exports this case? give --who NAME (the chain of custody records the \
             examiner; $USER is not set)"
        );
    };
    let now = custos_evidence::case::time::now_rfc3339();
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
