//! Conversations: the unordered pair of endpoints a packet or flow belongs to (IPv4
//! addresses when both are there, else Ethernet addresses), the unit both poisoning defences
//! use to spread a verdict from the packets or flows that show it to the rest of their
//! conversation.
//!
//! The premise is the network's own: traffic between two hosts in a short stretch of time is
//! of one kind. An attacker who injects traffic or flips labels flow by flow leaves most of a
//! conversation telling what it is; one who poisons whole conversations (every flow between
//! the attacker and its victim, or traffic spoofed into benign hosts' conversations) is not
//! caught this way (docs/robustness.md, "Limits").
//!
//! Kitsune's sanitised window also judges *hosts in stretches of time* ([`host_buckets`],
//! [`spread_excess`]): a host's stretch in which more packets were dropped than the host
//! usually sends in one is dropped whole.

use crate::capture::Frame;
use crate::error::RobustError;
use crate::flowdata::FlowTables;
use custos_dataset::{read_features, FLOWS_FILE};
use std::collections::HashMap;
use std::path::Path;

/// A conversation: the two endpoints, smaller first (4 bytes of each IPv4 address, or 6 of
/// each MAC address with a tag bit).
pub type Key = [u8; 12];

/// The conversation of `frame` (LINKTYPE `linktype`); `None` when it names no endpoint.
pub fn key(linktype: u32, frame: &[u8]) -> Option<Key> {
    let e = crate::renumber::endpoints(linktype, frame);
    let mut k = [0u8; 12];
    if let [Some(a), Some(b)] = e.ipv4 {
        let (a, b) = (a.octets(), b.octets());
        let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
        k[..4].copy_from_slice(&lo);
        k[4..8].copy_from_slice(&hi);
        return Some(k);
    }
    let [a, b] = e.macs;
    if a.is_none() && b.is_none() {
        return None;
    }
    let (a, b) = (a.unwrap_or([0; 6]), b.unwrap_or([0; 6]));
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    k[..6].copy_from_slice(&lo);
    k[6..].copy_from_slice(&hi);
    // IPv4 keys leave the last 4 bytes zero; a MAC pair sets its tag bit there.
    k[8] |= 0x80;
    Some(k)
}

/// Marks every item of a group more than `share` of whose items are marked (items without a
/// group are left as they are). Returns how many items were newly marked.
pub fn spread<K: std::hash::Hash + Eq + Copy>(
    groups: &[Option<K>],
    marked: &mut [bool],
    share: f64,
) -> usize {
    let mut counts: HashMap<K, (usize, usize)> = HashMap::new();
    for (g, &m) in groups.iter().zip(marked.iter()) {
        if let Some(g) = g {
            let c = counts.entry(*g).or_default();
            c.0 += 1;
            c.1 += usize::from(m);
        }
    }
    let mut added = 0;
    for (g, m) in groups.iter().zip(marked.iter_mut()) {
        let Some((n, x)) = g.and_then(|g| counts.get(&g).copied()) else {
            continue;
        };
        if !*m && x as f64 > share * n as f64 {
            *m = true;
            added += 1;
        }
    }
    added
}

/// For each end of `frame` (source, destination): the host (its IPv4 address, else its MAC
/// address, in a [`Key`]'s layout) and the `bucket_ns`-nanosecond stretch after `t0` the
/// frame falls in; `None` for an end without an address.
pub fn host_buckets(
    linktype: u32,
    frame: &Frame,
    t0: i64,
    bucket_ns: i64,
) -> [Option<HostStretch>; 2] {
    let e = crate::renumber::endpoints(linktype, &frame.data);
    let b = (frame.ts - t0) / bucket_ns.max(1);
    let mut out = [None, None];
    for (i, slot) in out.iter_mut().enumerate() {
        let mut k = [0u8; 12];
        if let Some(a) = e.ipv4[i] {
            k[..4].copy_from_slice(&a.octets());
        } else if let Some(m) = e.macs[i] {
            k[..6].copy_from_slice(&m);
            k[8] |= 0x80;
        } else {
            continue;
        }
        *slot = Some((k, b));
    }
    out
}

/// A host in one stretch of time: [`host_buckets`]' unit.
pub type HostStretch = (Key, i64);

/// Marks every item of a host's stretch in which more items are marked than `excess` times
/// the host's usual stretch: the median, over the stretches in which the host has items, of
/// its items there. An item belongs to up to two stretches (its ends); it is marked when
/// either is. Returns how many items were newly marked.
///
/// A burst added to a host's traffic — replayed attack, a flood — puts many packets into a
/// few stretches, and the slice models drop many of them even where most of the burst is
/// let through; a device whose traffic drifts has the slice models drop its packets at its
/// usual rate, never more of them than it usually sends.
pub fn spread_excess(
    groups: &[[Option<HostStretch>; 2]],
    marked: &mut [bool],
    excess: f64,
) -> usize {
    let mut counts: HashMap<HostStretch, (usize, usize)> = HashMap::new();
    for (gs, &m) in groups.iter().zip(marked.iter()) {
        for g in gs.iter().flatten() {
            let c = counts.entry(*g).or_default();
            c.0 += 1;
            c.1 += usize::from(m);
        }
    }
    let mut sizes: HashMap<Key, Vec<usize>> = HashMap::new();
    for ((host, _), (n, _)) in &counts {
        sizes.entry(*host).or_default().push(*n);
    }
    let usual: HashMap<Key, f64> = sizes
        .into_iter()
        .map(|(host, mut v)| {
            v.sort_unstable();
            (host, median_count(&v))
        })
        .collect();
    let over = |g: &HostStretch| {
        let (Some(&(_, x)), Some(&u)) = (counts.get(g), usual.get(&g.0)) else {
            return false;
        };
        x as f64 > excess * u
    };
    let mut added = 0;
    for (gs, m) in groups.iter().zip(marked.iter_mut()) {
        if !*m && gs.iter().flatten().any(over) {
            *m = true;
            added += 1;
        }
    }
    added
}

/// The median of sorted counts (mean of the middle two for an even number; 0 when empty).
fn median_count(v: &[usize]) -> f64 {
    let n = v.len();
    let at = |i: usize| v.get(i).copied().unwrap_or(0) as f64;
    match n {
        0 => 0.0,
        _ if n % 2 == 1 => at(n / 2),
        _ => (at(n / 2 - 1) + at(n / 2)) / 2.0,
    }
}

/// A flow's group: its conversation and the `bucket_s`-second stretch of the capture its
/// first packet falls in.
pub type FlowGroup = (Key, i64);

/// The group of every flow of `t` (in the order of `t.flows`), from the dataset in `dir`
/// built from `frames` (LINKTYPE `linktype`): each flow's first packet gives its endpoints
/// and time.
///
/// # Errors
/// The dataset's flow table cannot be read.
pub fn flow_groups(
    t: &FlowTables,
    dir: &Path,
    frames: &[Frame],
    linktype: u32,
    bucket_s: f64,
) -> Result<Vec<Option<FlowGroup>>, RobustError> {
    let first = read_features(&dir.join(FLOWS_FILE), &["first_packet".to_string()])?;
    let t0 = frames.first().map_or(0, |f| f.ts);
    let bucket_ns = ((bucket_s * 1e9) as i64).max(1);
    let index: HashMap<&str, usize> = first
        .uids
        .iter()
        .zip(first.columns.first().map(Vec::as_slice).unwrap_or_default())
        .map(|(u, &p)| (u.as_str(), p as usize))
        .collect();
    Ok(t.flows
        .uids
        .iter()
        .map(|u| {
            let f = frames.get(*index.get(u.as_str())?)?;
            Some((key(linktype, &f.data)?, (f.ts - t0) / bucket_ns))
        })
        .collect())
}

/// Per flow: its label is the minority of its group, which holds at least `min` flows of
/// which more than `majority` carry the other label.
pub fn contradicted(
    groups: &[Option<FlowGroup>],
    labels: &[bool],
    min: usize,
    majority: f64,
) -> Vec<bool> {
    let mut counts: HashMap<FlowGroup, (usize, usize)> = HashMap::new();
    for (g, &l) in groups.iter().zip(labels) {
        if let Some(g) = g {
            let c = counts.entry(*g).or_default();
            c.0 += 1;
            c.1 += usize::from(l);
        }
    }
    groups
        .iter()
        .zip(labels)
        .map(|(g, &l)| {
            let Some(&(n, attack)) = g.as_ref().and_then(|g| counts.get(g)) else {
                return false;
            };
            let other = if l { n - attack } else { attack };
            n >= min && other as f64 > majority * n as f64
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An Ethernet + IPv4 frame from `src` to `dst` (LINKTYPE 1).
    fn frame(src: [u8; 4], dst: [u8; 4]) -> Vec<u8> {
        let mut f = vec![0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2, 0x08, 0x00];
        f.extend([0x45, 0, 0, 20, 0, 0, 0, 0, 64, 17, 0, 0]);
        f.extend(src);
        f.extend(dst);
        f
    }

    #[test]
    fn both_directions_share_a_conversation() {
        let (a, b, c) = ([10, 0, 0, 1], [10, 0, 0, 2], [10, 0, 0, 3]);
        let ab = key(1, &frame(a, b));
        assert!(ab.is_some());
        assert_eq!(ab, key(1, &frame(b, a)));
        assert_ne!(ab, key(1, &frame(a, c)));
        assert_eq!(key(1, &[]), None);
    }

    #[test]
    fn spread_follows_the_majority_of_a_group() {
        let groups = [Some(1), Some(1), Some(1), Some(2), Some(2), Some(2), None];
        let mut marked = [true, true, false, true, false, false, true];
        assert_eq!(spread(&groups, &mut marked, 0.5), 1);
        // Group 1 (2 of 3 marked) is marked whole; group 2 (1 of 3) is left as it was.
        assert_eq!(marked, [true, true, true, true, false, false, true]);
    }

    #[test]
    fn a_host_with_more_dropped_than_it_usually_sends_is_dropped_there() {
        let (a, b, c) = ([10, 0, 0, 1], [10, 0, 0, 2], [10, 0, 0, 3]);
        let at = |src, dst, s: i64| Frame {
            ts: s * 1_000_000_000,
            orig_len: 34,
            data: frame(src, dst),
        };
        // Host c sends one packet to b in each of four 10 s stretches; in the second it also
        // bursts four packets to a, two of them dropped — more than its usual one.
        let mut frames = vec![at(c, b, 0), at(c, b, 10), at(c, b, 20), at(c, b, 30)];
        frames.extend((0..4).map(|i| at(c, a, 11 + i)));
        let mut dropped = vec![false; frames.len()];
        dropped[4] = true;
        dropped[5] = true;
        let hosts: Vec<_> = frames
            .iter()
            .map(|f| host_buckets(1, f, 0, 10_000_000_000))
            .collect();
        assert_eq!(hosts[1][0], hosts[4][0], "same host, same stretch");
        assert_ne!(hosts[0][0], hosts[1][0], "same host, another stretch");
        let mut marked = dropped.clone();
        // c's stretches hold 1, 5, 1, 1 packets (median 1), a's and b's one each.
        assert_eq!(spread_excess(&hosts, &mut marked, 1.0), 3);
        assert_eq!(marked, [false, true, false, false, true, true, true, true]);
        // Twice the usual stretch is not exceeded by two dropped packets.
        let mut marked = dropped.clone();
        assert_eq!(spread_excess(&hosts, &mut marked, 2.0), 0);
        assert_eq!(median_count(&[1, 2, 4, 9]), 3.0);
        assert_eq!(median_count(&[]), 0.0);
    }

    #[test]
    fn a_minority_label_in_a_large_group_is_contradicted() {
        let g = |k: u8, minute: i64| Some(([k; 12], minute));
        let mut groups = vec![g(1, 0); 10];
        groups.extend(vec![g(2, 0); 4]);
        groups.push(g(1, 1));
        // Group (1, 0): 8 attack, 2 benign; group (2, 0): too small; (1, 1): alone.
        let mut labels = vec![true; 8];
        labels.extend([false, false, true, false, false, false, false]);
        let c = contradicted(&groups, &labels, 5, 0.5);
        let flagged: Vec<usize> = (0..c.len()).filter(|&i| c[i]).collect();
        assert_eq!(flagged, vec![8, 9]);
        assert!(!contradicted(&groups, &labels, 11, 0.5).iter().any(|&x| x));
    }
}
