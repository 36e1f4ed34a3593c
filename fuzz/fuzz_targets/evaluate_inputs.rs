//! `custos evaluate`'s readers: `custos_eval::evaluate` (metrics, without the plots) on a run
//! folder of 241 packets scored by the flow model and Kitsune (`seeds/evaluate_inputs/run/`,
//! made by `custos analyze samples/iot-small.pcap`), one of whose files the input replaces.
//! Byte 0 selects the file: the labels CSV, `scores.csv`, `alerts.jsonl`, `stats.json`,
//! `flows.jsonl` or `conn.log` (mod 6); the rest is its content.
//!
//! Properties: nothing panics; the same inputs evaluate the same way twice (same metrics, or
//! the same error); every ROC and PR AUC is within [0, 1]; an error names the file it is
//! about (or the run folder).
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use custos_eval::{evaluate, metrics_json, EvalConfig, Skip};
use libfuzzer_sys::fuzz_target;

/// The files the input may replace, by selector.
const FILES: [&str; 6] = [
    "labels.csv",
    "scores.csv",
    "alerts.jsonl",
    "stats.json",
    "flows.jsonl",
    "conn.log",
];

/// The fixture: a run folder and its labels, copied once per process; the originals kept to
/// restore each replaced file.
struct Fixture {
    run: PathBuf,
    labels: PathBuf,
    originals: Vec<Vec<u8>>,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let seeds = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("seeds/evaluate_inputs");
        let root = std::env::temp_dir().join(format!("custos-fuzz-eval-{}", std::process::id()));
        let run = root.join("run");
        std::fs::create_dir_all(&run).expect("temporary run folder");
        let mut originals = Vec::new();
        for name in FILES {
            let from = if name == "labels.csv" {
                seeds.join(name)
            } else {
                seeds.join("run").join(name)
            };
            let bytes = std::fs::read(&from).expect("fixture file");
            let to = if name == "labels.csv" {
                root.join(name)
            } else {
                run.join(name)
            };
            std::fs::write(to, &bytes).expect("copy");
            originals.push(bytes);
        }
        Fixture {
            labels: root.join("labels.csv"),
            run,
            originals,
        }
    })
}

fn path_of(f: &Fixture, i: usize) -> PathBuf {
    if i == 0 {
        f.labels.clone()
    } else {
        f.run.join(FILES[i])
    }
}

/// Each AUC (`roc_auc`, `pr_auc` keys, anywhere in the metrics) is null or in [0, 1].
fn check_aucs(v: &serde_json::Value) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, x) in m {
                if k.ends_with("_auc") {
                    if let Some(a) = x.as_f64() {
                        assert!((0.0..=1.0).contains(&a), "{k} = {a}");
                    }
                }
                check_aucs(x);
            }
        }
        serde_json::Value::Array(a) => a.iter().for_each(check_aucs),
        _ => {}
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let f = fixture();
    let i = usize::from(selector) % FILES.len();
    let path = path_of(f, i);
    std::fs::write(&path, rest).expect("write the fuzzed file");
    let cfg = EvalConfig {
        run_dir: f.run.clone(),
        labels: vec![f.labels.clone()],
        skip: Skip::None,
    };
    let first = custos_fuzz::same_twice("evaluation", || {
        evaluate(&cfg).map(|e| metrics_json(e.metrics()))
    });
    match first {
        Ok(json) => {
            let v: serde_json::Value = serde_json::from_str(&json).expect("metrics are JSON");
            check_aucs(&v);
        }
        Err(e) => {
            let text = e.to_string();
            let root = f.run.parent().expect("the run folder has a parent");
            assert!(
                text.contains(&root.display().to_string()),
                "the error names no file: {text}"
            );
        }
    }
    std::fs::write(&path, &f.originals[i]).expect("restore the file");
});
