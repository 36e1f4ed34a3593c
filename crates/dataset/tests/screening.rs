//! Label screening on the reference lab capture (shared corpus; skipped when absent): attack
//! flows relabelled benign in the dataset are found by cross-validation.

use crate::util::*;
use arrow_array::cast::AsArray;
use arrow_array::types::UInt8Type;
use arrow_array::{ArrayRef, RecordBatch, UInt8Array};
use custos_dataset::{build, train_flow_model, FlowTrainOptions, FLOWS_FILE, PREFIXES_FILE};
use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

/// Rewrites the `label` column of a Parquet file: 0 for the rows whose uid is in `flip`.
fn relabel(path: &Path, flip: &BTreeSet<String>) {
    let batches = read_parquet(path);
    let schema = batches[0].schema();
    let file = std::fs::File::create(path).unwrap();
    let mut w = parquet::arrow::ArrowWriter::try_new(file, schema.clone(), None).unwrap();
    for b in &batches {
        let uids = b.column_by_name("uid").unwrap().as_string::<i32>();
        let labels = b
            .column_by_name("label")
            .unwrap()
            .as_primitive::<UInt8Type>();
        let new: UInt8Array = (0..b.num_rows())
            .map(|i| {
                if flip.contains(uids.value(i)) {
                    0
                } else {
                    labels.value(i)
                }
            })
            .collect();
        let idx = schema.index_of("label").unwrap();
        let mut cols: Vec<ArrayRef> = b.columns().to_vec();
        cols[idx] = Arc::new(new);
        w.write(&RecordBatch::try_new(schema.clone(), cols).unwrap())
            .unwrap();
    }
    w.close().unwrap();
}

/// The dataset of the shared reference capture, in a temporary folder (`None` without the
/// shared corpus).
fn reference_dataset() -> Option<(tempfile::TempDir, std::path::PathBuf)> {
    let dir = custos_test_support::shared()?;
    let r = dir.join("reference/kitsune");
    let (pcap, labels) = (r.join("iotlab-dev.pcap"), r.join("iotlab-dev.labels.csv"));
    let d = tempfile::tempdir().unwrap();
    let ds = d.path().join("ds");
    build(&[pcap], &[labels], &ds, None, config(1)).unwrap();
    Some((d, ds))
}

#[test]
fn screening_finds_attack_flows_relabelled_benign() {
    let Some((_d, ds)) = reference_dataset() else {
        return;
    };
    // Relabel every 20th attack flow benign (about 5 % of them), in both files.
    let b = read_parquet(&ds.join(FLOWS_FILE));
    let (uids, label) = (strings(&b, "uid"), label_column(&b));
    let flip: BTreeSet<String> = uids
        .iter()
        .zip(&label)
        .filter(|(_, &l)| l == 1)
        .step_by(20)
        .map(|(u, _)| u.clone().unwrap())
        .collect();
    assert!(flip.len() >= 50, "{}", flip.len());
    relabel(&ds.join(FLOWS_FILE), &flip);
    relabel(&ds.join(PREFIXES_FILE), &flip);
    let mut opts = FlowTrainOptions {
        screen_folds: Some(5),
        ..FlowTrainOptions::default()
    };
    opts.params.trees = 40;
    let t = train_flow_model(&ds, &opts).unwrap();
    let lines = t.report_lines(&ds, Path::new("m"));
    assert!(
        lines[0].starts_with("trained the flow model on "),
        "{lines:?}"
    );
    assert!(lines[0].contains(" (40 trees); threshold "), "{lines:?}");
    let last = lines.last().unwrap();
    assert!(last.starts_with("label screening (5 folds): "), "{last}");
    assert!(
        last.ends_with("; listed in m/label-screening.json"),
        "{last}"
    );
    let s = t.screening.clone().unwrap();
    let listed: BTreeSet<String> = s["flows_listed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["uid"].as_str().unwrap().to_string())
        .collect();
    let found = flip.intersection(&listed).count();
    println!(
        "planted {}, listed {}, found {found}",
        flip.len(),
        listed.len()
    );
    // Most planted labels are found, and the list is mostly planted labels.
    assert!(
        found * 10 >= flip.len() * 8,
        "{found} of {} found",
        flip.len()
    );
    assert!(
        found * 10 >= listed.len() * 7,
        "{found} of {} listed",
        listed.len()
    );
    assert_eq!(t.training["label_screening"]["suspicious"], s["suspicious"]);
}

#[test]
fn a_threshold_on_too_few_benign_rows_is_said_to_be_unmeasured() {
    let Some((_d, ds)) = reference_dataset() else {
        return;
    };
    let warnings = |fpr: f64| {
        let mut opts = FlowTrainOptions {
            fpr,
            ..FlowTrainOptions::default()
        };
        opts.params.trees = 20;
        let t = train_flow_model(&ds, &opts).unwrap();
        let rows = t.model.threshold.benign_rows;
        let w: Vec<String> = t.training["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w.as_str().unwrap().to_string())
            .collect();
        let card = custos_dataset::flow_train::flow_model_card("m", &t);
        for x in &w {
            assert!(card["caveats"].as_str().unwrap().contains(x.as_str()));
        }
        (rows, w.iter().any(|x| x.contains("held-out benign rows")))
    };
    // A few hundred benign flows: enough to measure 10 %, not 0.1 %.
    let (rows, strict) = warnings(1e-3);
    assert!((100..10_000).contains(&rows), "{rows}");
    assert!(strict);
    let (_, loose) = warnings(0.1);
    assert!(!loose);
}
