//! KitNET's ensemble laid out for scoring: every autoencoder's inputs, hidden units and
//! outputs side by side in one buffer each, so that normalising, both sigmoid layers and the
//! reconstruction errors run as one loop over the whole ensemble instead of one short loop
//! per autoencoder (15 autoencoders of 3 to 10 inputs cost a third more than 10 of 10 when
//! each had its own loops). Each value is computed by the same expression, each sum in the
//! same order, as [`Autoencoder::execute`]: the same bits.

use crate::autoencoder::{even, gemv, panels, sigmoid_plus, sum_of_squares, Autoencoder, NORM_EPS};

/// One autoencoder's place in the buffers and its weights as `gemv` reads them.
#[derive(Clone, Debug, Default, PartialEq)]
struct Member {
    /// Offset of its inputs (and outputs) in the visible buffers.
    visible: usize,
    /// Its inputs.
    n: usize,
    /// Offset of its hidden units in the hidden buffer.
    hidden: usize,
    /// Its hidden units.
    h: usize,
    /// W as column panels (encoder).
    enc: Vec<f64>,
    /// Wᵀ as column panels (decoder).
    dec: Vec<f64>,
}

/// The ensemble's parameters for scoring and its working buffers. Each member's segment is
/// padded to an even length; padding lanes are computed and never read.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Ensemble {
    /// `KitNet::layout_key` when built (`None`: never).
    pub(crate) built_at: Option<(u64, u64)>,
    members: Vec<Member>,
    /// Per visible slot: the feature it reads (0 for padding).
    gather: Vec<usize>,
    /// Per visible slot: the input's minimum and `max − min + ε` (0 and 1 for padding).
    min: Vec<f64>,
    den: Vec<f64>,
    hbias: Vec<f64>,
    vbias: Vec<f64>,
    /// Per member: its input count, as the divisor of its mean squared error.
    inputs: Vec<f64>,
    x: Vec<f64>,
    y: Vec<f64>,
    z: Vec<f64>,
    err: Vec<f64>,
}

impl Ensemble {
    /// The layout of `aes`, whose inputs are the features `map` names, as trained now.
    pub(crate) fn build(aes: &[Autoencoder], map: &[Vec<usize>], key: (u64, u64)) -> Self {
        let mut e = Ensemble {
            built_at: Some(key),
            ..Ensemble::default()
        };
        for (ae, features) in aes.iter().zip(map) {
            let (n, h) = (ae.n_visible, ae.n_hidden);
            let (vn, hn) = (even(n), even(h));
            let w = &ae.w;
            e.inputs.push(n as f64);
            e.members.push(Member {
                visible: e.gather.len(),
                n,
                hidden: e.hbias.len(),
                h,
                enc: panels(n, h, |i, j| w[i * h + j]),
                dec: panels(h, n, |j, i| w[i * h + j]),
            });
            for i in 0..vn {
                let real = i < n;
                e.gather.push(if real { features[i] } else { 0 });
                e.min.push(if real { ae.norm_min[i] } else { 0.0 });
                e.den.push(if real {
                    ae.norm_max[i] - ae.norm_min[i] + NORM_EPS
                } else {
                    1.0
                });
                e.vbias.push(if real { ae.vbias[i] } else { 0.0 });
            }
            e.hbias
                .extend((0..hn).map(|j| if j < h { ae.hbias[j] } else { 0.0 }));
        }
        e.x = vec![0.0; e.gather.len()];
        e.z = vec![0.0; e.gather.len()];
        e.err = vec![0.0; e.gather.len()];
        e.y = vec![0.0; e.hbias.len()];
        e
    }

    /// Each member's reconstruction RMSE of the features `input`, into `scores`.
    #[inline(always)]
    pub(crate) fn execute(&mut self, input: &[f64], scores: &mut [f64]) {
        // Gathered first, then normalised in a loop over contiguous buffers, which runs as
        // vector divisions (a scalar division per input was a tenth of KitNET's time).
        for (x, &f) in self.x.iter_mut().zip(&self.gather) {
            *x = input[f];
        }
        for ((x, min), den) in self.x.iter_mut().zip(&self.min).zip(&self.den) {
            *x = (*x - min) / den;
        }
        for m in &self.members {
            let out = &mut self.y[m.hidden..m.hidden + even(m.h)];
            gemv(&self.x[m.visible..m.visible + m.n], &m.enc, out);
        }
        sigmoid_plus(&mut self.y, &self.hbias);
        for m in &self.members {
            let out = &mut self.z[m.visible..m.visible + even(m.n)];
            gemv(&self.y[m.hidden..m.hidden + m.h], &m.dec, out);
        }
        sigmoid_plus(&mut self.z, &self.vbias);
        for ((e, x), z) in self.err.iter_mut().zip(&self.x).zip(&self.z) {
            *e = x - z;
        }
        // `rmse` of each member in three passes, each a loop the compiler vectorises where
        // it can: the sums of squares (numpy's pairwise sums), the divisions by the member's
        // input count, the square roots — the same operations as `rmse`, so the same bits.
        for (m, score) in self.members.iter().zip(scores.iter_mut()) {
            *score = 0.0 + sum_of_squares(&mut self.err[m.visible..m.visible + m.n]);
        }
        for (score, n) in scores.iter_mut().zip(&self.inputs) {
            *score /= n;
        }
        for score in scores.iter_mut().take(self.members.len()) {
            *score = score.sqrt();
        }
    }

    /// Squared reconstruction errors of member `a` in the last [`Ensemble::execute`], per
    /// input.
    pub(crate) fn last_errors(&self, a: usize) -> impl Iterator<Item = f64> + '_ {
        let m = self.members.get(a);
        let range = m.map_or(0..0, |m| m.visible..m.visible + m.n);
        self.x[range.clone()]
            .iter()
            .zip(&self.z[range])
            .map(|(x, z)| (x - z) * (x - z))
    }
}
