//! Creating and opening logs: half-initialised directories, the key binding, and recovery of
//! everything beyond the published checkpoint (see the [`super`] module docs).

use std::fmt;
use std::fs;
use std::io;
use std::path::Path;

use super::journal::{Journal, MacKey};
use super::{io_err, lock, sync_dir, write_all_durable, write_durable, Log, LogError, STATE_DIR};
use crate::checkpoint::Checkpoint;
use crate::layout::{entries_path, CHECKPOINT_PATH, TILE_WIDTH};
use crate::log::parse_entry_bundle;
use crate::merkle::{empty_root, Hash};
use crate::note::{Signer, Verifier};

/// What opening or creating a directory found and did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenKind {
    /// A new log in a directory that held none.
    Created,
    /// Leftovers of a first run killed before it recorded the log's origin (or one that
    /// recorded another origin and never published) were removed and the log started afresh.
    StartedAfresh,
    /// A log whose first run never published a checkpoint: opened and completed (its journaled
    /// leaves recovered when the key was given, otherwise discarded).
    Completed,
    /// A log with a published checkpoint.
    Existing,
}

/// How [`Log::open`], [`Log::open_signed`], [`Log::create`], [`Log::create_signed`] or
/// [`Log::open_or_create`] found the directory: see [`Log::opened`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Opened {
    /// Which case it was.
    pub kind: OpenKind,
    /// Size of the published checkpoint (0 without one).
    pub checkpoint: u64,
    /// Leaves beyond the checkpoint recovered from the writer's authenticated journal.
    pub recovered: u64,
    /// Leaves beyond the checkpoint the state file claimed that were discarded: not
    /// journaled under the log's key (or opened without the key), or not reproducible.
    pub discarded: u64,
    /// Files removed or rewritten because they did not belong to the recovered tree (stale
    /// tiles of an interrupted write, temporary files, leftovers of a killed first run).
    pub repaired_files: u64,
}

impl fmt::Display for Opened {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            OpenKind::Created => write!(f, "created a new log")?,
            OpenKind::StartedAfresh => write!(
                f,
                "started afresh over an uninitialised log left by an interrupted first run"
            )?,
            OpenKind::Completed => write!(
                f,
                "completed a log whose first run was interrupted before its first checkpoint"
            )?,
            OpenKind::Existing => write!(f, "opened the log at checkpoint {}", self.checkpoint)?,
        }
        if self.recovered > 0 {
            write!(f, "; recovered {} journaled leaves", self.recovered)?;
        }
        if self.discarded > 0 {
            write!(f, "; discarded {} unpublished leaves", self.discarded)?;
        }
        if self.repaired_files > 0 {
            write!(
                f,
                "; removed or rewrote {} stale files",
                self.repaired_files
            )?;
        }
        Ok(())
    }
}

fn check_origin_text(dir: &Path, origin: &str) -> Result<(), LogError> {
    if origin.is_empty() || origin.contains('\n') {
        return Err(LogError::Corrupt {
            path: dir.to_path_buf(),
            reason: "origin must be one non-empty line".into(),
        });
    }
    Ok(())
}

fn read_origin(dir: &Path) -> Result<Option<String>, LogError> {
    let p = dir.join(STATE_DIR).join("origin");
    match fs::read_to_string(&p) {
        Ok(o) if !o.is_empty() => Ok(Some(o)),
        Ok(_) => Ok(None),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(LogError::Io { path: p, error: e }),
    }
}

/// Removes `path` (file or directory tree) if present; counts the files removed.
fn remove_counted(path: &Path) -> Result<u64, LogError> {
    let Ok(meta) = fs::symlink_metadata(path) else {
        return Ok(0);
    };
    if !meta.is_dir() {
        fs::remove_file(path).map_err(io_err(path))?;
        return Ok(1);
    }
    let mut n = 0;
    for e in fs::read_dir(path).map_err(io_err(path))?.flatten() {
        n += remove_counted(&e.path())?;
    }
    fs::remove_dir(path).map_err(io_err(path))?;
    Ok(n)
}

impl Log {
    /// Creates a new, empty log in `dir` (created if missing) with checkpoint origin `origin`.
    ///
    /// A directory left by a first run that never published a checkpoint is not an error: it
    /// is completed (same origin) or started afresh (no or another origin), and
    /// [`Log::opened`] says which. Without the key nothing beyond the (absent) checkpoint can
    /// be authenticated, so such a run's leaves are discarded; use [`Log::create_signed`] or
    /// [`Log::open_or_create`] to recover them.
    ///
    /// # Errors
    /// [`LogError::AlreadyExists`] if `dir` holds a log with a published checkpoint,
    /// [`LogError::Io`].
    pub fn create(dir: impl AsRef<Path>, origin: &str) -> Result<Self, LogError> {
        Self::open_inner(dir.as_ref(), None, Some(origin))
    }

    /// Like [`Log::create`], with origin `signer.name()`, and binds the log to `signer`'s key
    /// (`.state/key`) and journals under it.
    ///
    /// # Errors
    /// As [`Log::create`]; [`LogError::WrongKey`] when a half-initialised log is bound to
    /// another key.
    pub fn create_signed(dir: impl AsRef<Path>, signer: &Signer) -> Result<Self, LogError> {
        Self::open_inner(dir.as_ref(), Some(signer), Some(signer.name()))
    }

    /// Opens an existing log without its key. Leaves integrated beyond the published
    /// checkpoint cannot be authenticated without the key and are discarded (see the module
    /// docs); the log resumes at the checkpoint with its tiles repaired.
    ///
    /// # Errors
    /// [`LogError::NotALog`], [`LogError::Locked`], [`LogError::Checkpoint`] for an
    /// unparseable checkpoint, [`LogError::Inconsistent`] or [`LogError::Corrupt`] when the
    /// stored tiles cannot reproduce the checkpoint, [`LogError::Io`].
    pub fn open(dir: impl AsRef<Path>) -> Result<Self, LogError> {
        Self::open_inner(dir.as_ref(), None, None)
    }

    /// Opens an existing log with its key: checks that the log is bound to `signer` (same
    /// origin, the bound key and the checkpoint's signature), then recovers the leaves beyond
    /// the checkpoint that the journal authenticates under this key, discarding the rest.
    ///
    /// # Errors
    /// As [`Log::open`]; [`LogError::WrongKey`] for another key, even one with the same name.
    pub fn open_signed(dir: impl AsRef<Path>, signer: &Signer) -> Result<Self, LogError> {
        Self::open_inner(dir.as_ref(), Some(signer), None)
    }

    /// [`Log::open_signed`] when `dir` holds a log (or a half-initialised one), otherwise
    /// [`Log::create_signed`]; [`Log::opened`] tells which happened.
    ///
    /// # Errors
    /// As [`Log::open_signed`] and [`Log::create_signed`].
    pub fn open_or_create(dir: impl AsRef<Path>, signer: &Signer) -> Result<Self, LogError> {
        let dir = dir.as_ref();
        if read_origin(dir)?.is_some() {
            Self::open_inner(dir, Some(signer), None)
        } else {
            Self::open_inner(dir, Some(signer), Some(signer.name()))
        }
    }

    /// What opening found and did: created, started afresh, completed, or an existing log,
    /// with the leaves recovered and discarded beyond the checkpoint.
    pub fn opened(&self) -> &Opened {
        &self.opened
    }

    fn open_inner(
        dir: &Path,
        signer: Option<&Signer>,
        create: Option<&str>,
    ) -> Result<Self, LogError> {
        if let Some(o) = create {
            check_origin_text(dir, o)?;
        }
        // A published log is never created again, whoever holds its lock: decided before
        // locking (another thread's fork can hold a just-released flock for an instant).
        if create.is_some() && dir.join(CHECKPOINT_PATH).exists() {
            return Err(LogError::AlreadyExists(dir.to_path_buf()));
        }
        let Some(origin) = read_origin(dir)? else {
            return match create {
                Some(o) => {
                    let state = dir.join(STATE_DIR);
                    fs::create_dir_all(&state).map_err(io_err(&state))?;
                    Self::empty(dir, o.to_string(), lock(dir)?).start_afresh(signer)
                }
                None => Err(LogError::NotALog(dir.to_path_buf())),
            };
        };
        let lock = lock(dir)?;
        let mut log = Self::empty(dir, origin, lock);
        let cp = log.stored_checkpoint()?;
        if let Some(o) = create {
            if cp.is_some() {
                return Err(LogError::AlreadyExists(dir.to_path_buf()));
            }
            if o != log.origin {
                // Never published under the old origin: nothing anyone relies on.
                log.origin = o.to_string();
                return log.start_afresh(signer);
            }
        }
        if let Some(cp) = &cp {
            if cp.origin != log.origin {
                return Err(LogError::OriginMismatch {
                    expected: log.origin.clone(),
                    found: cp.origin.clone(),
                });
            }
        }
        if let Some(s) = signer {
            log.bind_key(s)?;
        }
        let mut opened = log.recover(cp.as_ref())?;
        opened.kind = if cp.is_some() {
            OpenKind::Existing
        } else {
            OpenKind::Completed
        };
        log.opened = opened;
        Ok(log)
    }

    /// Starts this (locked, empty) log afresh in a directory that holds no checkpoint:
    /// removes leftovers of an interrupted first run, writes the origin, the key binding and
    /// an empty journal.
    fn start_afresh(mut self, signer: Option<&Signer>) -> Result<Self, LogError> {
        let dir = self.dir.clone();
        let state = dir.join(STATE_DIR);
        if dir.join(CHECKPOINT_PATH).exists() {
            return Err(LogError::AlreadyExists(dir));
        }
        let mut removed = remove_counted(&dir.join("tile"))?;
        for f in ["tree", "key", "nodes"] {
            removed += remove_counted(&state.join(f))?;
        }
        write_durable(&dir, &state.join("origin"), self.origin.as_bytes())?;
        sync_dir(&state)?;
        sync_dir(&dir)?;
        if let Some(s) = signer {
            self.bind_key(s)?;
        }
        self.write_state()?;
        self.opened = Opened {
            kind: if removed > 0 {
                OpenKind::StartedAfresh
            } else {
                OpenKind::Created
            },
            checkpoint: 0,
            recovered: 0,
            discarded: 0,
            repaired_files: removed,
        };
        Ok(self)
    }

    /// Checks that `signer` is the log's key and journals under it from now on: it is the key
    /// recorded in `.state/key` (recorded now if none is), and the stored checkpoint's
    /// signature verifies with it. (The key's name need not be the origin; callers that want
    /// that compare [`Log::origin`] with [`Signer::name`].)
    ///
    /// # Errors
    /// [`LogError::WrongKey`], [`LogError::Io`].
    pub(crate) fn bind_key(&mut self, signer: &Signer) -> Result<(), LogError> {
        let mac = MacKey::from_signer(signer);
        if self.mac.as_ref().is_some_and(|m| m.same_key(&mac)) {
            return Ok(());
        }
        let wrong = |reason: String| LogError::WrongKey {
            dir: self.dir.clone(),
            origin: self.origin.clone(),
            key_id: signer.key_id(),
            reason,
        };
        if self.mac.is_some() {
            return Err(wrong("this writer was opened with another key".into()));
        }
        let state = self.dir.join(STATE_DIR);
        let key_path = state.join("key");
        let mine = signer.verifier().to_vkey();
        let bound = match fs::read_to_string(&key_path) {
            Ok(t) => Some(t.trim().to_string()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(io_err(&key_path)(e)),
        };
        if let Some(b) = bound.as_ref().filter(|b| **b != mine) {
            let id = Verifier::from_vkey(b)
                .map(|v| format!("{:08x}", v.key_id()))
                .unwrap_or_else(|_| "(unreadable .state/key)".into());
            return Err(wrong(format!("the log is bound to key ID {id}")));
        }
        if let Some(bytes) = self.read_checkpoint()? {
            Checkpoint::open(&bytes, &signer.verifier()).map_err(|e| {
                wrong(format!(
                    "the log's checkpoint does not verify with this key ({e})"
                ))
            })?;
        }
        if bound.is_none() {
            write_durable(&self.dir, &key_path, format!("{mine}\n").as_bytes())?;
            sync_dir(&state)?;
        }
        self.mac = Some(mac);
        Ok(())
    }

    fn read_journal(&self) -> Option<Journal> {
        let text = fs::read_to_string(self.dir.join(STATE_DIR).join("tree")).ok()?;
        Journal::parse(&text)
    }

    /// Recovers the tree: the checkpoint's, extended by the journaled leaves beyond it when
    /// the journal authenticates under the log's key and the entries reproduce its root.
    /// Then rewrites the right edge and the journal, and removes what lies beyond.
    fn recover(&mut self, cp: Option<&Checkpoint>) -> Result<Opened, LogError> {
        let (s, s_root) = cp.map_or((0, empty_root()), |c| (c.size, c.root));
        self.load_edge(s)?;
        let actual = self.root();
        if actual != s_root {
            return Err(LogError::Inconsistent {
                size: s,
                expected: s_root,
                actual,
            });
        }
        let (mut recovered, mut discarded) = (0, 0);
        if let Some(j) = self.read_journal().filter(|j| j.size > s) {
            let authentic = self
                .mac
                .as_ref()
                .is_some_and(|k| j.authentic(k, &self.origin));
            if authentic && self.replay(s, &j.root, j.size).unwrap_or(false) {
                recovered = j.size - s;
            } else {
                discarded = j.size - s;
                if self.size != s {
                    self.load_edge(s)?;
                }
            }
        }
        write_all_durable(&self.dir, &self.edge_writes())?;
        self.write_state()?;
        let repaired_files = self.repair_tiles()?;
        Ok(Opened {
            kind: OpenKind::Existing,
            checkpoint: s,
            recovered,
            discarded,
            repaired_files,
        })
    }

    /// Re-integrates the entries `s..t` from the bundles on disk and, when they reproduce
    /// `root`, rewrites every tile from them. `Ok(false)` when they do not (nothing written).
    fn replay(&mut self, s: u64, root: &Hash, t: u64) -> Result<bool, LogError> {
        let mut b = s / TILE_WIDTH;
        while b * TILE_WIDTH < t {
            let count = (t - b * TILE_WIDTH).min(TILE_WIDTH);
            let bytes = if count == TILE_WIDTH {
                self.read_file(&entries_path(b, 0))?
            } else {
                self.read_file(&entries_path(b, count as u8))
                    .or_else(|_| self.read_file(&entries_path(b, 0)))?
            };
            let Ok(entries) = parse_entry_bundle(&bytes) else {
                return Ok(false);
            };
            let from = (s.max(b * TILE_WIDTH) - b * TILE_WIDTH) as usize;
            let Some(mine) = entries.get(from..count as usize) else {
                return Ok(false);
            };
            for e in mine {
                let Ok(len) = u16::try_from(e.len()) else {
                    return Ok(false);
                };
                self.pending.extend_from_slice(&len.to_be_bytes());
                self.pending.extend_from_slice(e);
                self.pending_count += 1;
            }
            b += 1;
        }
        let saved = (self.size, self.edge.clone(), self.bundle.clone());
        let plan = self.plan_pending();
        if self.root() != *root {
            (self.size, self.edge, self.bundle) = saved;
            self.invalidate_edge();
            return Ok(false);
        }
        self.commit(plan)?;
        Ok(true)
    }
}
