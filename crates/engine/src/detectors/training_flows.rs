//! The flows a flow model was trained on, as fingerprints, so that a run can say how many of
//! the flows it analyses the model has already seen (train/test leakage that the captures'
//! SHA-256 values miss: an excerpt of a training capture, or one merged with others).
//!
//! A fingerprint is the first 8 bytes of SHA-256 over the flow's Community ID and the time of
//! its first packet (nanoseconds, little-endian): the same flow read again from any file that
//! holds it has the same fingerprint, a replay shifted in time does not. The file
//! [`TRAINING_FLOWS_FILE`] of a model directory holds them sorted and unique, 8 bytes each
//! (little-endian), and is bound by the model's signature like every other file.

use custos_flow::{community_id_v1, Flow};
use sha2::{Digest, Sha256};

/// The training flows' fingerprints in a flow model directory.
pub const TRAINING_FLOWS_FILE: &str = "training-flows.bin";

/// The fingerprint of the flow with Community ID `community_id` whose first packet is at
/// `start_ns`.
pub fn flow_fingerprint(community_id: &str, start_ns: i64) -> u64 {
    let mut h = Sha256::new();
    h.update(community_id.as_bytes());
    h.update(start_ns.to_le_bytes());
    let d = h.finalize();
    u64::from_le_bytes([d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]])
}

/// [`flow_fingerprint`] of `flow`, whose first packet is at `start_ns`: its Community ID
/// computed as `Flow::community_id` computes it, without that method's per-thread cache and
/// copy (the detector asks once per ended flow).
pub fn ended_flow_fingerprint(flow: &Flow, start_ns: i64) -> u64 {
    let (sp, dp) = if matches!(flow.proto, 1 | 58 | 132) {
        flow.cid_ports
    } else {
        (flow.orig.port, flow.resp.port)
    };
    let (s, d) = (flow.orig.addr.ip(), flow.resp.addr.ip());
    flow_fingerprint(&community_id_v1(0, s, d, sp, dp, flow.proto), start_ns)
}

/// A set of flow fingerprints. They are SHA-256 bytes (uniform), so a lookup finds its bucket
/// by the top bits — about one fingerprint per bucket — and reads two neighbouring bucket
/// bounds and a fingerprint or two, not the dozen scattered entries of a binary search over
/// the whole set (cache misses on every flow end).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrainingFlows {
    /// The fingerprints, ascending and unique.
    sorted: Vec<u64>,
    /// Where each bucket's fingerprints start in `sorted` (one more entry: the end); derived
    /// from `sorted`.
    starts: Vec<u32>,
    /// Bits of a fingerprint that name its bucket.
    bits: u32,
}

impl TrainingFlows {
    /// The set of `fingerprints` (any order, repeats allowed).
    pub fn new(mut fingerprints: Vec<u64>) -> Self {
        fingerprints.sort_unstable();
        fingerprints.dedup();
        Self::indexed(fingerprints)
    }

    /// The set of `sorted` (ascending and unique), with its bucket index.
    fn indexed(sorted: Vec<u64>) -> Self {
        // At most 2^24 buckets; each bucket start fits a u32 below 2^32 fingerprints.
        let bits = sorted.len().max(1).ilog2().min(24);
        let mut starts = Vec::with_capacity((1 << bits) + 1);
        let mut at = 0;
        for b in 0..(1u64 << bits) {
            while sorted.get(at).is_some_and(|&f| Self::bucket(f, bits) < b) {
                at += 1;
            }
            starts.push(at as u32);
        }
        starts.push(sorted.len() as u32);
        TrainingFlows {
            sorted,
            starts,
            bits,
        }
    }

    /// Reads the file format; `None` when its length is not a multiple of 8 or it is not
    /// sorted and unique (not written by [`TrainingFlows::to_bytes`]), or it holds 2^32
    /// fingerprints or more.
    pub fn from_bytes(b: &[u8]) -> Option<Self> {
        if b.len() % 8 != 0 || b.len() / 8 > u32::MAX as usize {
            return None;
        }
        let sorted: Vec<u64> = b
            .chunks_exact(8)
            .map(|c| u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
            .collect();
        sorted
            .windows(2)
            .all(|w| w[0] < w[1])
            .then(|| Self::indexed(sorted))
    }

    /// The file format: the fingerprints sorted, 8 bytes each, little-endian.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.sorted.iter().flat_map(|f| f.to_le_bytes()).collect()
    }

    /// The bucket of fingerprint `f`: its top `bits` bits.
    fn bucket(f: u64, bits: u32) -> u64 {
        f.checked_shr(64 - bits).unwrap_or(0)
    }

    /// Whether the set holds `fingerprint`.
    pub fn contains(&self, fingerprint: u64) -> bool {
        let b = Self::bucket(fingerprint, self.bits) as usize;
        let (Some(&start), Some(&end)) = (self.starts.get(b), self.starts.get(b + 1)) else {
            return false;
        };
        self.sorted
            .get(start as usize..end as usize)
            .is_some_and(|fs| fs.contains(&fingerprint))
    }

    /// How many fingerprints it holds.
    pub fn len(&self) -> usize {
        self.sorted.len()
    }

    /// True when it holds none.
    pub fn is_empty(&self) -> bool {
        self.sorted.is_empty()
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn same_flow_same_fingerprint_shifted_flow_another() {
        let id = "1:LQU9qZlK+B5F3KDmev6m5PMibrg=";
        assert_eq!(flow_fingerprint(id, 5), flow_fingerprint(id, 5));
        assert_ne!(flow_fingerprint(id, 5), flow_fingerprint(id, 6));
        assert_ne!(flow_fingerprint(id, 5), flow_fingerprint("1:other", 5));
    }

    #[test]
    fn the_file_round_trips_and_bad_files_are_refused() {
        let set = TrainingFlows::new(vec![9, 3, 3, 7]);
        assert_eq!(set.len(), 3);
        let b = set.to_bytes();
        assert_eq!(b.len(), 24);
        let back = TrainingFlows::from_bytes(&b).unwrap();
        assert_eq!(back, set);
        assert!(back.contains(7) && !back.contains(8));
        assert!(TrainingFlows::from_bytes(&b[..23]).is_none());
        let mut unsorted = b.clone();
        unsorted.rotate_left(8);
        assert!(TrainingFlows::from_bytes(&unsorted).is_none());
        assert!(TrainingFlows::from_bytes(&[]).unwrap().is_empty());
    }

    #[test]
    fn the_bucket_index_finds_exactly_the_set() {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for n in [0usize, 1, 2, 3, 100, 5000] {
            let mut fs: Vec<u64> = (0..n).map(|_| next()).collect();
            fs.extend([0, u64::MAX].iter().take(n.min(2)));
            let set = TrainingFlows::new(fs.clone());
            let held = |f: u64| set.sorted.binary_search(&f).is_ok();
            for f in fs.iter().copied().chain((0..2000).map(|_| next())) {
                assert_eq!(set.contains(f), held(f), "{n} {f}");
                assert_eq!(held(f), fs.contains(&f), "{n} {f}");
            }
            for f in [0, 1, u64::MAX, u64::MAX - 1, 1 << 63] {
                assert_eq!(set.contains(f), held(f), "{n} {f}");
            }
        }
    }
}
