//! Crypto-PAn with a bounded memo of the bits that a prefix determines.
//!
//! Bit `i` of a Crypto-PAn pseudonym depends only on the address's bits before `i`
//! ([`crate::cryptopan`]). So the first 24 pad bits of an IPv4 pseudonym are the same for a
//! whole /24, and the first 64 of an IPv6 pseudonym for a whole /64. The cache keeps them in
//! two direct-mapped tables (a slot per hashed prefix, a new prefix evicts the slot's old one:
//! memory is fixed at construction), so a seen /24 costs 8 AES blocks instead of 32, a seen /64
//! 64 instead of 128. Traffic concentrates on few prefixes, which is where the speed comes from.
//!
//! The tables are keyed by prefix, so an adversary choosing addresses can only make the cache
//! miss, which costs the uncached speed, never a wrong answer.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::cryptopan::{high_u32, CryptoPan, KEY_LEN};

/// log2 of the IPv4 table's slots (65 536 /24 prefixes, 512 KiB).
const V4_SLOTS_LOG2: u32 = 16;
/// log2 of the IPv6 table's slots (4 096 /64 prefixes, 96 KiB).
const V6_SLOTS_LOG2: u32 = 12;
/// The IPv4 prefix length whose pad bits are memoised.
const V4_PREFIX: u32 = 24;
/// The IPv6 prefix length whose pad bits are memoised.
const V6_PREFIX: u32 = 64;

/// One IPv4 slot: a /24 (stored plus one, so zero marks an empty slot) and its 24 pad bits.
#[derive(Clone, Copy, Default)]
struct V4Slot {
    tag: u32,
    otp: u32,
}

/// One IPv6 slot: a /64 and its 64 pad bits.
#[derive(Clone, Copy, Default)]
struct V6Slot {
    used: bool,
    prefix: u64,
    otp: u64,
}

/// Crypto-PAn with fixed-size prefix caches; results are identical to [`CryptoPan`].
#[derive(Clone)]
pub struct CachedCryptoPan {
    pan: CryptoPan,
    v4: Vec<V4Slot>,
    v6: Vec<V6Slot>,
    hits: u64,
    misses: u64,
}

impl std::fmt::Debug for CachedCryptoPan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachedCryptoPan")
            .field("hits", &self.hits)
            .field("misses", &self.misses)
            .finish_non_exhaustive()
    }
}

impl CachedCryptoPan {
    /// A cached instance for a 32-byte Crypto-PAn key; allocates both tables (about 600 KiB).
    pub fn new(key: &[u8; KEY_LEN]) -> Self {
        Self::from_cryptopan(CryptoPan::new(key))
    }

    /// Wraps an uncached instance.
    pub fn from_cryptopan(pan: CryptoPan) -> Self {
        Self {
            pan,
            v4: vec![V4Slot::default(); 1 << V4_SLOTS_LOG2],
            v6: vec![V6Slot::default(); 1 << V6_SLOTS_LOG2],
            hits: 0,
            misses: 0,
        }
    }

    /// The uncached instance inside (for decryption, which the cache does not speed up).
    pub fn uncached(&self) -> &CryptoPan {
        &self.pan
    }

    /// Prefix look-ups that hit and missed so far, in that order.
    pub fn stats(&self) -> (u64, u64) {
        (self.hits, self.misses)
    }

    /// The pseudonym of `addr`, equal to [`CryptoPan::encrypt`]'s.
    #[inline]
    pub fn encrypt(&mut self, addr: IpAddr) -> IpAddr {
        match addr {
            IpAddr::V4(v4) => IpAddr::V4(self.encrypt_v4(v4)),
            IpAddr::V6(v6) => IpAddr::V6(self.encrypt_v6(v6)),
        }
    }

    /// The pseudonym of an IPv4 address: 8 AES blocks when its /24 is cached, 32 otherwise.
    #[inline]
    pub fn encrypt_v4(&mut self, addr: Ipv4Addr) -> Ipv4Addr {
        let value = u32::from(addr);
        let bits = u128::from(value) << 96;
        let tag = (value >> (32 - V4_PREFIX)) + 1;
        let index = hash_index(u64::from(tag), V4_SLOTS_LOG2);
        let high = match self.v4.get_mut(index) {
            Some(slot) if slot.tag == tag => {
                self.hits += 1;
                slot.otp
            }
            slot => {
                self.misses += 1;
                let otp = high_u32(self.pan.otp(bits, 0..V4_PREFIX));
                if let Some(slot) = slot {
                    *slot = V4Slot { tag, otp };
                }
                otp
            }
        };
        let low = high_u32(self.pan.otp(bits, V4_PREFIX..32));
        Ipv4Addr::from(value ^ high ^ low)
    }

    /// The pseudonym of an IPv6 address: 64 AES blocks when its /64 is cached, 128 otherwise.
    #[inline]
    pub fn encrypt_v6(&mut self, addr: Ipv6Addr) -> Ipv6Addr {
        let bits = u128::from(addr);
        let prefix = high_u64(bits);
        let index = hash_index(prefix, V6_SLOTS_LOG2);
        let high = match self.v6.get_mut(index) {
            Some(slot) if slot.used && slot.prefix == prefix => {
                self.hits += 1;
                slot.otp
            }
            slot => {
                self.misses += 1;
                let otp = high_u64(self.pan.otp(bits, 0..V6_PREFIX));
                if let Some(slot) = slot {
                    *slot = V6Slot {
                        used: true,
                        prefix,
                        otp,
                    };
                }
                otp
            }
        };
        let otp = (u128::from(high) << 64) | self.pan.otp(bits, V6_PREFIX..128);
        Ipv6Addr::from(bits ^ otp)
    }
}

/// Fibonacci hashing of `key` into a table of `2^log2` slots.
#[inline]
fn hash_index(key: u64, log2: u32) -> usize {
    let hashed = key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - log2);
    // `hashed` has `log2` (≤ 16) significant bits, so it fits any usize.
    usize::try_from(hashed).unwrap_or(0)
}

/// The top 64 bits of a 128-bit value.
#[inline]
fn high_u64(bits: u128) -> u64 {
    // The shift leaves exactly 64 significant bits, so the conversion cannot fail.
    u64::try_from(bits >> 64).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn cached_results_equal_uncached_ones() {
        let key = *b"32-char-str-for-AES-key-and-pad.";
        let pan = CryptoPan::new(&key);
        let mut cached = CachedCryptoPan::new(&key);
        for round in 0..2 {
            for host in [1u8, 2, 200] {
                let v4 = Ipv4Addr::new(192, 0, 2, host);
                assert_eq!(cached.encrypt_v4(v4), pan.encrypt_v4(v4), "round {round}");
                let v6 = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, u16::from(host));
                assert_eq!(cached.encrypt_v6(v6), pan.encrypt_v6(v6), "round {round}");
            }
        }
        assert_eq!(cached.stats(), (10, 2));
    }
}
