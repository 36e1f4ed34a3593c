//! The writer's journal (`.state/tree`) and the log's key binding (`.state/key`).
//!
//! `.state/tree` records the last integrated size and root. A writer that holds the signing
//! key adds `mac <hex>`: HMAC-SHA256 over the origin, size and root, keyed by a key derived
//! from the Ed25519 seed (`HMAC-SHA256(seed, "custos-evidence journal key v1")`). Only a
//! record whose MAC verifies lets [`super::Log`] recover leaves beyond the published
//! checkpoint; anything else beyond it is discarded, so data planted by someone who can
//! write to the directory but does not hold the key is never signed.
//!
//! `.state/key` holds the verifier key (`name+id+key`) of the key the log is bound to:
//! written at creation by a signed writer, or by the first signed publication.

use sha2::{Digest, Sha256};

use crate::merkle::{hex, Hash};
use crate::note::Signer;

const BLOCK: usize = 64;

/// HMAC-SHA256 (RFC 2104) of `msg` under `key`.
pub(crate) fn hmac_sha256(key: &[u8], msg: &[u8]) -> Hash {
    let mut k = [0u8; BLOCK];
    if key.len() > BLOCK {
        let d = Sha256::digest(key);
        k.iter_mut().zip(d.iter()).for_each(|(a, b)| *a = *b);
    } else {
        k.iter_mut().zip(key).for_each(|(a, b)| *a = *b);
    }
    let mut inner = Sha256::new();
    inner.update(k.map(|b| b ^ 0x36));
    inner.update(msg);
    let ih = inner.finalize();
    let mut outer = Sha256::new();
    outer.update(k.map(|b| b ^ 0x5c));
    outer.update(ih);
    outer.finalize().into()
}

/// The journal's MAC key, derived from a signer's seed.
#[derive(Clone)]
pub(crate) struct MacKey {
    key: Hash,
    /// The key ID of the signer it was derived from.
    pub(crate) key_id: u32,
}

impl std::fmt::Debug for MacKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MacKey")
            .field("key_id", &self.key_id)
            .finish()
    }
}

impl MacKey {
    /// The MAC key of `signer`.
    pub(crate) fn from_signer(signer: &Signer) -> Self {
        Self {
            key: hmac_sha256(&signer.seed(), b"custos-evidence journal key v1"),
            key_id: signer.key_id(),
        }
    }

    /// Whether both were derived from the same seed.
    pub(crate) fn same_key(&self, other: &Self) -> bool {
        self.key == other.key
    }

    /// The tag of a journal record.
    pub(crate) fn tag(&self, origin: &str, size: u64, root: &Hash) -> Hash {
        let msg = format!(
            "custos-evidence journal v1\n{origin}\n{size}\n{}\n",
            hex(root)
        );
        hmac_sha256(&self.key, msg.as_bytes())
    }
}

/// One `.state/tree` record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Journal {
    /// Integrated size.
    pub(crate) size: u64,
    /// Root at `size`.
    pub(crate) root: Hash,
    /// The MAC, when a keyed writer wrote the record.
    pub(crate) mac: Option<Hash>,
}

fn parse_hash(h: &str) -> Option<Hash> {
    if h.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(h.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

impl Journal {
    /// Parses a record; `None` when torn or malformed.
    pub(crate) fn parse(text: &str) -> Option<Self> {
        let mut lines = text.lines();
        let size: u64 = lines.next()?.parse().ok()?;
        let root = parse_hash(lines.next()?)?;
        let mac = match lines.next() {
            None => None,
            Some(l) => Some(parse_hash(l.strip_prefix("mac ")?)?),
        };
        Some(Self { size, root, mac })
    }

    /// The record's text.
    pub(crate) fn to_text(&self) -> String {
        let mut s = format!("{}\n{}\n", self.size, hex(&self.root));
        if let Some(m) = &self.mac {
            s.push_str(&format!("mac {}\n", hex(m)));
        }
        s
    }

    /// Whether the record carries a valid MAC under `key` for `origin`.
    pub(crate) fn authentic(&self, key: &MacKey, origin: &str) -> bool {
        let want = key.tag(origin, self.size, &self.root);
        // Constant-time comparison: the tag is a secret-keyed value.
        self.mac.is_some_and(|m| {
            m.iter()
                .zip(want.iter())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
        })
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231_case_2() {
        let tag = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            hex(&tag),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn hmac_matches_rfc_4231_case_6_long_key() {
        let tag = hmac_sha256(
            &[0xaa; 131],
            b"Test Using Larger Than Block-Size Key - Hash Key First",
        );
        assert_eq!(
            hex(&tag),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn records_round_trip_and_authenticate() {
        let s = Signer::from_seed("o", &[3; 32]).unwrap();
        let k = MacKey::from_signer(&s);
        let mut j = Journal {
            size: 7,
            root: [9; 32],
            mac: None,
        };
        assert!(!j.authentic(&k, "o"));
        j.mac = Some(k.tag("o", 7, &[9; 32]));
        assert_eq!(Journal::parse(&j.to_text()), Some(j.clone()));
        assert!(j.authentic(&k, "o"));
        assert!(!j.authentic(&k, "p"));
        let other = MacKey::from_signer(&Signer::from_seed("o", &[4; 32]).unwrap());
        assert!(!j.authentic(&other, "o"));
        j.size = 8;
        assert!(!j.authentic(&k, "o"));
        assert_eq!(Journal::parse("70"), None);
    }
}
