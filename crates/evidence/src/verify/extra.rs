//! What [`super::verify_log_with`] checks beyond the tiles: the checkpoint archive
//! (`custos/checkpoints/<size>`, rollback), checkpoints kept elsewhere, and the excerpt files
//! that custos alert leaves commit to (`excerpts/<sha256>.pcap`).

use std::collections::{BTreeMap, HashSet};
use std::fs;
use std::io;
use std::path::Path;

use sha2::{Digest, Sha256};

use super::VerifyError;
use crate::checkpoint::Checkpoint;
use crate::merkle::{hex, Hash};
use crate::note::Verifier;

/// Directory of archived checkpoints, relative to the log root, one file per published
/// size: `custos/checkpoints/<size, 20 digits>`.
pub const ARCHIVE_DIR: &str = "custos/checkpoints";

/// Directory of excerpt files named by their SHA-256, relative to the log root.
pub const EXCERPT_DIR: &str = "excerpts";

/// Roots the log's tree must have at given sizes, with where each came from.
pub(super) type Trusted = BTreeMap<u64, Vec<(Hash, String)>>;

/// Reads every archived checkpoint, checks its signature, origin and name, refuses one newer
/// than `current`, and adds the rest to `trusted`. Returns how many were read.
pub(super) fn read_archive(
    dir: &Path,
    verifier: &Verifier,
    current: &Checkpoint,
    trusted: &mut Trusted,
) -> Result<u64, VerifyError> {
    let arch = dir.join(ARCHIVE_DIR);
    let rd = match fs::read_dir(&arch) {
        Ok(rd) => rd,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
        Err(e) => {
            return Err(VerifyError::Io {
                path: arch,
                error: e,
            })
        }
    };
    let mut names: Vec<String> = rd
        .flatten()
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .filter(|n| !n.starts_with('.'))
        .collect();
    names.sort();
    for name in &names {
        let rel = format!("{ARCHIVE_DIR}/{name}");
        let p = dir.join(&rel);
        let bytes = fs::read(&p).map_err(|error| VerifyError::Io { path: p, error })?;
        let cp = Checkpoint::open(&bytes, verifier).map_err(|e| VerifyError::Archive {
            path: rel.clone(),
            reason: format!("not a checkpoint signed by the key: {e}"),
        })?;
        let named = (name.len() == 20 && name.bytes().all(|b| b.is_ascii_digit()))
            .then(|| name.parse::<u64>().ok())
            .flatten();
        if named != Some(cp.size) {
            return Err(VerifyError::Archive {
                path: rel,
                reason: format!("the name disagrees with its tree size {}", cp.size),
            });
        }
        if cp.origin != current.origin {
            return Err(VerifyError::Archive {
                path: rel,
                reason: format!("origin {:?}, the log's is {:?}", cp.origin, current.origin),
            });
        }
        if cp.size > current.size {
            return Err(VerifyError::ArchiveNewer {
                path: rel,
                archived: cp.size,
                current: current.size,
            });
        }
        trusted.entry(cp.size).or_default().push((cp.root, rel));
    }
    Ok(names.len() as u64)
}

/// Checks excerpt files against the hashes alert leaves commit to; each file is hashed once.
#[derive(Debug, Default)]
pub(super) struct Excerpts {
    seen: HashSet<String>,
    /// Leaves that name an excerpt.
    pub(super) leaves: u64,
    /// Distinct excerpt files hashed.
    pub(super) files: u64,
}

const KEY: &[u8] = b"\"excerpt_sha256\"";

impl Excerpts {
    /// Checks the excerpt leaf `leaf` names, if it names one.
    pub(super) fn check(&mut self, dir: &Path, leaf: u64, entry: &[u8]) -> Result<(), VerifyError> {
        if !entry.windows(KEY.len()).any(|w| w == KEY) {
            return Ok(());
        }
        let Ok(v) = serde_json::from_slice::<serde_json::Value>(entry) else {
            return Ok(()); // not JSON: not a custos leaf
        };
        let Some(x) = v.get("excerpt_sha256").and_then(|x| x.as_str()) else {
            return Ok(());
        };
        let rel = format!("{EXCERPT_DIR}/{x}.pcap");
        if x.len() != 64
            || !x
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err(VerifyError::Excerpt {
                leaf,
                path: rel,
                reason: "excerpt_sha256 is not 64 lower-case hex digits".into(),
            });
        }
        self.leaves += 1;
        if self.seen.contains(x) {
            return Ok(());
        }
        let p = dir.join(&rel);
        let bytes = match fs::read(&p) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(VerifyError::Excerpt {
                    leaf,
                    path: rel,
                    reason: "missing".into(),
                })
            }
            Err(error) => return Err(VerifyError::Io { path: p, error }),
        };
        let digest: Hash = Sha256::digest(&bytes).into();
        let got = hex(&digest);
        if got != x {
            return Err(VerifyError::Excerpt {
                leaf,
                path: rel,
                reason: format!("SHA-256 is {got}, the leaf commits to {x}"),
            });
        }
        self.files += 1;
        self.seen.insert(x.to_string());
        Ok(())
    }
}
