//! Anomaly detection for custos: KitNET (Kitsune's ensemble of autoencoders), thresholds and
//! explanations.
//!
//! - [`KitNet`] reproduces Kitsune-py's `KitNET` number for number: the feature mapper
//!   ([`CorClust`], scipy-identical single linkage), autoencoders initialised from numpy's
//!   `RandomState(1234)` ([`Mt19937`]), training and execution in the same order of operations.
//!
//! - [`KitsuneDetector`] runs `custos-features`' AfterImage extractor into KitNET, sets a
//!   [`Threshold`] (log-normal calibration or the paper's φ·β) and explains alerts.
//! - [`KitsuneModel`] is a trained model on disk: canonical JSON with its SHA-256, refused when
//!   damaged or made for other features.
//! - [`gbdt`] is the supervised flow detector's model: a deterministic histogram
//!   gradient-boosted tree classifier ([`Gbdt`], trained by [`train_gbdt`]) with exact
//!   TreeSHAP explanations and a validated `custos-gbdt/1` JSON format.
//!
//! What it does not do: read packets or write outputs.
#![deny(missing_docs)]
// The numeric kernels index several arrays in lockstep, in the order numpy evaluates them.
#![allow(clippy::needless_range_loop)]

mod autoencoder;
mod corclust;
mod detector;
mod ensemble;
mod error;
mod flow_model;
pub mod gbdt;
mod kitnet;
mod model;
pub mod mt19937;
pub mod numeric;
mod threshold;

pub use autoencoder::Autoencoder;
pub use corclust::{single_linkage, CorClust, Merge};
pub use detector::{
    AutoencoderContribution, DetectorConfig, Explanation, KitsuneDetector, Stage, ThresholdChoice,
    Verdict, DEFAULT_WARMUP_NS,
};
pub use error::ModelError;
pub use flow_model::{
    choose_threshold, FlowModel, FlowModelError, FlowThreshold, FLOW_MODEL_FORMAT,
};
pub use gbdt::{
    train as train_gbdt, Contributions, Gbdt, GbdtError, GbdtParams, TrainingData, TrainingSummary,
    GBDT_FORMAT,
};
pub use kitnet::{KitNet, KitNetConfig, Phase};
pub use model::{FeatureSpec, KitsuneModel, TrainingInfo, MODEL_FORMAT};
pub use mt19937::Mt19937;
pub use threshold::{
    RobustBasis, Threshold, ThresholdRule, EXCLUDED_WARNING, MIN_INFORMATIVE, TAIL_WEIGHT_WARNING,
};
