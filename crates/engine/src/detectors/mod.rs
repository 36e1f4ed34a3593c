//! Built-in detectors.

mod kitsune;

pub use kitsune::Kitsune;
