//! The key of the open-flow map, hashed as a few machine words.
//!
//! [`FlowKey`]'s derived `Hash` feeds the hasher each address as two words ([`Addr`](custos_flow::Addr)'s
//! `Hash`), then each port, the protocol and a length-prefixed VLAN array; this key packs
//! ports, VLANs and protocol into two words. Equality is the key's, and the map keyed by it
//! is never iterated where the order could reach an output.

use custos_flow::FlowKey;
use std::hash::{Hash, Hasher};

/// A flow key as the open-flow map hashes it: five words. Equality is the key's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct OpenKey(pub(crate) FlowKey);

impl Hash for OpenKey {
    fn hash<H: Hasher>(&self, h: &mut H) {
        let k = &self.0;
        k.lo.addr.hash(h);
        k.hi.addr.hash(h);
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
