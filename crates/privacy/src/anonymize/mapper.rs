//! Address mapping for the rewriter: the policy's action, the addresses that stay as they are,
//! collision refusal, and a small memo so that a capture's few hosts cost one lookup each.

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::error::{Error, Result};
use crate::network::Network;
use crate::policy::{Action, FieldClass};
use crate::pseudonymizer::Pseudonymizer;

/// Most addresses of the special ranges remembered for collision checks, per set.
pub(super) const MAX_SPECIAL_TRACKED: usize = 1 << 20;

/// Whether an address keeps its value because of what it means, not who it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Special {
    /// An ordinary (unicast) address: mapped.
    No,
    /// One address with a meaning of its own (unspecified, limited broadcast, IPv6 loopback):
    /// a pseudonym equal to it is always refused.
    Fixed(Network),
    /// A range (multicast, IPv4 loopback): a pseudonym inside it is refused when the same
    /// address also appears unchanged in the capture.
    Range(Network),
}

/// The class of an IPv4 address (as a big-endian `u32`).
#[inline]
pub(super) fn special_v4(a: u32) -> Special {
    let net = |addr: u32, len| Network::new(IpAddr::V4(Ipv4Addr::from(addr)), len);
    let class = match a {
        0 => net(0, 32).map(Special::Fixed),
        u32::MAX => net(u32::MAX, 32).map(Special::Fixed),
        _ if a >> 28 == 0xe => net(0xe000_0000, 4).map(Special::Range),
        _ if a >> 24 == 127 => net(0x7f00_0000, 8).map(Special::Range),
        _ => None,
    };
    class.unwrap_or(Special::No)
}

/// The class of an IPv6 address (as a big-endian `u128`).
#[inline]
pub(super) fn special_v6(a: u128) -> Special {
    let net = |addr: u128, len| Network::new(IpAddr::V6(Ipv6Addr::from(addr)), len);
    let class = match a {
        0 | 1 => net(a, 128).map(Special::Fixed),
        _ if a >> 120 == 0xff => net(0xff << 120, 8).map(Special::Range),
        _ => None,
    };
    class.unwrap_or(Special::No)
}

/// A direct-mapped memo of `key -> value`; capacity 0 remembers nothing.
#[derive(Debug)]
struct Memo<K, V> {
    slots: Vec<Option<(K, V)>>,
    mask: usize,
}

impl<K: Copy + Eq, V: Copy> Memo<K, V> {
    fn new(capacity_log2: u32) -> Self {
        let len = if capacity_log2 == 0 {
            0
        } else {
            1usize << capacity_log2
        };
        Memo {
            slots: vec![None; len],
            mask: len.wrapping_sub(1),
        }
    }

    #[inline]
    fn get(&self, key: K, hash: u64) -> Option<V> {
        match self.slots.get(hash as usize & self.mask) {
            Some(Some((k, v))) if *k == key => Some(*v),
            _ => None,
        }
    }

    #[inline]
    fn put(&mut self, key: K, hash: u64, value: V) {
        if let Some(slot) = self.slots.get_mut(hash as usize & self.mask) {
            *slot = Some((key, value));
        }
    }
}

/// Fibonacci hashing: the high bits of `x * 2^64/φ`.
#[inline]
fn hash(x: u64) -> u64 {
    x.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40
}

/// Maps addresses under one pseudonymizer; see the module docs of `anonymize` for the rules.
#[derive(Debug)]
pub(super) struct Mapper<'p> {
    p: &'p mut Pseudonymizer,
    v4: Memo<u32, u32>,
    v6: Memo<u128, u128>,
    macs: Memo<u64, u64>,
    /// Special-range addresses left unchanged so far.
    kept: HashSet<IpAddr>,
    /// Pseudonyms that fell in a special range so far.
    made: HashSet<IpAddr>,
    /// Set when a set reached [`MAX_SPECIAL_TRACKED`] (later ones are not checked).
    pub(super) tracking_full: bool,
}

impl<'p> Mapper<'p> {
    /// A mapper over `p`, with memo tables of 2^`memo_log2` entries each (0: no memo).
    ///
    /// # Errors
    /// [`Error::AnonymizePolicy`] when the policy drops addresses or MACs: header fields cannot
    /// be removed.
    pub(super) fn new(p: &'p mut Pseudonymizer, memo_log2: u32) -> Result<Self> {
        for class in [FieldClass::Ip, FieldClass::Ipv6, FieldClass::Mac] {
            if p.policy().action(class) == Action::Drop {
                return Err(Error::AnonymizePolicy {
                    reason: "the policy drops addresses or MACs, which packet headers cannot \
                             lose; use pseudonymise, truncate:N or keep",
                });
            }
        }
        Ok(Mapper {
            p,
            v4: Memo::new(memo_log2),
            v6: Memo::new(memo_log2),
            macs: Memo::new(memo_log2),
            kept: HashSet::new(),
            made: HashSet::new(),
            tracking_full: false,
        })
    }

    /// The image of an IPv4 address.
    ///
    /// # Errors
    /// [`Error::Collision`] as described in the module docs.
    #[inline]
    pub(super) fn v4(&mut self, a: [u8; 4]) -> Result<[u8; 4]> {
        let key = u32::from_be_bytes(a);
        let h = hash(u64::from(key));
        if let Some(v) = self.v4.get(key, h) {
            return Ok(v.to_be_bytes());
        }
        let out = match special_v4(key) {
            Special::No => {
                let mapped = self.apply(IpAddr::V4(Ipv4Addr::from(key)))?;
                match mapped {
                    IpAddr::V4(m) => {
                        self.check_made(mapped, special_v4(u32::from(m)))?;
                        u32::from(m)
                    }
                    IpAddr::V6(_) => key,
                }
            }
            special => {
                self.check_kept(IpAddr::V4(Ipv4Addr::from(key)), special)?;
                key
            }
        };
        self.v4.put(key, h, out);
        Ok(out.to_be_bytes())
    }

    /// The image of an IPv6 address.
    ///
    /// # Errors
    /// [`Error::Collision`] as described in the module docs.
    #[inline]
    pub(super) fn v6(&mut self, a: [u8; 16]) -> Result<[u8; 16]> {
        let key = u128::from_be_bytes(a);
        let h = hash((key as u64) ^ ((key >> 64) as u64).rotate_left(17));
        if let Some(v) = self.v6.get(key, h) {
            return Ok(v.to_be_bytes());
        }
        let out = match special_v6(key) {
            Special::No => {
                let mapped = self.apply(IpAddr::V6(Ipv6Addr::from(key)))?;
                match mapped {
                    IpAddr::V6(m) => {
                        self.check_made(mapped, special_v6(u128::from(m)))?;
                        u128::from(m)
                    }
                    IpAddr::V4(_) => key,
                }
            }
            special => {
                self.check_kept(IpAddr::V6(Ipv6Addr::from(key)), special)?;
                key
            }
        };
        self.v6.put(key, h, out);
        Ok(out.to_be_bytes())
    }

    /// The image of a network prefix of `len` bits (an IPv4 address with its host bits
    /// zero): the first `len` bits of the address's image, so it stays the prefix of its
    /// hosts' pseudonyms (Crypto-PAn preserves prefixes).
    ///
    /// # Errors
    /// [`Error::Collision`].
    pub(super) fn prefix_v4(&mut self, a: [u8; 4], len: u8) -> Result<[u8; 4]> {
        let mapped = u32::from_be_bytes(self.v4(a)?);
        let mask = u32::MAX
            .checked_shl(32u32.saturating_sub(u32::from(len)))
            .unwrap_or(0);
        Ok((mapped & mask).to_be_bytes())
    }

    /// As [`Mapper::prefix_v4`] for IPv6.
    ///
    /// # Errors
    /// [`Error::Collision`].
    pub(super) fn prefix_v6(&mut self, a: [u8; 16], len: u8) -> Result<[u8; 16]> {
        let mapped = u128::from_be_bytes(self.v6(a)?);
        let mask = u128::MAX
            .checked_shl(128u32.saturating_sub(u32::from(len)))
            .unwrap_or(0);
        Ok((mapped & mask).to_be_bytes())
    }

    /// The image of a MAC address: group (multicast and broadcast) addresses stay as they are.
    #[inline]
    pub(super) fn mac(&mut self, m: [u8; 6]) -> [u8; 6] {
        if m[0] & 1 == 1 {
            return m;
        }
        let [a, b, c, d, e, f] = m;
        let key = u64::from_be_bytes([0, 0, a, b, c, d, e, f]);
        let h = hash(key);
        if let Some(v) = self.macs.get(key, h) {
            let [_, _, a, b, c, d, e, f] = v.to_be_bytes();
            return [a, b, c, d, e, f];
        }
        // `Mapper::new` refused a policy that drops MACs; all-zero would be the safe image.
        let out = self.p.apply_mac(m).unwrap_or([0; 6]);
        let [a, b, c, d, e, f] = out;
        self.macs
            .put(key, h, u64::from_be_bytes([0, 0, a, b, c, d, e, f]));
        out
    }

    /// The policy's image of an ordinary address (kept networks refuse collisions).
    fn apply(&mut self, addr: IpAddr) -> Result<IpAddr> {
        // `Mapper::new` refused a policy that drops addresses.
        Ok(self.p.apply_ip(addr)?.unwrap_or(addr))
    }

    /// Refuses a pseudonym equal to a fixed special address, or to a special-range address
    /// already left unchanged; remembers it otherwise.
    fn check_made(&mut self, pseudonym: IpAddr, class: Special) -> Result<()> {
        match class {
            Special::No => Ok(()),
            Special::Fixed(network) => Err(Error::Collision { pseudonym, network }),
            Special::Range(network) => {
                if self.kept.contains(&pseudonym) {
                    return Err(Error::Collision { pseudonym, network });
                }
                remember(&mut self.made, pseudonym, &mut self.tracking_full);
                Ok(())
            }
        }
    }

    /// Refuses a special-range address that an earlier pseudonym already took; remembers it
    /// otherwise.
    fn check_kept(&mut self, addr: IpAddr, class: Special) -> Result<()> {
        if let Special::Range(network) = class {
            if self.made.contains(&addr) {
                return Err(Error::Collision {
                    pseudonym: addr,
                    network,
                });
            }
            remember(&mut self.kept, addr, &mut self.tracking_full);
        }
        Ok(())
    }
}

/// Inserts into a bounded set; sets `full` instead once it holds [`MAX_SPECIAL_TRACKED`].
fn remember(set: &mut HashSet<IpAddr>, addr: IpAddr, full: &mut bool) {
    if set.len() < MAX_SPECIAL_TRACKED {
        set.insert(addr);
    } else {
        *full = true;
    }
}

#[cfg(test)]
mod test {
    use super::*;
    use crate::{Policy, PseudonymKey};

    fn pseudonymizer() -> Pseudonymizer {
        Pseudonymizer::new(
            &PseudonymKey::from_parts([7; 32], [8; 32]),
            Policy::default(),
        )
    }

    #[test]
    fn special_addresses_are_classified() {
        assert_eq!(special_v4(0x0a00_0001), Special::No);
        assert!(matches!(special_v4(0), Special::Fixed(_)));
        assert!(matches!(special_v4(u32::MAX), Special::Fixed(_)));
        assert!(matches!(special_v4(0xe000_00fb), Special::Range(_)));
        assert!(matches!(special_v4(0x7f00_0001), Special::Range(_)));
        assert!(matches!(special_v6(0), Special::Fixed(_)));
        assert!(matches!(special_v6(1), Special::Fixed(_)));
        assert!(matches!(
            special_v6(0xff02 << 112 | 0xfb),
            Special::Range(_)
        ));
        assert_eq!(special_v6(0xfe80 << 112 | 1), Special::No);
    }

    #[test]
    fn memo_gives_the_pseudonymizer_s_answer() {
        let mut reference = pseudonymizer();
        let mut p = pseudonymizer();
        let mut m = Mapper::new(&mut p, 4).unwrap();
        for i in 0..200u32 {
            let a = (0x0a00_0000 + i * 7919).to_be_bytes();
            let want = match reference.ip(IpAddr::V4(Ipv4Addr::from(a))).unwrap() {
                IpAddr::V4(v) => v.octets(),
                IpAddr::V6(_) => unreachable!(),
            };
            assert_eq!(m.v4(a).unwrap(), want);
            assert_eq!(m.v4(a).unwrap(), want);
        }
        assert_eq!(m.mac([0x01, 0, 0x5e, 0, 0, 1]), [0x01, 0, 0x5e, 0, 0, 1]);
        let mac = [0x02, 1, 2, 3, 4, 5];
        assert_eq!(m.mac(mac), reference.mac(mac));
    }

    #[test]
    fn pseudonym_equal_to_a_kept_multicast_is_refused() {
        let mut p = pseudonymizer();
        // A multicast or loopback address whose original is an ordinary address.
        let (target, o) = (224..=239u8)
            .chain([127])
            .map(|first| Ipv4Addr::new(first, 1, 2, 3))
            .find_map(|t| match p.ip_inverse(IpAddr::V4(t)) {
                Ok(IpAddr::V4(o)) if special_v4(u32::from(o)) == Special::No => Some((t, o)),
                _ => None,
            })
            .unwrap();
        let mut m = Mapper::new(&mut p, 0).unwrap();
        assert_eq!(m.v4(target.octets()).unwrap(), target.octets());
        assert!(matches!(
            m.v4(o.octets()),
            Err(Error::Collision { pseudonym, .. }) if pseudonym == IpAddr::V4(target)
        ));
        // And in the other order.
        let mut p = pseudonymizer();
        let mut m = Mapper::new(&mut p, 0).unwrap();
        assert_eq!(m.v4(o.octets()).unwrap(), target.octets());
        assert!(m.v4(target.octets()).is_err());
    }

    #[test]
    fn pseudonym_equal_to_broadcast_is_always_refused() {
        let mut p = pseudonymizer();
        let IpAddr::V4(o) = p.ip_inverse(IpAddr::V4(Ipv4Addr::BROADCAST)).unwrap() else {
            unreachable!()
        };
        let mut m = Mapper::new(&mut p, 0).unwrap();
        assert!(matches!(m.v4(o.octets()), Err(Error::Collision { .. })));
    }

    #[test]
    fn prefixes_keep_their_length_and_match_their_hosts() {
        let mut p = pseudonymizer();
        let mut m = Mapper::new(&mut p, 0).unwrap();
        let host = m.v4([192, 168, 7, 9]).unwrap();
        let net = m.prefix_v4([192, 168, 7, 0], 24).unwrap();
        assert_eq!((net[..3].to_vec(), net[3]), (host[..3].to_vec(), 0));
        let host6 = m
            .v6([0x20, 1, 0xd, 0xb8, 1, 2, 3, 4, 0, 0, 0, 0, 0, 0, 0, 9])
            .unwrap();
        let mut prefix = [0u8; 16];
        prefix[..8].copy_from_slice(&[0x20, 1, 0xd, 0xb8, 1, 2, 3, 4]);
        let net6 = m.prefix_v6(prefix, 64).unwrap();
        assert_eq!(&net6[..8], &host6[..8]);
        assert_eq!(&net6[8..], &[0; 8]);
    }

    #[test]
    fn a_policy_that_drops_addresses_is_refused() {
        let policy = Policy::default()
            .with_action(FieldClass::Mac, Action::Drop)
            .unwrap();
        let mut p = Pseudonymizer::new(&PseudonymKey::from_parts([1; 32], [2; 32]), policy);
        assert!(matches!(
            Mapper::new(&mut p, 0),
            Err(Error::AnonymizePolicy { .. })
        ));
    }
}
