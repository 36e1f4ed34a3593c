//! Host behaviour over packet time: scans (network service discovery) and floods, from the
//! connection attempts the tracker sees, per source and bounded.
//!
//! What counts (packet time only; the same packets give the same events at any thread count):
//! - an **attempt**: a TCP SYN without ACK; a UDP datagram that opens a conversation (the
//!   first of its addresses and ports, or one without payload) and is not an answer.
//!   Attempts to multicast, broadcast or unspecified addresses, and from them, are ignored.
//! - **port scan**: one source's attempts reach [`BehaviourConfig::scan_ports`] distinct
//!   destination ports (per transport) of one host within [`BehaviourConfig::scan_window_s`].
//! - **host sweep**: one source's attempts reach [`BehaviourConfig::scan_hosts`] distinct hosts
//!   on one destination port within the same window; a host that answers (SYN-ACK, or a UDP
//!   datagram back from that port) no longer counts, so busy clients (a browser opening
//!   connections to many servers on 443) are not sweeps.
//! - **SYN flood**: one source's SYNs to one host and port, less the handshakes completed
//!   there (the client's ACK after the server's SYN-ACK), reach
//!   [`BehaviourConfig::syn_flood_syns`] within [`BehaviourConfig::flood_window_s`].
//! - **UDP flood**: one source's datagrams to one host and port reach
//!   [`BehaviourConfig::udp_flood_datagrams`] within the flood window.
//!
//! An **episode** starts when a threshold is reached ([`Phase::Start`] event, at the packet
//! that reached it) and ends once its source has been quiet towards that target for a
//! window, when the tables are full, or at the end of input ([`Phase::End`] event with the
//! final counts, carrying the time, file and index of its last attempt). Its events share one
//! [`AppEvent::conn`] number, counted down from `u64::MAX` so it never meets a connection's.
//!
//! Bounded: each of the three tables (source–host, source–port, source–service) holds at most
//! [`BehaviourConfig::max_tracked`] entries (when full, the least recently active eighth is
//! dropped, its episodes ended); an entry keeps at most the threshold's number of distinct
//! items until its episode starts, then at most [`MAX_DISTINCT`]; at most [`MAX_EPISODES`]
//! episodes per table are open at once (the least recently active ends first). Windows slide
//! in eighths for floods, per item for scans. Sources spoofing a new address per packet are
//! not followed (one entry each, never reaching a threshold).

mod event;
mod watch;
mod window;

pub use event::{FloodEvent, FloodKind, Phase, ScanEvent, ScanKind};

use super::record::{AppEvent, AppProto, AppRecord};
use super::At;
use crate::Direction;
use custos_decode::{Decoded, Transport};
use custos_flow::keyed_hash::KeyedMap;
use custos_flow::{Addr, Endpoint};
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Arc;
use window::{Distinct, Rate};

/// Thresholds, windows and caps of the behaviour watch (`[app.findings]` in the settings).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BehaviourConfig {
    /// Distinct destination ports of one host, from one source, that make a port scan.
    pub scan_ports: usize,
    /// Distinct hosts on one destination port, from one source, that make a host sweep.
    pub scan_hosts: usize,
    /// The scan window, seconds of packet time.
    pub scan_window_s: u64,
    /// SYNs without completed handshake to one host and port, from one source, that make a
    /// SYN flood.
    pub syn_flood_syns: u64,
    /// Datagrams to one host and port, from one source, that make a UDP flood.
    pub udp_flood_datagrams: u64,
    /// The flood window, seconds of packet time.
    pub flood_window_s: u64,
    /// Entries per table (source–host, source–port, source–service).
    pub max_tracked: usize,
}

impl Default for BehaviourConfig {
    fn default() -> Self {
        BehaviourConfig {
            scan_ports: 10,
            scan_hosts: 32,
            scan_window_s: 60,
            syn_flood_syns: 200,
            udp_flood_datagrams: 10_000,
            flood_window_s: 10,
            max_tracked: 16_384,
        }
    }
}

/// Distinct ports (hosts) an entry keeps once its episode started; also the largest
/// threshold honoured.
pub const MAX_DISTINCT: usize = 1024;
/// Episodes open at once per table.
pub const MAX_EPISODES: usize = 256;
/// Ports or hosts listed in an event.
const LISTED: usize = 32;

/// What the watch reads of a packet: the innermost TCP or UDP header.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Observation {
    src: Endpoint,
    dst: Endpoint,
    transport: u8,
    flags: u8,
    empty: bool,
}

impl Observation {
    /// The packet's innermost TCP segment or UDP datagram.
    pub fn of(d: &Decoded<'_>) -> Option<Observation> {
        let ip = d.innermost()?;
        let (transport, sp, dp, flags, empty) = match ip.transport {
            Transport::Tcp {
                src_port,
                dst_port,
                flags,
                ..
            } => (6, src_port, dst_port, flags, false),
            Transport::Udp {
                src_port,
                dst_port,
                payload,
                ..
            } => (17, src_port, dst_port, 0, payload.is_empty()),
            _ => return None,
        };
        let ep = |ip: IpAddr, port| Endpoint {
            addr: Addr::from(ip),
            port,
        };
        Some(Observation {
            src: ep(ip.src, sp),
            dst: ep(ip.dst, dp),
            transport,
            flags,
            empty,
        })
    }
}

/// What the tracker knows of the packet's connection.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Facts {
    /// UDP: sent by the conversation's server (an answer).
    pub reply: bool,
    /// UDP: the packet opened its conversation.
    pub opens: bool,
    /// TCP: the packet completed its connection's handshake.
    pub established: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    PortScan,
    HostSweep,
    SynFlood,
    UdpFlood,
}

/// One episode: the threshold was reached, until its source goes quiet.
#[derive(Debug)]
struct Episode {
    kind: Kind,
    id: u64,
    client: Endpoint,
    server: Endpoint,
    transport: u8,
    macs: [Option<[u8; 6]>; 2],
    community_id: Arc<str>,
    first_ts: i64,
    last: At,
    attempts: u64,
    handshakes: u64,
    max: u64,
    ports: Vec<u16>,
    hosts: Vec<Addr>,
}

impl Episode {
    fn list_port(&mut self, p: u16) {
        if self.ports.len() < LISTED && !self.ports.contains(&p) {
            self.ports.push(p);
        }
    }

    fn list_host(&mut self, h: Addr) {
        if self.hosts.len() < LISTED && !self.hosts.contains(&h) {
            self.hosts.push(h);
        }
    }

    /// The event of `phase`, as of the packet `at`.
    fn event(&self, phase: Phase, at: At, cfg: &BehaviourConfig) -> AppEvent {
        let duration_s = self.last.ts.saturating_sub(self.first_ts).max(0) as f64 / 1e9;
        let (proto, record) = match self.kind {
            Kind::PortScan | Kind::HostSweep => {
                let port_scan = self.kind == Kind::PortScan;
                let mut ports = self.ports.clone();
                ports.sort_unstable();
                let mut hosts = self.hosts.clone();
                hosts.sort_unstable();
                let scan = ScanEvent {
                    kind: if port_scan {
                        ScanKind::PortScan
                    } else {
                        ScanKind::HostSweep
                    },
                    phase,
                    transport: if self.transport == 6 { "tcp" } else { "udp" },
                    target: port_scan.then(|| self.server.addr.ip()),
                    port: (!port_scan).then_some(self.server.port),
                    distinct: self.max,
                    attempts: self.attempts,
                    ports,
                    hosts: hosts.into_iter().map(Addr::ip).collect(),
                    threshold: if port_scan {
                        cfg.scan_ports as u64
                    } else {
                        cfg.scan_hosts as u64
                    },
                    window_s: cfg.scan_window_s,
                    duration_s,
                };
                (AppProto::Scan, AppRecord::Scan(Box::new(scan)))
            }
            Kind::SynFlood | Kind::UdpFlood => {
                let syn = self.kind == Kind::SynFlood;
                let flood = FloodEvent {
                    kind: if syn {
                        FloodKind::SynFlood
                    } else {
                        FloodKind::UdpFlood
                    },
                    phase,
                    target: self.server.addr.ip(),
                    port: self.server.port,
                    packets: self.attempts,
                    handshakes: syn.then_some(self.handshakes),
                    max_in_window: self.max,
                    threshold: if syn {
                        cfg.syn_flood_syns
                    } else {
                        cfg.udp_flood_datagrams
                    },
                    window_s: cfg.flood_window_s,
                    duration_s,
                };
                (AppProto::Flood, AppRecord::Flood(Box::new(flood)))
            }
        };
        AppEvent {
            ts: at.ts,
            file: at.file,
            index: at.index,
            proto,
            transport: self.transport,
            client: (self.client.addr.ip(), self.client.port),
            server: (self.server.addr.ip(), self.server.port),
            macs: self.macs,
            direction: Direction::ToServer,
            community_id: self.community_id.clone(),
            conn: self.id,
            record,
        }
    }
}

/// A table entry: when its source was active, and its episode once one started.
trait Entry {
    fn last_ts(&self) -> i64;
    fn episode(&mut self) -> &mut Option<Box<Episode>>;
}

/// A source–host (port scan) or source–port (host sweep) entry.
#[derive(Debug)]
struct ScanEntry<T> {
    seen: Distinct<T>,
    first_ts: i64,
    last_ts: i64,
    attempts: u64,
    episode: Option<Box<Episode>>,
}

/// A source–service entry.
#[derive(Debug, Default)]
struct FloodEntry {
    rate: Rate,
    first_ts: i64,
    last_ts: i64,
    packets: u64,
    handshakes: u64,
    episode: Option<Box<Episode>>,
}

impl<T> Entry for ScanEntry<T> {
    fn last_ts(&self) -> i64 {
        self.last_ts
    }
    fn episode(&mut self) -> &mut Option<Box<Episode>> {
        &mut self.episode
    }
}

impl Entry for FloodEntry {
    fn last_ts(&self) -> i64 {
        self.last_ts
    }
    fn episode(&mut self) -> &mut Option<Box<Episode>> {
        &mut self.episode
    }
}

/// One table with its count of open episodes.
struct Table<K, E> {
    map: KeyedMap<K, E>,
    open: usize,
}

impl<K: Copy + Eq + Hash + Ord, E: Entry> Table<K, E> {
    fn new() -> Self {
        Table {
            map: KeyedMap::default(),
            open: 0,
        }
    }

    /// Removes `keys`, their episodes into `ended`.
    fn remove(&mut self, keys: impl IntoIterator<Item = K>, ended: &mut Vec<Episode>) {
        for k in keys {
            if let Some(ep) = self.map.remove(&k).and_then(|mut e| e.episode().take()) {
                self.open = self.open.saturating_sub(1);
                ended.push(*ep);
            }
        }
    }

    /// Before inserting `key`: when full, drops the least recently active eighth.
    fn make_room(&mut self, key: &K, cap: usize, ended: &mut Vec<Episode>) {
        if self.map.len() < cap.max(1) || self.map.contains_key(key) {
            return;
        }
        let mut by_age: Vec<(i64, K)> = self.map.iter().map(|(k, e)| (e.last_ts(), *k)).collect();
        by_age.sort_unstable();
        let n = (by_age.len() / 8).max(1);
        self.remove(by_age.into_iter().take(n).map(|(_, k)| k), ended);
    }

    /// Before opening an episode: when [`MAX_EPISODES`] are open, ends the least recently
    /// active one.
    fn episode_room(&mut self, ended: &mut Vec<Episode>) {
        if self.open < MAX_EPISODES {
            return;
        }
        let oldest = self
            .map
            .iter_mut()
            .filter_map(|(k, e)| {
                let open = e.episode().is_some();
                open.then(|| (e.last_ts(), *k))
            })
            .min();
        if let Some((_, k)) = oldest {
            if let Some(ep) = self.map.get_mut(&k).and_then(|e| e.episode().take()) {
                self.open = self.open.saturating_sub(1);
                ended.push(*ep);
            }
        }
    }

    /// Drops entries quiet for longer than `window` ns, their episodes into `ended`.
    fn expire(&mut self, now: i64, window: i64, ended: &mut Vec<Episode>) {
        let mut old: Vec<K> = self
            .map
            .iter()
            .filter(|(_, e)| now.saturating_sub(e.last_ts()) > window)
            .map(|(k, _)| *k)
            .collect();
        old.sort_unstable();
        self.remove(old, ended);
    }

    /// Ends every episode (end of input).
    fn finish(&mut self, ended: &mut Vec<Episode>) {
        for e in self.map.values_mut() {
            if let Some(ep) = e.episode().take() {
                ended.push(*ep);
            }
        }
        self.open = 0;
    }
}

fn secs(s: u64) -> i64 {
    i64::try_from(s.saturating_mul(1_000_000_000)).unwrap_or(i64::MAX)
}

/// True for addresses one host uses for itself (not multicast, broadcast or unspecified).
fn unicast(a: Addr) -> bool {
    match a.ip() {
        IpAddr::V4(v4) => !(v4.is_multicast() || v4.is_broadcast() || v4.is_unspecified()),
        IpAddr::V6(v6) => !(v6.is_multicast() || v6.is_unspecified()),
    }
}

/// Follows scans and floods (see the module docs).
pub(crate) struct BehaviourWatch {
    cfg: BehaviourConfig,
    ports: Table<(Addr, Addr, u8), ScanEntry<u16>>,
    hosts: Table<(Addr, u8, u16), ScanEntry<Addr>>,
    floods: Table<(Addr, Addr, u8, u16), FloodEntry>,
    next_id: u64,
    next_pass: i64,
    /// Episodes ended and not yet reported (reused).
    ended: Vec<Episode>,
}

#[cfg(test)]
mod tests;
