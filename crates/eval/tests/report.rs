//! The report folder: which files, escaping of names from the inputs, same bytes every time.

mod util;

use util::{FakeRun, Pkt, Rng};

const HOSTILE_DETECTOR: &str = "<img src=x onerror=alert(\"d\")>/../x";
const HOSTILE_PHASE: &str = "</table><script>alert('p')</script>";

/// Two detectors, one with a hostile name, and a hostile phase.
fn hostile_run() -> FakeRun {
    let mut rng = Rng(7);
    let pkts: Vec<Pkt> = (0..500)
        .map(|i| {
            let phase = (200..260).contains(&i).then(|| HOSTILE_PHASE.to_string());
            let boost = if phase.is_some() { 1.0 } else { 0.0 };
            Pkt {
                scores: vec![
                    (rng.unit() + boost) as f32,
                    (rng.unit() * 0.5 + boost) as f32,
                ],
                phase,
            }
        })
        .collect();
    let cols = [HOSTILE_DETECTOR.replace(',', ";"), "plain".to_string()];
    let cols: Vec<&str> = cols.iter().map(String::as_str).collect();
    let run = FakeRun::new(&[pkts], &cols, &[(cols[0], 1.2), ("plain", 1.1)]);
    run.alerts(
        &[(cols[0], 0, 210, 1.5, None), ("plain", 0, 230, 1.3, None)],
        &[0],
    );
    run
}

fn write_report(run: &FakeRun, out: &std::path::Path) -> Vec<String> {
    let e = run.evaluate();
    e.write(out)
        .unwrap()
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().to_string())
        .collect()
}

#[test]
fn report_escapes_hostile_names_and_keeps_files_in_the_folder() {
    let run = hostile_run();
    let out = tempfile::tempdir().unwrap();
    let names = write_report(&run, out.path());
    assert_eq!(
        names,
        [
            "metrics.json",
            "roc.svg",
            "roc.png",
            "timeline-_img_src_x_onerror_alert__d____.._x.svg",
            "timeline-_img_src_x_onerror_alert__d____.._x.png",
            "timeline-plain.svg",
            "timeline-plain.png",
            "report.html",
        ]
    );
    // Nothing was written outside the report folder.
    assert_eq!(std::fs::read_dir(out.path()).unwrap().count(), names.len());
    let html = std::fs::read_to_string(out.path().join("report.html")).unwrap();
    assert!(!html.contains(HOSTILE_DETECTOR));
    assert!(!html.contains(HOSTILE_PHASE));
    assert!(!html.to_lowercase().contains("<script"));
    assert!(!html.contains("<img"));
    assert!(html.contains("&lt;img src=x onerror=alert(&quot;d&quot;)&gt;"));
    assert!(html.contains("&lt;/table&gt;&lt;script&gt;alert(&#39;p&#39;)&lt;/script&gt;"));
    assert_eq!(html.matches("<svg").count(), 3);
    // metrics.json keeps the names as they are (JSON-escaped only).
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.path().join("metrics.json")).unwrap()).unwrap();
    assert_eq!(m["detectors"][0]["name"], HOSTILE_DETECTOR);
    assert_eq!(m["phases"][0]["name"], HOSTILE_PHASE);
}

#[test]
fn report_is_byte_identical_across_runs() {
    let run = hostile_run();
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    write_report(&run, a.path());
    write_report(&run, b.path());
    let (fa, fb) = (util::files(a.path()), util::files(b.path()));
    assert_eq!(fa.len(), 8);
    for ((na, ba), (nb, bb)) in fa.iter().zip(&fb) {
        assert_eq!(na, nb);
        assert!(ba == bb, "{na} differs between two runs");
    }
}

#[test]
fn report_lines_and_card_entries_name_each_detector() {
    let run = hostile_run();
    let e = run.evaluate();
    let m = e.metrics();
    let lines = m.report_lines();
    let plain = lines
        .iter()
        .find(|l| l.starts_with("plain: ROC AUC "))
        .unwrap();
    assert!(plain.ends_with(" of 1 attack phases caught"), "{plain}");
    let (metrics, data) = m.card_entries();
    assert_eq!(metrics["source"], "custos evaluate");
    assert_eq!(
        metrics["detectors"].as_array().unwrap().len(),
        m.detectors.len()
    );
    assert_eq!(data["packets"], m.packets);
    assert_eq!(data["phases"][0], HOSTILE_PHASE);
}
