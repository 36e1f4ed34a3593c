//! Tests of the GBDT: learning, TreeSHAP, determinism, deduplication, model checks, errors.

use super::train::train_inner;
use super::tree::SplitMix64;
use super::*;

fn names(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("f{i}")).collect()
}

/// `rows` rows of `features` uniform values in [-1, 1), labelled by `label`.
fn synth(
    rows: usize,
    features: usize,
    seed: u64,
    label: impl Fn(&[f64]) -> bool,
) -> (Vec<Vec<f64>>, Vec<bool>) {
    let mut rng = SplitMix64::new(seed);
    let mut columns: Vec<Vec<f64>> = (0..features).map(|_| Vec::with_capacity(rows)).collect();
    let mut labels = Vec::with_capacity(rows);
    let mut row = vec![0.0; features];
    for _ in 0..rows {
        for (f, column) in columns.iter_mut().enumerate() {
            row[f] = rng.next_f64() * 2.0 - 1.0;
            column.push(row[f]);
        }
        labels.push(label(&row));
    }
    (columns, labels)
}

fn row(columns: &[Vec<f64>], r: usize) -> Vec<f64> {
    columns.iter().map(|c| c[r]).collect()
}

/// Default parameters changed by `change`.
fn with(change: impl FnOnce(&mut GbdtParams)) -> GbdtParams {
    let mut p = GbdtParams::default();
    change(&mut p);
    p
}

fn try_fit(
    columns: &[Vec<f64>],
    labels: &[bool],
    weights: Option<&[f64]>,
    params: &GbdtParams,
) -> Result<Gbdt, GbdtError> {
    let names = names(columns.len());
    let data = TrainingData {
        names: &names,
        columns,
        labels,
        weights,
    };
    train(&data, params)
}

fn fit(columns: &[Vec<f64>], labels: &[bool], params: &GbdtParams) -> Gbdt {
    try_fit(columns, labels, None, params).unwrap()
}

fn accuracy(model: &Gbdt, columns: &[Vec<f64>], labels: &[bool]) -> f64 {
    let correct = (0..labels.len())
        .filter(|&r| (model.probability(&row(columns, r)) > 0.5) == labels[r])
        .count();
    correct as f64 / labels.len() as f64
}

fn xor(r: &[f64]) -> bool {
    (r[0] > 0.0) ^ (r[1] > 0.0)
}

fn thresholds(r: &[f64]) -> bool {
    r[0] > 0.3 && r[2] < -0.2
}

#[test]
fn learns_xor_on_held_out_data() {
    let (columns, labels) = synth(20_000, 3, 1, xor);
    let model = fit(&columns, &labels, &GbdtParams::default());
    let (test_columns, test_labels) = synth(5_000, 3, 2, xor);
    let acc = accuracy(&model, &test_columns, &test_labels);
    assert!(acc >= 0.99, "held-out accuracy {acc}");
}

#[test]
fn learns_axis_aligned_thresholds_on_held_out_data() {
    let (columns, labels) = synth(20_000, 4, 3, thresholds);
    let model = fit(&columns, &labels, &GbdtParams::default());
    let (test_columns, test_labels) = synth(5_000, 4, 4, thresholds);
    let acc = accuracy(&model, &test_columns, &test_labels);
    assert!(acc >= 0.99, "held-out accuracy {acc}");
    let importance = model.importance();
    let top: Vec<&str> = importance[..2].iter().map(|(n, _)| n.as_str()).collect();
    assert!(top.contains(&"f0") && top.contains(&"f2"), "{top:?}");
}

#[test]
fn contributions_sum_to_margin() {
    let (columns, labels) = synth(5_000, 5, 5, |r| r[0] * r[1] + r[2] > 0.1);
    let model = fit(&columns, &labels, &GbdtParams::default());
    let (probe, _) = synth(200, 5, 6, |_| false);
    for r in 0..200 {
        let mut x = row(&probe, r);
        if r % 7 == 0 {
            x[r % 5] = f64::NAN;
        }
        let c = model.contributions(&x);
        let margin = model.margin(&x);
        let sum = c.base + c.values.iter().sum::<f64>();
        assert!(
            (sum - margin).abs() <= 1e-9 * margin.abs().max(1.0),
            "row {r}: base + sum = {sum}, margin = {margin}"
        );
    }
}

#[test]
fn unused_feature_contributes_nothing() {
    // Feature 0 takes 11 values, so one bin split separates the classes exactly; after it,
    // every row of a side has the same gradient and no split on feature 1 has any gain.
    let mut rng = SplitMix64::new(9);
    let x0: Vec<f64> = (0..2000).map(|_| (rng.below(11) as f64) - 5.0).collect();
    let x1: Vec<f64> = (0..2000).map(|_| rng.next_f64()).collect();
    let labels: Vec<bool> = x0.iter().map(|&v| v > 0.0).collect();
    let columns = vec![x0, x1];
    let model = fit(&columns, &labels, &GbdtParams::default());
    assert_eq!(model.importance()[1], ("f1".to_string(), 0.0));
    for r in 0..50 {
        let x = row(&columns, r);
        let c = model.contributions(&x);
        assert_eq!(c.values[1], 0.0, "row {r}");
        assert!((c.base + c.values[0] - model.margin(&x)).abs() < 1e-9);
    }
}

/// The path-dependent conditional expectation `v(S)` TreeSHAP attributes: follow the row at
/// splits on features in `set`, average the children by cover elsewhere.
fn conditional(tree: &Tree, x: &[f64], set: u32, node: usize) -> f64 {
    match &tree.nodes[node] {
        Node::Leaf { value, .. } => *value,
        Node::Split {
            feature,
            threshold,
            left,
            right,
            cover,
            ..
        } => {
            let (l, r) = (*left as usize, *right as usize);
            if set & (1 << feature) != 0 {
                let xv = x[*feature as usize];
                conditional(
                    tree,
                    x,
                    set,
                    if xv.is_nan() || xv <= *threshold {
                        l
                    } else {
                        r
                    },
                )
            } else {
                let (cl, cr) = (tree.nodes[l].cover(), tree.nodes[r].cover());
                cl / cover * conditional(tree, x, set, l)
                    + cr / cover * conditional(tree, x, set, r)
            }
        }
    }
}

/// Shapley values by enumerating every coalition.
fn brute_force(model: &Gbdt, x: &[f64]) -> (f64, Vec<f64>) {
    let m = x.len();
    let fact = |n: usize| (1..=n).map(|k| k as f64).product::<f64>();
    let mut phi = vec![0.0; m];
    let mut base = model.base_score;
    for tree in &model.trees {
        base += conditional(tree, x, 0, 0);
        for (i, p) in phi.iter_mut().enumerate() {
            for set in 0u32..(1 << m) {
                if set & (1 << i) != 0 {
                    continue;
                }
                let s = set.count_ones() as usize;
                let weight = fact(s) * fact(m - s - 1) / fact(m);
                *p += weight
                    * (conditional(tree, x, set | (1 << i), 0) - conditional(tree, x, set, 0));
            }
        }
    }
    (base, phi)
}

#[test]
fn contributions_match_brute_force_shapley() {
    let label = |r: &[f64]| (r[0] > 0.0 && r[1] > 0.3) || r[2] < -0.5 || r[0] * r[3] > 0.4;
    let (columns, labels) = synth(3_000, 4, 11, label);
    let params = with(|p| (p.trees, p.max_depth, p.learning_rate) = (12, 5, 0.3));
    let model = fit(&columns, &labels, &params);
    // The ensemble must reuse features along paths, which is where TreeSHAP unwinds.
    let reused = model.trees.iter().any(|t| {
        t.nodes
            .iter()
            .filter(|n| matches!(n, Node::Split { feature: 0, .. }))
            .count()
            > 1
    });
    assert!(reused);
    let (probe, _) = synth(40, 4, 12, |_| false);
    for r in 0..40 {
        let mut x = row(&probe, r);
        if r == 3 {
            x[0] = f64::NAN;
        }
        let c = model.contributions(&x);
        let (base, phi) = brute_force(&model, &x);
        assert!(
            (c.base - base).abs() < 1e-9,
            "row {r}: base {} vs {base}",
            c.base
        );
        for i in 0..4 {
            assert!(
                (c.values[i] - phi[i]).abs() < 1e-9,
                "row {r} feature {i}: TreeSHAP {} vs brute force {}",
                c.values[i],
                phi[i]
            );
        }
    }
}

#[test]
fn top_contributions_orders_by_magnitude_then_index() {
    let (columns, labels) = synth(4_000, 4, 13, thresholds);
    let model = fit(&columns, &labels, &GbdtParams::default());
    let x = row(&columns, 0);
    let c = model.contributions(&x);
    let top = model.top_contributions(&x, 3);
    assert_eq!(top.len(), 3);
    for pair in top.windows(2) {
        assert!(pair[0].2.abs() >= pair[1].2.abs());
    }
    let first = &top[0];
    let index = model
        .feature_names()
        .iter()
        .position(|n| *n == first.0)
        .unwrap();
    assert_eq!((first.1, first.2), (x[index], c.values[index]));
    // Features 1 and 3 are noise with no split at all in a stump model: ties go by index.
    let stump = fit(
        &columns,
        &labels,
        &with(|p| (p.trees, p.max_depth) = (1, 1)),
    );
    let names: Vec<String> = stump
        .top_contributions(&x, 4)
        .into_iter()
        .map(|t| t.0)
        .collect();
    assert_eq!(names[1..], ["f1", "f2", "f3"].map(String::from)[..]);
}

#[test]
fn training_is_byte_identical_across_runs() {
    let (columns, labels) = synth(3_000, 6, 14, |r| r[0] + r[3] > 0.2);
    for params in [
        with(|p| p.trees = 30),
        with(|p| (p.trees, p.row_subsample, p.feature_subsample, p.seed) = (30, 0.6, 0.5, 42)),
    ] {
        let a = fit(&columns, &labels, &params).to_json().unwrap();
        let b = fit(&columns, &labels, &params).to_json().unwrap();
        assert_eq!(a, b);
        let other = GbdtParams {
            seed: params.seed + 1,
            ..params.clone()
        };
        let same_trees =
            fit(&columns, &labels, &other).trees == fit(&columns, &labels, &params).trees;
        assert_eq!(
            same_trees,
            params.row_subsample == 1.0,
            "the seed drives subsampling"
        );
    }
}

#[test]
fn model_bytes_are_pinned() {
    // Same bytes on every machine: exp and ln are computed in-house, nothing depends on hash
    // order or threads. A change of algorithm changes this hash on purpose.
    use sha2::{Digest, Sha256};
    let (columns, labels) = synth(2_000, 4, 15, thresholds);
    let params =
        with(|p| (p.trees, p.row_subsample, p.feature_subsample, p.seed) = (10, 0.8, 0.75, 7));
    let json = fit(&columns, &labels, &params).to_json().unwrap();
    let hash: String = Sha256::digest(json.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(
        hash,
        "7df6aac491976b300ef2d4c328d7258451fd25139689c2061d8f00ce589ad117"
    );
}

#[test]
fn duplicated_rows_train_as_weighted_rows() {
    // Values on a coarse grid so that the data already has repeats of its own.
    let (mut columns, labels) = synth(800, 3, 16, |r| r[0] > 0.1 || r[1] * r[2] > 0.2);
    for column in &mut columns {
        for v in column.iter_mut() {
            *v = (*v * 8.0).round() / 8.0;
        }
    }
    let tripled: Vec<Vec<f64>> = columns.iter().map(|c| c.repeat(3)).collect();
    let tripled_labels = labels.repeat(3);
    let weights = vec![3.0; labels.len()];
    let params = with(|p| (p.trees, p.min_leaf_rows) = (40, 1));
    let weighted = try_fit(&columns, &labels, Some(&weights), &params).unwrap();
    let repeated = fit(&tripled, &tripled_labels, &params);
    assert_eq!(repeated.summary.rows, 3 * weighted.summary.rows);
    assert_eq!(repeated.summary.unique_rows, weighted.summary.unique_rows);
    assert!(weighted.summary.unique_rows < 800, "the grid repeats rows");
    assert_eq!(repeated.trees, weighted.trees);
    assert_eq!(repeated.base_score, weighted.base_score);
    for r in 0..800 {
        let x = row(&columns, r);
        assert_eq!(repeated.margin(&x).to_bits(), weighted.margin(&x).to_bits());
    }
}

#[test]
fn min_leaf_rows_counts_original_rows_after_merging() {
    // 50 benign rows at 0, and 3 identical attack rows at 1 that merge into one row.
    let x: Vec<f64> = (0..53).map(|r| if r < 50 { 0.0 } else { 1.0 }).collect();
    let labels: Vec<bool> = (0..53).map(|r| r >= 50).collect();
    let columns = [x];
    let split = |min_leaf_rows| {
        let model = fit(
            &columns,
            &labels,
            &with(|p| p.min_leaf_rows = min_leaf_rows),
        );
        assert_eq!(model.summary().unique_rows, 2);
        model.trees[0].nodes.len() > 1
    };
    assert!(split(3), "3 original rows on the right");
    assert!(!split(4));
}

#[test]
fn raw_prediction_equals_training_bin_decisions() {
    let (columns, labels) = synth(4_000, 5, 17, |r| r[0] + r[1] * r[4] > 0.0);
    let names = names(5);
    let data = TrainingData {
        names: &names,
        columns: &columns,
        labels: &labels,
        weights: None,
    };
    // Few bins: thresholds are quantile edges between far-apart values, not every value.
    let params = with(|p| (p.trees, p.max_bins) = (50, 16));
    let (model, trained) = train_inner(&data, &params).unwrap();
    for r in 0..labels.len() {
        let unique = trained.row_unique[r] as usize;
        assert_eq!(
            model.margin(&row(&columns, r)).to_bits(),
            trained.margins[unique].to_bits(),
            "row {r}"
        );
    }
}

/// A small trained model to break.
fn small_model() -> Gbdt {
    let (columns, labels) = synth(500, 3, 18, |r| r[0] > 0.0 && r[1] > -0.3);
    let params = with(|p| (p.trees, p.max_depth) = (3, 3));
    fit(&columns, &labels, &params)
}

fn invalid(model: &Gbdt) -> String {
    match model.validate() {
        Err(GbdtError::Invalid { what }) => what,
        other => panic!("expected Invalid, got {other:?}"),
    }
}

fn first_split(model: &mut Gbdt) -> &mut Node {
    model.trees[0]
        .nodes
        .iter_mut()
        .find(|n| matches!(n, Node::Split { .. }))
        .unwrap()
}

#[test]
fn validate_refuses_child_out_of_range() {
    let mut model = small_model();
    assert_eq!(model.validate(), Ok(()));
    if let Node::Split { left, .. } = first_split(&mut model) {
        *left = 1000;
    }
    assert!(invalid(&model).starts_with("tree 0: node 0: child 1000 out of range"));
}

#[test]
fn validate_refuses_cycle() {
    let mut model = small_model();
    if let Node::Split { right, .. } = first_split(&mut model) {
        *right = 0;
    }
    assert!(invalid(&model).starts_with("tree 0: node 0: child 0 out of range (must be in 1.."));
    // Two parents for one node is refused too: a shared subtree would multiply the work.
    let split = |left, right, cover| Node::Split {
        feature: 0,
        threshold: 0.0,
        left,
        right,
        gain: 1.0,
        cover,
    };
    let leaf = Node::Leaf {
        value: 1.0,
        cover: 1.0,
    };
    let mut model = small_model();
    model.trees[0].nodes = vec![
        split(1, 2, 4.0),
        split(3, 4, 2.0),
        split(3, 4, 2.0),
        leaf.clone(),
        leaf,
    ];
    assert_eq!(invalid(&model), "tree 0: node 3 has two parents");
}

#[test]
fn validate_refuses_feature_out_of_range() {
    let mut model = small_model();
    if let Node::Split { feature, .. } = first_split(&mut model) {
        *feature = 3;
    }
    assert_eq!(
        invalid(&model),
        "tree 0: node 0: feature 3 out of range (3 features)"
    );
}

#[test]
fn validate_refuses_nan_leaf_and_bad_depth() {
    let mut model = small_model();
    let leaf = model.trees[1]
        .nodes
        .iter_mut()
        .find(|n| matches!(n, Node::Leaf { .. }))
        .unwrap();
    let cover = leaf.cover();
    *leaf = Node::Leaf {
        value: f64::NAN,
        cover,
    };
    assert!(invalid(&model).contains("leaf value NaN is not finite"));
    let mut model = small_model();
    model.params.max_depth = 1;
    assert!(
        invalid(&model).contains("nodes (expected 1 to 3 for depth 1)") || {
            invalid(&model).contains("depth")
        }
    );
}

#[test]
fn from_json_refuses_wrong_format() {
    let model = small_model();
    let json = model.to_json().unwrap();
    assert_eq!(Gbdt::from_json(json.as_bytes()), Ok(model.clone()));
    let other = json.replace("custos-gbdt/1", "custos-gbdt/2");
    assert_eq!(
        Gbdt::from_json(other.as_bytes()),
        Err(GbdtError::Format {
            found: "custos-gbdt/2".into(),
            expected: GBDT_FORMAT
        })
    );
    let mut wrong = model;
    wrong.format = "xgboost".into();
    assert!(matches!(wrong.validate(), Err(GbdtError::Format { .. })));
}

#[test]
fn from_json_refuses_truncated_json() {
    let json = small_model().to_json().unwrap();
    for cut in (0..json.len()).step_by(7) {
        match Gbdt::from_json(&json.as_bytes()[..cut]) {
            Err(GbdtError::Truncated { .. }) => {}
            other => panic!("cut at {cut}: {other:?}"),
        }
    }
    // A validation failure keeps its own error, not a parser one.
    let bad = json.replacen("\"left\":", "\"left\":9", 1);
    assert!(matches!(
        Gbdt::from_json(bad.as_bytes()),
        Err(GbdtError::Invalid { .. })
    ));
    // serde's own entry point validates too.
    assert!(serde_json::from_str::<Gbdt>(&bad).is_err());
}

#[test]
fn mutated_bytes_never_panic() {
    let json = small_model().to_json().unwrap().into_bytes();
    let probe = [0.3, -0.2, f64::NAN];
    let mut accepted = 0;
    for i in 0..json.len() {
        for b in [b'0', b'7', b'-', b'e', b'"', b'}', b'['] {
            let mut m = json.clone();
            m[i] = b;
            if let Ok(model) = Gbdt::from_json(&m) {
                accepted += 1;
                let c = model.contributions(&probe);
                let _ = (c.base, model.margin(&probe), model.probability(&probe));
                let _ = (model.top_contributions(&probe, 2), model.importance());
            }
        }
    }
    assert!(accepted > 0, "some digit changes still give valid models");
}

#[test]
fn rejects_single_class() {
    let (columns, _) = synth(100, 2, 19, |_| true);
    let e = try_fit(&columns, &[true; 100], None, &GbdtParams::default()).unwrap_err();
    assert_eq!(
        e,
        GbdtError::OneClass {
            label: true,
            rows: 100
        }
    );
    assert_eq!(
        e.to_string(),
        "all 100 rows are labelled attack: training needs both classes"
    );
}

#[test]
fn rejects_ragged_columns() {
    let (mut columns, labels) = synth(100, 3, 20, |r| r[0] > 0.0);
    columns[1].pop();
    assert_eq!(
        try_fit(&columns, &labels, None, &GbdtParams::default()).unwrap_err(),
        GbdtError::Ragged {
            column: 1,
            name: "f1".into(),
            len: 99,
            expected: 100
        }
    );
}

#[test]
fn rejects_nan_value_naming_column_and_row() {
    let (mut columns, labels) = synth(100, 3, 21, |r| r[0] > 0.0);
    columns[2][17] = f64::NAN;
    let e = try_fit(&columns, &labels, None, &GbdtParams::default()).unwrap_err();
    assert!(
        matches!(
            e,
            GbdtError::NonFinite {
                column: 2,
                row: 17,
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(
        e.to_string(),
        "column 2 (\"f2\") row 17: value NaN is not finite"
    );
    let weights = vec![-1.0; 100];
    columns[2][17] = 0.0;
    assert!(matches!(
        try_fit(&columns, &labels, Some(&weights), &GbdtParams::default()),
        Err(GbdtError::BadWeight { row: 0, .. })
    ));
}

#[test]
fn rejects_bad_params() {
    let name = |p: GbdtParams| match p.validate() {
        Err(GbdtError::Param { name, .. }) => name,
        other => panic!("expected Param, got {other:?}"),
    };
    assert_eq!(name(with(|p| p.max_bins = 257)), "max_bins");
    assert_eq!(name(with(|p| p.learning_rate = f64::NAN)), "learning_rate");
    assert_eq!(name(with(|p| p.max_depth = 0)), "max_depth");
    assert_eq!(name(with(|p| p.row_subsample = 0.0)), "row_subsample");
    assert_eq!(name(with(|p| p.l2 = -1.0)), "l2");
    assert_eq!(GbdtParams::default().validate(), Ok(()));
}

#[test]
fn summary_counts_rows_and_classes() {
    // 1000 rows repeating with period 100 (one bin per value): 100 distinct rows.
    let x0: Vec<f64> = (0..1000).map(|r| f64::from(r % 100)).collect();
    let x1: Vec<f64> = (0..1000).map(|r| f64::from(r % 5)).collect();
    let labels: Vec<bool> = x0.iter().map(|&v| v >= 70.0).collect();
    let columns = [x0, x1];
    let model = fit(&columns, &labels, &GbdtParams::default());
    let s = model.summary();
    assert_eq!((s.rows, s.positives, s.negatives), (1000, 300, 700));
    assert_eq!(s.unique_rows, 100);
    assert_eq!(s.trees_built as usize, model.trees().len());
    assert!(s.training_log_loss < 0.01, "{}", s.training_log_loss);
    // Balanced classes start from even odds.
    assert_eq!(model.base_score(), 0.0);
    // Unbalanced: the log-odds of the positive rate.
    let params = with(|p| p.balance_classes = false);
    let unbalanced = fit(&columns, &labels, &params);
    assert!((unbalanced.base_score() - (300.0f64 / 700.0).ln()).abs() < 1e-15);
}
