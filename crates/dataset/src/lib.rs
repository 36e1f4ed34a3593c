//! Labelled per-flow datasets with provenance (`custos dataset build`).
//!
//! [`build`] runs the engine over capture files and writes a dataset directory:
//!
//! - `flows.parquet`: one row per flow — identifiers, nfstream-style statistical features
//!   (packet sizes, inter-arrival times, TCP flags per direction), Zeek's byte counters,
//!   application features (MQTT, telnet, FTP, HTTP, DNS event counts) and the label
//!   ([`schema::columns`], docs/dataset.md);
//! - `manifest.json` ([`Manifest`]): SHA-256 of every input, the labelling rule, the feature
//!   schema and its version, custos version and settings, counts per label, phase and device,
//!   time span, duplicate flows;
//! - `datasheet.md` and `datasheet.json` ([`Datasheet`]): Gebru et al.'s questions, answered
//!   from the run where custos can and from `--datasheet info.toml` ([`Info`]) otherwise.
//!
//! How the parts connect: sinks see ended flows but not packets, so the work is split in two.
//! [`Collector`] is added as a detector (it raises no alert): in the ordered host stage it
//! sees every packet, its label and the application events, keeps per-flow statistics exactly
//! as the flow table assigns packets to flows, and sends one part per ended flow through a
//! channel. [`DatasetSink`] is added as a sink: for each `Record::Flow` it takes that part,
//! builds the row and writes full batches as Parquet row groups. [`plug`] makes the pair
//! for an engine of your own; [`build`] does everything.
//!
//! ```no_run
//! use custos_dataset::build;
//! use custos_engine::EngineConfig;
//! use std::path::Path;
//! let captures = ["lab.pcap".into()];
//! let labels = ["lab.labels.csv".into()];
//! let m = build(&captures, &labels, Path::new("DS"), None, EngineConfig::default())?;
//! println!("{} flows, SHA-256 {}", m.output.rows, m.output.sha256);
//! # Ok::<(), custos_dataset::DatasetError>(())
//! ```
//!
//! The same captures, labels, info file, settings and custos version give the same bytes in
//! every file, at any thread count. With feature `clap`, `flags` holds the command-line
//! options of `custos dataset build` and `custos train --detector flow`.
//!
//! What it does not do: read from standard input or live interfaces (inputs must be hashed),
//! label traffic itself (labels come from `custos lab` or a per-flow CSV), split or balance
//! the data, or train models.
#![deny(missing_docs)]
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

mod answers;
mod builder;
mod collector;
pub mod counts;
pub mod datasheet;
mod error;
#[cfg(feature = "clap")]
pub mod flags;
mod flow_report;
pub mod flow_train;
pub mod labels;
pub mod manifest;
mod reader;
pub mod schema;
pub mod screening;
mod sink;
mod writer;

pub use builder::{build, plug, Plugged, DATASET_FILES};
pub use collector::{Collector, CollectorReport, FlowPart};
pub use datasheet::{Datasheet, Info};
pub use error::DatasetError;
pub use flow_train::{
    train_flow_model, write_flow_model_dir, FlowTrainOptions, PhaseWeights, TrainedFlowModel,
};
pub use labels::{Label, LabelKind, Labels};
pub use manifest::{Manifest, MANIFEST_FILE};
pub use reader::{read_features, FeatureTable};
pub use schema::{prefix_columns, FEATURE_SCHEMA, FEATURE_SCHEMA_VERSION};
pub use sink::{DatasetSink, SinkReport, FLOWS_FILE, PREFIXES_FILE};
pub use writer::ROW_GROUP_ROWS;
