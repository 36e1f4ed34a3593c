//! Built-in detectors.

mod flow;
mod flow_hosts;
mod ioc;
mod kitsune;
mod model_dir;
mod row_memo;
mod rules;
mod training_flows;
mod trust;

pub use flow::{FlowDetector, DATASET_MANIFEST_FILE, FLOW_MODEL_FILE};
pub use ioc::Ioc;
pub use kitsune::{Kitsune, MODEL_FILE};
pub use model_dir::{
    prepare_model_dir, update_card, update_card_metrics, write_card_files, write_model_card,
};
pub use rules::Rules;
pub use training_flows::{flow_fingerprint, TrainingFlows, TRAINING_FLOWS_FILE};
pub use trust::{LoadedModel, ModelTrust};
