//! A verification as an examiner reads it: every check that held (`ok …`), the first that
//! failed (`FAIL …`; verification stops there), for a log its summary and audit trail, and a
//! last line with the verdict. `custos verify` prints it; any other front end can show the
//! same lines.
//!
//! A folder that is not what was asked for is not a verification result but a
//! [`TranscriptError::WrongFolder`], whose message says what the folder looks like and how to
//! verify it.

use std::fmt::Display;
use std::path::{Path, PathBuf};

use crate::case::{verify_case_into, CaseError, CaseReport, BUNDLE_MARKERS};
use crate::checkpoint::Checkpoint;
use crate::layout::CHECKPOINT_PATH;
use crate::note::Verifier;
use crate::verify::{verify_log_with, VerifyError, VerifyOptions, ARCHIVE_DIR, LOG_MARKERS};

/// What cannot be verified at all (as opposed to a verification that fails).
#[derive(Debug, thiserror::Error)]
pub enum TranscriptError {
    /// The folder is not the kind asked for; the message says what it looks like and how to
    /// verify it.
    #[error("{0}")]
    WrongFolder(String),
    /// A file could not be read (the message is the context; the cause is its source).
    #[error("{context}")]
    Unreadable {
        /// What was being read.
        context: String,
        /// Why it failed.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// The checks of one verification and its verdict.
#[derive(Clone, Debug)]
pub struct Transcript {
    /// `case` or `log`.
    what: &'static str,
    /// The bundle or log directory.
    dir: PathBuf,
    /// Checks that held, in order.
    held: Vec<String>,
    /// The check that failed, if one did.
    failed: Option<String>,
    /// Lines after the checks of a verified log: its summary and audit trail.
    notes: Vec<String>,
}

impl Transcript {
    fn new(what: &'static str, dir: &Path) -> Self {
        Transcript {
            what,
            dir: dir.to_path_buf(),
            held: Vec::new(),
            failed: None,
            notes: Vec::new(),
        }
    }

    fn ok(&mut self, check: impl Display) {
        self.held.push(check.to_string());
    }

    fn fail(mut self, check: impl Display) -> Self {
        self.failed = Some(check.to_string());
        self
    }

    /// True when every check held.
    pub fn verified(&self) -> bool {
        self.failed.is_none()
    }

    /// The checks that held.
    pub fn held(&self) -> &[String] {
        &self.held
    }

    /// The check that failed.
    pub fn failed(&self) -> Option<&str> {
        self.failed.as_deref()
    }

    /// The lines to show: `ok   CHECK` for each check that held, `FAIL CHECK` for the one
    /// that failed, indented notes (a verified log's summary and audit trail), then
    /// `verdict: VERIFIED — all N checks hold for …` or `verdict: FAILED — 1 of N checks
    /// failed for …`.
    pub fn lines(&self) -> Vec<String> {
        let mut out: Vec<String> = self.held.iter().map(|c| format!("ok   {c}")).collect();
        let dir = self.dir.display();
        match &self.failed {
            Some(f) => {
                out.push(format!("FAIL {f}"));
                out.push(format!(
                    "verdict: FAILED — 1 of {} checks failed for {} {dir} (verification stops at \
                     the first failure)",
                    self.held.len() + 1,
                    self.what
                ));
            }
            None => {
                out.extend(self.notes.iter().map(|n| format!("     {n}")));
                out.push(format!(
                    "verdict: VERIFIED — all {} checks hold for {} {dir}",
                    self.held.len(),
                    self.what
                ));
            }
        }
        out
    }
}

/// What `dir` looks like when it is not what was asked for: the other kind (with the command
/// that verifies it; `true`), or an output folder of `custos analyze` (`false`).
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

/// What verification takes, for a folder that is neither kind.
const EXPECTS: &str = "verify takes a case bundle from `custos case export` (custos verify \
    CASEDIR --vkey KEY) or an evidence log from `custos analyze --evidence LOGDIR` (custos verify \
    --log LOGDIR --vkey KEY)";

/// The error for a folder that is not what was asked for: what it holds, what it looks like,
/// and how to verify it or what verification takes.
fn wrong_folder(message: impl Display, dir: &Path) -> TranscriptError {
    TranscriptError::WrongFolder(match looks_like(dir) {
        Some((like, true)) => format!("{message} — {like}"),
        Some((like, false)) => format!("{message} — {like}; {EXPECTS}"),
        None => format!("{message}; {EXPECTS}"),
    })
}

fn unreadable(
    context: impl Into<String>,
    e: impl std::error::Error + Send + Sync + 'static,
) -> TranscriptError {
    TranscriptError::Unreadable {
        context: context.into(),
        source: Box::new(e),
    }
}

/// Verifies the case bundle `dir` with `verifier`.
///
/// # Errors
/// `dir` is not a case bundle, or a file of it cannot be read.
pub fn verify_case_transcript(
    dir: &Path,
    verifier: &Verifier,
) -> Result<Transcript, TranscriptError> {
    let mut report = CaseReport::default();
    let result = verify_case_into(dir, verifier, &mut report);
    match result {
        Err(e @ CaseError::NotABundle { .. }) => return Err(wrong_folder(e, dir)),
        Err(e @ CaseError::Io { .. }) => {
            return Err(unreadable("cannot verify the case bundle", e))
        }
        _ => {}
    }
    let mut t = Transcript::new("case", dir);
    for c in &report.checks {
        t.ok(c);
    }
    Ok(match result {
        Ok(()) => t,
        Err(e) => t.fail(e),
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

/// Verifies the evidence log `log` with `verifier`: checkpoints kept elsewhere (files
/// `checkpoints`, each must be extended by the log), the tree, the archived checkpoints, and
/// the excerpts unless `excerpts` is false.
///
/// # Errors
/// `log` is not an evidence log, or a file cannot be read.
pub fn verify_log_transcript(
    log: &Path,
    verifier: &Verifier,
    checkpoints: &[PathBuf],
    excerpts: bool,
) -> Result<Transcript, TranscriptError> {
    let mut t = Transcript::new("log", log);
    let mut options = VerifyOptions {
        excerpts,
        ..VerifyOptions::default()
    };
    for p in checkpoints {
        let bytes =
            std::fs::read(p).map_err(|e| unreadable(format!("cannot read {}", p.display()), e))?;
        match Checkpoint::open(&bytes, verifier) {
            Ok(c) => {
                t.ok(format!(
                    "checkpoint kept elsewhere {}: size {}, signed by {}",
                    p.display(),
                    c.size,
                    verifier.name()
                ));
                options.trusted.push(c);
            }
            Err(e) => {
                return Ok(t.fail(format_args!(
                    "checkpoint {} is not a checkpoint signed by {}: {e}",
                    p.display(),
                    verifier.name()
                )))
            }
        }
    }
    let report = match verify_log_with(log, verifier, &options) {
        Ok(r) => r,
        Err(e @ VerifyError::NotALog { .. }) => return Err(wrong_folder(e, log)),
        Err(e @ VerifyError::Io { .. }) => {
            return Err(unreadable("cannot verify the evidence log", e))
        }
        Err(e) => {
            // The checkpoint's signature is checked first: report it when a later check failed.
            if !is_checkpoint_failure(&e) {
                let cp = std::fs::read(log.join(CHECKPOINT_PATH))
                    .ok()
                    .and_then(|b| Checkpoint::open(&b, verifier).ok());
                if let Some(cp) = cp {
                    t.ok(checkpoint_line(&cp, verifier));
                }
            }
            return Ok(t.fail(format_args!("log {}: {e}", log.display())));
        }
    };
    t.ok(checkpoint_line(&report.checkpoint, verifier));
    t.ok(format_args!(
        "tree recomputed from {} leaves in {} entry bundles; {} hash tiles match",
        report.leaves, report.bundles_checked, report.tiles_checked
    ));
    for c in &options.trusted {
        t.ok(format_args!(
            "log extends checkpoint of size {} kept elsewhere",
            c.size
        ));
    }
    // The archive's files are named by their sizes (checked by the verification above).
    let mut archived: Vec<u64> = std::fs::read_dir(log.join(ARCHIVE_DIR))
        .map(|d| {
            d.flatten()
                .filter_map(|e| e.file_name().to_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default();
    archived.sort_unstable();
    for size in archived {
        t.ok(format_args!(
            "log extends earlier checkpoint of size {size} (archived; consistent)"
        ));
    }
    t.notes.extend(report.summary());
    // Who re-identified which pseudonyms, when and why (`custos reidentify`).
    t.notes.extend(report.audit_trail());
    Ok(t)
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn lines_end_in_the_verdict() {
        let mut t = Transcript::new("log", Path::new("/x"));
        t.ok("a");
        t.notes.push("leaves: 3".into());
        assert_eq!(
            t.lines(),
            vec![
                "ok   a".to_string(),
                "     leaves: 3".into(),
                "verdict: VERIFIED — all 1 checks hold for log /x".into()
            ]
        );
        let f = t.fail("b");
        assert!(!f.verified());
        let l = f.lines();
        assert_eq!(l[1], "FAIL b");
        assert!(l[2].starts_with("verdict: FAILED — 1 of 2 checks failed for log /x"));
        // Notes of a failed verification are not shown.
        assert_eq!(l.len(), 3);
    }

    #[test]
    fn a_folder_of_the_wrong_kind_says_how_to_verify_it() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("stats.json"), "{}").unwrap();
        let (_, v) = crate::note::generate_key("t").unwrap();
        let v = Verifier::from_vkey(&v).unwrap();
        let e = verify_case_transcript(d.path(), &v).unwrap_err();
        assert!(
            e.to_string().contains("output folder of `custos analyze`"),
            "{e}"
        );
        let e = verify_log_transcript(d.path(), &v, &[], true).unwrap_err();
        assert!(e.to_string().contains("verify takes"), "{e}");
    }
}
