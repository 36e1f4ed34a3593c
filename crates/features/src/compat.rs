//! Compat mode: Kitsune-py's `FeatureExtractor` + `netStat` + `AfterImage`, number for number.
//!
//! Every quirk of the reference is kept on purpose (see `docs/kitsune-compat.md`): string keys
//! joined without separators, the variance reported as "std", covariances updated twice per
//! packet, every covariance of a stream updated on each of its packets, stale cached moments.
//! The floating-point operations follow the Python code in the same order, and `pow` is always
//! the C library's `pow` (as Python's `math.pow` and `**` are), so results match to the last bit
//! in practice. This mode allocates (key strings, new streams) and its cost per packet grows with
//! the number of peers a stream has talked to.

use crate::LAMBDAS;
use custos_decode::{Decoded, Transport};
use custos_flow::keyed_hash::KeyedMap;
use std::fmt::Write as _;
use std::hint::black_box;
use std::net::IpAddr;

/// `math.pow(x, y)` / `x ** y` in CPython: the C library's `pow`. `black_box` keeps LLVM from
/// rewriting `pow(2, x)` into `exp2(x)` or `pow(x, 2)` into `x * x`, which can differ in the
/// last bit.
#[inline]
fn py_pow(x: f64, y: f64) -> f64 {
    black_box(x).powf(black_box(y))
}

/// Python's `math.isnan`-guarded cache slot: `NaN` means "recompute".
const UNSET: f64 = f64::NAN;

/// `AfterImage.incStat`: one damped 1D stream for one λ.
#[derive(Debug)]
struct IncStat {
    /// The stream's ID (interned string), without the λ suffix.
    id: u32,
    lambda: f64,
    cf1: f64,
    cf2: f64,
    w: f64,
    is_type_diff: bool,
    last_ts: f64,
    cur_mean: f64,
    cur_var: f64,
    cur_std: f64,
    /// Indices of `IncCov`s in the database, in registration order.
    covs: Vec<u32>,
}

impl IncStat {
    fn new(lambda: f64, id: u32, init_time: f64, is_type_diff: bool) -> Self {
        IncStat {
            id,
            lambda,
            cf1: 0.0,
            cf2: 0.0,
            w: 1e-20,
            is_type_diff,
            last_ts: init_time,
            cur_mean: UNSET,
            cur_var: UNSET,
            cur_std: UNSET,
            covs: Vec::new(),
        }
    }

    /// `incStat.processDecay`.
    fn process_decay(&mut self, t: f64) {
        let diff = t - self.last_ts;
        if diff > 0.0 {
            let factor = py_pow(2.0, -self.lambda * diff);
            self.cf1 *= factor;
            self.cf2 *= factor;
            self.w *= factor;
            self.last_ts = t;
        }
    }

    /// `incStat.mean` (cached).
    fn mean(&mut self) -> f64 {
        if self.cur_mean.is_nan() {
            self.cur_mean = self.cf1 / self.w;
        }
        self.cur_mean
    }

    /// `incStat.var` (cached).
    fn var(&mut self) -> f64 {
        if self.cur_var.is_nan() {
            let m = self.mean();
            self.cur_var = (self.cf2 / self.w - py_pow(m, 2.0)).abs();
        }
        self.cur_var
    }

    /// `incStat.std` (cached).
    fn std(&mut self) -> f64 {
        if self.cur_std.is_nan() {
            self.cur_std = self.var().sqrt();
        }
        self.cur_std
    }

    /// `incStat.allstats_1D`: `[w, mean, var]` (the variance, although named "std").
    fn allstats_1d(&mut self) -> [f64; 3] {
        self.cur_mean = self.cf1 / self.w;
        self.cur_var = (self.cf2 / self.w - py_pow(self.cur_mean, 2.0)).abs();
        [self.w, self.cur_mean, self.cur_var]
    }
}

/// `AfterImage.incStat_cov`: the damped residual product of two streams.
#[derive(Debug)]
struct IncCov {
    stats: [u32; 2],
    last_res: [f64; 2],
    cf3: f64,
    w3: f64,
    last_ts: f64,
}

/// `AfterImage.incStatDB`, with string IDs interned.
#[derive(Debug, Default)]
struct StatDb {
    /// ID string → interned ID.
    ids: KeyedMap<String, u32>,
    /// Interned ID → stream index per λ (`u32::MAX` when not registered).
    by_id: Vec<[u32; LAMBDAS.len()]>,
    stats: Vec<IncStat>,
    covs: Vec<IncCov>,
}

const NONE: u32 = u32::MAX;

impl StatDb {
    fn intern(&mut self, key: &str) -> u32 {
        if let Some(&id) = self.ids.get(key) {
            return id;
        }
        let id = self.by_id.len() as u32;
        self.ids.insert(key.to_owned(), id);
        self.by_id.push([NONE; LAMBDAS.len()]);
        id
    }

    /// `incStatDB.register`: the stream of `id` at λ index `li`, created with `init_time`.
    fn register(&mut self, id: u32, li: usize, init_time: f64, is_type_diff: bool) -> usize {
        let slot = &mut self.by_id[id as usize][li];
        if *slot == NONE {
            *slot = self.stats.len() as u32;
            self.stats
                .push(IncStat::new(LAMBDAS[li], id, init_time, is_type_diff));
        }
        *slot as usize
    }

    /// `incStat.insert`, including the update of every covariance of the stream.
    fn insert(&mut self, s: usize, v: f64, t: f64) {
        let st = &mut self.stats[s];
        let v = if st.is_type_diff {
            let dif = t - st.last_ts;
            if dif > 0.0 {
                dif
            } else {
                0.0
            }
        } else {
            v
        };
        st.process_decay(t);
        st.cf1 += v;
        st.cf2 += py_pow(v, 2.0);
        st.w += 1.0;
        st.cur_mean = UNSET;
        st.cur_var = UNSET;
        st.cur_std = UNSET;
        let id = st.id;
        for k in 0..self.stats[s].covs.len() {
            let c = self.stats[s].covs[k] as usize;
            self.update_cov(c, id, v, t);
        }
    }

    /// `incStat_cov.update_cov`.
    fn update_cov(&mut self, c: usize, id: u32, v: f64, t: f64) {
        let [s0, s1] = self.covs[c].stats;
        let inc = if id == self.stats[s0 as usize].id {
            0
        } else if id == self.stats[s1 as usize].id {
            1
        } else {
            return;
        };
        let this = self.covs[c].stats[inc] as usize;
        let other = self.covs[c].stats[1 - inc] as usize;
        self.stats[other].process_decay(t);
        // incStat_cov.processDecay(t, inc): decays the residual of `inc`, not of the other.
        let lambda = self.stats[this].lambda;
        let cov = &mut self.covs[c];
        let diff = t - cov.last_ts;
        if diff > 0.0 {
            let factor = py_pow(2.0, -lambda * diff);
            cov.cf3 *= factor;
            cov.w3 *= factor;
            cov.last_ts = t;
            cov.last_res[inc] *= factor;
        }
        let mean = self.stats[this].mean();
        let cov = &mut self.covs[c];
        let res = v - mean;
        let resid = (v - mean) * cov.last_res[1 - inc];
        cov.cf3 += resid;
        cov.w3 += 1.0;
        cov.last_res[inc] = res;
    }

    /// `incStatDB.update_get_1D_Stats`.
    fn update_get_1d(&mut self, key: &str, li: usize, t: f64, v: f64, diff: bool) -> [f64; 3] {
        let id = self.intern(key);
        self.update_get_1d_id(id, li, t, v, diff)
    }

    fn update_get_1d_id(&mut self, id: u32, li: usize, t: f64, v: f64, diff: bool) -> [f64; 3] {
        let s = self.register(id, li, t, diff);
        self.insert(s, v, t);
        self.stats[s].allstats_1d()
    }

    /// `incStatDB.update_get_1D2D_Stats`: `[w, mean, var, radius, magnitude, cov, pcc]`.
    fn update_get_1d2d(&mut self, id1: u32, id2: u32, li: usize, t: f64, v: f64) -> [f64; 7] {
        let [w, m, var] = self.update_get_1d_id(id1, li, t, v, false);
        // register_cov
        let s1 = self.register(id1, li, t, false);
        let s2 = self.register(id2, li, t, false);
        let mut found = None;
        for &c in &self.stats[s1].covs {
            let [a, b] = self.covs[c as usize].stats;
            if self.stats[a as usize].id == id2 || self.stats[b as usize].id == id2 {
                found = Some(c as usize);
                break;
            }
        }
        let c = match found {
            Some(c) => c,
            None => {
                let c = self.covs.len();
                self.covs.push(IncCov {
                    stats: [s1 as u32, s2 as u32],
                    last_res: [0.0, 0.0],
                    cf3: 0.0,
                    w3: 1e-20,
                    last_ts: t,
                });
                self.stats[s1].covs.push(c as u32);
                self.stats[s2].covs.push(c as u32);
                c
            }
        };
        self.update_cov(c, id1, v, t);
        // get_stats2
        let [a, b] = self.covs[c].stats.map(|s| s as usize);
        let va = self.stats[a].var();
        let mut r = py_pow(va, 2.0);
        r += py_pow(self.stats[b].var(), 2.0);
        let radius = r.sqrt();
        let ma = self.stats[a].mean();
        let mut mg = py_pow(ma, 2.0);
        mg += py_pow(self.stats[b].mean(), 2.0);
        let magnitude = mg.sqrt();
        let cov = self.covs[c].cf3 / self.covs[c].w3;
        let ss = self.stats[a].std() * self.stats[b].std();
        let pcc = if ss != 0.0 {
            self.covs[c].cf3 / self.covs[c].w3 / ss
        } else {
            0.0
        };
        [w, m, var, radius, magnitude, cov, pcc]
    }
}

/// The strings `FE.get_next_vector` builds from tshark's fields.
#[derive(Debug, Default)]
pub(crate) struct Fields {
    pub(crate) src_mac: String,
    pub(crate) dst_mac: String,
    pub(crate) src_ip: String,
    pub(crate) dst_ip: String,
    pub(crate) src_proto: String,
    pub(crate) dst_proto: String,
}

/// Ports of the transport header embedded in an ICMP(v6) error message, as tshark dissects them.
fn embedded_ports(msg_type: u8, v6: bool, payload: &[u8]) -> Option<(u8, u16, u16)> {
    let is_error = if v6 {
        (1..=4).contains(&msg_type)
    } else {
        matches!(msg_type, 3 | 4 | 5 | 11 | 12)
    };
    if !is_error {
        return None;
    }
    let (proto, l4) = if v6 {
        let h = payload.get(..40)?;
        if h[0] >> 4 != 6 {
            return None;
        }
        (h[6], payload.get(40..)?)
    } else {
        let first = *payload.first()?;
        if first >> 4 != 4 {
            return None;
        }
        let ihl = usize::from(first & 0x0f) * 4;
        let h = payload.get(..ihl.max(20))?;
        // Only the first fragment carries the transport header.
        if u16::from_be_bytes([h[6], h[7]]) & 0x1fff != 0 {
            return None;
        }
        (h[9], payload.get(ihl..)?)
    };
    let p = l4.get(..4)?;
    Some((
        proto,
        u16::from_be_bytes([p[0], p[1]]),
        u16::from_be_bytes([p[2], p[3]]),
    ))
}

/// Fills `f` as Kitsune-py's tshark path does (`FE.get_next_vector`, tsv branch).
pub(crate) fn fields(d: &Decoded<'_>, f: &mut Fields) {
    f.src_mac.clear();
    f.dst_mac.clear();
    f.src_ip.clear();
    f.dst_ip.clear();
    f.src_proto.clear();
    f.dst_proto.clear();
    if let Some(m) = d.src_mac {
        let _ = write!(f.src_mac, "{m}");
    }
    if let Some(m) = d.dst_mac {
        let _ = write!(f.dst_mac, "{m}");
    }
    // tshark -E occurrence=f: the first ip.src / ipv6.src / tcp.* / udp.* / icmp.type of the frame.
    let mut ip4 = None;
    let mut ip6 = None;
    let mut tcp = None;
    let mut udp = None;
    let mut icmp4 = false;
    for l in d.ip_layers() {
        match (l.src, l.dst) {
            (IpAddr::V4(s), IpAddr::V4(t)) if ip4.is_none() => ip4 = Some((s, t)),
            (IpAddr::V6(s), IpAddr::V6(t)) if ip6.is_none() => ip6 = Some((s, t)),
            _ => {}
        }
        match l.transport {
            Transport::Tcp {
                src_port, dst_port, ..
            } if tcp.is_none() => tcp = Some((src_port, dst_port)),
            Transport::Udp {
                src_port, dst_port, ..
            } if udp.is_none() => udp = Some((src_port, dst_port)),
            Transport::Icmp {
                msg_type,
                v6,
                payload,
                ..
            } => {
                icmp4 |= !v6;
                if let Some((p, s, t)) = embedded_ports(msg_type, v6, payload) {
                    match p {
                        6 if tcp.is_none() => tcp = Some((s, t)),
                        17 if udp.is_none() => udp = Some((s, t)),
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    if let Some((s, t)) = ip4 {
        let _ = write!(f.src_ip, "{s}");
        let _ = write!(f.dst_ip, "{t}");
    } else if let Some((s, t)) = ip6 {
        let _ = write!(f.src_ip, "{s}");
        let _ = write!(f.dst_ip, "{t}");
    }
    // srcproto = tcp.srcport + udp.srcport (string concatenation).
    if let Some((s, t)) = tcp {
        let _ = write!(f.src_proto, "{s}");
        let _ = write!(f.dst_proto, "{t}");
    }
    if let Some((s, t)) = udp {
        let _ = write!(f.src_proto, "{s}");
        let _ = write!(f.dst_proto, "{t}");
    }
    if f.src_proto.is_empty() {
        if let Some(a) = &d.arp {
            f.src_proto.push_str("arp");
            f.dst_proto.push_str("arp");
            f.src_ip.clear();
            f.dst_ip.clear();
            let _ = write!(f.src_ip, "{}", a.sender_ip);
            let _ = write!(f.dst_ip, "{}", a.target_ip);
        } else if icmp4 {
            f.src_proto.push_str("icmp");
            f.dst_proto.push_str("icmp");
        } else if f.src_ip.is_empty() && f.dst_ip.is_empty() && f.dst_proto.is_empty() {
            f.src_ip.push_str(&f.src_mac);
            f.dst_ip.push_str(&f.dst_mac);
        }
    }
}

/// `netStat` with its four databases.
#[derive(Debug, Default)]
pub(crate) struct NetStat {
    jit: StatDb,
    mi: StatDb,
    h: StatDb,
    hp: StatDb,
    fields: Fields,
    key: String,
    key2: String,
}

/// Kitsune's `float(timestamp)` of tshark's `frame.time_epoch` (nine decimals).
pub(crate) fn epoch_seconds(ts_ns: i64) -> f64 {
    let secs = ts_ns.div_euclid(1_000_000_000);
    let nanos = ts_ns.rem_euclid(1_000_000_000);
    let mut buf = [0u8; 40];
    let mut w = Cursor {
        buf: &mut buf,
        len: 0,
    };
    if secs < 0 {
        // tshark prints negative times as -s.nnnnnnnnn of the absolute value.
        let abs = -i128::from(ts_ns);
        let _ = write!(w, "-{}.{:09}", abs / 1_000_000_000, abs % 1_000_000_000);
    } else {
        let _ = write!(w, "{secs}.{nanos:09}");
    }
    let len = w.len;
    std::str::from_utf8(&buf[..len])
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(ts_ns as f64 / 1e9)
}

/// A fixed buffer that `write!` can format into without allocating.
struct Cursor<'a> {
    buf: &'a mut [u8],
    len: usize,
}

impl std::fmt::Write for Cursor<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        let dst = self.buf.get_mut(self.len..end).ok_or(std::fmt::Error)?;
        dst.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// Writes a 1D2D block, swapping radius and magnitude into N-BaIoT's order when `nbaiot`.
fn put_2d(out: &mut [f64], mut s: [f64; 7], nbaiot: bool) {
    if nbaiot {
        s.swap(3, 4);
    }
    out.copy_from_slice(&s);
}

impl NetStat {
    /// `netStat.updateGetStats` (100 features) plus, when `out.len() == 115`, the source-host
    /// block that the reference comments out, inserted after MI as N-BaIoT orders it.
    pub(crate) fn update(&mut self, ts_ns: i64, frame_len: u32, d: &Decoded<'_>, out: &mut [f64]) {
        fields(d, &mut self.fields);
        let t = epoch_seconds(ts_ns);
        let size = f64::from(frame_len);
        let f = &self.fields;
        let n = LAMBDAS.len();
        let with_h = out.len() == 115;
        let mut o = 0;

        self.key.clear();
        self.key.push_str(&f.src_mac);
        self.key.push_str(&f.src_ip);
        let mi = self.mi.intern(&self.key);
        for li in 0..n {
            let s = self.mi.update_get_1d_id(mi, li, t, size, false);
            out[o..o + 3].copy_from_slice(&s);
            o += 3;
        }
        let src = self.h.intern(&f.src_ip);
        let dst = self.h.intern(&f.dst_ip);
        if with_h {
            // The commented-out block: HT_H.update_get_1D_Stats(srcIP, ...), same table as HH.
            for li in 0..n {
                let s = self.h.update_get_1d_id(src, li, t, size, false);
                out[o..o + 3].copy_from_slice(&s);
                o += 3;
            }
        }
        for li in 0..n {
            let s = self.h.update_get_1d2d(src, dst, li, t, size);
            put_2d(&mut out[o..o + 7], s, with_h);
            o += 7;
        }
        self.key.clear();
        self.key.push_str(&f.src_ip);
        self.key.push_str(&f.dst_ip);
        for li in 0..n {
            let s = self.jit.update_get_1d(&self.key, li, t, 0.0, true);
            out[o..o + 3].copy_from_slice(&s);
            o += 3;
        }
        self.key.clear();
        self.key2.clear();
        if f.src_proto == "arp" {
            self.key.push_str(&f.src_mac);
            self.key2.push_str(&f.dst_mac);
        } else {
            self.key.push_str(&f.src_ip);
            self.key.push_str(&f.src_proto);
            self.key2.push_str(&f.dst_ip);
            self.key2.push_str(&f.dst_proto);
        }
        let a = self.hp.intern(&self.key);
        let b = self.hp.intern(&self.key2);
        for li in 0..n {
            let s = self.hp.update_get_1d2d(a, b, li, t, size);
            put_2d(&mut out[o..o + 7], s, with_h);
            o += 7;
        }
    }
}
