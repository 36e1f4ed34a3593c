//! Error messages and exit codes of the built binary, one test per fixed defect:
//! - an error prints each cause once (`custos: error: {e:#}` over errors that either display
//!   their cause or return it from `source()`, never both), and a file that cannot be opened
//!   has no "byte offset 0 (packet 0)";
//! - a file that is not a capture says so and shows how it starts;
//! - `custos verify`: a missing path or a folder that is neither a case bundle nor an evidence
//!   log is a usage / I/O error (exit 2) that says what the folder holds and what `verify`
//!   expects; a secret key given as `--vkey` is named as such without being shown; every run
//!   ends with one verdict line, `verdict: VERIFIED — all N checks hold …` (exit 0) or
//!   `verdict: FAILED — 1 of N checks failed …` (exit 1);
//! - output into a pipe that was closed (`custos lab show NAME | head -1`) ends quietly with
//!   exit 0, never a panic.

mod common;

use common::custos;
use custos_evidence::{canonicalize, Log, Signer};
use serde_json::json;
use sha2::{Digest, Sha256};
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Output;

fn os(s: &str) -> &OsStr {
    OsStr::new(s)
}

fn stderr(r: &Output) -> String {
    String::from_utf8_lossy(&r.stderr).into_owned()
}

fn stdout(r: &Output) -> String {
    String::from_utf8_lossy(&r.stdout).into_owned()
}

fn analyze(capture: &Path, out: &Path) -> Output {
    custos(&[
        os("analyze"),
        capture.as_os_str(),
        os("-o"),
        out.as_os_str(),
        os("--quiet"),
    ])
}

/// `custos keygen` into `dir`: the (.skey, .vkey) paths.
fn keygen(dir: &Path) -> (PathBuf, PathBuf) {
    let prefix = dir.join("sensor");
    let r = custos(&[
        os("keygen"),
        os("--name"),
        os("custos.test/errors"),
        os("-o"),
        prefix.as_os_str(),
    ]);
    assert!(r.status.success(), "{}", stderr(&r));
    (prefix.with_extension("skey"), prefix.with_extension("vkey"))
}

fn verify(target: &[&OsStr], vkey: &Path) -> Output {
    let mut args = vec![os("verify")];
    args.extend_from_slice(target);
    args.extend([os("--vkey"), vkey.as_os_str()]);
    custos(&args)
}

/// The stdout lines of a verification, checked to end in exactly one verdict line.
fn verdict(r: &Output) -> String {
    let out = stdout(r);
    let last = out.lines().last().unwrap_or_default().to_string();
    assert!(last.starts_with("verdict: "), "no verdict line:\n{out}");
    assert_eq!(out.matches("verdict: ").count(), 1, "{out}");
    last
}

/// A classic pcap with one 60-byte frame.
fn tiny_pcap() -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&0xa1b2_3c4du32.to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&4u16.to_le_bytes());
    out.extend_from_slice(&[0; 8]);
    out.extend_from_slice(&262_144u32.to_le_bytes());
    out.extend_from_slice(&1u32.to_le_bytes());
    out.extend_from_slice(&1_714_564_800u32.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&60u32.to_le_bytes());
    out.extend_from_slice(&60u32.to_le_bytes());
    out.extend_from_slice(&[0x42; 60]);
    out
}

/// An evidence log in `dir/log` signed with `skey`, holding two alert leaves (with their
/// excerpts) as `custos analyze --evidence` writes them.
fn evidence_log(dir: &Path, skey: &Path) -> PathBuf {
    let log_dir = dir.join("log");
    let signer = Signer::from_skey(std::fs::read_to_string(skey).unwrap().trim()).unwrap();
    let mut log = Log::create(&log_dir, signer.name()).unwrap();
    std::fs::create_dir_all(log_dir.join("excerpts")).unwrap();
    let excerpt = tiny_pcap();
    let xsha = format!("{:x}", Sha256::digest(&excerpt));
    std::fs::write(log_dir.join(format!("excerpts/{xsha}.pcap")), &excerpt).unwrap();
    let cid = "1:wCb3OG7yAFWelaUydu0D+125CLM=";
    for k in 0..2u32 {
        let alert = json!({
            "timestamp": format!("2024-05-01T12:00:0{k}.250000+0000"), "event_type": "alert",
            "src_ip": "192.168.1.10", "src_port": 40001, "dest_ip": "10.0.0.1", "dest_port": 23,
            "proto": "TCP", "community_id": cid,
            "alert": {"action": "allowed", "gid": 1, "signature_id": 9_000_001, "rev": 1,
                "signature": "custos kitsune: packet anomaly score above threshold",
                "category": "Anomalous network traffic", "severity": 2},
            "custos": {"detector": "kitsune", "pcap_file": "cap.pcap", "packet": k,
                "score": 1.5, "threshold": 0.25, "model_sha256": null}
        });
        let leaf = canonicalize(&json!({
            "type": "custos.alert/1", "alert": alert, "community_id": cid,
            "packets": {"pcap_file": "cap.pcap", "alert_packet": k, "excerpt_packets": 1},
            "capture_sha256": format!("{:x}", Sha256::digest(b"the capture")),
            "excerpt_sha256": xsha, "model_sha256": null,
            "custos_version": "0.1.0", "sensor": "sensor-1"
        }))
        .unwrap();
        log.append(leaf.as_bytes()).unwrap();
    }
    log.publish_checkpoint(&signer).unwrap();
    log_dir
}

#[test]
fn missing_capture_names_the_open_failure_once_without_a_position() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nosuch.pcap");
    let r = analyze(&missing, &dir.path().join("out"));
    assert_eq!(r.status.code(), Some(2));
    let err = stderr(&r);
    assert!(
        err.contains(&format!(
            "{}: cannot open: No such file or directory (os error 2)",
            missing.display()
        )),
        "{err}"
    );
    assert_eq!(
        err.matches("No such file or directory").count(),
        1,
        "cause repeated: {err}"
    );
    assert!(!err.contains("i/o error"), "{err}");
    assert!(!err.contains("byte offset"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn directory_as_capture_cannot_be_opened() {
    let dir = tempfile::tempdir().unwrap();
    let r = analyze(dir.path(), &dir.path().join("out"));
    assert_eq!(r.status.code(), Some(2));
    let err = stderr(&r);
    assert!(
        err.contains(&format!(
            "{}: cannot open: is a directory",
            dir.path().display()
        )),
        "{err}"
    );
    assert!(!err.contains("byte offset"), "{err}");
}

#[test]
fn text_file_as_capture_says_it_is_not_one_and_how_it_starts() {
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "hello world\n").unwrap();
    let r = analyze(&text, &dir.path().join("out"));
    assert_eq!(r.status.code(), Some(2));
    let err = stderr(&r);
    assert!(
        err.contains(&format!(
            "{}: not a pcap or pcapng file: starts with \"hello wo\" (magic 0x68656c6c)",
            text.display()
        )),
        "{err}"
    );
    assert_eq!(err.matches("magic").count(), 1, "cause repeated: {err}");
    assert!(!err.contains("unknown capture format"), "{err}");
    assert!(!err.contains("byte offset"), "{err}");
}

#[test]
fn verify_of_a_missing_path_is_an_io_error() {
    let dir = tempfile::tempdir().unwrap();
    let (_, vkey) = keygen(dir.path());
    let missing = dir.path().join("nosuch");
    for target in [
        vec![missing.as_os_str()],
        vec![os("--log"), missing.as_os_str()],
    ] {
        let r = verify(&target, &vkey);
        let err = stderr(&r);
        assert_eq!(r.status.code(), Some(2), "{target:?}: {err}");
        assert!(
            err.contains(&format!(
                "{}: No such file or directory (os error 2)",
                missing.display()
            )),
            "{err}"
        );
        assert_eq!(err.matches("No such file").count(), 1, "{err}");
        assert!(stdout(&r).is_empty(), "no check was run: {}", stdout(&r));
    }
}

#[test]
fn verify_of_an_analysis_output_folder_says_what_it_is_and_what_verify_expects() {
    let dir = tempfile::tempdir().unwrap();
    let (_, vkey) = keygen(dir.path());
    let out = dir.path().join("out");
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../samples/iot-small.pcap");
    let r = analyze(&sample, &out);
    assert!(r.status.success(), "{}", stderr(&r));
    for (target, not) in [
        (vec![out.as_os_str()], "not a case bundle"),
        (vec![os("--log"), out.as_os_str()], "not an evidence log"),
    ] {
        let r = verify(&target, &vkey);
        let err = stderr(&r);
        assert_eq!(r.status.code(), Some(2), "{target:?}: {err}");
        assert!(err.contains(&format!("{}: {not}", out.display())), "{err}");
        assert!(err.contains("it holds conn.log"), "{err}");
        assert!(
            err.contains("it looks like an output folder of `custos analyze`"),
            "{err}"
        );
        assert!(err.contains("`custos case export`"), "{err}");
        assert!(err.contains("--log LOGDIR --vkey KEY"), "{err}");
        assert!(!err.contains("FAIL"), "{err}");
        assert!(stdout(&r).is_empty(), "no check was run: {}", stdout(&r));
    }
}

#[test]
fn verify_with_a_secret_key_as_vkey_names_it_without_showing_it() {
    let dir = tempfile::tempdir().unwrap();
    let (skey, vkey) = keygen(dir.path());
    let log = evidence_log(dir.path(), &skey);
    let r = verify(&[os("--log"), log.as_os_str()], &skey);
    let err = stderr(&r);
    assert_eq!(r.status.code(), Some(2), "{err}");
    assert!(
        err.contains(&format!(
            "{} is a secret signing key (PRIVATE+KEY+…), not a verifier key: give {} instead",
            skey.display(),
            vkey.display()
        )),
        "{err}"
    );
    assert!(!err.contains("8 hex digits"), "{err}");
    let secret = std::fs::read_to_string(&skey).unwrap();
    // PRIVATE+KEY+<name>+<id>+<base64 key>; the base64 may itself hold '+'.
    let material = secret.trim().splitn(5, '+').nth(4).unwrap();
    assert!(material.len() > 40, "{material}");
    assert!(
        !err.contains(material),
        "secret key material printed: {err}"
    );
    assert!(!stdout(&r).contains(material));
}

#[test]
fn verify_of_a_log_ends_with_a_verdict_line() {
    let dir = tempfile::tempdir().unwrap();
    let (skey, vkey) = keygen(dir.path());
    let log = evidence_log(dir.path(), &skey);
    // Given as a case bundle: not one, and the error says how to verify it.
    let r = verify(&[log.as_os_str()], &vkey);
    let err = stderr(&r);
    assert_eq!(r.status.code(), Some(2), "{err}");
    assert!(
        err.contains(&format!(
            "it looks like an evidence log: verify it with `custos verify --log {} --vkey KEY`",
            log.display()
        )),
        "{err}"
    );
    // Checkpoint, tree, and the archived copy of the checkpoint the log was published with.
    let r = verify(&[os("--log"), log.as_os_str()], &vkey);
    assert_eq!(r.status.code(), Some(0), "{}", stdout(&r));
    assert_eq!(
        verdict(&r),
        format!(
            "verdict: VERIFIED — all 3 checks hold for log {}",
            log.display()
        ),
        "{}",
        stdout(&r)
    );
    // A flipped byte in the hash tile: the checkpoint still holds, the tree does not.
    let tile = log.join("tile/0/000.p/2");
    let mut bytes = std::fs::read(&tile).unwrap();
    bytes[5] ^= 1;
    std::fs::write(&tile, bytes).unwrap();
    let r = verify(&[os("--log"), log.as_os_str()], &vkey);
    assert_eq!(r.status.code(), Some(1), "{}", stdout(&r));
    let out = stdout(&r);
    assert!(out.starts_with("ok   checkpoint: "), "{out}");
    assert!(out.contains("\nFAIL log "), "{out}");
    assert_eq!(
        verdict(&r),
        format!(
            "verdict: FAILED — 1 of 2 checks failed for log {} (verification stops at the first failure)",
            log.display()
        )
    );
    // A bad checkpoint: the first check fails.
    std::fs::write(log.join("checkpoint"), "custos.test/errors\n2\n").unwrap();
    let r = verify(&[os("--log"), log.as_os_str()], &vkey);
    assert_eq!(r.status.code(), Some(1), "{}", stdout(&r));
    let out = stdout(&r);
    assert!(out.starts_with("FAIL log "), "{out}");
    assert!(
        out.contains("checkpoint: note has no signature block"),
        "{out}"
    );
    assert!(verdict(&r).starts_with("verdict: FAILED — 1 of 1 checks failed for log"));
}

#[test]
fn failed_case_verification_shows_the_checks_that_held_and_a_verdict() {
    let dir = tempfile::tempdir().unwrap();
    let (skey, vkey) = keygen(dir.path());
    let log = evidence_log(dir.path(), &skey);
    let case = dir.path().join("case");
    let r = custos(&[
        os("case"),
        os("export"),
        os("--log"),
        log.as_os_str(),
        os("--key"),
        skey.as_os_str(),
        os("--alert"),
        os("1"),
        os("--reason"),
        os("test"),
        os("--who"),
        os("tester"),
        os("-o"),
        case.as_os_str(),
    ]);
    assert!(r.status.success(), "{}", stderr(&r));
    let r = verify(&[case.as_os_str()], &vkey);
    assert_eq!(r.status.code(), Some(0), "{}", stdout(&r));
    let held = stdout(&r)
        .lines()
        .filter(|l| l.starts_with("ok   "))
        .count();
    assert!(held > 3);
    assert_eq!(
        verdict(&r),
        format!(
            "verdict: VERIFIED — all {held} checks hold for case {}",
            case.display()
        )
    );
    // The last file checked is damaged: every check before it is shown, then the failure.
    let sums = case.join("SHA256SUMS");
    let mut bytes = std::fs::read(&sums).unwrap();
    bytes[0] ^= 1;
    std::fs::write(&sums, bytes).unwrap();
    let r = verify(&[case.as_os_str()], &vkey);
    assert_eq!(r.status.code(), Some(1), "{}", stdout(&r));
    let out = stdout(&r);
    let ok = out.lines().filter(|l| l.starts_with("ok   ")).count();
    assert!(ok > 0 && ok < held, "{out}");
    assert_eq!(out.lines().filter(|l| l.starts_with("FAIL ")).count(), 1);
    assert_eq!(
        verdict(&r),
        format!(
            "verdict: FAILED — 1 of {} checks failed for case {} (verification stops at the first failure)",
            ok + 1,
            case.display()
        )
    );
}

#[test]
fn a_closed_output_pipe_ends_quietly() {
    for args in [&["lab", "show", "mirai-like"][..], &["lab", "list"]] {
        // The read end is closed before custos starts, so its first write fails (EPIPE).
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let r = std::process::Command::new(env!("CARGO_BIN_EXE_custos"))
            .args(args)
            .stdout(writer)
            .output()
            .unwrap();
        let err = stderr(&r);
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert_eq!(r.status.code(), Some(0), "{args:?}: {err}");
    }
}
