//! Connects the parsers to decoded packets: one reassembler per direction and one parser per
//! application connection, chosen by the service port (first step; content detection is to
//! come), bounded in connections and buffered bytes, ended on close, idleness or the cap.
//!
//! Events come out as [`AppEvent`]s (drained by the caller), each with the connection's
//! client/server endpoints, its Community ID and the index of the packet that completed it.

use crate::modbus::ModbusParser;
use crate::mqtt::{MqttConfig, MqttParser};
use crate::reassembly::{ReassemblyBudget, ReassemblyConfig, StreamReassembler, StreamSink};
use crate::telnet::TelnetParser;
use crate::Direction;
use custos_decode::{Decoded, Transport};
use custos_flow::{community_id_v1, Addr, Endpoint, FlowKey};
use rustc_hash::FxHashMap;
use std::net::IpAddr;

/// Application protocols the tracker follows, with their service ports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppProto {
    /// MQTT on 1883.
    Mqtt,
    /// Telnet on 23.
    Telnet,
    /// Modbus/TCP on 502.
    Modbus,
}

impl AppProto {
    /// EVE `event_type`.
    pub fn name(self) -> &'static str {
        match self {
            AppProto::Mqtt => "mqtt",
            AppProto::Telnet => "telnet",
            AppProto::Modbus => "modbus",
        }
    }

    fn for_port(port: u16) -> Option<AppProto> {
        match port {
            1883 => Some(AppProto::Mqtt),
            23 => Some(AppProto::Telnet),
            502 => Some(AppProto::Modbus),
            _ => None,
        }
    }
}

/// Limits of the tracker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppConfig {
    /// Most application connections followed at once (the least recently active is ended).
    pub max_connections: usize,
    /// Bytes buffered out of order, all connections together.
    pub budget_bytes: usize,
    /// Bytes buffered out of order per direction.
    pub per_stream_bytes: usize,
    /// A connection idle this long (packet time, ns) is ended.
    pub idle_ns: i64,
}

impl Default for AppConfig {
    fn default() -> Self {
        AppConfig {
            max_connections: 65_536,
            budget_bytes: 64 << 20,
            per_stream_bytes: 1 << 20,
            idle_ns: 300_000_000_000,
        }
    }
}

/// One application event.
#[derive(Debug, Clone, PartialEq)]
pub struct AppEvent {
    /// Packet time of the packet that completed it (ns).
    pub ts: i64,
    /// Input file of that packet.
    pub file: u16,
    /// Index of that packet in its file.
    pub index: u64,
    /// Protocol.
    pub proto: AppProto,
    /// Client (initiator) address and port.
    pub client: (IpAddr, u16),
    /// Server address and port.
    pub server: (IpAddr, u16),
    /// Community ID of the connection.
    pub community_id: String,
    /// The parser's record as JSON text, including its direction.
    pub body: String,
}

/// Counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AppStats {
    /// Connections followed.
    pub connections: u64,
    /// Connections ended by the cap.
    pub evicted: u64,
    /// Events produced.
    pub events: u64,
    /// Bytes skipped in gaps.
    pub missed_bytes: u64,
}

enum Parser {
    Mqtt(Box<MqttParser>),
    Telnet(Box<TelnetParser>),
    Modbus(Box<[ModbusParser; 2]>),
}

struct Conn {
    proto: AppProto,
    client: Endpoint,
    server: Endpoint,
    community_id: String,
    streams: [StreamReassembler; 2],
    parser: Parser,
    last_ts: i64,
    closed: [bool; 2],
}

/// Feeds one direction's bytes to the connection's parser, collecting serialised events.
struct Sink<'a> {
    parser: &'a mut Parser,
    dir: Direction,
    out: &'a mut Vec<String>,
    missed: &'a mut u64,
}

impl Sink<'_> {
    fn push<T: serde::Serialize>(out: &mut Vec<String>, events: Vec<T>) {
        out.extend(
            events
                .into_iter()
                .filter_map(|e| serde_json::to_string(&e).ok()),
        );
    }
}

impl StreamSink for Sink<'_> {
    fn data(&mut self, bytes: &[u8]) {
        match self.parser {
            Parser::Mqtt(p) => {
                let mut ev = Vec::new();
                p.data(self.dir, bytes, &mut ev);
                Self::push(self.out, ev);
            }
            Parser::Telnet(p) => {
                let mut ev = Vec::new();
                p.data(self.dir, bytes, &mut ev);
                Self::push(self.out, ev);
            }
            Parser::Modbus(p) => {
                let mut ev = Vec::new();
                if let Some(m) = p.get_mut(dir_index(self.dir)) {
                    m.data(bytes, &mut ev);
                }
                Self::push(self.out, ev);
            }
        }
    }

    fn gap(&mut self, missed: u64) {
        *self.missed += missed;
        match self.parser {
            Parser::Mqtt(p) => p.gap(self.dir, missed),
            Parser::Telnet(p) => p.gap(self.dir),
            Parser::Modbus(p) => {
                if let Some(m) = p.get_mut(dir_index(self.dir)) {
                    m.gap(missed);
                }
            }
        }
    }

    fn end(&mut self) {
        match self.parser {
            Parser::Mqtt(p) => {
                let mut ev = Vec::new();
                p.end(self.dir, &mut ev);
                Self::push(self.out, ev);
            }
            Parser::Telnet(_) => {}
            Parser::Modbus(p) => {
                let mut ev = Vec::new();
                if let Some(m) = p.get_mut(dir_index(self.dir)) {
                    m.end(&mut ev);
                }
                Self::push(self.out, ev);
            }
        }
    }
}

fn dir_index(d: Direction) -> usize {
    match d {
        Direction::ToServer => 0,
        Direction::ToClient => 1,
    }
}

/// Follows application connections in decoded packets.
pub struct AppTracker {
    cfg: AppConfig,
    conns: FxHashMap<FlowKey, Conn>,
    budget: ReassemblyBudget,
    events: Vec<AppEvent>,
    next_sweep: i64,
    stats: AppStats,
}

impl AppTracker {
    /// A tracker with `cfg`.
    pub fn new(cfg: AppConfig) -> Self {
        AppTracker {
            cfg,
            conns: FxHashMap::default(),
            budget: ReassemblyBudget::new(cfg.budget_bytes),
            events: Vec::new(),
            next_sweep: i64::MIN,
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

    /// Processes one decoded packet (`file`, `index`: where it came from).
    pub fn packet(&mut self, ts: i64, file: u16, index: u64, d: &Decoded<'_>) {
        if ts >= self.next_sweep {
            self.sweep(ts, file, index);
            self.next_sweep = ts.saturating_add(1_000_000_000);
        }
        let Some(ip) = d.innermost() else { return };
        let Transport::Tcp {
            src_port,
            dst_port,
            flags,
            seq,
            payload,
            ..
        } = ip.transport
        else {
            return;
        };
        let (proto, dir) = match (AppProto::for_port(dst_port), AppProto::for_port(src_port)) {
            (Some(p), _) => (p, Direction::ToServer),
            (None, Some(p)) => (p, Direction::ToClient),
            (None, None) => return,
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
        if !self.conns.contains_key(&key) {
            if self.conns.len() >= self.cfg.max_connections.max(1) {
                self.evict_oldest(file, index);
            }
            let (client, server) = if dir == Direction::ToServer {
                (src, dst)
            } else {
                (dst, src)
            };
            let (ci, si) = (client.addr.ip(), server.addr.ip());
            let community_id = community_id_v1(0, ci, si, client.port, server.port, 6);
            let rcfg = ReassemblyConfig {
                max_buffered: self.cfg.per_stream_bytes,
            };
            let parser = match proto {
                AppProto::Mqtt => Parser::Mqtt(Box::new(MqttParser::new(MqttConfig::default()))),
                AppProto::Telnet => Parser::Telnet(Box::default()),
                AppProto::Modbus => Parser::Modbus(Box::new([
                    ModbusParser::new(Direction::ToServer),
                    ModbusParser::new(Direction::ToClient),
                ])),
            };
            self.conns.insert(
                key,
                Conn {
                    proto,
                    client,
                    server,
                    community_id,
                    streams: [StreamReassembler::new(rcfg), StreamReassembler::new(rcfg)],
                    parser,
                    last_ts: ts,
                    closed: [false; 2],
                },
            );
            self.stats.connections += 1;
        }
        let Some(conn) = self.conns.get_mut(&key) else {
            return;
        };
        conn.last_ts = ts;
        let di = dir_index(dir);
        let mut out = Vec::new();
        let mut missed = 0;
        {
            let Conn {
                streams, parser, ..
            } = conn;
            if let Some(stream) = streams.get_mut(di) {
                let mut sink = Sink {
                    parser,
                    dir,
                    out: &mut out,
                    missed: &mut missed,
                };
                stream.segment(seq, payload, flags, &mut self.budget, &mut sink);
            }
        }
        self.stats.missed_bytes += missed;
        if let Some(c) = conn.closed.get_mut(di) {
            *c |= flags & 0x05 != 0; // FIN or RST
        }
        let done = flags & 0x04 != 0 || conn.closed.iter().all(|c| *c);
        Self::emit(
            &mut self.events,
            &mut self.stats,
            conn,
            ts,
            file,
            index,
            out,
        );
        if done {
            self.end(key, ts, file, index);
        }
    }

    fn emit(
        events: &mut Vec<AppEvent>,
        stats: &mut AppStats,
        conn: &Conn,
        ts: i64,
        file: u16,
        index: u64,
        out: Vec<String>,
    ) {
        for body in out {
            stats.events += 1;
            events.push(AppEvent {
                ts,
                file,
                index,
                proto: conn.proto,
                client: (conn.client.addr.ip(), conn.client.port),
                server: (conn.server.addr.ip(), conn.server.port),
                community_id: conn.community_id.clone(),
                body,
            });
        }
    }

    /// Ends a connection: flushes both directions (holes become gaps) and emits what is left.
    fn end(&mut self, key: FlowKey, ts: i64, file: u16, index: u64) {
        let Some(mut conn) = self.conns.remove(&key) else {
            return;
        };
        let mut out = Vec::new();
        let mut missed = 0;
        {
            let Conn {
                streams, parser, ..
            } = &mut conn;
            for (i, stream) in streams.iter_mut().enumerate() {
                let dir = if i == 0 {
                    Direction::ToServer
                } else {
                    Direction::ToClient
                };
                let mut sink = Sink {
                    parser,
                    dir,
                    out: &mut out,
                    missed: &mut missed,
                };
                stream.finish(&mut self.budget, &mut sink);
            }
        }
        self.stats.missed_bytes += missed;
        Self::emit(
            &mut self.events,
            &mut self.stats,
            &conn,
            ts,
            file,
            index,
            out,
        );
    }

    fn evict_oldest(&mut self, file: u16, index: u64) {
        let oldest = self
            .conns
            .iter()
            .min_by_key(|(k, c)| (c.last_ts, **k))
            .map(|(k, c)| (*k, c.last_ts));
        if let Some((k, ts)) = oldest {
            self.stats.evicted += 1;
            self.end(k, ts, file, index);
        }
    }

    fn sweep(&mut self, now: i64, file: u16, index: u64) {
        let idle = self.cfg.idle_ns;
        let mut stale: Vec<(i64, FlowKey)> = self
            .conns
            .iter()
            .filter(|(_, c)| now.saturating_sub(c.last_ts) > idle)
            .map(|(k, c)| (c.last_ts, *k))
            .collect();
        stale.sort_unstable();
        for (ts, k) in stale {
            self.end(k, ts, file, index);
        }
    }

    /// Ends every connection (end of input), oldest first.
    pub fn finish(&mut self, file: u16, index: u64) {
        let mut all: Vec<(i64, FlowKey)> =
            self.conns.iter().map(|(k, c)| (c.last_ts, *k)).collect();
        all.sort_unstable();
        for (ts, k) in all {
            self.end(k, ts, file, index);
        }
    }
}
