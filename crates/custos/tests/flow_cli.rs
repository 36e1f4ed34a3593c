//! The supervised flow detector end to end on the reference capture: `dataset build`,
//! `train --detector flow`, a signed model loaded with `--trust`, `--detector kitsune,flow`
//! with its `combined` column, explained alerts in every attack phase, refusals, determinism.

mod common;

use common::{custos, shared};
use std::ffi::{OsStr, OsString};
use std::path::Path;

fn run<S: AsRef<OsStr>>(args: &[S]) -> std::process::Output {
    let a: Vec<&OsStr> = args.iter().map(AsRef::as_ref).collect();
    let r = custos(&a);
    assert!(r.status.code().is_some(), "killed by a signal");
    r
}

fn ok<S: AsRef<OsStr>>(args: &[S]) -> std::process::Output {
    let r = run(args);
    assert!(
        r.status.success(),
        "custos failed: {}",
        String::from_utf8_lossy(&r.stderr)
    );
    r
}

fn p(path: &Path) -> OsString {
    path.as_os_str().to_owned()
}

/// Builds a dataset of the reference capture, trains a flow model on it and signs it.
fn trained(dir: &Path, pcap: &Path, labels: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let ds = dir.join("ds");
    ok(&[
        OsString::from("dataset"),
        "build".into(),
        p(pcap),
        "--labels".into(),
        p(labels),
        "-o".into(),
        p(&ds),
    ]);
    let signer = dir.join("signer");
    ok(&[
        OsString::from("keygen"),
        "--model".into(),
        "-o".into(),
        p(&signer),
    ]);
    let model = dir.join("flow-model");
    ok(&[
        OsString::from("train"),
        "--detector".into(),
        "flow".into(),
        "--dataset".into(),
        p(&ds),
        "--trees".into(),
        "60".into(),
        "-o".into(),
        p(&model),
        "--sign".into(),
        p(&dir.join("signer.pem")),
    ]);
    (model, dir.join("signer.pub"))
}

#[test]
fn flow_model_trains_signs_loads_combines_and_explains() {
    let Some(shared) = shared() else { return };
    let r = shared.join("reference/kitsune");
    let (pcap, labels) = (r.join("iotlab-dev.pcap"), r.join("iotlab-dev.labels.csv"));
    let d = tempfile::tempdir().unwrap();
    let (model, trust) = trained(d.path(), &pcap, &labels);
    for f in [
        "flow-model.json",
        "model-card.md",
        "model-card.json",
        "training.json",
        "dataset-manifest.json",
        "model.sig",
    ] {
        assert!(model.join(f).is_file(), "{f}");
    }
    let card: serde_json::Value =
        serde_json::from_slice(&std::fs::read(model.join("model-card.json")).unwrap()).unwrap();
    let manifest = std::fs::read(d.path().join("ds/manifest.json")).unwrap();
    assert_eq!(
        card["training_data"]["dataset_manifest_sha256"],
        sha256_hex(&manifest).as_str()
    );
    assert!(card["metrics"]["roc_auc"].as_f64().unwrap() > 0.9);

    // Both detectors, the flow model signed and trusted; one thread and two.
    let mut outs = Vec::new();
    for threads in ["1", "2"] {
        let out = d.path().join(format!("out{threads}"));
        ok(&[
            p(Path::new("analyze")),
            p(&pcap),
            "-o".into(),
            p(&out),
            "--detector".into(),
            "kitsune,flow".into(),
            "--model".into(),
            format!("flow={}", model.display()).into(),
            "--trust".into(),
            p(&trust),
            "--threads".into(),
            threads.into(),
        ]);
        outs.push(out);
    }
    for f in ["scores.csv", "alerts.jsonl", "conn.log"] {
        let a = std::fs::read(outs[0].join(f)).unwrap();
        assert!(
            a == std::fs::read(outs[1].join(f)).unwrap(),
            "{f} differs by thread count"
        );
    }
    let out = &outs[0];
    let stats: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("stats.json")).unwrap()).unwrap();
    let tk = stats["detectors"]["kitsune"]["threshold"]["value"]
        .as_f64()
        .unwrap();
    let tf = stats["detectors"]["flow"]["threshold"]["value"]
        .as_f64()
        .unwrap();
    let from = stats["detectors"]["kitsune"]["detecting_from"]["packet"]
        .as_u64()
        .unwrap();
    let scores = std::fs::read_to_string(out.join("scores.csv")).unwrap();
    let mut lines = scores.lines();
    assert_eq!(lines.next(), Some("index,ts,kitsune,flow,combined"));
    let mut checked = 0;
    for line in lines.step_by(97) {
        let v: Vec<f64> = line
            .split(',')
            .skip(2)
            .map(|x| x.parse().unwrap())
            .collect();
        // Kitsune has a threshold once calibrated; before that only the flow model counts.
        // Kitsune's RMSE counts as its ratio to the threshold, the flow model's probability
        // as its odds over the threshold's odds (scores.csv prints shortest round-trip
        // decimals, so the flow score parses back to its bits), joined as a noisy-or:
        // (1 + k)(1 + f) − 1.
        let index: u64 = line.split(',').next().unwrap().parse().unwrap();
        let odds = |p: f64| {
            let p = p.min(1.0 - f64::EPSILON);
            p / (1.0 - p)
        };
        let flow = odds(v[1]) / odds(tf);
        let expect = if index >= from {
            let kitsune = v[0] / tk;
            kitsune + flow + kitsune * flow
        } else {
            flow
        };
        assert!((v[2] - expect).abs() <= 1e-9 * expect.max(1.0), "{line}");
        checked += 1;
    }
    assert!(checked > 100);

    // Flow alerts: explained by features that pushed the score up, signed model cited, and
    // at least one in every attack phase.
    let rows: Vec<(u8, String)> = std::fs::read_to_string(&labels)
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[1].parse().unwrap(), f[2].to_string())
        })
        .collect();
    let mut phases_hit = std::collections::BTreeSet::new();
    let alerts = std::fs::read_to_string(out.join("alerts.jsonl")).unwrap();
    // Host pair (either direction) and second of packet time of each flow alert.
    let mut pair_seconds = std::collections::BTreeMap::new();
    for line in alerts.lines() {
        let a: serde_json::Value = serde_json::from_str(line).unwrap();
        if a["custos"]["detector"] != "flow" {
            continue;
        }
        let mut pair = [a["src_ip"].to_string(), a["dest_ip"].to_string()];
        pair.sort();
        let second = a["timestamp"].as_str().unwrap()[..19].to_string();
        *pair_seconds.entry((pair, second)).or_insert(0) += 1;
        assert_eq!(a["custos"]["model_signature"]["signed"], true);
        let top = a["custos"]["explanation"]["top_features"]
            .as_array()
            .unwrap();
        assert!(!top.is_empty());
        assert!(top
            .iter()
            .all(|f| f["contribution"].as_f64().unwrap() > 0.0));
        assert!(a["custos"]["score"].as_f64().unwrap() > tf);
        let i = a["custos"]["packet"].as_u64().unwrap() as usize;
        if rows[i].0 == 1 {
            phases_hit.insert(rows[i].1.clone());
        }
    }
    let phases: std::collections::BTreeSet<String> = rows
        .iter()
        .filter(|r| r.0 == 1)
        .map(|r| r.1.clone())
        .collect();
    assert_eq!(phases_hit, phases);
    // The SYN flood's thousands of one-packet flows give at most one alert a second per
    // host pair (alerts of a pair are a second apart or more), the others counted as
    // suppressed.
    assert!(
        pair_seconds.values().all(|n| *n == 1),
        "at most one flow alert per host pair and second: {pair_seconds:?}"
    );
    let stats: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("stats.json")).unwrap()).unwrap();
    let flow_stats = &stats["detectors"]["flow"];
    assert!(
        flow_stats["alerts_suppressed"].as_u64().unwrap_or(0) > 1000,
        "{flow_stats}"
    );

    // The model was trained on this very capture: evaluate flags the leakage.
    let report = d.path().join("report");
    let r = ok(&[
        p(Path::new("evaluate")),
        p(out),
        "--labels".into(),
        p(&labels),
        "-o".into(),
        p(&report),
        "--model-card".into(),
        p(&model),
        "--sign".into(),
        p(&d.path().join("signer.pem")),
    ]);
    assert!(String::from_utf8_lossy(&r.stderr).contains("leakage"));
    // The card now holds the evaluation, and the re-signed model still verifies.
    let card: serde_json::Value =
        serde_json::from_slice(&std::fs::read(model.join("model-card.json")).unwrap()).unwrap();
    assert_eq!(card["metrics"]["source"], "custos evaluate");
    assert!(card["metrics"]["detectors"].as_array().unwrap().len() >= 2);
    assert!(std::fs::read_to_string(model.join("model-card.md"))
        .unwrap()
        .contains("custos evaluate"));
    ok(&[
        OsString::from("model"),
        "verify".into(),
        p(&model),
        "--trust".into(),
        p(&trust),
    ]);
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(report.join("metrics.json")).unwrap()).unwrap();
    assert_eq!(m["leakage_checked"], true);
    let leaks = m["leakage"].as_array().unwrap();
    assert_eq!(leaks.len(), 2, "the capture and its flows: {leaks:?}");
    assert_eq!(leaks[0]["detector"], "flow");
    assert_eq!(leaks[0]["kind"], "capture");
    assert_eq!(
        leaks[0]["sha256"].as_str().unwrap(),
        sha256_hex(&std::fs::read(&pcap).unwrap())
    );
    assert_eq!(leaks[1]["kind"], "flows");
    let (shared, flows) = (
        leaks[1]["shared_flows"].as_u64().unwrap(),
        leaks[1]["flows"].as_u64().unwrap(),
    );
    assert!(shared * 100 >= flows * 95, "{shared} of {flows}");
    assert!(std::fs::read_to_string(report.join("report.html"))
        .unwrap()
        .contains("Leakage"));

    // An excerpt of the training capture is another file (no SHA-256 match), but the flows
    // wholly inside it were trained on: evaluate still flags the leakage, by flows.
    let (excerpt, excerpt_labels) = excerpt(d.path(), &pcap, &labels, 2000, 12000);
    let out2 = d.path().join("excerpt-run");
    analyze_flow(&excerpt, &out2, &model, &trust);
    let report2 = d.path().join("report2");
    ok(&[
        p(Path::new("evaluate")),
        p(&out2),
        "--labels".into(),
        p(&excerpt_labels),
        "-o".into(),
        p(&report2),
    ]);
    let m2: serde_json::Value =
        serde_json::from_slice(&std::fs::read(report2.join("metrics.json")).unwrap()).unwrap();
    let leaks2 = m2["leakage"].as_array().unwrap();
    assert_eq!(leaks2.len(), 1, "{leaks2:?}");
    assert_eq!(leaks2[0]["kind"], "flows");
    assert!(
        leaks2[0]["shared_flows"].as_u64().unwrap() > 10,
        "{leaks2:?}"
    );
    // Traffic the model never saw shares no flow with it.
    let out3 = d.path().join("sample-run");
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../samples/iot-small.pcap");
    analyze_flow(&sample, &out3, &model, &trust);
    let s3: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out3.join("stats.json")).unwrap()).unwrap();
    let tf = &s3["detector"]["training_flows"];
    assert!(tf["flows"].as_u64().unwrap() > 0, "{tf}");
    assert_eq!(tf["seen_in_training"], 0, "{tf}");

    // A bare --model goes to the flow detector (its directory holds a flow model).
    let bare = d.path().join("bare");
    ok(&[
        p(Path::new("analyze")),
        p(&pcap),
        "-o".into(),
        p(&bare),
        "--model".into(),
        p(&model),
        "--trust".into(),
        p(&trust),
    ]);
    assert!(std::fs::read_to_string(bare.join("scores.csv"))
        .unwrap()
        .starts_with("index,ts,score\n"));
}

#[test]
fn flow_model_is_refused_unsigned_changed_or_without_a_model() {
    let Some(shared) = shared() else { return };
    let r = shared.join("reference/kitsune");
    let (pcap, labels) = (r.join("iotlab-dev.pcap"), r.join("iotlab-dev.labels.csv"));
    let d = tempfile::tempdir().unwrap();
    let (model, trust) = trained(d.path(), &pcap, &labels);
    let analyze = |extra: &[OsString]| {
        let mut a: Vec<OsString> = vec![
            "analyze".into(),
            p(&pcap),
            "-o".into(),
            p(&d.path().join("o")),
            "--force".into(),
        ];
        a.extend(extra.iter().cloned());
        run(&a)
    };
    // No model at all.
    let r = analyze(&["--detector".into(), "flow".into()]);
    assert_eq!(r.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&r.stderr).contains("--model flow=DIR"));
    // Not trusted.
    let r = analyze(&["--model".into(), format!("flow={}", model.display()).into()]);
    assert!(!r.status.success());
    assert!(String::from_utf8_lossy(&r.stderr).contains("no trusted key"));
    // One byte of the model changed.
    let file = model.join("flow-model.json");
    let mut bytes = std::fs::read(&file).unwrap();
    let i = bytes.len() / 2;
    bytes[i] ^= 1;
    std::fs::write(&file, &bytes).unwrap();
    let r = analyze(&[
        "--model".into(),
        format!("flow={}", model.display()).into(),
        "--trust".into(),
        p(&trust),
    ]);
    assert!(!r.status.success());
    assert!(String::from_utf8_lossy(&r.stderr).contains("cannot use model"));
    // Two bare models cannot be told apart.
    let r = analyze(&["--model".into(), p(&model), "--model".into(), p(&model)]);
    assert!(!r.status.success());
    assert!(String::from_utf8_lossy(&r.stderr).contains("kitsune=DIR"));
}

#[test]
fn training_twice_gives_the_same_model() {
    let Some(shared) = shared() else { return };
    let r = shared.join("reference/kitsune");
    let (pcap, labels) = (r.join("iotlab-dev.pcap"), r.join("iotlab-dev.labels.csv"));
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (ma, _) = trained(a.path(), &pcap, &labels);
    let (mb, _) = trained(b.path(), &pcap, &labels);
    assert_eq!(
        std::fs::read(ma.join("flow-model.json")).unwrap(),
        std::fs::read(mb.join("flow-model.json")).unwrap()
    );
}

/// `custos analyze INPUT -o OUT --detector flow --model MODEL --trust TRUST`.
fn analyze_flow(input: &Path, out: &Path, model: &Path, trust: &Path) {
    ok(&[
        p(Path::new("analyze")),
        p(input),
        "-o".into(),
        p(out),
        "--quiet".into(),
        "--checksums".into(),
        "ignore".into(),
        "--detector".into(),
        "flow".into(),
        "--model".into(),
        p(model),
        "--trust".into(),
        p(trust),
    ]);
}

/// Packets `from..to` of the classic pcap `pcap` and their rows of `labels` (renumbered from
/// 0), written beside `dir`.
fn excerpt(
    dir: &Path,
    pcap: &Path,
    labels: &Path,
    from: usize,
    to: usize,
) -> (std::path::PathBuf, std::path::PathBuf) {
    let b = std::fs::read(pcap).unwrap();
    assert_eq!(
        &b[..4],
        &[0xd4, 0xc3, 0xb2, 0xa1],
        "a little-endian classic pcap"
    );
    let mut out = b[..24].to_vec();
    let (mut at, mut i) = (24usize, 0usize);
    while at + 16 <= b.len() && i < to {
        let len = u32::from_le_bytes(b[at + 8..at + 12].try_into().unwrap()) as usize;
        if i >= from {
            out.extend_from_slice(&b[at..at + 16 + len]);
        }
        at += 16 + len;
        i += 1;
    }
    let cut = dir.join("excerpt.pcap");
    std::fs::write(&cut, out).unwrap();
    let text = std::fs::read_to_string(labels).unwrap();
    let mut lines = text.lines();
    let mut csv = format!("{}\n", lines.next().unwrap());
    for l in lines.skip(from).take(to - from) {
        let (index, rest) = l.split_once(',').unwrap();
        let index: usize = index.parse().unwrap();
        csv.push_str(&format!("{},{rest}\n", index - from));
    }
    let cut_labels = dir.join("excerpt.labels.csv");
    std::fs::write(&cut_labels, csv).unwrap();
    (cut, cut_labels)
}

fn sha256_hex(b: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(b)
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect()
}
