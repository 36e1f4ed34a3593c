//! KitNET's autoencoder (Kitsune-py `dA`): tied weights, sigmoid units, min–max normalisation
//! learned while training, plain stochastic gradient descent.

use crate::mt19937::Mt19937;
use crate::numeric::{numpy_sum, sigmoid, sigmoid_denominator};
use serde::{Deserialize, Serialize};

/// One autoencoder.
///
/// [`Autoencoder::execute`] works from a copy of the parameters laid out for it, made on its
/// first call after [`Autoencoder::train`] (or after deserialisation): parameters changed by
/// hand rather than by `train` are not seen until the next training step.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Autoencoder {
    /// Visible units.
    pub n_visible: usize,
    /// Hidden units (`ceil(n_visible · hidden_ratio)`).
    pub n_hidden: usize,
    /// Learning rate.
    pub lr: f64,
    /// Weights, row-major `n_visible × n_hidden`; the decoder uses the transpose.
    pub w: Vec<f64>,
    /// Hidden biases.
    pub hbias: Vec<f64>,
    /// Visible biases.
    pub vbias: Vec<f64>,
    /// Per-input maxima seen while training.
    pub norm_max: Vec<f64>,
    /// Per-input minima seen while training.
    pub norm_min: Vec<f64>,
    /// Training instances seen.
    pub trained: u64,
    #[serde(skip)]
    scratch: Scratch,
    #[serde(skip)]
    frozen: Frozen,
}

/// Working vectors, padded to an even length (the padding lanes are computed and ignored).
#[derive(Clone, Debug, Default, PartialEq)]
struct Scratch {
    x: Vec<f64>,
    y: Vec<f64>,
    z: Vec<f64>,
    err: Vec<f64>,
    l_h1: Vec<f64>,
}

/// The parameters laid out for [`Autoencoder::execute`], copied from the trained ones: W
/// (for the encoder) and Wᵀ (for the decoder) as column panels (see [`panels`]), biases
/// padded, normalisation denominators precomputed.
///
/// Rebuilt by the first `execute` after any `train` (keyed on [`Autoencoder::trained`]) and
/// after deserialisation (it is not serialised).
#[derive(Clone, Debug, Default, PartialEq)]
struct Frozen {
    /// `trained` when built.
    built_at: Option<u64>,
    enc: Vec<f64>,
    dec: Vec<f64>,
    hbias: Vec<f64>,
    vbias: Vec<f64>,
    norm_min: Vec<f64>,
    /// `norm_max − norm_min + ε`, as `normalise` computes it.
    den: Vec<f64>,
}

/// Kitsune-py's normalisation epsilon (`0.0000000000000001`).
pub(crate) const NORM_EPS: f64 = 1e-16;

/// `n` rounded up to an even number.
pub(crate) fn even(n: usize) -> usize {
    n + (n & 1)
}

/// Widths of the column groups of [`panels`], widest first.
const PANEL_WIDTHS: [usize; 3] = [8, 4, 2];

/// The `rows × cols` matrix `at(r, c)` as column panels for [`gemv`]: columns in groups of
/// eight, then four, then two (the widest that fits what is left of `cols` rounded up to
/// even), each group stored row by row; columns past `cols` are zero.
pub(crate) fn panels(rows: usize, cols: usize, at: impl Fn(usize, usize) -> f64) -> Vec<f64> {
    let padded = even(cols);
    let mut out = Vec::with_capacity(rows * padded);
    let mut c0 = 0;
    while c0 < padded {
        let width = PANEL_WIDTHS
            .into_iter()
            .find(|w| padded - c0 >= *w)
            .unwrap_or(2);
        for r in 0..rows {
            for c in c0..c0 + width {
                out.push(if c < cols { at(r, c) } else { 0.0 });
            }
        }
        c0 += width;
    }
    out
}

/// `out[c] = Σ_r v[r]·M[r][c]` for the matrix `M` stored by [`panels`] (`out.len()` its padded
/// column count): each sum starts from 0.0 and adds its terms in increasing `r`, as a sequential
/// dot product does; the vectorisation runs across columns (independent sums), never within one.
/// A group of eight columns shares each broadcast of `v[r]` between two AVX2 registers: 8 %
/// fewer of KitNET's scoring instructions than groups of four, the same sums.
#[inline(always)]
pub(crate) fn gemv(v: &[f64], m: &[f64], out: &mut [f64]) {
    let mut m = m;
    let mut out = out;
    while out.len() >= 8 {
        let (o, rest) = std::mem::take(&mut out).split_at_mut(8);
        out = rest;
        m = panel::<8>(v, m, o);
    }
    if out.len() >= 4 {
        let (o, rest) = std::mem::take(&mut out).split_at_mut(4);
        out = rest;
        m = panel::<4>(v, m, o);
    }
    if out.len() == 2 {
        panel::<2>(v, m, out);
    }
}

/// One group of `W` columns of [`gemv`] into `out`; returns the panels after it.
#[inline(always)]
fn panel<'m, const W: usize>(v: &[f64], m: &'m [f64], out: &mut [f64]) -> &'m [f64] {
    let (p, rest) = m.split_at(W * v.len());
    let mut a = [0.0f64; W];
    for (vi, w) in v.iter().zip(p.chunks_exact(W)) {
        for (a, w) in a.iter_mut().zip(w) {
            *a += vi * w;
        }
    }
    out.copy_from_slice(&a);
    rest
}

/// `a[i] = sigmoid(a[i] + b[i])`, four at a time (one AVX2 register, or two SSE2 ones), then
/// two, then a last odd one: element-wise, so the grouping changes no bit.
#[inline(always)]
pub(crate) fn sigmoid_plus(a: &mut [f64], b: &[f64]) {
    let mut quads = a.chunks_exact_mut(4);
    let mut bq = b.chunks_exact(4);
    for (a, b) in (&mut quads).zip(&mut bq) {
        let d = [
            sigmoid_denominator(a[0] + b[0]),
            sigmoid_denominator(a[1] + b[1]),
            sigmoid_denominator(a[2] + b[2]),
            sigmoid_denominator(a[3] + b[3]),
        ];
        a[0] = 1.0 / d[0];
        a[1] = 1.0 / d[1];
        a[2] = 1.0 / d[2];
        a[3] = 1.0 / d[3];
    }
    let a = quads.into_remainder();
    let b = bq.remainder();
    let mut pairs = a.chunks_exact_mut(2);
    let mut bs = b.chunks_exact(2);
    for (a, b) in (&mut pairs).zip(&mut bs) {
        let d = [
            sigmoid_denominator(a[0] + b[0]),
            sigmoid_denominator(a[1] + b[1]),
        ];
        a[0] = 1.0 / d[0];
        a[1] = 1.0 / d[1];
    }
    if let ([a], [b, ..]) = (pairs.into_remainder(), bs.remainder()) {
        *a = sigmoid(*a + b);
    }
}

impl Autoencoder {
    /// A fresh autoencoder, weights drawn as `RandomState(1234).uniform(-1/n, 1/n, (n, h))`.
    pub fn new(n_visible: usize, hidden_ratio: f64, lr: f64) -> Self {
        let n_hidden = (n_visible as f64 * hidden_ratio).ceil() as usize;
        let mut rng = Mt19937::new(1234);
        let a = 1.0 / n_visible as f64;
        let w = (0..n_visible * n_hidden)
            .map(|_| rng.uniform(-a, a))
            .collect();
        Autoencoder {
            n_visible,
            n_hidden,
            lr,
            w,
            hbias: vec![0.0; n_hidden],
            vbias: vec![0.0; n_visible],
            norm_max: vec![f64::NEG_INFINITY; n_visible],
            norm_min: vec![f64::INFINITY; n_visible],
            trained: 0,
            scratch: Scratch::default(),
            frozen: Frozen::default(),
        }
    }

    fn ensure_scratch(&mut self) {
        let (n, h) = (even(self.n_visible), even(self.n_hidden));
        let s = &mut self.scratch;
        if s.x.len() != n || s.y.len() != h {
            s.x = vec![0.0; n];
            s.z = vec![0.0; n];
            s.err = vec![0.0; n];
            s.y = vec![0.0; h];
            s.l_h1 = vec![0.0; h];
        }
    }

    /// Builds [`Frozen`] from the current parameters unless it is up to date.
    #[inline(always)]
    fn freeze(&mut self) {
        if self.frozen.built_at != Some(self.trained) {
            self.build_frozen();
        }
    }

    #[cold]
    #[inline(never)]
    fn build_frozen(&mut self) {
        self.ensure_scratch();
        let (n, h) = (self.n_visible, self.n_hidden);
        let w = &self.w;
        let pad = |v: &[f64], len: usize| {
            let mut v = v.to_vec();
            v.resize(len, 0.0);
            v
        };
        self.frozen = Frozen {
            built_at: Some(self.trained),
            enc: panels(n, h, |i, j| w[i * h + j]),
            dec: panels(h, n, |j, i| w[i * h + j]),
            hbias: pad(&self.hbias, even(h)),
            vbias: pad(&self.vbias, even(n)),
            norm_min: self.norm_min.clone(),
            den: self
                .norm_max
                .iter()
                .zip(&self.norm_min)
                .map(|(max, min)| max - min + NORM_EPS)
                .collect(),
        };
    }

    fn normalise(&mut self, input: &[f64]) {
        let x = &mut self.scratch.x[..self.n_visible];
        for (((x, v), max), min) in x
            .iter_mut()
            .zip(input)
            .zip(&self.norm_max)
            .zip(&self.norm_min)
        {
            *x = (v - min) / (max - min + NORM_EPS);
        }
    }

    /// y = sigmoid(x·W + hbias); z = sigmoid(y·Wᵀ + vbias); err = x − z.
    ///
    /// Each sum runs over its index in increasing order, as a sequential dot product would;
    /// the encoder walks W row by row (contiguous) with one accumulator per hidden unit, which
    /// adds the same terms in the same order as a column walk. [`Autoencoder::execute`] computes
    /// the same sums in the same order from [`Frozen`], so both give the same bits.
    fn forward(&mut self) {
        let (n, h) = (self.n_visible, self.n_hidden);
        let s = &mut self.scratch;
        let (x, y, z, err) = (&s.x[..n], &mut s.y[..h], &mut s.z[..n], &mut s.err[..n]);
        y.fill(0.0);
        for (xi, row) in x.iter().zip(self.w.chunks_exact(h)) {
            for (acc, w) in y.iter_mut().zip(row) {
                *acc += xi * w;
            }
        }
        sigmoid_plus(y, &self.hbias);
        for (z, row) in z.iter_mut().zip(self.w.chunks_exact(h)) {
            let mut acc = 0.0;
            for (y, w) in y.iter().zip(row) {
                acc += y * w;
            }
            *z = acc;
        }
        sigmoid_plus(z, &self.vbias);
        for ((e, x), z) in err.iter_mut().zip(x).zip(z.iter()) {
            *e = x - z;
        }
    }

    /// One training step on `input` (`dA.train`); returns the training RMSE.
    pub fn train(&mut self, input: &[f64]) -> f64 {
        self.ensure_scratch();
        self.trained += 1;
        let input = &input[..self.n_visible];
        for ((v, max), min) in input.iter().zip(&mut self.norm_max).zip(&mut self.norm_min) {
            if v > max {
                *max = *v;
            }
            if v < min {
                *min = *v;
            }
        }
        self.normalise(input);
        self.forward();
        let (n, h) = (self.n_visible, self.n_hidden);
        let s = &mut self.scratch;
        let (x, y, err, l_h1) = (&s.x[..n], &s.y[..h], &s.err[..n], &mut s.l_h1[..h]);
        // L_h1 = (L_h2 · W) * y * (1 - y); each sum over i in increasing order, W walked row by
        // row with one accumulator per hidden unit.
        l_h1.fill(0.0);
        for (e, row) in err.iter().zip(self.w.chunks_exact(h)) {
            for (acc, w) in l_h1.iter_mut().zip(row) {
                *acc += e * w;
            }
        }
        for (l, y) in l_h1.iter_mut().zip(y) {
            *l = *l * y * (1.0 - y);
        }
        // W += lr * (outer(x, L_h1) + outer(L_h2, y)); biases likewise.
        let lr = self.lr;
        for ((xi, e), row) in x.iter().zip(err).zip(self.w.chunks_exact_mut(h)) {
            for ((w, l), y) in row.iter_mut().zip(&*l_h1).zip(y) {
                *w += lr * (xi * l + e * y);
            }
        }
        for (b, l) in self.hbias.iter_mut().zip(&*l_h1) {
            *b += lr * l;
        }
        for (b, e) in self.vbias.iter_mut().zip(err) {
            *b += lr * e;
        }
        rmse(&mut s.err[..n])
    }

    /// Reconstruction RMSE of `input` without learning (`dA.execute`).
    pub fn execute(&mut self, input: &[f64]) -> f64 {
        self.execute_inlined(input)
    }

    /// [`Autoencoder::execute`], inlined where KitNET runs it (see `KitNet::execute`).
    #[inline(always)]
    pub(crate) fn execute_inlined(&mut self, input: &[f64]) -> f64 {
        self.load(|i| input[i]);
        self.encode();
        self.activate_hidden();
        self.decode();
        self.activate_output();
        self.reconstruction_error()
    }

    // `execute` in steps. Together they compute what `normalise` and `forward` do, in the
    // same order, from `Frozen`: the same bits. They are taken in order, `load` first (it
    // brings `Frozen` up to date). KitNET's ensemble takes the same steps over all its
    // members at once (`crate::ensemble`).

    /// Execute, step 1: normalises input `i` (`input(i)`) into `x`.
    #[inline(always)]
    fn load(&mut self, input: impl Fn(usize) -> f64) {
        self.freeze();
        let n = self.n_visible;
        let f = &self.frozen;
        let s = &mut self.scratch;
        let x = &mut s.x[..n];
        for (i, ((x, min), den)) in x.iter_mut().zip(&f.norm_min).zip(&f.den).enumerate() {
            *x = (input(i) - min) / den;
        }
    }

    /// Execute, step 2: y = x·W.
    #[inline(always)]
    fn encode(&mut self) {
        let s = &mut self.scratch;
        gemv(&s.x[..self.n_visible], &self.frozen.enc, &mut s.y);
    }

    /// Execute, step 3: y = sigmoid(y + hbias).
    #[inline(always)]
    fn activate_hidden(&mut self) {
        sigmoid_plus(&mut self.scratch.y, &self.frozen.hbias);
    }

    /// Execute, step 4: z = y·Wᵀ.
    #[inline(always)]
    fn decode(&mut self) {
        let s = &mut self.scratch;
        gemv(&s.y[..self.n_hidden], &self.frozen.dec, &mut s.z);
    }

    /// Execute, step 5: z = sigmoid(z + vbias).
    #[inline(always)]
    fn activate_output(&mut self) {
        sigmoid_plus(&mut self.scratch.z, &self.frozen.vbias);
    }

    /// Execute, step 6: the RMSE of x − z.
    #[inline(always)]
    fn reconstruction_error(&mut self) -> f64 {
        let n = self.n_visible;
        let s = &mut self.scratch;
        let err = &mut s.err[..n];
        for ((e, x), z) in err.iter_mut().zip(&s.x[..n]).zip(&s.z) {
            *e = x - z;
        }
        rmse(err)
    }

    /// Squared reconstruction errors of the last `train`/`execute` call, per input.
    pub fn last_errors(&self) -> impl Iterator<Item = f64> + '_ {
        self.scratch
            .x
            .iter()
            .take(self.n_visible)
            .zip(&self.scratch.z)
            .map(|(x, z)| (x - z) * (x - z))
    }
}

/// sqrt(mean(err²)); squares `err` in place (numpy evaluates `L_h2**2` into a temporary that
/// is not used again either).
#[inline(always)]
pub(crate) fn rmse(err: &mut [f64]) -> f64 {
    ((0.0 + sum_of_squares(err)) / err.len() as f64).sqrt()
}

/// numpy's pairwise sum of err² (what [`rmse`] takes the mean of); squares `err` in place.
#[inline(always)]
pub(crate) fn sum_of_squares(err: &mut [f64]) -> f64 {
    for e in err.iter_mut() {
        *e *= *e;
    }
    numpy_sum(err)
}

#[cfg(test)]
mod test {
    use super::*;

    /// `dA.execute` as written: every sum from 0.0 in index order, one value at a time.
    fn textbook_execute(ae: &Autoencoder, input: &[f64]) -> f64 {
        let (n, h) = (ae.n_visible, ae.n_hidden);
        let x: Vec<f64> = (0..n)
            .map(|i| (input[i] - ae.norm_min[i]) / (ae.norm_max[i] - ae.norm_min[i] + NORM_EPS))
            .collect();
        let y: Vec<f64> = (0..h)
            .map(|j| {
                let mut acc = 0.0;
                for i in 0..n {
                    acc += x[i] * ae.w[i * h + j];
                }
                sigmoid(acc + ae.hbias[j])
            })
            .collect();
        let mut err: Vec<f64> = (0..n)
            .map(|i| {
                let mut acc = 0.0;
                for j in 0..h {
                    acc += y[j] * ae.w[i * h + j];
                }
                x[i] - sigmoid(acc + ae.vbias[i])
            })
            .collect();
        rmse(&mut err)
    }

    fn sample(n: usize, t: usize) -> Vec<f64> {
        (0..n)
            .map(|i| ((t * 7 + i * 13) % 17) as f64 * 0.37 - 2.0 + (i as f64).sqrt() * 0.1)
            .collect()
    }

    #[test]
    fn execute_gives_the_textbook_bits_and_follows_training() {
        for n in 1..=15 {
            let mut ae = Autoencoder::new(n, 0.75, 0.1);
            for t in 0..30 {
                ae.train(&sample(n, t));
            }
            for t in 0..10 {
                let x = sample(n, 100 + t);
                assert_eq!(ae.execute(&x), textbook_execute(&ae, &x), "n = {n}");
            }
            let errors: Vec<f64> = ae.last_errors().collect();
            assert_eq!(errors.len(), n);
            // Training again must reach execute (the frozen copy is rebuilt).
            for t in 0..5 {
                ae.train(&sample(n, 200 + t));
            }
            let x = sample(n, 300);
            assert_eq!(ae.execute(&x), textbook_execute(&ae, &x), "n = {n}");
            // As after loading a model: nothing cached.
            let mut loaded: Autoencoder =
                serde_json::from_str(&serde_json::to_string(&ae).unwrap()).unwrap();
            assert_eq!(loaded.execute(&x), textbook_execute(&ae, &x), "n = {n}");
            let idx: Vec<usize> = (0..n).rev().collect();
            let wide: Vec<f64> = x.iter().rev().copied().collect();
            loaded.load(|i| wide[idx[i]]);
            loaded.encode();
            loaded.activate_hidden();
            loaded.decode();
            loaded.activate_output();
            assert_eq!(loaded.reconstruction_error(), ae.execute(&x), "n = {n}");
        }
    }

    #[test]
    fn weights_match_numpy_random_state_1234() {
        // numpy: RandomState(1234).uniform(-1/2, 1/2, (2, 2)) for n_visible = 2, ratio 0.75.
        let ae = Autoencoder::new(2, 0.75, 0.1);
        assert_eq!(ae.n_hidden, 2);
        let mut rng = Mt19937::new(1234);
        let want: Vec<f64> = (0..4).map(|_| rng.uniform(-0.5, 0.5)).collect();
        assert_eq!(ae.w, want);
        assert_eq!(
            ae.w,
            vec![
                -0.3084805496211077,
                0.12210877103983186,
                -0.06227226099288552,
                0.2853585837137692
            ]
        );
    }

    #[test]
    fn training_reduces_reconstruction_error() {
        let mut ae = Autoencoder::new(4, 0.75, 0.1);
        let samples: Vec<[f64; 4]> = (0..200)
            .map(|i| {
                let t = f64::from(i % 10);
                [t, 2.0 * t, 10.0 - t, 5.0]
            })
            .collect();
        let first = ae.train(&samples[0]);
        let mut last = first;
        for _ in 0..20 {
            for s in &samples {
                last = ae.train(s);
            }
        }
        assert!(ae.execute(&samples[3]) < 0.5);
        assert!(last.is_finite());
    }
}
