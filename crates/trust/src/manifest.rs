//! The manifest of a model directory: every file with its SHA-256.
//!
//! This is the reference tool's "files" serialisation with its defaults
//! (`_serialization/file.py`, `hashing.py` `Config.hash`, model-signing 1.1.1):
//!
//! - every regular file under the directory, at any depth, hidden files included, is named by
//!   its path relative to the directory with `/` separators and hashed with SHA-256;
//! - the paths of [`IGNORED_PATHS`] (relative to the directory, so only at its top level) and
//!   everything beneath them are not hashed: the signature file [`SIGNATURE_FILE`] and git's
//!   `.git`, `.gitattributes`, `.github`, `.gitignore`;
//! - `allow_symlinks` is `false`: a symbolic link anywhere (ignored paths included, and the
//!   model path itself) is refused, so no link can point outside the model; so is anything
//!   that is neither a regular file nor a directory (FIFO, socket, device);
//! - files are sorted by path component by component (Python's `PurePosixPath` order, which
//!   differs from plain string order: `a/b` sorts before `a-b/c`), and the model's root digest
//!   is the SHA-256 of the concatenated raw file digests in that order
//!   (`_signing/signing.py`, `Payload.__init__`);
//! - empty directories are not recorded.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::TrustError;

/// The signature file's name inside the model directory.
pub const SIGNATURE_FILE: &str = "model.sig";

/// Top-level paths of a model directory that are not hashed, as the reference tool's CLI
/// ignores them by default (the signature file, then its `--ignore-git-paths` list).
pub const IGNORED_PATHS: [&str; 5] = [
    SIGNATURE_FILE,
    ".git",
    ".gitattributes",
    ".github",
    ".gitignore",
];

/// Bytes read from a file at a time while hashing it.
const CHUNK_LEN: usize = 1 << 20;

/// One file of a model and its SHA-256.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileDigest {
    /// The path relative to the model directory, with `/` separators.
    pub path: String,
    /// The SHA-256 of the file's bytes.
    pub sha256: [u8; 32],
}

/// The hashed files of a model directory, in signing order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Manifest {
    /// The model's name: the directory's last path component (informative only; renaming a
    /// model does not invalidate its signature).
    pub model_name: String,
    /// Every hashed file, sorted with [`path_order`].
    pub files: Vec<FileDigest>,
}

impl Manifest {
    /// Hashes every file of the model directory `dir`.
    ///
    /// # Errors
    /// [`TrustError::NotADirectory`] when `dir` is not a directory, [`TrustError::Symlink`],
    /// [`TrustError::NotRegular`] or [`TrustError::NonUtf8Name`] naming the first entry
    /// refused, [`TrustError::Io`] naming the file or directory that could not be read.
    pub fn of_dir(dir: &Path) -> Result<Self, TrustError> {
        let meta = dir
            .symlink_metadata()
            .map_err(|e| TrustError::io(dir, "read", e))?;
        if meta.file_type().is_symlink() {
            return Err(TrustError::Symlink {
                path: dir.to_path_buf(),
            });
        }
        if !meta.is_dir() {
            return Err(TrustError::NotADirectory {
                path: dir.to_path_buf(),
            });
        }
        let mut files = Vec::new();
        let mut buffer = vec![0u8; CHUNK_LEN];
        // Directories still to list: (absolute path, path relative to `dir`).
        let mut pending: Vec<(PathBuf, String)> = vec![(dir.to_path_buf(), String::new())];
        while let Some((path, relative)) = pending.pop() {
            let entries = std::fs::read_dir(&path).map_err(|e| TrustError::io(&path, "list", e))?;
            for entry in entries {
                let entry = entry.map_err(|e| TrustError::io(&path, "list", e))?;
                let full = entry.path();
                let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
                    return Err(TrustError::NonUtf8Name { path: full });
                };
                let rel = if relative.is_empty() {
                    name
                } else {
                    format!("{relative}/{name}")
                };
                let kind = entry
                    .file_type()
                    .map_err(|e| TrustError::io(&full, "read", e))?;
                if kind.is_symlink() {
                    return Err(TrustError::Symlink { path: full });
                } else if kind.is_dir() {
                    pending.push((full, rel));
                } else if !kind.is_file() {
                    return Err(TrustError::NotRegular { path: full });
                } else if !is_ignored(&rel) {
                    let sha256 = hash_file(&full, &mut buffer)?;
                    files.push(FileDigest { path: rel, sha256 });
                }
            }
        }
        files.sort_by(|a, b| path_order(&a.path, &b.path));
        Ok(Manifest {
            model_name: model_name(dir),
            files,
        })
    }

    /// The model's root digest: SHA-256 over the raw file digests in order, the statement's
    /// subject digest.
    pub fn root_digest(&self) -> [u8; 32] {
        root_digest(self.files.iter().map(|f| &f.sha256))
    }
}

/// SHA-256 over the concatenation of `digests`, in the order given.
pub(crate) fn root_digest<'a>(digests: impl Iterator<Item = &'a [u8; 32]>) -> [u8; 32] {
    let mut hasher = Sha256::new();
    for d in digests {
        hasher.update(d);
    }
    hasher.finalize().into()
}

/// Orders `/`-separated relative paths component by component, as Python's
/// `PurePosixPath` comparison (the reference tool sorts its manifest with it).
pub fn path_order(a: &str, b: &str) -> std::cmp::Ordering {
    a.split('/').cmp(b.split('/'))
}

/// Whether the relative path `rel` is, or lies under, one of [`IGNORED_PATHS`].
pub fn is_ignored(rel: &str) -> bool {
    let first = rel.split('/').next().unwrap_or(rel);
    IGNORED_PATHS.contains(&first)
}

/// The SHA-256 of the regular file `path`, read through `buffer`.
fn hash_file(path: &Path, buffer: &mut [u8]) -> Result<[u8; 32], TrustError> {
    let mut file = File::open(path).map_err(|e| TrustError::io(path, "read", e))?;
    let meta = file
        .metadata()
        .map_err(|e| TrustError::io(path, "read", e))?;
    if !meta.is_file() {
        return Err(TrustError::NotRegular {
            path: path.to_path_buf(),
        });
    }
    let mut hasher = Sha256::new();
    loop {
        let n = match file.read(buffer) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(TrustError::io(path, "read", e)),
        };
        let Some(chunk) = buffer.get(..n) else { break };
        if chunk.is_empty() {
            break;
        }
        hasher.update(chunk);
    }
    Ok(hasher.finalize().into())
}

/// The directory's last component, or the last component of its canonical path when it has
/// none (`.`, `..`), as the reference tool names a model.
fn model_name(dir: &Path) -> String {
    let canonical;
    let name = match dir.file_name() {
        Some(name) => name,
        None => {
            canonical = dir.canonicalize().unwrap_or_default();
            canonical.file_name().unwrap_or_default()
        }
    };
    name.to_string_lossy().into_owned()
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn orders_paths_by_component() {
        let mut paths = vec!["a-b/c", "a/b", "a", "b", "A", "a/b/c", "a.b"];
        paths.sort_by(|a, b| path_order(a, b));
        assert_eq!(paths, ["A", "a", "a/b", "a/b/c", "a-b/c", "a.b", "b"]);
    }

    #[test]
    fn ignores_only_top_level_paths() {
        assert!(is_ignored("model.sig"));
        assert!(is_ignored(".git/HEAD"));
        assert!(is_ignored(".gitignore"));
        assert!(!is_ignored("sub/model.sig"));
        assert!(!is_ignored(".github2"));
        assert!(!is_ignored("model.sig2"));
    }

    #[test]
    fn names_the_model_after_its_directory() {
        assert_eq!(model_name(Path::new("models/kitsune")), "kitsune");
        assert_eq!(model_name(Path::new("models/kitsune/")), "kitsune");
        assert!(!model_name(Path::new(".")).is_empty());
    }
}
