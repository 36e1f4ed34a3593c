//! The attacker device's own benign conversations ("chatter"), logged as the lab opens them,
//! so that labelling can tell them from the attack's packets.
//!
//! An infected device keeps doing what it did before (polling the gateway over HTTP,
//! publishing MQTT telemetry, asking DNS, renewing its DHCP lease) while its attack tool
//! runs. Those packets carry the attacker's address and fall inside attack phases, yet they
//! are no part of the attack; labelled 1 they teach a supervised model that the device's
//! ordinary requests are attacks and count its benign requests as missed attack packets in
//! an evaluation. The lab opens each of these conversations itself, so it records each one —
//! transport, both endpoints, when it started and ended — and [`crate::label`] keeps them at 0.

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, TcpStream, UdpSocket};
use std::ops::{Deref, DerefMut};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use crate::sys;

/// IP protocol number of TCP.
pub const TCP: u8 = 6;
/// IP protocol number of UDP.
pub const UDP: u8 = 17;

/// How long after a conversation ends its last packets (FIN, last ACK, a late reply) may still
/// be captured, nanoseconds.
pub const DRAIN_NS: i64 = 2_000_000_000;

/// One end of a logged conversation: an address (`None`: any) and a port.
pub type End = (Option<Ipv4Addr>, u16);

/// One conversation the attacker device opened for its benign behaviour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChatterFlow {
    /// IP protocol ([`TCP`] or [`UDP`]).
    pub proto: u8,
    /// The device's end.
    pub local: End,
    /// The other end.
    pub peer: End,
    /// Taken before the first packet could leave, nanoseconds since the Unix epoch.
    pub start_ns: i64,
    /// When the device was done with it; `None` while it is open (it matches to the end).
    pub end_ns: Option<i64>,
}

impl ChatterFlow {
    /// Whether a packet of IP protocol `proto` from `src` to `dst`, captured at `ts_ns`,
    /// belongs to this conversation (either direction).
    pub fn matches(&self, proto: u8, src: SocketAddrV4, dst: SocketAddrV4, ts_ns: i64) -> bool {
        let end = self.end_ns.map_or(i64::MAX, |e| e.saturating_add(DRAIN_NS));
        let is = |e: End, a: SocketAddrV4| e.1 == a.port() && e.0.is_none_or(|ip| ip == *a.ip());
        proto == self.proto
            && (self.start_ns..=end).contains(&ts_ns)
            && ((is(self.local, src) && is(self.peer, dst))
                || (is(self.local, dst) && is(self.peer, src)))
    }
}

/// The log, shared by the attacker device's threads and read once the capture has ended.
#[derive(Clone, Debug, Default)]
pub struct ChatterLog(Arc<Mutex<Vec<ChatterFlow>>>);

impl ChatterLog {
    /// Records a conversation that started at `start_ns`; returns its number for
    /// [`ChatterLog::close`].
    pub fn open(&self, proto: u8, local: End, peer: End, start_ns: i64) -> usize {
        let mut flows = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        flows.push(ChatterFlow {
            proto,
            local,
            peer,
            start_ns,
            end_ns: None,
        });
        flows.len() - 1
    }

    /// Records that conversation `id` ended at `end_ns`.
    pub fn close(&self, id: usize, end_ns: i64) {
        let mut flows = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(f) = flows.get_mut(id) {
            f.end_ns = Some(end_ns);
        }
    }

    /// Records the TCP connection `s`, opened at `start_ns` (taken before connecting).
    pub fn open_tcp(&self, s: &TcpStream, start_ns: i64) -> Option<usize> {
        let (local, peer) = (s.local_addr().ok()?, s.peer_addr().ok()?);
        Some(self.open(TCP, end_of(local)?, end_of(peer)?, start_ns))
    }

    /// Records UDP exchanges of socket `s` with `peer`, from `start_ns` (taken before the
    /// first send).
    pub fn open_udp(&self, s: &UdpSocket, peer: SocketAddrV4, start_ns: i64) -> Option<usize> {
        // Bound to 0.0.0.0: the source address is the device's, whichever it has.
        let local = (None, s.local_addr().ok()?.port());
        Some(self.open(UDP, local, (Some(*peer.ip()), peer.port()), start_ns))
    }

    /// The conversations logged so far.
    pub fn flows(&self) -> Vec<ChatterFlow> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// A socket whose conversation is logged (when there is a log) until it is dropped.
#[derive(Debug)]
pub struct Logged<S> {
    socket: S,
    entry: Option<(ChatterLog, usize)>,
}

impl<S> Logged<S> {
    /// `socket`, its conversation logged as `entry` (log and number) when there is one.
    fn new(socket: S, entry: Option<(ChatterLog, usize)>) -> Self {
        Logged { socket, entry }
    }
}

impl<S> Drop for Logged<S> {
    fn drop(&mut self) {
        // The socket closes just after this; its last packets fall within `DRAIN_NS`.
        if let Some((log, id)) = &self.entry {
            log.close(*id, sys::now_ns());
        }
    }
}

impl<S> Deref for Logged<S> {
    type Target = S;
    fn deref(&self) -> &S {
        &self.socket
    }
}

impl<S> DerefMut for Logged<S> {
    fn deref_mut(&mut self) -> &mut S {
        &mut self.socket
    }
}

/// Connects to `to` within `timeout`, logging the connection in `log` if there is one. (A
/// connection that fails is not logged: its local port is never known.)
///
/// # Errors
/// As `TcpStream::connect_timeout`.
pub fn connect(
    log: Option<&ChatterLog>,
    to: SocketAddrV4,
    timeout: Duration,
) -> std::io::Result<Logged<TcpStream>> {
    let start = sys::now_ns();
    let s = TcpStream::connect_timeout(&SocketAddr::V4(to), timeout)?;
    let entry = log.and_then(|l| Some((l.clone(), l.open_tcp(&s, start)?)));
    Ok(Logged::new(s, entry))
}

/// A UDP socket on an ephemeral port for exchanges with `peer`, logged in `log` if there is
/// one.
///
/// # Errors
/// As `UdpSocket::bind`.
pub fn udp(log: Option<&ChatterLog>, peer: SocketAddrV4) -> std::io::Result<Logged<UdpSocket>> {
    let start = sys::now_ns();
    let s = UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0))?;
    let entry = log.and_then(|l| Some((l.clone(), l.open_udp(&s, peer, start)?)));
    Ok(Logged::new(s, entry))
}

/// An IPv4 socket address as an [`End`]; `None` for IPv6.
fn end_of(a: SocketAddr) -> Option<End> {
    match a {
        SocketAddr::V4(a) => Some((Some(*a.ip()), a.port())),
        SocketAddr::V6(_) => None,
    }
}

/// Whether a packet belongs to any of `flows` (see [`ChatterFlow::matches`]).
pub fn is_chatter(
    flows: &[ChatterFlow],
    proto: u8,
    src: SocketAddrV4,
    dst: SocketAddrV4,
    ts_ns: i64,
) -> bool {
    flows.iter().any(|f| f.matches(proto, src, dst, ts_ns))
}

#[cfg(test)]
mod test {
    use super::*;

    fn sa(ip: [u8; 4], port: u16) -> SocketAddrV4 {
        SocketAddrV4::new(Ipv4Addr::from(ip), port)
    }

    #[test]
    fn a_conversation_matches_both_directions_within_its_time_only() {
        let log = ChatterLog::default();
        let dev = sa([198, 18, 0, 66], 40000);
        let gw = sa([198, 18, 0, 1], 80);
        let id = log.open(TCP, (Some(*dev.ip()), 40000), (Some(*gw.ip()), 80), 1_000);
        let flows = log.flows();
        assert!(is_chatter(&flows, TCP, dev, gw, 1_000));
        assert!(
            is_chatter(&flows, TCP, gw, dev, 5_000_000_000),
            "open: to the end"
        );
        assert!(!is_chatter(&flows, TCP, dev, gw, 999), "before it started");
        assert!(
            !is_chatter(&flows, UDP, dev, gw, 2_000),
            "another transport"
        );
        assert!(!is_chatter(
            &flows,
            TCP,
            sa([198, 18, 0, 66], 40001),
            gw,
            2_000
        ));
        log.close(id, 10_000);
        let flows = log.flows();
        assert!(
            is_chatter(&flows, TCP, gw, dev, 10_000 + DRAIN_NS),
            "its last FIN"
        );
        assert!(
            !is_chatter(&flows, TCP, gw, dev, 10_001 + DRAIN_NS),
            "port reused later"
        );
    }

    #[test]
    fn a_wildcard_address_matches_any() {
        let log = ChatterLog::default();
        // A DHCP client speaks from 0.0.0.0 before it has its lease.
        log.open(UDP, (None, 68), (None, 67), 0);
        let flows = log.flows();
        assert!(is_chatter(&flows, UDP, sa([0; 4], 68), sa([255; 4], 67), 5));
        assert!(is_chatter(
            &flows,
            UDP,
            sa([198, 18, 0, 1], 67),
            sa([198, 18, 0, 66], 68),
            5
        ));
        assert!(!is_chatter(
            &flows,
            UDP,
            sa([0; 4], 68),
            sa([255; 4], 69),
            5
        ));
    }
}
