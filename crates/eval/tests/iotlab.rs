//! A full evaluation of Kitsune on the shared `iotlab-dev` capture: the engine analyses it
//! as `custos analyze --detector kitsune` does, then `evaluate` reads the outputs.

mod util;

use custos_engine::{Engine, EngineConfig, Source};
use custos_eval::{evaluate, EvalConfig, Skip};
use std::path::{Path, PathBuf};

/// The capture and its labels, or `None` (skipped) without the shared corpus.
fn reference() -> Option<(PathBuf, PathBuf)> {
    let dir = custos_test_support::shared()?.join("reference/kitsune");
    Some((
        dir.join("iotlab-dev.pcap"),
        dir.join("iotlab-dev.labels.csv"),
    ))
}

/// Runs Kitsune with default settings on `pcap`, outputs into `out`.
fn analyze(pcap: &Path, out: &Path) {
    let mut cfg = EngineConfig::default();
    cfg.detect.detectors = vec!["kitsune".into()];
    cfg.output.dir = Some(out.to_path_buf());
    Engine::new(cfg)
        .unwrap()
        .run(Source::Files(vec![pcap.to_path_buf()]))
        .unwrap();
}

/// The labels with phase `scan` renamed to a hostile string.
const HOSTILE_PHASE: &str = "<script>alert('phase')</script>";

fn hostile_labels(labels: &Path, into: &Path) -> PathBuf {
    let text = std::fs::read_to_string(labels).unwrap();
    let path = into.join("labels.csv");
    std::fs::write(&path, text.replace(",scan,", &format!(",{HOSTILE_PHASE},"))).unwrap();
    path
}

#[test]
fn iotlab_dev_full_run() {
    let Some((pcap, labels)) = reference() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    analyze(&pcap, &run);
    let labels = hostile_labels(&labels, tmp.path());
    let cfg = EvalConfig {
        run_dir: run.clone(),
        labels: vec![labels],
        skip: Skip::None,
    };
    let e = evaluate(&cfg).unwrap();
    let m = e.metrics();
    assert_eq!(m.packets, 32_600);
    assert_eq!(m.attack_packets, 142 + 24 + 810 + 4500);
    let k = &m.detectors[0];
    assert_eq!(k.name, "kitsune");
    let auc = k.packet.as_ref().unwrap().roc_auc.unwrap();
    assert!(auc > 0.99, "ROC AUC {auc}");
    assert_eq!(k.phases.len(), 4);
    assert!(
        k.phases.iter().all(|p| p.roc_auc.unwrap() > 0.9),
        "{:?}",
        k.phases
    );
    assert!(m.flows.is_some() && k.flows.is_some());
    eprintln!("{}", custos_eval::metrics_json(m));

    // Every file is written, PNGs are PNGs, and the hostile phase name is escaped.
    let report = tmp.path().join("report");
    let written = e.write(&report).unwrap();
    let names: Vec<String> = written
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().to_string())
        .collect();
    assert_eq!(
        names,
        [
            "metrics.json",
            "roc.svg",
            "roc.png",
            "timeline-kitsune.svg",
            "timeline-kitsune.png",
            "report.html"
        ]
    );
    for p in &written {
        let bytes = std::fs::read(p).unwrap();
        assert!(
            bytes.len() > 1000,
            "{} is {} bytes",
            p.display(),
            bytes.len()
        );
        if p.extension().unwrap() == "png" {
            assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
        }
    }
    let html = std::fs::read_to_string(report.join("report.html")).unwrap();
    assert!(
        !html.contains(HOSTILE_PHASE),
        "raw hostile phase name in report.html"
    );
    assert!(html.contains("&lt;script&gt;alert(&#39;phase&#39;)&lt;/script&gt;"));
    assert!(!html.to_lowercase().contains("<script"));
    assert_eq!(html.matches("<svg").count(), 2);

    // Same bytes on a second run.
    let again = tmp.path().join("again");
    evaluate(&cfg).unwrap().write(&again).unwrap();
    assert_eq!(util::files(&report), util::files(&again));
}

#[test]
fn iotlab_dev_auc_equals_sklearn_after_training() {
    let Some((pcap, labels)) = reference() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    analyze(&pcap, tmp.path());
    let e = evaluate(&EvalConfig {
        run_dir: tmp.path().to_path_buf(),
        labels: vec![labels.clone()],
        skip: Skip::Training,
    })
    .unwrap();
    let m = e.metrics();
    // Training (1 000 + 10 000 packets + the first) and the 5 000-packet calibration window,
    // whose scores set the threshold: Kitsune alerts from packet 16 001 on.
    assert_eq!(m.skipped_packets, 16_001);
    let scores = std::fs::read_to_string(tmp.path().join("scores.csv")).unwrap();
    let scores: Vec<f32> = scores
        .lines()
        .skip(1 + 16_001)
        .map(|l| l.rsplit(',').next().unwrap().parse::<f64>().unwrap() as f32)
        .collect();
    let truth: Vec<bool> = std::fs::read_to_string(&labels)
        .unwrap()
        .lines()
        .skip(1 + 16_001)
        .map(|l| l.split(',').nth(1) == Some("1"))
        .collect();
    let Some((auc, ap)) = util::sklearn(&scores, &truth) else {
        return;
    };
    let p = m.detectors[0].packet.as_ref().unwrap();
    util::close("iotlab-dev ROC AUC", p.roc_auc, auc);
    util::close("iotlab-dev PR AUC", p.pr_auc, ap);
    eprintln!("iotlab-dev after training: ROC AUC {auc}, PR AUC {ap}");
}
