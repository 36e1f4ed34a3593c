//! Connects the parsers to decoded packets: one reassembler per TCP direction, the protocol
//! chosen by content ([`detect`]), one parser per connection, bounded in connections and
//! buffered bytes, ended on close, idleness or the cap.
//!
//! Events come out as [`AppEvent`]s (drained by the caller), each with the connection's
//! client/server endpoints, its Community ID and the index of the packet that completed it.
//! Besides the connections, [`behaviour`] watches every source's connection attempts for
//! scans and floods, and reports them as events too.

pub mod behaviour;
mod conn;
pub mod detect;
pub mod parsers;
mod record;

pub use record::{AppError, AppEvent, AppProto, AppRecord};

use crate::credentials::DefaultCredentials;
use crate::reassembly::ReassemblyBudget;
use behaviour::{BehaviourConfig, BehaviourWatch, Facts, Observation};
use conn::Conn;
use custos_decode::{Decoded, Transport};
use custos_flow::keyed_hash::KeyedMap;
use custos_flow::{Addr, Endpoint, FlowKey};
use std::collections::hash_map::Entry;
use std::collections::VecDeque;
use std::sync::Arc;

/// Limits of the tracker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppConfig {
    /// Most connections followed at once (the least recently active are ended first).
    pub max_connections: usize,
    /// Bytes buffered out of order, all connections together.
    pub budget_bytes: usize,
    /// Bytes buffered out of order per direction.
    pub per_stream_bytes: usize,
    /// A connection idle this long (packet time, ns) is ended.
    pub idle_ns: i64,
    /// Default credentials that logins are checked against.
    pub credentials: Arc<DefaultCredentials>,
    /// Thresholds, windows and caps of the scan and flood watch.
    pub behaviour: BehaviourConfig,
}

impl Default for AppConfig {
    fn default() -> Self {
        AppConfig {
            max_connections: 65_536,
            budget_bytes: 64 << 20,
            per_stream_bytes: 1 << 20,
            idle_ns: 300_000_000_000,
            credentials: DefaultCredentials::builtin(),
            behaviour: BehaviourConfig::default(),
        }
    }
}

/// Counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AppStats {
    /// Connections (TCP) and conversations (UDP) seen.
    pub connections: u64,
    /// Of those, how many were recognised as an application protocol.
    pub recognised: u64,
    /// Connections ended early by the cap.
    pub evicted: u64,
    /// Events produced.
    pub events: u64,
    /// Bytes skipped in gaps.
    pub missed_bytes: u64,
}

/// Where a packet came from.
#[derive(Debug, Clone, Copy)]
pub(crate) struct At {
    ts: i64,
    file: u16,
    index: u64,
}

/// Follows application connections in decoded packets.
pub struct AppTracker {
    cfg: AppConfig,
    conns: KeyedMap<FlowKey, Conn>,
    /// Protocols of recognised connections that ended, until the flow stage asks.
    ended: KeyedMap<FlowKey, (AppProto, u64)>,
    ended_order: VecDeque<(FlowKey, u64)>,
    budget: ReassemblyBudget,
    events: Vec<AppEvent>,
    next_sweep: i64,
    /// Idle timer: `(time queued, key)` in (nearly) time order; each live connection has one
    /// current entry (its `queued_at`), older ones are skipped when they come up.
    idle_queue: VecDeque<(i64, FlowKey)>,
    /// Scans and floods.
    watch: BehaviourWatch,
    stats: AppStats,
}

impl AppTracker {
    /// A tracker with `cfg`.
    pub fn new(cfg: AppConfig) -> Self {
        AppTracker {
            budget: ReassemblyBudget::new(cfg.budget_bytes),
            watch: BehaviourWatch::new(cfg.behaviour.clone()),
            conns: KeyedMap::default(),
            ended: KeyedMap::default(),
            ended_order: VecDeque::new(),
            events: Vec::new(),
            next_sweep: i64::MIN,
            cfg,
            idle_queue: VecDeque::new(),
            stats: AppStats::default(),
        }
    }

    /// Counters so far.
    pub fn stats(&self) -> AppStats {
        self.stats
    }

    /// Events produced since the last call, in order.
    pub fn drain(&mut self) -> std::vec::Drain<'_, AppEvent> {
        self.events.drain(..)
    }

    /// Swaps the events produced since the last call into `into` (which should be empty; its
    /// capacity is reused), without moving them.
    pub fn take_events(&mut self, into: &mut Vec<AppEvent>) {
        into.clear();
        std::mem::swap(&mut self.events, into);
    }

    /// Processes one decoded packet (`file`, `index`: where it came from).
    pub fn packet(&mut self, ts: i64, file: u16, index: u64, d: &Decoded<'_>) {
        let at = At { ts, file, index };
        // Once per second of packet time; also when time went back by more than that (after
        // a packet stamped far ahead, sweeping must not stop until time catches up).
        if ts >= self.next_sweep || ts < self.next_sweep.saturating_sub(2_000_000_000) {
            self.sweep(at);
            self.next_sweep = ts.saturating_add(1_000_000_000);
        }
        let macs = known_macs(d);
        let observed = Observation::of(d);
        let Some(Segment {
            src,
            dst,
            key,
            tcp,
            payload,
        }) = segment(d)
        else {
            // Empty UDP datagrams (probes) are attempts too.
            if let Some(o) = observed {
                self.observe(o, Facts::default(), at, macs);
            }
            return;
        };
        self.make_room(key, tcp, payload);
        let mut opens = false;
        // One hash lookup per packet: the entry either exists or is created here.
        let conn = match self.conns.entry(key) {
            Entry::Occupied(o) => o.into_mut(),
            Entry::Vacant(v) => {
                // A TCP packet without payload that is not a SYN cannot start anything
                // useful mid-stream; wait for data.
                if let Some((flags, _, _)) = tcp {
                    if payload.is_empty() && flags & 0x02 == 0 {
                        return;
                    }
                }
                let mut conn = match tcp {
                    Some((flags, _, _)) => Conn::new_tcp(src, dst, flags, &self.cfg),
                    None => Conn::new_udp(src, dst, payload),
                };
                self.stats.connections += 1;
                conn.id = self.stats.connections;
                if conn.proto.is_some() {
                    self.stats.recognised += 1;
                }
                opens = true;
                v.insert(conn)
            }
        };
        conn.last_at = (file, index);
        // Re-queue on the idle timer at most four times per idle period.
        let requeue = ts.saturating_sub(conn.queued_at) > self.cfg.idle_ns / 4;
        if requeue {
            conn.queued_at = ts;
            self.idle_queue.push_back((ts, key));
        }
        let was_known = conn.proto.is_some();
        let before = self.events.len();
        let facts = Facts {
            reply: tcp.is_none() && !conn.is_client(src),
            opens,
            established: tcp.is_some_and(|(flags, _, _)| conn.handshake(src, flags)),
        };
        let done = match tcp {
            Some((flags, seq, ack)) => conn.tcp_segment(
                src,
                macs,
                flags,
                (seq, ack),
                payload,
                &self.cfg,
                &mut self.budget,
                &mut self.stats,
                at,
                &mut self.events,
            ),
            None => {
                conn.udp_datagram(src, macs, payload, at, &mut self.events);
                false
            }
        };
        if !was_known && conn.proto.is_some() {
            self.stats.recognised += 1;
        }
        if let Some(o) = observed {
            self.watch.observe(o, facts, at, macs, &mut self.events);
        }
        // Counted before `end`, which counts what it emits itself.
        self.stats.events += (self.events.len() - before) as u64;
        if done {
            self.end(key, at);
        }
        if requeue {
            self.bound_idle_queue();
        }
    }

    /// Before a packet of `key`: a SYN of another connection on the same key ends the one
    /// held (port reuse), and a packet that may create a connection evicts when the table is
    /// full.
    fn make_room(&mut self, key: FlowKey, tcp: Option<(u8, u32, u32)>, payload: &[u8]) {
        if let Some((flags, seq, _)) = tcp {
            // A SYN that does not belong to the connection held for this key (another initial
            // sequence number, or a connection picked up mid-stream) starts a new one: the old
            // one ends here (port reuse).
            if flags & 0x12 == 0x02 && self.conns.get(&key).is_some_and(|c| !c.same_syn(seq)) {
                self.end_at_last_packet(key);
            }
        }
        let creates = match tcp {
            Some((flags, _, _)) => !payload.is_empty() || flags & 0x02 != 0,
            None => true,
        };
        if creates
            && self.conns.len() >= self.cfg.max_connections.max(1)
            && !self.conns.contains_key(&key)
        {
            self.evict();
        }
    }

    /// Ends a connection: flushes both directions (holes become gaps) and emits what is left.
    fn end(&mut self, key: FlowKey, at: At) {
        if let Some(mut conn) = self.conns.remove(&key) {
            let before = self.events.len();
            conn.finish(
                &self.cfg,
                &mut self.budget,
                &mut self.stats,
                at,
                &mut self.events,
            );
            self.stats.events += (self.events.len() - before) as u64;
            if let Some(p) = conn.proto {
                self.ended.insert(key, (p, conn.id));
                self.ended_order.push_back((key, conn.id));
                while self.ended_order.len() > self.cfg.max_connections.max(1) {
                    let Some((old, id)) = self.ended_order.pop_front() else {
                        break;
                    };
                    // Only if that entry is still the one this key holds.
                    if self.ended.get(&old).is_some_and(|(_, i)| *i == id) {
                        self.ended.remove(&old);
                    }
                }
            }
        }
    }

    /// Ends the least recently active eighth of the connections (amortised O(log n) per new
    /// connection when the table is full).
    fn evict(&mut self) {
        let mut by_age: Vec<(i64, FlowKey)> =
            self.conns.iter().map(|(k, c)| (c.last_ts, *k)).collect();
        by_age.sort_unstable();
        let n = (by_age.len() / 8).max(1);
        for (_, k) in by_age.into_iter().take(n) {
            self.stats.evicted += 1;
            self.end_at_last_packet(k);
        }
    }

    /// Ends a connection as of its own last packet (time, file, index): what it emits now is
    /// attributed to the packet that completed it, not to the packet that caused the ending.
    fn end_at_last_packet(&mut self, key: FlowKey) {
        if let Some(c) = self.conns.get(&key) {
            let at = At {
                ts: c.last_ts,
                file: c.last_at.0,
                index: c.last_at.1,
            };
            self.end(key, at);
        }
    }

    /// Keeps the idle queue proportional to the table even when packet time stands still
    /// (entries of connections that ended by FIN/RST wait for their turn otherwise).
    fn bound_idle_queue(&mut self) {
        if self.idle_queue.len() > 4 * self.cfg.max_connections.max(1) + 1024 {
            let conns = &self.conns;
            self.idle_queue
                .retain(|(q, k)| conns.get(k).is_some_and(|c| c.queued_at == *q));
        }
    }

    /// Feeds the behaviour watch one packet outside a connection, counting its events.
    fn observe(&mut self, o: Observation, facts: Facts, at: At, macs: [Option<[u8; 6]>; 2]) {
        let before = self.events.len();
        self.watch.observe(o, facts, at, macs, &mut self.events);
        self.stats.events += (self.events.len() - before) as u64;
    }

    /// Ends connections idle for longer than `idle_ns`: pops the idle queue's expired entries
    /// (O(expired) per call, not O(connections)); ends the scans and floods that went quiet.
    fn sweep(&mut self, at: At) {
        let before = self.events.len();
        self.watch.sweep(at, &mut self.events);
        self.stats.events += (self.events.len() - before) as u64;
        let idle = self.cfg.idle_ns;
        while let Some(&(queued, key)) = self.idle_queue.front() {
            if at.ts.saturating_sub(queued) <= idle {
                break;
            }
            self.idle_queue.pop_front();
            let Some(c) = self.conns.get_mut(&key) else {
                continue; // ended already
            };
            if c.queued_at != queued {
                continue; // a newer entry stands for it
            }
            if at.ts.saturating_sub(c.last_ts) > idle {
                self.end_at_last_packet(key);
            } else {
                c.queued_at = c.last_ts;
                self.idle_queue.push_back((c.last_ts, key));
            }
        }
        self.bound_idle_queue();
    }

    /// The protocol recognised so far on the live connection with this canonical key (`None`
    /// while none is, or for a key the tracker does not hold).
    pub fn app_proto(&self, key: &FlowKey) -> Option<AppProto> {
        self.conns.get(key).and_then(|c| c.proto)
    }

    /// The protocol recognised on the connection `key` (canonical flow key): a live
    /// connection's, or one that ended recently (kept for as many endings as
    /// `max_connections`, and forgotten once asked).
    pub fn take_app_proto(&mut self, key: &FlowKey) -> Option<AppProto> {
        if let Some(c) = self.conns.get(key) {
            return c.proto;
        }
        self.ended.remove(key).map(|(p, _)| p)
    }

    /// Ends every connection (end of input), oldest first, each as of its last packet, then
    /// every scan and flood still open.
    pub fn finish(&mut self) {
        let mut all: Vec<(i64, u64, FlowKey)> = self
            .conns
            .iter()
            .map(|(k, c)| (c.last_ts, c.id, *k))
            .collect();
        all.sort_unstable();
        for (_, _, k) in all {
            self.end_at_last_packet(k);
        }
        let before = self.events.len();
        self.watch.finish(&mut self.events);
        self.stats.events += (self.events.len() - before) as u64;
    }
}

/// The packet's source and destination MAC addresses; an all-zero address (some converted
/// captures carry nothing else) names no station.
fn known_macs(d: &Decoded<'_>) -> [Option<[u8; 6]>; 2] {
    let known = |m: Option<custos_decode::wire::Mac>| m.map(|m| m.0).filter(|m| *m != [0; 6]);
    [known(d.src_mac), known(d.dst_mac)]
}

/// What the tracker reads of a packet: endpoints, canonical key, TCP flags/sequence/ack and
/// the payload.
struct Segment<'a> {
    src: Endpoint,
    dst: Endpoint,
    key: FlowKey,
    tcp: Option<(u8, u32, u32)>,
    payload: &'a [u8],
}

/// The innermost TCP segment or non-empty UDP datagram of a packet.
#[inline]
fn segment<'a>(d: &Decoded<'a>) -> Option<Segment<'a>> {
    let ip = d.innermost()?;
    let (src_port, dst_port, tcp, payload) = match ip.transport {
        Transport::Tcp {
            src_port,
            dst_port,
            flags,
            seq,
            ack,
            payload,
            ..
        } => (src_port, dst_port, Some((flags, seq, ack)), payload),
        Transport::Udp {
            src_port,
            dst_port,
            payload,
            ..
        } if !payload.is_empty() => (src_port, dst_port, None, payload),
        _ => return None,
    };
    let src = Endpoint {
        addr: Addr::from(ip.src),
        port: src_port,
    };
    let dst = Endpoint {
        addr: Addr::from(ip.dst),
        port: dst_port,
    };
    let key = FlowKey::canonical(src, dst, ip.protocol, d.vlans).0;
    Some(Segment {
        src,
        dst,
        key,
        tcp,
        payload,
    })
}
