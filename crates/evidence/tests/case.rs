//! Case bundles: export by indices, Community ID and time range; offline verification;
//! tampering with any byte, removing files and swapping in older checkpoints is caught;
//! `case.jsonld` passes the CASE validator (`case_validate`) when it is installed.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

#[allow(dead_code)]
mod util;

use custos_evidence::case::{files, time};
use custos_evidence::{
    canonicalize, export_case, leaf_hash, verify_case, verify_inclusion, verify_log, CaseError,
    CaseSelection, Checkpoint, Log, Signer, TlogProof, Verifier,
};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use util::{Rng, TempDir};

const ORIGIN: &str = "custos.test/site1";
const NOW: &str = "2024-06-01T09:30:00+02:00";

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A classic pcap (ns magic) with `n` fake Ethernet/IPv4/TCP frames.
fn pcap(seed: u8, n: usize) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&0xa1b2_3c4du32.to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&4u16.to_le_bytes());
    out.extend_from_slice(&[0; 8]);
    out.extend_from_slice(&262_144u32.to_le_bytes());
    out.extend_from_slice(&1u32.to_le_bytes());
    for k in 0..n {
        let data: Vec<u8> = (0..60)
            .map(|i| seed.wrapping_mul(31).wrapping_add(i + k as u8))
            .collect();
        out.extend_from_slice(&(1_714_564_800u32 + k as u32).to_le_bytes());
        out.extend_from_slice(&(k as u32 * 1000).to_le_bytes());
        out.extend_from_slice(&60u32.to_le_bytes());
        out.extend_from_slice(&60u32.to_le_bytes());
        out.extend_from_slice(&data);
    }
    out
}

struct Fixture {
    _tmp: TempDir,
    log: PathBuf,
    root: PathBuf,
    signer: Signer,
}

const CID_A: &str = "1:wCb3OG7yAFWelaUydu0D+125CLM=";
const CID_B: &str = "1:LQU9qZlK+B5F3KDmev6m5PMibrg=";
const CID_V6: &str = "1:Tx7PgrEWvhJhGsDkL5I3gzeRJ4k=";

/// Community ID, source, destination, source port, destination port, protocol.
type Flow = (
    &'static str,
    &'static str,
    &'static str,
    u16,
    u16,
    &'static str,
);

/// Log: 0 alert A, 1 alert B, 2 other leaf, 3 alert A, 4 alert B (IPv6 flow), 5 alert A.
fn fixture(tag: &str) -> Fixture {
    let tmp = TempDir::new(tag);
    let log_dir = tmp.0.join("log");
    let signer = Signer::from_seed(ORIGIN, &[42; 32]).unwrap();
    let mut log = Log::create(&log_dir, ORIGIN).unwrap();
    std::fs::create_dir_all(log_dir.join("excerpts")).unwrap();
    let capture_sha = hex(&Sha256::digest(b"the capture"));
    let specs: [(Option<Flow>, u32); 6] = [
        (
            Some((CID_A, "192.168.1.10", "10.0.0.1", 40001, 23, "TCP")),
            1,
        ),
        (
            Some((CID_B, "192.168.1.11", "10.0.0.2", 5353, 53, "UDP")),
            2,
        ),
        (None, 3),
        (
            Some((CID_A, "192.168.1.10", "10.0.0.1", 40001, 23, "TCP")),
            4,
        ),
        (
            Some((CID_V6, "fd00::10", "2001:db8::1", 40100, 443, "TCP")),
            5,
        ),
        (
            Some((CID_A, "192.168.1.10", "10.0.0.1", 40001, 23, "TCP")),
            6,
        ),
    ];
    for (k, (spec, sec)) in specs.iter().enumerate() {
        let Some((cid, src, dst, sp, dp, proto)) = spec else {
            let other = canonicalize(&json!({"type": "custos.other/1", "n": k})).unwrap();
            log.append(other.as_bytes()).unwrap();
            continue;
        };
        let x = pcap(k as u8, 1 + k % 3);
        let xsha = hex(&Sha256::digest(&x));
        std::fs::write(log_dir.join(format!("excerpts/{xsha}.pcap")), &x).unwrap();
        let ts = format!("2024-05-01T12:00:{sec:02}.250000+0000");
        let alert = json!({
            "timestamp": ts, "event_type": "alert",
            "src_ip": src, "src_port": sp, "dest_ip": dst, "dest_port": dp, "proto": proto,
            "community_id": cid,
            "alert": {"action": "allowed", "gid": 1, "signature_id": 9_000_001, "rev": 1,
                "signature": "custos kitsune: packet anomaly score above threshold",
                "category": "Anomalous network traffic", "severity": 2},
            "custos": {"detector": "kitsune", "pcap_file": "cap.pcap", "packet": k * 10,
                "score": 0.5 + k as f64, "threshold": 0.25, "model_sha256": null,
                "explanation": [{"autoencoder": 3, "share": 0.75}]}
        });
        let leaf = canonicalize(&json!({
            "type": "custos.alert/1", "alert": alert, "community_id": cid,
            "packets": {"pcap_file": "cap.pcap", "alert_packet": k * 10, "excerpt_packets": 1 + k % 3},
            "capture_sha256": capture_sha, "excerpt_sha256": xsha, "model_sha256": null,
            "custos_version": "0.1.0", "sensor": "sensor-1"
        }))
        .unwrap();
        log.append(leaf.as_bytes()).unwrap();
    }
    log.publish_checkpoint(&signer).unwrap();
    Fixture {
        log: log_dir,
        root: tmp.0.clone(),
        _tmp: tmp,
        signer,
    }
}

fn export(fx: &Fixture, sel: CaseSelection, name: &str) -> PathBuf {
    let out = fx.root.join(name);
    export_case(
        &fx.log,
        &fx.signer,
        &sel,
        "incident 42: telnet brute force",
        "analyst@example.org",
        NOW,
        &out,
    )
    .unwrap();
    out
}

fn all_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(all_files(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}

#[test]
fn export_by_indices_and_verify() {
    let fx = fixture("case-idx");
    let out = fx.root.join("case");
    let s = export_case(
        &fx.log,
        &fx.signer,
        &CaseSelection::Indices(vec![3, 1, 3]),
        "why",
        "who",
        NOW,
        &out,
    )
    .unwrap();
    assert_eq!(s.alerts, vec![1, 3]);
    assert_eq!(s.custody_index, 6);
    assert_eq!(s.checkpoint.size, 7);
    let rep = verify_case(&out, &fx.signer.verifier()).unwrap();
    for c in &rep.checks {
        println!("ok   {c}");
    }
    assert_eq!(rep.alerts, vec![1, 3]);
    assert_eq!(rep.custody_index, 6);
    assert!(rep.checks.iter().any(|c| c.contains("proofs/6.tlog-proof")));

    // The log itself is still valid, holds the custody leaf, and the old checkpoint is archived.
    let r = verify_log(&fx.log, &fx.signer.verifier()).unwrap();
    assert_eq!(r.leaves, 7);
    assert!(fx
        .log
        .join("custos/checkpoints/00000000000000000006")
        .is_file());
    let log = Log::open(&fx.log).unwrap();
    let custody: Value = serde_json::from_slice(&log.read_entry(6).unwrap()).unwrap();
    assert_eq!(custody["type"], "custos.custody/1");
    assert_eq!(custody["action"], "exported");
    assert_eq!(custody["who"], "who");
    assert_eq!(custody["why"], "why");
    assert_eq!(custody["when"], "2024-06-01T07:30:00Z");
    assert_eq!(custody["leaves"], json!([1, 3]));
    let manifest = std::fs::read(out.join("manifest.json")).unwrap();
    assert_eq!(custody["manifest_sha256"], hex(&Sha256::digest(&manifest)));
    assert_eq!(custody["manifest_sha256"], s.manifest_sha256);
    assert_eq!(
        std::fs::read(out.join("custody-leaf.json")).unwrap(),
        log.read_entry(6).unwrap()
    );

    // alerts.jsonl lines are the exact leaves.
    let jsonl = std::fs::read_to_string(out.join("alerts.jsonl")).unwrap();
    let lines: Vec<&str> = jsonl.lines().collect();
    assert_eq!(lines[0].as_bytes(), log.read_entry(1).unwrap().as_slice());
    assert_eq!(lines[1].as_bytes(), log.read_entry(3).unwrap().as_slice());

    // The proof is a C2SP tlog-proof, verifiable by hand.
    let text = std::fs::read(out.join("proofs/3.tlog-proof")).unwrap();
    assert!(text.starts_with(b"c2sp.org/tlog-proof@v1\nindex 3\n"));
    let p = TlogProof::parse(&text).unwrap();
    let cp = Checkpoint::open(&p.checkpoint, &fx.signer.verifier()).unwrap();
    assert_eq!(p.checkpoint, log.read_checkpoint().unwrap().unwrap());
    verify_inclusion(
        3,
        cp.size,
        &leaf_hash(lines[1].as_bytes()),
        &p.hashes,
        &cp.root,
    )
    .unwrap();

    // vkey, custody record, README.
    let vkey = std::fs::read_to_string(out.join("vkey")).unwrap();
    assert_eq!(
        Verifier::from_vkey(vkey.trim()).unwrap().to_vkey(),
        fx.signer.verifier().to_vkey()
    );
    let rec: Value =
        serde_json::from_slice(&std::fs::read(out.join("custody.json")).unwrap()).unwrap();
    let actions: Vec<&str> = rec["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["logged", "logged", "exported"]);
    assert_eq!(rec["events"][0]["when"], "2024-05-01T12:00:02.250000Z");
    assert_eq!(rec["events"][0]["who"], "sensor-1");
    let readme = std::fs::read_to_string(out.join("README.md")).unwrap();
    assert!(
        readme.contains("custos verify")
            && readme.contains("ISO/IEC 27037")
            && readme.contains("sha256sum -c")
    );

    // Standard tools agree, when present.
    match std::process::Command::new("sha256sum")
        .args(["-c", "--quiet", "SHA256SUMS"])
        .current_dir(&out)
        .status()
    {
        Ok(st) => assert!(st.success(), "sha256sum -c failed"),
        Err(e) => custos_test_support::skip(&format!(
            "sha256sum not runnable ({e}): SHA256SUMS not checked with it"
        )),
    }
}

#[test]
fn export_by_community_id_and_time_range() {
    let fx = fixture("case-sel");
    let a = export(&fx, CaseSelection::CommunityId(CID_A.into()), "by-cid");
    let rep = verify_case(&a, &fx.signer.verifier()).unwrap();
    assert_eq!(rep.alerts, vec![0, 3, 5]);
    let b = export(
        &fx,
        CaseSelection::TimeRange {
            from: "2024-05-01T12:00:02.25Z".into(),
            to: "2024-05-01T14:00:05.25+02:00".into(),
        },
        "by-time",
    );
    let rep = verify_case(&b, &fx.signer.verifier()).unwrap();
    assert_eq!(
        rep.alerts,
        vec![1, 3, 4],
        "inclusive on both ends, leaf 2 is not an alert"
    );
    assert_eq!(rep.custody_index, 7);
    // Earlier bundle still verifies after the log grew: it is self-contained.
    verify_case(&a, &fx.signer.verifier()).unwrap();
    // Custody leaves are never selected as alerts.
    let c = export(
        &fx,
        CaseSelection::TimeRange {
            from: "2000-01-01T00:00:00Z".into(),
            to: "2100-01-01T00:00:00Z".into(),
        },
        "all",
    );
    assert_eq!(
        verify_case(&c, &fx.signer.verifier()).unwrap().alerts,
        vec![0, 1, 3, 4, 5]
    );
    let r = verify_log(&fx.log, &fx.signer.verifier()).unwrap();
    assert_eq!(r.leaves, 9);
}

#[test]
fn export_errors() {
    let fx = fixture("case-err");
    let run = |sel: CaseSelection, now: &str, out: &str| {
        export_case(&fx.log, &fx.signer, &sel, "r", "w", now, &fx.root.join(out)).unwrap_err()
    };
    assert!(matches!(
        run(CaseSelection::Indices(vec![2]), NOW, "e1"),
        CaseError::NotAnAlert { index: 2, .. }
    ));
    assert!(matches!(
        run(CaseSelection::Indices(vec![99]), NOW, "e2"),
        CaseError::NotAnAlert { index: 99, .. }
    ));
    assert!(matches!(
        run(CaseSelection::Indices(vec![]), NOW, "e3"),
        CaseError::BadSelection(_)
    ));
    assert!(matches!(
        run(CaseSelection::CommunityId("1:nope".into()), NOW, "e4"),
        CaseError::NothingSelected
    ));
    assert!(matches!(
        run(
            CaseSelection::TimeRange {
                from: "yesterday".into(),
                to: NOW.into()
            },
            NOW,
            "e5"
        ),
        CaseError::BadSelection(_)
    ));
    assert!(matches!(
        run(CaseSelection::Indices(vec![0]), "now", "e6"),
        CaseError::BadTime(_)
    ));
    std::fs::create_dir_all(fx.root.join("full")).unwrap();
    std::fs::write(fx.root.join("full/x"), b"x").unwrap();
    assert!(matches!(
        run(CaseSelection::Indices(vec![0]), NOW, "full"),
        CaseError::OutputExists(_)
    ));
    let other = Signer::from_seed("someone.else/log", &[1; 32]).unwrap();
    let e = export_case(
        &fx.log,
        &other,
        &CaseSelection::Indices(vec![0]),
        "r",
        "w",
        NOW,
        &fx.root.join("e7"),
    )
    .unwrap_err();
    assert!(matches!(e, CaseError::WrongKey { .. }));
    // A damaged excerpt in the log is refused, naming the leaf.
    let leaf: Value =
        serde_json::from_slice(&Log::open(&fx.log).unwrap().read_entry(0).unwrap()).unwrap();
    let xp = fx.log.join(format!(
        "excerpts/{}.pcap",
        leaf["excerpt_sha256"].as_str().unwrap()
    ));
    let mut x = std::fs::read(&xp).unwrap();
    x[30] ^= 1;
    std::fs::write(&xp, &x).unwrap();
    let e = run(CaseSelection::Indices(vec![0]), NOW, "e8");
    assert!(
        matches!(&e, CaseError::HashMismatch { what, .. } if what == "leaf 0 excerpt_sha256"),
        "{e}"
    );
    // verify_log checks excerpts too, and names the leaf and file.
    assert!(matches!(
        verify_log(&fx.log, &fx.signer.verifier()),
        Err(custos_evidence::VerifyError::Excerpt { leaf: 0, .. })
    ));
    // Nothing was appended by the failed exports.
    let tiles_only = custos_evidence::VerifyOptions {
        excerpts: false,
        ..Default::default()
    };
    let r = custos_evidence::verify_log_with(&fx.log, &fx.signer.verifier(), &tiles_only).unwrap();
    assert_eq!(r.leaves, 6);
    assert!(r
        .summary()
        .iter()
        .any(|l| l == "not checked: excerpt files"));
}

#[test]
fn wrong_key_fails() {
    let fx = fixture("case-key");
    let out = export(&fx, CaseSelection::Indices(vec![0]), "case");
    let other = Signer::from_seed(ORIGIN, &[43; 32]).unwrap().verifier();
    let e = verify_case(&out, &other).unwrap_err();
    assert!(matches!(e, CaseError::KeyMismatch { .. }), "{e}");
    // Replacing the bundle's vkey with the other key does not help: the signatures fail.
    std::fs::write(out.join("vkey"), format!("{}\n", other.to_vkey())).unwrap();
    let e = verify_case(&out, &other).unwrap_err();
    assert!(
        matches!(
            e,
            CaseError::Checkpoint { .. } | CaseError::HashMismatch { .. }
        ),
        "{e}"
    );
}

/// Every single-byte change, truncation or extension of any file is caught.
#[test]
fn tampering_with_any_byte_fails() {
    let fx = fixture("case-tamper");
    let out = export(&fx, CaseSelection::Indices(vec![0, 1, 4]), "case");
    let v = fx.signer.verifier();
    verify_case(&out, &v).unwrap();
    let mut rng = Rng(0x5eed_cafe_f00d_0001);
    let mut tried = 0;
    let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
    for path in all_files(&out) {
        let orig = std::fs::read(&path).unwrap();
        let rel = path.strip_prefix(&out).unwrap().display().to_string();
        let mut offsets: Vec<usize> = (0..48)
            .map(|_| rng.below(orig.len() as u64) as usize)
            .collect();
        offsets.extend([0, orig.len() - 1]);
        for off in offsets {
            let mut bad = orig.clone();
            bad[off] ^= 1 + rng.below(255) as u8;
            std::fs::write(&path, &bad).unwrap();
            let e = verify_case(&out, &v)
                .expect_err(&format!("{rel}: byte {off} changed, still verifies"));
            *kinds.entry(format!("{rel}: {}", variant(&e))).or_default() += 1;
            tried += 1;
        }
        for bad in [
            orig[..orig.len() - 1].to_vec(),
            [orig.as_slice(), b"\n"].concat(),
            Vec::new(),
        ] {
            std::fs::write(&path, &bad).unwrap();
            verify_case(&out, &v).expect_err(&format!(
                "{rel}: resized to {} bytes, still verifies",
                bad.len()
            ));
            tried += 1;
        }
        std::fs::write(&path, &orig).unwrap();
        verify_case(&out, &v).unwrap();
    }
    for (k, n) in &kinds {
        println!("{n:4} × {k}");
    }
    println!("{tried} tampered bundles rejected");
    assert!(tried > 500);
}

fn variant(e: &CaseError) -> &'static str {
    match e {
        CaseError::Missing { .. } => "Missing",
        CaseError::UnexpectedFile { .. } => "UnexpectedFile",
        CaseError::HashMismatch { .. } => "HashMismatch",
        CaseError::Malformed { .. } => "Malformed",
        CaseError::Checkpoint { .. } => "Checkpoint",
        CaseError::Inclusion { .. } => "Inclusion",
        CaseError::CheckpointMismatch { .. } => "CheckpointMismatch",
        CaseError::KeyMismatch { .. } => "KeyMismatch",
        _ => "other",
    }
}

#[test]
fn removing_or_adding_a_file_fails() {
    let fx = fixture("case-rm");
    let out = export(&fx, CaseSelection::Indices(vec![0, 3]), "case");
    let v = fx.signer.verifier();
    for path in all_files(&out) {
        let rel = path.strip_prefix(&out).unwrap().display().to_string();
        let orig = std::fs::read(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        let e = verify_case(&out, &v).expect_err(&format!("{rel} removed, still verifies"));
        assert!(
            e.to_string().contains(&rel) || e.to_string().contains("SHA256SUMS"),
            "{rel}: {e}"
        );
        std::fs::write(&path, &orig).unwrap();
    }
    verify_case(&out, &v).unwrap();
    std::fs::write(out.join("extra.txt"), b"planted").unwrap();
    let e = verify_case(&out, &v).unwrap_err();
    assert!(e.to_string().contains("extra.txt"), "{e}");
    std::fs::remove_file(out.join("extra.txt")).unwrap();
    // A stray proof for a leaf the case does not hold.
    std::fs::copy(
        out.join("proofs/0.tlog-proof"),
        out.join("proofs/1.tlog-proof"),
    )
    .unwrap();
    assert!(matches!(
        verify_case(&out, &v).unwrap_err(),
        CaseError::UnexpectedFile { .. }
    ));
}

fn rewrite_sums(dir: &Path) {
    let mut sums = String::new();
    for p in all_files(dir) {
        let rel = p.strip_prefix(dir).unwrap().display().to_string();
        if rel != "SHA256SUMS" {
            sums.push_str(&format!(
                "{}  {rel}\n",
                hex(&Sha256::digest(std::fs::read(&p).unwrap()))
            ));
        }
    }
    std::fs::write(dir.join("SHA256SUMS"), sums).unwrap();
}

/// A valid proof against an older checkpoint does not pass for a newer bundle's proof.
#[test]
fn older_checkpoint_fails() {
    let fx = fixture("case-old");
    let old = export(&fx, CaseSelection::Indices(vec![0, 1]), "old");
    let new = export(&fx, CaseSelection::Indices(vec![0, 1]), "new");
    let v = fx.signer.verifier();
    verify_case(&old, &v).unwrap();
    verify_case(&new, &v).unwrap();

    // 1. The whole proof file from the older bundle (itself valid) — even with SHA256SUMS redone.
    std::fs::copy(
        old.join("proofs/1.tlog-proof"),
        new.join("proofs/1.tlog-proof"),
    )
    .unwrap();
    rewrite_sums(&new);
    let e = verify_case(&new, &v).unwrap_err();
    assert!(
        matches!(&e, CaseError::CheckpointMismatch { file, expected_size: 8, actual_size: 7, .. } if file == "proofs/1.tlog-proof"),
        "{e}"
    );
    println!("older proof: {e}");

    // 2. Only the checkpoint swapped: the inclusion proof no longer leads to its root.
    let fresh = export(&fx, CaseSelection::Indices(vec![0, 1]), "fresh");
    let older_note = TlogProof::parse(&std::fs::read(old.join("proofs/0.tlog-proof")).unwrap())
        .unwrap()
        .checkpoint;
    for i in [0u64, 1, 8] {
        let pf = fresh.join(format!("proofs/{i}.tlog-proof"));
        let mut p = TlogProof::parse(&std::fs::read(&pf).unwrap()).unwrap();
        p.checkpoint = older_note.clone();
        std::fs::write(&pf, p.to_text()).unwrap();
    }
    rewrite_sums(&fresh);
    let e = verify_case(&fresh, &v).unwrap_err();
    assert!(matches!(e, CaseError::Inclusion { .. }), "{e}");
    println!("older checkpoint: {e}");
}

#[test]
fn case_jsonld_shape_and_validator() {
    let fx = fixture("case-jsonld");
    let out = export(&fx, CaseSelection::Indices(vec![0, 1, 4]), "case");
    let doc: Value =
        serde_json::from_slice(&std::fs::read(out.join("case.jsonld")).unwrap()).unwrap();
    let graph = doc["@graph"].as_array().unwrap();
    let types: Vec<&str> = graph.iter().map(|n| n["@type"].as_str().unwrap()).collect();
    for t in [
        "case-investigation:Investigation",
        "case-investigation:InvestigativeAction",
        "case-investigation:ProvenanceRecord",
        "uco-tool:Tool",
        "uco-observable:File",
        "uco-observable:NetworkConnection",
        "uco-observable:IPv4Address",
        "uco-observable:IPv6Address",
    ] {
        assert!(types.contains(&t), "{t} missing from case.jsonld");
    }
    assert_eq!(
        types
            .iter()
            .filter(|t| **t == "uco-observable:NetworkConnection")
            .count(),
        3
    );
    // The export action has custos as its instrument.
    let tool = graph
        .iter()
        .find(|n| n["@type"] == "uco-tool:Tool")
        .unwrap()["@id"]
        .clone();
    let export = graph
        .iter()
        .find(|n| n["uco-core:name"] == "exported")
        .unwrap();
    assert_eq!(export["uco-action:instrument"]["@id"], tool);
    // Every node id ends in a UUID.
    for n in graph {
        let id = n["@id"].as_str().unwrap();
        assert!(id.starts_with("kb:") && id.len() > 36, "{id}");
    }

    let cmd = std::env::var("CASE_VALIDATE").unwrap_or_else(|_| "case_validate".into());
    let required = std::env::var("CUSTOS_REQUIRE_CASE_VALIDATE").as_deref() == Ok("1");
    match std::process::Command::new(&cmd)
        .arg(out.join("case.jsonld"))
        .output()
    {
        Ok(o) => {
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            );
            println!("{cmd}: {}\n{text}", o.status);
            assert!(
                o.status.success(),
                "case_validate rejected case.jsonld:\n{text}"
            );
            assert!(
                !text.contains("NonExistentCDOConceptWarning"),
                "case.jsonld uses a term CASE/UCO does not define:\n{text}"
            );
        }
        Err(e) if !required => {
            custos_test_support::skip(&format!("{cmd} not runnable ({e}); pip install case-utils"))
        }
        Err(e) => panic!("{cmd} not runnable ({e}) and CUSTOS_REQUIRE_CASE_VALIDATE=1"),
    }
}

#[test]
fn rfc3339_times() {
    assert_eq!(
        time::parse_rfc3339("2024-05-01T12:00:01.25Z"),
        Some(1_714_564_801_250_000_000)
    );
    assert_eq!(
        time::format_rfc3339(1_714_564_801_250_000_000),
        "2024-05-01T12:00:01.250000Z"
    );
    assert_eq!(files::MANIFEST, "manifest.json");
}

#[test]
fn failed_verification_keeps_the_checks_that_held() {
    let fx = fixture("case-partial");
    let out = export(&fx, CaseSelection::Indices(vec![0, 3]), "case");
    let v = fx.signer.verifier();
    let mut all = custos_evidence::CaseReport::default();
    custos_evidence::verify_case_into(&out, &v, &mut all).unwrap();
    assert_eq!(all.checks, verify_case(&out, &v).unwrap().checks);
    // Damage the last file checked: every check before it is still reported.
    let mut sums = std::fs::read(out.join(files::SHA256SUMS)).unwrap();
    sums[0] ^= 1;
    std::fs::write(out.join(files::SHA256SUMS), sums).unwrap();
    let mut rep = custos_evidence::CaseReport::default();
    let e = custos_evidence::verify_case_into(&out, &v, &mut rep).unwrap_err();
    assert!(e.to_string().contains(files::SHA256SUMS), "{e}");
    assert!(!rep.checks.is_empty());
    assert_eq!(rep.checks[..], all.checks[..rep.checks.len()]);
    assert!(rep.checks.len() < all.checks.len());
}

#[test]
fn evidence_log_given_as_a_bundle_is_not_a_bundle() {
    let fx = fixture("case-notbundle");
    let e = verify_case(&fx.log, &fx.signer.verifier()).unwrap_err();
    let CaseError::NotABundle { dir, listing } = &e else {
        panic!("{e}")
    };
    assert_eq!(dir, &fx.log);
    assert_eq!(
        listing.names,
        [".state/", "checkpoint", "custos/", "excerpts/", "tile/"]
    );
    assert_eq!(
        e.to_string(),
        format!(
            "{}: not a case bundle (it has none of vkey, manifest.json, custody-leaf.json, proofs/); it holds .state/, checkpoint, custos/, excerpts/, tile/",
            fx.log.display()
        )
    );
}
