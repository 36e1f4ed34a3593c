//! Sliding windows of packet time: distinct items ([`Distinct`]) and counts ([`Rate`]).

/// Distinct items seen within a window of packet time, each with when it was last seen; at
/// most `cap` are kept (the caller picks the cap).
#[derive(Debug, Clone)]
pub(super) struct Distinct<T> {
    items: Vec<(T, i64)>,
}

impl<T> Default for Distinct<T> {
    fn default() -> Self {
        Distinct { items: Vec::new() }
    }
}

impl<T: Copy + PartialEq> Distinct<T> {
    /// Records `item` at `ts` after forgetting items not seen within `window` ns; a new item
    /// is kept only while fewer than `cap` are. Returns how many distinct items the window
    /// holds, and whether `item` was not among them.
    pub fn touch(&mut self, item: T, ts: i64, window: i64, cap: usize) -> (usize, bool) {
        let oldest = ts.saturating_sub(window);
        self.items.retain(|(_, t)| *t >= oldest);
        let len = self.items.len();
        let new = match self.items.iter_mut().find(|(i, _)| *i == item) {
            Some((_, t)) => {
                *t = (*t).max(ts);
                false
            }
            None if len < cap => {
                self.items.push((item, ts));
                true
            }
            None => true,
        };
        (self.items.len(), new)
    }

    /// Forgets `item` (a host that answered).
    pub fn remove(&mut self, item: T) {
        self.items.retain(|(i, _)| *i != item);
    }

    /// When the least recently seen item was seen.
    #[cfg(test)]
    pub fn oldest(&self) -> Option<i64> {
        self.items.iter().map(|(_, t)| *t).min()
    }

    /// The items, in the order first seen.
    pub fn items(&self) -> impl Iterator<Item = T> + '_ {
        self.items.iter().map(|(i, _)| *i)
    }
}

/// Buckets per window of a [`Rate`].
const BUCKETS: usize = 8;

/// Two counts (hits and, for SYN floods, completed handshakes) over a sliding window of
/// packet time, in [`BUCKETS`] buckets of a window's eighth each: the sums cover between
/// seven and eight eighths of the window before now.
#[derive(Debug, Clone, Default)]
pub(super) struct Rate {
    /// Absolute number of the newest bucket (`ts / width`).
    head: i64,
    hits: [u32; BUCKETS],
    done: [u32; BUCKETS],
}

impl Rate {
    /// Adds `hits` and `done` at `ts` (`window`: ns). Time going back adds to the newest
    /// bucket.
    pub fn add(&mut self, ts: i64, window: i64, hits: u32, done: u32) {
        let width = (window / BUCKETS as i64).max(1);
        let b = ts.div_euclid(width);
        if b > self.head {
            let clear = (b - self.head).min(BUCKETS as i64);
            for k in 1..=clear {
                let i = (self.head + k).rem_euclid(BUCKETS as i64) as usize;
                if let (Some(h), Some(d)) = (self.hits.get_mut(i), self.done.get_mut(i)) {
                    *h = 0;
                    *d = 0;
                }
            }
            self.head = b;
        }
        let i = self.head.rem_euclid(BUCKETS as i64) as usize;
        if let (Some(h), Some(d)) = (self.hits.get_mut(i), self.done.get_mut(i)) {
            *h = h.saturating_add(hits);
            *d = d.saturating_add(done);
        }
    }

    /// Hits in the window, less those completed (never below zero).
    pub fn open(&self) -> u64 {
        let hits: u64 = self.hits.iter().map(|h| u64::from(*h)).sum();
        let done: u64 = self.done.iter().map(|d| u64::from(*d)).sum();
        hits.saturating_sub(done)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: i64 = 1_000_000_000;

    #[test]
    fn distinct_forgets_what_left_the_window_and_respects_the_cap() {
        let mut d = Distinct::default();
        assert_eq!(d.touch(1u16, 0, 10 * S, 3), (1, true));
        assert_eq!(d.touch(2, S, 10 * S, 3), (2, true));
        assert_eq!(d.touch(2, 2 * S, 10 * S, 3), (2, false));
        assert_eq!(d.touch(3, 3 * S, 10 * S, 3), (3, true));
        assert_eq!(d.touch(4, 4 * S, 10 * S, 3), (3, true), "capped");
        assert_eq!(
            d.touch(5, 11 * S, 10 * S, 3),
            (3, true),
            "1 left, 5 came in"
        );
        assert_eq!(d.oldest(), Some(2 * S));
        d.remove(5);
        assert_eq!(d.touch(3, 11 * S, 10 * S, 3), (2, false));
    }

    #[test]
    fn rate_slides_and_subtracts_completions() {
        let mut r = Rate::default();
        for i in 0..100 {
            r.add(i * S / 10, 8 * S, 1, 0); // 10 per second for 10 s
        }
        assert_eq!(r.open(), 80, "the last 8 s");
        r.add(10 * S, 8 * S, 0, 30);
        assert_eq!(r.open(), 70 - 30, "the window moved on by one second");
        r.add(100 * S, 8 * S, 1, 0);
        assert_eq!(r.open(), 1, "a long pause clears the window");
        r.add(99 * S, 8 * S, 1, 0);
        assert_eq!(r.open(), 2, "time going back counts in the newest bucket");
    }
}
