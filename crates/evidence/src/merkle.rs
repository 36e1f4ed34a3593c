//! RFC 9162 §2.1 Merkle tree hashing, inclusion proofs and consistency proofs.
//!
//! Hashes follow RFC 9162 §2.1.1: a leaf hashes as `SHA-256(0x00 ‖ data)`, an interior node as
//! `SHA-256(0x01 ‖ left ‖ right)`, and the empty tree as `SHA-256("")`. A tree of `n > 1` leaves
//! splits at `k`, the largest power of two smaller than `n`.
//!
//! Proof *generation* is generic over where the hashes live: the caller supplies a function
//! returning the hash of a *perfect* subtree, identified by its height (`level`, 0 for leaves)
//! and its position at that height (`index`). [`MemoryTree`] is the in-memory source used by
//! tests; [`crate::Log`] reads the same nodes from its tiles. Every non-perfect subtree hash a
//! proof needs is folded from perfect ones.
//!
//! Proof *verification* ([`verify_inclusion`], [`verify_consistency`]) is the algorithm of RFC
//! 9162 §2.1.3.2 and §2.1.4.2, with the extra rules of the transparency-dev test vectors: a
//! consistency proof from size 0 is rejected, equal sizes need an empty proof and equal roots,
//! and every hash must be exactly 32 bytes.

use sha2::{Digest, Sha256};

/// A SHA-256 hash: leaf, node or root.
pub type Hash = [u8; 32];

/// Length of every hash in the tree, in bytes.
pub const HASH_SIZE: usize = 32;

/// Why a proof could not be generated or did not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// The leaf index is not inside the tree (`index >= size`).
    #[error("leaf index {index} is outside a tree of size {size}")]
    IndexOutOfRange {
        /// The requested leaf index.
        index: u64,
        /// The tree size.
        size: u64,
    },
    /// A consistency proof was asked for between sizes that are not `0 < old <= new`.
    #[error("no consistency proof from size {old} to size {new}")]
    BadSizes {
        /// The older tree size.
        old: u64,
        /// The newer tree size.
        new: u64,
    },
    /// A hash in the proof (or a root or leaf hash) is not 32 bytes long.
    #[error("{what} is {len} bytes long, want 32")]
    BadHashLength {
        /// Which hash: `"proof[3]"`, "root", "leaf hash"...
        what: String,
        /// Its actual length.
        len: usize,
    },
    /// The proof has the wrong number of hashes for the sizes and index.
    #[error("proof has {actual} hashes, want {expected}")]
    WrongProofLength {
        /// The number of hashes the algorithm consumes.
        expected: usize,
        /// The number supplied.
        actual: usize,
    },
    /// Sizes are equal but the proof is not empty.
    #[error("equal tree sizes need an empty consistency proof, got {0} hashes")]
    NonEmptyProof(usize),
    /// The recomputed root does not match the expected one.
    #[error(
        "root mismatch: expected {}, computed {}",
        hex(expected),
        hex(computed)
    )]
    RootMismatch {
        /// The root the verifier was given.
        expected: Hash,
        /// The root the proof leads to.
        computed: Hash,
    },
}

/// Lower-case hexadecimal of `bytes` (for error messages and reports).
pub fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// `SHA-256(0x00 ‖ data)`: the hash of one leaf (RFC 9162 §2.1.1).
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(data);
    h.finalize().into()
}

/// `SHA-256(0x01 ‖ left ‖ right)`: the hash of an interior node (RFC 9162 §2.1.1).
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// `SHA-256("")`: the root of the empty tree (RFC 9162 §2.1.1).
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// The largest power of two strictly smaller than `n` (`n >= 2`).
fn split_point(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1u64 << (63 - (n - 1).leading_zeros())
}

/// The Merkle Tree Hash (RFC 9162 §2.1.1) of a list of leaf hashes; [`empty_root`] for none.
pub fn root_from_leaf_hashes(leaves: &[Hash]) -> Hash {
    match leaves {
        [] => empty_root(),
        [one] => *one,
        _ => {
            let k = split_point(leaves.len() as u64) as usize;
            let (l, r) = leaves.split_at(k);
            node_hash(&root_from_leaf_hashes(l), &root_from_leaf_hashes(r))
        }
    }
}

/// The hash of the subtree `[start, end)` (`end > start`), folded from perfect subtrees
/// obtained through `node(level, index)`. `start` must be a multiple of the largest power of
/// two not exceeding `end - start`, which holds for every range an RFC 9162 proof visits.
pub fn subtree_hash<E>(
    start: u64,
    end: u64,
    node: &mut impl FnMut(u32, u64) -> Result<Hash, E>,
) -> Result<Hash, E> {
    let n = end - start;
    if n.is_power_of_two() {
        let level = n.trailing_zeros();
        return node(level, start >> level);
    }
    let k = split_point(n);
    let l = subtree_hash(start, start + k, node)?;
    let r = subtree_hash(start + k, end, node)?;
    Ok(node_hash(&l, &r))
}

/// The inclusion proof (RFC 9162 §2.1.3.1 `PATH`) of leaf `index` in the tree of `size`
/// leaves, leaf-side first.
///
/// # Errors
/// [`ProofError::IndexOutOfRange`] (converted into `E`) when `index >= size`, and whatever
/// `node` returns.
pub fn inclusion_proof<E: From<ProofError>>(
    index: u64,
    size: u64,
    node: &mut impl FnMut(u32, u64) -> Result<Hash, E>,
) -> Result<Vec<Hash>, E> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size }.into());
    }
    let mut proof = Vec::new();
    path(index, 0, size, node, &mut proof)?;
    Ok(proof)
}

fn path<E>(
    m: u64,
    start: u64,
    end: u64,
    node: &mut impl FnMut(u32, u64) -> Result<Hash, E>,
    out: &mut Vec<Hash>,
) -> Result<(), E> {
    if end - start <= 1 {
        return Ok(());
    }
    let k = split_point(end - start);
    if m < start + k {
        path(m, start, start + k, node, out)?;
        out.push(subtree_hash(start + k, end, node)?);
    } else {
        path(m, start + k, end, node, out)?;
        out.push(subtree_hash(start, start + k, node)?);
    }
    Ok(())
}

/// The consistency proof (RFC 9162 §2.1.4.1 `PROOF`) from the tree of `old` leaves to the tree
/// of `new` leaves. Empty when `old == new`.
///
/// # Errors
/// [`ProofError::BadSizes`] (converted into `E`) unless `0 < old <= new`, and whatever `node`
/// returns.
pub fn consistency_proof<E: From<ProofError>>(
    old: u64,
    new: u64,
    node: &mut impl FnMut(u32, u64) -> Result<Hash, E>,
) -> Result<Vec<Hash>, E> {
    if old == 0 || old > new {
        return Err(ProofError::BadSizes { old, new }.into());
    }
    let mut proof = Vec::new();
    if old < new {
        subproof(old, 0, new, true, node, &mut proof)?;
    }
    Ok(proof)
}

fn subproof<E>(
    m: u64,
    start: u64,
    end: u64,
    b: bool,
    node: &mut impl FnMut(u32, u64) -> Result<Hash, E>,
    out: &mut Vec<Hash>,
) -> Result<(), E> {
    let n = end - start;
    if m == n {
        if !b {
            out.push(subtree_hash(start, end, node)?);
        }
        return Ok(());
    }
    let k = split_point(n);
    if m <= k {
        subproof(m, start, start + k, b, node, out)?;
        out.push(subtree_hash(start + k, end, node)?);
    } else {
        subproof(m - k, start + k, end, false, node, out)?;
        out.push(subtree_hash(start, start + k, node)?);
    }
    Ok(())
}

fn to_hash(what: impl Fn() -> String, bytes: &[u8]) -> Result<Hash, ProofError> {
    Hash::try_from(bytes).map_err(|_| ProofError::BadHashLength {
        what: what(),
        len: bytes.len(),
    })
}

/// Checks that `leaf_hash` is leaf `index` of the tree of `size` leaves whose root is `root`
/// (RFC 9162 §2.1.3.2). Takes byte slices so that wrong-length hashes are rejected, not
/// truncated.
///
/// # Errors
/// [`ProofError::IndexOutOfRange`], [`ProofError::BadHashLength`],
/// [`ProofError::WrongProofLength`] or [`ProofError::RootMismatch`].
pub fn verify_inclusion<P: AsRef<[u8]>>(
    index: u64,
    size: u64,
    leaf_hash: &[u8],
    proof: &[P],
    root: &[u8],
) -> Result<(), ProofError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let root = to_hash(|| "root".into(), root)?;
    let mut r = to_hash(|| "leaf hash".into(), leaf_hash)?;
    let expected = inclusion_proof_len(index, size);
    if proof.len() != expected {
        return Err(ProofError::WrongProofLength {
            expected,
            actual: proof.len(),
        });
    }
    let (mut f, mut s) = (index, size - 1);
    for (i, p) in proof.iter().enumerate() {
        let p = to_hash(|| format!("proof[{i}]"), p.as_ref())?;
        if s == 0 {
            return Err(ProofError::WrongProofLength {
                expected: i,
                actual: proof.len(),
            });
        }
        if f & 1 == 1 || f == s {
            r = node_hash(&p, &r);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            r = node_hash(&r, &p);
        }
        f >>= 1;
        s >>= 1;
    }
    if s != 0 {
        return Err(ProofError::WrongProofLength {
            expected,
            actual: proof.len(),
        });
    }
    if r != root {
        return Err(ProofError::RootMismatch {
            expected: root,
            computed: r,
        });
    }
    Ok(())
}

/// Number of hashes in the inclusion proof of `index` in a tree of `size` (`index < size`).
fn inclusion_proof_len(index: u64, size: u64) -> usize {
    // Inner part: levels where the paths to `index` and to `size - 1` differ; border part: the
    // set bits of `index` above that.
    let inner = (64 - (index ^ (size - 1)).leading_zeros()) as usize;
    let border = (index >> inner).count_ones() as usize;
    inner + border
}

/// Checks that the tree of `size1` leaves with root `root1` is a prefix of the tree of `size2`
/// leaves with root `root2` (RFC 9162 §2.1.4.2).
///
/// Rejects `size1 == 0` (nothing to prove; the vectors treat it as an error), requires an empty
/// proof and `root1 == root2` (compared byte for byte) when the sizes are equal, and otherwise
/// requires every hash, roots included, to be 32 bytes.
///
/// # Errors
/// [`ProofError::BadSizes`], [`ProofError::NonEmptyProof`], [`ProofError::BadHashLength`],
/// [`ProofError::WrongProofLength`] or [`ProofError::RootMismatch`].
pub fn verify_consistency<P: AsRef<[u8]>>(
    size1: u64,
    size2: u64,
    proof: &[P],
    root1: &[u8],
    root2: &[u8],
) -> Result<(), ProofError> {
    if size1 == 0 || size1 > size2 {
        return Err(ProofError::BadSizes {
            old: size1,
            new: size2,
        });
    }
    if size1 == size2 {
        if !proof.is_empty() {
            return Err(ProofError::NonEmptyProof(proof.len()));
        }
        // No hashing happens here, so (as in transparency-dev/merkle and its vector
        // "sizes-are-equal-one-and-proof-is-empty") the roots are only compared byte for byte.
        if root1 != root2 {
            return Err(ProofError::RootMismatch {
                expected: Hash::try_from(root2).unwrap_or_default(),
                computed: Hash::try_from(root1).unwrap_or_default(),
            });
        }
        return Ok(());
    }
    let root1 = to_hash(|| "root1".into(), root1)?;
    let root2 = to_hash(|| "root2".into(), root2)?;
    let mut hashes = Vec::with_capacity(proof.len() + 1);
    for (i, p) in proof.iter().enumerate() {
        hashes.push(to_hash(|| format!("proof[{i}]"), p.as_ref())?);
    }
    let expected = consistency_proof_len(size1, size2);
    if hashes.len() != expected {
        return Err(ProofError::WrongProofLength {
            expected,
            actual: hashes.len(),
        });
    }
    if size1.is_power_of_two() {
        hashes.insert(0, root1);
    }
    let mut f = size1 - 1;
    let mut s = size2 - 1;
    while f & 1 == 1 {
        f >>= 1;
        s >>= 1;
    }
    let Some((first, rest)) = hashes.split_first() else {
        return Err(ProofError::WrongProofLength {
            expected,
            actual: 0,
        });
    };
    let (mut fr, mut sr) = (*first, *first);
    for c in rest {
        if s == 0 {
            return Err(ProofError::WrongProofLength {
                expected,
                actual: proof.len(),
            });
        }
        if f & 1 == 1 || f == s {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        f >>= 1;
        s >>= 1;
    }
    if s != 0 {
        return Err(ProofError::WrongProofLength {
            expected,
            actual: proof.len(),
        });
    }
    if fr != root1 {
        return Err(ProofError::RootMismatch {
            expected: root1,
            computed: fr,
        });
    }
    if sr != root2 {
        return Err(ProofError::RootMismatch {
            expected: root2,
            computed: sr,
        });
    }
    Ok(())
}

/// Number of hashes in the consistency proof from `size1` to `size2` (`0 < size1 < size2`).
fn consistency_proof_len(size1: u64, size2: u64) -> usize {
    let level = size1.trailing_zeros();
    let (f, s) = ((size1 - 1) >> level, (size2 - 1) >> level);
    let inner = (64 - (f ^ s).leading_zeros()) as usize;
    let border = (f >> inner).count_ones() as usize;
    let first = usize::from(!size1.is_power_of_two());
    first + inner + border
}

/// The right edge of a growing tree: the roots of the perfect subtrees that make up its
/// leaves, largest first. Appending is amortised one node hash per leaf; the root is folded
/// on demand.
#[derive(Debug, Clone, Default)]
pub struct CompactRange {
    size: u64,
    /// `(level, hash)`, levels strictly decreasing.
    nodes: Vec<(u32, Hash)>,
}

impl CompactRange {
    /// An empty range.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of leaves appended.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Appends one leaf hash.
    pub fn push(&mut self, leaf: Hash) {
        self.push_node(0, leaf);
    }

    /// Appends the root of a perfect subtree of height `level`; the current size must be a
    /// multiple of `2^level`.
    pub fn push_node(&mut self, level: u32, hash: Hash) {
        self.size += 1u64 << level.min(63);
        let mut level = level;
        let mut hash = hash;
        while let Some(&(l, left)) = self.nodes.last() {
            if l != level {
                break;
            }
            self.nodes.pop();
            hash = node_hash(&left, &hash);
            level += 1;
        }
        self.nodes.push((level, hash));
    }

    /// The Merkle Tree Hash of everything appended.
    pub fn root(&self) -> Hash {
        let mut it = self.nodes.iter().rev();
        let Some(&(_, mut acc)) = it.next() else {
            return empty_root();
        };
        for (_, h) in it {
            acc = node_hash(h, &acc);
        }
        acc
    }
}

/// A whole tree in memory: every level of perfect-subtree hashes. For tests and small logs.
#[derive(Debug, Clone, Default)]
pub struct MemoryTree {
    levels: Vec<Vec<Hash>>,
}

impl MemoryTree {
    /// An empty tree.
    pub fn new() -> Self {
        Self {
            levels: vec![Vec::new()],
        }
    }

    /// Number of leaves.
    pub fn size(&self) -> u64 {
        self.levels.first().map_or(0, |l| l.len() as u64)
    }

    /// Appends a leaf (its data, hashed with [`leaf_hash`]).
    pub fn append(&mut self, data: &[u8]) {
        self.append_hash(leaf_hash(data));
    }

    /// Appends an already hashed leaf.
    pub fn append_hash(&mut self, leaf: Hash) {
        let mut h = leaf;
        let mut level = 0;
        loop {
            if self.levels.len() <= level {
                self.levels.push(Vec::new());
            }
            let Some(row) = self.levels.get_mut(level) else {
                return;
            };
            row.push(h);
            let n = row.len();
            if n % 2 == 1 {
                return;
            }
            let (Some(l), Some(r)) = (row.get(n - 2), row.get(n - 1)) else {
                return;
            };
            h = node_hash(l, r);
            level += 1;
        }
    }

    /// The hash of the perfect subtree at `level`, `index`, if it is complete.
    pub fn node(&self, level: u32, index: u64) -> Option<Hash> {
        self.levels
            .get(level as usize)?
            .get(usize::try_from(index).ok()?)
            .copied()
    }

    /// The root of the first `size` leaves.
    ///
    /// # Errors
    /// [`ProofError::BadSizes`] when `size` exceeds the tree.
    pub fn root(&self, size: u64) -> Result<Hash, ProofError> {
        if size > self.size() {
            return Err(ProofError::BadSizes {
                old: size,
                new: self.size(),
            });
        }
        if size == 0 {
            return Ok(empty_root());
        }
        subtree_hash(0, size, &mut |l, i| self.lookup(l, i))
    }

    fn lookup(&self, level: u32, index: u64) -> Result<Hash, ProofError> {
        self.node(level, index).ok_or(ProofError::IndexOutOfRange {
            index,
            size: self.size(),
        })
    }

    /// The inclusion proof of leaf `index` in the tree of the first `size` leaves.
    ///
    /// # Errors
    /// [`ProofError::IndexOutOfRange`] or [`ProofError::BadSizes`].
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>, ProofError> {
        if size > self.size() {
            return Err(ProofError::BadSizes {
                old: size,
                new: self.size(),
            });
        }
        inclusion_proof(index, size, &mut |l, i| self.lookup(l, i))
    }

    /// The consistency proof between the first `old` and the first `new` leaves.
    ///
    /// # Errors
    /// [`ProofError::BadSizes`].
    pub fn consistency_proof(&self, old: u64, new: u64) -> Result<Vec<Hash>, ProofError> {
        if new > self.size() {
            return Err(ProofError::BadSizes { old, new });
        }
        consistency_proof(old, new, &mut |l, i| self.lookup(l, i))
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn proof_lengths_match_generated_proofs() {
        let mut t = MemoryTree::new();
        for i in 0..70u32 {
            t.append(&i.to_be_bytes());
        }
        for size in 1..=70 {
            for idx in 0..size {
                let p = t.inclusion_proof(idx, size).expect("proof");
                assert_eq!(p.len(), inclusion_proof_len(idx, size), "{idx} {size}");
            }
            for old in 1..size {
                let p = t.consistency_proof(old, size).expect("proof");
                assert_eq!(p.len(), consistency_proof_len(old, size), "{old} {size}");
            }
        }
    }

    #[test]
    fn compact_range_root_matches_recursive_root() {
        let mut c = CompactRange::new();
        let mut leaves = Vec::new();
        assert_eq!(c.root(), empty_root());
        for i in 0..300u32 {
            let h = leaf_hash(&i.to_le_bytes());
            c.push(h);
            leaves.push(h);
            assert_eq!(c.root(), root_from_leaf_hashes(&leaves), "size {}", i + 1);
            assert_eq!(c.size(), u64::from(i) + 1);
        }
    }
}
