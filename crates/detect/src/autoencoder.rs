//! KitNET's autoencoder (Kitsune-py `dA`): tied weights, sigmoid units, min–max normalisation
//! learned while training, plain stochastic gradient descent.

use crate::mt19937::Mt19937;
use crate::numeric::{numpy_mean, sigmoid};
use serde::{Deserialize, Serialize};

/// One autoencoder.
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
}

#[derive(Clone, Debug, Default, PartialEq)]
struct Scratch {
    x: Vec<f64>,
    y: Vec<f64>,
    z: Vec<f64>,
    err: Vec<f64>,
    l_h1: Vec<f64>,
}

/// Kitsune-py's normalisation epsilon (`0.0000000000000001`).
const NORM_EPS: f64 = 1e-16;

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
        }
    }

    fn ensure_scratch(&mut self) {
        let s = &mut self.scratch;
        if s.x.len() != self.n_visible || s.y.len() != self.n_hidden {
            s.x = vec![0.0; self.n_visible];
            s.z = vec![0.0; self.n_visible];
            s.err = vec![0.0; self.n_visible];
            s.y = vec![0.0; self.n_hidden];
            s.l_h1 = vec![0.0; self.n_hidden];
        }
    }

    fn normalise(&mut self, input: &[f64]) {
        for i in 0..self.n_visible {
            self.scratch.x[i] =
                (input[i] - self.norm_min[i]) / (self.norm_max[i] - self.norm_min[i] + NORM_EPS);
        }
    }

    /// y = sigmoid(x·W + hbias); z = sigmoid(y·Wᵀ + vbias); err = x − z.
    ///
    /// Each sum runs over its index in increasing order, as a sequential dot product would;
    /// the encoder walks W row by row (contiguous) with one accumulator per hidden unit, which
    /// adds the same terms in the same order as a column walk.
    fn forward(&mut self) {
        let h = self.n_hidden;
        let s = &mut self.scratch;
        s.y.fill(0.0);
        for (xi, row) in s.x.iter().zip(self.w.chunks_exact(h)) {
            for (acc, w) in s.y.iter_mut().zip(row) {
                *acc += xi * w;
            }
        }
        for (y, b) in s.y.iter_mut().zip(&self.hbias) {
            *y = sigmoid(*y + b);
        }
        for (((z, e), (x, row)), b) in
            s.z.iter_mut()
                .zip(s.err.iter_mut())
                .zip(s.x.iter().zip(self.w.chunks_exact(h)))
                .zip(&self.vbias)
        {
            let mut acc = 0.0;
            for (y, w) in s.y.iter().zip(row) {
                acc += y * w;
            }
            *z = sigmoid(acc + b);
            *e = x - *z;
        }
    }

    /// One training step on `input` (`dA.train`); returns the training RMSE.
    pub fn train(&mut self, input: &[f64]) -> f64 {
        self.ensure_scratch();
        self.trained += 1;
        for i in 0..self.n_visible {
            if input[i] > self.norm_max[i] {
                self.norm_max[i] = input[i];
            }
            if input[i] < self.norm_min[i] {
                self.norm_min[i] = input[i];
            }
        }
        self.normalise(input);
        self.forward();
        let (n, h) = (self.n_visible, self.n_hidden);
        let s = &mut self.scratch;
        // L_h1 = (L_h2 · W) * y * (1 - y)
        for j in 0..h {
            let mut acc = 0.0;
            for i in 0..n {
                acc += s.err[i] * self.w[i * h + j];
            }
            s.l_h1[j] = acc * s.y[j] * (1.0 - s.y[j]);
        }
        // W += lr * (outer(x, L_h1) + outer(L_h2, y)); biases likewise.
        for i in 0..n {
            for j in 0..h {
                let l_w = s.x[i] * s.l_h1[j] + s.err[i] * s.y[j];
                self.w[i * h + j] += self.lr * l_w;
            }
        }
        for j in 0..h {
            self.hbias[j] += self.lr * s.l_h1[j];
        }
        for i in 0..n {
            self.vbias[i] += self.lr * s.err[i];
        }
        rmse(&mut s.err)
    }

    /// Reconstruction RMSE of `input` without learning (`dA.execute`).
    pub fn execute(&mut self, input: &[f64]) -> f64 {
        self.ensure_scratch();
        self.normalise(input);
        self.forward();
        rmse(&mut self.scratch.err)
    }

    /// Squared reconstruction errors of the last `train`/`execute` call, per input.
    pub fn last_errors(&self) -> impl Iterator<Item = f64> + '_ {
        self.scratch
            .x
            .iter()
            .zip(&self.scratch.z)
            .map(|(x, z)| (x - z) * (x - z))
    }
}

/// sqrt(mean(err²)); squares `err` in place (numpy evaluates `L_h2**2` into a temporary that
/// is not used again either).
fn rmse(err: &mut [f64]) -> f64 {
    for e in err.iter_mut() {
        *e *= *e;
    }
    numpy_mean(err).sqrt()
}

#[cfg(test)]
mod test {
    use super::*;

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
