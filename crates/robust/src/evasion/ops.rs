//! The realizable transformations, each a pure function over a phase's packets (in time
//! order; the result in time order too). Rewritten frames get their checksums recomputed
//! ([`super::frame::fix_checksums`]); frames a transform cannot rewrite correctly (other
//! link types, IPv6, fragments, frames not captured whole) are left as they are.
//!
//! - timing: [`delay`] (every gap × a factor), [`jitter`] (every gap × a seeded factor
//!   around 1), [`pace`] (packets evenly spaced over the stretched duration: a flood's rate
//!   limited and smoothed);
//! - header fields: [`source_ports`] (a seeded ephemeral port per attacker flow, the answers'
//!   destination port with it), [`ip_ids`] (seeded IPv4 identifications);
//! - grammar-respecting padding: [`tcp_nops`] (NOP options, RFC 793 §3.1 "kind 1", before
//!   the existing options), [`http_header`] (an `X-Pad` header after the request line of a
//!   request starting in one segment; the stream's later sequence numbers and the answers'
//!   acknowledgements shift by the bytes added);
//! - segmentation: [`split`] (an attacker segment with two payload bytes or more sent as two,
//!   the second with its sequence number advanced);
//! - [`chaff`]: copies of the capture's benign UDP datagrams (DNS, CoAP… of the benign
//!   devices) sent from the attacker's addresses during the phase.

use super::frame::{be16, be32, fix_checksums, insert, locate, put16, put32, TCP};
use super::phase::Pkt;
use crate::capture::Frame;
use crate::renumber::{flow_key, Renumbering};
use crate::seeded;
use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;

/// Methods whose requests [`http_header`] pads (RFC 9110 §9).
const HTTP_METHODS: [&[u8]; 6] = [
    b"GET ",
    b"POST ",
    b"HEAD ",
    b"PUT ",
    b"DELETE ",
    b"OPTIONS ",
];

/// Largest IPv4 datagram a padded or split frame may become (an Ethernet MTU).
const MTU: usize = 1500;

/// Gap between the two halves of a split segment, at most (ns).
const SPLIT_GAP_NS: i64 = 10_000;

/// A number in [0, 1) from `seed`, `tag` and `i`.
fn unit(seed: u64, tag: &str, i: u64) -> f64 {
    (seeded::hash(seed, tag, &i.to_be_bytes()) >> 11) as f64 / (1u64 << 53) as f64
}

/// Every gap between consecutive packets multiplied by `factor`.
pub fn delay(p: &[Pkt], factor: f64) -> Vec<Pkt> {
    regap(p, |_, g| g as f64 * factor)
}

/// Every gap multiplied by a seeded factor in [1 − amount/2, 1 + amount/2] (`amount` in
/// [0, 1]).
pub fn jitter(p: &[Pkt], amount: f64, seed: u64) -> Vec<Pkt> {
    let a = amount.clamp(0.0, 1.0);
    regap(p, |i, g| {
        g as f64 * (1.0 + a * (unit(seed, "jitter", i as u64) - 0.5))
    })
}

/// The packets evenly spaced over `factor` × the phase's duration, in order.
pub fn pace(p: &[Pkt], factor: f64) -> Vec<Pkt> {
    let (Some(first), Some(last)) = (p.first(), p.last()) else {
        return Vec::new();
    };
    let span = (last.frame.ts - first.frame.ts) as f64 * factor;
    let step = span / (p.len().saturating_sub(1).max(1)) as f64;
    p.iter()
        .enumerate()
        .map(|(i, x)| {
            let mut y = x.clone();
            y.frame.ts = first.frame.ts + (i as f64 * step).round() as i64;
            y
        })
        .collect()
}

/// Rebuilds the times from the first one with gap `i` (before packet `i`) set by `gap`.
fn regap(p: &[Pkt], mut gap: impl FnMut(usize, i64) -> f64) -> Vec<Pkt> {
    let mut out: Vec<Pkt> = Vec::with_capacity(p.len());
    // Offsets from the first packet: absolute times (≈ 1.8e18 ns) lose precision as f64.
    let first = p.first().map_or(0, |x| x.frame.ts);
    let mut t = 0.0;
    let mut prev = first;
    for (i, x) in p.iter().enumerate() {
        let g = x.frame.ts.saturating_sub(prev).max(0);
        prev = x.frame.ts;
        if i > 0 {
            t += gap(i, g).max(0.0);
        }
        let mut y = x.clone();
        y.frame.ts = first + t.round() as i64;
        out.push(y);
    }
    out
}

/// A seeded ephemeral source port for each attacker TCP/UDP flow; the answers' destination
/// port follows.
pub fn source_ports(p: &[Pkt], linktype: u32, seed: u64) -> Vec<Pkt> {
    let mut out = p.to_vec();
    for x in &mut out {
        let Some(l) = locate(linktype, &x.frame) else {
            continue;
        };
        let Some(key) = flow_key(linktype, &x.frame.data) else {
            continue;
        };
        let port = 1024 + (seeded::hash(seed, "sport", &key) % 64_511) as u16;
        let at = if x.from_attacker { l.l4 } else { l.l4 + 2 };
        put16(&mut x.frame.data, at, port);
        fix_checksums(&mut x.frame.data, &l);
    }
    out
}

/// A seeded IPv4 identification on every attacker packet.
pub fn ip_ids(p: &[Pkt], linktype: u32, seed: u64) -> Vec<Pkt> {
    let mut out = p.to_vec();
    for (i, x) in out.iter_mut().enumerate() {
        let Some(l) = locate(linktype, &x.frame).filter(|_| x.from_attacker) else {
            continue;
        };
        let id = seeded::hash(seed, "ipid", &(i as u64).to_be_bytes()) as u16;
        put16(&mut x.frame.data, l.l3 + 4, id);
        fix_checksums(&mut x.frame.data, &l);
    }
    out
}

/// `words` × 4 NOP option bytes before the options of every attacker TCP segment whose
/// header has room (data offset ≤ 15 words) and whose datagram stays within the MTU.
pub fn tcp_nops(p: &[Pkt], linktype: u32, words: u8) -> Vec<Pkt> {
    let mut out = p.to_vec();
    let n = usize::from(words) * 4;
    for x in &mut out {
        let Some(l) = locate(linktype, &x.frame).filter(|l| l.proto == TCP && x.from_attacker)
        else {
            continue;
        };
        let Some(&off) = x.frame.data.get(l.l4 + 12) else {
            continue;
        };
        let new_off = (off >> 4) + words;
        if new_off > 15 || l.end - l.l3 + n > MTU {
            continue;
        }
        let Some(l2) = insert(&mut x.frame, &l, l.l4 + 20, &vec![1u8; n]) else {
            continue;
        };
        if let Some(b) = x.frame.data.get_mut(l.l4 + 12) {
            *b = (new_off << 4) | (off & 0x0f);
        }
        fix_checksums(&mut x.frame.data, &l2);
    }
    out
}

/// Every attacker TCP segment with at least two payload bytes sent as two segments: the
/// first half, then the rest with its sequence number advanced, a few µs later; FIN and PSH
/// ride on the second.
pub fn split(p: &[Pkt], linktype: u32) -> Vec<Pkt> {
    let mut out = Vec::with_capacity(p.len() * 2);
    for (i, x) in p.iter().enumerate() {
        let l = locate(linktype, &x.frame).filter(|l| l.proto == TCP && x.from_attacker);
        let len = l.map_or(0, |l| l.end - l.payload);
        let (Some(l), true) = (l, len >= 2) else {
            out.push(x.clone());
            continue;
        };
        let k = len / 2;
        let next = p.get(i + 1).map_or(i64::MAX, |n| n.frame.ts);
        let gap = ((next.saturating_sub(x.frame.ts)) / 2).clamp(0, SPLIT_GAP_NS);
        let (Some(seq), Some(total), Some(id), Some(&flags)) = (
            be32(&x.frame.data, l.l4 + 4),
            be16(&x.frame.data, l.l3 + 2),
            be16(&x.frame.data, l.l3 + 4),
            x.frame.data.get(l.l4 + 13),
        ) else {
            out.push(x.clone());
            continue;
        };
        // First half: payload [0, k), without FIN and PSH.
        let mut a = x.clone();
        a.frame.data.truncate(l.payload + k);
        a.frame.orig_len = a.frame.data.len() as u32;
        put16(&mut a.frame.data, l.l3 + 2, total - (len - k) as u16);
        if let Some(b) = a.frame.data.get_mut(l.l4 + 13) {
            *b = flags & !0x09;
        }
        // Second half: header + payload [k, len), seq + k, the next identification.
        let mut b = x.clone();
        b.injected = true;
        b.frame.data.drain(l.payload..l.payload + k);
        b.frame.orig_len = b.frame.data.len() as u32;
        b.frame.ts = x.frame.ts + gap;
        put16(&mut b.frame.data, l.l3 + 2, total - k as u16);
        put16(&mut b.frame.data, l.l3 + 4, id.wrapping_add(1));
        put32(&mut b.frame.data, l.l4 + 4, seq.wrapping_add(k as u32));
        for y in [&mut a, &mut b] {
            if let Some(ly) = locate(linktype, &y.frame) {
                fix_checksums(&mut y.frame.data, &ly);
            }
        }
        out.extend([a, b]);
    }
    out.sort_by_key(|x| x.frame.ts);
    out
}

/// An `X-Pad` header of `bytes` bytes (at least 10: name, colon, CRLF) after the request line
/// of every attacker HTTP request that starts a segment and whose request line ends in it;
/// later sequence numbers of that direction and the answers' acknowledgements shift by the
/// bytes added (SACK blocks are not rewritten).
pub fn http_header(p: &[Pkt], linktype: u32, bytes: usize) -> Vec<Pkt> {
    let header = {
        let mut h = b"X-Pad: ".to_vec();
        h.resize(bytes.max(10) - 2, b'a');
        h.extend(b"\r\n");
        h
    };
    let mut out = p.to_vec();
    // Per flow: stream position of each insertion and its length.
    let mut inserted: BTreeMap<Vec<u8>, BTreeMap<u32, u32>> = BTreeMap::new();
    for x in &mut out {
        let Some(l) = locate(linktype, &x.frame).filter(|l| l.proto == TCP && x.from_attacker)
        else {
            continue;
        };
        let payload = x.frame.data.get(l.payload..l.end).unwrap_or_default();
        let is_request = HTTP_METHODS.iter().any(|m| payload.starts_with(m));
        let line = payload.windows(2).position(|w| w == b"\r\n");
        let (Some(line), true) = (line, is_request) else {
            continue;
        };
        if l.end - l.l3 + header.len() > MTU {
            continue;
        }
        let (Some(key), Some(seq)) = (
            flow_key(linktype, &x.frame.data),
            be32(&x.frame.data, l.l4 + 4),
        ) else {
            continue;
        };
        let Some(l2) = insert(&mut x.frame, &l, l.payload + line + 2, &header) else {
            continue;
        };
        fix_checksums(&mut x.frame.data, &l2);
        let pos = seq.wrapping_add(line as u32 + 2);
        inserted
            .entry(key)
            .or_default()
            .insert(pos, header.len() as u32);
    }
    for x in &mut out {
        let Some(l) = locate(linktype, &x.frame).filter(|l| l.proto == TCP) else {
            continue;
        };
        let Some(ins) = flow_key(linktype, &x.frame.data).and_then(|k| inserted.get(&k)) else {
            continue;
        };
        let after = |v: u32, pos: u32, strict: bool| {
            let d = v.wrapping_sub(pos) as i32;
            d > 0 || (!strict && d == 0)
        };
        if x.from_attacker {
            let Some(seq) = be32(&x.frame.data, l.l4 + 4) else {
                continue;
            };
            let s: u32 = ins
                .iter()
                .filter(|(&pos, _)| after(seq, pos, false))
                .map(|(_, &n)| n)
                .sum();
            put32(&mut x.frame.data, l.l4 + 4, seq.wrapping_add(s));
        } else {
            let (Some(ack), Some(&flags)) =
                (be32(&x.frame.data, l.l4 + 8), x.frame.data.get(l.l4 + 13))
            else {
                continue;
            };
            if flags & 0x10 == 0 {
                continue;
            }
            let s: u32 = ins
                .iter()
                .filter(|(&pos, _)| after(ack, pos, true))
                .map(|(_, &n)| n)
                .sum();
            put32(&mut x.frame.data, l.l4 + 8, ack.wrapping_add(s));
        }
        fix_checksums(&mut x.frame.data, &l);
    }
    out
}

/// `count` chaff packets: benign UDP datagrams of `pool` (seeded choice), sent from the
/// attacker's Ethernet and IPv4 addresses at seeded times within the phase's span.
pub fn chaff(
    p: &[Pkt],
    linktype: u32,
    pool: &[Frame],
    attacker: Option<([u8; 6], Ipv4Addr)>,
    count: usize,
    seed: u64,
) -> Vec<Pkt> {
    let mut out = p.to_vec();
    let (Some((mac, ip)), Some(first), Some(last)) = (attacker, p.first(), p.last()) else {
        return out;
    };
    if pool.is_empty() {
        return out;
    }
    let span = (last.frame.ts - first.frame.ts).max(0) as f64;
    for i in 0..count as u64 {
        let pick = (seeded::hash(seed, "chaff", &i.to_be_bytes()) % pool.len() as u64) as usize;
        let Some(src) = pool.get(pick) else {
            continue;
        };
        let mut f = src.clone();
        let e = crate::renumber::endpoints(linktype, &f.data);
        let (Some(dev_mac), Some(dev_ip)) = (e.macs[0], e.ipv4[0]) else {
            continue;
        };
        let mut r = Renumbering::default();
        r.mac.insert(dev_mac, mac);
        r.ipv4.insert(dev_ip, ip);
        r.rewrite(linktype, &mut f.data);
        if let Some(l) = locate(linktype, &f) {
            // Recomputed rather than updated: a copied datagram whose sender left its
            // checksum to the NIC (offload) would otherwise stay wrong.
            fix_checksums(&mut f.data, &l);
        }
        f.ts = first.frame.ts + (unit(seed, "chaff-time", i) * span) as i64;
        out.push(Pkt {
            frame: f,
            from_attacker: true,
            injected: true,
        });
    }
    out.sort_by_key(|x| x.frame.ts);
    out
}

/// The benign UDP datagrams of a capture that chaff may copy: labelled benign, located,
/// unicast, neither end an address of `exclude`; at most `max`, in capture order.
pub fn chaff_pool(
    frames: &[Frame],
    benign: &[bool],
    linktype: u32,
    exclude: &BTreeSet<Ipv4Addr>,
    max: usize,
) -> Vec<Frame> {
    frames
        .iter()
        .zip(benign)
        .filter(|(_, &b)| b)
        .filter_map(|(f, _)| {
            let l = locate(linktype, f).filter(|l| l.proto == super::frame::UDP)?;
            let (s, d) = super::frame::addrs(&f.data, &l)?;
            let unicast = !(d.is_broadcast() || d.is_multicast() || d.octets()[3] == 255);
            (unicast && !exclude.contains(&s) && !exclude.contains(&d)).then(|| f.clone())
        })
        .take(max)
        .collect()
}

#[cfg(test)]
#[path = "ops_tests.rs"]
mod tests;
