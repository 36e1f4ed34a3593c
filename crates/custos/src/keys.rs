//! `custos keygen`, `custos verify` (a case bundle or `--log`) and `custos case export`.

use crate::cli::{CaseExportArgs, KeygenArgs, VerifyArgs};
use crate::Outcome;
use anyhow::{bail, Context};
use custos_evidence::layout::CHECKPOINT_PATH;
use custos_evidence::{
    CaseError, CaseReport, CaseSelection, Checkpoint, NoteError, Verifier, VerifyError,
    BUNDLE_MARKERS, LOG_MARKERS,
};
use std::fmt::Display;
use std::io::Write;
use std::path::Path;

/// Writes PREFIX.skey (mode 0600) and PREFIX.vkey.
///
/// # Errors
/// Existing key files (never overwritten), I/O errors.
pub fn keygen(a: KeygenArgs) -> anyhow::Result<Outcome> {
    let Some(name) = a.name.as_deref() else {
        bail!("an evidence key needs --name (or give --model for a model-signing key)");
    };
    let (skey, vkey) = custos_evidence::generate_key(name).context("cannot generate a key")?;
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
        writeln!(f, "{skey}")
            .and_then(|()| f.sync_all())
            .with_context(|| format!("cannot write {}", sk_path.display()))?;
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
    let verifier = read_verifier(&a.vkey)?;
    match (&a.case_dir, &a.log) {
        (Some(case), None) => verify_case(case, &verifier),
        (None, Some(log)) => verify_log_dir(log, &verifier, &a),
        (Some(_), Some(_)) => bail!("give a case directory or --log LOGDIR, not both"),
        (None, None) => bail!(
            "give a case directory (written by `custos case export`) or --log LOGDIR (an evidence log)"
        ),
    }
}

/// Reads the verifier key at `path`; a signer (secret) key there is refused by name, without
/// showing any of its text.
fn read_verifier(path: &Path) -> anyhow::Result<Verifier> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    match Verifier::from_vkey(text.trim()) {
        Ok(v) => Ok(v),
        Err(NoteError::SecretKeyGiven) => {
            let public = path.with_extension("vkey");
            let instead = if public != path && public.is_file() {
                format!("give {} instead", public.display())
            } else {
                "give the public key, PREFIX.vkey, that `custos keygen` wrote next to it".into()
            };
            bail!(
                "{} is a secret signing key (PRIVATE+KEY+…), not a verifier key: {instead}; \
                 the secret key stays on the sensor",
                path.display()
            )
        }
        Err(e) => Err(e).with_context(|| format!("{} is not a verifier key", path.display())),
    }
}

/// The checks `verify` prints, counted for its last line.
struct Checks<'a> {
    /// `case` or `log`.
    what: &'static str,
    /// The bundle or log directory.
    dir: &'a Path,
    /// Checks that held so far.
    held: usize,
}

impl<'a> Checks<'a> {
    fn new(what: &'static str, dir: &'a Path) -> Self {
        Checks { what, dir, held: 0 }
    }

    /// Prints a check that held.
    fn ok(&mut self, check: impl Display) {
        println!("ok   {check}");
        self.held += 1;
    }

    /// Prints the failed check and the verdict.
    fn fail(self, check: impl Display) -> Outcome {
        println!("FAIL {check}");
        println!(
            "verdict: FAILED — 1 of {} checks failed for {} {} (verification stops at the first failure)",
            self.held + 1,
            self.what,
            self.dir.display()
        );
        Outcome::Negative
    }

    /// Prints the verdict when every check held.
    fn verified(self) -> Outcome {
        println!(
            "verdict: VERIFIED — all {} checks hold for {} {}",
            self.held,
            self.what,
            self.dir.display()
        );
        Outcome::Success
    }
}

/// What `dir` looks like, when it is not what `verify` was asked to check: the other kind
/// (with the command that verifies it), or an output folder of `custos analyze`.
fn looks_like(dir: &Path) -> Option<(String, bool)> {
    let has = |name: &str| dir.join(name).exists();
    if LOG_MARKERS.iter().any(|m| has(m)) {
        let how = format!("custos verify --log {} --vkey KEY", dir.display());
        Some((
            format!("it looks like an evidence log: verify it with `{how}`"),
            true,
        ))
    } else if BUNDLE_MARKERS.iter().any(|m| has(m)) {
        let how = format!("custos verify {} --vkey KEY", dir.display());
        Some((
            format!("it looks like a case bundle: verify it with `{how}`"),
            true,
        ))
    } else if ["stats.json", "conn.log", "flows.jsonl"]
        .iter()
        .any(|m| has(m))
    {
        Some((
            "it looks like an output folder of `custos analyze`".into(),
            false,
        ))
    } else {
        None
    }
}

/// What `verify` takes, for a folder that is neither kind.
const EXPECTS: &str = "verify takes a case bundle from `custos case export` (custos verify \
    CASEDIR --vkey KEY) or an evidence log from `custos analyze --evidence LOGDIR` (custos verify \
    --log LOGDIR --vkey KEY)";

/// An error for a folder that is not what was asked for: what it holds, what it looks like,
/// and how to verify it or what `verify` takes.
fn wrong_folder(message: impl Display, dir: &Path) -> anyhow::Error {
    match looks_like(dir) {
        Some((like, true)) => anyhow::anyhow!("{message} — {like}"),
        Some((like, false)) => anyhow::anyhow!("{message} — {like}; {EXPECTS}"),
        None => anyhow::anyhow!("{message}; {EXPECTS}"),
    }
}

fn verify_case(dir: &Path, verifier: &Verifier) -> anyhow::Result<Outcome> {
    let mut report = CaseReport::default();
    let result = custos_evidence::verify_case_into(dir, verifier, &mut report);
    // Not a verification result: nothing could be checked, or a file could not be read.
    match result {
        Err(e @ CaseError::NotABundle { .. }) => return Err(wrong_folder(e, dir)),
        Err(e @ CaseError::Io { .. }) => {
            return Err(anyhow::Error::new(e).context("cannot verify the case bundle"))
        }
        _ => {}
    }
    let mut checks = Checks::new("case", dir);
    for c in &report.checks {
        checks.ok(c);
    }
    Ok(match result {
        Ok(()) => checks.verified(),
        Err(e) => checks.fail(e),
    })
}

/// The line for a checkpoint verified with `verifier`.
fn checkpoint_line(cp: &Checkpoint, verifier: &Verifier) -> String {
    format!(
        "checkpoint: origin {:?}, size {}, root {}, signed by {}",
        cp.origin,
        cp.size,
        cp.root_hex(),
        verifier.name()
    )
}

/// Whether a log verification failed at its first check, the checkpoint's signature.
fn is_checkpoint_failure(e: &VerifyError) -> bool {
    match e {
        VerifyError::Checkpoint(_) => true,
        VerifyError::Missing { path } => path == CHECKPOINT_PATH,
        _ => false,
    }
}

fn verify_log_dir(log: &Path, verifier: &Verifier, a: &VerifyArgs) -> anyhow::Result<Outcome> {
    let mut checks = Checks::new("log", log);
    let mut options = custos_evidence::VerifyOptions {
        excerpts: !a.no_excerpts,
        ..custos_evidence::VerifyOptions::default()
    };
    for p in &a.checkpoints {
        let bytes = std::fs::read(p).with_context(|| format!("cannot read {}", p.display()))?;
        match Checkpoint::open(&bytes, verifier) {
            Ok(c) => {
                checks.ok(format!(
                    "checkpoint kept elsewhere {}: size {}, signed by {}",
                    p.display(),
                    c.size,
                    verifier.name()
                ));
                options.trusted.push(c);
            }
            Err(e) => {
                return Ok(checks.fail(format_args!(
                    "checkpoint {} is not a checkpoint signed by {}: {e}",
                    p.display(),
                    verifier.name()
                )))
            }
        }
    }
    let report = match custos_evidence::verify_log_with(log, verifier, &options) {
        Ok(r) => r,
        Err(e @ VerifyError::NotALog { .. }) => return Err(wrong_folder(e, log)),
        Err(e @ VerifyError::Io { .. }) => {
            return Err(anyhow::Error::new(e).context("cannot verify the evidence log"))
        }
        Err(e) => {
            // The checkpoint's signature is checked first: report it when a later check failed.
            if !is_checkpoint_failure(&e) {
                let cp = std::fs::read(log.join(CHECKPOINT_PATH))
                    .ok()
                    .and_then(|b| Checkpoint::open(&b, verifier).ok());
                if let Some(cp) = cp {
                    checks.ok(checkpoint_line(&cp, verifier));
                }
            }
            return Ok(checks.fail(format_args!("log {}: {e}", log.display())));
        }
    };
    checks.ok(checkpoint_line(&report.checkpoint, verifier));
    checks.ok(format_args!(
        "tree recomputed from {} leaves in {} entry bundles; {} hash tiles match",
        report.leaves, report.bundles_checked, report.tiles_checked
    ));
    for c in &options.trusted {
        checks.ok(format_args!(
            "log extends checkpoint of size {} kept elsewhere",
            c.size
        ));
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
        checks.ok(format_args!(
            "log extends earlier checkpoint of size {size} (archived; consistent)"
        ));
    }
    for line in report.summary() {
        println!("     {line}");
    }
    // Who re-identified which pseudonyms, when and why (`custos reidentify`).
    for line in report.audit_trail() {
        println!("     {line}");
    }
    Ok(checks.verified())
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
    let who = examiner(
        a.who.as_deref(),
        "who exports this case? give --who NAME (the chain of custody records the examiner; \
         $USER is not set)",
    )?;
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

/// The examiner an audit or custody record names: `--who`, else `$USER`, never blank;
/// `missing` is the error when neither is given.
///
/// # Errors
/// Neither `--who` nor `$USER` names anyone.
pub fn examiner(who: Option<&str>, missing: &str) -> anyhow::Result<String> {
    who.map(str::to_string)
        .or_else(|| std::env::var("USER").ok())
        .map(|w| w.trim().to_string())
        .filter(|w| !w.is_empty())
        .ok_or_else(|| anyhow::anyhow!("{missing}"))
}
