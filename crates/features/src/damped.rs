//! Default mode: the same statistics as Kitsune-py with its implementation quirks fixed.
//!
//! - Keys are typed ([`Addr`], [`Sock`]), so `"198.18.0.1" + "23"` and `"198.18.0.12" + "3"`
//!   are different sockets; ICMPv6 counts as ICMP; other IP protocols keep their number.
//! - Each packet updates one 1D stream per table and one residual-product state per pair, once:
//!   O(1) work whatever the number of peers. The destination's stream is only read (its mean and
//!   variance do not change under decay, so it needs no update).
//! - Every table holds at most a configured number of entries. When one is full, entries whose
//!   weight at the slowest λ has decayed below [`FeatureConfig::stale_weight`] are evicted; if
//!   that frees too little, the least recently seen go too, until an eighth is free (ties
//!   broken by key, so the choice never depends on the map's order).
//! - Times are kept in integer nanoseconds; Δt is exact.
//!
//! Once the tables have grown to their working size, a packet allocates nothing.

use crate::exp::exp2;
use crate::{FeatureConfig, LAMBDAS};
use custos_decode::{Decoded, Transport};
use custos_flow::keyed_hash::KeyedMap;
use std::hash::{Hash, Hasher};
use std::net::IpAddr;

const N: usize = LAMBDAS.len();
/// Index of the slowest decay rate in [`LAMBDAS`].
const SLOWEST: usize = N - 1;

/// A network address: IPv4, IPv6 or, for frames without IP, a MAC address.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
struct Addr {
    /// 0 none, 4 IPv4, 6 IPv6, 1 MAC.
    kind: u8,
    bytes: [u8; 16],
}

impl Addr {
    fn ip(ip: IpAddr) -> Self {
        let mut bytes = [0; 16];
        match ip {
            IpAddr::V4(a) => {
                bytes[..4].copy_from_slice(&a.octets());
                Addr { kind: 4, bytes }
            }
            IpAddr::V6(a) => Addr {
                kind: 6,
                bytes: a.octets(),
            },
        }
    }

    fn mac(m: [u8; 6]) -> Self {
        let mut bytes = [0; 16];
        bytes[..6].copy_from_slice(&m);
        Addr { kind: 1, bytes }
    }
}

/// A socket: address, protocol and port (0 where the protocol has none).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
struct Sock {
    addr: Addr,
    /// 0 none, 1 TCP, 2 UDP, 3 ICMP/ICMPv6, 4 ARP, 5 other IP protocol (`port` = its number).
    proto: u8,
    port: u16,
}

// Hashed as two words rather than field by field (the derived `Hash` feeds the hasher five
// times for a socket, ten for a socket pair; this saves 3 % of AfterImage's instructions).
// Equal values hash equally; the maps' keys stay random per run (`custos_flow::keyed_hash`).
impl Hash for Addr {
    #[inline]
    fn hash<H: Hasher>(&self, h: &mut H) {
        h.write_u128(u128::from_ne_bytes(self.bytes));
        h.write_u8(self.kind);
    }
}

impl Hash for Sock {
    #[inline]
    fn hash<H: Hasher>(&self, h: &mut H) {
        h.write_u128(u128::from_ne_bytes(self.addr.bytes));
        h.write_u32(
            u32::from(self.addr.kind) | u32::from(self.proto) << 8 | u32::from(self.port) << 16,
        );
    }
}

/// Damped 1D statistics of one stream at every λ.
#[derive(Clone, Copy, Debug)]
struct Stream {
    last_ns: i64,
    w: [f64; N],
    ls: [f64; N],
    ss: [f64; N],
}

/// Decay factors 2^(−λ·Δt) for Δt = `dt_ns` (0 when not positive: no decay), with custos's
/// [`exp2`] (inlined, the same bits on every machine; libm's was a fifth of AfterImage's time).
#[inline]
fn factors(dt_ns: i64) -> [f64; N] {
    if dt_ns <= 0 {
        return [1.0; N];
    }
    let dt = dt_ns as f64 * 1e-9;
    // A loop rather than `LAMBDAS.map`, which compiled to a call that was not inlined.
    let mut f = [0.0; N];
    for (f, l) in f.iter_mut().zip(LAMBDAS) {
        *f = exp2(-l * dt);
    }
    f
}

/// The decay factors of one packet's updates, each distinct Δt computed once: a packet's
/// streams and pairs were mostly last touched by the same earlier packet (a host's MAC–IP
/// stream and its host stream always, a host's jitter and socket when it talks to one peer),
/// so their Δt repeat. The values are those of [`factors`]; only the recomputation is skipped.
#[derive(Default)]
struct Decay {
    seen: [(i64, [f64; N]); 6],
    len: usize,
}

impl Decay {
    #[inline]
    fn factors(&mut self, dt_ns: i64) -> [f64; N] {
        if let Some((_, f)) = self.seen[..self.len].iter().find(|(dt, _)| *dt == dt_ns) {
            return *f;
        }
        let f = factors(dt_ns);
        if let Some(slot) = self.seen.get_mut(self.len) {
            *slot = (dt_ns, f);
            self.len += 1;
        }
        f
    }
}

impl Stream {
    fn new(now: i64) -> Self {
        Stream {
            last_ns: now,
            w: [0.0; N],
            ls: [0.0; N],
            ss: [0.0; N],
        }
    }

    fn insert(&mut self, now: i64, v: f64, decay: &mut Decay) {
        let f = decay.factors(now - self.last_ns);
        if now > self.last_ns {
            self.last_ns = now;
        }
        for (i, f) in f.into_iter().enumerate() {
            self.w[i] = self.w[i] * f + 1.0;
            self.ls[i] = self.ls[i] * f + v;
            self.ss[i] = self.ss[i] * f + v * v;
        }
    }

    /// Means at every λ (unchanged by decay; 0 where the weight is ≤ 0), computed for all and
    /// then selected (no branch), so that the divisions vectorise.
    #[inline]
    fn means(&self) -> [f64; N] {
        let mut m = [0.0; N];
        for ((m, w), ls) in m.iter_mut().zip(&self.w).zip(&self.ls) {
            let mi = ls / w;
            *m = if *w <= 0.0 { 0.0 } else { mi };
        }
        m
    }

    /// [`Stream::means`] and the variances (likewise).
    #[inline]
    fn means_vars(&self) -> ([f64; N], [f64; N]) {
        let m = self.means();
        let mut v = [0.0; N];
        for (((v, m), w), ss) in v.iter_mut().zip(&m).zip(&self.w).zip(&self.ss) {
            let vi = (ss / w - m * m).abs();
            *v = if *w <= 0.0 { 0.0 } else { vi };
        }
        (m, v)
    }

    fn write_1d(&self, out: &mut [f64]) {
        let (m, v) = self.means_vars();
        for (i, o) in out[..3 * N].chunks_exact_mut(3).enumerate() {
            o[0] = self.w[i];
            o[1] = m[i];
            o[2] = v[i];
        }
    }
}

/// Damped sum of residual products of a pair of streams (Kitsune's `incStat_cov`).
#[derive(Clone, Copy, Debug)]
struct Cov {
    last_ns: i64,
    sr: [f64; N],
    w: [f64; N],
    /// Last residual of each side (canonical order), per λ.
    res: [[f64; N]; 2],
}

impl Cov {
    fn new(now: i64) -> Self {
        Cov {
            last_ns: now,
            sr: [0.0; N],
            w: [0.0; N],
            res: [[0.0; N]; 2],
        }
    }

    /// Adds the residual of side `me` (its value minus its stream's new mean).
    fn update(&mut self, now: i64, me: usize, v: f64, src: &Stream, decay: &mut Decay) {
        let f = decay.factors(now - self.last_ns);
        if now > self.last_ns {
            self.last_ns = now;
        }
        let means = src.means();
        for (i, (f, m)) in f.into_iter().zip(means).enumerate() {
            let r = v - m;
            let other = self.res[1 - me][i] * f;
            self.res[1 - me][i] = other;
            self.sr[i] = self.sr[i] * f + r * other;
            self.w[i] = self.w[i] * f + 1.0;
            self.res[me][i] = r;
        }
    }
}

/// A host pair: residual state and the jitter of each direction. (A socket pair has the
/// residual state alone, a [`Cov`]: a third of the size, and the largest table.)
#[derive(Clone, Copy, Debug)]
struct Pair {
    cov: Cov,
    jit: [Option<Stream>; 2],
}

/// Something a [`Table`] can evict.
trait Aging {
    fn last_ns(&self) -> i64;
    /// Weight at the slowest λ as of `last_ns`.
    fn slow_weight(&self) -> f64;
}

impl Aging for Stream {
    fn last_ns(&self) -> i64 {
        self.last_ns
    }
    fn slow_weight(&self) -> f64 {
        self.w[SLOWEST]
    }
}

impl Aging for Cov {
    fn last_ns(&self) -> i64 {
        self.last_ns
    }
    fn slow_weight(&self) -> f64 {
        self.w[SLOWEST]
    }
}

impl Aging for Pair {
    fn last_ns(&self) -> i64 {
        let j = self.jit.iter().flatten().map(|s| s.last_ns).max();
        j.unwrap_or(i64::MIN).max(self.cov.last_ns)
    }
    fn slow_weight(&self) -> f64 {
        let j = self.jit.iter().flatten().map(|s| s.w[SLOWEST]);
        j.fold(self.cov.w[SLOWEST], f64::max)
    }
}

/// A bounded map from key to state.
#[derive(Debug)]
struct Table<K, V> {
    map: KeyedMap<K, V>,
    max: usize,
    stale: f64,
    evicted: u64,
    /// Entries by age while evicting (kept, so that eviction allocates nothing once grown).
    by_age: Vec<(i64, K)>,
}

impl<K: Hash + Eq + Ord + Copy, V: Aging> Table<K, V> {
    fn new(max: usize, stale: f64) -> Self {
        Table {
            map: KeyedMap::default(),
            max: max.max(16),
            stale,
            evicted: 0,
            by_age: Vec::new(),
        }
    }

    /// The entry of `k`, created with `make` (after evicting if the table is full).
    fn entry(&mut self, now: i64, k: K, make: impl FnOnce() -> V) -> &mut V {
        if self.map.len() >= self.max && !self.map.contains_key(&k) {
            self.evict(now);
        }
        self.map.entry(k).or_insert_with(make)
    }

    fn get(&self, k: &K) -> Option<&V> {
        self.map.get(k)
    }

    /// Frees at least an eighth of the table: stale entries first, then the least recently
    /// seen (ties broken by key: which entries go never depends on the map's order, which is
    /// random, `custos_flow::keyed_hash`).
    fn evict(&mut self, now: i64) {
        let before = self.map.len();
        let stale = self.stale;
        let slow = LAMBDAS[SLOWEST];
        self.map.retain(|_, v| {
            let dt = (now - v.last_ns()).max(0) as f64 * 1e-9;
            v.slow_weight() * exp2(-slow * dt) >= stale
        });
        let target = self.max - self.max / 8;
        if self.map.len() > target {
            let excess = self.map.len() - target;
            let by_age = &mut self.by_age;
            by_age.clear();
            by_age.extend(self.map.iter().map(|(k, v)| (v.last_ns(), *k)));
            by_age.select_nth_unstable(excess - 1);
            for (_, k) in &by_age[..excess] {
                self.map.remove(k);
            }
        }
        self.evicted += (before - self.map.len()) as u64;
    }
}

/// The default-mode state.
#[derive(Debug)]
pub(crate) struct Tables {
    mi: Table<([u8; 6], Addr), Stream>,
    hosts: Table<Addr, Stream>,
    host_pairs: Table<(Addr, Addr), Pair>,
    socks: Table<Sock, Stream>,
    sock_pairs: Table<(Sock, Sock), Cov>,
}

/// What the default mode reads from a packet.
struct Keys {
    src_mac: [u8; 6],
    src: Addr,
    dst: Addr,
    src_sock: Sock,
    dst_sock: Sock,
}

fn keys(d: &Decoded<'_>) -> Keys {
    let src_mac = d.src_mac.map(|m| m.0).unwrap_or_default();
    let dst_mac = d.dst_mac.map(|m| m.0).unwrap_or_default();
    // The outermost IP layer with its transport (as Kitsune: first occurrence).
    if let Some(l) = d.ip_layers().next() {
        let (src, dst) = (Addr::ip(l.src), Addr::ip(l.dst));
        let (proto, sp, dp) = match l.transport {
            Transport::Tcp {
                src_port, dst_port, ..
            } => (1, src_port, dst_port),
            Transport::Udp {
                src_port, dst_port, ..
            } => (2, src_port, dst_port),
            Transport::Icmp { .. } => (3, 0, 0),
            _ => (5, u16::from(l.protocol), u16::from(l.protocol)),
        };
        return Keys {
            src_mac,
            src,
            dst,
            src_sock: Sock {
                addr: src,
                proto,
                port: sp,
            },
            dst_sock: Sock {
                addr: dst,
                proto,
                port: dp,
            },
        };
    }
    if let Some(a) = &d.arp {
        let src = Addr::ip(IpAddr::V4(a.sender_ip));
        let dst = Addr::ip(IpAddr::V4(a.target_ip));
        return Keys {
            src_mac,
            src,
            dst,
            // Kitsune's socket for ARP is the MAC pair.
            src_sock: Sock {
                addr: Addr::mac(src_mac),
                proto: 4,
                port: 0,
            },
            dst_sock: Sock {
                addr: Addr::mac(dst_mac),
                proto: 4,
                port: 0,
            },
        };
    }
    let (src, dst) = (Addr::mac(src_mac), Addr::mac(dst_mac));
    Keys {
        src_mac,
        src,
        dst,
        src_sock: Sock {
            addr: src,
            ..Sock::default()
        },
        dst_sock: Sock {
            addr: dst,
            ..Sock::default()
        },
    }
}

/// Writes the 7 HH/HpHp values per λ: 1D of `src`, then radius, magnitude (swapped in N-BaIoT
/// order), covariance and correlation with `dst`.
// The per-λ arrays are indexed in lockstep.
#[allow(clippy::needless_range_loop)]
fn write_2d(src: &Stream, dst: Option<&Stream>, cov: &Cov, nbaiot: bool, out: &mut [f64]) {
    // Every λ computed first, lane by lane without branches (the divisions and square roots
    // vectorise), then written out; each value is the same expression as one λ at a time.
    let (ma, va) = src.means_vars();
    let (mb, vb) = dst.map_or(([0.0; N], [0.0; N]), Stream::means_vars);
    let (mut radius, mut magnitude, mut c, mut pcc) = ([0.0; N], [0.0; N], [0.0; N], [0.0; N]);
    for i in 0..N {
        radius[i] = (va[i] * va[i] + vb[i] * vb[i]).sqrt();
        magnitude[i] = (ma[i] * ma[i] + mb[i] * mb[i]).sqrt();
        let ci = cov.sr[i] / cov.w[i];
        c[i] = if cov.w[i] > 0.0 { ci } else { 0.0 };
        let ss = va[i].sqrt() * vb[i].sqrt();
        let p = c[i] / ss;
        pcc[i] = if ss != 0.0 { p } else { 0.0 };
    }
    if nbaiot {
        std::mem::swap(&mut radius, &mut magnitude);
    }
    for (i, o) in out[..7 * N].chunks_exact_mut(7).enumerate() {
        o[0] = src.w[i];
        o[1] = ma[i];
        o[2] = va[i];
        o[3] = radius[i];
        o[4] = magnitude[i];
        o[5] = c[i];
        o[6] = pcc[i];
    }
}

impl Tables {
    pub(crate) fn new(cfg: &FeatureConfig) -> Self {
        let s = cfg.stale_weight;
        Tables {
            mi: Table::new(cfg.max_streams, s),
            hosts: Table::new(cfg.max_streams, s),
            host_pairs: Table::new(cfg.max_pairs, s),
            socks: Table::new(cfg.max_streams, s),
            sock_pairs: Table::new(cfg.max_pairs, s),
        }
    }

    /// Largest table's size (for tests).
    #[cfg(test)]
    pub(crate) fn max_len(&self) -> usize {
        [
            self.mi.map.len(),
            self.hosts.map.len(),
            self.host_pairs.map.len(),
            self.socks.map.len(),
            self.sock_pairs.map.len(),
        ]
        .into_iter()
        .max()
        .unwrap_or(0)
    }

    /// Entries evicted so far, all tables together.
    pub(crate) fn evicted(&self) -> u64 {
        self.mi.evicted
            + self.hosts.evicted
            + self.host_pairs.evicted
            + self.socks.evicted
            + self.sock_pairs.evicted
    }

    pub(crate) fn update(&mut self, now: i64, frame_len: u32, d: &Decoded<'_>, out: &mut [f64]) {
        let k = keys(d);
        let v = f64::from(frame_len);
        let nbaiot = out.len() == crate::NBAIOT_FEATURES;
        let mut o = 0;
        let mut decay = Decay::default();

        let mi = self.mi.entry(now, (k.src_mac, k.src), || Stream::new(now));
        mi.insert(now, v, &mut decay);
        mi.write_1d(&mut out[o..o + 3 * N]);
        o += 3 * N;

        // Host pair: the source's stream, the destination's (read only) and the pair.
        let src = {
            let s = self.hosts.entry(now, k.src, || Stream::new(now));
            s.insert(now, v, &mut decay);
            *s
        };
        if nbaiot {
            src.write_1d(&mut out[o..o + 3 * N]);
            o += 3 * N;
        }
        let dst = if k.dst == k.src {
            Some(src)
        } else {
            self.hosts.get(&k.dst).copied()
        };
        let (lo, hi, me) = if k.src <= k.dst {
            (k.src, k.dst, 0)
        } else {
            (k.dst, k.src, 1)
        };
        let pair = self.host_pairs.entry(now, (lo, hi), || Pair {
            cov: Cov::new(now),
            jit: [None, None],
        });
        pair.cov.update(now, me, v, &src, &mut decay);
        write_2d(
            &src,
            dst.as_ref(),
            &pair.cov,
            nbaiot,
            &mut out[o..o + 7 * N],
        );
        o += 7 * N;

        // Jitter of this direction of the host pair.
        let jit = pair.jit[me].get_or_insert_with(|| Stream::new(now));
        let gap = (now - jit.last_ns).max(0) as f64 * 1e-9;
        jit.insert(now, gap, &mut decay);
        jit.write_1d(&mut out[o..o + 3 * N]);
        o += 3 * N;

        // Socket pair.
        let src = {
            let s = self.socks.entry(now, k.src_sock, || Stream::new(now));
            s.insert(now, v, &mut decay);
            *s
        };
        let dst = if k.dst_sock == k.src_sock {
            Some(src)
        } else {
            self.socks.get(&k.dst_sock).copied()
        };
        let (lo, hi, me) = if k.src_sock <= k.dst_sock {
            (k.src_sock, k.dst_sock, 0)
        } else {
            (k.dst_sock, k.src_sock, 1)
        };
        let cov = self.sock_pairs.entry(now, (lo, hi), || Cov::new(now));
        cov.update(now, me, v, &src, &mut decay);
        write_2d(&src, dst.as_ref(), cov, nbaiot, &mut out[o..o + 7 * N]);
    }
}
