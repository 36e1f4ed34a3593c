//! The training rows: every input row binned, rows with identical bin codes and label merged
//! into one weighted row, and the classes balanced.

use super::super::bins::BinMapper;
use super::super::{GbdtError, GbdtParams, TrainingData};
use std::collections::HashMap;

/// The merged rows of a training set.
pub(super) struct Merged {
    /// Merged rows.
    pub(super) unique: usize,
    /// Merged-row index of every input row.
    pub(super) row_unique: Vec<u32>,
    /// Bin codes, column-major: feature `f` of merged row `r` at `f * unique + r`.
    pub(super) codes: Vec<u8>,
    /// 1.0 for positive rows, 0.0 for negative ones.
    pub(super) target: Vec<f64>,
    /// Summed weights.
    pub(super) weight: Vec<f64>,
    /// Original rows merged into each row.
    pub(super) count: Vec<u64>,
}

/// Bins every row of `data` with `mappers` and merges the rows whose codes and label are
/// identical; merged rows are numbered in order of first appearance.
///
/// # Errors
/// [`GbdtError::Shape`] when the row-major codes do not fit in memory.
pub(super) fn merge_rows(
    data: &TrainingData<'_>,
    mappers: &[BinMapper],
) -> Result<Merged, GbdtError> {
    let rows = data.labels.len();
    let features = data.columns.len();
    // Row-major codes, so that a row's codes are one slice to merge on.
    let cells = rows.checked_mul(features).ok_or_else(|| GbdtError::Shape {
        what: format!("{rows} rows × {features} features do not fit in memory"),
    })?;
    let mut row_codes = vec![0u8; cells];
    for (f, (column, mapper)) in data.columns.iter().zip(mappers).enumerate() {
        for (r, &v) in column.iter().enumerate() {
            row_codes[r * features + f] = mapper.code(v);
        }
    }
    // Merge: merged rows are numbered in order of first appearance; the map is only looked up.
    let mut index: HashMap<(bool, &[u8]), u32> = HashMap::new();
    let mut row_unique = Vec::with_capacity(rows);
    let mut first_row: Vec<usize> = Vec::new();
    let mut weight: Vec<f64> = Vec::new();
    let mut count: Vec<u64> = Vec::new();
    for (r, (codes, &label)) in row_codes
        .chunks_exact(features)
        .zip(data.labels)
        .enumerate()
    {
        let w = data.weights.and_then(|w| w.get(r)).copied().unwrap_or(1.0);
        let next = first_row.len() as u32;
        let u = *index.entry((label, codes)).or_insert(next);
        if u == next {
            first_row.push(r);
            weight.push(0.0);
            count.push(0);
        }
        weight[u as usize] += w;
        count[u as usize] += 1;
        row_unique.push(u);
    }
    drop(index);
    let unique = first_row.len();
    let mut codes = vec![0u8; unique * features];
    for (u, &r) in first_row.iter().enumerate() {
        for f in 0..features {
            codes[f * unique + u] = row_codes[r * features + f];
        }
    }
    drop(row_codes);
    let target: Vec<f64> = first_row
        .iter()
        .map(|&r| if data.labels[r] { 1.0 } else { 0.0 })
        .collect();
    Ok(Merged {
        unique,
        row_unique,
        codes,
        target,
        weight,
        count,
    })
}

/// With `params.balance_classes`, scales `weight` so that each class weighs half the total.
/// Returns the base score: the log-odds of the weighted positive rate, exactly even odds
/// when the classes are balanced (the scaled sums differ from each other only by rounding).
pub(super) fn balance(params: &GbdtParams, weight: &mut [f64], target: &[f64]) -> f64 {
    if params.balance_classes {
        let (pos, neg) = (
            class_total(weight, target, 1.0),
            class_total(weight, target, 0.0),
        );
        let half = (pos + neg) / 2.0;
        let (scale_pos, scale_neg) = (half / pos, half / neg);
        for (w, &t) in weight.iter_mut().zip(target) {
            *w *= if t == 1.0 { scale_pos } else { scale_neg };
        }
    }
    if params.balance_classes {
        0.0
    } else {
        super::super::tree::ln(class_total(weight, target, 1.0) / class_total(weight, target, 0.0))
    }
}

/// The summed weight of the rows of class `class` (1.0 positive, 0.0 negative).
fn class_total(weight: &[f64], target: &[f64], class: f64) -> f64 {
    weight
        .iter()
        .zip(target)
        .filter(|(_, &t)| t == class)
        .map(|(w, _)| w)
        .sum()
}
