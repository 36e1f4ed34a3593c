//! Alert-based metrics on hand-made run folders: phase recall, detection delay, false alerts
//! per benign hour, flows, several inputs, skipped packets, compressed files, bad inputs.

mod util;

use custos_eval::{evaluate, EvalConfig, EvalError, Metrics, Skip};
use util::{FakeRun, Pkt};

/// 20 packets one second apart: scan on 5..=8, flood on 12..=15.
fn tiny_packets() -> Vec<Pkt> {
    (0..20)
        .map(|i| {
            let phase = match i {
                5..=8 => Some("scan".to_string()),
                12..=15 => Some("flood".to_string()),
                _ => None,
            };
            let score = if phase.is_some() { 0.9 } else { 0.1 };
            Pkt {
                scores: vec![score],
                phase,
            }
        })
        .collect()
}

/// The tiny run with alerts and flows.
fn tiny_run() -> FakeRun {
    let run = FakeRun::new(&[tiny_packets()], &["score"], &[("det", 0.5)]);
    run.alerts(
        &[
            ("det", 0, 3, 0.6, Some("1:b")),
            ("det", 0, 7, 0.9, Some("1:s")),
            ("rules", 0, 9, 1.0, None),
            ("det", 0, 13, 0.9, Some("1:f")),
            ("det", 0, 14, 0.9, Some("1:f")),
        ],
        &[0],
    );
    run.flows(&[
        (0, 1, 4, "1:b"),
        (0, 5, 8, "1:s"),
        (0, 12, 15, "1:f"),
        (0, 16, 19, "1:g"),
    ]);
    run
}

fn eval(run: &FakeRun, skip: Skip) -> Result<Metrics, EvalError> {
    evaluate(&EvalConfig {
        run_dir: run.path().to_path_buf(),
        labels: run.labels.clone(),
        skip,
    })
    .map(|e| e.metrics().clone())
}

#[test]
fn phase_recall_and_delay_on_a_tiny_run() {
    let m = eval(&tiny_run(), Skip::None).unwrap();
    assert_eq!((m.packets, m.attack_packets, m.benign_packets), (20, 8, 12));
    // 19 s of capture minus two 3 s attack segments.
    assert!((m.benign_hours - 13.0 / 3600.0).abs() < 1e-15);
    let names: Vec<&str> = m.detectors.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(names, ["det", "rules"]);
    let det = &m.detectors[0];
    assert_eq!(det.threshold, Some(0.5));
    assert_eq!(det.packet.as_ref().unwrap().roc_auc, Some(1.0));
    let a = &det.alerts;
    assert_eq!((a.total, a.on_attack, a.on_benign), (4, 3, 1));
    assert_eq!(a.precision, Some(0.75));
    assert_eq!(a.phase_recall, Some(1.0));
    assert!((a.false_alerts_per_hour.unwrap() - 3600.0 / 13.0).abs() < 1e-9);
    let (scan, flood) = (&det.phases[0], &det.phases[1]);
    assert_eq!(
        (scan.name.as_str(), scan.caught, scan.alerts),
        ("scan", true, 1)
    );
    assert_eq!(scan.first_alert_packet, Some(7));
    assert_eq!(scan.delay_seconds, Some(2.0));
    assert_eq!(scan.delay_packets, Some(2));
    assert_eq!((flood.name.as_str(), flood.alerts), ("flood", 2));
    assert_eq!(
        (flood.delay_seconds, flood.delay_packets),
        (Some(1.0), Some(1))
    );
    let f = det.flows.as_ref().unwrap();
    assert_eq!((f.attack_alerted, f.recall), (2, Some(1.0)));
    assert_eq!((f.benign_alerted, f.false_positive_rate), (1, Some(0.5)));
    assert_eq!(f.alerts_without_flow, 0);

    // A detector that only alerted: no packet metrics, and it caught no phase.
    let rules = &m.detectors[1];
    assert!(rules.packet.is_none());
    assert_eq!(rules.threshold_source.as_deref(), Some("alerts.jsonl"));
    assert_eq!(rules.alerts.phase_recall, Some(0.0));
    assert!(rules
        .phases
        .iter()
        .all(|p| !p.caught && p.delay_seconds.is_none()));
    assert_eq!(rules.flows.as_ref().unwrap().alerts_without_flow, 1);
}

#[test]
fn a_phase_without_alerts_is_missed() {
    let run = FakeRun::new(&[tiny_packets()], &["score"], &[("det", 0.5)]);
    run.alerts(&[("det", 0, 13, 0.9, None)], &[0]);
    let m = eval(&run, Skip::None).unwrap();
    let det = &m.detectors[0];
    assert!(!det.phases[0].caught);
    assert_eq!(det.phases[0].first_alert_packet, None);
    assert!(det.phases[1].caught);
    assert_eq!(det.alerts.phase_recall, Some(0.5));
    assert!(m.flows.is_none() && det.flows.is_none());
}

#[test]
fn two_inputs_offset_indices_by_packet_count() {
    let benign: Vec<Pkt> = (0..10)
        .map(|_| Pkt {
            scores: vec![0.1],
            phase: None,
        })
        .collect();
    let mut second = benign.clone();
    for p in &mut second[2..=4] {
        p.phase = Some("scan".into());
    }
    let run = FakeRun::new(&[benign, second], &["score"], &[("det", 0.5)]);
    run.alerts(&[("det", 1, 3, 0.9, None)], &[0, 10]);
    let m = eval(&run, Skip::None).unwrap();
    assert_eq!(m.phases[0].first_packet, 12);
    let scan = &m.detectors[0].phases[0];
    assert_eq!(scan.first_alert_packet, Some(13));
    assert_eq!(
        (scan.delay_seconds, scan.delay_packets),
        (Some(1.0), Some(1))
    );

    // One labels file for two inputs is refused.
    let one = EvalConfig {
        run_dir: run.path().to_path_buf(),
        labels: run.labels[..1].to_vec(),
        skip: Skip::None,
    };
    match evaluate(&one) {
        Err(EvalError::Mismatch { message, .. }) => {
            assert!(message.contains("1 labels files for 2 inputs"), "{message}")
        }
        other => panic!("expected a mismatch, got {other:?}"),
    }
}

#[test]
fn skipped_packets_are_not_evaluated() {
    let m = eval(&tiny_run(), Skip::Packets(6)).unwrap();
    assert_eq!((m.skipped_packets, m.attack_packets), (6, 7));
    let det = &m.detectors[0];
    assert_eq!((det.alerts.total, det.alerts.not_evaluated), (3, 1));
    // The summary says so: those alerts are neither true nor false alerts here.
    let note = format!(
        "note: {}: 1 of its alerts fell in the skipped packets",
        det.name
    );
    assert!(
        m.report_lines().iter().any(|l| l.starts_with(&note)),
        "{:?}",
        m.report_lines()
    );
    assert!(!eval(&tiny_run(), Skip::None)
        .unwrap()
        .report_lines()
        .iter()
        .any(|l| l.contains("skipped packets")));
    assert_eq!(m.phases[0].first_packet, 6);
    assert_eq!(det.phases[0].delay_seconds, Some(1.0));
}

/// The tiny run with the detector's `stats.json` object extended by `extra`.
fn tiny_run_with(extra: serde_json::Value) -> FakeRun {
    let run = tiny_run();
    let path = run.path().join("stats.json");
    let mut stats: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    for (k, v) in extra.as_object().unwrap() {
        stats["detector"][k] = v.clone();
    }
    std::fs::write(&path, stats.to_string()).unwrap();
    run
}

#[test]
fn skipping_training_stops_where_the_detector_could_first_alert() {
    // Trained online: everything before its first detecting packet (its training and its
    // calibration window).
    let online = tiny_run_with(serde_json::json!({
        "trained_packets": 3, "warmup_packets": 0, "detecting_from": {"packet": 6}
    }));
    assert_eq!(eval(&online, Skip::Training).unwrap().skipped_packets, 6);
    // A model loaded from a directory: `trained_packets` counts packets of another capture,
    // not of this run; only its warm-up here is skipped.
    let loaded = tiny_run_with(serde_json::json!({
        "trained_packets": 11_001, "warmup_packets": 2, "detecting_from": {"packet": 2}
    }));
    assert_eq!(eval(&loaded, Skip::Training).unwrap().skipped_packets, 2);
    // A detector that does not say: its training and warm-up counts.
    let plain = tiny_run_with(serde_json::json!({"trained_packets": 3, "warmup_packets": 1}));
    assert_eq!(eval(&plain, Skip::Training).unwrap().skipped_packets, 4);
}

#[test]
fn skipping_the_training_of_a_detector_that_never_detected_is_an_error() {
    let run = tiny_run_with(serde_json::json!({
        "trained_packets": 11, "warmup_packets": 0, "detecting_from": null
    }));
    match eval(&run, Skip::Training) {
        Err(EvalError::Mismatch { message, .. }) => {
            assert!(
                message.contains("det never reached its detecting stage"),
                "{message}"
            );
        }
        other => panic!("expected an error, got {other:?}"),
    }
    // Without the skip it is evaluated as written.
    assert_eq!(eval(&run, Skip::None).unwrap().skipped_packets, 0);
}

#[test]
fn reads_zstd_compressed_outputs() {
    let run = tiny_run();
    let plain = custos_eval::metrics_json(&eval(&run, Skip::None).unwrap());
    for name in ["scores.csv", "alerts.jsonl", "flows.jsonl", "stats.json"] {
        let path = run.path().join(name);
        let bytes = std::fs::read(&path).unwrap();
        let z = zstd::encode_all(&bytes[..], 3).unwrap();
        std::fs::write(run.path().join(format!("{name}.zst")), z).unwrap();
        std::fs::remove_file(path).unwrap();
    }
    let packed = custos_eval::metrics_json(&eval(&run, Skip::None).unwrap());
    assert_eq!(plain, packed);
}

#[test]
fn rejects_labels_shorter_than_the_capture() {
    let run = tiny_run();
    let text = std::fs::read_to_string(&run.labels[0]).unwrap();
    let short: Vec<&str> = text.lines().take(15).collect();
    std::fs::write(&run.labels[0], short.join("\n")).unwrap();
    match eval(&run, Skip::None) {
        Err(EvalError::Mismatch { path, message }) => {
            assert_eq!(path, run.labels[0]);
            assert!(message.contains("14 rows for the 20 packets"), "{message}");
        }
        other => panic!("expected a mismatch, got {other:?}"),
    }
}

#[test]
fn rejects_a_bad_label_with_its_line() {
    let run = tiny_run();
    let text = std::fs::read_to_string(&run.labels[0]).unwrap();
    // Row 2 is on line 4 (the header is line 1).
    let bad = text.replacen("\n2,0,", "\n2,7,", 1);
    std::fs::write(&run.labels[0], bad).unwrap();
    match eval(&run, Skip::None) {
        Err(EvalError::Invalid {
            path,
            line,
            message,
        }) => {
            assert_eq!((path, line), (run.labels[0].clone(), 4));
            assert!(message.contains("label \"7\""), "{message}");
        }
        other => panic!("expected an invalid line, got {other:?}"),
    }
}

#[test]
fn rejects_a_nan_score_with_its_line() {
    let run = tiny_run();
    let path = run.path().join("scores.csv");
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<String> = text
        .lines()
        .enumerate()
        .map(|(i, l)| {
            if i == 6 {
                format!("{},NaN", l.rsplit_once(',').unwrap().0)
            } else {
                l.to_string()
            }
        })
        .collect();
    std::fs::write(&path, lines.join("\n")).unwrap();
    match eval(&run, Skip::None) {
        Err(EvalError::Invalid { path: p, line, .. }) => assert_eq!((p, line), (path, 7)),
        other => panic!("expected an invalid line, got {other:?}"),
    }
}

#[test]
fn rejects_an_alert_time_past_the_years_of_packet_time_with_its_line() {
    // Found by the `evaluate_inputs` fuzz target: the year 4648 overflowed the conversion.
    let run = tiny_run();
    let path = run.path().join("alerts.jsonl");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let year = lines[1].find("\"timestamp\":\"").unwrap() + "\"timestamp\":\"".len();
    lines[1].replace_range(year..year + 4, "4648");
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    match eval(&run, Skip::None) {
        Err(EvalError::Invalid {
            path: p,
            line,
            message,
        }) => {
            assert_eq!((p, line), (path, 2));
            assert!(message.contains("bad timestamp \"4648-"), "{message}");
        }
        other => panic!("expected an invalid line, got {other:?}"),
    }
}

#[test]
fn rejects_an_alert_past_its_input() {
    let run = tiny_run();
    run.alerts(&[("det", 0, 20, 0.9, None)], &[0]);
    match eval(&run, Skip::None) {
        Err(EvalError::Invalid { line, message, .. }) => {
            assert_eq!(line, 1);
            assert!(
                message.contains("packet 20 past the 20 packets"),
                "{message}"
            );
        }
        other => panic!("expected an invalid line, got {other:?}"),
    }
}
