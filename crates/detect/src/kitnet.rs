//! KitNET (Mirsky et al., NDSS 2018; Kitsune-py `KitNET`): a feature mapper learned over the
//! first `fm_grace` instances, an ensemble of small autoencoders trained over the next
//! `ad_grace`, and an output autoencoder over the ensemble's reconstruction errors whose RMSE
//! is the anomaly score.

use crate::autoencoder::Autoencoder;
use crate::corclust::CorClust;
use crate::ensemble::Ensemble;
use serde::{Deserialize, Serialize};

/// KitNET's parameters.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct KitNetConfig {
    /// Largest autoencoder in the ensemble (Kitsune's `maxAE`, default 10).
    pub max_ae: usize,
    /// Instances used to learn the feature map (`FMgrace`, default 5000).
    pub fm_grace: u64,
    /// Instances used to train the autoencoders after the map (`ADgrace`, default 50000).
    pub ad_grace: u64,
    /// Learning rate (0.1).
    pub learning_rate: f64,
    /// Hidden units per visible unit (0.75).
    pub hidden_ratio: f64,
}

impl Default for KitNetConfig {
    fn default() -> Self {
        KitNetConfig {
            max_ae: 10,
            fm_grace: 1000,
            ad_grace: 10000,
            learning_rate: 0.1,
            hidden_ratio: 0.75,
        }
    }
}

/// What one call to [`KitNet::process`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Learning the feature map (score 0).
    FeatureMapping,
    /// Training the autoencoders (score 0).
    Training,
    /// Scoring.
    Executing,
}

/// The KitNET model and its state.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct KitNet {
    /// Parameters.
    pub config: KitNetConfig,
    /// Number of input features.
    pub n: usize,
    /// The feature map: for each ensemble autoencoder, its feature indices in order.
    pub map: Vec<Vec<usize>>,
    /// Ensemble autoencoders.
    pub ensemble: Vec<Autoencoder>,
    /// The output autoencoder.
    pub output: Option<Autoencoder>,
    /// Instances trained on (Kitsune-py `n_trained`).
    pub trained: u64,
    /// Instances executed.
    pub executed: u64,
    /// Largest reconstruction error of the output autoencoder while training (the paper's φ).
    pub max_train_score: f64,
    #[serde(skip)]
    fm: Option<CorClust>,
    #[serde(skip)]
    sub: Vec<f64>,
    #[serde(skip)]
    scores: Vec<f64>,
    /// The ensemble laid out for scoring, rebuilt at the first execution after any training
    /// (see [`KitNet::layout_key`]; parameters changed by hand are not seen until then).
    #[serde(skip)]
    packed: Ensemble,
    /// The last instance was executed (not trained on).
    #[serde(skip)]
    executed_last: bool,
}

impl KitNet {
    /// An untrained KitNET for `n` features.
    pub fn new(n: usize, config: KitNetConfig) -> Self {
        KitNet {
            config,
            n,
            map: Vec::new(),
            ensemble: Vec::new(),
            output: None,
            trained: 0,
            executed: 0,
            max_train_score: 0.0,
            fm: Some(CorClust::new(n)),
            sub: Vec::with_capacity(n),
            scores: Vec::new(),
            packed: Ensemble::default(),
            executed_last: false,
        }
    }

    /// True once both grace periods are over and scores are produced.
    pub fn is_trained(&self) -> bool {
        self.trained > self.config.fm_grace + self.config.ad_grace
    }

    /// Trains during the grace periods (returning 0) and scores afterwards
    /// (Kitsune-py `KitNET.process`).
    pub fn process(&mut self, x: &[f64]) -> (f64, Phase) {
        if self.is_trained() {
            (self.execute(x), Phase::Executing)
        } else {
            let phase = self.train(x);
            (0.0, phase)
        }
    }

    /// One training step (Kitsune-py `KitNET.train`); returns the phase it served.
    pub fn train(&mut self, x: &[f64]) -> Phase {
        let phase;
        if self.trained <= self.config.fm_grace && self.map.is_empty() {
            phase = Phase::FeatureMapping;
            if let Some(fm) = self.fm.as_mut() {
                fm.update(x);
            }
            if self.trained == self.config.fm_grace {
                let map = self
                    .fm
                    .as_ref()
                    .map(|fm| fm.cluster(self.config.max_ae.max(1)))
                    .unwrap_or_default();
                self.set_map(map);
            }
        } else {
            phase = Phase::Training;
            self.run_ensemble(x, true);
            if let Some(o) = self.output.as_mut() {
                let e = o.train(&self.scores);
                if e > self.max_train_score {
                    self.max_train_score = e;
                }
            }
        }
        self.trained += 1;
        phase
    }

    /// Installs a feature map and builds the autoencoders for it (`__createAD__`).
    pub fn set_map(&mut self, map: Vec<Vec<usize>>) {
        let (lr, hr) = (self.config.learning_rate, self.config.hidden_ratio);
        self.ensemble = map
            .iter()
            .map(|m| Autoencoder::new(m.len(), hr, lr))
            .collect();
        self.output = Some(Autoencoder::new(map.len(), hr, lr));
        self.scores = vec![0.0; map.len()];
        self.map = map;
        self.fm = None;
        self.packed = Ensemble::default();
    }

    /// What the scoring layout is built from: KitNET's and its members' training counts (a
    /// member trained on its own, through `ensemble`, changes the second).
    fn layout_key(&self) -> (u64, u64) {
        (
            self.trained,
            self.ensemble.iter().map(|ae| ae.trained).sum(),
        )
    }

    #[inline(always)]
    fn run_ensemble(&mut self, x: &[f64], train: bool) {
        if self.scores.len() != self.ensemble.len() {
            self.scores = vec![0.0; self.ensemble.len()];
        }
        self.executed_last = !train;
        if !train {
            // `Autoencoder::execute` of every member, each step over the whole ensemble at
            // once (`Ensemble`); the input is gathered as it is normalised.
            let key = self.layout_key();
            if self.packed.built_at != Some(key) {
                self.packed = Ensemble::build(&self.ensemble, &self.map, key);
            }
            self.packed.execute(x, &mut self.scores);
            return;
        }
        for (a, ae) in self.ensemble.iter_mut().enumerate() {
            self.sub.clear();
            self.sub.extend(self.map[a].iter().map(|&i| x[i]));
            self.scores[a] = ae.train(&self.sub);
        }
    }

    /// The anomaly score of `x` (Kitsune-py `KitNET.execute`); 0 without a feature map.
    ///
    /// Runs on the widest vector instructions the CPU offers (AVX2 where present, chosen at
    /// run time by `pulp`): the same operations in the same order on wider registers, without
    /// fused multiply-adds, so the same bits on every machine.
    pub fn execute(&mut self, x: &[f64]) -> f64 {
        if self.map.is_empty() {
            return 0.0;
        }
        self.executed += 1;
        pulp::Arch::new().dispatch(Execute { kitnet: self, x })
    }

    /// [`KitNet::execute`]'s work, inlined into each of `pulp`'s instruction-set variants.
    #[inline(always)]
    fn execute_inlined(&mut self, x: &[f64]) -> f64 {
        self.run_ensemble(x, false);
        match self.output.as_mut() {
            Some(o) => o.execute_inlined(&self.scores),
            None => 0.0,
        }
    }

    /// Ensemble reconstruction errors of the last processed instance (one per autoencoder).
    pub fn last_ensemble_scores(&self) -> &[f64] {
        &self.scores
    }

    /// Squared reconstruction errors of ensemble autoencoder `a` for the last processed
    /// instance, per input (empty for no such autoencoder).
    pub fn last_errors(&self, a: usize) -> Vec<f64> {
        if self.executed_last {
            self.packed.last_errors(a).collect()
        } else {
            self.ensemble
                .get(a)
                .map(|ae| ae.last_errors().collect())
                .unwrap_or_default()
        }
    }

    /// Restores scratch state after deserialisation.
    pub fn after_load(&mut self) {
        self.scores = vec![0.0; self.ensemble.len()];
        self.sub = Vec::with_capacity(self.n);
        self.packed = Ensemble::default();
    }
}

/// One [`KitNet::execute`] call for `pulp`'s dispatch.
struct Execute<'a> {
    kitnet: &'a mut KitNet,
    x: &'a [f64],
}

impl pulp::WithSimd for Execute<'_> {
    type Output = f64;

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _simd: S) -> f64 {
        self.kitnet.execute_inlined(self.x)
    }
}

#[cfg(test)]
mod test {
    use super::*;

    /// `x` scored by a copy of `k`, each autoencoder executed alone: the copy, the ensemble's
    /// scores and the output's.
    fn one_by_one(k: &KitNet, x: &[f64]) -> (KitNet, Vec<f64>, f64) {
        let mut alone = k.clone();
        let scores: Vec<f64> = alone
            .ensemble
            .iter_mut()
            .zip(&alone.map)
            .map(|(ae, m)| ae.execute(&m.iter().map(|&i| x[i]).collect::<Vec<_>>()))
            .collect();
        let want = alone.output.as_mut().unwrap().execute(&scores);
        (alone, scores, want)
    }

    #[test]
    fn ensemble_execution_in_steps_matches_each_autoencoder_alone() {
        // Small members (column groups of four and two) and members of up to ten inputs
        // (groups of eight too, as Kitsune's defaults make).
        for (n, max_ae) in [(12, 4), (30, 10)] {
            ensemble_matches_autoencoders_alone(n, max_ae);
        }
    }

    fn ensemble_matches_autoencoders_alone(n: usize, max_ae: usize) {
        let row = |t: usize| -> Vec<f64> {
            (0..n)
                .map(|i| ((t * 31 + i * i * 7) % 23) as f64 * 0.5 + (t % 5) as f64 * (i % 3) as f64)
                .collect()
        };
        let cfg = KitNetConfig {
            max_ae,
            fm_grace: 50,
            ad_grace: 200,
            ..KitNetConfig::default()
        };
        let mut k = KitNet::new(n, cfg);
        for t in 0..=250 {
            k.process(&row(t));
        }
        assert!(k.is_trained() && k.map.len() > 1);
        let widest = k.map.iter().map(Vec::len).max().unwrap_or(0);
        assert!(
            widest <= max_ae && (max_ae < 8 || widest >= 8),
            "members {:?}",
            k.map
        );
        for t in 300..320 {
            let x = row(t);
            let (alone, scores, want) = one_by_one(&k, &x);
            // Without the run-time choice of instruction set (`pulp`'s portable variant):
            // the same bits as on the wider registers `execute` picks on this machine.
            let mut base = k.clone();
            let portable = pulp::WithSimd::with_simd(
                Execute {
                    kitnet: &mut base,
                    x: &x,
                },
                pulp::Scalar::new(),
            );
            assert_eq!(portable, want);
            assert_eq!(k.execute(&x), want);
            assert_eq!(k.last_ensemble_scores(), &scores[..]);
            for (a, ae) in alone.ensemble.iter().enumerate() {
                assert!(k.last_errors(a).into_iter().eq(ae.last_errors()));
            }
        }
        // A member trained on its own after scoring: the next score follows it.
        let x = row(400);
        let before = k.execute(&x);
        let sub: Vec<f64> = k.map[0].iter().map(|&i| x[i] * 3.0).collect();
        k.ensemble[0].train(&sub);
        let (_, _, want) = one_by_one(&k, &x);
        assert_ne!(want, before);
        assert_eq!(k.execute(&x), want);
    }
}
