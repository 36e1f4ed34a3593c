//! Training: input checks, binning, exact row deduplication, class balancing and depth-wise
//! histogram boosting with Newton leaves.
//!
//! Rows whose bin codes and label are identical always reach the same leaf of every tree and
//! get the same gradient, so they are merged into one row carrying their summed weight and
//! their row count before boosting; every histogram, split and leaf is then the same as
//! without merging (row counts, for `min_leaf_rows`, stay counts of original rows). Row
//! subsampling draws among the merged rows: a merged row is kept or dropped as a whole.
//!
//! Trees grow depth-wise: every node of a level is split by its best split (largest gain;
//! ties to the lower feature index, then the lower bin), until `max_depth` or no split
//! qualifies. A node's histogram holds, per feature and bin, the sums of gradient, hessian and
//! row count; of two children only the one with fewer merged rows is scanned, the other's
//! histogram is its parent's minus its sibling's.

use super::bins::BinMapper;
use super::tree::{sigmoid, softplus, Node, SplitMix64, Tree};
use super::{Gbdt, GbdtError, GbdtParams, TrainingData, TrainingSummary};
use hist::HistScratch;
use rows::{balance, merge_rows, Merged};

mod hist;
mod rows;

/// A split's gain must exceed this fraction of the magnitudes it is computed from, so that
/// rounding noise (a node whose rows all share one gradient ratio) never counts as a split.
const GAIN_EPSILON: f64 = 1e-10;

/// Per-bin (or per-node) sums.
#[derive(Clone, Copy, Debug, Default)]
struct Sums {
    g: f64,
    h: f64,
    n: u64,
}

impl Sums {
    fn add(&mut self, o: &Sums) {
        self.g += o.g;
        self.h += o.h;
        self.n += o.n;
    }

    fn minus(&self, o: &Sums) -> Sums {
        Sums {
            g: self.g - o.g,
            h: self.h - o.h,
            n: self.n.saturating_sub(o.n),
        }
    }
}

/// The best split of a node.
struct Split {
    feature: usize,
    bin: u8,
    gain: f64,
    left: Sums,
    right: Sums,
}

/// A node waiting to be split or made a leaf: its rows are `rows[start..end]`.
struct Open {
    node: usize,
    start: usize,
    end: usize,
    sums: Sums,
    hist: Option<Vec<Sums>>,
}

/// The tree being grown and the buffers its growth reuses.
struct Growth {
    /// Its nodes.
    nodes: Vec<Node>,
    /// Each split's bin (0 for leaves).
    bins: Vec<u8>,
    /// Histograms no longer needed, for reuse.
    pool: Vec<Vec<Sums>>,
    /// Buffers of histogram building.
    scratch: HistScratch,
    /// Buffer of row partitioning.
    spill: Vec<u32>,
}

/// What training computed besides the model, for tests.
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) struct Trained {
    /// Merged-row index of every input row.
    pub(crate) row_unique: Vec<u32>,
    /// Final training margin of every merged row.
    pub(crate) margins: Vec<f64>,
}

/// Trains a GBDT binary classifier on `data`.
///
/// # Errors
/// [`GbdtError::Param`] for parameters out of range; [`GbdtError::Empty`],
/// [`GbdtError::Shape`], [`GbdtError::Ragged`], [`GbdtError::NonFinite`] (naming column and
/// row), [`GbdtError::BadWeight`] and [`GbdtError::OneClass`] for unusable data.
pub fn train(data: &TrainingData<'_>, params: &GbdtParams) -> Result<Gbdt, GbdtError> {
    train_inner(data, params).map(|(model, _)| model)
}

/// Training state over the merged rows.
struct Trainer<'p> {
    params: &'p GbdtParams,
    /// Merged rows.
    unique: usize,
    /// Bin codes, column-major: feature `f` of merged row `r` at `f * unique + r`.
    codes: Vec<u8>,
    mappers: Vec<BinMapper>,
    /// Histogram offset of each feature (and the total at the end).
    offsets: Vec<usize>,
    /// 1.0 for positive rows, 0.0 for negative ones.
    target: Vec<f64>,
    /// Summed (and class-balanced) weights.
    weight: Vec<f64>,
    /// Original rows merged into each row.
    count: Vec<u64>,
}

/// Trains, also returning what tests check.
pub(crate) fn train_inner(
    data: &TrainingData<'_>,
    params: &GbdtParams,
) -> Result<(Gbdt, Trained), GbdtError> {
    params.validate()?;
    let positives = data.check()?;
    let rows = data.labels.len();
    let max_bins = usize::from(params.max_bins);
    let mappers: Vec<BinMapper> = data
        .columns
        .iter()
        .map(|c| BinMapper::fit(c, data.weights, max_bins))
        .collect();
    let Merged {
        unique,
        row_unique,
        codes,
        target,
        mut weight,
        count,
    } = merge_rows(data, &mappers)?;
    let base_score = balance(params, &mut weight, &target);
    let offsets = hist_offsets(&mappers);
    let trainer = Trainer {
        params,
        unique,
        codes,
        mappers,
        offsets,
        target,
        weight,
        count,
    };
    let (trees, margins) = trainer.boost(base_score);
    let summary = TrainingSummary {
        rows: rows as u64,
        unique_rows: unique as u64,
        positives,
        negatives: rows as u64 - positives,
        trees_built: trees.len() as u32,
        training_log_loss: trainer.log_loss(&margins),
    };
    let model = Gbdt::from_parts(
        data.names.to_vec(),
        base_score,
        trees,
        params.clone(),
        summary,
    );
    model.validate()?;
    Ok((
        model,
        Trained {
            row_unique,
            margins,
        },
    ))
}

/// The histogram offset of each feature's bins, and the total at the end.
fn hist_offsets(mappers: &[BinMapper]) -> Vec<usize> {
    let mut offsets = Vec::with_capacity(mappers.len() + 1);
    let mut total = 0;
    for m in mappers {
        offsets.push(total);
        total += m.bins();
    }
    offsets.push(total);
    offsets
}

impl Trainer<'_> {
    /// The weighted mean logistic loss of the merged rows at `margins`.
    fn log_loss(&self, margins: &[f64]) -> f64 {
        let loss_weight: f64 = self.weight.iter().sum();
        margins
            .iter()
            .zip(&self.target)
            .zip(&self.weight)
            .map(|((&m, &t), &w)| w * if t == 1.0 { softplus(-m) } else { softplus(m) })
            .sum::<f64>()
            / loss_weight
    }

    /// Builds the trees; returns them and the final margin of every merged row.
    fn boost(&self, base_score: f64) -> (Vec<Tree>, Vec<f64>) {
        let p = self.params;
        let features = self.mappers.len();
        let mut rng = SplitMix64::new(p.seed);
        let mut margins = vec![base_score; self.unique];
        let mut grad = vec![0.0; self.unique];
        let mut hess = vec![0.0; self.unique];
        let mut trees = Vec::new();
        let mut rows: Vec<u32> = Vec::with_capacity(self.unique);
        let mut feats: Vec<usize> = (0..features).collect();
        for _ in 0..p.trees {
            for (((g, h), &m), (&t, &w)) in grad
                .iter_mut()
                .zip(hess.iter_mut())
                .zip(&margins)
                .zip(self.target.iter().zip(&self.weight))
            {
                let prob = sigmoid(m);
                *g = w * (prob - t);
                *h = w * prob * (1.0 - prob);
            }
            feats.clear();
            feats.extend(0..features);
            if p.feature_subsample < 1.0 {
                let k =
                    ((p.feature_subsample * features as f64).ceil() as usize).clamp(1, features);
                for i in 0..k {
                    let j = i + rng.below(features - i);
                    feats.swap(i, j);
                }
                feats.truncate(k);
                feats.sort_unstable();
            }
            // A feature with one bin (a constant column) can never split.
            feats.retain(|&f| self.mappers[f].bins() > 1);
            rows.clear();
            if p.row_subsample < 1.0 {
                for r in 0..self.unique as u32 {
                    if rng.next_f64() < p.row_subsample {
                        rows.push(r);
                    }
                }
            }
            if rows.is_empty() {
                rows.extend(0..self.unique as u32);
            }
            let full = rows.len() == self.unique && p.feature_subsample == 1.0;
            let (nodes, bins) = self.grow(&mut rows, &feats, &grad, &hess);
            for (r, m) in margins.iter_mut().enumerate() {
                *m += self.leaf_value(&nodes, &bins, r);
            }
            let single_leaf = nodes.len() == 1;
            trees.push(Tree { nodes });
            if single_leaf && full {
                break; // no split qualifies on the whole data: later trees would find none either
            }
        }
        (trees, margins)
    }

    /// The leaf value merged row `r` reaches, deciding splits on bin codes.
    fn leaf_value(&self, nodes: &[Node], bins: &[u8], r: usize) -> f64 {
        let mut i = 0;
        loop {
            match (nodes.get(i), bins.get(i)) {
                (Some(Node::Leaf { value, .. }), _) => return *value,
                (
                    Some(Node::Split {
                        feature,
                        left,
                        right,
                        ..
                    }),
                    Some(&bin),
                ) => {
                    let code = self.codes[*feature as usize * self.unique + r];
                    let next = if code <= bin { *left } else { *right } as usize;
                    if next <= i {
                        return 0.0;
                    }
                    i = next;
                }
                _ => return 0.0,
            }
        }
    }

    /// A leaf's Newton step `−G/(H+λ) × learning rate` (0 where it is undefined).
    fn leaf(&self, sums: &Sums, cover: f64) -> Node {
        let denominator = sums.h + self.params.l2;
        let value = -sums.g / denominator * self.params.learning_rate;
        let value = if denominator > 0.0 && value.is_finite() {
            value
        } else {
            0.0
        };
        Node::Leaf { value, cover }
    }

    /// Sum of the weights of `rows` (the node's cover).
    fn cover(&self, rows: &[u32]) -> f64 {
        rows.iter().map(|&r| self.weight[r as usize]).sum()
    }

    /// Grows one tree over `rows` (reordered in place); returns its nodes and each split's bin.
    fn grow(
        &self,
        rows: &mut [u32],
        feats: &[usize],
        g: &[f64],
        h: &[f64],
    ) -> (Vec<Node>, Vec<u8>) {
        let max_depth = usize::from(self.params.max_depth);
        let mut t = Growth {
            nodes: vec![Node::Leaf {
                value: 0.0,
                cover: 0.0,
            }],
            bins: vec![0u8],
            pool: Vec::new(),
            scratch: HistScratch::default(),
            spill: Vec::new(),
        };
        let mut sums = Sums::default();
        for &r in rows.iter() {
            let r = r as usize;
            sums.add(&Sums {
                g: g[r],
                h: h[r],
                n: self.count[r],
            });
        }
        let mut root_hist = Vec::new();
        self.build_hist(rows, feats, (g, h), &mut root_hist, &mut t.scratch);
        let mut level = vec![Open {
            node: 0,
            start: 0,
            end: rows.len(),
            sums,
            hist: Some(root_hist),
        }];
        for depth in 0..max_depth {
            let mut next = Vec::with_capacity(level.len() * 2);
            let child_hists = depth + 1 < max_depth;
            for open in level {
                if let Some((l, r)) =
                    self.split_node(open, rows, feats, (g, h), &mut t, child_hists)
                {
                    next.push(l);
                    next.push(r);
                }
            }
            level = next;
        }
        for open in level {
            let cover = self.cover(&rows[open.start..open.end]);
            t.nodes[open.node] = self.leaf(&open.sums, cover);
        }
        (t.nodes, t.bins)
    }

    /// Splits node `open` by its best split, partitioning its rows, and returns its two
    /// children (with their histograms when `child_hists`); makes it a leaf (`None`) when
    /// it has no histogram or no split qualifies.
    fn split_node(
        &self,
        open: Open,
        rows: &mut [u32],
        feats: &[usize],
        (g, h): (&[f64], &[f64]),
        t: &mut Growth,
        child_hists: bool,
    ) -> Option<(Open, Open)> {
        let node_rows = &mut rows[open.start..open.end];
        let cover = self.cover(node_rows);
        let Some(hist) = open.hist else {
            t.nodes[open.node] = self.leaf(&open.sums, cover);
            return None;
        };
        let best = self.best_split(&hist, feats, &open.sums);
        let Some((best, threshold)) = best.and_then(|b| {
            let t = self.mappers[b.feature].threshold(usize::from(b.bin))?;
            Some((b, t))
        }) else {
            t.nodes[open.node] = self.leaf(&open.sums, cover);
            t.pool.push(hist);
            return None;
        };
        let column = &self.codes[best.feature * self.unique..][..self.unique];
        let mid = open.start + partition(node_rows, column, best.bin, &mut t.spill);
        let (left, right) = (t.nodes.len(), t.nodes.len() + 1);
        t.nodes[open.node] = Node::Split {
            feature: best.feature as u32,
            threshold,
            left: left as u32,
            right: right as u32,
            gain: best.gain,
            cover,
        };
        t.bins[open.node] = best.bin;
        for _ in 0..2 {
            t.nodes.push(Node::Leaf {
                value: 0.0,
                cover: 0.0,
            });
            t.bins.push(0);
        }
        let mut l = Open {
            node: left,
            start: open.start,
            end: mid,
            sums: best.left,
            hist: None,
        };
        let mut r = Open {
            node: right,
            start: mid,
            end: open.end,
            sums: best.right,
            hist: None,
        };
        if child_hists {
            self.child_hists((&mut l, &mut r), hist, rows, feats, (g, h), t);
        } else {
            t.pool.push(hist);
        }
        Some((l, r))
    }

    /// Gives children `l` and `r` their histograms: the one with fewer rows is built, the
    /// other is the parent's `hist` minus its sibling's.
    fn child_hists(
        &self,
        (l, r): (&mut Open, &mut Open),
        hist: Vec<Sums>,
        rows: &[u32],
        feats: &[usize],
        (g, h): (&[f64], &[f64]),
        t: &mut Growth,
    ) {
        let (small, large) = if l.end - l.start <= r.end - r.start {
            (l, r)
        } else {
            (r, l)
        };
        let mut small_hist = t.pool.pop().unwrap_or_default();
        self.build_hist(
            &rows[small.start..small.end],
            feats,
            (g, h),
            &mut small_hist,
            &mut t.scratch,
        );
        let mut large_hist = hist;
        for (a, b) in large_hist.iter_mut().zip(&small_hist) {
            *a = a.minus(b);
        }
        small.hist = Some(small_hist);
        large.hist = Some(large_hist);
    }

    /// The best split of a node with totals `sums` and histogram `hist`, if one qualifies.
    fn best_split(&self, hist: &[Sums], feats: &[usize], sums: &Sums) -> Option<Split> {
        let p = self.params;
        let l2 = p.l2;
        let min_rows = u64::from(p.min_leaf_rows);
        let term = |s: &Sums| {
            let d = s.h + l2;
            if d > 0.0 {
                s.g * s.g / d
            } else {
                0.0
            }
        };
        let parent = term(sums);
        let mut best: Option<Split> = None;
        for &f in feats {
            let bins = &hist[self.offsets[f]..self.offsets[f + 1]];
            let mut left = Sums::default();
            for (bin, s) in bins.iter().enumerate().take(bins.len().saturating_sub(1)) {
                left.add(s);
                let right = sums.minus(&left);
                if right.n < min_rows {
                    break;
                }
                if left.n < min_rows
                    || left.h < p.min_leaf_weight
                    || right.h < p.min_leaf_weight
                    || left.h + l2 <= 0.0
                    || right.h + l2 <= 0.0
                {
                    continue;
                }
                let (lt, rt) = (term(&left), term(&right));
                let gain = lt + rt - parent;
                if gain > GAIN_EPSILON * (lt + rt + parent)
                    && gain.is_finite()
                    && best.as_ref().is_none_or(|b| gain > b.gain)
                {
                    best = Some(Split {
                        feature: f,
                        bin: bin as u8,
                        gain,
                        left,
                        right,
                    });
                }
            }
        }
        best
    }
}

/// Stable partition of `rows` into those whose code is `<= bin` and the rest; returns how many
/// went left.
fn partition(rows: &mut [u32], column: &[u8], bin: u8, spill: &mut Vec<u32>) -> usize {
    spill.clear();
    let mut left = 0;
    for i in 0..rows.len() {
        let r = rows[i];
        if column[r as usize] <= bin {
            rows[left] = r;
            left += 1;
        } else {
            spill.push(r);
        }
    }
    rows[left..].copy_from_slice(spill);
    left
}
