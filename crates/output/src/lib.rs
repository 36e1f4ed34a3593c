//! Output records and sinks: the [`Sink`] trait and the typed [`Record`]s it receives, the one
//! [`Alert`] type, and the built-in file sinks (Zeek `conn.log`, Suricata EVE flows, alerts
//! and application events, scores, devices, findings, run statistics), plain or zstd.
//!
//! Every writer renders packet time only, so the same input gives byte-identical files.
//!
//! What it does not do: decide anything about flows (see `custos-flow`).
#![deny(missing_docs)]
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

mod alert;
mod conn_log;
mod eve;
pub mod out_file;
mod push;
mod record;
mod sink;
pub mod sinks;
mod stats;
pub mod summary;
pub mod time;

pub use alert::{Alert, AlertContext, AlertInfo, Explanation, ModelSignature};
pub use conn_log::{is_private, proto_name, ConnLogWriter, FIELDS as CONN_FIELDS};
pub use eve::{eve_proto_name, EveFlowWriter};
pub use out_file::{open_output, Compression, OutFile};
pub use record::{Record, RecordKinds, ScoreRow, MAX_SCORE_COLUMNS};
pub use sink::{RunEnd, RunInfo, Sink, SinkError};
pub use stats::{AppSummary, FileStats, LiveStats, RunStats, Stats, TimeSpan};
