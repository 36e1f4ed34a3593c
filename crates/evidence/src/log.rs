//! The on-disk log: appends, integration into tiles, checkpoints, proofs, crash recovery.
//!
//! # Layout
//! A log directory holds the C2SP tlog-tiles resources (see [`crate::layout`]) and a private
//! `.state/` folder: `origin` (the checkpoint origin line), `tree` (the last integrated size and
//! root), `lock` (held with `flock` by the one writer) and `nodes/` (the internal node hashes
//! of full tiles, a cache that proofs check against the tiles before use; see
//! `Log::tile_node`).
//!
//! # Durability protocol
//! [`Log::append`] only buffers. [`Log::integrate`] (called by [`Log::publish_checkpoint`], and
//! automatically when the buffer is large) writes every new full tile, full entry bundle and
//! the new right-edge partial tiles and bundle, each to a temporary file that is `fdatasync`ed
//! and renamed into place; then it `fsync`s every directory it touched, and only then
//! atomically replaces `.state/tree`. [`Log::publish_checkpoint`] writes the signed checkpoint
//! the same way (temp, fsync, rename, fsync directory) after integration has returned, so a
//! published checkpoint never covers data that is not on stable storage.
//!
//! # Recovery, journal and key binding
//! See `log/open.rs`, `log/journal.rs` and `log/repair.rs`. On open the log loads the
//! published checkpoint's tree (size `S`; the tiles must reproduce its root). Leaves beyond
//! `S` are recovered only from the writer's journal `.state/tree` when it carries a valid
//! HMAC under a key derived from the signing key ([`Log::open_signed`],
//! [`Log::open_or_create`]) and the entry bundles reproduce its root; their tiles are then
//! rewritten from the entries. Otherwise (no key, no or bad MAC) they are discarded, so
//! nothing the sensor did not itself journal is ever signed. Then the right edge is rewritten
//! and every file under `tile/` that does not belong to the recovered tree is removed
//! ([`Opened`] says what was done). A log is bound to its key (`.state/key`, and the
//! checkpoint's signature): another key, even with the same name, is refused
//! ([`LogError::WrongKey`]). Leaves covered by a published checkpoint are never lost.

use std::collections::{BTreeSet, HashMap};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write as _};
use std::ops::Range;
use std::os::unix::fs::FileExt as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::checkpoint::{Checkpoint, CheckpointError};
use crate::layout::{
    entries_path, fmt_n, partial_tile_size, tile_path, CHECKPOINT_PATH, TILE_HEIGHT, TILE_WIDTH,
};
use crate::merkle::{self, empty_root, hex, leaf_hash, node_hash, Hash, ProofError, HASH_SIZE};
use crate::note::{parse_note, Signer};

mod journal;
mod open;
mod repair;

use journal::{Journal, MacKey};
pub use open::{OpenKind, Opened};

/// Largest entry a bundle can hold: its length must fit the big-endian `u16` prefix.
pub const MAX_ENTRY_SIZE: usize = u16::MAX as usize;

/// Pending entries that trigger an automatic [`Log::integrate`] from [`Log::append`].
const AUTO_INTEGRATE_ENTRIES: u64 = 1 << 16;
/// Pending bytes that trigger an automatic [`Log::integrate`].
const AUTO_INTEGRATE_BYTES: usize = 32 << 20;
/// Verified node hashes of full tiles kept in memory (cleared when full).
const CACHE_NODES: usize = 1 << 16;
/// Files of full tiles at levels ≥ 1 kept in memory (8 KiB each; cleared when full).
const CACHE_UPPER_FILES: usize = 1024;
/// Files of full level-0 tiles kept in memory.
const CACHE_LOWER_FILES: usize = 16;
/// Internal node hashes of a full tile kept in its side file: rows 1..=8, 128 + 64 + … + 1.
const TILE_NODES: u64 = TILE_WIDTH - 1;

const STATE_DIR: &str = ".state";

/// Side files of full tiles per node file: tiles `256·M … 256·M + 255` of a level share
/// `.state/nodes/<L>/<M>`, so that integration adds no file per tile.
const TILES_PER_NODE_FILE: u64 = 256;
/// Bytes of one tile's slot in a node file: its 255 internal node hashes.
const SLOT_BYTES: u64 = TILE_NODES * HASH_SIZE as u64;

/// `.state/nodes/<L>/<M>`, `M = N / 256`: the node file holding the side file (internal
/// node hashes) of full tile `tile/<L>/<N>` at byte offset `(N mod 256) · 8160`. A private
/// cache: see [`Log::tile_node`].
fn nodes_path(level: u64, index: u64) -> String {
    format!(
        "{STATE_DIR}/nodes/{level}/{}",
        fmt_n(index / TILES_PER_NODE_FILE)
    )
}

/// Byte offset of tile `index`'s slot in its node file.
fn slot_offset(index: u64) -> u64 {
    (index % TILES_PER_NODE_FILE) * SLOT_BYTES
}

/// Writes the side files of full tiles (`(level, index, 255 hashes)`) into their node files,
/// in place and unsynced: they are a cache that every read checks.
fn write_side_files(root: &Path, sides: &[(u64, u64, Vec<u8>)]) -> io::Result<()> {
    let mut open: Option<(String, File)> = None;
    for (level, index, bytes) in sides {
        let rel = nodes_path(*level, *index);
        let f = match open.take() {
            Some((p, f)) if p == rel => f,
            _ => {
                let path = root.join(&rel);
                if let Some(parent) = path.parent() {
                    fs::create_dir_all(parent)?;
                }
                OpenOptions::new()
                    .create(true)
                    .truncate(false)
                    .write(true)
                    .open(&path)?
            }
        };
        f.write_all_at(bytes, slot_offset(*index))?;
        open = Some((rel, f));
    }
    Ok(())
}

/// Position of node (`r`, `off`) (tile-relative height 1..=8) in a side file, in hashes:
/// row `r` starts after rows 1..r, i.e. at `256 - 2^(9-r)`.
fn side_position(r: u32, off: u64) -> u64 {
    TILE_WIDTH - ((2 * TILE_WIDTH) >> r) + off
}

/// The 255 internal node hashes of a full tile, row by row (row 1 first, the root last).
fn internal_nodes(stored: &[Hash]) -> Vec<Hash> {
    let mut out: Vec<Hash> = Vec::with_capacity(TILE_NODES as usize);
    let mut row: Vec<Hash> = stored.chunks_exact(2).map(pair_hash).collect();
    loop {
        out.extend_from_slice(&row);
        if row.len() <= 1 {
            return out;
        }
        row = row.chunks_exact(2).map(pair_hash).collect();
    }
}

/// Which file of a full tile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum FileKind {
    /// `tile/<L>/<N>`: 256 stored hashes.
    Tile,
    /// `.state/nodes/<L>/<N>`: the 255 internal nodes (unchecked).
    Nodes,
}

type FileKey = (FileKind, u64, u64);

/// Contents of recently read files of full tiles (which never change once written): those
/// of tile levels ≥ 1, which are few and shared by many proofs, and a handful of level 0.
#[derive(Debug, Default)]
struct FileCache {
    upper: HashMap<FileKey, Arc<Vec<u8>>>,
    lower: HashMap<FileKey, Arc<Vec<u8>>>,
}

impl FileCache {
    fn map(&mut self, key: FileKey) -> (&mut HashMap<FileKey, Arc<Vec<u8>>>, usize) {
        if key.1 == 0 {
            (&mut self.lower, CACHE_LOWER_FILES)
        } else {
            (&mut self.upper, CACHE_UPPER_FILES)
        }
    }

    fn get(&mut self, key: FileKey) -> Option<Arc<Vec<u8>>> {
        self.map(key).0.get(&key).cloned()
    }

    fn put(&mut self, key: FileKey, bytes: Arc<Vec<u8>>) {
        let (map, cap) = self.map(key);
        if map.len() >= cap {
            map.clear();
        }
        map.insert(key, bytes);
    }

    fn clear(&mut self) {
        self.upper.clear();
        self.lower.clear();
    }
}

/// Reads a whole file expected to hold `want` bytes, with one `pread` when it does (the
/// buffer has room for one more byte, so a longer file comes back longer).
fn read_whole(path: &Path, want: usize) -> io::Result<Vec<u8>> {
    let f = File::open(path)?;
    let mut buf = vec![0u8; want + 1];
    let mut n = 0usize;
    while let Some(rest) = buf.get_mut(n..) {
        if rest.is_empty() {
            break;
        }
        let k = f.read_at(rest, n as u64)?;
        n += k;
        // A regular file reads short only at its end.
        if k == 0 || n >= want {
            break;
        }
    }
    buf.truncate(n);
    Ok(buf)
}

fn hash_at(bytes: &[u8], pos: u64) -> Option<Hash> {
    let i = usize::try_from(pos).ok()?.checked_mul(HASH_SIZE)?;
    Hash::try_from(bytes.get(i..i.checked_add(HASH_SIZE)?)?).ok()
}

/// Errors from [`Log`] operations.
///
/// Its `Display` is the whole message, a wrapped error's included, and it returns no
/// `source()`, so a cause chain printed with `{:#}` shows each cause once.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// A file system operation failed on `path`.
    #[error("{path}: {error}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The OS error (shown in the message, not returned as a source).
        error: io::Error,
    },
    /// An entry is longer than the 65 535 bytes a bundle's `u16` length prefix allows.
    #[error("entry of {0} bytes exceeds the {MAX_ENTRY_SIZE}-byte limit")]
    EntryTooLarge(usize),
    /// [`Log::create`] found an existing log.
    #[error("{0}: a log already exists here")]
    AlreadyExists(PathBuf),
    /// [`Log::open`] found no log (`.state/origin` missing).
    #[error("{0}: not a log directory")]
    NotALog(PathBuf),
    /// Another process holds the log's writer lock.
    #[error("{0}: log is locked by another writer")]
    Locked(PathBuf),
    /// A stored file is malformed: wrong length, bad bundle framing, bad state text.
    #[error("{path}: {reason}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// Stored data does not reproduce a root it must reproduce (like tessera's
    /// `ErrInconsistency`): the evidence is the size and both roots.
    #[error(
        "inconsistent log at size {size}: expected root {}, tiles give {}",
        hex(expected),
        hex(actual)
    )]
    Inconsistent {
        /// The tree size checked.
        size: u64,
        /// The root recorded in the checkpoint or state.
        expected: Hash,
        /// The root the stored tiles give.
        actual: Hash,
    },
    /// An entry in a bundle does not hash to the leaf hash stored in the level-0 tile.
    #[error(
        "{path}: leaf {leaf} hashes to {}, tile has {}",
        hex(actual),
        hex(expected)
    )]
    LeafMismatch {
        /// The entry bundle.
        path: PathBuf,
        /// Leaf index.
        leaf: u64,
        /// The hash in the level-0 tile.
        expected: Hash,
        /// The hash of the bundle's entry.
        actual: Hash,
    },
    /// The stored checkpoint is unreadable.
    #[error("checkpoint: {0}")]
    Checkpoint(CheckpointError),
    /// The stored checkpoint belongs to another origin.
    #[error("checkpoint origin {found:?} differs from the log's origin {expected:?}")]
    OriginMismatch {
        /// The log's origin.
        expected: String,
        /// The checkpoint's.
        found: String,
    },
    /// A proof request is outside the integrated tree.
    #[error("proof: {0}")]
    Proof(ProofError),
    /// The signing key is not the key the log is bound to (another key, even one with the
    /// log's name): nothing was written or signed.
    #[error("{dir}: refusing key {key_id:08x} for log {origin:?}: {reason}")]
    WrongKey {
        /// The log directory.
        dir: PathBuf,
        /// The log's origin.
        origin: String,
        /// The refused key's ID.
        key_id: u32,
        /// Why: another bound key, or a checkpoint it cannot verify.
        reason: String,
    },
    /// An earlier write of this handle failed; reopen the log (which repairs it).
    #[error("{0}: an earlier write failed; reopen the log")]
    Poisoned(PathBuf),
    /// Writing a file failed at `stage` (create, write, sync, rename, sync directory); any
    /// temporary file was removed.
    #[error("{path}: cannot {stage}: {error}")]
    Write {
        /// The file being written.
        path: PathBuf,
        /// What was being done.
        stage: &'static str,
        /// The OS error (shown in the message, not returned as a source).
        error: io::Error,
    },
    /// A requested size is beyond the integrated size.
    #[error("size {requested} is beyond the integrated size {integrated}")]
    BeyondIntegrated {
        /// The size asked for.
        requested: u64,
        /// [`Log::integrated_size`].
        integrated: u64,
    },
}

impl From<CheckpointError> for LogError {
    fn from(e: CheckpointError) -> Self {
        LogError::Checkpoint(e)
    }
}

impl From<ProofError> for LogError {
    fn from(e: ProofError) -> Self {
        LogError::Proof(e)
    }
}

pub(crate) fn io_err(path: &Path) -> impl FnOnce(io::Error) -> LogError + '_ {
    move |error| LogError::Io {
        path: path.to_path_buf(),
        error,
    }
}

/// A full tile with all eight internal levels computed (row 0: 256 stored hashes, row 8: root).
#[derive(Debug)]
struct ExpandedTile {
    rows: Vec<Vec<Hash>>,
}

impl ExpandedTile {
    fn new(stored: Vec<Hash>) -> Self {
        let mut rows = vec![stored];
        while let Some(last) = rows.last() {
            if last.len() <= 1 {
                break;
            }
            let next: Vec<Hash> = last.chunks_exact(2).map(pair_hash).collect();
            rows.push(next);
        }
        Self { rows }
    }

    fn get(&self, r: u32, off: u64) -> Option<Hash> {
        self.rows
            .get(r as usize)?
            .get(usize::try_from(off).ok()?)
            .copied()
    }
}

fn pair_hash(p: &[Hash]) -> Hash {
    match p {
        [l, r] => node_hash(l, r),
        _ => empty_root(),
    }
}

/// The root of a perfect subtree given its leaves (a power-of-two count).
fn perfect_root(hashes: &[Hash]) -> Hash {
    match hashes {
        [] => empty_root(),
        [one] => *one,
        _ => {
            let (l, r) = hashes.split_at(hashes.len() / 2);
            node_hash(&perfect_root(l), &perfect_root(r))
        }
    }
}

/// Splits a bundle into its entries.
///
/// # Errors
/// A description of the framing fault: a truncated length prefix or entry.
pub fn parse_entry_bundle(bundle: &[u8]) -> Result<Vec<&[u8]>, String> {
    let mut out = Vec::new();
    let mut rest = bundle;
    while !rest.is_empty() {
        let (Some(&a), Some(&b)) = (rest.first(), rest.get(1)) else {
            return Err(format!("truncated length prefix at entry {}", out.len()));
        };
        let len = usize::from(u16::from_be_bytes([a, b]));
        let Some(entry) = rest.get(2..2 + len) else {
            return Err(format!(
                "entry {} claims {len} bytes, {} left",
                out.len(),
                rest.len() - 2
            ));
        };
        out.push(entry);
        rest = rest.get(2 + len..).unwrap_or_default();
    }
    Ok(out)
}

fn hashes_from_bytes(path: &Path, bytes: &[u8], want: usize) -> Result<Vec<Hash>, LogError> {
    if bytes.len() != want * HASH_SIZE {
        return Err(LogError::Corrupt {
            path: path.to_path_buf(),
            reason: format!("tile is {} bytes, want {}", bytes.len(), want * HASH_SIZE),
        });
    }
    Ok(bytes
        .chunks_exact(HASH_SIZE)
        .filter_map(|c| Hash::try_from(c).ok())
        .collect())
}

fn hashes_to_bytes(hashes: &[Hash]) -> Vec<u8> {
    hashes.iter().flatten().copied().collect()
}

/// Files an integration writes: `(path, bytes)` durably, the side files of new full tiles,
/// and the full tiles whose partial files can go.
#[derive(Debug, Default)]
struct Plan {
    writes: Vec<(String, Vec<u8>)>,
    side: Vec<(u64, u64, Vec<u8>)>,
    filled: Vec<(u64, u64)>,
}

/// An append-only transparency log stored in the C2SP tlog-tiles layout.
///
/// One process writes a log at a time (an exclusive `flock` on `.state/lock`).
#[derive(Debug)]
pub struct Log {
    dir: PathBuf,
    origin: String,
    _lock: File,
    /// Integrated (durable) size.
    size: u64,
    /// Per tile level, the hashes of the rightmost partial tile at `size`.
    edge: Vec<Vec<Hash>>,
    /// The rightmost partial entry bundle at `size`.
    bundle: Vec<u8>,
    /// Length-prefixed entries appended but not yet integrated.
    pending: Vec<u8>,
    pending_count: u64,
    /// Hashes of full-tile nodes, keyed by (tree level, index), that were read from a tile or
    /// checked against the level above.
    verified: Mutex<HashMap<(u32, u64), Hash>>,
    files: Mutex<FileCache>,
    /// The edge rows expanded into their perfect subtrees; rebuilt lazily after a change.
    edge_cache: Mutex<Option<Arc<Vec<ExpandedTile>>>>,
    /// The journal's MAC key, once the writer's key is known and bound.
    mac: Option<MacKey>,
    /// What opening found and did.
    opened: Opened,
    /// A write failed: the on-disk state is only trustworthy after reopening.
    poisoned: bool,
}

impl Log {
    fn empty(dir: &Path, origin: String, lock: File) -> Self {
        Self {
            dir: dir.to_path_buf(),
            origin,
            _lock: lock,
            size: 0,
            edge: Vec::new(),
            bundle: Vec::new(),
            pending: Vec::new(),
            pending_count: 0,
            verified: Mutex::new(HashMap::new()),
            files: Mutex::new(FileCache::default()),
            edge_cache: Mutex::new(None),
            mac: None,
            opened: Opened {
                kind: OpenKind::Created,
                checkpoint: 0,
                recovered: 0,
                discarded: 0,
                repaired_files: 0,
            },
            poisoned: false,
        }
    }

    fn stored_checkpoint(&self) -> Result<Option<Checkpoint>, LogError> {
        let Some(bytes) = self.read_checkpoint()? else {
            return Ok(None);
        };
        let (text, _) = parse_note(&bytes).map_err(CheckpointError::from)?;
        Ok(Some(Checkpoint::parse(&text)?))
    }

    /// Records the integrated size and root in the journal, with its MAC when this writer
    /// holds the key.
    fn write_state(&mut self) -> Result<(), LogError> {
        let state = self.dir.join(STATE_DIR);
        let root = self.root();
        let j = Journal {
            size: self.size,
            root,
            mac: self
                .mac
                .as_ref()
                .map(|k| k.tag(&self.origin, self.size, &root)),
        };
        write_durable(&self.dir, &state.join("tree"), j.to_text().as_bytes())?;
        sync_dir(&state)
    }

    /// Loads the right edge (partial tiles and bundle) for size `n` from disk.
    fn load_edge(&mut self, n: u64) -> Result<(), LogError> {
        self.invalidate_edge();
        // Tiles beyond `n` may be rewritten with other contents: forget everything read.
        self.verified
            .get_mut()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        self.files
            .get_mut()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        self.size = n;
        self.edge.clear();
        self.bundle.clear();
        let mut level = 0u64;
        while n
            .checked_shr((TILE_HEIGHT as u64 * level) as u32)
            .unwrap_or(0)
            > 0
        {
            let index = n >> (TILE_HEIGHT as u64 * (level + 1)).min(63);
            let w = partial_tile_size(level, index, n);
            let hashes = if w > 0 {
                self.read_prefix_tile(level, index, w)?
            } else {
                Vec::new()
            };
            self.edge.push(hashes);
            level += 1;
        }
        let w0 = partial_tile_size(0, n / TILE_WIDTH, n);
        if w0 > 0 {
            let idx = n / TILE_WIDTH;
            let (path, bytes) = match self.read_file(&entries_path(idx, w0)) {
                Ok(b) => (entries_path(idx, w0), b),
                Err(_) => (entries_path(idx, 0), self.read_file(&entries_path(idx, 0))?),
            };
            let p = self.dir.join(&path);
            let entries = parse_entry_bundle(&bytes).map_err(|reason| LogError::Corrupt {
                path: p.clone(),
                reason,
            })?;
            let entries = entries
                .get(..usize::from(w0))
                .ok_or_else(|| LogError::Corrupt {
                    path: p.clone(),
                    reason: format!("bundle has {} entries, want {w0}", entries.len()),
                })?;
            let edge0 = self.edge.first().map(Vec::as_slice).unwrap_or_default();
            for (i, (e, h)) in entries.iter().zip(edge0).enumerate() {
                let got = leaf_hash(e);
                if got != *h {
                    return Err(LogError::LeafMismatch {
                        path: p,
                        leaf: idx * TILE_WIDTH + i as u64,
                        expected: *h,
                        actual: got,
                    });
                }
                self.bundle
                    .extend_from_slice(&(e.len() as u16).to_be_bytes());
                self.bundle.extend_from_slice(e);
            }
        }
        Ok(())
    }

    /// The first `w` hashes of tile (`level`, `index`): the partial tile if present, else a
    /// prefix of the full tile.
    fn read_prefix_tile(&self, level: u64, index: u64, w: u8) -> Result<Vec<Hash>, LogError> {
        let want = usize::from(w);
        let rel = tile_path(level, index, w);
        if let Ok(b) = self.read_file(&rel) {
            return hashes_from_bytes(&self.dir.join(rel), &b, want);
        }
        let rel = tile_path(level, index, 0);
        let b = self.read_file(&rel)?;
        let mut h = hashes_from_bytes(&self.dir.join(rel), &b, TILE_WIDTH as usize)?;
        h.truncate(want);
        Ok(h)
    }

    fn read_file(&self, rel: &str) -> Result<Vec<u8>, LogError> {
        let p = self.dir.join(rel);
        fs::read(&p).map_err(|error| LogError::Io { path: p, error })
    }

    /// The directory the log lives in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The checkpoint origin line.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// Number of leaves integrated into tiles and durable on disk.
    pub fn integrated_size(&self) -> u64 {
        self.size
    }

    /// The index the next appended entry will get (integrated plus pending).
    pub fn next_index(&self) -> u64 {
        self.size + self.pending_count
    }

    /// Buffers one entry and returns its index. It becomes durable at the next
    /// [`Log::integrate`] or [`Log::publish_checkpoint`]; the log integrates on its own every
    /// 65 536 entries or 32 MiB.
    ///
    /// # Errors
    /// [`LogError::EntryTooLarge`] over 65 535 bytes; errors of an automatic integration.
    pub fn append(&mut self, entry: &[u8]) -> Result<u64, LogError> {
        let len = u16::try_from(entry.len()).map_err(|_| LogError::EntryTooLarge(entry.len()))?;
        let index = self.next_index();
        self.pending.extend_from_slice(&len.to_be_bytes());
        self.pending.extend_from_slice(entry);
        self.pending_count += 1;
        if self.pending_count >= AUTO_INTEGRATE_ENTRIES
            || self.pending.len() >= AUTO_INTEGRATE_BYTES
        {
            self.integrate()?;
        }
        Ok(index)
    }

    /// Buffers many entries (all or none) and returns their index range.
    ///
    /// # Errors
    /// [`LogError::EntryTooLarge`] (nothing is appended); errors of an automatic integration.
    pub fn append_batch<E: AsRef<[u8]>>(&mut self, entries: &[E]) -> Result<Range<u64>, LogError> {
        if let Some(e) = entries.iter().find(|e| e.as_ref().len() > MAX_ENTRY_SIZE) {
            return Err(LogError::EntryTooLarge(e.as_ref().len()));
        }
        let start = self.next_index();
        for e in entries {
            self.append(e.as_ref())?;
        }
        Ok(start..self.next_index())
    }

    /// Root of the integrated tree.
    pub fn root(&self) -> Hash {
        let mut subtrees: Vec<Hash> = Vec::new();
        for row in self.edge.iter().rev() {
            let mut rest = row.as_slice();
            while !rest.is_empty() {
                let k = 1usize << (usize::BITS - 1 - rest.len().leading_zeros());
                let (head, tail) = rest.split_at(k);
                subtrees.push(perfect_root(head));
                rest = tail;
            }
        }
        let mut it = subtrees.iter().rev();
        let Some(mut acc) = it.next().copied() else {
            return empty_root();
        };
        for h in it {
            acc = node_hash(h, &acc);
        }
        acc
    }

    /// Root of the tree of the first `size` integrated leaves.
    ///
    /// # Errors
    /// [`LogError::BeyondIntegrated`], or I/O and corruption errors reading tiles.
    pub fn root_at(&self, size: u64) -> Result<Hash, LogError> {
        self.check_size(size)?;
        if size == 0 {
            return Ok(empty_root());
        }
        if size == self.size {
            return Ok(self.root());
        }
        merkle::subtree_hash(0, size, &mut |l, i| self.node(l, i))
    }

    fn check_size(&self, size: u64) -> Result<(), LogError> {
        if size > self.size {
            return Err(LogError::BeyondIntegrated {
                requested: size,
                integrated: self.size,
            });
        }
        Ok(())
    }

    /// Hash of the perfect subtree at tree `level`, `index`, from the edge or a full tile.
    fn node(&self, level: u32, index: u64) -> Result<Hash, LogError> {
        let tl = u64::from(level / TILE_HEIGHT);
        let r = level % TILE_HEIGHT;
        let first = index << r;
        let tile = first / TILE_WIDTH;
        let off = (first % TILE_WIDTH) >> r;
        let edge_tile = self
            .size
            .checked_shr((TILE_HEIGHT as u64 * (tl + 1)) as u32)
            .unwrap_or(0);
        let bad = || {
            LogError::Proof(ProofError::IndexOutOfRange {
                index,
                size: self.size,
            })
        };
        if tile == edge_tile {
            let edge = self.expanded_edge();
            return edge
                .get(tl as usize)
                .and_then(|t| t.get(r, off))
                .ok_or_else(bad);
        }
        if tile > edge_tile {
            return Err(bad());
        }
        self.tile_node(tl, tile, r, off)
    }

    fn expanded_edge(&self) -> Arc<Vec<ExpandedTile>> {
        let mut slot = self.edge_cache.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(e) = slot.as_ref() {
            return Arc::clone(e);
        }
        let e = Arc::new(
            self.edge
                .iter()
                .map(|row| ExpandedTile::new(row.clone()))
                .collect(),
        );
        *slot = Some(Arc::clone(&e));
        e
    }

    fn invalidate_edge(&mut self) {
        *self.edge_cache.get_mut().unwrap_or_else(|e| e.into_inner()) = None;
    }

    fn cached(&self, key: (u32, u64)) -> Option<Hash> {
        let v = self.verified.lock().unwrap_or_else(|e| e.into_inner());
        v.get(&key).copied()
    }

    fn remember(&self, nodes: &[((u32, u64), Hash)]) {
        let mut v = self.verified.lock().unwrap_or_else(|e| e.into_inner());
        if v.len() + nodes.len() > CACHE_NODES {
            v.clear();
        }
        v.extend(nodes.iter().copied());
    }

    /// Node (`r`, `off`) (height `r` in 0..8 within the tile, `off` in 0..256 >> r) of the
    /// full tile `index` at tile level `level`.
    ///
    /// Height 0 is a stored hash, read from the tile with `pread`. A higher node comes from
    /// the tile's side file `.state/nodes/<L>/<N>`, which is never trusted: the node and its
    /// siblings up to the tile root (at most 8 hashes, one `pread` each) are hashed up and the
    /// result must equal the tile's root as stored at level L + 1. Otherwise (side file
    /// missing, short or wrong) the internal nodes are recomputed from the tile, checked
    /// against that root, and the side file is rewritten. Checked nodes are cached.
    fn tile_node(&self, level: u64, index: u64, r: u32, off: u64) -> Result<Hash, LogError> {
        let key = (
            level as u32 * TILE_HEIGHT + r,
            (index << (TILE_HEIGHT - r)) + off,
        );
        if let Some(h) = self.cached(key) {
            return Ok(h);
        }
        if r == 0 {
            let tile = self.tile_bytes(level, index)?;
            let h = hash_at(&tile, off).ok_or_else(|| LogError::Corrupt {
                path: self.dir.join(tile_path(level, index, 0)),
                reason: format!("no hash at {off}"),
            })?;
            self.remember(&[(key, h)]);
            return Ok(h);
        }
        let root = self.node((level as u32 + 1) * TILE_HEIGHT, index)?;
        if let Ok(side) = self.file_bytes(FileKind::Nodes, level, index) {
            if let Some(h) = self.checked_side_node(&side, level, index, r, off, &root) {
                return Ok(h);
            }
        }
        self.rebuild_side_file(level, index, r, off, &root)
    }

    /// Node (`r`, `off`) from side file bytes `side`, hashed up to the tile root with its
    /// siblings (at most 8 hashes) and compared with `root`; `None` when the file is short
    /// or wrong. The checked path is cached.
    fn checked_side_node(
        &self,
        side: &[u8],
        level: u64,
        index: u64,
        r: u32,
        off: u64,
        root: &Hash,
    ) -> Option<Hash> {
        if side.len() != TILE_NODES as usize * HASH_SIZE {
            return None;
        }
        let base = level as u32 * TILE_HEIGHT;
        let own = hash_at(side, side_position(r, off))?;
        let mut seen: Vec<((u32, u64), Hash)> = Vec::with_capacity(2 * TILE_HEIGHT as usize);
        let mut acc = own;
        let mut pos = off;
        for h in r..TILE_HEIGHT {
            let sib = hash_at(side, side_position(h, pos ^ 1))?;
            let tile_first = index << (TILE_HEIGHT - h);
            seen.push(((base + h, tile_first + pos), acc));
            seen.push(((base + h, tile_first + (pos ^ 1)), sib));
            acc = if pos & 1 == 0 {
                node_hash(&acc, &sib)
            } else {
                node_hash(&sib, &acc)
            };
            pos >>= 1;
        }
        if acc != *root {
            return None;
        }
        self.remember(&seen);
        Some(own)
    }

    /// Recomputes the side file of a full tile from the tile, checks it against `root`,
    /// rewrites it (best effort: it is a cache) and returns node (`r`, `off`).
    fn rebuild_side_file(
        &self,
        level: u64,
        index: u64,
        r: u32,
        off: u64,
        root: &Hash,
    ) -> Result<Hash, LogError> {
        let tile = self.tile_bytes(level, index)?;
        let path = self.dir.join(tile_path(level, index, 0));
        let stored = hashes_from_bytes(&path, &tile, TILE_WIDTH as usize)?;
        let nodes = internal_nodes(&stored);
        if nodes.last() != Some(root) {
            return Err(LogError::Corrupt {
                path,
                reason: format!(
                    "tile hashes to {}, level {} has {}",
                    nodes.last().map(|h| hex(h)).unwrap_or_default(),
                    level + 1,
                    hex(root)
                ),
            });
        }
        let bytes = Arc::new(hashes_to_bytes(&nodes));
        // Best effort, written in place: every read checks it, so a torn or concurrent
        // write only costs another rebuild.
        let side = self.dir.join(nodes_path(level, index));
        let _ = write_side_files(&self.dir, &[(level, index, bytes.to_vec())]);
        self.files
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .put((FileKind::Nodes, level, index), Arc::clone(&bytes));
        let h = hash_at(&bytes, side_position(r, off)).ok_or_else(|| LogError::Corrupt {
            path: side,
            reason: format!("no node at height {r}, offset {off}"),
        })?;
        let key = (
            level as u32 * TILE_HEIGHT + r,
            (index << (TILE_HEIGHT - r)) + off,
        );
        self.remember(&[(key, h)]);
        Ok(h)
    }

    /// The bytes of full tile `tile/<level>/<index>`, checked to be 256 hashes.
    fn tile_bytes(&self, level: u64, index: u64) -> Result<Arc<Vec<u8>>, LogError> {
        let b = self.file_bytes(FileKind::Tile, level, index)?;
        if b.len() != TILE_WIDTH as usize * HASH_SIZE {
            return Err(LogError::Corrupt {
                path: self.dir.join(tile_path(level, index, 0)),
                reason: format!(
                    "tile is {} bytes, want {}",
                    b.len(),
                    TILE_WIDTH as usize * HASH_SIZE
                ),
            });
        }
        Ok(b)
    }

    /// The contents of a full tile's file or its slot in a node file, from the cache or one
    /// `pread`.
    fn file_bytes(&self, kind: FileKind, level: u64, index: u64) -> Result<Arc<Vec<u8>>, LogError> {
        let key = (kind, level, index);
        if let Some(b) = self
            .files
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(key)
        {
            return Ok(b);
        }
        let b = match kind {
            FileKind::Tile => {
                let path = self.dir.join(tile_path(level, index, 0));
                read_whole(&path, TILE_WIDTH as usize * HASH_SIZE).map_err(io_err(&path))?
            }
            FileKind::Nodes => {
                let path = self.dir.join(nodes_path(level, index));
                let mut b = vec![0u8; SLOT_BYTES as usize];
                File::open(&path)
                    .and_then(|f| f.read_exact_at(&mut b, slot_offset(index)))
                    .map_err(io_err(&path))?;
                b
            }
        };
        let b = Arc::new(b);
        self.files
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .put(key, Arc::clone(&b));
        Ok(b)
    }

    /// The inclusion proof (RFC 9162 §2.1.3.1) of leaf `index` in the tree of `size` leaves,
    /// built from the tiles (tessera's `ProofBuilder.InclusionProof`).
    ///
    /// # Errors
    /// [`LogError::BeyondIntegrated`], [`LogError::Proof`] for `index >= size`, I/O and
    /// corruption errors reading tiles.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>, LogError> {
        self.check_size(size)?;
        merkle::inclusion_proof(index, size, &mut |l, i| self.node(l, i))
    }

    /// The consistency proof (RFC 9162 §2.1.4.1) from size `old` to size `new`
    /// (tessera's `ProofBuilder.ConsistencyProof`).
    ///
    /// # Errors
    /// [`LogError::BeyondIntegrated`], [`LogError::Proof`] unless `0 < old <= new`, I/O and
    /// corruption errors reading tiles.
    pub fn consistency_proof(&self, old: u64, new: u64) -> Result<Vec<Hash>, LogError> {
        self.check_size(new)?;
        merkle::consistency_proof(old, new, &mut |l, i| self.node(l, i))
    }

    /// The raw bytes of the checkpoint file, or `None` before the first publication.
    ///
    /// # Errors
    /// [`LogError::Io`] other than "not found".
    pub fn read_checkpoint(&self) -> Result<Option<Vec<u8>>, LogError> {
        let p = self.dir.join(CHECKPOINT_PATH);
        match fs::read(&p) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(LogError::Io { path: p, error: e }),
        }
    }

    /// The raw bytes of hash tile `tile/<level>/<index>[.p/<partial>]` (tlog-tiles "Merkle
    /// Tree"); `partial == 0` asks for the full tile.
    ///
    /// # Errors
    /// [`LogError::Io`] (not found included).
    pub fn read_tile(&self, level: u64, index: u64, partial: u8) -> Result<Vec<u8>, LogError> {
        self.read_file(&tile_path(level, index, partial))
    }

    /// The raw bytes of entry bundle `tile/entries/<index>[.p/<partial>]` (tlog-tiles "Log
    /// entries"); split it with [`parse_entry_bundle`].
    ///
    /// # Errors
    /// [`LogError::Io`] (not found included).
    pub fn read_entry_bundle(&self, index: u64, partial: u8) -> Result<Vec<u8>, LogError> {
        self.read_file(&entries_path(index, partial))
    }

    /// The integrated entry at `index`.
    ///
    /// # Errors
    /// [`LogError::Proof`] when `index` is not integrated; I/O and corruption errors.
    pub fn read_entry(&self, index: u64) -> Result<Vec<u8>, LogError> {
        if index >= self.size {
            return Err(ProofError::IndexOutOfRange {
                index,
                size: self.size,
            }
            .into());
        }
        let b = index / TILE_WIDTH;
        let w = partial_tile_size(0, b, self.size);
        let off = (index % TILE_WIDTH) as usize;
        let bytes = if w > 0 {
            self.bundle.clone()
        } else {
            self.read_entry_bundle(b, 0)?
        };
        let entries = parse_entry_bundle(&bytes).map_err(|reason| LogError::Corrupt {
            path: self.dir.join(entries_path(b, w)),
            reason,
        })?;
        entries
            .get(off)
            .map(|e| e.to_vec())
            .ok_or_else(|| LogError::Corrupt {
                path: self.dir.join(entries_path(b, w)),
                reason: format!("bundle has {} entries, entry {off} wanted", entries.len()),
            })
    }

    /// Integrates every pending entry: writes tiles and bundles durably, then records the new
    /// size in `.state/tree`. Does not publish a checkpoint.
    ///
    /// # Errors
    /// [`LogError::Io`]; [`LogError::Poisoned`] after an earlier failed write. On error this
    /// handle refuses further writes: reopen the log, which repairs the directory.
    pub fn integrate(&mut self) -> Result<(), LogError> {
        self.check_usable()?;
        if self.pending_count == 0 {
            return Ok(());
        }
        let plan = self.plan_pending();
        let r = self.commit(plan);
        self.poisoned |= r.is_err();
        r
    }

    fn check_usable(&self) -> Result<(), LogError> {
        if self.poisoned {
            return Err(LogError::Poisoned(self.dir.clone()));
        }
        Ok(())
    }

    /// Moves the pending entries into the in-memory tree and returns the files to write.
    fn plan_pending(&mut self) -> Plan {
        let pending = std::mem::take(&mut self.pending);
        self.pending_count = 0;
        self.invalidate_edge();
        let mut plan = Plan::default();
        let mut rest = pending.as_slice();
        while let (Some(&a), Some(&b)) = (rest.first(), rest.get(1)) {
            let len = usize::from(u16::from_be_bytes([a, b]));
            let Some(framed) = rest.get(..2 + len) else {
                break;
            };
            let entry = framed.get(2..).unwrap_or_default();
            rest = rest.get(2 + len..).unwrap_or_default();
            self.bundle.extend_from_slice(framed);
            self.size += 1;
            if self.size % TILE_WIDTH == 0 {
                let full = std::mem::take(&mut self.bundle);
                plan.writes
                    .push((entries_path(self.size / TILE_WIDTH - 1, 0), full));
            }
            self.push_hash(0, leaf_hash(entry), &mut plan);
        }
        plan.writes.extend(self.edge_writes());
        plan
    }

    /// The right-edge files at the integrated size: partial hash tiles of every level and the
    /// partial entry bundle.
    fn edge_writes(&self) -> Vec<(String, Vec<u8>)> {
        let mut writes = Vec::new();
        for (level, row) in self.edge.iter().enumerate() {
            if !row.is_empty() {
                let level = level as u64;
                let index = self.size >> (TILE_HEIGHT as u64 * (level + 1)).min(63);
                writes.push((
                    tile_path(level, index, row.len() as u8),
                    hashes_to_bytes(row),
                ));
            }
        }
        let w0 = (self.size % TILE_WIDTH) as u8;
        if w0 > 0 {
            writes.push((
                entries_path(self.size / TILE_WIDTH, w0),
                self.bundle.clone(),
            ));
        }
        writes
    }

    /// Writes a plan durably, then the journal, then the (unsynced) side files, then removes
    /// partial files of tiles that became full.
    fn commit(&mut self, plan: Plan) -> Result<(), LogError> {
        let Plan {
            writes,
            mut side,
            filled,
        } = plan;
        self.files
            .get_mut()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        write_all_durable(&self.dir, &writes)?;
        self.write_state()?;
        // The side files of the new full tiles: a cache that every read checks against the
        // tiles, so neither synced nor required (a failed write is rebuilt when needed).
        side.sort_by_key(|(level, index, _)| (*level, *index));
        let _ = write_side_files(&self.dir, &side);
        // tlog-tiles: a log MAY delete partial tiles once the full tile is available.
        for (level, index) in filled {
            let p = if level == u64::MAX {
                self.dir.join(format!("{}.p", entries_path(index, 0)))
            } else {
                self.dir.join(format!("{}.p", tile_path(level, index, 0)))
            };
            let _ = fs::remove_dir_all(p);
        }
        Ok(())
    }

    fn push_hash(&mut self, level: usize, h: Hash, plan: &mut Plan) {
        let mut level = level;
        let mut h = h;
        loop {
            if self.edge.len() <= level {
                self.edge.push(Vec::with_capacity(TILE_WIDTH as usize));
            }
            let Some(row) = self.edge.get_mut(level) else {
                return;
            };
            row.push(h);
            if row.len() < TILE_WIDTH as usize {
                return;
            }
            let full = std::mem::replace(row, Vec::with_capacity(TILE_WIDTH as usize));
            let l = level as u64;
            let index = (self.size >> (TILE_HEIGHT as u64 * (l + 1)).min(63)) - 1;
            let nodes = internal_nodes(&full);
            h = nodes.last().copied().unwrap_or_else(empty_root);
            plan.writes
                .push((tile_path(l, index, 0), hashes_to_bytes(&full)));
            plan.side.push((l, index, hashes_to_bytes(&nodes)));
            plan.filled.push((l, index));
            if level == 0 {
                plan.filled.push((u64::MAX, index));
            }
            level += 1;
        }
    }

    /// Integrates pending entries, then signs and durably writes a checkpoint for the
    /// integrated size (C2SP tlog-checkpoint in a signed note).
    ///
    /// First binds `signer` to the log (see [`Log::open_signed`]): a key with the log's
    /// name that is not the key the log was created with is refused before anything is
    /// written or signed.
    ///
    /// # Errors
    /// [`LogError::WrongKey`], [`LogError::Io`], [`LogError::Poisoned`],
    /// [`LogError::Checkpoint`] if the origin cannot be signed.
    pub fn publish_checkpoint(&mut self, signer: &Signer) -> Result<Checkpoint, LogError> {
        self.check_usable()?;
        self.bind_key(signer)?;
        self.integrate()?;
        let cp = Checkpoint {
            origin: self.origin.clone(),
            size: self.size,
            root: self.root(),
            extensions: Vec::new(),
        };
        let note = cp.sign(signer)?;
        let r = write_durable(&self.dir, &self.dir.join(CHECKPOINT_PATH), note.as_bytes())
            .and_then(|()| sync_dir(&self.dir));
        self.poisoned |= r.is_err();
        r?;
        // Archived after the checkpoint is in place, so a crash never leaves the archive
        // ahead of it (which `verify_log` reports as a rollback).
        let arch = self.dir.join(crate::verify::ARCHIVE_DIR);
        fs::create_dir_all(&arch).map_err(io_err(&arch))?;
        write_durable(
            &self.dir,
            &arch.join(format!("{:020}", cp.size)),
            note.as_bytes(),
        )?;
        sync_dir(&arch)?;
        Ok(cp)
    }
}

fn lock(dir: &Path) -> Result<File, LogError> {
    let p = dir.join(STATE_DIR).join("lock");
    let f = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&p)
        .map_err(io_err(&p))?;
    use std::os::fd::AsRawFd as _;
    // A flock belongs to the open file description, which a fork in another thread shares
    // until the child execs: a lock just released can look held for an instant. So a busy
    // lock is tried again for up to 100 ms before the log counts as locked.
    for attempt in 0..=LOCK_RETRIES {
        // SAFETY: flock on a file descriptor we own; no memory is involved.
        let rc = unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if rc == 0 {
            return Ok(f);
        }
        if attempt < LOCK_RETRIES {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    }
    Err(LogError::Locked(dir.to_path_buf()))
}

/// Tries of a busy lock after the first, 5 ms apart (see [`lock`]).
const LOCK_RETRIES: u32 = 20;

fn sync_dir(dir: &Path) -> Result<(), LogError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err(dir))
}

/// Writes `bytes` to a temporary sibling of `path`, syncs it and renames it into place. The
/// caller syncs the directory.
fn write_durable(_root: &Path, path: &Path, bytes: &[u8]) -> Result<(), LogError> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.tmp"));
    let mut f = File::create(&tmp).map_err(io_err(&tmp))?;
    f.write_all(bytes).map_err(io_err(&tmp))?;
    f.sync_data().map_err(io_err(&tmp))?;
    drop(f);
    fs::rename(&tmp, path).map_err(io_err(path))
}

/// Writes every file durably, creating directories, then syncs every directory touched.
fn write_all_durable(root: &Path, writes: &[(String, Vec<u8>)]) -> Result<(), LogError> {
    let mut dirs: BTreeSet<PathBuf> = BTreeSet::new();
    for (rel, _) in writes {
        let path = root.join(rel);
        let Some(parent) = path.parent() else {
            continue;
        };
        if !parent.is_dir() {
            // Every directory we create must itself be recorded in its parent.
            let mut d = parent.to_path_buf();
            while !d.is_dir() {
                dirs.insert(d.clone());
                let Some(up) = d.parent() else { break };
                d = up.to_path_buf();
            }
            dirs.insert(d);
            fs::create_dir_all(parent).map_err(io_err(parent))?;
        }
        dirs.insert(parent.to_path_buf());
    }
    let threads = writes.len().clamp(1, 8);
    let chunk = writes.len().div_ceil(threads).max(1);
    let results: Vec<Result<(), LogError>> = std::thread::scope(|s| {
        let handles: Vec<_> = writes
            .chunks(chunk)
            .map(|part| {
                s.spawn(move || {
                    for (rel, bytes) in part {
                        write_durable(root, &root.join(rel), bytes)?;
                    }
                    Ok(())
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    Err(LogError::Corrupt {
                        path: root.to_path_buf(),
                        reason: "writer thread panicked".into(),
                    })
                })
            })
            .collect()
    });
    for r in results {
        r?;
    }
    // Deepest directories first, so that a new directory's entry is synced after its contents.
    for d in dirs.iter().rev() {
        sync_dir(d)?;
    }
    Ok(())
}
