//! The watch's work per packet (attempts, answers, handshakes), its periodic pass and its end.

use super::{
    secs, unicast, At, BehaviourConfig, BehaviourWatch, Episode, Facts, FloodEntry, Kind,
    Observation, Phase, ScanEntry, Table, MAX_DISTINCT,
};
use crate::tracker::record::AppEvent;
use custos_flow::community_id_v1;
use std::cmp::Reverse;

impl<T: Copy + PartialEq> ScanEntry<T> {
    fn new(ts: i64) -> Self {
        ScanEntry {
            seen: super::window::Distinct::default(),
            first_ts: ts,
            last_ts: ts,
            attempts: 0,
            episode: None,
        }
    }

    /// One attempt at `item`: returns the distinct items within the window, and whether
    /// `item` was new there (only those count as attempts: a port probed again, or a flood
    /// on a port already counted, does not stretch a scan). An entry quiet for longer than the
    /// window starts afresh (its episode, if any, into `ended`, one less `open`).
    fn touch(
        &mut self,
        item: T,
        (ts, window, threshold): (i64, i64, usize),
        ended: &mut Vec<Episode>,
        open: &mut usize,
    ) -> (u64, bool) {
        if ts.saturating_sub(self.last_ts) > window {
            if let Some(ep) = self.episode.take() {
                ended.push(*ep);
                *open = open.saturating_sub(1);
            }
            self.first_ts = ts;
            self.attempts = 0;
        }
        self.last_ts = ts;
        let cap = if self.episode.is_some() {
            MAX_DISTINCT
        } else {
            threshold
        };
        let (n, new) = self.seen.touch(item, ts, window, cap);
        self.attempts += u64::from(new);
        (n as u64, new)
    }
}

impl FloodEntry {
    /// One SYN or datagram: returns the count within the window. An entry quiet for longer
    /// than the window starts afresh (its episode, if any, into `ended`, one less `open`).
    fn hit(&mut self, ts: i64, window: i64, ended: &mut Vec<Episode>, open: &mut usize) -> u64 {
        if ts.saturating_sub(self.last_ts) > window {
            if let Some(ep) = self.episode.take() {
                ended.push(*ep);
                *open = open.saturating_sub(1);
            }
            self.first_ts = ts;
            self.packets = 0;
            self.handshakes = 0;
        }
        self.last_ts = ts;
        self.packets += 1;
        self.rate.add(ts, window, 1, 0);
        self.rate.open()
    }
}

/// What a scan step is about: its kind, threshold, packet and MACs.
struct ScanStep {
    kind: Kind,
    threshold: usize,
    at: At,
    macs: [Option<[u8; 6]>; 2],
}

/// An item a scan counts (a port, a host) and how an episode lists it.
trait Listed {
    fn list(self, ep: &mut Episode);
}

impl Listed for u16 {
    fn list(self, ep: &mut Episode) {
        ep.list_port(self);
    }
}

impl Listed for custos_flow::Addr {
    fn list(self, ep: &mut Episode) {
        ep.list_host(self);
    }
}

/// Where an episode starts: what it counted so far.
struct Start {
    kind: Kind,
    first_ts: i64,
    attempts: u64,
    handshakes: u64,
    max: u64,
}

impl BehaviourWatch {
    /// A watch with `cfg`.
    pub fn new(cfg: BehaviourConfig) -> Self {
        BehaviourWatch {
            cfg,
            ports: Table::new(),
            hosts: Table::new(),
            floods: Table::new(),
            next_id: u64::MAX,
            next_pass: i64::MIN,
            ended: Vec::new(),
        }
    }

    /// One packet (`facts`: what its connection says of it); events go to `out`.
    pub fn observe(
        &mut self,
        o: Observation,
        facts: Facts,
        at: At,
        macs: [Option<[u8; 6]>; 2],
        out: &mut Vec<AppEvent>,
    ) {
        if !unicast(o.src.addr) || !unicast(o.dst.addr) {
            return;
        }
        if o.transport == 6 {
            // SYN without ACK or RST: an attempt. SYN-ACK: an answer.
            if o.flags & 0x16 == 0x02 {
                self.scan_attempt(o, at, macs, out);
                self.flood_packet(o, at, macs, out);
            } else if o.flags & 0x12 == 0x12 {
                self.answered(o);
            }
            if facts.established {
                self.handshake(o, at);
            }
        } else {
            if facts.reply {
                self.answered(o);
            } else if facts.opens || o.empty {
                self.scan_attempt(o, at, macs, out);
            }
            self.flood_packet(o, at, macs, out);
        }
        self.report_ended(out);
    }

    /// An attempt: counts for a port scan of its destination host and a sweep of its port.
    fn scan_attempt(
        &mut self,
        o: Observation,
        at: At,
        macs: [Option<[u8; 6]>; 2],
        out: &mut Vec<AppEvent>,
    ) {
        self.port_scan(o, at, macs, out);
        self.host_sweep(o, at, macs, out);
    }

    /// Port scan: the ports of one host.
    fn port_scan(
        &mut self,
        o: Observation,
        at: At,
        macs: [Option<[u8; 6]>; 2],
        out: &mut Vec<AppEvent>,
    ) {
        let threshold = self.cfg.scan_ports;
        let key = (o.src.addr, o.dst.addr, o.transport);
        let step = ScanStep {
            kind: Kind::PortScan,
            threshold,
            at,
            macs,
        };
        self.scan_step(|w| &mut w.ports, key, o.dst.port, step, o, out);
    }

    /// Host sweep: one port of many hosts.
    fn host_sweep(
        &mut self,
        o: Observation,
        at: At,
        macs: [Option<[u8; 6]>; 2],
        out: &mut Vec<AppEvent>,
    ) {
        let threshold = self.cfg.scan_hosts;
        let key = (o.src.addr, o.transport, o.dst.port);
        let step = ScanStep {
            kind: Kind::HostSweep,
            threshold,
            at,
            macs,
        };
        self.scan_step(|w| &mut w.hosts, key, o.dst.addr, step, o, out);
    }

    /// One attempt at `item` in a scan table (the ports of a host, or the hosts on a port):
    /// counted; an open episode grows when the item is new within the window; at the
    /// threshold an episode opens (its start event into `out`).
    fn scan_step<K, T>(
        &mut self,
        table: fn(&mut Self) -> &mut Table<K, ScanEntry<T>>,
        key: K,
        item: T,
        step: ScanStep,
        o: Observation,
        out: &mut Vec<AppEvent>,
    ) where
        K: Copy + Eq + std::hash::Hash + Ord,
        T: Copy + PartialEq + Listed,
    {
        let window = secs(self.cfg.scan_window_s);
        let threshold = step.threshold.clamp(1, MAX_DISTINCT);
        let (max_tracked, at) = (self.cfg.max_tracked, step.at);
        let mut ended = std::mem::take(&mut self.ended);
        let t = table(self);
        t.make_room(&key, max_tracked, &mut ended);
        let e = t.map.entry(key).or_insert_with(|| ScanEntry::new(at.ts));
        let (n, new) = e.touch(item, (at.ts, window, threshold), &mut ended, &mut t.open);
        let mut start = None;
        if let Some(ep) = e.episode.as_mut() {
            // Only an item new within the window counts.
            if new {
                item.list(ep);
                ep.max = ep.max.max(n);
                ep.attempts = e.attempts;
                ep.last = at;
            }
        } else if n >= threshold as u64 {
            let items: Vec<T> = e.seen.items().collect();
            let s = Start {
                kind: step.kind,
                first_ts: e.first_ts,
                attempts: e.attempts,
                handshakes: 0,
                max: n,
            };
            t.episode_room(&mut ended);
            start = Some((s, items));
        }
        self.ended = ended;
        if let Some((s, items)) = start {
            let mut ep = self.episode(s, o, at, step.macs);
            items.into_iter().for_each(|i| i.list(&mut ep));
            out.push(ep.event(Phase::Start, at, &self.cfg));
            let t = table(self);
            if let Some(e) = t.map.get_mut(&key) {
                e.episode = Some(ep);
                t.open += 1;
            }
        }
    }

    /// A SYN (TCP) or datagram (UDP) towards one service.
    fn flood_packet(
        &mut self,
        o: Observation,
        at: At,
        macs: [Option<[u8; 6]>; 2],
        out: &mut Vec<AppEvent>,
    ) {
        let window = secs(self.cfg.flood_window_s);
        let (kind, threshold) = if o.transport == 6 {
            (Kind::SynFlood, self.cfg.syn_flood_syns.max(1))
        } else {
            (Kind::UdpFlood, self.cfg.udp_flood_datagrams.max(1))
        };
        let key = (o.src.addr, o.dst.addr, o.transport, o.dst.port);
        self.floods
            .make_room(&key, self.cfg.max_tracked, &mut self.ended);
        let e = self.floods.map.entry(key).or_insert_with(|| FloodEntry {
            first_ts: at.ts,
            last_ts: at.ts,
            ..FloodEntry::default()
        });
        let n = e.hit(at.ts, window, &mut self.ended, &mut self.floods.open);
        if let Some(ep) = e.episode.as_mut() {
            ep.max = ep.max.max(n);
            ep.attempts = e.packets;
            ep.last = at;
        } else if n >= threshold {
            let start = Start {
                kind,
                first_ts: e.first_ts,
                attempts: e.packets,
                handshakes: e.handshakes,
                max: n,
            };
            self.floods.episode_room(&mut self.ended);
            let ep = self.episode(start, o, at, macs);
            out.push(ep.event(Phase::Start, at, &self.cfg));
            if let Some(e) = self.floods.map.get_mut(&key) {
                e.episode = Some(ep);
                self.floods.open += 1;
            }
        }
    }

    /// `o` (the client's ACK) completed a handshake: one SYN less without one.
    fn handshake(&mut self, o: Observation, at: At) {
        let window = secs(self.cfg.flood_window_s);
        let key = (o.src.addr, o.dst.addr, 6, o.dst.port);
        if let Some(e) = self.floods.map.get_mut(&key) {
            e.handshakes += 1;
            e.rate.add(at.ts, window, 0, 1);
            if let Some(ep) = e.episode.as_mut() {
                ep.handshakes = e.handshakes;
            }
        }
    }

    /// `o.src` answered `o.dst` from its port: no longer a target of a sweep by `o.dst`.
    fn answered(&mut self, o: Observation) {
        let key = (o.dst.addr, o.transport, o.src.port);
        if let Some(e) = self.hosts.map.get_mut(&key) {
            e.seen.remove(o.src.addr);
        }
    }

    /// A new episode, numbered, as of the packet `o` at `at`.
    fn episode(
        &mut self,
        s: Start,
        o: Observation,
        at: At,
        macs: [Option<[u8; 6]>; 2],
    ) -> Box<Episode> {
        let id = self.next_id;
        self.next_id = self.next_id.saturating_sub(1);
        let (src, dst) = (o.src, o.dst);
        let cid = community_id_v1(
            0,
            src.addr.ip(),
            dst.addr.ip(),
            src.port,
            dst.port,
            o.transport,
        );
        Box::new(Episode {
            kind: s.kind,
            id,
            client: src,
            server: dst,
            transport: o.transport,
            macs,
            community_id: cid.into(),
            first_ts: s.first_ts,
            last: at,
            attempts: s.attempts,
            handshakes: s.handshakes,
            max: s.max,
            ports: Vec::new(),
            hosts: Vec::new(),
        })
    }

    /// Ends the episodes of sources quiet for a window (at most once per half of the shorter
    /// window, at least once per second of packet time); events go to `out`.
    pub fn sweep(&mut self, at: At, out: &mut Vec<AppEvent>) {
        let (scan, flood) = (secs(self.cfg.scan_window_s), secs(self.cfg.flood_window_s));
        let every = (scan.min(flood) / 2).max(1_000_000_000);
        let back = at.ts < self.next_pass.saturating_sub(every.saturating_mul(2));
        if at.ts < self.next_pass && !back {
            return;
        }
        self.next_pass = at.ts.saturating_add(every);
        self.ports.expire(at.ts, scan, &mut self.ended);
        self.hosts.expire(at.ts, scan, &mut self.ended);
        self.floods.expire(at.ts, flood, &mut self.ended);
        self.report_ended(out);
    }

    /// Ends every episode (end of input); events go to `out`.
    pub fn finish(&mut self, out: &mut Vec<AppEvent>) {
        self.ports.finish(&mut self.ended);
        self.hosts.finish(&mut self.ended);
        self.floods.finish(&mut self.ended);
        self.report_ended(out);
    }

    /// The end events of the episodes ended, in the order they started, each as of its
    /// last packet.
    fn report_ended(&mut self, out: &mut Vec<AppEvent>) {
        if self.ended.is_empty() {
            return;
        }
        self.ended.sort_unstable_by_key(|e| Reverse(e.id));
        for ep in self.ended.drain(..) {
            out.push(ep.event(Phase::End, ep.last, &self.cfg));
        }
    }
}
