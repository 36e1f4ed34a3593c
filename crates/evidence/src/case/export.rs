//! [`export_case`]: select alerts, log the custody leaf, publish, write the bundle.

// `serde_json::Value[&str]` reads return `Null` for a missing key or a non-object and never
// panic; the lint cannot tell them from slice indexing.
#![allow(clippy::indexing_slicing)]

use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::Path;

use super::files as f;
use super::proof::TlogProof;
use super::time::{format_rfc3339, parse_rfc3339};
use super::{
    io_err, jsonld, sha256_hex, CaseError, CaseSelection, CaseSummary, FileEntry, ALERT_TYPE,
    CUSTODY_RECORD_TYPE, CUSTODY_TYPE, MANIFEST_TYPE,
};
use crate::jcs::canonicalize;
use crate::layout::{partial_tile_size, TILE_WIDTH};
use crate::log::{parse_entry_bundle, Log, LogError};
use crate::note::Signer;

/// Exports the alerts of the log in `log_dir` chosen by `selection` as a case bundle in
/// `out_dir` (created; must be absent or empty).
///
/// In order: checks the arguments and reads the selected alert leaves and their excerpts
/// (each excerpt's SHA-256 must equal the leaf's `excerpt_sha256`); builds the data files and
/// `manifest.json`; archives the current checkpoint to `custos/checkpoints/<size>` (20
/// digits, as `custos analyze` does); appends the custody leaf
/// `{"type":"custos.custody/1","action":"exported","who","when","why","leaves",
/// "manifest_sha256","log_origin","custos_version"}` (RFC 8785 JSON) and publishes a checkpoint
/// signed by `signer`; then writes every file (fsynced) with a tlog-proof of each selected
/// leaf and of the custody leaf against that checkpoint.
///
/// `who` and `reason` are free text recorded in the custody leaf; `now_rfc3339` is the
/// export time (RFC 3339, normalised to UTC `Z`).
///
/// If writing the bundle fails after the custody leaf was published, the log keeps a custody
/// leaf for a bundle that was never completed; export again.
///
/// # Errors
/// [`CaseError::BadTime`], [`CaseError::BadSelection`], [`CaseError::OutputExists`],
/// [`CaseError::WrongKey`], [`CaseError::NotAnAlert`], [`CaseError::NothingSelected`],
/// [`CaseError::Missing`] / [`CaseError::HashMismatch`] for a missing or damaged excerpt in
/// the log, [`CaseError::Log`] (a custody leaf over 65 535 bytes — too many alerts in one
/// case — is `LogError::EntryTooLarge`), [`CaseError::Io`].
pub fn export_case(
    log_dir: &Path,
    signer: &Signer,
    selection: &CaseSelection,
    reason: &str,
    who: &str,
    now_rfc3339: &str,
    out_dir: &Path,
) -> Result<CaseSummary, CaseError> {
    let (when, range) = check_arguments(selection, now_rfc3339, out_dir)?;
    let mut log = open_log(log_dir, signer)?;
    let origin = log.origin().to_string();
    let size = log.integrated_size();

    // The selected alert leaves: (index, exact bytes, parsed).
    let selected = select_alerts(&log, log_dir, selection, range, size)?;
    if selected.is_empty() {
        return Err(CaseError::NothingSelected);
    }
    let indices: Vec<u64> = selected.iter().map(|(i, _, _)| *i).collect();
    let custody_index = log.next_index();
    let export = Export {
        origin: &origin,
        who,
        when: &when,
        why: reason,
        custody_index,
        selected: &selected,
        indices: &indices,
    };

    // Data files.
    let data = data_files(log_dir, signer, &export)?;
    let manifest = manifest_json(&export, &data);
    let manifest_sha256 = sha256_hex(&manifest);
    let custody_leaf = custody_leaf(&export, &manifest_sha256)?;

    // Log the custody leaf and publish.
    std::fs::create_dir_all(out_dir).map_err(io_err(out_dir))?;
    archive_checkpoint(log_dir)?;
    let got = log.append(custody_leaf.as_bytes())?;
    debug_assert_eq!(got, custody_index);
    let cp = log.publish_checkpoint(signer)?;
    let note = log.read_checkpoint()?.ok_or_else(|| CaseError::Missing {
        file: log_dir.join("checkpoint").display().to_string(),
    })?;

    // Authentication files.
    let mut out = data;
    out.insert(f::MANIFEST.into(), manifest);
    out.insert(f::CUSTODY_LEAF.into(), custody_leaf.into_bytes());
    add_proofs(&log, &mut out, &indices, got, cp.size, &note)?;
    add_sums(&mut out);
    write_bundle(out_dir, &out)?;
    Ok(CaseSummary {
        out_dir: out_dir.to_path_buf(),
        alerts: indices,
        custody_index: got,
        checkpoint: cp,
        manifest_sha256,
        files: out.keys().cloned().collect(),
    })
}

/// A selected alert leaf: its index, its exact bytes and the parsed leaf.
type Selected = (u64, Vec<u8>, Value);

/// Bundle files: contents by path relative to the bundle directory.
type Files = BTreeMap<String, Vec<u8>>;

/// What one export records in its files: the log, the selected alerts and who exported
/// them, when and why.
struct Export<'a> {
    /// The log's origin.
    origin: &'a str,
    /// Who exports (free text).
    who: &'a str,
    /// Export time, RFC 3339 in UTC.
    when: &'a str,
    /// Why (free text).
    why: &'a str,
    /// Index the custody leaf will have.
    custody_index: u64,
    /// The selected alert leaves, by index.
    selected: &'a [Selected],
    /// Their indices.
    indices: &'a [u64],
}

/// Checks the export time, that `out_dir` is absent or empty and the selection; returns the
/// normalised time and, for a time range, its bounds in nanoseconds.
fn check_arguments(
    selection: &CaseSelection,
    now_rfc3339: &str,
    out_dir: &Path,
) -> Result<(String, Option<(i128, i128)>), CaseError> {
    let when = parse_rfc3339(now_rfc3339)
        .map(format_rfc3339)
        .ok_or_else(|| CaseError::BadTime(now_rfc3339.to_string()))?;
    if let Ok(mut d) = std::fs::read_dir(out_dir) {
        if d.next().is_some() {
            return Err(CaseError::OutputExists(out_dir.to_path_buf()));
        }
    }
    let range = match selection {
        CaseSelection::Indices(v) if v.is_empty() => {
            return Err(CaseError::BadSelection("no leaf index given".into()))
        }
        CaseSelection::CommunityId(c) if c.is_empty() => {
            return Err(CaseError::BadSelection("empty Community ID".into()))
        }
        CaseSelection::TimeRange { from, to } => {
            let a = parse_rfc3339(from)
                .ok_or_else(|| CaseError::BadSelection(format!("{from:?} is not RFC 3339")))?;
            let b = parse_rfc3339(to)
                .ok_or_else(|| CaseError::BadSelection(format!("{to:?} is not RFC 3339")))?;
            if a > b {
                return Err(CaseError::BadSelection(format!("{from} is after {to}")));
            }
            Some((a, b))
        }
        _ => None,
    };
    Ok((when, range))
}

/// Opens the log in `log_dir` for appending, bound to `signer`'s key (not just its name): a
/// same-name impostor key is refused here, before anything is logged or signed.
fn open_log(log_dir: &Path, signer: &Signer) -> Result<Log, CaseError> {
    let log = match Log::open_signed(log_dir, signer) {
        Err(LogError::WrongKey { origin, .. }) if origin != signer.name() => {
            return Err(CaseError::WrongKey {
                log: origin,
                key: signer.name().to_string(),
            })
        }
        r => r?,
    };
    if log.origin() != signer.name() {
        return Err(CaseError::WrongKey {
            log: log.origin().to_string(),
            key: signer.name().to_string(),
        });
    }
    Ok(log)
}

/// The alert leaves among the first `size` leaves of `log` that `selection` (with the time
/// `range` it gives) chooses, in index order.
fn select_alerts(
    log: &Log,
    log_dir: &Path,
    selection: &CaseSelection,
    range: Option<(i128, i128)>,
    size: u64,
) -> Result<Vec<Selected>, CaseError> {
    match selection {
        CaseSelection::Indices(v) => select_indices(log, v, size),
        _ => select_matching(log, log_dir, selection, range, size),
    }
}

/// The leaves at indices `v` (sorted, duplicates dropped); each must be an alert leaf below
/// `size`.
fn select_indices(log: &Log, v: &[u64], size: u64) -> Result<Vec<Selected>, CaseError> {
    let mut selected = Vec::new();
    let mut v = v.to_vec();
    v.sort_unstable();
    v.dedup();
    for i in v {
        if i >= size {
            return Err(CaseError::NotAnAlert {
                index: i,
                reason: format!("beyond the log (size {size})"),
            });
        }
        let bytes = log.read_entry(i)?;
        let leaf =
            parse_alert(&bytes).map_err(|reason| CaseError::NotAnAlert { index: i, reason })?;
        selected.push((i, bytes, leaf));
    }
    Ok(selected)
}

/// Scans every entry bundle of the first `size` leaves for the alert leaves that match
/// `selection` (a Community ID, or a time `range`); other leaves are skipped.
fn select_matching(
    log: &Log,
    log_dir: &Path,
    selection: &CaseSelection,
    range: Option<(i128, i128)>,
    size: u64,
) -> Result<Vec<Selected>, CaseError> {
    let mut selected = Vec::new();
    for b in 0..size.div_ceil(TILE_WIDTH) {
        let bundle = log.read_entry_bundle(b, partial_tile_size(0, b, size))?;
        let entries = parse_entry_bundle(&bundle).map_err(|reason| CaseError::Malformed {
            file: format!(
                "{}/{}",
                log_dir.display(),
                crate::layout::entries_path(b, 0)
            ),
            reason,
        })?;
        for (k, e) in entries.into_iter().enumerate() {
            let i = b * TILE_WIDTH + k as u64;
            let Ok(leaf) = parse_alert(e) else { continue };
            if matches_selection(&leaf, selection, range) {
                selected.push((i, e.to_vec(), leaf));
            }
        }
    }
    Ok(selected)
}

/// Whether alert `leaf` has the selected Community ID, or an alert timestamp inside the
/// time `range`.
fn matches_selection(leaf: &Value, selection: &CaseSelection, range: Option<(i128, i128)>) -> bool {
    match (selection, range) {
        (CaseSelection::CommunityId(c), _) => leaf["community_id"].as_str() == Some(c.as_str()),
        (_, Some((a, z))) => leaf["alert"]["timestamp"]
            .as_str()
            .and_then(parse_rfc3339)
            .is_some_and(|t| a <= t && t <= z),
        _ => false,
    }
}

/// The data files of the bundle (every file `manifest.json` lists): `alerts.jsonl`, the
/// excerpts, `vkey`, `custody.json`, `README.md` and `case.jsonld`, by path.
fn data_files(log_dir: &Path, signer: &Signer, x: &Export<'_>) -> Result<Files, CaseError> {
    let (jsonl, mut data) = alerts_and_excerpts(log_dir, x.selected)?;
    data.insert(f::ALERTS.into(), jsonl);
    let vkey = signer.verifier().to_vkey();
    data.insert(f::VKEY.into(), format!("{vkey}\n").into_bytes());
    data.insert(
        f::CUSTODY.into(),
        pretty(&custody_record(
            x.origin,
            x.selected,
            x.custody_index,
            x.who,
            x.when,
            x.why,
        )),
    );
    data.insert(
        f::README.into(),
        readme(
            x.origin,
            x.indices,
            x.custody_index,
            x.who,
            x.when,
            x.why,
            &vkey,
        )
        .into_bytes(),
    );
    let described: Vec<FileEntry> = data.iter().map(|(p, b)| entry(p, b)).collect();
    let alerts: Vec<(u64, Value)> = x.selected.iter().map(|(i, _, v)| (*i, v.clone())).collect();
    let doc = jsonld::build(&jsonld::Input {
        origin: x.origin,
        who: x.who,
        when: x.when,
        why: x.why,
        custody_index: x.custody_index,
        alerts: &alerts,
        files: &described,
    });
    data.insert(f::CASE_JSONLD.into(), pretty(&doc));
    Ok(data)
}

/// `alerts.jsonl` (each selected leaf's bytes and a newline) and the excerpt files the
/// leaves name, read from the log and checked against their `excerpt_sha256`.
fn alerts_and_excerpts(
    log_dir: &Path,
    selected: &[Selected],
) -> Result<(Vec<u8>, Files), CaseError> {
    let mut data: Files = BTreeMap::new();
    let mut jsonl = Vec::new();
    for (i, bytes, leaf) in selected {
        jsonl.extend_from_slice(bytes);
        jsonl.push(b'\n');
        let x = leaf["excerpt_sha256"].as_str().unwrap_or_default();
        if x.len() != 64 || !x.bytes().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f')) {
            return Err(CaseError::NotAnAlert {
                index: *i,
                reason: "excerpt_sha256 is not 64 lower-case hex digits".into(),
            });
        }
        let rel = format!("{}/{x}.pcap", f::EXCERPTS);
        if data.contains_key(&rel) {
            continue;
        }
        let pcap = read_excerpt(log_dir, &rel, *i, x)?;
        data.insert(rel, pcap);
    }
    Ok((jsonl, data))
}

/// Reads the excerpt `rel` of leaf `i` from the log directory and checks that its SHA-256
/// is `sha256`.
fn read_excerpt(log_dir: &Path, rel: &str, i: u64, sha256: &str) -> Result<Vec<u8>, CaseError> {
    let src = log_dir.join(rel);
    let pcap = std::fs::read(&src).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => CaseError::Missing {
            file: src.display().to_string(),
        },
        _ => CaseError::Io {
            path: src.clone(),
            error: e,
        },
    })?;
    let actual = sha256_hex(&pcap);
    if actual != sha256 {
        return Err(CaseError::HashMismatch {
            file: src.display().to_string(),
            what: format!("leaf {i} excerpt_sha256"),
            expected: sha256.to_string(),
            actual,
        });
    }
    Ok(pcap)
}

/// `manifest.json`: the log, the alerts, the custody leaf and every data file with its
/// SHA-256 and size.
fn manifest_json(x: &Export<'_>, data: &Files) -> Vec<u8> {
    pretty(&json!({
        "type": MANIFEST_TYPE,
        "log_origin": x.origin,
        "alerts": x.indices,
        "custody_leaf": x.custody_index,
        "files": data.iter().map(|(p, b)| {
            let e = entry(p, b);
            json!({"path": e.path, "sha256": e.sha256, "size": e.size})
        }).collect::<Vec<_>>(),
    }))
}

/// The custody leaf (RFC 8785 JSON): who exported which leaves, when and why, and the
/// SHA-256 of `manifest.json`.
fn custody_leaf(x: &Export<'_>, manifest_sha256: &str) -> Result<String, CaseError> {
    Ok(canonicalize(&json!({
        "type": CUSTODY_TYPE,
        "action": "exported",
        "who": x.who,
        "when": x.when,
        "why": x.why,
        "leaves": x.indices,
        "manifest_sha256": manifest_sha256,
        "log_origin": x.origin,
        "custos_version": env!("CARGO_PKG_VERSION"),
    }))?)
}

/// Adds `proofs/<i>.tlog-proof` for each alert leaf in `indices` and the custody leaf
/// `custody`, against the checkpoint `note` of tree size `size`.
fn add_proofs(
    log: &Log,
    out: &mut Files,
    indices: &[u64],
    custody: u64,
    size: u64,
    note: &[u8],
) -> Result<(), CaseError> {
    for &i in indices.iter().chain(std::iter::once(&custody)) {
        let p = TlogProof {
            extra: None,
            index: i,
            hashes: log.inclusion_proof(i, size)?,
            checkpoint: note.to_vec(),
        };
        out.insert(format!("{}/{i}.tlog-proof", f::PROOFS), p.to_text());
    }
    Ok(())
}

/// Adds `SHA256SUMS`, listing every file already in `out`.
fn add_sums(out: &mut Files) {
    let mut sums = String::new();
    for (p, b) in out.iter() {
        sums.push_str(&format!("{}  {p}\n", sha256_hex(b)));
    }
    out.insert(f::SHA256SUMS.into(), sums.into_bytes());
}

/// Writes every file of `out` under `out_dir`, fsynced, then fsyncs the directories.
fn write_bundle(out_dir: &Path, out: &Files) -> Result<(), CaseError> {
    for (p, b) in out {
        write_synced(&out_dir.join(p), b)?;
    }
    for d in [
        out_dir.join(f::EXCERPTS),
        out_dir.join(f::PROOFS),
        out_dir.to_path_buf(),
    ] {
        std::fs::File::open(&d)
            .and_then(|h| h.sync_all())
            .map_err(io_err(&d))?;
    }
    Ok(())
}

/// Parses an alert leaf; the reason it is not one otherwise.
fn parse_alert(bytes: &[u8]) -> Result<Value, String> {
    let v: Value = serde_json::from_slice(bytes).map_err(|e| format!("not JSON: {e}"))?;
    if v["type"].as_str() != Some(ALERT_TYPE) {
        return Err(format!("not an alert leaf (type {})", v["type"]));
    }
    Ok(v)
}

/// The manifest entry of a file: path, SHA-256 and size.
fn entry(path: &str, bytes: &[u8]) -> FileEntry {
    FileEntry {
        path: path.to_string(),
        sha256: sha256_hex(bytes),
        size: bytes.len() as u64,
    }
}

/// `v` as pretty-printed JSON with a final newline.
fn pretty(v: &Value) -> Vec<u8> {
    let mut s = serde_json::to_string_pretty(v).unwrap_or_default();
    s.push('\n');
    s.into_bytes()
}

/// Copies the log's current checkpoint to `custos/checkpoints/<size, 20 digits>` so that
/// `custos verify --log` keeps checking that the log only grew. Call it before publishing a
/// new checkpoint; a log without a checkpoint yet is left alone.
///
/// # Errors
/// [`CaseError::Io`] when the archive cannot be written.
pub fn archive_checkpoint(dir: &Path) -> Result<(), CaseError> {
    let current = dir.join("checkpoint");
    let Ok(text) = std::fs::read_to_string(&current) else {
        return Ok(());
    };
    let size = text
        .lines()
        .nth(1)
        .and_then(|l| l.parse::<u64>().ok())
        .unwrap_or(0);
    let arch = dir.join("custos/checkpoints");
    std::fs::create_dir_all(&arch).map_err(io_err(&arch))?;
    let p = arch.join(format!("{size:020}"));
    std::fs::write(&p, text).map_err(io_err(&p))
}

/// Writes `bytes` to `path` (creating its directory) and fsyncs the file.
fn write_synced(path: &Path, bytes: &[u8]) -> Result<(), CaseError> {
    use std::io::Write as _;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io_err(parent))?;
    }
    let mut h = std::fs::File::create(path).map_err(io_err(path))?;
    h.write_all(bytes)
        .and_then(|()| h.sync_all())
        .map_err(io_err(path))
}

/// The chain-of-custody record: one "logged" event per alert, then "exported".
fn custody_record(
    origin: &str,
    selected: &[(u64, Vec<u8>, Value)],
    custody_index: u64,
    who: &str,
    when: &str,
    why: &str,
) -> Value {
    let mut events: Vec<Value> = selected
        .iter()
        .map(|(i, _, leaf)| {
            let a = &leaf["alert"];
            let t = a["timestamp"]
                .as_str()
                .and_then(parse_rfc3339)
                .map(format_rfc3339);
            json!({
                "action": "logged",
                "leaf": i,
                "who": leaf["sensor"],
                "when": t,
                "why": format!(
                    "{} (score {}, threshold {})",
                    a["alert"]["signature"].as_str().unwrap_or("custos alert"),
                    a["custos"]["score"],
                    a["custos"]["threshold"]
                ),
                "what": {
                    "community_id": leaf["community_id"],
                    "pcap_file": leaf["packets"]["pcap_file"],
                    "alert_packet": leaf["packets"]["alert_packet"],
                    "capture_sha256": leaf["capture_sha256"],
                    "excerpt": format!("excerpts/{}.pcap", leaf["excerpt_sha256"].as_str().unwrap_or_default()),
                    "excerpt_sha256": leaf["excerpt_sha256"],
                    "custos_version": leaf["custos_version"],
                },
                "note": "when = capture time of the alert packet (sensor clock); the leaf is in alerts.jsonl and proofs/<leaf>.tlog-proof proves it was logged",
            })
        })
        .collect();
    events.push(json!({
        "action": "exported",
        "leaf": custody_index,
        "who": who,
        "when": when,
        "why": why,
        "what": {
            "alerts": selected.iter().map(|(i, _, _)| *i).collect::<Vec<_>>(),
            "bundle": "every file listed in manifest.json",
        },
        "note": "when = wall-clock time of the export; the custody leaf (custody-leaf.json, proofs/<leaf>.tlog-proof) records who, when, why and SHA-256(manifest.json)",
    }));
    json!({
        "type": CUSTODY_RECORD_TYPE,
        "log_origin": origin,
        "events": events,
    })
}

/// `README.md`: what the bundle holds and how to verify it.
fn readme(
    origin: &str,
    indices: &[u64],
    custody_index: u64,
    who: &str,
    when: &str,
    why: &str,
    vkey: &str,
) -> String {
    let list = indices
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        r#"# custos case bundle

Exported from the custos evidence log `{origin}` by {who} at {when}.
Reason: {why}

Alerts (log leaf indices): {list}. Custody leaf: {custody_index}.

## Contents

| file | what |
|---|---|
| `alerts.jsonl` | the selected alert records, one per line; each line is the exact bytes of a log leaf (RFC 8785 JSON) |
| `excerpts/<sha256>.pcap` | packet excerpt of each alert (the alert's flow up to the alert packet), named by its SHA-256, which the alert record's `excerpt_sha256` names |
| `custody.json` | chain of custody: who, when and why for each action ("logged" per alert, "exported") |
| `case.jsonld` | the case in CASE/UCO JSON-LD (investigation, actions, tool, files with SHA-256, network connections) |
| `vkey` | the log's public key (C2SP signed-note verifier key) |
| `manifest.json` | every file above with its SHA-256 and size |
| `custody-leaf.json` | the custody leaf logged for this export: who, when, why, leaves and SHA-256 of `manifest.json` |
| `proofs/<leaf>.tlog-proof` | C2SP tlog-proof (https://c2sp.org/tlog-proof) that each alert leaf and the custody leaf are in the log |
| `SHA256SUMS` | SHA-256 of every other file, for `sha256sum -c` |

## Verifying

Obtain the log's public key from its operator through a channel you trust and compare it with
`vkey` (it is `{vkey}`). Then:

    custos verify THIS_DIRECTORY --vkey vkey

checks every hash, signature and proof below offline and prints each check. With standard
tools:

1. `sha256sum -c SHA256SUMS` — every file is intact (this list itself is not signed).
2. `sha256sum manifest.json` equals `manifest_sha256` in `custody-leaf.json`, and every file in
   `manifest.json` has the SHA-256 it lists.
3. Each `proofs/<leaf>.tlog-proof` is: the line `c2sp.org/tlog-proof@v1`, `index <leaf>`, the
   RFC 9162 inclusion proof (one base64 SHA-256 hash per line, leaf's sibling first), an empty
   line, and the log's signed checkpoint (origin, tree size, base64 root, empty line,
   `— <key name> <base64 signature>` lines). Verify the checkpoint's Ed25519 signature with
   `vkey` (C2SP signed-note), then recompute the root from `SHA-256(0x00 || leaf bytes)` and
   the proof hashes (RFC 9162 §2.1.3.2); the leaf bytes are the line of `alerts.jsonl` without
   its newline, or `custody-leaf.json` for the custody leaf. All proofs use the same
   checkpoint.
4. `sha256sum excerpts/*.pcap`: each equals the `excerpt_sha256` of its alert.

Any tlog client can also check the checkpoint against the log itself or its witnesses
(consistency proof), which shows the log was not rewritten after the export.

## Handling (ISO/IEC 27037)

The bundle follows the ISO/IEC 27037 principles for digital evidence: *relevance* (only the
selected alerts and their packet excerpts), *reliability* (hashes, a signed append-only log
and inclusion proofs make any change detectable), *sufficiency* (the excerpts and the alert
records with their capture hashes, scores and explanations), and *auditability* /
*repeatability* (the custody record and `case.jsonld` say who did what, when, why and with
which tool, and anyone can re-run the verification). Keep this directory read-only, work on
copies, and record every further transfer in your own chain-of-custody log.
"#
    )
}
