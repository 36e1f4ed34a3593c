//! Training the supervised flow detector from a dataset (`custos train --detector flow
//! --dataset DS -o MODEL`): gradient-boosted trees over the live features of every flow and
//! of every flow prefix, a threshold chosen on held-out benign rows, and a model directory
//! with its model card, training record and the dataset's manifest.
//!
//! # Rows, split and threshold
//!
//! The training rows are the flows of `flows.parquet` (as they are when they end) and their
//! prefixes in `flow-prefixes.parquet` (as they are at 1, 2, 4, … packets): the detector
//! scores both, so it learns from both. Flows are split by a hash of their uid — a flow and
//! its prefixes on the same side — into a training part and a held-out part
//! ([`FlowTrainOptions::holdout`]). The trees learn from the training part; the threshold is
//! the smallest held-out benign score, and at least 0.5, above which at most a fraction
//! [`FlowTrainOptions::fpr`] of the held-out benign rows lie (`custos_detect::choose_threshold`).
//! The held-out part also gives the metrics of the model card.

use crate::error::DatasetError;
use crate::manifest::MANIFEST_FILE;
use crate::reader::{read_features, FeatureTable};
use crate::sink::{FLOWS_FILE, PREFIXES_FILE};
use custos_detect::gbdt::{train, Gbdt, GbdtParams, TrainingData};
use custos_detect::{choose_threshold, FlowModel, FlowThreshold, FLOW_MODEL_FORMAT};
use custos_features::flow::live;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::Path;

mod phase_weights;
use phase_weights::equal_phase_weights;
pub use phase_weights::PhaseWeights;

/// Trees of the flow model unless `--trees` says otherwise.
pub const DEFAULT_TREES: u32 = 60;

/// How to train.
#[derive(Clone, Debug)]
pub struct FlowTrainOptions {
    /// The trees' parameters (seed included).
    pub params: GbdtParams,
    /// False-positive rate per scored benign moment that sets the threshold.
    pub fpr: f64,
    /// Fraction of flows held out (by uid hash) to choose the threshold and measure.
    pub holdout: f64,
    /// Screen the labels with this many cross-validation folds (`None`: no screening; see
    /// [`crate::screening`]).
    pub screen_folds: Option<u32>,
    /// How the attack rows are weighted against each other.
    pub phase_weights: PhaseWeights,
}

impl Default for FlowTrainOptions {
    fn default() -> Self {
        FlowTrainOptions {
            // 60 trees: on the lab data the held-out AUC and every phase's AUC on unseen
            // captures match 200 trees' to 0.001, at less than half the scoring cost on the
            // packet path (docs/detection.md).
            params: GbdtParams {
                trees: DEFAULT_TREES,
                ..GbdtParams::default()
            },
            fpr: 1e-3,
            holdout: 0.2,
            screen_folds: None,
            phase_weights: PhaseWeights::default(),
        }
    }
}

/// A trained flow model and what its training found.
#[derive(Debug)]
pub struct TrainedFlowModel {
    /// The model.
    pub model: FlowModel,
    /// `training.json`: inputs, options, rows, held-out metrics, feature importance.
    pub training: Value,
    /// The dataset manifest's bytes (copied into the model directory).
    pub manifest: Vec<u8>,
    /// The label screening report (`label-screening.json`), when asked for.
    pub screening: Option<Value>,
    /// The fingerprints of every flow of the dataset (`training-flows.bin`), so that a run
    /// can tell how many of its flows the model was trained on.
    pub training_flows: custos_engine::detectors::TrainingFlows,
}

/// The first 32 bits of SHA-256 of a flow's uid: how flows are split, deterministically.
pub(crate) fn uid_hash(uid: &str) -> u32 {
    let h = Sha256::digest(uid.as_bytes());
    u32::from_be_bytes([h[0], h[1], h[2], h[3]])
}

/// True when the flow `uid` is held out (a fraction `holdout` of uids, by SHA-256).
fn held_out(uid: &str, holdout: f64) -> bool {
    f64::from(uid_hash(uid)) < holdout * f64::from(u32::MAX)
}

/// The rows of one side of the split.
#[derive(Default)]
pub(crate) struct Part {
    pub(crate) columns: Vec<Vec<f64>>,
    pub(crate) labels: Vec<bool>,
    pub(crate) phases: Vec<Option<String>>,
}

impl Part {
    pub(crate) fn push(&mut self, t: &FeatureTable, i: usize) {
        if self.columns.len() != t.columns.len() {
            self.columns = vec![Vec::new(); t.columns.len()];
        }
        for (out, col) in self.columns.iter_mut().zip(&t.columns) {
            out.push(col.get(i).copied().unwrap_or(0.0));
        }
        self.labels.push(t.labels.get(i).copied().unwrap_or(false));
        self.phases.push(t.phases.get(i).cloned().flatten());
    }

    pub(crate) fn row(&self, i: usize, out: &mut Vec<f64>) {
        out.clear();
        out.extend(
            self.columns
                .iter()
                .map(|c| c.get(i).copied().unwrap_or(0.0)),
        );
    }
}

/// Trains the flow model on the dataset in `dir`.
///
/// # Errors
/// A dataset that cannot be read (missing files or columns: built by another version), one
/// with a single class, or invalid options.
pub fn train_flow_model(
    dir: &Path,
    opts: &FlowTrainOptions,
) -> Result<TrainedFlowModel, DatasetError> {
    let valid = (0.0..0.9).contains(&opts.holdout) && opts.fpr > 0.0 && opts.fpr < 1.0;
    if !valid {
        return Err(DatasetError::Usage(format!(
            "holdout {} must be in [0, 0.9) and fpr {} in (0, 1)",
            opts.holdout, opts.fpr
        )));
    }
    let manifest = read_manifest(dir)?;
    let names = live::names();
    let flows = read_features(&dir.join(FLOWS_FILE), &names)?;
    let training_flows = custos_engine::detectors::TrainingFlows::new(
        crate::reader::read_flow_fingerprints(&dir.join(FLOWS_FILE))?,
    );
    let prefixes = read_features(&dir.join(PREFIXES_FILE), &names)?;
    let (fit, hold) = split(&[&flows, &prefixes], opts.holdout);
    let fitted = fit_and_threshold(dir, &names, (&fit, &hold), opts)?;
    let mut training = training_record(
        dir,
        opts,
        &manifest,
        (&flows, &prefixes),
        &names,
        (&fit, &hold),
        &fitted,
    );
    let warnings = support_warnings(&fitted.threshold, opts.fpr, (&fit, &hold));
    training["warnings"] = json!(warnings);
    let protocols = protocols(&names, &fit);
    let model = FlowModel {
        format: FLOW_MODEL_FORMAT.into(),
        feature_set: live::LIVE_FEATURES.into(),
        gbdt: fitted.gbdt,
        threshold: fitted.threshold,
        protocols,
    };
    let screening = match opts.screen_folds {
        Some(k) => Some(crate::screening::screen_labels(
            &names,
            &flows,
            &prefixes,
            &opts.params,
            k,
        )?),
        None => None,
    };
    if let Some(sc) = &screening {
        training["label_screening"] = json!({
            "file": crate::screening::SCREENING_FILE,
            "folds": sc["folds"],
            "flows": sc["flows"],
            "suspicious": sc["suspicious"],
        });
    }
    Ok(TrainedFlowModel {
        training_flows,
        model,
        training,
        manifest,
        screening,
    })
}

/// The bytes of the dataset manifest in `dir`.
fn read_manifest(dir: &Path) -> Result<Vec<u8>, DatasetError> {
    let manifest_path = dir.join(MANIFEST_FILE);
    std::fs::read(&manifest_path).map_err(|e| {
        DatasetError::io(
            format!(
                "cannot read {} (is {} a dataset from custos dataset build?)",
                manifest_path.display(),
                dir.display()
            ),
            e,
        )
    })
}

/// The rows of `tables`, in order, split by uid into the training and held-out parts.
fn split(tables: &[&FeatureTable], holdout: f64) -> (Part, Part) {
    let (mut fit, mut hold) = (Part::default(), Part::default());
    for t in tables {
        for (i, uid) in t.uids.iter().enumerate() {
            if held_out(uid, holdout) {
                hold.push(t, i);
            } else {
                fit.push(t, i);
            }
        }
    }
    (fit, hold)
}

/// The trees fitted on the training part and the threshold chosen on the held-out part.
struct Fitted {
    /// The trees.
    gbdt: Gbdt,
    /// The alert threshold.
    threshold: FlowThreshold,
    /// The score of each held-out row.
    held_scores: Vec<f64>,
}

/// Fits the trees on `fit` and chooses the threshold on the benign rows of `hold`.
fn fit_and_threshold(
    dir: &Path,
    names: &[String],
    (fit, hold): (&Part, &Part),
    opts: &FlowTrainOptions,
) -> Result<Fitted, DatasetError> {
    let weights = match opts.phase_weights {
        PhaseWeights::Equal => Some(equal_phase_weights(&fit.labels, &fit.phases)),
        PhaseWeights::Rows => None,
    };
    let data = TrainingData {
        names,
        columns: &fit.columns,
        labels: &fit.labels,
        weights: weights.as_deref(),
    };
    let gbdt = train(&data, &opts.params)
        .map_err(|e| DatasetError::Usage(format!("cannot train on {}: {e}", dir.display())))?;
    let mut row = Vec::with_capacity(names.len());
    let held_scores: Vec<f64> = (0..hold.labels.len())
        .map(|i| {
            hold.row(i, &mut row);
            gbdt.probability(&row)
        })
        .collect();
    let benign: Vec<f64> = held_scores
        .iter()
        .zip(&hold.labels)
        .filter(|(_, &l)| !l)
        .map(|(&s, _)| s)
        .collect();
    let (value, achieved_fpr) = choose_threshold(&benign, opts.fpr);
    let threshold = FlowThreshold {
        value,
        fpr: opts.fpr,
        benign_rows: benign.len() as u64,
        achieved_fpr,
        rule: "the smallest held-out benign score (at least 0.5) above which at most a \
               fraction fpr of held-out benign rows lie; a flow alerts above it"
            .into(),
    };
    Ok(Fitted {
        gbdt,
        threshold,
        held_scores,
    })
}

/// `training.json`: the dataset, features, options, rows of each part, the trees' summary,
/// the threshold, held-out metrics and the 15 most important features.
fn training_record(
    dir: &Path,
    opts: &FlowTrainOptions,
    manifest: &[u8],
    (flows, prefixes): (&FeatureTable, &FeatureTable),
    names: &[String],
    (fit, hold): (&Part, &Part),
    fitted: &Fitted,
) -> Value {
    let metrics = held_out_metrics(&fitted.held_scores, hold, fitted.threshold.value);
    let importance: Vec<Value> = fitted
        .gbdt
        .importance()
        .into_iter()
        .take(15)
        .map(|(f, g)| json!({"feature": f, "gain": g}))
        .collect();
    json!({
        "detector": "flow",
        "custos_version": env!("CARGO_PKG_VERSION"),
        "dataset": {
            "path": dir.display().to_string(),
            "manifest_sha256": hex(&Sha256::digest(manifest)),
            "flows": flows.rows(),
            "prefix_rows": prefixes.rows(),
        },
        "feature_set": live::LIVE_FEATURES,
        "features": names.len(),
        "options": {
            "params": opts.params,
            "fpr": opts.fpr,
            "holdout": opts.holdout,
            "phase_weights": opts.phase_weights,
            "split": "by SHA-256 of the flow uid; a flow and its prefixes on one side",
        },
        "rows": {
            "training": fit.labels.len(),
            "training_attack": fit.labels.iter().filter(|&&l| l).count(),
            "held_out": hold.labels.len(),
            "held_out_attack": hold.labels.iter().filter(|&&l| l).count(),
        },
        "gbdt": fitted.gbdt.summary(),
        "threshold": fitted.threshold,
        "held_out_metrics": metrics,
        "importance": importance,
    })
}

/// Held-out benign rows per unit of `1 / fpr` below which the threshold is not measured,
/// only guessed: with fewer than 10 / fpr rows, a false-positive rate of `fpr` means fewer
/// than 10 rows above the threshold, and the rate's error is as large as the rate.
pub const MIN_BENIGN_ROWS_PER_INVERSE_FPR: f64 = 10.0;

/// Held-out attack rows below which a phase's recall is not measured.
pub const MIN_PHASE_ROWS: u64 = 5;

/// What the data could not support, in words for `training.json`, the model card and the
/// terminal: a threshold set on too few held-out benign rows for its false-positive rate (the
/// model's false alerts on benign traffic unlike those rows are then unknown), and attack
/// phases of the training part with fewer than [`MIN_PHASE_ROWS`] held-out attack rows.
fn support_warnings(
    threshold: &FlowThreshold,
    fpr: f64,
    (fit, hold): (&Part, &Part),
) -> Vec<String> {
    let mut out = Vec::new();
    let needed = (MIN_BENIGN_ROWS_PER_INVERSE_FPR / fpr).ceil() as u64;
    if threshold.benign_rows < needed {
        out.push(format!(
            "the threshold {:.4} rests on {} held-out benign rows; measuring a false-positive \
             rate of {fpr} takes at least {needed}: its false alerts on benign traffic are not \
             known — add benign captures of the network the model will watch",
            threshold.value, threshold.benign_rows
        ));
    }
    let mut phases: BTreeMap<&str, u64> = BTreeMap::new();
    for (part, count) in [(fit, 0), (hold, 1)] {
        for (p, &l) in part.phases.iter().zip(&part.labels) {
            if l {
                *phases.entry(p.as_deref().unwrap_or("(none)")).or_default() += count;
            }
        }
    }
    let thin: Vec<String> = phases
        .iter()
        .filter(|&(_, &n)| n < MIN_PHASE_ROWS)
        .map(|(p, n)| format!("{p} ({n})"))
        .collect();
    if !thin.is_empty() {
        out.push(format!(
            "attack phases with fewer than {MIN_PHASE_ROWS} held-out attack rows, whose \
             recall is not measured: {}",
            thin.join(", ")
        ));
    }
    out
}

/// The IP protocol numbers of the training rows, sorted, each once.
fn protocols(names: &[String], fit: &Part) -> Vec<u8> {
    let proto = names.iter().position(|n| n == "proto");
    let mut protocols: Vec<u8> = proto
        .and_then(|i| fit.columns.get(i))
        .map(|c| c.iter().map(|&p| p as u8).collect())
        .unwrap_or_default();
    protocols.sort_unstable();
    protocols.dedup();
    protocols
}

/// ROC AUC (ties counted half), recall and false-positive rate at the threshold, and recall
/// per phase, over the held-out rows.
fn held_out_metrics(scores: &[f64], hold: &Part, threshold: f64) -> Value {
    let pos: Vec<f64> = pick(scores, &hold.labels, true);
    let neg: Vec<f64> = pick(scores, &hold.labels, false);
    let above = |v: &[f64]| v.iter().filter(|&&s| s > threshold).count();
    let rate = |n: usize, d: usize| {
        if d == 0 {
            None
        } else {
            Some(n as f64 / d as f64)
        }
    };
    let mut phases: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for ((s, &l), p) in scores.iter().zip(&hold.labels).zip(&hold.phases) {
        if l {
            let e = phases
                .entry(p.clone().unwrap_or_else(|| "(none)".into()))
                .or_default();
            e.0 += 1;
            e.1 += usize::from(*s > threshold);
        }
    }
    let per_phase: BTreeMap<String, Value> = phases
        .into_iter()
        .map(|(k, (n, hit))| (k, json!({"attack_rows": n, "recall": rate(hit, n)})))
        .collect();
    json!({
        "rows": scores.len(),
        "roc_auc": auc(&pos, &neg),
        "recall": rate(above(&pos), pos.len()),
        "false_positive_rate": rate(above(&neg), neg.len()),
        "per_phase": per_phase,
        "note": "rows are flows at their checkpoints and at their end, held out by uid",
    })
}

fn pick(scores: &[f64], labels: &[bool], want: bool) -> Vec<f64> {
    scores
        .iter()
        .zip(labels)
        .filter(|(_, &l)| l == want)
        .map(|(&s, _)| s)
        .collect()
}

/// Mann–Whitney ROC AUC: the chance a random attack row outscores a random benign one (ties
/// half); `None` without both classes.
pub(crate) fn auc(pos: &[f64], neg: &[f64]) -> Option<f64> {
    if pos.is_empty() || neg.is_empty() {
        return None;
    }
    let mut all: Vec<(f64, bool)> = pos.iter().map(|&s| (s, true)).collect();
    all.extend(neg.iter().map(|&s| (s, false)));
    all.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < all.len() {
        let mut j = i;
        while j < all.len() && all[j].0 == all[i].0 {
            j += 1;
        }
        let mid = (i + j + 1) as f64 / 2.0; // ranks are 1-based
        rank_sum += mid * all[i..j].iter().filter(|x| x.1).count() as f64;
        i = j;
    }
    let (p, n) = (pos.len() as f64, neg.len() as f64);
    Some((rank_sum - p * (p + 1.0) / 2.0) / (p * n))
}

fn hex(d: &[u8]) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}

/// The model card of a trained flow model (Mitchell et al. 2019).
pub fn flow_model_card(dir_name: &str, t: &TrainedFlowModel) -> Value {
    json!({
        "model_details": {
            "name": dir_name,
            "detector": "flow: gradient-boosted decision trees (custos-gbdt, logistic loss) over \
                live per-flow features, scored at 1, 2, 4, … packets and at the flow's end",
            "custos_version": env!("CARGO_PKG_VERSION"),
            "threshold": t.model.threshold,
            "trees": t.model.gbdt.trees().len(),
        },
        "intended_use": "flag flows that resemble the labelled attack traffic of its dataset \
            (scans, floods, brute force, protocol abuse) on networks like the one the dataset \
            came from; each alert names the features that pushed it",
        "out_of_scope_uses": "attacks unlike any in its dataset (use an anomaly detector such as \
            kitsune beside it); networks with other devices and protocols without retraining; \
            blocking traffic automatically",
        "factors": "device set, protocols, attack tools and their rates in the dataset; the \
            dataset's labelling rule",
        "training_data": {
            "dataset_manifest_sha256": t.training["dataset"]["manifest_sha256"],
            "manifest": "dataset-manifest.json (a copy of the dataset's manifest.json)",
            "training_flows": "training-flows.bin (fingerprints of the dataset's flows: Community ID and start time)",
            "rows": t.training["rows"],
        },
        "evaluation_data": "held-out flows of the same dataset (by uid hash); evaluate it on \
            captures it never saw with custos analyze --model and custos evaluate",
        "metrics": t.training["held_out_metrics"],
        "caveats": caveats(t),
    })
}

/// The card's caveats: the ones of every flow model, then what its training data could not
/// support (`training.json`'s `warnings`).
fn caveats(t: &TrainedFlowModel) -> String {
    let mut c = String::from(
        "held-out flows come from the same captures as the training flows, so these metrics \
         are optimistic for other networks; the model sees only live features (no Zeek \
         state), and a one-packet flow is judged on that packet alone",
    );
    for w in t.training["warnings"].as_array().into_iter().flatten() {
        if let Some(w) = w.as_str() {
            c.push_str("; ");
            c.push_str(w);
        }
    }
    c
}

pub use custos_engine::detectors::DATASET_MANIFEST_FILE;

/// Writes the model directory `out`: `flow-model.json`, `dataset-manifest.json`,
/// `training.json` and the model card. An existing non-empty directory only with `force`.
///
/// # Errors
/// The directory cannot be prepared or a file written.
pub fn write_flow_model_dir(
    out: &Path,
    t: &TrainedFlowModel,
    force: bool,
) -> Result<(), DatasetError> {
    use custos_engine::detectors::{prepare_model_dir, write_card_files, FLOW_MODEL_FILE};
    prepare_model_dir(out, force)?;
    let bytes = t
        .model
        .to_bytes()
        .map_err(|e| DatasetError::Internal(e.to_string()))?;
    let write = |name: &str, b: &[u8]| {
        let p = out.join(name);
        std::fs::write(&p, b)
            .map_err(|e| DatasetError::io(format!("cannot write {}", p.display()), e))
    };
    write(FLOW_MODEL_FILE, &bytes)?;
    write(DATASET_MANIFEST_FILE, &t.manifest)?;
    write(
        custos_engine::detectors::TRAINING_FLOWS_FILE,
        &t.training_flows.to_bytes(),
    )?;
    if let Some(sc) = &t.screening {
        let mut text = serde_json::to_vec_pretty(sc).unwrap_or_default();
        text.push(b'\n');
        write(crate::screening::SCREENING_FILE, &text)?;
    }
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut training = t.training.clone();
    training["model_sha256"] = json!(FlowModel::sha256_of(&bytes));
    write_card_files(out, &training, &flow_model_card(&name, t))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auc_counts_ties_half() {
        assert_eq!(auc(&[0.9, 0.8], &[0.1, 0.2]), Some(1.0));
        assert_eq!(auc(&[0.1], &[0.9]), Some(0.0));
        assert_eq!(auc(&[0.5], &[0.5]), Some(0.5));
        assert_eq!(auc(&[0.3, 0.7], &[0.5]), Some(0.5));
        assert_eq!(auc(&[], &[0.5]), None);
    }

    #[test]
    fn holdout_split_is_a_stable_fraction() {
        let n = (0..10_000)
            .filter(|i| held_out(&format!("C{i}"), 0.2))
            .count();
        assert!((1_800..2_200).contains(&n), "{n}");
        assert!(!held_out("Cabc", 0.0));
    }
}
