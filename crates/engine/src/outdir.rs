//! The output directory: never mixes the files of two runs.
//!
//! Each run writes a small manifest, [`MANIFEST`], naming the files it writes: first when it
//! starts (`"complete": false`, so a killed run still says what it left), again when it ends
//! (`"complete": true`). A directory that already holds outputs of an
//! earlier run — a manifest, or a file with the name of a built-in output — is refused unless
//! `overwrite` is set; then exactly the files the earlier manifest lists (and built-in outputs
//! left by versions without a manifest) are removed before the new run starts. Every other file
//! in the directory is left alone, so `lab run -o out/smoke` and `analyze out/smoke.pcap -o out/`
//! can share a folder. A run that fails removes what it wrote, and the directory when it made it.

use crate::config::SINK_NAMES;
use crate::error::EngineError;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The manifest's file name.
pub const MANIFEST: &str = "custos-run.json";

/// The manifest of one run.
#[derive(Debug, Serialize, Deserialize)]
struct Manifest {
    /// Always `"custos run manifest"`.
    format: String,
    /// The custos version that wrote the files.
    custos_version: String,
    /// False while the run is going on (or when it was killed).
    complete: bool,
    /// The files the run writes, as bare names inside the directory.
    files: Vec<ManifestFile>,
}

/// One file of a run. (No sizes or hashes: `stats.json` holds wall-clock figures, and the
/// manifest must be the same bytes at any thread count, as every other output.)
#[derive(Debug, Serialize, Deserialize)]
struct ManifestFile {
    name: String,
}

/// An output directory prepared for one run.
#[derive(Debug)]
pub struct OutputDir {
    path: PathBuf,
    created: bool,
    files: Vec<String>,
}

impl OutputDir {
    /// Creates `path` if needed and makes it ready for a run writing `files` (bare names).
    ///
    /// # Errors
    /// The directory holds an earlier run's outputs and `overwrite` is false (the message
    /// names them and says `--force`), or it cannot be created or written.
    pub fn prepare(path: &Path, files: Vec<String>, overwrite: bool) -> Result<Self, EngineError> {
        let created = !path.exists();
        std::fs::create_dir_all(path).map_err(|e| {
            EngineError::io(
                format!("cannot create output directory {}", path.display()),
                e,
            )
        })?;
        clear_earlier_outputs(path, overwrite)?;
        let dir = OutputDir {
            path: path.to_path_buf(),
            created,
            files,
        };
        dir.write_manifest(false)?;
        Ok(dir)
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Marks the run complete in the manifest.
    ///
    /// # Errors
    /// The manifest cannot be written.
    pub fn complete(&self) -> Result<(), EngineError> {
        self.write_manifest(true)
    }

    /// After a failed run: removes the files it wrote and the manifest, and the directory when
    /// this run created it and nothing else is in it. Best effort: the run's own error is what
    /// the user needs to see.
    pub fn abandon(&self) {
        for name in self.files.iter().map(String::as_str).chain([MANIFEST]) {
            let _ = std::fs::remove_file(self.path.join(name));
        }
        if self.created {
            let _ = std::fs::remove_dir(&self.path);
        }
    }

    fn write_manifest(&self, complete: bool) -> Result<(), EngineError> {
        let files = self
            .files
            .iter()
            .map(|name| ManifestFile { name: name.clone() })
            .collect();
        let m = Manifest {
            format: "custos run manifest".into(),
            custos_version: env!("CARGO_PKG_VERSION").into(),
            complete,
            files,
        };
        let mut text = serde_json::to_string_pretty(&m).unwrap_or_default();
        text.push('\n');
        let path = self.path.join(MANIFEST);
        std::fs::write(&path, text)
            .map_err(|e| EngineError::io(format!("cannot write {}", path.display()), e))
    }
}

/// Refuses a directory holding an earlier run's outputs, or with `overwrite` (`--force`)
/// removes exactly those files (what its manifest lists and built-in output names), so that
/// a directory never mixes the files of two runs.
///
/// # Errors
/// Earlier outputs and no `overwrite` (the message names them and says `--force`), or a file
/// that cannot be removed.
pub fn clear_earlier_outputs(path: &Path, overwrite: bool) -> Result<(), EngineError> {
    let earlier = earlier_outputs(path);
    if earlier.is_empty() {
        return Ok(());
    }
    if !overwrite {
        return Err(EngineError::Config(format!(
            "{} already holds the outputs of an earlier run ({}); choose another directory, \
             or pass --force to replace exactly those files",
            path.display(),
            earlier.join(", ")
        )));
    }
    for name in &earlier {
        remove_if_file(&path.join(name))?;
    }
    Ok(())
}

/// The names of an earlier run's outputs in `dir`: what its manifest lists (bare names only:
/// a manifest is a file anyone could edit, and must not send a removal outside the
/// directory) and built-in output names present without a manifest, plus the manifest.
fn earlier_outputs(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    let manifest = dir.join(MANIFEST);
    if manifest.exists() {
        if let Ok(m) = std::fs::read_to_string(&manifest)
            .map_err(|_| ())
            .and_then(|t| serde_json::from_str::<Manifest>(&t).map_err(|_| ()))
        {
            names.extend(m.files.into_iter().map(|f| f.name).filter(|n| is_bare(n)));
        }
    }
    for name in SINK_NAMES {
        for file in [name.to_string(), format!("{name}.zst")] {
            if dir.join(&file).is_file() {
                names.push(file);
            }
        }
    }
    names.retain(|n| dir.join(n).is_file());
    if manifest.is_file() {
        names.push(MANIFEST.into());
    }
    names.sort();
    names.dedup();
    names
}

/// True for a plain file name: no directory part, not `.` or `..`.
fn is_bare(name: &str) -> bool {
    !name.is_empty()
        && name != "."
        && name != ".."
        && !name.contains(['/', '\\', '\0'])
        && Path::new(name).file_name().is_some_and(|f| f == name)
}

fn remove_if_file(path: &Path) -> Result<(), EngineError> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(EngineError::io(
            format!("cannot replace {}", path.display()),
            e,
        )),
    }
}

#[cfg(test)]
mod test {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn refuses_an_earlier_run_and_force_replaces_exactly_its_files() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("out");
        let first =
            OutputDir::prepare(&dir, vec!["conn.log".into(), "scores.csv".into()], false).unwrap();
        std::fs::write(dir.join("conn.log"), "a").unwrap();
        std::fs::write(dir.join("scores.csv"), "b").unwrap();
        std::fs::write(dir.join("notes.txt"), "mine").unwrap();
        first.complete().unwrap();
        let err = OutputDir::prepare(&dir, vec!["conn.log".into()], false).unwrap_err();
        assert!(err.to_string().contains("--force"), "{err}");
        assert!(err.to_string().contains("scores.csv"), "{err}");
        OutputDir::prepare(&dir, vec!["conn.log".into()], true).unwrap();
        assert_eq!(names(&dir), ["custos-run.json", "notes.txt"]);
    }

    #[test]
    fn unrelated_files_do_not_block_a_run() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("smoke.pcap"), "x").unwrap();
        OutputDir::prepare(tmp.path(), vec!["conn.log".into()], false).unwrap();
    }

    #[test]
    fn a_hostile_manifest_cannot_remove_files_outside() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("out");
        std::fs::create_dir(&dir).unwrap();
        std::fs::write(tmp.path().join("victim"), "keep").unwrap();
        std::fs::write(
            dir.join(MANIFEST),
            r#"{"format":"custos run manifest","custos_version":"0","complete":true,
               "files":[{"name":"../victim"},{"name":"/etc/passwd"}]}"#,
        )
        .unwrap();
        OutputDir::prepare(&dir, vec![], true).unwrap();
        assert!(tmp.path().join("victim").exists());
    }

    #[test]
    fn abandon_removes_what_the_run_made() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("new");
        let d = OutputDir::prepare(&dir, vec!["conn.log".into()], false).unwrap();
        std::fs::write(dir.join("conn.log"), "partial").unwrap();
        d.abandon();
        assert!(!dir.exists());
    }
}
