//! Per-flow state signatures need — direction, establishment, flowbits, a window of the
//! reassembled stream — and threshold counters. Packet time is the only clock; memory is
//! bounded by flow and counter caps.

use crate::ast::{Threshold, ThresholdKind, Track, UniquePort};
use custos_flow::keyed_hash::KeyedMap;
use custos_flow::FlowKey;
use std::net::IpAddr;

/// Bytes of each direction's stream kept for matches that span segments (at least this
/// many; up to twice as many between trims, so that trimming is amortised).
pub(crate) const STREAM_WINDOW: usize = 4096;
/// Rules remembered per stream whose fast pattern is in the window but which did not match
/// yet (they are evaluated on the stream's next segments).
const MAX_PENDING: usize = 32;
/// Flows tracked; beyond it the idlest half is dropped.
const MAX_FLOWS: usize = 262_144;
/// A flow idle this long (packet time) is forgotten.
const FLOW_IDLE_NS: i64 = 600 * 1_000_000_000;

/// One direction of a TCP stream.
#[derive(Debug, Default)]
pub(crate) struct Stream {
    /// Next expected sequence number.
    next_seq: Option<u32>,
    /// The last bytes in order.
    pub window: Vec<u8>,
    /// In-order bytes seen so far.
    pos: u64,
    /// Rules whose fast pattern occurred in the window, with the stream position then.
    pending: Vec<(u32, u64)>,
}

impl Stream {
    /// Adds a segment; returns how many of the window's bytes are new (at its end).
    pub fn add(&mut self, seq: u32, syn: bool, payload: &[u8]) -> usize {
        let seq = if syn { seq.wrapping_add(1) } else { seq };
        if payload.is_empty() {
            if self.next_seq.is_none() {
                self.next_seq = Some(seq);
            }
            return 0;
        }
        let new = match self.next_seq {
            Some(next) => {
                let ahead = seq.wrapping_sub(next) as i32;
                if ahead > 0 {
                    // A gap: what came before cannot join what follows.
                    self.window.clear();
                    self.pending.clear();
                    payload
                } else {
                    let skip = (-(ahead as i64)) as usize;
                    payload.get(skip..).unwrap_or_default()
                }
            }
            None => payload,
        };
        self.window.extend_from_slice(new);
        self.pos += new.len() as u64;
        if self.window.len() > 2 * STREAM_WINDOW {
            let cut = self.window.len() - STREAM_WINDOW;
            self.window.drain(..cut);
            let (pos, kept) = (self.pos, self.window.len() as u64);
            self.pending.retain(|(_, at)| pos - at < kept);
        }
        let end = seq.wrapping_add(payload.len() as u32);
        match self.next_seq {
            Some(n) if (end.wrapping_sub(n) as i32) <= 0 => {}
            _ => self.next_seq = Some(end),
        }
        new.len().min(self.window.len())
    }

    /// Rules whose fast pattern is in the window and that did not match yet.
    pub fn pending(&self) -> impl Iterator<Item = u32> + '_ {
        self.pending.iter().map(|p| p.0)
    }

    /// Remembers rules whose fast pattern was just found in the window (the oldest are
    /// forgotten beyond [`MAX_PENDING`]).
    pub fn remember(&mut self, rules: &[u32]) {
        for &r in rules {
            if self.pending.iter().any(|p| p.0 == r) {
                continue;
            }
            if self.pending.len() >= MAX_PENDING {
                self.pending.remove(0);
            }
            self.pending.push((r, self.pos));
        }
    }
}

/// What signatures know of a flow.
#[derive(Debug)]
pub(crate) struct FlowState {
    /// The client: sender of the SYN, else of the first packet seen.
    pub client: (IpAddr, u16),
    syn: bool,
    syn_ack: bool,
    /// Three-way handshake done, or (midstream) data seen both ways; for UDP, packets seen
    /// both ways.
    pub established: bool,
    /// Reset by an RST: a new SYN starts a new connection.
    closed: bool,
    seen: [bool; 2],
    /// Flowbits set.
    pub bits: Vec<String>,
    /// A `pass` rule matched: no more alerts on the flow.
    pub passed: bool,
    /// The application protocol its events carry, once one was seen.
    pub app_proto: Option<&'static str>,
    /// Streams: to server, to client.
    pub streams: [Stream; 2],
    /// Packets and bytes seen each way (to server, to client), for `flow.pkts` and
    /// `flow.bytes`.
    counts: ([u64; 2], [u64; 2]),
    last_ts: i64,
}

impl FlowState {
    /// Forgets the connection (a new one reuses its 5-tuple); the client stays.
    fn reset(&mut self) {
        self.syn = false;
        self.syn_ack = false;
        self.established = false;
        self.closed = false;
        self.seen = [false; 2];
        self.bits.clear();
        self.passed = false;
        self.app_proto = None;
        self.streams = [Stream::default(), Stream::default()];
        self.counts = ([0; 2], [0; 2]);
    }
}

/// How a packet sees its flow.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PacketFlow {
    /// It goes to the server.
    pub to_server: bool,
    /// `flow:established` holds for it.
    pub established: bool,
    /// The first packet of the flow in its direction (IP-only rules look at these only).
    pub first_in_direction: bool,
    /// Packets (to server, to client) of the flow so far, this one included.
    pub pkts: [u64; 2],
    /// Bytes (to server, to client) of the flow so far, this one included.
    pub bytes: [u64; 2],
}

/// Flows by canonical key.
#[derive(Default)]
pub(crate) struct Flows {
    map: KeyedMap<FlowKey, FlowState>,
    updates: u64,
}

impl Flows {
    /// The state of a packet's flow, updated with it; returns it and how the packet sees the
    /// flow ([`PacketFlow`]).
    ///
    /// As in Suricata, a TCP packet sees the connection as it was before it: the handshake's
    /// last ACK is not yet established, every packet after it is (FIN and RST included); a
    /// connection picked up without its handshake is established from its second packet. A
    /// UDP or other packet sees the flow established once both directions have been seen
    /// (itself included).
    pub fn packet(
        &mut self,
        key: FlowKey,
        ts: i64,
        src: (IpAddr, u16),
        dst: (IpAddr, u16),
        tcp_flags: Option<u8>,
        (has_payload, len): (bool, usize),
    ) -> (&mut FlowState, PacketFlow) {
        self.sweep(ts);
        let state = self.map.entry(key).or_insert_with(|| FlowState {
            // A SYN-ACK seen first: its receiver is the client.
            client: match tcp_flags {
                Some(f) if f & 0x12 == 0x12 => dst,
                _ => src,
            },
            syn: false,
            syn_ack: false,
            established: false,
            closed: false,
            seen: [false; 2],
            bits: Vec::new(),
            passed: false,
            app_proto: None,
            streams: [Stream::default(), Stream::default()],
            counts: ([0; 2], [0; 2]),
            last_ts: ts,
        });
        state.last_ts = ts;
        let to_server = src == state.client;
        let dir = usize::from(!to_server);
        let first = |st: &FlowState| !st.seen.get(dir).copied().unwrap_or(true);
        let (established, first_in_direction) = match tcp_flags {
            Some(f) => {
                let (syn, ack, rst) = (f & 0x02 != 0, f & 0x10 != 0, f & 0x04 != 0);
                if syn && !ack && to_server && (state.syn_ack || state.established || state.closed)
                {
                    // The 5-tuple reused by a new connection: its state starts over.
                    state.reset();
                }
                let before = state.established;
                let mut return_established = before;
                let first_in_direction = first(state);
                let first_packet = !state.seen[0] && !state.seen[1];
                if syn && !ack && to_server {
                    state.syn = true;
                } else if syn && ack && !to_server {
                    state.syn_ack = true;
                } else if ack && to_server && state.syn && state.syn_ack && !state.established {
                    state.established = true;
                    // The handshake's last ACK is established when it carries data.
                    return_established = has_payload;
                } else if first_packet && !syn {
                    // Picked up mid-connection: established from the next packet.
                    state.established = true;
                }
                if rst {
                    // Only a new SYN opens the 5-tuple again.
                    state.closed = true;
                }
                (return_established, first_in_direction)
            }
            None => {
                let first_in_direction = first(state);
                if let Some(seen) = state.seen.get_mut(dir) {
                    *seen = true;
                }
                state.established = state.seen[0] && state.seen[1];
                (state.established, first_in_direction)
            }
        };
        if let Some(seen) = state.seen.get_mut(dir) {
            *seen = true;
        }
        if let (Some(p), Some(b)) = (state.counts.0.get_mut(dir), state.counts.1.get_mut(dir)) {
            *p += 1;
            *b += len as u64;
        }
        let (pkts, bytes) = state.counts;
        (
            state,
            PacketFlow {
                to_server,
                established,
                first_in_direction,
                pkts,
                bytes,
            },
        )
    }

    /// The state of a connection known by its client and server (application events).
    pub fn get_mut(&mut self, key: &FlowKey) -> Option<&mut FlowState> {
        self.map.get_mut(key)
    }

    fn sweep(&mut self, now: i64) {
        self.updates += 1;
        if self.updates % 65_536 != 0 && self.map.len() <= MAX_FLOWS {
            return;
        }
        self.map
            .retain(|_, f| now.saturating_sub(f.last_ts) < FLOW_IDLE_NS);
        if self.map.len() > MAX_FLOWS {
            let mut ages: Vec<(i64, FlowKey)> =
                self.map.iter().map(|(k, f)| (f.last_ts, *k)).collect();
            ages.sort_unstable();
            for (_, k) in ages.iter().take(self.map.len() - MAX_FLOWS / 2) {
                self.map.remove(k);
            }
        }
    }
}

/// Threshold and detection-filter counters, per rule and tracked address.
#[derive(Default)]
pub(crate) struct Thresholds {
    map: KeyedMap<(u32, IpAddr, IpAddr, u64), Counter>,
}

#[derive(Clone, Debug)]
struct Counter {
    window_start: i64,
    count: u64,
    alerted: bool,
    /// `unique_on`: the distinct ports seen in the window (`count` is their number).
    ports: Option<custos_flow::keyed_hash::KeyedSet<u16>>,
}

impl Counter {
    fn new(ts: i64) -> Counter {
        Counter {
            window_start: ts,
            count: 0,
            alerted: false,
            ports: None,
        }
    }
}

/// Counters kept; beyond it, expired ones are dropped first.
const MAX_COUNTERS: usize = 262_144;

impl Thresholds {
    /// Counts a match of rule `rule` (from `src` to `dst`, on the flow hashed `flow`,
    /// between `ports`) and says whether it may alert.
    pub fn admit(
        &mut self,
        rule: u32,
        t: &Threshold,
        ts: i64,
        (src, dst, flow, ports): (IpAddr, IpAddr, u64, (u16, u16)),
    ) -> bool {
        let any = IpAddr::from([0u8; 4]);
        let (a, b, f) = match t.track {
            Track::BySrc => (src, any, 0),
            Track::ByDst => (dst, any, 0),
            Track::ByRule => (any, any, 0),
            Track::ByBoth => (src, dst, 0),
            Track::ByFlow => (any, any, flow),
        };
        let window = i64::try_from(t.seconds)
            .unwrap_or(i64::MAX / 1_000_000_000)
            .saturating_mul(1_000_000_000);
        if self.map.len() >= MAX_COUNTERS {
            self.map
                .retain(|_, c| ts.saturating_sub(c.window_start) < window);
        }
        let c = self
            .map
            .entry((rule, a, b, f))
            .or_insert_with(|| Counter::new(ts));
        // The window includes its last nanosecond, as Suricata's (`ts <= start + seconds`).
        if !matches!(t.kind, ThresholdKind::Backoff(_))
            && ts.saturating_sub(c.window_start) > window
        {
            *c = Counter::new(ts);
        }
        match t.unique_on {
            // Distinct ports in the window, as Suricata's `unique_on`.
            Some(which) => {
                let port = match which {
                    UniquePort::Src => ports.0,
                    UniquePort::Dst => ports.1,
                };
                let seen = c.ports.get_or_insert_with(Default::default);
                seen.insert(port);
                c.count = seen.len() as u64;
            }
            None => c.count += 1,
        }
        match t.kind {
            ThresholdKind::Limit => c.count <= t.count,
            ThresholdKind::Threshold => c.count % t.count == 0,
            ThresholdKind::Both => {
                if c.count >= t.count && !c.alerted {
                    c.alerted = true;
                    true
                } else {
                    false
                }
            }
            ThresholdKind::DetectionFilter => c.count > t.count,
            ThresholdKind::Backoff(multiplier) => {
                // The 1st match, then the `count`-th, then every ×multiplier.
                let mut next = t.count;
                while next < c.count {
                    next = next.saturating_mul(multiplier.max(2));
                }
                c.count == 1 || c.count == next
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_window_joins_in_order_segments_and_resets_on_gaps() {
        let mut s = Stream::default();
        assert_eq!(s.add(100, true, b""), 0);
        assert_eq!(s.add(101, false, b"GET /ad"), 7);
        assert_eq!(s.add(108, false, b"min"), 3);
        assert_eq!(s.window, b"GET /admin");
        // A retransmission adds only what is new.
        assert_eq!(s.add(108, false, b"min HTTP"), 5);
        assert_eq!(s.window, b"GET /admin HTTP");
        s.remember(&[7, 7, 9]);
        assert_eq!(s.pending().collect::<Vec<_>>(), vec![7, 9]);
        // A gap resets the window.
        assert_eq!(s.add(500, false, b"x"), 1);
        assert_eq!(s.window, b"x");
        assert_eq!(s.pending().count(), 0);
        // The window is trimmed to its size once it holds twice as much.
        let mut next = 501u32;
        for _ in 0..3 {
            s.add(next, false, &[b'a'; STREAM_WINDOW]);
            next = next.wrapping_add(STREAM_WINDOW as u32);
        }
        assert!(s.window.len() <= 2 * STREAM_WINDOW && s.window.len() >= STREAM_WINDOW);
    }

    #[test]
    fn establishment_is_seen_as_suricata_sees_it() {
        let mut flows = Flows::default();
        let c = (IpAddr::from([10, 0, 0, 1]), 40000);
        let s = (IpAddr::from([10, 0, 0, 2]), 80);
        let ep = |a: (IpAddr, u16)| custos_flow::Endpoint {
            addr: a.0.into(),
            port: a.1,
        };
        let key = FlowKey::canonical(ep(c), ep(s), 6, [0, 0]).0;
        let mut step = |src, dst, flags| {
            flows
                .packet(key, 0, src, dst, Some(flags), (false, 60))
                .1
                .established
        };
        assert!(!step(c, s, 0x02));
        assert!(!step(s, c, 0x12));
        assert!(!step(c, s, 0x10), "the handshake's last ACK sees it before");
        assert!(step(c, s, 0x18));
        assert!(step(s, c, 0x04), "an RST is still established");
        assert!(!step(c, s, 0x02), "a new SYN starts over");
        assert!(!step(s, c, 0x12));
        assert!(!step(c, s, 0x10));
        assert!(step(c, s, 0x10), "the new handshake");
        // Picked up mid-connection: from its second packet.
        let key2 = FlowKey::canonical(ep(c), ep((s.0, 81)), 6, [0, 0]).0;
        let mut mid = |flags| {
            flows
                .packet(key2, 0, c, (s.0, 81), Some(flags), (true, 60))
                .1
        };
        let first = mid(0x18);
        assert!(!first.established && first.first_in_direction);
        let second = mid(0x18);
        assert!(second.established && !second.first_in_direction);
    }

    #[test]
    fn thresholds_count_in_packet_time() {
        let mut t = Thresholds::default();
        let th = Threshold {
            kind: ThresholdKind::Limit,
            track: Track::BySrc,
            count: 2,
            seconds: 60,
            unique_on: None,
        };
        let (a, b) = (IpAddr::from([10, 0, 0, 1]), IpAddr::from([10, 0, 0, 2]));
        let s = 1_000_000_000;
        assert!(t.admit(0, &th, 0, (a, b, 0, (1, 2))));
        assert!(t.admit(0, &th, s, (a, b, 0, (1, 2))));
        assert!(!t.admit(0, &th, 2 * s, (a, b, 0, (1, 2))));
        assert!(t.admit(0, &th, 2 * s, (b, a, 0, (2, 1))));
        assert!(
            !t.admit(0, &th, 60 * s, (a, b, 0, (1, 2))),
            "the window's last instant"
        );
        assert!(t.admit(0, &th, 61 * s, (a, b, 0, (1, 2))));
        let df = Threshold {
            kind: ThresholdKind::DetectionFilter,
            track: Track::ByDst,
            count: 2,
            seconds: 60,
            unique_on: None,
        };
        assert!(!t.admit(1, &df, 0, (a, b, 0, (1, 2))));
        assert!(!t.admit(1, &df, 0, (a, b, 0, (1, 2))));
        assert!(t.admit(1, &df, 0, (a, b, 0, (1, 2))));
        let bo = Threshold {
            kind: ThresholdKind::Backoff(10),
            track: Track::ByFlow,
            count: 1,
            seconds: 0,
            unique_on: None,
        };
        let alerts: Vec<u64> = (1..=150)
            .filter(|_| t.admit(2, &bo, 0, (a, b, 7, (1, 2))))
            .collect::<Vec<_>>()
            .iter()
            .map(|_| 1)
            .collect();
        assert_eq!(alerts.len(), 3, "1st, 10th, 100th");
        // `unique_on dst_port`: distinct ports are counted; once past the count, every
        // match alerts, a repeated port included.
        let distinct = Threshold {
            kind: ThresholdKind::DetectionFilter,
            track: Track::ByDst,
            count: 2,
            seconds: 60,
            unique_on: Some(UniquePort::Dst),
        };
        let mut hit = |port| t.admit(3, &distinct, 0, (a, b, 0, (1000, port)));
        assert!(!hit(80));
        assert!(!hit(80));
        assert!(!hit(81));
        assert!(hit(82));
        assert!(hit(80));
    }
}
