//! Canonical, direction-free flow keys.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// An address in 16 bytes (IPv4 mapped into `::ffff:0:0/96`), cheap to hash and compare.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Addr(pub [u8; 16]);

/// Hashed as two words, every bit of it (the derived `Hash` would feed a length and a byte
/// slice, slower in the hot maps).
impl std::hash::Hash for Addr {
    #[inline]
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        let [w0, w1] = [&self.0[..8], &self.0[8..]].map(|b| {
            let mut w = [0; 8];
            w.copy_from_slice(b);
            u64::from_le_bytes(w)
        });
        h.write_u64(w0);
        h.write_u64(w1);
    }
}

impl From<IpAddr> for Addr {
    #[inline]
    fn from(a: IpAddr) -> Self {
        match a {
            IpAddr::V4(v4) => Addr(v4.to_ipv6_mapped().octets()),
            IpAddr::V6(v6) => Addr(v6.octets()),
        }
    }
}

impl From<Addr> for IpAddr {
    #[inline]
    fn from(a: Addr) -> Self {
        let v6 = Ipv6Addr::from(a.0);
        match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(v6),
        }
    }
}

impl Addr {
    /// The unspecified IPv4 address, mapped.
    pub const UNSPECIFIED_V4: Addr = Addr([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 0, 0]);

    /// Back to a standard address.
    pub fn ip(self) -> IpAddr {
        self.into()
    }

    /// Builds from an IPv4 address.
    pub fn v4(a: Ipv4Addr) -> Self {
        Addr(a.to_ipv6_mapped().octets())
    }
}

/// One side of a flow: address and port (ICMP: type or counterpart).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Endpoint {
    /// Address.
    pub addr: Addr,
    /// Port, or ICMP type / counterpart.
    pub port: u16,
}

/// A flow key with the lower endpoint first, so both directions give the same key.
///
/// VLAN ids are part of the key: the same 5-tuple on two VLANs is two flows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct FlowKey {
    /// The lower endpoint.
    pub lo: Endpoint,
    /// The higher endpoint.
    pub hi: Endpoint,
    /// IP protocol.
    pub proto: u8,
    /// Up to two VLAN ids (0 = none), outer first.
    pub vlans: [u16; 2],
}

/// Hashed as five words: each address as two, then ports and VLANs packed in one, then the
/// protocol (the derived `Hash` fed each port, the protocol and a length-prefixed VLAN array
/// apart). Every bit of the key is hashed; equal keys hash equally.
impl std::hash::Hash for FlowKey {
    #[inline]
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.lo.addr.hash(h);
        self.hi.addr.hash(h);
        let [v0, v1] = self.vlans;
        h.write_u64(
            u64::from(self.lo.port)
                | u64::from(self.hi.port) << 16
                | u64::from(v0) << 32
                | u64::from(v1) << 48,
        );
        h.write_u8(self.proto);
    }
}

impl FlowKey {
    /// The canonical key of a packet from `src` to `dst`; the flag is true when `src` is the
    /// higher endpoint (the key was swapped).
    #[inline]
    pub fn canonical(src: Endpoint, dst: Endpoint, proto: u8, vlans: [u16; 2]) -> (FlowKey, bool) {
        if src <= dst {
            (
                FlowKey {
                    lo: src,
                    hi: dst,
                    proto,
                    vlans,
                },
                false,
            )
        } else {
            (
                FlowKey {
                    lo: dst,
                    hi: src,
                    proto,
                    vlans,
                },
                true,
            )
        }
    }

    /// The canonical key of the flow an IP layer belongs to (ICMP types paired as the flow
    /// table pairs them; protocols without ports use 0). This is the one packet → key
    /// function outside the table, for alerts, evidence excerpts and application state.
    pub fn of_layer(layer: &custos_decode::IpLayer<'_>, vlans: [u16; 2]) -> FlowKey {
        use custos_decode::Transport;
        let (sp, dp) = match layer.transport {
            Transport::Tcp {
                src_port, dst_port, ..
            }
            | Transport::Udp {
                src_port, dst_port, ..
            } => (src_port, dst_port),
            Transport::Icmp {
                msg_type, code, v6, ..
            } => {
                let (a, b, _) = crate::icmp_ports(msg_type, code, v6);
                (a, b)
            }
            _ => (0, 0),
        };
        let src = Endpoint {
            addr: Addr::from(layer.src),
            port: sp,
        };
        let dst = Endpoint {
            addr: Addr::from(layer.dst),
            port: dp,
        };
        FlowKey::canonical(src, dst, layer.protocol, vlans).0
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn both_directions_share_a_key() {
        let a = Endpoint {
            addr: Addr::v4(Ipv4Addr::new(198, 18, 0, 2)),
            port: 1883,
        };
        let b = Endpoint {
            addr: Addr::v4(Ipv4Addr::new(198, 18, 0, 1)),
            port: 50000,
        };
        let (k1, s1) = FlowKey::canonical(a, b, 6, [0; 2]);
        let (k2, s2) = FlowKey::canonical(b, a, 6, [0; 2]);
        assert_eq!(k1, k2);
        assert_ne!(s1, s2);
    }

    #[test]
    fn vlan_separates_flows() {
        let a = Endpoint {
            addr: Addr::v4(Ipv4Addr::new(198, 18, 0, 2)),
            port: 1,
        };
        let b = Endpoint {
            addr: Addr::v4(Ipv4Addr::new(198, 18, 0, 1)),
            port: 2,
        };
        assert_ne!(
            FlowKey::canonical(a, b, 6, [10, 0]).0,
            FlowKey::canonical(a, b, 6, [20, 0]).0
        );
    }

    #[test]
    fn addresses_round_trip() {
        for s in ["198.18.0.1", "2001:db8::1", "::ffff:1.2.3.4", "0.0.0.0"] {
            let ip: IpAddr = s.parse().unwrap();
            let back = Addr::from(ip).ip();
            // ::ffff:1.2.3.4 comes back as IPv4: the mapping is many-to-one by design.
            assert_eq!(
                back.to_string().trim_start_matches("::ffff:"),
                s.trim_start_matches("::ffff:")
            );
        }
    }
}
