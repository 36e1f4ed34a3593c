//! Built-in detectors.

mod kitsune;
mod model_dir;
mod trust;

pub use kitsune::{Kitsune, MODEL_FILE};
pub use model_dir::{prepare_model_dir, write_model_card};
pub use trust::{LoadedModel, ModelTrust};
