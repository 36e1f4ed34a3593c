//! Removing what does not belong to the recovered tree: after [`super::Log`] recovers size
//! `n`, every file under `tile/` must be part of the tree at `n`.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use super::{hashes_to_bytes, io_err, sync_dir, write_all_durable, Log, LogError};
use crate::layout::{parse_index_partial, TILE_HEIGHT, TILE_WIDTH};
use crate::log::parse_entry_bundle;

/// A file under `tile/`: `(level, index, width)`, width 0 for a full tile; entry bundles are
/// level 0 with `bundle` set.
struct TileFile {
    rel: String,
    bundle: bool,
    level: u64,
    index: u64,
    width: u8,
}

fn parse_tile_rel(rel: &str) -> Option<TileFile> {
    let rest = rel.strip_prefix("tile/")?;
    let (first, rest) = rest.split_once('/')?;
    let (bundle, level) = if first == "entries" {
        (true, 0)
    } else {
        if first.len() != 1 && first.starts_with('0') {
            return None;
        }
        (false, first.parse::<u64>().ok()?)
    };
    let (index, width) = parse_index_partial(rest)?;
    Some(TileFile {
        rel: rel.to_string(),
        bundle,
        level,
        index,
        width,
    })
}

/// Every file under `root/rel`, root-relative; `tmp` gets the dot-files (temporary files of
/// interrupted writes).
fn walk(root: &Path, rel: &str, files: &mut Vec<String>, tmp: &mut Vec<PathBuf>) {
    let Ok(rd) = fs::read_dir(root.join(rel)) else {
        return;
    };
    for e in rd.flatten() {
        let Some(name) = e.file_name().to_str().map(str::to_string) else {
            continue;
        };
        let child = format!("{rel}/{name}");
        match e.file_type() {
            Ok(t) if t.is_dir() => walk(root, &child, files, tmp),
            Ok(_) if name.starts_with('.') => tmp.push(root.join(&child)),
            Ok(_) => files.push(child),
            Err(_) => {}
        }
    }
}

impl Log {
    /// Makes the files under `tile/` agree with the tree at the integrated size `n`, whose
    /// right edge has just been written:
    /// - a file whose data reaches beyond `n` (stale, from an interrupted or discarded
    ///   integration) is removed;
    /// - a partial file of a tile that is full at `n` is removed (tlog-tiles allows it, and
    ///   the full tile is authoritative);
    /// - a narrower partial file of an edge tile is rewritten unless it is a prefix of the edge;
    /// - temporary files are removed.
    ///
    /// Returns the number of files removed or rewritten.
    pub(crate) fn repair_tiles(&mut self) -> Result<u64, LogError> {
        let n = self.size;
        let (mut files, tmp) = (Vec::new(), Vec::new());
        let mut tmp = tmp;
        walk(&self.dir, "tile", &mut files, &mut tmp);
        let mut dirs: BTreeSet<PathBuf> = BTreeSet::new();
        let mut removed = 0u64;
        let mut rewrites: Vec<(String, Vec<u8>)> = Vec::new();
        let edge_bundle: Vec<Vec<u8>> = parse_entry_bundle(&self.bundle)
            .map_err(|reason| LogError::Corrupt {
                path: self.dir.clone(),
                reason,
            })?
            .iter()
            .map(|e| e.to_vec())
            .collect();
        let mut doomed = tmp;
        for f in files.iter().filter_map(|r| parse_tile_rel(r)) {
            let shift = (u64::from(TILE_HEIGHT) * f.level) as u32;
            let width = if f.width == 0 {
                TILE_WIDTH
            } else {
                u64::from(f.width)
            };
            let end = f
                .index
                .checked_mul(TILE_WIDTH)
                .and_then(|x| x.checked_add(width))
                .and_then(|x| x.checked_mul(1u64.checked_shl(shift)?));
            let full_tiles = n.checked_shr(shift + TILE_HEIGHT).unwrap_or(0);
            if end.is_none_or(|e| e > n) || (f.width > 0 && f.index < full_tiles) {
                doomed.push(self.dir.join(&f.rel));
                continue;
            }
            if f.width == 0 {
                continue; // full and within n: part of the tree
            }
            let want = if f.bundle {
                let mut b = Vec::new();
                for e in edge_bundle.iter().take(usize::from(f.width)) {
                    b.extend_from_slice(&(e.len() as u16).to_be_bytes());
                    b.extend_from_slice(e);
                }
                b
            } else {
                let row = self
                    .edge
                    .get(f.level as usize)
                    .map(Vec::as_slice)
                    .unwrap_or_default();
                hashes_to_bytes(row.get(..usize::from(f.width)).unwrap_or_default())
            };
            if fs::read(self.dir.join(&f.rel)).ok().as_deref() != Some(want.as_slice()) {
                rewrites.push((f.rel, want));
            }
        }
        for p in doomed {
            fs::remove_file(&p).map_err(io_err(&p))?;
            removed += 1;
            if let Some(d) = p.parent() {
                dirs.insert(d.to_path_buf());
            }
        }
        removed += rewrites.len() as u64;
        write_all_durable(&self.dir, &rewrites)?;
        for d in dirs.iter().rev() {
            sync_dir(d)?;
        }
        self.files
            .get_mut()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        Ok(removed)
    }
}
