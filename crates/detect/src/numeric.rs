//! Small numeric helpers that follow numpy's evaluation order where it matters.
#![allow(
    clippy::inconsistent_digit_grouping,
    clippy::excessive_precision,
    clippy::unreadable_literal
)]

pub use custos_features::exp::{exp, one_plus_exp_neg};

/// numpy's pairwise summation of a contiguous `float64` array (`pairwise_sum_DOUBLE`): plain
/// for fewer than 8 values, eight interleaved accumulators up to 128, halves above that.
#[inline]
pub fn numpy_sum(a: &[f64]) -> f64 {
    if a.len() <= 128 {
        numpy_sum_block(a)
    } else {
        numpy_sum_halves(a)
    }
}

/// [`numpy_sum`] of more than 128 values (recursive, kept out of line).
#[inline(never)]
fn numpy_sum_halves(a: &[f64]) -> f64 {
    let mut n2 = a.len() / 2;
    n2 -= n2 % 8;
    numpy_sum(&a[..n2]) + numpy_sum(&a[n2..])
}

/// [`numpy_sum`] of at most 128 values.
#[inline(always)]
fn numpy_sum_block(a: &[f64]) -> f64 {
    let n = a.len();
    if n < 8 {
        let mut res = 0.0;
        for v in a {
            res += v;
        }
        res
    } else {
        let mut r = [0.0f64; 8];
        r.copy_from_slice(&a[..8]);
        let mut i = 8;
        while i < n - (n % 8) {
            for j in 0..8 {
                r[j] += a[i + j];
            }
            i += 8;
        }
        let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        while i < n {
            res += a[i];
            i += 1;
        }
        res
    }
}

/// numpy's `mean` of a float64 array: the pairwise sum (from 0) divided by the count.
#[inline]
pub fn numpy_mean(a: &[f64]) -> f64 {
    (0.0 + numpy_sum(a)) / a.len() as f64
}

/// Kitsune-py's `sigmoid`: `1 / (1 + exp(-x))`, with [`exp`] (custos's, not libm's: the same bits
/// on every machine) for the exponential.
///
/// Gives exactly 1.0 for x ≥ 37 (exp(−x) vanishes beside 1) and exactly 0.0 for x < −709.78
/// (exp(−x) overflows), as with `f64::exp`.
#[inline(always)]
pub fn sigmoid(x: f64) -> f64 {
    1.0 / sigmoid_denominator(x)
}

/// `1 + exp(-x)`, the denominator of [`sigmoid`] (a loop of divisions after a loop of these
/// vectorises the divisions).
#[inline(always)]
pub fn sigmoid_denominator(x: f64) -> f64 {
    one_plus_exp_neg(x)
}

/// The standard normal quantile function Φ⁻¹(p) (Wichura's AS241, double precision, relative
/// error about 1e-16). Returns ±∞ at 0 and 1 and NaN outside [0, 1].
pub fn normal_quantile(p: f64) -> f64 {
    if !(0.0..=1.0).contains(&p) || p.is_nan() {
        return f64::NAN;
    }
    if p == 0.0 {
        return f64::NEG_INFINITY;
    }
    if p == 1.0 {
        return f64::INFINITY;
    }
    let q = p - 0.5;
    if q.abs() <= 0.425 {
        let r = 0.180625 - q * q;
        return q
            * (((((((2509.080_928_730_122_7 * r + 33430.575_583_588_128) * r
                + 67265.770_927_008_7)
                * r
                + 45921.953_931_549_871)
                * r
                + 13731.693_765_509_461)
                * r
                + 1971.590_950_306_551_3)
                * r
                + 133.141_667_891_784_38)
                * r
                + 3.387_132_872_796_366_5)
            / (((((((5226.495_278_852_545_5 * r + 28729.085_735_721_943) * r
                + 39307.895_800_092_71)
                * r
                + 21213.794_301_586_597)
                * r
                + 5394.196_021_424_751)
                * r
                + 687.187_007_492_057_9)
                * r
                + 42.313_330_701_600_911)
                * r
                + 1.0);
    }
    let mut r = if q < 0.0 { p } else { 1.0 - p };
    r = (-r.ln()).sqrt();
    let val = if r <= 5.0 {
        let r = r - 1.6;
        (((((((7.745_450_142_783_414e-4 * r + 0.022_723_844_989_269_184) * r
            + 0.241_780_725_177_450_6)
            * r
            + 1.270_458_252_452_368_4)
            * r
            + 3.647_848_324_763_204_5)
            * r
            + 5.769_497_221_460_691)
            * r
            + 4.630_337_846_156_545_3)
            * r
            + 1.423_437_110_749_683_5)
            / (((((((1.050_750_071_644_416_9e-9 * r + 5.475_938_084_995_345e-4) * r
                + 0.015_198_666_563_616_457)
                * r
                + 0.148_103_976_427_480_08)
                * r
                + 0.689_767_334_985_1)
                * r
                + 1.676_384_830_183_803_8)
                * r
                + 2.053_191_626_637_759)
                * r
                + 1.0)
    } else {
        let r = r - 5.0;
        (((((((2.010_334_399_292_288_1e-7 * r + 2.711_555_568_743_487_6e-5) * r
            + 0.001_242_660_947_388_078_4)
            * r
            + 0.026_532_189_526_576_124)
            * r
            + 0.296_560_571_828_504_9)
            * r
            + 1.784_826_539_917_291_3)
            * r
            + 5.463_784_911_164_114)
            * r
            + 6.657_904_643_501_103)
            / (((((((2.044_263_103_389_939_7e-15 * r + 1.421_511_758_316_446e-7) * r
                + 1.846_318_317_510_054_8e-5)
                * r
                + 7.868_691_311_456_133e-4)
                * r
                + 0.014_875_361_290_850_615)
                * r
                + 0.136_929_880_922_735_8)
                * r
                + 0.599_832_206_555_888)
                * r
                + 1.0)
    };
    if q < 0.0 {
        -val
    } else {
        val
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn pairwise_sum_orders_like_numpy() {
        let v: Vec<f64> = (0..20).map(|i| 0.1 * f64::from(i)).collect();
        // Same grouping by hand: eight lanes over the first 16, then the rest in order.
        let mut r = [0.0; 8];
        for j in 0..8 {
            r[j] = v[j] + v[8 + j];
        }
        let mut want = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for x in &v[16..] {
            want += x;
        }
        assert_eq!(numpy_sum(&v), want);
    }

    #[test]
    fn pairwise_sum_halves_above_128() {
        let v: Vec<f64> = (0..300).map(|i| 1.0 / (1.0 + f64::from(i))).collect();
        // 300 → 144 + 156 (n/2 rounded down to a multiple of 8), then 72 + 72 and 72 + 84.
        let want = (numpy_sum(&v[..72]) + numpy_sum(&v[72..144]))
            + (numpy_sum(&v[144..216]) + numpy_sum(&v[216..]));
        assert_eq!(numpy_sum(&v), want);
    }

    #[test]
    fn sigmoid_denominator_is_one_plus_exp() {
        for i in -100_000..=100_000 {
            let x = f64::from(i) * 1e-3;
            assert_eq!(sigmoid_denominator(x), 1.0 + exp(-x), "{x}");
        }
        for x in [
            -800.0, -710.0, -709.7, -700.0, 36.0, 37.0, 40.0, 41.0, 1e300,
        ] {
            assert_eq!(sigmoid_denominator(x), 1.0 + exp(-x), "{x}");
        }
    }

    #[test]
    fn sigmoid_saturates_like_libm() {
        for x in [
            -1e308, -800.0, -745.0, -710.0, 37.0, 38.0, 40.0, 800.0, 1e308_f64,
        ] {
            let want = 1.0 / (1.0 + (-x).exp());
            assert_eq!(sigmoid(x), want, "sigmoid({x})");
        }
        assert_eq!(sigmoid(f64::INFINITY), 1.0);
        assert_eq!(sigmoid(f64::NEG_INFINITY), 0.0);
        assert!(sigmoid(f64::NAN).is_nan());
    }

    #[test]
    fn quantiles_of_known_points() {
        assert!((normal_quantile(0.975) - 1.959_963_984_540_054).abs() < 1e-14);
        assert!((normal_quantile(1.0 - 1e-4) - 3.719_016_485_455_68).abs() < 1e-12);
        assert!((normal_quantile(1e-10) + 6.361_340_902_404_056).abs() < 1e-12);
        assert_eq!(normal_quantile(0.5), 0.0);
    }
}
