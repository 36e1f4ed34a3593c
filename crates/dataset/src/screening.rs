//! Label screening: training flows whose label disagrees with what the rest of the dataset
//! predicts for them.
//!
//! Flows are split into `k` folds by a hash of their uid (a flow and its prefixes in one fold).
//! For each fold a model is trained on the other folds — flows and prefixes, with the run's
//! tree parameters — and scores the fold's flows as they ended. A flow labelled attack whose
//! out-of-fold probability is below [`DISAGREE`]'s complement, or labelled benign with a
//! probability above [`DISAGREE`], is *suspicious*: mislabelled, planted, or simply unlike the
//! rest. The report lists them (most confident disagreement first) for a person to check; the
//! model is trained on the labels as given. This is the confident-learning idea (Northcutt et
//! al., "Confident Learning", JAIR 2021) in its simplest form, with a fixed cut.

use crate::error::DatasetError;
use crate::flow_train::{uid_hash, Part};
use crate::reader::FeatureTable;
use custos_detect::gbdt::{train, GbdtParams, TrainingData};
use serde_json::{json, Value};

/// The file in a flow model directory holding the screening report.
pub const SCREENING_FILE: &str = "label-screening.json";

/// Out-of-fold probability beyond which a label counts as contradicted.
pub const DISAGREE: f64 = 0.9;

/// Flows listed in the report at most (the count covers all).
const LISTED: usize = 10_000;

/// The out-of-fold attack probability of every flow of `flows` (as it ended): flows and
/// their `prefixes` are split into `k` folds by uid hash, and each fold is scored by a model
/// trained with `params` on the other folds. [`screen_labels`] reports from these; `custos
/// robust poison` also acts on them (crate `custos-robust`, defence `screen+dpa`).
///
/// # Errors
/// `k` below 2 or above 20, or a fold whose training part has a single class.
pub fn out_of_fold(
    names: &[String],
    flows: &FeatureTable,
    prefixes: &FeatureTable,
    params: &GbdtParams,
    k: u32,
) -> Result<Vec<f64>, DatasetError> {
    if !(2..=20).contains(&k) {
        return Err(DatasetError::Usage(format!(
            "label screening needs 2 to 20 folds, not {k}"
        )));
    }
    let fold = |uid: &str| uid_hash(uid) % k;
    let mut oof = vec![f64::NAN; flows.rows()];
    let mut row = Vec::with_capacity(names.len());
    for f in 0..k {
        let mut fit = Part::default();
        for t in [flows, prefixes] {
            for (i, uid) in t.uids.iter().enumerate() {
                if fold(uid) != f {
                    fit.push(t, i);
                }
            }
        }
        let data = TrainingData {
            names,
            columns: &fit.columns,
            labels: &fit.labels,
            weights: None,
        };
        let model = train(&data, params)
            .map_err(|e| DatasetError::Usage(format!("label screening, fold {f} of {k}: {e}")))?;
        for (i, uid) in flows.uids.iter().enumerate() {
            if fold(uid) == f {
                row.clear();
                row.extend(
                    flows
                        .columns
                        .iter()
                        .map(|c| c.get(i).copied().unwrap_or(0.0)),
                );
                if let Some(slot) = oof.get_mut(i) {
                    *slot = model.probability(&row);
                }
            }
        }
    }
    Ok(oof)
}

/// Screens the labels of `flows` (with their `prefixes`, both read with the feature columns
/// `names`) by `k`-fold cross-validation, training with `params`; returns the report written
/// as [`SCREENING_FILE`] (also used by `custos robust poison`, crate `custos-robust`).
///
/// # Errors
/// `k` below 2 or above 20, or a fold whose training part has a single class.
pub fn screen_labels(
    names: &[String],
    flows: &FeatureTable,
    prefixes: &FeatureTable,
    params: &GbdtParams,
    k: u32,
) -> Result<Value, DatasetError> {
    let oof = out_of_fold(names, flows, prefixes, params, k)?;
    let mut suspicious: Vec<(f64, usize)> = oof
        .iter()
        .zip(&flows.labels)
        .enumerate()
        .filter_map(|(i, (&p, &attack))| {
            let disagreement = if attack { 1.0 - p } else { p };
            (disagreement > DISAGREE).then_some((disagreement, i))
        })
        .collect();
    let (attack_n, benign_n) = suspicious.iter().fold((0u64, 0u64), |(a, b), &(_, i)| {
        if flows.labels.get(i).copied().unwrap_or(false) {
            (a + 1, b)
        } else {
            (a, b + 1)
        }
    });
    suspicious.sort_by(|a, b| {
        b.0.total_cmp(&a.0)
            .then_with(|| flows.uids.get(a.1).cmp(&flows.uids.get(b.1)))
    });
    let listed: Vec<Value> = suspicious
        .iter()
        .take(LISTED)
        .map(|&(_, i)| {
            json!({
                "uid": flows.uids.get(i),
                "label": u8::from(flows.labels.get(i).copied().unwrap_or(false)),
                "phase": flows.phases.get(i).cloned().flatten(),
                "out_of_fold_score": oof.get(i),
            })
        })
        .collect();
    Ok(json!({
        "format": "custos label screening",
        "method": "k-fold out-of-fold probabilities of a model trained on the other folds; a \
            label is contradicted when the probability of the other class exceeds the cut",
        "folds": k,
        "cut": DISAGREE,
        "flows": flows.rows(),
        "suspicious": suspicious.len(),
        "suspicious_attack_labels": attack_n,
        "suspicious_benign_labels": benign_n,
        "listed": listed.len(),
        "flows_listed": listed,
    }))
}
