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
//!
//! # Live scoring
//!
//! A live scorer keeps its own state per flow (`S` of [`FlowTracker<S>`]) in the flow's
//! accumulator: [`FlowTracker::packet_with`] hands it a [`LiveFlow`] for each flow the packet
//! joined — packet count, live features and that state, all from the one lookup that added the
//! packet — and [`FlowTracker::ended`] returns the state with the ended flow, so the scorer
//! needs no flow map of its own.

use super::app::{AppCounts, LoginOutcome};
use super::host::{HostContext, HostFeatures};
pub use super::labels::{is_checkpoint, Label, LabelAcc, Snapshot};
use super::stats::{FlowStats, PacketObs};
use custos_app::AppEvent;
use custos_decode::{Decoded, IpLayer, Transport};
use custos_flow::keyed_hash::KeyedMap;
use custos_flow::zeek::{self, ZeekConfig};
use custos_flow::{key_ports, packet_info, Addr, EndedFlow, Endpoint, FlowKey, PacketMeta};
use std::collections::hash_map::Entry;

/// The application counts of a flow without application events.
static NO_APP: AppCounts = AppCounts([0; super::app::APP_COLUMNS.len()]);

/// A packet's place in the run: input file, index within it.
pub(crate) type Pos = (u16, u64);

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

/// One open flow, with a live scorer's state `S`.
#[derive(Debug, Default)]
struct Acc<S> {
    first: Option<Pos>,
    last: Option<Pos>,
    /// Side and responder port of the flow's first packet (the presumed originator).
    origin: Option<(bool, u16)>,
    stats: FlowStats,
    labels: LabelAcc,
    app: Option<Box<AppCounts>>,
    pending: Option<Pending>,
    snapshots: Option<Vec<Snapshot>>,
    /// Its host features, fixed at its first packet.
    host: HostFeatures,
    /// An application event was counted since the latest packet was added.
    app_changed: bool,
    /// The live scorer's state.
    state: S,
}

impl<S> Acc<S> {
    /// Adds the packet to the statistics; returns its application counts' box when they
    /// were merged into the flow's (for reuse).
    fn commit(&mut self, p: Pending) -> Option<Box<AppCounts>> {
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
                host: self.host,
            });
        }
        match (&mut self.app, p.app) {
            (Some(app), Some(a)) => {
                app.merge(&a);
                Some(a)
            }
            // The first counts: taken as they are (merged into zeros they would not change).
            (app @ None, a) => {
                *app = a;
                None
            }
            (Some(_), None) => None,
        }
    }

    /// Adds a packet, pending; returns a box of application counts freed by the packet it
    /// committed, if any.
    fn add(&mut self, p: Pending) -> Option<Box<AppCounts>> {
        self.origin.get_or_insert((p.side == 1, p.resp_port));
        self.app_changed = false;
        let prev = self.pending.replace(p)?;
        self.commit(prev)
    }

    /// Packets so far, the pending one included.
    fn packets(&self) -> u64 {
        self.stats.packets() + u64::from(self.pending.is_some())
    }

    /// See [`FlowTracker::live_features`].
    fn live_features(&self, proto: u8, out: &mut Vec<f64>) -> Option<u64> {
        let (side, resp_port) = self.origin?;
        let mut stats = self.stats;
        if let Some(p) = &self.pending {
            stats.push(p.side, &p.obs);
        }
        if side {
            stats.dirs.swap(0, 1);
        }
        let app = self.app.as_deref().unwrap_or(&NO_APP);
        super::live::features(resp_port, proto, &stats, app, &self.host, out);
        Some(stats.packets())
    }
}

/// An open flow that just took a packet, as [`FlowTracker::packet_with`] shows it to a live
/// scorer.
pub struct LiveFlow<'a, S> {
    key: FlowKey,
    acc: &'a mut Acc<S>,
}

impl<S> LiveFlow<'_, S> {
    /// The flow's key.
    pub fn key(&self) -> &FlowKey {
        &self.key
    }

    /// Packets so far, this one included.
    pub fn packets(&self) -> u64 {
        self.acc.packets()
    }

    /// Appends the flow's live features to `out`, as [`FlowTracker::live_features`] does.
    pub fn features(&self, out: &mut Vec<f64>) -> Option<u64> {
        self.acc.live_features(self.key.proto, out)
    }

    /// For a flow of one packet, with no application counts: its responder port, frame
    /// length, TCP flags and host features. Its live features are a function of these and the
    /// key's IP protocol alone (one packet has no inter-arrival times and no duration, and it
    /// is on the originator's side), so a scorer may remember its score by them. `None` for
    /// other flows.
    pub fn first_packet(&self) -> Option<(u16, u32, u8, &HostFeatures)> {
        let a = &*self.acc;
        let p = a.pending.as_ref()?;
        let (_, resp_port) = a.origin?;
        (a.stats.packets() == 0 && a.app.is_none() && p.app.is_none()).then_some((
            resp_port,
            p.obs.len,
            p.obs.flags,
            &a.host,
        ))
    }

    /// True when this packet comes from the flow's originator (the sender of its first
    /// packet), false when from its responder.
    pub fn from_originator(&self) -> bool {
        match (&self.acc.pending, self.acc.origin) {
            (Some(p), Some((side, _))) => (p.side == 1) == side,
            _ => true,
        }
    }

    /// The scorer's state for this flow (`S::default()` when the flow opened).
    pub fn state(&mut self) -> &mut S {
        &mut self.acc.state
    }
}

/// An ended flow's accumulated state, oriented so that side 0 is the flow's originator.
#[derive(Debug)]
pub struct TrackedFlow<S = ()> {
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
    /// Host features, fixed at its first packet ([`super::host`]).
    pub host: HostFeatures,
    /// Its features at the end ([`super::live::features`] of `stats` and `app` with the
    /// flow's responder port) are exactly the live features it had at its last packet: that
    /// packet was its last, no application event came after it, and the flow table's
    /// originator is the sender of its first packet.
    pub as_last_seen: bool,
    /// The live scorer's state.
    pub state: S,
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

/// Per-flow statistics of the open flows, with a live scorer's state `S` for each; see the
/// module docs.
pub struct FlowTracker<S = ()> {
    zeek: ZeekConfig,
    /// The open flows' slots in `accs`. Accumulators are large: kept apart, they are not
    /// moved when the map grows, and a slot freed by an ended flow is reused by the next.
    open: KeyedMap<FlowKey, usize>,
    /// Accumulators by slot; free slots hold `Acc::default()`.
    accs: Vec<Acc<S>>,
    /// Free slots of `accs`.
    free: Vec<usize>,
    /// The hosts' recent flows, for each new flow's host features.
    hosts: HostContext,
    /// A box of application counts to reuse (one is needed for each packet with events).
    spare_app: Option<Box<AppCounts>>,
    /// Position and VLANs of the packet being processed.
    cur: Pos,
    cur_vlans: [u16; 2],
    snapshots: bool,
    /// Forget the hosts' recent flows when a packet of another input file arrives.
    hosts_per_file: bool,
    report: TrackerReport,
}

impl<S: Default> FlowTracker<S> {
    /// A tracker with the flow table's Zeek settings; `snapshots` records each flow's
    /// checkpoints.
    pub fn new(zeek: ZeekConfig, snapshots: bool) -> Self {
        FlowTracker {
            zeek,
            open: KeyedMap::default(),
            accs: Vec::new(),
            free: Vec::new(),
            hosts: HostContext::default(),
            spare_app: None,
            cur: (0, 0),
            cur_vlans: [0; 2],
            snapshots,
            hosts_per_file: false,
            report: TrackerReport::default(),
        }
    }

    /// Host features restart at each input file: each capture's flows see only that
    /// capture's hosts. For a dataset built from separate recordings — back-to-back lab runs
    /// with the same attacker address, or time-shifted copies of one capture, whose times step
    /// back — so that one recording's flood does not raise the host counts of the next
    /// recording's first seconds (the model would learn the leftover, and miss the attack
    /// when it is seen on its own). Live scoring keeps one context for a run's files, which are
    /// one stream of traffic.
    pub fn restart_hosts_at_each_file(mut self) -> Self {
        self.hosts_per_file = true;
        self
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
        self.packet_with(meta, decoded, label, |f| touched.push(f.key));
    }

    /// Adds every IP layer of a packet to its flow, labelled `label`, and shows each flow
    /// that took it to `each`, in the order of the layers.
    pub fn packet_with(
        &mut self,
        meta: &PacketMeta,
        decoded: &Decoded<'_>,
        label: Label,
        mut each: impl FnMut(LiveFlow<'_, S>),
    ) {
        if self.hosts_per_file && meta.file != self.cur.0 {
            self.hosts = HostContext::default();
        }
        self.cur = (meta.file, meta.index);
        self.cur_vlans = decoded.vlans;
        if decoded.unsupported_link {
            return;
        }
        for layer in decoded.ip_layers() {
            if let Some(flow) = self.layer(layer, meta.ts, meta.frame_len, label) {
                each(flow);
            }
        }
    }

    /// Adds one IP layer of the current packet to its flow; returns the flow.
    fn layer(
        &mut self,
        layer: &IpLayer<'_>,
        ts: i64,
        len: u32,
        label: Label,
    ) -> Option<LiveFlow<'_, S>> {
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
        let (slot, new) = match self.open.entry(key) {
            Entry::Occupied(e) => (*e.get(), false),
            Entry::Vacant(e) if p.creates => {
                (*e.insert(new_slot(&mut self.accs, &mut self.free)), true)
            }
            Entry::Vacant(_) => {
                self.report.refused_packets += 1;
                return None;
            }
        };
        let acc = self.accs.get_mut(slot)?;
        if new {
            acc.host = self.hosts.flow_started(src.addr, dst.addr, dp, ts);
            if self.snapshots {
                acc.snapshots = Some(Vec::new());
            }
        }
        if let Some(b) = acc.add(p) {
            self.spare_app = Some(b);
        }
        Some(LiveFlow { key, acc })
    }

    /// The accumulator of the open flow `key`.
    fn acc(&self, key: &FlowKey) -> Option<&Acc<S>> {
        self.accs.get(*self.open.get(key)?)
    }

    /// The features ([`super::live`]) of the open flow `key` as they are now, its latest
    /// packet included and that packet's application events not yet (see the module docs),
    /// oriented from the sender of its first packet; returns its packet count, or `None` when
    /// no such flow is open.
    pub fn live_features(&self, key: &FlowKey, proto: u8, out: &mut Vec<f64>) -> Option<u64> {
        self.acc(key)?.live_features(proto, out)
    }

    /// Packets of the open flow `key` so far, its latest (pending) packet included; `None`
    /// when no such flow is open.
    pub fn packets(&self, key: &FlowKey) -> Option<u64> {
        self.acc(key).map(Acc::packets)
    }

    /// Counts an application event for its flow (and a refused or accepted login for its
    /// client's host, [`HostContext::login_refused`], [`HostContext::login_accepted`]).
    pub fn event(&mut self, e: &AppEvent) {
        if e.proto.is_behaviour() {
            return;
        }
        match super::app::login_outcome(e) {
            Some(LoginOutcome::Refused) => self.hosts.login_refused(Addr::from(e.client.0), e.ts),
            Some(LoginOutcome::Accepted) => self.hosts.login_accepted(
                Addr::from(e.client.0),
                Addr::from(e.server.0),
                e.server.1,
                e.ts,
            ),
            None => {}
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
        let Some(acc) = self
            .open
            .get(&key)
            .and_then(|&slot| self.accs.get_mut(slot))
        else {
            self.report.unmatched_events += 1;
            return;
        };
        acc.app_changed = true;
        let app = match acc.pending.as_mut() {
            Some(p) if p.pos == pos => &mut p.app,
            _ => &mut acc.app,
        };
        let spare = &mut self.spare_app;
        app.get_or_insert_with(|| match spare.take() {
            Some(mut b) => {
                *b = AppCounts::default();
                b
            }
            None => Box::default(),
        })
        .event(e);
    }

    /// Closes the accumulator of an ended flow and returns it, oriented by the flow's
    /// originator. A pending packet after the flow's last packet opens the key's next flow.
    pub fn ended(&mut self, f: &EndedFlow) -> TrackedFlow<S> {
        let flow = &f.flow;
        let key = flow.key();
        let slot = self.open.remove(&key);
        let mut acc = slot
            .and_then(|s| self.accs.get_mut(s))
            .map(std::mem::take)
            .unwrap_or_default();
        let swapped = flow.orig != key.lo;
        let mut as_last_seen = !acc.app_changed
            && acc.origin == Some((swapped, flow.resp.port))
            && acc.pending.is_some();
        // The slot is freed, unless the key's next flow takes it.
        let mut free = slot;
        if let Some(p) = acc.pending.take() {
            if p.pos <= (flow.last_file, flow.last_index) {
                self.spare_app = acc.commit(p).or(self.spare_app.take());
            } else if p.creates {
                as_last_seen = false;
                let slot = free
                    .take()
                    .unwrap_or_else(|| new_slot(&mut self.accs, &mut self.free));
                self.open.insert(key, slot);
                if let Some(next) = self.accs.get_mut(slot) {
                    let (src, dst) = if p.side == 0 {
                        (key.lo, key.hi)
                    } else {
                        (key.hi, key.lo)
                    };
                    next.host = self
                        .hosts
                        .flow_started(src.addr, dst.addr, p.resp_port, p.obs.ts);
                    if self.snapshots {
                        next.snapshots = Some(Vec::new());
                    }
                    // The next flow has no committed packet: nothing to merge into.
                    let _ = next.add(p);
                }
            } else {
                as_last_seen = false;
                self.report.refused_packets += 1;
                let events = p.app.map_or(0, |a| a.events());
                self.report.unmatched_events += events;
            }
        }
        self.free.extend(free);
        let orient = |s: FlowStats| if swapped { s.swapped() } else { s };
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
            host: acc.host,
            as_last_seen,
            state: acc.state,
        }
    }
}

/// A free slot of `accs` (holding `Acc::default()`), added when none is free.
fn new_slot<S: Default>(accs: &mut Vec<Acc<S>>, free: &mut Vec<usize>) -> usize {
    free.pop().unwrap_or_else(|| {
        accs.push(Acc::default());
        accs.len() - 1
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accumulator_stays_small() {
        let sizes = (
            std::mem::size_of::<Acc<()>>(),
            std::mem::size_of::<FlowKey>(),
        );
        println!("{sizes:?}");
        // About 0.6 KiB per open flow: 1 M open flows fit in 0.6 GB.
        assert!(sizes.0 <= 608, "{sizes:?}");
    }

    #[test]
    fn one_packet_features_depend_on_port_length_flags_and_host_only() {
        let one = |ts: i64, side: usize, pos: Pos, resp_port: u16, len: u32, flags: u8, h: f64| {
            let mut acc = Acc::<()> {
                host: HostFeatures([h, 1.0, 1.0, 0.0, 2.0]),
                ..Acc::default()
            };
            acc.add(Pending {
                pos,
                side,
                obs: PacketObs { ts, len, flags },
                label: Label::default(),
                creates: true,
                resp_port,
                app: None,
            });
            let addr = |n| Endpoint {
                addr: Addr([n; 16]),
                port: if n == 1 { 1 } else { resp_port },
            };
            let key = FlowKey::canonical(addr(1), addr(2), 6, [0; 2]).0;
            let flow = LiveFlow { key, acc: &mut acc };
            let mut row = Vec::new();
            flow.features(&mut row);
            let first = flow.first_packet().map(|(p, l, f, h)| (p, l, f, *h));
            (first, row)
        };
        let (first, row) = one(5, 0, (0, 1), 80, 60, 0x02, 3.0);
        assert_eq!(
            first,
            Some((80, 60, 0x02, HostFeatures([3.0, 1.0, 1.0, 0.0, 2.0])))
        );
        for other in [
            one(1_000_000_007, 1, (3, 9), 80, 60, 0x02, 3.0),
            one(-4, 0, (0, 0), 80, 60, 0x02, 3.0),
        ] {
            assert_eq!(other.0, first);
            let bits = |r: &[f64]| r.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&other.1), bits(&row));
        }
        assert_ne!(one(5, 0, (0, 1), 80, 61, 0x02, 3.0).1, row);
        assert_ne!(one(5, 0, (0, 1), 81, 60, 0x02, 3.0).1, row);
        assert_ne!(one(5, 0, (0, 1), 80, 60, 0x12, 3.0).1, row);
        assert_ne!(one(5, 0, (0, 1), 80, 60, 0x02, 4.0).1, row);
    }

    #[test]
    fn packets_know_whether_they_come_from_the_originator() {
        // Either side may send a flow's first packet; its sender is the originator.
        for first_side in [0, 1] {
            let mut acc = Acc::<()>::default();
            let key = FlowKey::canonical(
                Endpoint {
                    addr: Addr([1; 16]),
                    port: 40_000,
                },
                Endpoint {
                    addr: Addr([2; 16]),
                    port: 80,
                },
                6,
                [0; 2],
            )
            .0;
            for (i, side) in [first_side, 1 - first_side, first_side, 1 - first_side]
                .into_iter()
                .enumerate()
            {
                acc.add(Pending {
                    pos: (0, i as u64),
                    side,
                    obs: PacketObs {
                        ts: i as i64,
                        len: 60,
                        flags: 0x10,
                    },
                    label: Label::default(),
                    creates: true,
                    resp_port: 80,
                    app: None,
                });
                let flow = LiveFlow { key, acc: &mut acc };
                assert_eq!(
                    flow.from_originator(),
                    i % 2 == 0,
                    "first side {first_side}, packet {i}"
                );
            }
        }
    }

    #[test]
    fn checkpoints_are_powers_of_two() {
        let c: Vec<u64> = (0..20).filter(|&n| is_checkpoint(n)).collect();
        assert_eq!(c, [1, 2, 4, 8, 16]);
    }
}
