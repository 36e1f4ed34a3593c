//! The defences: [`dpa`] (certified partition aggregation) for the flow model, [`sanitise`]
//! (a cross-checked training window and a contamination alarm) for Kitsune. Label screening,
//! the flow model's third line, is `custos_dataset::screening`; its findings are reported
//! beside each poisoned flow model.

pub mod dpa;
pub mod sanitise;
