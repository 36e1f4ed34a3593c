//! `targeted_flip`: the training attack flows most like the attack the poisoner will run
//! later are relabelled benign, so the model learns exactly that traffic as normal.
//!
//! "Like" is the distance in feature space to the nearest *target* flow: the test capture's
//! attack flows (all of them, or those of one phase with `--target-phase`), at most
//! [`MAX_TARGETS`] of them taken evenly by uid hash. Features are compressed
//! (`sign(x)·ln(1 + |x|)`: counts and byte totals span orders of magnitude) and standardised
//! by the training flows' mean and standard deviation; features constant over the training
//! flows are left out. The training attack flows are relabelled nearest first (ties by uid);
//! the rate is the fraction of the training attack flows relabelled, as for `label_flip`.

use crate::flowdata::FlowTables;
use crate::seeded;
use crate::strategies::label_flip::attack_indices;

/// Most target flows compared against.
pub const MAX_TARGETS: usize = 512;

/// The training attack flows (indices into `train.flows`) nearest first to the target flows
/// of `test` (attack flows, of `phase` when given); empty when there is no target.
pub fn order(train: &FlowTables, test: &FlowTables, phase: Option<&str>, seed: u64) -> Vec<usize> {
    let f = |x: f64| x.signum() * x.abs().ln_1p();
    let cols = &train.flows.columns;
    let n = train.flows.rows().max(1) as f64;
    let stats: Vec<(usize, f64, f64)> = cols
        .iter()
        .enumerate()
        .filter_map(|(c, v)| {
            let mean = v.iter().map(|&x| f(x)).sum::<f64>() / n;
            let var = v.iter().map(|&x| (f(x) - mean).powi(2)).sum::<f64>() / n;
            (var > 0.0 && var.is_finite()).then(|| (c, mean, var.sqrt()))
        })
        .collect();
    let point = |t: &FlowTables, i: usize| -> Vec<f64> {
        stats
            .iter()
            .map(|&(c, m, s)| {
                let x = t
                    .flows
                    .columns
                    .get(c)
                    .and_then(|v| v.get(i))
                    .copied()
                    .unwrap_or(0.0);
                (f(x) - m) / s
            })
            .collect()
    };
    let mut targets: Vec<(u64, usize)> = (0..test.flows.rows())
        .filter(|&i| test.flows.labels.get(i).copied().unwrap_or(false))
        .filter(|&i| {
            phase.is_none_or(|p| test.flows.phases.get(i).and_then(|x| x.as_deref()) == Some(p))
        })
        .map(|i| {
            let uid = test.flows.uids.get(i).map_or(&[][..], |u| u.as_bytes());
            (seeded::hash(seed, "targets", uid), i)
        })
        .collect();
    targets.sort_unstable();
    let step = targets.len().div_ceil(MAX_TARGETS).max(1);
    let targets: Vec<Vec<f64>> = targets
        .iter()
        .step_by(step)
        .map(|&(_, i)| point(test, i))
        .collect();
    if targets.is_empty() {
        return Vec::new();
    }
    let mut v: Vec<(f64, &str, usize)> = attack_indices(train)
        .map(|i| {
            let p = point(train, i);
            let d = targets
                .iter()
                .map(|t| {
                    t.iter()
                        .zip(&p)
                        .map(|(a, b)| (a - b) * (a - b))
                        .sum::<f64>()
                })
                .fold(f64::INFINITY, f64::min);
            let uid = train.flows.uids.get(i).map_or("", String::as_str);
            (d, uid, i)
        })
        .collect();
    v.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(b.1)));
    v.into_iter().map(|(_, _, i)| i).collect()
}
