//! Model files, as `analyze` reads them from a model directory (with `--allow-unsigned-model`
//! nothing vouches for them, and a trusted signer may still sign a damaged one). Byte 0
//! selects the reader, the rest is the file:
//!
//! - 0: a flow model (`FlowModel::from_bytes` for the live feature set);
//! - 1: gradient-boosted trees alone (`Gbdt::from_json`);
//! - 2: a Kitsune model file (`KitsuneModel::from_file_bytes`, the input as it is);
//! - 3: a Kitsune model without its hash: the input is read as the model object and written
//!   back with its SHA-256 (`to_file_bytes`) before it is read, so the checks behind the hash
//!   (dimensions, weights, feature map) are reached.
//!
//! Properties: nothing panics, neither reading nor scoring what was read. A flow model's and
//! a forest's compact layout gives the trees' margins bit for bit on rows of every length
//! (values on, beside and between the split thresholds, NaN and infinities included); each
//! entry of a split key is its feature's bucket, and rows with the same key have the same
//! margin. A Kitsune model that reads scores rows of its feature count; read again from the
//! bytes it writes, it is the same model.
#![no_main]

use custos_detect::gbdt::{CompactForest, Gbdt};
use custos_detect::{FlowModel, KitsuneModel};
use custos_features::flow::live;
use libfuzzer_sys::fuzz_target;

/// Values rows are made of beside the thresholds.
const PALETTE: [f64; 12] = [
    0.0,
    1.0,
    -1.0,
    0.5,
    3.0,
    100.0,
    1e6,
    -1e6,
    1e-300,
    f64::NAN,
    f64::INFINITY,
    f64::NEG_INFINITY,
];

/// Rows of `n` values (and shorter ones: a missing value counts as NaN) for `forest`.
fn rows(forest: &CompactForest, n: usize) -> Vec<Vec<f64>> {
    let n = n.min(4096);
    let mut rows: Vec<Vec<f64>> = (0..PALETTE.len())
        .map(|k| {
            (0..n)
                .map(|i| PALETTE[(i * 7 + k) % PALETTE.len()])
                .collect()
        })
        .collect();
    // On, just above and just below each feature's thresholds, by their rank.
    for step in 0..3 {
        let row: Vec<f64> = (0..n)
            .map(|i| {
                let ts = forest.split_thresholds(i).unwrap_or_default();
                match ts.get(step % ts.len().max(1)) {
                    Some(&t) if step == 0 => t,
                    Some(&t) if step == 1 => t.next_up(),
                    Some(&t) => t.next_down(),
                    None => 0.0,
                }
            })
            .collect();
        rows.push(row);
    }
    rows.push(Vec::new());
    rows.push(vec![1.0; n / 2]);
    rows
}

/// The compact layout agrees with `gbdt` on every row.
fn check_forest(gbdt: &Gbdt) {
    let forest = CompactForest::new(gbdt);
    let n = gbdt.feature_names().len();
    let mut key = Vec::new();
    let mut by_key: std::collections::HashMap<Vec<u64>, u64> = Default::default();
    let mut by_buckets: std::collections::HashMap<Vec<u16>, Vec<u64>> = Default::default();
    for row in rows(&forest, n) {
        let m = gbdt.margin(&row);
        assert_eq!(
            forest.margin(&row).to_bits(),
            m.to_bits(),
            "margin of {row:?}"
        );
        let p = forest.probability(&row);
        assert!(p.is_nan() || (0.0..=1.0).contains(&p), "probability {p}");
        if forest.split_key(&row, &mut key) {
            let mut buckets = Vec::with_capacity(n);
            for feature in 0..n {
                let x = row.get(feature).copied().unwrap_or(f64::NAN);
                let bucket = forest.split_bucket(feature, x).expect("keys are computed");
                let ts = forest.split_thresholds(feature).expect("keys are computed");
                assert!(usize::from(bucket) <= ts.len());
                buckets.push(bucket);
            }
            // A key stands for the features' buckets: equal buckets, equal keys.
            let seen = by_buckets.entry(buckets).or_insert_with(|| key.clone());
            assert_eq!(*seen, key, "same buckets, another split key: {row:?}");
            let seen = *by_key.entry(key.clone()).or_insert(m.to_bits());
            assert_eq!(seen, m.to_bits(), "same split key, another margin: {row:?}");
        } else {
            assert!(key.is_empty());
        }
    }
    // ... and equal keys, equal buckets.
    assert_eq!(by_buckets.len(), by_key.len(), "split keys and buckets differ");
}

/// A Kitsune model that read: it scores and survives its own round trip.
fn check_kitsune(mut model: KitsuneModel) {
    let bytes = model.to_file_bytes().expect("a model that read writes");
    let again = KitsuneModel::from_file_bytes(&bytes, "again.json").expect("and reads back");
    assert_eq!(again.to_file_bytes().expect("writes"), bytes);
    let n = model.features.count.min(4096);
    for k in 0..4 {
        let row: Vec<f64> = (0..n)
            .map(|i| PALETTE[(i * 5 + k) % PALETTE.len()])
            .collect();
        let _ = model.kitnet.execute(&row);
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode % 4 {
        0 => {
            let names = live::names();
            if let Ok(model) = FlowModel::from_bytes(rest, live::LIVE_FEATURES, &names) {
                assert_eq!(model.gbdt.feature_names(), names.as_slice());
                assert!((0.0..=1.0).contains(&model.threshold()));
                check_forest(&model.gbdt);
            }
        }
        1 => {
            if let Ok(gbdt) = Gbdt::from_json(rest) {
                check_forest(&gbdt);
            }
        }
        2 => {
            if let Ok(model) = KitsuneModel::from_file_bytes(rest, "model.json") {
                check_kitsune(model);
            }
        }
        _ => {
            let Ok(model) = serde_json::from_slice::<KitsuneModel>(rest) else {
                return;
            };
            let Ok(bytes) = model.to_file_bytes() else {
                return;
            };
            if let Ok(model) = KitsuneModel::from_file_bytes(&bytes, "model.json") {
                check_kitsune(model);
            }
        }
    }
});
