//! `custos reidentify` end to end: pseudonyms made by `custos pseudonymize` are reversed only
//! after an audit leaf (who, when, why, the pseudonyms, keyed hashes of the originals) is in
//! the evidence log under a new signed checkpoint; `custos verify --log` lists it; the log
//! holds none of the originals; a bad pseudonym or a key that is not the log's prints nothing
//! and leaves the log as it was; case export still works beside the audit leaf.

mod common;

use common::custos;
use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Output;

fn os(s: &str) -> &OsStr {
    OsStr::new(s)
}

fn stdout(r: &Output) -> String {
    String::from_utf8_lossy(&r.stdout).to_string()
}

fn stderr(r: &Output) -> String {
    String::from_utf8_lossy(&r.stderr).to_string()
}

/// Originals that the sample capture does not hold, so the log cannot hold them either
/// unless a re-identification put them there.
const ORIGINALS: [&str; 4] = [
    "203.0.113.77",
    "2001:db8::42",
    "02:aa:bb:cc:dd:ee",
    "thermostat-kitchen",
];
const KINDS: [&str; 4] = ["ip", "ip", "mac", "name"];

fn sample() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../samples/iot-small.pcap")
}

/// `custos keygen --name NAME -o PREFIX`: the (skey, vkey) paths.
fn evidence_key(dir: &Path, prefix: &str, name: &str) -> (PathBuf, PathBuf) {
    let p = dir.join(prefix);
    let r = custos(&[
        os("keygen"),
        os("--name"),
        os(name),
        os("-o"),
        p.as_os_str(),
    ]);
    assert!(r.status.success(), "{}", stderr(&r));
    (p.with_extension("skey"), p.with_extension("vkey"))
}

/// `custos keygen --pseudonym -o PREFIX`: the key file and its fingerprint.
fn pseudonym_key(dir: &Path, prefix: &str) -> (PathBuf, String) {
    let p = dir.join(prefix);
    let r = custos(&[os("keygen"), os("--pseudonym"), os("-o"), p.as_os_str()]);
    assert!(r.status.success(), "{}", stderr(&r));
    (p.with_extension("pkey"), stdout(&r).trim().to_string())
}

/// `custos pseudonymize`: the pseudonym of each value.
fn pseudonymize(pkey: &Path, values: &[&str]) -> Vec<String> {
    let mut args = vec![os("pseudonymize"), os("--pseudonym-key"), pkey.as_os_str()];
    args.extend(values.iter().map(|v| os(v)));
    let r = custos(&args);
    assert!(r.status.success(), "{}", stderr(&r));
    stdout(&r)
        .lines()
        .zip(values)
        .map(|(line, v)| {
            let (value, pseudonym) = line.split_once('\t').unwrap();
            assert_eq!(value, *v);
            pseudonym.to_string()
        })
        .collect()
}

fn reidentify(pkey: &Path, log: &Path, skey: &Path, who: &str, values: &[&str]) -> Output {
    let mut args = vec![
        os("reidentify"),
        os("--pseudonym-key"),
        pkey.as_os_str(),
        os("--log"),
        log.as_os_str(),
        os("--key"),
        skey.as_os_str(),
        os("--who"),
        os(who),
        os("--reason"),
        os("ticket 4711: which camera scanned the NAS?"),
    ];
    args.extend(values.iter().map(|v| os(v)));
    custos(&args)
}

fn verify_log(log: &Path, vkey: &Path) -> Output {
    custos(&[
        os("verify"),
        os("--log"),
        log.as_os_str(),
        os("--vkey"),
        vkey.as_os_str(),
    ])
}

/// Every file under `dir` with its bytes.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.insert(p.clone(), std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

/// Whether any file under `dir` holds `text`.
fn log_holds(dir: &Path, text: &str) -> Option<PathBuf> {
    snapshot(dir)
        .into_iter()
        .find(|(_, bytes)| bytes.windows(text.len()).any(|w| w == text.as_bytes()))
        .map(|(p, _)| p)
}

/// The checkpoint's tree size.
fn log_size(log: &Path) -> u64 {
    let cp = std::fs::read_to_string(log.join("checkpoint")).unwrap();
    cp.lines().nth(1).unwrap().parse().unwrap()
}

/// Leaf `index` of a log of `size` < 256 leaves, read from its partial entry bundle.
fn leaf(log: &Path, index: u64, size: u64) -> serde_json::Value {
    let bundle = std::fs::read(log.join(format!("tile/entries/000.p/{size}"))).unwrap();
    let entries = custos_evidence::parse_entry_bundle(&bundle).unwrap();
    serde_json::from_slice(entries[index as usize]).unwrap()
}

#[test]
fn reidentify_logs_an_audit_leaf_before_printing_originals() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (skey, vkey) = evidence_key(d, "sensor", "custos.test/sensor");
    let (pkey, fingerprint) = pseudonym_key(d, "share");
    assert_eq!(fingerprint.len(), 16, "{fingerprint}");

    // An evidence log with alerts (settings that make the small sample raise some).
    let log = d.join("log");
    let r = custos(&[
        os("analyze"),
        sample().as_os_str(),
        os("-o"),
        d.join("out").as_os_str(),
        os("--quiet"),
        os("--detector"),
        os("kitsune"),
        os("--fm-grace"),
        os("10"),
        os("--ad-grace"),
        os("50"),
        os("--calibration"),
        os("50"),
        os("--evidence"),
        log.as_os_str(),
        os("--key"),
        skey.as_os_str(),
    ]);
    assert!(r.status.success(), "{}", stderr(&r));
    let alerts = std::fs::read_to_string(d.join("out/alerts.jsonl")).unwrap();
    let n = alerts.lines().count() as u64;
    assert!(n >= 1, "the sample raised no alert");
    assert_eq!(log_size(&log), n);
    for o in ORIGINALS {
        assert_eq!(log_holds(&log, o), None, "{o} already in the log");
    }

    let pseudonyms = pseudonymize(&pkey, &ORIGINALS);
    let values: Vec<&str> = pseudonyms.iter().map(String::as_str).collect();

    // A bad name token (one base32hex digit changed: still well formed, fails
    // authentication) beside good pseudonyms: nothing printed, nothing logged.
    let token = &pseudonyms[3];
    let pos = token.len() / 2;
    let swapped = if &token[pos..=pos] == "a" { "b" } else { "a" };
    let bad = format!("{}{swapped}{}", &token[..pos], &token[pos + 1..]);
    let before = snapshot(&log);
    let mut with_bad = values.clone();
    with_bad.push(&bad);
    let r = reidentify(&pkey, &log, &skey, "alice", &with_bad);
    assert_eq!(r.status.code(), Some(2), "{}", stderr(&r));
    assert!(stdout(&r).is_empty(), "{}", stdout(&r));
    let err = stderr(&r);
    assert!(
        err.contains(&format!(
            "1 of 5 values is not a pseudonym under key {fingerprint}; nothing was re-identified or logged"
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "{bad:?} is not a name pseudonym under this key: authentication failed"
        )),
        "{err}"
    );
    for o in ORIGINALS {
        assert!(!err.contains(o), "{o} revealed: {err}");
    }
    assert!(
        snapshot(&log) == before,
        "a refused request changed the log"
    );

    // A name token of another key.
    let (other_pkey, _) = pseudonym_key(d, "other");
    let foreign = pseudonymize(&other_pkey, &["thermostat-kitchen"]).remove(0);
    let r = reidentify(&pkey, &log, &skey, "alice", &[&foreign]);
    assert_eq!(r.status.code(), Some(2), "{}", stderr(&r));
    assert!(stdout(&r).is_empty());
    assert!(snapshot(&log) == before);

    // Keys that are not the log's: the same name with another key, and another name.
    let (impostor, _) = evidence_key(d, "impostor", "custos.test/sensor");
    let r = reidentify(&pkey, &log, &impostor, "alice", &values);
    assert_eq!(r.status.code(), Some(2), "{}", stderr(&r));
    assert!(stdout(&r).is_empty(), "{}", stdout(&r));
    assert!(stderr(&r).contains("refusing key"), "{}", stderr(&r));
    assert!(
        stderr(&r).contains("nothing was re-identified"),
        "{}",
        stderr(&r)
    );
    let (other, _) = evidence_key(d, "other-sensor", "custos.test/other");
    let r = reidentify(&pkey, &log, &other, "alice", &values);
    assert_eq!(r.status.code(), Some(2), "{}", stderr(&r));
    assert!(stdout(&r).is_empty(), "{}", stdout(&r));
    assert!(
        stderr(&r).contains(
            "evidence log has origin \"custos.test/sensor\" but the key is \"custos.test/other\": not the log's key"
        ),
        "{}",
        stderr(&r)
    );
    assert!(snapshot(&log) == before);

    // A log that does not exist is not created.
    let missing = d.join("no-log");
    let r = reidentify(&pkey, &missing, &skey, "alice", &values);
    assert_eq!(r.status.code(), Some(2), "{}", stderr(&r));
    assert!(stdout(&r).is_empty());
    assert!(stderr(&r).contains("not a log directory"), "{}", stderr(&r));
    assert!(!missing.exists());

    // The real thing.
    let r = reidentify(&pkey, &log, &skey, "alice analyst", &values);
    assert!(r.status.success(), "{}", stderr(&r));
    let lines: Vec<(String, String)> = stdout(&r)
        .lines()
        .map(|l| {
            let (p, o) = l.split_once('\t').unwrap();
            (p.to_string(), o.to_string())
        })
        .collect();
    let want: Vec<(String, String)> = pseudonyms
        .iter()
        .zip(ORIGINALS)
        .map(|(p, o)| (p.clone(), o.to_string()))
        .collect();
    assert_eq!(lines, want);
    assert!(
        stderr(&r).contains(&format!(
            "re-identification of 4 pseudonyms logged as leaf {n} of {} (checkpoint size {}",
            log.display(),
            n + 1
        )),
        "{}",
        stderr(&r)
    );

    // The log grew by one leaf: the audit record, with keyed hashes, never the originals.
    assert_eq!(log_size(&log), n + 1);
    let v = leaf(&log, n, n + 1);
    let bytes = serde_json::to_vec(&v).unwrap();
    assert_eq!(
        custos_evidence::canonicalize(&v).unwrap(),
        String::from_utf8(bytes).unwrap(),
    );
    assert_eq!(v["type"], "custos.reidentification/1");
    assert_eq!(v["who"], "alice analyst");
    assert_eq!(v["why"], "ticket 4711: which camera scanned the NAS?");
    assert_eq!(v["pseudonym_key"], fingerprint.as_str());
    assert_eq!(v["mac_keep_oui"], false);
    assert_eq!(v["custos_version"], env!("CARGO_PKG_VERSION"));
    let when = v["when"].as_str().unwrap();
    assert!(when.ends_with('Z'), "{when}");
    let t = custos_evidence::case::time::parse_rfc3339(when).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as i128;
    assert!((now - t).abs() < 600 * 1_000_000_000, "{when}");
    // Whoever holds the pseudonym key can check which original each entry revealed.
    let key = custos_privacy::PseudonymKey::read(&pkey).unwrap();
    let mut ikm = key.cryptopan_key().to_vec();
    ikm.extend_from_slice(&key.name_key());
    let audit = custos_evidence::AuditKey::derive(&ikm);
    let entries = v["pseudonyms"].as_array().unwrap();
    assert_eq!(entries.len(), 4);
    for (((e, p), o), kind) in entries.iter().zip(&pseudonyms).zip(ORIGINALS).zip(KINDS) {
        assert_eq!(e["pseudonym"], p.as_str());
        assert_eq!(e["kind"], kind);
        assert_eq!(e["original_hmac"], audit.original_hmac(kind, o).as_str());
    }
    for o in ORIGINALS {
        assert_eq!(log_holds(&log, o), None, "{o} is in the log");
    }

    // `verify --log` passes and shows the audit trail.
    let r = verify_log(&log, &vkey);
    let out = stdout(&r);
    assert_eq!(r.status.code(), Some(0), "{out}");
    assert!(
        out.contains("     audit trail: 1 re-identification (custos reidentify) in the log\n"),
        "{out}"
    );
    let trail = out
        .lines()
        .find(|l| l.starts_with(&format!("       leaf {n}: ")))
        .unwrap_or_else(|| panic!("no audit line for leaf {n}: {out}"));
    assert!(trail.contains(&format!(
        "{}Z who \"alice analyst\"",
        &when[..when.len() - 1]
    )));
    assert!(trail.contains("why \"ticket 4711: which camera scanned the NAS?\""));
    assert!(trail.contains(&format!(
        "key {fingerprint} — 4 pseudonyms: {}",
        values.join(" ")
    )));
    assert!(out.lines().last().unwrap().starts_with("verdict: VERIFIED"));

    // Case export of alerts still works beside the audit leaf (by index and by time range,
    // which scans every leaf), and the exports do not carry it.
    for (name, sel) in [
        ("case-index", vec!["--alert", "0"]),
        (
            "case-range",
            vec![
                "--from",
                "1970-01-01T00:00:00Z",
                "--to",
                "2100-01-01T00:00:00Z",
            ],
        ),
    ] {
        let out_dir = d.join(name);
        let mut args = vec![
            os("case"),
            os("export"),
            os("--log"),
            log.as_os_str(),
            os("--key"),
            skey.as_os_str(),
            os("--reason"),
            os("incident 42"),
            os("--who"),
            os("bob"),
            os("-o"),
            out_dir.as_os_str(),
        ];
        args.extend(sel.iter().map(|s| os(s)));
        let r = custos(&args);
        assert!(r.status.success(), "{name}: {}", stderr(&r));
        let exported = std::fs::read_to_string(out_dir.join("alerts.jsonl")).unwrap();
        assert!(!exported.contains("custos.reidentification/1"), "{name}");
        let r = custos(&[
            os("verify"),
            out_dir.as_os_str(),
            os("--vkey"),
            vkey.as_os_str(),
        ]);
        assert_eq!(r.status.code(), Some(0), "{name}: {}", stdout(&r));
    }
    let range = std::fs::read_to_string(d.join("case-range/alerts.jsonl")).unwrap();
    assert_eq!(range.lines().count() as u64, n);
    let r = verify_log(&log, &vkey);
    let out = stdout(&r);
    assert_eq!(r.status.code(), Some(0), "{out}");
    assert!(out.contains("audit trail: 1 re-identification"), "{out}");
}

#[test]
fn reidentify_needs_a_reason_and_a_pseudonym_key() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (skey, _) = evidence_key(d, "sensor", "custos.test/sensor");
    let (pkey, _) = pseudonym_key(d, "share");
    let log = d.join("log");
    let r = custos(&[
        os("reidentify"),
        os("--pseudonym-key"),
        pkey.as_os_str(),
        os("--log"),
        log.as_os_str(),
        os("--key"),
        skey.as_os_str(),
        os("--who"),
        os("alice"),
        os("--reason"),
        os("  "),
        os("100.9.15.210"),
    ]);
    assert_eq!(r.status.code(), Some(2));
    assert!(stdout(&r).is_empty());
    assert!(
        stderr(&r).contains("give --reason TEXT: why the pseudonyms are re-identified"),
        "{}",
        stderr(&r)
    );
    // Without a pseudonym key: a usage error.
    let r = custos(&[
        os("reidentify"),
        os("--log"),
        log.as_os_str(),
        os("--key"),
        skey.as_os_str(),
        os("--reason"),
        os("x"),
        os("100.9.15.210"),
    ]);
    assert_eq!(r.status.code(), Some(2));
    assert!(stdout(&r).is_empty());
    assert!(!log.exists());
}
