//! Exponentials for the hot loops of Kitsune: e^x for KitNET's sigmoids, 2^x for AfterImage's
//! decay factors. Both inline, branch-free (the clamps and sign tests are selects, so two or
//! four calls side by side vectorise; the table lookups stay scalar) and libm-free.
//!
//! Why they exist: `f64::exp` and `f64::exp2` are libm calls (~50 instructions with the
//! wrapper) that the compiler can neither inline nor schedule around, and whose last bit
//! depends on the C library and, through its run-time choice of a fused multiply-add variant,
//! on the CPU. These use only +, −, ×, bit operations and a table lookup, never a fused
//! multiply-add (the baseline x86-64 target has none, and one chosen at run time would make
//! results depend on the CPU), so they give the same bits on every machine; nothing in std is
//! both.
//!
//! Method (as glibc's and ARM's optimized-routines' `exp` and `exp2`): x = (m·N + j)/N + r
//! (for e^x: x = (m·N + j)·ln2/N + r, ln2/N split in two so that k·ln2/N is exact) with
//! N = 128; the result is 2^m · 2^(j/N) · (1 + p(r)), 2^(j/N) from a table (the double nearest
//! and its relative tail), p a degree-5 polynomial. Against libm (tests): at most one ulp
//! apart, and a fraction of a percent of a sweep of arguments differ at all.

/// e^x within one ulp of `f64::exp` (results are almost always the same bits), inlined.
///
/// Extremes as `f64::exp`: +∞ above 709.78 (and for +∞), 0.0 below −745.13 (and for −∞),
/// subnormals in between (rounded twice: within one ulp of the subnormal), NaN for NaN. The
/// only difference possible at the thresholds is one ulp: an x within an ulp of 709.78 can
/// give `f64::MAX` where libm gives +∞ or the reverse, and likewise min subnormal and 0.0.
#[inline(always)]
pub fn exp(x: f64) -> f64 {
    // Beyond these e^x is ∞ or 0 anyway; the clamp keeps k in range. NaN passes through.
    let x = if x < -746.0 { -746.0 } else { x };
    let x = if x > 710.0 { 710.0 } else { x };
    let (adjust, undo) = scale_adjustment(x);
    exp_clamped::<false>(x, adjust, undo)
}

/// 1 + e^(−x) (KitNET's sigmoid is its reciprocal), the same value as `1.0 + exp(-x)`.
#[inline(always)]
pub fn one_plus_exp_neg(x: f64) -> f64 {
    // As `exp(-x)`, except that −x is clamped below at −40 rather than −746: 1 + e^t is exactly
    // 1.0 for every t below −38, so the result is the same and the scale needs no adjustment
    // for subnormals. (Clamping x before negating it compiles to a max and a min.)
    let x = if x > 40.0 { 40.0 } else { x };
    let x = if x < -710.0 { -710.0 } else { x };
    1.0 + exp_clamped::<true>(x, 1u64.wrapping_neg() << 52, 2.0)
}

/// 2^x within one ulp of `f64::exp2` (results are almost always the same bits), inlined.
///
/// Extremes as `f64::exp2`: +∞ from 1024 (and for +∞), 0.0 below −1075 (and for −∞),
/// subnormals in between (rounded twice: within one ulp of the subnormal), NaN for NaN.
#[inline(always)]
pub fn exp2(x: f64) -> f64 {
    /// 1.5·2^52/N: adding it rounds x·N to an integer, kept in the low mantissa bits.
    const SHIFT: f64 = 6755399441055744.0 / EXP_N as f64;
    /// ln2^i / i!: 2^r − 1 on |r| ≤ 1/2N by its Taylor polynomial (the first term left out,
    /// ln2^6/6!·r^6, is below 6·10⁻¹⁹ of the result).
    const C1: f64 = std::f64::consts::LN_2;
    const C2: f64 = 0.24022650695910072;
    const C3: f64 = 0.05550410866482158;
    const C4: f64 = 0.009618129107628477;
    const C5: f64 = 0.0013333558146428443;
    let x = if x < -1080.0 { -1080.0 } else { x };
    let x = if x > 1024.5 { 1024.5 } else { x };
    let (adjust, undo) = scale_adjustment(x);
    let kd = x + SHIFT;
    // k = m·N + j sits in the low bits of `kd`; r = x − k/N is exact.
    let ki = kd.to_bits();
    let r = x - (kd - SHIFT);
    let r2 = r * r;
    let j = (ki % EXP_N as u64) as usize;
    let tail = f64::from_bits(EXP_TABLE[2 * j]);
    let tmp = tail + r * C1 + r2 * (C2 + r * C3) + r2 * r2 * (C4 + r * C5);
    scaled(ki, j, tmp, adjust, undo)
}

/// The scale 2^m·2^(j/N) is built in the exponent field, valid for m in [−1022, 1023]; within
/// e^x's and 2^x's clamps m is in [−1080, 1024], so it is first taken 2^60 times too large
/// (x < 0) or 2 times too small (x ≥ 0) and put right by a last product: exact for normal
/// results; ∞ or a subnormal there, correctly rounded from the product. Returns what to add
/// to the scale's bits and the last factor.
#[inline(always)]
fn scale_adjustment(x: f64) -> (u64, f64) {
    if x < 0.0 {
        (60u64 << 52, f64::from_bits((1023 - 60) << 52))
    } else {
        (1u64.wrapping_neg() << 52, 2.0)
    }
}

/// 2^m·2^(j/N)·(1 + tmp), k = m·N + j in the low bits of `ki`, the scale adjusted by `adjust`
/// (added to its bits) and `undo` (the last factor).
#[inline(always)]
fn scaled(ki: u64, j: usize, tmp: f64, adjust: u64, undo: f64) -> f64 {
    // The table holds bits(2^(j/N)) − j·2^52/N, and k·2^52/N (k << 45) adds m to the exponent
    // field (the high bits of `ki` fall off the left).
    let sbits = EXP_TABLE[2 * j + 1]
        .wrapping_add(ki << 45)
        .wrapping_add(adjust);
    let scale = f64::from_bits(sbits);
    (scale + scale * tmp) * undo
}

/// [`exp`] of x (of −x if `NEG`), x in [−746, 710] (or NaN), the scale adjusted as
/// [`scaled`] says. (Negating inside rather than before keeps the compiler from folding the
/// negation into the caller's clamp, which then no longer compiles to a max and a min.)
#[inline(always)]
fn exp_clamped<const NEG: bool>(x: f64, adjust: u64, undo: f64) -> f64 {
    /// 1.5·2^52: adding it rounds to an integer, kept in the low mantissa bits.
    const SHIFT: f64 = 6755399441055744.0;
    /// N / ln 2.
    const INV_LN2_N: f64 = 184.6649652337873;
    /// ln2/N in two parts; the first has 33 significant bits, so k·LN2_N_HI is exact for
    /// |k| < 2^20 (here |k| ≤ 137 800).
    const LN2_N_HI: f64 = 0.0054152123475432745;
    const LN2_N_LO: f64 = 5.812982117197185e-13;
    /// (e^r − 1 − r)/r² on |r| ≤ ln2/2N (Chebyshev fit, relative error 1e-14; as the term is
    /// below 4e-6·e^r, that is 4e-20 of the result).
    const C2: f64 = 0.4999999999999907;
    const C3: f64 = 0.16666666666666533;
    const C4: f64 = 0.041666676850831016;
    const C5: f64 = 0.008333334788213917;
    let x = if NEG { -x } else { x };
    let kd = x * INV_LN2_N + SHIFT;
    let ki = kd.to_bits();
    let k = kd - SHIFT;
    let r = (x - k * LN2_N_HI) - k * LN2_N_LO;
    let j = (ki % EXP_N as u64) as usize;
    let tail = f64::from_bits(EXP_TABLE[2 * j]);
    let r2 = r * r;
    let tmp = tail + r + r2 * (C2 + r * C3) + r2 * r2 * (C4 + r * C5);
    scaled(ki, j, tmp, adjust, undo)
}

/// Table size of [`exp`] and [`exp2`].
pub(crate) const EXP_N: usize = 128;

/// For j in 0..N: the relative tail t_j = (2^(j/N) − h_j)/h_j and bits(h_j) − j·2^52/N, where h_j
/// is the double nearest 2^(j/N) (computed with 60-digit arithmetic, mpmath).
#[rustfmt::skip]
static EXP_TABLE: [u64; 2 * EXP_N] = [
    0x0000000000000000, 0x3ff0000000000000, 0x3c9b3b4f1a88bf6e, 0x3feff63da9fb3335,
    0xbc7160139cd8dc5d, 0x3fefec9a3e778061, 0xbc905e7a108766d1, 0x3fefe315e86e7f85,
    0x3c8cd2523567f613, 0x3fefd9b0d3158574, 0xbc8bce8023f98efa, 0x3fefd06b29ddf6de,
    0x3c60f74e61e6c861, 0x3fefc74518759bc8, 0x3c90a3e45b33d399, 0x3fefbe3ecac6f383,
    0x3c979aa65d837b6d, 0x3fefb5586cf9890f, 0x3c8eb51a92fdeffc, 0x3fefac922b7247f7,
    0x3c3ebe3d702f9cd1, 0x3fefa3ec32d3d1a2, 0xbc6a033489906e0b, 0x3fef9b66affed31b,
    0xbc9556522a2fbd0e, 0x3fef9301d0125b51, 0xbc5080ef8c4eea55, 0x3fef8abdc06c31cc,
    0xbc91c923b9d5f416, 0x3fef829aaea92de0, 0x3c80d3e3e95c55af, 0x3fef7a98c8a58e51,
    0xbc801b15eaa59348, 0x3fef72b83c7d517b, 0xbc8f1ff055de323d, 0x3fef6af9388c8dea,
    0x3c8b898c3f1353bf, 0x3fef635beb6fcb75, 0xbc96d99c7611eb26, 0x3fef5be084045cd4,
    0x3c9aecf73e3a2f60, 0x3fef54873168b9aa, 0xbc8fe782cb86389d, 0x3fef4d5022fcd91d,
    0x3c8a6f4144a6c38d, 0x3fef463b88628cd6, 0x3c807a05b0e4047d, 0x3fef3f49917ddc96,
    0x3c968efde3a8a894, 0x3fef387a6e756238, 0x3c875e18f274487d, 0x3fef31ce4fb2a63f,
    0x3c80472b981fe7f2, 0x3fef2b4565e27cdd, 0xbc96b87b3f71085e, 0x3fef24dfe1f56381,
    0x3c82f7e16d09ab31, 0x3fef1e9df51fdee1, 0xbc3d219b1a6fbffa, 0x3fef187fd0dad990,
    0x3c8b3782720c0ab4, 0x3fef1285a6e4030b, 0x3c6e149289cecb8f, 0x3fef0cafa93e2f56,
    0x3c834d754db0abb6, 0x3fef06fe0a31b715, 0x3c864201e2ac744c, 0x3fef0170fc4cd831,
    0x3c8fdd395dd3f84a, 0x3feefc08b26416ff, 0xbc86a3803b8e5b04, 0x3feef6c55f929ff1,
    0xbc924aedcc4b5068, 0x3feef1a7373aa9cb, 0xbc9907f81b512d8e, 0x3feeecae6d05d866,
    0xbc71d1e83e9436d2, 0x3feee7db34e59ff7, 0xbc991919b3ce1b15, 0x3feee32dc313a8e5,
    0x3c859f48a72a4c6d, 0x3feedea64c123422, 0xbc9312607a28698a, 0x3feeda4504ac801c,
    0xbc58a78f4817895b, 0x3feed60a21f72e2a, 0xbc7c2c9b67499a1b, 0x3feed1f5d950a897,
    0x3c4363ed60c2ac11, 0x3feece086061892d, 0x3c9666093b0664ef, 0x3feeca41ed1d0057,
    0x3c6ecce1daa10379, 0x3feec6a2b5c13cd0, 0x3c93ff8e3f0f1230, 0x3feec32af0d7d3de,
    0x3c7690cebb7aafb0, 0x3feebfdad5362a27, 0x3c931dbdeb54e077, 0x3feebcb299fddd0d,
    0xbc8f94340071a38e, 0x3feeb9b2769d2ca7, 0xbc87deccdc93a349, 0x3feeb6daa2cf6642,
    0xbc78dec6bd0f385f, 0x3feeb42b569d4f82, 0xbc861246ec7b5cf6, 0x3feeb1a4ca5d920f,
    0x3c93350518fdd78e, 0x3feeaf4736b527da, 0x3c7b98b72f8a9b05, 0x3feead12d497c7fd,
    0x3c9063e1e21c5409, 0x3feeab07dd485429, 0x3c34c7855019c6ea, 0x3feea9268a5946b7,
    0x3c9432e62b64c035, 0x3feea76f15ad2148, 0xbc8ce44a6199769f, 0x3feea5e1b976dc09,
    0xbc8c33c53bef4da8, 0x3feea47eb03a5585, 0xbc845378892be9ae, 0x3feea34634ccc320,
    0xbc93cedd78565858, 0x3feea23882552225, 0x3c5710aa807e1964, 0x3feea155d44ca973,
    0xbc93b3efbf5e2228, 0x3feea09e667f3bcd, 0xbc6a12ad8734b982, 0x3feea012750bdabf,
    0xbc6367efb86da9ee, 0x3fee9fb23c651a2f, 0xbc80dc3d54e08851, 0x3fee9f7df9519484,
    0xbc781f647e5a3ecf, 0x3fee9f75e8ec5f74, 0xbc86ee4ac08b7db0, 0x3fee9f9a48a58174,
    0xbc8619321e55e68a, 0x3fee9feb564267c9, 0x3c909ccb5e09d4d3, 0x3feea0694fde5d3f,
    0xbc7b32dcb94da51d, 0x3feea11473eb0187, 0x3c94ecfd5467c06b, 0x3feea1ed0130c132,
    0x3c65ebe1abd66c55, 0x3feea2f336cf4e62, 0xbc88a1c52fb3cf42, 0x3feea427543e1a12,
    0xbc9369b6f13b3734, 0x3feea589994cce13, 0xbc805e843a19ff1e, 0x3feea71a4623c7ad,
    0xbc94d450d872576e, 0x3feea8d99b4492ed, 0x3c90ad675b0e8a00, 0x3feeaac7d98a6699,
    0x3c8db72fc1f0eab4, 0x3feeace5422aa0db, 0xbc65b6609cc5e7ff, 0x3feeaf3216b5448c,
    0x3c7bf68359f35f44, 0x3feeb1ae99157736, 0xbc93091fa71e3d83, 0x3feeb45b0b91ffc6,
    0xbc5da9b88b6c1e29, 0x3feeb737b0cdc5e5, 0xbc6c23f97c90b959, 0x3feeba44cbc8520f,
    0xbc92434322f4f9aa, 0x3feebd829fde4e50, 0xbc85ca6cd7668e4b, 0x3feec0f170ca07ba,
    0x3c71affc2b91ce27, 0x3feec49182a3f090, 0x3c6dd235e10a73bb, 0x3feec86319e32323,
    0xbc87c50422622263, 0x3feecc667b5de565, 0x3c8b1c86e3e231d5, 0x3feed09bec4a2d33,
    0xbc91bbd1d3bcbb15, 0x3feed503b23e255d, 0x3c90cc319cee31d2, 0x3feed99e1330b358,
    0x3c8469846e735ab3, 0x3feede6b5579fdbf, 0xbc82dfcd978e9db4, 0x3feee36bbfd3f37a,
    0x3c8c1a7792cb3387, 0x3feee89f995ad3ad, 0xbc907b8f4ad1d9fa, 0x3feeee07298db666,
    0xbc55c3d956dcaeba, 0x3feef3a2b84f15fb, 0xbc90a40e3da6f640, 0x3feef9728de5593a,
    0xbc68d6f438ad9334, 0x3feeff76f2fb5e47, 0xbc91eee26b588a35, 0x3fef05b030a1064a,
    0x3c74ffd70a5fddcd, 0x3fef0c1e904bc1d2, 0xbc91bdfbfa9298ac, 0x3fef12c25bd71e09,
    0x3c736eae30af0cb3, 0x3fef199bdd85529c, 0x3c8ee3325c9ffd94, 0x3fef20ab5fffd07a,
    0x3c84e08fd10959ac, 0x3fef27f12e57d14b, 0x3c63cdaf384e1a67, 0x3fef2f6d9406e7b5,
    0x3c676b2c6c921968, 0x3fef3720dcef9069, 0xbc808a1883ccb5d2, 0x3fef3f0b555dc3fa,
    0xbc8fad5d3ffffa6f, 0x3fef472d4a07897c, 0xbc900dae3875a949, 0x3fef4f87080d89f2,
    0x3c74a385a63d07a7, 0x3fef5818dcfba487, 0xbc82919e2040220f, 0x3fef60e316c98398,
    0x3c8e5a50d5c192ac, 0x3fef69e603db3285, 0x3c843a59ac016b4b, 0x3fef7321f301b460,
    0xbc82d52107b43e1f, 0x3fef7c97337b9b5f, 0xbc892ab93b470dc9, 0x3fef864614f5a129,
    0x3c74b604603a88d3, 0x3fef902ee78b3ff6, 0x3c83c5ec519d7271, 0x3fef9a51fbc74c83,
    0xbc8ff7128fd391f0, 0x3fefa4afa2a490da, 0xbc8dae98e223747d, 0x3fefaf482d8e67f1,
    0x3c8ec3bc41aa2008, 0x3fefba1bee615a27, 0x3c842b94c3a9eb32, 0x3fefc52b376bba97,
    0x3c8a64a931d185ee, 0x3fefd0765b6e4540, 0xbc8e37bae43be3ed, 0x3fefdbfdad9cbe14,
    0x3c77893b4d91cd9d, 0x3fefe7c1819e90d8, 0x3c5305c14160cc89, 0x3feff3c22b8f71f1,
];

#[cfg(test)]
mod tests {
    use super::*;

    /// Distance in ulps between two finite doubles of the same sign.
    fn ulps(a: f64, b: f64) -> u64 {
        (a.to_bits() as i64 - b.to_bits() as i64).unsigned_abs()
    }

    /// Compares `ours` with `libm` at the points `at(t)` gives for t in [0, 1] (two million
    /// steps, each giving several points): asserts at most one ulp apart everywhere and
    /// different bits on under 1 % of them.
    fn sweep<const K: usize>(ours: fn(f64) -> f64, libm: fn(f64) -> f64, at: fn(f64) -> [f64; K]) {
        let (mut worst, mut differ, mut total) = ((0u64, 0.0f64), 0u32, 0u32);
        let n = 2_000_000;
        for i in 0..=n {
            for x in at(f64::from(i) / f64::from(n)) {
                let d = ulps(ours(x), libm(x));
                if d > worst.0 {
                    worst = (d, x);
                }
                differ += u32::from(d != 0);
                total += 1;
            }
        }
        assert!(worst.0 <= 1, "{} ulps at {:e}", worst.0, worst.1);
        // The same algorithms as glibc's: nearly always the same bits (under 0.1 % differ).
        assert!(differ < total / 100, "{differ} of {total} differ");
    }

    #[test]
    fn exp_is_within_one_ulp_of_libm() {
        // The whole finite range, dense near 0 where the sigmoid lives.
        sweep(exp, f64::exp, |t| {
            [
                -745.2 + t * (709.8 + 745.2),
                -40.0 + t * 80.0,
                -1.0 + t * 2.0,
                (t - 0.5) * 1e-6,
            ]
        });
    }

    #[test]
    fn one_plus_exp_neg_is_one_plus_exp() {
        for i in -100_000..=100_000 {
            let x = f64::from(i) * 1e-3;
            assert_eq!(one_plus_exp_neg(x), 1.0 + exp(-x), "{x}");
        }
        for x in [
            -800.0, -710.0, -709.7, -700.0, 36.0, 37.0, 40.0, 41.0, 1e300,
        ] {
            assert_eq!(one_plus_exp_neg(x), 1.0 + exp(-x), "{x}");
        }
    }

    #[test]
    fn exp_table_holds_powers_of_two() {
        for j in 0..EXP_N {
            let h = f64::from_bits(EXP_TABLE[2 * j + 1] + ((j as u64) << 45));
            let t = f64::from_bits(EXP_TABLE[2 * j]);
            let want = (j as f64 / EXP_N as f64).exp2();
            assert!(ulps(h, want) <= 1, "2^({j}/N): {h:e} vs {want:e}");
            assert!(t.abs() <= f64::EPSILON / 2.0, "tail {j}: {t:e}");
        }
    }

    #[test]
    fn exp_extremes_match_libm() {
        let xs = [
            0.0,
            -0.0,
            1.0,
            -1.0,
            1e-300,
            -1e-300,
            5e-324,
            f64::EPSILON,
            709.0,
            709.78,
            709.782712893384,
            709.7827128933841,
            710.0,
            1e3,
            1e300,
            f64::MAX,
            f64::INFINITY,
            -700.0,
            -708.3964185322641,
            -708.4,
            -720.0,
            -744.44,
            -745.0,
            -745.1332191019411,
            -745.1332191019412,
            -745.2,
            -750.0,
            -1e300,
            f64::MIN,
            f64::NEG_INFINITY,
        ];
        for x in xs {
            let (got, want) = (exp(x), x.exp());
            assert!(ulps(got, want) <= 1, "exp({x:e}) = {got:e}, libm {want:e}");
            if want == 0.0 || want.is_infinite() {
                assert_eq!(got, want, "exp({x:e})");
            }
        }
        assert_eq!(exp(0.0), 1.0);
        assert!(exp(f64::NAN).is_nan());
        assert!(exp(-f64::NAN).is_nan());
    }

    #[test]
    fn exp2_is_within_one_ulp_of_libm() {
        // The whole range, dense where AfterImage's decay factors live (−λ·Δt).
        sweep(exp2, f64::exp2, |t| {
            [
                -1074.5 + t * (1023.9 + 1074.5),
                -60.0 * t,
                -1e-3 * t,
                (t - 0.5) * 1e-9,
            ]
        });
    }

    #[test]
    fn exp2_extremes_match_libm() {
        let xs = [
            0.0,
            -0.0,
            1.0,
            -1.0,
            0.5,
            -1.0 / 128.0,
            1e-300,
            -1e-300,
            5e-324,
            1023.0,
            1023.999,
            1024.0,
            1024.4,
            1025.0,
            1e300,
            f64::MAX,
            f64::INFINITY,
            -1022.0,
            -1022.5,
            -1050.0,
            -1074.0,
            -1074.5,
            -1075.0,
            -1076.0,
            -1080.0,
            -2000.0,
            -1e300,
            f64::MIN,
            f64::NEG_INFINITY,
        ];
        for x in xs {
            let (got, want) = (exp2(x), x.exp2());
            assert!(ulps(got, want) <= 1, "exp2({x:e}) = {got:e}, libm {want:e}");
            if want == 0.0 || want.is_infinite() || x.fract() == 0.0 {
                assert_eq!(got, want, "exp2({x:e})");
            }
        }
        assert!(exp2(f64::NAN).is_nan());
        assert!(exp2(-f64::NAN).is_nan());
    }
}
