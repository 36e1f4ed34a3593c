//! Output sinks: Zeek `conn.log`, Suricata EVE `flow` records, and run statistics.
//!
//! Every writer renders packet time only, so the same input gives byte-identical files.
//! [`Tee`] fans one stream of ended flows out to several sinks.
//!
//! What it does not do: decide anything about flows (see `custos-flow`).
#![deny(missing_docs)]
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

mod conn_log;
mod eve;
mod stats;
pub mod time;

pub use conn_log::{is_private, proto_name, ConnLogWriter, FIELDS as CONN_FIELDS};
pub use eve::{eve_proto, EveFlowWriter};
pub use stats::{FileStats, RunStats, Stats};

use custos_flow::{ConnSummary, EndReason, Flow, FlowSink};

/// Sends every ended flow to two sinks, in order.
pub struct Tee<'a, A: FlowSink, B: FlowSink> {
    /// First sink.
    pub a: &'a mut A,
    /// Second sink.
    pub b: &'a mut B,
}

impl<A: FlowSink, B: FlowSink> FlowSink for Tee<'_, A, B> {
    fn flow_ended(
        &mut self,
        flow: &Flow,
        summary: &ConnSummary,
        reason: EndReason,
    ) -> std::io::Result<()> {
        self.a.flow_ended(flow, summary, reason)?;
        self.b.flow_ended(flow, summary, reason)
    }
}
