//! The TCP protocols' registrations ([`STREAM_PROTOCOLS`]: probe, fallback ports, parser)
//! and one stream parser per connection behind a single interface ([`StreamParse`]), turning
//! each parser's events into [`AppRecord`]s.

use super::record::{AppError, AppProto, AppRecord};
use crate::credentials::DefaultCredentials;
use crate::dns::{DnsEvent, DnsTcpParser};
use crate::ftp::{FtpEvent, FtpParser};
use crate::http::{HttpConfig, HttpEvent, HttpParser};
use crate::modbus::{ModbusEvent, ModbusParser};
use crate::mqtt::{MqttConfig, MqttEvent, MqttParser};
use crate::telnet::{TelnetEvent, TelnetParser};
use crate::tls::{TlsEvent, TlsParser};
use crate::Direction;
use crate::Probe;
use std::sync::Arc;

/// Records produced while feeding a parser, with their sender.
pub type Out = Vec<(Direction, AppRecord)>;

/// A connection's parser for one TCP protocol: the interface every stream protocol of
/// [`STREAM_PROTOCOLS`] implements. Its records (events and anomalies) go to `out`.
pub trait StreamParse: Send {
    /// Bytes of `dir`'s stream, in order.
    fn data(&mut self, dir: Direction, bytes: &[u8], out: &mut Out);
    /// `missed` bytes of `dir`'s stream were lost.
    fn gap(&mut self, dir: Direction, missed: u64);
    /// `dir`'s stream ended.
    fn end(&mut self, dir: Direction, out: &mut Out);
    /// True once nothing more of interest can come (the stream need not be followed).
    fn done(&self) -> bool {
        false
    }
}

/// What a parser may need from the tracker's configuration.
pub struct ParserContext<'a> {
    /// Default credentials that logins are checked against.
    pub credentials: &'a Arc<DefaultCredentials>,
}

/// One TCP application protocol: how it is recognised, when the port may decide, and its
/// parser. Adding a protocol is its module plus one entry in [`STREAM_PROTOCOLS`] (as
/// Suricata's `RustParser` registrations).
pub struct StreamProtocol {
    /// The protocol.
    pub proto: AppProto,
    /// Asks whether the first bytes a direction sent are this protocol.
    pub probe: fn(Direction, &[u8]) -> Probe,
    /// Whether the client's first bytes are probed too (FTP: only the server's greeting, since
    /// `USER …` is also what telnet brute-forcers type).
    pub probe_client: bool,
    /// Server ports that decide when content cannot: only for protocols that can lack a
    /// signature on the wire (telnet without negotiation, MQTT or Modbus picked up
    /// mid-connection, FTP without its banner).
    pub fallback_ports: &'static [u16],
    /// A parser for one connection.
    pub parser: fn(&ParserContext<'_>) -> Box<dyn StreamParse>,
}

/// The TCP protocols, in the order their probes are asked (strongest signature first).
pub static STREAM_PROTOCOLS: [StreamProtocol; 7] = [
    StreamProtocol {
        proto: AppProto::Tls,
        probe: crate::tls::probe,
        probe_client: true,
        fallback_ports: &[],
        parser: |_| Box::new(Adapter::<TlsParser, TlsEvent>::new(TlsParser::new())),
    },
    StreamProtocol {
        proto: AppProto::Http,
        probe: crate::http::probe,
        probe_client: true,
        fallback_ports: &[],
        parser: |c| {
            Box::new(Adapter::<HttpParser, HttpEvent>::new(
                HttpParser::with_credentials(HttpConfig::default(), c.credentials.clone()),
            ))
        },
    },
    StreamProtocol {
        proto: AppProto::Mqtt,
        probe: super::detect::mqtt_probe,
        probe_client: true,
        fallback_ports: &[1883],
        parser: |_| {
            Box::new(Adapter::<MqttParser, MqttEvent>::new(MqttParser::new(
                MqttConfig::default(),
            )))
        },
    },
    StreamProtocol {
        proto: AppProto::Modbus,
        probe: super::detect::modbus_probe,
        probe_client: true,
        fallback_ports: &[502],
        parser: |_| Box::new(ModbusStream::default()),
    },
    StreamProtocol {
        proto: AppProto::Ftp,
        probe: crate::ftp::probe,
        probe_client: false,
        fallback_ports: &[21],
        parser: |c| {
            Box::new(Adapter::<FtpParser, FtpEvent>::new(
                FtpParser::with_credentials(c.credentials.clone()),
            ))
        },
    },
    StreamProtocol {
        proto: AppProto::Telnet,
        probe: |_, first| super::detect::telnet_probe(first),
        probe_client: true,
        fallback_ports: &[23, 2323],
        parser: |c| {
            Box::new(Adapter::<TelnetParser, TelnetEvent>::new(
                TelnetParser::with_credentials(c.credentials.clone()),
            ))
        },
    },
    StreamProtocol {
        proto: AppProto::Dns,
        probe: super::detect::dns_tcp_probe,
        probe_client: true,
        fallback_ports: &[],
        parser: |_| Box::new(Adapter::<DnsTcpParser, DnsEvent>::new(DnsTcpParser::new())),
    },
];

/// The registration of a TCP protocol.
pub fn stream_protocol(proto: AppProto) -> Option<&'static StreamProtocol> {
    STREAM_PROTOCOLS.iter().find(|p| p.proto == proto)
}

/// A parser for `proto`, or `None` for a protocol that is not carried over TCP.
pub fn stream_parser(
    proto: AppProto,
    credentials: &Arc<DefaultCredentials>,
) -> Option<Box<dyn StreamParse>> {
    stream_protocol(proto).map(|p| (p.parser)(&ParserContext { credentials }))
}

fn anomaly(e: impl Into<AppError>) -> AppRecord {
    AppRecord::Anomaly { error: e.into() }
}

fn index(dir: Direction) -> usize {
    match dir {
        Direction::ToServer => 0,
        Direction::ToClient => 1,
    }
}

/// A protocol parser's own interface, as [`Adapter`] needs it.
trait ProtocolParser<E>: Send {
    /// Bytes of `dir`'s stream.
    fn feed(&mut self, dir: Direction, bytes: &[u8], out: &mut Vec<E>);
    /// Bytes of `dir`'s stream lost.
    fn lost(&mut self, dir: Direction, missed: u64);
    /// `dir`'s stream ended.
    fn close(&mut self, dir: Direction, out: &mut Vec<E>);
    /// Nothing more of interest can come.
    fn finished(&self) -> bool;
    /// Turns the parser's events into records (emptying `events`).
    fn records(dir: Direction, events: &mut Vec<E>, out: &mut Out);
}

/// A protocol parser behind [`StreamParse`], with a reused event buffer.
struct Adapter<P, E> {
    parser: P,
    events: Vec<E>,
}

impl<P, E> Adapter<P, E> {
    fn new(parser: P) -> Self {
        Adapter {
            parser,
            events: Vec::new(),
        }
    }
}

impl<P: ProtocolParser<E>, E: Send> StreamParse for Adapter<P, E> {
    fn data(&mut self, dir: Direction, bytes: &[u8], out: &mut Out) {
        self.parser.feed(dir, bytes, &mut self.events);
        P::records(dir, &mut self.events, out);
    }

    fn gap(&mut self, dir: Direction, missed: u64) {
        self.parser.lost(dir, missed);
    }

    fn end(&mut self, dir: Direction, out: &mut Out) {
        self.parser.close(dir, &mut self.events);
        P::records(dir, &mut self.events, out);
    }

    fn done(&self) -> bool {
        self.parser.finished()
    }
}

/// Modbus/TCP: one parser per direction.
struct ModbusStream {
    parsers: [ModbusParser; 2],
    events: Vec<ModbusEvent>,
}

impl Default for ModbusStream {
    fn default() -> Self {
        ModbusStream {
            parsers: [
                ModbusParser::new(Direction::ToServer),
                ModbusParser::new(Direction::ToClient),
            ],
            events: Vec::new(),
        }
    }
}

impl StreamParse for ModbusStream {
    fn data(&mut self, dir: Direction, bytes: &[u8], out: &mut Out) {
        if let Some(m) = self.parsers.get_mut(index(dir)) {
            m.data(bytes, &mut self.events);
        }
        push_modbus(dir, &mut self.events, out);
    }

    fn gap(&mut self, dir: Direction, missed: u64) {
        if let Some(m) = self.parsers.get_mut(index(dir)) {
            m.gap(missed);
        }
    }

    fn end(&mut self, dir: Direction, out: &mut Out) {
        if let Some(m) = self.parsers.get_mut(index(dir)) {
            m.end(&mut self.events);
        }
        push_modbus(dir, &mut self.events, out);
    }
}

impl ProtocolParser<MqttEvent> for MqttParser {
    fn feed(&mut self, dir: Direction, bytes: &[u8], out: &mut Vec<MqttEvent>) {
        self.data(dir, bytes, out);
    }
    fn lost(&mut self, dir: Direction, missed: u64) {
        self.gap(dir, missed);
    }
    fn close(&mut self, dir: Direction, out: &mut Vec<MqttEvent>) {
        self.end(dir, out);
    }
    fn finished(&self) -> bool {
        false
    }
    fn records(dir: Direction, events: &mut Vec<MqttEvent>, out: &mut Out) {
        push_mqtt(dir, events, out);
    }
}

impl ProtocolParser<TelnetEvent> for TelnetParser {
    fn feed(&mut self, dir: Direction, bytes: &[u8], out: &mut Vec<TelnetEvent>) {
        self.data(dir, bytes, out);
    }
    fn lost(&mut self, dir: Direction, _missed: u64) {
        self.gap(dir);
    }
    fn close(&mut self, _dir: Direction, _out: &mut Vec<TelnetEvent>) {}
    fn finished(&self) -> bool {
        false
    }
    fn records(dir: Direction, events: &mut Vec<TelnetEvent>, out: &mut Out) {
        out.extend(events.drain(..).map(|e| (dir, AppRecord::Telnet(e))));
    }
}

impl ProtocolParser<HttpEvent> for HttpParser {
    fn feed(&mut self, dir: Direction, bytes: &[u8], out: &mut Vec<HttpEvent>) {
        self.data(dir, bytes, out);
    }
    fn lost(&mut self, dir: Direction, missed: u64) {
        self.gap(dir, missed);
    }
    fn close(&mut self, dir: Direction, out: &mut Vec<HttpEvent>) {
        self.end(dir, out);
    }
    fn finished(&self) -> bool {
        self.done()
    }
    fn records(dir: Direction, events: &mut Vec<HttpEvent>, out: &mut Out) {
        push_http(dir, events, out);
    }
}

impl ProtocolParser<TlsEvent> for TlsParser {
    fn feed(&mut self, dir: Direction, bytes: &[u8], out: &mut Vec<TlsEvent>) {
        self.data(dir, bytes, out);
    }
    fn lost(&mut self, dir: Direction, missed: u64) {
        self.gap(dir, missed);
    }
    fn close(&mut self, dir: Direction, out: &mut Vec<TlsEvent>) {
        self.end(dir, out);
    }
    fn finished(&self) -> bool {
        self.done()
    }
    fn records(dir: Direction, events: &mut Vec<TlsEvent>, out: &mut Out) {
        push_tls(dir, events, out);
    }
}

impl ProtocolParser<FtpEvent> for FtpParser {
    fn feed(&mut self, dir: Direction, bytes: &[u8], out: &mut Vec<FtpEvent>) {
        self.data(dir, bytes, out);
    }
    fn lost(&mut self, dir: Direction, missed: u64) {
        self.gap(dir, missed);
    }
    fn close(&mut self, dir: Direction, out: &mut Vec<FtpEvent>) {
        self.end(dir, out);
    }
    // The control connection is followed to its end (logins can come at any time).
    fn finished(&self) -> bool {
        false
    }
    fn records(dir: Direction, events: &mut Vec<FtpEvent>, out: &mut Out) {
        push_ftp(dir, events, out);
    }
}

impl ProtocolParser<DnsEvent> for DnsTcpParser {
    fn feed(&mut self, dir: Direction, bytes: &[u8], out: &mut Vec<DnsEvent>) {
        self.data(dir, bytes, out);
    }
    fn lost(&mut self, dir: Direction, missed: u64) {
        self.gap(dir, missed);
    }
    fn close(&mut self, dir: Direction, out: &mut Vec<DnsEvent>) {
        self.end(dir, out);
    }
    fn finished(&self) -> bool {
        self.done()
    }
    fn records(dir: Direction, events: &mut Vec<DnsEvent>, out: &mut Out) {
        push_dns(dir, events, out);
    }
}

fn push_mqtt(dir: Direction, ev: &mut Vec<MqttEvent>, out: &mut Out) {
    out.extend(ev.drain(..).map(|e| match e {
        MqttEvent::Message(m) => (dir, AppRecord::Mqtt(Box::new(m))),
        MqttEvent::Error(e) => (dir, anomaly(e)),
    }));
}

fn push_modbus(dir: Direction, ev: &mut Vec<ModbusEvent>, out: &mut Out) {
    out.extend(ev.drain(..).map(|e| match e {
        ModbusEvent::Record(m) => (dir, AppRecord::Modbus(m)),
        ModbusEvent::Error(e) => (dir, anomaly(e)),
    }));
}

fn push_http(dir: Direction, ev: &mut Vec<HttpEvent>, out: &mut Out) {
    out.extend(ev.drain(..).map(|e| match e {
        // A transaction is the client's request with its answer: sent by the client.
        HttpEvent::Transaction(t) => (Direction::ToServer, AppRecord::Http(Box::new(t))),
        HttpEvent::Error(e) => (dir, anomaly(e)),
    }));
}

fn push_tls(dir: Direction, ev: &mut Vec<TlsEvent>, out: &mut Out) {
    out.extend(ev.drain(..).map(|e| match e {
        TlsEvent::Error(e) => (dir, anomaly(e)),
        other => (dir, AppRecord::Tls(Box::new(other))),
    }));
}

fn push_ftp(dir: Direction, ev: &mut Vec<FtpEvent>, out: &mut Out) {
    out.extend(ev.drain(..).map(|e| match e {
        FtpEvent::Error(e) => (dir, anomaly(e)),
        other => (dir, AppRecord::Ftp(other)),
    }));
}

fn push_dns(dir: Direction, ev: &mut Vec<DnsEvent>, out: &mut Out) {
    out.extend(ev.drain(..).map(|e| match e {
        DnsEvent::Message(m) => (dir, AppRecord::Dns(Box::new(m))),
        DnsEvent::Error(e) => (dir, anomaly(e)),
    }));
}
