//! What `custos robust poison` runs: inputs, detectors, strategies, rates and the settings of
//! every model and defence, validated once.

use crate::defence::dpa::{DpaSettings, Partitioning};
use crate::defence::sanitise::SanitiseSettings;
use crate::error::RobustError;
use crate::flowmodel::FlowSettings;
use crate::kitsune::KitsuneSettings;
use crate::strategies::Strategy;
use std::path::PathBuf;

/// Poison rates measured unless told otherwise (rate 0 is always added).
pub const DEFAULT_RATES: [f64; 4] = [0.01, 0.05, 0.1, 0.2];

/// Partitions of DPA unless told otherwise.
pub const DEFAULT_PARTITIONS: u32 = 25;

/// Folds of label screening unless told otherwise.
pub const DEFAULT_SCREEN_FOLDS: u32 = 5;

/// A detector under test.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum DetectorKind {
    /// Kitsune (trained on the benign window of the training capture).
    ///
    /// Unsupervised, packet scores.
    Kitsune,
    /// The supervised flow model.
    ///
    /// Gradient-boosted trees (GBDT).
    Flow,
}

impl DetectorKind {
    /// Its name in reports.
    pub fn name(self) -> &'static str {
        match self {
            DetectorKind::Kitsune => "kitsune",
            DetectorKind::Flow => "flow",
        }
    }
}

/// Everything one poisoning run needs.
#[derive(Clone, Debug)]
pub struct PoisonConfig {
    /// The training capture.
    pub train: PathBuf,
    /// Its per-packet labels.
    pub train_labels: PathBuf,
    /// The test capture.
    pub test: PathBuf,
    /// Its per-packet labels.
    pub test_labels: PathBuf,
    /// The report directory (created if missing).
    pub output: PathBuf,
    /// Replace an existing report.
    pub force: bool,
    /// Detectors, in report order.
    pub detectors: Vec<DetectorKind>,
    /// Strategies, in report order.
    pub strategies: Vec<Strategy>,
    /// Poison rates above 0, ascending.
    pub rates: Vec<f64>,
    /// Seed of every choice (flows flipped, injection position, partitions, trees).
    pub seed: u64,
    /// Trees of every flow model.
    pub trees: u32,
    /// The flow model's training (its `params.trees` and `params.seed` follow `trees` and
    /// `seed`).
    pub flow: FlowSettings,
    /// DPA.
    pub dpa: DpaSettings,
    /// Label screening folds (0: none).
    pub screen_folds: u32,
    /// `targeted_flip`'s target phase of the test capture (`None`: all its attack flows).
    pub target_phase: Option<String>,
    /// Kitsune's training.
    pub kitsune: KitsuneSettings,
    /// Kitsune's sanitised window.
    pub sanitise: SanitiseSettings,
}

impl PoisonConfig {
    /// A configuration with every default: both detectors, every strategy,
    /// [`DEFAULT_RATES`], seed 0.
    pub fn new(
        train: PathBuf,
        train_labels: PathBuf,
        test: PathBuf,
        test_labels: PathBuf,
        output: PathBuf,
    ) -> Self {
        let flow = FlowSettings::default();
        PoisonConfig {
            train,
            train_labels,
            test,
            test_labels,
            output,
            force: false,
            detectors: vec![DetectorKind::Kitsune, DetectorKind::Flow],
            strategies: Strategy::ALL.to_vec(),
            rates: DEFAULT_RATES.to_vec(),
            seed: 0,
            trees: flow.params.trees,
            flow,
            dpa: DpaSettings {
                partitions: DEFAULT_PARTITIONS,
                partitioning: Partitioning::Hash,
            },
            screen_folds: DEFAULT_SCREEN_FOLDS,
            target_phase: None,
            kitsune: KitsuneSettings::default(),
            sanitise: SanitiseSettings::default(),
        }
    }

    /// Checks the settings and puts lists in order: rates sorted without repeats (and
    /// without 0, which is always measured), detectors and strategies in report order.
    ///
    /// # Errors
    /// No detector or strategy, a rate outside (0, 0.9], no partition or more than 1000,
    /// screening folds outside 2–20 (0 allowed), no tree.
    pub fn validate(&mut self) -> Result<(), RobustError> {
        self.detectors.sort_unstable();
        self.detectors.dedup();
        self.strategies.sort_unstable();
        self.strategies.dedup();
        if self.detectors.is_empty() || self.strategies.is_empty() {
            return Err(RobustError::Usage(
                "choose at least one detector (kitsune, flow) and one strategy (label_flip, \
                 window_injection, targeted_flip)"
                    .into(),
            ));
        }
        if let Some(r) = self
            .rates
            .iter()
            .find(|r| !(r.is_finite() && **r >= 0.0 && **r <= 0.9))
        {
            return Err(RobustError::Usage(format!(
                "poison rate {r} must be in [0, 0.9]"
            )));
        }
        self.rates.retain(|&r| r > 0.0);
        self.rates.sort_by(f64::total_cmp);
        self.rates.dedup();
        if self.dpa.partitions == 0 || self.dpa.partitions > 1000 {
            return Err(RobustError::Usage(format!(
                "DPA needs 1 to 1000 partitions, not {}",
                self.dpa.partitions
            )));
        }
        if self.screen_folds != 0 && !(2..=20).contains(&self.screen_folds) {
            return Err(RobustError::Usage(format!(
                "label screening needs 2 to 20 folds (or 0 for none), not {}",
                self.screen_folds
            )));
        }
        if self.trees == 0 {
            return Err(RobustError::Usage(
                "the flow model needs at least one tree".into(),
            ));
        }
        self.flow.params.trees = self.trees;
        self.flow.params.seed = self.seed;
        self.flow
            .params
            .validate()
            .map_err(|e| RobustError::Usage(format!("flow model parameters: {e}")))?;
        self.kitsune.config(1_000_000)?;
        Ok(())
    }

    /// The rates measured, 0 first.
    pub fn all_rates(&self) -> Vec<f64> {
        std::iter::once(0.0)
            .chain(self.rates.iter().copied())
            .collect()
    }

    /// The settings as they go into the report.
    pub fn settings_json(&self) -> serde_json::Value {
        serde_json::json!({
            "detectors": self.detectors,
            "strategies": self.strategies,
            "rates": self.all_rates(),
            "seed": self.seed,
            "flow": {
                "training": self.flow,
                "dpa": self.dpa,
                "screen_folds": self.screen_folds,
                "target_phase": self.target_phase,
                "flow_score": "the highest score of the flow's rows (end and checkpoints at 1, 2, 4, … packets), as the flow detector alerts",
            },
            "kitsune": {
                "training": self.kitsune,
                "sanitise": self.sanitise,
                "window": "the training capture's packets before its first attack packet",
            },
        })
    }
}
