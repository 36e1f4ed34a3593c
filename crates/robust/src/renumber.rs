//! Renumbering replayed attack frames so that they form flows of their own: the attacker's
//! MAC and IPv4 addresses are replaced, checksums updated.
//!
//! Only Ethernet frames (optionally with 802.1Q / 802.1ad tags) are rewritten: the Ethernet
//! source and destination, the sender and target of ARP, and the IPv4 source and destination.
//! The IPv4 header checksum and the TCP or UDP checksum (whose pseudo-header holds the
//! addresses) are updated incrementally (RFC 1624, eqn. 3: `HC' = ~(~HC + ~m + m')`), so a
//! valid checksum stays valid and a wrong one stays wrong by the same amount, whether or not
//! the frame was captured whole; a UDP checksum of 0 ("none") stays 0. Later IPv4 fragments
//! carry no transport header and only get the IP header's update. Ports and TCP sequence
//! numbers are kept: a new attacker address already makes every replayed 5-tuple new.
//!
//! Frames of other link types, IPv6 and other EtherTypes keep their addresses (IPv6 carries
//! no checksum of its own, but its transport checksum would need the same care); the caller
//! counts them.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

const ETHERNET: u32 = 1;
const ETH_HEADER: usize = 14;
const VLAN_TAG: usize = 4;
const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_ARP: u16 = 0x0806;
const ETHERTYPE_VLAN: [u16; 3] = [0x8100, 0x88a8, 0x9100];
const PROTO_TCP: u8 = 6;
const PROTO_UDP: u8 = 17;
/// Offset of the checksum in a TCP header.
const TCP_CHECKSUM: usize = 16;
/// Offset of the checksum in a UDP header.
const UDP_CHECKSUM: usize = 6;

/// Old → new addresses.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Renumbering {
    /// IPv4 addresses to replace.
    pub ipv4: BTreeMap<Ipv4Addr, Ipv4Addr>,
    /// MAC addresses to replace.
    pub mac: BTreeMap<[u8; 6], [u8; 6]>,
}

/// What rewriting one frame did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Rewritten {
    /// Address fields replaced.
    pub addresses: u32,
    /// The frame could be read (Ethernet, with every header it names in the captured bytes).
    pub readable: bool,
}

impl Renumbering {
    /// Rewrites `frame`, of LINKTYPE `linktype`, in place.
    pub fn rewrite(&self, linktype: u32, frame: &mut [u8]) -> Rewritten {
        let mut out = Rewritten::default();
        if linktype != ETHERNET || frame.len() < ETH_HEADER {
            return out;
        }
        for at in [0, 6] {
            out.addresses += u32::from(self.swap_mac(frame, at));
        }
        let (ethertype, l3) = network_layer(frame);
        match ethertype {
            Some(ETHERTYPE_IPV4) => self.ipv4(frame, l3, &mut out),
            Some(ETHERTYPE_ARP) => self.arp(frame, l3, &mut out),
            Some(_) => out.readable = true,
            None => {}
        }
        out
    }

    /// Replaces the MAC at `at` when mapped.
    fn swap_mac(&self, frame: &mut [u8], at: usize) -> bool {
        let Some(slot) = frame.get_mut(at..at + 6) else {
            return false;
        };
        let mut old = [0u8; 6];
        old.copy_from_slice(slot);
        match self.mac.get(&old) {
            Some(new) => {
                slot.copy_from_slice(new);
                true
            }
            None => false,
        }
    }

    /// Replaces the IPv4 address at `at` when mapped; returns the old and new bytes.
    fn swap_ipv4(&self, frame: &mut [u8], at: usize) -> Option<([u8; 4], [u8; 4])> {
        let slot = frame.get_mut(at..at + 4)?;
        let old: [u8; 4] = [slot[0], slot[1], slot[2], slot[3]];
        let new = self.ipv4.get(&Ipv4Addr::from(old))?.octets();
        slot.copy_from_slice(&new);
        Some((old, new))
    }

    /// ARP over Ethernet/IPv4: sender and target hardware and protocol addresses.
    fn arp(&self, frame: &mut [u8], l3: usize, out: &mut Rewritten) {
        // htype 1, ptype IPv4, hlen 6, plen 4: fields at 8 (sha), 14 (spa), 18 (tha), 24 (tpa).
        let ok = be16(frame, l3) == Some(1)
            && be16(frame, l3 + 2) == Some(ETHERTYPE_IPV4)
            && frame.get(l3 + 4..l3 + 6) == Some(&[6, 4][..])
            && frame.len() >= l3 + 28;
        if !ok {
            return;
        }
        out.readable = true;
        for at in [l3 + 8, l3 + 18] {
            out.addresses += u32::from(self.swap_mac(frame, at));
        }
        for at in [l3 + 14, l3 + 24] {
            out.addresses += u32::from(self.swap_ipv4(frame, at).is_some());
        }
    }

    /// IPv4: addresses, header checksum, and the TCP/UDP checksum of a first fragment.
    fn ipv4(&self, frame: &mut [u8], l3: usize, out: &mut Rewritten) {
        let Some(&vihl) = frame.get(l3) else {
            return;
        };
        let ihl = usize::from(vihl & 0x0f) * 4;
        if vihl >> 4 != 4 || ihl < 20 || frame.len() < l3 + ihl {
            return;
        }
        out.readable = true;
        let proto = frame.get(l3 + 9).copied().unwrap_or(0);
        let frag_offset = be16(frame, l3 + 6).unwrap_or(0) & 0x1fff;
        let mut changes: Vec<([u8; 4], [u8; 4])> = Vec::with_capacity(2);
        for at in [l3 + 12, l3 + 16] {
            if let Some(c) = self.swap_ipv4(frame, at) {
                changes.push(c);
            }
        }
        if changes.is_empty() {
            return;
        }
        out.addresses += changes.len() as u32;
        update_checksum(frame, l3 + 10, &changes, false);
        let l4 = l3 + ihl;
        match proto {
            _ if frag_offset != 0 => {}
            PROTO_TCP => update_checksum(frame, l4 + TCP_CHECKSUM, &changes, false),
            PROTO_UDP => update_checksum(frame, l4 + UDP_CHECKSUM, &changes, true),
            _ => {}
        }
    }
}

/// The unicast MAC and IPv4 addresses a frame carries (Ethernet source and destination,
/// IPv4 source and destination), for choosing whom to renumber.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Endpoints {
    /// Ethernet source and destination, group addresses left out.
    pub macs: [Option<[u8; 6]>; 2],
    /// IPv4 source and destination.
    pub ipv4: [Option<Ipv4Addr>; 2],
}

/// The endpoints of `frame`, of LINKTYPE `linktype` (nothing for other link types).
pub fn endpoints(linktype: u32, frame: &[u8]) -> Endpoints {
    let mut out = Endpoints::default();
    if linktype != ETHERNET {
        return out;
    }
    for (slot, at) in out.macs.iter_mut().zip([6, 0]) {
        *slot = frame
            .get(at..at + 6)
            .map(|m| [m[0], m[1], m[2], m[3], m[4], m[5]])
            .filter(|m| m[0] & 1 == 0);
    }
    let (ethertype, l3) = network_layer(frame);
    if ethertype == Some(ETHERTYPE_IPV4) && frame.get(l3).is_some_and(|v| v >> 4 == 4) {
        for (slot, at) in out.ipv4.iter_mut().zip([l3 + 12, l3 + 16]) {
            *slot = frame
                .get(at..at + 4)
                .map(|a| Ipv4Addr::new(a[0], a[1], a[2], a[3]));
        }
    }
    out
}

/// A key shared by both directions of a packet's flow: the protocol and the two
/// (IPv4 address, port) endpoints in order (ports of TCP and UDP only; a later fragment has
/// none), else the two Ethernet addresses in order; `None` for other link types.
pub fn flow_key(linktype: u32, frame: &[u8]) -> Option<Vec<u8>> {
    if linktype != ETHERNET || frame.len() < ETH_HEADER {
        return None;
    }
    let (ethertype, l3) = network_layer(frame);
    let ip = (ethertype == Some(ETHERTYPE_IPV4))
        .then(|| frame.get(l3..l3 + 20))
        .flatten()
        .filter(|h| h[0] >> 4 == 4);
    let mut ends: [Vec<u8>; 2] = match ip {
        Some(h) => {
            let ihl = usize::from(h[0] & 0x0f) * 4;
            let proto = h[9];
            let first = be16(frame, l3 + 6).unwrap_or(0) & 0x1fff == 0;
            let ports = if first && matches!(proto, PROTO_TCP | PROTO_UDP) {
                frame.get(l3 + ihl..l3 + ihl + 4)
            } else {
                None
            };
            let (sp, dp) = ports.map_or((&[][..], &[][..]), |p| (&p[..2], &p[2..]));
            [
                [&h[12..16], sp].concat(),
                [&h[16..20], dp, &[proto]].concat(),
            ]
        }
        None => [frame[0..6].to_vec(), frame[6..12].to_vec()],
    };
    // Order the endpoints; the protocol byte rides on the second one, so move it first.
    if let Some(h) = ip {
        ends[1].pop();
        ends.sort();
        let mut key = vec![h[9]];
        key.extend(ends.concat());
        return Some(key);
    }
    ends.sort();
    Some(ends.concat())
}

/// Updates the checksum at `at` (when captured) for the 4-byte fields that changed from the
/// first to the second value of each pair. `udp`: 0 means "no checksum" and stays 0, and a
/// result of 0 is sent as 0xffff (RFC 768).
fn update_checksum(frame: &mut [u8], at: usize, changes: &[([u8; 4], [u8; 4])], udp: bool) {
    let Some(old) = be16(frame, at) else {
        return;
    };
    if udp && old == 0 {
        return;
    }
    let mut sum = u32::from(!old);
    for (before, after) in changes {
        for k in [0, 2] {
            sum += u32::from(!u16::from_be_bytes([before[k], before[k + 1]]));
            sum += u32::from(u16::from_be_bytes([after[k], after[k + 1]]));
        }
    }
    while sum >> 16 != 0 {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    let mut new = !(sum as u16);
    if udp && new == 0 {
        new = 0xffff;
    }
    if let Some(slot) = frame.get_mut(at..at + 2) {
        slot.copy_from_slice(&new.to_be_bytes());
    }
}

/// The big-endian `u16` at `at`, when captured.
/// The EtherType of an Ethernet frame after its VLAN tags, and where its payload starts.
fn network_layer(frame: &[u8]) -> (Option<u16>, usize) {
    let mut at = 12;
    let mut ethertype = be16(frame, at);
    while ethertype.is_some_and(|t| ETHERTYPE_VLAN.contains(&t)) {
        at += VLAN_TAG;
        ethertype = be16(frame, at);
    }
    (ethertype, at + 2)
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    b.get(at..at + 2).map(|s| u16::from_be_bytes([s[0], s[1]]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use custos_decode::checksum::{pseudo_header, sum, verify};
    use std::net::IpAddr;

    /// Ethernet + IPv4 + TCP SYN 198.18.0.66:40000 → 198.18.0.10:23, valid checksums.
    fn syn() -> Vec<u8> {
        let mut f = vec![
            0x02, 0, 0, 0, 0, 0x0a, 0x02, 0, 0, 0, 0, 0x42, 0x08, 0x00, // Ethernet
            0x45, 0, 0, 40, 0x12, 0x34, 0x40, 0, 64, 6, 0, 0, 198, 18, 0, 66, 198, 18, 0, 10, 0x9c,
            0x40, 0, 23, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0x72, 0x10, 0, 0, 0, 0,
        ];
        let ip = custos_decode::checksum::finish(sum(&f[14..34], 0));
        f[24..26].copy_from_slice(&ip.to_be_bytes());
        let ph = pseudo_header(
            IpAddr::from([198, 18, 0, 66]),
            IpAddr::from([198, 18, 0, 10]),
            6,
            20,
        );
        let tcp = custos_decode::checksum::finish(sum(&f[34..54], ph));
        f[50..52].copy_from_slice(&tcp.to_be_bytes());
        f
    }

    fn map() -> Renumbering {
        let mut r = Renumbering::default();
        r.ipv4
            .insert([198, 18, 0, 66].into(), [198, 18, 0, 200].into());
        r.mac.insert([2, 0, 0, 0, 0, 0x42], [2, 0xc5, 0, 0, 0, 1]);
        r
    }

    #[test]
    fn renumbered_syn_keeps_valid_checksums() {
        let mut f = syn();
        let out = map().rewrite(ETHERNET, &mut f);
        assert_eq!(out.addresses, 2);
        assert!(out.readable);
        assert_eq!(&f[6..12], &[2, 0xc5, 0, 0, 0, 1]);
        assert_eq!(&f[26..30], &[198, 18, 0, 200]);
        assert!(verify(&f[14..34], 0), "IPv4 header checksum");
        let ph = pseudo_header(
            IpAddr::from([198, 18, 0, 200]),
            IpAddr::from([198, 18, 0, 10]),
            6,
            20,
        );
        assert!(verify(&f[34..54], ph), "TCP checksum");
    }

    #[test]
    fn endpoints_are_read_through_vlan_tags() {
        let mut f = syn();
        f.splice(12..12, [0x81, 0x00, 0x00, 0x05]);
        let e = endpoints(ETHERNET, &f);
        assert_eq!(e.macs[0], Some([2, 0, 0, 0, 0, 0x42]));
        assert_eq!(
            e.ipv4,
            [Some([198, 18, 0, 66].into()), Some([198, 18, 0, 10].into())]
        );
        let out = map().rewrite(ETHERNET, &mut f);
        assert_eq!(out.addresses, 2);
        assert!(verify(&f[18..38], 0));
    }

    #[test]
    fn both_directions_share_a_flow_key() {
        let f = syn();
        let mut r = syn();
        r[26..30].copy_from_slice(&f[30..34]);
        r[30..34].copy_from_slice(&f[26..30]);
        r[34..36].copy_from_slice(&f[36..38]);
        r[36..38].copy_from_slice(&f[34..36]);
        assert_eq!(flow_key(ETHERNET, &f), flow_key(ETHERNET, &r));
        r[35] ^= 1;
        assert_ne!(flow_key(ETHERNET, &f), flow_key(ETHERNET, &r));
        assert_eq!(flow_key(113, &f), None);
    }

    #[test]
    fn udp_without_checksum_keeps_zero() {
        let mut f = syn();
        f[23] = PROTO_UDP;
        f[40..42].copy_from_slice(&[0, 0]);
        map().rewrite(ETHERNET, &mut f);
        assert_eq!(&f[40..42], &[0, 0]);
    }

    #[test]
    fn truncated_and_foreign_frames_are_left_alone() {
        let mut f = syn();
        f.truncate(20);
        let before = f.clone();
        let out = map().rewrite(ETHERNET, &mut f);
        assert!(!out.readable);
        assert_eq!(&f[12..], &before[12..]);
        let mut g = syn();
        let before = g.clone();
        assert_eq!(map().rewrite(113, &mut g), Rewritten::default());
        assert_eq!(g, before);
    }
}
