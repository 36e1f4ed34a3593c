//! Pseudonymised output directories (`[output] pseudonymize`, `analyze --pseudonymize K`):
//! the run writes its outputs into a private staging folder inside the output directory,
//! then only pseudonymised copies land in the directory itself, one mapping for every file
//! (`custos_privacy::pseudonymize_outputs`, docs/privacy.md).
//!
//! The staging folder (mode 0700) is removed when the run ends, failed or not; it is not
//! securely erased (docs/privacy.md says so). Evidence logs are not affected: they stay
//! original.

use crate::config::OutputSettings;
use crate::error::EngineError;
use crate::outdir::clear_earlier_outputs;
use custos_privacy::{OutputsReport, Policy, PseudonymKey, Pseudonymizer};
use std::path::{Path, PathBuf};

/// The staging folder's name inside the output directory.
pub const STAGING: &str = ".custos-plain";

/// A run's pseudonymised outputs under way: the key, the output directory, the staging folder.
pub(crate) struct Staging {
    pseudonymizer: Pseudonymizer,
    dir: PathBuf,
    staging: PathBuf,
}

impl Staging {
    /// For `output` asking for pseudonymised outputs: loads the key and policy, clears the
    /// directory of an earlier run's outputs (as a plain run would), makes the staging folder
    /// and points `output.dir` at it. `None` when no pseudonymisation is asked for.
    ///
    /// # Errors
    /// An unreadable key or policy, no output directory, earlier outputs without
    /// `overwrite`, a staging folder left by an interrupted run without `overwrite`, I/O.
    pub(crate) fn prepare(output: &mut OutputSettings) -> Result<Option<Staging>, EngineError> {
        let Some(key) = output.pseudonymize.clone() else {
            return Ok(None);
        };
        let Some(dir) = output.dir.clone() else {
            return Err(EngineError::Config(
                "output.pseudonymize (--pseudonymize) needs an output directory (-o DIR)".into(),
            ));
        };
        let privacy = |e: custos_privacy::Error| EngineError::Config(e.to_string());
        let policy = match &output.pseudonym_policy {
            Some(p) => Policy::read(p).map_err(privacy)?,
            None => Policy::default(),
        };
        let pseudonymizer = Pseudonymizer::new(&PseudonymKey::read(&key).map_err(privacy)?, policy);
        let staging = make_staging(&dir, output.overwrite)?;
        output.dir = Some(staging.clone());
        Ok(Some(Staging {
            pseudonymizer,
            dir,
            staging,
        }))
    }

    /// The output directory the user asked for.
    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    /// After the run: writes the pseudonymised copies when it succeeded, and removes the
    /// staging folder either way.
    ///
    /// # Errors
    /// The copies cannot be written, the staging folder cannot be removed.
    pub(crate) fn finish(mut self, run_ok: bool) -> Result<Option<OutputsReport>, EngineError> {
        let written = if run_ok {
            custos_privacy::pseudonymize_outputs(&self.staging, &self.dir, &mut self.pseudonymizer)
                .map(Some)
                .map_err(|e| {
                    EngineError::Config(format!("cannot write the pseudonymised outputs: {e}"))
                })
        } else {
            Ok(None)
        };
        let removed = std::fs::remove_dir_all(&self.staging);
        let report = written?;
        if run_ok {
            removed.map_err(|e| {
                EngineError::io(format!("cannot remove {}", self.staging.display()), e)
            })?;
        }
        Ok(report)
    }
}

/// Makes `dir/.custos-plain` (mode 0700), after clearing `dir` of an earlier run's outputs.
fn make_staging(dir: &Path, overwrite: bool) -> Result<PathBuf, EngineError> {
    use std::os::unix::fs::DirBuilderExt;
    let io = |what: &str, p: &Path, e| EngineError::io(format!("cannot {what} {}", p.display()), e);
    std::fs::create_dir_all(dir).map_err(|e| io("create output directory", dir, e))?;
    clear_earlier_outputs(dir, overwrite)?;
    let staging = dir.join(STAGING);
    if staging.exists() {
        if !overwrite {
            return Err(EngineError::Config(format!(
                "{} exists (left by an interrupted pseudonymised run: it holds plain outputs); \
                 remove it, or pass --force",
                staging.display()
            )));
        }
        std::fs::remove_dir_all(&staging).map_err(|e| io("remove", &staging, e))?;
    }
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(&staging)
        .map_err(|e| io("create", &staging, e))?;
    Ok(staging)
}
