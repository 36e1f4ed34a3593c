//! The flow table: finds the flow of every packet, keeps Zeek's per-connection state, and
//! ends flows on inactivity, on close, at the cap (evicting the least recently active), or at
//! the end of input.
//!
//! Memory is bounded by [`FlowConfig::max_flows`]; slots are reused, so once the table has
//! grown to its working size no packet allocates (`tests/steady_state_alloc.rs` checks this
//! with a counting allocator).
//!
//! # Bytes per flow (x86-64, measured by `tests::flow_fits_256_bytes`)
//!
//! | flow | slab entry `Option<Flow>` | hash table, free and scratch lists ([`HASH_OVERHEAD_BOUND`]) | TCP pool slot (+ its free-list entry) | total, at worst |
//! |---|---|---|---|---|
//! | TCP, first packet only (e.g. a SYN of a flood) | 200 | 20 | — | 220 |
//! | UDP, ICMP, other IP | 200 | 20 | — | 220 |
//! | TCP, two or more packets | 200 | 20 | 200 + 4 | 424 |
//!
//! `Option<Flow>` (200 bytes, no extra tag: `Encap` gives a niche) holds the endpoints, VLANs,
//! provenance, EVE counters and the 104-byte Zeek core ([`ConnAnalyzer`]: timestamps, history,
//! packet/IP-byte counters, UDP/ICMP lengths, or for TCP either the first packet inline or a
//! pool slot number). The full TCP state (both endpoints' sequence bookkeeping, scaled
//! counters, gap tracking, timers: 200 bytes) lives in a [`TcpPool`] slot from a connection's
//! second packet on, and returns to the pool when the flow ends. The uid is derived, not
//! stored ([`Flow::uid_seed`]).
//!
//! Not counted above: vectors grow by doubling, so the slab and pool may have reserved up to
//! twice their peak length (untouched, hence not resident, for large allocations), and the
//! fixed base (configuration, port sets).

use crate::key::{Addr, Endpoint, FlowKey};
use crate::keyed_hash::KeyedState;
use crate::zeek::{self, ConnAnalyzer, ConnSummary, L4Info, PacketInfo, TcpPool, ZeekConfig};
use core::hash::{BuildHasher, Hash};
use custos_decode::{ChecksumPolicy, ChecksumStatus, Decoded, Encap, IpLayer, Transport};
use hashbrown::HashTable;

/// Where a packet came from: everything the table needs besides the decoded headers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PacketMeta {
    /// Packet time, ns since the epoch.
    pub ts: i64,
    /// Captured frame length on the wire (original length).
    pub frame_len: u32,
    /// Packet index within its input file (0-based).
    pub index: u64,
    /// Which input the packet came from (0-based, in argument order).
    pub file: u16,
}

/// Flow table settings.
#[derive(Clone, Debug)]
pub struct FlowConfig {
    /// Most flows held at once; reaching it evicts the least recently active flows.
    pub max_flows: usize,
    /// Zeek semantics (server ports, partial connections).
    pub zeek: ZeekConfig,
    /// How often (packet time, ns) the table looks for expired flows.
    pub sweep_interval_ns: i64,
    /// Fraction (1/n) of the table evicted at once when it is full.
    pub evict_fraction: usize,
}

impl Default for FlowConfig {
    fn default() -> Self {
        FlowConfig {
            max_flows: 1_000_000,
            zeek: ZeekConfig::default(),
            sweep_interval_ns: 1_000_000_000,
            evict_fraction: 64,
        }
    }
}

/// Why a flow ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EndReason {
    /// Inactive for its protocol's timeout, or closed and lingered.
    Timeout,
    /// A new connection reused its 5-tuple (Zeek's `connection_reused`).
    Reused,
    /// Evicted because the table was full.
    Evicted,
    /// End of input.
    Shutdown,
}

impl EndReason {
    /// Suricata's EVE `flow.reason` word.
    pub fn as_eve(self) -> &'static str {
        match self {
            EndReason::Timeout | EndReason::Reused => "timeout",
            EndReason::Evicted => "forced",
            EndReason::Shutdown => "shutdown",
        }
    }
}

/// One flow: its endpoints as the originator sees them, where it was seen, and Zeek's state.
#[derive(Clone, Debug)]
pub struct Flow {
    /// Originator endpoint.
    pub orig: Endpoint,
    /// Responder endpoint.
    pub resp: Endpoint,
    /// IP protocol.
    pub proto: u8,
    /// VLAN ids of the key.
    pub vlans: [u16; 2],
    /// Uid seed ([`Flow::uid_seed`]) of the tunnel that carried it (0 = none).
    pub tunnel_parent: u64,
    /// Encapsulation that carried it.
    pub encap: Encap,
    /// Index of its first packet in the run.
    pub first_index: u64,
    /// Index of its last packet in the run.
    pub last_index: u64,
    /// Input file of its first packet.
    pub file: u16,
    /// Input file of its last packet.
    pub last_file: u16,
    /// The tunnel this flow carried, if it is a tunnel's outer UDP flow (Zeek's `service`).
    pub tunnel_service: Encap,
    /// Frame bytes (original length) from the originator and the responder.
    pub frame_bytes: [u64; 2],
    /// OR of TCP flags from the originator and the responder.
    pub tcp_flags: [u8; 2],
    /// Ports the Community ID hashes: ICMP type and code of the first packet, SCTP ports (the
    /// key itself leaves SCTP ports out, as Zeek does), or the key's ports.
    pub cid_ports: (u16, u16),
    /// Zeek's connection state (its small core; the TCP state proper lives in the table's
    /// [`TcpPool`], and sinks get a [`ConnSummary`] instead).
    pub conn: ConnAnalyzer,
}

impl Flow {
    /// The canonical (direction-free) key.
    pub fn key(&self) -> FlowKey {
        key_of(self)
    }

    /// Deterministic unique id, derived from where the flow's first packet was seen (input
    /// file and packet index) and its canonical key (so role flips do not change it).
    pub fn uid_seed(&self) -> u64 {
        let k = key_of(self);
        let mut h = mix(self.first_index ^ (u64::from(self.file) << 48));
        h = mix(h
            ^ u64::from(k.proto)
            ^ (u64::from(k.lo.port) << 8)
            ^ (u64::from(k.hi.port) << 24)
            ^ (u64::from(k.vlans[0]) << 40));
        h = mix(h ^ u64::from(k.vlans[1]));
        for chunk in
            k.lo.addr
                .0
                .chunks_exact(8)
                .chain(k.hi.addr.0.chunks_exact(8))
        {
            let mut w = [0u8; 8];
            w.copy_from_slice(chunk);
            h = mix(h ^ u64::from_be_bytes(w));
        }
        h
    }

    /// Zeek-style uid: "C" and 17 base62 digits derived from [`Flow::uid_seed`].
    pub fn uid(&self) -> String {
        uid_string(b'C', self.uid_seed())
    }

    /// Appends [`Flow::uid`] to `out`, without allocating.
    pub fn push_uid(&self, out: &mut String) {
        push_uid(out, b'C', self.uid_seed());
    }

    /// The flow's Community ID v1 (seed 0).
    pub fn community_id(&self) -> String {
        type Tuple = (std::net::IpAddr, std::net::IpAddr, u16, u16, u8);
        thread_local! {
            // The flow writers ask for the same flow one after the other (conn.log, then
            // flows.jsonl): the last answer is kept, keyed by the exact hashed tuple.
            static LAST: std::cell::RefCell<Option<(Tuple, String)>> =
                const { std::cell::RefCell::new(None) };
        }
        let (s, d) = (self.orig.addr.ip(), self.resp.addr.ip());
        let (sp, dp) = if matches!(self.proto, 1 | 58 | 132) {
            self.cid_ports
        } else {
            (self.orig.port, self.resp.port)
        };
        let tuple = (s, d, sp, dp, self.proto);
        LAST.with(|last| {
            let mut last = last.borrow_mut();
            match &*last {
                Some((t, id)) if *t == tuple => id.clone(),
                _ => {
                    let id = crate::community_id::community_id_v1(0, s, d, sp, dp, self.proto);
                    *last = Some((tuple, id.clone()));
                    id
                }
            }
        })
    }
}

/// Renders a uid: a prefix letter and 17 base62 digits (as Zeek's uids look).
pub fn uid_string(prefix: u8, seed: u64) -> String {
    let mut out = String::with_capacity(18);
    push_uid(&mut out, prefix, seed);
    out
}

/// Appends the uid [`uid_string`] renders to `out`, without allocating (the flow writers
/// write one or two per flow).
pub fn push_uid(out: &mut String, prefix: u8, seed: u64) {
    const DIGITS: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut uid = [prefix; 18];
    let mut a = mix(seed);
    let mut b = mix(seed ^ 0x9e37_79b9_7f4a_7c15);
    for (i, c) in uid[1..].iter_mut().enumerate() {
        let v = if i < 10 { &mut a } else { &mut b };
        *c = DIGITS[(*v % 62) as usize];
        *v /= 62;
    }
    // A non-ASCII prefix is the only way the bytes could fail to be UTF-8; it would be a bug
    // of the caller, and the uid then keeps its digits only.
    out.push_str(
        std::str::from_utf8(&uid)
            .unwrap_or_else(|_| std::str::from_utf8(&uid[1..]).unwrap_or_default()),
    );
}

/// SplitMix64 finaliser: a fast, well-spread 64-bit mix (not cryptographic).
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Receives flows as they end.
pub trait FlowSink {
    /// Called once per flow when it ends, with its Zeek results (`summary`): read those from
    /// the summary, not from `flow.conn` (whose TCP state the table has not handed over).
    ///
    /// What the sink's writer can fail with.
    type Error;

    /// # Errors
    /// Whatever the sink's writer reports; the table stops and returns it.
    fn flow_ended(
        &mut self,
        flow: &Flow,
        summary: &ConnSummary,
        reason: EndReason,
    ) -> Result<(), Self::Error>;
}

/// A flow that ended, with everything its records need in one value: the flow, its Zeek
/// results, why it ended and the application protocol a later stage recognised in it.
///
/// Owned (the flow is cloned once when it ends), so it can cross to an output thread.
#[derive(Clone, Debug)]
pub struct EndedFlow {
    /// The flow.
    pub flow: Flow,
    /// Its Zeek results (read these, not `flow.conn`).
    pub summary: ConnSummary,
    /// Why it ended.
    pub reason: EndReason,
    /// The application protocol recognised in it (`None` when none was).
    pub app_proto: Option<&'static str>,
}

/// Flow counters for statistics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FlowStats {
    /// Flows created.
    pub created: u64,
    /// Flows ended by timeout or close.
    pub timed_out: u64,
    /// Flows ended because their 5-tuple was reused.
    pub reused: u64,
    /// Flows evicted because the table was full.
    pub evicted: u64,
    /// Flows ended at the end of input.
    pub shutdown: u64,
    /// Most flows held at once.
    pub peak: u64,
    /// Packets whose transport checksum was judged bad (kept out of flow state as Zeek does).
    pub bad_checksums: u64,
    /// IP layers that updated a flow.
    pub packets: u64,
    /// First packets Zeek would not turn into a connection.
    pub refused: u64,
}

/// Bytes per flow the table adds on top of `size_of::<Option<Flow>>()`, at worst: the index-only
/// hash table (hashbrown, 4-byte slot number + 1 control byte per bucket, load factor ≤ 7/8,
/// bucket count a power of two, so right after it doubles at most 2 × 8/7 buckets per flow:
/// 11.43 bytes, rounded up to 12) plus the slab's free list and the sweep/eviction scratch list
/// (each at most one 4-byte slot number per slab slot).
pub const HASH_OVERHEAD_BOUND: usize = 20;

/// The flow table.
///
/// Memory: flows live in a slab of reused slots; the hash table holds only 4-byte slot numbers
/// (the key is recomputed from the flow), so the table costs about 5–12 bytes per flow on top
/// of the flow itself (see [`HASH_OVERHEAD_BOUND`]); TCP connections past their first packet
/// also hold a [`TcpPool`] slot.
pub struct FlowTable {
    cfg: FlowConfig,
    map: HashTable<u32>,
    hasher: KeyedState,
    slots: Vec<Option<Flow>>,
    pool: TcpPool,
    free: Vec<u32>,
    next_sweep: i64,
    scratch: Vec<u32>,
    stats: FlowStats,
}

fn key_of(flow: &Flow) -> FlowKey {
    FlowKey::canonical(flow.orig, flow.resp, flow.proto, flow.vlans).0
}

fn hash_key(hasher: &KeyedState, key: &FlowKey) -> u64 {
    let mut h = hasher.build_hasher();
    key.hash(&mut h);
    core::hash::Hasher::finish(&h)
}

impl FlowTable {
    /// An empty table.
    pub fn new(cfg: FlowConfig) -> Self {
        FlowTable {
            cfg,
            map: HashTable::new(),
            hasher: KeyedState::default(),
            slots: Vec::new(),
            pool: TcpPool::new(),
            free: Vec::new(),
            next_sweep: i64::MIN,
            scratch: Vec::new(),
            stats: FlowStats::default(),
        }
    }

    /// Counters so far.
    pub fn stats(&self) -> FlowStats {
        self.stats
    }

    /// The TCP state pool (for [`ConnAnalyzer`] queries on held flows).
    pub fn pool(&self) -> &TcpPool {
        &self.pool
    }

    /// The held flows, in slot order.
    pub fn flows(&self) -> impl Iterator<Item = &Flow> + '_ {
        self.slots.iter().flatten()
    }

    /// Flows held now.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// True when no flow is held.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Processes every IP layer of one decoded packet. `policy` judges transport checksums.
    ///
    /// # Errors
    /// Only the sink's errors.
    pub fn process<S: FlowSink + ?Sized>(
        &mut self,
        meta: &PacketMeta,
        decoded: &Decoded<'_>,
        policy: &mut ChecksumPolicy,
        sink: &mut S,
    ) -> Result<(), S::Error> {
        if meta.ts >= self.next_sweep {
            self.sweep(meta.ts, sink)?;
            self.next_sweep = meta.ts.saturating_add(self.cfg.sweep_interval_ns);
        }
        let mut parent = 0u64;
        let mut prev_encap_parent = 0u64;
        let mut carrier: Option<u32> = None;
        for layer in decoded.ip_layers() {
            if let Some(slot) = carrier.take() {
                if let Some(Some(f)) = self.slots.get_mut(slot as usize) {
                    f.tunnel_service = layer.encap;
                }
            }
            let Some(mut info) = packet_info(meta.ts, layer) else {
                if layer.carries_tunnel {
                    // IP-level tunnels (GRE, IP in IP) have no connection; name the tunnel by
                    // its endpoints so inner flows still point at it.
                    parent = 0;
                    prev_encap_parent = tunnel_seed(layer);
                }
                continue;
            };
            if layer.l4_checksum != ChecksumStatus::Unverified && policy.judge(layer.l4_checksum) {
                info.checksum_ok = false;
                self.stats.bad_checksums += 1;
            }
            let tunnel_parent = if layer.encap == Encap::None {
                0
            } else if parent != 0 {
                parent
            } else {
                prev_encap_parent
            };
            let slot = self.update(meta, decoded.vlans, layer, &info, tunnel_parent, sink)?;
            let uid = slot
                .and_then(|s| self.slots.get(s as usize))
                .and_then(Option::as_ref)
                .map_or(0, |f| {
                    if layer.carries_tunnel {
                        f.uid_seed()
                    } else {
                        0
                    }
                });
            if layer.carries_tunnel {
                carrier = slot;
                parent = if matches!(layer.transport, Transport::Udp { .. }) {
                    uid
                } else {
                    0
                };
                if parent == 0 {
                    prev_encap_parent = tunnel_seed(layer);
                }
            }
        }
        Ok(())
    }

    fn update<S: FlowSink + ?Sized>(
        &mut self,
        meta: &PacketMeta,
        vlans: [u16; 2],
        layer: &IpLayer<'_>,
        info: &PacketInfo,
        tunnel_parent: u64,
        sink: &mut S,
    ) -> Result<Option<u32>, S::Error> {
        let (sport, dport) = key_ports(&info.l4);
        let src = Endpoint {
            addr: Addr::from(layer.src),
            port: sport,
        };
        let dst = Endpoint {
            addr: Addr::from(layer.dst),
            port: dport,
        };
        let (key, _) = FlowKey::canonical(src, dst, layer.protocol, vlans);
        let hash = hash_key(&self.hasher, &key);
        if let Some(slot) = self.find(hash, &key) {
            let Some(Some(flow)) = self.slots.get_mut(slot as usize) else {
                return Ok(None);
            };
            match end_reason(&flow.conn, &self.cfg.zeek, &self.pool, meta.ts, info) {
                None => {
                    let is_orig = flow.orig == src;
                    apply(
                        flow,
                        &self.cfg.zeek,
                        &mut self.pool,
                        is_orig,
                        meta,
                        info,
                        layer,
                    );
                    self.stats.packets += 1;
                    return Ok(Some(slot));
                }
                Some(reason) => self.end(slot, reason, sink)?,
            }
        }
        if !zeek::creates_connection(&self.cfg.zeek, info) {
            self.stats.refused += 1;
            return Ok(None);
        }
        if self.map.len() >= self.cfg.max_flows {
            self.evict(sink)?;
        }
        let flipped = zeek::flip_on_first_packet_to(&self.cfg.zeek, info, layer.dst);
        let (orig, resp) = if flipped { (dst, src) } else { (src, dst) };
        let cid_ports = cid_ports(info, layer, flipped, orig.port, resp.port);
        let mut flow = Flow {
            orig,
            resp,
            proto: layer.protocol,
            vlans,
            tunnel_parent,
            encap: layer.encap,
            first_index: meta.index,
            last_index: meta.index,
            file: meta.file,
            last_file: meta.file,
            tunnel_service: Encap::None,
            frame_bytes: [0; 2],
            tcp_flags: [0; 2],
            cid_ports,
            conn: ConnAnalyzer::new(&self.cfg.zeek, info, flipped),
        };
        apply(
            &mut flow,
            &self.cfg.zeek,
            &mut self.pool,
            !flipped,
            meta,
            info,
            layer,
        );
        self.stats.packets += 1;
        self.stats.created += 1;
        Ok(Some(self.store(hash, flow)))
    }

    /// Puts a new flow in a free (or new) slot, indexes it under `hash` and returns the slot.
    #[inline]
    fn store(&mut self, hash: u64, flow: Flow) -> u32 {
        let slot = match self.free.pop() {
            Some(s) => {
                if let Some(entry) = self.slots.get_mut(s as usize) {
                    *entry = Some(flow);
                }
                s
            }
            None => {
                self.slots.push(Some(flow));
                // Keep the free list able to hold every slot, so ending flows never allocates.
                if self.free.capacity() < self.slots.len() {
                    self.free.reserve(self.slots.len() - self.free.len());
                }
                (self.slots.len() - 1) as u32
            }
        };
        let (slots, hasher) = (&self.slots, &self.hasher);
        self.map
            .insert_unique(hash, slot, |&s| match slots.get(s as usize) {
                Some(Some(f)) => hash_key(hasher, &key_of(f)),
                _ => 0,
            });
        self.stats.peak = self.stats.peak.max(self.map.len() as u64);
        slot
    }

    /// The slot of the held flow with `key` (whose hash is `hash`).
    #[inline]
    fn find(&self, hash: u64, key: &FlowKey) -> Option<u32> {
        let slots = &self.slots;
        self.map
            .find(
                hash,
                |&s| matches!(slots.get(s as usize), Some(Some(f)) if key_of(f) == *key),
            )
            .copied()
    }

    fn end<S: FlowSink + ?Sized>(
        &mut self,
        slot: u32,
        reason: EndReason,
        sink: &mut S,
    ) -> Result<(), S::Error> {
        let Some(entry) = self.slots.get_mut(slot as usize) else {
            return Ok(());
        };
        let Some(mut flow) = entry.take() else {
            return Ok(());
        };
        let hash = hash_key(&self.hasher, &key_of(&flow));
        if let Ok(e) = self.map.find_entry(hash, |&s| s == slot) {
            e.remove();
        }
        self.free.push(slot);
        match reason {
            EndReason::Timeout => self.stats.timed_out += 1,
            EndReason::Reused => self.stats.reused += 1,
            EndReason::Evicted => self.stats.evicted += 1,
            EndReason::Shutdown => self.stats.shutdown += 1,
        }
        let summary = flow.conn.summary(&self.pool);
        let result = sink.flow_ended(&flow, &summary, reason);
        flow.conn.release(&mut self.pool);
        result
    }

    /// Ends, in (start time, first packet) order, the flows in `self.scratch`.
    fn end_scratch<S: FlowSink + ?Sized>(
        &mut self,
        reason: EndReason,
        sink: &mut S,
    ) -> Result<(), S::Error> {
        let mut batch = std::mem::take(&mut self.scratch);
        let slots = &self.slots;
        batch.sort_unstable_by_key(|&s| match slots.get(s as usize) {
            Some(Some(f)) => (f.conn.start_ts(), f.file, f.first_index, s),
            _ => (i64::MAX, u16::MAX, u64::MAX, s),
        });
        let mut result = Ok(());
        for &slot in &batch {
            if let Err(e) = self.end(slot, reason, sink) {
                result = Err(e);
                break;
            }
        }
        batch.clear();
        self.scratch = batch;
        result
    }

    /// Ends every flow whose expiry time has passed at `now`.
    ///
    /// # Errors
    /// Only the sink's errors.
    pub fn sweep<S: FlowSink + ?Sized>(&mut self, now: i64, sink: &mut S) -> Result<(), S::Error> {
        self.scratch.clear();
        for (i, f) in self.slots.iter().enumerate() {
            if let Some(f) = f {
                if now >= f.conn.expires_at(&self.pool) {
                    self.scratch.push(i as u32);
                }
            }
        }
        self.end_scratch(EndReason::Timeout, sink)
    }

    /// Evicts the least recently active 1/`evict_fraction` of the table (at least one flow).
    fn evict<S: FlowSink + ?Sized>(&mut self, sink: &mut S) -> Result<(), S::Error> {
        self.scratch.clear();
        for (i, f) in self.slots.iter().enumerate() {
            if f.is_some() {
                self.scratch.push(i as u32);
            }
        }
        let n = (self.scratch.len() / self.cfg.evict_fraction.max(1))
            .max(1)
            .min(self.scratch.len());
        if n < self.scratch.len() {
            let slots = &self.slots;
            // Least recently active first; ties broken by position so runs are reproducible.
            self.scratch
                .select_nth_unstable_by_key(n, |&s| match slots.get(s as usize) {
                    Some(Some(f)) => (f.conn.last_ts(), f.last_file, f.last_index, s),
                    _ => (i64::MAX, u16::MAX, u64::MAX, s),
                });
            self.scratch.truncate(n);
        }
        self.end_scratch(EndReason::Evicted, sink)
    }

    /// Ends every remaining flow (end of input), in start order.
    ///
    /// # Errors
    /// Only the sink's errors.
    pub fn finish<S: FlowSink + ?Sized>(&mut self, sink: &mut S) -> Result<(), S::Error> {
        self.scratch.clear();
        for (i, f) in self.slots.iter().enumerate() {
            if f.is_some() {
                self.scratch.push(i as u32);
            }
        }
        self.end_scratch(EndReason::Shutdown, sink)
    }
}

fn tunnel_seed(layer: &IpLayer<'_>) -> u64 {
    let a = Addr::from(layer.src).0;
    let b = Addr::from(layer.dst).0;
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    let mut h = u64::from(layer.protocol);
    for chunk in lo.chunks_exact(8).chain(hi.chunks_exact(8)) {
        let mut w = [0u8; 8];
        w.copy_from_slice(chunk);
        h = mix(h ^ u64::from_be_bytes(w));
    }
    h
}

/// Why a held flow must end before `info` (at `ts`) can update it: expired, or its 5-tuple reused.
#[inline]
fn end_reason(
    conn: &ConnAnalyzer,
    zcfg: &ZeekConfig,
    pool: &TcpPool,
    ts: i64,
    info: &PacketInfo,
) -> Option<EndReason> {
    if ts >= conn.expires_at(pool) {
        Some(EndReason::Timeout)
    } else if conn.is_reuse(zcfg, pool, info) {
        Some(EndReason::Reused)
    } else {
        None
    }
}

/// A new flow's Community ID ports: ICMP type and code, SCTP ports from the payload, else the
/// oriented key ports.
#[inline]
fn cid_ports(
    info: &PacketInfo,
    layer: &IpLayer<'_>,
    flipped: bool,
    orig_port: u16,
    resp_port: u16,
) -> (u16, u16) {
    match (info.l4, layer.transport) {
        (
            L4Info::Icmp {
                icmp_type, code, ..
            },
            _,
        ) => (u16::from(icmp_type), u16::from(code)),
        (
            L4Info::Other { proto: 132, .. },
            Transport::Other {
                payload: [a, b, c, d, ..],
            },
        ) => {
            let (sp, dp) = (u16::from_be_bytes([*a, *b]), u16::from_be_bytes([*c, *d]));
            if flipped {
                (dp, sp)
            } else {
                (sp, dp)
            }
        }
        _ => (orig_port, resp_port),
    }
}

/// Updates a flow with one packet already oriented (`is_orig`).
fn apply(
    flow: &mut Flow,
    zcfg: &ZeekConfig,
    pool: &mut TcpPool,
    is_orig: bool,
    meta: &PacketMeta,
    info: &PacketInfo,
    layer: &IpLayer<'_>,
) {
    let side = usize::from(!is_orig);
    if let Some(b) = flow.frame_bytes.get_mut(side) {
        *b += u64::from(meta.frame_len);
    }
    if let (Transport::Tcp { flags, .. }, Some(f)) = (layer.transport, flow.tcp_flags.get_mut(side))
    {
        *f |= flags;
    }
    flow.last_index = meta.index;
    flow.last_file = meta.file;
    let update = flow.conn.update(zcfg, pool, is_orig, info);
    if update.flipped {
        core::mem::swap(&mut flow.orig, &mut flow.resp);
        flow.frame_bytes.swap(0, 1);
        flow.tcp_flags.swap(0, 1);
    }
}

/// Ports as the flow key uses them (ICMP: type and counterpart).
pub fn key_ports(l4: &L4Info) -> (u16, u16) {
    match *l4 {
        L4Info::Tcp {
            src_port, dst_port, ..
        }
        | L4Info::Udp {
            src_port, dst_port, ..
        } => (src_port, dst_port),
        L4Info::Icmp {
            icmp_type,
            code,
            v6,
            ..
        } => {
            let (a, b, _) = crate::icmp_ports(icmp_type, code, v6);
            (a, b)
        }
        L4Info::Other { .. } => (0, 0),
    }
}

/// Converts a decoded IP layer into what Zeek's analyzer needs; `None` when the layer carries
/// no flow (a pending fragment, a malformed transport, or an IP-level tunnel). Public so that
/// code following flows beside the table (datasets) sees packets exactly as the table does.
pub fn packet_info(ts: i64, layer: &IpLayer<'_>) -> Option<PacketInfo> {
    let l4 = match layer.transport {
        Transport::Tcp {
            src_port,
            dst_port,
            flags,
            seq,
            ack,
            window,
            payload_len,
            ..
        } => L4Info::Tcp {
            src_port,
            dst_port,
            flags,
            seq,
            ack,
            window,
            payload_len,
        },
        Transport::Udp {
            src_port,
            dst_port,
            payload_len,
            ..
        } => L4Info::Udp {
            src_port,
            dst_port,
            payload_len,
        },
        Transport::Icmp {
            msg_type,
            code,
            v6,
            payload_len,
            ..
        } => L4Info::Icmp {
            icmp_type: msg_type,
            code,
            v6,
            payload_len,
        },
        Transport::Other { payload } => {
            if layer.carries_tunnel {
                return None;
            }
            L4Info::Other {
                proto: layer.protocol,
                payload_len: u32::try_from(payload.len()).unwrap_or(u32::MAX),
            }
        }
        Transport::Fragment | Transport::Malformed => return None,
    };
    Some(PacketInfo {
        ts,
        ip_len: layer.ip_len,
        checksum_ok: true,
        l4,
    })
}

#[cfg(test)]
#[path = "../tests/common/frames.rs"]
mod frames;

#[cfg(test)]
mod tests {
    use super::frames::{frame, L4};
    use super::*;
    use custos_decode::{ChecksumMode, ChecksumSetting, Decoder, DecoderConfig};

    #[test]
    fn uids_are_a_letter_and_17_base62_digits_pushed_as_rendered() {
        let mut seen = std::collections::HashSet::new();
        for seed in [0, 1, 2, 62, u64::MAX, 0x9e37_79b9_7f4a_7c15] {
            let uid = uid_string(b'C', seed);
            assert_eq!(uid.len(), 18, "{uid}");
            assert!(uid.starts_with('C'));
            assert!(uid[1..].bytes().all(|b| b.is_ascii_alphanumeric()), "{uid}");
            let mut line = String::from("x\t");
            push_uid(&mut line, b'C', seed);
            assert_eq!(line, format!("x\t{uid}"));
            assert!(seen.insert(uid));
        }
        // The prefix changes only the first letter.
        assert_eq!(
            uid_string(b'C', 7).as_bytes()[1..],
            uid_string(b'X', 7).as_bytes()[1..]
        );
    }

    struct Count(u64);
    impl FlowSink for Count {
        type Error = std::convert::Infallible;

        fn flow_ended(
            &mut self,
            _flow: &Flow,
            _summary: &ConnSummary,
            _reason: EndReason,
        ) -> Result<(), Self::Error> {
            self.0 += 1;
            Ok(())
        }
    }

    fn feed(t: &mut FlowTable, ts: i64, index: u64, l4: L4) {
        let reply = matches!(l4, L4::Tcp(80, ..));
        let mut dec = Decoder::new(DecoderConfig {
            checksums: ChecksumMode::Ignore,
            ..DecoderConfig::default()
        });
        let mut buf = [0u8; 1600];
        let (a, b) = ([10, 0, 0, 1], [10, 0, 0, 2]);
        let n = if reply {
            frame(&mut buf, b, a, l4)
        } else {
            frame(&mut buf, a, b, l4)
        };
        let d = dec.decode(1, ts, &buf[..n]);
        let meta = PacketMeta {
            ts,
            frame_len: n as u32,
            index,
            file: 0,
        };
        let mut policy = ChecksumPolicy::new(ChecksumSetting::Ignore);
        t.process(&meta, &d, &mut policy, &mut Count(0)).unwrap();
    }

    /// The per-flow budget of the SYN-flood memory test: an embryonic TCP flow (one SYN), a
    /// UDP flow and an ICMP flow each cost one slab entry (`Option<Flow>`) plus the hash
    /// table's share, and no pool slot.
    #[test]
    fn flow_fits_256_bytes() {
        let flow = core::mem::size_of::<Option<Flow>>();
        eprintln!(
            "size_of::<Option<Flow>>() = {flow} (Flow {}, ConnAnalyzer {}), + hash/free list \
             bound {HASH_OVERHEAD_BOUND} = {}; TCP pool slot {}",
            core::mem::size_of::<Flow>(),
            core::mem::size_of::<ConnAnalyzer>(),
            flow + HASH_OVERHEAD_BOUND,
            TcpPool::SLOT_BYTES
        );
        assert!(
            flow + HASH_OVERHEAD_BOUND <= 256,
            "{flow} + {HASH_OVERHEAD_BOUND} > 256"
        );
        let mut t = FlowTable::new(FlowConfig::default());
        feed(&mut t, 1, 0, L4::Tcp(40000, 80, 0x02, 1000, 0, 0));
        feed(&mut t, 2, 1, L4::Udp(5000, 53, 30));
        feed(&mut t, 3, 2, L4::Icmp(8, 0, 7, 56));
        assert_eq!(t.len(), 3);
        assert_eq!(t.pool().in_use(), 0, "no flow holds a pool slot");
        assert!(t.flows().any(|f| f.proto == 6 && f.conn.is_embryonic()));
        // The SYN-ACK makes the TCP flow take a slot; its end returns it.
        feed(&mut t, 4, 3, L4::Tcp(80, 40000, 0x12, 5000, 1001, 0));
        assert_eq!(t.pool().in_use(), 1);
        let mut sink = Count(0);
        t.finish(&mut sink).unwrap();
        assert_eq!((sink.0, t.len(), t.pool().in_use()), (3, 0, 0));
    }

    /// Uids are derived, not stored: the same for a flow whatever its orientation, different
    /// for different first packets.
    #[test]
    fn uid_is_deterministic() {
        let mut t = FlowTable::new(FlowConfig::default());
        feed(&mut t, 1, 0, L4::Tcp(40000, 80, 0x02, 1000, 0, 0));
        feed(&mut t, 2, 1, L4::Udp(5000, 53, 30));
        let uids: Vec<String> = t.flows().map(Flow::uid).collect();
        assert_eq!(uids.len(), 2);
        assert_ne!(uids[0], uids[1]);
        let mut f = t.flows().next().unwrap().clone();
        let seed = f.uid_seed();
        core::mem::swap(&mut f.orig, &mut f.resp);
        assert_eq!(f.uid_seed(), seed);
        f.first_index += 1;
        assert_ne!(f.uid_seed(), seed);
    }
}
