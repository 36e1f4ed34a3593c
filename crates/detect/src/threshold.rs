//! Alert thresholds for anomaly scores.
//!
//! Three rules:
//! - **Robust** (the default; [`Threshold::robust`]): a log-normal fitted to what matters — the
//!   median and the upper quantiles of the calibration scores' logarithms, not their mean and
//!   standard deviation, which a few tiny scores blow up —, checked against the window's own
//!   high quantile, with a quantile fallback where the tail is heavier than the fit, and a
//!   count of window scores above the threshold that flags a contaminated window.
//! - **Log-normal calibration** (as Kitsune-py's `example.py` does): the scores of a benign
//!   calibration window right after the grace periods are taken as log-normal; the threshold
//!   is the score whose upper tail probability is the chosen false-positive rate:
//!   `exp(μ + σ · Φ⁻¹(1 − fpr))`, with μ, σ the mean and population standard deviation of the
//!   scores' logarithms.
//! - **φ·β** (the Kitsune paper, §V): φ is the largest reconstruction error the output
//!   autoencoder produced while training; alert when the score exceeds φ·β (β ≥ 1).

use crate::numeric::normal_quantile;
use serde::{Deserialize, Serialize};

/// How the threshold was chosen.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum ThresholdRule {
    /// Log-normal fit over a calibration window, alerting at a false-positive rate.
    LogNormal {
        /// Target false-positive rate.
        fpr: f64,
        /// Mean of ln(score) over the window.
        mu: f64,
        /// Population standard deviation of ln(score) over the window.
        sigma: f64,
        /// Scores in the window (positive ones; zeros are skipped).
        samples: u64,
    },
    /// Robust log-normal fit (median and upper quantile of ln(score)), or the window's own high
    /// quantile extrapolated where that is higher.
    Robust {
        /// Target false-positive rate.
        fpr: f64,
        /// Median of ln(score) over the informative scores.
        median: f64,
        /// Scale of ln(score): (q(p) − median) / Φ⁻¹(p) at the scale quantile p.
        scale: f64,
        /// Informative scores in the window (positive and finite).
        samples: u64,
        /// Whether the fit or the quantile fallback set the value.
        basis: RobustBasis,
        /// Window scores above the threshold (about `samples · fpr` expected).
        above: u64,
        /// How heavy the window's upper tail is next to its body, 1 for a log-normal:
        /// `(q(0.99) − q(0.9)) / (q(0.9) − q(0.5))` over the same ratio of a normal. Far above 1
        /// (see [`TAIL_WEIGHT_WARNING`]) the window likely holds attacks or unusual traffic.
        tail_weight: f64,
        /// The largest score of the training phase (KitNET's φ), when known: window scores
        /// above it are unlike anything trained on and are left out of the fit.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        training_max: Option<f64>,
        /// Window scores left out of the fit for lying above `training_max`.
        #[serde(default)]
        excluded: u64,
    },
    /// The paper's rule: φ · β.
    PhiBeta {
        /// Largest output-layer training error.
        phi: f64,
        /// Multiplier.
        beta: f64,
    },
}

/// How the robust rule came to its threshold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RobustBasis {
    /// The fitted log-normal's 1 − fpr quantile (it covers the window's tail).
    Fit,
    /// The window's tail is heavier than the fit: its own high quantile, extrapolated with
    /// the fitted scale.
    Quantile,
    /// The window was contaminated (many scores above the training maximum) and the fit came
    /// out higher than that maximum: capped at it, since the window's tail cannot be trusted.
    TrainingMax,
}

/// A threshold on scores.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Threshold {
    /// Scores strictly above this raise an alert.
    pub value: f64,
    /// How it was chosen.
    pub rule: ThresholdRule,
}

impl Threshold {
    /// The log-normal threshold for `scores` at false-positive rate `fpr`; `None` when fewer
    /// than two positive scores are available.
    pub fn log_normal(scores: &[f64], fpr: f64) -> Option<Threshold> {
        let logs: Vec<f64> = scores
            .iter()
            .filter(|s| **s > 0.0 && s.is_finite())
            .map(|s| s.ln())
            .collect();
        if logs.len() < 2 {
            return None;
        }
        let n = logs.len() as f64;
        let mu = crate::numeric::numpy_sum(&logs) / n;
        let var: Vec<f64> = logs.iter().map(|l| (l - mu) * (l - mu)).collect();
        let sigma = (crate::numeric::numpy_sum(&var) / n).sqrt();
        let z = normal_quantile(1.0 - fpr);
        Some(Threshold {
            value: (mu + sigma * z).exp(),
            rule: ThresholdRule::LogNormal {
                fpr,
                mu,
                sigma,
                samples: logs.len() as u64,
            },
        })
    }

    /// The robust threshold for `scores` at false-positive rate `fpr`; `None` when fewer than
    /// [`MIN_INFORMATIVE`] scores are positive and finite.
    ///
    /// With `l` the sorted logarithms of the informative scores, `n` of them, and `q(p)` their
    /// linearly interpolated quantile: the median `m = q(0.5)`; the scale
    /// `s = (q(ps) − m) / Φ⁻¹(ps)` at `ps = clamp(1 − 10/n, 0.9, 0.99)` (the upper tail, which
    /// is what a threshold is about); the fit `m + s·Φ⁻¹(1 − fpr)`. Check against the window:
    /// at `pa = clamp(1 − 10/n, 0.9, 0.999)` the window's own quantile extrapolated with the
    /// same scale, `q(pa) + s·(Φ⁻¹(1 − fpr) − Φ⁻¹(pa))`; where that is higher, the window's tail
    /// is heavier than the fit says and the threshold follows the window (basis `quantile`).
    /// Both are equal on log-normal scores.
    ///
    /// With `training_max` (the largest score seen while training, KitNET's φ), window scores
    /// above it — traffic unlike anything trained on, as attacks inside the window — are left
    /// out of the fit and counted (`excluded`); on clean windows none are.
    pub fn robust(scores: &[f64], fpr: f64, training_max: Option<f64>) -> Option<Threshold> {
        let informative = scores.iter().filter(|s| **s > 0.0 && s.is_finite());
        let limit = training_max.filter(|m| m.is_finite() && *m > 0.0);
        let mut excluded = 0u64;
        let mut logs: Vec<f64> = informative
            .filter(|s| {
                let keep = limit.is_none_or(|m| **s <= m);
                excluded += u64::from(!keep);
                keep
            })
            .map(|s| s.ln())
            .collect();
        if logs.len() < MIN_INFORMATIVE {
            return None;
        }
        logs.sort_by(f64::total_cmp);
        let n = logs.len() as f64;
        let q = |p: f64| quantile_sorted(&logs, p);
        let median = q(0.5);
        let ps = (1.0 - 10.0 / n).clamp(0.9, 0.99);
        let mut scale = (q(ps) - median) / normal_quantile(ps);
        if scale.is_nan() || scale <= 0.0 {
            // A window of (nearly) equal scores: any clearly higher score is anomalous.
            scale = 1e-3;
        }
        let z = normal_quantile(1.0 - fpr);
        let pa = (1.0 - 10.0 / n).clamp(0.9, 0.999);
        let (za, tail) = (normal_quantile(pa), q(pa));
        let fit = median + scale * z;
        let extrapolated = tail + scale * (z - za);
        let (mut log_value, mut basis) = if extrapolated > fit {
            (extrapolated, RobustBasis::Quantile)
        } else {
            (fit, RobustBasis::Fit)
        };
        let total = (logs.len() as u64 + excluded) as f64;
        if let Some(m) = limit {
            if excluded as f64 > (EXCLUDED_WARNING * total).max(10.0) && log_value > m.ln() {
                (log_value, basis) = (m.ln(), RobustBasis::TrainingMax);
            }
        }
        let above = logs.iter().filter(|l| **l > log_value).count() as u64;
        let (z90, z99) = (normal_quantile(0.9), normal_quantile(0.99));
        let body = q(0.9) - median;
        let tail_weight = if body > 0.0 {
            ((q(0.99) - q(0.9)) / body) / ((z99 - z90) / z90)
        } else {
            1.0
        };
        Some(Threshold {
            value: log_value.exp(),
            rule: ThresholdRule::Robust {
                fpr,
                median,
                scale,
                samples: logs.len() as u64,
                basis,
                above,
                tail_weight,
                training_max: limit,
                excluded,
            },
        })
    }

    /// A warning when the calibration window looks contaminated: more than a few of its scores
    /// lie above everything seen in training ([`EXCLUDED_WARNING`]), or its upper tail is far
    /// heavier than its body ([`TAIL_WEIGHT_WARNING`]) — as when attacks fall inside it.
    pub fn contamination_warning(&self) -> Option<String> {
        let ThresholdRule::Robust {
            samples,
            tail_weight,
            excluded,
            ..
        } = self.rule
        else {
            return None;
        };
        let total = samples + excluded;
        if excluded as f64 > (EXCLUDED_WARNING * total as f64).max(10.0) {
            return Some(format!(
                "{excluded} of the {total} calibration scores ({:.1} %) lie above every score of \
                 the training phase: the calibration window holds traffic unlike the training \
                 traffic — attacks, or a change in the network. They were left out of the \
                 threshold; check what happened there, and calibrate on traffic known to be normal",
                100.0 * excluded as f64 / total as f64
            ));
        }
        (tail_weight > TAIL_WEIGHT_WARNING).then(|| {
            format!(
                "the calibration window's highest scores are far above the rest (tail {tail_weight:.1}× \
                 heavier than a log-normal, over {samples} scores): it may hold attacks or unusual \
                 traffic, which raises the threshold; calibrate on traffic known to be normal"
            )
        })
    }

    /// The φ·β threshold.
    pub fn phi_beta(phi: f64, beta: f64) -> Threshold {
        Threshold {
            value: phi * beta,
            rule: ThresholdRule::PhiBeta { phi, beta },
        }
    }

    /// True when `score` raises an alert.
    pub fn exceeded(&self, score: f64) -> bool {
        score > self.value
    }
}

/// Fraction of calibration scores above the training maximum beyond which the window is
/// reported as contaminated (clean lab windows: at most 0.13 %, contaminated ones: 57 %).
pub const EXCLUDED_WARNING: f64 = 0.01;

/// Tail weight above which a calibration window is reported as possibly contaminated.
pub const TAIL_WEIGHT_WARNING: f64 = 3.0;

/// Fewest informative (positive, finite) calibration scores the robust rule fits.
pub const MIN_INFORMATIVE: usize = 10;

/// Linearly interpolated quantile `p` of sorted `v` (numpy's default), `v` not empty.
fn quantile_sorted(v: &[f64], p: f64) -> f64 {
    let k = p * (v.len() - 1) as f64;
    let i = k.floor() as usize;
    let f = k - i as f64;
    let j = (i + 1).min(v.len() - 1);
    v[i] * (1.0 - f) + v[j] * f
}

impl std::fmt::Display for Threshold {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:.6} (", self.value)?;
        match self.rule {
            ThresholdRule::Robust {
                fpr,
                samples,
                basis,
                above,
                ..
            } => {
                let how = match basis {
                    RobustBasis::Fit => "robust log-normal fit",
                    RobustBasis::Quantile => "extrapolated from the window's high quantile",
                    RobustBasis::TrainingMax => {
                        "capped at the training maximum (contaminated window)"
                    }
                };
                write!(
                    f,
                    "{how} of {samples} calibration scores at false-positive rate {fpr}; \
                     {above} of them above it)"
                )
            }
            ThresholdRule::LogNormal { fpr, samples, .. } => write!(
                f,
                "log-normal fit of {samples} calibration scores at false-positive rate {fpr})"
            ),
            ThresholdRule::PhiBeta { phi, beta } => {
                write!(f, "φ·β: largest training error {phi:.6} × {beta})")
            }
        }
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn log_normal_threshold_of_a_known_sample() {
        // ln(scores) = {-1, 1} → μ = 0, σ = 1; fpr 2.5 % → z = 1.95996…
        let scores = [(-1.0f64).exp(), 1.0f64.exp()];
        let t = Threshold::log_normal(&scores, 0.025).unwrap();
        assert!((t.value - 1.959_963_984_540_054f64.exp()).abs() < 1e-12);
        assert!(t.exceeded(8.0));
        assert!(!t.exceeded(7.0));
    }

    #[test]
    fn needs_two_positive_scores() {
        assert!(Threshold::log_normal(&[0.0, 0.0, 1.0], 1e-4).is_none());
    }

    /// A deterministic log-normal sample: ln(score) at the normal quantiles of n points.
    fn log_normal_sample(mu: f64, sigma: f64, n: usize) -> Vec<f64> {
        (0..n)
            .map(|i| (mu + sigma * normal_quantile((i as f64 + 0.5) / n as f64)).exp())
            .collect()
    }

    #[test]
    fn robust_equals_the_log_normal_on_log_normal_scores() {
        let s = log_normal_sample(-3.0, 0.5, 5000);
        let r = Threshold::robust(&s, 1e-4, None).unwrap();
        let l = Threshold::log_normal(&s, 1e-4).unwrap();
        assert!((r.value.ln() - l.value.ln()).abs() < 0.02, "{r} vs {l}");
        assert!(r.contamination_warning().is_none());
    }

    #[test]
    fn tiny_scores_do_not_blow_the_threshold_up() {
        // The failure seen on unseen traffic: a lower tail of near-zero scores inflates the
        // standard deviation of ln(score) and puts the log-normal threshold far above every
        // score; the robust rule stays near the window's upper tail.
        let mut s = log_normal_sample(-3.0, 0.5, 4000);
        s.extend(log_normal_sample(-25.0, 3.0, 1000));
        let max = s.iter().copied().fold(0.0, f64::max);
        let l = Threshold::log_normal(&s, 1e-4).unwrap();
        let r = Threshold::robust(&s, 1e-4, None).unwrap();
        assert!(l.value > 20.0 * max, "the log-normal rule fails here: {l}");
        assert!(r.value > max && r.value < 3.0 * max, "{r}, max {max}");
    }

    #[test]
    fn a_heavy_tail_falls_back_to_the_window_quantile() {
        let mut s = log_normal_sample(-3.0, 0.3, 4950);
        s.extend(log_normal_sample(0.0, 0.3, 50));
        let r = Threshold::robust(&s, 1e-4, None).unwrap();
        assert!(
            matches!(r.rule, ThresholdRule::Robust { basis: RobustBasis::Quantile, above, .. } if above <= 1),
            "{r}"
        );
        let fit_only = (-3.0 + 0.3 * normal_quantile(1.0 - 1e-4)).exp();
        assert!(r.value > 10.0 * fit_only, "{r}");
    }

    #[test]
    fn a_contaminated_window_is_flagged() {
        let mut s = log_normal_sample(-3.0, 0.3, 4800);
        s.extend(std::iter::repeat_n(50.0, 200));
        let r = Threshold::robust(&s, 1e-4, None).unwrap();
        assert!(r.contamination_warning().is_some(), "{r}");
    }

    #[test]
    fn scores_above_the_training_maximum_are_left_out_and_reported() {
        // A window that is mostly attack: without the training maximum the threshold lands
        // above the attack; with it the benign part sets the threshold and the window is
        // reported as contaminated.
        let mut s = log_normal_sample(-3.0, 0.3, 2000);
        s.extend(log_normal_sample(1.0, 1.0, 3000));
        let blind = Threshold::robust(&s, 1e-5, None).unwrap();
        assert!(blind.value > 10.0, "{blind}");
        let r = Threshold::robust(&s, 1e-5, Some(0.5)).unwrap();
        assert!(r.value <= 0.5, "{r}");
        let w = r.contamination_warning().expect("a warning");
        assert!(w.contains("unlike the training"), "{w}");
        // A clean window loses nothing and raises no warning.
        let clean = log_normal_sample(-3.0, 0.3, 5000);
        let c = Threshold::robust(&clean, 1e-5, Some(0.5)).unwrap();
        assert!(matches!(c.rule, ThresholdRule::Robust { excluded: 0, .. }));
        assert!(c.contamination_warning().is_none());
    }

    #[test]
    fn robust_needs_informative_scores() {
        assert!(Threshold::robust(&[0.0; 100], 1e-4, None).is_none());
        assert!(Threshold::robust(&[f64::NAN, 1.0, 2.0], 1e-4, None).is_none());
        let flat = Threshold::robust(&[0.5; 100], 1e-4, None).unwrap();
        assert!(flat.value > 0.5 && flat.value < 0.6, "{flat}");
    }

    #[test]
    fn phi_beta_multiplies() {
        let t = Threshold::phi_beta(0.2, 1.5);
        assert!((t.value - 0.3).abs() < 1e-15);
    }
}
