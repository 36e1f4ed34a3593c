//! Offline verification of a whole log directory.
//!
//! [`verify_log`] trusts nothing on disk but the verifier key: it checks the checkpoint's
//! signature, re-hashes every entry of every bundle the checkpoint covers, compares every
//! stored hash tile (full and partial, every level) with the recomputed hashes, and compares
//! the recomputed root with the checkpoint's. [`verify_log_consistent`] also checks that the
//! log extends a checkpoint the caller trusted earlier (no rollback, no rewritten history).
//! The first failure is returned with its evidence: the file, the leaf or hash index, and the
//! expected and actual hashes. A directory that is not a log at all (missing, or with none of
//! [`LOG_MARKERS`]) is reported as such before any check, so a caller can tell a wrong
//! argument from a log that fails verification. Along the way it lists the audit trail: the
//! re-identification leaves ([`crate::audit`]) the checkpoint covers ([`Report::audit`]).

use std::collections::HashSet;

mod extra;

use extra::{Excerpts, Trusted};
pub use extra::{ARCHIVE_DIR, EXCERPT_DIR};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::audit::AuditEntry;
use crate::checkpoint::{Checkpoint, CheckpointError};
use crate::layout::{entries_path, fmt_n, tile_path, CHECKPOINT_PATH, TILE_HEIGHT, TILE_WIDTH};
use crate::listing::DirListing;
use crate::log::parse_entry_bundle;
use crate::merkle::{hex, leaf_hash, node_hash, CompactRange, Hash, HASH_SIZE};
use crate::note::Verifier;

/// The entries of which a directory must have at least one to be taken as an evidence log (a
/// log missing some of them is a damaged log; one with none is [`VerifyError::NotALog`]):
/// the checkpoint, the tiles, the archive of earlier checkpoints, the writer's state.
/// `excerpts/` is not among them: case bundles have it too.
pub const LOG_MARKERS: [&str; 4] = [CHECKPOINT_PATH, "tile", "custos", ".state"];

/// What [`verify_log`] checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// The verified checkpoint.
    pub checkpoint: Checkpoint,
    /// Leaves re-hashed (the checkpoint's size).
    pub leaves: u64,
    /// Entry bundle files checked (full and partial).
    pub bundles_checked: u64,
    /// Hash tile files checked (all levels, full and partial).
    pub tiles_checked: u64,
    /// Files under `tile/` that lie beyond the checkpoint (integrated but not yet published)
    /// and so could not be checked against it.
    pub unchecked: Vec<String>,
    /// Archived checkpoints (`custos/checkpoints/`) checked: signature, name, not newer than
    /// the current one, and the tree has their root at their size.
    pub archived_checked: u64,
    /// Checkpoints given by the caller (kept elsewhere) the log was checked to extend.
    pub trusted_checked: u64,
    /// Whether excerpt files were checked ([`VerifyOptions::excerpts`]).
    pub excerpts_enabled: bool,
    /// Leaves naming an excerpt file (`excerpt_sha256`) whose file was checked.
    pub excerpt_leaves: u64,
    /// Distinct excerpt files hashed and found to match.
    pub excerpt_files: u64,
    /// The audit trail: every re-identification leaf (`custos reidentify`) the checkpoint
    /// covers, in log order. Listed, not judged: a leaf of that type that does not parse is
    /// listed with its problem and does not fail verification.
    pub audit: Vec<AuditEntry>,
}

impl Report {
    /// Plain sentences saying what was checked and what was not.
    pub fn summary(&self) -> Vec<String> {
        let mut out = vec![
            format!(
                "checked: checkpoint signature; {} leaves re-hashed from {} entry bundles; {} hash tiles; root",
                self.leaves, self.bundles_checked, self.tiles_checked
            ),
            format!(
                "checked: {} archived checkpoints and {} checkpoints kept elsewhere (the log extends each)",
                self.archived_checked, self.trusted_checked
            ),
        ];
        if self.excerpts_enabled {
            out.push(format!(
                "checked: {} excerpt files named by {} leaves (SHA-256 matches)",
                self.excerpt_files, self.excerpt_leaves
            ));
        } else {
            out.push("not checked: excerpt files".into());
        }
        if !self.unchecked.is_empty() {
            out.push(format!(
                "not checked: {} files beyond the checkpoint (not covered by any signature)",
                self.unchecked.len()
            ));
        }
        out.push(
            "not checked: captures and spool files the leaves name, .state/ (the writer's private files)"
                .into(),
        );
        out
    }

    /// The audit trail as lines: a count, then one line per re-identification leaf (index,
    /// time, who, why, pseudonym key fingerprint, pseudonyms; [`AuditEntry::line`]).
    pub fn audit_trail(&self) -> Vec<String> {
        let mut out = vec![match self.audit.len() {
            0 => "audit trail: no re-identification (custos reidentify) in the log".to_string(),
            1 => "audit trail: 1 re-identification (custos reidentify) in the log".to_string(),
            n => format!("audit trail: {n} re-identifications (custos reidentify) in the log"),
        }];
        out.extend(self.audit.iter().map(|e| format!("  {}", e.line())));
        out
    }
}

/// What [`verify_log_with`] checks besides the checkpoint and the tiles.
#[derive(Debug, Clone)]
pub struct VerifyOptions {
    /// Checkpoints kept elsewhere (a witness's, one from an earlier case bundle): the log must
    /// have the same origin, be at least as large, and have each one's root at its size.
    pub trusted: Vec<Checkpoint>,
    /// Check the archive [`ARCHIVE_DIR`]: every file a checkpoint signed by the key, named by
    /// its size, not newer than the current checkpoint, and consistent with it. Default on.
    pub archive: bool,
    /// Check that every excerpt file a leaf names (`excerpt_sha256`, under [`EXCERPT_DIR`])
    /// exists and has that SHA-256. Default on.
    pub excerpts: bool,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        Self {
            trusted: Vec::new(),
            archive: true,
            excerpts: true,
        }
    }
}

/// The first failure [`verify_log`] found.
///
/// Its `Display` is the whole message, a wrapped error's included, and it returns no
/// `source()`, so a cause chain printed with `{:#}` shows each cause once.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// A file could not be read.
    #[error("{path}: {error}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error (shown in the message, not returned as a source).
        error: io::Error,
    },
    /// The directory has none of a log's entries ([`LOG_MARKERS`]): it is not an evidence log
    /// at all (an analysis output folder, a case bundle...), as opposed to a log with files
    /// missing.
    #[error(
        "{}: not an evidence log (it has none of checkpoint, tile/, custos/, .state/); {listing}",
        dir.display()
    )]
    NotALog {
        /// The directory.
        dir: PathBuf,
        /// What it holds.
        listing: DirListing,
    },
    /// The checkpoint is missing, malformed or badly signed.
    #[error("checkpoint: {0}")]
    Checkpoint(CheckpointError),
    /// A file the checkpoint needs is absent.
    #[error("{path}: missing")]
    Missing {
        /// Path relative to the log root.
        path: String,
    },
    /// An entry bundle's framing is broken or it holds the wrong number of entries.
    #[error("{path}: {reason}")]
    BadBundle {
        /// Path relative to the log root.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// A tile has the wrong length.
    #[error("{path}: {actual} bytes, want {expected}")]
    TileLength {
        /// Path relative to the log root.
        path: String,
        /// Expected length in bytes.
        expected: usize,
        /// Actual length.
        actual: usize,
    },
    /// A stored hash differs from the one recomputed from the entries.
    #[error(
        "{path}: hash {position} (level {level}, node {node}) is {}, entries give {}",
        hex(actual),
        hex(expected)
    )]
    TileHash {
        /// Path relative to the log root.
        path: String,
        /// Tile level (0: leaf hashes).
        level: u64,
        /// Index of the hash within the tile.
        position: usize,
        /// Index of the node at its level (the leaf index at level 0).
        node: u64,
        /// The hash recomputed from the entry bundles.
        expected: Hash,
        /// The stored hash.
        actual: Hash,
    },
    /// A partial entry bundle disagrees with the full data at entry `leaf`.
    #[error("{path}: entry for leaf {leaf} differs from the log")]
    BundleEntry {
        /// Path relative to the log root.
        path: String,
        /// Leaf index.
        leaf: u64,
    },
    /// The entries do not hash to the checkpoint's root.
    #[error(
        "root mismatch at size {size}: checkpoint says {}, entries give {}",
        hex(expected),
        hex(actual)
    )]
    RootMismatch {
        /// Tree size.
        size: u64,
        /// The checkpoint's root.
        expected: Hash,
        /// The recomputed root.
        actual: Hash,
    },
    /// The log is smaller than a checkpoint the caller trusted (rollback).
    #[error("log size {size} is smaller than the trusted size {trusted_size}")]
    Rollback {
        /// The trusted checkpoint's size.
        trusted_size: u64,
        /// The log's checkpoint size.
        size: u64,
    },
    /// The log's tree at the trusted size does not have the trusted root (history rewritten).
    #[error(
        "inconsistent with trusted checkpoint at size {size}: trusted root {}, log gives {}",
        hex(trusted),
        hex(actual)
    )]
    Inconsistent {
        /// The trusted size.
        size: u64,
        /// The trusted root.
        trusted: Hash,
        /// The root the log's entries give at that size.
        actual: Hash,
    },
    /// An archived checkpoint is bad: unsigned by the key, misnamed, or of another origin.
    #[error("{path}: {reason}")]
    Archive {
        /// Path relative to the log root.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// The archive holds a checkpoint newer than the current one: the checkpoint was rolled
    /// back.
    #[error("{path}: archived checkpoint of size {archived} is newer than the current size {current} (rollback)")]
    ArchiveNewer {
        /// Path relative to the log root.
        path: String,
        /// The archived checkpoint's size.
        archived: u64,
        /// The current checkpoint's size.
        current: u64,
    },
    /// An excerpt file a leaf commits to is missing or does not match.
    #[error("leaf {leaf}: {path}: {reason}")]
    Excerpt {
        /// Leaf index.
        leaf: u64,
        /// Path relative to the log root.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// The trusted checkpoint names another log.
    #[error("trusted checkpoint origin {trusted:?} differs from {found:?}")]
    OriginMismatch {
        /// The trusted origin.
        trusted: String,
        /// The log's.
        found: String,
    },
}

impl From<CheckpointError> for VerifyError {
    fn from(e: CheckpointError) -> Self {
        VerifyError::Checkpoint(e)
    }
}

/// Verifies the log in `dir` against `verifier` (see the module docs).
///
/// # Errors
/// The first failure, as a [`VerifyError`]. Before any check: [`VerifyError::Io`] when `dir`
/// cannot be read (missing, not a directory), [`VerifyError::NotALog`] when it has none of a
/// log's entries ([`LOG_MARKERS`]).
pub fn verify_log(dir: impl AsRef<Path>, verifier: &Verifier) -> Result<Report, VerifyError> {
    verify(dir.as_ref(), verifier, &VerifyOptions::default())
}

/// [`verify_log`] with options: checkpoints kept elsewhere the log must extend, and whether
/// to check the archive and the excerpt files (both on by default, as in [`verify_log`]).
///
/// # Errors
/// The first failure, as a [`VerifyError`].
pub fn verify_log_with(
    dir: impl AsRef<Path>,
    verifier: &Verifier,
    options: &VerifyOptions,
) -> Result<Report, VerifyError> {
    verify(dir.as_ref(), verifier, options)
}

/// Like [`verify_log`], and also checks that the log's tree at `trusted.size` has
/// `trusted.root` and the same origin: the log only grew since `trusted` was seen.
///
/// # Errors
/// The first failure, as a [`VerifyError`]; [`VerifyError::Rollback`] or
/// [`VerifyError::Inconsistent`] for a log that does not extend `trusted`.
pub fn verify_log_consistent(
    dir: impl AsRef<Path>,
    verifier: &Verifier,
    trusted: &Checkpoint,
) -> Result<Report, VerifyError> {
    let options = VerifyOptions {
        trusted: vec![trusted.clone()],
        ..VerifyOptions::default()
    };
    verify(dir.as_ref(), verifier, &options)
}

/// Reads the files of a log and counts what it checked.
struct Walker<'a> {
    /// The log directory.
    dir: &'a Path,
    /// Files read (relative paths).
    checked: HashSet<String>,
    /// Entry bundles checked.
    bundles: u64,
    /// Hash tiles checked.
    tiles: u64,
}

impl Walker<'_> {
    /// Reads `rel` and records it as checked; `None` if it is absent.
    fn read(&mut self, rel: &str) -> Result<Option<Vec<u8>>, VerifyError> {
        let p = self.dir.join(rel);
        match fs::read(&p) {
            Ok(b) => {
                self.checked.insert(rel.to_string());
                Ok(Some(b))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(VerifyError::Io { path: p, error: e }),
        }
    }

    /// Widths of the partial files `<base>.p/<W>` present.
    fn partials(&self, base: &str) -> Vec<u8> {
        let Ok(rd) = fs::read_dir(self.dir.join(format!("{base}.p"))) else {
            return Vec::new();
        };
        let mut out: Vec<u8> = rd
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u8>().ok())
            .filter(|w| *w > 0)
            .collect();
        out.sort_unstable();
        out
    }

    /// Checks tile `(level, index)` whose true hashes are `want` (the first `want.len()` of
    /// the tile; 256 when full).
    fn check_tile(&mut self, level: u64, index: u64, want: &[Hash]) -> Result<(), VerifyError> {
        let full = want.len() == TILE_WIDTH as usize;
        let full_rel = tile_path(level, index, 0);
        let mut found = false;
        if let Some(b) = self.read(&full_rel)? {
            found = true;
            let n = if full {
                want.len()
            } else {
                TILE_WIDTH as usize
            };
            self.compare(&full_rel, level, index, &b, n, want)?;
        }
        for w in self.partials(&fmt_n_level(level, index)) {
            let rel = tile_path(level, index, w);
            if usize::from(w) > want.len() {
                continue; // beyond the checkpoint: reported as unchecked
            }
            if let Some(b) = self.read(&rel)? {
                found |= usize::from(w) == want.len();
                self.compare(&rel, level, index, &b, usize::from(w), want)?;
            }
        }
        if !found {
            let w = if full { 0 } else { want.len() as u8 };
            return Err(VerifyError::Missing {
                path: tile_path(level, index, w),
            });
        }
        Ok(())
    }

    /// Compares a tile file of `len` hashes with the first hashes of `want`.
    fn compare(
        &mut self,
        rel: &str,
        level: u64,
        index: u64,
        bytes: &[u8],
        len: usize,
        want: &[Hash],
    ) -> Result<(), VerifyError> {
        self.tiles += 1;
        if bytes.len() != len * HASH_SIZE {
            return Err(VerifyError::TileLength {
                path: rel.to_string(),
                expected: len * HASH_SIZE,
                actual: bytes.len(),
            });
        }
        for (position, (chunk, expected)) in bytes.chunks_exact(HASH_SIZE).zip(want).enumerate() {
            let actual = Hash::try_from(chunk).unwrap_or_default();
            if actual != *expected {
                return Err(VerifyError::TileHash {
                    path: rel.to_string(),
                    level,
                    position,
                    node: index * TILE_WIDTH + position as u64,
                    expected: *expected,
                    actual,
                });
            }
        }
        Ok(())
    }
}

/// The path of tile `(level, index)` without its width suffix.
fn fmt_n_level(level: u64, index: u64) -> String {
    format!("tile/{level}/{}", fmt_n(index))
}

/// The Merkle root of a full tile of `hashes`.
fn tile_root(hashes: &[Hash]) -> Hash {
    let mut row: Vec<Hash> = hashes.to_vec();
    while row.len() > 1 {
        row = row
            .chunks_exact(2)
            .map(|p| match p {
                [l, r] => node_hash(l, r),
                _ => Hash::default(),
            })
            .collect();
    }
    row.first().copied().unwrap_or_default()
}

/// Checks the given checkpoints against the current one and collects the roots the tree must
/// have: theirs and the archive's.
fn trusted_roots(
    dir: &Path,
    verifier: &Verifier,
    cp: &Checkpoint,
    options: &VerifyOptions,
) -> Result<(Trusted, u64), VerifyError> {
    let mut roots = Trusted::new();
    for t in &options.trusted {
        if t.origin != cp.origin {
            return Err(VerifyError::OriginMismatch {
                trusted: t.origin.clone(),
                found: cp.origin.clone(),
            });
        }
        if t.size > cp.size {
            return Err(VerifyError::Rollback {
                trusted_size: t.size,
                size: cp.size,
            });
        }
        roots
            .entry(t.size)
            .or_default()
            .push((t.root, "trusted checkpoint".into()));
    }
    let archived = if options.archive {
        extra::read_archive(dir, verifier, cp, &mut roots)?
    } else {
        0
    };
    if let Some(list) = roots.get(&0) {
        let empty = crate::merkle::empty_root();
        if let Some((root, _)) = list.iter().find(|(r, _)| *r != empty) {
            return Err(VerifyError::Inconsistent {
                size: 0,
                trusted: *root,
                actual: empty,
            });
        }
    }
    Ok((roots, archived))
}

/// Checks that the tree of `size` leaves, whose root `root` computes, has every root
/// `roots` requires at that size.
fn check_trusted(
    roots: &Trusted,
    size: u64,
    root: impl FnOnce() -> Hash,
) -> Result<(), VerifyError> {
    if let Some(list) = roots.get(&size) {
        let actual = root();
        if let Some((t, _)) = list.iter().find(|(t, _)| *t != actual) {
            return Err(VerifyError::Inconsistent {
                size,
                trusted: *t,
                actual,
            });
        }
    }
    Ok(())
}

/// Verifies the log in `dir`: the checkpoint, the checkpoints `options` names, every entry
/// bundle and hash tile the checkpoint covers, and the root.
fn verify(dir: &Path, verifier: &Verifier, options: &VerifyOptions) -> Result<Report, VerifyError> {
    // Is this a log at all? A missing directory or another kind of folder is not tampering.
    let (listing, top) = DirListing::read(dir).map_err(|error| VerifyError::Io {
        path: dir.to_path_buf(),
        error,
    })?;
    if !LOG_MARKERS.iter().any(|m| top.contains(*m)) {
        return Err(VerifyError::NotALog {
            dir: dir.to_path_buf(),
            listing,
        });
    }
    let mut wk = Walker {
        dir,
        checked: HashSet::new(),
        bundles: 0,
        tiles: 0,
    };
    let note = wk.read(CHECKPOINT_PATH)?.ok_or(VerifyError::Missing {
        path: CHECKPOINT_PATH.to_string(),
    })?;
    let cp = Checkpoint::open(&note, verifier)?;
    let (roots, archived_checked) = trusted_roots(dir, verifier, &cp, options)?;
    let mut leaves = Leaves {
        dir,
        roots: &roots,
        check_excerpts: options.excerpts,
        range: CompactRange::new(),
        excerpts: Excerpts::default(),
        audit: Vec::new(),
    };
    let n = cp.size;
    let mut upper: Vec<Hash> = Vec::new();
    let bundles = n.div_ceil(TILE_WIDTH);
    for b in 0..bundles {
        let count = (n - b * TILE_WIDTH).min(TILE_WIDTH) as usize;
        let full = count == TILE_WIDTH as usize;
        let hashes = check_bundle(&mut wk, &mut leaves, b, count)?;
        if full {
            upper.push(tile_root(&hashes));
        }
    }
    check_upper_tiles(&mut wk, upper)?;
    let root = leaves.range.root();
    if root != cp.root {
        return Err(VerifyError::RootMismatch {
            size: n,
            expected: cp.root,
            actual: root,
        });
    }
    let mut unchecked = Vec::new();
    walk_files(dir, "tile", &mut |rel| {
        if !wk.checked.contains(rel) {
            unchecked.push(rel.to_string());
        }
    });
    unchecked.sort();
    Ok(Report {
        checkpoint: cp,
        leaves: n,
        bundles_checked: wk.bundles,
        tiles_checked: wk.tiles,
        unchecked,
        archived_checked,
        trusted_checked: options.trusted.len() as u64,
        excerpts_enabled: options.excerpts,
        excerpt_leaves: leaves.excerpts.leaves,
        excerpt_files: leaves.excerpts.files,
        audit: leaves.audit,
    })
}

/// The leaf-by-leaf checks, run over the leaves in order: the tree so far, the roots it must
/// have at given sizes, and the excerpt files the leaves name.
struct Leaves<'a> {
    /// The log directory.
    dir: &'a Path,
    /// Roots the tree must have at given sizes ([`trusted_roots`]).
    roots: &'a Trusted,
    /// Whether to check excerpt files ([`VerifyOptions::excerpts`]).
    check_excerpts: bool,
    /// The tree of the leaves seen so far.
    range: CompactRange,
    /// The excerpt files checked so far.
    excerpts: Excerpts,
    /// The re-identification leaves seen so far.
    audit: Vec<AuditEntry>,
}

impl Leaves<'_> {
    /// Adds leaf `index` (`entry`, hashing to `hash`): checks the tree's root if a trusted
    /// checkpoint has its size, and the excerpt file the leaf names; lists it in the audit
    /// trail when it records a re-identification.
    fn push(&mut self, index: u64, hash: Hash, entry: Option<&[u8]>) -> Result<(), VerifyError> {
        self.range.push(hash);
        check_trusted(self.roots, self.range.size(), || self.range.root())?;
        if let (true, Some(e)) = (self.check_excerpts, entry) {
            self.excerpts.check(self.dir, index, e)?;
        }
        if let Some(a) = entry.and_then(|e| AuditEntry::from_leaf(index, e)) {
            self.audit.push(a);
        }
        Ok(())
    }
}

/// Checks entry bundle `b`, which holds `count` leaves under the checkpoint: re-hashes its
/// entries into `leaves`, checks its other partial bundles and its level-0 hash tile;
/// returns the leaf hashes.
fn check_bundle(
    wk: &mut Walker<'_>,
    leaves: &mut Leaves<'_>,
    b: u64,
    count: usize,
) -> Result<Vec<Hash>, VerifyError> {
    let (rel, bytes, exact) = read_bundle(wk, b, count)?;
    wk.bundles += 1;
    let entries = parse_entry_bundle(&bytes).map_err(|reason| VerifyError::BadBundle {
        path: rel.clone(),
        reason,
    })?;
    let want = if exact { count } else { TILE_WIDTH as usize };
    if entries.len() != want {
        return Err(VerifyError::BadBundle {
            path: rel,
            reason: format!("{} entries, want {want}", entries.len()),
        });
    }
    let hashes: Vec<Hash> = entries.iter().take(count).map(|e| leaf_hash(e)).collect();
    for (i, h) in hashes.iter().enumerate() {
        leaves.push(b * TILE_WIDTH + i as u64, *h, entries.get(i).copied())?;
    }
    check_partial_bundles(wk, b, count, &rel, &hashes)?;
    wk.check_tile(0, b, &hashes)?;
    Ok(hashes)
}

/// Reads the authoritative entry bundle `b` of `count` leaves: the full one, or the partial
/// of the checkpoint's width (falling back to a full bundle written after the checkpoint).
/// Returns its path, its bytes and whether it has exactly the checkpoint's width.
fn read_bundle(
    wk: &mut Walker<'_>,
    b: u64,
    count: usize,
) -> Result<(String, Vec<u8>, bool), VerifyError> {
    let full = count == TILE_WIDTH as usize;
    let exact_rel = entries_path(b, if full { 0 } else { count as u8 });
    match wk.read(&exact_rel)? {
        Some(bytes) => Ok((exact_rel, bytes, true)),
        None => {
            let full_rel = entries_path(b, 0);
            match wk.read(&full_rel)? {
                Some(bytes) if !full => Ok((full_rel, bytes, false)),
                _ => Err(VerifyError::Missing { path: exact_rel }),
            }
        }
    }
}

/// Checks that every other partial bundle of index `b` (at most `count` wide, not `rel`)
/// agrees with the leaf `hashes` of the authoritative bundle.
fn check_partial_bundles(
    wk: &mut Walker<'_>,
    b: u64,
    count: usize,
    rel: &str,
    hashes: &[Hash],
) -> Result<(), VerifyError> {
    for w in wk.partials(&format!("tile/entries/{}", fmt_n(b))) {
        let prel = entries_path(b, w);
        if usize::from(w) > count || prel == rel {
            continue;
        }
        let Some(pb) = wk.read(&prel)? else { continue };
        wk.bundles += 1;
        let pe = parse_entry_bundle(&pb).map_err(|reason| VerifyError::BadBundle {
            path: prel.clone(),
            reason,
        })?;
        if pe.len() != usize::from(w) {
            return Err(VerifyError::BadBundle {
                path: prel,
                reason: format!("{} entries, want {w}", pe.len()),
            });
        }
        for (i, (e, h)) in pe.iter().zip(hashes).enumerate() {
            if leaf_hash(e) != *h {
                return Err(VerifyError::BundleEntry {
                    path: prel,
                    leaf: b * TILE_WIDTH + i as u64,
                });
            }
        }
    }
    Ok(())
}

/// Checks the hash tiles of levels 1 and up, from `upper`, the roots of the full tiles of
/// level 0.
fn check_upper_tiles(wk: &mut Walker<'_>, mut upper: Vec<Hash>) -> Result<(), VerifyError> {
    let mut level = 1u64;
    while !upper.is_empty() {
        let mut next = Vec::new();
        for (t, chunk) in upper.chunks(TILE_WIDTH as usize).enumerate() {
            wk.check_tile(level, t as u64, chunk)?;
            if chunk.len() == TILE_WIDTH as usize {
                next.push(tile_root(chunk));
            }
        }
        upper = next;
        level += 1;
        if level > 63 / u64::from(TILE_HEIGHT) + 1 {
            break;
        }
    }
    Ok(())
}

/// Calls `f` with the root-relative path of every file under `rel`, skipping dot-files
/// (temporary files of interrupted writes).
fn walk_files(root: &Path, rel: &str, f: &mut impl FnMut(&str)) {
    let Ok(rd) = fs::read_dir(root.join(rel)) else {
        return;
    };
    for e in rd.flatten() {
        let Some(name) = e.file_name().to_str().map(str::to_string) else {
            continue;
        };
        if name.starts_with('.') {
            continue;
        }
        let child = format!("{rel}/{name}");
        match e.file_type() {
            Ok(t) if t.is_dir() => walk_files(root, &child, f),
            Ok(_) => f(&child),
            Err(_) => {}
        }
    }
}
