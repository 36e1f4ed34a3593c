//! Tree layout, prediction on raw `f64` rows, model checks, and the deterministic helpers the
//! trainer and the scorer share: `exp`, `ln` and the SplitMix64 PRNG.
//!
//! A tree is a vector of nodes, the root at index 0, each child at a higher index than its
//! parent (training appends children as it splits, level by level). A split sends a row left
//! when its value is `<= threshold` or NaN (missing), right otherwise.
#![allow(clippy::excessive_precision, clippy::unreadable_literal)]

use super::{Gbdt, GbdtError, GBDT_FORMAT};
use serde::{Deserialize, Serialize};

/// One node of a [`Tree`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Node {
    /// An internal node.
    Split {
        /// Feature index (into [`super::Gbdt::feature_names`]).
        feature: u32,
        /// `value <= threshold` (or NaN) goes to `left`, otherwise to `right`.
        threshold: f64,
        /// Index of the left child.
        left: u32,
        /// Index of the right child.
        right: u32,
        /// Split gain `G_L²/(H_L+λ) + G_R²/(H_R+λ) − G²/(H+λ)`.
        gain: f64,
        /// Training row weight that reached the node (TreeSHAP's cover).
        cover: f64,
    },
    /// A leaf.
    Leaf {
        /// Margin added by the tree: `−G/(H+λ) × learning_rate`.
        value: f64,
        /// Training row weight that reached the node.
        cover: f64,
    },
}

impl Node {
    /// Training row weight that reached the node.
    pub fn cover(&self) -> f64 {
        match self {
            Node::Split { cover, .. } | Node::Leaf { cover, .. } => *cover,
        }
    }
}

/// One regression tree of the ensemble.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tree {
    /// Nodes, root first; children always come after their parent.
    pub nodes: Vec<Node>,
}

/// Whether `value` goes left at a split with `threshold`: `<=`, or missing.
#[inline]
pub(crate) fn goes_left(value: f64, threshold: f64) -> bool {
    value.is_nan() || value <= threshold
}

impl Tree {
    /// The leaf value `row` reaches (0 for an empty tree). A short row reads as NaN where it
    /// ends.
    pub fn predict(&self, row: &[f64]) -> f64 {
        let mut i = 0usize;
        // Each step moves to a higher index, so at most `nodes.len()` steps are taken even on a
        // tree that never went through `validate`.
        for _ in 0..self.nodes.len() {
            match self.nodes.get(i) {
                Some(Node::Leaf { value, .. }) => return *value,
                Some(Node::Split {
                    feature,
                    threshold,
                    left,
                    right,
                    ..
                }) => {
                    let x = row.get(*feature as usize).copied().unwrap_or(f64::NAN);
                    let next = if goes_left(x, *threshold) {
                        left
                    } else {
                        right
                    };
                    let next = *next as usize;
                    if next <= i {
                        return 0.0;
                    }
                    i = next;
                }
                None => return 0.0,
            }
        }
        0.0
    }

    /// Expected value of the tree over the training distribution: leaves weighted by cover,
    /// child `c` of node `j` weighted by `cover(c) / cover(j)` (TreeSHAP's `φ₀`).
    pub fn expected_value(&self) -> f64 {
        self.node_values().first().copied().unwrap_or(0.0)
    }

    /// The expected value of every node's subtree (cover-weighted mean of its leaves), by
    /// node index: what path contributions attribute along a decision path.
    pub fn node_values(&self) -> Vec<f64> {
        // Children follow their parent, so a backward pass sees both children of a node before
        // the node itself.
        let mut e = vec![0.0; self.nodes.len()];
        for i in (0..self.nodes.len()).rev() {
            let value = match self.nodes.get(i) {
                Some(Node::Leaf { value, .. }) => *value,
                Some(Node::Split {
                    left, right, cover, ..
                }) => {
                    let part = |c: u32| {
                        let c = c as usize;
                        match (self.nodes.get(c), e.get(c)) {
                            (Some(n), Some(v)) if c > i => n.cover() / cover * v,
                            _ => 0.0,
                        }
                    };
                    part(*left) + part(*right)
                }
                None => 0.0,
            };
            if let Some(slot) = e.get_mut(i) {
                *slot = value;
            }
        }
        e
    }

    /// Checks the tree's structure and numbers; see [`super::Gbdt::validate`].
    pub(crate) fn validate(&self, features: usize, max_depth: u8) -> Result<(), String> {
        let n = self.nodes.len();
        let max_nodes = 2usize
            .checked_shl(u32::from(max_depth))
            .map_or(usize::MAX, |v| v - 1);
        if n == 0 || n > max_nodes {
            return Err(format!(
                "{n} nodes (expected 1 to {max_nodes} for depth {max_depth})"
            ));
        }
        let mut parents = vec![0u8; n];
        let mut depth = vec![0u8; n];
        for (i, node) in self.nodes.iter().enumerate() {
            let d = depth.get(i).copied().unwrap_or(u8::MAX);
            match node {
                Node::Leaf { value, cover } => {
                    if !value.is_finite() {
                        return Err(format!("node {i}: leaf value {value} is not finite"));
                    }
                    if !cover.is_finite() || *cover < 0.0 {
                        return Err(format!("node {i}: cover {cover} is not finite and >= 0"));
                    }
                }
                Node::Split {
                    feature,
                    threshold,
                    left,
                    right,
                    gain,
                    cover,
                } => {
                    if *feature as usize >= features {
                        return Err(format!(
                            "node {i}: feature {feature} out of range ({features} features)"
                        ));
                    }
                    if !threshold.is_finite() || !gain.is_finite() || *gain < 0.0 {
                        return Err(format!(
                            "node {i}: threshold {threshold} or gain {gain} is not finite \
                             (gain must be >= 0)"
                        ));
                    }
                    if !cover.is_finite() || *cover <= 0.0 {
                        return Err(format!("node {i}: split cover {cover} is not positive"));
                    }
                    if d >= max_depth {
                        return Err(format!(
                            "node {i}: split at depth {d}, max_depth {max_depth}"
                        ));
                    }
                    let mut children = 0.0;
                    for c in [*left, *right] {
                        let ci = c as usize;
                        if ci <= i || ci >= n {
                            return Err(format!(
                                "node {i}: child {c} out of range (must be in {}..{n})",
                                i + 1
                            ));
                        }
                        match (parents.get_mut(ci), depth.get_mut(ci), self.nodes.get(ci)) {
                            (Some(p), Some(cd), Some(child)) => {
                                if *p != 0 {
                                    return Err(format!("node {c} has two parents"));
                                }
                                *p = 1;
                                *cd = d + 1;
                                if child.cover() <= 0.0 || !child.cover().is_finite() {
                                    return Err(format!(
                                        "node {c}: cover {} is not positive",
                                        child.cover()
                                    ));
                                }
                                children += child.cover();
                            }
                            _ => return Err(format!("node {i}: child {c} out of range")),
                        }
                    }
                    if (children - cover).abs() > 1e-6 * cover {
                        return Err(format!(
                            "node {i}: children covers sum to {children}, node cover is {cover}"
                        ));
                    }
                }
            }
            if i > 0 && parents.get(i).copied() != Some(1) {
                return Err(format!("node {i} is not reachable from the root"));
            }
        }
        Ok(())
    }
}

impl Gbdt {
    /// Total split gain per feature, largest first (ties by feature index); features never
    /// split on are listed with 0.
    pub fn importance(&self) -> Vec<(String, f64)> {
        let mut gain = vec![0.0; self.feature_names.len()];
        for tree in &self.trees {
            for node in &tree.nodes {
                if let Node::Split {
                    feature, gain: g, ..
                } = node
                {
                    if let Some(total) = gain.get_mut(*feature as usize) {
                        *total += g;
                    }
                }
            }
        }
        let mut order: Vec<(usize, f64)> = gain.into_iter().enumerate().collect();
        order.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        order
            .into_iter()
            .filter_map(|(i, g)| Some((self.feature_names.get(i)?.clone(), g)))
            .collect()
    }

    /// Checks a model (typically read from disk) so that scoring and explaining it can neither
    /// panic nor loop: the format string, the parameters, every number finite, and in every
    /// tree each child index in range, greater than its parent's and used once (a tree rooted
    /// at node 0, no cycles), feature indices below the number of names, depth at most
    /// `params.max_depth`, children covers summing to their parent's.
    ///
    /// # Errors
    /// [`GbdtError::Format`] for another format string, [`GbdtError::Param`] for parameters out
    /// of range, [`GbdtError::Invalid`] saying what is wrong otherwise.
    pub fn validate(&self) -> Result<(), GbdtError> {
        if self.format != GBDT_FORMAT {
            return Err(GbdtError::Format {
                found: self.format.clone(),
                expected: GBDT_FORMAT,
            });
        }
        self.params.validate()?;
        let invalid = |what: String| Err(GbdtError::Invalid { what });
        if self.feature_names.is_empty() || self.feature_names.len() > u32::MAX as usize {
            return invalid(format!(
                "{} feature names (expected 1 to {})",
                self.feature_names.len(),
                u32::MAX
            ));
        }
        if !self.base_score.is_finite() {
            return invalid(format!("base score {} is not finite", self.base_score));
        }
        if self.trees.len() > self.params.trees as usize {
            return invalid(format!(
                "{} trees but params.trees is {}",
                self.trees.len(),
                self.params.trees
            ));
        }
        for (t, tree) in self.trees.iter().enumerate() {
            tree.validate(self.feature_names.len(), self.params.max_depth)
                .map_err(|what| GbdtError::Invalid {
                    what: format!("tree {t}: {what}"),
                })?;
        }
        let s = &self.summary;
        if !s.training_log_loss.is_finite() || s.training_log_loss < 0.0 {
            return invalid(format!(
                "training log-loss {} is not a finite non-negative number",
                s.training_log_loss
            ));
        }
        if s.trees_built as usize != self.trees.len() {
            return invalid(format!(
                "summary says {} trees built, the model has {}",
                s.trees_built,
                self.trees.len()
            ));
        }
        Ok(())
    }
}

/// SplitMix64 (Steele, Lea & Flood 2014): the subsampling PRNG, the same on every platform.
#[derive(Clone, Debug)]
pub(crate) struct SplitMix64(u64);

impl SplitMix64 {
    pub(crate) fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1), 53 bits.
    pub(crate) fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in `0..n` (`n > 0`), by multiply-shift.
    pub(crate) fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }
}

const LN2_HI: f64 = 6.93147180369123816490e-01; // 0x3fe62e42_fee00000: k · LN2_HI is exact
const LN2_LO: f64 = 1.90821492927058770002e-10;
const LOG2_E: f64 = std::f64::consts::LOG2_E;

/// `1/n!` for n = 0..=13, the Taylor coefficients of `e^r`.
const EXP_TAYLOR: [f64; 14] = {
    let mut c = [1.0; 14];
    let mut n = 1;
    while n < c.len() {
        c[n] = c[n - 1] / n as f64;
        n += 1;
    }
    c
};

/// `1/(2k+1)` for k = 0..=12, the series of `atanh(s)/s`.
const ATANH_SERIES: [f64; 13] = {
    let mut c = [1.0; 13];
    let mut k = 0;
    while k < c.len() {
        c[k] = 1.0 / (2 * k + 1) as f64;
        k += 1;
    }
    c
};

/// 2^k for k in [-1022, 1023].
fn pow2(k: i64) -> f64 {
    f64::from_bits(((k + 1023) as u64) << 52)
}

/// `e^x` from IEEE-754 `+ − × ÷` only (Cody–Waite reduction, degree-13 Taylor polynomial),
/// so every platform computes the same bits. Relative error below 1e-15.
pub(crate) fn exp(x: f64) -> f64 {
    if x.is_nan() {
        return x;
    }
    if x > 709.782712893384 {
        return f64::INFINITY;
    }
    if x < -745.2 {
        return 0.0;
    }
    let k = (x * LOG2_E).round();
    let r = (x - k * LN2_HI) - k * LN2_LO;
    let mut p = 0.0;
    for c in EXP_TAYLOR.iter().rev() {
        p = p * r + c;
    }
    let k = k as i64;
    if k > 1023 {
        p * pow2(1023) * pow2(k - 1023)
    } else if k < -1022 {
        p * pow2(-1022) * pow2(k + 1022)
    } else {
        p * pow2(k)
    }
}

/// Natural logarithm from IEEE-754 `+ − × ÷` only (`ln m = 2·atanh((m−1)/(m+1))` with
/// `m ∈ [√½, √2)`), so every platform computes the same bits. Relative error below 1e-15.
pub(crate) fn ln(x: f64) -> f64 {
    if x.is_nan() || x < 0.0 {
        return f64::NAN;
    }
    if x == 0.0 {
        return f64::NEG_INFINITY;
    }
    if x.is_infinite() {
        return x;
    }
    let (mut x, mut e) = (x, 0i64);
    if x < f64::MIN_POSITIVE {
        x *= pow2(54);
        e -= 54;
    }
    let bits = x.to_bits();
    e += ((bits >> 52) & 0x7ff) as i64 - 1023;
    let mut m = f64::from_bits((bits & 0x000f_ffff_ffff_ffff) | (1023u64 << 52));
    if m > std::f64::consts::SQRT_2 {
        m *= 0.5;
        e += 1;
    }
    let s = (m - 1.0) / (m + 1.0);
    let s2 = s * s;
    let mut series = 0.0;
    for c in ATANH_SERIES.iter().rev() {
        series = c + s2 * series;
    }
    let e = e as f64;
    e * LN2_HI + (2.0 * s * series + e * LN2_LO)
}

/// The logistic sigmoid `1 / (1 + e^−x)`.
pub(crate) fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + exp(-x))
}

/// `ln(1 + e^x)` without overflow: the logistic loss of a margin `−x` for a positive row.
pub(crate) fn softplus(x: f64) -> f64 {
    x.max(0.0) + ln(1.0 + exp(-x.abs()))
}

#[cfg(test)]
mod test {
    use super::{exp, ln, Node, Tree};

    #[test]
    fn nan_and_short_rows_go_left() {
        let tree = Tree {
            nodes: vec![
                Node::Split {
                    feature: 0,
                    threshold: 1.0,
                    left: 1,
                    right: 2,
                    gain: 1.0,
                    cover: 2.0,
                },
                Node::Leaf {
                    value: 10.0,
                    cover: 1.0,
                },
                Node::Leaf {
                    value: 20.0,
                    cover: 1.0,
                },
            ],
        };
        assert_eq!(tree.predict(&[f64::NAN]), 10.0);
        assert_eq!(tree.predict(&[]), 10.0);
        assert_eq!(tree.predict(&[1.0]), 10.0);
        assert_eq!(tree.predict(&[1.0000001]), 20.0);
        assert_eq!(tree.predict(&[f64::INFINITY]), 20.0);
        assert_eq!(tree.expected_value(), 15.0);
    }

    #[test]
    fn exp_and_ln_match_std() {
        let mut rng = super::SplitMix64::new(23);
        for _ in 0..100_000 {
            let x = (rng.next_f64() - 0.5) * 1400.0;
            let (ours, std) = (exp(x), x.exp());
            assert!(
                (ours - std).abs() <= 4e-16 * std,
                "exp({x}) = {ours}, std {std}"
            );
            let y = exp((rng.next_f64() - 0.5) * 1400.0);
            let (ours, std) = (ln(y), y.ln());
            assert!(
                (ours - std).abs() <= 4e-16 * std.abs().max(1e-300),
                "ln({y})"
            );
        }
        assert_eq!(exp(0.0), 1.0);
        assert_eq!(ln(1.0), 0.0);
        assert_eq!(exp(-800.0), 0.0);
        assert_eq!(exp(800.0), f64::INFINITY);
        assert!(ln(-1.0).is_nan());
        assert!((ln(5e-324) - 5e-324f64.ln()).abs() < 1e-12);
    }
}
