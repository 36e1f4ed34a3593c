//! What `custos robust evade` runs: the capture, the targets, the budget, the query budget,
//! the trials and the defences, validated once.

use super::budget::Budget;
use crate::error::RobustError;
use crate::flowmodel::FlowSettings;
use crate::kitsune::KitsuneSettings;
use std::path::PathBuf;

/// Detector queries per phase and trial unless told otherwise.
pub const DEFAULT_QUERIES: usize = 40;

/// Seconds of traffic before a phase that Kitsune scores and that gives the phase's flows
/// their host context, unless told otherwise.
pub const DEFAULT_CONTEXT_S: f64 = 60.0;

/// Perturbed samples per training phase for adversarial training, unless told otherwise.
pub const DEFAULT_ADVERSARIAL_SAMPLES: usize = 6;

/// A detector that can be evaded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EvasionDetector {
    /// Kitsune, trained on the training capture's benign window.
    Kitsune,
    /// The flow model, trained as `custos train --detector flow` trains it.
    Flow,
    /// The flow model on event features only (`oracle::event_features`).
    FlowEvents,
}

impl EvasionDetector {
    /// Its name, as on the command line.
    pub fn name(self) -> &'static str {
        match self {
            EvasionDetector::Kitsune => "kitsune",
            EvasionDetector::Flow => "flow",
            EvasionDetector::FlowEvents => "flow_events",
        }
    }

    /// The detector named `s`.
    ///
    /// # Errors
    /// An unknown name.
    pub fn parse(s: &str) -> Result<Self, RobustError> {
        match s.trim() {
            "kitsune" => Ok(EvasionDetector::Kitsune),
            "flow" => Ok(EvasionDetector::Flow),
            "flow_events" => Ok(EvasionDetector::FlowEvents),
            other => Err(RobustError::Usage(format!(
                "unknown detector {other:?} (kitsune, flow, flow_events; a combination is \
                 comma-separated: kitsune,flow)"
            ))),
        }
    }
}

/// A target: one detector or a combination (alerting when any member alerts).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Target(pub Vec<EvasionDetector>);

impl Target {
    /// Parses `kitsune`, `flow`, `kitsune,flow`…
    ///
    /// # Errors
    /// An unknown or repeated detector, or none.
    pub fn parse(s: &str) -> Result<Self, RobustError> {
        let mut v = Vec::new();
        for part in s.split(',').filter(|p| !p.trim().is_empty()) {
            let d = EvasionDetector::parse(part)?;
            if v.contains(&d) {
                return Err(RobustError::Usage(format!(
                    "detector {} named twice in {s:?}",
                    d.name()
                )));
            }
            v.push(d);
        }
        if v.is_empty() {
            return Err(RobustError::Usage("an empty detector list".into()));
        }
        Ok(Target(v))
    }

    /// Its name, as on the command line (members in the order given).
    pub fn name(&self) -> String {
        self.0
            .iter()
            .map(|d| d.name())
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Whether it asks `d`.
    pub fn has(&self, d: EvasionDetector) -> bool {
        self.0.contains(&d)
    }
}

/// Everything one evasion run needs.
#[derive(Clone, Debug)]
pub struct EvadeConfig {
    /// The capture whose attack phases are transformed.
    pub capture: PathBuf,
    /// Its per-packet labels.
    pub labels: PathBuf,
    /// The capture (and labels) the detectors are trained on; `None`: `capture` itself.
    pub train: Option<(PathBuf, PathBuf)>,
    /// The report directory.
    pub output: PathBuf,
    /// Replace an existing report.
    pub force: bool,
    /// Targets, in report order.
    pub targets: Vec<Target>,
    /// The budget of each phase.
    pub budget: Budget,
    /// Detector queries per phase and trial.
    pub queries: usize,
    /// Independent searches per phase (seeds derived from `seed`).
    pub trials: u32,
    /// Seed of every choice.
    pub seed: u64,
    /// Phases to evade (empty: every attack phase).
    pub phases: Vec<String>,
    /// Trees of the flow models.
    pub trees: u32,
    /// The flow models' training.
    pub flow: FlowSettings,
    /// Kitsune's training.
    pub kitsune: KitsuneSettings,
    /// Seconds of traffic before a phase that Kitsune scores and whose flows give the phase's
    /// flows their host context.
    pub context_s: f64,
    /// Perturbed samples per training phase for adversarial training (0: none).
    pub adversarial_samples: usize,
}

impl EvadeConfig {
    /// A configuration with every default: targets `kitsune`, `flow` and `kitsune,flow`,
    /// the default budget, [`DEFAULT_QUERIES`], one trial, seed 0.
    pub fn new(capture: PathBuf, labels: PathBuf, output: PathBuf) -> Self {
        let flow = FlowSettings::default();
        EvadeConfig {
            capture,
            labels,
            train: None,
            output,
            force: false,
            targets: vec![
                Target(vec![EvasionDetector::Kitsune]),
                Target(vec![EvasionDetector::Flow]),
                Target(vec![EvasionDetector::Kitsune, EvasionDetector::Flow]),
            ],
            budget: Budget::default(),
            queries: DEFAULT_QUERIES,
            trials: 1,
            seed: 0,
            phases: Vec::new(),
            trees: flow.params.trees,
            flow,
            kitsune: KitsuneSettings::default(),
            context_s: DEFAULT_CONTEXT_S,
            adversarial_samples: DEFAULT_ADVERSARIAL_SAMPLES,
        }
    }

    /// Checks the settings.
    ///
    /// # Errors
    /// No target, a target named twice, no query or trial, no tree, a negative context.
    pub fn validate(&mut self) -> Result<(), RobustError> {
        if self.targets.is_empty() {
            return Err(RobustError::Usage("choose at least one detector".into()));
        }
        for (i, t) in self.targets.iter().enumerate() {
            if self
                .targets
                .iter()
                .skip(i + 1)
                .any(|u| u.name() == t.name())
            {
                return Err(RobustError::Usage(format!(
                    "detector {} given twice",
                    t.name()
                )));
            }
        }
        if self.queries == 0 || self.trials == 0 || self.trees == 0 {
            return Err(RobustError::Usage(
                "--queries, --trials and --trees must be at least 1".into(),
            ));
        }
        if !(self.context_s.is_finite() && self.context_s >= 0.0) {
            return Err(RobustError::Usage(format!(
                "context {} s must be a number of seconds ≥ 0",
                self.context_s
            )));
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

    /// Whether some target asks `d`.
    pub fn needs(&self, d: EvasionDetector) -> bool {
        self.targets.iter().any(|t| t.has(d))
    }

    /// The settings as they go into the report.
    pub fn settings_json(&self) -> serde_json::Value {
        serde_json::json!({
            "targets": self.targets.iter().map(Target::name).collect::<Vec<_>>(),
            "budget": self.budget,
            "queries": self.queries,
            "trials": self.trials,
            "seed": self.seed,
            "phases": self.phases,
            "flow": self.flow,
            "kitsune": self.kitsune,
            "context_s": self.context_s,
            "adversarial_samples": self.adversarial_samples,
            "trained_on": if self.train.is_some() { "the training capture" } else { "the evaded capture itself" },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_parse_combinations_and_refuse_repeats() {
        let t = Target::parse("kitsune,flow").unwrap();
        assert_eq!(t.name(), "kitsune,flow");
        assert!(t.has(EvasionDetector::Flow));
        assert!(matches!(
            Target::parse("flow,flow"),
            Err(RobustError::Usage(m)) if m.contains("twice")
        ));
        assert!(matches!(
            Target::parse("snort"),
            Err(RobustError::Usage(m)) if m.contains("unknown detector")
        ));
    }
}
