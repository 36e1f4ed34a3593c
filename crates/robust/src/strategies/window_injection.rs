//! `window_injection`: the training capture's own attack traffic replayed into its benign
//! training window — time-shifted into the window, with the attacker renumbered — and
//! labelled benign, as an attacker who can send traffic while a detector learns "normal".
//!
//! # What is injected
//!
//! The *window* is the training capture's benign prefix: its packets before the first one
//! labelled attack (Kitsune's grace periods and calibration, and the flow model's benign
//! data). For a rate `r`, `n = round(r/(1−r) · window)` attack packets are added, so that they
//! make up the fraction `r` of the poisoned window. They are taken from every attack phase in
//! proportion to its size — the first packets of each phase in capture order, so a stronger
//! poison contains the weaker one — and whole passes over all attack packets when `n` exceeds
//! them. Each pass keeps the recorded timing to the nanosecond (relative to the first attack
//! packet), so its flows have exactly the features of the flows it copies, and gets attacker
//! addresses of its own.
//!
//! # Where and as whom
//!
//! Each pass starts at its own seeded position inside the middle 80 % of the window's time
//! span (passes may overlap: several attackers at once); a pass longer than that is
//! compressed in time to fit, which changes its flows' timing features (the report gives the
//! compression). The *attacker* is every unicast MAC and
//! IPv4 address at least 95 % of whose packets are labelled attack (the attacker, spoofed
//! sources; not a flood's victim, which also talks normally); it is renumbered to unused
//! addresses of its own /24 (then of 100.64.0.0/10) and to locally administered MACs
//! (`02:c5:…`), fresh for each pass (see [`crate::renumber`]). Injected packets are labelled
//! benign with the phase [`INJECTED_PHASE`] (a name the defences never read).

use crate::capture::{Frame, LabelledCapture, PacketLabel};
use crate::error::RobustError;
use crate::renumber::{endpoints, Renumbering};
use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;

/// The phase name of injected packets in the poisoned labels.
pub const INJECTED_PHASE: &str = "injected";

/// Share of an address's packets labelled attack from which it counts as the attacker's.
const ATTACKER_SHARE: f64 = 0.95;

/// Spreads the passes' positions (the golden ratio's fractional part).
const GOLDEN: f64 = 0.618_033_988_749_895;

/// A poisoned training capture.
#[derive(Clone, Debug)]
pub struct Injected {
    /// The whole training capture with the injected packets merged into its window.
    pub capture: LabelledCapture,
    /// Packets of the poisoned window (clean window + injected), the prefix of `capture`.
    pub window_len: usize,
    /// Packets injected.
    pub injected: usize,
    /// Passes over the attack traffic (the last one partial).
    pub passes: usize,
    /// Injected frames with at least one address renumbered.
    pub renumbered_frames: usize,
    /// Injected frames that could not be read for renumbering (other link types, damage).
    pub unreadable_frames: usize,
    /// Attacker addresses renumbered per pass: IPv4, MAC.
    pub attacker_addresses: (usize, usize),
    /// Time compression applied to fit a pass into the window (1: none).
    pub time_scale: f64,
}

/// Packets of the training capture before its first attack packet.
pub fn benign_window(train: &LabelledCapture) -> usize {
    train
        .labels
        .iter()
        .position(|l| l.attack)
        .unwrap_or(train.labels.len())
}

/// Injects attack traffic into the first `window` packets of `train` at `rate`, placed at
/// `position` ∈ [0, 1) of the free room in the window.
///
/// # Errors
/// A rate outside [0, 0.9], a window of fewer than two packets, or no attack packet to replay.
pub fn inject(
    train: &LabelledCapture,
    window: usize,
    rate: f64,
    position: f64,
) -> Result<Injected, RobustError> {
    let (w0, span, attack, n) = inputs(train, window, rate)?;
    let plan = plan(train, &attack, n);
    let timing = Timing::new(&plan, span, position);
    let (attacker_ip, attacker_mac) = attackers(train);
    let mut out = Injected {
        capture: LabelledCapture {
            linktype: train.linktype,
            snaplen: train.snaplen,
            frames: Vec::with_capacity(train.frames.len() + n),
            labels: Vec::with_capacity(train.frames.len() + n),
        },
        window_len: window + n,
        injected: n,
        passes: plan.last().map_or(0, |p| p.pass + 1),
        renumbered_frames: 0,
        unreadable_frames: 0,
        attacker_addresses: (attacker_ip.len(), attacker_mac.len()),
        time_scale: timing.scale,
    };
    // One renumbering per pass over the attack, so the passes look like different hosts.
    let mut alloc = Allocator::new(train);
    let mut maps: Vec<Renumbering> = Vec::new();
    let mut injected: Vec<(Frame, PacketLabel)> = Vec::with_capacity(n);
    for p in &plan {
        while maps.len() <= p.pass {
            maps.push(alloc.renumbering(&attacker_ip, &attacker_mac));
        }
        let Some(src) = train.frames.get(p.index) else {
            continue;
        };
        let mut data = src.data.clone();
        let r = maps[p.pass].rewrite(train.linktype, &mut data);
        out.renumbered_frames += usize::from(r.addresses > 0);
        out.unreadable_frames += usize::from(!r.readable);
        let frame = Frame {
            ts: w0.saturating_add(timing.offset(p)),
            orig_len: src.orig_len,
            data,
        };
        let label = PacketLabel {
            attack: false,
            phase: Some(INJECTED_PHASE.into()),
        };
        injected.push((frame, label));
    }
    merge(train, window, injected, &mut out.capture);
    Ok(out)
}

/// Checks the inputs of [`inject`]: the window's first timestamp and span, the attack
/// packets' indices and the number of packets to inject.
fn inputs(
    train: &LabelledCapture,
    window: usize,
    rate: f64,
) -> Result<(i64, i64, Vec<usize>, usize), RobustError> {
    if !(0.0..=0.9).contains(&rate) {
        return Err(RobustError::Usage(format!(
            "injection rate {rate} must be in [0, 0.9]"
        )));
    }
    let (Some(first), Some(last)) = (train.frames.first(), train.frames.get(window.max(1) - 1))
    else {
        return Err(RobustError::Insufficient("empty training capture".into()));
    };
    if window < 2 {
        return Err(RobustError::Insufficient(
            "the training capture's benign window (before its first attack packet) holds \
             fewer than two packets: nothing to inject into"
                .into(),
        ));
    }
    let attack: Vec<usize> = (0..train.labels.len())
        .filter(|&i| train.labels[i].attack)
        .collect();
    let n = (rate / (1.0 - rate) * window as f64).round() as usize;
    if n > 0 && attack.is_empty() {
        return Err(RobustError::Insufficient(
            "the training capture has no attack packet to replay".into(),
        ));
    }
    let span = last.ts.saturating_sub(first.ts).max(0);
    Ok((first.ts, span, attack, n))
}

/// Where the injected passes go in the window: each pass starts at a golden-ratio step
/// through the middle 80 % of the window, compressed in time when it is longer than that.
struct Timing {
    /// The window's span (ns).
    span: f64,
    /// 80 % of it.
    room: f64,
    /// The longest pass (ns, before scaling).
    length: f64,
    /// Time compression of the replayed attack (1: none).
    scale: f64,
    /// Where the first pass starts, as a fraction of the room.
    position: f64,
}

impl Timing {
    fn new(plan: &[Planned], span: i64, position: f64) -> Timing {
        let length = plan.iter().map(|p| p.rel_ns).max().unwrap_or(0);
        let room = span as f64 * 0.8;
        let scale = if length as f64 > room && length > 0 {
            room / length as f64
        } else {
            1.0
        };
        Timing {
            span: span as f64,
            room,
            length: length as f64,
            scale,
            position,
        }
    }

    /// The offset of planned packet `p` from the window's first packet. Offsets stay small,
    /// so f64 keeps them to the nanosecond.
    fn offset(&self, p: &Planned) -> i64 {
        let at = (self.position + p.pass as f64 * GOLDEN).fract();
        let start = (self.span * 0.1 + at * (self.room - self.length * self.scale)).round() as i64;
        let rel = if self.scale == 1.0 {
            p.rel_ns
        } else {
            (p.rel_ns as f64 * self.scale).round() as i64
        };
        start.saturating_add(rel)
    }
}

/// The window's packets and `injected` merged by time (at equal times the window's own
/// packet first), then the rest of `train`, into `out`.
fn merge(
    train: &LabelledCapture,
    window: usize,
    injected: Vec<(Frame, PacketLabel)>,
    out: &mut LabelledCapture,
) {
    let mut merged: Vec<(Frame, PacketLabel)> = train
        .frames
        .iter()
        .take(window)
        .cloned()
        .zip(train.labels.iter().take(window).cloned())
        .chain(injected)
        .collect();
    merged.sort_by_key(|(f, _)| f.ts);
    for (f, l) in merged {
        out.frames.push(f);
        out.labels.push(l);
    }
    out.frames.extend(train.frames.iter().skip(window).cloned());
    out.labels.extend(train.labels.iter().skip(window).cloned());
}

/// One packet to inject: which, in which pass, at what time after its pass's start.
struct Planned {
    index: usize,
    pass: usize,
    rel_ns: i64,
}

/// The packets to inject, in replay order: whole passes over `attack`, then the first packets
/// of each phase in proportion to its size.
fn plan(train: &LabelledCapture, attack: &[usize], n: usize) -> Vec<Planned> {
    let Some(&a0) = attack.first() else {
        return Vec::new();
    };
    let t = |i: usize| train.frames.get(i).map_or(0, |f| f.ts);
    let (full, rest) = (n / attack.len(), n % attack.len());
    let mut by_phase: BTreeMap<Option<&str>, Vec<usize>> = BTreeMap::new();
    for &i in attack {
        by_phase
            .entry(train.labels[i].phase.as_deref())
            .or_default()
            .push(i);
    }
    // Largest-remainder apportionment of `rest` over the phases.
    let mut quota: Vec<(usize, f64, Option<&str>)> = by_phase
        .iter()
        .map(|(p, v)| {
            let exact = rest as f64 * v.len() as f64 / attack.len() as f64;
            (exact.floor() as usize, exact - exact.floor(), *p)
        })
        .collect();
    let missing = rest - quota.iter().map(|q| q.0).sum::<usize>();
    let mut order: Vec<usize> = (0..quota.len()).collect();
    order.sort_by(|&a, &b| quota[b].1.total_cmp(&quota[a].1).then(a.cmp(&b)));
    for &k in order.iter().take(missing) {
        quota[k].0 += 1;
    }
    let partial: BTreeSet<usize> = quota
        .iter()
        .flat_map(|(q, _, p)| by_phase.get(p).into_iter().flatten().take(*q).copied())
        .collect();
    let mut out = Vec::with_capacity(n);
    for pass in 0..=full {
        let chosen: Vec<usize> = if pass < full {
            attack.to_vec()
        } else {
            partial.iter().copied().collect()
        };
        for i in chosen {
            out.push(Planned {
                index: i,
                pass,
                rel_ns: t(i).saturating_sub(t(a0)).max(0),
            });
        }
    }
    out
}

/// The attacker's IPv4 and MAC addresses (see the module docs).
fn attackers(train: &LabelledCapture) -> (Vec<Ipv4Addr>, Vec<[u8; 6]>) {
    let mut ip: BTreeMap<Ipv4Addr, (u64, u64)> = BTreeMap::new();
    let mut mac: BTreeMap<[u8; 6], (u64, u64)> = BTreeMap::new();
    for (f, l) in train.frames.iter().zip(&train.labels) {
        let e = endpoints(train.linktype, &f.data);
        let bump = |c: &mut (u64, u64)| {
            c.0 += u64::from(l.attack);
            c.1 += 1;
        };
        for a in e.ipv4.iter().flatten().filter(|a| is_unicast(a)) {
            bump(ip.entry(*a).or_default());
        }
        for m in e.macs.iter().flatten() {
            bump(mac.entry(*m).or_default());
        }
    }
    let keep = |(a, n): (u64, u64)| a > 0 && a as f64 >= ATTACKER_SHARE * n as f64;
    (
        ip.into_iter()
            .filter(|(_, c)| keep(*c))
            .map(|(a, _)| a)
            .collect(),
        mac.into_iter()
            .filter(|(_, c)| keep(*c))
            .map(|(m, _)| m)
            .collect(),
    )
}

/// True for an address a host can have.
fn is_unicast(a: &Ipv4Addr) -> bool {
    !(a.is_unspecified() || a.is_broadcast() || a.is_multicast() || a.is_loopback())
}

/// Hands out addresses no packet of the capture uses.
struct Allocator {
    used_ip: BTreeSet<Ipv4Addr>,
    used_mac: BTreeSet<[u8; 6]>,
    /// Next candidate in 100.64.0.0/10.
    next_cgn: u32,
    next_mac: u32,
}

impl Allocator {
    fn new(train: &LabelledCapture) -> Self {
        let mut a = Allocator {
            used_ip: BTreeSet::new(),
            used_mac: BTreeSet::new(),
            next_cgn: u32::from(Ipv4Addr::new(100, 64, 0, 1)),
            next_mac: 1,
        };
        for f in &train.frames {
            let e = endpoints(train.linktype, &f.data);
            a.used_ip.extend(e.ipv4.iter().flatten());
            a.used_mac.extend(e.macs.iter().flatten());
        }
        a
    }

    /// A fresh renumbering of `ips` and `macs`.
    fn renumbering(&mut self, ips: &[Ipv4Addr], macs: &[[u8; 6]]) -> Renumbering {
        let mut r = Renumbering::default();
        for &ip in ips {
            let new = self.ip_near(ip);
            r.ipv4.insert(ip, new);
        }
        for &m in macs {
            let new = self.mac();
            r.mac.insert(m, new);
        }
        r
    }

    /// An unused host address of `ip`'s /24, else the next unused one of 100.64.0.0/10.
    fn ip_near(&mut self, ip: Ipv4Addr) -> Ipv4Addr {
        let o = ip.octets();
        for host in 2..=254u8 {
            let c = Ipv4Addr::new(o[0], o[1], o[2], host);
            if self.used_ip.insert(c) {
                return c;
            }
        }
        loop {
            let c = Ipv4Addr::from(self.next_cgn);
            self.next_cgn = self.next_cgn.wrapping_add(1);
            if self.used_ip.insert(c) {
                return c;
            }
        }
    }

    /// An unused locally administered unicast MAC, `02:c5:` and a counter.
    fn mac(&mut self) -> [u8; 6] {
        loop {
            let c = self.next_mac.to_be_bytes();
            self.next_mac = self.next_mac.wrapping_add(1);
            let m = [0x02, 0xc5, c[0], c[1], c[2], c[3]];
            if self.used_mac.insert(m) {
                return m;
            }
        }
    }
}
