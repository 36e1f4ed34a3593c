//! [`Collector`]: the per-packet half of the dataset, plugged into the engine as a detector
//! (it raises no alert and scores nothing).
//!
//! Sinks receive ended flows, not packets, so packet sizes, inter-arrival times, per-packet
//! labels and the application events of each flow are gathered here, in the ordered host
//! stage, and handed to the [`DatasetSink`](crate::DatasetSink) through a channel, one
//! [`FlowPart`] per ended flow in the order flows end (the order the sink receives their
//! records in).
//!
//! # Packet → flow, exactly as the flow table does it
//!
//! Every IP layer the flow table would turn into flow state (TCP, UDP, ICMP and other
//! protocols; not pending fragments, malformed transports or IP-level tunnels) is keyed as the
//! table keys it (the canonical 5-tuple with the frame's VLANs) and added to the open accumulator of that key. A packet that finds no
//! accumulator opens one only when Zeek would create a connection for it
//! ([`zeek::creates_connection`]); otherwise the table refused it too and it is counted as
//! refused. The host stage shows a packet to detectors *before* the flows its arrival ended
//! (a timeout found on lookup, a reused 5-tuple, a sweep), so each accumulator keeps its last
//! packet (with the application events of that packet) pending: when the flow of that key
//! ends, the pending packet joins it if it is at or before the flow's last packet, and
//! otherwise opens the key's next flow. Each flow's first and last packet and frame bytes are
//! then compared with the flow table's; a flow that differs counts as inexact in the manifest
//! (none on the reference captures).

use crate::app::AppCounts;
use crate::error::DatasetError;
use crate::labels::{Label, LabelKind, Labels};
use crate::stats::{FlowStats, PacketObs};
use custos_app::AppEvent;
use custos_decode::{Decoded, IpLayer, Transport};
use custos_engine::{AlertQueue, Detector, DetectorError, EndedFlow, PacketView};
use custos_flow::zeek::{self, ZeekConfig};
use custos_flow::{key_ports, packet_info, Addr, Endpoint, FlowKey};
use rustc_hash::FxHashMap;
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex};

/// A packet's place in the run: input file, index within it.
type Pos = (u16, u64);

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
}

/// What the collector counted over the run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct CollectorReport {
    /// IP layers the flow table refused (no connection created, as Zeek).
    pub refused_packets: u64,
    /// Application events whose flow was not open (not counted in any flow).
    pub unmatched_events: u64,
    /// Flows whose packets differ from the flow table's (see the module docs).
    pub inexact_flows: u64,
}

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

/// The labels of the flow so far (per-packet labels).
#[derive(Clone, Copy, Debug, Default)]
struct LabelAcc {
    attack_packets: u64,
    first_attack_phase: Option<u16>,
    first_phase: Option<u16>,
}

/// A packet not yet given to a flow.
#[derive(Debug)]
struct Pending {
    pos: Pos,
    side: usize,
    obs: PacketObs,
    label: Label,
    /// Zeek would create a connection for it.
    creates: bool,
    app: Option<Box<AppCounts>>,
}

/// One open flow as the collector sees it.
#[derive(Debug, Default)]
struct Acc {
    first: Option<Pos>,
    last: Option<Pos>,
    stats: FlowStats,
    labels: LabelAcc,
    app: Option<Box<AppCounts>>,
    pending: Option<Pending>,
}

impl Acc {
    fn commit(&mut self, p: Pending) {
        self.first.get_or_insert(p.pos);
        self.last = Some(p.pos);
        self.stats.push(p.side, &p.obs);
        let l = &mut self.labels;
        if self.stats.packets() == 1 {
            l.first_phase = p.label.phase;
        }
        if p.label.attack {
            l.attack_packets += 1;
            if l.attack_packets == 1 {
                l.first_attack_phase = p.label.phase;
            }
        }
        if let Some(a) = p.app {
            self.app.get_or_insert_with(Box::default).merge(&a);
        }
    }

    fn add(&mut self, p: Pending) {
        if let Some(prev) = self.pending.replace(p) {
            self.commit(prev);
        }
    }
}

/// Gathers what sinks do not see — packets, per-packet labels, application events per flow —
/// and sends one [`FlowPart`] per ended flow to the sink. See the module docs.
pub struct Collector {
    zeek: ZeekConfig,
    labels: Labels,
    open: FxHashMap<FlowKey, Acc>,
    /// Position and VLANs of the packet being processed.
    cur: Pos,
    cur_vlans: [u16; 2],
    tx: Sender<FlowPart>,
    shared: Arc<Mutex<Shared>>,
    report: CollectorReport,
    /// Flows without a per-flow label, and the first one's uid.
    unlabelled: (u64, Option<String>),
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
            zeek,
            labels,
            open: FxHashMap::default(),
            cur: (0, 0),
            cur_vlans: [0; 2],
            tx,
            shared,
            report: CollectorReport::default(),
            unlabelled: (0, None),
        }
    }

    fn fail(&self, e: DatasetError) -> DetectorError {
        DetectorError(fail(&self.shared, e))
    }

    /// Adds one IP layer of the current packet to its flow.
    fn layer(&mut self, layer: &IpLayer<'_>, ts: i64, len: u32, label: Label) {
        let Some(info) = packet_info(ts, layer) else {
            return;
        };
        let (sp, dp) = key_ports(&info.l4);
        let src = Endpoint {
            addr: Addr::from(layer.src),
            port: sp,
        };
        let dst = Endpoint {
            addr: Addr::from(layer.dst),
            port: dp,
        };
        let (key, swapped) = FlowKey::canonical(src, dst, layer.protocol, self.cur_vlans);
        let flags = match layer.transport {
            Transport::Tcp { flags, .. } => flags,
            _ => 0,
        };
        let p = Pending {
            pos: self.cur,
            side: usize::from(swapped),
            obs: PacketObs { ts, len, flags },
            label,
            creates: zeek::creates_connection(&self.zeek, &info),
            app: None,
        };
        match self.open.get_mut(&key) {
            Some(acc) => acc.add(p),
            None if p.creates => self.open.entry(key).or_default().add(p),
            None => self.report.refused_packets += 1,
        }
    }

    /// The finished part of flow `f`, its accumulator `acc` done.
    fn part(&mut self, f: &EndedFlow, key: &FlowKey, acc: Acc) -> FlowPart {
        let flow = &f.flow;
        let first = Some((flow.file, flow.first_index));
        let last = Some((flow.last_file, flow.last_index));
        let orig_is_lo = flow.orig == key.lo;
        let stats = if orig_is_lo {
            acc.stats
        } else {
            acc.stats.swapped()
        };
        let [o, r] = &stats.dirs;
        let exact = acc.first == first
            && acc.last == last
            && [o.bytes, r.bytes] == flow.frame_bytes
            && stats.packets() > 0;
        self.report.inexact_flows += u64::from(!exact);
        let (label, attack_packets) = match self.labels.kind() {
            LabelKind::PerPacket => {
                let l = acc.labels;
                let attack = l.attack_packets > 0;
                let phase = if attack {
                    l.first_attack_phase
                } else {
                    l.first_phase
                };
                (Some(Label { attack, phase }), Some(l.attack_packets))
            }
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
            stats,
            label,
            attack_packets,
            app: acc.app.map(|a| *a).unwrap_or_default(),
            exact,
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

    fn packet(
        &mut self,
        packet: &PacketView<'_>,
        _alerts: &mut AlertQueue,
    ) -> Result<Option<f64>, DetectorError> {
        let m = packet.meta;
        self.cur = (m.file, m.index);
        self.cur_vlans = packet.decoded.vlans;
        let label = match self.labels.kind() {
            LabelKind::PerPacket => self
                .labels
                .packet(m.file, m.index, m.ts)
                .map_err(|e| self.fail(e))?,
            LabelKind::PerFlow => Label::default(),
        };
        let d: &Decoded<'_> = packet.decoded;
        if !d.unsupported_link {
            for layer in d.ip_layers() {
                self.layer(layer, m.ts, m.frame_len, label);
            }
        }
        Ok(None)
    }

    fn event(&mut self, e: &AppEvent, _alerts: &mut AlertQueue) -> Result<(), DetectorError> {
        if e.proto.is_behaviour() {
            return Ok(());
        }
        let pos = (e.file, e.index);
        let ep = |(ip, port): (std::net::IpAddr, u16)| Endpoint {
            addr: Addr::from(ip),
            port,
        };
        let vlans = if pos == self.cur {
            self.cur_vlans
        } else {
            [0; 2]
        };
        let key = FlowKey::canonical(ep(e.client), ep(e.server), e.transport, vlans).0;
        let Some(acc) = self.open.get_mut(&key) else {
            self.report.unmatched_events += 1;
            return Ok(());
        };
        let app = match acc.pending.as_mut() {
            Some(p) if p.pos == pos => &mut p.app,
            _ => &mut acc.app,
        };
        app.get_or_insert_with(Box::default).event(e);
        Ok(())
    }

    fn flow_ended(&mut self, f: &EndedFlow, _alerts: &mut AlertQueue) -> Result<(), DetectorError> {
        let key = f.flow.key();
        let mut acc = self.open.remove(&key).unwrap_or_default();
        if let Some(p) = acc.pending.take() {
            if p.pos <= (f.flow.last_file, f.flow.last_index) {
                acc.commit(p);
            } else if p.creates {
                self.open.entry(key).or_default().add(p);
            } else {
                self.report.refused_packets += 1;
                let events = p.app.map_or(0, |a| a.events());
                self.report.unmatched_events += events;
            }
        }
        let part = self.part(f, &key, acc);
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
            s.collector = Some(self.report);
        }
        Ok(serde_json::to_value(self.report).unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accumulator_stays_small() {
        let sizes = (std::mem::size_of::<Acc>(), std::mem::size_of::<FlowKey>());
        println!("{sizes:?}");
        assert!(sizes.0 <= 512, "{sizes:?}");
    }
}
