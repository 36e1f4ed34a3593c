//! Addresses and CIDR networks ([`Prefix`]) and their longest-prefix match ([`PrefixTable`]).
//!
//! The table flattens the networks of one family into sorted, disjoint address ranges, each
//! labelled with the most specific network that covers it, so a lookup is one binary search
//! (`O(log n)`) whatever the number of networks and prefix lengths. Two CIDR networks are
//! either disjoint or nested, which is what makes the flattening exact.

use std::collections::HashMap;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

/// An address or network: the address with its host bits cleared and the prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Prefix {
    addr: IpAddr,
    len: u8,
}

/// Why a text is not an address or network.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum PrefixError {
    /// The address part does not parse.
    #[error("{0:?} is not an IP address")]
    NotAddress(String),
    /// The prefix length is not a number.
    #[error("{0:?} is not a prefix length")]
    NotLength(String),
    /// The prefix length is larger than the address.
    #[error("prefix length {len} is longer than {max}")]
    TooLong {
        /// The length written.
        len: u32,
        /// 32 or 128.
        max: u32,
    },
}

impl Prefix {
    /// The first and last address covered, as numbers (IPv4 in the low 32 bits), and whether
    /// it is IPv6.
    fn range(&self) -> (bool, u128, u128) {
        let (v6, bits, value) = match self.addr {
            IpAddr::V4(a) => (false, 32, u128::from(u32::from(a))),
            IpAddr::V6(a) => (true, 128, u128::from(a)),
        };
        let host = u32::from(bits - self.len);
        // `checked_shr` is `None` for a shift of 128: no host bits, a span of 0.
        let span = u128::MAX.checked_shr(128 - host).unwrap_or(0);
        (v6, value, value | span)
    }

    /// True for an IPv4 address or network.
    pub(crate) fn is_ipv4(&self) -> bool {
        self.addr.is_ipv4()
    }
}

impl FromStr for Prefix {
    type Err = PrefixError;

    /// `address` or `address/len`; the host bits of a network are cleared
    /// (`192.0.2.7/24` is `192.0.2.0/24`). An IPv4-mapped IPv6 address stays IPv6.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (addr, len) = match text.split_once('/') {
            Some((a, l)) => (a, Some(l)),
            None => (text, None),
        };
        let addr: IpAddr = addr
            .parse()
            .map_err(|_| PrefixError::NotAddress(addr.to_string()))?;
        let max: u32 = if addr.is_ipv4() { 32 } else { 128 };
        let len = match len {
            None => max,
            Some(l) => {
                if l.is_empty() || l.len() > 3 || !l.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(PrefixError::NotLength(l.to_string()));
                }
                l.parse::<u32>()
                    .map_err(|_| PrefixError::NotLength(l.to_string()))?
            }
        };
        if len > max {
            return Err(PrefixError::TooLong { len, max });
        }
        let len = u8::try_from(len).map_err(|_| PrefixError::TooLong { len, max })?;
        Ok(Prefix {
            addr: mask(addr, len),
            len,
        })
    }
}

/// `addr` with the bits past `len` cleared.
fn mask(addr: IpAddr, len: u8) -> IpAddr {
    match addr {
        IpAddr::V4(a) => {
            let m = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
            IpAddr::V4(Ipv4Addr::from(u32::from(a) & m))
        }
        IpAddr::V6(a) => {
            let m = u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
            IpAddr::V6(Ipv6Addr::from(u128::from(a) & m))
        }
    }
}

impl fmt::Display for Prefix {
    /// The address alone for a full-length prefix, else `address/len`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let full = match self.addr {
            IpAddr::V4(_) => 32,
            IpAddr::V6(_) => 128,
        };
        if self.len == full {
            write!(f, "{}", self.addr)
        } else {
            write!(f, "{}/{}", self.addr, self.len)
        }
    }
}

/// A run of addresses `[start, end]` whose most specific network is `index`'s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Range {
    start: u128,
    end: u128,
    index: usize,
}

/// Networks with the index of their indicator, and the ranges built from them.
#[derive(Debug, Clone, Default)]
pub(crate) struct PrefixTable {
    /// Each network once, with the index of the first indicator that named it.
    prefixes: HashMap<Prefix, usize>,
    v4: Vec<Range>,
    v6: Vec<Range>,
}

impl PrefixTable {
    /// Adds `prefix` for indicator `index`; false (and nothing changes) when it is already
    /// there. The ranges are stale until [`PrefixTable::rebuild`].
    pub(crate) fn insert(&mut self, prefix: Prefix, index: usize) -> bool {
        if self.prefixes.contains_key(&prefix) {
            return false;
        }
        self.prefixes.insert(prefix, index);
        true
    }

    /// Rebuilds the ranges from the networks.
    pub(crate) fn rebuild(&mut self) {
        let mut v4 = Vec::new();
        let mut v6 = Vec::new();
        for (p, &index) in &self.prefixes {
            let (is_v6, start, end) = p.range();
            let list = if is_v6 { &mut v6 } else { &mut v4 };
            list.push((start, end, index));
        }
        self.v4 = flatten(v4);
        self.v6 = flatten(v6);
    }

    /// The index of the indicator of the longest network that holds `addr`. An IPv4-mapped
    /// IPv6 address (`::ffff:192.0.2.1`) is looked up as the IPv4 address it carries.
    pub(crate) fn lookup(&self, addr: IpAddr) -> Option<usize> {
        let (ranges, x) = match addr.to_canonical() {
            IpAddr::V4(a) => (&self.v4, u128::from(u32::from(a))),
            IpAddr::V6(a) => (&self.v6, u128::from(a)),
        };
        let after = ranges.partition_point(|r| r.start <= x);
        let r = ranges.get(after.checked_sub(1)?)?;
        (x <= r.end).then_some(r.index)
    }
}

/// Sorted, disjoint ranges from nested-or-disjoint intervals `(start, end, index)`: every
/// address is labelled with the shortest interval (the longest prefix) that holds it.
fn flatten(mut intervals: Vec<(u128, u128, usize)>) -> Vec<Range> {
    // Outer intervals before the ones they hold: by start, then by end descending.
    intervals.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
    let mut out: Vec<Range> = Vec::with_capacity(intervals.len());
    // The open intervals, innermost last.
    let mut open: Vec<(u128, usize)> = Vec::new();
    // The first address not yet given to a range; `None` once the whole space is given.
    let mut next: Option<u128> = Some(0);
    /// Gives the addresses from `next` to `end` to `index`.
    fn emit(out: &mut Vec<Range>, next: &mut Option<u128>, end: u128, index: usize) {
        if let Some(start) = *next {
            if start <= end {
                out.push(Range { start, end, index });
                *next = end.checked_add(1);
            }
        }
    }
    for (start, end, index) in intervals {
        // Close the intervals that end before this one starts.
        while let Some(&(open_end, open_index)) = open.last() {
            if open_end >= start {
                break;
            }
            emit(&mut out, &mut next, open_end, open_index);
            open.pop();
        }
        // The enclosing interval (if any) owns the addresses up to this one's start.
        if let Some(&(_, open_index)) = open.last() {
            if let Some(before) = start.checked_sub(1) {
                emit(&mut out, &mut next, before, open_index);
            }
        }
        next = Some(start);
        open.push((end, index));
    }
    while let Some((open_end, open_index)) = open.pop() {
        emit(&mut out, &mut next, open_end, open_index);
    }
    out
}

#[cfg(test)]
mod test {
    use super::*;

    fn table(prefixes: &[&str]) -> PrefixTable {
        let mut t = PrefixTable::default();
        for (i, p) in prefixes.iter().enumerate() {
            t.insert(p.parse().unwrap(), i);
        }
        t.rebuild();
        t
    }

    fn find(t: &PrefixTable, addr: &str) -> Option<usize> {
        t.lookup(addr.parse().unwrap())
    }

    #[test]
    fn clears_host_bits_and_writes_full_prefixes_bare() {
        let p: Prefix = "192.0.2.77/24".parse().unwrap();
        assert_eq!(p.to_string(), "192.0.2.0/24");
        let p: Prefix = "192.0.2.77/32".parse().unwrap();
        assert_eq!(p.to_string(), "192.0.2.77");
        let p: Prefix = "2001:DB8:1:2::9/0".parse().unwrap();
        assert_eq!(p.to_string(), "::/0");
    }

    #[test]
    fn rejects_bad_lengths() {
        assert_eq!(
            "10.0.0.0/".parse::<Prefix>(),
            Err(PrefixError::NotLength(String::new()))
        );
        assert_eq!(
            "10.0.0.0/+8".parse::<Prefix>(),
            Err(PrefixError::NotLength("+8".into()))
        );
        assert_eq!(
            "::/129".parse::<Prefix>(),
            Err(PrefixError::TooLong { len: 129, max: 128 })
        );
    }

    #[test]
    fn longest_v4_prefix_wins() {
        let t = table(&["10.0.0.0/8", "10.1.0.0/16", "10.1.2.0/24", "10.1.2.3"]);
        assert_eq!(find(&t, "10.1.2.3"), Some(3));
        assert_eq!(find(&t, "10.1.2.4"), Some(2));
        assert_eq!(find(&t, "10.1.3.0"), Some(1));
        assert_eq!(find(&t, "10.2.0.0"), Some(0));
        assert_eq!(find(&t, "10.255.255.255"), Some(0));
        assert_eq!(find(&t, "11.0.0.0"), None);
        assert_eq!(find(&t, "9.255.255.255"), None);
        // Addresses of one family never match networks of the other.
        assert_eq!(find(&t, "::a01:203"), None);
        // An IPv4-mapped IPv6 address is its IPv4 address.
        assert_eq!(find(&t, "::ffff:10.1.2.3"), Some(3));
    }

    #[test]
    fn whole_spaces_and_their_edges() {
        let t = table(&["0.0.0.0/0", "255.255.255.255", "::/0", "ffff::/16"]);
        assert_eq!(find(&t, "255.255.255.255"), Some(1));
        assert_eq!(find(&t, "255.255.255.254"), Some(0));
        assert_eq!(find(&t, "0.0.0.0"), Some(0));
        assert_eq!(find(&t, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), Some(3));
        assert_eq!(find(&t, "fffe::"), Some(2));
        assert_eq!(find(&t, "::"), Some(2));
    }

    #[test]
    fn longest_v6_prefix_wins() {
        let t = table(&["2001:db8::/32", "2001:db8:1::/48", "2001:db8:1::1"]);
        assert_eq!(find(&t, "2001:db8:1::1"), Some(2));
        assert_eq!(find(&t, "2001:db8:1::2"), Some(1));
        assert_eq!(find(&t, "2001:db8:2::"), Some(0));
        assert_eq!(find(&t, "2001:db9::"), None);
    }

    #[test]
    fn keeps_the_first_of_equal_networks() {
        let mut t = PrefixTable::default();
        assert!(t.insert("10.0.0.0/8".parse().unwrap(), 0));
        assert!(!t.insert("10.9.9.9/8".parse().unwrap(), 1));
        t.rebuild();
        assert_eq!(find(&t, "10.9.9.9"), Some(0));
    }

    /// A small deterministic generator (xorshift), so the comparison is repeatable.
    fn xorshift(state: &mut u64) -> u64 {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        *state
    }

    #[test]
    fn agrees_with_a_linear_scan() {
        let mut s = 0x9e37_79b9_7f4a_7c15;
        for round in 0..50 {
            let mut t = PrefixTable::default();
            let mut all: Vec<(Prefix, usize)> = Vec::new();
            for i in 0..40 {
                // Few distinct high bits, so networks nest often.
                let r = xorshift(&mut s);
                let addr = Ipv4Addr::from(((r as u32) & 0x0303_0303) | 0x0a00_0000);
                let len = (xorshift(&mut s) % 33) as u8;
                let p = Prefix {
                    addr: mask(IpAddr::V4(addr), len),
                    len,
                };
                if t.insert(p, i) {
                    all.push((p, i));
                }
            }
            t.rebuild();
            for _ in 0..500 {
                let r = xorshift(&mut s) as u32;
                let x = (r & 0x0303_0303) | 0x0a00_0000;
                let want = all
                    .iter()
                    .filter(|(p, _)| {
                        let (_, a, b) = p.range();
                        (a..=b).contains(&u128::from(x))
                    })
                    .max_by_key(|(p, _)| p.len)
                    .map(|(_, i)| *i);
                let got = t.lookup(IpAddr::V4(Ipv4Addr::from(x)));
                assert_eq!(got, want, "round {round}, address {}", Ipv4Addr::from(x));
            }
        }
    }
}
