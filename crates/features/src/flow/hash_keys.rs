//! The keys of the flow features' hash maps, hashed as a few machine words.
//!
//! The derived `Hash` of [`Addr`] and [`FlowKey`] feeds the hasher a length and a 16-byte
//! slice per address, which FxHash digests byte-group by byte-group; these keys fold each
//! address into one word first. Equality is the wrapped value's, and no map keyed by them is
//! iterated where the order could reach an output.

use custos_flow::{Addr, FlowKey};

/// An address folded into one word for hashing, its varying bits low (the derived `Hash` of
/// [`Addr`] feeds the hasher a length and a byte slice; FxHash's multiply carries only
/// upwards, and an IPv4 address sits in the top bytes).
pub(crate) fn addr_word(a: &Addr) -> u64 {
    let [w0, w1] = [&a.0[..8], &a.0[8..]].map(|b| {
        let mut w = [0; 8];
        w.copy_from_slice(b);
        u64::from_le_bytes(w)
    });
    w0 ^ w1.rotate_left(32)
}

/// A host address as the maps hash it ([`addr_word`]). Equality is the address's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Host(pub(crate) Addr);

impl std::hash::Hash for Host {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        h.write_u64(addr_word(&self.0));
    }
}

/// An originator, a responder and its port, as the targets map hashes them (three words).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TargetKey(pub(crate) Addr, pub(crate) Addr, pub(crate) u16);

impl std::hash::Hash for TargetKey {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        h.write_u64(addr_word(&self.0));
        h.write_u64(addr_word(&self.1));
        h.write_u16(self.2);
    }
}

/// A flow key as the open-flow map hashes it: four words ([`addr_word`]; the
/// derived `Hash` of [`FlowKey`] feeds the hasher a length and a byte slice per address).
/// Equality is the key's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct OpenKey(pub(crate) FlowKey);

impl std::hash::Hash for OpenKey {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        let k = &self.0;
        h.write_u64(addr_word(&k.lo.addr));
        h.write_u64(addr_word(&k.hi.addr));
        let [v0, v1] = k.vlans;
        h.write_u64(
            u64::from(k.lo.port)
                | u64::from(k.hi.port) << 16
                | u64::from(v0) << 32
                | u64::from(v1) << 48,
        );
        h.write_u8(k.proto);
    }
}
