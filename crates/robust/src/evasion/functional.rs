//! The functional check: a transformed attack phase must still do what the original did.
//!
//! From the phase's decoded packets (the attacker's side, see [`super::phase`]) it computes
//! an [`Effect`]:
//! - the targets probed: (destination, protocol, port) of every TCP SYN and UDP datagram;
//! - the telnet lines sent (credentials tried): the attacker's TCP streams to ports 23 and
//!   2323, reassembled by sequence number (RFC 793 §3.3), telnet commands removed (RFC 854:
//!   IAC and option negotiation), split into lines;
//! - the MQTT PUBLISH packets sent: the attacker's streams to port 1883, reassembled, read as
//!   MQTT control packets (fixed header and remaining length, MQTT 3.1.1 §2.2 / 5.0 §2.1);
//! - the packets that reach each destination (IPv4 address, or Ethernet address for frames
//!   without IPv4) within the time the budget allows: the phase's start plus the budget's
//!   duration factor times its original duration.
//!
//! A transformed phase passes when it probes every target the original probed, sends every
//! telnet line it sent and at least as many PUBLISHes, and puts at least as many packets at
//! each destination in time. Anything more (chaff, split segments) is allowed.

use super::frame::{be32, locate, ports, TCP, UDP};
use super::phase::Pkt;
use crate::renumber::{endpoints, flow_key};
use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;

/// Telnet server ports.
const TELNET: [u16; 2] = [23, 2323];
/// MQTT broker port.
const MQTT: u16 = 1883;
/// Longest stream reassembled per flow (bytes): the check reads credentials and control
/// packets, not bulk data.
const MAX_STREAM: usize = 1 << 20;

/// One attacker TCP stream: server, server port, segments (sequence number, payload).
type Stream = (Ipv4Addr, u16, Vec<(u32, Vec<u8>)>);

/// What an attack phase does, as its packets show.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Effect {
    /// (destination, IP protocol, destination port) of every SYN and UDP datagram sent.
    pub probed: BTreeSet<(Ipv4Addr, u8, u16)>,
    /// (server, line) of every telnet line sent.
    pub telnet_lines: BTreeSet<(Ipv4Addr, String)>,
    /// MQTT PUBLISH packets sent.
    pub mqtt_publishes: u64,
    /// Packets sent to each destination before the deadline (hex of the address).
    pub delivered: BTreeMap<String, u64>,
}

/// Why a transformed phase fails the functional check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Broken {
    /// A target the original probed is not probed.
    Probe(Ipv4Addr, u8, u16),
    /// A telnet line the original sent is not sent.
    TelnetLine(Ipv4Addr, String),
    /// Fewer MQTT PUBLISHes: (original, transformed).
    MqttPublishes(u64, u64),
    /// Fewer packets reach a destination in time: (destination, original, transformed).
    Delivered(String, u64, u64),
}

impl std::fmt::Display for Broken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Broken::Probe(a, p, port) => write!(f, "{a} protocol {p} port {port} not probed"),
            Broken::TelnetLine(a, l) => write!(f, "telnet line {l:?} to {a} not sent"),
            Broken::MqttPublishes(a, b) => write!(f, "{b} MQTT PUBLISHes instead of {a}"),
            Broken::Delivered(d, a, b) => {
                write!(f, "{b} packets reach {d} in time instead of {a}")
            }
        }
    }
}

impl Effect {
    /// The effect of `packets` (time order), counting deliveries up to `deadline` (ns).
    pub fn of(packets: &[Pkt], linktype: u32, deadline: i64) -> Self {
        let mut e = Effect::default();
        let mut streams: BTreeMap<Vec<u8>, Stream> = BTreeMap::new();
        for p in packets.iter().filter(|p| p.from_attacker) {
            let f = &p.frame;
            let ends = endpoints(linktype, &f.data);
            if f.ts <= deadline {
                let dst = match ends.ipv4[1] {
                    Some(ip) => ip.to_string(),
                    None => f
                        .data
                        .get(0..6)
                        .map(crate::capture::hex)
                        .unwrap_or_default(),
                };
                *e.delivered.entry(dst).or_default() += 1;
            }
            let Some(l) = locate(linktype, f) else {
                continue;
            };
            let (Some((_, dst)), Some((_, dport))) =
                (super::frame::addrs(&f.data, &l), ports(&f.data, &l))
            else {
                continue;
            };
            let flags = f.data.get(l.l4 + 13).copied().unwrap_or(0);
            if l.proto == UDP || (l.proto == TCP && flags & 0x12 == 0x02) {
                e.probed.insert((dst, l.proto, dport));
            }
            let payload = f.data.get(l.payload..l.end).unwrap_or_default();
            if l.proto == TCP && (TELNET.contains(&dport) || dport == MQTT) && !payload.is_empty() {
                let (Some(key), Some(seq)) = (flow_key(linktype, &f.data), be32(&f.data, l.l4 + 4))
                else {
                    continue;
                };
                let s = streams.entry(key).or_insert((dst, dport, Vec::new()));
                s.2.push((seq, payload.to_vec()));
            }
        }
        for (dst, dport, segments) in streams.into_values() {
            let bytes = reassemble(segments);
            if dport == MQTT {
                e.mqtt_publishes += mqtt_publishes(&bytes);
            } else {
                for line in telnet_lines(&bytes) {
                    e.telnet_lines.insert((dst, line));
                }
            }
        }
        e
    }

    /// Checks that `after` does everything `self` (the original) does.
    ///
    /// # Errors
    /// The first thing `after` fails to do.
    pub fn kept_by(&self, after: &Effect) -> Result<(), Broken> {
        if let Some(p) = self.probed.difference(&after.probed).next() {
            return Err(Broken::Probe(p.0, p.1, p.2));
        }
        if let Some(t) = self.telnet_lines.difference(&after.telnet_lines).next() {
            return Err(Broken::TelnetLine(t.0, t.1.clone()));
        }
        if after.mqtt_publishes < self.mqtt_publishes {
            return Err(Broken::MqttPublishes(
                self.mqtt_publishes,
                after.mqtt_publishes,
            ));
        }
        for (d, &n) in &self.delivered {
            let m = after.delivered.get(d).copied().unwrap_or(0);
            if m < n {
                return Err(Broken::Delivered(d.clone(), n, m));
            }
        }
        Ok(())
    }
}

/// A stream from its segments (sequence number, payload): ordered by sequence number
/// relative to the first segment sent, overlaps and retransmissions read once, stopping at
/// a gap or after [`MAX_STREAM`] bytes.
fn reassemble(segments: Vec<(u32, Vec<u8>)>) -> Vec<u8> {
    let Some(base) = segments.first().map(|s| s.0) else {
        return Vec::new();
    };
    let mut rel: Vec<(u32, Vec<u8>)> = segments
        .into_iter()
        .map(|(s, p)| (s.wrapping_sub(base), p))
        .collect();
    rel.sort_by_key(|s| s.0);
    let mut out = Vec::new();
    let mut next: u64 = 0;
    for (s, p) in rel {
        let (s, end) = (u64::from(s), u64::from(s) + p.len() as u64);
        if s > next {
            break;
        }
        if end > next {
            let from = usize::try_from(next - s).unwrap_or(usize::MAX);
            out.extend(p.get(from..).unwrap_or_default());
            next = end;
        }
        if out.len() >= MAX_STREAM {
            break;
        }
    }
    out
}

/// The non-empty lines of a telnet client stream, commands removed (RFC 854: IAC = 255;
/// WILL/WONT/DO/DONT take one option byte; SB … IAC SE is skipped; IAC IAC is 255).
fn telnet_lines(b: &[u8]) -> Vec<String> {
    let mut text = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if c != 255 {
            text.push(c);
            i += 1;
            continue;
        }
        match b.get(i + 1) {
            Some(255) => {
                text.push(255);
                i += 2;
            }
            Some(251..=254) => i += 3,
            Some(250) => {
                i += 2;
                while i < b.len() && !(b.get(i) == Some(&255) && b.get(i + 1) == Some(&240)) {
                    i += 1;
                }
                i += 2;
            }
            _ => i += 2,
        }
    }
    text.split(|&c| c == b'\r' || c == b'\n' || c == 0)
        .filter(|l| !l.is_empty())
        .map(|l| String::from_utf8_lossy(l).into_owned())
        .collect()
}

/// PUBLISH packets in an MQTT client stream (stops at the first incomplete or malformed
/// packet).
fn mqtt_publishes(b: &[u8]) -> u64 {
    let mut n = 0;
    let mut i = 0usize;
    while let Some(&first) = b.get(i) {
        let mut len: usize = 0;
        let mut shift = 0;
        let mut j = i + 1;
        loop {
            let Some(&c) = b.get(j) else { return n };
            len |= usize::from(c & 0x7f) << shift;
            j += 1;
            if c & 0x80 == 0 {
                break;
            }
            shift += 7;
            if shift > 21 {
                return n;
            }
        }
        let Some(end) = j.checked_add(len).filter(|&e| e <= b.len()) else {
            return n;
        };
        if first >> 4 == 3 {
            n += 1;
        }
        i = end;
    }
    n
}

/// The deadline of a phase whose packets span `first..=last` under a duration factor.
pub fn deadline(first: i64, last: i64, duration_factor: f64) -> i64 {
    let span = (last - first).max(0) as f64;
    first + (span * duration_factor).ceil() as i64 + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn telnet_commands_are_removed_from_lines() {
        let b = b"\xff\xfd\x01\xff\xfb\x18root\r\n\xff\xfa\x18\x00xterm\xff\xf0xc3511\r\n";
        assert_eq!(telnet_lines(b), vec!["root", "xc3511"]);
    }

    #[test]
    fn reassembly_orders_and_deduplicates_segments() {
        let s = vec![
            (100, b"ro".to_vec()),
            (104, b"\r\n".to_vec()),
            (102, b"ot".to_vec()),
            (100, b"ro".to_vec()),
        ];
        assert_eq!(reassemble(s), b"root\r\n");
        let gap = vec![(100, b"ro".to_vec()), (104, b"\r\n".to_vec())];
        assert_eq!(reassemble(gap), b"ro");
    }

    #[test]
    fn mqtt_publishes_are_counted_across_packets() {
        // CONNECT (len 2), PUBLISH (len 3), PUBLISH with a 2-byte length (len 128), truncated.
        let mut b = vec![0x10, 2, 0, 0, 0x30, 3, 0, 1, b'a', 0x32, 0x80, 0x01];
        b.extend(vec![0u8; 128]);
        b.extend([0x30, 10, 0]);
        assert_eq!(mqtt_publishes(&b), 2);
    }
}
