//! [`Collector`]: the per-packet half of the dataset, plugged into the engine as a detector
//! (it raises no alert and scores nothing).
//!
//! Sinks receive ended flows, not packets, so packet sizes, inter-arrival times, per-packet
//! labels and the application events of each flow are gathered here, in the ordered host
//! stage, by a [`FlowTracker`] (which assigns packets to flows exactly as the flow table does),
//! and handed to the [`DatasetSink`](crate::DatasetSink) through a channel, one [`FlowPart`]
//! per ended flow in the order flows end (the order the sink receives their records in).

use crate::error::DatasetError;
use crate::labels::{Label, LabelKind, Labels};
use custos_app::AppEvent;
use custos_engine::{AlertQueue, Detector, DetectorError, EndedFlow, PacketView};
use custos_features::flow::{
    AppCounts, FlowStats, FlowTracker, HostFeatures, Snapshot, TrackerReport,
};
use custos_flow::zeek::ZeekConfig;
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex};

/// What the collector hands the sink for one ended flow.
#[derive(Debug)]
pub struct FlowPart {
    /// [`custos_flow::Flow::uid_seed`] of the flow, to check the pairing.
    pub uid_seed: u64,
    /// Statistics, side 0 = originator, side 1 = responder.
    pub stats: FlowStats,
    /// The flow's label (`None`: per-flow labels name no such uid).
    pub label: Option<Label>,
    /// Packets labelled attack (per-packet labels only).
    pub attack_packets: Option<u64>,
    /// Application counts.
    pub app: AppCounts,
    /// The packets gathered are exactly the flow table's (first, last, frame bytes).
    pub exact: bool,
    /// The flow at its checkpoints (1, 2, 4, … packets), for `flow-prefixes.parquet`.
    pub snapshots: Vec<Snapshot>,
    /// Host features, fixed at its first packet.
    pub host: HostFeatures,
}

/// What the collector counted over the run.
pub type CollectorReport = TrackerReport;

/// State shared by the collector, the sink and [`crate::build`]: the first failure (typed;
/// the engine only carries its message) and the reports.
#[derive(Debug, Default)]
pub(crate) struct Shared {
    pub failure: Option<DatasetError>,
    pub collector: Option<CollectorReport>,
    pub sink: Option<crate::sink::SinkReport>,
}

/// Sets the first failure and returns the engine's copy of it.
pub(crate) fn fail(shared: &Mutex<Shared>, e: DatasetError) -> String {
    let msg = e.to_string();
    if let Ok(mut s) = shared.lock() {
        s.failure.get_or_insert(e);
    }
    msg
}

/// Gathers what sinks do not see — packets, per-packet labels, application events per flow —
/// and sends one [`FlowPart`] per ended flow to the sink. See the module docs.
pub struct Collector {
    labels: Labels,
    tracker: FlowTracker,
    tx: Sender<FlowPart>,
    shared: Arc<Mutex<Shared>>,
    /// Flows without a per-flow label, and the first one's uid.
    unlabelled: (u64, Option<String>),
    /// Scratch for the keys a packet touched.
    touched: Vec<custos_flow::FlowKey>,
}

impl Collector {
    /// A collector applying `labels`, with the flow table's Zeek settings, sending to `tx`.
    pub(crate) fn new(
        labels: Labels,
        zeek: ZeekConfig,
        tx: Sender<FlowPart>,
        shared: Arc<Mutex<Shared>>,
    ) -> Self {
        Collector {
            labels,
            tracker: FlowTracker::new(zeek, true).restart_hosts_at_each_file(),
            tx,
            shared,
            unlabelled: (0, None),
            touched: Vec::new(),
        }
    }

    fn fail(&self, e: DatasetError) -> DetectorError {
        DetectorError(fail(&self.shared, e))
    }

    /// The finished part of the ended flow `f`.
    fn part(&mut self, f: &EndedFlow) -> FlowPart {
        let flow = &f.flow;
        let tracked = self.tracker.ended(f);
        let (label, attack_packets) = match self.labels.kind() {
            LabelKind::PerPacket => (
                Some(tracked.labels.label()),
                Some(tracked.labels.attack_packets),
            ),
            LabelKind::PerFlow => {
                let uid = flow.uid();
                let label = self.labels.flow(&uid);
                if label.is_none() {
                    self.unlabelled.0 += 1;
                    self.unlabelled.1.get_or_insert(uid);
                }
                (label, None)
            }
        };
        FlowPart {
            uid_seed: flow.uid_seed(),
            stats: tracked.stats,
            label,
            attack_packets,
            app: tracked.app,
            exact: tracked.exact,
            snapshots: tracked.snapshots,
            host: tracked.host,
        }
    }

    /// Checks, at the end, that per-flow labels and flows match one to one.
    fn check_flow_labels(&self) -> Result<(), DatasetError> {
        if self.labels.kind() != LabelKind::PerFlow {
            return Ok(());
        }
        let path = self.labels.paths().first().cloned().unwrap_or_default();
        if let (n @ 1.., Some(uid)) = &self.unlabelled {
            return Err(DatasetError::mismatch(
                &path,
                format!("{n} flows have no per-flow label (the first: uid {uid})"),
            ));
        }
        match self.labels.unused() {
            (n @ 1.., Some((file, line, uid))) => Err(DatasetError::mismatch(
                &file,
                format!(
                    "{n} labelled uids are no flow of this run (the first: {uid} on line \
                     {line}): uids depend on the captures, their order and the flow settings"
                ),
            )),
            _ => Ok(()),
        }
    }
}

impl Detector for Collector {
    fn name(&self) -> &str {
        "dataset"
    }

    fn raises_alerts(&self) -> bool {
        false
    }

    fn packet(
        &mut self,
        packet: &PacketView<'_>,
        _alerts: &mut AlertQueue,
    ) -> Result<Option<f64>, DetectorError> {
        let m = packet.meta;
        let label = match self.labels.kind() {
            LabelKind::PerPacket => self
                .labels
                .packet(m.file, m.index, m.ts)
                .map_err(|e| self.fail(e))?,
            LabelKind::PerFlow => Label::default(),
        };
        self.touched.clear();
        self.tracker
            .packet(m, packet.decoded, label, &mut self.touched);
        Ok(None)
    }

    fn event(&mut self, e: &AppEvent, _alerts: &mut AlertQueue) -> Result<(), DetectorError> {
        self.tracker.event(e);
        Ok(())
    }

    fn flow_ended(&mut self, f: &EndedFlow, _alerts: &mut AlertQueue) -> Result<(), DetectorError> {
        let part = self.part(f);
        self.tx.send(part).map_err(|_| {
            self.fail(DatasetError::Pairing {
                uid: f.flow.uid(),
                message: "the dataset sink is gone".into(),
            })
        })
    }

    fn finish(&mut self) -> Result<serde_json::Value, DetectorError> {
        self.check_flow_labels().map_err(|e| self.fail(e))?;
        if let Ok(mut s) = self.shared.lock() {
            s.collector = Some(self.tracker.report());
        }
        Ok(serde_json::to_value(self.tracker.report()).unwrap_or_default())
    }
}
