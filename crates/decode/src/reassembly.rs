//! IPv4 and IPv6 fragment reassembly with hard limits on memory, fragments and time.
//!
//! Overlap policy: *first wins* — bytes already received are kept and overlapping bytes of a
//! later fragment are ignored (as BSD and Windows stacks do for most overlaps; documented in
//! `docs/decode.md`). Fragments that arrive after their datagram completed start a new one.
//! Limits (all configurable in [`ReassemblyLimits`]): datagrams pending at once, bytes held
//! in total, fragments per datagram, and an inactivity timeout in packet time. The oldest
//! pending datagram is evicted when a limit is reached; every refusal is counted.

use crate::error::{DecodeError, ErrorKind, Layer};
use std::collections::{BTreeSet, HashMap};
use std::net::IpAddr;

/// Limits on reassembly state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReassemblyLimits {
    /// Datagrams being reassembled at once.
    pub max_datagrams: usize,
    /// Bytes held in pending datagrams, in total.
    pub max_bytes: usize,
    /// Fragments accepted per datagram.
    pub max_fragments: u16,
    /// A pending datagram with no new fragment for this long (ns of packet time) is dropped.
    pub timeout_ns: i64,
}

impl Default for ReassemblyLimits {
    fn default() -> Self {
        ReassemblyLimits {
            max_datagrams: 4096,
            max_bytes: 32 << 20,
            max_fragments: 256,
            timeout_ns: 30_000_000_000,
        }
    }
}

/// Identifies the datagram a fragment belongs to (RFC 791 §3.2; RFC 8200 §4.5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FragmentKey {
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// Identification (16 bits for IPv4, 32 for IPv6).
    pub ident: u32,
    /// Upper-layer protocol (IPv4) or the fragment header's next header (IPv6).
    pub protocol: u8,
}

#[derive(Debug)]
struct Pending {
    data: Vec<u8>,
    /// Received byte ranges, sorted and merged.
    ranges: Vec<(usize, usize)>,
    /// Total payload length, once the last fragment (MF = 0) arrived.
    total: Option<usize>,
    last_ts: i64,
    fragments: u16,
}

impl Pending {
    fn complete(&self) -> bool {
        matches!((self.total, self.ranges.as_slice()), (Some(t), [(0, end)]) if *end == t)
    }

    fn insert(&mut self, start: usize, bytes: &[u8]) {
        let end = start + bytes.len();
        if self.data.len() < end {
            self.data.resize(end, 0);
        }
        // First wins: only fill the holes between ranges already received.
        let mut cursor = start;
        let mut holes: Vec<(usize, usize)> = Vec::new();
        for &(a, b) in &self.ranges {
            if b <= cursor {
                continue;
            }
            if a >= end {
                break;
            }
            if a > cursor {
                holes.push((cursor, a));
            }
            cursor = cursor.max(b);
        }
        if cursor < end {
            holes.push((cursor, end));
        }
        for (a, b) in holes {
            if let (Some(dst), Some(src)) =
                (self.data.get_mut(a..b), bytes.get(a - start..b - start))
            {
                dst.copy_from_slice(src);
            }
        }
        self.ranges.push((start, end));
        self.ranges.sort_unstable();
        let mut merged: Vec<(usize, usize)> = Vec::with_capacity(self.ranges.len());
        for &(a, b) in &self.ranges {
            match merged.last_mut() {
                Some(last) if a <= last.1 => last.1 = last.1.max(b),
                _ => merged.push((a, b)),
            }
        }
        self.ranges = merged;
    }
}

/// Counters kept by the reassembler.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReassemblyStats {
    /// Fragments received.
    pub fragments: u64,
    /// Datagrams completed.
    pub reassembled: u64,
    /// Pending datagrams evicted by a limit.
    pub evicted: u64,
    /// Pending datagrams dropped by the timeout.
    pub timed_out: u64,
    /// Fragments refused (too many for one datagram, or past 65 535 bytes).
    pub refused: u64,
}

/// Reassembles fragments into datagrams.
#[derive(Debug, Default)]
pub struct Reassembler {
    limits: ReassemblyLimits,
    pending: HashMap<FragmentKey, Pending>,
    /// Every pending datagram by (last fragment time, key): the oldest is first, so eviction
    /// and the timeout take it in O(log n) instead of scanning every pending datagram (a flood
    /// of never-completed fragments made each scan cost tens of microseconds).
    by_age: BTreeSet<(i64, OrderKey)>,
    bytes: usize,
    stats: ReassemblyStats,
}

/// Largest reassembled payload (the IPv4 total-length field is 16 bits; IPv6 jumbograms are
/// never fragmented).
const MAX_PAYLOAD: usize = 65_535;

impl Reassembler {
    /// A reassembler with the given limits.
    pub fn new(limits: ReassemblyLimits) -> Self {
        Reassembler {
            limits,
            ..Reassembler::default()
        }
    }

    /// Counters so far.
    pub fn stats(&self) -> ReassemblyStats {
        self.stats
    }

    /// Datagrams pending.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Adds one fragment whose payload starts at byte `offset` of the datagram. When it
    /// completes the datagram, the whole payload is written to `out` and `Ok(true)` returned.
    ///
    /// # Errors
    /// A `Fragment` layer error (`FragmentLimit` or `BadFragment`) when the fragment is refused.
    pub fn add(
        &mut self,
        ts: i64,
        key: FragmentKey,
        offset: usize,
        more: bool,
        payload: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<bool, DecodeError> {
        self.stats.fragments += 1;
        self.expire(ts);
        let end = offset + payload.len();
        if end > MAX_PAYLOAD || (more && payload.len() % 8 != 0 && !payload.is_empty()) {
            self.stats.refused += 1;
            return Err(DecodeError::new(Layer::Fragment, 0, ErrorKind::BadFragment));
        }
        if !self.pending.contains_key(&key) {
            while self.pending.len() >= self.limits.max_datagrams
                || (self.bytes + payload.len() > self.limits.max_bytes && !self.pending.is_empty())
            {
                if self.by_age.is_empty() {
                    break;
                }
                self.evict_oldest();
            }
        } else if self.bytes + payload.len() > self.limits.max_bytes {
            self.stats.refused += 1;
            return Err(DecodeError::new(
                Layer::Fragment,
                0,
                ErrorKind::FragmentLimit,
            ));
        }
        let entry = self.pending.entry(key).or_insert_with(|| {
            self.by_age.insert((ts, order_key(&key)));
            Pending {
                data: Vec::new(),
                ranges: Vec::new(),
                total: None,
                last_ts: ts,
                fragments: 0,
            }
        });
        if entry.fragments >= self.limits.max_fragments {
            self.stats.refused += 1;
            return Err(DecodeError::new(
                Layer::Fragment,
                0,
                ErrorKind::FragmentLimit,
            ));
        }
        if !more {
            match entry.total {
                Some(t) if t != end => {
                    self.stats.refused += 1;
                    return Err(DecodeError::new(Layer::Fragment, 0, ErrorKind::BadFragment));
                }
                _ => entry.total = Some(end),
            }
        }
        let before = entry.data.len();
        entry.insert(offset, payload);
        entry.fragments += 1;
        if entry.last_ts != ts {
            self.by_age.remove(&(entry.last_ts, order_key(&key)));
            self.by_age.insert((ts, order_key(&key)));
            entry.last_ts = ts;
        }
        self.bytes += entry.data.len() - before;
        if entry.complete() {
            if let Some(done) = self.pending.remove(&key) {
                self.by_age.remove(&(done.last_ts, order_key(&key)));
                self.bytes -= done.data.len();
                out.clear();
                out.extend_from_slice(done.data.get(..done.total.unwrap_or(0)).unwrap_or(&[]));
                self.stats.reassembled += 1;
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Removes the pending datagram that has waited longest (ties broken by key).
    fn evict_oldest(&mut self) {
        if self.remove_oldest() {
            self.stats.evicted += 1;
        }
    }

    /// Drops every pending datagram with no fragment for longer than the timeout.
    fn expire(&mut self, now: i64) {
        let timeout = self.limits.timeout_ns;
        while let Some(&(last, _)) = self.by_age.first() {
            if now.saturating_sub(last) <= timeout {
                break;
            }
            if self.remove_oldest() {
                self.stats.timed_out += 1;
            }
        }
    }

    fn remove_oldest(&mut self) -> bool {
        let Some((_, k)) = self.by_age.pop_first() else {
            return false;
        };
        let key = FragmentKey {
            src: k.0,
            dst: k.1,
            ident: k.2,
            protocol: k.3,
        };
        match self.pending.remove(&key) {
            Some(p) => {
                self.bytes -= p.data.len();
                true
            }
            None => false,
        }
    }
}

/// A key in a total order, so that eviction ties break the same way on every run.
type OrderKey = (IpAddr, IpAddr, u32, u8);

fn order_key(k: &FragmentKey) -> OrderKey {
    (k.src, k.dst, k.ident, k.protocol)
}

#[cfg(test)]
mod test {
    use super::*;
    use std::net::Ipv4Addr;

    fn key(id: u32) -> FragmentKey {
        FragmentKey {
            src: IpAddr::V4(Ipv4Addr::new(198, 18, 0, 1)),
            dst: IpAddr::V4(Ipv4Addr::new(198, 18, 0, 2)),
            ident: id,
            protocol: 17,
        }
    }

    #[test]
    fn reassembles_out_of_order_fragments() {
        let mut r = Reassembler::new(ReassemblyLimits::default());
        let mut out = Vec::new();
        assert!(!r.add(0, key(1), 8, false, &[9, 10, 11], &mut out).unwrap());
        assert!(r
            .add(1, key(1), 0, true, &[1, 2, 3, 4, 5, 6, 7, 8], &mut out)
            .unwrap());
        assert_eq!(out, vec![1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
        assert_eq!(r.pending(), 0);
        assert_eq!(r.stats().reassembled, 1);
    }

    #[test]
    fn first_fragment_wins_on_overlap() {
        let mut r = Reassembler::new(ReassemblyLimits::default());
        let mut out = Vec::new();
        r.add(0, key(2), 0, true, &[1; 16], &mut out).unwrap();
        assert!(r.add(0, key(2), 8, false, &[2; 16], &mut out).unwrap());
        assert_eq!(&out[..16], &[1; 16]);
        assert_eq!(&out[16..], &[2; 8]);
    }

    #[test]
    fn evicts_oldest_when_datagram_limit_reached() {
        let limits = ReassemblyLimits {
            max_datagrams: 2,
            ..ReassemblyLimits::default()
        };
        let mut r = Reassembler::new(limits);
        let mut out = Vec::new();
        for id in 0..5 {
            r.add(i64::from(id as u8), key(id), 0, true, &[0; 8], &mut out)
                .unwrap();
        }
        assert_eq!(r.pending(), 2);
        assert_eq!(r.stats().evicted, 3);
    }

    #[test]
    fn a_flood_of_incomplete_datagrams_evicts_the_oldest_and_keeps_the_newest() {
        let limits = ReassemblyLimits {
            max_datagrams: 100,
            ..ReassemblyLimits::default()
        };
        let mut r = Reassembler::new(limits);
        let mut out = Vec::new();
        // 10 000 never-completed first fragments, the first 50 refreshed after the others.
        for id in 0..10_000u32 {
            r.add(i64::from(id), key(id), 0, true, &[0; 8], &mut out)
                .unwrap();
        }
        assert_eq!(r.pending(), 100);
        assert_eq!(r.stats().evicted, 9_900);
        assert_eq!(r.by_age.len(), r.pending.len(), "queue and table agree");
        // The survivors are the newest 100; a refreshed one outlives an older untouched one.
        assert!(r.pending.contains_key(&key(9_900)));
        r.add(10_000, key(9_900), 8, true, &[0; 8], &mut out)
            .unwrap();
        r.add(10_001, key(20_000), 0, true, &[0; 8], &mut out)
            .unwrap();
        assert!(r.pending.contains_key(&key(9_900)), "refreshed: kept");
        assert!(
            !r.pending.contains_key(&key(9_901)),
            "oldest untouched: evicted"
        );
        // Completing a datagram removes it from the queue too.
        assert!(r
            .add(10_002, key(9_900), 16, false, &[1], &mut out)
            .unwrap());
        assert_eq!(r.by_age.len(), r.pending.len());
        // Everything times out at once, oldest first, with nothing left behind.
        r.add(
            10_003 + limits.timeout_ns,
            key(30_000),
            0,
            true,
            &[0; 8],
            &mut out,
        )
        .unwrap();
        assert_eq!(r.pending(), 1);
        assert_eq!(r.by_age.len(), 1);
        assert_eq!(r.stats().timed_out, 99);
    }

    #[test]
    fn times_out_stale_datagrams() {
        let mut r = Reassembler::new(ReassemblyLimits::default());
        let mut out = Vec::new();
        r.add(0, key(1), 0, true, &[0; 8], &mut out).unwrap();
        r.add(31_000_000_000, key(2), 0, true, &[0; 8], &mut out)
            .unwrap();
        assert_eq!(r.pending(), 1);
        assert_eq!(r.stats().timed_out, 1);
    }

    #[test]
    fn refuses_datagram_over_64k() {
        let mut r = Reassembler::new(ReassemblyLimits::default());
        let mut out = Vec::new();
        let e = r
            .add(0, key(1), 65_528, false, &[0; 16], &mut out)
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::BadFragment);
    }

    #[test]
    fn memory_limit_is_respected() {
        let limits = ReassemblyLimits {
            max_bytes: 64,
            ..ReassemblyLimits::default()
        };
        let mut r = Reassembler::new(limits);
        let mut out = Vec::new();
        for id in 0..10 {
            let _ = r.add(0, key(id), 0, true, &[0; 32], &mut out);
            assert!(r.bytes <= 64);
        }
    }
}
