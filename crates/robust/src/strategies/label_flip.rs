//! `label_flip`: a fraction of the training flows labelled attack are relabelled benign,
//! chosen at random (seeded) — a careless or hostile labeller. The rate is the fraction of
//! the training attack flows relabelled; a flow's checkpoint rows follow it. The order is
//! fixed by the seed, so a stronger poison contains the weaker one.

use crate::flowdata::FlowTables;
use crate::seeded;

/// The training attack flows (indices into `t.flows`) in the order they are relabelled.
pub fn order(t: &FlowTables, seed: u64) -> Vec<usize> {
    let mut v: Vec<(u64, usize)> = attack_indices(t)
        .map(|i| {
            let uid = t.flows.uids.get(i).map_or(&[][..], |u| u.as_bytes());
            (seeded::hash(seed, "label_flip", uid), i)
        })
        .collect();
    v.sort_unstable();
    v.into_iter().map(|(_, i)| i).collect()
}

/// Indices of the flows labelled attack.
pub(crate) fn attack_indices(t: &FlowTables) -> impl Iterator<Item = usize> + '_ {
    t.flows
        .labels
        .iter()
        .enumerate()
        .filter(|(_, &l)| l)
        .map(|(i, _)| i)
}

/// How many of `attack` flows a rate relabels.
pub fn count(rate: f64, attack: usize) -> usize {
    ((rate * attack as f64).round() as usize).min(attack)
}
