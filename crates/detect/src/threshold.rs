//! Alert thresholds for anomaly scores.
//!
//! Two rules:
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
    /// The paper's rule: φ · β.
    PhiBeta {
        /// Largest output-layer training error.
        phi: f64,
        /// Multiplier.
        beta: f64,
    },
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

    #[test]
    fn phi_beta_multiplies() {
        let t = Threshold::phi_beta(0.2, 1.5);
        assert!((t.value - 0.3).abs() < 1e-15);
    }
}
