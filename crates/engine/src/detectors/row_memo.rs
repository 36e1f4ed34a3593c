//! A bounded memo keyed by a feature row, exact by construction: a row's 64-bit hash finds
//! the slot, and the stored row is compared bit for bit before its value is used, so a hash
//! collision (crafted or not) only costs a recomputation, never a wrong value. Looking up
//! allocates nothing; the row is copied only when a value is stored.
//!
//! [`KeyMemo`] remembers scores by a forest's split key instead
//! (`custos_detect::gbdt::CompactForest::split_key`): shorter than a row, found by every row
//! that reaches the same leaves, and exact too (the whole key is compared, and equal keys mean
//! equal scores).

use custos_flow::keyed_hash::KeyedMap;
use rustc_hash::FxHasher;
use std::hash::Hasher;

/// Values remembered by feature row, at most `capacity` of them (cleared when full).
pub(crate) struct RowMemo<V> {
    slots: KeyedMap<u64, (Box<[u64]>, V)>,
    capacity: usize,
}

/// The bits of `row`'s values, hashed.
fn hash_row(row: &[f64]) -> u64 {
    let mut h = FxHasher::default();
    h.write_usize(row.len());
    for v in row {
        h.write_u64(v.to_bits());
    }
    h.finish()
}

/// Whether `stored` holds exactly the bits of `row`.
fn same_row(stored: &[u64], row: &[f64]) -> bool {
    stored.len() == row.len() && stored.iter().zip(row).all(|(s, v)| *s == v.to_bits())
}

impl<V> RowMemo<V> {
    /// An empty memo holding at most `capacity` rows.
    pub(crate) fn new(capacity: usize) -> Self {
        RowMemo {
            slots: KeyedMap::default(),
            capacity,
        }
    }

    /// The value stored for exactly `row`, if any.
    pub(crate) fn get(&self, row: &[f64]) -> Option<&V> {
        self.slots
            .get(&hash_row(row))
            .filter(|(stored, _)| same_row(stored, row))
            .map(|(_, v)| v)
    }

    /// Stores `value` for `row` (replacing whatever shared its hash); clears the memo first
    /// when it is full.
    pub(crate) fn insert(&mut self, row: &[f64], value: V) {
        if self.slots.len() >= self.capacity {
            self.slots.clear();
        }
        let bits = row.iter().map(|v| v.to_bits()).collect();
        self.slots.insert(hash_row(row), (bits, value));
    }
}

/// Values remembered by split key, at most `capacity` of them (cleared when full).
pub(crate) struct KeyMemo<V> {
    slots: KeyedMap<Box<[u64]>, V>,
    capacity: usize,
}

impl<V> KeyMemo<V> {
    /// An empty memo holding at most `capacity` keys.
    pub(crate) fn new(capacity: usize) -> Self {
        KeyMemo {
            slots: KeyedMap::default(),
            capacity,
        }
    }

    /// The value stored for exactly `key`, if any.
    pub(crate) fn get(&self, key: &[u64]) -> Option<&V> {
        self.slots.get(key)
    }

    /// Stores `value` for `key`; clears the memo first when it is full.
    pub(crate) fn insert(&mut self, key: &[u64], value: V) {
        if self.slots.len() >= self.capacity {
            self.slots.clear();
        }
        self.slots.insert(key.into(), value);
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn remembers_exact_rows_only() {
        let mut m = RowMemo::new(2);
        m.insert(&[1.0, 2.0], 10);
        assert_eq!(m.get(&[1.0, 2.0]), Some(&10));
        assert_eq!(m.get(&[1.0, 2.000_000_1]), None);
        assert_eq!(m.get(&[1.0]), None);
        // 0.0 and -0.0 are different rows (different bits).
        m.insert(&[0.0], 1);
        assert_eq!(m.get(&[-0.0]), None);
        // Full: cleared before the next insert.
        m.insert(&[3.0], 30);
        assert_eq!(m.get(&[1.0, 2.0]), None);
        assert_eq!(m.get(&[3.0]), Some(&30));
    }

    #[test]
    fn a_colliding_slot_is_never_read_for_another_row() {
        let mut m = RowMemo::new(8);
        let row = [5.0, 6.0];
        m.insert(&row, 1);
        // Plant a different row under the same hash, as a collision would.
        let h = hash_row(&row);
        m.slots.insert(h, (vec![7.0f64.to_bits()].into(), 99));
        assert_eq!(m.get(&row), None);
    }

    #[test]
    fn key_memo_is_exact_and_bounded() {
        let mut m = KeyMemo::new(2);
        m.insert(&[1, 2], 0.5);
        assert_eq!(m.get(&[1, 2]), Some(&0.5));
        assert_eq!(m.get(&[1, 2, 0]), None);
        assert_eq!(m.get(&[2, 1]), None);
        m.insert(&[3], 0.25);
        m.insert(&[4], 0.75);
        assert_eq!(m.get(&[1, 2]), None);
        assert_eq!(m.get(&[4]), Some(&0.75));
    }
}
