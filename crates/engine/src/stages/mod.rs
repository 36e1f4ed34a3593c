//! The stages of a run and the two ways of driving them (one thread, or three).
//!
//! - **packet** (caller's thread): decode → flow table → application tracker;
//! - **host** (ordered): device inventory, findings, detectors, live evidence; the check of
//!   detectors' learning windows against the attacks found (`learning`);
//! - **output**: the sinks.
//!
//! See `docs/engine.md` for why the run is staged this way.

pub(crate) mod host;
pub(crate) mod inline;
pub(crate) mod learning;
pub(crate) mod output;
pub(crate) mod packet;
pub(crate) mod threaded;
