//! One stream parser per TCP connection behind a single interface, turning each parser's
//! events into [`AppRecord`]s.

use super::record::{AppProto, AppRecord};
use crate::credentials::DefaultCredentials;
use crate::dns::{DnsEvent, DnsTcpParser};
use crate::ftp::{FtpEvent, FtpParser};
use crate::http::{HttpConfig, HttpEvent, HttpParser};
use crate::modbus::{ModbusEvent, ModbusParser};
use crate::mqtt::{MqttConfig, MqttEvent, MqttParser};
use crate::telnet::TelnetParser;
use crate::tls::{TlsEvent, TlsParser};
use crate::Direction;
use std::sync::Arc;

/// Records produced while feeding a parser, with their sender.
pub type Out = Vec<(Direction, AppRecord)>;

/// A stream parser of one of the TCP protocols.
pub enum StreamParser {
    /// MQTT.
    Mqtt(Box<MqttParser>),
    /// Telnet.
    Telnet(Box<TelnetParser>),
    /// Modbus/TCP, one parser per direction.
    Modbus(Box<[ModbusParser; 2]>),
    /// HTTP/1.x.
    Http(Box<HttpParser>),
    /// TLS handshake.
    Tls(Box<TlsParser>),
    /// FTP control.
    Ftp(Box<FtpParser>),
    /// DNS over TCP.
    Dns(Box<DnsTcpParser>),
}

fn anomaly(e: impl std::fmt::Display) -> AppRecord {
    AppRecord::Anomaly {
        error: e.to_string(),
    }
}

fn index(dir: Direction) -> usize {
    match dir {
        Direction::ToServer => 0,
        Direction::ToClient => 1,
    }
}

impl StreamParser {
    /// A parser for `proto`, or `None` for a protocol that is not carried over TCP.
    pub fn new(proto: AppProto, credentials: &Arc<DefaultCredentials>) -> Option<Self> {
        Some(match proto {
            AppProto::Mqtt => StreamParser::Mqtt(Box::new(MqttParser::new(MqttConfig::default()))),
            AppProto::Telnet => StreamParser::Telnet(Box::new(TelnetParser::with_credentials(
                credentials.clone(),
            ))),
            AppProto::Modbus => StreamParser::Modbus(Box::new([
                ModbusParser::new(Direction::ToServer),
                ModbusParser::new(Direction::ToClient),
            ])),
            AppProto::Http => StreamParser::Http(Box::new(HttpParser::with_credentials(
                HttpConfig::default(),
                credentials.clone(),
            ))),
            AppProto::Tls => StreamParser::Tls(Box::default()),
            AppProto::Ftp => {
                StreamParser::Ftp(Box::new(FtpParser::with_credentials(credentials.clone())))
            }
            AppProto::Dns => StreamParser::Dns(Box::default()),
            _ => return None,
        })
    }

    /// Bytes of `dir`'s stream.
    pub fn data(&mut self, dir: Direction, bytes: &[u8], out: &mut Out) {
        match self {
            StreamParser::Mqtt(p) => {
                let mut ev = Vec::new();
                p.data(dir, bytes, &mut ev);
                push_mqtt(dir, ev, out);
            }
            StreamParser::Telnet(p) => {
                let mut ev = Vec::new();
                p.data(dir, bytes, &mut ev);
                out.extend(ev.into_iter().map(|e| (dir, AppRecord::Telnet(e))));
            }
            StreamParser::Modbus(p) => {
                let mut ev = Vec::new();
                if let Some(m) = p.get_mut(index(dir)) {
                    m.data(bytes, &mut ev);
                }
                push_modbus(dir, ev, out);
            }
            StreamParser::Http(p) => {
                let mut ev = Vec::new();
                p.data(dir, bytes, &mut ev);
                push_http(dir, ev, out);
            }
            StreamParser::Tls(p) => {
                let mut ev = Vec::new();
                p.data(dir, bytes, &mut ev);
                push_tls(dir, ev, out);
            }
            StreamParser::Ftp(p) => {
                let mut ev = Vec::new();
                p.data(dir, bytes, &mut ev);
                push_ftp(dir, ev, out);
            }
            StreamParser::Dns(p) => {
                let mut ev = Vec::new();
                p.data(dir, bytes, &mut ev);
                push_dns(dir, ev, out);
            }
        }
    }

    /// `missed` bytes of `dir`'s stream were lost.
    pub fn gap(&mut self, dir: Direction, missed: u64) {
        match self {
            StreamParser::Mqtt(p) => p.gap(dir, missed),
            StreamParser::Telnet(p) => p.gap(dir),
            StreamParser::Modbus(p) => {
                if let Some(m) = p.get_mut(index(dir)) {
                    m.gap(missed);
                }
            }
            StreamParser::Http(p) => p.gap(dir, missed),
            StreamParser::Tls(p) => p.gap(dir, missed),
            StreamParser::Ftp(p) => p.gap(dir, missed),
            StreamParser::Dns(p) => p.gap(dir, missed),
        }
    }

    /// `dir`'s stream ended.
    pub fn end(&mut self, dir: Direction, out: &mut Out) {
        match self {
            StreamParser::Mqtt(p) => {
                let mut ev = Vec::new();
                p.end(dir, &mut ev);
                push_mqtt(dir, ev, out);
            }
            StreamParser::Telnet(_) => {}
            StreamParser::Modbus(p) => {
                let mut ev = Vec::new();
                if let Some(m) = p.get_mut(index(dir)) {
                    m.end(&mut ev);
                }
                push_modbus(dir, ev, out);
            }
            StreamParser::Http(p) => {
                let mut ev = Vec::new();
                p.end(dir, &mut ev);
                push_http(dir, ev, out);
            }
            StreamParser::Tls(p) => {
                let mut ev = Vec::new();
                p.end(dir, &mut ev);
                push_tls(dir, ev, out);
            }
            StreamParser::Ftp(p) => {
                let mut ev = Vec::new();
                p.end(dir, &mut ev);
                push_ftp(dir, ev, out);
            }
            StreamParser::Dns(p) => {
                let mut ev = Vec::new();
                p.end(dir, &mut ev);
                push_dns(dir, ev, out);
            }
        }
    }

    /// True once nothing more of interest can come (the stream need not be followed).
    pub fn done(&self) -> bool {
        match self {
            StreamParser::Tls(p) => p.done(),
            StreamParser::Http(p) => p.done(),
            StreamParser::Dns(p) => p.done(),
            _ => false,
        }
    }
}

fn push_mqtt(dir: Direction, ev: Vec<MqttEvent>, out: &mut Out) {
    out.extend(ev.into_iter().map(|e| match e {
        MqttEvent::Message(m) => (dir, AppRecord::Mqtt(Box::new(m))),
        MqttEvent::Error(e) => (dir, anomaly(e)),
    }));
}

fn push_modbus(dir: Direction, ev: Vec<ModbusEvent>, out: &mut Out) {
    out.extend(ev.into_iter().map(|e| match e {
        ModbusEvent::Record(m) => (dir, AppRecord::Modbus(m)),
        ModbusEvent::Error(e) => (dir, anomaly(e)),
    }));
}

fn push_http(dir: Direction, ev: Vec<HttpEvent>, out: &mut Out) {
    out.extend(ev.into_iter().map(|e| match e {
        // A transaction is the client's request with its answer: sent by the client.
        HttpEvent::Transaction(t) => (Direction::ToServer, AppRecord::Http(Box::new(t))),
        HttpEvent::Error(e) => (dir, anomaly(e)),
    }));
}

fn push_tls(dir: Direction, ev: Vec<TlsEvent>, out: &mut Out) {
    out.extend(ev.into_iter().map(|e| match e {
        TlsEvent::Error(e) => (dir, anomaly(e)),
        other => (dir, AppRecord::Tls(Box::new(other))),
    }));
}

fn push_ftp(dir: Direction, ev: Vec<FtpEvent>, out: &mut Out) {
    out.extend(ev.into_iter().map(|e| match e {
        FtpEvent::Error(e) => (dir, anomaly(e)),
        other => (dir, AppRecord::Ftp(other)),
    }));
}

fn push_dns(dir: Direction, ev: Vec<DnsEvent>, out: &mut Out) {
    out.extend(ev.into_iter().map(|e| match e {
        DnsEvent::Message(m) => (dir, AppRecord::Dns(Box::new(m))),
        DnsEvent::Error(e) => (dir, anomaly(e)),
    }));
}
