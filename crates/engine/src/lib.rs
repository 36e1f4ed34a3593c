//! custos as a library: one run over every stage, used by the CLI (`analyze`, `bench`,
//! `train`) and by later front ends (web server, Python module, bus consumer).
//!
//! - [`EngineConfig`]: every setting of a run, loadable from TOML, validated once.
//! - [`Detector`]: turns packets, flows and application events into scores and [`Alert`]s.
//!   Kitsune is built in ([`detectors::Kitsune`]); others are added with
//!   [`Engine::add_detector`].
//! - [`Sink`] (from `custos-output`): receives the typed [`Record`]s of a run; the output files
//!   are sinks chosen by configuration, others are added with [`Engine::add_sink`].
//! - [`Engine::run`]: reads a [`Source`] to its end and returns a [`RunSummary`].
//! - `flags` (feature `clap`): the command-line options that set an [`EngineConfig`], with
//!   their help text, and `EngineConfig::from_flags`; front ends flatten them into their own.
//!
//! With `threads` ≥ 2 the run is staged over three threads (packet stage, ordered host stage,
//! output stage; `docs/engine.md`); every output is byte-identical at any thread count.
#![deny(missing_docs)]
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

mod alerts;
pub mod bench;
pub mod config;
mod detector;
pub mod detectors;
mod engine;
mod error;
pub mod evidence;
#[cfg(feature = "clap")]
pub mod flags;
mod keys;
mod model_specs;
pub mod outdir;
pub mod pseudonymized;
pub mod reidentify;
mod run_report;
mod sinks;
mod source;
mod stages;
pub mod train;

pub use alerts::{AlertCounts, AlertQueue, Evidence, Signature};
pub use config::EngineConfig;
pub use custos_flow::EndedFlow;
pub use custos_output::{Alert, Record, RecordKinds, RunEnd, RunInfo, Sink, SinkError};
pub use detector::{Detector, DetectorError, LearnedFromAttacks, Learning, PacketView, ScoreScale};
pub use engine::{Engine, RunSummary};
pub use error::EngineError;
pub use keys::packet_flow_key;
pub use sinks::{builtin_files, builtin_sinks, DetectorOutputs};
pub use source::{Progress, ProgressFn, Source};
