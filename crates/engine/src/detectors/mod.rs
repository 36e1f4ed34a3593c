//! Built-in detectors.

mod kitsune;
mod trust;

pub use kitsune::{Kitsune, MODEL_FILE};
pub use trust::{LoadedModel, ModelTrust};
