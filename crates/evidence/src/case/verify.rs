//! [`verify_case`]: offline verification of a case bundle with only the log's public key.

// `serde_json::Value[&str]` reads return `Null` for a missing key or a non-object and never
// panic; the lint cannot tell them from slice indexing.
#![allow(clippy::indexing_slicing)]

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::files as f;
use super::proof::TlogProof;
use super::{
    io_err, jsonld, sha256_hex, CaseError, CaseReport, ALERT_TYPE, CUSTODY_RECORD_TYPE,
    CUSTODY_TYPE, MANIFEST_TYPE,
};
use crate::checkpoint::Checkpoint;
use crate::jcs::canonicalize;
use crate::listing::DirListing;
use crate::merkle::{hex, leaf_hash, verify_inclusion};
use crate::note::Verifier;

/// Verifies the case bundle in `case_dir`, trusting only `verifier` (the log's key).
///
/// Checks, in order, and stops at the first failure:
/// 1. the bundle's `vkey` is `verifier`;
/// 2. `manifest.json` and `custody-leaf.json` parse (the custody leaf must be RFC 8785
///    canonical JSON of type `custos.custody/1`); `alerts.jsonl` has one line per alert the
///    manifest names;
/// 3. there is exactly one `proofs/<i>.tlog-proof` per alert leaf and for the custody leaf;
///    each parses, names index `i`, carries a checkpoint whose signature verifies with
///    `verifier`, the same checkpoint (size and root) as every other proof, and an inclusion
///    proof that verifies for the leaf bytes (the `alerts.jsonl` line, or
///    `custody-leaf.json`);
/// 4. the custody leaf's `manifest_sha256` is the SHA-256 of `manifest.json`, its `leaves`
///    are the manifest's alerts, its `log_origin` the checkpoint's origin;
/// 5. every file `manifest.json` lists has its size and SHA-256, and the manifest lists all
///    the data files;
/// 6. each alert leaf is a `custos.alert/1` record whose `excerpt_sha256` is the SHA-256 of
///    `excerpts/<excerpt_sha256>.pcap`;
/// 7. `case.jsonld` is JSON-LD with a `@graph` whose `uco-observable:File` SHA256 hashes match
///    the files, and `custody.json` has a "logged" event per alert and the "exported" event;
/// 8. no file is unaccounted for, and `SHA256SUMS` lists every other file with its hash.
///
/// # Errors
/// The first failing check, naming the file, leaf index, and expected and actual values.
/// Before any check: [`CaseError::Io`] when `case_dir` cannot be read (missing, not a
/// directory), [`CaseError::NotABundle`] when it has none of a bundle's own files
/// ([`super::BUNDLE_MARKERS`]).
pub fn verify_case(case_dir: &Path, verifier: &Verifier) -> Result<CaseReport, CaseError> {
    let mut rep = CaseReport::default();
    verify_case_into(case_dir, verifier, &mut rep)?;
    Ok(rep)
}

/// [`verify_case`], filling `rep` as it goes: on failure, `rep.checks` still lists every
/// check that held before it, so a caller can show them with the failure.
///
/// # Errors
/// As for [`verify_case`].
pub fn verify_case_into(
    case_dir: &Path,
    verifier: &Verifier,
    rep: &mut CaseReport,
) -> Result<(), CaseError> {
    // Is this a bundle at all? Look at the top level before walking the whole tree.
    let (listing, top) = DirListing::read(case_dir).map_err(io_err(case_dir))?;
    if !super::BUNDLE_MARKERS.iter().any(|m| top.contains(*m)) {
        return Err(CaseError::NotABundle {
            dir: case_dir.to_path_buf(),
            listing,
        });
    }
    let bundle = Bundle {
        dir: case_dir,
        present: list_files(case_dir)?,
    };

    // 1. Key.
    check_key(&bundle, verifier, rep)?;

    // 2. Manifest, custody leaf, alert lines.
    let manifest = read_manifest(&bundle)?;
    rep.alerts = manifest.alerts.clone();
    rep.custody_index = manifest.custody_index;
    let (custody_bytes, custody) = read_custody_leaf(&bundle)?;
    let jsonl = bundle.read(f::ALERTS)?;
    let lines = alert_lines(&jsonl, manifest.alerts.len())?;
    let mut leaves: BTreeMap<u64, &[u8]> = manifest
        .alerts
        .iter()
        .copied()
        .zip(lines.iter().copied())
        .collect();
    leaves.insert(manifest.custody_index, &custody_bytes);

    // 3. Proofs.
    let (cp, proof_files) = check_proofs(&bundle, verifier, &leaves, &manifest, rep)?;

    // 4. Custody leaf ↔ manifest.
    check_custody_leaf(&manifest, &custody, &cp, rep)?;

    // 5. Manifest files.
    let listed = check_manifest_files(&bundle, &manifest.json, rep)?;

    // 6. Alerts and excerpts.
    check_alerts(&bundle, &manifest.alerts, &lines, &listed, rep)?;

    // 7. case.jsonld and custody.json.
    check_case_jsonld(&bundle, &listed, rep)?;
    check_custody_record(&bundle, &manifest, rep)?;

    // 8. Nothing else, and SHA256SUMS.
    check_no_stray_files(&bundle, &listed, &proof_files)?;
    let sums_checked = check_sha256sums(&bundle)?;
    rep.checks
        .push(format!("SHA256SUMS: {sums_checked} files match"));
    rep.checks.push(format!(
        "case verified: {} alerts and custody leaf {} in log {:?} at size {}, root {}",
        manifest.alerts.len(),
        manifest.custody_index,
        cp.origin,
        cp.size,
        hex(&cp.root)
    ));
    rep.checkpoint = Some(cp);
    Ok(())
}

/// The bundle being verified: its directory and every file in it.
struct Bundle<'a> {
    /// The bundle directory.
    dir: &'a Path,
    /// Every regular file under `dir`, relative and `/`-separated ([`list_files`]).
    present: BTreeSet<String>,
}

impl Bundle<'_> {
    /// Reads the bundle file `rel`; a file that is absent is [`CaseError::Missing`].
    fn read(&self, rel: &str) -> Result<Vec<u8>, CaseError> {
        let p = self.dir.join(rel);
        std::fs::read(&p).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => CaseError::Missing { file: rel.into() },
            _ => CaseError::Io { path: p, error: e },
        })
    }
}

/// A [`CaseError::Malformed`] naming `file` and saying why.
fn malformed(file: &str, reason: String) -> CaseError {
    CaseError::Malformed {
        file: file.into(),
        reason,
    }
}

/// `manifest.json`, parsed, with the fields every later check uses.
struct Manifest {
    /// The exact bytes of `manifest.json` (the custody leaf holds their SHA-256).
    bytes: Vec<u8>,
    /// The parsed document.
    json: Value,
    /// The alert leaf indices, non-empty and ascending.
    alerts: Vec<u64>,
    /// The custody leaf index (not one of `alerts`).
    custody_index: u64,
    /// The log origin the manifest names.
    origin: String,
}

/// Step 1: the bundle's `vkey` is the trusted key, ending in a newline.
fn check_key(b: &Bundle<'_>, verifier: &Verifier, rep: &mut CaseReport) -> Result<(), CaseError> {
    let vkey = b.read(f::VKEY)?;
    let bundle_key = String::from_utf8_lossy(&vkey)
        .trim_end_matches('\n')
        .to_string();
    let trusted = verifier.to_vkey();
    if bundle_key != trusted || vkey.last() != Some(&b'\n') {
        return Err(CaseError::KeyMismatch {
            bundle: bundle_key,
            trusted,
        });
    }
    rep.checks
        .push(format!("vkey: is the trusted key {trusted}"));
    Ok(())
}

/// Step 2a: reads `manifest.json` and checks its type, alert list, custody leaf index and
/// log origin.
fn read_manifest(b: &Bundle<'_>) -> Result<Manifest, CaseError> {
    let manifest_bytes = b.read(f::MANIFEST)?;
    let manifest: Value = serde_json::from_slice(&manifest_bytes)
        .map_err(|e| malformed(f::MANIFEST, format!("not JSON: {e}")))?;
    if manifest["type"].as_str() != Some(MANIFEST_TYPE) {
        return Err(malformed(
            f::MANIFEST,
            format!("type is not {MANIFEST_TYPE:?}"),
        ));
    }
    let alerts: Vec<u64> = manifest["alerts"]
        .as_array()
        .and_then(|a| a.iter().map(Value::as_u64).collect::<Option<Vec<_>>>())
        .filter(|a| !a.is_empty() && a.windows(2).all(|w| w.first() < w.get(1)))
        .ok_or_else(|| {
            malformed(
                f::MANIFEST,
                "\"alerts\" is not a non-empty ascending list of leaf indices".into(),
            )
        })?;
    let custody_index = manifest["custody_leaf"]
        .as_u64()
        .ok_or_else(|| malformed(f::MANIFEST, "\"custody_leaf\" is not a leaf index".into()))?;
    if alerts.contains(&custody_index) {
        return Err(malformed(
            f::MANIFEST,
            "custody leaf is also listed as an alert".into(),
        ));
    }
    let origin = manifest["log_origin"]
        .as_str()
        .ok_or_else(|| malformed(f::MANIFEST, "\"log_origin\" missing".into()))?
        .to_string();
    Ok(Manifest {
        bytes: manifest_bytes,
        json: manifest,
        alerts,
        custody_index,
        origin,
    })
}

/// Step 2b: reads `custody-leaf.json`, which must be RFC 8785 canonical JSON of a
/// `custos.custody/1` "exported" record; returns its bytes and the parsed record.
fn read_custody_leaf(b: &Bundle<'_>) -> Result<(Vec<u8>, Value), CaseError> {
    let custody_bytes = b.read(f::CUSTODY_LEAF)?;
    let custody: Value = serde_json::from_slice(&custody_bytes)
        .map_err(|e| malformed(f::CUSTODY_LEAF, format!("not JSON: {e}")))?;
    if canonicalize(&custody)?.as_bytes() != custody_bytes.as_slice() {
        return Err(malformed(
            f::CUSTODY_LEAF,
            "not RFC 8785 canonical JSON".into(),
        ));
    }
    if custody["type"].as_str() != Some(CUSTODY_TYPE)
        || custody["action"].as_str() != Some("exported")
    {
        return Err(malformed(
            f::CUSTODY_LEAF,
            format!("not a {CUSTODY_TYPE} \"exported\" record"),
        ));
    }
    Ok((custody_bytes, custody))
}

/// Step 2c: splits `alerts.jsonl` into its lines (without newlines), one per alert the
/// manifest lists.
fn alert_lines(jsonl: &[u8], alerts: usize) -> Result<Vec<&[u8]>, CaseError> {
    let body = jsonl
        .strip_suffix(b"\n")
        .ok_or_else(|| malformed(f::ALERTS, "does not end in a newline".into()))?;
    let lines: Vec<&[u8]> = body.split(|&b| b == b'\n').collect();
    if lines.len() != alerts {
        return Err(malformed(
            f::ALERTS,
            format!(
                "{} lines, manifest.json lists {} alerts",
                lines.len(),
                alerts
            ),
        ));
    }
    Ok(lines)
}

/// Step 3: checks the tlog-proof of every leaf in `leaves` (all against one signed
/// checkpoint), that no other proof file is present and that the checkpoint's origin is the
/// manifest's; returns the checkpoint and the proof files present.
fn check_proofs<'b>(
    b: &'b Bundle<'_>,
    verifier: &Verifier,
    leaves: &BTreeMap<u64, &[u8]>,
    manifest: &Manifest,
    rep: &mut CaseReport,
) -> Result<(Checkpoint, BTreeSet<&'b String>), CaseError> {
    let proof_files: BTreeSet<&String> = b
        .present
        .iter()
        .filter(|p| p.starts_with(&format!("{}/", f::PROOFS)))
        .collect();
    let mut checkpoint: Option<Checkpoint> = None;
    for (&i, &leaf) in leaves {
        check_proof(
            b,
            verifier,
            i,
            leaf,
            manifest.custody_index,
            &mut checkpoint,
            rep,
        )?;
    }
    if let Some(extra) = proof_files.iter().find(|p| {
        !leaves
            .keys()
            .any(|i| **p == &format!("{}/{i}.tlog-proof", f::PROOFS))
    }) {
        return Err(CaseError::UnexpectedFile {
            file: (*extra).clone(),
        });
    }
    let Some(cp) = checkpoint else {
        return Err(CaseError::Missing {
            file: f::PROOFS.into(),
        });
    };
    let origin = &manifest.origin;
    if cp.origin != *origin {
        return Err(malformed(
            f::MANIFEST,
            format!(
                "log_origin {origin:?} is not the checkpoint origin {:?}",
                cp.origin
            ),
        ));
    }
    Ok((cp, proof_files))
}

/// Checks `proofs/<i>.tlog-proof`: it is for leaf `i`, its checkpoint verifies with
/// `verifier` and is the same as the earlier proofs' (`first`, set from the first proof), and
/// its inclusion proof verifies for `leaf`.
fn check_proof(
    b: &Bundle<'_>,
    verifier: &Verifier,
    i: u64,
    leaf: &[u8],
    custody_index: u64,
    first: &mut Option<Checkpoint>,
    rep: &mut CaseReport,
) -> Result<(), CaseError> {
    let rel = format!("{}/{i}.tlog-proof", f::PROOFS);
    let bytes = b.read(&rel)?;
    let p = TlogProof::parse(&bytes).map_err(|r| malformed(&rel, r))?;
    if p.index != i {
        return Err(malformed(
            &rel,
            format!("proof is for index {}, file is for leaf {i}", p.index),
        ));
    }
    let cp = Checkpoint::open(&p.checkpoint, verifier).map_err(|error| CaseError::Checkpoint {
        file: rel.clone(),
        error,
    })?;
    same_checkpoint(&rel, &cp, first, verifier, rep)?;
    verify_inclusion(i, cp.size, &leaf_hash(leaf), &p.hashes, &cp.root).map_err(|error| {
        CaseError::Inclusion {
            file: rel.clone(),
            index: i,
            size: cp.size,
            error,
        }
    })?;
    rep.checks.push(format!(
        "{rel}: leaf {i} ({}) is included in the checkpoint of size {}",
        if i == custody_index {
            "custody leaf"
        } else {
            "alert"
        },
        cp.size
    ));
    Ok(())
}

/// Records `cp` (the checkpoint of proof file `rel`) as `first` if it is the first one seen,
/// or checks that it has the same size, root and origin as `first`.
fn same_checkpoint(
    rel: &str,
    cp: &Checkpoint,
    first: &mut Option<Checkpoint>,
    verifier: &Verifier,
    rep: &mut CaseReport,
) -> Result<(), CaseError> {
    match first {
        None => {
            rep.checks.push(format!(
                "checkpoint: origin {:?}, size {}, root {}, signature by {} verifies",
                cp.origin,
                cp.size,
                cp.root_hex(),
                verifier.name()
            ));
            *first = Some(cp.clone());
        }
        Some(first)
            if first.size != cp.size || first.root != cp.root || first.origin != cp.origin =>
        {
            return Err(CaseError::CheckpointMismatch {
                file: rel.to_string(),
                expected_size: first.size,
                expected_root: first.root_hex(),
                actual_size: cp.size,
                actual_root: cp.root_hex(),
            });
        }
        Some(_) => {}
    }
    Ok(())
}

/// Step 4: the custody leaf's `manifest_sha256` is the SHA-256 of `manifest.json`, its
/// `leaves` are the manifest's alerts and its `log_origin` the checkpoint's origin.
fn check_custody_leaf(
    manifest: &Manifest,
    custody: &Value,
    cp: &Checkpoint,
    rep: &mut CaseReport,
) -> Result<(), CaseError> {
    let (alerts, custody_index) = (&manifest.alerts, manifest.custody_index);
    let manifest_sha = sha256_hex(&manifest.bytes);
    let want = custody["manifest_sha256"].as_str().unwrap_or_default();
    if want != manifest_sha {
        return Err(CaseError::HashMismatch {
            file: f::MANIFEST.into(),
            what: format!("custody leaf {custody_index} manifest_sha256"),
            expected: want.to_string(),
            actual: manifest_sha,
        });
    }
    let custody_leaves: Option<Vec<u64>> = custody["leaves"]
        .as_array()
        .and_then(|a| a.iter().map(Value::as_u64).collect());
    if custody_leaves.as_ref() != Some(alerts) {
        return Err(malformed(
            f::CUSTODY_LEAF,
            format!(
                "leaves {} are not manifest.json's alerts {alerts:?}",
                custody["leaves"]
            ),
        ));
    }
    if custody["log_origin"].as_str() != Some(cp.origin.as_str()) {
        return Err(malformed(
            f::CUSTODY_LEAF,
            "log_origin is not the checkpoint origin".into(),
        ));
    }
    rep.checks.push(format!(
        "custody leaf {custody_index}: exported by {} at {} (\"{}\"); manifest.json SHA-256 {manifest_sha} matches",
        custody["who"], custody["when"], custody["why"].as_str().unwrap_or_default()
    ));
    Ok(())
}

/// Step 5: every file `manifest.json` lists is a data file with that size and SHA-256, listed
/// once, and the manifest lists every required data file; returns path → SHA-256.
fn check_manifest_files(
    b: &Bundle<'_>,
    manifest: &Value,
    rep: &mut CaseReport,
) -> Result<BTreeMap<String, String>, CaseError> {
    let entries = manifest["files"]
        .as_array()
        .ok_or_else(|| malformed(f::MANIFEST, "\"files\" is not a list".into()))?;
    let mut listed: BTreeMap<String, String> = BTreeMap::new();
    for e in entries {
        let (path, actual) = check_manifest_entry(b, e)?;
        if listed.insert(path.to_string(), actual).is_some() {
            return Err(malformed(f::MANIFEST, format!("{path} listed twice")));
        }
    }
    for need in [f::README, f::ALERTS, f::CUSTODY, f::CASE_JSONLD, f::VKEY] {
        if !listed.contains_key(need) {
            return Err(malformed(f::MANIFEST, format!("does not list {need}")));
        }
    }
    rep.checks.push(format!(
        "manifest.json: {} files, sizes and SHA-256 match",
        listed.len()
    ));
    Ok(listed)
}

/// Checks one `files` entry of `manifest.json`: a data file path whose file has the listed
/// size and SHA-256; returns the path and the SHA-256.
fn check_manifest_entry<'v>(b: &Bundle<'_>, e: &'v Value) -> Result<(&'v str, String), CaseError> {
    let (Some(path), Some(sha), Some(size)) =
        (e["path"].as_str(), e["sha256"].as_str(), e["size"].as_u64())
    else {
        return Err(malformed(f::MANIFEST, format!("bad file entry {e}")));
    };
    if !safe_path(path)
        || [f::MANIFEST, f::CUSTODY_LEAF, f::SHA256SUMS].contains(&path)
        || path.starts_with(&format!("{}/", f::PROOFS))
    {
        return Err(malformed(
            f::MANIFEST,
            format!("file entry {path:?} is not a data file path"),
        ));
    }
    let bytes = b.read(path)?;
    if bytes.len() as u64 != size {
        return Err(CaseError::HashMismatch {
            file: path.into(),
            what: "manifest.json size".into(),
            expected: size.to_string(),
            actual: bytes.len().to_string(),
        });
    }
    let actual = sha256_hex(&bytes);
    if actual != sha {
        return Err(CaseError::HashMismatch {
            file: path.into(),
            what: "manifest.json sha256".into(),
            expected: sha.into(),
            actual,
        });
    }
    Ok((path, actual))
}

/// Step 6: each line of `alerts.jsonl` is a `custos.alert/1` record whose excerpt file has
/// the SHA-256 it names and is listed in the manifest.
fn check_alerts(
    b: &Bundle<'_>,
    alerts: &[u64],
    lines: &[&[u8]],
    listed: &BTreeMap<String, String>,
    rep: &mut CaseReport,
) -> Result<(), CaseError> {
    for (&i, &line) in alerts.iter().zip(lines.iter()) {
        let leaf: Value = serde_json::from_slice(line)
            .map_err(|e| malformed(f::ALERTS, format!("leaf {i}: not JSON: {e}")))?;
        if leaf["type"].as_str() != Some(ALERT_TYPE) {
            return Err(malformed(
                f::ALERTS,
                format!("leaf {i}: not a {ALERT_TYPE} record"),
            ));
        }
        let x = leaf["excerpt_sha256"].as_str().unwrap_or_default();
        let rel = format!("{}/{x}.pcap", f::EXCERPTS);
        if !safe_path(&rel) || x.contains('/') {
            return Err(malformed(
                f::ALERTS,
                format!("leaf {i}: bad excerpt_sha256 {x:?}"),
            ));
        }
        let actual = sha256_hex(&b.read(&rel)?);
        if actual != x {
            return Err(CaseError::HashMismatch {
                file: rel,
                what: format!("leaf {i} excerpt_sha256"),
                expected: x.into(),
                actual,
            });
        }
        if !listed.contains_key(&rel) {
            return Err(malformed(
                f::MANIFEST,
                format!("does not list {rel} (leaf {i})"),
            ));
        }
        rep.checks.push(format!(
            "leaf {i}: alert {} community_id {} at {}; excerpt {rel} SHA-256 matches",
            leaf["alert"]["alert"]["signature"].as_str().unwrap_or("?"),
            leaf["community_id"],
            leaf["alert"]["timestamp"]
        ));
    }
    Ok(())
}

/// Step 7a: `case.jsonld` is JSON-LD whose `uco-observable:File` SHA-256 hashes are those of
/// files the manifest lists.
fn check_case_jsonld(
    b: &Bundle<'_>,
    listed: &BTreeMap<String, String>,
    rep: &mut CaseReport,
) -> Result<(), CaseError> {
    let doc: Value = serde_json::from_slice(&b.read(f::CASE_JSONLD)?)
        .map_err(|e| malformed(f::CASE_JSONLD, format!("not JSON: {e}")))?;
    if !doc.get("@context").is_some_and(Value::is_object) {
        return Err(malformed(f::CASE_JSONLD, "no @context".into()));
    }
    let hashes = jsonld::file_hashes(&doc).map_err(|r| malformed(f::CASE_JSONLD, r))?;
    for (path, sha) in &hashes {
        match listed.get(path) {
            None => {
                return Err(malformed(
                    f::CASE_JSONLD,
                    format!("describes {path:?}, which manifest.json does not list"),
                ))
            }
            Some(actual) if actual != sha => {
                return Err(CaseError::HashMismatch {
                    file: path.clone(),
                    what: "case.jsonld File hash".into(),
                    expected: sha.clone(),
                    actual: actual.clone(),
                })
            }
            Some(_) => {}
        }
    }
    rep.checks.push(format!(
        "case.jsonld: JSON-LD with {} File objects whose SHA-256 match",
        hashes.len()
    ));
    Ok(())
}

/// Step 7b: `custody.json` is a custody record with a "logged" event per alert and the
/// "exported" event of the custody leaf.
fn check_custody_record(
    b: &Bundle<'_>,
    manifest: &Manifest,
    rep: &mut CaseReport,
) -> Result<(), CaseError> {
    let (alerts, custody_index) = (&manifest.alerts, manifest.custody_index);
    let custody_rec: Value = serde_json::from_slice(&b.read(f::CUSTODY)?)
        .map_err(|e| malformed(f::CUSTODY, format!("not JSON: {e}")))?;
    if custody_rec["type"].as_str() != Some(CUSTODY_RECORD_TYPE) {
        return Err(malformed(
            f::CUSTODY,
            format!("type is not {CUSTODY_RECORD_TYPE:?}"),
        ));
    }
    let events = custody_rec["events"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    let has = |action: &str, leaf: u64| {
        events
            .iter()
            .any(|e| e["action"].as_str() == Some(action) && e["leaf"].as_u64() == Some(leaf))
    };
    if let Some(i) = alerts.iter().find(|&&i| !has("logged", i)) {
        return Err(malformed(
            f::CUSTODY,
            format!("no \"logged\" event for leaf {i}"),
        ));
    }
    if !has("exported", custody_index) {
        return Err(malformed(
            f::CUSTODY,
            format!("no \"exported\" event for custody leaf {custody_index}"),
        ));
    }
    rep.checks.push(format!(
        "custody.json: {} events (logged, exported)",
        events.len()
    ));
    Ok(())
}

/// Step 8a: every file present is listed in the manifest, is one of the authentication
/// files, or is a proof file.
fn check_no_stray_files(
    b: &Bundle<'_>,
    listed: &BTreeMap<String, String>,
    proof_files: &BTreeSet<&String>,
) -> Result<(), CaseError> {
    for p in &b.present {
        let known = listed.contains_key(p)
            || [f::MANIFEST, f::CUSTODY_LEAF, f::SHA256SUMS].contains(&p.as_str())
            || proof_files.contains(p);
        if !known {
            return Err(CaseError::UnexpectedFile { file: p.clone() });
        }
    }
    Ok(())
}

/// Step 8b: `SHA256SUMS` lists every other file with its SHA-256, in the canonical
/// `<sha256>  <file>\n` form; returns how many files it lists.
fn check_sha256sums(b: &Bundle<'_>) -> Result<usize, CaseError> {
    let sums = b.read(f::SHA256SUMS)?;
    let sums =
        std::str::from_utf8(&sums).map_err(|_| malformed(f::SHA256SUMS, "not UTF-8".into()))?;
    let mut seen = BTreeSet::new();
    let mut expected_text = String::new();
    for (n, line) in sums.split_terminator('\n').enumerate() {
        let (sha, path) = line
            .split_once("  ")
            .filter(|(s, _)| s.len() == 64)
            .ok_or_else(|| {
                malformed(
                    f::SHA256SUMS,
                    format!("line {}: not \"<sha256>  <file>\"", n + 1),
                )
            })?;
        if !b.present.contains(path) || path == f::SHA256SUMS {
            return Err(malformed(
                f::SHA256SUMS,
                format!("line {}: {path:?} is not a file of the bundle", n + 1),
            ));
        }
        let actual = sha256_hex(&b.read(path)?);
        if actual != sha {
            return Err(CaseError::HashMismatch {
                file: path.into(),
                what: "SHA256SUMS".into(),
                expected: sha.into(),
                actual,
            });
        }
        seen.insert(path.to_string());
        expected_text.push_str(&format!("{actual}  {path}\n"));
    }
    if let Some(p) = b
        .present
        .iter()
        .find(|p| *p != f::SHA256SUMS && !seen.contains(*p))
    {
        return Err(malformed(f::SHA256SUMS, format!("does not list {p}")));
    }
    if expected_text != sums {
        return Err(malformed(
            f::SHA256SUMS,
            "not in the canonical \"<sha256>  <file>\\n\" form".into(),
        ));
    }
    Ok(seen.len())
}

/// A relative `/`-separated path with no empty, `.` or `..` component.
fn safe_path(p: &str) -> bool {
    !p.is_empty()
        && !p.starts_with('/')
        && p.split('/')
            .all(|c| !c.is_empty() && c != "." && c != ".." && !c.contains('\\'))
}

/// Every regular file under `dir`, relative, `/`-separated; anything else (a symlink, a
/// socket) is reported as unexpected.
fn list_files(dir: &Path) -> Result<BTreeSet<String>, CaseError> {
    let mut out = BTreeSet::new();
    let mut stack = vec![(dir.to_path_buf(), String::new())];
    while let Some((d, prefix)) = stack.pop() {
        for e in std::fs::read_dir(&d).map_err(io_err(&d))? {
            let e = e.map_err(io_err(&d))?;
            let name = e.file_name().to_string_lossy().into_owned();
            let rel = if prefix.is_empty() {
                name
            } else {
                format!("{prefix}/{name}")
            };
            let ty = e.file_type().map_err(io_err(e.path()))?;
            if ty.is_dir() {
                stack.push((e.path(), rel));
            } else if ty.is_file() {
                out.insert(rel);
            } else {
                return Err(CaseError::UnexpectedFile { file: rel });
            }
        }
    }
    Ok(out)
}
