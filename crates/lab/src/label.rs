//! The labelling rule, kept free of I/O so it can be tested without root.
//!
//! A packet is labelled **1** when both hold:
//!
//! 1. it *carries the attacker's address*: the attacker's MAC is the Ethernet source or
//!    destination, or (ARP) the sender or target hardware address; or the attacker's IPv4 address
//!    is the IPv4 source or destination, or (ARP) the sender or target protocol address;
//! 2. its capture timestamp falls inside an attack phase, `[start, end)`, where an attack phase
//!    starts just before the tool is started and ends `drain_s` after the tool has exited (so
//!    replies still in flight belong to it).
//!
//! Everything else is **0**: other hosts' traffic, the attacker's benign chatter in benign phases
//! (before, between and after attacks), the `startup` and `teardown` phases, and — in attack
//! phases too — the TCP and UDP conversations of the attacker device's own benign behaviour,
//! which the lab logs as it opens them ([`crate::chatter`]; matched by transport, both
//! endpoints and time, [`transport_tuple`]). Before 2026-12-07 those were labelled 1.
//!
//! Phases tile the capture: each packet belongs to the last phase that started at or before its
//! timestamp (packets before the first phase belong to the first). Timestamps come from the same
//! wall clock as the phase times (the capture stamps a frame when it reads it from the socket).

use std::net::{Ipv4Addr, SocketAddrV4};

use crate::chatter::{is_chatter, ChatterFlow};

/// What kind of phase a span is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PhaseKind {
    /// Devices start, services warm up (benign).
    Startup,
    /// A benign scenario phase.
    Benign,
    /// An attack phase.
    Attack,
    /// Devices stopped, the capture drains (benign).
    Teardown,
}

/// One phase on the lab's clock.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PhaseSpan {
    /// Phase name.
    pub name: String,
    /// Its kind.
    pub kind: PhaseKind,
    /// Start, nanoseconds since the Unix epoch.
    pub start_ns: i64,
    /// End (exclusive), nanoseconds since the Unix epoch.
    pub end_ns: i64,
}

/// The attacker's addresses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AttackerAddr {
    /// Its MAC address.
    pub mac: [u8; 6],
    /// Its IPv4 address.
    pub ip: Ipv4Addr,
}

const ETH_HLEN: usize = 14;
const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_ARP: u16 = 0x0806;

fn slice6(b: &[u8], at: usize) -> Option<[u8; 6]> {
    b.get(at..at + 6).and_then(|s| s.try_into().ok())
}
fn ip4(b: &[u8], at: usize) -> Option<Ipv4Addr> {
    b.get(at..at + 4)
        .and_then(|s| <[u8; 4]>::try_from(s).ok())
        .map(Ipv4Addr::from)
}

/// Whether an Ethernet frame carries `a`'s MAC or IPv4 address (rule 1 above). Truncated frames
/// are checked as far as they go.
pub fn carries(frame: &[u8], a: &AttackerAddr) -> bool {
    let mac = |at| slice6(frame, at) == Some(a.mac);
    let ip = |at| ip4(frame, at) == Some(a.ip);
    if mac(0) || mac(6) {
        return true;
    }
    let ethertype = frame
        .get(12..14)
        .map(|s| u16::from_be_bytes([s[0], s[1]]))
        .unwrap_or(0);
    match ethertype {
        ETHERTYPE_IPV4 => ip(ETH_HLEN + 12) || ip(ETH_HLEN + 16),
        // ARP for Ethernet/IPv4: sha 8..14, spa 14..18, tha 18..24, tpa 24..28.
        ETHERTYPE_ARP => {
            mac(ETH_HLEN + 8) || ip(ETH_HLEN + 14) || mac(ETH_HLEN + 18) || ip(ETH_HLEN + 24)
        }
        _ => false,
    }
}

/// The IP protocol and the source and destination of an Ethernet frame carrying an IPv4
/// TCP or UDP packet (the first fragment, or an unfragmented packet); `None` for anything
/// else or a frame too short to hold the ports.
pub fn transport_tuple(frame: &[u8]) -> Option<(u8, SocketAddrV4, SocketAddrV4)> {
    let ethertype = frame
        .get(12..14)
        .map(|s| u16::from_be_bytes([s[0], s[1]]))?;
    let ip = frame.get(ETH_HLEN..)?;
    let ihl = usize::from(ip.first()? & 0x0f) * 4;
    let fragment_offset = ip
        .get(6..8)
        .map(|s| u16::from_be_bytes([s[0], s[1]]) & 0x1fff)?;
    let proto = *ip.get(9)?;
    if ethertype != ETHERTYPE_IPV4 || ihl < 20 || fragment_offset != 0 || !matches!(proto, 6 | 17) {
        return None;
    }
    let port = |at: usize| ip.get(at..at + 2).map(|s| u16::from_be_bytes([s[0], s[1]]));
    let (sp, dp) = (port(ihl)?, port(ihl + 2)?);
    let (src, dst) = (ip4(ip, 12)?, ip4(ip, 16)?);
    Some((
        proto,
        SocketAddrV4::new(src, sp),
        SocketAddrV4::new(dst, dp),
    ))
}

/// The index of the phase a packet at `ts_ns` belongs to (see the module docs); `None` only for
/// an empty timeline.
pub fn phase_at(timeline: &[PhaseSpan], ts_ns: i64) -> Option<usize> {
    if timeline.is_empty() {
        return None;
    }
    let after = timeline.partition_point(|p| p.start_ns <= ts_ns);
    Some(after.saturating_sub(1))
}

/// The label of a packet at `ts_ns` that does (or does not) carry the attacker's address, with
/// its phase index.
pub fn label(timeline: &[PhaseSpan], ts_ns: i64, carries_attacker: bool) -> (Option<usize>, u8) {
    let phase = phase_at(timeline, ts_ns);
    let attack = phase
        .and_then(|i| timeline.get(i))
        .is_some_and(|p| p.kind == PhaseKind::Attack && ts_ns < p.end_ns && ts_ns >= p.start_ns);
    (phase, u8::from(attack && carries_attacker))
}

/// What labelling needs of a captured packet, taken as it is captured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Captured {
    /// Capture time, nanoseconds since the Unix epoch.
    pub ts: i64,
    /// Whether it carries the attacker's address (rule 1).
    pub carries: bool,
    /// Its transport and endpoints when it carries the attacker's address
    /// ([`transport_tuple`]).
    pub tuple: Option<(u8, SocketAddrV4, SocketAddrV4)>,
}

impl Captured {
    /// The facts of `frame`, captured at `ts`, for a run whose attacker is `attacker`.
    pub fn of(frame: &[u8], ts: i64, attacker: Option<&AttackerAddr>) -> Self {
        let carries = attacker.is_some_and(|a| carries(frame, a));
        Captured {
            ts,
            carries,
            tuple: carries.then(|| transport_tuple(frame)).flatten(),
        }
    }

    /// Its label and phase index on `timeline`, given the attacker's logged chatter
    /// (module docs).
    pub fn label(&self, timeline: &[PhaseSpan], chatter: &[ChatterFlow]) -> (Option<usize>, u8) {
        let chatting = self
            .tuple
            .is_some_and(|(proto, src, dst)| is_chatter(chatter, proto, src, dst, self.ts));
        label(timeline, self.ts, self.carries && !chatting)
    }
}

/// Formats nanoseconds since the epoch as `seconds.nanoseconds`.
pub fn format_ts(ts_ns: i64) -> String {
    format!(
        "{}.{:09}",
        ts_ns.div_euclid(1_000_000_000),
        ts_ns.rem_euclid(1_000_000_000)
    )
}

#[cfg(test)]
mod test {
    use super::*;
    use custos_decode::wire::{FrameBuilder, Mac, UdpRepr};

    const A: AttackerAddr = AttackerAddr {
        mac: [2, 0xc5, 0, 0, 0, 66],
        ip: Ipv4Addr::new(198, 18, 0, 66),
    };

    /// An Ethernet/IPv4 frame carrying an empty UDP datagram.
    fn ipv4_frame(src_mac: [u8; 6], dst_mac: [u8; 6], src: [u8; 4], dst: [u8; 4]) -> Vec<u8> {
        FrameBuilder::ipv4(Mac(src_mac), Mac(dst_mac), src.into(), dst.into())
            .udp(&UdpRepr::default())
    }

    #[test]
    fn ipv4_source_or_destination_carries() {
        let m1 = [2, 0xc5, 0, 0, 0, 10];
        let m2 = [2, 0xc5, 0, 0, 0, 1];
        assert!(carries(
            &ipv4_frame(m1, m2, [198, 18, 0, 66], [198, 18, 0, 1]),
            &A
        ));
        assert!(carries(
            &ipv4_frame(m1, m2, [198, 18, 0, 1], [198, 18, 0, 66]),
            &A
        ));
        assert!(!carries(
            &ipv4_frame(m1, m2, [198, 18, 0, 10], [198, 18, 0, 1]),
            &A
        ));
    }

    #[test]
    fn attacker_mac_carries_even_with_other_ips() {
        // A frame forwarded by a man in the middle: someone else's IPs, the attacker's MAC.
        let other = [2, 0xc5, 0, 0, 0, 10];
        assert!(carries(
            &ipv4_frame(A.mac, other, [198, 18, 0, 10], [198, 18, 0, 1]),
            &A
        ));
        assert!(carries(
            &ipv4_frame(other, A.mac, [198, 18, 0, 10], [198, 18, 0, 1]),
            &A
        ));
    }

    #[test]
    fn arp_addresses_carry() {
        let mut f = vec![0xff; 6];
        f.extend_from_slice(&[2, 0xc5, 0, 0, 0, 1]);
        f.extend_from_slice(&[0x08, 0x06, 0, 1, 8, 0, 6, 4, 0, 1]);
        f.extend_from_slice(&[2, 0xc5, 0, 0, 0, 1, 198, 18, 0, 1]);
        f.extend_from_slice(&[0, 0, 0, 0, 0, 0, 198, 18, 0, 66]);
        assert!(carries(&f, &A), "who-has for the attacker's IP");
        let n = f.len();
        f[n - 1] = 10;
        assert!(!carries(&f, &A));
    }

    #[test]
    fn truncated_frames_do_not_panic() {
        let f = ipv4_frame([1; 6], [3; 6], [198, 18, 0, 66], [198, 18, 0, 1]);
        for n in 0..f.len() {
            let _ = carries(&f[..n], &A);
        }
        assert!(!carries(&f[..29], &A));
        assert!(carries(&f[..30], &A));
    }

    #[test]
    fn transport_tuple_reads_udp_ports_and_refuses_the_rest() {
        let repr = UdpRepr {
            src_port: 40000,
            dst_port: 5683,
            payload: b"x",
        };
        let f = FrameBuilder::ipv4(
            Mac([1; 6]),
            Mac([3; 6]),
            [198, 18, 0, 66].into(),
            [198, 18, 0, 1].into(),
        )
        .udp(&repr);
        let (proto, src, dst) = transport_tuple(&f).unwrap();
        assert_eq!(proto, 17);
        assert_eq!(src, "198.18.0.66:40000".parse().unwrap());
        assert_eq!(dst, "198.18.0.1:5683".parse().unwrap());
        for n in 0..f.len() {
            let t = transport_tuple(&f[..n]);
            assert_eq!(t.is_some(), n >= ETH_HLEN + 24, "{n}");
        }
        let mut frag = f.clone();
        frag[ETH_HLEN + 7] = 1; // a later fragment: no ports in it
        assert!(transport_tuple(&frag).is_none());
        let mut arp = f;
        arp[12..14].copy_from_slice(&ETHERTYPE_ARP.to_be_bytes());
        assert!(transport_tuple(&arp).is_none());
    }

    #[test]
    fn logged_chatter_in_an_attack_phase_is_zero_and_the_attack_one() {
        use crate::chatter::{ChatterLog, TCP};
        let frame = |sport: u16| {
            let repr = UdpRepr {
                src_port: sport,
                dst_port: 80,
                payload: b"",
            };
            FrameBuilder::ipv4(Mac(A.mac), Mac([3; 6]), A.ip, [198, 18, 0, 1].into()).udp(&repr)
        };
        let log = ChatterLog::default();
        log.open(
            17,
            (Some(A.ip), 40000),
            (Some([198, 18, 0, 1].into()), 80),
            0,
        );
        log.open(
            TCP,
            (Some(A.ip), 40001),
            (Some([198, 18, 0, 1].into()), 80),
            0,
        );
        let (t, flows) = (timeline(), log.flows());
        let at = |f: &[u8], ts| Captured::of(f, ts, Some(&A)).label(&t, &flows).1;
        assert_eq!(at(&frame(40000), 350), 0, "the device's own request");
        assert_eq!(at(&frame(40001), 350), 1, "same ports, another transport");
        assert_eq!(at(&frame(40002), 350), 1, "the attack tool's");
        assert_eq!(at(&frame(40002), 250), 0, "a benign phase");
        assert_eq!(
            Captured::of(&frame(40002), 350, None).label(&t, &flows).1,
            0
        );
    }

    fn timeline() -> Vec<PhaseSpan> {
        let p = |name: &str, kind, s, e| PhaseSpan {
            name: name.into(),
            kind,
            start_ns: s,
            end_ns: e,
        };
        vec![
            p("startup", PhaseKind::Startup, 100, 200),
            p("benign", PhaseKind::Benign, 200, 300),
            p("scan", PhaseKind::Attack, 300, 400),
            p("cool", PhaseKind::Benign, 400, 500),
            p("teardown", PhaseKind::Teardown, 500, 600),
        ]
    }

    #[test]
    fn attacker_chatter_before_attacks_is_zero() {
        let t = timeline();
        assert_eq!(label(&t, 250, true), (Some(1), 0));
        assert_eq!(label(&t, 150, true), (Some(0), 0));
    }

    #[test]
    fn attack_phase_boundaries_are_half_open() {
        let t = timeline();
        assert_eq!(label(&t, 299, true), (Some(1), 0));
        assert_eq!(label(&t, 300, true), (Some(2), 1));
        assert_eq!(label(&t, 399, true), (Some(2), 1));
        assert_eq!(label(&t, 400, true), (Some(3), 0));
        assert_eq!(label(&t, 350, false), (Some(2), 0));
    }

    #[test]
    fn packets_outside_the_timeline_take_the_nearest_end() {
        let t = timeline();
        assert_eq!(label(&t, 5, true), (Some(0), 0));
        assert_eq!(label(&t, 10_000, true), (Some(4), 0));
        assert_eq!(label(&[], 10, true), (None, 0));
    }

    #[test]
    fn formats_timestamps() {
        assert_eq!(format_ts(1_700_000_000_000_000_001), "1700000000.000000001");
        assert_eq!(format_ts(0), "0.000000000");
    }
}
