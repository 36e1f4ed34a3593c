//! The undefended flow model, trained as `custos train --detector flow` trains it: gradient-
//! boosted trees on every flow and checkpoint row, flows split by the SHA-256 of their uid
//! into a fitted part and a held-out part, the operating threshold the smallest held-out
//! benign score (at least 0.5) above which at most a fraction `fpr` of held-out benign rows
//! lie (`custos_detect::choose_threshold`). Poisoned labels poison the held-out part too, as
//! they would in a real training run.

use crate::error::RobustError;
use crate::flowdata::{uid_hash, FlowTables, TestFlows};
use custos_dataset::FlowTrainOptions;
use custos_detect::choose_threshold;
use custos_detect::gbdt::{train, Gbdt, GbdtParams, TrainingData};

/// How the flow models are trained.
#[derive(Clone, Debug, serde::Serialize)]
pub struct FlowSettings {
    /// The trees' parameters (seed included); `custos train`'s defaults.
    pub params: GbdtParams,
    /// False-positive rate on held-out benign rows that sets the threshold.
    pub fpr: f64,
    /// Fraction of flows held out (by uid hash) to choose the threshold.
    pub holdout: f64,
}

impl Default for FlowSettings {
    fn default() -> Self {
        let o = FlowTrainOptions::default();
        FlowSettings {
            params: o.params,
            fpr: o.fpr,
            holdout: o.holdout,
        }
    }
}

/// A trained flow model and its operating threshold.
#[derive(Debug)]
pub struct Single {
    gbdt: Gbdt,
    /// Operating threshold: flows scoring strictly above it alert.
    pub threshold: f64,
}

/// True when the flow `uid` is held out.
fn held_out(uid: &str, holdout: f64) -> bool {
    f64::from(uid_hash(uid)) < holdout * f64::from(u32::MAX)
}

/// Trains the undefended model on `t` (labels as they are now).
///
/// # Errors
/// The fitted part has a single class, or the parameters are invalid.
pub fn train_single(
    t: &FlowTables,
    s: &FlowSettings,
    context: &str,
) -> Result<Single, RobustError> {
    let (columns, labels) = t.subset(|u| !held_out(u, s.holdout));
    let data = TrainingData {
        names: &t.names,
        columns: &columns,
        labels: &labels,
        weights: None,
    };
    let gbdt = train(&data, &s.params).map_err(|e| RobustError::train(context, e))?;
    let mut row = Vec::with_capacity(t.names.len());
    let mut benign = Vec::new();
    for table in [&t.flows, &t.prefixes] {
        for (i, uid) in table.uids.iter().enumerate() {
            if held_out(uid, s.holdout) && !table.labels.get(i).copied().unwrap_or(false) {
                FlowTables::row(table, i, &mut row);
                benign.push(gbdt.probability(&row));
            }
        }
    }
    let (threshold, _) = choose_threshold(&benign, s.fpr);
    Ok(Single { gbdt, threshold })
}

impl Single {
    /// Each test flow's score: its highest probability over its rows.
    pub fn score(&self, test: &TestFlows) -> Vec<f64> {
        test.flow_max(|row| self.gbdt.probability(row))
    }
}

/// The parameters with `trees` trees and `seed`.
pub fn params(trees: u32, seed: u64) -> GbdtParams {
    GbdtParams {
        trees,
        seed,
        ..FlowTrainOptions::default().params
    }
}
