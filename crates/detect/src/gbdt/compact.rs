//! [`CompactForest`]: a model's trees in a layout made for prediction only — 24 bytes a node,
//! nodes of a tree contiguous — for detectors that score on the packet path. It gives the
//! same margins and probabilities as [`Gbdt`] bit for bit (the same comparisons and additions
//! in the same order); the serialised [`Gbdt`] stays the model of record.
//!
//! It also gives a row's *split key* ([`CompactForest::split_key`]): which of the trees' split
//! thresholds lie below the row's value of their feature — for each feature the trees split
//! on, as much as how many of its thresholds do (its *bucket*). Every split decision is a
//! function of the bucket, so two rows with the same key reach the same leaf in every tree and
//! have the same margin bit for bit: a memo of scores keyed by split key is exact, and it finds
//! far more rows than one keyed by the row's values (a flood's flows differ in ports and
//! timings the trees never look at).

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
    /// (padded with +∞, which is below no value), with the feature: a key's bits, four a
    /// group, in this order.
    groups: Vec<([f64; LANES], u32)>,
    /// Features with more: feature and its thresholds' range in `thresholds`; a key's words
    /// after the bits, one each, hold their buckets.
    long: Vec<(u32, usize, usize)>,
}

/// Features with at most this many thresholds have a bit each in a split key; those with
/// more, their bucket (binary-searched).
const SHORT: usize = 32;

/// Thresholds compared at once in a split key.
const LANES: usize = 4;

// The AVX2 split key compares four thresholds at once.
const _: () = assert!(LANES == 4);

/// Groups of [`LANES`] thresholds whose bits fill one word of a split key.
const GROUPS_PER_WORD: usize = 64 / LANES;

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
        for (&feature, &end) in s.features.iter().zip(&s.ends) {
            if end - start > usize::from(u16::MAX) {
                return None;
            }
            if end - start <= SHORT {
                let ts = s.thresholds.get(start..end).unwrap_or_default();
                for group in ts.chunks(LANES) {
                    let mut lanes = [f64::INFINITY; LANES];
                    lanes[..group.len()].copy_from_slice(group);
                    s.groups.push((lanes, feature));
                }
            } else {
                s.long.push((feature, start, end));
            }
            start = end;
        }
        Some(s)
    }
}

/// Value of feature `feature` in `row`; NaN (missing) past its end.
#[inline(always)]
fn value_of(row: &[f64], feature: u32) -> f64 {
    row.get(feature as usize).copied().unwrap_or(f64::NAN)
}

/// Pushes to `key` the bits of `groups` (see [`Splits::groups`]) for `row`, sixteen groups a
/// word: four comparisons a group, packed as four bits — one vector compare and its mask on
/// AVX2, chosen at run time (`pulp`): two-thirds of the scalar loop's instructions (61 M
/// against 92 M for the 45 516 keys of docs/PERFORMANCE.md's measurement; the split key is
/// most of the flow detector's scoring).
fn push_bits(groups: &[([f64; LANES], u32)], row: &[f64], key: &mut Vec<u64>) {
    #[cfg(target_arch = "x86_64")]
    if let Some(simd) = pulp::x86::V3::try_new() {
        return simd.vectorize(|| push_bits_avx2(simd, groups, row, key));
    }
    push_bits_scalar(groups, row, key);
}

/// [`push_bits`] one comparison at a time.
fn push_bits_scalar(groups: &[([f64; LANES], u32)], row: &[f64], key: &mut Vec<u64>) {
    for word in groups.chunks(GROUPS_PER_WORD) {
        let mut bits = 0u64;
        for (j, (lanes, feature)) in word.iter().enumerate() {
            let x = value_of(row, *feature);
            let group = lanes
                .iter()
                .enumerate()
                .fold(0u64, |g, (lane, &t)| g | u64::from(t < x) << lane);
            bits |= group << (LANES * j);
        }
        key.push(bits);
    }
}

/// [`push_bits`] on AVX2: `t < x` as an ordered, quiet comparison is false for a NaN value,
/// as the scalar `<` is, so both give the same bits.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn push_bits_avx2(
    simd: pulp::x86::V3,
    groups: &[([f64; LANES], u32)],
    row: &[f64],
    key: &mut Vec<u64>,
) {
    use core::arch::x86_64::_CMP_LT_OQ;
    let avx = simd.avx;
    for word in groups.chunks(GROUPS_PER_WORD) {
        let mut bits = 0u64;
        for (j, (lanes, feature)) in word.iter().enumerate() {
            let x = avx._mm256_set1_pd(value_of(row, *feature));
            let t = avx._mm256_set_pd(lanes[3], lanes[2], lanes[1], lanes[0]);
            let below = avx._mm256_movemask_pd(avx._mm256_cmp_pd::<_CMP_LT_OQ>(t, x));
            bits |= u64::from(below as u8 & 0xf) << (LANES * j);
        }
        key.push(bits);
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

    /// Writes the split key of `row` to `key` (cleared first) and returns true: one bit per
    /// split threshold of a feature with at most 32 of them (set when the threshold is below
    /// the row's value), then for each feature with more, how many of them are. A split sends
    /// `value <= threshold` (and NaN) left, that is exactly when the threshold is not below
    /// the value, so the key decides every split: rows with equal keys have bit-identical
    /// [`CompactForest::margin`]s. Thresholds are sorted, so a feature's bits are as many
    /// ones as its bucket ([`CompactForest::split_bucket`]): equal keys, equal buckets, and
    /// the other way round. A NaN or missing value sets nothing, as it goes left everywhere.
    ///
    /// Returns false, with `key` empty, for a forest with more than 65 535 distinct thresholds
    /// on one feature (its keys are not computed; score such rows directly).
    pub fn split_key(&self, row: &[f64], key: &mut Vec<u64>) -> bool {
        key.clear();
        let Some(s) = &self.splits else {
            return false;
        };
        push_bits(&s.groups, row, key);
        for &(feature, start, end) in &s.long {
            let x = value_of(row, feature);
            let ts = s.thresholds.get(start..end).unwrap_or_default();
            key.push(ts.partition_point(|&t| t < x) as u64);
        }
        true
    }

    /// The bucket of value `x` of feature `feature`, what its part of a split key
    /// ([`CompactForest::split_key`]) stands for: how many of the feature's distinct split
    /// thresholds are below it (0 for a feature no tree splits on, whose value decides
    /// nothing). `None` where split keys are not computed.
    pub fn split_bucket(&self, feature: usize, x: f64) -> Option<u16> {
        let ts = self.split_thresholds(feature)?;
        Some(ts.partition_point(|&t| t < x) as u16)
    }

    /// The distinct split thresholds of feature `feature`, ascending (empty for a feature no
    /// tree splits on): the bucket of a value `x` is how many of them are below `x`
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
    fn split_bits_are_the_comparisons_on_every_instruction_set() {
        // 40 groups over 5 features: three words, the last one partly filled.
        let palette = [-2.5, -0.0, 0.0, 0.5, 1.0, 3.0, 1e300, f64::INFINITY];
        let groups: Vec<([f64; LANES], u32)> = (0..40u32)
            .map(|g| {
                let t = |k: u32| palette[((g * 3 + k * 5) % 8) as usize];
                ([t(0), t(1), t(2), f64::INFINITY], g % 5)
            })
            .collect();
        let values = [
            f64::NAN,
            f64::NEG_INFINITY,
            -2.5,
            -0.0,
            0.0,
            0.25,
            0.5,
            1.0,
            3.0,
            1e300,
            f64::INFINITY,
        ];
        for i in 0..200usize {
            let row: Vec<f64> = (0..5).map(|f| values[(i * (f + 2) + f) % 11]).collect();
            // Rows shorter than the features read: the missing ones are NaN.
            let row = &row[..5 - i % 3];
            let mut scalar = Vec::new();
            push_bits_scalar(&groups, row, &mut scalar);
            assert_eq!(scalar.len(), 3);
            for (g, (lanes, feature)) in groups.iter().enumerate() {
                let x = row.get(*feature as usize).copied().unwrap_or(f64::NAN);
                for (lane, t) in lanes.iter().enumerate() {
                    let bit = g * LANES + lane;
                    assert_eq!(scalar[bit / 64] >> (bit % 64) & 1 == 1, *t < x, "{row:?}");
                }
            }
            let mut dispatched = Vec::new();
            push_bits(&groups, row, &mut dispatched);
            assert_eq!(dispatched, scalar, "{row:?}");
            #[cfg(target_arch = "x86_64")]
            if let Some(simd) = pulp::x86::V3::try_new() {
                let mut avx2 = Vec::new();
                simd.vectorize(|| push_bits_avx2(simd, &groups, row, &mut avx2));
                assert_eq!(avx2, scalar, "{row:?}");
            }
        }
    }

    #[test]
    fn rows_with_the_same_split_key_have_the_same_margin() {
        let b: Vec<f64> = (0..600).map(|i| f64::from((i * 7) % 31) / 3.0).collect();
        let c: Vec<f64> = (0..600).map(|i| f64::from(i % 5)).collect();
        // Few thresholds on `a` (bits of the key) ...
        let a: Vec<f64> = (0..600).map(|i| f64::from((i * 13) % 29)).collect();
        let labels: Vec<bool> = a.iter().zip(&b).map(|(x, y)| x * y > 40.0).collect();
        let short = same_key_same_margin(&a, &b, &c, &labels);
        assert_eq!(short.long.len(), 0);
        // ... and more than 32 (a bucket of its own in the key).
        let a: Vec<f64> = (0..600).map(|i| f64::from((i * 37) % 300)).collect();
        let labels: Vec<bool> = a.iter().map(|x| (*x as u32 / 3) % 2 == 0).collect();
        let long = same_key_same_margin(&a, &b, &c, &labels);
        assert!(!long.long.is_empty());
        assert!(!long.groups.is_empty());
    }

    /// Trains on the columns `a`, `b`, `c` and checks split keys on rows around them (see
    /// the caller); returns the forest's thresholds.
    fn same_key_same_margin(a: &[f64], b: &[f64], c: &[f64], labels: &[bool]) -> Splits {
        let names: Vec<String> = ["a", "b", "c"].map(String::from).to_vec();
        let data = TrainingData {
            names: &names,
            columns: &[a.to_vec(), b.to_vec(), c.to_vec()],
            labels,
            weights: None,
        };
        let params = GbdtParams {
            trees: 30,
            ..GbdtParams::default()
        };
        let model = train(&data, &params).unwrap();
        let f = CompactForest::new(&model);
        let mut by_key: std::collections::HashMap<Vec<u64>, u64> = Default::default();
        let mut key_of_buckets: std::collections::HashMap<Vec<u16>, Vec<u64>> = Default::default();
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
        for row in &rows {
            assert!(f.split_key(row, &mut key));
            // Equal keys exactly when the features' buckets are equal (a feature no tree
            // splits on has bucket 0 whatever its value), and equal margins.
            let buckets: Vec<u16> = (0..3)
                .map(|feature| {
                    let x = row.get(feature).copied().unwrap_or(f64::NAN);
                    f.split_bucket(feature, x).unwrap()
                })
                .collect();
            let seen = key_of_buckets.entry(buckets).or_insert_with(|| key.clone());
            assert_eq!(*seen, key, "{row:?}");
            assert_eq!(f.split_bucket(7, 1e9), Some(0));
            let m = f.margin(row).to_bits();
            assert_eq!(m, model.margin(row).to_bits());
            assert_eq!(*by_key.entry(key.clone()).or_insert(m), m, "{row:?}");
        }
        assert_eq!(
            key_of_buckets.len(),
            by_key.len(),
            "one key per bucket vector"
        );
        // NaN (missing) goes left everywhere, as the lowest value does.
        f.split_key(&[f64::NAN, f64::NAN, f64::NAN], &mut key);
        let nan_key = key.clone();
        f.split_key(&[f64::NEG_INFINITY; 3], &mut key);
        assert_eq!(key, nan_key);
        assert!(key.iter().all(|&k| k == 0));
        f.split_key(&[], &mut key);
        assert_eq!(key, nan_key);
        assert!(by_key.len() > 10, "{}", by_key.len());
        f.splits.unwrap()
    }
}
