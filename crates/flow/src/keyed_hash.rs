//! Hash maps for keys that packets choose: addresses, ports, flow keys, MAC addresses.
//!
//! An unkeyed hash (FxHash, which these maps used before) lets anyone compute, offline, keys
//! that share a bucket: a flood of SYNs from such IPv6 sources piles every flow into one probe
//! run, and each packet then walks it (hash flooding, "HashDoS"). 30 000 crafted SYNs took
//! `custos bench` from 154 000 to 25 000 packets/s, and the cost grows with the square of
//! their number (docs/PERFORMANCE.md, "Hash flooding"). [`KeyedState`] draws each map's keys
//! from the operating system's randomness (aHash, built to resist this), so colliding keys
//! cannot be precomputed.
//!
//! The order of a keyed map changes from run to run, and output must not: no code may let a
//! keyed map's iteration order reach output. Maps evict by sorting (time, key), never by
//! iteration order (`determinism` tests of `custos-engine` run the same input twice).
//! Maps keyed by what the program itself chose (rule names, protocol names) keep FxHash.

/// The hasher state of maps keyed by packet data: random keys per map.
pub type KeyedState = ahash::RandomState;

/// A hash map keyed by packet data ([`KeyedState`]).
pub type KeyedMap<K, V> = std::collections::HashMap<K, V, KeyedState>;

/// A hash set of packet data ([`KeyedState`]).
pub type KeyedSet<K> = std::collections::HashSet<K, KeyedState>;

/// A 64-bit digest of `value` under keys drawn once per process, for maps keyed by a digest
/// rather than by the value: equal values give equal digests within a run, and values whose
/// digests collide cannot be precomputed. Never written to output (it changes between runs).
pub fn keyed_digest<T: std::hash::Hash + ?Sized>(value: &T) -> u64 {
    static STATE: std::sync::OnceLock<KeyedState> = std::sync::OnceLock::new();
    STATE.get_or_init(KeyedState::default).hash_one(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Addr, Endpoint, FlowKey};
    use std::hash::BuildHasher;

    /// Flow keys whose unkeyed (FxHash) hashes share their low `bits` bits, found by search.
    fn colliding_under_fx(n: usize, bits: u32) -> Vec<FlowKey> {
        let mask = (1u64 << bits) - 1;
        let fx = rustc_hash::FxBuildHasher;
        let dst = Endpoint {
            addr: Addr([0x20, 1, 0xd, 0xb8, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]),
            port: 80,
        };
        let mut keys = Vec::new();
        let mut x = 1u64;
        while keys.len() < n {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            let mut a = [0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
            a[8..].copy_from_slice(&x.to_be_bytes());
            let src = Endpoint {
                addr: Addr(a),
                port: 1024,
            };
            let key = FlowKey::canonical(src, dst, 6, [0, 0]).0;
            if fx.hash_one(key) & mask == 0 {
                keys.push(key);
            }
        }
        keys
    }

    #[test]
    fn keys_that_collide_unkeyed_spread_under_the_keyed_hash() {
        let keys = colliding_under_fx(64, 10);
        let fx = rustc_hash::FxBuildHasher;
        assert!(keys.iter().all(|k| fx.hash_one(k) & 0x3ff == 0));
        let state = KeyedState::default();
        let mut buckets: Vec<u64> = keys.iter().map(|k| state.hash_one(k) & 0x3ff).collect();
        buckets.sort_unstable();
        buckets.dedup();
        // 64 keys in 1 024 buckets: about 62 distinct when spread; 1 when they collide.
        assert!(buckets.len() >= 48, "{} distinct buckets", buckets.len());
    }

    #[test]
    fn each_map_has_its_own_keys() {
        let key = 42u64;
        let (a, b) = (KeyedState::default(), KeyedState::default());
        assert_ne!(a.hash_one(key), b.hash_one(key));
    }
}
