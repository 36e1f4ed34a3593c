//! The examples' detector and sink, registered through the public API, run on the sample;
//! their results are checked against conn.log, which they never read.

#[path = "../examples/custom_detector.rs"]
mod custom_detector;
#[path = "../examples/custom_sink.rs"]
mod custom_sink;

use std::path::Path;

/// conn.log rows (without header lines), split into fields.
fn conn_rows(dir: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let text = std::fs::read_to_string(dir.join("conn.log")).unwrap();
    let fields: Vec<String> = text
        .lines()
        .find(|l| l.starts_with("#fields"))
        .unwrap()
        .split('\t')
        .skip(1)
        .map(str::to_string)
        .collect();
    let rows = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.split('\t').map(str::to_string).collect())
        .collect();
    (fields, rows)
}

fn sample() -> String {
    custos_test_support::repo_root()
        .join("samples/iot-small.pcap")
        .display()
        .to_string()
}

#[test]
fn custom_detector_alerts_on_every_flow_over_its_budget() {
    let out = tempfile::tempdir().unwrap();
    let budget = 200;
    let alerts =
        custom_detector::run(&sample(), &out.path().display().to_string(), budget).unwrap();
    let (fields, rows) = conn_rows(out.path());
    let col = fields.iter().position(|f| f == "orig_bytes").unwrap();
    let expected = rows
        .iter()
        .filter(|r| r[col].parse::<u64>().is_ok_and(|b| b > budget))
        .count() as u64;
    assert!(expected > 0, "the sample has flows over {budget} bytes");
    assert_eq!(alerts, expected);
    let lines = std::fs::read_to_string(out.path().join("alerts.jsonl")).unwrap();
    assert_eq!(lines.lines().count() as u64, expected);
    for l in lines.lines() {
        let a: serde_json::Value = serde_json::from_str(l).unwrap();
        assert_eq!(a["event_type"], "alert");
        assert_eq!(a["custos"]["detector"], "large-upload");
        assert!(a["custos"]["score"].as_f64().unwrap() > budget as f64);
        assert!(a["community_id"].as_str().unwrap().starts_with("1:"));
    }
    // A detector that scores no packet makes no scores.csv.
    assert!(!out.path().join("scores.csv").exists());
}

#[test]
fn custom_sink_sees_every_flow_and_reports_in_stats() {
    let out = tempfile::tempdir().unwrap();
    let report = custom_sink::run(&sample(), &out.path().display().to_string()).unwrap();
    let (fields, rows) = conn_rows(out.path());
    assert_eq!(
        report["records"]["flow"].as_u64().unwrap(),
        rows.len() as u64
    );
    assert_eq!(report["records"]["devices"], 1);
    let events = std::fs::read_to_string(out.path().join("events.jsonl")).unwrap();
    assert_eq!(
        report["records"]["event"].as_u64().unwrap(),
        events.lines().count() as u64
    );
    // The top talker is the originator with the most bytes in conn.log.
    let (o, b) = (
        fields.iter().position(|f| f == "id.orig_h").unwrap(),
        fields.iter().position(|f| f == "orig_bytes").unwrap(),
    );
    let mut totals = std::collections::BTreeMap::<String, u64>::new();
    for r in &rows {
        *totals.entry(r[o].clone()).or_default() += r[b].parse::<u64>().unwrap_or(0);
    }
    let top = totals
        .iter()
        .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
        .unwrap();
    assert_eq!(report["top"][0][0], *top.0);
    assert_eq!(report["top"][0][1], *top.1);
    let stats: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.path().join("stats.json")).unwrap())
            .unwrap();
    assert_eq!(stats["outputs"]["top-talkers"], report);
}
