//! [`CompactForest`]: a model's trees in a layout made for prediction only — 24 bytes a node,
//! nodes of a tree contiguous — for detectors that score on the packet path. It gives the
//! same margins and probabilities as [`Gbdt`] bit for bit (the same comparisons and additions
//! in the same order); the serialised [`Gbdt`] stays the model of record.

use super::tree::{goes_left, sigmoid};
use super::{Gbdt, Node};

/// One node: a split (`left`, `right` > its own index) or a leaf (`left == LEAF`, `value`).
#[derive(Clone, Copy, Debug)]
struct Compact {
    /// Split threshold, or the leaf's value.
    value: f64,
    feature: u32,
    left: u32,
    right: u32,
}

/// Marks a leaf in [`Compact::left`].
const LEAF: u32 = u32::MAX;

/// A model's trees laid out for prediction.
#[derive(Clone, Debug, Default)]
pub struct CompactForest {
    base: f64,
    /// Every tree's nodes, one after the other.
    nodes: Vec<Compact>,
    /// Index of each tree's root in `nodes`.
    roots: Vec<u32>,
}

impl CompactForest {
    /// The forest of `model`.
    pub fn new(model: &Gbdt) -> Self {
        let mut f = CompactForest {
            base: model.base_score(),
            ..CompactForest::default()
        };
        for tree in model.trees() {
            let start = f.nodes.len() as u32;
            f.roots.push(start);
            for node in &tree.nodes {
                f.nodes.push(match *node {
                    Node::Leaf { value, .. } => Compact {
                        value,
                        feature: 0,
                        left: LEAF,
                        right: LEAF,
                    },
                    Node::Split {
                        feature,
                        threshold,
                        left,
                        right,
                        ..
                    } => Compact {
                        value: threshold,
                        feature,
                        left: start.saturating_add(left),
                        right: start.saturating_add(right),
                    },
                });
            }
        }
        f
    }

    /// [`Gbdt::margin`] of `row`.
    pub fn margin(&self, row: &[f64]) -> f64 {
        let mut margin = self.base;
        for &root in &self.roots {
            let mut i = root;
            // Children have higher indices (validated models), so this ends; a bad index or a
            // step backwards ends the tree with 0, as `Tree::predict` does.
            let leaf = loop {
                let Some(n) = self.nodes.get(i as usize) else {
                    break 0.0;
                };
                if n.left == LEAF {
                    break n.value;
                }
                let x = row.get(n.feature as usize).copied().unwrap_or(f64::NAN);
                let next = if goes_left(x, n.value) {
                    n.left
                } else {
                    n.right
                };
                if next <= i {
                    break 0.0;
                }
                i = next;
            };
            margin += leaf;
        }
        margin
    }

    /// [`Gbdt::probability`] of `row`.
    pub fn probability(&self, row: &[f64]) -> f64 {
        sigmoid(self.margin(row))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gbdt::{train, GbdtParams, TrainingData};

    #[test]
    fn same_bits_as_the_model() {
        let names: Vec<String> = ["a", "b"].map(String::from).to_vec();
        let a: Vec<f64> = (0..500).map(|i| f64::from((i * 13) % 29)).collect();
        let b: Vec<f64> = (0..500).map(|i| f64::from((i * 7) % 31) / 3.0).collect();
        let labels: Vec<bool> = a.iter().zip(&b).map(|(x, y)| x * y > 40.0).collect();
        let data = TrainingData {
            names: &names,
            columns: &[a.clone(), b.clone()],
            labels: &labels,
            weights: None,
        };
        let params = GbdtParams {
            trees: 40,
            ..GbdtParams::default()
        };
        let model = train(&data, &params).unwrap();
        let c = CompactForest::new(&model);
        for i in 0..500 {
            for row in [vec![a[i], b[i]], vec![a[i]], vec![f64::NAN, b[i]]] {
                assert_eq!(c.margin(&row).to_bits(), model.margin(&row).to_bits());
                assert_eq!(
                    c.probability(&row).to_bits(),
                    model.probability(&row).to_bits()
                );
            }
        }
    }
}
