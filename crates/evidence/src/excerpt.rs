//! Excerpt files: content-addressed pcap excerpts under `LOGDIR/excerpts/<sha256>.pcap` that
//! custos alert leaves name by `excerpt_sha256` (and [`crate::verify_log`] checks).

use std::fs::{self, File};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::log::LogError;
use crate::merkle::{hex, Hash};
use crate::verify::EXCERPT_DIR;

fn stage<'a>(path: &'a Path, stage: &'static str) -> impl FnOnce(io::Error) -> LogError + 'a {
    move |error| LogError::Write {
        path: path.to_path_buf(),
        stage,
        error,
    }
}

/// Writes `bytes` as `dir/excerpts/<sha256>.pcap` unless that file already exists: through
/// `<sha256>.tmp`, synced, renamed, and the directory synced, so that a leaf naming it can be
/// published afterwards. Returns the SHA-256 (lower-case hex) and the path.
///
/// # Errors
/// [`LogError::Write`] naming the file and the stage that failed (`create the excerpt
/// directory`, `create`, `write`, `sync`, `rename`, `sync the directory`); the temporary
/// file is removed, so a full disk leaves nothing behind and the log untouched.
pub fn write_excerpt(dir: impl AsRef<Path>, bytes: &[u8]) -> Result<(String, PathBuf), LogError> {
    let xdir = dir.as_ref().join(EXCERPT_DIR);
    let digest: Hash = Sha256::digest(bytes).into();
    let sha = hex(&digest);
    let path = xdir.join(format!("{sha}.pcap"));
    if path.is_file() {
        return Ok((sha, path));
    }
    fs::create_dir_all(&xdir).map_err(stage(&xdir, "create the excerpt directory"))?;
    let tmp = xdir.join(format!("{sha}.tmp"));
    let r = write_tmp(&tmp, bytes).and_then(|()| {
        fs::rename(&tmp, &path).map_err(stage(&path, "rename the temporary file to"))
    });
    if r.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    r?;
    File::open(&xdir)
        .and_then(|d| d.sync_all())
        .map_err(stage(&xdir, "sync the directory"))?;
    Ok((sha, path))
}

fn write_tmp(tmp: &Path, bytes: &[u8]) -> Result<(), LogError> {
    let mut f = File::create(tmp).map_err(stage(tmp, "create"))?;
    f.write_all(bytes).map_err(stage(tmp, "write"))?;
    f.sync_all().map_err(stage(tmp, "sync"))
}
