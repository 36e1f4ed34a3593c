//! Quantile binning: each feature's values become `u8` bin codes.
//!
//! A feature's distinct values are sorted and weighted by the row weights (1 per row without
//! weights). With at most `max_bins` distinct values every value gets its own bin; otherwise
//! bins are cut greedily so that each holds about `remaining weight / remaining bins`, and a
//! value heavy enough to fill a bin on its own starts a new bin (so a frequent value such as
//! port 443 or a zero count is never lumped with its neighbours).
//!
//! Bin `b` is the interval `(t[b−1], t[b]]` of the sorted thresholds `t`; the code of `v` is
//! the number of thresholds below `v`. Each threshold is a midpoint between two adjacent
//! distinct values `a < c` (or `a` itself where the midpoint rounds to `c`), so it lies in
//! `[a, c)`, and for every `f64` `v`, `code(v) <= b` exactly when `v <= t[b]`: a split stored as
//! the `f64` threshold `t[b]` decides every value as the bin split does. NaN gets code 0, the
//! left side of every split, as prediction sends it.

/// A feature's bin edges.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct BinMapper {
    /// Strictly increasing upper edges of bins `0..bins()-1`; the last bin is unbounded.
    thresholds: Vec<f64>,
}

/// An order-preserving `u64` key of a finite `f64` (−0 and +0 share a key).
fn key(v: f64) -> u64 {
    let bits = (v + 0.0).to_bits();
    if bits >> 63 == 1 {
        !bits
    } else {
        bits | (1 << 63)
    }
}

/// The `f64` of a [`key`].
fn from_key(k: u64) -> f64 {
    if k >> 63 == 1 {
        f64::from_bits(k & !(1 << 63))
    } else {
        f64::from_bits(!k)
    }
}

/// A threshold between adjacent distinct values `a < c`, in `[a, c)`.
fn midpoint(a: f64, c: f64) -> f64 {
    let t = a * 0.5 + c * 0.5; // no overflow, unlike (a + c) / 2
    if t >= a && t < c {
        t
    } else {
        a
    }
}

/// Distinct values of `values` in increasing order, with their total weight.
fn distinct(values: &[f64], weights: Option<&[f64]>) -> Vec<(f64, f64)> {
    let mut out: Vec<(f64, f64)> = Vec::new();
    match weights {
        None => {
            let mut keys: Vec<u64> = values.iter().map(|&v| key(v)).collect();
            keys.sort_unstable();
            let mut iter = keys.into_iter().peekable();
            while let Some(k) = iter.next() {
                let mut count = 1u64;
                while iter.next_if_eq(&k).is_some() {
                    count += 1;
                }
                out.push((from_key(k), count as f64));
            }
        }
        Some(w) => {
            let mut pairs: Vec<(u64, f64)> =
                values.iter().zip(w).map(|(&v, &w)| (key(v), w)).collect();
            // Weights of one value are summed in a fixed order (by weight), whatever order the
            // sort leaves equal keys in.
            pairs.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
            let mut iter = pairs.into_iter().peekable();
            while let Some((k, mut total)) = iter.next() {
                while let Some((_, w)) = iter.next_if(|p| p.0 == k) {
                    total += w;
                }
                out.push((from_key(k), total));
            }
        }
    }
    out
}

impl BinMapper {
    /// Bins for a column of finite values with optional positive row weights (same length).
    /// `max_bins` is clamped to 2..=256.
    pub(crate) fn fit(values: &[f64], weights: Option<&[f64]>, max_bins: usize) -> BinMapper {
        let max_bins = max_bins.clamp(2, 256);
        let values = distinct(values, weights);
        let mut thresholds = Vec::new();
        if values.len() <= max_bins {
            for pair in values.windows(2) {
                if let [(a, _), (c, _)] = pair {
                    thresholds.push(midpoint(*a, *c));
                }
            }
            return BinMapper { thresholds };
        }
        let mut remaining_weight: f64 = values.iter().map(|v| v.1).sum();
        let mut remaining_bins = max_bins;
        let mut current = 0.0;
        for pair in values.windows(2) {
            let [(a, w), (c, next_w)] = pair else {
                continue;
            };
            current += w;
            let target = remaining_weight / remaining_bins as f64;
            if current >= target || *next_w >= target {
                thresholds.push(midpoint(*a, *c));
                remaining_weight -= current;
                remaining_bins -= 1;
                current = 0.0;
                if remaining_bins == 1 {
                    break;
                }
            }
        }
        BinMapper { thresholds }
    }

    /// Number of bins (1 to 256).
    pub(crate) fn bins(&self) -> usize {
        self.thresholds.len() + 1
    }

    /// The bin code of `v`: how many thresholds lie below it (NaN: 0).
    #[inline]
    pub(crate) fn code(&self, v: f64) -> u8 {
        // At most 255 thresholds, so the count fits a u8.
        self.thresholds.partition_point(|&t| t < v) as u8
    }

    /// Upper edge of bin `bin`, the `f64` threshold of a split after it (`None` for the last).
    pub(crate) fn threshold(&self, bin: usize) -> Option<f64> {
        self.thresholds.get(bin).copied()
    }
}

#[cfg(test)]
mod test {
    use super::{from_key, key, midpoint, BinMapper};

    #[test]
    fn keys_order_like_floats() {
        let v = [-1e300, -2.5, -1e-310, -0.0, 0.0, 1e-310, 3.0, f64::MAX];
        for pair in v.windows(2) {
            assert!(key(pair[0]) <= key(pair[1]), "{pair:?}");
            assert_eq!(from_key(key(pair[1])), pair[1] + 0.0);
        }
        assert_eq!(key(-0.0), key(0.0));
    }

    #[test]
    fn midpoint_stays_between_adjacent_floats() {
        let a = 1.0f64;
        let c = f64::from_bits(a.to_bits() + 1);
        let t = midpoint(a, c);
        assert!((a..c).contains(&t));
        let t = midpoint(-f64::MAX, f64::MAX);
        assert!((-f64::MAX..f64::MAX).contains(&t));
    }

    #[test]
    fn few_distinct_values_get_one_bin_each() {
        let m = BinMapper::fit(&[3.0, 1.0, 2.0, 1.0, 3.0], None, 256);
        assert_eq!(m.bins(), 3);
        assert_eq!(
            [m.code(1.0), m.code(2.0), m.code(3.0), m.code(f64::NAN)],
            [0, 1, 2, 0]
        );
        assert_eq!(m.threshold(0), Some(1.5));
        assert_eq!(m.threshold(2), None);
    }

    #[test]
    fn quantile_bins_respect_max_bins_and_isolate_heavy_values() {
        // 10 000 distinct values plus a value holding half the weight.
        let mut v: Vec<f64> = (0..10_000).map(f64::from).collect();
        v.extend(std::iter::repeat_n(5000.5, 10_000));
        let m = BinMapper::fit(&v, None, 16);
        assert!((8..=16).contains(&m.bins()), "{}", m.bins());
        let heavy = m.code(5000.5);
        assert_ne!(m.code(5000.0), heavy);
        assert_ne!(m.code(5001.0), heavy);
    }

    #[test]
    fn code_decides_as_the_threshold_does() {
        let mut seed = 7u64;
        let v: Vec<f64> = (0..5000)
            .map(|_| {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ((seed >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 1e3
            })
            .collect();
        let w: Vec<f64> = (0..5000).map(|i| 1.0 + f64::from(i % 7)).collect();
        let m = BinMapper::fit(&v, Some(&w), 64);
        assert_eq!(m.bins(), 64);
        for &x in &v {
            for b in 0..m.bins() - 1 {
                let t = m.threshold(b).unwrap();
                assert_eq!(usize::from(m.code(x)) <= b, x <= t, "value {x} bin {b}");
            }
        }
    }
}
