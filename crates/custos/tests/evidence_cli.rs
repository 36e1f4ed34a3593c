//! Evidence end to end: `custos keygen`, `analyze --evidence --key` (one JCS leaf per alert,
//! a content-addressed pcap excerpt per alert, a signed checkpoint), and `custos verify --log`
//! (all checks pass; a flipped byte, a swapped history or a deleted tile fail).

mod common;

use common::{custos, shared};
use sha2::{Digest, Sha256};
use std::ffi::OsStr;
use std::path::Path;

fn os(s: &str) -> &OsStr {
    OsStr::new(s)
}

fn analyze(
    capture: &Path,
    out: &Path,
    log: &Path,
    key: &Path,
    calibration: &str,
) -> std::process::Output {
    custos(&[
        os("analyze"),
        capture.as_os_str(),
        os("-o"),
        out.as_os_str(),
        os("--quiet"),
        os("--detector"),
        os("kitsune"),
        os("--fm-grace"),
        os("1000"),
        os("--ad-grace"),
        os("10000"),
        os("--calibration"),
        os(calibration),
        os("--evidence"),
        log.as_os_str(),
        os("--key"),
        key.as_os_str(),
        os("--sensor"),
        os("test-sensor"),
    ])
}

fn verify(log: &Path, vkey: &Path) -> (Option<i32>, String) {
    let r = custos(&[
        os("verify"),
        os("--log"),
        log.as_os_str(),
        os("--vkey"),
        vkey.as_os_str(),
    ]);
    (
        r.status.code(),
        String::from_utf8_lossy(&r.stdout).to_string() + &String::from_utf8_lossy(&r.stderr),
    )
}

#[test]
fn alerts_become_verifiable_evidence_and_tampering_is_detected() {
    let Some(shared) = shared() else { return };
    let capture = shared.join("reference/kitsune/iotlab-dev.pcap");
    let dir = tempfile::tempdir().unwrap();
    let prefix = dir.path().join("sensor");
    let r = custos(&[
        os("keygen"),
        os("--name"),
        os("custos.test/sensor"),
        os("-o"),
        prefix.as_os_str(),
    ]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let (skey, vkey) = (prefix.with_extension("skey"), prefix.with_extension("vkey"));
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&skey).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert!(std::fs::read_to_string(&skey)
        .unwrap()
        .starts_with("PRIVATE+KEY+custos.test/sensor+"));
    // Never overwrites a key.
    assert_eq!(
        custos(&[
            os("keygen"),
            os("--name"),
            os("x"),
            os("-o"),
            prefix.as_os_str()
        ])
        .status
        .code(),
        Some(2)
    );

    let log = dir.path().join("log");
    let r = analyze(&capture, &dir.path().join("out1"), &log, &skey, "5000");
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let alerts = std::fs::read_to_string(dir.path().join("out1/alerts.jsonl")).unwrap();
    let n_alerts = alerts.lines().count() as u64;
    assert!(n_alerts > 100);
    let checkpoint = std::fs::read_to_string(log.join("checkpoint")).unwrap();
    assert!(
        checkpoint.starts_with(&format!("custos.test/sensor\n{n_alerts}\n")),
        "{checkpoint}"
    );
    let (code, out) = verify(&log, &vkey);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains(&format!("size {n_alerts}")));
    let last = out.lines().last().unwrap();
    assert!(last.starts_with("verdict: VERIFIED — all "), "{out}");
    assert!(
        last.ends_with(&format!(" checks hold for log {}", log.display())),
        "{out}"
    );

    // The first leaf: canonical JSON naming the capture's hash and an excerpt that exists.
    let bundle = std::fs::read(log.join("tile/entries/000")).unwrap();
    let len = u16::from_be_bytes([bundle[0], bundle[1]]) as usize;
    let leaf = &bundle[2..2 + len];
    let v: serde_json::Value = serde_json::from_slice(leaf).unwrap();
    assert_eq!(
        custos_evidence::canonicalize(&v).unwrap().as_bytes(),
        leaf,
        "leaves are JCS"
    );
    assert_eq!(v["type"], "custos.alert/1");
    let first_alert: serde_json::Value =
        serde_json::from_str(alerts.lines().next().unwrap()).unwrap();
    assert_eq!(v["alert"]["timestamp"], first_alert["timestamp"]);
    assert_eq!(
        v["alert"]["custos"]["packet"],
        first_alert["custos"]["packet"]
    );
    assert_eq!(v["sensor"], "test-sensor");
    assert_eq!(
        v["capture_sha256"].as_str().unwrap(),
        format!("{:x}", Sha256::digest(std::fs::read(&capture).unwrap()))
    );
    assert!(v["model_sha256"].as_str().unwrap().len() == 64);
    let excerpt = std::fs::read(
        log.join("excerpts")
            .join(format!("{}.pcap", v["excerpt_sha256"].as_str().unwrap())),
    )
    .unwrap();
    assert_eq!(
        format!("{:x}", Sha256::digest(&excerpt)),
        v["excerpt_sha256"].as_str().unwrap()
    );
    assert_eq!(&excerpt[..4], &[0x4d, 0x3c, 0xb2, 0xa1], "nanosecond pcap");

    // A witness keeps the first checkpoint elsewhere.
    let witness = dir.path().join("witness-checkpoint");
    std::fs::copy(log.join("checkpoint"), &witness).unwrap();

    // A same-name impostor key is refused before anything is written, and the real key still
    // verifies its log.
    let impostor = dir.path().join("impostor");
    let r = custos(&[
        os("keygen"),
        os("--name"),
        os("custos.test/sensor"),
        os("-o"),
        impostor.as_os_str(),
    ]);
    assert!(r.status.success());
    let r = analyze(
        &capture,
        &dir.path().join("out-impostor"),
        &log,
        &impostor.with_extension("skey"),
        "5000",
    );
    assert_eq!(r.status.code(), Some(2), "an impostor key must be refused");
    assert_eq!(
        std::fs::read_to_string(log.join("checkpoint")).unwrap(),
        checkpoint,
        "the impostor re-signed the log"
    );
    let (code, out) = verify(&log, &vkey);
    assert_eq!(code, Some(0), "{out}");

    // A second run appends; the log must extend the first checkpoint.
    let r = analyze(&capture, &dir.path().join("out2"), &log, &skey, "5000");
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    // Every alert line names its leaf: the first run's from 0, the second's after them.
    for (run, first) in [("out1", 0), ("out2", n_alerts)] {
        let text = std::fs::read_to_string(dir.path().join(run).join("alerts.jsonl")).unwrap();
        for (k, line) in text.lines().enumerate() {
            let a: serde_json::Value = serde_json::from_str(line).unwrap();
            assert_eq!(
                a["custos"]["evidence_leaf"].as_u64(),
                Some(first + k as u64),
                "{run} line {k}"
            );
        }
    }
    let (code, out) = verify(&log, &vkey);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains(&format!("extends earlier checkpoint of size {n_alerts}")),
        "{out}"
    );

    // No examiner (no --who, $USER unset): refused, nothing appended to the log.
    let size_before = std::fs::read_to_string(log.join("checkpoint")).unwrap();
    let r = std::process::Command::new(env!("CARGO_BIN_EXE_custos"))
        .args([
            os("case"),
            os("export"),
            os("--log"),
            log.as_os_str(),
            os("--key"),
        ])
        .arg(&skey)
        .args([os("--alert"), os("3"), os("--reason"), os("t"), os("-o")])
        .arg(dir.path().join("case-nobody"))
        .env_remove("USER")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&r.stderr);
    assert_eq!(r.status.code(), Some(2), "{err}");
    assert!(err.contains("--who"), "{err}");
    assert_eq!(
        std::fs::read_to_string(log.join("checkpoint")).unwrap(),
        size_before,
        "a refused export must not touch the log"
    );

    // A case bundle of two alerts: exported, verified with only the public key, and refused
    // after a single changed byte.
    let case = dir.path().join("case");
    let r = custos(&[
        os("case"),
        os("export"),
        os("--log"),
        log.as_os_str(),
        os("--key"),
        skey.as_os_str(),
        os("--alert"),
        os("3"),
        os("--alert"),
        os("7"),
        os("--reason"),
        os("test ticket"),
        os("--who"),
        os("tester"),
        os("-o"),
        case.as_os_str(),
    ]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    for f in [
        "case.jsonld",
        "manifest.json",
        "alerts.jsonl",
        "custody.json",
        "README.md",
        "vkey",
    ] {
        assert!(case.join(f).exists(), "bundle lacks {f}");
    }
    let r = custos(&[
        os("verify"),
        case.as_os_str(),
        os("--vkey"),
        vkey.as_os_str(),
    ]);
    assert_eq!(
        r.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&r.stdout)
    );
    let mut alerts = std::fs::read(case.join("alerts.jsonl")).unwrap();
    let at = alerts.len() / 2;
    alerts[at] ^= 0x01;
    std::fs::write(case.join("alerts.jsonl"), alerts).unwrap();
    let r = custos(&[
        os("verify"),
        case.as_os_str(),
        os("--vkey"),
        vkey.as_os_str(),
    ]);
    assert_eq!(r.status.code(), Some(1));
    let out = String::from_utf8_lossy(&r.stdout);
    assert!(out.contains("\nFAIL "), "{out}");
    // The checks that held, the failure, and the verdict as the last line.
    assert!(out.starts_with("ok   "), "{out}");
    let last = out.lines().last().unwrap();
    assert!(last.starts_with("verdict: FAILED — 1 of "), "{out}");
    assert!(
        last.ends_with(&format!(
            "checks failed for case {} (verification stops at the first failure)",
            case.display()
        )),
        "{out}"
    );
    // The export's custody leaf and checkpoint extend the log.
    let (code, out) = verify(&log, &vkey);
    assert_eq!(code, Some(0), "{out}");

    // Tampering: flip one byte of each kind of file in a copy of the log.
    for victim in ["tile/entries/000", "tile/0/000", "checkpoint"] {
        let copy = dir
            .path()
            .join(format!("tampered-{}", victim.replace('/', "-")));
        copy_dir(&log, &copy);
        let path = copy.join(victim);
        let mut bytes = std::fs::read(&path).unwrap();
        let at = bytes.len() / 3;
        bytes[at] ^= 0x20;
        std::fs::write(&path, bytes).unwrap();
        let (code, out) = verify(&copy, &vkey);
        assert_eq!(code, Some(1), "{victim}: {out}");
        assert!(out.contains("FAIL"), "{victim}: {out}");
    }

    // A rewritten history: a fresh log signed by the same key replaces the tiles, but the
    // archived earlier checkpoint still names the old root.
    let forged = dir.path().join("forged");
    copy_dir(&log, &forged);
    let other = dir.path().join("other");
    // Another run with another calibration window: other alerts, so another history.
    let r = analyze(&capture, &dir.path().join("out3"), &other, &skey, "4000");
    assert!(r.status.success());
    std::fs::remove_dir_all(forged.join("tile")).unwrap();
    copy_dir(&other.join("tile"), &forged.join("tile"));
    std::fs::copy(other.join("checkpoint"), forged.join("checkpoint")).unwrap();
    let (code, out) = verify(&forged, &vkey);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("FAIL") && out.contains("verdict: FAILED"),
        "{out}"
    );

    // The witness's checkpoint: the real log extends it, the forged one (archive removed, so
    // only the witness remembers the old history) does not.
    let with_witness = |log: &Path| {
        let r = custos(&[
            os("verify"),
            os("--log"),
            log.as_os_str(),
            os("--vkey"),
            vkey.as_os_str(),
            os("--checkpoint"),
            witness.as_os_str(),
        ]);
        (
            r.status.code(),
            String::from_utf8_lossy(&r.stdout).to_string(),
        )
    };
    let (code, out) = with_witness(&log);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("kept elsewhere"), "{out}");
    std::fs::remove_dir_all(forged.join("custos/checkpoints")).unwrap();
    let (code, out) = with_witness(&forged);
    assert_eq!(code, Some(1), "{out}");

    // Rollback: an older archived checkpoint copied over the current one.
    let rolled = dir.path().join("rolled");
    copy_dir(&log, &rolled);
    let oldest = first_file(&rolled.join("custos/checkpoints"));
    std::fs::copy(&oldest, rolled.join("checkpoint")).unwrap();
    let (code, out) = verify(&rolled, &vkey);
    assert_eq!(code, Some(1), "a rollback must fail: {out}");

    // Excerpts are checked: a deleted one fails verification.
    let excerpts = dir.path().join("no-excerpt");
    copy_dir(&log, &excerpts);
    std::fs::remove_file(first_file(&excerpts.join("excerpts"))).unwrap();
    let (code, out) = verify(&excerpts, &vkey);
    assert_eq!(code, Some(1), "a deleted excerpt must fail: {out}");
}

/// The first file of `dir` in name order (archived checkpoints: the oldest).
fn first_file(dir: &Path) -> std::path::PathBuf {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .min()
        .unwrap()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let t = to.join(e.file_name());
        if e.path().is_dir() {
            copy_dir(&e.path(), &t);
        } else {
            std::fs::copy(e.path(), t).unwrap();
        }
    }
}
