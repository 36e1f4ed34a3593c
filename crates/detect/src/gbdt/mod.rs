//! Gradient-boosted decision trees for the supervised flow detector: a deterministic histogram
//! GBDT binary classifier (logistic loss) with exact TreeSHAP explanations.
//!
//! Written here because no maintained pure-Rust crate combines deterministic histogram
//! training, exact TreeSHAP and a stable serde model format.
//!
//! - [`train()`] takes column-major [`TrainingData`] (one `Vec<f64>` per feature, a label per row,
//!   optional row weights) and [`GbdtParams`], and returns a [`Gbdt`].
//! - Training bins every feature into at most 256 weighted-quantile bins (`bins.rs`), merges
//!   rows whose bin codes and label are identical into one weighted row (exact: such rows always
//!   reach the same leaves), and grows trees depth-wise from gradient/hessian histograms
//!   (`train.rs`).
//! - [`Gbdt::margin`] and [`Gbdt::probability`] score raw `f64` rows: split nodes hold `f64`
//!   thresholds, `value <= threshold` goes left, and NaN (missing) goes left too. On the
//!   training rows this is exactly the bin decision made during training.
//! - [`Gbdt::contributions`] is exact path-dependent TreeSHAP (Lundberg, Erion & Lee 2018,
//!   Algorithm 2) in margin space, with node cover = training row weight (`shap.rs`).
//! - [`Gbdt::to_json`] / [`Gbdt::from_json`] read and write the `custos-gbdt/1` model format;
//!   every model that deserialises has passed [`Gbdt::validate`], so a hostile file can neither
//!   panic nor loop the scorer.
//!
//! Training is single-threaded and deterministic: the same data and [`GbdtParams`] (seed
//! included) give a byte-identical model on any machine. `exp` and `ln` are computed in-house
//! from IEEE-754 `+ − × ÷` only (not the platform `libm`), hash maps are only looked up, never
//! iterated, and the subsampling PRNG is SplitMix64. `docs/gbdt.md` describes the algorithm.
//!
//! What it does not do: multi-class or regression, categorical splits, early stopping on a
//! validation set, or reading flows; the caller builds the feature columns.
//!
//! ```
//! use custos_detect::gbdt::{train, GbdtParams, TrainingData};
//! let names = vec!["bytes".to_string(), "port".to_string()];
//! let bytes: Vec<f64> = (0..200).map(|i| f64::from(i % 50)).collect();
//! let port: Vec<f64> = (0..200).map(|i| f64::from(i % 7)).collect();
//! let labels: Vec<bool> = bytes.iter().map(|&b| b > 30.0).collect();
//! let columns = vec![bytes, port];
//! let data = TrainingData { names: &names, columns: &columns, labels: &labels, weights: None };
//! let params = GbdtParams { trees: 20, ..GbdtParams::default() };
//! let model = train(&data, &params)?;
//! assert!(model.probability(&[45.0, 1.0]) > 0.9);
//! let c = model.contributions(&[45.0, 1.0]);
//! let sum: f64 = c.base + c.values.iter().sum::<f64>();
//! assert!((sum - model.margin(&[45.0, 1.0])).abs() < 1e-9);
//! # Ok::<(), custos_detect::gbdt::GbdtError>(())
//! ```

mod bins;
mod compact;
mod paths;
mod shap;
mod train;
mod tree;

#[cfg(test)]
mod tests;

pub use compact::CompactForest;
pub use paths::PathExplainer;
pub use train::train;
pub use tree::{Node, Tree};

use serde::{Deserialize, Serialize};
use std::fmt;

/// The format string models of this version write and read.
pub const GBDT_FORMAT: &str = "custos-gbdt/1";

/// Largest `max_depth` accepted (2^16 leaves per tree).
pub const MAX_DEPTH: u8 = 16;

/// Largest number of trees accepted.
pub const MAX_TREES: u32 = 100_000;

/// Training parameters. Every field has a default; [`GbdtParams::validate`] checks ranges.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GbdtParams {
    /// Boosting rounds (trees), 1 to [`MAX_TREES`]; default 200.
    pub trees: u32,
    /// Shrinkage applied to every leaf, in (0, 1]; default 0.1.
    pub learning_rate: f64,
    /// Depth of every tree (levels of splits), 1 to [`MAX_DEPTH`]; default 6.
    pub max_depth: u8,
    /// Smallest hessian sum allowed on each side of a split, ≥ 0; default 1.0.
    pub min_leaf_weight: f64,
    /// Smallest number of (original, not deduplicated) rows on each side of a split, ≥ 1;
    /// default 5.
    pub min_leaf_rows: u32,
    /// L2 regularisation of leaf values (λ), ≥ 0; default 1.0.
    pub l2: f64,
    /// Bins per feature, 2 to 256; default 256.
    pub max_bins: u16,
    /// Fraction of (deduplicated) rows drawn for each tree, in (0, 1]; default 1.0.
    pub row_subsample: f64,
    /// Fraction of features drawn for each tree, in (0, 1]; default 1.0.
    pub feature_subsample: f64,
    /// Scale each class's weights so both classes have equal total weight; default true.
    pub balance_classes: bool,
    /// Seed of the subsampling PRNG; default 0.
    pub seed: u64,
}

impl Default for GbdtParams {
    fn default() -> Self {
        GbdtParams {
            trees: 200,
            learning_rate: 0.1,
            max_depth: 6,
            min_leaf_weight: 1.0,
            min_leaf_rows: 5,
            l2: 1.0,
            max_bins: 256,
            row_subsample: 1.0,
            feature_subsample: 1.0,
            balance_classes: true,
            seed: 0,
        }
    }
}

impl GbdtParams {
    /// Checks every parameter's range.
    ///
    /// # Errors
    /// [`GbdtError::Param`] naming the first parameter out of range.
    pub fn validate(&self) -> Result<(), GbdtError> {
        let bad = |name: &'static str, value: String, expected: &'static str| {
            Err(GbdtError::Param {
                name,
                value,
                expected,
            })
        };
        let unit = |v: f64| v.is_finite() && v > 0.0 && v <= 1.0;
        let non_negative = |v: f64| v.is_finite() && v >= 0.0;
        if self.trees == 0 || self.trees > MAX_TREES {
            return bad("trees", self.trees.to_string(), "1 to 100000");
        }
        if !unit(self.learning_rate) {
            return bad("learning_rate", self.learning_rate.to_string(), "in (0, 1]");
        }
        if self.max_depth == 0 || self.max_depth > MAX_DEPTH {
            return bad("max_depth", self.max_depth.to_string(), "1 to 16");
        }
        if !non_negative(self.min_leaf_weight) {
            return bad(
                "min_leaf_weight",
                self.min_leaf_weight.to_string(),
                "finite and >= 0",
            );
        }
        if self.min_leaf_rows == 0 {
            return bad("min_leaf_rows", self.min_leaf_rows.to_string(), ">= 1");
        }
        if !non_negative(self.l2) {
            return bad("l2", self.l2.to_string(), "finite and >= 0");
        }
        if self.max_bins < 2 || self.max_bins > 256 {
            return bad("max_bins", self.max_bins.to_string(), "2 to 256");
        }
        if !unit(self.row_subsample) {
            return bad("row_subsample", self.row_subsample.to_string(), "in (0, 1]");
        }
        if !unit(self.feature_subsample) {
            return bad(
                "feature_subsample",
                self.feature_subsample.to_string(),
                "in (0, 1]",
            );
        }
        Ok(())
    }
}

/// Training rows, column-major: `columns[f][r]` is feature `f` of row `r`.
#[derive(Clone, Copy, Debug)]
pub struct TrainingData<'a> {
    /// Feature names, one per column.
    pub names: &'a [String],
    /// One vector per feature, all as long as `labels`.
    pub columns: &'a [Vec<f64>],
    /// Row labels: `true` = attack (positive class).
    pub labels: &'a [bool],
    /// Row weights (finite, > 0), or `None` for weight 1 each.
    pub weights: Option<&'a [f64]>,
}

impl TrainingData<'_> {
    /// Checks shapes, finiteness, weights and that both classes occur; returns the number of
    /// positive rows.
    pub(crate) fn check(&self) -> Result<u64, GbdtError> {
        let rows = self.labels.len();
        if self.names.len() != self.columns.len() {
            return Err(GbdtError::Shape {
                what: format!(
                    "{} feature names for {} columns",
                    self.names.len(),
                    self.columns.len()
                ),
            });
        }
        if rows == 0 || self.columns.is_empty() {
            return Err(GbdtError::Empty {
                rows,
                features: self.columns.len(),
            });
        }
        if rows > u32::MAX as usize || self.columns.len() > u32::MAX as usize {
            return Err(GbdtError::Shape {
                what: format!(
                    "{rows} rows or {} features, at most 2^32−1",
                    self.columns.len()
                ),
            });
        }
        for (column, (values, name)) in self.columns.iter().zip(self.names).enumerate() {
            if values.len() != rows {
                return Err(GbdtError::Ragged {
                    column,
                    name: name.clone(),
                    len: values.len(),
                    expected: rows,
                });
            }
            if let Some((row, &value)) = values.iter().enumerate().find(|(_, v)| !v.is_finite()) {
                return Err(GbdtError::NonFinite {
                    column,
                    name: name.clone(),
                    row,
                    value,
                });
            }
        }
        if let Some(w) = self.weights {
            if w.len() != rows {
                return Err(GbdtError::Shape {
                    what: format!("{} weights for {rows} rows", w.len()),
                });
            }
            if let Some((row, &value)) = w
                .iter()
                .enumerate()
                .find(|(_, w)| !(w.is_finite() && **w > 0.0))
            {
                return Err(GbdtError::BadWeight { row, value });
            }
        }
        let positives = self.labels.iter().filter(|&&l| l).count();
        if positives == 0 || positives == rows {
            return Err(GbdtError::OneClass {
                label: positives == rows,
                rows,
            });
        }
        Ok(positives as u64)
    }
}

/// What training saw and reached.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainingSummary {
    /// Rows given.
    pub rows: u64,
    /// Rows left after merging rows with identical bin codes and label.
    pub unique_rows: u64,
    /// Positive (attack) rows given.
    pub positives: u64,
    /// Negative (benign) rows given.
    pub negatives: u64,
    /// Trees built (fewer than `params.trees` when a tree found no split).
    pub trees_built: u32,
    /// Weighted mean logistic loss on the training rows after the last tree, with the
    /// weights training used (class-balanced when `balance_classes`).
    pub training_log_loss: f64,
}

/// A TreeSHAP explanation in margin (log-odds) space: `base + Σ values = margin(row)`.
#[derive(Clone, Debug, PartialEq)]
pub struct Contributions {
    /// Expected margin over the training distribution (base score + each tree's expectation).
    pub base: f64,
    /// One Shapley value per feature, in the order of [`Gbdt::feature_names`].
    pub values: Vec<f64>,
}

/// A trained GBDT binary classifier. Every value of this type is valid
/// ([`Gbdt::validate`]): training builds valid models and deserialisation checks.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawGbdt")]
pub struct Gbdt {
    format: String,
    feature_names: Vec<String>,
    base_score: f64,
    trees: Vec<Tree>,
    params: GbdtParams,
    summary: TrainingSummary,
}

/// The serialised fields, before [`Gbdt::validate`].
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGbdt {
    format: String,
    feature_names: Vec<String>,
    base_score: f64,
    trees: Vec<Tree>,
    params: GbdtParams,
    summary: TrainingSummary,
}

impl TryFrom<RawGbdt> for Gbdt {
    type Error = GbdtError;

    fn try_from(raw: RawGbdt) -> Result<Self, GbdtError> {
        let model = Gbdt {
            format: raw.format,
            feature_names: raw.feature_names,
            base_score: raw.base_score,
            trees: raw.trees,
            params: raw.params,
            summary: raw.summary,
        };
        model.validate()?;
        Ok(model)
    }
}

impl Gbdt {
    /// Assembles a trained model (used by [`train()`]).
    pub(crate) fn from_parts(
        feature_names: Vec<String>,
        base_score: f64,
        trees: Vec<Tree>,
        params: GbdtParams,
        summary: TrainingSummary,
    ) -> Self {
        Gbdt {
            format: GBDT_FORMAT.to_string(),
            feature_names,
            base_score,
            trees,
            params,
            summary,
        }
    }

    /// Feature names, in the order rows must follow.
    pub fn feature_names(&self) -> &[String] {
        &self.feature_names
    }

    /// The trees, in boosting order.
    pub fn trees(&self) -> &[Tree] {
        &self.trees
    }

    /// The initial margin: log-odds of the weighted positive rate.
    pub fn base_score(&self) -> f64 {
        self.base_score
    }

    /// Parameters the model was trained with.
    pub fn params(&self) -> &GbdtParams {
        &self.params
    }

    /// What training saw and reached.
    pub fn summary(&self) -> &TrainingSummary {
        &self.summary
    }

    /// Raw log-odds of `row` (values in the order of [`Gbdt::feature_names`]). NaN, and a
    /// value missing because `row` is short, take the left (`<=`) branch of every split.
    pub fn margin(&self, row: &[f64]) -> f64 {
        let mut margin = self.base_score;
        for tree in &self.trees {
            margin += tree.predict(row);
        }
        margin
    }

    /// Probability of the positive (attack) class: the logistic sigmoid of [`Gbdt::margin`].
    pub fn probability(&self, row: &[f64]) -> f64 {
        tree::sigmoid(self.margin(row))
    }

    /// The model as JSON (`custos-gbdt/1`): field names are stable, numbers are written in
    /// the shortest form that reads back to the same `f64`, so the same model always gives the
    /// same bytes.
    ///
    /// # Errors
    /// [`GbdtError::Invalid`] if serialisation fails (it cannot for a valid model).
    pub fn to_json(&self) -> Result<String, GbdtError> {
        serde_json::to_string(self).map_err(|e| GbdtError::Invalid {
            what: format!("cannot serialise: {e}"),
        })
    }

    /// Reads a model from JSON bytes, checking the format string and [`Gbdt::validate`].
    ///
    /// # Errors
    /// [`GbdtError::Truncated`] when the text ends early, [`GbdtError::Format`] for another
    /// format string, [`GbdtError::Corrupt`] for anything else that is not a model document,
    /// [`GbdtError::Param`] or [`GbdtError::Invalid`] for a document that fails validation.
    pub fn from_json(bytes: &[u8]) -> Result<Gbdt, GbdtError> {
        // Read the format first, so that another format is named as such rather than as the
        // first field it lacks.
        #[derive(Deserialize)]
        struct FormatOnly {
            format: String,
        }
        if let Ok(f) = serde_json::from_slice::<FormatOnly>(bytes) {
            if f.format != GBDT_FORMAT {
                return Err(GbdtError::Format {
                    found: f.format,
                    expected: GBDT_FORMAT,
                });
            }
        }
        let raw: RawGbdt = serde_json::from_slice(bytes).map_err(|e| {
            if e.is_eof() {
                GbdtError::Truncated {
                    line: e.line(),
                    column: e.column(),
                }
            } else {
                GbdtError::Corrupt {
                    line: e.line(),
                    column: e.column(),
                    what: e.to_string(),
                }
            }
        })?;
        Gbdt::try_from(raw)
    }
}

/// Why training failed or a model was refused.
///
/// `Display` and `Error` are written by hand, as for [`crate::ModelError`] (the crate does not
/// depend on `thiserror`); no variant has a source.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum GbdtError {
    /// No rows or no features to train on.
    Empty {
        /// Rows given.
        rows: usize,
        /// Features given.
        features: usize,
    },
    /// Every row has the same label: nothing to separate.
    OneClass {
        /// The only label present.
        label: bool,
        /// Rows given.
        rows: usize,
    },
    /// The inputs' sizes do not fit together (names vs columns, weights vs labels, too many
    /// rows).
    Shape {
        /// What does not fit.
        what: String,
    },
    /// A feature column's length differs from the number of labels.
    Ragged {
        /// Column index.
        column: usize,
        /// Feature name.
        name: String,
        /// Its length.
        len: usize,
        /// Number of labels.
        expected: usize,
    },
    /// A feature value is NaN or infinite.
    NonFinite {
        /// Column index.
        column: usize,
        /// Feature name.
        name: String,
        /// Row index.
        row: usize,
        /// The value.
        value: f64,
    },
    /// A row weight is not finite and positive.
    BadWeight {
        /// Row index.
        row: usize,
        /// The weight.
        value: f64,
    },
    /// A training parameter is out of range.
    Param {
        /// Parameter name.
        name: &'static str,
        /// Its value.
        value: String,
        /// The accepted range.
        expected: &'static str,
    },
    /// The model text ends early: it was cut off.
    Truncated {
        /// Line where the text ends.
        line: usize,
        /// Column where the text ends.
        column: usize,
    },
    /// The text is not a model document.
    Corrupt {
        /// Line of the problem.
        line: usize,
        /// Column of the problem.
        column: usize,
        /// What the parser found.
        what: String,
    },
    /// The document is a model of another kind or version.
    Format {
        /// Format found.
        found: String,
        /// Format this version reads.
        expected: &'static str,
    },
    /// The model's parts do not fit together (a child index out of range, a NaN leaf…).
    Invalid {
        /// What is wrong, naming the tree and node.
        what: String,
    },
}

impl fmt::Display for GbdtError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GbdtError::Empty { rows, features } => {
                write!(f, "nothing to train on: {rows} rows, {features} features")
            }
            GbdtError::OneClass { label, rows } => write!(
                f,
                "all {rows} rows are labelled {}: training needs both classes",
                if *label { "attack" } else { "benign" }
            ),
            GbdtError::Shape { what } => write!(f, "training data shape: {what}"),
            GbdtError::Ragged {
                column,
                name,
                len,
                expected,
            } => write!(
                f,
                "column {column} ({name:?}) has {len} values, expected {expected} (one per label)"
            ),
            GbdtError::NonFinite {
                column,
                name,
                row,
                value,
            } => write!(
                f,
                "column {column} ({name:?}) row {row}: value {value} is not finite"
            ),
            GbdtError::BadWeight { row, value } => {
                write!(f, "row {row}: weight {value} is not finite and positive")
            }
            GbdtError::Param {
                name,
                value,
                expected,
            } => write!(
                f,
                "parameter {name} = {value} out of range (expected {expected})"
            ),
            GbdtError::Truncated { line, column } => write!(
                f,
                "truncated model (JSON ends early at line {line}, column {column})"
            ),
            GbdtError::Corrupt { line, column, what } => {
                write!(f, "corrupt model at line {line}, column {column}: {what}")
            }
            GbdtError::Format { found, expected } => write!(
                f,
                "unsupported model format {found:?} (expected {expected:?})"
            ),
            GbdtError::Invalid { what } => write!(f, "invalid model: {what}"),
        }
    }
}

/// No variant has a source.
impl std::error::Error for GbdtError {}
