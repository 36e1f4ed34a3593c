//! Audited re-identification: a re-identification leaf is appended and signed only to an
//! existing log with its own key, `verify_log` lists it as the audit trail, and case export
//! of alerts still works (and skips it) when the log holds such leaves.

use crate::util::TempDir;
use custos_evidence::{
    canonicalize, export_case, log_reidentification, verify_case, verify_log, AuditError, AuditKey,
    CaseSelection, Log, LogError, ReidentificationLeaf, Reidentified, Signer,
    REIDENTIFICATION_TYPE,
};
use serde_json::json;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const ORIGIN: &str = "custos.test/audit";

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A log with leaf 0 an alert (with its excerpt), leaf 1 another record; checkpoint signed.
fn log_with_an_alert(tmp: &TempDir, signer: &Signer) -> PathBuf {
    let dir = tmp.0.join("log");
    let mut log = Log::create_signed(&dir, signer).unwrap();
    std::fs::create_dir_all(dir.join("excerpts")).unwrap();
    let excerpt = b"not really a pcap, but hashed like one".to_vec();
    let xsha = hex(&Sha256::digest(&excerpt));
    std::fs::write(dir.join(format!("excerpts/{xsha}.pcap")), &excerpt).unwrap();
    let alert = canonicalize(&json!({
        "type": "custos.alert/1",
        "alert": {"timestamp": "2024-05-01T12:00:01.250000+0000", "event_type": "alert",
            "src_ip": "192.168.1.10", "src_port": 40001, "dest_ip": "10.0.0.1",
            "dest_port": 23, "proto": "TCP", "community_id": "1:wCb3OG7yAFWelaUydu0D+125CLM=",
            "alert": {"signature_id": 9_000_001, "signature": "custos kitsune", "severity": 2}},
        "community_id": "1:wCb3OG7yAFWelaUydu0D+125CLM=",
        "packets": {"pcap_file": "cap.pcap", "alert_packet": 7, "excerpt_packets": 1},
        "capture_sha256": hex(&Sha256::digest(b"capture")), "excerpt_sha256": xsha,
        "model_sha256": null, "custos_version": "0.1.0", "sensor": "sensor-1"
    }))
    .unwrap();
    log.append(alert.as_bytes()).unwrap();
    log.append(b"another record").unwrap();
    log.publish_checkpoint(signer).unwrap();
    dir
}

fn record(key: &AuditKey, who: &str) -> ReidentificationLeaf {
    ReidentificationLeaf {
        kind: REIDENTIFICATION_TYPE.into(),
        who: who.into(),
        when: "2026-12-02T10:11:12Z".into(),
        why: "ticket 4711: which camera scanned the NAS?".into(),
        pseudonym_key: "0123456789abcdef".into(),
        mac_keep_oui: false,
        pseudonyms: vec![
            Reidentified {
                kind: "ip".into(),
                pseudonym: "100.9.15.210".into(),
                original_hmac: key.original_hmac("ip", "24.5.0.80"),
            },
            Reidentified {
                kind: "mac".into(),
                pseudonym: "5a:01:02:03:04:05".into(),
                original_hmac: key.original_hmac("mac", "02:c5:18:00:00:0a"),
            },
        ],
        custos_version: "0.1.0".into(),
    }
}

/// Every file under `dir` with its bytes (the writer's lock file aside).
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.file_name().is_some_and(|n| n != "lock") {
                out.insert(p.clone(), std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

#[test]
fn reidentification_is_logged_signed_and_listed_as_the_audit_trail() {
    let tmp = TempDir::new("audit-log");
    let signer = Signer::from_seed(ORIGIN, &[9; 32]).unwrap();
    let dir = log_with_an_alert(&tmp, &signer);
    let key = AuditKey::derive(&[7; 64]);
    let rec = record(&key, "alice");
    let logged = log_reidentification(&dir, &signer, &rec).unwrap();
    assert_eq!(logged.index, 2);
    assert_eq!(logged.checkpoint.size, 3);
    // The previous checkpoint is archived; the new one too.
    assert!(dir
        .join("custos/checkpoints/00000000000000000002")
        .is_file());
    assert!(dir
        .join("custos/checkpoints/00000000000000000003")
        .is_file());

    let leaf = Log::open(&dir).unwrap().read_entry(2).unwrap();
    assert_eq!(leaf, rec.to_leaf().unwrap().as_bytes());
    let text = String::from_utf8(leaf).unwrap();
    assert!(!text.contains("24.5.0.80") && !text.contains("02:c5:18:00:00:0a"));

    let report = verify_log(&dir, &signer.verifier()).unwrap();
    assert_eq!(report.leaves, 3);
    assert_eq!(report.audit.len(), 1);
    assert_eq!(report.audit[0].index, 2);
    assert_eq!(report.audit[0].record.as_ref().unwrap(), &rec);
    let trail = report.audit_trail();
    assert_eq!(
        trail,
        vec![
            "audit trail: 1 re-identification (custos reidentify) in the log".to_string(),
            "  leaf 2: 2026-12-02T10:11:12Z who \"alice\" why \"ticket 4711: which camera \
             scanned the NAS?\" key 0123456789abcdef — 2 pseudonyms: 100.9.15.210 \
             5a:01:02:03:04:05"
                .to_string(),
        ]
    );
    // Whoever holds the key can tell what was revealed.
    let back = report.audit[0].record.as_ref().unwrap();
    assert_eq!(key.revealed_in(back, "mac", "02:c5:18:00:00:0a"), vec![1]);

    // A second one: the trail lists both, in order.
    log_reidentification(&dir, &signer, &record(&key, "bob")).unwrap();
    let report = verify_log(&dir, &signer.verifier()).unwrap();
    let who: Vec<&str> = report
        .audit
        .iter()
        .map(|e| e.record.as_ref().unwrap().who.as_str())
        .collect();
    assert_eq!(who, ["alice", "bob"]);
    assert_eq!(
        report.audit_trail()[0],
        "audit trail: 2 re-identifications (custos reidentify) in the log"
    );
}

#[test]
fn a_log_without_reidentification_says_so() {
    let tmp = TempDir::new("audit-none");
    let signer = Signer::from_seed(ORIGIN, &[9; 32]).unwrap();
    let dir = log_with_an_alert(&tmp, &signer);
    let report = verify_log(&dir, &signer.verifier()).unwrap();
    assert!(report.audit.is_empty());
    assert_eq!(
        report.audit_trail(),
        ["audit trail: no re-identification (custos reidentify) in the log"]
    );
}

#[test]
fn refuses_keys_that_are_not_the_logs_and_leaves_the_log_unchanged() {
    let tmp = TempDir::new("audit-keys");
    let signer = Signer::from_seed(ORIGIN, &[9; 32]).unwrap();
    let dir = log_with_an_alert(&tmp, &signer);
    let before = snapshot(&dir);
    let rec = record(&AuditKey::derive(b"k"), "mallory");

    // Same name, another key: refused by the log's key binding.
    let impostor = Signer::from_seed(ORIGIN, &[10; 32]).unwrap();
    let err = log_reidentification(&dir, &impostor, &rec).unwrap_err();
    assert!(
        matches!(err, AuditError::Log(LogError::WrongKey { .. })),
        "{err}"
    );
    assert!(err.to_string().contains("refusing key"), "{err}");
    assert_eq!(snapshot(&dir), before);

    // Another name.
    let other = Signer::from_seed("custos.test/other", &[9; 32]).unwrap();
    let err = log_reidentification(&dir, &other, &rec).unwrap_err();
    assert!(
        matches!(&err, AuditError::WrongKey { log, key } if log == ORIGIN && key == "custos.test/other"),
        "{err}"
    );
    assert_eq!(snapshot(&dir), before);
    assert_eq!(verify_log(&dir, &signer.verifier()).unwrap().leaves, 2);
}

#[test]
fn refuses_a_missing_log_without_creating_it() {
    let tmp = TempDir::new("audit-missing");
    let signer = Signer::from_seed(ORIGIN, &[9; 32]).unwrap();
    let dir = tmp.0.join("nolog");
    let err =
        log_reidentification(&dir, &signer, &record(&AuditKey::derive(b"k"), "a")).unwrap_err();
    assert!(
        matches!(err, AuditError::Log(LogError::NotALog(_))),
        "{err}"
    );
    assert!(!dir.exists());
}

#[test]
fn refuses_a_log_that_never_published_a_checkpoint() {
    let tmp = TempDir::new("audit-nocp");
    let signer = Signer::from_seed(ORIGIN, &[9; 32]).unwrap();
    let dir = tmp.0.join("log");
    drop(Log::create_signed(&dir, &signer).unwrap());
    let err =
        log_reidentification(&dir, &signer, &record(&AuditKey::derive(b"k"), "a")).unwrap_err();
    assert!(matches!(err, AuditError::NoCheckpoint(_)), "{err}");
    assert!(!dir.join("checkpoint").exists());
}

#[test]
fn refuses_incomplete_wrong_and_oversized_records_before_opening_the_log() {
    let tmp = TempDir::new("audit-records");
    let signer = Signer::from_seed(ORIGIN, &[9; 32]).unwrap();
    let dir = log_with_an_alert(&tmp, &signer);
    let before = snapshot(&dir);
    let key = AuditKey::derive(b"k");
    let cases: Vec<(ReidentificationLeaf, &str)> = vec![
        (
            ReidentificationLeaf {
                who: " ".into(),
                ..record(&key, "x")
            },
            "a re-identification record needs who",
        ),
        (
            ReidentificationLeaf {
                why: String::new(),
                ..record(&key, "x")
            },
            "a re-identification record needs why",
        ),
        (
            ReidentificationLeaf {
                pseudonyms: Vec::new(),
                ..record(&key, "x")
            },
            "a re-identification record needs at least one pseudonym",
        ),
        (
            ReidentificationLeaf {
                kind: "custos.alert/1".into(),
                ..record(&key, "x")
            },
            "not a re-identification record: type \"custos.alert/1\"",
        ),
    ];
    for (rec, want) in cases {
        let err = log_reidentification(&dir, &signer, &rec).unwrap_err();
        assert_eq!(err.to_string(), want);
    }
    let mut big = record(&key, "x");
    let one = big.pseudonyms[0].clone();
    big.pseudonyms = vec![one; 1000];
    let err = log_reidentification(&dir, &signer, &big).unwrap_err();
    assert!(
        matches!(err, AuditError::TooLarge { bytes } if bytes > 65_535),
        "{err}"
    );
    assert!(err
        .to_string()
        .contains("re-identify fewer pseudonyms at a time"));
    assert_eq!(snapshot(&dir), before);
}

#[test]
fn case_export_of_alerts_works_beside_reidentification_leaves() {
    let tmp = TempDir::new("audit-case");
    let signer = Signer::from_seed(ORIGIN, &[9; 32]).unwrap();
    let dir = log_with_an_alert(&tmp, &signer);
    log_reidentification(&dir, &signer, &record(&AuditKey::derive(b"k"), "alice")).unwrap();
    let now = "2026-12-02T11:00:00Z";
    for (name, sel) in [
        ("by-index", CaseSelection::Indices(vec![0])),
        (
            "by-flow",
            CaseSelection::CommunityId("1:wCb3OG7yAFWelaUydu0D+125CLM=".into()),
        ),
        (
            "by-time",
            CaseSelection::TimeRange {
                from: "2024-05-01T00:00:00Z".into(),
                to: "2024-05-02T00:00:00Z".into(),
            },
        ),
    ] {
        let out = tmp.0.join(name);
        let s = export_case(&dir, &signer, &sel, "incident 42", "analyst", now, &out).unwrap();
        assert_eq!(s.alerts, vec![0], "{name}");
        verify_case(&out, &signer.verifier()).unwrap();
        let alerts = std::fs::read_to_string(out.join("alerts.jsonl")).unwrap();
        assert!(!alerts.contains(REIDENTIFICATION_TYPE), "{name}");
    }
    // The re-identification leaf itself is not an alert.
    let err = export_case(
        &dir,
        &signer,
        &CaseSelection::Indices(vec![2]),
        "r",
        "analyst",
        now,
        &tmp.0.join("leaf2"),
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("leaf 2: not an alert leaf (type \"custos.reidentification/1\")"),
        "{err}"
    );
    // Custody leaves (3 exports) and the audit trail verify together.
    let report = verify_log(&dir, &signer.verifier()).unwrap();
    assert_eq!(report.leaves, 6);
    assert_eq!(report.audit.len(), 1);
}
