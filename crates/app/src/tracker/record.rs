//! What the tracker emits: protocols, typed records and events.

use super::behaviour::{FloodEvent, ScanEvent};
use crate::coap::{CoapMessage, DtlsRecord};
use crate::dhcp::DhcpMessage;
use crate::dns::DnsMessage;
use crate::ftp::FtpEvent;
use crate::http::HttpTransaction;
use crate::modbus::ModbusRecord;
use crate::mqtt::MqttRecord;
use crate::snmp::SnmpMessage;
use crate::ssdp::SsdpMessage;
use crate::telnet::TelnetEvent;
use crate::tftp::TftpRequest;
use crate::tls::TlsEvent;
use crate::Direction;
use serde::Serialize;
use std::net::IpAddr;

/// Application protocols the tracker recognises (by content; see `docs/app.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AppProto {
    /// DNS, unicast or over TCP.
    Dns,
    /// Multicast DNS (DNS messages on port 5353).
    Mdns,
    /// DHCPv4 / BOOTP.
    Dhcp,
    /// HTTP/1.x.
    Http,
    /// TLS.
    Tls,
    /// MQTT 3.1, 3.1.1, 5.
    Mqtt,
    /// CoAP, plain or over DTLS.
    Coap,
    /// Telnet.
    Telnet,
    /// FTP control channel.
    Ftp,
    /// SNMP.
    Snmp,
    /// SSDP / UPnP discovery.
    Ssdp,
    /// Modbus/TCP.
    Modbus,
    /// TFTP requests.
    Tftp,
    /// Not a protocol: a scan seen by the behaviour watch ([`super::behaviour`]).
    Scan,
    /// Not a protocol: a flood seen by the behaviour watch ([`super::behaviour`]).
    Flood,
}

impl AppProto {
    /// EVE `event_type` and `app_proto` name.
    pub fn name(self) -> &'static str {
        match self {
            AppProto::Dns => "dns",
            AppProto::Mdns => "mdns",
            AppProto::Dhcp => "dhcp",
            AppProto::Http => "http",
            AppProto::Tls => "tls",
            AppProto::Mqtt => "mqtt",
            AppProto::Coap => "coap",
            AppProto::Telnet => "telnet",
            AppProto::Ftp => "ftp",
            AppProto::Snmp => "snmp",
            AppProto::Ssdp => "ssdp",
            AppProto::Modbus => "modbus",
            AppProto::Tftp => "tftp",
            AppProto::Scan => "scan",
            AppProto::Flood => "flood",
        }
    }

    /// True for protocols that carry credentials or data in the clear by design.
    pub fn is_cleartext(self) -> bool {
        !matches!(self, AppProto::Tls | AppProto::Scan | AppProto::Flood)
    }

    /// True for the behaviour watch's kinds ([`AppProto::Scan`], [`AppProto::Flood`]), which
    /// are no application protocol.
    pub fn is_behaviour(self) -> bool {
        matches!(self, AppProto::Scan | AppProto::Flood)
    }
}

/// One parsed application record.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum AppRecord {
    /// A DNS or mDNS message.
    Dns(Box<DnsMessage>),
    /// A DHCP message.
    Dhcp(Box<DhcpMessage>),
    /// An HTTP request with its response.
    Http(Box<HttpTransaction>),
    /// A TLS handshake message (never `TlsEvent::Error`; those become [`AppRecord::Anomaly`]).
    Tls(Box<TlsEvent>),
    /// An MQTT control packet.
    Mqtt(Box<MqttRecord>),
    /// A CoAP message.
    Coap(Box<CoapMessage>),
    /// A DTLS datagram (CoAP over DTLS is opaque past the handshake).
    Dtls(DtlsRecord),
    /// A telnet negotiation or login step.
    Telnet(TelnetEvent),
    /// An FTP command, reply or login (never `FtpEvent::Error`).
    Ftp(FtpEvent),
    /// An SNMP message.
    Snmp(Box<SnmpMessage>),
    /// An SSDP message.
    Ssdp(Box<SsdpMessage>),
    /// A Modbus/TCP frame.
    Modbus(ModbusRecord),
    /// A TFTP request.
    Tftp(TftpRequest),
    /// A scan (network service discovery) starting or ending.
    Scan(Box<ScanEvent>),
    /// A flood starting or ending.
    Flood(Box<FloodEvent>),
    /// A parser error: malformed data in a recognised protocol.
    Anomaly {
        /// The parser's error, typed (written as its message, with its byte offset).
        error: AppError,
    },
}

/// A parser's error, kept typed: which protocol's parser failed and how, with the byte offset
/// its error carries. Events write it as its message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AppError {
    /// MQTT.
    #[error(transparent)]
    Mqtt(#[from] crate::mqtt::MqttError),
    /// Modbus/TCP.
    #[error(transparent)]
    Modbus(#[from] crate::modbus::ModbusError),
    /// HTTP/1.x.
    #[error(transparent)]
    Http(#[from] crate::http::HttpError),
    /// TLS.
    #[error(transparent)]
    Tls(#[from] crate::tls::TlsError),
    /// FTP.
    #[error(transparent)]
    Ftp(#[from] crate::ftp::FtpError),
    /// DNS and mDNS.
    #[error(transparent)]
    Dns(#[from] crate::dns::DnsError),
    /// DHCP.
    #[error(transparent)]
    Dhcp(#[from] crate::dhcp::DhcpError),
    /// SNMP.
    #[error(transparent)]
    Snmp(#[from] crate::snmp::SnmpError),
    /// SSDP.
    #[error(transparent)]
    Ssdp(#[from] crate::ssdp::SsdpError),
    /// CoAP and DTLS.
    #[error(transparent)]
    Coap(#[from] crate::coap::CoapError),
    /// TFTP.
    #[error(transparent)]
    Tftp(#[from] crate::tftp::TftpError),
    /// A datagram given to a protocol that is not carried over UDP.
    #[error("{0} is not carried over UDP")]
    NotUdp(&'static str),
    /// No protocol was recognised (never emitted as an event).
    #[error("no protocol recognised")]
    Unrecognised,
}

impl Serialize for AppError {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// One application event: a record with the connection it came from.
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
    /// IP protocol: 6 (TCP) or 17 (UDP).
    pub transport: u8,
    /// Client (initiator) address and port.
    pub client: (IpAddr, u16),
    /// Server address and port.
    pub server: (IpAddr, u16),
    /// Ethernet addresses of client and server, when the link has them.
    pub macs: [Option<[u8; 6]>; 2],
    /// Who sent the record.
    pub direction: Direction,
    /// Community ID of the connection.
    pub community_id: std::sync::Arc<str>,
    /// Number of the connection in this tracker (1, 2, …), the same for all its events; for
    /// scan and flood events, the episode's number, counted down from `u64::MAX`.
    pub conn: u64,
    /// The record.
    pub record: AppRecord,
}

impl AppEvent {
    /// EVE `event_type`: the protocol, or `anomaly` for parser errors.
    pub fn event_type(&self) -> &'static str {
        match self.record {
            AppRecord::Anomaly { .. } => "anomaly",
            _ => self.proto.name(),
        }
    }

    /// Address and port of the sender of the record.
    pub fn sender(&self) -> (IpAddr, u16) {
        match self.direction {
            Direction::ToServer => self.client,
            Direction::ToClient => self.server,
        }
    }

    /// Address and port of the receiver of the record.
    pub fn receiver(&self) -> (IpAddr, u16) {
        match self.direction {
            Direction::ToServer => self.server,
            Direction::ToClient => self.client,
        }
    }

    /// The canonical key of the connection (without VLANs: the tracker's events do not
    /// carry them).
    pub fn flow_key(&self) -> custos_flow::FlowKey {
        let end = |(ip, port): (IpAddr, u16)| custos_flow::Endpoint {
            addr: ip.into(),
            port,
        };
        custos_flow::FlowKey::canonical(end(self.client), end(self.server), self.transport, [0, 0])
            .0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_stay_small_to_move() {
        let sizes = (
            std::mem::size_of::<AppRecord>(),
            std::mem::size_of::<AppEvent>(),
            std::mem::size_of::<TelnetEvent>(),
            std::mem::size_of::<FtpEvent>(),
            std::mem::size_of::<ModbusRecord>(),
            std::mem::size_of::<TftpRequest>(),
            std::mem::size_of::<DtlsRecord>(),
        );
        println!("{sizes:?}");
        assert!(sizes.1 <= 256, "{sizes:?}");
    }
}
