//! `custos robust`: split the reference lab capture (shared corpus; skipped when absent), run a
//! small poisoning and a small evasion experiment through the binary, and refuse bad input
//! with exit status 2.

mod common;

use common::custos;
use std::ffi::OsStr;

#[test]
fn robust_split_and_poison_write_a_report() {
    let Some((pcap, labels)) = custos_test_support::kitsune_reference() else {
        return;
    };
    let t = tempfile::tempdir().unwrap();
    let split = t.path().join("split");
    let out = custos(&[
        OsStr::new("robust"),
        OsStr::new("split"),
        pcap.as_os_str(),
        OsStr::new("--labels"),
        labels.as_os_str(),
        OsStr::new("-o"),
        split.as_os_str(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = t.path().join("report");
    let f = |n: &str| split.join(n).into_os_string();
    let args = [
        OsStr::new("robust"),
        OsStr::new("poison"),
        OsStr::new("--train"),
        &f("train.pcap"),
        OsStr::new("--train-labels"),
        &f("train.labels.csv"),
        OsStr::new("--test"),
        &f("test.pcap"),
        OsStr::new("--test-labels"),
        &f("test.labels.csv"),
        OsStr::new("--detector"),
        OsStr::new("flow"),
        OsStr::new("--strategy"),
        OsStr::new("label_flip"),
        OsStr::new("--rates"),
        OsStr::new("0.1"),
        OsStr::new("--trees"),
        OsStr::new("10"),
        OsStr::new("--partitions"),
        OsStr::new("3"),
        OsStr::new("--screen-folds"),
        OsStr::new("0"),
        OsStr::new("-o"),
        report.as_os_str(),
    ];
    let out = custos(&args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("flow / label_flip"), "{err}");
    assert!(report.join("robustness.json").exists());
    assert!(report.join("poison-flow-label_flip.svg").exists());
    // A second run into the same directory is refused without --force.
    let out = custos(&args);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--force"));
}

#[test]
fn robust_poison_names_a_missing_capture() {
    let t = tempfile::tempdir().unwrap();
    let missing = t.path().join("missing.pcap");
    let out = custos(&[
        OsStr::new("robust"),
        OsStr::new("poison"),
        OsStr::new("--train"),
        missing.as_os_str(),
        OsStr::new("--train-labels"),
        missing.as_os_str(),
        OsStr::new("--test"),
        missing.as_os_str(),
        OsStr::new("--test-labels"),
        missing.as_os_str(),
        OsStr::new("-o"),
        t.path().join("r").as_os_str(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("custos: error:") && err.contains("missing.pcap"),
        "{err}"
    );
    assert!(!t.path().join("r/robustness.json").exists());
}

#[test]
fn robust_evade_writes_rates_for_a_combination() {
    let Some((pcap, labels)) = custos_test_support::kitsune_reference() else {
        return;
    };
    let t = tempfile::tempdir().unwrap();
    let report = t.path().join("evade");
    // A model directory whose card receives the results (and whose stale signature goes).
    let model = t.path().join("model");
    std::fs::create_dir_all(&model).unwrap();
    std::fs::write(model.join("model-card.json"), "{\"model_details\": \"m\"}").unwrap();
    std::fs::write(model.join("model.sig"), "stale").unwrap();
    let out = custos(&[
        OsStr::new("robust"),
        OsStr::new("evade"),
        OsStr::new("--model-card"),
        model.as_os_str(),
        pcap.as_os_str(),
        OsStr::new("--labels"),
        labels.as_os_str(),
        OsStr::new("--detector"),
        OsStr::new("kitsune,flow"),
        OsStr::new("--phase"),
        OsStr::new("login"),
        OsStr::new("--queries"),
        OsStr::new("3"),
        OsStr::new("--trees"),
        OsStr::new("5"),
        OsStr::new("--adversarial-samples"),
        OsStr::new("0"),
        OsStr::new("-o"),
        report.as_os_str(),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("kitsune,flow: evaded login"), "{err}");
    let json = std::fs::read_to_string(report.join("robustness.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let rate = &v["evasion_rate"]["kitsune,flow"]["login"];
    assert!(rate.is_f64(), "{json}");
    let e = &v["evasion"][0];
    assert_eq!(e["detector"], "kitsune,flow");
    assert_eq!(e["phase"], "login");
    assert!(e["cost"]["duration_factor"].is_f64() && e["queries"].as_u64().unwrap() <= 3);
    assert_eq!(v["plots"][0], "evasion-rates.svg");
    let svg = std::fs::read_to_string(report.join("evasion-rates.svg")).unwrap();
    assert!(svg.contains("kitsune,flow: login"), "{svg}");
    // The card holds the rates and points at the plot, copied into the model directory.
    let card: serde_json::Value =
        serde_json::from_slice(&std::fs::read(model.join("model-card.json")).unwrap()).unwrap();
    let entry = &card["robustness_evasion"];
    assert_eq!(entry["evasion_rate"], v["evasion_rate"], "{card}");
    assert_eq!(entry["plots"][0], "robustness/evasion-rates.svg");
    assert_eq!(card["model_details"], "m", "other fields kept");
    assert_eq!(
        std::fs::read_to_string(model.join("robustness/evasion-rates.svg")).unwrap(),
        svg
    );
    let md = std::fs::read_to_string(model.join("model-card.md")).unwrap();
    assert!(md.contains("## robustness evasion"), "{md}");
    assert!(
        !model.join("model.sig").exists(),
        "a stale signature is removed"
    );
    assert!(err.contains("signature was removed"), "{err}");
}

#[test]
fn robust_evade_refuses_a_bad_budget() {
    let t = tempfile::tempdir().unwrap();
    let missing = t.path().join("missing.pcap");
    let out = custos(&[
        OsStr::new("robust"),
        OsStr::new("evade"),
        missing.as_os_str(),
        OsStr::new("--labels"),
        missing.as_os_str(),
        OsStr::new("--budget"),
        OsStr::new("duration=0.5"),
        OsStr::new("-o"),
        t.path().join("r").as_os_str(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("duration=0.5 must be at least 1"), "{err}");
}
