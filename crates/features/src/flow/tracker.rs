//! [`FlowTracker`]: packets and application events → per-flow statistics, exactly as the
//! flow table assigns packets to flows, in the ordered host stage of the engine.
//!
//! Shared by `custos-dataset`'s collector (which adds labels and hands each ended flow to the
//! dataset sink) and the supervised flow detector (which scores flows while they live, from
//! [`FlowTracker::live_features`]).
//!
//! # Packet → flow, exactly as the flow table does it
//!
//! Every IP layer the flow table would turn into flow state (TCP, UDP, ICMP and other
//! protocols; not pending fragments, malformed transports or IP-level tunnels) is keyed as the
//! table keys it (the canonical 5-tuple with the frame's VLANs) and added to the open
//! accumulator of that key. A packet that finds no accumulator opens one only when Zeek would
//! create a connection for it ([`zeek::creates_connection`]); otherwise the table refused it
//! too and it is counted as refused. The host stage shows a packet to detectors *before* the
//! flows its arrival ended (a timeout found on lookup, a reused 5-tuple, a sweep), so each
//! accumulator keeps its last packet (with the application events of that packet) pending:
//! when the flow of that key ends, the pending packet joins it if it is at or before the
//! flow's last packet, and otherwise opens the key's next flow. Each flow's first and last
//! packet and frame bytes are then compared with the flow table's; a flow that differs counts
//! as inexact (none on the reference captures).
//!
//! # Snapshots
//!
//! With snapshots on, each flow records its statistics when its packet count reaches 1, 2, 4,
//! 8, … ([`is_checkpoint`]): the statistics with that packet, the application counts of the
//! packets before it (a packet's events arrive after the packet, so a live scorer at that
//! packet has not seen them yet). [`FlowTracker::live_features`] gives a live flow's features
//! with exactly that rule, so a model trained on snapshots sees what it will see live.

use super::app::AppCounts;
use super::stats::{FlowStats, PacketObs};
use custos_app::AppEvent;
use custos_decode::{Decoded, IpLayer, Transport};
use custos_flow::zeek::{self, ZeekConfig};
use custos_flow::{key_ports, packet_info, Addr, EndedFlow, Endpoint, FlowKey, PacketMeta};
use rustc_hash::FxHashMap;

/// A packet's place in the run: input file, index within it.
pub(crate) type Pos = (u16, u64);

/// The label of one packet or flow (ground truth, from a labels file).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Label {
    /// Labelled attack.
    pub attack: bool,
    /// Its phase, an index into the labels' phase names (`None`: none named).
    pub phase: Option<u16>,
}

/// True for the packet counts at which flows are scored and snapshots taken: 1, 2, 4, 8, …
pub fn is_checkpoint(packets: u64) -> bool {
    packets.is_power_of_two()
}

/// The labels of a flow so far (per-packet labels).
#[derive(Clone, Copy, Debug, Default)]
pub struct LabelAcc {
    /// Packets labelled attack.
    pub attack_packets: u64,
    /// Phase of the first attack packet.
    pub first_attack_phase: Option<u16>,
    /// Phase of the first packet.
    pub first_phase: Option<u16>,
}

impl LabelAcc {
    /// The flow's label: attack when any packet is, with the phase of its first attack packet
    /// (else of its first packet).
    pub fn label(&self) -> Label {
        let attack = self.attack_packets > 0;
        let phase = if attack {
            self.first_attack_phase
        } else {
            self.first_phase
        };
        Label { attack, phase }
    }
}

/// A flow as it was when its packet count reached a checkpoint (see the module docs).
#[derive(Clone, Debug)]
pub struct Snapshot {
    /// Packets so far (a checkpoint: 1, 2, 4, …).
    pub packets: u64,
    /// Statistics with those packets; side 0 is the originator once the flow has ended.
    pub stats: FlowStats,
    /// Application counts of the packets before the last one.
    pub app: AppCounts,
    /// Labels of those packets.
    pub labels: LabelAcc,
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
    /// The responder port as the flow table would give it (the packet's destination port).
    resp_port: u16,
    app: Option<Box<AppCounts>>,
}

/// One open flow.
#[derive(Debug, Default)]
struct Acc {
    first: Option<Pos>,
    last: Option<Pos>,
    /// Side and responder port of the flow's first packet (the presumed originator).
    origin: Option<(bool, u16)>,
    stats: FlowStats,
    labels: LabelAcc,
    app: Option<Box<AppCounts>>,
    pending: Option<Pending>,
    snapshots: Option<Vec<Snapshot>>,
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
        let n = self.stats.packets();
        if let Some(s) = self.snapshots.as_mut().filter(|_| is_checkpoint(n)) {
            s.push(Snapshot {
                packets: n,
                stats: self.stats,
                app: self.app.as_deref().copied().unwrap_or_default(),
                labels: self.labels,
            });
        }
        if let Some(a) = p.app {
            self.app.get_or_insert_with(Box::default).merge(&a);
        }
    }

    fn add(&mut self, p: Pending) {
        self.origin.get_or_insert((p.side == 1, p.resp_port));
        if let Some(prev) = self.pending.replace(p) {
            self.commit(prev);
        }
    }
}

/// An ended flow's accumulated state, oriented so that side 0 is the flow's originator.
#[derive(Debug)]
pub struct TrackedFlow {
    /// Statistics.
    pub stats: FlowStats,
    /// Labels of its packets (per-packet labels; default otherwise).
    pub labels: LabelAcc,
    /// Application counts.
    pub app: AppCounts,
    /// The packets gathered are exactly the flow table's (first, last, frame bytes).
    pub exact: bool,
    /// Snapshots at its checkpoints (empty unless snapshots are on).
    pub snapshots: Vec<Snapshot>,
}

/// What the tracker counted over the run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct TrackerReport {
    /// IP layers the flow table refused (no connection created, as Zeek).
    pub refused_packets: u64,
    /// Application events whose flow was not open (not counted in any flow).
    pub unmatched_events: u64,
    /// Flows whose packets differ from the flow table's (see the module docs).
    pub inexact_flows: u64,
}

/// Per-flow statistics of the open flows; see the module docs.
pub struct FlowTracker {
    zeek: ZeekConfig,
    open: FxHashMap<FlowKey, Acc>,
    /// Position and VLANs of the packet being processed.
    cur: Pos,
    cur_vlans: [u16; 2],
    snapshots: bool,
    report: TrackerReport,
}

impl FlowTracker {
    /// A tracker with the flow table's Zeek settings; `snapshots` records each flow's
    /// checkpoints.
    pub fn new(zeek: ZeekConfig, snapshots: bool) -> Self {
        FlowTracker {
            zeek,
            open: FxHashMap::default(),
            cur: (0, 0),
            cur_vlans: [0; 2],
            snapshots,
            report: TrackerReport::default(),
        }
    }

    /// What was counted so far.
    pub fn report(&self) -> TrackerReport {
        self.report
    }

    /// Open flows.
    pub fn open_flows(&self) -> usize {
        self.open.len()
    }

    /// Adds every IP layer of a packet to its flow, labelled `label`; the keys of the flows
    /// that took it are appended to `touched`.
    pub fn packet(
        &mut self,
        meta: &PacketMeta,
        decoded: &Decoded<'_>,
        label: Label,
        touched: &mut Vec<FlowKey>,
    ) {
        self.cur = (meta.file, meta.index);
        self.cur_vlans = decoded.vlans;
        if decoded.unsupported_link {
            return;
        }
        for layer in decoded.ip_layers() {
            if let Some(key) = self.layer(layer, meta.ts, meta.frame_len, label) {
                touched.push(key);
            }
        }
    }

    /// Adds one IP layer of the current packet to its flow; returns the flow's key.
    fn layer(&mut self, layer: &IpLayer<'_>, ts: i64, len: u32, label: Label) -> Option<FlowKey> {
        let info = packet_info(ts, layer)?;
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
            resp_port: dp,
            app: None,
        };
        let snapshots = self.snapshots;
        match self.open.get_mut(&key) {
            Some(acc) => acc.add(p),
            None if p.creates => {
                let acc = self.open.entry(key).or_default();
                if snapshots {
                    acc.snapshots = Some(Vec::new());
                }
                acc.add(p);
            }
            None => {
                self.report.refused_packets += 1;
                return None;
            }
        }
        Some(key)
    }

    /// The features ([`super::live`]) of the open flow `key` as they are now, its latest
    /// packet included and that packet's application events not yet (see the module docs),
    /// oriented from the sender of its first packet; returns its packet count, or `None` when
    /// no such flow is open.
    pub fn live_features(&self, key: &FlowKey, proto: u8, out: &mut Vec<f64>) -> Option<u64> {
        let acc = self.open.get(key)?;
        let mut stats = acc.stats;
        if let Some(p) = &acc.pending {
            stats.push(p.side, &p.obs);
        }
        let (side, resp_port) = acc.origin?;
        if side {
            stats = stats.swapped();
        }
        let app = acc.app.as_deref().copied().unwrap_or_default();
        super::live::features(resp_port, proto, &stats, &app, out);
        Some(stats.packets())
    }

    /// Packets of the open flow `key` so far, its latest (pending) packet included; `None`
    /// when no such flow is open.
    pub fn packets(&self, key: &FlowKey) -> Option<u64> {
        let acc = self.open.get(key)?;
        Some(acc.stats.packets() + u64::from(acc.pending.is_some()))
    }

    /// Counts an application event for its flow.
    pub fn event(&mut self, e: &AppEvent) {
        if e.proto.is_behaviour() {
            return;
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
            return;
        };
        let app = match acc.pending.as_mut() {
            Some(p) if p.pos == pos => &mut p.app,
            _ => &mut acc.app,
        };
        app.get_or_insert_with(Box::default).event(e);
    }

    /// Closes the accumulator of an ended flow and returns it, oriented by the flow's
    /// originator. A pending packet after the flow's last packet opens the key's next flow.
    pub fn ended(&mut self, f: &EndedFlow) -> TrackedFlow {
        let flow = &f.flow;
        let key = flow.key();
        let mut acc = self.open.remove(&key).unwrap_or_default();
        if let Some(p) = acc.pending.take() {
            if p.pos <= (flow.last_file, flow.last_index) {
                acc.commit(p);
            } else if p.creates {
                let next = self.open.entry(key).or_default();
                if self.snapshots {
                    next.snapshots = Some(Vec::new());
                }
                next.add(p);
            } else {
                self.report.refused_packets += 1;
                let events = p.app.map_or(0, |a| a.events());
                self.report.unmatched_events += events;
            }
        }
        let orient = |s: FlowStats| {
            if flow.orig == key.lo {
                s
            } else {
                s.swapped()
            }
        };
        let stats = orient(acc.stats);
        let [o, r] = &stats.dirs;
        let exact = acc.first == Some((flow.file, flow.first_index))
            && acc.last == Some((flow.last_file, flow.last_index))
            && [o.bytes, r.bytes] == flow.frame_bytes
            && stats.packets() > 0;
        self.report.inexact_flows += u64::from(!exact);
        let snapshots = acc
            .snapshots
            .unwrap_or_default()
            .into_iter()
            .map(|s| Snapshot {
                stats: orient(s.stats),
                ..s
            })
            .collect();
        TrackedFlow {
            stats,
            labels: acc.labels,
            app: acc.app.map(|a| *a).unwrap_or_default(),
            exact,
            snapshots,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accumulator_stays_small() {
        let sizes = (std::mem::size_of::<Acc>(), std::mem::size_of::<FlowKey>());
        println!("{sizes:?}");
        // About half a KiB per open flow: 1 M open flows fit in 0.6 GB.
        assert!(sizes.0 <= 576, "{sizes:?}");
    }

    #[test]
    fn checkpoints_are_powers_of_two() {
        let c: Vec<u64> = (0..20).filter(|&n| is_checkpoint(n)).collect();
        assert_eq!(c, [1, 2, 4, 8, 16]);
    }
}
