//! Seeded, platform-independent choices: every "random" decision of an experiment is a
//! SHA-256 of the seed, a purpose tag and the item, so the same seed gives the same choice
//! on every machine and in every order of evaluation.

use sha2::{Digest, Sha256};

/// 64 bits of SHA-256(`seed` ‖ `tag` ‖ `item`).
pub fn hash(seed: u64, tag: &str, item: &[u8]) -> u64 {
    let mut h = Sha256::new();
    h.update(seed.to_be_bytes());
    h.update((tag.len() as u64).to_be_bytes());
    h.update(tag.as_bytes());
    h.update(item);
    let d = h.finalize();
    let mut b = [0u8; 8];
    b.copy_from_slice(&d[..8]);
    u64::from_be_bytes(b)
}

/// A number in [0, 1) from `seed` and `tag`.
pub fn unit(seed: u64, tag: &str) -> f64 {
    (hash(seed, tag, &[]) >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choices_depend_on_seed_tag_and_item() {
        assert_eq!(hash(1, "a", b"x"), hash(1, "a", b"x"));
        assert_ne!(hash(1, "a", b"x"), hash(2, "a", b"x"));
        assert_ne!(hash(1, "a", b"x"), hash(1, "b", b"x"));
        assert_ne!(hash(1, "a", b"x"), hash(1, "a", b"y"));
        let u = unit(7, "position");
        assert!((0.0..1.0).contains(&u));
    }
}
