//! One followed connection: TCP (reassembly, detection, parser) or UDP (protocol chosen on
//! the first datagram).

use super::detect::{self, Probe3, PROBE_BYTES};
use super::parsers::{stream_parser, Out, StreamParse};
use super::record::{AppError, AppEvent, AppProto, AppRecord};
use super::{AppConfig, AppStats, At};
use crate::credentials::DefaultCredentials;
use crate::reassembly::{ReassemblyBudget, ReassemblyConfig, StreamReassembler, StreamSink};
use crate::{coap, dhcp, dns, snmp, ssdp, tftp, Direction};
use custos_flow::{community_id_v1, Endpoint};
use std::sync::Arc;

/// A connection's state.
pub(super) struct Conn {
    /// The protocol, once known.
    pub proto: Option<AppProto>,
    /// Packet time of the last packet.
    pub last_ts: i64,
    /// When the connection was last put on the idle queue.
    pub queued_at: i64,
    /// Input file and index of the last packet.
    pub last_at: (u16, u64),
    client: Endpoint,
    server: Endpoint,
    transport: u8,
    macs: [Option<[u8; 6]>; 2],
    community_id: Option<Arc<str>>,
    /// Number of the connection (see [`AppEvent::conn`]).
    pub id: u64,
    /// Handshake: 0 nothing yet, 1 the server's SYN-ACK seen, 2 the client acknowledged it.
    handshake: u8,
    tcp: Option<Box<TcpState>>,
    udp: Option<UdpState>,
}

/// Detection state of a UDP conversation.
struct UdpState {
    /// Datagrams offered to detection so far.
    tries: u8,
    /// A datagram parsed as the chosen protocol.
    parsed: bool,
}

/// Datagrams of a conversation offered to detection before it is left unrecognised.
const UDP_DETECT_TRIES: u8 = 8;

/// The port the datagram was sent to.
fn dir_port(c: &Conn, dir: Direction) -> u16 {
    match dir {
        Direction::ToServer => c.server.port,
        Direction::ToClient => c.client.port,
    }
}

/// Parses one datagram as `proto`.
fn parse_udp(proto: AppProto, payload: &[u8]) -> Result<AppRecord, AppError> {
    Ok(match proto {
        AppProto::Dns | AppProto::Mdns => AppRecord::Dns(Box::new(dns::parse(payload)?)),
        AppProto::Dhcp => AppRecord::Dhcp(Box::new(dhcp::parse(payload)?)),
        AppProto::Snmp => AppRecord::Snmp(Box::new(snmp::parse(payload)?)),
        AppProto::Ssdp => AppRecord::Ssdp(Box::new(ssdp::parse(payload)?)),
        AppProto::Tftp => AppRecord::Tftp(tftp::parse(payload)?),
        AppProto::Coap if coap::probe_dtls(payload) => AppRecord::Dtls(coap::parse_dtls(payload)?),
        AppProto::Coap => AppRecord::Coap(Box::new(coap::parse(payload)?)),
        other => return Err(AppError::NotUdp(other.name())),
    })
}

struct TcpState {
    /// Sequence number of the client's SYN, when seen.
    isn: Option<u32>,
    streams: [StreamReassembler; 2],
    closed: [bool; 2],
    stage: Stage,
}

enum Stage {
    Detecting(Box<Detector>),
    Parsing(Box<dyn StreamParse>),
    /// Not followed any more (unknown protocol, or the parser is done).
    Done,
}

/// First bytes of each direction, kept until the protocol is known.
#[derive(Default)]
struct Detector {
    prefix: [Vec<u8>; 2],
    /// What arrived, in order: prefix pieces and bytes not kept (past [`PROBE_BYTES`], or
    /// lost in the capture), to replay into the parser once it is chosen.
    order: Vec<(Direction, Item)>,
    /// Per direction: no probe matches (or the direction ended / had a gap).
    unknown: [bool; 2],
    /// The connection was seen from its start (SYN) and without gaps: its first bytes are
    /// the protocol's first bytes, so the port may not overrule what they say.
    from_start: bool,
}

/// One entry of [`Detector::order`].
#[derive(Clone, Copy)]
enum Item {
    /// This many bytes of the direction's prefix.
    Data(usize),
    /// This many bytes not kept.
    Gap(u64),
}

impl Detector {
    fn lost(&mut self, dir: Direction, n: u64) {
        if n == 0 {
            return;
        }
        if let Some((d, Item::Gap(g))) = self.order.last_mut() {
            if *d == dir {
                *g = g.saturating_add(n);
                return;
            }
        }
        self.order.push((dir, Item::Gap(n)));
    }
}

fn di(d: Direction) -> usize {
    match d {
        Direction::ToServer => 0,
        Direction::ToClient => 1,
    }
}

const DIRS: [Direction; 2] = [Direction::ToServer, Direction::ToClient];

/// Feeds one direction's reassembled bytes to detection or the parser.
struct Sink<'a> {
    stage: &'a mut Stage,
    proto: &'a mut Option<AppProto>,
    dir: Direction,
    server_port: u16,
    credentials: &'a Arc<DefaultCredentials>,
    out: &'a mut Out,
    missed: &'a mut u64,
}

impl Sink<'_> {
    /// Starts `proto`'s parser (or stops following when `None`), replaying what arrived
    /// while undecided (bytes not kept become gaps), then `rest` of the current chunk.
    fn start(&mut self, proto: Option<AppProto>, rest: &[u8]) {
        let Stage::Detecting(det) = std::mem::replace(self.stage, Stage::Done) else {
            return;
        };
        let Some(mut parser) = proto.and_then(|p| stream_parser(p, self.credentials)) else {
            return;
        };
        *self.proto = proto;
        let mut at = [0usize; 2];
        for &(dir, item) in &det.order {
            let i = di(dir);
            match item {
                Item::Data(len) => {
                    let (Some(buf), Some(pos)) = (det.prefix.get(i), at.get_mut(i)) else {
                        continue;
                    };
                    if let Some(piece) = buf.get(*pos..*pos + len) {
                        parser.data(dir, piece, self.out);
                    }
                    *pos += len;
                }
                Item::Gap(n) => parser.gap(dir, n),
            }
        }
        if !rest.is_empty() {
            parser.data(self.dir, rest, self.out);
        }
        *self.stage = Stage::Parsing(parser);
    }

    /// Decides once every direction that spoke is unknown.
    fn settle(&mut self) {
        let Stage::Detecting(det) = &*self.stage else {
            return;
        };
        // Both sides must have failed (or ended): a server's first bytes can name the
        // protocol after the client's did not (an HTTP request line no probe accepts,
        // answered by `HTTP/1.0 400`).
        if !det.unknown.iter().all(|u| *u) {
            return;
        }
        let spoke = |i: usize| det.prefix.get(i).is_some_and(|p| !p.is_empty());
        // The port names a protocol only for a connection that carried data, and, except for
        // telnet (whose servers need not negotiate), only when the start was not seen.
        let proto = detect::port_fallback(self.server_port)
            .filter(|p| (0..2).any(spoke) && (!det.from_start || *p == AppProto::Telnet));
        self.start(proto, &[]);
    }
}

impl StreamSink for Sink<'_> {
    fn data(&mut self, bytes: &[u8]) {
        let i = di(self.dir);
        match self.stage {
            Stage::Parsing(p) => p.data(self.dir, bytes, self.out),
            Stage::Done => {}
            Stage::Detecting(det) => {
                let (Some(prefix), Some(unknown)) = (det.prefix.get_mut(i), det.unknown.get_mut(i))
                else {
                    return;
                };
                // Kept even once this side failed every probe: the other side may still name
                // the protocol, and the parser then needs these bytes.
                let take = bytes.len().min(PROBE_BYTES.saturating_sub(prefix.len()));
                let (head, rest) = bytes.split_at(take);
                prefix.extend_from_slice(head);
                det.order.push((self.dir, Item::Data(take)));
                if !*unknown {
                    match detect::detect_tcp(self.dir, prefix) {
                        Probe3::Found(proto) => return self.start(Some(proto), rest),
                        Probe3::NeedMore if prefix.len() < PROBE_BYTES => {}
                        Probe3::NeedMore | Probe3::Unknown => *unknown = true,
                    }
                }
                // Bytes past the probe window of an undecided connection are not analysed.
                *self.missed += rest.len() as u64;
                det.lost(self.dir, rest.len() as u64);
                self.settle();
            }
        }
    }

    fn gap(&mut self, missed: u64) {
        *self.missed += missed;
        match self.stage {
            Stage::Parsing(p) => p.gap(self.dir, missed),
            Stage::Done => {}
            Stage::Detecting(det) => {
                // No probing across a hole; the parser hears of it when chosen.
                if let Some(u) = det.unknown.get_mut(di(self.dir)) {
                    *u = true;
                }
                det.lost(self.dir, missed);
                det.from_start = false;
                self.settle();
            }
        }
    }

    fn end(&mut self) {
        if let Stage::Detecting(det) = self.stage {
            if let Some(u) = det.unknown.get_mut(di(self.dir)) {
                *u = true;
            }
            self.settle();
        }
        if let Stage::Parsing(p) = self.stage {
            p.end(self.dir, self.out);
        }
    }
}

impl Conn {
    /// A TCP connection first seen with a packet from `src` carrying `flags`.
    pub fn new_tcp(src: Endpoint, dst: Endpoint, flags: u8, cfg: &AppConfig) -> Conn {
        let syn = flags & 0x02 != 0;
        let ack = flags & 0x10 != 0;
        // The SYN's sender is the client; mid-stream, the lower port is the server's.
        let src_is_client = if syn { !ack } else { src.port >= dst.port };
        let (client, server) = if src_is_client {
            (src, dst)
        } else {
            (dst, src)
        };
        let rcfg = ReassemblyConfig {
            max_buffered: cfg.per_stream_bytes,
        };
        Conn {
            proto: None,
            last_ts: i64::MIN,
            queued_at: i64::MIN,
            last_at: (0, 0),
            client,
            server,
            transport: 6,
            macs: [None; 2],
            community_id: None,
            id: 0,
            handshake: 0,
            udp: None,
            tcp: Some(Box::new(TcpState {
                isn: None,
                streams: [StreamReassembler::new(rcfg), StreamReassembler::new(rcfg)],
                closed: [false; 2],
                stage: Stage::Detecting(Box::new(Detector {
                    from_start: syn,
                    ..Detector::default()
                })),
            })),
        }
    }

    /// A UDP conversation whose first datagram, from `src`, is `payload`.
    pub fn new_udp(src: Endpoint, dst: Endpoint, payload: &[u8]) -> Conn {
        let detected = detect::detect_udp(payload, src.port, dst.port);
        let from_server = detected.is_some_and(|(_, s)| s);
        let (client, server) = if from_server { (dst, src) } else { (src, dst) };
        Conn {
            proto: detected.map(|(p, _)| p),
            last_ts: i64::MIN,
            queued_at: i64::MIN,
            last_at: (0, 0),
            client,
            server,
            transport: 17,
            macs: [None; 2],
            community_id: None,
            id: 0,
            handshake: 0,
            tcp: None,
            udp: Some(UdpState {
                tries: 1,
                parsed: false,
            }),
        }
    }

    /// True when a SYN with sequence number `seq` belongs to this connection (a retransmitted
    /// SYN); false for a new connection on the same addresses and ports.
    pub fn same_syn(&self, seq: u32) -> bool {
        self.tcp.as_ref().is_some_and(|t| t.isn == Some(seq))
    }

    /// True when `e` is the connection's client.
    pub fn is_client(&self, e: Endpoint) -> bool {
        e == self.client
    }

    /// Follows the handshake with a segment from `src` carrying `flags`: true when it is the
    /// client's acknowledgement of the server's SYN-ACK (the handshake completes).
    pub fn handshake(&mut self, src: Endpoint, flags: u8) -> bool {
        let from_client = src == self.client;
        match (self.handshake, from_client) {
            (0, false) if flags & 0x12 == 0x12 => self.handshake = 1,
            (1, true) if flags & 0x16 == 0x10 => {
                self.handshake = 2;
                return true;
            }
            _ => {}
        }
        false
    }

    fn direction(&mut self, src: Endpoint, macs: [Option<[u8; 6]>; 2]) -> Direction {
        let dir = if src == self.client {
            Direction::ToServer
        } else {
            Direction::ToClient
        };
        // macs: [sender, receiver] → [client, server].
        let (c, s) = match dir {
            Direction::ToServer => (macs[0], macs[1]),
            Direction::ToClient => (macs[1], macs[0]),
        };
        self.macs[0] = self.macs[0].or(c);
        self.macs[1] = self.macs[1].or(s);
        dir
    }

    /// One TCP segment. Returns true when the connection is over (RST, or FIN both ways).
    #[allow(clippy::too_many_arguments)]
    pub fn tcp_segment(
        &mut self,
        src: Endpoint,
        macs: [Option<[u8; 6]>; 2],
        flags: u8,
        (seq, ack): (u32, u32),
        payload: &[u8],
        cfg: &AppConfig,
        budget: &mut ReassemblyBudget,
        stats: &mut AppStats,
        at: At,
        events: &mut Vec<AppEvent>,
    ) -> bool {
        self.last_ts = at.ts;
        let dir = self.direction(src, macs);
        let Some(tcp) = self.tcp.as_mut() else {
            return false;
        };
        if flags & 0x12 == 0x02 && dir == Direction::ToServer {
            tcp.isn = Some(seq);
        }
        if matches!(tcp.stage, Stage::Done) {
            // Not followed any more, but still ended by FIN both ways or RST.
            if let Some(c) = tcp.closed.get_mut(di(dir)) {
                *c |= flags & 0x05 != 0;
            }
            return flags & 0x04 != 0 || tcp.closed.iter().all(|c| *c);
        }
        let mut out = Out::new();
        let mut missed = 0;
        {
            let TcpState { streams, stage, .. } = &mut **tcp;
            if let Some(stream) = streams.get_mut(di(dir)) {
                let mut sink = Sink {
                    stage,
                    proto: &mut self.proto,
                    dir,
                    server_port: self.server.port,
                    credentials: &cfg.credentials,
                    out: &mut out,
                    missed: &mut missed,
                };
                stream.segment(seq, payload, flags, budget, &mut sink);
            }
        }
        // An acknowledgement from this side lets the other direction skip a hole the
        // capture missed.
        if flags & 0x10 != 0 {
            let other = match dir {
                Direction::ToServer => Direction::ToClient,
                Direction::ToClient => Direction::ToServer,
            };
            let TcpState { streams, stage, .. } = &mut **tcp;
            if let Some(stream) = streams.get_mut(di(other)) {
                let mut sink = Sink {
                    stage,
                    proto: &mut self.proto,
                    dir: other,
                    server_port: self.server.port,
                    credentials: &cfg.credentials,
                    out: &mut out,
                    missed: &mut missed,
                };
                stream.acked(ack, budget, &mut sink);
            }
        }
        stats.missed_bytes += missed;
        if let Some(c) = tcp.closed.get_mut(di(dir)) {
            *c |= flags & 0x05 != 0; // FIN or RST
        }
        let over = flags & 0x04 != 0 || tcp.closed.iter().all(|c| *c);
        let finished = match &tcp.stage {
            Stage::Parsing(p) => p.done(),
            Stage::Done => true,
            Stage::Detecting(_) => false,
        };
        if finished && !over {
            // Nothing more to learn: release buffered data and stop following the bytes.
            for s in &mut tcp.streams {
                s.discard(budget);
            }
            tcp.stage = Stage::Done;
        }
        let macs = self.macs;
        self.emit(out, macs, at, events);
        over
    }

    /// One UDP datagram.
    pub fn udp_datagram(
        &mut self,
        src: Endpoint,
        macs: [Option<[u8; 6]>; 2],
        payload: &[u8],
        at: At,
        events: &mut Vec<AppEvent>,
    ) {
        self.last_ts = at.ts;
        let dir = self.direction(src, macs);
        let to_port = dir_port(self, dir);
        let Some(udp) = self.udp.as_mut() else { return };
        let mut record = match self.proto {
            Some(proto) => parse_udp(proto, payload),
            None => Err(AppError::Unrecognised),
        };
        // Until a datagram parses as the chosen protocol (the first datagram may have been
        // truncated, or unrecognisable), each of the first few gets its own detection.
        if record.is_err() && !udp.parsed && udp.tries < UDP_DETECT_TRIES {
            udp.tries += 1;
            if let Some((p, _)) = detect::detect_udp(payload, src.port, to_port) {
                self.proto = Some(p);
                record = parse_udp(p, payload);
            }
        }
        if self.proto.is_none() {
            return;
        }
        if record.is_ok() {
            udp.parsed = true;
        }
        let record = record.unwrap_or_else(|error| AppRecord::Anomaly { error });
        // A UDP conversation can be shared (DHCP's 0.0.0.0:68 → broadcast): the addresses
        // are this datagram's.
        let macs = match dir {
            Direction::ToServer => macs,
            Direction::ToClient => [macs[1], macs[0]],
        };
        self.emit(vec![(dir, record)], macs, at, events);
    }

    /// Ends the connection: a protocol still undecided is settled, streams flushed.
    pub fn finish(
        &mut self,
        cfg: &AppConfig,
        budget: &mut ReassemblyBudget,
        stats: &mut AppStats,
        at: At,
        events: &mut Vec<AppEvent>,
    ) {
        let Some(tcp) = self.tcp.as_mut() else {
            return;
        };
        let was_known = self.proto.is_some();
        let mut out = Out::new();
        let mut missed = 0;
        {
            let TcpState { streams, stage, .. } = &mut **tcp;
            for (stream, dir) in streams.iter_mut().zip(DIRS) {
                let mut sink = Sink {
                    stage,
                    proto: &mut self.proto,
                    dir,
                    server_port: self.server.port,
                    credentials: &cfg.credentials,
                    out: &mut out,
                    missed: &mut missed,
                };
                stream.finish(budget, &mut sink);
            }
        }
        if !was_known && self.proto.is_some() {
            stats.recognised += 1;
        }
        stats.missed_bytes += missed;
        let macs = self.macs;
        self.emit(out, macs, at, events);
    }

    fn emit(&mut self, out: Out, macs: [Option<[u8; 6]>; 2], at: At, events: &mut Vec<AppEvent>) {
        let Some(proto) = self.proto else { return };
        if out.is_empty() {
            return;
        }
        let (c, s) = (self.client, self.server);
        let transport = self.transport;
        let community_id = self
            .community_id
            .get_or_insert_with(|| {
                community_id_v1(0, c.addr.ip(), s.addr.ip(), c.port, s.port, transport).into()
            })
            .clone();
        for (direction, record) in out {
            events.push(AppEvent {
                ts: at.ts,
                file: at.file,
                index: at.index,
                proto,
                transport,
                client: (c.addr.ip(), c.port),
                server: (s.addr.ip(), s.port),
                macs,
                direction,
                community_id: community_id.clone(),
                conn: self.id,
                record,
            });
        }
    }
}
