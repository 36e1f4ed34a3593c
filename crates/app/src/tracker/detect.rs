//! Choosing a connection's protocol from its content.
//!
//! TCP: each direction's first bytes (up to [`PROBE_BYTES`]) go to every stream probe; the
//! first protocol in [`STREAM_PROTOCOLS`] that matches wins. When every probe has said no for every
//! direction that spoke (or the probe window is full), the service port decides, but only for
//! protocols that can lack a signature on the wire: telnet without option negotiation, MQTT or
//! Modbus picked up mid-connection, FTP without its banner (see [`port_fallback`]).
//!
//! UDP: the first datagram of a conversation must parse completely as one protocol; the
//! probes run strongest signature first (DHCP's magic cookie, SNMP's BER header, SSDP's
//! request line, DTLS, TFTP, DNS, CoAP); the weak signatures (DNS, CoAP) are not tried on
//! the DHCP, TFTP, SNMP and SSDP ports. Until a datagram parses as the chosen protocol, each of
//! the first eight datagrams of a conversation is detected again. Port 5353 turns DNS into
//! mDNS; DTLS counts as CoAP only on port 5684, since nothing outside the encryption says what
//! it carries.

use super::parsers::{stream_protocol, STREAM_PROTOCOLS};
use super::record::AppProto;
use crate::{coap, dhcp, dns, snmp, ssdp, tftp, Direction, Probe};

/// Bytes per direction kept while a TCP connection's protocol is undecided.
pub const PROBE_BYTES: usize = 1024;

/// Asks one stream probe about `first`, the first bytes `dir` sent.
pub fn tcp_probe(proto: AppProto, dir: Direction, first: &[u8]) -> Probe {
    stream_protocol(proto).map_or(Probe::NoMatch, |p| (p.probe)(dir, first))
}

/// The verdict over all stream probes for one direction's first bytes, asked in the order of
/// [`STREAM_PROTOCOLS`].
pub fn detect_tcp(dir: Direction, first: &[u8]) -> Probe3 {
    let mut undecided = false;
    for p in &STREAM_PROTOCOLS {
        if !p.probe_client && dir == Direction::ToServer {
            continue;
        }
        match (p.probe)(dir, first) {
            Probe::Match => return Probe3::Found(p.proto),
            Probe::NeedMore => undecided = true,
            Probe::NoMatch => {}
        }
    }
    if undecided {
        Probe3::NeedMore
    } else {
        Probe3::Unknown
    }
}

/// Result of [`detect_tcp`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Probe3 {
    /// This protocol.
    Found(AppProto),
    /// Some probe needs more bytes.
    NeedMore,
    /// No probe matches.
    Unknown,
}

/// The protocol a TCP server port implies when content cannot tell (the registrations'
/// fallback ports).
pub fn port_fallback(server_port: u16) -> Option<AppProto> {
    STREAM_PROTOCOLS
        .iter()
        .find(|p| p.fallback_ports.contains(&server_port))
        .map(|p| p.proto)
}

/// CoAP over DTLS (RFC 7252 §6.2).
const COAPS: u16 = 5684;

/// One UDP application protocol: how the first datagram of a conversation is recognised (and
/// which side sent it), and how datagrams are parsed. Adding a protocol is its module plus one
/// entry in [`DATAGRAM_PROTOCOLS`].
pub struct DatagramProtocol {
    /// The protocol parsed (DNS stands for mDNS too; the port decides).
    pub proto: AppProto,
    /// A weak signature (a few header bytes): not tried on the strong protocols' ports, whose
    /// truncated datagrams could pass for it.
    pub weak: bool,
    /// The ports the strong protocols own.
    pub ports: &'static [u16],
    /// The protocol of a conversation's first datagram and whether its sender is the server,
    /// or `None`.
    pub detect: DatagramDetect,
}

/// A datagram protocol's recogniser: (first datagram, source port, destination port) → the
/// protocol and whether the sender is the server.
pub type DatagramDetect = fn(&[u8], u16, u16) -> Option<(AppProto, bool)>;

/// The UDP protocols, strongest signature first.
pub static DATAGRAM_PROTOCOLS: [DatagramProtocol; 7] = [
    DatagramProtocol {
        proto: AppProto::Dhcp,
        weak: false,
        ports: &[67, 68],
        detect: |b, _, _| {
            if !dhcp::probe(b) {
                return None;
            }
            let m = dhcp::parse(b).ok()?;
            Some((AppProto::Dhcp, m.op == 2))
        },
    },
    DatagramProtocol {
        proto: AppProto::Snmp,
        weak: false,
        ports: &[161, 162],
        detect: |b, _, _| {
            if !snmp::probe(b) {
                return None;
            }
            let m = snmp::parse(b).ok()?;
            let from_agent = matches!(
                m.pdu_type,
                Some("get_response" | "trap" | "snmpv2_trap" | "report")
            );
            Some((AppProto::Snmp, from_agent))
        },
    },
    DatagramProtocol {
        proto: AppProto::Ssdp,
        weak: false,
        ports: &[1900],
        detect: |b, _, _| {
            if !ssdp::probe(b) {
                return None;
            }
            let m = ssdp::parse(b).ok()?;
            Some((AppProto::Ssdp, !matches!(m.kind, ssdp::SsdpKind::MSearch)))
        },
    },
    DatagramProtocol {
        proto: AppProto::Coap,
        weak: false,
        ports: &[],
        // DTLS hides the protocol it carries: only on CoAP's secure port is it CoAP.
        detect: |b, src, dst| {
            if !((src == COAPS || dst == COAPS) && coap::probe_dtls(b)) {
                return None;
            }
            let d = coap::parse_dtls(b).ok()?;
            let from_server = match d.handshake_type {
                Some("client_hello") => false,
                Some(_) => true,
                None => src == COAPS,
            };
            Some((AppProto::Coap, from_server))
        },
    },
    DatagramProtocol {
        proto: AppProto::Tftp,
        weak: false,
        ports: &[69],
        detect: |b, _, _| tftp::probe(b).then_some((AppProto::Tftp, false)),
    },
    DatagramProtocol {
        proto: AppProto::Dns,
        weak: true,
        ports: &[],
        detect: |b, src, dst| {
            if !dns::probe(b) {
                return None;
            }
            let m = dns::parse(b).ok().filter(dns_plausible)?;
            let proto = if src == 5353 || dst == 5353 {
                AppProto::Mdns
            } else {
                AppProto::Dns
            };
            Some((proto, m.response))
        },
    },
    DatagramProtocol {
        proto: AppProto::Coap,
        weak: true,
        ports: &[],
        detect: |b, _, _| {
            // Responses (class ≥ 2) come from the server; ACK/RST without a code too.
            coap::probe(b).then(|| (AppProto::Coap, coap::from_server(b)))
        },
    },
];

/// What the first datagram of a UDP conversation is, and whether its sender is the server
/// (a response or an announcement): the first entry of [`DATAGRAM_PROTOCOLS`] that
/// recognises it, weak signatures only off the strong protocols' ports.
pub fn detect_udp(payload: &[u8], src_port: u16, dst_port: u16) -> Option<(AppProto, bool)> {
    let strong_port = |p: u16| {
        DATAGRAM_PROTOCOLS
            .iter()
            .any(|d| !d.weak && d.ports.contains(&p))
    };
    let weak_allowed = !(strong_port(src_port) || strong_port(dst_port));
    DATAGRAM_PROTOCOLS
        .iter()
        .filter(|d| !d.weak || weak_allowed)
        .find_map(|d| (d.detect)(payload, src_port, dst_port))
}

/// What a real DNS message has and other protocols' datagrams rarely do: the reserved Z
/// bit clear, no error code in a query, and questions of a real type and class (IN, CH, HS,
/// NONE, ANY; the mDNS QU bit stripped). An NTP request, for one, fails all three.
fn dns_plausible(m: &dns::DnsMessage) -> bool {
    m.z & 0x4 == 0 // Z; AD and CD (the low two of the three) are in use
        && (m.response || m.rcode == 0)
        && m
            .questions
            .iter()
            .all(|q| q.rrtype != 0 && matches!(q.class, 1 | 3 | 4 | 254 | 255))
}

/// MQTT: a CONNECT packet (type 1, flags 0) whose variable header names the protocol
/// (`MQTT` or `MQIsdp`) from the client; from the server a CONNACK answers that, so only the
/// client side is probed.
pub(crate) fn mqtt_probe(dir: Direction, b: &[u8]) -> Probe {
    if dir == Direction::ToClient {
        return Probe::NoMatch;
    }
    let Some(&first) = b.first() else {
        return Probe::NeedMore;
    };
    if first != 0x10 {
        return Probe::NoMatch;
    }
    // Remaining length: 1–4 bytes.
    let mut i = 1;
    loop {
        match b.get(i) {
            None => return Probe::NeedMore,
            Some(v) if v & 0x80 != 0 && i < 4 => i += 1,
            Some(v) if v & 0x80 != 0 => return Probe::NoMatch,
            Some(_) => break,
        }
    }
    let name = b.get(i + 1..);
    let Some(name) = name else {
        return Probe::NeedMore;
    };
    for proto in [&b"\x00\x04MQTT"[..], &b"\x00\x06MQIsdp"[..]] {
        let n = name.len().min(proto.len());
        if name.get(..n) == proto.get(..n) {
            return if n == proto.len() {
                Probe::Match
            } else {
                Probe::NeedMore
            };
        }
    }
    Probe::NoMatch
}

/// Modbus/TCP: an MBAP header (protocol id 0, length 2–254) whose length matches the bytes
/// that follow or leaves room for them, and a function code 1–127 from the client.
pub(crate) fn modbus_probe(dir: Direction, b: &[u8]) -> Probe {
    if dir == Direction::ToClient {
        return Probe::NoMatch;
    }
    let Some(&[_, _, p0, p1, l0, l1, _, function]) = b.get(..8) else {
        return if b.len() >= 4 && b.get(2..4) != Some(&[0, 0]) {
            Probe::NoMatch
        } else {
            Probe::NeedMore
        };
    };
    let proto = u16::from_be_bytes([p0, p1]);
    let len = usize::from(u16::from_be_bytes([l0, l1]));
    if proto != 0 || !(2..=254).contains(&len) || !(1..=127).contains(&function) {
        return Probe::NoMatch;
    }
    // A first frame must be complete and end on a frame boundary, or be followed by a
    // second MBAP header.
    let end = 6 + len;
    match b.len().cmp(&end) {
        std::cmp::Ordering::Less => Probe::NeedMore,
        std::cmp::Ordering::Equal => Probe::Match,
        std::cmp::Ordering::Greater => match b.get(end + 2..end + 4) {
            Some([0, 0]) => Probe::Match,
            Some(_) => Probe::NoMatch,
            None => Probe::NeedMore,
        },
    }
}

/// Telnet: the stream starts with option negotiation (IAC WILL/WONT/DO/DONT or IAC SB).
pub(crate) fn telnet_probe(b: &[u8]) -> Probe {
    match b {
        [] | [0xff] => Probe::NeedMore,
        [0xff, 0xfa..=0xfe, ..] => Probe::Match,
        _ => Probe::NoMatch,
    }
}

/// DNS over TCP: the client's first message is a query (QR 0, one question) of at most
/// [`MAX_TCP_QUERY`] bytes behind its length prefix, and parses as DNS.
pub(crate) fn dns_tcp_probe(dir: Direction, b: &[u8]) -> Probe {
    if dir == Direction::ToClient {
        return Probe::NoMatch;
    }
    let Some(&[hi, lo]) = b.get(..2) else {
        return Probe::NeedMore;
    };
    let len = usize::from(u16::from_be_bytes([hi, lo]));
    if !(12..=MAX_TCP_QUERY).contains(&len) {
        return Probe::NoMatch;
    }
    if let Some(&[_, _, flags, _, qd_hi, qd_lo]) = b.get(2..8) {
        if flags & 0x80 != 0 || u16::from_be_bytes([qd_hi, qd_lo]) != 1 {
            return Probe::NoMatch;
        }
    }
    match b.get(2..2 + len) {
        Some(msg) if dns::probe(msg) && dns::parse(msg).is_ok() => Probe::Match,
        Some(_) => Probe::NoMatch,
        None => Probe::NeedMore,
    }
}

/// Largest first query accepted as DNS over TCP (queries are small; this bounds how long an
/// unknown stream can look like one).
const MAX_TCP_QUERY: usize = 512;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mqtt_connect_is_recognised_split_anywhere() {
        let connect = b"\x10\x0c\x00\x04MQTT\x04\x02\x00\x3c\x00\x00";
        assert_eq!(mqtt_probe(Direction::ToServer, connect), Probe::Match);
        for n in 0..8 {
            assert_eq!(
                mqtt_probe(Direction::ToServer, &connect[..n]),
                Probe::NeedMore,
                "{n}"
            );
        }
        assert_eq!(
            mqtt_probe(Direction::ToServer, b"\x10\x0c\x00\x04HTTP"),
            Probe::NoMatch
        );
        assert_eq!(
            mqtt_probe(Direction::ToServer, b"GET / HTTP/1.1"),
            Probe::NoMatch
        );
    }

    #[test]
    fn modbus_needs_a_consistent_frame() {
        let read = b"\x00\x01\x00\x00\x00\x06\x01\x03\x00\x00\x00\x0a";
        assert_eq!(modbus_probe(Direction::ToServer, read), Probe::Match);
        assert_eq!(
            modbus_probe(Direction::ToServer, &read[..9]),
            Probe::NeedMore
        );
        assert_eq!(
            modbus_probe(Direction::ToServer, b"\x00\x01\x00\x01\x00\x06"),
            Probe::NoMatch
        );
        let mut two = read.to_vec();
        two.extend_from_slice(b"\x00\x02\x00\x07");
        assert_eq!(modbus_probe(Direction::ToServer, &two), Probe::NoMatch);
    }

    #[test]
    fn telnet_and_dns_over_tcp() {
        assert_eq!(telnet_probe(b"\xff\xfd\x18"), Probe::Match);
        assert_eq!(telnet_probe(b"login: "), Probe::NoMatch);
        let mut q = vec![0, 29];
        q.extend_from_slice(b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00");
        q.extend_from_slice(b"\x07example\x03com\x00\x00\x01\x00\x01");
        assert_eq!(dns_tcp_probe(Direction::ToServer, &q), Probe::Match);
        assert_eq!(
            dns_tcp_probe(Direction::ToServer, &q[..20]),
            Probe::NeedMore
        );
        assert_eq!(
            dns_tcp_probe(Direction::ToServer, b"admin\r\n"),
            Probe::NoMatch
        );
        assert_eq!(dns_tcp_probe(Direction::ToClient, &q), Probe::NoMatch);
    }
}
