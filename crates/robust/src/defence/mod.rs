//! The defences: [`dpa`] (certified partition aggregation) and [`screen`] (label screening
//! that drops contradicted flows before DPA: defence `screen+dpa`) for the flow model,
//! [`sanitise`] (a cross-checked training window and a contamination alarm) for Kitsune.
//! Label screening's evidence is `custos_dataset::screening`'s out-of-fold probabilities.

pub mod conversation;
pub mod dpa;
pub mod sanitise;
pub mod screen;
