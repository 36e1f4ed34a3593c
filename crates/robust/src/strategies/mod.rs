//! The poisoning strategies: what the poisoner changes in the training data.
//!
//! | strategy | changes | rate | detectors |
//! |---|---|---|---|
//! | [`label_flip`] | labels of random training attack flows → benign | share of training attack flows | flow |
//! | [`targeted_flip`] | labels of the training attack flows nearest the test attack → benign | share of training attack flows | flow |
//! | [`window_injection`] | attack traffic replayed into the benign training window | share of the poisoned window's packets | kitsune, flow |
//!
//! Kitsune learns without labels, so the label strategies do not apply to it.

pub mod label_flip;
pub mod targeted_flip;
pub mod window_injection;

/// A poisoning strategy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(
    feature = "clap",
    derive(clap::ValueEnum),
    value(rename_all = "snake_case")
)]
pub enum Strategy {
    /// Random training attack flows relabelled benign.
    LabelFlip,
    /// Attack traffic replayed into the benign training window.
    WindowInjection,
    /// The training attack flows most like the test attack relabelled benign.
    TargetedFlip,
}

impl Strategy {
    /// Every strategy, in report order.
    pub const ALL: [Strategy; 3] = [
        Strategy::LabelFlip,
        Strategy::WindowInjection,
        Strategy::TargetedFlip,
    ];

    /// The name used in reports and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Strategy::LabelFlip => "label_flip",
            Strategy::WindowInjection => "window_injection",
            Strategy::TargetedFlip => "targeted_flip",
        }
    }

    /// The strategy called `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        Strategy::ALL.into_iter().find(|s| s.name() == name)
    }

    /// True when it needs labels to act (Kitsune is out of its reach).
    pub fn needs_labels(self) -> bool {
        !matches!(self, Strategy::WindowInjection)
    }
}
