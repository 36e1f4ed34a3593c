//! [`DatasetSink`]: the per-flow half of the dataset, an engine [`Sink`].
//!
//! For every ended flow it takes the [`FlowPart`] the [`Collector`](crate::Collector) sent
//! for it (the same flow: checked by uid), builds the row, counts it for the manifest and
//! buffers it; full batches are written as Parquet row groups. The file is written as
//! `flows.parquet.partial` and renamed to `flows.parquet` when the run ends; a run that fails
//! leaves no Parquet file.

use crate::collector::{fail, FlowPart, Shared};
use crate::counts::{Counter, Counts, Duplicates};
use crate::error::DatasetError;
use crate::schema::{self, Column, Value};
use crate::writer::ParquetOut;
use custos_engine::{EndedFlow, Record, RecordKinds, RunEnd, Sink, SinkError};
use std::path::{Path, PathBuf};
use std::sync::mpsc::Receiver;
use std::sync::{Arc, Mutex};

/// The Parquet file's name in the dataset directory.
pub const FLOWS_FILE: &str = "flows.parquet";

/// The file of flow prefixes: each flow at 1, 2, 4, … packets ([`crate::prefix_columns`]).
pub const PREFIXES_FILE: &str = "flow-prefixes.parquet";

/// What the sink wrote and counted.
#[derive(Clone, Debug, Default)]
pub struct SinkReport {
    /// Rows written.
    pub rows: u64,
    /// Row groups written.
    pub row_groups: u64,
    /// Counts per label, phase and device.
    pub counts: Counts,
    /// First and last packet time over all flows, ns.
    pub span: Option<(i64, i64)>,
    /// Duplicate flows.
    pub duplicates: Duplicates,
    /// Rows and row groups of `flow-prefixes.parquet`.
    pub prefixes: (u64, u64),
}

/// Writes one Parquet row per ended flow; see the module docs.
pub struct DatasetSink {
    out: ParquetOut,
    partial: PathBuf,
    path: PathBuf,
    prefixes: ParquetOut,
    prefixes_partial: PathBuf,
    prefixes_path: PathBuf,
    prefix_rows: u64,
    phases: Vec<String>,
    rx: Receiver<FlowPart>,
    counter: Counter,
    values: Vec<Value>,
    rows: u64,
    shared: Arc<Mutex<Shared>>,
    done: bool,
}

impl DatasetSink {
    /// A sink writing `dir/flows.parquet` (through `flows.parquet.partial`), receiving the
    /// collector's parts on `rx`; `phases` names the labels' phases.
    pub(crate) fn create(
        dir: &Path,
        phases: Vec<String>,
        rx: Receiver<FlowPart>,
        shared: Arc<Mutex<Shared>>,
    ) -> Result<DatasetSink, DatasetError> {
        let columns: Vec<Column> = schema::columns();
        let path = dir.join(FLOWS_FILE);
        let partial = dir.join(format!("{FLOWS_FILE}.partial"));
        let out = ParquetOut::create(&partial, &columns)?;
        let prefixes_path = dir.join(PREFIXES_FILE);
        let prefixes_partial = dir.join(format!("{PREFIXES_FILE}.partial"));
        let prefixes = ParquetOut::create(&prefixes_partial, &schema::prefix_columns())?;
        Ok(DatasetSink {
            out,
            partial,
            path,
            prefixes,
            prefixes_partial,
            prefixes_path,
            prefix_rows: 0,
            phases,
            rx,
            counter: Counter::new(&columns),
            values: Vec::with_capacity(columns.len()),
            rows: 0,
            shared,
            done: false,
        })
    }

    fn error(&self, e: DatasetError) -> SinkError {
        let msg = fail(&self.shared, e);
        SinkError::new(self.name(), std::io::Error::other(msg))
    }

    fn flow(&mut self, f: &EndedFlow) -> Result<(), DatasetError> {
        let pairing = |message: &str| DatasetError::Pairing {
            uid: f.flow.uid(),
            message: message.into(),
        };
        let part = self.rx.try_recv().map_err(|_| {
            pairing("no packet statistics from the collector (is it added as a detector?)")
        })?;
        if part.uid_seed != f.flow.uid_seed() {
            return Err(pairing("the collector's statistics are another flow's"));
        }
        self.values.clear();
        schema::row(f, &part, &self.phases, &mut self.values);
        let label = part.label.unwrap_or_default();
        let phase = label
            .phase
            .and_then(|p| self.phases.get(usize::from(p)))
            .map(String::as_str);
        let addrs = [f.flow.orig.addr.ip(), f.flow.resp.addr.ip()];
        let span = (f.summary.start_ts, f.summary.last_ts);
        self.counter
            .row(&self.values, label.attack, phase, addrs, span);
        self.counter.counts.inexact_flows += u64::from(!part.exact);
        self.rows += 1;
        self.out.push(self.values.drain(..))?;
        for snap in &part.snapshots {
            schema::prefix_row(f, snap, &self.phases, &mut self.values);
            self.prefix_rows += 1;
            self.prefixes.push(self.values.drain(..))?;
        }
        Ok(())
    }

    fn close(&mut self) -> Result<SinkReport, DatasetError> {
        let row_groups = self.out.close()?;
        let prefix_groups = self.prefixes.close()?;
        for (from, to) in [
            (&self.partial, &self.path),
            (&self.prefixes_partial, &self.prefixes_path),
        ] {
            std::fs::rename(from, to)
                .map_err(|e| DatasetError::io(format!("cannot rename to {}", to.display()), e))?;
        }
        self.done = true;
        Ok(SinkReport {
            rows: self.rows,
            row_groups,
            counts: self.counter.counts.clone(),
            span: self.counter.span,
            duplicates: self.counter.duplicates(),
            prefixes: (self.prefix_rows, prefix_groups),
        })
    }
}

impl Sink for DatasetSink {
    fn name(&self) -> &str {
        "dataset"
    }

    fn reads(&self) -> RecordKinds {
        RecordKinds::FLOWS
    }

    fn record(&mut self, record: &Record) -> Result<(), SinkError> {
        match record {
            Record::Flow(f) => self.flow(f).map_err(|e| self.error(e)),
            _ => Ok(()),
        }
    }

    fn finish(&mut self, _end: &RunEnd) -> Result<Option<serde_json::Value>, SinkError> {
        if let Ok(extra) = self.rx.try_recv() {
            let e = DatasetError::Pairing {
                uid: format!("(uid seed {:#x})", extra.uid_seed),
                message: "the collector sent statistics for a flow the sink never saw".into(),
            };
            return Err(self.error(e));
        }
        let report = self.close().map_err(|e| self.error(e))?;
        let summary = serde_json::json!({
            "rows": report.rows,
            "row_groups": report.row_groups,
        });
        if let Ok(mut s) = self.shared.lock() {
            s.sink = Some(report);
        }
        Ok(Some(summary))
    }
}

impl Drop for DatasetSink {
    fn drop(&mut self) {
        if !self.done {
            // A failed run leaves no Parquet file; there is no one left to tell if this fails.
            let _ = std::fs::remove_file(&self.partial);
            let _ = std::fs::remove_file(&self.prefixes_partial);
        }
    }
}
