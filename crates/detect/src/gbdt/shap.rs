//! Exact path-dependent TreeSHAP: Lundberg, Erion & Lee, "Consistent Individualized Feature
//! Attribution for Tree Ensembles" (2018), Algorithm 2, in the 0-indexed form of the `shap`
//! package's `tree_shap_recursive`.
//!
//! The value of a coalition `S` of features is the tree's path-dependent conditional
//! expectation `v(S)`: at a split on a feature in `S` follow the row's branch (NaN: left);
//! at any other split take both branches, weighted by `cover(child) / cover(node)`, the
//! training row weight that went each way. Each feature's Shapley value of this game is
//! computed in `O(leaves · depth²)` per tree, and `v(∅) + Σ φ = v(all) = tree(row)`; the
//! ensemble's values are the sums over its trees (Shapley values are linear).

use super::tree::{goes_left, Node, Tree};
use super::{Contributions, Gbdt};

/// Feature index of the path's first, placeholder element.
const NO_FEATURE: u32 = u32::MAX;

/// One element of the unique path: a feature, the fraction of "zero" paths (feature not in
/// the coalition) and "one" paths (in it) flowing through it, and the permutation weight.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct PathElement {
    feature: u32,
    zero: f64,
    one: f64,
    weight: f64,
}

/// Adds the contributions of `tree` for `row` to `phi` (one slot per feature). `max_depth`
/// bounds the tree's depth (validated models guarantee it); `scratch` is reused between calls.
pub(crate) fn tree_shap(
    tree: &Tree,
    row: &[f64],
    max_depth: usize,
    phi: &mut [f64],
    scratch: &mut Vec<PathElement>,
) {
    // The path at unique depth `d` takes `d + 1` elements; depths run from 0 to the tree's
    // depth + 1 along one branch, and the root reads one element before its own.
    let need = (max_depth + 2) * (max_depth + 3) / 2 + 1;
    scratch.clear();
    scratch.resize(need, PathElement::default());
    recurse(tree, row, phi, scratch, 0, 0, 1.0, 1.0, NO_FEATURE);
}

/// `1/n` for the small integers the path arithmetic divides by (up to twice the depth bound).
const RECIPROCAL: [f64; 40] = {
    let mut table = [0.0; 40];
    let mut n = 1;
    while n < table.len() {
        table[n] = 1.0 / n as f64;
        n += 1;
    }
    table
};

/// `1/n`, from the table when it is small.
#[inline]
fn reciprocal(n: usize) -> f64 {
    RECIPROCAL.get(n).copied().unwrap_or(1.0 / n as f64)
}

/// Extends the path `path[..=depth]` with a split on `feature`.
fn extend(path: &mut [PathElement], depth: usize, zero: f64, one: f64, feature: u32) {
    let Some(path) = path.get_mut(..=depth) else {
        return;
    };
    path[depth] = PathElement {
        feature,
        zero,
        one,
        weight: if depth == 0 { 1.0 } else { 0.0 },
    };
    let inverse = reciprocal(depth + 1);
    for i in (0..depth).rev() {
        let w = path[i].weight;
        path[i + 1].weight += one * w * (i + 1) as f64 * inverse;
        path[i].weight = zero * w * (depth - i) as f64 * inverse;
    }
}

/// Removes element `index` from the path `path[..=depth]`, undoing its extension.
fn unwind(path: &mut [PathElement], depth: usize, index: usize) {
    let Some(path) = path.get_mut(..=depth) else {
        return;
    };
    let Some(&PathElement { one, zero, .. }) = path.get(index) else {
        return;
    };
    let mut next_one = path[depth].weight;
    let scale = (depth + 1) as f64;
    let inverse = reciprocal(depth + 1);
    for i in (0..depth).rev() {
        if one != 0.0 {
            let tmp = path[i].weight;
            path[i].weight = next_one * scale / one * reciprocal(i + 1);
            next_one = tmp - path[i].weight * zero * (depth - i) as f64 * inverse;
        } else {
            path[i].weight = path[i].weight * scale / zero * reciprocal(depth - i);
        }
    }
    for i in index..depth {
        let PathElement {
            feature, zero, one, ..
        } = path[i + 1];
        path[i].feature = feature;
        path[i].zero = zero;
        path[i].one = one;
    }
}

/// The total permutation weight if element `index` were unwound from `path[..=depth]`.
fn unwound_sum(path: &[PathElement], depth: usize, index: usize) -> f64 {
    let (Some(path), Some(&PathElement { one, zero, .. })) = (path.get(..=depth), path.get(index))
    else {
        return 0.0;
    };
    let scale = (depth + 1) as f64;
    let mut total = 0.0;
    if one != 0.0 {
        let mut next_one = path[depth].weight;
        let up = scale / one;
        let down = zero / scale;
        for i in (0..depth).rev() {
            let tmp = next_one * up * reciprocal(i + 1);
            total += tmp;
            next_one = path[i].weight - tmp * down * (depth - i) as f64;
        }
    } else {
        let up = scale / zero;
        for i in (0..depth).rev() {
            total += path[i].weight * up * reciprocal(depth - i);
        }
    }
    total
}

/// Visits `node` with the parent's path in `region[..=depth]`; the node's own path is built
/// in `region[depth + 1..]`.
#[allow(clippy::too_many_arguments)]
fn recurse(
    tree: &Tree,
    row: &[f64],
    phi: &mut [f64],
    region: &mut [PathElement],
    node: usize,
    depth: usize,
    zero: f64,
    one: f64,
    feature: u32,
) {
    if region.len() < 2 * depth + 2 {
        return; // deeper than `max_depth`: impossible for a validated tree
    }
    let (parent, path) = region.split_at_mut(depth + 1);
    path[..=depth].copy_from_slice(parent);
    extend(path, depth, zero, one, feature);
    match tree.nodes.get(node) {
        Some(Node::Leaf { value, .. }) => {
            for i in 1..=depth {
                let w = unwound_sum(path, depth, i);
                if let Some(e) = path.get(i) {
                    if let Some(p) = phi.get_mut(e.feature as usize) {
                        *p += w * (e.one - e.zero) * value;
                    }
                }
            }
        }
        Some(Node::Split {
            feature: split,
            threshold,
            left,
            right,
            cover,
            ..
        }) => {
            let x = row.get(*split as usize).copied().unwrap_or(f64::NAN);
            let (hot, cold) = if goes_left(x, *threshold) {
                (*left as usize, *right as usize)
            } else {
                (*right as usize, *left as usize)
            };
            if hot <= node || cold <= node {
                return; // not a tree: impossible for a validated one
            }
            let fraction = |c: usize| tree.nodes.get(c).map_or(0.0, |n| n.cover() / cover);
            let (mut incoming_zero, mut incoming_one) = (1.0, 1.0);
            let mut depth = depth;
            // A feature already on the path is unwound and re-extended with both fractions.
            // (Element 0 is the placeholder, so `k >= 1` and `depth >= 1`.)
            let found = path[..=depth].iter().position(|e| e.feature == *split);
            if let Some(k) = found.filter(|&k| k > 0) {
                incoming_zero = path[k].zero;
                incoming_one = path[k].one;
                unwind(path, depth, k);
                depth -= 1;
            }
            recurse(
                tree,
                row,
                phi,
                path,
                hot,
                depth + 1,
                fraction(hot) * incoming_zero,
                incoming_one,
                *split,
            );
            recurse(
                tree,
                row,
                phi,
                path,
                cold,
                depth + 1,
                fraction(cold) * incoming_zero,
                0.0,
                *split,
            );
        }
        None => {}
    }
}

impl Gbdt {
    /// Exact TreeSHAP contributions of each feature to [`Gbdt::margin`] of `row`:
    /// `base + Σ values` equals the margin up to rounding. NaN and values missing from a short
    /// `row` take the left branch, as in prediction.
    pub fn contributions(&self, row: &[f64]) -> Contributions {
        let mut values = vec![0.0; self.feature_names.len()];
        let mut base = self.base_score;
        let mut scratch = Vec::new();
        for tree in &self.trees {
            base += tree.expected_value();
            tree_shap(
                tree,
                row,
                usize::from(self.params.max_depth),
                &mut values,
                &mut scratch,
            );
        }
        Contributions { base, values }
    }

    /// The `k` largest contributions by magnitude as `(feature name, value in row,
    /// contribution)`; ties go to the lower feature index. A value missing from a short `row`
    /// shows as NaN.
    pub fn top_contributions(&self, row: &[f64], k: usize) -> Vec<(String, f64, f64)> {
        let c = self.contributions(row);
        top_of(&self.feature_names, row, &c, k)
    }
}

/// The `k` largest of `c` by magnitude as `(name, value in row, contribution)`, ties to the
/// lower feature index.
pub(crate) fn top_of(
    names: &[String],
    row: &[f64],
    c: &Contributions,
    k: usize,
) -> Vec<(String, f64, f64)> {
    let mut order: Vec<(usize, f64)> = c.values.iter().copied().enumerate().collect();
    order.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()).then(a.0.cmp(&b.0)));
    order
        .into_iter()
        .take(k)
        .filter_map(|(i, contribution)| {
            let name = names.get(i)?.clone();
            let value = row.get(i).copied().unwrap_or(f64::NAN);
            Some((name, value, contribution))
        })
        .collect()
}
