//! [`CompactForest`]: a model's trees in a layout made for prediction only — 24 bytes a node,
//! nodes of a tree contiguous — for detectors that score on the packet path. It gives the
//! same margins and probabilities as [`Gbdt`] bit for bit (the same comparisons and additions
//! in the same order); the serialised [`Gbdt`] stays the model of record.
//!
//! It also gives a row's *split key* ([`CompactForest::split_key`]): for each feature the
//! trees split on, how many of that feature's split thresholds lie below the row's value.
//! Every split decision is a function of that count, so two rows with the same key reach the
//! same leaf in every tree and have the same margin bit for bit: a memo of scores keyed by
//! split key is exact, and it finds far more rows than one keyed by the row's values (a flood's
//! flows differ in ports and timings the trees never look at).

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
    /// The split thresholds by feature, for [`CompactForest::split_key`]; `None` when a
    /// feature has more of them than a key entry counts.
    splits: Option<Splits>,
}

/// The distinct split thresholds of each feature a forest splits on.
#[derive(Clone, Debug, Default)]
struct Splits {
    /// The features split on, ascending.
    features: Vec<u32>,
    /// Each feature's distinct thresholds, ascending, the features' one after the other.
    thresholds: Vec<f64>,
    /// Where each feature's thresholds end in `thresholds`.
    ends: Vec<usize>,
    /// The thresholds of features with at most [`SHORT`] of them, in groups of [`LANES`]
    /// (padded with +∞, which is below no value): thresholds, feature, and the feature's
    /// entry in a split key. Counted in one flat pass, a group's lanes together.
    short: Vec<([f64; LANES], u32, u32)>,
    /// Features with more: feature, its thresholds' range in `thresholds`, its key entry.
    long: Vec<(u32, usize, usize, u32)>,
}

/// Features with at most this many thresholds have them counted one by one in a split key;
/// those with more are binary-searched.
const SHORT: usize = 32;

/// Thresholds compared at once in a split key.
const LANES: usize = 4;

impl Splits {
    /// The thresholds of `nodes`' splits; `None` when a feature has more than
    /// `u16::MAX` distinct ones or a threshold is NaN (validated models have none: a NaN
    /// threshold would break the ordering the key relies on).
    fn of(nodes: &[Compact]) -> Option<Splits> {
        let mut all: Vec<(u32, f64)> = nodes
            .iter()
            .filter(|n| n.left != LEAF)
            .map(|n| (n.feature, n.value))
            .collect();
        if all.iter().any(|(_, t)| t.is_nan()) {
            return None;
        }
        all.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
        // -0.0 and 0.0 compare equal, as they do at a split: one threshold.
        all.dedup_by(|a, b| a.0 == b.0 && a.1 == b.1);
        let mut s = Splits::default();
        for (feature, threshold) in all {
            if s.features.last() != Some(&feature) {
                s.features.push(feature);
                s.ends.push(s.thresholds.len());
            }
            s.thresholds.push(threshold);
            if let Some(end) = s.ends.last_mut() {
                *end = s.thresholds.len();
            }
        }
        let mut start = 0;
        for (slot, (&feature, &end)) in s.features.iter().zip(&s.ends).enumerate() {
            if end - start > usize::from(u16::MAX) {
                return None;
            }
            let slot = slot as u32;
            if end - start <= SHORT {
                let ts = s.thresholds.get(start..end).unwrap_or_default();
                for group in ts.chunks(LANES) {
                    let mut lanes = [f64::INFINITY; LANES];
                    lanes[..group.len()].copy_from_slice(group);
                    s.short.push((lanes, feature, slot));
                }
            } else {
                s.long.push((feature, start, end, slot));
            }
            start = end;
        }
        Some(s)
    }
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
        f.splits = Splits::of(&f.nodes);
        f
    }

    /// Writes the split key of `row` to `key` (cleared first) and returns true: for each
    /// feature the trees split on (ascending), how many of its distinct split thresholds are
    /// below the row's value. A split sends `value <= threshold` (and NaN) left, that is
    /// exactly when the threshold is not below the value; thresholds are sorted, so the count
    /// decides every split on the feature. Rows with equal keys therefore have bit-identical
    /// [`CompactForest::margin`]s. A NaN or missing value counts 0, as it goes left everywhere.
    ///
    /// Returns false, with `key` empty, for a forest with more than 65 535 distinct thresholds
    /// on one feature (its keys are not computed; score such rows directly).
    pub fn split_key(&self, row: &[f64], key: &mut Vec<u16>) -> bool {
        key.clear();
        let Some(s) = &self.splits else {
            return false;
        };
        key.resize(s.features.len(), 0);
        let value = |feature: u32| row.get(feature as usize).copied().unwrap_or(f64::NAN);
        // Thresholds are sorted, so counting those below the value (one flat pass over the
        // short lists) is the partition point a search would find.
        for (lanes, feature, slot) in &s.short {
            let x = value(*feature);
            let below: u16 = lanes.iter().map(|&t| u16::from(t < x)).sum();
            if let Some(k) = key.get_mut(*slot as usize) {
                *k += below;
            }
        }
        for &(feature, start, end, slot) in &s.long {
            let x = value(feature);
            let ts = s.thresholds.get(start..end).unwrap_or_default();
            if let Some(k) = key.get_mut(slot as usize) {
                // `Splits::of` keeps at most `u16::MAX` thresholds per feature.
                *k = ts.partition_point(|&t| t < x) as u16;
            }
        }
        true
    }

    /// The entry of the split key ([`CompactForest::split_key`]) that value `x` of feature
    /// `feature` gives: how many of the feature's distinct split thresholds are below it (0
    /// for a feature no tree splits on, whose value decides nothing). `None` where split keys
    /// are not computed.
    pub fn split_bucket(&self, feature: usize, x: f64) -> Option<u16> {
        let ts = self.split_thresholds(feature)?;
        Some(ts.partition_point(|&t| t < x) as u16)
    }

    /// The distinct split thresholds of feature `feature`, ascending (empty for a feature no
    /// tree splits on): its split-key entry for a value `x` is how many of them are below `x`
    /// ([`CompactForest::split_bucket`]). `None` where split keys are not computed.
    pub fn split_thresholds(&self, feature: usize) -> Option<&[f64]> {
        let s = self.splits.as_ref()?;
        let Ok(i) = s.features.binary_search(&u32::try_from(feature).ok()?) else {
            return Some(&[]);
        };
        let start = if i == 0 { 0 } else { s.ends[i - 1] };
        Some(s.thresholds.get(start..s.ends[i]).unwrap_or_default())
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

    #[test]
    fn rows_with_the_same_split_key_have_the_same_margin() {
        let names: Vec<String> = ["a", "b", "c"].map(String::from).to_vec();
        let a: Vec<f64> = (0..600).map(|i| f64::from((i * 13) % 29)).collect();
        let b: Vec<f64> = (0..600).map(|i| f64::from((i * 7) % 31) / 3.0).collect();
        let c: Vec<f64> = (0..600).map(|i| f64::from(i % 5)).collect();
        let labels: Vec<bool> = a.iter().zip(&b).map(|(x, y)| x * y > 40.0).collect();
        let data = TrainingData {
            names: &names,
            columns: &[a.clone(), b.clone(), c.clone()],
            labels: &labels,
            weights: None,
        };
        let params = GbdtParams {
            trees: 30,
            ..GbdtParams::default()
        };
        let model = train(&data, &params).unwrap();
        let f = CompactForest::new(&model);
        let mut by_key: std::collections::HashMap<Vec<u16>, u64> = Default::default();
        let mut key = Vec::new();
        let mut rows = Vec::new();
        for i in 0..600 {
            // Values between and on the thresholds, missing ones, NaN and signed zeros.
            let x = a[i] + f64::from(i as u32 % 3) * 0.25 - 0.5;
            rows.push(vec![x, b[i], c[i]]);
            rows.push(vec![x, b[(i * 11) % 600] + 0.1]);
            rows.push(vec![f64::NAN, b[i], -0.0]);
            rows.push(vec![f64::NEG_INFINITY, b[i], 0.0]);
            rows.push(vec![a[i], f64::INFINITY, c[i]]);
        }
        let split_features: Vec<usize> = f
            .splits
            .as_ref()
            .unwrap()
            .features
            .iter()
            .map(|&x| x as usize)
            .collect();
        for row in &rows {
            assert!(f.split_key(row, &mut key));
            // Each entry of the key is the bucket of its feature's value; a feature no tree
            // splits on has bucket 0 whatever its value.
            for (entry, &feature) in key.iter().zip(&split_features) {
                let x = row.get(feature).copied().unwrap_or(f64::NAN);
                assert_eq!(f.split_bucket(feature, x), Some(*entry), "{row:?}");
            }
            assert_eq!(f.split_bucket(7, 1e9), Some(0));
            let m = f.margin(row).to_bits();
            assert_eq!(m, model.margin(row).to_bits());
            assert_eq!(*by_key.entry(key.clone()).or_insert(m), m, "{row:?}");
        }
        // NaN (missing) goes left everywhere, as the lowest value does.
        f.split_key(&[f64::NAN, f64::NAN, f64::NAN], &mut key);
        let nan_key = key.clone();
        f.split_key(&[f64::NEG_INFINITY; 3], &mut key);
        assert_eq!(key, nan_key);
        assert!(key.iter().all(|&k| k == 0));
        f.split_key(&[], &mut key);
        assert_eq!(key, nan_key);
        assert!(by_key.len() > 10, "{}", by_key.len());
    }
}
